import ArgumentParser
import Certificates
import Config
import DNS
import Foundation
import HTTP
import IMAPServer
import Logging
import NIOCore
import NIOSSL
import Queue
import SASL
import SMTP
import ServerSupport
import SMTPServer
import ServiceLifecycle
import Store
import Synchronization
import TernLog
import TLSHandshakeCapture

/// `tern serve`: the mail server, as the configuration files describe it. This is the
/// wiring: each component gets the values it needs from the config (DESIGN.md).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the mail server from tern.yaml and domains.yaml.",
        discussion: """
            Starts the listeners of tern.yaml (SMTP, submission, submissions, IMAP, IMAPS, \
            metrics, MTA-STS policies over HTTPS), \
            delivers into DataDir and sends submitted mail for other domains through the \
            outbound queue in DataDir/queue, which `tern queue` controls through the socket \
            DataDir/ctl. Submitted mail is signed with the DKIM selectors of its From domain. \
            Changes to domains.yaml (accounts, addresses, MTA-STS policies, DKIM selectors) apply \
            without a restart; a domains.yaml with errors is not applied and its errors are logged, \
            and a DKIM key that cannot be read keeps its domain's previous signing. \
            Stops cleanly on SIGINT or SIGTERM.
            """
    )

    @Option(name: .customLong("config"), help: "The static configuration file (environment: TERN_CONFIG).")
    var configPath: String?

    @Option(name: .customLong("log-level"), help: "Log levels, overriding LogLevel in the configuration.")
    var logLevel: String?

    func run() async throws {
        let path = configPath ?? ProcessInfo.processInfo.environment["TERN_CONFIG"] ?? ConfigLoader.defaultStaticPath
        let config = try Self.loadConfig(path)
        var logOptions = LogOptions()
        logOptions.logLevel = logLevel ?? config.staticConfig.logLevel
        try logOptions.bootstrap()
        try await Self.runServer(config, variant: ServerVariant { domains, postmaster, _ in ConfigPolicy(domains: domains, postmaster: postmaster) })
    }

    /// Both configuration files, or every error on stderr and exit status 1.
    static func loadConfig(_ path: String) throws -> TernConfig {
        do {
            return try ConfigLoader.load(staticPath: path)
        } catch {
            for problem in error.errors { printError("\(problem)") }
            throw ExitCode(1)
        }
    }

    /// Runs the server a configuration describes until SIGINT or SIGTERM, with what
    /// localserve changes in `variant`.
    static func runServer(_ config: TernConfig, variant: ServerVariant) async throws {
        let settings = config.staticConfig
        let logger = Logger(label: "serve")
        let metrics = TernMetrics.bootstrap()
        if let descriptors = DescriptorLimit.raiseToHardLimit() {
            logger.debug("open descriptor limit", metadata: ["limit": "\(descriptors)"])
        }
        // Every signing key must be usable before anything starts.
        let signers = try DomainSigners.load(config.domains, from: config.domainsPath)

        let store = try await Store.open(dataDirectory: settings.dataDir)
        defer { store.close() }
        let domains = DomainsHolder(config.domains)
        try await createAccounts(config.domains, in: store, logger: logger)

        let secret = try LocalserveFiles.secret(at: settings.dataDir + "/sasl-secret", length: 32)
        let authentication = Authentication(
            credentials: ConfigCredentials(domains: domains), serverSecret: Array(secret.utf8),
            failureLimiter: AuthFailureLimiter(maxFailures: settings.limits.authFailuresPerIP, window: 60))
        let limiter = ConnectionLimiter(maxPerAddress: settings.limits.connectionsPerIP)
        let policies = (
            incoming: variant.policy(domains, settings.postmaster, .incoming),
            submission: variant.policy(domains, settings.postmaster, .submission))
        let deliverer = StoreDeliverer(store: store)

        // The outbound queue (DataDir/queue): submitted mail for other domains, and DSNs.
        let queueStore = try await QueueStore.open(directory: settings.dataDir + "/queue", now: Date())
        defer { queueStore.close() }
        var queueSettings = QueueSettings(settings.queue, hostname: settings.hostname.ascii)
        queueSettings.localRoutes = LocalRoutes(domains)
        variant.queue(&queueSettings)
        let resolver = try makeResolver(settings.resolver)
        let incoming = try variant.incomingAnalysis ? IncomingAnalysisServices(dataDir: settings.dataDir, resolver: resolver) : nil
        defer { incoming?.close() }
        let security = try variant.transportSecurity ? TransportSecurityServices(
            dataDir: settings.dataDir, resolver: resolver, recordTLSResults: settings.queue.recordTLSResults) : nil
        let queue = OutboundQueue(
            store: queueStore, settings: queueSettings,
            environment: QueueEnvironment(
                resolver: resolver, tlsPolicy: security?.tlsPolicy ?? .opportunistic, tlsResults: security?.tlsResults ?? .none,
                localDelivery: .store(deliverer: deliverer, policy: policies.submission, temporaryDirectory: store.temporaryDirectory)),
            logger: Logger(label: "queue"))
        let relayer = QueueRelayer(queue: queue, logger: Logger(label: "smtpserver"))
        // One for all IMAP listeners: per-account connection counts and \Recent are global.
        let imapShared = IMAPSharedState(maxConnectionsPerAccount: settings.limits.connectionsPerAccount)
        let imapLimiter = ConnectionLimiter(maxPerAddress: settings.limits.connectionsPerIP)

        // The operator's control socket (`tern queue`), owner only (DataDir/ctl).
        let control = try await UnixLineServer(
            path: settings.dataDir + "/" + QueueCommand.socketName, logger: Logger(label: "ctl"),
            oversizedResponse: QueueControl.oversizedResponse
        ) { await QueueControl.respond(to: $0, queue: queue) }.bind()
        var services: [any Service] = [queue, control]
        if let security { services.append(security.refresher) }
        let acme = try ACMECertificates(providers: settings.acme, dataDir: settings.dataDir, logger: logger)
        let policyHosts = Self.policyHosts(config.domains)
        let policyEndpoint = Self.policyEndpoint(domains: domains, mxHosts: settings.mxHosts)
        // RFC 8737 §3: the CA validates on 443, where the policies are served too (mox does
        // the same); on a shared port the policy server answers the validations.
        var sharedValidations: [String: ACMEChallengeCertificates] = [:]
        for listener in settings.listeners where listener.mtaSTSHTTPS.enabled {
            guard case let .acme(provider) = listener.tls, settings.acmeProvider(named: provider)?.port == listener.mtaSTSHTTPS.port else { continue }
            for ip in listener.ips.map(\.description) {
                sharedValidations["\(listener.name) \(ip)"] = try acme.validations(provider: provider, answeredOn: ip)
            }
        }
        for listener in settings.listeners {
            let hostname = listener.hostname?.ascii ?? settings.hostname.ascii
            let names = [hostname] + (Self.servesPolicies(listener, hostname: hostname, in: settings) ? policyHosts : [])
            let tls: NIOSSLContext?
            if case let .acme(provider) = listener.tls {
                tls = try await acme.context(provider: provider, hostnames: names, ips: listener.ips.map(\.description))
            } else {
                tls = try Self.tlsContext(listener.tls, hostnames: names)
            }
            for ip in listener.ips.map(\.description) {
                var kinds: [(Session.Kind, Int, implicitTLS: Bool, startTLS: Bool, plaintextAuth: Bool)] = []
                if listener.smtp.enabled { kinds.append((.incoming, listener.smtp.port, false, !listener.smtp.noSTARTTLS, false)) }
                if listener.submission.enabled {
                    let plaintext = listener.submission.noRequireSTARTTLS || listener.submission.plaintextAuthOnLoopback
                    kinds.append((.submission, listener.submission.port, false, true, plaintext))
                }
                if listener.submissions.enabled { kinds.append((.submission, listener.submissions.port, true, false, false)) }
                for kind in kinds {
                    var connection = ConnectionSettings(session: Session.Settings(kind: kind.0, hostname: hostname), temporaryDirectory: store.temporaryDirectory)
                    connection.tls = tls
                    connection.session.implicitTLS = kind.implicitTLS
                    connection.session.startTLSAvailable = kind.startTLS && tls != nil
                    connection.session.plaintextAuthAllowed = kind.plaintextAuth
                    connection.session.maxMessageSize = settings.limits.maxMessageSize
                    connection.session.maxRecipients = settings.limits.maxRecipients
                    connection.session.maxIdleCommands = settings.limits.maxCommandsBeforeMail
                    connection.maxLineLength = settings.limits.maxLineLength
                    connection.commandTimeout = Self.timeAmount(settings.limits.timeouts.smtpCommand)
                    connection.dataTimeout = Self.timeAmount(settings.limits.timeouts.smtpData)
                    connection.tlsHandshakeTimeout = Self.timeAmount(settings.limits.timeouts.tlsHandshake)
                    if kind.0 == .submission {
                        connection.authentication = authentication
                        connection.signing = signers.signing
                    }
                    if kind.0 == .incoming, let incoming { connection.analysis = incoming.analysis(hostname: hostname, domains: domains) }
                    var listenerLogger = Logger(label: "smtpserver")
                    listenerLogger[metadataKey: "listener"] = "\(listener.name)"
                    let bound = try await Listener(
                        settings: connection, policy: kind.0 == .submission ? policies.submission : policies.incoming, deliverer: deliverer,
                        relayer: kind.0 == .submission ? relayer : nil, limiter: limiter, logger: listenerLogger,
                        metrics: SMTPMetrics()
                    ).bind(host: ip, port: kind.1)
                    logger.info("listening", metadata: ["listener": "\(listener.name)", "address": "\(ip)", "port": "\(kind.1)"])
                    services.append(bound)
                }
                for (port, implicitTLS, plaintextLogin, enabled) in [
                    (listener.imap.port, false, listener.imap.noRequireSTARTTLS, listener.imap.enabled),
                    (listener.imaps.port, true, false, listener.imaps.enabled && tls != nil),
                ] where enabled {
                    var imapLimits = IMAPLimits()
                    imapLimits.maxConnectionsPerAddress = settings.limits.connectionsPerIP
                    imapLimits.maxConnectionsPerAccount = settings.limits.connectionsPerAccount
                    imapLimits.tlsHandshakeTimeout = Self.timeAmount(settings.limits.timeouts.tlsHandshake)
                    imapLimits.unauthenticatedTimeout = Self.timeAmount(settings.limits.timeouts.imapUnauthenticated)
                    imapLimits.commandTimeout = Self.timeAmount(settings.limits.timeouts.imapAuthenticated)
                    imapLimits.parser.maxAppendSize = UInt64(max(0, settings.limits.maxMessageSize))
                    let imapSettings = IMAPSettings(
                        hostname: hostname, tls: tls, implicitTLS: implicitTLS, plaintextLoginAllowed: plaintextLogin,
                        authentication: authentication, accountResolver: { try store.account($0) },
                        temporaryDirectory: store.temporaryDirectory, limits: imapLimits)
                    var imapLogger = Logger(label: "imapserver")
                    imapLogger[metadataKey: "listener"] = "\(listener.name)"
                    let bound = try await IMAPListener(settings: imapSettings, shared: imapShared, limiter: imapLimiter, logger: imapLogger)
                        .bind(host: ip, port: port)
                    logger.info("listening", metadata: ["listener": "\(listener.name)", "address": "\(ip)", "port": "\(port)", "service": "imap"])
                    services.append(bound)
                }
                if listener.metrics.enabled {
                    services.append(MetricsEndpoint.application(host: ip, port: listener.metrics.port) { metrics.render() })
                }
                if listener.mtaSTSHTTPS.enabled, let tls {
                    let termination: TLSTermination
                    if let validations = sharedValidations["\(listener.name) \(ip)"] {
                        termination = { try $0.addHandler(ACMEChallengeResponder(challenges: validations, tlsContext: tls)) }
                    } else {
                        termination = { try $0.addHandler(NIOSSLServerHandler(context: tls)) }
                    }
                    var httpLogger = Logger(label: "http")
                    httpLogger[metadataKey: "listener"] = "\(listener.name)"
                    services.append(policyEndpoint.application(host: ip, port: listener.mtaSTSHTTPS.port, tls: termination, logger: httpLogger))
                    logger.info(
                        "listening", metadata: ["listener": "\(listener.name)", "address": "\(ip)", "port": "\(listener.mtaSTSHTTPS.port)", "service": "mta-sts"])
                }
            }
        }
        services += acme.services
        let watcher = DomainsConfigWatcher(path: config.domainsPath, initial: config.domains, check: settings.domainsIssues)
        services.append(DomainsReloadService(watcher: watcher, domains: domains, signers: signers, store: store, logger: logger))

        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        variant.ready()
        do {
            try await group.run()
        } catch {
            await security?.shutdown()
            throw error
        }
        await security?.shutdown()
        logger.info("stopped")
    }

    /// Every listener's TLS: 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1;
    /// swift-nio-ssl would allow them), with the key log captured for SCRAM-*-PLUS channel
    /// binding (tls-exporter on TLS 1.3, tls-unique on TLS 1.2).
    static func serverContext(_ configuration: TLSConfiguration) throws -> NIOSSLContext {
        var configuration = configuration
        configuration.minimumTLSVersion = .tlsv12
        TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .server)
        return try NIOSSLContext(configuration: configuration)
    }

    static func serverContext(chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKey) throws -> NIOSSLContext {
        try serverContext(TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }

    /// The MTA-STS policies of the domains file in effect (reloads included), with the MX
    /// hosts of tern.yaml where a domain lists none.
    static func policyEndpoint(domains: DomainsHolder, mxHosts: [Domain]) -> MTASTSPolicyEndpoint {
        MTASTSPolicyEndpoint { name in
            guard let domain = try? Domain(name), let settings = domains.domains.settings(for: domain)?.mtaSTS else { return nil }
            return try? settings.policy(defaultMX: mxHosts).text
        }
    }

    /// The Policy Hosts (`mta-sts.<domain>`) of the domains with a policy, for certificates.
    /// (Taken at startup: a certificate manager's names are fixed.)
    static func policyHosts(_ domains: DomainsConfig) -> [String] {
        domains.domains.compactMap { $0.mtaSTS == nil ? nil : $0.mtaSTSPolicyHost?.ascii }
    }

    /// Whether the certificate of `listener` must name the Policy Hosts: it serves the
    /// policies, or shares its ACME certificate (same provider and host name, so the same
    /// files) with a listener that does.
    static func servesPolicies(_ listener: Config.Listener, hostname: String, in settings: StaticConfig) -> Bool {
        guard case let .acme(provider) = listener.tls else { return listener.mtaSTSHTTPS.enabled }
        return settings.listeners.contains { other in
            other.mtaSTSHTTPS.enabled && other.tls == .acme(provider) && (other.hostname?.ascii ?? settings.hostname.ascii) == hostname
        }
    }

    /// Contexts from files or self-signed for `hostnames` (ACME ones come from
    /// `ACMECertificates`).
    static func tlsContext(_ tls: ListenerTLS?, hostnames: [String]) throws -> NIOSSLContext? {
        switch tls {
        case nil:
            return nil
        case let .keyCerts(pairs):
            guard let first = pairs.first else { return nil }
            let chain = try NIOSSLCertificate.fromPEMFile(first.certFile).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: first.keyFile, format: .pem)
            return try serverContext(chain: chain, key: key)
        case .selfSigned:
            let certificate = try SelfSignedCertificate(hostnames: hostnames)
            return try serverContext(
                chain: [.certificate(NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
                key: NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der))
        case .acme:
            throw ValidationError("internal: ACME certificates are set up by ACMECertificates")
        }
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        let parts = duration.components
        return .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }
}

/// What `localserve` changes in `serve`.
struct ServerVariant {
    /// Decides about recipients and senders, per kind of listener.
    var policy: (DomainsHolder, Postmaster, Session.Kind) -> any SessionPolicy
    /// Adjusts the queue settings made from tern.yaml.
    var queue: (inout QueueSettings) -> Void = { _ in }
    /// Direct delivery follows DANE and MTA-STS; off where nothing is delivered directly.
    var transportSecurity = true
    /// Mail from other servers gets SPF, iprev and an Authentication-Results field; off where
    /// the only senders are local test clients whose DNS says nothing.
    var incomingAnalysis = true
    /// Called once everything is open and every listener bound, just before the services
    /// run and SIGTERM/SIGINT start meaning a graceful stop.
    var ready: () -> Void = {}
}

/// Every account of the domains file has its store account, with the file's QuotaBytes.
func createAccounts(_ domains: DomainsConfig, in store: Store, logger: Logger) async throws {
    let existing = Set(store.accountNames())
    for account in domains.accounts {
        let stored = existing.contains(account.name) ? try store.account(account.name) : try store.createAccount(account.name)
        if !existing.contains(account.name) { logger.info("account created", metadata: ["account": "\(account.name)"]) }
        stored.quotaBytes = account.quotaBytes.map(Int64.init)
    }
}

/// The domains configuration in effect, replaced when domains.yaml changes. Sessions read it
/// synchronously (a lock, not an actor: `SessionPolicy` is synchronous by design).
final class DomainsHolder: Sendable {
    private let current: Mutex<DomainsConfig>
    init(_ domains: DomainsConfig) { current = Mutex(domains) }
    var domains: DomainsConfig { current.withLock { $0 } }
    func replace(_ domains: DomainsConfig) { current.withLock { $0 = domains } }
}

/// Recipients and senders by the domains file: subaddressing, case rules and catch-alls are
/// the Config module's resolution.
struct ConfigPolicy: SessionPolicy {
    let domains: DomainsHolder
    let postmaster: Postmaster

    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        guard case let .mailbox(mailbox) = recipient else {
            return .local(account: postmaster.account, mailbox: postmaster.mailbox)
        }
        switch domains.domains.resolveRecipient("\(mailbox.localPart)@\(mailbox.domain)", postmaster: postmaster) {
        case let .local(local): return .local(account: local.account, mailbox: local.mailbox)
        case .noSuchUser, .invalidAddress: return .unknownUser
        case .notLocalDomain: return .remote
        }
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool {
        guard let mailbox = sender.mailbox else { return false }
        return domains.domains.accountName(forAddress: "\(mailbox.localPart)@\(mailbox.domain)") == account
    }
}

/// Logins are an account's email addresses, or its name; the credentials are the domains
/// file's SCRAM keys (RFC 5803) and, where the account enables it, its CRAM-MD5 secret.
struct ConfigCredentials: CredentialSource {
    let domains: DomainsHolder

    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        let config = domains.domains
        let name = username.contains("@") ? config.accountName(forAddress: username) : username
        guard let name, let account = config.account(named: name) else { return nil }
        return (name, SASLStoredCredentials(
            scramSHA1: account.passwords.first { $0.hash == .sha1 },
            scramSHA256: account.passwords.first { $0.hash == .sha256 },
            cramMD5: account.cramMD5Secret.map { CRAMMD5Key(password: $0) }))
    }
}

/// Applies valid changes of domains.yaml; logs the errors of invalid ones.
struct DomainsReloadService: Service {
    let watcher: DomainsConfigWatcher
    let domains: DomainsHolder
    let signers: DomainSigners
    let store: Store
    let logger: Logger

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await watcher.run() }
            for await event in watcher.events.cancelOnGracefulShutdown() {
                switch event {
                case let .applied(config):
                    domains.replace(config)
                    for problem in signers.apply(config) {
                        logger.error(
                            "DKIM key not applied, the domain keeps its previous signing",
                            metadata: ["domain": "\(problem.domain)", "selector": "\(problem.selector)", "error": "\(problem)"])
                    }
                    try await createAccounts(config, in: store, logger: logger)
                    logger.info("domains configuration reloaded", metadata: ["accounts": "\(config.accounts.count)"])
                case let .rejected(errors):
                    for error in errors { logger.error("domains configuration not applied", metadata: ["error": "\(error)"]) }
                case .unchanged:
                    break
                }
            }
            group.cancelAll()
        }
    }
}
