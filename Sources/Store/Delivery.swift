import DurableFiles
import Foundation
import GRDB
import Logging
import Message

// Delivery of a received message to local accounts.
//
// The rule (DESIGN.md): a message is acknowledged only after its file and directory are
// durable and its database transaction is committed; a crash at any point loses no
// acknowledged message. A large file is made durable by fsyncs before the commit; a small
// one by the commit itself, which carries a copy of its octets (FileSyncer.swift).
// `deliver` returns only when that holds for every recipient, and the SMTP server answers
// 250 only then.
//
// One account. The message is stored once per account: one file and one content row, and
// one message row per distinct target mailbox, however many of the account's addresses
// were recipients. Steps:
//   1. place the file (hard link from <data>/tmp, or copy across filesystems) at
//      msg/<shard>/<id>; a large one: fsync it, fsync the shard directory (and msg/ if the
//      shard is new);
//   2. commit the account's transaction (synchronous=FULL: durable when COMMIT returns),
//      with the octets of a small file.
// The commit is the atomic point. A crash before it leaves at most an orphan file, which
// the cleaner removes on the next start; the sender did not get 250 and retries.
//
// Several accounts. SQLite commits each account database atomically, but not several at
// once, so a journal (<data>/deliveries.db, synchronous=FULL) makes the whole delivery
// all-or-nothing:
//   1. journal: insert {delivery id, accounts} and commit;
//   2. for each account: place the file as above;
//   3. for each account: commit its transaction; its content row carries the delivery id;
//   4. journal: delete the entry and commit. This is the delivery's commit point: only
//      now does `deliver` return and may the message be acknowledged.
// Recovery on open, for every entry still in the journal: in each listed account, remove
// the content rows with that delivery id, their message rows (recorded as expunged, UIDs
// not reused) and their files; then delete the entry. Undoing is idempotent, so a crash
// during recovery just repeats it. Why undo rather than complete: an entry still present
// means `deliver` never returned success, so the sender never got 250 and will send the
// message again; completing it as well would deliver it twice.
//
// Crash points, and what a restart leaves (each is simulated in the tests through
// `StoreEnvironment.deliveryHook`):
//   - after step 1, or after some files are placed: no account committed; recovery deletes
//     the entry, the cleaner removes the orphan files: delivered nowhere;
//   - after some accounts committed (step 3 partly done, or all done before step 4):
//     recovery removes those messages: delivered nowhere;
//   - after step 4: delivered everywhere, the journal is empty. (If the crash comes before
//     the 250 was sent, the sender retries and the message arrives twice, which SMTP
//     accepts, RFC 5321 §6.1; losing it would not be.)
//
// A failure without a crash (an I/O error, a full disk) runs the same undo at once and
// throws; should the undo itself fail, the entry stays and the next start finishes it.
//
// Change feed: an account's changes are published when its transaction commits, so
// sessions see them in commit order. A multi-account delivery that is undone afterwards
// therefore shows up as an addition followed by an expunge, never as a silent vanishing.
//
// Cost: per account, a constant number of indexed lookups and inserts, independent of
// mailbox size, and one fsync'd commit, shared with the deliveries to that account that
// arrive meanwhile (`GroupCommitter`): the shard directory is synced and the WAL fsynced
// once per batch, each delivery in its own savepoint so one failure fails only itself.

/// The journal of multi-account deliveries in progress (`<data>/deliveries.db`).
final class DeliveryJournal: Sendable {
    struct Entry: Sendable {
        var id: String
        var accounts: [String]
    }

    private let pool: DatabasePool
    /// Concurrent multi-account deliveries share journal transactions too.
    private let committer: GroupCommitter

    init(path: String, commitMetrics: CommitMetrics) throws {
        pool = try StoreDatabase.openPool(path: path, label: "delivery journal", migrator: JournalSchema.migrator)
        committer = GroupCommitter(pool: pool, feed: nil, metrics: commitMetrics)
    }

    func begin(id: String, accounts: [String], now: Date) async throws {
        let encoded = String(decoding: try JSONEncoder().encode(accounts), as: UTF8.self)
        try await committer.commit { db in
            try db.execute(
                sql: "INSERT INTO delivery (id, accounts, created) VALUES (?, ?, ?)",
                arguments: [id, encoded, now.timeIntervalSince1970])
            return ((), [])
        }
    }

    /// Removes the entry: the delivery's commit point.
    func complete(_ id: String) async throws {
        try await committer.commit { db in
            try db.execute(sql: "DELETE FROM delivery WHERE id = ?", arguments: [id])
            return ((), [])
        }
    }

    func incomplete() async throws -> [Entry] {
        let rows = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, accounts FROM delivery ORDER BY created, id").map {
                (try $0.value("id") as String, try $0.value("accounts") as String)
            }
        }
        return try rows.map { id, accounts in
            do {
                return Entry(id: id, accounts: try JSONDecoder().decode([String].self, from: Data(accounts.utf8)))
            } catch {
                throw StoreError.corrupt("delivery journal entry \(id): \(error)")
            }
        }
    }

    func close() {
        try? pool.close()
    }
}

extension Store {
    /// Delivers a received message to its local recipients, durably and, across accounts,
    /// all-or-nothing (see the protocol above). Returns one result per (account, mailbox);
    /// when it returns, the message may be acknowledged. When it throws, the message is
    /// stored nowhere (or, after a crash, will be removed everywhere by recovery).
    ///
    /// `message.file` stays where it is: the caller unlinks it afterwards (it may also be
    /// queued for remote recipients). Since it is hard-linked, it must not be modified.
    ///
    /// Cancelling the caller cannot stop a delivery between the commits of two accounts: it
    /// waits only on the group committer's own task and on file work handed to other
    /// threads, none of which looks at cancellation. It runs in the caller's task, so the
    /// SMTP connection resumes on its event loop without another hop.
    public func deliver(_ message: IncomingMessage, to recipients: [DeliveryRecipient]) async throws -> [DeliveredMessage] {
        try await performDelivery(message, to: recipients)
    }

    private func performDelivery(_ message: IncomingMessage, to recipients: [DeliveryRecipient]) async throws -> [DeliveredMessage] {
        guard !recipients.isEmpty else { throw StoreError.noRecipients }

        // Plan: accounts in recipient order, each with its distinct mailboxes; recipients
        // of one account and mailbox merge into one message.
        var order: [String] = []
        var plan: [String: [MailboxTarget]] = [:]
        for recipient in recipients {
            try AccountName.validate(recipient.account, limits: limits)
            let mailbox = try MailboxName.normalize(recipient.mailbox, limits: limits)
            let keywords = try Keywords.normalize(recipient.keywords, limits: limits)
            if plan[recipient.account] == nil { order.append(recipient.account) }
            var targets = plan[recipient.account, default: []]
            if let index = targets.firstIndex(where: { $0.name == mailbox }) {
                targets[index].flags.formUnion(recipient.flags)
                targets[index].keywords = Keywords.union(targets[index].keywords, keywords)
            } else {
                targets.append(MailboxTarget(name: mailbox, flags: recipient.flags, keywords: keywords))
            }
            plan[recipient.account] = targets
        }
        guard order.count <= limits.maxDeliveryAccounts else { throw StoreError.tooManyAccounts(limit: limits.maxDeliveryAccounts) }
        // Every account must exist before anything is written.
        let accounts = try order.map { try account($0) }

        let file = message.file
        var parsed: ParsedMessage?
        let receivedAt = message.receivedAt ?? environment.now()
        let hook = environment.deliveryHook
        let deliveryID: String? = accounts.count > 1 ? newDeliveryID() : nil
        var logger = logger
        if let deliveryID { logger[metadataKey: "delivery"] = "\(deliveryID)" }

        // Hook calls stay outside the do/catch blocks: an error from the hook stands for a
        // crash and must leave everything exactly as it is.

        // 1. Journal.
        if let deliveryID {
            try await journal.begin(id: deliveryID, accounts: order, now: environment.now())
            try hook?(.journalBegun)
        }

        // 2. Files.
        // The first placement parses the message; later ones reuse that.
        var placed: [(account: Account, file: Account.PlacedFile)] = []
        for account in accounts {
            let fileID = account.allocateFileID()
            do {
                let file = try await account.placeFile(id: fileID, from: .file(file), known: parsed)
                parsed = file.parsed
                placed.append((account, file))
            } catch {
                await abandon(
                    files: placed.map { ($0.account, $0.file.path) } + [(account, account.path(forFile: fileID))], committed: [],
                    deliveryID: deliveryID, logger: logger)
                throw error
            }
            try hook?(.fileWritten(account: account.name))
        }

        // 3. Account commits.
        guard let parsed else { throw StoreError.noRecipients }
        let structure = StoredStructure.encode(parsed)
        let size = Int64(parsed.size)
        var results: [DeliveredMessage] = []
        var committed: [Account] = []
        let placedFiles = placed.map { ($0.account, $0.file.path) }
        for (account, file) in placed {
            let targets = plan[account.name, default: []]
            do {
                results += try await account.commitDelivery(
                    placed: file, size: size, structure: structure, requireTLS: message.requireTLS,
                    metadata: message.metadata, internalDate: receivedAt, targets: targets, deliveryID: deliveryID)
            } catch {
                await abandon(files: placedFiles, committed: committed, deliveryID: deliveryID, logger: logger)
                throw error
            }
            committed.append(account)
            try hook?(.accountCommitted(account: account.name))
        }

        // 4. Journal completion: the commit point.
        if let deliveryID {
            try hook?(.beforeJournalCompletion)
            do {
                try await journal.complete(deliveryID)
            } catch {
                await abandon(files: placedFiles, committed: committed, deliveryID: deliveryID, logger: logger)
                throw error
            }
            try hook?(.journalCompleted)
        }
        for result in results {
            logger.info("message delivered", metadata: [
                "account": "\(result.account)", "mailbox": "\(result.mailboxName)", "uid": "\(result.uid)", "size": "\(size)",
            ])
        }
        return results
    }

    /// Undoes a delivery that failed without a crash: removes what committed accounts
    /// stored, unlinks files of the others, and clears the journal entry. What cannot be
    /// undone now stays in the journal for recovery at the next start.
    private func abandon(
        files: [(account: Account, path: String)], committed: [Account], deliveryID: String?, logger: Logger
    ) async {
        var clean = true
        for account in committed {
            guard let deliveryID else { continue }
            do {
                try await account.undoDelivery(deliveryID)
            } catch {
                clean = false
                logger.error("cannot undo failed delivery; recovery will at next start", metadata: [
                    "account": "\(account.name)", "error": "\(error)",
                ])
            }
        }
        let committedNames = Set(committed.map(\.name))
        for (account, path) in files where !committedNames.contains(account.name) {
            FileIO.remove(path)
        }
        if let deliveryID, clean {
            do {
                try await journal.complete(deliveryID)
            } catch {
                logger.error("cannot clear delivery journal entry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// 128 random bits in hex: unique without a counter, so an id can never match the
    /// content rows of an older delivery, not even after deliveries.db is lost or restored.
    func newDeliveryID() -> String {
        environment.randomBytes(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
