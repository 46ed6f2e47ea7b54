import DNS
import Foundation
import Queue
import SMTP
import SMTPClient
import TestSupport
import Testing

/// The operator's requests (`tern queue`) as the control socket hands them over: JSON
/// lines in, JSON lines out, every operation and filter, and malformed input.
@Suite struct ControlTests {
    let directory: TemporaryDirectory
    let clock = TestClock()
    let queue: OutboundQueue

    init() async throws {
        directory = try TemporaryDirectory()
        let store = try await QueueStore.open(directory: directory.path, now: clock.now)
        let clock = clock
        let relay = Transport.relay(RelayTransport(host: "192.0.2.1", port: 25, security: .opportunisticSTARTTLS))
        queue = OutboundQueue(
            store: store, settings: QueueSettings(hostname: "mail.example.com", transports: ["smarthost": relay]),
            environment: QueueEnvironment(resolver: MockResolver(), now: { clock.now }))
    }

    func send(_ json: String) async throws -> QueueControlResponse {
        let line = await QueueControl.respond(to: Array(json.utf8), queue: queue)
        #expect(!line.contains(0x0A), "a response is one line")
        return try QueueControl.decoder().decode(QueueControlResponse.self, from: Data(line))
    }

    func request(_ request: QueueControlRequest) async throws -> QueueControlResponse {
        let json = String(decoding: try QueueControl.encoder().encode(request), as: UTF8.self)
        return try await send(json)
    }

    /// Three records: a@example.com to example.net (2 recipients) and example.org; and one
    /// from other.example to example.net.
    func fill() async throws -> [QueuedMessage] {
        let first = try await queue.enqueue(submission(to: ["b@example.net", "c@example.net", "d@example.org"], subject: "first"))
        let second = try await queue.enqueue(submission(from: "x@other.example", to: ["e@example.net"], subject: "second"))
        return first + second
    }

    @Test func listShowsEveryFieldAndFilters() async throws {
        let records = try await fill()
        let all = try #require(try await request(QueueControlRequest(operation: .list)).messages)
        #expect(all.map(\.id) == records.map(\.id))
        let first = try #require(all.first)
        #expect(first.sender == "a@example.com")
        #expect(first.domain == "example.net")
        #expect(first.recipients.map(\.address) == ["b@example.net", "c@example.net"])
        #expect(first.recipients.map(\.state) == ["pending", "pending"])
        #expect(first.size == records[0].size && first.size > 0)
        #expect(first.attempts == 0 && !first.held && first.transport == nil && first.tlsRequirement == .policy)
        #expect(first.created == clock.now && first.nextAttempt == clock.now)

        let byDomain = try await request(QueueControlRequest(operation: .list, domain: "EXAMPLE.net")).messages ?? []
        #expect(byDomain.map(\.id) == [records[0].id, records[2].id])
        let bySender = try await request(QueueControlRequest(operation: .list, senderDomain: "other.example")).messages ?? []
        #expect(bySender.map(\.id) == [records[2].id])
        let byID = try await request(QueueControlRequest(operation: .list, ids: [records[1].id], domain: "example.org")).messages ?? []
        #expect(byID.map(\.id) == [records[1].id])
        let none = try await request(QueueControlRequest(operation: .list, ids: [records[1].id], domain: "example.net"))
        #expect(none.messages == [] && none.error == nil)
    }

    @Test func holdReleaseKickDropTransport() async throws {
        let records = try await fill()
        let id = records[0].id
        #expect(try await request(QueueControlRequest(operation: .hold, domain: "example.net")).count == 2)
        #expect(try await queue.store.message(id)?.held == true)
        #expect(try await queue.store.message(records[1].id)?.held == false)
        #expect(try await request(QueueControlRequest(operation: .release, ids: [id])).count == 1)
        #expect(try await queue.store.message(id)?.held == false)

        clock.advance(60)
        #expect(try await request(QueueControlRequest(operation: .kick, ids: [id])).count == 1)
        #expect(try await queue.store.message(id)?.nextAttempt == clock.now)

        #expect(try await request(QueueControlRequest(operation: .transport, ids: [id], transport: "smarthost")).count == 1)
        #expect(try await queue.store.message(id)?.transport == "smarthost")
        #expect(try await request(QueueControlRequest(operation: .transport, ids: [id], transport: nil)).count == 1)
        #expect(try await queue.store.message(id)?.transport == nil)
        let unknown = try await request(QueueControlRequest(operation: .transport, ids: [id], transport: "nosuch"))
        #expect(unknown.error == "no transport named nosuch; transports: direct, smarthost")
        #expect(try await queue.store.message(id)?.transport == nil)

        #expect(try await request(QueueControlRequest(operation: .drop, senderDomain: "other.example")).count == 1)
        #expect(try await queue.store.list().map(\.id) == [records[0].id, records[1].id])
    }

    @Test func changesThatMatchNothingFail() async throws {
        _ = try await fill()
        for operation in [QueueControlRequest.Operation.hold, .release, .kick, .drop, .transport] {
            let response = try await request(QueueControlRequest(operation: operation, ids: [999], transport: operation == .transport ? "direct" : nil))
            #expect(response.error?.hasPrefix("no queued message matches") == true, "\(operation)")
            #expect(response.count == nil)
        }
        #expect(try await queue.store.list().count == 3)
    }

    @Test func dumpReturnsTheStoredMessage() async throws {
        let records = try await fill()
        let response = try await request(QueueControlRequest(operation: .dump, ids: [records[1].id]))
        let content = try #require(response.content.flatMap { Data(base64Encoded: $0) })
        #expect(Array(content) == sample(subject: "first", from: "a@example.com"))
        #expect(try await request(QueueControlRequest(operation: .dump, ids: [999])).error == "no queued message matches")
        #expect(try await request(QueueControlRequest(operation: .dump)).error == "dump needs exactly one message id")
        #expect(try await request(QueueControlRequest(operation: .dump, ids: [1, 2])).error == "dump needs exactly one message id")
    }

    @Test(arguments: [
        "", "not json", "{}", #"{"operation":"explode"}"#, #"{"operation":"hold","ids":"1"}"#, #"["list"]"#, "{\"operation\":\"list\"\u{0}}",
    ])
    func malformedRequestsGetAnError(_ line: String) async throws {
        _ = try await fill()
        let response = try await send(line)
        #expect(response.error?.hasPrefix("malformed request") == true)
        #expect(try await queue.store.list().count == 3)
    }

    @Test func oversizedResponseIsAnError() throws {
        let response = try QueueControl.decoder().decode(QueueControlResponse.self, from: Data(QueueControl.oversizedResponse))
        #expect(response.error == "request too long")
    }
}
