// Reading tern.yaml: the schema (known keys per mapping), the values, and the checks across
// listeners (TLS requirements, ACME references, address conflicts).

import DNS
import Foundation
import SASL
import Yams

/// The keys of each mapping in tern.yaml; anything else is an unknown key.
enum StaticSchema {
    static let root = ["DataDir", "Hostname", "LogLevel", "Resolver", "Postmaster", "Limits", "ACME", "Listeners", "Queue"]
    static let postmaster = ["Account", "Mailbox"]
    static let limits = [
        "MaxMessageSize", "MaxRecipients", "MaxLineLength", "MaxCommandsBeforeMail", "ConnectionsPerIP",
        "ConnectionsPerAccount", "AuthFailuresPerIP", "Timeouts",
    ]
    static let timeouts = ["TLSHandshake", "SMTPCommand", "SMTPData", "IMAPUnauthenticated", "IMAPAuthenticated"]
    static let acme = ["DirectoryURL", "ContactEmail", "Port"]
    static let listener = ["IPs", "Hostname", "TLS", "SMTP", "Submission", "Submissions", "IMAP", "IMAPS", "Metrics", "MTASTSHTTPS"]
    static let tls = ["KeyCerts", "SelfSigned", "ACME"]
    static let keyCert = ["CertFile", "KeyFile"]
    static let smtp = ["Enabled", "Port", "NoSTARTTLS"]
    static let submission = ["Enabled", "Port", "NoRequireSTARTTLS", "PlaintextAuthOnLoopback"]
    static let submissions = ["Enabled", "Port"]
    static let imap = ["Enabled", "Port", "NoRequireSTARTTLS"]
    static let imaps = ["Enabled", "Port"]
    static let metrics = ["Enabled", "Port"]
    static let mtaSTSHTTPS = ["Enabled", "Port"]
    static let queue = ["FirstRetryInterval", "MaximumAge", "DelayedDSNAfterAttempts", "Concurrency", "DirectPort", "RecordTLSResults", "Transports", "Routes"]
    static let relay = ["Host", "Port", "TLS", "Auth", "IgnoreVerificationErrors"]
    static let transport = relay + ["Socks"]
    static let socks = ["Address", "RemoteIPs", "Hostname", "Auth"]
    /// A SOCKS5 proxy's RFC 1929 credentials.
    static let auth = ["Username", "Password"]
    /// A relay's AUTH (RFC 4954) credentials.
    static let relayAuth = auth + ["Mechanisms"]
    /// Also the keys of the routes of domains and accounts in domains.yaml.
    static let route = ["SenderDomains", "RecipientDomains", "MinimumAttempt", "Transport"]

    /// Every key of the file, for checking that the commented example mentions each.
    static let allKeys: Set<String> = Set(
        root + postmaster + limits + timeouts + acme + listener + tls + keyCert + smtp + submission + submissions + imap
            + imaps + metrics + mtaSTSHTTPS + queue + transport + socks + auth + route)
}

extension StaticConfig {
    /// Parses and validates the text of tern.yaml.
    ///
    /// - Parameters:
    ///   - file: the file name to put in errors.
    ///   - directory: what relative paths (DataDir, CertFile, KeyFile) are relative to: the
    ///     directory of the file.
    ///   - checkFiles: whether certificate and key files must exist.
    /// - Throws: every problem found, in line order.
    public static func parse(_ text: String, file: String, directory: String, checkFiles: Bool = true) throws(ConfigErrors) -> StaticConfig {
        let (config, reader) = read(text, file: file, directory: directory, checkFiles: checkFiles)
        guard let config, reader.errors.isEmpty else {
            throw ConfigErrors(reader.errors.sortedByPlace())
        }
        return config
    }

    /// Reads and parses tern.yaml; relative paths in it are relative to its directory.
    public static func load(path: String, checkFiles: Bool = true) throws(ConfigErrors) -> StaticConfig {
        switch ConfigFile.read(path) {
        case let .failure(error):
            throw ConfigErrors([error])
        case let .success(text):
            return try parse(text, file: path, directory: Validation.directory(of: path), checkFiles: checkFiles)
        }
    }

    /// Checks on the whole model that no single value shows: listeners that need TLS and
    /// have none, ACME names that name no provider, two services on one address and port,
    /// listeners with nothing enabled.
    public func validate() -> [ConfigIssue] {
        Self.validate(listeners: listeners, acme: acme)
    }

    /// Checks against the domains file: the postmaster account must exist there. (The
    /// domains file's routes are checked against this file by `routeIssues`, and reported
    /// in the domains file.)
    public func issues(with domains: DomainsConfig) -> [ConfigIssue] {
        guard domains.account(named: postmaster.account) == nil else { return [] }
        let names = domains.accounts.map(\.name)
        var message = "no account '\(postmaster.account)' in the domains file"
        if let suggestion = DocumentReader.closest(to: postmaster.account, among: names) {
            message += "; did you mean '\(suggestion)'?"
        } else if !names.isEmpty {
            message += "; accounts: \(names.joined(separator: ", "))"
        }
        return [ConfigIssue(path: ["Postmaster", "Account"], message: message)]
    }

    // MARK: Reading

    /// Reads what can be read, reporting into the returned reader; the model is nil when a
    /// required part is missing or unusable.
    static func read(_ text: String, file: String, directory: String, checkFiles: Bool) -> (StaticConfig?, DocumentReader) {
        let reader = DocumentReader(file: file)
        guard let node = reader.compose(text),
              let root = reader.fields(node, KeyPath(), owner: .start, known: StaticSchema.root)
        else {
            return (nil, reader)
        }
        let parser = StaticParser(reader: reader, directory: directory, checkFiles: checkFiles)

        let dataDir = root.string("DataDir", required: true).flatMap { path -> String? in
            guard !path.isEmpty else {
                reader.error(KeyPath(["DataDir"]), "cannot be empty", at: root.position("DataDir"))
                return nil
            }
            return Validation.resolvePath(path, directory: directory)
        }
        let hostname = root.required("Hostname").flatMap { parser.hostname($0, KeyPath(["Hostname"])) }
        var logLevel = "info"
        if let level = root.string("LogLevel") {
            if let problem = Validation.logLevelProblem(level) {
                reader.error(KeyPath(["LogLevel"]), problem, node: root.value("LogLevel") ?? node)
            } else {
                logLevel = level
            }
        }
        var resolver: String?
        if let text = root.string("Resolver") {
            do {
                _ = try StubResolverConfiguration.parseServer(text)
                resolver = text
            } catch {
                reader.error(KeyPath(["Resolver"]), "\(error)", node: root.value("Resolver") ?? node)
            }
        }
        let postmaster = root.fields("Postmaster", known: StaticSchema.postmaster, required: true).flatMap(parser.postmaster)
        let limits = root.fields("Limits", known: StaticSchema.limits).map(parser.limits) ?? Limits()
        let acme = root.entries("ACME").map(parser.acmeProviders) ?? []
        let listeners: [Listener]? = root.entries("Listeners", required: true).map { entries in
            if entries.isEmpty {
                reader.error(KeyPath(["Listeners"]), "needs at least one listener", at: root.position("Listeners"))
            }
            return entries.compactMap(parser.listener)
        }

        let queue = root.fields("Queue", known: StaticSchema.queue).map(parser.queue) ?? QueueConfig()

        // Cross-listener checks run on whatever listeners could be read, so their errors come
        // in the same pass as the others.
        for issue in validate(listeners: listeners ?? [], acme: acme) {
            reader.report(issue)
        }

        guard let dataDir, let hostname, let postmaster, let listeners else {
            return (nil, reader)
        }
        let config = StaticConfig(
            dataDir: dataDir, hostname: hostname, logLevel: logLevel, resolver: resolver,
            postmaster: postmaster, limits: limits, acme: acme, listeners: listeners, queue: queue)
        return (config, reader)
    }

    static func validate(listeners: [Listener], acme: [ACMEProvider]) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for listener in listeners {
            let base = ["Listeners", listener.name]
            let hasTLS = listener.tls != nil
            if listener.endpoints.isEmpty {
                issues.append(ConfigIssue(path: base, message: "no service is enabled; enable one (e.g. SMTP: {Enabled: true}) or remove the listener"))
            }
            if listener.submissions.enabled, !hasTLS {
                issues.append(ConfigIssue(
                    path: base + ["Submissions", "Enabled"],
                    message: "Submissions starts with TLS (RFC 8314), but this listener has no TLS section"))
            }
            if listener.imaps.enabled, !hasTLS {
                issues.append(ConfigIssue(
                    path: base + ["IMAPS", "Enabled"],
                    message: "IMAPS starts with TLS (RFC 8314), but this listener has no TLS section"))
            }
            if listener.mtaSTSHTTPS.enabled, !hasTLS {
                issues.append(ConfigIssue(
                    path: base + ["MTASTSHTTPS", "Enabled"],
                    message: "MTA-STS policies are served only over HTTPS (RFC 8461 §3.3), but this listener has no TLS section"))
            }
            let onlyLoopback = !listener.ips.isEmpty && listener.ips.allSatisfy(Validation.isLoopback)
            if listener.submission.enabled, !hasTLS, !listener.submission.noRequireSTARTTLS,
               !(listener.submission.plaintextAuthOnLoopback && onlyLoopback) {
                issues.append(ConfigIssue(
                    path: base + ["Submission", "Enabled"],
                    message: "Submission requires STARTTLS, but this listener has no TLS section; add one, or set NoRequireSTARTTLS: true (passwords then cross the network in clear)"))
            }
            if listener.imap.enabled, !hasTLS, !listener.imap.noRequireSTARTTLS {
                issues.append(ConfigIssue(
                    path: base + ["IMAP", "Enabled"],
                    message: "IMAP requires STARTTLS, but this listener has no TLS section; add one, or set NoRequireSTARTTLS: true (passwords then cross the network in clear)"))
            }
            if case let .acme(name) = listener.tls, !acme.contains(where: { $0.name == name }) {
                let names = acme.map(\.name)
                var message = "no ACME provider named '\(name)'"
                if let suggestion = DocumentReader.closest(to: name, among: names) {
                    message += "; did you mean '\(suggestion)'?"
                } else if names.isEmpty {
                    message += "; define it under the top-level ACME key"
                } else {
                    message += "; defined: \(names.joined(separator: ", "))"
                }
                issues.append(ConfigIssue(path: base + ["TLS", "ACME"], message: message))
            }
        }
        issues += endpointConflicts(listeners.flatMap(\.endpoints))
        return issues
    }

    /// Two services cannot bind the same address and port; an unspecified address (0.0.0.0,
    /// ::) binds every address of its family, so it conflicts with any of them on its port.
    static func endpointConflicts(_ endpoints: [ListenerEndpoint]) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        var earlier: [ListenerEndpoint] = []
        for endpoint in endpoints {
            let clash = earlier.first { other in
                guard other.port == endpoint.port, other.ip.isIPv4 == endpoint.ip.isIPv4 else { return false }
                return other.ip == endpoint.ip || Validation.isUnspecified(other.ip) || Validation.isUnspecified(endpoint.ip)
            }
            if let clash {
                let message: String
                if clash.ip == endpoint.ip {
                    message = "\(endpoint.address) is already used by Listeners.\(clash.listener).\(clash.service.rawValue)"
                } else {
                    message = "\(endpoint.address) overlaps \(clash.address) of Listeners.\(clash.listener).\(clash.service.rawValue): an unspecified address (0.0.0.0, ::) listens on every address of its family"
                }
                issues.append(ConfigIssue(path: ["Listeners", endpoint.listener, endpoint.service.rawValue, "Port"], message: message))
            }
            earlier.append(endpoint)
        }
        return issues
    }
}

/// The per-section readers of tern.yaml.
private struct StaticParser {
    let reader: DocumentReader
    let directory: String
    let checkFiles: Bool

    func hostname(_ node: Node, _ path: KeyPath) -> Domain? {
        guard let text = reader.string(node, path) else { return nil }
        switch Validation.hostname(text) {
        case let .success(domain): return domain
        case let .failure(message):
            reader.error(path, message, node: node)
            return nil
        }
    }

    func postmaster(_ fields: Fields) -> Postmaster? {
        let account = fields.string("Account", required: true)
        if let account, let problem = Validation.accountNameProblem(account) {
            reader.error(fields.path.key("Account"), problem, at: fields.position("Account"))
        }
        var mailbox = "Inbox"
        if let name = fields.string("Mailbox") {
            if let problem = Validation.mailboxNameProblem(name) {
                reader.error(fields.path.key("Mailbox"), problem, at: fields.position("Mailbox"))
            } else {
                mailbox = name
            }
        }
        return account.map { Postmaster(account: $0, mailbox: mailbox) }
    }

    func limits(_ fields: Fields) -> Limits {
        var limits = Limits()
        limits.maxMessageSize = fields.int("MaxMessageSize", default: limits.maxMessageSize, range: 1024...Int.max)
        limits.maxRecipients = fields.int("MaxRecipients", default: limits.maxRecipients, range: 100...Int.max)
        // The upper bound keeps the buffer per connection small; no legitimate line is longer.
        limits.maxLineLength = fields.int("MaxLineLength", default: limits.maxLineLength, range: 1000...1_048_576)
        limits.maxCommandsBeforeMail = fields.int("MaxCommandsBeforeMail", default: limits.maxCommandsBeforeMail, range: 10...Int.max)
        limits.connectionsPerIP = fields.int("ConnectionsPerIP", default: limits.connectionsPerIP, range: 1...Int.max)
        limits.connectionsPerAccount = fields.int("ConnectionsPerAccount", default: limits.connectionsPerAccount, range: 1...Int.max)
        limits.authFailuresPerIP = fields.int("AuthFailuresPerIP", default: limits.authFailuresPerIP, range: 1...Int.max)
        if let timeouts = fields.fields("Timeouts", known: StaticSchema.timeouts) {
            var t = Timeouts()
            t.tlsHandshake = timeouts.duration("TLSHandshake", default: t.tlsHandshake)
            t.smtpCommand = timeouts.duration("SMTPCommand", default: t.smtpCommand)
            t.smtpData = timeouts.duration("SMTPData", default: t.smtpData)
            t.imapUnauthenticated = timeouts.duration("IMAPUnauthenticated", default: t.imapUnauthenticated)
            let authenticated = timeouts.duration("IMAPAuthenticated", default: t.imapAuthenticated)
            if authenticated < .seconds(1800) {
                reader.error(
                    timeouts.path.key("IMAPAuthenticated"),
                    "must be at least 30m: RFC 9051 §5.4 requires an autologout timer after login to be at least 30 minutes",
                    at: timeouts.position("IMAPAuthenticated"))
            } else {
                t.imapAuthenticated = authenticated
            }
            limits.timeouts = t
        }
        return limits
    }

    func queue(_ fields: Fields) -> QueueConfig {
        var queue = QueueConfig()
        queue.firstRetryInterval = fields.duration("FirstRetryInterval", default: queue.firstRetryInterval)
        let maximumAge = fields.duration("MaximumAge", default: queue.maximumAge)
        if maximumAge < queue.firstRetryInterval {
            reader.error(
                fields.path.key("MaximumAge"), "must be at least FirstRetryInterval (\(Self.describe(queue.firstRetryInterval))), or no retry would ever be made",
                at: fields.position("MaximumAge"))
        } else {
            queue.maximumAge = maximumAge
        }
        // 0 turns the delayed-delivery DSN off.
        if let attempts = fields.optionalInt("DelayedDSNAfterAttempts", range: 0...1000) {
            queue.delayedDSNAfterAttempts = attempts == 0 ? nil : attempts
        }
        queue.concurrency = fields.int("Concurrency", default: queue.concurrency, range: 1...1000)
        queue.directPort = fields.int("DirectPort", default: queue.directPort, range: 1...65535)
        queue.recordTLSResults = fields.bool("RecordTLSResults", default: queue.recordTLSResults)
        let entries = fields.entries("Transports") ?? []
        queue.transports = entries.compactMap { transport($0, fields.path.key("Transports")) }
        // Routes may name any transport written, also one with errors of its own (reported there).
        let names = entries.map(\.name).filter { $0 != RouteConfig.directTransport }
        queue.routes = reader.routes(fields, under: fields.path) { RouteConfig.transportProblem($0, defined: names) }
        return queue
    }

    /// A transport: a relay, or with `Socks` direct delivery through a proxy.
    func transport(_ entry: Entry, _ parent: KeyPath) -> TransportConfig? {
        let path = parent.key(entry.name)
        if let problem = Validation.simpleNameProblem(entry.name, what: "transport") {
            reader.error(path, problem, at: entry.keyPosition)
        } else if entry.name == RouteConfig.directTransport {
            reader.error(path, "'\(RouteConfig.directTransport)' is the built-in transport for delivery to the MX hosts; choose another name", at: entry.keyPosition)
            return nil
        }
        guard let fields = reader.fields(entry.value, path, owner: entry.keyPosition, known: StaticSchema.transport) else { return nil }
        guard fields.entries["Socks"] != nil else {
            return relay(fields).map { TransportConfig(name: entry.name, kind: .relay($0)) }
        }
        for key in StaticSchema.relay where fields.entries[key] != nil {
            reader.error(path.key(key), "is for a relay; a transport with Socks delivers to the MX hosts through the proxy", at: fields.position(key))
        }
        return fields.fields("Socks", known: StaticSchema.socks, required: true).flatMap(socks).map {
            TransportConfig(name: entry.name, kind: .socks($0))
        }
    }

    func relay(_ fields: Fields) -> RelayConfig? {
        let path = fields.path
        var host = fields.string("Host", required: true)
        if let text = host, IPAddress(text) == nil, case let .failure(message) = Validation.hostname(text) {
            reader.error(path.key("Host"), message + " (or an IP address)", at: fields.position("Host"))
            host = nil
        }
        let port = fields.required("Port").flatMap { reader.int($0, path.key("Port"), range: 1...65535) }
        var security = RelayConfig.Security.startTLS
        if let text = fields.string("TLS") {
            if let value = RelayConfig.Security(rawValue: text) {
                security = value
            } else {
                let names = RelayConfig.Security.allCases.map(\.rawValue)
                reader.error(path.key("TLS"), "expected one of \(names.joined(separator: ", ")), found '\(text)'", at: fields.position("TLS"))
            }
        }
        let auth = self.auth(fields, mechanisms: true)
        if fields.has("Auth"), security == .opportunistic {
            // RFC 4954 §4 / RFC 8314: credentials only over TLS.
            reader.error(path.key("Auth"), "AUTH needs TLS: with TLS: Opportunistic the password could cross the network in clear; use STARTTLS or ImplicitTLS", at: fields.position("Auth"))
        }
        let ignore = fields.bool("IgnoreVerificationErrors", default: false)
        guard let host, let port else { return nil }
        return RelayConfig(host: host, port: port, security: security, auth: auth, ignoreVerificationErrors: ignore)
    }

    func socks(_ fields: Fields) -> SOCKSConfig? {
        let path = fields.path
        var address: (host: String, port: Int)?
        if let text = fields.string("Address", required: true) {
            switch Validation.hostAndPort(text) {
            case let .success(host, port): address = (host, port)
            case let .failure(message): reader.error(path.key("Address"), message, at: fields.position("Address"))
            }
        }
        let remoteIPs = ipAddresses(
            fields, "RemoteIPs", whenEmpty: "needs at least one address: those the proxy's connections come from, as the MX hosts see them")
        let hostname = fields.required("Hostname").flatMap { self.hostname($0, path.key("Hostname")) }
        let auth = self.auth(fields, mechanisms: false)
        if let auth, [auth.username, auth.password].contains(where: { !SOCKSConfig.credentialLength.contains($0.utf8.count) }) {
            reader.error(path.key("Auth"), "the username and the password must each be 1 to 255 octets (RFC 1929 §2)", at: fields.position("Auth"))
        }
        guard let address, !remoteIPs.isEmpty, let hostname else { return nil }
        return SOCKSConfig(host: address.host, port: address.port, remoteIPs: remoteIPs, hostname: hostname, auth: auth)
    }

    /// The `Auth` mapping of a transport, when written.
    /// With `mechanisms`, a relay's: the SASL mechanisms it may use can be named.
    func auth(_ fields: Fields, mechanisms allowed: Bool) -> TransportConfig.Auth? {
        guard let authFields = fields.fields("Auth", known: allowed ? StaticSchema.relayAuth : StaticSchema.auth) else { return nil }
        let username = authFields.string("Username", required: true)
        let password = authFields.string("Password", required: true)
        let mechanismsPath = authFields.path.key("Mechanisms")
        let mechanisms = (allowed ? authFields.list("Mechanisms") ?? [] : []).enumerated().compactMap { index, node -> SASLMechanism? in
            guard let text = reader.string(node, mechanismsPath.index(index)) else { return nil }
            guard let mechanism = SASLMechanism(name: text) else {
                let names = SASLMechanism.allCases.map(\.name)
                reader.error(mechanismsPath.index(index), "unknown SASL mechanism '\(text)'; expected one of \(names.joined(separator: ", "))", node: node)
                return nil
            }
            return mechanism
        }
        guard let username, let password else { return nil }
        return TransportConfig.Auth(username: username, password: password, mechanisms: mechanisms)
    }

    /// A list of IP addresses, each once, which must not be empty.
    func ipAddresses(_ fields: Fields, _ key: String, whenEmpty: String) -> [IPAddress] {
        var ips: [IPAddress] = []
        guard let nodes = fields.list(key, required: true) else { return ips }
        if nodes.isEmpty {
            reader.error(fields.path.key(key), whenEmpty, at: fields.position(key))
        }
        for (index, node) in nodes.enumerated() {
            let itemPath = fields.path.key(key).index(index)
            guard let text = reader.string(node, itemPath) else { continue }
            guard let ip = IPAddress(text) else {
                reader.error(itemPath, "'\(text)' is not an IPv4 or IPv6 address", node: node)
                continue
            }
            if ips.contains(ip) {
                reader.error(itemPath, "\(ip) is listed twice", node: node)
                continue
            }
            ips.append(ip)
        }
        return ips
    }

    /// `90s` → "1m30s", the form durations are written in.
    static func describe(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        let parts = [(seconds / 3600, "h"), (seconds / 60 % 60, "m"), (seconds % 60, "s")].filter { $0.0 > 0 }
        return parts.isEmpty ? "0s" : parts.map { "\($0.0)\($0.1)" }.joined()
    }

    func acmeProviders(_ entries: [Entry]) -> [ACMEProvider] {
        entries.compactMap { entry -> ACMEProvider? in
            let path = KeyPath(["ACME", entry.name])
            if let problem = Validation.simpleNameProblem(entry.name, what: "ACME provider") {
                reader.error(path, problem, at: entry.keyPosition)
            }
            guard let fields = reader.fields(entry.value, path, owner: entry.keyPosition, known: StaticSchema.acme) else { return nil }
            var directoryURL = fields.string("DirectoryURL", required: true)
            if let text = directoryURL {
                let url = URL(string: text)
                if url?.scheme?.lowercased() != "https" || (url?.host ?? "").isEmpty {
                    reader.error(path.key("DirectoryURL"), "expected an https URL such as https://acme-v02.api.letsencrypt.org/directory, found '\(text)'", at: fields.position("DirectoryURL"))
                    directoryURL = nil
                }
            }
            var contactEmail = fields.string("ContactEmail", required: true)
            if let email = contactEmail, let problem = Validation.emailProblem(email) {
                reader.error(path.key("ContactEmail"), problem, at: fields.position("ContactEmail"))
                contactEmail = nil
            }
            let port = fields.int("Port", default: 443, range: 1...65535)
            guard let directoryURL, let contactEmail else { return nil }
            return ACMEProvider(name: entry.name, directoryURL: directoryURL, contactEmail: contactEmail, port: port)
        }
    }

    func listener(_ entry: Entry) -> Listener? {
        let path = KeyPath(["Listeners", entry.name])
        if let problem = Validation.simpleNameProblem(entry.name, what: "listener") {
            reader.error(path, problem, at: entry.keyPosition)
        }
        guard let fields = reader.fields(entry.value, path, owner: entry.keyPosition, known: StaticSchema.listener) else { return nil }

        let ips = ipAddresses(fields, "IPs", whenEmpty: "needs at least one address; 0.0.0.0 and :: listen on all addresses")
        let hostname = fields.value("Hostname").flatMap { self.hostname($0, path.key("Hostname")) }
        let tls = fields.fields("TLS", known: StaticSchema.tls).flatMap(self.tls)

        var listener = Listener(name: entry.name, ips: ips, hostname: hostname, tls: tls)
        if let smtp = fields.fields("SMTP", known: StaticSchema.smtp) {
            listener.smtp = SMTPService(
                enabled: smtp.requiredBool("Enabled") ?? false,
                port: smtp.int("Port", default: 25, range: 1...65535),
                noSTARTTLS: smtp.bool("NoSTARTTLS", default: false))
        }
        if let submission = fields.fields("Submission", known: StaticSchema.submission) {
            listener.submission = SubmissionService(
                enabled: submission.requiredBool("Enabled") ?? false,
                port: submission.int("Port", default: 587, range: 1...65535),
                noRequireSTARTTLS: submission.bool("NoRequireSTARTTLS", default: false),
                plaintextAuthOnLoopback: submission.bool("PlaintextAuthOnLoopback", default: false))
        }
        if let submissions = fields.fields("Submissions", known: StaticSchema.submissions) {
            listener.submissions = ImplicitTLSService(
                enabled: submissions.requiredBool("Enabled") ?? false,
                port: submissions.int("Port", default: 465, range: 1...65535))
        }
        if let imap = fields.fields("IMAP", known: StaticSchema.imap) {
            listener.imap = IMAPService(
                enabled: imap.requiredBool("Enabled") ?? false,
                port: imap.int("Port", default: 143, range: 1...65535),
                noRequireSTARTTLS: imap.bool("NoRequireSTARTTLS", default: false))
        }
        if let imaps = fields.fields("IMAPS", known: StaticSchema.imaps) {
            listener.imaps = ImplicitTLSService(
                enabled: imaps.requiredBool("Enabled") ?? false,
                port: imaps.int("Port", default: 993, range: 1...65535))
        }
        if let metrics = fields.fields("Metrics", known: StaticSchema.metrics) {
            listener.metrics = MetricsService(
                enabled: metrics.requiredBool("Enabled") ?? false,
                port: metrics.int("Port", default: 8010, range: 1...65535))
        }
        if let policies = fields.fields("MTASTSHTTPS", known: StaticSchema.mtaSTSHTTPS) {
            listener.mtaSTSHTTPS = MTASTSHTTPSService(
                enabled: policies.requiredBool("Enabled") ?? false,
                port: policies.int("Port", default: 443, range: 1...65535))
        }
        return listener
    }

    /// Exactly one of KeyCerts, SelfSigned: true, ACME.
    func tls(_ fields: Fields) -> ListenerTLS? {
        var choices: [ListenerTLS] = []
        var written: [String] = []
        if let nodes = fields.list("KeyCerts") {
            written.append("KeyCerts")
            if nodes.isEmpty {
                reader.error(fields.path.key("KeyCerts"), "needs at least one CertFile/KeyFile pair", at: fields.position("KeyCerts"))
            }
            var pairs: [KeyCertFiles] = []
            for (index, node) in nodes.enumerated() {
                let itemPath = fields.path.key("KeyCerts").index(index)
                guard let pair = reader.fields(node, itemPath, owner: Position(node.mark), known: StaticSchema.keyCert) else { continue }
                let cert = pair.string("CertFile", required: true).flatMap { file(pair, "CertFile", $0) }
                let key = pair.string("KeyFile", required: true).flatMap { file(pair, "KeyFile", $0) }
                if let cert, let key {
                    pairs.append(KeyCertFiles(certFile: cert, keyFile: key))
                }
            }
            choices.append(.keyCerts(pairs))
        }
        if fields.has("SelfSigned") {
            written.append("SelfSigned")
            if fields.bool("SelfSigned", default: false) {
                choices.append(.selfSigned)
            }
        }
        if let name = fields.string("ACME") {
            written.append("ACME")
            choices.append(.acme(name))
        }
        if written.count > 1 {
            reader.error(fields.path, "set only one of KeyCerts, SelfSigned and ACME; found \(written.joined(separator: " and "))", at: fields.owner)
            return nil
        }
        guard let choice = choices.first else {
            if written.isEmpty {
                reader.error(fields.path, "set one of KeyCerts, SelfSigned: true or ACME; for no TLS, remove the TLS section", at: fields.owner)
            } else if written == ["SelfSigned"] {
                reader.error(fields.path.key("SelfSigned"), "SelfSigned: false leaves no certificate; set it to true, use KeyCerts or ACME, or remove the TLS section", at: fields.position("SelfSigned"))
            }
            return nil
        }
        return choice
    }

    /// A file path, absolute, checked to exist when asked.
    func file(_ fields: Fields, _ key: String, _ path: String) -> String? {
        guard !path.isEmpty else {
            reader.error(fields.path.key(key), "cannot be empty", at: fields.position(key))
            return nil
        }
        let absolute = Validation.resolvePath(path, directory: directory)
        if checkFiles, !FileManager.default.isReadableFile(atPath: absolute) {
            let note = path.hasPrefix("/") ? "" : " (relative paths are taken from the config file's directory)"
            reader.error(fields.path.key(key), "cannot read file \(absolute)\(note)", at: fields.position(key))
            return nil
        }
        return absolute
    }
}
