import Config
import DNS
import Foundation
import Logging
import Message
import Queue
import SASL
import SMTP
import SMTPClient
import SMTPServer
import Store

/// Submission's seam to the outbound queue: the 250 goes out only after `enqueue` returned,
/// that is after the queue fsynced the file and committed its records.
struct QueueRelayer: MessageRelayer {
    let queue: OutboundQueue
    let logger: Logger

    func relay(messageFile: String, envelope: Envelope) async -> Session.DeliveryResult {
        let submission = Queue.Submission(
            sender: envelope.sender, recipients: envelope.remoteRecipients, content: .file(messageFile),
            body: envelope.parameters.body ?? .sevenBit, utf8Header: envelope.parameters.smtputf8,
            // RFC 8689 §4.2: REQUIRETLS stays with the message to every next hop.
            requireTLS: envelope.parameters.requireTLS)
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
    /// The queue's settings from tern.yaml's Queue section.
    init(_ config: QueueConfig, hostname: String) {
        var transports: [String: Transport] = [:]
        for transport in config.transports {
            let security: RelayTransport.Security
            switch transport.security {
            case .startTLS: security = .requireSTARTTLS
            case .implicitTLS: security = .implicitTLS
            case .opportunistic: security = .opportunisticSTARTTLS
            }
            transports[transport.name] = .relay(RelayTransport(
                host: transport.host, port: transport.port, security: security,
                authentication: transport.auth.map { ClientAuthentication(credentials: SASLClientCredentials(username: $0.username, password: $0.password)) },
                ignoreVerificationErrors: transport.ignoreVerificationErrors))
        }
        // Direct delivery on another port than 25 (tests, private networks): the queue takes
        // a transport named "direct" as the default; the config refuses that name otherwise.
        if config.directPort != DirectTransport().port {
            transports[QueueSettings.directTransportName] = .direct(DirectTransport(port: config.directPort))
        }
        let retry = RetryPolicy(
            firstDelay: Self.seconds(config.firstRetryInterval), maximumAge: Self.seconds(config.maximumAge),
            delayedDSNAfterAttempts: config.delayedDSNAfterAttempts)
        self.init(
            hostname: hostname, retry: retry,
            routes: config.routes.map {
                Route(senderDomains: $0.senderDomains, recipientDomains: $0.recipientDomains, minimumAttempt: $0.minimumAttempt, transport: $0.transport)
            },
            transports: transports, concurrency: config.concurrency)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}

extension DSNDelivery {
    /// DSNs to senders whose address is local (by `policy`) go into their mailbox through
    /// the Store, durably, like any delivery; others are queued (RFC 3464 §2).
    static func store(_ store: Store, policy: any SessionPolicy) -> DSNDelivery {
        DSNDelivery(
            isLocal: { mailbox in
                if case .local = policy.resolve(.mailbox(mailbox)) { return true }
                return false
            },
            deliverLocally: { _, to, bytes in
                guard case let .local(account, mailbox) = policy.resolve(.mailbox(to)) else {
                    throw StoreError.noSuchAccount("\(to)")
                }
                let path = store.temporaryDirectory + "/dsn-" + UUID().uuidString
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                defer { try? FileManager.default.removeItem(atPath: path) }
                let parsed = try ParsedMessage.parse(FileSource(path: path))
                _ = try await store.deliver(
                    IncomingMessage(file: path, receivedAt: Date(), parsed: parsed), to: [DeliveryRecipient(account: account, mailbox: mailbox)])
            })
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
