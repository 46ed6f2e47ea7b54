import Dispatch
import DurableFiles
import Foundation
import GRDB
import Synchronization

/// Group commit: writes that arrive while a commit is in progress are gathered and
/// committed together in the next transaction, so N concurrent deliveries to one account
/// cost one WAL fsync (and one fsync per shard directory) instead of N.
///
/// Each write still succeeds or fails on its own: it runs in its own savepoint inside the
/// shared transaction, and a write that throws is rolled back to its savepoint while the
/// others go on. The caller of `commit` returns only once the shared transaction has
/// committed (`synchronous = FULL`, Schema.swift), so acknowledging afterwards keeps the
/// durability rule of DESIGN.md. If the COMMIT itself fails, every write of the batch
/// gets that error.
///
/// Directories to sync (the shard directories of newly linked message files) are synced
/// once per batch before the transaction begins: a row is never committed before the
/// directory entry of its file is durable.
///
/// Latency: a write waits at most for the batch in progress plus its own. There is no
/// timer; a lone write is committed at once, so a single connection gets no slower.
final class GroupCommitter: Sendable {
    private struct Pending: Sendable {
        var directories: [String]
        var body: @Sendable (Database) throws -> (any Sendable, [StoreChange])
        var continuation: CheckedContinuation<any Sendable, any Error>
    }

    private struct Queue: Sendable {
        var pending: [Pending] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let feed: ChangeFeed?
    private let metrics: CommitMetrics
    private let queue = Mutex(Queue())
    /// Writes per transaction; bounds how long one transaction holds the writer.
    private let maxBatch: Int

    init(pool: DatabasePool, feed: ChangeFeed?, metrics: CommitMetrics, maxBatch: Int = 64) {
        self.pool = pool
        self.feed = feed
        self.metrics = metrics
        self.maxBatch = maxBatch
    }

    /// Writes waiting for the next transaction.
    var waiting: Int { queue.withLock { $0.pending.count } }

    /// Runs `body` in the next group transaction after syncing `directories`; returns its
    /// value once that transaction is durable. `body` returns the changes to publish on
    /// the account's feed once committed (none for a write that is rolled back).
    func commit<T: Sendable>(
        syncing directories: [String] = [], _ body: @escaping @Sendable (Database) throws -> (T, [StoreChange])
    ) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<any Sendable, any Error>) in
            let pending = Pending(
                directories: directories, body: { db in let (value, changes) = try body(db); return (value, changes) },
                continuation: continuation)
            let startDrain = queue.withLock { queue -> Bool in
                queue.pending.append(pending)
                if queue.draining { return false }
                queue.draining = true
                return true
            }
            // The drain runs on a thread of its own (blocking in fsync is fine there), and
            // GRDB's synchronous write then runs on that same thread: no further hand-off
            // to the writer's queue, which a lone delivery would wait for.
            if startDrain { DispatchQueue.global().async { self.drain() } }
        }
        guard let typed = value as? T else { throw StoreError.corrupt("group commit returned \(type(of: value))") }
        return typed
    }

    /// Commits batches until no write is waiting. Only one drain runs at a time.
    private func drain() {
        while true {
            let batch = queue.withLock { queue -> [Pending] in
                let count = min(queue.pending.count, maxBatch)
                let batch = Array(queue.pending.prefix(count))
                queue.pending.removeFirst(count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            commitBatch(batch)
        }
    }

    private func commitBatch(_ batch: [Pending]) {
        let feed = feed
        let outcome: Result<[Result<any Sendable, any Error>], any Error>
        do {
            let results = try pool.writeWithoutTransaction { db -> [Result<any Sendable, any Error>] in
                let start = ContinuousClock.now
                var directories: [String] = []
                for directory in batch.flatMap(\.directories) where !directories.contains(directory) {
                    directories.append(directory)
                }
                for directory in directories { try storeIO { () throws(FileIOError) in try FileIO.syncDirectory(directory) } }
                var results: [Result<any Sendable, any Error>] = []
                var published: [StoreChange] = []
                try db.inTransaction(.immediate) {
                    // A lone write needs no savepoint: if it fails, the transaction is
                    // rolled back with nothing else in it.
                    if batch.count == 1 {
                        let (value, changes) = try batch[0].body(db)
                        results.append(.success(value))
                        published = changes
                    } else {
                        for pending in batch {
                            do {
                                var outcome: (any Sendable, [StoreChange])?
                                try db.inSavepoint {
                                    outcome = try pending.body(db)
                                    return .commit
                                }
                                if let outcome {
                                    results.append(.success(outcome.0))
                                    published += outcome.1
                                }
                            } catch {
                                results.append(.failure(error))
                            }
                        }
                    }
                    return .commit
                }
                metrics.committed(batch.count, since: start)
                // Committed (a failed COMMIT throws). Published while this drain still holds
                // the writer, so subscribers see changes in commit order; no transaction
                // observer, which GRDB would consult on every statement.
                if let feed, !published.isEmpty { feed.publish(published) }
                return results
            }
            outcome = .success(results)
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case let .success(results):
            for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
        case let .failure(error):
            for pending in batch { pending.continuation.resume(throwing: error) }
        }
    }
}
