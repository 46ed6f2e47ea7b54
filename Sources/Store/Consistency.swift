import DurableFiles
import Foundation
import GRDB
import Message

/// One thing `Store.verify()` found wrong, precise enough to act on.
public enum ConsistencyProblem: Hashable, Sendable, CustomStringConvertible {
    /// A message file a row points to is not there.
    case missingFile(account: String, fileID: Int64, path: String)
    /// The file's size differs from the size recorded when it was stored.
    case sizeMismatch(account: String, fileID: Int64, path: String, recorded: Int64, actual: Int64)
    /// A message file whose octets only the database holds (it was not synced before an
    /// interruption) and that differs from them or is missing; opening the store with
    /// recovery restores it.
    case unrestoredFile(account: String, fileID: Int64, path: String)
    /// A file under msg/ that no content row names.
    case orphanFile(account: String, path: String)
    /// A content row no message refers to (its file should have been removed with it).
    case unreferencedContent(account: String, fileID: Int64)
    /// A message row whose copy of its content's size differs from the content row's.
    case messageSizeMismatch(account: String, mailbox: String, uid: UInt32, recorded: Int64, content: Int64)
    /// A message row pointing to a content row that does not exist.
    case missingContent(account: String, mailbox: String, uid: UInt32, fileID: Int64)
    /// A message row whose mailbox does not exist.
    case missingMailbox(account: String, mailboxID: Int64, uid: UInt32)
    /// The stored MIME structure does not decode, or does not describe the file.
    case badStructure(account: String, fileID: Int64, reason: String)
    /// RFC 9051 §2.3.1.1: every UID is below UIDNEXT.
    case uidNotBelowUIDNext(account: String, mailbox: String, uid: UInt32, uidNext: Int64)
    case duplicateUID(account: String, mailbox: String, uid: UInt32)
    /// RFC 7162 §3.1.1: HIGHESTMODSEQ is at least every message's MODSEQ.
    case modSeqAboveHighest(account: String, mailbox: String, uid: UInt32, modSeq: Int64, highestModSeq: Int64)
    /// A mailbox's HIGHESTMODSEQ beyond the account's mod-sequence counter.
    case highestModSeqAboveAccount(account: String, mailbox: String, highestModSeq: Int64, accountModSeq: Int64)
    /// A STATUS counter kept in the mailbox row disagrees with the messages.
    case counterMismatch(account: String, mailbox: String, counter: String, recorded: Int64, actual: Int64)
    /// An expunged UID also present as a message, or not below UIDNEXT.
    case badExpungedUID(account: String, mailbox: String, uid: UInt32, reason: String)
    /// The delivery journal has an entry that recovery has not handled.
    case incompleteDelivery(id: String, accounts: [String])
    case unreadableAccount(account: String, error: String)

    public var description: String {
        switch self {
        case let .missingFile(account, id, path):
            return "account \(account): message file \(id) missing at \(path)"
        case let .sizeMismatch(account, id, path, recorded, actual):
            return "account \(account): message file \(id) at \(path) has \(actual) octets, \(recorded) recorded"
        case let .unrestoredFile(account, id, path):
            return "account \(account): message file \(id) at \(path) is not yet restored from its copy in the database"
        case let .orphanFile(account, path):
            return "account \(account): file \(path) has no database row"
        case let .unreferencedContent(account, id):
            return "account \(account): message file \(id) is in no mailbox"
        case let .messageSizeMismatch(account, mailbox, uid, recorded, content):
            return "account \(account) mailbox \(mailbox) uid \(uid): size \(recorded) recorded, content has \(content)"
        case let .missingContent(account, mailbox, uid, id):
            return "account \(account) mailbox \(mailbox) uid \(uid): content \(id) missing"
        case let .missingMailbox(account, mailboxID, uid):
            return "account \(account): message uid \(uid) in missing mailbox \(mailboxID)"
        case let .badStructure(account, id, reason):
            return "account \(account): structure of message file \(id): \(reason)"
        case let .uidNotBelowUIDNext(account, mailbox, uid, uidNext):
            return "account \(account) mailbox \(mailbox): uid \(uid) not below uidnext \(uidNext)"
        case let .duplicateUID(account, mailbox, uid):
            return "account \(account) mailbox \(mailbox): uid \(uid) used twice"
        case let .modSeqAboveHighest(account, mailbox, uid, modSeq, highest):
            return "account \(account) mailbox \(mailbox) uid \(uid): modseq \(modSeq) above highestmodseq \(highest)"
        case let .highestModSeqAboveAccount(account, mailbox, highest, accountModSeq):
            return "account \(account) mailbox \(mailbox): highestmodseq \(highest) above account modseq \(accountModSeq)"
        case let .counterMismatch(account, mailbox, counter, recorded, actual):
            return "account \(account) mailbox \(mailbox): \(counter) is \(recorded), counted \(actual)"
        case let .badExpungedUID(account, mailbox, uid, reason):
            return "account \(account) mailbox \(mailbox): expunged uid \(uid) \(reason)"
        case let .incompleteDelivery(id, accounts):
            return "delivery \(id) to \(accounts.joined(separator: ", ")) is incomplete"
        case let .unreadableAccount(account, error):
            return "account \(account): \(error)"
        }
    }
}

extension Account {
    /// Paths under msg/ without a content row. Reads the set of content ids once: meant for
    /// start-up and verification, not for the delivery path.
    func orphanFiles() throws -> [String] {
        let ids = Set(try pool.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM content") })
        return messageFiles().filter { file in file.id.map { !ids.contains($0) } ?? true }.map(\.path)
    }

    /// Every entry under msg/, with the file id its name and shard give (nil when the name
    /// is not a message file's, or the shard is the wrong one for it).
    func messageFiles() -> [(path: String, id: Int64?)] {
        let root = directory + "/msg"
        var out: [(String, Int64?)] = []
        for shard in FileIO.list(root).sorted() {
            let shardPath = root + "/" + shard
            guard FileIO.isDirectory(shardPath), let shardNumber = Int64(shard) else {
                out.append((shardPath, nil))
                continue
            }
            for name in FileIO.list(shardPath).sorted() {
                let id = Int64(name).flatMap { $0 > 0 && $0 / Self.filesPerShard == shardNumber && String($0) == name ? $0 : nil }
                out.append((shardPath + "/" + name, id))
            }
        }
        return out
    }

    func verify() async throws -> [ConsistencyProblem] {
        let account = name
        var problems = try await pool.read { [self] db -> [ConsistencyProblem] in
            var problems: [ConsistencyProblem] = []
            let accountModSeq = try Int64.fetchOne(db, sql: "SELECT modSeq FROM account") ?? 0
            var mailboxes: [Int64: MailboxRow] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT \(MailboxRow.columns) FROM mailbox") {
                let mailbox = try MailboxRow(row: row)
                mailboxes[mailbox.id] = mailbox
                if mailbox.highestModSeq > accountModSeq {
                    problems.append(.highestModSeqAboveAccount(
                        account: account, mailbox: mailbox.name, highestModSeq: mailbox.highestModSeq, accountModSeq: accountModSeq))
                }
            }

            // Contents: file present with the recorded size, structure decodes and fits.
            let contents = try Row.fetchCursor(db, sql: """
                SELECT c.id, c.size, c.structure, u.octets FROM content c LEFT JOIN unsyncedFile u ON u.contentID = c.id ORDER BY c.id
                """)
            while let row = try contents.next() {
                let id: Int64 = try row.value("id")
                let size: Int64 = try row.value("size")
                let structure: Data = try row.value("structure")
                let unsynced: Data? = try row.value("octets")
                let path = path(forFile: id)
                if let unsynced {
                    if Int64(unsynced.count) != size {
                        problems.append(.sizeMismatch(
                            account: account, fileID: id, path: "database copy of \(path)", recorded: size, actual: Int64(unsynced.count)))
                    } else if (try? FileSource(path: path)).flatMap({ try? $0.read(offset: 0, length: $0.count + 1) }) != [UInt8](unsynced) {
                        problems.append(.unrestoredFile(account: account, fileID: id, path: path))
                    }
                } else if let actual = FileIO.fileSize(path) {
                    if actual != size {
                        problems.append(.sizeMismatch(account: account, fileID: id, path: path, recorded: size, actual: actual))
                    }
                } else {
                    problems.append(.missingFile(account: account, fileID: id, path: path))
                }
                do {
                    let parsed = try StoredStructure.decode(structure, fileID: id)
                    if Int64(parsed.size) != size {
                        problems.append(.badStructure(account: account, fileID: id, reason: "describes \(parsed.size) octets, file has \(size)"))
                    }
                } catch {
                    problems.append(.badStructure(account: account, fileID: id, reason: "does not decode: \(error)"))
                }
            }
            for id in try Int64.fetchAll(db, sql: """
                SELECT c.id FROM content c WHERE NOT EXISTS (SELECT 1 FROM message m WHERE m.contentID = c.id) ORDER BY c.id
                """) {
                problems.append(.unreferencedContent(account: account, fileID: id))
            }

            // Messages: UIDs, mod-sequences, references; and the counters, recounted.
            struct Counts { var messages: Int64 = 0, unseen: Int64 = 0, deleted: Int64 = 0, size: Int64 = 0 }
            var counts: [Int64: Counts] = [:]
            var previous: (mailbox: Int64, uid: UInt32)?
            let messages = try Row.fetchCursor(db, sql: """
                SELECT m.mailboxID, m.uid, m.modSeq, m.flags, m.contentID, m.size AS recordedSize, c.size, c.id IS NOT NULL AS hasContent
                FROM message m LEFT JOIN content c ON c.id = m.contentID ORDER BY m.mailboxID, m.uid
                """)
            while let row = try messages.next() {
                let mailboxID: Int64 = try row.value("mailboxID")
                let uid = UInt32(clamping: try row.value("uid") as Int64)
                let modSeq: Int64 = try row.value("modSeq")
                let flags = MessageFlags(rawValue: (try row.value("flags") as Int) & MessageFlags.mask)
                let contentID: Int64 = try row.value("contentID")
                let hasContent: Bool = try row.value("hasContent")
                let size: Int64 = try row.value("size") ?? 0
                guard let mailbox = mailboxes[mailboxID] else {
                    problems.append(.missingMailbox(account: account, mailboxID: mailboxID, uid: uid))
                    continue
                }
                let recordedSize: Int64 = try row.value("recordedSize")
                if !hasContent {
                    problems.append(.missingContent(account: account, mailbox: mailbox.name, uid: uid, fileID: contentID))
                } else if recordedSize != size {
                    problems.append(.messageSizeMismatch(account: account, mailbox: mailbox.name, uid: uid, recorded: recordedSize, content: size))
                }
                if uid == 0 || Int64(uid) >= mailbox.uidNext {
                    problems.append(.uidNotBelowUIDNext(account: account, mailbox: mailbox.name, uid: uid, uidNext: mailbox.uidNext))
                }
                if let previous, previous.mailbox == mailboxID, previous.uid == uid {
                    problems.append(.duplicateUID(account: account, mailbox: mailbox.name, uid: uid))
                }
                previous = (mailboxID, uid)
                if modSeq > mailbox.highestModSeq {
                    problems.append(.modSeqAboveHighest(
                        account: account, mailbox: mailbox.name, uid: uid, modSeq: modSeq, highestModSeq: mailbox.highestModSeq))
                }
                var count = counts[mailboxID, default: Counts()]
                count.messages += 1
                count.size += recordedSize
                if !flags.contains(.seen) { count.unseen += 1 }
                if flags.contains(.deleted) { count.deleted += 1 }
                counts[mailboxID] = count
            }
            for mailbox in mailboxes.values.sorted(by: { $0.id < $1.id }) {
                let count = counts[mailbox.id, default: Counts()]
                let pairs: [(String, Int64, Int64)] = [
                    ("messages", mailbox.messageCount, count.messages), ("unseen", mailbox.unseenCount, count.unseen),
                    ("deleted", mailbox.deletedCount, count.deleted), ("size", mailbox.totalSize, count.size),
                ]
                for (counter, recorded, actual) in pairs where recorded != actual {
                    problems.append(.counterMismatch(account: account, mailbox: mailbox.name, counter: counter, recorded: recorded, actual: actual))
                }
            }

            // Expunged UIDs: below UIDNEXT, not also present.
            let expunged = try Row.fetchCursor(db, sql: """
                SELECT e.mailboxID, e.uid, e.modSeq, EXISTS (SELECT 1 FROM message m WHERE m.mailboxID = e.mailboxID AND m.uid = e.uid) AS present
                FROM expunged e ORDER BY e.mailboxID, e.uid
                """)
            while let row = try expunged.next() {
                let mailboxID: Int64 = try row.value("mailboxID")
                let uid = UInt32(clamping: try row.value("uid") as Int64)
                let modSeq: Int64 = try row.value("modSeq")
                let present: Bool = try row.value("present")
                let name = mailboxes[mailboxID]?.name ?? "#\(mailboxID)"
                guard let mailbox = mailboxes[mailboxID] else {
                    problems.append(.badExpungedUID(account: account, mailbox: name, uid: uid, reason: "in a missing mailbox"))
                    continue
                }
                if present { problems.append(.badExpungedUID(account: account, mailbox: name, uid: uid, reason: "is also present")) }
                if Int64(uid) >= mailbox.uidNext {
                    problems.append(.badExpungedUID(account: account, mailbox: name, uid: uid, reason: "not below uidnext \(mailbox.uidNext)"))
                }
                if modSeq > mailbox.highestModSeq {
                    problems.append(.badExpungedUID(account: account, mailbox: name, uid: uid, reason: "modseq \(modSeq) above highestmodseq \(mailbox.highestModSeq)"))
                }
            }
            return problems
        }
        for path in try orphanFiles() {
            problems.append(.orphanFile(account: account, path: path))
        }
        return problems
    }
}
