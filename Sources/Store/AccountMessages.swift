import DurableFiles
import Foundation
import GRDB
import Logging
import Message

/// Where one account's share of a delivery goes: a mailbox (normalized name) with the
/// flags and keywords of every recipient that chose it, merged.
struct MailboxTarget: Sendable {
    var name: String
    var flags: MessageFlags
    var keywords: [String]
}

extension Account {
    // MARK: Reading

    /// The messages of a mailbox in UID order, as SELECT needs them; with `changedSince`,
    /// only those with a greater MODSEQ (RFC 7162 §3.1.4 CHANGEDSINCE), via the
    /// (mailbox, modseq) index.
    public func messages(in mailbox: MailboxID, changedSince: Int64? = nil) async throws -> [MessageSummary] {
        try await pool.read { db in
            _ = try MailboxRow.require(db, id: mailbox)
            let cursor: RowCursor
            if let changedSince {
                cursor = try Row.fetchCursor(
                    db, sql: MessageRow.select + " WHERE m.mailboxID = ? AND m.modSeq > ? ORDER BY m.uid",
                    arguments: [mailbox.rawValue, changedSince])
            } else {
                cursor = try Row.fetchCursor(
                    db, sql: MessageRow.select + " WHERE m.mailboxID = ? ORDER BY m.uid", arguments: [mailbox.rawValue])
            }
            var out: [MessageSummary] = []
            while let row = try cursor.next() { out.append(try MessageRow(row: row).summary) }
            return out
        }
    }

    /// UIDs expunged from the mailbox with a MODSEQ above `modSeq`, ascending: QRESYNC's
    /// VANISHED (EARLIER) (RFC 7162 §3.2.5.2).
    public func vanished(in mailbox: MailboxID, since modSeq: Int64) async throws -> [UInt32] {
        try await pool.read { db in
            _ = try MailboxRow.require(db, id: mailbox)
            return try Int64.fetchAll(
                db, sql: "SELECT uid FROM expunged WHERE mailboxID = ? AND modSeq > ? ORDER BY uid",
                arguments: [mailbox.rawValue, modSeq]
            ).compactMap { UInt32(exactly: $0) }
        }
    }

    /// One message with its stored structure, or nil when there is no such UID.
    public func message(in mailbox: MailboxID, uid: UInt32) async throws -> StoredMessage? {
        try await storedMessages(in: mailbox, uids: UIDSet(uid...uid)).first
    }

    // MARK: APPEND

    /// APPEND (RFC 9051 §6.3.12): stores the message, then returns. The file is placed and
    /// made durable (by fsyncs, or by the commit: `placeFile`) before or with the commit of
    /// its row, so an OK sent after this returns is durable (DESIGN.md's acknowledgement rule).
    public func append(
        to mailbox: MailboxID, _ source: MessageSource, flags: MessageFlags = [], keywords: [String] = [],
        internalDate: (date: Date, zoneMinutes: Int)? = nil
    ) async throws -> AppendResult {
        let keywords = try Keywords.normalize(keywords, limits: limits)
        // A mailbox that is gone fails the commit, which removes the file: the session has
        // just found the mailbox, so asking first would cost every APPEND a read for nothing.
        let fileID = allocateFileID()
        let placed = try await placeFile(id: fileID, from: source, deferringWrite: true)
        let parsed = placed.parsed
        do {
            let structure = StoredStructure.encode(parsed)
            let now = environment.now()
            let limits = limits
            let result = try await commit(adding: placed) { db -> (AppendResult, [StoreChange]) in
                var row = try MailboxRow.require(db, id: mailbox)
                try self.checkQuota(db, adding: Int64(parsed.size))
                let modSeq = try AccountDB.nextModSeq(db)
                try AccountDB.insertContent(
                    db, for: placed, size: Int64(parsed.size), structure: structure, requireTLS: false, metadata: nil,
                    deliveryID: nil, now: now)
                let uid = try AccountDB.insertMessage(
                    db, into: &row, contentID: fileID, size: Int64(parsed.size), flags: flags, keywords: keywords,
                    internalDate: internalDate?.date ?? now, internalDateZone: internalDate?.zoneMinutes ?? 0, saveDate: now,
                    modSeq: modSeq, limits: limits)
                try row.save(db)
                let added = StoreChange.messagesAdded(
                    mailbox: mailbox, messages: [MessageState(uid: uid, modSeq: modSeq, flags: flags, keywords: keywords)],
                    highestModSeq: row.highestModSeq)
                return (AppendResult(mailbox: mailbox, uidValidity: row.uidValidity, uid: uid, modSeq: modSeq), [added])
            }
            logger.info("message appended", metadata: ["mailbox": "\(mailbox)", "uid": "\(result.uid)", "size": "\(parsed.size)"])
            return result
        } catch {
            FileIO.remove(placed.path)
            throw error
        }
    }

    // MARK: STORE

    /// STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3).
    ///
    /// Messages whose flags do not change keep their MODSEQ (RFC 7162 §3.1). With
    /// `unchangedSince`, a message whose MODSEQ is above it is left alone and reported in
    /// `modified`; the others get the new MODSEQ even when their flags were already as
    /// asked, because §3.1.3 says the server MUST update it when the conditional STORE
    /// succeeds.
    public func storeFlags(
        in mailbox: MailboxID, uids: UIDSet, _ operation: FlagOperation, flags: MessageFlags = [],
        keywords: [String] = [], unchangedSince: Int64? = nil
    ) async throws -> StoreFlagsResult {
        let keywords = try Keywords.normalize(keywords, limits: limits)
        let limits = limits
        return try await pool.write { [self] db -> StoreFlagsResult in
            var box = try MailboxRow.require(db, id: mailbox)
            let rows = try MessageRow.fetch(db, mailbox: box.id, uids: uids)
            var modSeq: Int64?
            var updates: [FlagUpdate] = []
            var modified: [UInt32] = []
            var changedStates: [MessageState] = []
            for row in rows {
                if let unchangedSince, row.modSeq > unchangedSince {
                    modified.append(row.uid)
                    continue
                }
                var newFlags: MessageFlags
                var newKeywords: [String]
                switch operation {
                case .replace:
                    newFlags = flags
                    newKeywords = keywords
                case .add:
                    newFlags = row.flags.union(flags)
                    newKeywords = Keywords.union(row.keywords, keywords)
                case .remove:
                    newFlags = row.flags.subtracting(flags)
                    newKeywords = Keywords.subtract(row.keywords, keywords)
                }
                newKeywords = Keywords.sorted(newKeywords)
                if newKeywords.count > limits.maxKeywords { throw StoreError.tooManyKeywords(limit: limits.maxKeywords) }
                let same = newFlags == row.flags
                    && Set(newKeywords.map { $0.lowercased() }) == Set(row.keywords.map { $0.lowercased() })
                guard !same || unchangedSince != nil else {
                    updates.append(FlagUpdate(state: row.state, changed: false))
                    continue
                }
                let value: Int64
                if let modSeq { value = modSeq } else {
                    value = try AccountDB.nextModSeq(db)
                    modSeq = value
                }
                try db.cachedStatement(sql: "UPDATE message SET flags = ?, keywords = ?, modSeq = ? WHERE id = ?")
                    .execute(arguments: [newFlags.rawValue, Keywords.encode(newKeywords), value, row.id])
                box.count(row.flags, size: row.size, -1)
                box.count(newFlags, size: row.size, 1)
                box.learn(newKeywords, limit: limits.maxKeywords)
                let state = MessageState(uid: row.uid, modSeq: value, flags: newFlags, keywords: newKeywords)
                updates.append(FlagUpdate(state: state, changed: true))
                changedStates.append(state)
            }
            if let modSeq {
                box.highestModSeq = max(box.highestModSeq, modSeq)
                try box.save(db)
                publishOnCommit(db, [.flagsChanged(mailbox: mailbox, messages: changedStates, highestModSeq: box.highestModSeq)])
            }
            return StoreFlagsResult(updates: updates, modified: modified, highestModSeq: box.highestModSeq)
        }
    }

    // MARK: COPY, MOVE, EXPUNGE

    /// COPY (RFC 9051 §6.4.7): new UIDs in the destination, in source UID order; flags,
    /// keywords and INTERNALDATE carried over, SAVEDATE now (RFC 8514 §4). The copies share
    /// the message file (one content row, counted by its references).
    public func copy(_ uids: UIDSet, from source: MailboxID, to destination: MailboxID) async throws -> CopyResult {
        try await transfer(uids, from: source, to: destination, move: false)
    }

    /// MOVE (RFC 6851 §3.3): a copy and an expunge of the originals in one transaction, so
    /// no other session ever sees the message in both mailboxes or in neither. Into the
    /// same mailbox it is that too (RFC 6851 sets no exception): the messages get new UIDs.
    public func move(_ uids: UIDSet, from source: MailboxID, to destination: MailboxID) async throws -> CopyResult {
        try await transfer(uids, from: source, to: destination, move: true)
    }

    private func transfer(_ uids: UIDSet, from source: MailboxID, to destination: MailboxID, move: Bool) async throws -> CopyResult {
        let now = environment.now()
        let limits = limits
        let result = try await pool.write { [self] db -> CopyResult in
            var from = try MailboxRow.require(db, id: source)
            var to = source == destination ? from : try MailboxRow.require(db, id: destination)
            let rows = try MessageRow.fetch(db, mailbox: source.rawValue, uids: uids)
            guard !rows.isEmpty else {
                return CopyResult(uidValidity: to.uidValidity, mapping: [], modSeq: to.highestModSeq)
            }
            // RFC 9208 §4.3: a COPY past the quota fails as a whole; a MOVE adds nothing.
            if !move { try checkQuota(db, adding: rows.reduce(0) { $0 + $1.size }) }
            let modSeq = try AccountDB.nextModSeq(db)
            var mapping: [UIDMapping] = []
            var added: [MessageState] = []
            for row in rows {
                let uid = try AccountDB.insertMessage(
                    db, into: &to, contentID: row.contentID, size: row.size, flags: row.flags, keywords: row.keywords,
                    internalDate: row.internalDate, internalDateZone: row.internalDateZone, saveDate: now, modSeq: modSeq, limits: limits)
                mapping.append(UIDMapping(source: row.uid, destination: uid))
                added.append(MessageState(uid: uid, modSeq: modSeq, flags: row.flags, keywords: row.keywords))
            }
            var changes: [StoreChange] = [.messagesAdded(mailbox: destination, messages: added, highestModSeq: to.highestModSeq)]
            if move {
                // Within one mailbox, the row that took the copies gives up the originals.
                if source == destination { from = to }
                _ = try AccountDB.removeMessages(db, from: &from, rows, modSeq: modSeq)
                changes.append(.expunged(mailbox: source, uids: rows.map(\.uid), highestModSeq: from.highestModSeq))
                if source == destination { to = from } else { try from.save(db) }
            }
            try to.save(db)
            publishOnCommit(db, changes)
            return CopyResult(uidValidity: to.uidValidity, mapping: mapping, modSeq: modSeq)
        }
        logger.debug(move ? "messages moved" : "messages copied", metadata: [
            "mailbox": "\(source)", "to": "\(destination)", "count": "\(result.mapping.count)",
        ])
        return result
    }

    /// EXPUNGE (RFC 9051 §6.4.3), or UID EXPUNGE (§6.4.9) with `uids`: removes the messages
    /// with \Deleted, records their UIDs for VANISHED, and unlinks files no other mailbox
    /// shares after the commit.
    public func expunge(in mailbox: MailboxID, uids: UIDSet = .all) async throws -> ExpungeResult {
        let (result, removed) = try await pool.write { [self] db -> (ExpungeResult, [Int64]) in
            var box = try MailboxRow.require(db, id: mailbox)
            let rows = try MessageRow.fetch(db, mailbox: box.id, uids: uids, onlyDeleted: true)
            guard !rows.isEmpty else { return (ExpungeResult(uids: [], modSeq: box.highestModSeq), []) }
            let modSeq = try AccountDB.nextModSeq(db)
            let contents = try AccountDB.removeMessages(db, from: &box, rows, modSeq: modSeq)
            try box.save(db)
            let removed = try AccountDB.dropUnreferencedContent(db, contents)
            publishOnCommit(db, [.expunged(mailbox: mailbox, uids: rows.map(\.uid), highestModSeq: box.highestModSeq)])
            return (ExpungeResult(uids: rows.map(\.uid), modSeq: modSeq), removed)
        }
        removeFiles(removed)
        if !result.uids.isEmpty {
            logger.debug("messages expunged", metadata: ["mailbox": "\(mailbox)", "count": "\(result.uids.count)"])
        }
        return result
    }

    // MARK: Delivery (called by Store.deliver)

    /// Commits one account's share of a delivery: one content row for the already placed
    /// file, one message row per target mailbox (created when missing), one MODSEQ. Only
    /// indexed lookups and inserts: the cost does not grow with mailbox size.
    func commitDelivery(
        placed: PlacedFile, size: Int64, structure: Data, requireTLS: Bool, metadata: [UInt8]?, internalDate: Date,
        targets: [MailboxTarget], deliveryID: String?
    ) async throws -> [DeliveredMessage] {
        let now = environment.now()
        let limits = limits
        let accountName = name
        let fileID = placed.id
        return try await commit(adding: placed) { db -> ([DeliveredMessage], [StoreChange]) in
            try self.checkQuota(db, adding: size * Int64(targets.count))
            var changes: [StoreChange] = []
            try AccountDB.insertContent(
                db, for: placed, size: size, structure: structure, requireTLS: requireTLS, metadata: metadata,
                deliveryID: deliveryID, now: now)
            var boxes: [MailboxRow] = []
            for target in targets {
                if let row = try MailboxRow.fetch(db, name: target.name) {
                    boxes.append(row)
                } else {
                    let (row, created) = try AccountDB.createMailbox(db, name: target.name, role: nil, subscribe: true, now: now, limits: limits)
                    changes += created
                    boxes.append(row)
                }
            }
            let modSeq = try AccountDB.nextModSeq(db)
            var delivered: [DeliveredMessage] = []
            for (index, target) in targets.enumerated() {
                let uid = try AccountDB.insertMessage(
                    db, into: &boxes[index], contentID: fileID, size: size, flags: target.flags, keywords: target.keywords,
                    internalDate: internalDate, internalDateZone: 0, saveDate: now, modSeq: modSeq, limits: limits)
                try boxes[index].save(db)
                let box = boxes[index]
                changes.append(.messagesAdded(
                    mailbox: MailboxID(box.id),
                    messages: [MessageState(uid: uid, modSeq: modSeq, flags: target.flags, keywords: target.keywords)],
                    highestModSeq: box.highestModSeq))
                delivered.append(DeliveredMessage(
                    account: accountName, mailbox: MailboxID(box.id), mailboxName: box.name,
                    uidValidity: box.uidValidity, uid: uid, modSeq: modSeq))
            }
            return (delivered, changes)
        }
    }

    /// Removes what a multi-account delivery committed here (its content rows carry the
    /// journal id): messages are expunged the ordinary way (VANISHED, change feed), the
    /// UIDs are not reused, and the files are unlinked after the commit. Idempotent.
    /// Returns the number of message rows removed.
    @discardableResult
    func undoDelivery(_ deliveryID: String) async throws -> Int {
        let (count, removed) = try await pool.write { [self] db -> (Int, [Int64]) in
            let contents = try Int64.fetchAll(db, sql: "SELECT id FROM content WHERE deliveryID = ?", arguments: [deliveryID])
            guard !contents.isEmpty else { return (0, []) }
            var byMailbox: [Int64: [MessageRow]] = [:]
            for content in contents {
                let rows = try Row.fetchAll(db, sql: MessageRow.select + " WHERE m.contentID = ?", arguments: [content])
                for row in rows {
                    let message = try MessageRow(row: row)
                    byMailbox[message.mailboxID, default: []].append(message)
                }
            }
            let modSeq = try AccountDB.nextModSeq(db)
            var changes: [StoreChange] = []
            var count = 0
            for (mailbox, rows) in byMailbox.sorted(by: { $0.key < $1.key }) {
                guard var box = try MailboxRow.fetch(db, id: mailbox) else { continue }
                let sorted = rows.sorted { $0.uid < $1.uid }
                _ = try AccountDB.removeMessages(db, from: &box, sorted, modSeq: modSeq)
                try box.save(db)
                count += sorted.count
                changes.append(.expunged(mailbox: MailboxID(mailbox), uids: sorted.map(\.uid), highestModSeq: box.highestModSeq))
            }
            let removed = try AccountDB.dropUnreferencedContent(db, Set(contents))
            publishOnCommit(db, changes)
            return (count, removed)
        }
        removeFiles(removed)
        return count
    }
}
