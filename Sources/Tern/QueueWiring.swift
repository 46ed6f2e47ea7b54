import Config
import DMARCStore
import DNS
import Foundation
import Logging
import MTASTS
import MTASTSCache
import Message
import NIOSSL
import PublicSuffix
import Queue
import SASL
import SMTP
import SMTPClient
import SMTPServer
import Store
import TLSRPTStore
import X509

/// Submission's seam to the outbound queue: the 250 goes out only after `enqueue` returned,
/// that is after the queue fsynced the file and committed its records.
struct QueueRelayer: MessageRelayer {
    let queue: OutboundQueue
    let logger: Logger

    func relay(messageFile: String, envelope: Envelope, recipients: [Mailbox]) async -> Session.DeliveryResult {
        let submission = Queue.Submission(
            sender: envelope.sender, account: envelope.authenticatedAccount, recipients: recipients, content: .file(messageFile),
            body: envelope.parameters.body ?? .sevenBit, utf8Header: envelope.parameters.smtputf8,
            // RFC 8689 §4.2: REQUIRETLS stays with the message to every next hop.
            requireTLS: envelope.parameters.requireTLS, ignoreTLSPolicy: envelope.ignoreTLSPolicy,
            releaseAt: envelope.futureRelease?.releaseAt, futureReleaseRequest: envelope.futureRelease?.request)
        do {
            let records = try await queue.enqueue(submission)
            return .delivered(id: records.map { "q\($0.id)" }.joined(separator: ","))
        } catch {
            logger.error("queueing a submitted message failed", metadata: ["error": "\(error)"])
            return .temporaryFailure("the message could not be queued")
        }
    }
}

extension QueueSettings {
    /// The queue's settings from tern.yaml's Queue section. The routes of domains and
    /// accounts are not in it: they come from the domains file in effect (`LocalRoutes`).
    init(_ config: QueueConfig, hostname: String) {
        var transports: [String: Transport] = [:]
        for transport in config.transports {
            switch transport.kind {
            case let .relay(relay):
                transports[transport.name] = .relay(RelayTransport(relay))
            case let .socks(socks):
                // Direct delivery through the proxy: the MX hosts' port is Queue.DirectPort.
                transports[transport.name] = .socks(SOCKSTransport(
                    proxyHost: socks.host, proxyPort: socks.port,
                    credentials: socks.auth.map { SOCKS5Credentials(username: $0.username, password: $0.password) },
                    remoteIPs: socks.remoteIPs, hostname: socks.hostname.ascii, port: config.directPort))
            }
        }
        // Direct delivery on another port than 25 (tests, private networks): the queue takes
        // a transport named "direct" as the default; the config refuses that name otherwise.
        if config.directPort != DirectTransport().port {
            transports[QueueSettings.directTransportName] = .direct(DirectTransport(port: config.directPort))
        }
        let retry = RetryPolicy(
            firstDelay: Self.seconds(config.firstRetryInterval), maximumAge: Self.seconds(config.maximumAge),
            delayedDSNAfterAttempts: config.delayedDSNAfterAttempts)
        self.init(hostname: hostname, retry: retry, routes: config.routes.map(Route.init), transports: transports, concurrency: config.concurrency)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}

extension RelayTransport {
    init(_ config: RelayConfig) {
        let security: RelayTransport.Security
        switch config.security {
        case .startTLS: security = .requireSTARTTLS
        case .implicitTLS: security = .implicitTLS
        case .opportunistic: security = .opportunisticSTARTTLS
        }
        self.init(
            host: config.host, port: config.port, security: security,
            authentication: config.auth.map {
                ClientAuthentication(
                    credentials: SASLClientCredentials(username: $0.username, password: $0.password),
                    allowedMechanisms: $0.mechanisms.isEmpty ? Set(SASLMechanism.allCases) : Set($0.mechanisms))
            },
            ignoreVerificationErrors: config.ignoreVerificationErrors)
    }
}

extension Route {
    init(_ config: RouteConfig) {
        self.init(
            senderDomains: config.senderDomains, recipientDomains: config.recipientDomains, minimumAttempt: config.minimumAttempt,
            transport: config.transport)
    }
}

extension LocalRoutes {
    /// The routes of accounts and domains in the domains file in effect when asked, so a
    /// reload applies from the next attempt on.
    init(_ domains: DomainsHolder) {
        self.init(
            account: { name in domains.domains.account(named: name)?.routes.map(Route.init) ?? [] },
            domain: { name in
                guard let domain = try? Domain(name) else { return [] }
                return domains.domains.settings(for: domain)?.routes.map(Route.init) ?? []
            })
    }
}

extension LocalDelivery {
    /// Delivery into the Store the way a submission's local recipients get it
    /// (`deliverer`, normally the `StoreDeliverer`), with addresses resolved by `policy` at
    /// delivery time: an account removed meanwhile is a permanent failure (RFC 3463 X.1.1),
    /// a full mailbox a temporary one.
    static func store(deliverer: any MessageDeliverer, policy: any SessionPolicy, temporaryDirectory: String) -> LocalDelivery {
        LocalDelivery(
            servesDomain: { domain in
                policy.resolve(.mailbox(Mailbox(localPart: "postmaster", domain: domain))) != .remote
            },
            deliver: { message in
                var outcomes = message.recipients.map { _ in RecipientOutcome.delivered }
                var resolved: [(index: Int, recipient: Recipient)] = []
                for (index, mailbox) in message.recipients.enumerated() {
                    switch policy.resolve(.mailbox(mailbox)) {
                    case let .local(account, name):
                        resolved.append((index, Recipient(address: .mailbox(mailbox), account: account, mailbox: name)))
                    case .unknownUser:
                        outcomes[index] = .failed(DeliveryFailure(status: "5.1.1", isPermanent: true, diagnostic: "no such user here anymore"))
                    case .remote:
                        outcomes[index] = .failed(DeliveryFailure(status: "4.3.5", isPermanent: false, diagnostic: "the domain is no longer served here"))
                    case let .refused(reply):
                        outcomes[index] = .failed(DeliveryFailure(reply))
                    case .unanswered:
                        outcomes[index] = .failed(DeliveryFailure(status: "4.4.1", isPermanent: false, diagnostic: "local delivery did not answer"))
                    }
                }
                guard !resolved.isEmpty else { return outcomes }
                var parameters = MailParameters()
                parameters.requireTLS = message.requireTLS
                let envelope = Envelope(
                    clientName: "", sender: message.sender, recipients: resolved.map(\.recipient), parameters: parameters,
                    size: (try? FileManager.default.attributesOfItem(atPath: message.path)[.size] as? Int) ?? 0, tls: false, kind: .submission)
                // The deliverer takes its file over; the queue keeps its own.
                let link = temporaryDirectory + "/queue-" + UUID().uuidString
                let result: Session.DeliveryResult
                do {
                    try FileManager.default.linkItem(atPath: message.path, toPath: link)
                    result = await deliverer.deliver(messageFile: link, envelope: envelope)
                } catch {
                    result = .temporaryFailure("the queued message could not be linked for delivery: \(error)")
                }
                let failure: DeliveryFailure
                switch result {
                case .delivered: return outcomes
                case let .rejected(reply): failure = DeliveryFailure(reply)
                case let .temporaryFailure(reason): failure = DeliveryFailure(status: "4.3.0", isPermanent: false, diagnostic: reason)
                }
                for entry in resolved { outcomes[entry.index] = .failed(failure) }
                return outcomes
            })
    }
}

extension DeliveryFailure {
    /// A reply of this server's own local delivery.
    init(_ reply: Reply) {
        self.init(
            replyCode: reply.code, enhanced: reply.enhanced, text: reply.lines.joined(separator: " "), isPermanent: reply.code >= 500,
            remoteMTA: nil)
    }
}

/// The resolver `serve` asks: tern.yaml's Resolver, else the servers of /etc/resolv.conf.
func makeResolver(_ server: String?) throws -> StubResolver {
    if let server {
        return StubResolver(configuration: StubResolverConfiguration(servers: [try StubResolverConfiguration.parseServer(server)]))
    }
    let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
    return StubResolver(configuration: StubResolverConfiguration.fromResolvConf(text))
}

/// What direct delivery's DANE and MTA-STS need on `serve`: the MTA-STS policy cache
/// (DataDir/mtasts.db) with its HTTPS fetcher and refresher, the TLS policy over them, and
/// the TLS report results store (DataDir/tlsrpt.db) unless the operator turned it off.
struct TransportSecurityServices {
    let tlsPolicy: TLSPolicy
    let tlsResults: TLSResultRecorder
    let refresher: PolicyRefresher
    private let cache: PolicyCache
    private let fetcher: HTTPSPolicyFetcher
    private let resultStore: TLSRPTStore?

    /// Test only: `TERN_MTASTS_TRUST_ROOT`, a PEM CA certificate trusted, instead of the
    /// system's roots, for MTA-STS policies' HTTPS and for MX certificates (a test's own CA).
    static let testTrustRootVariable = "TERN_MTASTS_TRUST_ROOT"

    /// The TLS report results database in the data directory.
    static func resultStorePath(dataDir: String) -> String { dataDir + "/tlsrpt.db" }

    init(dataDir: String, resolver: any DNS.Resolver, recordTLSResults: Bool) throws {
        let logger = Logger(label: "mtasts")
        var configuration = HTTPSPolicyFetcher.Configuration()
        var trustRoots = PKIXVerification.TrustRoots.system
        if let path = ProcessInfo.processInfo.environment[Self.testTrustRootVariable] {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            configuration.additionalTrustRoots = try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8))
            trustRoots = .certificates([try Certificate(pemEncoded: pem)])
            logger.warning("test trust root in use for MTA-STS", metadata: ["file": "\(path)"])
        }
        fetcher = try HTTPSPolicyFetcher(configuration: configuration)
        cache = try PolicyCache(path: dataDir + "/mtasts.db", resolver: resolver, fetcher: fetcher, logger: logger)
        refresher = PolicyRefresher(cache: cache)
        let cache = cache
        tlsPolicy = .secure(
            stsPolicy: { domain in
                guard let name = try? Domain(domain) else { return nil }
                do {
                    let lookup = try await cache.get(name)
                    logger.debug("MTA-STS policy", metadata: ["domain": "\(domain)", "lookup": "\(lookup)"])
                    return lookup
                } catch {
                    // The cache's own database failed: deliver as without a policy, loudly.
                    logger.error("MTA-STS policy cache failed", metadata: ["domain": "\(domain)", "error": "\(error)"])
                    return nil
                }
            },
            resolver: resolver, now: { Date() }, trustRoots: trustRoots)
        resultStore = recordTLSResults ? try TLSRPTStore.open(path: Self.resultStorePath(dataDir: dataDir)) : nil
        tlsResults = resultStore.map { store in
            let logger = Logger(label: "tlsrpt")
            return TLSResultRecorder { results in
                for result in results {
                    do {
                        try await store.add(
                            [result.result], policyDomain: result.policyDomain, recipientDomain: result.recipientDomain, isHost: result.isHost,
                            at: Date())
                    } catch {
                        // Statistics: a lost count is logged, delivery goes on.
                        logger.error("storing a TLS report result failed", metadata: ["domain": "\(result.policyDomain)", "error": "\(error)"])
                    }
                }
            }
        } ?? .none
    }

    func shutdown() async {
        try? await fetcher.shutdown()
        cache.close()
        resultStore?.close()
    }
}

/// What the verdicts on incoming mail need on `serve`: the public suffix list (DMARC's
/// organizational domains) and the store of DMARC evaluations for aggregate reports
/// (DataDir/dmarc.db).
struct IncomingAnalysisServices {
    let resolver: any DNS.Resolver
    let publicSuffixList: PublicSuffixList
    private let dmarcStore: DMARCStore

    init(dataDir: String, resolver: any DNS.Resolver) throws {
        self.resolver = resolver
        publicSuffixList = try PublicSuffixList.shipped()
        dmarcStore = try DMARCStore.open(path: dataDir + "/dmarc.db")
    }

    /// `domains`: the configuration in effect, for the operator's DMARC exceptions.
    func analysis(hostname: String, domains: DomainsHolder) -> IncomingAnalysis {
        let store = dmarcStore
        let logger = Logger(label: "dmarc")
        return IncomingAnalysis(
            hostname: hostname, resolver: resolver, publicSuffixList: publicSuffixList,
            recordDMARC: { evaluation, input in
            for one in evaluation.evaluations {
                do {
                    // RFC 7489 Appendix C: envelope_from is the MAIL FROM domain.
                    _ = try await store.add(
                        one, sourceIP: input.clientAddress, envelopeFrom: input.sender.mailbox?.domain ?? "", envelopeTo: input.recipientDomain,
                        at: Date())
                } catch {
                    // Report data: a lost evaluation is logged, the delivery goes on.
                    logger.error("storing a DMARC evaluation failed", metadata: ["domain": "\(one.authorDomain.ascii)", "error": "\(error)"])
                }
            }
        }, acceptDMARCRejects: { domains.domains.acceptDMARCRejects[$0] })
    }

    func close() {
        dmarcStore.close()
    }
}
