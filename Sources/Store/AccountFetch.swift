import Foundation
import GRDB
import Message

// Reads the IMAP server needs for FETCH and SEARCH beyond `messages(in:)`.

extension Account {
    /// The summaries of the given UIDs of a mailbox, in UID order (UIDs that do not exist are
    /// left out): FETCH of FLAGS, INTERNALDATE, RFC822.SIZE, SAVEDATE and MODSEQ for a few
    /// messages without reading the whole mailbox. One indexed range scan per range of
    /// consecutive UIDs.
    public func summaries(in mailbox: MailboxID, uids: UIDSet) async throws -> [MessageSummary] {
        try await pool.read { db in
            _ = try MailboxRow.require(db, id: mailbox)
            return try MessageRow.fetch(db, mailbox: mailbox.rawValue, uids: uids).map(\.summary)
        }
    }

    /// The UIDs of a mailbox, ascending, and the position of the first message without
    /// \Seen: what IMAP SELECT needs (RFC 9051 §6.3.2; RFC 3501 §6.3.1 UNSEEN). Two integers
    /// a message, where `messages(in:)` would build a summary for each.
    public func uids(in mailbox: MailboxID) async throws -> (uids: [UInt32], firstUnseen: Int?) {
        try await pool.read { db in
            let row = try MailboxRow.require(db, id: mailbox)
            var uids: [UInt32] = []
            uids.reserveCapacity(Int(clamping: row.messageCount))
            var firstUnseen: Int?
            let cursor = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT uid, flags FROM message WHERE mailboxID = ? ORDER BY uid"), arguments: [mailbox.rawValue])
            while let message = try cursor.next() {
                let uid: Int64 = try message.value(atIndex: 0)
                guard let uid32 = UInt32(exactly: uid) else { throw StoreError.corrupt("mailbox \(mailbox) UID \(uid)") }
                let flags: Int = try message.value(atIndex: 1)
                if firstUnseen == nil, !MessageFlags(rawValue: flags & MessageFlags.mask).contains(.seen) { firstUnseen = uids.count }
                uids.append(uid32)
            }
            return (uids, firstUnseen)
        }
    }

    /// The messages of the given UIDs of a mailbox with their stored structures, in UID
    /// order (UIDs that do not exist are left out): FETCH of BODYSTRUCTURE or sections, and
    /// SEARCH in bodies, read many messages in one database trip instead of one per
    /// message. The structures are decoded on the reader's thread.
    public func storedMessages(in mailbox: MailboxID, uids: UIDSet) async throws -> [StoredMessage] {
        try await withStructures(in: mailbox, uids: uids, metadata: true) { row, structure, requireTLS, metadata in
            StoredMessage(
                mailbox: mailbox, summary: row.summary, parsed: try StoredStructure.decode(structure, fileID: row.contentID),
                requireTLS: requireTLS, deliveryMetadata: metadata.map { [UInt8]($0) }, path: self.path(forFile: row.contentID),
                unwrittenOctets: self.fileSyncer.unwrittenOctets(row.contentID))
        }
    }

    /// Like `storedMessages`, with only each message's own header section decoded, or only
    /// its fields named in `only`: FETCH ENVELOPE, SEARCH on header fields and SORT need
    /// nothing more. Named fields come from the account's `HeaderCache` where it has them
    /// (see `compactMapHeaders`).
    public func storedHeaders(in mailbox: MailboxID, uids: UIDSet, only names: HeaderNames? = nil) async throws -> [StoredHeader] {
        guard let names else {
            return try await withStructures(in: mailbox, uids: uids) { row, structure, _, _ in
                StoredHeader(summary: row.summary, header: try StoredStructure.decodeHeader(structure, fileID: row.contentID, only: nil))
            }
        }
        return try await compactMapHeaders(in: mailbox, uids: uids, only: names) { StoredHeader(summary: $0, header: $1) }
    }

    /// The summaries of the messages of `uids` whose header fields named in `names` satisfy
    /// `isMatch`, decided on the reader's thread in one trip: SEARCH on header fields keeps
    /// nothing of a message that does not match.
    public func summaries(
        in mailbox: MailboxID, uids: UIDSet, only names: HeaderNames,
        where isMatch: @escaping @Sendable (MessageSummary, HeaderSection) -> Bool
    ) async throws -> [MessageSummary] {
        try await compactMapHeaders(in: mailbox, uids: uids, only: names) { summary, header in isMatch(summary, header) ? summary : nil }
    }

    /// What `make` gives for each message of `uids` and its header fields named in `names`
    /// (nil: nothing), in UID order, made on the reader's thread in one trip: what a caller
    /// derives from a header (a FETCH's ENVELOPE) is made there, off its own thread. The
    /// fields come from the account's `HeaderCache` where it has them; the stored structures
    /// are read only for the others (new mail since the last search: one by one when few,
    /// else in ranges of their UIDs), and the cache keeps what they gave.
    public func compactMapHeaders<T: Sendable>(
        in mailbox: MailboxID, uids: UIDSet, only names: HeaderNames, _ make: @escaping @Sendable (MessageSummary, HeaderSection) -> T?
    ) async throws -> [T] {
        let cache = headerCache
        return try await pool.read { db -> [T] in
            _ = try MailboxRow.require(db, id: mailbox)
            let cached = cache.headers(names)
            var rows: [(MessageRow, HeaderSection?)] = []
            var missing: [UInt32] = []
            let statement = try db.cachedStatement(sql: MessageRow.select + " WHERE m.mailboxID = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid")
            for range in uids.merged {
                let cursor = try Row.fetchCursor(statement, arguments: [mailbox.rawValue, Int64(range.lowerBound), Int64(range.upperBound)])
                while let row = try cursor.next() {
                    let message = try MessageRow(row: row)
                    let header = cached[message.contentID]
                    if header == nil { missing.append(message.uid) }
                    rows.append((message, header))
                }
            }
            var read: [UInt32: HeaderSection] = [:]
            if missing.count > Self.headerCacheMissesReadOneByOne {
                // Many: the structures of the missing UIDs' ranges, a scan each.
                let scan = try db.cachedStatement(sql: "SELECT m.uid, c.id, c.structure FROM message m JOIN content c ON c.id = m.contentID WHERE m.mailboxID = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid")
                for range in UIDSet(missing).merged {
                    let cursor = try Row.fetchCursor(scan, arguments: [mailbox.rawValue, Int64(range.lowerBound), Int64(range.upperBound)])
                    while let row = try cursor.next() {
                        let uid: Int64 = try row.value(atIndex: 0)
                        let contentID: Int64 = try row.value(atIndex: 1)
                        read[UInt32(truncatingIfNeeded: uid)] = try Self.header(row, column: 2, contentID: contentID, names: names)
                    }
                }
            } else if !missing.isEmpty {
                let structure = try db.cachedStatement(sql: "SELECT structure FROM content WHERE id = ?")
                for (message, known) in rows where known == nil {
                    guard let row = try Row.fetchOne(structure, arguments: [message.contentID]) else { continue }
                    read[message.uid] = try Self.header(row, column: 0, contentID: message.contentID, names: names)
                }
            }
            var made: [T] = []
            var learned: [(contentID: Int64, header: HeaderSection)] = []
            for (message, known) in rows {
                guard let header = known ?? read[message.uid] else { continue }
                if known == nil { learned.append((message.contentID, header)) }
                if let value = make(message.summary, header) { made.append(value) }
            }
            cache.store(learned, names: names)
            return made
        }
    }

    /// The fields named in `names` of the structure in `column`, decoded where SQLite holds it.
    private static func header(_ row: Row, column: Int, contentID: Int64, names: HeaderNames) throws -> HeaderSection {
        try row.withUnsafeData(atIndex: column) { data in
            guard let data else { throw StoreError.corrupt("message file \(contentID) without structure") }
            return try StoredStructure.decodeHeader(data, fileID: contentID, only: names)
        }
    }

    /// Up to this many messages whose fields the cache lacks are read one by one; more are
    /// read in scans of their UID ranges.
    static let headerCacheMissesReadOneByOne = 64

    /// Reads the messages of `uids` with their content columns, one indexed range scan per
    /// range of UIDs, and makes each into a `T` on the reader's thread. The delivery
    /// metadata is read only when asked for (`metadata`): it is copied out of SQLite.
    private func withStructures<T: Sendable>(
        in mailbox: MailboxID, uids: UIDSet, metadata readMetadata: Bool = false, _ make: @escaping @Sendable (MessageRow, Data, Bool, Data?) throws -> T
    ) async throws -> [T] {
        try await pool.read { db -> [T] in
            _ = try MailboxRow.require(db, id: mailbox)
            var out: [T] = []
            let statement = try db.cachedStatement(sql: MessageRow.selectWithContent + " WHERE m.mailboxID = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid")
            for range in uids.merged {
                let cursor = try Row.fetchCursor(
                    statement, arguments: [mailbox.rawValue, Int64(range.lowerBound), Int64(range.upperBound)])
                while let row = try cursor.next() {
                    // The content columns follow MessageRow's, by position. The structure is
                    // read where SQLite holds it, not copied first.
                    let message = try MessageRow(row: row)
                    let requireTLS: Bool = try row.value(atIndex: 12)
                    let metadata: Data? = readMetadata ? try row.value(atIndex: 13) : nil
                    out.append(try row.withUnsafeData(atIndex: 11) { structure in
                        guard let structure else { throw StoreError.corrupt("message file \(message.contentID) without structure") }
                        return try make(message, structure, requireTLS, metadata)
                    })
                }
            }
            return out
        }
    }
}
