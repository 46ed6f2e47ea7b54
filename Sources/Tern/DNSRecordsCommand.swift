import ACME
import ArgumentParser
import Config
import Crypto
import DANE
import DKIM
import DNS
import NIOSSL

/// `tern config dnsrecords DOMAIN`: the DNS records a domain needs with this configuration,
/// as a zone file with a comment on each, as mox's command of the same name.
struct ConfigDNSRecordsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dnsrecords",
        abstract: "Print the DNS records a domain needs, in zone-file syntax.",
        discussion: """
            Reads tern.yaml and domains.yaml as `config test` does and prints MX, SPF, DKIM \
            (each selector's key), DMARC, MTA-STS, TLS reporting and DANE (TLSA) records for \
            DOMAIN, each explained. For a \
            listener with ACME certificates, the TLSA record names the key every certificate \
            is issued for; the key is made in DataDir when there is none yet, so the record can \
            be published before the first certificate.
            """
    )

    @OptionGroup var files: ConfigFileOptions

    @Argument(help: ArgumentHelp("A domain of the domains file.", valueName: "domain"))
    var domain: String

    func run() throws {
        let config: TernConfig
        do {
            config = try ConfigLoader.load(staticPath: files.staticPath(), domainsPath: files.domainsPath())
        } catch {
            for problem in error.errors { printError("\(problem)") }
            throw ExitCode(1)
        }
        guard let name = try? Domain(domain), let settings = config.domains.settings(for: name) else {
            let configured = config.domains.localDomains.map(\.unicode).joined(separator: ", ")
            printError("\(domain) is not a domain of \(config.domainsPath)\(configured.isEmpty ? "" : "; its domains: \(configured)")")
            throw ExitCode(1)
        }
        do {
            print(try DNSRecordsZone(config: config, domain: settings).text(), terminator: "")
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

/// The records of one domain as zone-file text: each group of records after comment lines
/// that say what they do and why they are written so.
struct DNSRecordsZone {
    let config: TernConfig
    let domain: DomainSettings

    /// One hour: short enough to correct a mistake within the day, long enough not to matter
    /// for load.
    static let ttl: UInt32 = 3600
    /// RFC 1035 §3.3.14: a character-string holds at most 255 octets; longer TXT data is
    /// split, and SPF (RFC 7208 §3.3) and the others join the parts again.
    static let characterStringLength = 255

    private var settings: StaticConfig { config.staticConfig }
    private var name: String { domain.domain.ascii }
    /// Where reports go: postmaster@ reaches a person at every domain (RFC 5321 §4.5.1; the
    /// Postmaster of tern.yaml unless the domain has its own), and an address in the domain
    /// itself needs no authorization record from another domain (RFC 7489 §7.1).
    private var reportAddress: String { "postmaster@\(name)" }

    func text() throws -> String {
        var sections = [
            """
            ; DNS records for \(domain.domain.unicode), from \(config.staticPath) and \(config.domainsPath).
            ; Zone-file syntax (RFC 1035 §5.1), absolute names, a TTL of an hour. Print them
            ; again after changing the configuration: `tern config dnsrecords \(domain.domain.unicode)`.

            """,
        ]
        sections.append(try mx())
        sections.append(try spf())
        sections.append(try dkim())
        sections.append(try dmarc())
        sections.append(try mtaSTS())
        sections.append(try tlsReporting())
        sections.append(try dane())
        return sections.joined(separator: "\n")
    }

    private func mx() throws -> String {
        let hosts = settings.mxHosts
        var text = """
            ; Mail for \(name) is received by \(hosts.map(\.ascii).joined(separator: ", ")) (RFC 5321 §5.1).
            ; Each host name needs A and/or AAAA records with this server's public addresses,
            ; and each address a PTR record naming the host again: receivers check reverse DNS.

            """
        if !settings.listeners.contains(where: \.smtp.enabled) {
            text += "; No listener has SMTP enabled yet: without it no mail for \(name) arrives.\n"
        }
        for host in hosts {
            text += try line(name, .mx(MX(preference: 10, exchange: DNSName(host.ascii))))
        }
        return text
    }

    private func spf() throws -> String {
        var mechanisms = ["mx"]
        var proxies: [String] = []
        var relays: [String] = []
        for transport in settings.queue.transports {
            switch transport.kind {
            case let .socks(socks):
                mechanisms += socks.remoteIPs.map { ($0.isIPv4 ? "ip4:" : "ip6:") + $0.description }
                proxies.append(transport.name)
            case let .relay(relay):
                relays.append("\(transport.name) (\(relay.host))")
            }
        }
        var text = """
            ; SPF (RFC 7208): mail from @\(name) leaves from the MX hosts and from nowhere else.
            ; "-all" (fail) rather than "~all" (softfail): no other server sends for the
            ; domain, so receivers may refuse what claims to be from it.

            """
        if !proxies.isEmpty {
            text += "; The ip4/ip6 terms are the RemoteIPs of the SOCKS transports \(proxies.joined(separator: ", ")).\n"
        }
        if !relays.isEmpty {
            text += """
                ; Mail routed through the relay transports \(relays.joined(separator: ", ")) leaves from
                ; their servers: add what each provider documents (usually an include:) before -all.

                """
        }
        text += try line(name, txt("v=spf1 \(mechanisms.joined(separator: " ")) -all"))
        text += """
            ; SPF for the host names themselves, checked for the HELO identity and for bounces,
            ; whose MAIL FROM is empty (RFC 7208 §2.3, §2.4).

            """
        for host in settings.mxHosts {
            text += try line(host.ascii, txt("v=spf1 a -all"))
        }
        return text
    }

    private func dkim() throws -> String {
        guard let dkim = domain.dkim, !dkim.selectors.isEmpty else {
            return """
                ; DKIM (RFC 6376): \(name) signs no mail. To sign, make keys with `tern dkim genrsa` and
                ; `tern dkim gened25519`, add them as selectors in a DKIM section of \(domain.domain.unicode)
                ; in \(config.domainsPath) (`tern config describe-domains`), and print these records again.

                """
        }
        var text = """
            ; DKIM (RFC 6376 §3.6.2.1): the public key of each selector, which receivers look up to
            ; verify the signatures on mail from @\(name). Publish a selector's record before adding
            ; it to Sign, and keep it for a few days after taking it out, while mail signed with it
            ; is still on its way. The RSA records are longer than one string holds: the strings
            ; are joined again (RFC 6376 §3.6.2.2).

            """
        for selector in dkim.selectors {
            let key: DKIMPrivateKey
            do {
                key = try DomainSigners.readKey(selector, of: domain.domain)
            } catch {
                throw DNSRecordsError.unusableDKIMKey(error)
            }
            let use = dkim.sign.contains(selector.name) ? "signs now" : "not in Sign: publish first, sign later"
            text += "; Selector \(selector.name), \(key.algorithm.keyType) key in \(selector.privateKeyFile) (\(use)):\n"
            text += try line("\(selector.name)._domainkey.\(name)", txt(key.keyRecord))
        }
        return text
    }

    private func dmarc() throws -> String {
        let selectors = domain.dkim?.signingSelectors.map(\.name) ?? []
        let authentication = selectors.isEmpty
            ? """
                ; \(name) does not sign with DKIM, so its mail passes through SPF alone, which forwarding
                ; breaks: sign it (above), or publish p=none first and change to p=reject once the
                ; reports show nothing legitimate failing.
                """
            : """
                ; Its mail is signed with DKIM (selectors \(selectors.joined(separator: ", "))), so it passes also where
                ; forwarding breaks SPF. To watch first, publish p=none and change to p=reject once
                ; the reports show nothing legitimate failing.
                """
        return """
            ; DMARC (RFC 7489 §6.3): receivers refuse mail with From: @\(name) that passes neither
            ; SPF nor DKIM for \(name). p=reject: all the domain's mail leaves through this server,
            ; so its own mail passes and forged mail is refused.
            \(authentication)
            ; Aggregate reports (rua) go to \(reportAddress), which reaches the Postmaster.

            """ + (try line("_dmarc." + name, txt("v=DMARC1; p=reject; rua=mailto:\(reportAddress)")))
    }

    private func mtaSTS() throws -> String {
        guard let mtaSTS = domain.mtaSTS, let policyHost = domain.mtaSTSPolicyHost else {
            return """
                ; MTA-STS (RFC 8461): \(name) has no policy. To publish one, add an MTASTS section
                ; to \(domain.domain.unicode) in \(config.domainsPath) (`tern config describe-domains`) and enable
                ; MTASTSHTTPS on a listener, then print these records again.

                """
        }
        let policy = try mtaSTS.policy(defaultMX: settings.mxHosts)
        var text = """
            ; MTA-STS (RFC 8461): senders fetch the policy (mode \(policy.mode.rawValue), MX \(policy.mx.map(\.description).joined(separator: ", "))) from
            ; https://\(policyHost.ascii)/.well-known/mta-sts.txt and then deliver only over TLS with a
            ; valid certificate. The id is the PolicyID of domains.yaml: change both together
            ; with the policy, or senders keep the one they cached for up to \(policy.maxAge) seconds.

            """
        for host in settings.mxHosts where !policy.allows(mxHost: try DNSName(host.ascii)) {
            text += "; Warning: the policy's MX patterns do not match \(host.ascii), to which the MX record\n; points: senders in mode enforce will not deliver there.\n"
        }
        text += try line("_mta-sts." + name, txt(mtaSTS.record.text))
        guard let server = settings.listeners.first(where: { $0.mtaSTSHTTPS.enabled }) else {
            return text + """
                ; No listener has MTASTSHTTPS enabled, so Tern does not serve the policy: serve it
                ; at that address elsewhere, with a certificate for \(policyHost.ascii), or enable
                ; MTASTSHTTPS and point \(policyHost.ascii) at that listener's addresses.

                """
        }
        let host = server.hostname(default: settings.hostname).ascii
        text += """
            ; The policy host is this server, whose listener \(server.name) serves the policy\(server.mtaSTSHTTPS.port == 443 ? "" : " on port \(server.mtaSTSHTTPS.port):\n; senders connect to 443, so forward 443 to it").

            """
        return text + (try line(policyHost.ascii, .cname(try DNSName(host))))
    }

    private func tlsReporting() throws -> String {
        """
        ; SMTP TLS reporting (RFC 8460 §3): servers that send to \(name) report daily on their
        ; TLS connections, MTA-STS and DANE failures among them, to \(reportAddress).

        """ + (try line("_smtp._tls." + name, txt("v=TLSRPTv1; rua=mailto:\(reportAddress)")))
    }

    private func dane() throws -> String {
        var text = """
            ; DANE (RFC 7672): senders that validate DNSSEC accept on port 25 only a certificate
            ; for this key, which defeats STARTTLS stripping and forged certificates; only in a
            ; DNSSEC-signed zone. "3 1 1" names the key, not the certificate (RFC 7671 §5.1), so
            ; it stays valid through renewals for the same key. To change the key, publish the
            ; new record beside the old one and wait out the TTL first (RFC 7671 §8.1).

            """
        for host in settings.mxHosts {
            let owner = "_25._tcp." + host.ascii
            guard let listener = settings.listeners.first(where: { $0.smtp.enabled && $0.hostname(default: settings.hostname) == host }) else {
                text += "; \(owner): no listener receives SMTP, so there is no key.\n"
                continue
            }
            if listener.smtp.noSTARTTLS {
                text += "; \(owner): listener \(listener.name) offers no STARTTLS (NoSTARTTLS), so there is no key.\n"
                continue
            }
            switch listener.tls {
            case nil:
                text += "; \(owner): listener \(listener.name) has no TLS, so there is no key.\n"
            case .selfSigned:
                text += "; \(owner): listener \(listener.name) makes a new self-signed key at every start, which no\n; record can name; use ACME or KeyCerts.\n"
            case let .acme(provider):
                let storage = ACMECertificates.storage(dataDir: settings.dataDir, provider: provider, hostname: host.ascii)
                let key = try storage.certificateKey()
                text += "; The key of every certificate from \(provider), in \(storage.certificateKeyPath):\n"
                text += try line(owner, .tlsa(UsableTLSA(daneEEForSubjectPublicKeyInfo: Array(key.publicKey.derRepresentation)).record))
            case let .keyCerts(pairs):
                guard let pair = pairs.first else { continue }
                // The first pair is the one served.
                let chain: [NIOSSLCertificate]
                do {
                    chain = try NIOSSLCertificate.fromPEMFile(pair.certFile)
                } catch {
                    throw DNSRecordsError.unreadableCertificate(pair.certFile, "\(error)")
                }
                guard let leaf = chain.first else { throw DNSRecordsError.unreadableCertificate(pair.certFile, "no certificate in it") }
                text += "; The key of \(pair.certFile); a certificate for another key needs a new record:\n"
                text += try line(owner, .tlsa(UsableTLSA(daneEEForCertificate: try leaf.toDERBytes()).record))
            }
        }
        return text
    }

    private func line(_ owner: String, _ data: RecordData) throws -> String {
        "\(ResourceRecord(name: try DNSName(owner), ttl: Self.ttl, data: data))\n"
    }

    private func txt(_ text: String) -> RecordData {
        var strings: [[UInt8]] = []
        var rest = Array(text.utf8)[...]
        while !rest.isEmpty {
            strings.append(Array(rest.prefix(Self.characterStringLength)))
            rest = rest.dropFirst(Self.characterStringLength)
        }
        return .txt(strings)
    }
}

enum DNSRecordsError: Error, CustomStringConvertible {
    case unreadableCertificate(String, String)
    case unusableDKIMKey(DKIMKeyProblem)

    var description: String {
        switch self {
        case let .unreadableCertificate(file, reason): "cannot read the certificate in \(file): \(reason)"
        case let .unusableDKIMKey(problem): "\(problem)"
        }
    }
}
