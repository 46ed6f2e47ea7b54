import DurableFiles
import Foundation
import GRDB
import SQLiteSupport
import SMTP
import Synchronization

/// A message handed to the queue.
public struct Submission: Sendable {
    public enum Content: Sendable {
        case bytes([UInt8])
        /// A complete file, hard-linked (or copied) into the queue; the caller keeps it.
        case file(String)
    }

    public var sender: ReversePath
    /// The account that submitted the message (its routes apply); nil for the server's own.
    public var account: String?
    public var recipients: [Mailbox]
    public var content: Content
    public var body: MailParameters.Body
    public var utf8Header: Bool
    public var requireTLS: Bool
    /// "TLS-Required: No" (RFC 8689 §5): the recipients' TLS policies are not enforced.
    public var ignoreTLSPolicy: Bool
    public var envelopeID: String?
    /// The transport to use instead of the routes' choice.
    public var transport: String?
    /// Future release (RFC 4865): no attempt before `releaseAt`; the request is kept for DSNs.
    public var releaseAt: Date?
    public var futureReleaseRequest: String?

    public init(
        sender: ReversePath, account: String? = nil, recipients: [Mailbox], content: Content, body: MailParameters.Body = .sevenBit,
        utf8Header: Bool = false, requireTLS: Bool = false, ignoreTLSPolicy: Bool = false, envelopeID: String? = nil, transport: String? = nil, releaseAt: Date? = nil,
        futureReleaseRequest: String? = nil
    ) {
        self.sender = sender
        self.account = account
        self.recipients = recipients
        self.content = content
        self.body = body
        self.utf8Header = utf8Header
        self.requireTLS = requireTLS
        self.ignoreTLSPolicy = ignoreTLSPolicy
        self.envelopeID = envelopeID
        self.transport = transport
        self.releaseAt = releaseAt
        self.futureReleaseRequest = futureReleaseRequest
    }
}

/// Which queued messages an operation applies to; every given criterion must match, and an
/// empty filter matches all.
public struct QueueFilter: Sendable, Hashable {
    public var ids: [Int64]?
    public var recipientDomain: String?
    public var senderDomain: String?

    public init(ids: [Int64]? = nil, recipientDomain: String? = nil, senderDomain: String? = nil) {
        self.ids = ids
        self.recipientDomain = recipientDomain
        self.senderDomain = senderDomain
    }

    func matches(_ message: QueuedMessage) -> Bool {
        if let ids, !ids.contains(message.id) { return false }
        if let recipientDomain, Route.normalize(recipientDomain) != message.domain { return false }
        if let senderDomain, Route.normalize(senderDomain) != message.sender.mailbox.map({ Route.normalize($0.domain) }) { return false }
        return true
    }
}

public enum QueueStoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case noRecipients
    case io(FileIOError)
    case database(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .noRecipients: return "a queued message needs at least one recipient"
        case let .io(error): return error.description
        case let .database(text): return "queue database: \(text)"
        case let .corrupt(text): return "corrupt queue record: \(text)"
        }
    }
}

/// The durable state of the queue: `<data>/queue/index.db` (SQLite in WAL mode) and the
/// message files `<data>/queue/msg/<file id>`.
///
/// Enqueueing follows the durability rule of DESIGN.md, like the Store's delivery: the file
/// is written and fsynced, the `msg` directory is fsynced, and then the records are
/// committed with `synchronous = FULL`; only then does `enqueue` return, and only then may
/// the submission be acknowledged. A crash before the commit leaves an orphan file, which
/// `open` removes.
///
/// An attempt is recorded before it starts (`beginAttempt`: the attempt counted, the
/// record marked in progress) and its outcome after it ends (`finishAttempt`). Counting
/// first means a message that brings the server down is still given up on in time.
/// `open` finds records still marked in progress, which a crash interrupted, and makes
/// them due at once. Such a message can be delivered twice: when the crash fell between a
/// server's 250 and our commit of it, the recipient is still pending here. SMTP accepts
/// that risk (RFC 5321 §6.1: no message may be lost; a duplicate is the lesser harm).
public final class QueueStore: Sendable {
    public let directory: String
    private let pool: DatabasePool
    private let lastFileID: Mutex<Int64>

    var messageDirectory: String { directory + "/msg" }

    private init(directory: String, pool: DatabasePool, lastFileID: Int64) {
        self.directory = directory
        self.pool = pool
        self.lastFileID = Mutex(lastFileID)
    }

    /// Opens the queue in `directory` (`<data>/queue`), creating it when missing, and
    /// recovers: records whose attempt a crash interrupted become due at `now`; message
    /// files no record refers to (a crash before an enqueue committed, or after a removal
    /// committed) are deleted.
    public static func open(directory: String, now: Date) async throws -> QueueStore {
        let pool: DatabasePool
        do {
            try FileIO.makeDirectories(directory + "/msg")
            // An acknowledged submission must survive a power failure.
            pool = try SQLiteDatabase.openPool(
                path: directory + "/index.db", label: "queue", durability: .full, foreignKeys: true, migrator: migrator)
            try FileIO.syncDirectory(directory)
        } catch let error as FileIOError {
            throw QueueStoreError.io(error)
        }
        let referenced = try await pool.write { db -> Set<Int64> in
            try db.execute(sql: "UPDATE message SET inProgress = 0, nextAttempt = ? WHERE inProgress = 1", arguments: [now.timeIntervalSince1970])
            return Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT fileID FROM message"))
        }
        var highest = referenced.max() ?? 0
        for name in FileIO.list(directory + "/msg") {
            guard let id = Int64(name), referenced.contains(id) else {
                FileIO.remove(directory + "/msg/" + name)
                continue
            }
            highest = max(highest, id)
        }
        return QueueStore(directory: directory, pool: pool, lastFileID: highest)
    }

    public func close() {
        try? pool.close()
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE message (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    fileID INTEGER NOT NULL,
                    senderLocalPart TEXT,
                    senderDomain TEXT,
                    domain TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    body TEXT NOT NULL,
                    utf8Header INTEGER NOT NULL,
                    requireTLS INTEGER NOT NULL,
                    envelopeID TEXT,
                    created REAL NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    nextAttempt REAL NOT NULL,
                    lastAttempt REAL,
                    held INTEGER NOT NULL DEFAULT 0,
                    transport TEXT,
                    delayedDSNSent INTEGER NOT NULL DEFAULT 0,
                    inProgress INTEGER NOT NULL DEFAULT 0
                );
                CREATE INDEX message_due ON message (held, nextAttempt);
                CREATE TABLE recipient (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    messageID INTEGER NOT NULL REFERENCES message(id) ON DELETE CASCADE,
                    localPart TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status TEXT,
                    permanent INTEGER,
                    diagnostic TEXT,
                    smtpReply INTEGER,
                    remoteMTA TEXT
                );
                CREATE INDEX recipient_message ON recipient (messageID);
                """)
        }
        // The submitting account, for its routes. Records queued before have none: they take
        // the routes of their sender's domain and the global ones.
        migrator.registerMigration("v2-account") { db in
            try db.execute(sql: "ALTER TABLE message ADD COLUMN account TEXT")
        }
        migrator.registerMigration("futureRelease") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN releaseAt REAL;
                ALTER TABLE message ADD COLUMN futureReleaseRequest TEXT;
                """)
        }
        migrator.registerMigration("ignoreTLSPolicy") { db in
            try db.execute(sql: "ALTER TABLE message ADD COLUMN ignoreTLSPolicy INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }

    public func path(forFile id: Int64) -> String { messageDirectory + "/\(id)" }

    // MARK: Enqueue

    /// Stores `submission` durably, one record per recipient domain, all due at `now` (or at
    /// the submission's release time).
    /// Returns the records; when it returns, the submission may be acknowledged.
    public func enqueue(_ submission: Submission, now: Date) async throws -> [QueuedMessage] {
        guard !submission.recipients.isEmpty else { throw QueueStoreError.noRecipients }
        let fileID = lastFileID.withLock { last -> Int64 in
            last += 1
            return last
        }
        let path = path(forFile: fileID)
        let directory = messageDirectory
        let content = submission.content
        let size: Int64
        do {
            size = try await blockingIO { () throws -> Int64 in
                switch content {
                case let .bytes(bytes): try FileIO.write(bytes, to: path)
                case let .file(source): try FileIO.place(from: source, to: path)
                }
                // The file's directory entry is durable before the record naming it commits.
                try FileIO.syncDirectory(directory)
                return FileIO.fileSize(path) ?? 0
            }
        } catch let error as FileIOError {
            throw QueueStoreError.io(error)
        }
        var domains: [String] = []
        var byDomain: [String: [Mailbox]] = [:]
        for recipient in submission.recipients {
            let domain = Route.normalize(recipient.domain)
            if byDomain[domain] == nil { domains.append(domain) }
            if !(byDomain[domain]?.contains(recipient) ?? false) { byDomain[domain, default: []].append(recipient) }
        }
        let plan = (domains: domains, recipients: byDomain)
        let due = max(now, submission.releaseAt ?? now)
        do {
            return try await pool.write { db -> [QueuedMessage] in
                var records: [QueuedMessage] = []
                for domain in plan.domains {
                    try db.execute(
                        sql: """
                            INSERT INTO message (fileID, senderLocalPart, senderDomain, account, domain, size, body, utf8Header, requireTLS,
                                envelopeID, created, nextAttempt, transport, releaseAt, futureReleaseRequest, ignoreTLSPolicy)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            fileID, submission.sender.mailbox?.localPart, submission.sender.mailbox?.domain, submission.account, domain, size,
                            submission.body.rawValue, submission.utf8Header, submission.requireTLS, submission.envelopeID,
                            now.timeIntervalSince1970, due.timeIntervalSince1970, submission.transport,
                            submission.releaseAt?.timeIntervalSince1970, submission.futureReleaseRequest, submission.ignoreTLSPolicy,
                        ])
                    let messageID = db.lastInsertedRowID
                    var recipients: [QueuedRecipient] = []
                    for mailbox in plan.recipients[domain, default: []] {
                        try db.execute(
                            sql: "INSERT INTO recipient (messageID, localPart, domain, state) VALUES (?, ?, ?, 'pending')",
                            arguments: [messageID, mailbox.localPart, mailbox.domain])
                        recipients.append(QueuedRecipient(id: db.lastInsertedRowID, address: mailbox))
                    }
                    records.append(QueuedMessage(
                        id: messageID, fileID: fileID, sender: submission.sender, account: submission.account, domain: domain, recipients: recipients,
                        size: Int(size), body: submission.body, utf8Header: submission.utf8Header, requireTLS: submission.requireTLS,
                        ignoreTLSPolicy: submission.ignoreTLSPolicy, envelopeID: submission.envelopeID, created: now, nextAttempt: due, transport: submission.transport,
                        releaseAt: submission.releaseAt, futureReleaseRequest: submission.futureReleaseRequest))
                }
                return records
            }
        } catch {
            FileIO.remove(path)
            throw error
        }
    }

    // MARK: Reading

    /// Every record, oldest first.
    public func list(_ filter: QueueFilter = QueueFilter()) async throws -> [QueuedMessage] {
        try await pool.read { db in try Self.fetch(db, where: "1") }.filter(filter.matches)
    }

    public func message(_ id: Int64) async throws -> QueuedMessage? {
        try await pool.read { db in try Self.fetch(db, where: "id = ?", [id]).first }
    }

    /// Records due at `now`, not held and not in progress, by due time.
    public func due(at now: Date) async throws -> [QueuedMessage] {
        try await pool.read { db in
            try Self.fetch(db, where: "held = 0 AND inProgress = 0 AND nextAttempt <= ?", [now.timeIntervalSince1970])
        }.sorted { ($0.nextAttempt, $0.id) < ($1.nextAttempt, $1.id) }
    }

    /// When the next record not held and not in progress is due.
    public func nextDue() async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(db, sql: "SELECT min(nextAttempt) FROM message WHERE held = 0 AND inProgress = 0")
        }.map { Date(timeIntervalSince1970: $0) }
    }

    /// The number of records and the submission time of the oldest.
    public func statistics() async throws -> (count: Int, oldest: Date?) {
        try await pool.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*) AS count, min(created) AS oldest FROM message")
            let count: Int = row?["count"] ?? 0
            let oldest: Double? = row?["oldest"]
            return (count, oldest.map { Date(timeIntervalSince1970: $0) })
        }
    }

    private static func fetch(_ db: Database, where condition: String, _ arguments: StatementArguments = []) throws -> [QueuedMessage] {
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM message WHERE \(condition) ORDER BY created, id", arguments: arguments)
        return try rows.map { row in
            let id: Int64 = row["id"]
            let recipients = try Row.fetchAll(db, sql: "SELECT * FROM recipient WHERE messageID = ? ORDER BY id", arguments: [id]).map { row in
                let stateText: String = row["state"]
                guard let state = QueuedRecipient.State(rawValue: stateText) else { throw QueueStoreError.corrupt("recipient state \(stateText)") }
                var failure: DeliveryFailure?
                if let status: String = row["status"] {
                    failure = DeliveryFailure(
                        status: status, isPermanent: row["permanent"] ?? false, diagnostic: row["diagnostic"] ?? "",
                        isSMTPReply: row["smtpReply"] ?? false, remoteMTA: row["remoteMTA"])
                }
                return QueuedRecipient(id: row["id"], address: Mailbox(localPart: row["localPart"], domain: row["domain"]), state: state, lastFailure: failure)
            }
            let bodyText: String = row["body"]
            guard let body = MailParameters.Body(rawValue: bodyText) else { throw QueueStoreError.corrupt("message \(id): body \(bodyText)") }
            var sender = ReversePath.null
            if let local: String = row["senderLocalPart"], let domain: String = row["senderDomain"] {
                sender = .mailbox(Mailbox(localPart: local, domain: domain))
            }
            let lastAttempt: Double? = row["lastAttempt"]
            let releaseAt: Double? = row["releaseAt"]
            return QueuedMessage(
                id: id, fileID: row["fileID"], sender: sender, account: row["account"], domain: row["domain"], recipients: recipients,
                size: row["size"], body: body, utf8Header: row["utf8Header"], requireTLS: row["requireTLS"],
                ignoreTLSPolicy: row["ignoreTLSPolicy"], envelopeID: row["envelopeID"],
                created: Date(timeIntervalSince1970: row["created"]), attempts: row["attempts"],
                nextAttempt: Date(timeIntervalSince1970: row["nextAttempt"]), lastAttempt: lastAttempt.map { Date(timeIntervalSince1970: $0) },
                held: row["held"], transport: row["transport"], delayedDSNSent: row["delayedDSNSent"],
                releaseAt: releaseAt.map { Date(timeIntervalSince1970: $0) }, futureReleaseRequest: row["futureReleaseRequest"])
        }
    }

    // MARK: Attempts

    /// Counts an attempt and marks the records in progress, durably, before any delivery
    /// starts. Returns the records as they now are; ones that changed meanwhile (held,
    /// dropped, already in progress) are left out.
    public func beginAttempt(_ ids: [Int64], now: Date) async throws -> [QueuedMessage] {
        try await pool.write { db in
            var started: [QueuedMessage] = []
            for id in ids {
                try db.execute(
                    sql: "UPDATE message SET attempts = attempts + 1, lastAttempt = ?, inProgress = 1 WHERE id = ? AND held = 0 AND inProgress = 0",
                    arguments: [now.timeIntervalSince1970, id])
                if db.changesCount > 0, let message = try Self.fetch(db, where: "id = ?", [id]).first { started.append(message) }
            }
            return started
        }
    }

    /// Records the outcome of an attempt: the recipients' states and the next attempt, or
    /// removes the record when it is finished (and its file when no other record uses it).
    public func finishAttempt(_ message: QueuedMessage, plan: AttemptPlan) async throws {
        let removeFile = try await pool.write { db -> Bool in
            switch plan.next {
            case .finished:
                try db.execute(sql: "DELETE FROM message WHERE id = ?", arguments: [message.id])
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE fileID = ?", arguments: [message.fileID]) == 0
            case let .retry(at):
                try db.execute(
                    sql: "UPDATE message SET nextAttempt = ?, inProgress = 0, delayedDSNSent = ? WHERE id = ?",
                    arguments: [at.timeIntervalSince1970, plan.delayedDSNSent, message.id])
                for recipient in plan.recipients {
                    let failure = recipient.lastFailure
                    try db.execute(
                        sql: "UPDATE recipient SET state = ?, status = ?, permanent = ?, diagnostic = ?, smtpReply = ?, remoteMTA = ? WHERE id = ?",
                        arguments: [
                            recipient.state.rawValue, failure?.status, failure?.isPermanent, failure?.diagnostic, failure?.isSMTPReply,
                            failure?.remoteMTA, recipient.id,
                        ])
                }
                return false
            }
        }
        // After the commit: a crash before this unlink leaves an orphan that `open` removes.
        if removeFile { FileIO.remove(path(forFile: message.fileID)) }
    }

    /// Ends an attempt that recorded nothing (it was cancelled): the record is due again.
    public func abandonAttempt(_ id: Int64) async throws {
        try await pool.write { db in try db.execute(sql: "UPDATE message SET inProgress = 0 WHERE id = ?", arguments: [id]) }
    }

    // MARK: Operator actions

    /// Holds the matching records: no attempts until released. Returns how many.
    @discardableResult
    public func hold(_ filter: QueueFilter) async throws -> Int {
        try await update(filter, sql: "UPDATE message SET held = 1 WHERE id = ?")
    }

    @discardableResult
    public func release(_ filter: QueueFilter) async throws -> Int {
        try await update(filter, sql: "UPDATE message SET held = 0 WHERE id = ?")
    }

    /// Makes the matching records due at `now` ("retry now").
    @discardableResult
    public func kick(_ filter: QueueFilter, now: Date) async throws -> Int {
        try await update(filter, sql: "UPDATE message SET nextAttempt = ? WHERE id = ?", leading: [now.timeIntervalSince1970.databaseValue])
    }

    /// Sets (or, with nil, clears) the transport of the matching records.
    @discardableResult
    public func changeTransport(_ filter: QueueFilter, to transport: String?) async throws -> Int {
        try await update(filter, sql: "UPDATE message SET transport = ? WHERE id = ?", leading: [transport.databaseValue])
    }

    /// Sets the TLS requirement of the matching records, from their next attempt on.
    @discardableResult
    public func changeTLSRequirement(_ filter: QueueFilter, to requirement: TLSRequirement) async throws -> Int {
        try await update(
            filter, sql: "UPDATE message SET requireTLS = ?, ignoreTLSPolicy = ? WHERE id = ?",
            leading: [(requirement == .requireTLS).databaseValue, (requirement == .ignorePolicy).databaseValue])
    }

    /// Removes the matching records without delivering or reporting them. Records in
    /// progress are left alone: their attempt would put them back.
    @discardableResult
    public func drop(_ filter: QueueFilter) async throws -> Int {
        let matching = try await list(filter)
        let (count, files) = try await pool.write { db -> (Int, [Int64]) in
            var count = 0
            var files: [Int64] = []
            for message in matching {
                try db.execute(sql: "DELETE FROM message WHERE id = ? AND inProgress = 0", arguments: [message.id])
                guard db.changesCount > 0 else { continue }
                count += 1
                if try Int.fetchOne(db, sql: "SELECT count(*) FROM message WHERE fileID = ?", arguments: [message.fileID]) == 0 {
                    files.append(message.fileID)
                }
            }
            return (count, files)
        }
        for file in files { FileIO.remove(path(forFile: file)) }
        return count
    }

    private func update(_ filter: QueueFilter, sql: String, leading: [DatabaseValue] = []) async throws -> Int {
        let ids = try await list(filter).map(\.id)
        return try await pool.write { db in
            var count = 0
            for id in ids {
                try db.execute(sql: sql, arguments: StatementArguments(leading + [id.databaseValue]))
                count += db.changesCount
            }
            return count
        }
    }
}
