import Foundation
import GRDB
import Metrics
import MetricsTestKit
@testable import Store
import Synchronization
import Testing

@Suite struct GroupCommitTests {
    /// Counts committed transactions.
    final class CommitCounter: TransactionObserver, @unchecked Sendable {
        let commits = Mutex(0)
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { commits.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    struct Refused: Error, Equatable { let value: Int }

    /// Commit metrics recorded into `metrics`, under `database="test"`.
    private func commitMetrics(_ metrics: TestMetrics) -> CommitMetrics {
        CommitMetrics(database: "test", factory: metrics)
    }

    private func makePool() throws -> (DatabasePool, String) {
        let directory = FileManager.default.temporaryDirectory.path + "/groupcommit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: "CREATE TABLE item (value INTEGER NOT NULL UNIQUE)") }
        return (try StoreDatabase.openPool(path: directory + "/test.db", label: "test", migrator: migrator), directory)
    }

    /// Writes arriving while a batch commits are committed together in the next one; a write
    /// that throws is rolled back alone and its caller gets the error.
    @Test func concurrentWritesShareOneTransactionAndFailAlone() async throws {
        let (pool, directory) = try makePool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let counter = CommitCounter()
        pool.add(transactionObserver: counter, extent: .observerLifetime)
        let metrics = TestMetrics()
        let committer = GroupCommitter(pool: pool, feed: nil, metrics: commitMetrics(metrics))
        let release = DispatchSemaphore(value: 0)
        let started = Mutex(false)

        // The first write holds its batch open until the others are queued behind it.
        async let first: Int = committer.commit { db in
            started.withLock { $0 = true }
            release.wait()
            try db.execute(sql: "INSERT INTO item (value) VALUES (0)")
            return (0, [])
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        let results = await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for value in 1...10 {
                group.addTask {
                    do {
                        return (value, .success(try await committer.commit { db in
                            try db.execute(sql: "INSERT INTO item (value) VALUES (?)", arguments: [value])
                            // An insert that commits in its savepoint and then fails must leave nothing.
                            if value % 4 == 0 { throw Refused(value: value) }
                            return (value, [])
                        }))
                    } catch {
                        return (value, .failure(error))
                    }
                }
            }
            while committer.waiting < 10 { try? await Task.sleep(for: .milliseconds(1)) }
            release.signal()
            var results: [Int: Result<Int, any Error>] = [:]
            for await (value, result) in group { results[value] = result }
            return results
        }
        #expect(try await first == 0)
        for value in 1...10 {
            switch results[value] {
            case let .success(returned): #expect(value % 4 != 0 && returned == value)
            case let .failure(error): #expect(value % 4 == 0 && error as? Refused == Refused(value: value))
            case nil: Issue.record("no result for \(value)")
            }
        }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT value FROM item ORDER BY value") }
        #expect(stored == [0, 1, 2, 3, 5, 6, 7, 9, 10])
        #expect(counter.commits.withLock { $0 } == 2, "one transaction for the first write, one for the ten queued")
        // The metrics tell the same: two transactions, of 1 and 10 writes (the refused ones
        // were in it too), each with its duration.
        #expect(try metrics.expectRecorder(StoreMetrics.commitWritesLabel, [("database", "test")]).values == [1, 10])
        let durations = try metrics.expectTimer(StoreMetrics.commitDurationLabel, [("database", "test")]).values
        #expect(durations.count == 2 && durations.allSatisfy { $0 > 0 })
    }

    /// A failing COMMIT fails every write of the batch, and the next batch works again.
    @Test func constraintFailureInOneWriteDoesNotBlockLaterBatches() async throws {
        let (pool, directory) = try makePool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        let committer = GroupCommitter(pool: pool, feed: nil, metrics: commitMetrics(metrics))
        try await committer.commit { db in try db.execute(sql: "INSERT INTO item (value) VALUES (1)"); return ((), []) }
        await #expect(throws: DatabaseError.self) {
            try await committer.commit { db in try db.execute(sql: "INSERT INTO item (value) VALUES (1)"); return ((), []) }
        }
        try await committer.commit { db in try db.execute(sql: "INSERT INTO item (value) VALUES (2)"); return ((), []) }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT value FROM item ORDER BY value") }
        #expect(stored == [1, 2])
        // Only what committed is measured.
        #expect(try metrics.expectRecorder(StoreMetrics.commitWritesLabel, [("database", "test")]).values == [1, 1])
    }

    /// Directories of newly linked files are synced before the rows commit; a directory
    /// that cannot be synced fails the batch rather than committing rows for files whose
    /// names may not survive a crash.
    @Test func unsyncableDirectoryFailsTheBatch() async throws {
        let (pool, directory) = try makePool()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let metrics = TestMetrics()
        let committer = GroupCommitter(pool: pool, feed: nil, metrics: commitMetrics(metrics))
        await #expect(throws: StoreError.self) {
            try await committer.commit(syncing: [directory + "/missing"]) { db in
                try db.execute(sql: "INSERT INTO item (value) VALUES (1)")
                return ((), [])
            }
        }
        let stored = try await pool.read { db in try Int.fetchAll(db, sql: "SELECT value FROM item") }
        #expect(stored == [])
        #expect(try metrics.expectRecorder(StoreMetrics.commitWritesLabel, [("database", "test")]).values.isEmpty)
    }
}
