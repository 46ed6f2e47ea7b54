import Foundation
import Message
import Queue
import SMTP
import Testing

/// RFC 4865: a held submission waits in the queue until its release time, for remote and
/// local recipients alike, and DSNs about it say it was held.
@Suite(.serialized) struct FutureReleaseTests {
    func held(_ seconds: TimeInterval, from fixture: QueueFixture, to recipients: [String]) -> Submission {
        var message = submission(to: recipients)
        message.releaseAt = fixture.clock.now.addingTimeInterval(seconds)
        message.futureReleaseRequest = "for;\(Int(seconds))"
        return message
    }

    @Test func nothingLeavesBeforeTheReleaseTime() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        let release = fixture.clock.now.addingTimeInterval(3600)
        try await fixture.queue.enqueue(held(3600, from: fixture, to: ["bob@example.net", "carol@example.com"]))
        #expect(try await fixture.queue.store.nextDue() == release)
        try await fixture.queue.runDue()
        fixture.clock.advance(3599)
        try await fixture.queue.runDue()
        #expect(server.connections == 0)
        #expect(fixture.local.all.isEmpty)
        #expect(try await fixture.queue.list().allSatisfy { $0.attempts == 0 && $0.releaseAt == release })

        fixture.clock.advance(1)
        try await fixture.queue.runDue()
        #expect(server.messages.map(\.recipients) == [["bob@example.net"]])
        // The local recipient through local delivery, never over SMTP, with the sender kept.
        #expect(fixture.local.all.map { "\($0.from) \($0.to)" } == ["<a@example.com> carol@example.com"])
        #expect(fixture.local.all.first?.text.contains("Subject: hello") == true)
        #expect(try await fixture.queue.list().isEmpty)
    }

    /// RFC 4865 §5.1.2: Arrival-Date and Future-Release-Request in the DSN.
    @Test func dsnNamesTheHold() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        let arrival = fixture.clock.now
        try await fixture.queue.enqueue(held(60, from: fixture, to: ["perm@example.net"]))
        fixture.clock.advance(60)
        try await fixture.queue.runDue()
        let dsn = try #require(fixture.local.dsns.first)
        #expect(dsn.to == mailbox("a@example.com"))
        #expect(dsn.text.contains("Future-Release-Request: for;60\r\n"))
        #expect(dsn.text.contains("Arrival-Date: \(MessageDate.format(arrival))\r\n"))
        #expect(dsn.text.contains("Status: 5.1.1"))
    }

    /// The retry period starts at the release, not at the submission: a message held
    /// longer than `maximumAge` is still retried after its first failure.
    @Test func retriesCountFromTheRelease() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)  // maximumAge 3600, first retry after 600
        try await fixture.queue.enqueue(held(7200, from: fixture, to: ["temp@example.net"]))
        fixture.clock.advance(7200)
        try await fixture.queue.runDue()
        let queued = try #require(try await fixture.queue.list().first)
        #expect(queued.attempts == 1 && queued.pending.count == 1)
        #expect(queued.nextAttempt == fixture.clock.now.addingTimeInterval(600))
        #expect(fixture.local.dsns.isEmpty)
    }

    /// A local recipient whose mailbox is full stays queued with that reason.
    @Test func localTemporaryFailureIsRetried() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let fixture = try await QueueFixture(port: server.port)
        try await fixture.queue.enqueue(held(10, from: fixture, to: ["full@example.com", "carol@example.com"]))
        fixture.clock.advance(10)
        try await fixture.queue.runDue()
        #expect(fixture.local.all.map(\.to.localPart) == ["carol"])
        let queued = try #require(try await fixture.queue.list().first)
        #expect(queued.pending.map(\.address.localPart) == ["full"])
        #expect(queued.pending.first?.lastFailure?.diagnostic == "452 4.2.2 mailbox full")
        #expect(server.connections == 0)
    }
}
