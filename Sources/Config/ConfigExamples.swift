// The commented example files that `tern config describe-static` and `describe-domains`
// print: every key, what it means, its default and where the default comes from. Tests check
// that both parse and validate cleanly and that every key of the schema appears.

public enum ConfigExamples {
    /// A complete tern.yaml with every key explained.
    public static func staticFile() -> String {
        #"""
        # tern.yaml: the static configuration of Tern, read once at startup.
        # Printed by `tern config describe-static`; check with `tern config test`.
        #
        # Every key is shown with its default. Keys are case-sensitive; a misspelled
        # key is an error, not ignored. Relative paths are relative to the directory
        # of this file. Durations take a unit: 30s, 5m, 1h30m.
        #
        # Domains and accounts are in domains.yaml beside this file, which is
        # reloaded while the server runs (`tern config describe-domains`).

        # Directory for all data: accounts and their messages, the outgoing queue,
        # databases, ACME certificates. Created at first start. Required.
        DataDir: ../data

        # The fully qualified host name of this server: the name in the SMTP
        # greeting and EHLO, in Received: headers and bounces, and the default name
        # for TLS certificates. Its A/AAAA records should point at the listener IPs,
        # and their PTR records back to it. Required.
        Hostname: mail.example.com

        # Log levels: a default level and per-package overrides, comma-separated,
        # e.g. "info,smtpserver=debug,dns=trace". Levels: error, info, debug, trace
        # (protocol transcripts), traceauth (transcripts with passwords), tracedata
        # (also message data). Packages are lowercase module names (smtpserver,
        # imapserver, queue, dns, ...). Optional, default: info
        LogLevel: info

        # The recursive resolver to ask, as HOST:PORT (IPv6 as [ADDR]:PORT). For
        # DANE it must validate DNSSEC, e.g. a local unbound. Optional, default: the
        # servers in /etc/resolv.conf.
        #Resolver: 127.0.0.1:53

        # Where mail for "postmaster" goes, at every configured domain that has no
        # postmaster destination of its own (RFC 5321 §4.5.1 requires the address),
        # and reports that need a person. Required.
        Postmaster:
          # An account in domains.yaml. Required.
          Account: admin
          # A mailbox of that account; "/" separates levels. Optional, default: Inbox
          Mailbox: Postmaster

        # Limits on what one client may do. Optional; each key has a default.
        Limits:
          # Largest message accepted, in bytes, announced with SIZE (RFC 1870).
          # Default: 104857600 (100 MiB, as mox; Postfix's default is 10 MB).
          MaxMessageSize: 104857600
          # Recipients per message. At least 100 (RFC 5321 §4.5.3.1.8).
          # Default: 1000 (Postfix's smtpd_recipient_limit).
          MaxRecipients: 1000
          # Longest SMTP command or message line, in octets with CRLF. At least
          # 1000 (RFC 5321 §4.5.3.1.6), at most 1048576.
          # Default: 2048 (Postfix's line_length_limit).
          MaxLineLength: 2048
          # Commands allowed before the first MAIL (EHLO, STARTTLS, AUTH, NOOP,
          # RSET, VRFY, HELP, ...); then the connection is closed with 421. At
          # least 10. Default: 100 (Postfix's smtpd_junk_command_limit).
          MaxCommandsBeforeMail: 100
          # Simultaneous connections from one IP address (IPv6: one /64).
          # Default: 50 (Postfix's smtpd_client_connection_count_limit).
          ConnectionsPerIP: 50
          # Simultaneous IMAP sessions of one account, from all addresses.
          # Default: 50
          ConnectionsPerAccount: 50
          # Failed logins from one IP address (IPv6: one /64) per minute; beyond
          # it, logins are refused until the minute is over. Default: 10
          AuthFailuresPerIP: 10
          # How long to wait for the client, per state.
          Timeouts:
            # For a TLS handshake to finish (STARTTLS, SMTPS, IMAPS). Default: 1m
            TLSHandshake: 1m
            # For the next SMTP command. Default: 5m (RFC 5321 §4.5.3.2.7: at
            # least 5 minutes).
            SMTPCommand: 5m
            # Between lines of message data (DATA, BDAT). Default: 5m
            SMTPData: 5m
            # For the next IMAP command before login. Default: 1m
            IMAPUnauthenticated: 1m
            # For the next IMAP command after login, IDLE included. At least 30m
            # (RFC 9051 §5.4). Default: 30m
            IMAPAuthenticated: 30m

        # ACME certificate authorities (RFC 8555), by a name that listeners use
        # as TLS: {ACME: NAME}. Certificates are requested for the host names of
        # the listeners that use them, validated with tls-alpn-01 (RFC 8737).
        # Optional.
        ACME:
          letsencrypt:
            # The CA's directory URL (https). Required.
            DirectoryURL: https://acme-v02.api.letsencrypt.org/directory
            # Registered with the CA, which mails expiry warnings there. Better an
            # address at another provider: if TLS breaks here, mail here may too.
            # Required.
            ContactEmail: hostmaster@example.net
            # Port the tls-alpn-01 challenge is answered on. The CA always connects
            # to 443; change it only behind a port forward. Default: 443
            Port: 443

        # Listeners: named groups of IP addresses and the services offered on them.
        # Each service binds each IP of its listener; no two services may use the
        # same IP and port (0.0.0.0 and :: cover every address of their family).
        # Required, at least one.
        Listeners:
          public:
            # Addresses to listen on: 0.0.0.0 for all IPv4, "::" for all IPv6 (quote
            # it: YAML reads a bare ":" specially). Required, at least one.
            IPs:
              - 0.0.0.0
              - "::"
            # Host name for this listener's greeting and certificate, instead of the
            # global Hostname. Optional.
            #Hostname: mail.example.com
            # TLS for STARTTLS and for the services that start with TLS. Exactly one
            # of ACME, KeyCerts and SelfSigned. Optional; without it no STARTTLS is
            # offered and Submissions and IMAPS cannot be enabled.
            TLS:
              # Certificates from an ACME provider defined above.
              ACME: letsencrypt
              # Or certificate chains and keys from PEM files, one pair per name:
              #KeyCerts:
              #  - CertFile: certs/mail.example.com-chain.pem
              #    KeyFile: certs/mail.example.com-key.pem
              # Or a certificate made at startup, which clients warn about; for
              # tests:
              #SelfSigned: true
            # SMTP from other mail servers (RFC 5321). Enabled is required in every
            # service section; a section left out is off.
            SMTP:
              Enabled: true
              # Default: 25
              Port: 25
              # Do not offer STARTTLS (RFC 3207). Not recommended: mail would cross
              # the network in clear. Default: false
              NoSTARTTLS: false
            # Submission from mail clients with STARTTLS (RFC 6409).
            Submission:
              Enabled: true
              # Default: 587
              Port: 587
              # Accept logins and mail before STARTTLS. Passwords would cross the
              # network in clear; only behind another encryption (VPN). Default: false
              NoRequireSTARTTLS: false
              # Accept logins without TLS from loopback addresses only, e.g. a local
              # webmail. Default: false
              PlaintextAuthOnLoopback: false
            # Submission over implicit TLS (RFC 8314 §3.3); needs TLS. Preferred
            # over Submission by RFC 8314.
            Submissions:
              Enabled: true
              # Default: 465
              Port: 465
            # IMAP with STARTTLS (RFC 9051).
            IMAP:
              Enabled: true
              # Default: 143
              Port: 143
              # Accept logins before STARTTLS; only behind another encryption.
              # Default: false
              NoRequireSTARTTLS: false
            # IMAP over implicit TLS (RFC 8314 §3.2); needs TLS.
            IMAPS:
              Enabled: true
              # Default: 993
              Port: 993
            # The MTA-STS policies (RFC 8461) of the domains with an MTASTS section
            # in domains.yaml, over HTTPS at
            # https://mta-sts.<domain>/.well-known/mta-sts.txt; needs TLS. With
            # ACME, the certificate also names mta-sts.<domain> for each of those
            # domains (as at startup; restart after adding one), and on the
            # provider's port validation is answered here too. With KeyCerts, the
            # certificate must name them itself.
            MTASTSHTTPS:
              Enabled: true
              # Senders fetch policies from 443; change it only behind a port
              # forward. Default: 443
              Port: 443
          internal:
            IPs:
              - 127.0.0.1
              - "::1"
            # Prometheus metrics at /metrics over plain HTTP. Keep it on loopback or
            # an internal network.
            Metrics:
              Enabled: true
              # Default: 8010
              Port: 8010

        # The outbound queue: mail submitted for other domains waits here until a
        # server takes it (RFC 5321 §4.5.4.1). Optional; each key has a default.
        Queue:
          # The wait after the first failed attempt; each further wait doubles.
          # Default: 7m30s
          FirstRetryInterval: 7m30s
          # How long after submission delivery is tried before the sender gets a
          # failure notice (DSN). At least FirstRetryInterval. Default: 96h (RFC
          # 5321 §4.5.4.1: give up after at least 4-5 days).
          MaximumAge: 96h
          # After this many failed attempts the sender is told once that delivery
          # is delayed; 0: never. Default: 4
          DelayedDSNAfterAttempts: 4
          # Destinations (recipient domain and transport) delivered to at once.
          # Default: 8
          Concurrency: 8
          # The port of the MX hosts for direct delivery, also through a SOCKS5
          # proxy. Only for tests or an unusual private network: mail servers on
          # the internet listen on 25. Default: 25
          DirectPort: 25
          # Record how TLS went with each MX host (RFC 8460 TLS report results:
          # the recipient domain's MTA-STS policy, DANE) in DataDir/tlsrpt.db, for
          # TLS reports to the domains; `tern tlsrpt results` shows them. Default:
          # true
          RecordTLSResults: true
          # Transports by name, for Routes: relays (a smarthost or a provider's
          # submission server) and direct delivery through a SOCKS5 proxy.
          # Optional. "direct" (MX lookup, port 25) is built in.
          Transports:
            provider:
              # Host name or IP address. Required.
              Host: smtp.example.net
              # Required.
              Port: 465
              # STARTTLS (required, certificate verified), ImplicitTLS (RFC 8314,
              # certificate verified) or Opportunistic (STARTTLS when offered,
              # unverified; plaintext otherwise). Default: STARTTLS
              TLS: ImplicitTLS
              # AUTH (RFC 4954) with these credentials; needs STARTTLS or
              # ImplicitTLS. Optional.
              Auth:
                Username: mail@example.com
                Password: secret
                # The SASL mechanisms that may be used; of those the relay offers,
                # the strongest is chosen (SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS,
                # SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN). Naming only
                # the strongest the relay supports prevents a downgrade.
                # Default: all
                Mechanisms:
                  - SCRAM-SHA-256
              # Deliver even when the certificate does not verify (a relay with a
              # self-signed certificate). Default: false
              IgnoreVerificationErrors: false
            # Direct delivery (MX lookup, STARTTLS as without a proxy) with every
            # connection made by a SOCKS5 proxy (RFC 1928), e.g. on a host whose
            # addresses may send on port 25, as mox's TransportSocks.
            proxied:
              # Instead of the relay keys above. Required for this kind.
              Socks:
                # The proxy as HOST:PORT; an IPv6 address as [ADDRESS]:PORT.
                # Required.
                Address: proxy.example.com:1080
                # The addresses the proxy's connections come from, as the MX hosts
                # see them: they belong in your SPF records, with reverse DNS
                # naming Hostname. Only MX addresses of their families are tried.
                # Required, at least one.
                RemoteIPs:
                  - 198.51.100.25
                  - "2001:db8::25"
                # The name said in EHLO instead of Hostname above: the name of
                # RemoteIPs. Required.
                Hostname: proxy.example.com
                # Username and password for the proxy (RFC 1929), each 1 to 255
                # octets. They cross the network in clear: keep the proxy on a
                # network you trust. Optional; without, no authentication.
                Auth:
                  Username: tern
                  Password: secret
          # Which transport a message takes: the first route whose conditions all
          # match; with none, direct delivery. At each attempt the routes of the
          # account that submitted the message come first, then those of the
          # sender's domain (both in domains.yaml), then these. Optional.
          Routes:
            # Sender domains; empty or left out: any sender.
            - SenderDomains:
                - example.com
              # Recipient domains; empty or left out: any.
              RecipientDomains: []
              # From this attempt on (1 is the first); e.g. 3 to try direct
              # delivery twice before the relay. Default: 1
              MinimumAttempt: 3
              # A name under Transports, or direct. Required.
              Transport: provider

        """#
    }

    /// A complete domains.yaml with every key explained.
    public static func domainsFile() -> String {
        #"""
        # domains.yaml: the domains Tern accepts mail for and the accounts it
        # delivers to. Printed by `tern config describe-domains`; check with
        # `tern config test`.
        #
        # Tern reloads this file while it runs (it looks every 2 seconds). A version
        # with errors is not applied: the previous one stays in effect and the errors
        # are logged. Keys are case-sensitive; a misspelled key is an error.

        # Domains to accept mail for, by name: lowercase, without a trailing dot;
        # internationalized domains in their Unicode form (münchen.example) or as
        # A-labels (xn--mnchen-3ya.example). Required; {} for none.
        Domains:
          example.com:
            # For the operator. Optional.
            Description: Our main domain
            # Subaddressing (RFC 5233): with "+", mail for alice+lists@example.com
            # goes to alice@example.com. Everything from the first separator on is
            # cut off before lookup, so no destination may contain it. Quote it.
            # Optional, default: off.
            LocalpartCatchallSeparator: "+"
            # Whether Alice@ and alice@ are different addresses. RFC 5321 §2.4 lets
            # the domain decide; people expect case not to matter. Default: false
            LocalpartCaseSensitive: false
            # Routes for mail from addresses of this domain: the keys of Queue:
            # Routes in tern.yaml, naming its Transports (or direct). Evaluated at
            # each attempt after the sending account's routes and before the
            # global ones; the first that matches picks the transport. Optional.
            Routes:
              # Sender domains; empty or left out: any.
              - SenderDomains: []
                # Recipient domains; empty or left out: any.
                RecipientDomains:
                  - example.net
                # From this attempt on (1 is the first). Default: 1
                MinimumAttempt: 1
                # Required.
                Transport: provider
            # MTA-STS (RFC 8461): asks other servers to deliver mail for this domain
            # only over TLS with a valid certificate, to the MX hosts listed. Served
            # by listeners with MTASTSHTTPS in tern.yaml; `tern config dnsrecords
            # example.com` prints the DNS records that announce it. Changes apply on
            # reload. Optional; without it, the domain has no policy.
            MTASTS:
              # The policy's version, published as the id of the _mta-sts TXT record:
              # 1 to 32 letters and digits. Change it, and the record, with every
              # change below: senders keep their cached policy while the id stays.
              # Required.
              PolicyID: 20250101
              # enforce: deliver only over verified TLS to a listed MX; testing:
              # deliver anyway and report failures (RFC 8460); none: as without a
              # policy, the step before removing one (RFC 8461 §8.3). Start with
              # testing. Required.
              Mode: enforce
              # How long senders may cache the policy, at most 8766h (a year). RFC
              # 8461 §3.2 expects weeks or more. Default: 168h
              MaxAge: 168h
              # The MX hosts senders may deliver to: host names, or "*." and a domain
              # for any host one label below it, internationalized ones as A-labels.
              # Optional, default: the host names of the listeners with SMTP enabled.
              MX:
                - mail.example.com
            # DKIM signing of the domain's outgoing mail (RFC 6376): every message
            # submitted with a From address in the domain, local recipients included.
            # `tern config dnsrecords example.com` prints each selector's key record.
            # Changes apply on reload; a signing key that cannot be read stops `serve`
            # from starting, and on reload leaves the domain's previous signing in
            # place. A key file is read again only when its selector's settings change:
            # put a new key under a new selector. Optional; without it, mail is not signed.
            DKIM:
              # Selectors by name: <name>._domainkey.example.com holds the public key.
              Selectors:
                2026a:
                  # The private key, PKCS#8 PEM, from `tern dkim genrsa` (RSA-2048) or
                  # `tern dkim gened25519`; relative to this file. Required.
                  PrivateKeyFile: dkim/2026a.ed25519.pem
                  # Header/body canonicalization (RFC 6376 §3.4). Default: relaxed/relaxed
                  Canonicalization: relaxed/relaxed
                  # The header fields signed, From among them. Default: the recommended
                  # set (RFC 6376 §5.4.1), each signed once more than present so none can
                  # be added later.
                  Headers: [From, To, Cc, Subject, Date, Message-ID, Reply-To, MIME-Version, Content-Type]
                  # How long signatures stay valid (x=). Optional, default: no expiry.
                  Expiration: 72h
                2026b:
                  PrivateKeyFile: dkim/2026b.rsa.pem
              # The selectors that sign, each adding a signature; publish a new key
              # in DNS before adding its selector here. Optional, default: none.
              Sign: [2026a, 2026b]
          example.org:
            Description: A second domain, with a catch-all

        # Accounts: each has its own mailboxes and login. The name is also the
        # directory under DataDir/accounts: ASCII letters, digits, ".", "_", "-".
        # Required; {} for none.
        Accounts:
          admin:
            # The domain of destinations written as a bare local part. Required.
            Domain: example.com
            # Display name for messages the user sends. Optional.
            FullName: Mail Admin
            # The addresses that deliver to this account. Required, at least one.
            # Each address belongs to exactly one account.
            Destinations:
              # A bare local part: admin@example.com (this account's Domain).
              admin: {}
              # Without this, postmaster@ goes to Postmaster in tern.yaml anyway.
              postmaster@example.com:
                Mailbox: Postmaster
          alice:
            Domain: example.com
            FullName: Alice Example
            Destinations:
              alice: {}
              # A full address, in any configured domain.
              alice@example.org:
                # Mailbox to deliver into; "/" separates levels. Optional,
                # default: Inbox
                Mailbox: Org
              # A catch-all: every address at example.org without a destination of
              # its own. Quote it: YAML reserves a leading "@".
              "@example.org":
                Mailbox: Org/Catchall
            # Stored passwords as SCRAM credentials (RFC 5803 form, RFC 5802 keys):
            # SCHEME$ITERATIONS:SALT$STOREDKEY:SERVERKEY, base64, at least 4096
            # iterations, at most one per scheme. They let the server check a
            # password without storing it; PLAIN and LOGIN are checked against them
            # too. Set them with the tools that change passwords. These two match no
            # known password. Optional; without any, the account cannot log in.
            Passwords:
              - SCRAM-SHA-256$10000:UR1xeKS0FeMBrqVDiKY7Ng==$qe6lIZMQEnPtD2Z5igTsXqldZc2SbBh8tUvRP1MlO0k=:5H9l4DjOIBbgrndH50zS5RFhQzNQRTCX68VV1T5fo8U=
              - SCRAM-SHA-1$10000:TJBKumZ8AMRkyWKrH0f1BA==$wirCN8ioV9O5Jntv6JXF1rD4Aqc=:VvwklPes/QG0jnUiJ5HWUJy0SCE=
            # The password itself, for clients that only speak CRAM-MD5 (RFC 2195),
            # whose server side needs the password, not a hash. Whoever can read it
            # can log in as this account: keep this file readable by tern only, and
            # set it only for accounts that need it. Optional, default: CRAM-MD5 off.
            #CRAMMD5Secret: the password of alice
            # Total size of the account's messages, in bytes. Optional, default: no
            # limit.
            QuotaBytes: 10737418240
            # Routes for mail this account submits, as for a domain; evaluated
            # first. Optional.
            Routes:
              - SenderDomains:
                  - example.org
                Transport: proxied

        # Exceptions to DMARC rejects (RFC 7489 §6.7): mail whose From domain fails
        # DMARC under p=reject is accepted into the recipient's mailbox named here
        # instead of being refused, e.g. a mailing list that rewrites its members'
        # messages. Changes apply on reload. Optional.
        AcceptDMARCRejects:
          lists.example.net: Lists
        """#
    }
}
