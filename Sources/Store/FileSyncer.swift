import DurableFiles
import Foundation
import GRDB
import Logging
import Synchronization

// Small message files made durable by the database commit instead of their own fsync.
//
// The durability rule (DESIGN.md) is that nothing acknowledged is lost. Syncing a message
// file, then its directory, then the WAL costs three serial device flushes per delivery
// (about 0.3 + 0.15 + 0.25 ms on the test machine), which is most of what a single SMTP
// connection or IMAP APPEND waits for. For a message of at most
// `StoreLimits.maxUnsyncedFileSize` octets the store instead:
//   1. places the file without fsync (link or write) and without syncing its directory;
//   2. commits the message rows together with a copy of the octets (`unsyncedFile`): this
//      commit, fsynced like every commit, is the point where the message is durable and may
//      be acknowledged;
//   3. later (`StoreLimits.fileSyncDelay`), for many files at once: makes them and their
//      directory entries durable (`FileIO.sync(files:)`: one syncfs(2) on Linux), then
//      deletes their `unsyncedFile` rows in a commit. From then on the file alone holds
//      the message, as for a large one.
// Readers never see the difference: the file is in place, in the page cache, before its
// row is committed.
//
// APPEND goes one step further (`Account.append`): a small message given as octets is not
// written before its commit at all. Making a file costs the kernel 0.13 ms of block
// allocation here, and up to 0.9 ms for minutes after many files were deleted (ext4 with
// online discard), all of it on the path of every APPEND's OK. Instead:
//   a. before the commit, the octets are held in memory (`holdUnwritten`);
//   b. after it, a writer queue writes the file (`writeCommitted`), lets go of the octets,
//      and schedules the file's sync as in step 3;
//   c. a reader asks for held octets first (`unwrittenOctets`): a message whose row it could
//      read is either still held or already written, since the octets are let go only once
//      the file is written;
//   d. removing a message forgets its octets (`forget`); a write that finds them forgotten
//      writes nothing, and one that was under way removes what it wrote, so an expunge
//      racing the writer leaves no file behind;
//   e. a write that fails keeps the octets for readers, and the database copy stays until
//      the account is opened again, which restores the file (the crash case below);
//   f. at most `maxUnwrittenBytes` wait at a time: when the writer falls behind (a burst of
//      APPENDs while the disk is slow to allocate), further messages are written before
//      their commit as before, so memory stays bounded.
//
// Crash: on opening an account (`FileSyncer.restore`), every remaining row is written
// back over its file (a temporary file renamed into place), all of them are synced at
// once, and then the rows are deleted. Whether the crash lost the file, a part of it, or
// nothing, the file then holds exactly the committed octets. A crash during that repeats
// it at the next open. Rows go with their content row (ON DELETE CASCADE), so an expunged
// message is never brought back.

/// Syncs an account's small message files after their commit and restores them after a
/// crash (see above). It holds the account's database, not the `Account`, so a pending sync
/// does not count as a use of the account (`Store` closes accounts no one holds).
final class FileSyncer: Sendable {
    private struct State {
        /// Files committed with their octets, waiting for their fsync.
        var waiting: [Int64] = []
        var syncScheduled = false
        var closed = false
        /// Files committed (or being committed) whose writing is deferred, until written.
        var unwritten: [Int64: [UInt8]] = [:]
        var unwrittenBytes = 0

        /// Lets go of the octets of file `id`; whether they were held.
        @discardableResult
        mutating func letGo(_ id: Int64) -> Bool {
            guard let octets = unwritten.removeValue(forKey: id) else { return false }
            unwrittenBytes -= octets.count
            return true
        }
    }

    /// The octets an account's writer queue may have waiting (step f above).
    static let maxUnwrittenBytes = 8 * 1024 * 1024

    private let directory: String
    private let pool: DatabasePool
    private let delay: Duration
    private let logger: Logger
    private let state = Mutex(State())
    /// Writes deferred files one after another, away from the callers' tasks.
    private let writer = DispatchQueue(label: "tern.store.deferred-file-writes")

    init(directory: String, pool: DatabasePool, delay: Duration, logger: Logger) {
        self.directory = directory
        self.pool = pool
        self.delay = delay
        self.logger = logger
    }

    /// Called once the commit holding the octets of files `ids` is durable: schedules their
    /// sync, gathered with every other file committed within `fileSyncDelay`.
    func schedule(_ ids: [Int64]) {
        let start = state.withLock { state -> Bool in
            state.waiting += ids
            guard !state.syncScheduled, !state.closed else { return false }
            state.syncScheduled = true
            return true
        }
        guard start else { return }
        Task { [self] in
            try? await Task.sleep(for: delay)
            try? await blockingIO { self.syncWaiting() }
        }
    }

    /// Holds the octets of file `id`, whose writing then waits for its commit (step a
    /// above); false, holding nothing, when that would pass `maxUnwrittenBytes` (step f).
    func holdUnwritten(_ id: Int64, _ octets: [UInt8]) -> Bool {
        state.withLock { state in
            guard state.unwrittenBytes + octets.count <= Self.maxUnwrittenBytes else { return false }
            state.unwritten[id] = octets
            state.unwrittenBytes += octets.count
            return true
        }
    }

    /// The octets of file `id` while its commit holds them and the file is not written yet.
    func unwrittenOctets(_ id: Int64) -> [UInt8]? {
        state.withLock { $0.unwritten[id] }
    }

    /// Files that must not be written after all: their commit failed, or their messages are
    /// being removed (step d above).
    func forget(_ ids: [Int64]) {
        state.withLock { state in
            for id in ids { state.letGo(id) }
        }
    }

    /// Once the commit of file `id` is durable: `write` puts its held octets at `path` on
    /// the writer queue, then the file's sync is scheduled (steps b, d and e above).
    func writeCommitted(_ id: Int64, at path: String, _ write: @escaping @Sendable ([UInt8]) throws -> Void) {
        writer.async { [self] in
            guard let octets = unwrittenOctets(id) else { return }
            do {
                try write(octets)
            } catch {
                logger.error("writing a message file failed; it is served from memory, and restored when the account is opened again", metadata: [
                    "file": "\(id)", "error": "\(error)",
                ])
                return
            }
            let wanted = state.withLock { $0.letGo(id) }
            if wanted {
                schedule([id])
            } else {
                FileIO.remove(path)
            }
        }
    }

    /// The octets held now (step f above).
    var unwrittenBytes: Int { state.withLock { $0.unwrittenBytes } }

    /// Returns once every write handed to the writer queue so far is done.
    func waitForWrites() {
        writer.sync {}
    }

    /// Makes the files waiting durable with their directory entries (those removed
    /// meanwhile are skipped), then deletes their database copies. Blocks in the sync.
    func syncWaiting() { sync(closing: false) }

    /// On closing the account: stops the timer and syncs what is waiting, before the
    /// database is closed.
    func syncBeforeClosing() {
        waitForWrites()
        sync(closing: true)
    }

    private func sync(closing: Bool) {
        let ids = state.withLock { state -> [Int64] in
            defer {
                state.waiting = []
                state.syncScheduled = false
                if closing { state.closed = true }
            }
            return state.closed ? [] : state.waiting
        }
        guard !ids.isEmpty else { return }
        do {
            try storeIO { () throws(FileIOError) in try FileIO.sync(files: ids.map { Account.path(forFile: $0, in: directory) }) }
            try pool.write { db in try AccountDB.deleteUnsyncedFiles(db, ids) }
        } catch {
            // The copies stay, and the next open of the account restores the files from them.
            logger.error("syncing message files failed; the database keeps their octets until the account is opened again", metadata: [
                "files": "\(ids.count)", "error": "\(error)",
            ])
        }
    }

    /// Files whose octets only the database guarantees, now.
    var unsyncedCount: Int {
        get throws { try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM unsyncedFile") ?? 0 } }
    }

    /// Recovery at open: every file with a database copy is rewritten from it, all of them
    /// made durable at once (`FileIO.sync(files:)`), then the copies deleted (see the
    /// protocol above). A crash before the deletion repeats this at the next open. Returns
    /// how many files were restored.
    @discardableResult
    func restore() throws -> Int {
        var paths: [String] = []
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT contentID, octets FROM unsyncedFile ORDER BY contentID")
            while let row = try rows.next() {
                let path = Account.path(forFile: try row.value("contentID"), in: directory)
                let octets: Data = try row.value("octets")
                try storeIO { () throws(FileIOError) in
                    try FileIO.makeDirectory(FileIO.parent(of: path))
                    try FileIO.replace(path, with: [UInt8](octets))
                }
                paths.append(path)
            }
        }
        guard !paths.isEmpty else { return 0 }
        try storeIO { () throws(FileIOError) in try FileIO.sync(files: paths) }
        try pool.write { db in try db.execute(sql: "DELETE FROM unsyncedFile") }
        logger.notice("restored message files from the database after an interruption", metadata: ["files": "\(paths.count)"])
        return paths.count
    }
}
