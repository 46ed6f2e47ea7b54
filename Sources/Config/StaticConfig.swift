// The static configuration (tern.yaml): what is read once at startup: where data lives, the
// host name, logging, limits, the listeners with their services and TLS, and the outbound
// queue.
//
// Every default is written here once, next to the property, with where it comes from; the
// commented example (`ConfigExamples.staticFile`) shows the same values.

import DNS

/// The parsed and validated `tern.yaml`.
public struct StaticConfig: Sendable, Equatable {
    /// Where accounts, the queue and the databases live; absolute (a relative `DataDir` is
    /// taken relative to the directory of the config file).
    public var dataDir: String
    /// The server's fully qualified host name: the SMTP greeting and EHLO name, the default
    /// TLS name, the name in Received: headers and DSNs.
    public var hostname: Domain
    /// Log levels in the `--log-level` form, e.g. `info,smtpserver=debug`.
    public var logLevel: String
    /// A recursive resolver as `HOST:PORT` (IPv6 as `[ADDR]:PORT`); nil for /etc/resolv.conf.
    public var resolver: String?
    /// Where mail for postmaster goes (RFC 5321 §4.5.1).
    public var postmaster: Postmaster
    public var limits: Limits
    /// ACME providers by name, in the order written; listeners refer to them by name.
    public var acme: [ACMEProvider]
    /// In the order written.
    public var listeners: [Listener]
    /// The outbound queue: retries, concurrency, relay transports and routes.
    public var queue: QueueConfig

    public init(
        dataDir: String, hostname: Domain, logLevel: String = "info", resolver: String? = nil,
        postmaster: Postmaster, limits: Limits = Limits(), acme: [ACMEProvider] = [], listeners: [Listener],
        queue: QueueConfig = QueueConfig()
    ) {
        self.dataDir = dataDir
        self.hostname = hostname
        self.logLevel = logLevel
        self.resolver = resolver
        self.postmaster = postmaster
        self.limits = limits
        self.acme = acme
        self.listeners = listeners
        self.queue = queue
    }

    public func listener(named name: String) -> Listener? {
        listeners.first { $0.name == name }
    }

    public func acmeProvider(named name: String) -> ACMEProvider? {
        acme.first { $0.name == name }
    }

    /// The host names mail for the domains is received under, the targets of their MX
    /// records (RFC 5321 §5.1): those of the listeners with SMTP enabled, each once, in the
    /// order written; the global host name when no listener receives SMTP.
    public var mxHosts: [Domain] {
        var hosts: [Domain] = []
        for listener in listeners where listener.smtp.enabled && !hosts.contains(listener.hostname(default: hostname)) {
            hosts.append(listener.hostname(default: hostname))
        }
        return hosts.isEmpty ? [hostname] : hosts
    }
}

/// The account and mailbox that receive postmaster mail.
public struct Postmaster: Sendable, Equatable {
    public var account: String
    /// Default `Inbox`.
    public var mailbox: String

    public init(account: String, mailbox: String = "Inbox") {
        self.account = account
        self.mailbox = mailbox
    }
}

/// Limits on what one client may do. Each default says where it comes from.
public struct Limits: Sendable, Equatable {
    /// Largest message accepted (SMTP SIZE, RFC 1870), in bytes. Default 100 MiB, mox's
    /// default (Postfix's message_size_limit is 10 MB; attachments have grown since).
    public var maxMessageSize: Int = 104_857_600
    /// Recipients per message. Default 1000, Postfix's smtpd_recipient_limit; RFC 5321
    /// §4.5.3.1.8 requires at least 100, so lower values are rejected.
    public var maxRecipients: Int = 1000
    /// Longest line of an SMTP command or message text, in octets with CRLF. Default 2048,
    /// Postfix's line_length_limit; RFC 5321 §4.5.3.1.6 requires at least 1000 for text
    /// lines, so lower values are rejected.
    public var maxLineLength: Int = 2048
    /// Commands a client may send before its first MAIL (EHLO, STARTTLS, AUTH, NOOP, RSET,
    /// VRFY, HELP, ...); then the session is closed with 421. Default 100, Postfix's
    /// smtpd_junk_command_limit. At least 10: EHLO, STARTTLS, EHLO, AUTH need room.
    public var maxCommandsBeforeMail: Int = 100
    /// Simultaneous connections from one IP address (IPv6: one /64). Default 50, Postfix's
    /// smtpd_client_connection_count_limit (half its default process limit of 100).
    public var connectionsPerIP: Int = 50
    /// Simultaneous IMAP sessions of one account, from all addresses. Default 50: a few
    /// devices with a handful of connections each.
    public var connectionsPerAccount: Int = 50
    /// Failed authentications from one IP address (IPv6: one /64) within a minute, after
    /// which AUTH and LOGIN are refused until the minute has passed. Default 10: enough for a
    /// person who mistyped, a few hundred per hour for a guesser.
    public var authFailuresPerIP: Int = 10
    public var timeouts: Timeouts = Timeouts()

    public init() {}
}

/// How long to wait for a peer, per protocol state.
public struct Timeouts: Sendable, Equatable {
    /// For a TLS handshake (STARTTLS or implicit TLS) to finish. Default 1m.
    public var tlsHandshake: Duration = .seconds(60)
    /// For the next SMTP command. Default 5m: RFC 5321 §4.5.3.2.7 says at least 5 minutes.
    public var smtpCommand: Duration = .seconds(300)
    /// Between lines of message data (DATA or BDAT). Default 5m, like the command timeout
    /// (Postfix's smtpd_timeout covers both).
    public var smtpData: Duration = .seconds(300)
    /// For the next IMAP command before login. Default 1m; RFC 9051 §5.4 sets no minimum
    /// before authentication, and idle unauthenticated connections only cost.
    public var imapUnauthenticated: Duration = .seconds(60)
    /// For the next IMAP command after login, IDLE included. Default 30m, the minimum that
    /// RFC 9051 §5.4 allows; lower values are rejected.
    public var imapAuthenticated: Duration = .seconds(1800)

    public init() {}
}

/// An ACME certificate authority account (RFC 8555), referred to by name from listeners.
public struct ACMEProvider: Sendable, Equatable {
    public var name: String
    /// The directory URL, e.g. `https://acme-v02.api.letsencrypt.org/directory`.
    public var directoryURL: String
    /// Registered with the CA, which sends expiry warnings there.
    public var contactEmail: String
    /// The port the tls-alpn-01 challenge (RFC 8737) is answered on. Default 443, where the CA
    /// connects; change only with a port forward from 443.
    public var port: Int

    public init(name: String, directoryURL: String, contactEmail: String, port: Int = 443) {
        self.name = name
        self.directoryURL = directoryURL
        self.contactEmail = contactEmail
        self.port = port
    }
}

/// A group of IP addresses with the services offered on them.
public struct Listener: Sendable, Equatable {
    public var name: String
    /// Addresses to listen on; `0.0.0.0` and `::` mean all of that family.
    public var ips: [IPAddress]
    /// Overrides the global host name for this listener (greeting, TLS name).
    public var hostname: Domain?
    /// nil: no TLS, so no STARTTLS and no implicit-TLS services.
    public var tls: ListenerTLS?
    public var smtp: SMTPService
    public var submission: SubmissionService
    public var submissions: ImplicitTLSService
    public var imap: IMAPService
    public var imaps: ImplicitTLSService
    public var metrics: MetricsService
    public var mtaSTSHTTPS: MTASTSHTTPSService

    public init(
        name: String, ips: [IPAddress], hostname: Domain? = nil, tls: ListenerTLS? = nil,
        smtp: SMTPService = SMTPService(), submission: SubmissionService = SubmissionService(),
        submissions: ImplicitTLSService = ImplicitTLSService(port: 465), imap: IMAPService = IMAPService(),
        imaps: ImplicitTLSService = ImplicitTLSService(port: 993), metrics: MetricsService = MetricsService(),
        mtaSTSHTTPS: MTASTSHTTPSService = MTASTSHTTPSService()
    ) {
        self.name = name
        self.ips = ips
        self.hostname = hostname
        self.tls = tls
        self.smtp = smtp
        self.submission = submission
        self.submissions = submissions
        self.imap = imap
        self.imaps = imaps
        self.metrics = metrics
        self.mtaSTSHTTPS = mtaSTSHTTPS
    }

    /// The listener's host name, or the global one.
    public func hostname(default global: Domain) -> Domain {
        hostname ?? global
    }

    /// Every address and port that an enabled service of this listener binds.
    public var endpoints: [ListenerEndpoint] {
        var result: [ListenerEndpoint] = []
        for (service, enabled, port) in [
            (ListenerService.smtp, smtp.enabled, smtp.port),
            (.submission, submission.enabled, submission.port),
            (.submissions, submissions.enabled, submissions.port),
            (.imap, imap.enabled, imap.port),
            (.imaps, imaps.enabled, imaps.port),
            (.metrics, metrics.enabled, metrics.port),
            (.mtaSTSHTTPS, mtaSTSHTTPS.enabled, mtaSTSHTTPS.port),
        ] where enabled {
            for ip in ips {
                result.append(ListenerEndpoint(listener: name, service: service, ip: ip, port: port))
            }
        }
        return result
    }
}

/// Where a listener's certificates come from.
public enum ListenerTLS: Sendable, Equatable {
    /// Certificate chains and private keys from PEM files (absolute paths).
    case keyCerts([KeyCertFiles])
    /// A certificate made at startup for the listener's host name; clients will warn. For
    /// tests and first steps.
    case selfSigned
    /// Certificates from the named ACME provider.
    case acme(String)
}

public struct KeyCertFiles: Sendable, Equatable {
    /// PEM: the certificate, then its intermediates.
    public var certFile: String
    /// PEM: the private key.
    public var keyFile: String

    public init(certFile: String, keyFile: String) {
        self.certFile = certFile
        self.keyFile = keyFile
    }
}

/// Incoming SMTP from other servers (RFC 5321).
public struct SMTPService: Sendable, Equatable {
    public var enabled: Bool
    /// Default 25.
    public var port: Int
    /// Do not offer STARTTLS (RFC 3207). Default false.
    public var noSTARTTLS: Bool

    public init(enabled: Bool = false, port: Int = 25, noSTARTTLS: Bool = false) {
        self.enabled = enabled
        self.port = port
        self.noSTARTTLS = noSTARTTLS
    }
}

/// Message submission with STARTTLS (RFC 6409).
public struct SubmissionService: Sendable, Equatable {
    public var enabled: Bool
    /// Default 587.
    public var port: Int
    /// Allow AUTH and MAIL before STARTTLS. Default false: passwords would cross in clear.
    public var noRequireSTARTTLS: Bool
    /// Allow AUTH without TLS on loopback connections only (a local webmail or sendmail).
    /// Default false.
    public var plaintextAuthOnLoopback: Bool

    public init(enabled: Bool = false, port: Int = 587, noRequireSTARTTLS: Bool = false, plaintextAuthOnLoopback: Bool = false) {
        self.enabled = enabled
        self.port = port
        self.noRequireSTARTTLS = noRequireSTARTTLS
        self.plaintextAuthOnLoopback = plaintextAuthOnLoopback
    }
}

/// A service that starts with TLS: submissions (RFC 8314, 465) and IMAPS (993).
public struct ImplicitTLSService: Sendable, Equatable {
    public var enabled: Bool
    public var port: Int

    public init(enabled: Bool = false, port: Int) {
        self.enabled = enabled
        self.port = port
    }
}

/// IMAP with STARTTLS (RFC 9051).
public struct IMAPService: Sendable, Equatable {
    public var enabled: Bool
    /// Default 143.
    public var port: Int
    /// Allow login before STARTTLS. Default false.
    public var noRequireSTARTTLS: Bool

    public init(enabled: Bool = false, port: Int = 143, noRequireSTARTTLS: Bool = false) {
        self.enabled = enabled
        self.port = port
        self.noRequireSTARTTLS = noRequireSTARTTLS
    }
}

/// Prometheus metrics over plain HTTP at /metrics; not for public addresses.
public struct MetricsService: Sendable, Equatable {
    public var enabled: Bool
    /// Default 8010, as in mox.
    public var port: Int

    public init(enabled: Bool = false, port: Int = 8010) {
        self.enabled = enabled
        self.port = port
    }
}

/// The MTA-STS policies of the domains (RFC 8461 §3.3) over HTTPS at
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
public struct MTASTSHTTPSService: Sendable, Equatable {
    public var enabled: Bool
    /// Default 443, where senders fetch policies (RFC 8461 §3.2 names an https URL without
    /// a port), as in mox.
    public var port: Int

    public init(enabled: Bool = false, port: Int = 443) {
        self.enabled = enabled
        self.port = port
    }
}

public enum ListenerService: String, Sendable, Hashable, CaseIterable {
    case smtp = "SMTP"
    case submission = "Submission"
    case submissions = "Submissions"
    case imap = "IMAP"
    case imaps = "IMAPS"
    case metrics = "Metrics"
    case mtaSTSHTTPS = "MTASTSHTTPS"
}

/// One socket a listener binds.
public struct ListenerEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var listener: String
    public var service: ListenerService
    public var ip: IPAddress
    public var port: Int

    public init(listener: String, service: ListenerService, ip: IPAddress, port: Int) {
        self.listener = listener
        self.service = service
        self.ip = ip
        self.port = port
    }

    /// `192.0.2.1:25`, `[2001:db8::1]:25`.
    public var address: String {
        ip.isIPv4 ? "\(ip):\(port)" : "[\(ip)]:\(port)"
    }

    public var description: String {
        "\(address) (Listeners.\(listener).\(service.rawValue))"
    }
}
