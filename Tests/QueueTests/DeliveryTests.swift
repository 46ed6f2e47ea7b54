import DNS
import Foundation
import InMemoryLogging
import Logging
import Message
import MetricsTestKit
import Queue
import SMTP
import SMTPClient
import Synchronization
import TestSupport
import Testing

/// Local delivery for example.com: keeps what it was handed, each recipient's copy apart.
/// Recipients named "full" are refused as over quota (452 4.2.2).
final class LocalMailboxes: Sendable {
    private let received = Mutex<[(from: ReversePath, to: Mailbox, text: String)]>([])
    var all: [(from: ReversePath, to: Mailbox, text: String)] { received.withLock { $0 } }
    /// The DSNs among them: the null sender's messages (RFC 3464 §2).
    var dsns: [(from: ReversePath, to: Mailbox, text: String)] { all.filter { $0.from == .null } }

    var delivery: LocalDelivery {
        LocalDelivery(servesDomain: { $0 == "example.com" }) { request in
            let text = (try? Data(contentsOf: URL(fileURLWithPath: request.path))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return request.recipients.map { recipient in
                if recipient.localPart == "full" {
                    return .failed(DeliveryFailure(status: "4.2.2", isPermanent: false, diagnostic: "452 4.2.2 mailbox full", isSMTPReply: true))
                }
                self.received.withLock { $0.append((request.sender, recipient, text)) }
                return .delivered
            }
        }
    }
}

/// The queue against real sockets: the real SMTPClient talks to a scripted server on
/// loopback, found through a mock resolver (example.net's MX is mx.example.net, 127.0.0.1).
struct QueueFixture {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let resolver: MockResolver
    let local = LocalMailboxes()
    let queue: OutboundQueue

    init(port: Int, resolver: MockResolver = MockResolver(), retry: RetryPolicy = RetryPolicy(firstDelay: 600, maximumAge: 3600, jitter: 0, delayedDSNAfterAttempts: nil),
         transports: [String: Transport] = [:], routes: [Route] = [], localRoutes: LocalRoutes = .none, concurrency: Int = 2,
         metrics: QueueMetrics = QueueMetrics(), tlsPolicy: TLSPolicy = .opportunistic, tlsResults: TLSResultRecorder = .none,
         logger: Logger = Logger(label: "queue")) async throws {
        directory = try TemporaryDirectory()
        self.resolver = resolver
        try resolver.add("example.net", .mx(MX(preference: 10, exchange: try DNSName("mx.example.net"))))
        try resolver.add("mx.example.net", .a(try #require(IPAddress("127.0.0.1"))))
        try resolver.add("localhost", .a(try #require(IPAddress("127.0.0.1"))))
        var transports = transports
        transports[QueueSettings.directTransportName] = .direct(DirectTransport(port: port, addressPreference: .ipv4Only))
        var timeouts = Timeouts()
        timeouts.connect = .seconds(5)
        let store = try await QueueStore.open(directory: directory.path, now: clock.now)
        let clock = clock
        queue = OutboundQueue(
            store: store,
            settings: QueueSettings(
                hostname: "mail.example.com", retry: retry, routes: routes, localRoutes: localRoutes, transports: transports, concurrency: concurrency,
                timeouts: timeouts),
            environment: QueueEnvironment(resolver: resolver, now: { clock.now }, random: { 0x8000_0000_0000_0000 }, tlsPolicy: tlsPolicy,
                tlsResults: tlsResults, localDelivery: local.delivery),
            metrics: metrics, logger: logger)
    }
}

@Suite(.serialized) struct DeliveryTests {
    @Test func successRemovesTheMessage() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        #expect(server.messages.map(\.recipients) == [["bob@example.net"]])
        #expect(server.messages.first?.data.contains("Subject: hello") == true)
        #expect(fixture.local.dsns.isEmpty)
    }

    /// A connection's log lines name the MX host as well as the address the connection
    /// added: the operator reads which host, e.g., DANE verified.
    @Test func connectionLogsNameTheHostAndTheAddress() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "queue") { _ in logs }
        logger.logLevel = .debug
        let fixture = try await QueueFixture(port: server.port, logger: logger)
        try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        try await fixture.queue.runDue()
        let ready = try #require(logs.entries.first { $0.message == "session ready" })
        #expect(ready.metadata["host"] == "mx.example.net")
        #expect(ready.metadata["remote"] == "127.0.0.1:\(server.port)")
    }

    /// Deliveries by result and transport; the queue's size and its oldest message's age.
    @Test func metricsCountResultsAndQueueState() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let metrics = TestMetrics()
        let fixture = try await QueueFixture(port: server.port, metrics: QueueMetrics(factory: metrics))
        try await fixture.queue.enqueue(submission(to: ["bob@example.net", "perm@example.net", "temp@example.net"]))
        fixture.clock.advance(30)
        try await fixture.queue.runDue()
        for result in ["delivered", "failed", "tempfail"] {
            #expect(try metrics.expectCounter("tern_queue_deliveries_total", [("result", result), ("transport", "direct")]).totalValue == 1)
        }
        #expect(try metrics.expectGauge("tern_queue_messages").lastValue == 1)
        #expect(try metrics.expectGauge("tern_queue_oldest_message_age_seconds").lastValue == 30)
        fixture.clock.advance(600)
        try await fixture.queue.runDue()
        #expect(try metrics.expectCounter("tern_queue_deliveries_total", [("result", "tempfail"), ("transport", "direct")]).totalValue == 2)
        #expect(try metrics.expectGauge("tern_queue_oldest_message_age_seconds").lastValue == 630)
        _ = try await fixture.queue.drop(QueueFilter())
        try await fixture.queue.runDue()
        #expect(try metrics.expectGauge("tern_queue_messages").lastValue == 0)
        #expect(try metrics.expectGauge("tern_queue_oldest_message_age_seconds").lastValue == 0)
    }

    @Test func temporaryFailureRetriesLater() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(to: ["temp@example.net"]))
        try await fixture.queue.runDue()
        let queued = try #require(try await fixture.queue.list().first)
        #expect(queued.attempts == 1)
        #expect(queued.nextAttempt == fixture.clock.now.addingTimeInterval(600))
        #expect(queued.recipients[0].lastFailure?.diagnostic == "451 4.3.0 try again later")
        // Not due yet: nothing happens.
        try await fixture.queue.runDue()
        #expect(server.connections == 1)
        fixture.clock.advance(600)
        try await fixture.queue.runDue()
        #expect(server.connections == 2)
        #expect(try await fixture.queue.list().first?.attempts == 2)
        #expect(fixture.local.dsns.isEmpty)
    }

    /// 5xx: a DSN to the (local) sender with the RFC 3464 fields and the remote reply.
    @Test func permanentFailureSendsDSN() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(to: ["perm@example.net", "bob@example.net", "temp@example.net"]))
        try await fixture.queue.runDue()
        #expect(server.messages.map(\.recipients) == [["bob@example.net"]])
        let dsn = try #require(fixture.local.dsns.first)
        #expect(fixture.local.dsns.count == 1)
        #expect(dsn.to == mailbox("a@example.com"))
        #expect(dsn.text.contains("Final-Recipient: rfc822; perm@example.net"))
        #expect(dsn.text.contains("Action: failed"))
        #expect(dsn.text.contains("Status: 5.1.1"))
        #expect(dsn.text.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user here"))
        #expect(dsn.text.contains("Reporting-MTA: dns; mail.example.com"))
        #expect(dsn.text.contains("Remote-MTA: dns; mx.example.net"))
        #expect(!dsn.text.contains("Final-Recipient: rfc822; bob@example.net"))
        #expect(!dsn.text.contains("Final-Recipient: rfc822; temp@example.net"))
        // The temporary one stays queued, alone.
        let queued = try await fixture.queue.list()
        #expect(queued.count == 1)
        #expect(queued.first?.pending.map(\.address.localPart) == ["temp"])
    }

    @Test func nullSenderGetsNoDSN() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(from: "", to: ["perm@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        #expect(fixture.local.dsns.isEmpty)
        #expect(server.connections == 1)
    }

    @Test func giveUpAfterTheTotalSendsDSN() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(to: ["temp@example.net"]))
        for _ in 0..<10 where try await !fixture.queue.list().isEmpty {
            try await fixture.queue.runDue()
            fixture.clock.advance(600)
        }
        #expect(try await fixture.queue.list().isEmpty)
        // 0, 600, 1800, then the capped last attempt at 3600.
        #expect(server.connections == 4)
        let dsn = try #require(fixture.local.dsns.first)
        #expect(dsn.text.contains("Status: 5.4.7"))
        #expect(dsn.text.contains("451 4.3.0 try again later"))
    }

    /// Several messages to one destination share a connection (RFC 5321 §3.3).
    @Test func severalMessagesOneConnection() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        for index in 0..<3 { try await fixture.queue.enqueue(submission(to: ["r\(index)@example.net"], subject: "m\(index)")) }
        try await fixture.queue.runDue()
        #expect(server.connections == 1)
        #expect(server.messages.count == 3)
        #expect(try await fixture.queue.list().isEmpty)
    }

    /// A remote sender's DSN is queued with the null reverse-path and delivered in turn.
    @Test func remoteSenderDSNIsQueued() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(submission(from: "someone@example.net", to: ["perm@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        let bounce = try #require(server.messages.first)
        #expect(bounce.sender == "<>")
        #expect(bounce.recipients == ["someone@example.net"])
        #expect(bounce.data.contains("multipart/report"))
    }

    /// RFC 8689 §4.2.1: a REQUIRETLS message is not sent to a server without verified TLS;
    /// when no MX host can take it so, it fails with 5.7.10 and the sender gets a DSN, which
    /// asks for REQUIRETLS itself (§5).
    @Test func requireTLSIsNotSentInPlaintext() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        var message = submission(to: ["bob@example.net"])
        message.requireTLS = true
        try await fixture.queue.enqueue(message)
        try await fixture.queue.runDue()
        #expect(server.messages.isEmpty)
        #expect(try await fixture.queue.list().isEmpty)
        let dsn = try #require(fixture.local.dsns.first)
        #expect(dsn.text.contains("Status: 5.7.10"))
        #expect(dsn.text.contains("REQUIRETLS (RFC 8689) could not be met"))
        #expect(dsn.text.contains("TLS is required and the server does not offer STARTTLS"))
    }

    /// A bounce of a REQUIRETLS message keeps the parameter but not its demands (RFC 8689
    /// §5): it goes to a server without TLS rather than being lost.
    @Test func requireTLSBounceIsDelivered() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        var bounce = submission(from: "", to: ["bob@example.net"])
        bounce.requireTLS = true
        let records = try await fixture.queue.enqueue(bounce)
        #expect(records.first?.demandsVerifiedTLS == false)
        try await fixture.queue.runDue()
        #expect(server.messages.map(\.recipients) == [["bob@example.net"]])
        #expect(try await fixture.queue.list().isEmpty)
    }

    @Test func serviceDeliversOnEnqueueAndStops() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        let queue = fixture.queue
        let running = Task { try await queue.run() }
        try await queue.enqueue(submission(to: ["bob@example.net"]))
        for _ in 0..<200 where server.messages.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.messages.count == 1)
        running.cancel()
        _ = await running.result
    }
}
