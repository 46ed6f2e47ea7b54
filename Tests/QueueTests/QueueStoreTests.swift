import Foundation
import GRDB
import SMTP
import TestSupport
import Testing

@testable import Queue

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

    /// The submitting account is kept with the record; a queue made before the account
    /// column existed opens, migrated, and its records have none.
    @Test func accountAndMigrationOfAnOlderQueue() async throws {
        let directory = try TemporaryDirectory()
        let pool = try DatabasePool(path: directory.path + "/index.db")
        try QueueStore.migrator.migrate(pool, upTo: "v1")
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO message (fileID, senderLocalPart, senderDomain, domain, size, body, utf8Header, requireTLS, created, nextAttempt)
                VALUES (1, 'a', 'example.com', 'example.net', 5, '7BIT', 0, 0, 0, 0)
                """)
            try db.execute(sql: "INSERT INTO recipient (messageID, localPart, domain, state) VALUES (1, 'x', 'example.net', 'pending')")
        }
        try pool.close()
        try FileManager.default.createDirectory(atPath: directory.path + "/msg", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory.path + "/msg/1", contents: Data("hello".utf8))

        let store = try await QueueStore.open(directory: directory.path, now: clock.now)
        let old = try #require(try await store.list().first)
        #expect(old.account == nil && old.sender.mailbox?.domain == "example.com" && old.pending.count == 1)
        var fromAlice = submission(to: ["y@example.org"])
        fromAlice.account = "alice"
        let queued = try await store.enqueue(fromAlice, now: clock.now)
        #expect(queued.map(\.account) == ["alice"])
        #expect(try await store.list().map(\.account) == [nil, "alice"])
        store.close()
    }
}
