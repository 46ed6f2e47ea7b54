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
                requireTLS: requireTLS, deliveryMetadata: metadata.map { [UInt8]($0) }, path: self.path(forFile: row.contentID))
        }
    }

    /// Like `storedMessages`, with only each message's own header section decoded, or only
    /// its fields named in `only`: FETCH ENVELOPE, SEARCH on header fields and SORT need
    /// nothing more.
    public func storedHeaders(in mailbox: MailboxID, uids: UIDSet, only names: HeaderNames? = nil) async throws -> [StoredHeader] {
        try await withStructures(in: mailbox, uids: uids) { row, structure, _, _ in
            StoredHeader(summary: row.summary, header: try StoredStructure.decodeHeader(structure, fileID: row.contentID, only: names))
        }
    }

    /// The summaries of the messages of `uids` whose header fields named in `names` satisfy
    /// `isMatch`, decided on the reader's thread in one trip: SEARCH on header fields keeps
    /// nothing of a message that does not match. The fields come from the account's
    /// `HeaderCache` where it has them; the stored structures are read for the others (all
    /// at once when many are missing, one by one when few are, e.g. new mail since the last
    /// search), and the cache keeps what they gave.
    public func summaries(
        in mailbox: MailboxID, uids: UIDSet, only names: HeaderNames,
        where isMatch: @escaping @Sendable (MessageSummary, HeaderSection) -> Bool
    ) async throws -> [MessageSummary] {
        let cache = headerCache
        let cached = try await pool.read { db -> [MessageSummary]? in
            _ = try MailboxRow.require(db, id: mailbox)
            var rows: [(MessageRow, HeaderSection?)] = []
            var missing = 0
            let statement = try db.cachedStatement(sql: MessageRow.select + " WHERE m.mailboxID = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid")
            for range in uids.merged {
                let cursor = try Row.fetchCursor(statement, arguments: [mailbox.rawValue, Int64(range.lowerBound), Int64(range.upperBound)])
                while let row = try cursor.next() {
                    let message = try MessageRow(row: row)
                    let header = cache.header(message.contentID, names)
                    if header == nil {
                        missing += 1
                        // Many to read: one scan of the rows with their structures is cheaper.
                        if missing > Self.headerCacheMissesReadOneByOne { return nil }
                    }
                    rows.append((message, header))
                }
            }
            var read: [(contentID: Int64, header: HeaderSection)] = []
            let structure = try db.cachedStatement(sql: "SELECT structure FROM content WHERE id = ?")
            var matches: [MessageSummary] = []
            for (message, known) in rows {
                let header: HeaderSection
                if let known {
                    header = known
                } else {
                    guard let row = try Row.fetchOne(structure, arguments: [message.contentID]) else { continue }
                    header = try row.withUnsafeData(atIndex: 0) { data in
                        guard let data else { throw StoreError.corrupt("message file \(message.contentID) without structure") }
                        return try StoredStructure.decodeHeader(data, fileID: message.contentID, only: names)
                    }
                    read.append((message.contentID, header))
                }
                if isMatch(message.summary, header) { matches.append(message.summary) }
            }
            cache.store(read, names: names)
            return matches
        }
        if let cached { return cached }
        let checked = try await withStructures(in: mailbox, uids: uids) { row, structure, _, _ -> (MessageSummary?, Int64, HeaderSection) in
            let summary = row.summary
            let header = try StoredStructure.decodeHeader(structure, fileID: row.contentID, only: names)
            return (isMatch(summary, header) ? summary : nil, row.contentID, header)
        }
        cache.store(checked.map { ($0.1, $0.2) }, names: names)
        return checked.compactMap(\.0)
    }

    /// Up to this many messages whose fields the cache lacks are read one by one; more, and
    /// the search reads every structure in one scan.
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
                    let requireTLS: Bool = try row.value(atIndex: 11)
                    let metadata: Data? = readMetadata ? try row.value(atIndex: 12) : nil
                    out.append(try row.withUnsafeData(atIndex: 10) { structure in
                        guard let structure else { throw StoreError.corrupt("message file \(message.contentID) without structure") }
                        return try make(message, structure, requireTLS, metadata)
                    })
                }
            }
            return out
        }
    }
}
