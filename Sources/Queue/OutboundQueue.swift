// Queue: Tern's outbound queue, which delivers messages to other domains and to relays.
//
// Flow of a message:
//
//   enqueue ─▶ file written + fsynced, msg/ fsynced, records committed (QueueStore) ─▶ 250
//     ─▶ due: the runner groups due records by (domain, transport, REQUIRETLS), up to
//        `messagesPerConnection` each, and runs up to `concurrency` groups at once
//     ─▶ beginAttempt: the attempt is counted and the record marked in progress, durably
//     ─▶ transport, per attempt: the record's own (set by the operator), else the first
//        matching route (sender domain, recipient domain, minimum attempt) of the account
//        that submitted it, then of the sender's domain (both read from the configuration
//        in effect at that attempt, `LocalRoutes`), then of the global ones; else direct
//     ─▶ direct: MX hosts in order (RFC 5321 §5.1; SMTPClient's Dialing), each host's
//        addresses; TLS settings from the TLS policy seam per host (opportunistic STARTTLS
//        now; MTA-STS and DANE will decide here; REQUIRETLS demands verified TLS, RFC 8689)
//        socks: the same, with each connection made by a SOCKS5 proxy (RFC 1928, RFC 1929)
//        and the proxy's host name in EHLO
//        relay: the configured host, STARTTLS or implicit TLS, AUTH (RFC 4954)
//     ─▶ one connection carries every message of the group (RFC 5321 §3.3); a host that
//        cannot be reached passes them on to the next address or host
//     ─▶ per recipient (Scheduling.plan, pure): delivered ─▶ done; 5xx ─▶ failed, DSN;
//        4xx or unreachable ─▶ retried after the backoff (RFC 5321 §4.5.4.1), a delayed
//        DSN once after `delayedDSNAfterAttempts`; after `maximumAge` ─▶ given up, DSN
//     ─▶ DSN (RFC 3464) to the sender, never for a null reverse-path (RFC 5321 §4.5.5,
//        §6.1): queued with MAIL FROM:<> like any message
//     ─▶ records for a domain served here (DSNs to local senders, and local recipients of
//        a submission held for future release, RFC 4865) go through `LocalDelivery` into
//        the Store instead of a transport
//     ─▶ finishAttempt: new recipient states and next attempt committed, or the record
//        (and its file, once unused) removed
//
// The parts: `Scheduling` decides (backoff, transitions, DSNs, no I/O); `Route` picks
// transports; `QueueStore` keeps records and files; `Attempt` talks SMTP through
// SMTPClient; `OutboundQueue` runs attempts (a swift-service-lifecycle `Service`) and is
// the operator's API (hold, release, kick, drop, change transport). Time, randomness and
// DNS come in through `QueueEnvironment`, so tests advance a clock instead of waiting.
//
// After a crash, records that were in progress are due again at once (QueueStore.open);
// a recipient whose 250 arrived just before the crash is then delivered twice, which SMTP
// prefers to losing the message (RFC 5321 §6.1).
import DNS
import DurableFiles
import Foundation
import Logging
import NIOCore
import NIOPosix
import SMTP
import SMTPClient
import ServiceLifecycle
import Synchronization

/// The queue's settings, handed over by the executable from the configuration.
public struct QueueSettings: Sendable {
    /// This host's name: said in EHLO and written as the DSNs' Reporting-MTA.
    public var hostname: String
    public var retry: RetryPolicy
    /// The global routes, evaluated after those of the submitting account and of the
    /// sender's domain (`localRoutes`).
    public var routes: [Route]
    public var localRoutes: LocalRoutes
    /// Transports by name, for routes and the operator. The name "direct" may be given to
    /// change the default transport (e.g. its port); without it, direct delivery on port 25.
    public var transports: [String: Transport]
    /// Groups of messages delivered at the same time.
    public var concurrency: Int
    /// Messages sent over one connection in one attempt.
    public var messagesPerConnection: Int
    public var timeouts: Timeouts

    public init(
        hostname: String, retry: RetryPolicy = RetryPolicy(), routes: [Route] = [], localRoutes: LocalRoutes = .none,
        transports: [String: Transport] = [:], concurrency: Int = 8, messagesPerConnection: Int = 20, timeouts: Timeouts = Timeouts()
    ) {
        self.hostname = hostname
        self.retry = retry
        self.routes = routes
        self.localRoutes = localRoutes
        self.transports = transports
        self.concurrency = max(1, concurrency)
        self.messagesPerConnection = max(1, messagesPerConnection)
        self.timeouts = timeouts
    }

    public static let directTransportName = "direct"

    func transport(named name: String) -> Transport? {
        if let transport = transports[name] { return transport }
        return name == Self.directTransportName ? .direct(DirectTransport()) : nil
    }

    /// The name of the transport for `message` at attempt `attempt` (1 is the first): the
    /// operator's choice, else the first matching route of the submitting account, of the
    /// sender's domain, then of the global ones; else direct delivery.
    public func transportName(for message: QueuedMessage, attempt: Int) -> String {
        if let transport = message.transport { return transport }
        let senderDomain = message.sender.mailbox?.domain
        let routes = (message.account.map(localRoutes.account) ?? []) + (senderDomain.map(localRoutes.domain) ?? []) + routes
        return Route.select(routes, senderDomain: senderDomain, recipientDomain: message.domain, attempt: attempt) ?? Self.directTransportName
    }
}

/// What the queue takes from the world, injected so tests are exact.
public struct QueueEnvironment: Sendable {
    public var now: @Sendable () -> Date
    /// Uniform random 64-bit values: backoff jitter, MX order within a preference, DSN ids.
    public var random: @Sendable () -> UInt64
    public var resolver: any DNS.Resolver
    /// Waits between runs of the delivery loop.
    public var sleep: @Sendable (Duration) async throws -> Void
    public var tlsPolicy: TLSPolicy
    /// Where direct delivery's TLS report results go (RFC 8460).
    public var tlsResults: TLSResultRecorder
    public var localDelivery: LocalDelivery
    public var group: any EventLoopGroup

    public init(
        resolver: any DNS.Resolver, now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        tlsPolicy: TLSPolicy = .opportunistic, tlsResults: TLSResultRecorder = .none, localDelivery: LocalDelivery = .none,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.now = now
        self.random = random
        self.resolver = resolver
        self.sleep = sleep
        self.tlsPolicy = tlsPolicy
        self.tlsResults = tlsResults
        self.localDelivery = localDelivery
        self.group = group
    }
}

/// The outbound queue: the operator's API over `QueueStore` and the delivery loop.
public final class OutboundQueue: Sendable {
    public let store: QueueStore
    let settings: QueueSettings
    private let environment: QueueEnvironment
    private let metrics: QueueMetrics
    let logger: Logger
    private let events: AsyncStream<Event>
    private let signal: AsyncStream<Event>.Continuation

    enum Event: Sendable {
        /// Something became due: an enqueue, a kick, a release.
        case wake
        /// The wait for the next due record ended.
        case timer
        /// A group of messages finished its attempt.
        case finished
        case shutdown
    }

    /// The longest the loop sleeps without looking at the queue again, so a jump of the
    /// wall clock is noticed.
    static let maximumSleep: TimeInterval = 300

    public init(
        store: QueueStore, settings: QueueSettings, environment: QueueEnvironment, metrics: QueueMetrics = QueueMetrics(),
        logger: Logger = Logger(label: "queue")
    ) {
        self.store = store
        self.settings = settings
        self.environment = environment
        self.metrics = metrics
        self.logger = logger
        (events, signal) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    // MARK: Operator API

    /// Queues a message durably; when it returns, the submission may be acknowledged.
    @discardableResult
    public func enqueue(_ submission: Submission) async throws -> [QueuedMessage] {
        let records = try await store.enqueue(submission, now: environment.now())
        for record in records {
            logger.info("message queued", metadata: [
                "msgid": "\(record.id)", "domain": "\(record.domain)", "recipients": "\(record.recipients.count)", "size": "\(record.size)",
            ])
        }
        signal.yield(.wake)
        return records
    }

    public func list(_ filter: QueueFilter = QueueFilter()) async throws -> [QueuedMessage] {
        try await store.list(filter)
    }

    @discardableResult
    public func hold(_ filter: QueueFilter) async throws -> Int {
        try await store.hold(filter)
    }

    @discardableResult
    public func release(_ filter: QueueFilter) async throws -> Int {
        defer { signal.yield(.wake) }
        return try await store.release(filter)
    }

    /// Retry now.
    @discardableResult
    public func kick(_ filter: QueueFilter) async throws -> Int {
        defer { signal.yield(.wake) }
        return try await store.kick(filter, now: environment.now())
    }

    @discardableResult
    public func drop(_ filter: QueueFilter) async throws -> Int {
        let count = try await store.drop(filter)
        logger.info("messages dropped", metadata: ["count": "\(count)"])
        return count
    }

    /// Sends the matching messages through the named transport from their next attempt on;
    /// nil returns them to the routes.
    @discardableResult
    public func changeTransport(_ filter: QueueFilter, to transport: String?) async throws -> Int {
        if let transport, settings.transport(named: transport) == nil { throw QueueError.unknownTransport(transport) }
        return try await store.changeTransport(filter, to: transport)
    }

    /// REQUIRETLS on or off, or the recipients' TLS policies ignored, from the next attempt on.
    @discardableResult
    public func changeTLSRequirement(_ filter: QueueFilter, to requirement: TLSRequirement) async throws -> Int {
        try await store.changeTLSRequirement(filter, to: requirement)
    }

    /// The transports an operator may name: the configured ones and "direct".
    public var transportNames: [String] {
        Set(settings.transports.keys).union([QueueSettings.directTransportName]).sorted()
    }

    // MARK: Running attempts

    /// One group of records, attempted together.
    struct Batch: Sendable {
        /// For logs and metrics: the transport's name, or `localTransportName`.
        var transportName: String
        /// Into the Store through `LocalDelivery`, not over SMTP.
        var local = false
        var messages: [QueuedMessage]
    }

    /// How logs and metrics name delivery into this server's own mailboxes.
    static let localTransportName = "local"

    /// Starts attempts for due records, at most `limit` groups, skipping `excluding`.
    func startBatches(limit: Int, excluding: Set<Int64> = []) async throws -> [Batch] {
        guard limit > 0 else { return [] }
        let now = environment.now()
        let due = try await store.due(at: now).filter { !excluding.contains($0.id) }
        var order: [String] = []
        var groups: [String: Batch] = [:]
        for message in due {
            let local = environment.localDelivery.servesDomain(message.domain)
            let name = local ? Self.localTransportName : settings.transportName(for: message, attempt: message.attempts + 1)
            // Two words for local batches, four for the others: the kinds never share a key.
            let key = local ? "\(message.domain) local" : "\(message.domain) \(name) \(message.demandsVerifiedTLS) \(message.ignoreTLSPolicy)"
            if var batch = groups[key] {
                guard batch.messages.count < settings.messagesPerConnection else { continue }
                batch.messages.append(message)
                groups[key] = batch
            } else {
                guard order.count < limit else { continue }
                order.append(key)
                groups[key] = Batch(transportName: name, local: local, messages: [message])
            }
        }
        var batches: [Batch] = []
        for key in order {
            guard var batch = groups[key] else { continue }
            batch.messages = try await store.beginAttempt(batch.messages.map(\.id), now: now)
            if !batch.messages.isEmpty { batches.append(batch) }
        }
        return batches
    }

    /// Runs one group's attempt and records its outcome.
    func deliver(_ batch: Batch) async {
        var logger = logger
        logger[metadataKey: "domain"] = "\(batch.messages.first?.domain ?? "")"
        logger[metadataKey: "transport"] = "\(batch.transportName)"
        var results: [Int64: MessageAttemptResult] = [:]
        if batch.local {
            for message in batch.messages {
                let pending = message.pending
                let outcomes = await environment.localDelivery.deliver(LocalDelivery.Request(
                    sender: message.sender, recipients: pending.map(\.address), path: store.path(forFile: message.fileID), requireTLS: message.requireTLS))
                results[message.id] = MessageAttemptResult(outcomes: Dictionary(uniqueKeysWithValues: zip(pending.map(\.id), outcomes)))
            }
        } else if let transport = settings.transport(named: batch.transportName) {
            let store = store
            let context = AttemptContext(
                hostname: settings.hostname, timeouts: settings.timeouts, resolver: environment.resolver, tlsPolicy: environment.tlsPolicy,
                tlsResults: environment.tlsResults, metrics: metrics, now: environment.now, random: environment.random, group: environment.group,
                logger: logger, path: { store.path(forFile: $0) })
            results = await Attempt.run(batch.messages, transport: transport, context: context)
        } else {
            // The configuration lost the transport the record names: wait for the operator.
            let failure = DeliveryFailure(status: "4.3.5", isPermanent: false, diagnostic: "no transport named \(batch.transportName)")
            for message in batch.messages { results[message.id] = MessageAttemptResult(failure: failure) }
        }
        for message in batch.messages {
            await finish(message, result: results[message.id] ?? MessageAttemptResult(), transport: batch.transportName, logger: logger)
        }
    }

    private func finish(_ message: QueuedMessage, result: MessageAttemptResult, transport: String, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "msgid"] = "\(message.id)"
        logger[metadataKey: "attempt"] = "\(message.attempts)"
        let now = environment.now()
        var plan = Scheduling.plan(
            message, outcomes: result.outcomes, attemptFailure: result.failure, now: now, policy: settings.retry, random: randomFraction())
        if let dsn = plan.dsn {
            do {
                try await sendDSN(dsn, for: message, now: now)
            } catch {
                logger.error("cannot send DSN; the recipients stay queued", metadata: ["error": "\(error)"])
                let retryAt = now.addingTimeInterval(Scheduling.delay(afterAttempt: message.attempts, policy: settings.retry, random: randomFraction()))
                plan = Scheduling.unreported(plan, original: message, retryAt: retryAt)
            }
        }
        for (before, after) in zip(message.recipients, plan.recipients) where before.state == .pending {
            switch after.state {
            case .delivered:
                metrics.countDelivery(.delivered, transport: transport)
                logger.info("delivered", metadata: ["rcpt": "\(after.address)"])
            case .failed:
                metrics.countDelivery(.failed, transport: transport)
                logger.info("delivery failed", metadata: [
                    "rcpt": "\(after.address)", "error": "\(after.lastFailure?.diagnostic ?? "")", "gaveup": "\(plan.gaveUp)",
                ])
            case .pending:
                metrics.countDelivery(.tempfail, transport: transport)
                logger.info("delivery deferred", metadata: ["rcpt": "\(after.address)", "error": "\(after.lastFailure?.diagnostic ?? "")"])
            }
        }
        do {
            try await store.finishAttempt(message, plan: plan)
        } catch {
            // The record stays in progress; the next start makes it due again.
            logger.error("cannot record delivery attempt", metadata: ["error": "\(error)"])
        }
    }

    private func sendDSN(_ plan: DSNPlan, for message: QueuedMessage, now: Date) async throws {
        let path = store.path(forFile: message.fileID)
        let original = try await blockingIO { () throws -> [UInt8] in
            Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        var random = InjectedRandom(next: environment.random)
        let bytes = try Notifications.compose(plan, message: message, original: original, reportingMTA: settings.hostname, now: now, using: &random)
        // RFC 8689 §5: the bounce of a REQUIRETLS message asks for REQUIRETLS too.
        try await enqueue(Submission(
            sender: .null, recipients: [plan.recipient], content: .bytes(bytes), utf8Header: message.utf8Header, requireTLS: message.requireTLS))
        logger.info("DSN sent", metadata: ["msgid": "\(message.id)", "to": "\(plan.recipient)", "entries": "\(plan.entries.count)"])
    }

    private func randomFraction() -> Double {
        Double(environment.random() >> 11) / Double(1 << 53)
    }

    /// Attempts every record due now, each at most once, `concurrency` groups at a time,
    /// and returns when they are done. The service loop does the same continuously; this
    /// is for a one-off run (and for tests, which move the clock between runs).
    public func runDue() async throws {
        var attempted: Set<Int64> = []
        while true {
            let batches = try await startBatches(limit: settings.concurrency, excluding: attempted)
            if batches.isEmpty {
                await updateGauges()
                return
            }
            for batch in batches { attempted.formUnion(batch.messages.map(\.id)) }
            await withTaskGroup(of: Void.self) { group in
                for batch in batches { group.addTask { await self.deliver(batch) } }
            }
        }
    }

    func updateGauges() async {
        guard let (count, oldest) = try? await store.statistics() else { return }
        metrics.size.record(count)
        metrics.oldestAge.record(oldest.map { max(0, environment.now().timeIntervalSince($0)) } ?? 0)
    }
}

public enum QueueError: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownTransport(String)

    public var description: String {
        switch self {
        case let .unknownTransport(name): return "no transport named \(name)"
        }
    }
}

/// The delivery loop as a service: it starts attempts for due records while fewer than
/// `concurrency` groups are in progress, and wakes when a record is queued, kicked or
/// released, when a group finishes, and when the next record falls due. On graceful
/// shutdown it starts nothing new and waits for the attempts in progress, whose outcomes
/// are recorded; a delivery cut off by a harder stop is retried after the restart.
extension OutboundQueue: Service {
    public func run() async throws {
        let events = events
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var iterator = events.makeAsyncIterator()
                var inFlight = 0
                var timer: Task<Void, Never>?
                var stopping = false
                while !stopping {
                    do {
                        for batch in try await startBatches(limit: settings.concurrency - inFlight) {
                            inFlight += 1
                            group.addTask {
                                await self.deliver(batch)
                                self.signal.yield(.finished)
                            }
                        }
                    } catch {
                        logger.error("cannot read the queue", metadata: ["error": "\(error)"])
                    }
                    await updateGauges()
                    timer?.cancel()
                    timer = nil
                    if inFlight < settings.concurrency {
                        let due = (try? await store.nextDue()) ?? environment.now().addingTimeInterval(Self.maximumSleep)
                        let wait = min(max(0, due.timeIntervalSince(environment.now())), Self.maximumSleep)
                        let sleep = environment.sleep
                        let signal = signal
                        timer = Task {
                            do {
                                try await sleep(.milliseconds(Int64(wait * 1000)))
                                signal.yield(.timer)
                            } catch {
                                // Cancelled: a newer wait replaced this one.
                            }
                        }
                    }
                    guard let event = await iterator.next() else { break }
                    switch event {
                    case .finished: inFlight -= 1
                    case .wake, .timer: break
                    case .shutdown: stopping = true
                    }
                }
                timer?.cancel()
                logger.info("queue stopping", metadata: ["inflight": "\(inFlight)"])
            }
        } onGracefulShutdown: {
            self.signal.yield(.shutdown)
        }
    }
}
