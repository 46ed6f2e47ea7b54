import Foundation
import GRDB

/// A mailbox row being changed inside a transaction: fetched once, adjusted in memory for
/// each message added or removed, written back once, so a delivery touches it O(1) times.
struct MailboxRow: Sendable {
    var id: Int64
    var name: String
    var role: MailboxRole?
    var uidValidity: UInt32
    /// Int64: UIDNEXT may reach 2^32 after UID 2^32-1 was given out.
    var uidNext: Int64
    var highestModSeq: Int64
    var messageCount: Int64
    var unseenCount: Int64
    var deletedCount: Int64
    var totalSize: Int64
    var keywords: [String]
    var recentUID: Int64

    static let columns = "id, name, role, uidValidity, uidNext, highestModSeq, messageCount, unseenCount, deletedCount, totalSize, keywords, recentUID"

    init(row: Row) throws {
        id = try row.value("id")
        name = try row.value("name")
        let roleName: String? = try row.value("role")
        role = roleName.flatMap(MailboxRole.init(rawValue:))
        let validity: Int64 = try row.value("uidValidity")
        guard let validity32 = UInt32(exactly: validity) else { throw StoreError.corrupt("mailbox \(id) UIDVALIDITY \(validity)") }
        uidValidity = validity32
        uidNext = try row.value("uidNext")
        highestModSeq = try row.value("highestModSeq")
        messageCount = try row.value("messageCount")
        unseenCount = try row.value("unseenCount")
        deletedCount = try row.value("deletedCount")
        totalSize = try row.value("totalSize")
        keywords = Keywords.decode(try row.value("keywords"))
        recentUID = try row.value("recentUID")
    }

    static func fetch(_ db: Database, id: Int64) throws -> MailboxRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM mailbox WHERE id = ?"), arguments: [id]).map(MailboxRow.init(row:))
    }

    static func fetch(_ db: Database, name: String) throws -> MailboxRow? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM mailbox WHERE name = ?"), arguments: [name]).map(MailboxRow.init(row:))
    }

    static func require(_ db: Database, id: MailboxID) throws -> MailboxRow {
        guard let row = try fetch(db, id: id.rawValue) else { throw StoreError.noSuchMailboxID(id) }
        return row
    }

    func save(_ db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE mailbox SET uidNext = ?, highestModSeq = ?, messageCount = ?, unseenCount = ?,
                    deletedCount = ?, totalSize = ?, keywords = ? WHERE id = ?
                """).execute(
            arguments: [uidNext, highestModSeq, messageCount, unseenCount, deletedCount, totalSize, Keywords.encode(keywords), id])
    }

    /// Adjusts the STATUS counters for one message coming (+1) or going (-1).
    mutating func count(_ flags: MessageFlags, size: Int64, _ delta: Int64) {
        messageCount += delta
        totalSize += size * delta
        if !flags.contains(.seen) { unseenCount += delta }
        if flags.contains(.deleted) { deletedCount += delta }
    }

    /// Remembers keywords for the FLAGS response; past the limit new ones are only on
    /// their messages (PERMANENTFLAGS carries \* anyway).
    mutating func learn(_ added: [String], limit: Int) {
        guard !added.isEmpty else { return }
        let merged = Keywords.union(keywords, added)
        if merged.count <= limit { keywords = merged }
    }

    func info(subscribed: Bool) -> MailboxInfo {
        MailboxInfo(
            id: MailboxID(id), name: name, role: role, uidValidity: uidValidity,
            uidNext: UInt32(clamping: uidNext), highestModSeq: highestModSeq,
            messages: Int(messageCount), unseen: Int(unseenCount), deleted: Int(deletedCount),
            size: totalSize, keywords: keywords, subscribed: subscribed, recentUID: UInt32(clamping: recentUID))
    }
}

/// A message row, with its content's size, as the mutating operations need it.
struct MessageRow: Sendable {
    var id: Int64
    var mailboxID: Int64
    var uid: UInt32
    var contentID: Int64
    var modSeq: Int64
    var flags: MessageFlags
    var keywords: [String]
    var internalDate: Date
    var saveDate: Date
    var size: Int64
    var internalDateZone: Int

    static let select = """
        SELECT m.id, m.mailboxID, m.uid, m.contentID, m.modSeq, m.flags, m.keywords, m.internalDate, m.saveDate, m.size,
            m.internalDateZone
        FROM message m
        """

    /// `select` and the content's structure, REQUIRETLS flag and delivery metadata.
    static let selectWithContent = """
        SELECT m.id, m.mailboxID, m.uid, m.contentID, m.modSeq, m.flags, m.keywords, m.internalDate, m.saveDate, m.size,
            m.internalDateZone, c.structure, c.requireTLS, c.deliveryMetadata
        FROM message m JOIN content c ON c.id = m.contentID
        """

    /// Reads the columns of `select` by position (a row may have more columns after them):
    /// lookups by name cost more than the rest of a FETCH FLAGS for every message.
    init(row: Row) throws {
        id = try row.value(atIndex: 0)
        mailboxID = try row.value(atIndex: 1)
        let uid64: Int64 = try row.value(atIndex: 2)
        guard let uid32 = UInt32(exactly: uid64) else { throw StoreError.corrupt("message \(id) UID \(uid64)") }
        uid = uid32
        contentID = try row.value(atIndex: 3)
        modSeq = try row.value(atIndex: 4)
        flags = MessageFlags(rawValue: (try row.value(atIndex: 5) as Int) & MessageFlags.mask)
        keywords = Keywords.decode(try row.value(atIndex: 6))
        internalDate = Date(timeIntervalSince1970: try row.value(atIndex: 7))
        saveDate = Date(timeIntervalSince1970: try row.value(atIndex: 8))
        size = try row.value(atIndex: 9)
        internalDateZone = try row.value(atIndex: 10)
    }

    var state: MessageState { MessageState(uid: uid, modSeq: modSeq, flags: flags, keywords: keywords) }

    var summary: MessageSummary {
        MessageSummary(
            uid: uid, modSeq: modSeq, flags: flags, keywords: keywords, size: size,
            internalDate: internalDate, internalDateZone: internalDateZone, saveDate: saveDate, fileID: contentID)
    }

    /// The messages of `mailbox` with UIDs in `uids`, ascending, each once.
    static func fetch(_ db: Database, mailbox: Int64, uids: UIDSet, onlyDeleted: Bool = false) throws -> [MessageRow] {
        var rows: [MessageRow] = []
        // Deleted-only uses the partial index message_deleted; the condition must be
        // written exactly as in the index for SQLite to pick it.
        let deleted = onlyDeleted ? " AND m.flags & 8 != 0" : ""
        let statement = try db.cachedStatement(sql: select + " WHERE m.mailboxID = ? AND m.uid BETWEEN ? AND ?\(deleted) ORDER BY m.uid")
        for range in uids.merged {
            let cursor = try Row.fetchCursor(statement, arguments: [mailbox, Int64(range.lowerBound), Int64(range.upperBound)])
            while let row = try cursor.next() { rows.append(try MessageRow(row: row)) }
        }
        return rows
    }
}

extension UIDSet {
    /// Sorted, overlapping and adjacent ranges joined, so no message is visited twice.
    var merged: [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = out.last, range.lowerBound <= last.upperBound || (last.upperBound < .max && range.lowerBound == last.upperBound + 1) {
                out[out.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                out.append(range)
            }
        }
        return out
    }
}

/// Operations on an account database inside a write transaction.
enum AccountDB {
    /// The next account-wide mod-sequence. RFC 7162 §3.1: mod-sequences only grow; one
    /// counter for the account makes them grow in every mailbox, across deletes and
    /// re-creation too. One operation (a STORE, a COPY, a delivery) takes one value for
    /// all the messages it changes: §3.1 asks only that each STORE gets a different one.
    static func nextModSeq(_ db: Database) throws -> Int64 {
        try db.cachedStatement(sql: "UPDATE account SET modSeq = modSeq + 1").execute()
        guard let value = try Int64.fetchOne(db.cachedStatement(sql: "SELECT modSeq FROM account")) else {
            throw StoreError.corrupt("account row missing")
        }
        return value
    }

    /// RFC 9051 §2.3.1.1: UIDVALIDITY must change whenever UIDs of a name could repeat, e.g.
    /// when a mailbox is deleted and created again. It is suggested to derive it from the
    /// time; taking max(clock, last + 1) per account also keeps it strictly increasing when
    /// the clock stands still or steps back.
    static func nextUIDValidity(_ db: Database, now: Date) throws -> UInt32 {
        guard let last = try Int64.fetchOne(db, sql: "SELECT lastUIDValidity FROM account") else {
            throw StoreError.corrupt("account row missing")
        }
        let seconds = now.timeIntervalSince1970
        let clock = seconds.isFinite ? Int64(max(1, min(seconds, Double(UInt32.max)))) : 1
        let next = max(last + 1, clock)
        guard let value = UInt32(exactly: next) else { throw StoreError.corrupt("UIDVALIDITY values exhausted") }
        try db.execute(sql: "UPDATE account SET lastUIDValidity = ?", arguments: [next])
        return value
    }

    /// Creates `name` (already normalized, known not to exist) and any missing superiors,
    /// RFC 9051 §6.3.4: "the server SHOULD create any superior hierarchical names that are
    /// needed". Superiors are ordinary mailboxes, so Tern never has \Noselect names.
    static func createMailbox(
        _ db: Database, name: String, role: MailboxRole?, subscribe: Bool, now: Date, limits: StoreLimits
    ) throws -> (MailboxRow, [StoreChange]) {
        var changes: [StoreChange] = []
        for parent in MailboxName.parents(of: name) where try MailboxRow.fetch(db, name: parent) == nil {
            let (_, created) = try insertMailbox(db, name: parent, role: nil, subscribe: subscribe, now: now, limits: limits)
            changes += created
        }
        let (row, created) = try insertMailbox(db, name: name, role: role, subscribe: subscribe, now: now, limits: limits)
        return (row, changes + created)
    }

    private static func insertMailbox(
        _ db: Database, name: String, role: MailboxRole?, subscribe: Bool, now: Date, limits: StoreLimits
    ) throws -> (MailboxRow, [StoreChange]) {
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM mailbox") ?? 0
        guard count < limits.maxMailboxes else { throw StoreError.tooManyMailboxes(limit: limits.maxMailboxes) }
        if let role, try Row.fetchOne(db, sql: "SELECT 1 FROM mailbox WHERE role = ?", arguments: [role.rawValue]) != nil {
            throw StoreError.roleInUse(role)
        }
        let uidValidity = try nextUIDValidity(db, now: now)
        let modSeq = try nextModSeq(db)
        try db.execute(
            sql: """
                INSERT INTO mailbox (name, role, uidValidity, uidNext, highestModSeq, created)
                VALUES (?, ?, ?, 1, ?, ?)
                """,
            arguments: [name, role?.rawValue, Int64(uidValidity), modSeq, now.timeIntervalSince1970])
        let id = db.lastInsertedRowID
        if subscribe {
            try db.execute(sql: "INSERT OR IGNORE INTO subscription (name) VALUES (?)", arguments: [name])
        }
        guard let row = try MailboxRow.fetch(db, id: id) else { throw StoreError.corrupt("mailbox \(id) vanished") }
        return (row, [.mailboxCreated(mailbox: MailboxID(id), name: name)])
    }

    /// The content row of a placed file; for a file not fsynced also the copy of its
    /// octets, which this commit makes durable (FileSyncer.swift).
    static func insertContent(
        _ db: Database, for placed: Account.PlacedFile, size: Int64, structure: Data, requireTLS: Bool,
        metadata: [UInt8]?, deliveryID: String?, now: Date
    ) throws {
        let id = placed.id
        try db.cachedStatement(
            sql: """
                INSERT INTO content (id, size, structure, requireTLS, deliveryMetadata, deliveryID, created)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(
            arguments: [id, size, structure, requireTLS, metadata.map { Data($0) }, deliveryID, now.timeIntervalSince1970])
        if let unsyncedOctets = placed.unsyncedOctets {
            try db.cachedStatement(sql: "INSERT INTO unsyncedFile (contentID, octets) VALUES (?, ?)")
                .execute(arguments: [id, Data(unsyncedOctets)])
        }
    }

    /// Drops the database copies of files now synced themselves.
    static func deleteUnsyncedFiles(_ db: Database, _ ids: [Int64]) throws {
        let delete = try db.cachedStatement(sql: "DELETE FROM unsyncedFile WHERE contentID = ?")
        for id in ids { try delete.execute(arguments: [id]) }
    }

    /// Adds a message to `mailbox` with the next UID (RFC 9051 §2.3.1.1: strictly
    /// ascending, never reused within one UIDVALIDITY).
    static func insertMessage(
        _ db: Database, into mailbox: inout MailboxRow, contentID: Int64, size: Int64, flags: MessageFlags,
        keywords: [String], internalDate: Date, internalDateZone: Int, saveDate: Date, modSeq: Int64, limits: StoreLimits
    ) throws -> UInt32 {
        guard let uid = UInt32(exactly: mailbox.uidNext) else { throw StoreError.uidsExhausted(mailbox.name) }
        try db.cachedStatement(
            sql: """
                INSERT INTO message (mailboxID, uid, contentID, modSeq, flags, keywords, internalDate, internalDateZone, saveDate, size)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(
            arguments: [
                mailbox.id, Int64(uid), contentID, modSeq, flags.rawValue, Keywords.encode(keywords),
                internalDate.timeIntervalSince1970, internalDateZone, saveDate.timeIntervalSince1970, size,
            ])
        mailbox.uidNext += 1
        mailbox.count(flags, size: size, 1)
        mailbox.highestModSeq = max(mailbox.highestModSeq, modSeq)
        mailbox.learn(keywords, limit: limits.maxKeywords)
        return uid
    }

    /// Removes messages from `mailbox`, remembering each UID with `modSeq` for QRESYNC
    /// (RFC 7162 §3.2.10). Returns the content ids they referenced.
    static func removeMessages(_ db: Database, from mailbox: inout MailboxRow, _ rows: [MessageRow], modSeq: Int64) throws -> Set<Int64> {
        var contents: Set<Int64> = []
        for row in rows {
            try db.cachedStatement(sql: "DELETE FROM message WHERE id = ?").execute(arguments: [row.id])
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO expunged (mailboxID, uid, modSeq) VALUES (?, ?, ?)")
                .execute(arguments: [mailbox.id, Int64(row.uid), modSeq])
            mailbox.count(row.flags, size: row.size, -1)
            contents.insert(row.contentID)
        }
        if !rows.isEmpty { mailbox.highestModSeq = max(mailbox.highestModSeq, modSeq) }
        return contents
    }

    /// Deletes content rows no message refers to any more; returns their file ids, whose
    /// files the caller unlinks after the commit (a crash before that leaves orphans for
    /// the cleaner, never a row without its file).
    static func dropUnreferencedContent(_ db: Database, _ ids: Set<Int64>) throws -> [Int64] {
        var removed: [Int64] = []
        for id in ids.sorted() {
            let used = try Row.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM message WHERE contentID = ? LIMIT 1"), arguments: [id]) != nil
            if !used {
                try db.cachedStatement(sql: "DELETE FROM content WHERE id = ?").execute(arguments: [id])
                removed.append(id)
            }
        }
        return removed
    }

    static func isSubscribed(_ db: Database, _ name: String) throws -> Bool {
        try Row.fetchOne(db, sql: "SELECT 1 FROM subscription WHERE name = ?", arguments: [name]) != nil
    }

    static func hasChildren(_ db: Database, _ name: String) throws -> Bool {
        let range = MailboxName.childRange(of: name)
        return try Row.fetchOne(
            db, sql: "SELECT 1 FROM mailbox WHERE name >= ? AND name < ? LIMIT 1",
            arguments: [range.lower, range.upper]) != nil
    }
}
