import DurableFiles
import Foundation
import GRDB
import Logging
import Message
import Synchronization

/// One account: its database `accounts/<name>/index.db` and message files
/// `accounts/<name>/msg/<shard>/<id>`, and the change feed its sessions share.
///
/// Writes go through the database pool's single writer queue, which serializes them per
/// account (the "actor with a queue"); reads run concurrently in WAL mode. Every method is
/// safe to call from any task. Obtain accounts from `Store`, which keeps one `Account` per
/// name so that all sessions of an account share one feed.
public final class Account: Sendable {
    public let name: String
    /// `<data>/accounts/<name>`.
    public let directory: String
    let pool: DatabasePool
    let feed: ChangeFeed
    /// Message additions (deliveries, APPEND) go through here: concurrent ones share a
    /// transaction and its fsync.
    let committer: GroupCommitter
    let environment: StoreEnvironment
    let limits: StoreLimits
    let logger: Logger
    /// The last message file id handed out. Ids come from here, not from SQLite, because a
    /// file is written before its row exists; content.id is AUTOINCREMENT so a committed id
    /// is never repeated, and one handed out but never committed is at worst an orphan file
    /// that the cleaner removes or the next writer of that name replaces.
    private let lastFileID: Mutex<Int64>
    private let quotaLimit = Mutex<Int64?>(nil)
    /// Header fields SEARCH, SORT and FETCH ENVELOPE have read, so the next one on them need
    /// not read them again.
    let headerCache: HeaderCache
    /// Mailbox ids by name for `mailboxID(named:)`, with a generation that renames and
    /// deletions (the only changes that move or free a name) advance when they empty it.
    private let mailboxIDs = Mutex<(generation: UInt64, ids: [String: MailboxID])>((0, [:]))
    /// Syncs small message files after the commit that made them durable.
    let fileSyncer: FileSyncer
    /// Shard directories known to exist (made or found by a placement), so placing a file
    /// costs no mkdir and stat. Nothing removes a shard while the account is open; one that
    /// vanished anyway fails the placement with ENOENT, which then makes it again.
    private let knownShards = Mutex<Set<Int64>>([])

    /// Message files per shard directory: keeps directories small for the filesystem and
    /// for tools. Fixed forever: changing it would move every file.
    public static let filesPerShard: Int64 = 4096

    init(
        name: String, directory: String, pool: DatabasePool, environment: StoreEnvironment, limits: StoreLimits, lastFileID: Int64,
        headerCacheBudget: HeaderCacheBudget, commitMetrics: CommitMetrics
    ) {
        self.name = name
        headerCache = HeaderCache(budget: headerCacheBudget)
        self.directory = directory
        self.pool = pool
        self.environment = environment
        self.limits = limits
        self.lastFileID = Mutex(lastFileID)
        feed = ChangeFeed(limit: limits.changeFeedBuffer)
        committer = GroupCommitter(pool: pool, feed: feed, metrics: commitMetrics)
        var logger = Logger(label: "store")
        logger[metadataKey: "account"] = "\(name)"
        self.logger = logger
        fileSyncer = FileSyncer(directory: directory, pool: pool, delay: limits.fileSyncDelay, logger: logger)
    }

    /// Opens (with `create`, also creates) the account in `directory`. A database without
    /// its account row (a crash during creation) is initialized now. With `recover`,
    /// message files not synced before an interruption are restored from the database.
    static func open(
        name: String, directory: String, create: Bool, recover: Bool, environment: StoreEnvironment, limits: StoreLimits,
        headerCacheBudget: HeaderCacheBudget, commitMetrics: CommitMetrics
    ) throws -> Account {
        let databasePath = directory + "/index.db"
        guard create || FileIO.exists(databasePath) else { throw StoreError.noSuchAccount(name) }
        try storeIO { () throws(FileIOError) in try FileIO.makeDirectories(directory + "/msg") }
        let pool = try StoreDatabase.openPool(path: databasePath, label: "account \(name)", migrator: AccountSchema.migrator)
        // The database file's directory entry must be durable like a message file's.
        try storeIO { () throws(FileIOError) in try FileIO.syncDirectory(directory) }
        let now = environment.now()
        let lastFileID = try pool.write { db -> Int64 in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM account") == nil {
                try Self.initialize(db, name: name, now: now, limits: limits)
            }
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'content'") ?? 0
            let highest = try Int64.fetchOne(db, sql: "SELECT max(id) FROM content") ?? 0
            return max(sequence, highest)
        }
        let account = Account(
            name: name, directory: directory, pool: pool, environment: environment, limits: limits, lastFileID: lastFileID,
            headerCacheBudget: headerCacheBudget, commitMetrics: commitMetrics)
        if recover { try account.fileSyncer.restore() }
        return account
    }

    /// A new account's row and default mailboxes: INBOX (RFC 9051 §5.1 requires it) and one
    /// per role (RFC 6154 special-use, plus Rejects), all subscribed so clients show them.
    private static func initialize(_ db: Database, name: String, now: Date, limits: StoreLimits) throws {
        try db.execute(
            sql: "INSERT INTO account (id, name, created, modSeq, lastUIDValidity) VALUES (1, ?, ?, 0, 0)",
            arguments: [name, now.timeIntervalSince1970])
        _ = try AccountDB.createMailbox(db, name: MailboxName.inbox, role: nil, subscribe: true, now: now, limits: limits)
        for role in MailboxRole.allCases {
            _ = try AccountDB.createMailbox(db, name: role.defaultName, role: role, subscribe: true, now: now, limits: limits)
        }
    }

    /// Syncs the message files waiting for it, ends the change streams, gives back the
    /// header cache's memory and closes the database; with `databaseInBackground` on
    /// another thread, because syncing files and closing the last connection (which
    /// checkpoints the WAL) is file work a caller on an event loop should not wait for.
    func close(databaseInBackground: Bool = false) {
        feed.close()
        headerCache.close()
        if databaseInBackground {
            DispatchQueue.global().async { [self] in
                fileSyncer.syncBeforeClosing()
                try? pool.close()
            }
        } else {
            fileSyncer.syncBeforeClosing()
            try? pool.close()
        }
    }

    // MARK: Files

    /// `msg/<id / filesPerShard>/<id>`.
    public func path(forFile id: Int64) -> String {
        Self.path(forFile: id, in: directory)
    }

    static func path(forFile id: Int64, in directory: String) -> String {
        "\(directory)/msg/\(id / filesPerShard)/\(id)"
    }

    func allocateFileID() -> Int64 {
        lastFileID.withLock { last in
            last += 1
            return last
        }
    }

    /// A message file put in place for a commit that is to follow.
    struct PlacedFile {
        var id: Int64
        var path: String
        var parsed: ParsedMessage
        /// The file's octets when it is small enough to be made durable by the commit
        /// (`StoreLimits.maxUnsyncedFileSize`): it was not fsynced, and the commit carries
        /// them (`AccountDB.insertContent`). Nil: the file is fsynced.
        var unsyncedOctets: [UInt8]?
        /// The file is not written yet: the octets wait in the file syncer for the commit
        /// (`placeFile(deferringWrite:)`).
        var deferred = false
    }

    /// Runs `body`, which adds the content row of `placed` (`AccountDB.insertContent`), in
    /// the next group transaction: for a synced file after syncing its directory, once for
    /// all files of the batch; an unsynced one has its sync scheduled once the commit holds
    /// its octets.
    /// A deferred file is written after the commit, away from the caller (FileSyncer.swift).
    func commit<T: Sendable>(
        adding placed: PlacedFile, _ body: @escaping @Sendable (Database) throws -> (T, [StoreChange])
    ) async throws -> T {
        let value: T
        do {
            value = try await committer.commit(syncing: placed.unsyncedOctets == nil ? [FileIO.parent(of: placed.path)] : [], body)
        } catch {
            if placed.deferred { fileSyncer.forget([placed.id]) }
            throw error
        }
        if placed.deferred {
            fileSyncer.writeCommitted(placed.id, at: placed.path) { octets in
                try storeIO { () throws(FileIOError) in try self.putInShard(.bytes(octets), at: placed.path, id: placed.id, sync: false) }
            }
        } else if placed.unsyncedOctets != nil {
            fileSyncer.schedule([placed.id])
        }
        return value
    }

    /// Puts a message file in place: a large one fsynced (and `msg/` when the shard is new,
    /// which `makeDirectory` syncs), a small one not (see `PlacedFile.unsyncedOctets`); its
    /// row then goes in with `commit(adding:)`.
    ///
    /// The parsed structure is `known` when its size matches the file (an earlier placement
    /// of the same message parsed it), otherwise parsed now, with the placing (on an I/O
    /// thread for a large file).
    ///
    /// With `deferringWrite`, a small message given as octets is not written here: the file
    /// syncer holds them (unless it holds too much already), and `commit(adding:)` has the
    /// file written after its commit.
    func placeFile(
        id: Int64, from source: MessageSource, known: ParsedMessage? = nil, deferringWrite: Bool = false
    ) async throws -> PlacedFile {
        let path = path(forFile: id)
        let size: Int64? = switch source {
        case let .bytes(bytes): Int64(bytes.count)
        case let .file(from): FileIO.fileSize(from)
        }
        let sync = (size ?? .max) > limits.maxUnsyncedFileSize
        var known = known
        if deferringWrite, !sync, case let .bytes(octets) = source {
            let parsed = try Self.parsed(MemorySource(octets), known: known)
            if fileSyncer.holdUnwritten(id, octets) {
                return PlacedFile(id: id, path: path, parsed: parsed, unsyncedOctets: octets, deferred: true)
            }
            known = parsed  // written below after all, not parsed again
        }
        let place = { @Sendable [known] () throws -> PlacedFile in
            try storeIO { () throws(FileIOError) in try self.putInShard(source, at: path, id: id, sync: sync) }
            var octets: [UInt8]?
            if !sync {
                switch source {
                case let .bytes(bytes): octets = bytes
                case .file:
                    let file = try FileSource(path: path)
                    octets = try file.read(offset: 0, length: file.count)
                }
            }
            // A small file is read (and parsed) from its octets, a large one from the file.
            let placed: any ByteSource = try octets.map(MemorySource.init) ?? FileSource(path: path)
            return PlacedFile(id: id, path: path, parsed: try Self.parsed(placed, known: known), unsyncedOctets: octets)
        }
        // A small file is placed right here: a link (or a write without fsync) and a read of
        // a few kilobytes, no more blocking than the caller's own writing of the received
        // message, and cheaper than the hand-off to an I/O thread and back.
        return sync ? try await blockingIO(place) : try place()
    }

    /// `known` when it is of a message of `source`'s size (an earlier placement parsed it),
    /// else `source` parsed now.
    private static func parsed(_ source: any ByteSource, known: ParsedMessage?) throws -> ParsedMessage {
        if let known, known.size == source.count { return known }
        return try ParsedMessage.parse(source)
    }

    /// Writes or links `source` to `path`, file `id`'s place, in its shard directory: made
    /// first unless a placement here already made or found it (`knownShards`).
    private func putInShard(_ source: MessageSource, at path: String, id: Int64, sync: Bool) throws(FileIOError) {
        let shard = id / Self.filesPerShard
        let put = { () throws(FileIOError) in
            switch source {
            case let .bytes(bytes): try FileIO.write(bytes, to: path, sync: sync)
            case let .file(from): try FileIO.place(from: from, to: path, sync: sync)
            }
        }
        if knownShards.withLock({ $0.contains(shard) }) {
            do throws(FileIOError) {
                return try put()
            } catch where error.errno == ENOENT {
                // The shard is gone after all: made again below.
            }
        }
        try FileIO.makeDirectory(FileIO.parent(of: path))
        try put()
        _ = knownShards.withLock { $0.insert(shard) }
    }

    func removeFiles(_ ids: [Int64]) {
        fileSyncer.forget(ids)
        for id in ids { FileIO.remove(path(forFile: id)) }
    }

    /// Opens message file `id` for reading: from the octets the file syncer holds while the
    /// file is not written yet, else the file. Files are written once and never modified,
    /// so a reader needs no lock; an expunge unlinks the path but an open source keeps
    /// reading.
    public func openMessage(fileID id: Int64) throws(ByteSourceError) -> any ByteSource {
        try Self.openMessage(at: path(forFile: id), unwritten: fileSyncer.unwrittenOctets(id))
    }

    /// The message whose file is at `path`, from `unwritten` when the file syncer held its
    /// octets (the file may not be written yet), else from the file.
    static func openMessage(at path: String, unwritten: [UInt8]?) throws(ByteSourceError) -> any ByteSource {
        if let unwritten { return MemorySource(unwritten) }
        return try FileSource(path: path)
    }

    /// Registers `changes` to be broadcast once the current transaction commits, from the
    /// writer queue, so subscribers see changes in commit order.
    func publishOnCommit(_ db: Database, _ changes: [StoreChange]) {
        guard !changes.isEmpty else { return }
        let feed = feed
        db.afterNextTransaction(onCommit: { _ in feed.publish(changes) })
    }

    // MARK: Change feed

    /// A stream of this account's changes from now on; see `ChangeFeed` for order and the
    /// overflow policy. It unsubscribes when the consumer stops iterating.
    public func changes() -> AsyncStream<StoreChange> {
        feed.subscribe()
    }

    // MARK: Mailboxes

    /// Every mailbox, by name.
    public func mailboxes() async throws -> [MailboxInfo] {
        try await pool.read { db in
            let subscribed = Set(try String.fetchAll(db, sql: "SELECT name FROM subscription"))
            return try Row.fetchAll(db, sql: "SELECT \(MailboxRow.columns) FROM mailbox ORDER BY name").map {
                let row = try MailboxRow(row: $0)
                return row.info(subscribed: subscribed.contains(row.name))
            }
        }
    }

    public func mailbox(named name: String) async throws -> MailboxInfo? {
        let name = try MailboxName.normalize(name, limits: limits)
        return try await pool.read { db in
            try MailboxRow.fetch(db, name: name).map { $0.info(subscribed: try AccountDB.isSubscribed(db, $0.name)) }
        }
    }

    /// The id of the mailbox named `name`, nil if there is none. APPEND asks this for every
    /// message, so ids found are kept: ids are never reused, and the kept ones are dropped
    /// when a mailbox is renamed or deleted. A lookup that overlaps such a change keeps
    /// nothing, so the change cannot be undone by a read made before it.
    public func mailboxID(named name: String) async throws -> MailboxID? {
        let name = try MailboxName.normalize(name, limits: limits)
        let (generation, known) = mailboxIDs.withLock { ($0.generation, $0.ids[name]) }
        if let known { return known }
        guard let id = try await pool.read({ db in try MailboxRow.fetch(db, name: name)?.id }) else { return nil }
        let mailbox = MailboxID(id)
        mailboxIDs.withLock { if $0.generation == generation { $0.ids[name] = mailbox } }
        return mailbox
    }

    /// After a mailbox was renamed or deleted: names may now mean other mailboxes, or none.
    private func forgetMailboxIDs() {
        mailboxIDs.withLock {
            $0.generation += 1
            $0.ids = [:]
        }
    }

    public func mailbox(role: MailboxRole) async throws -> MailboxInfo? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(MailboxRow.columns) FROM mailbox WHERE role = ?", arguments: [role.rawValue])
                .map { let row = try MailboxRow(row: $0); return row.info(subscribed: try AccountDB.isSubscribed(db, row.name)) }
        }
    }

    /// The mailbox's STATUS numbers (RFC 9051 §6.3.11): messages, unseen, deleted, UIDNEXT,
    /// UIDVALIDITY, HIGHESTMODSEQ, size. O(1): read from counters kept in the mailbox row.
    public func status(_ mailbox: MailboxID) async throws -> MailboxInfo {
        let info = try await pool.read { db in
            let row = try MailboxRow.require(db, id: mailbox)
            return row.info(subscribed: try AccountDB.isSubscribed(db, row.name))
        }
        feed.note(mailbox, highestModSeq: info.highestModSeq)
        return info
    }

    /// Whether `mailbox` may have changed since mod-sequence `modSeq` (a message added,
    /// flagged or expunged, or the mailbox deleted), answered from memory: false means it
    /// certainly has not, so a session need not read it to find out. True when it has, or
    /// when no change or `status` read of it has been seen since the account was opened.
    public func mayHaveChanged(_ mailbox: MailboxID, since modSeq: Int64) -> Bool {
        feed.mayHaveChanged(mailbox, since: modSeq)
    }

    // MARK: \Recent (RFC 3501 §2.3.2)

    /// Takes the messages of `mailbox` up to UID `upTo` that no session has taken before:
    /// they are \Recent for the caller's session alone ("this session is the first session
    /// to have been notified about this message"). Nil when there are none. Kept in the
    /// mailbox row, so a restart makes no message recent a second time.
    public func claimRecent(in mailbox: MailboxID, upTo: UInt32) async throws -> ClosedRange<UInt32>? {
        try await committer.commit { db -> (ClosedRange<UInt32>?, [StoreChange]) in
            let claimed = try MailboxRow.require(db, id: mailbox).recentUID
            guard Int64(upTo) > claimed else { return (nil, []) }
            try db.cachedStatement(sql: "UPDATE mailbox SET recentUID = ? WHERE id = ?").execute(arguments: [Int64(upTo), mailbox.rawValue])
            return (UInt32(claimed + 1)...upTo, [])
        }
    }

    /// The messages of `mailbox` no session has taken as \Recent yet: they would be recent
    /// for the next one to select it (STATUS RECENT, RFC 3501 §6.3.10).
    public func unclaimedRecentCount(in mailbox: MailboxID) async throws -> Int {
        try await pool.read { db in
            let claimed = try MailboxRow.require(db, id: mailbox).recentUID
            return try Int.fetchOne(
                db.cachedStatement(sql: "SELECT count(*) FROM message WHERE mailboxID = ? AND uid > ?"), arguments: [mailbox.rawValue, claimed]) ?? 0
        }
    }

    /// CREATE (RFC 9051 §6.3.4), with an optional RFC 6154 role (CREATE-SPECIAL-USE, §3).
    /// A trailing "/" only declares the intent to create children (§6.3.4) and is dropped.
    /// Missing superiors are created too.
    @discardableResult
    public func createMailbox(_ name: String, role: MailboxRole? = nil, subscribe: Bool = false) async throws -> MailboxInfo {
        let raw = name.hasSuffix("/") ? String(name.dropLast()) : name
        let name = try MailboxName.normalize(raw, limits: limits)
        let now = environment.now()
        let limits = limits
        let info = try await pool.write { [self] db -> MailboxInfo in
            if try MailboxRow.fetch(db, name: name) != nil { throw StoreError.mailboxExists(name) }
            let (row, changes) = try AccountDB.createMailbox(db, name: name, role: role, subscribe: subscribe, now: now, limits: limits)
            publishOnCommit(db, changes)
            return row.info(subscribed: try AccountDB.isSubscribed(db, name))
        }
        logger.info("mailbox created", metadata: ["mailbox": "\(name)"])
        return info
    }

    /// RENAME (RFC 9051 §6.3.6). Inferiors move along ("a/x" becomes "b/x"); missing
    /// superiors of the new name are created; subscriptions follow the mailboxes. A renamed
    /// mailbox keeps its id, UIDVALIDITY and UIDs: the old name stops existing, and if it
    /// is created again it gets a new UIDVALIDITY, so no UID of a name is ever reused.
    ///
    /// Renaming INBOX moves its messages to a new mailbox with the new name and leaves
    /// INBOX empty; INBOX's inferiors stay. The new mailbox has a fresh UIDVALIDITY, so the
    /// messages keep their UIDs; in INBOX they are recorded as expunged for QRESYNC and
    /// INBOX keeps its UIDNEXT, so its UIDs are not reused either.
    public func renameMailbox(_ from: String, to: String) async throws {
        let from = try MailboxName.normalize(from, limits: limits)
        let to = try MailboxName.normalize(to, limits: limits)
        defer { forgetMailboxIDs() }
        let now = environment.now()
        let limits = limits
        try await pool.write { [self] db in
            guard var source = try MailboxRow.fetch(db, name: from) else { throw StoreError.noSuchMailbox(from) }
            if try MailboxRow.fetch(db, name: to) != nil { throw StoreError.mailboxExists(to) }
            var changes: [StoreChange] = []
            if from == MailboxName.inbox {
                var (target, created) = try AccountDB.createMailbox(db, name: to, role: nil, subscribe: false, now: now, limits: limits)
                changes += created
                let modSeq = try AccountDB.nextModSeq(db)
                let uids = try Int64.fetchAll(db, sql: "SELECT uid FROM message WHERE mailboxID = ? ORDER BY uid", arguments: [source.id])
                try db.execute(
                    sql: "INSERT OR REPLACE INTO expunged (mailboxID, uid, modSeq) SELECT mailboxID, uid, ? FROM message WHERE mailboxID = ?",
                    arguments: [modSeq, source.id])
                try db.execute(sql: "UPDATE message SET mailboxID = ? WHERE mailboxID = ?", arguments: [target.id, source.id])
                target.uidNext = source.uidNext
                target.highestModSeq = modSeq
                target.messageCount = source.messageCount
                target.unseenCount = source.unseenCount
                target.deletedCount = source.deletedCount
                target.totalSize = source.totalSize
                target.keywords = source.keywords
                try target.save(db)
                source.messageCount = 0
                source.unseenCount = 0
                source.deletedCount = 0
                source.totalSize = 0
                source.highestModSeq = modSeq
                try source.save(db)
                if !uids.isEmpty {
                    changes.append(.expunged(mailbox: MailboxID(source.id), uids: uids.map { UInt32(truncatingIfNeeded: $0) }, highestModSeq: modSeq))
                }
                // The moved messages appear in the new mailbox; a subscriber sees them
                // when it selects it, as with any new mailbox.
            } else {
                if to.hasPrefix(from + "/") { throw StoreError.renameIntoItself(from: from, to: to) }
                let range = MailboxName.childRange(of: from)
                let children = try Row.fetchAll(
                    db, sql: "SELECT id, name FROM mailbox WHERE name >= ? AND name < ? ORDER BY name",
                    arguments: [range.lower, range.upper])
                var renames: [(id: Int64, old: String, new: String)] = [(source.id, from, to)]
                for child in children {
                    let old: String = try child.value("name")
                    renames.append((try child.value("id"), old, to + old.dropFirst(from.count)))
                }
                for rename in renames.dropFirst() {
                    _ = try MailboxName.normalize(rename.new, limits: limits)
                    if try MailboxRow.fetch(db, name: rename.new) != nil { throw StoreError.mailboxExists(rename.new) }
                }
                for parent in MailboxName.parents(of: to) where try MailboxRow.fetch(db, name: parent) == nil {
                    let (_, created) = try AccountDB.createMailbox(db, name: parent, role: nil, subscribe: false, now: now, limits: limits)
                    changes += created
                }
                for rename in renames {
                    try db.execute(sql: "UPDATE mailbox SET name = ? WHERE id = ?", arguments: [rename.new, rename.id])
                    if try AccountDB.isSubscribed(db, rename.old) {
                        try db.execute(sql: "DELETE FROM subscription WHERE name = ?", arguments: [rename.old])
                        try db.execute(sql: "INSERT OR IGNORE INTO subscription (name) VALUES (?)", arguments: [rename.new])
                    }
                    changes.append(.mailboxRenamed(mailbox: MailboxID(rename.id), from: rename.old, to: rename.new))
                }
            }
            publishOnCommit(db, changes)
        }
        logger.info("mailbox renamed", metadata: ["mailbox": "\(from)", "to": "\(to)"])
    }

    /// DELETE (RFC 9051 §6.3.5). INBOX cannot be deleted. A mailbox with inferiors is
    /// refused (NO [HASCHILDREN]) rather than turned into a \Noselect placeholder, which
    /// §6.3.5 allows and which keeps every name in Tern a real, selectable mailbox. Its
    /// messages go; files no other mailbox shares are unlinked after the commit. Its
    /// subscription stays (§6.3.9). A mailbox of that name created later gets a new
    /// UIDVALIDITY, which is what §6.3.5 asks for UIDs of the former incarnation.
    public func deleteMailbox(_ name: String) async throws {
        let name = try MailboxName.normalize(name, limits: limits)
        if name == MailboxName.inbox { throw StoreError.cannotDeleteInbox }
        defer { forgetMailboxIDs() }
        let removed = try await pool.write { [self] db -> [Int64] in
            guard let mailbox = try MailboxRow.fetch(db, name: name) else { throw StoreError.noSuchMailbox(name) }
            if try AccountDB.hasChildren(db, name) { throw StoreError.hasChildren(name) }
            let contents = Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT contentID FROM message WHERE mailboxID = ?", arguments: [mailbox.id]))
            try db.execute(sql: "DELETE FROM message WHERE mailboxID = ?", arguments: [mailbox.id])
            try db.execute(sql: "DELETE FROM expunged WHERE mailboxID = ?", arguments: [mailbox.id])
            try db.execute(sql: "DELETE FROM mailbox WHERE id = ?", arguments: [mailbox.id])
            let removed = try AccountDB.dropUnreferencedContent(db, contents)
            publishOnCommit(db, [.mailboxDeleted(mailbox: MailboxID(mailbox.id), name: name)])
            return removed
        }
        removeFiles(removed)
        logger.info("mailbox deleted", metadata: ["mailbox": "\(name)", "files": "\(removed.count)"])
    }

    // MARK: Subscriptions (RFC 9051 §6.3.7, §6.3.8)

    /// SUBSCRIBE. The name need not exist (RFC 9051 §6.3.7 lets a server accept it).
    public func subscribe(_ name: String) async throws {
        let name = try MailboxName.normalize(name, limits: limits)
        try await pool.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO subscription (name) VALUES (?)", arguments: [name])
        }
    }

    public func unsubscribe(_ name: String) async throws {
        let name = try MailboxName.normalize(name, limits: limits)
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM subscription WHERE name = ?", arguments: [name])
        }
    }

    /// Subscribed names, also of mailboxes that no longer exist (RFC 9051 §6.3.9).
    public func subscriptions() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM subscription ORDER BY name") }
    }

    // MARK: Quota

    /// The most message octets the account may hold (RFC 9208 STORAGE, counted like
    /// `quotaUsage`), nil for none. Set by whoever reads the configuration, again whenever
    /// it changes; enforced by deliveries, APPEND and COPY inside their transactions, so
    /// concurrent ones cannot together overshoot it.
    public var quotaBytes: Int64? {
        get { quotaLimit.withLock { $0 } }
        set { quotaLimit.withLock { $0 = newValue } }
    }

    /// Throws `overQuota` when adding `octets` would pass the limit. Inside the write
    /// transaction; O(mailboxes), like `quotaUsage`.
    func checkQuota(_ db: Database, adding octets: Int64) throws {
        guard let limit = quotaBytes, octets > 0 else { return }
        let used = try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(sum(totalSize), 0) FROM mailbox")) ?? 0
        if used + octets > limit { throw StoreError.overQuota(account: name, limit: limit) }
    }

    /// RFC 9208 STORAGE and MESSAGE usage: a sum over the mailbox counters, O(mailboxes).
    public func quotaUsage() async throws -> QuotaUsage {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT coalesce(sum(messageCount), 0) AS messages, coalesce(sum(totalSize), 0) AS storage FROM mailbox")
            let messages: Int64 = try row?.value("messages") ?? 0
            let storage: Int64 = try row?.value("storage") ?? 0
            return QuotaUsage(messages: Int(messages), storage: storage)
        }
    }
}
