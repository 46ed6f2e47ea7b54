import Foundation
import Queue
import SMTP
import Testing

@Suite struct QueueStoreTests {
    let clock = TestClock()

    @Test func enqueueIsDurableAndSplitByDomain() async throws {
        let directory = try TemporaryDirectory()
        let store = try await QueueStore.open(directory: directory.path + "/queue", now: clock.now)
        let records = try await store.enqueue(submission(to: ["x@example.net", "y@Example.NET", "z@example.org"]), now: clock.now)
        #expect(records.map(\.domain) == ["example.net", "example.org"])
        #expect(records[0].recipients.map(\.address.localPart) == ["x", "y"])
        store.close()

        let reopened = try await QueueStore.open(directory: directory.path + "/queue", now: clock.now)
        let listed = try await reopened.list()
        #expect(listed == records)
        #expect(FileManager.default.contents(atPath: reopened.path(forFile: records[0].fileID)).map(Array.init) == sample())
        reopened.close()
    }

    @Test func holdReleaseKickDropAndTransport() async throws {
        let directory = try TemporaryDirectory()
        let store = try await QueueStore.open(directory: directory.path, now: clock.now)
        let first = try await store.enqueue(submission(to: ["x@example.net"]), now: clock.now)[0]
        let second = try await store.enqueue(submission(to: ["x@example.org"]), now: clock.now)[0]

        #expect(try await store.hold(QueueFilter(recipientDomain: "example.net")) == 1)
        #expect(try await store.due(at: clock.now).map(\.id) == [second.id])
        #expect(try await store.release(QueueFilter(ids: [first.id])) == 1)
        #expect(try await store.due(at: clock.now).map(\.id) == [first.id, second.id])

        _ = try await store.beginAttempt([first.id], now: clock.now)
        var plan = AttemptPlan(recipients: first.recipients, next: .retry(at: clock.now.addingTimeInterval(3600)), gaveUp: false, dsn: nil, delayedDSNSent: false)
        try await store.finishAttempt(first, plan: plan)
        #expect(try await store.due(at: clock.now).map(\.id) == [second.id])
        #expect(try await store.kick(QueueFilter(ids: [first.id]), now: clock.now) == 1)
        #expect(try await store.due(at: clock.now).map(\.id) == [first.id, second.id])

        #expect(try await store.changeTransport(QueueFilter(senderDomain: "example.com"), to: "relay") == 2)
        #expect(try await store.list().map(\.transport) == ["relay", "relay"])

        #expect(try await store.drop(QueueFilter(ids: [second.id])) == 1)
        #expect(try await store.list().map(\.id) == [first.id])
        #expect(!FileManager.default.fileExists(atPath: store.path(forFile: second.fileID)))

        plan.next = .finished
        try await store.finishAttempt(first, plan: plan)
        #expect(try await store.list().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.path(forFile: first.fileID)))
        store.close()
    }

    /// An attempt a crash interrupted: the record is due again after reopening, with the
    /// attempt counted; an orphan file from an unfinished enqueue is removed.
    @Test func recoversInterruptedAttempts() async throws {
        let directory = try TemporaryDirectory()
        let store = try await QueueStore.open(directory: directory.path, now: clock.now)
        let record = try await store.enqueue(submission(to: ["x@example.net"]), now: clock.now)[0]
        _ = try await store.beginAttempt([record.id], now: clock.now)
        #expect(try await store.due(at: clock.now.addingTimeInterval(1e6)).isEmpty)
        store.close()
        let orphan = directory.path + "/msg/999"
        _ = FileManager.default.createFile(atPath: orphan, contents: Data("x".utf8))

        clock.advance(60)
        let reopened = try await QueueStore.open(directory: directory.path, now: clock.now)
        let due = try await reopened.due(at: clock.now)
        #expect(due.map(\.id) == [record.id])
        #expect(due.first?.attempts == 1)
        #expect(!FileManager.default.fileExists(atPath: orphan))
        reopened.close()
    }
}
