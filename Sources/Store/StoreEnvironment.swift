import Foundation

/// What the store takes from the outside world, injected so tests are exact (DESIGN.md:
/// time and randomness are injected).
public struct StoreEnvironment: Sendable {
    /// The clock: INTERNALDATE/SAVEDATE defaults and UIDVALIDITY seeds.
    public var now: @Sendable () -> Date
    /// `count` random octets: SCRAM salts and delivery journal ids.
    public var randomBytes: @Sendable (_ count: Int) -> [UInt8]
    /// Called between the durable steps of a delivery. Tests throw from it to simulate a
    /// crash at that point: the error propagates at once and nothing is cleaned up, exactly
    /// as if the process had died there. Nil in production.
    public var deliveryHook: (@Sendable (DeliveryStep) throws -> Void)?

    public init(
        now: @escaping @Sendable () -> Date,
        randomBytes: @escaping @Sendable (_ count: Int) -> [UInt8],
        deliveryHook: (@Sendable (DeliveryStep) throws -> Void)? = nil
    ) {
        self.now = now
        self.randomBytes = randomBytes
        self.deliveryHook = deliveryHook
    }

    /// The system clock and the system's cryptographic random generator.
    public static let system = StoreEnvironment(
        now: { Date() },
        randomBytes: { count in
            var generator = SystemRandomNumberGenerator()
            return (0..<max(0, count)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        }
    )
}

/// The points in a delivery where a crash leaves a distinct state on disk; see `Delivery.swift`.
public enum DeliveryStep: Hashable, Sendable {
    /// The journal entry of a multi-account delivery is committed.
    case journalBegun
    /// The message file is linked/copied into this account: fsynced when large; a small
    /// one is made durable by the account's commit, which carries its octets.
    case fileWritten(account: String)
    /// This account's transaction (message rows) is committed.
    case accountCommitted(account: String)
    /// Every account is committed; the journal entry is not yet removed.
    case beforeJournalCompletion
    /// The journal entry is removed: the delivery is complete and may be acknowledged.
    case journalCompleted
}

/// Every limit the store enforces, named (DESIGN.md: no unnamed limits).
public struct StoreLimits: Hashable, Sendable {
    /// Octets of UTF-8 in a full mailbox name.
    public var maxMailboxNameLength = 1024
    /// Levels of "/" hierarchy in a mailbox name.
    public var maxMailboxDepth = 32
    /// Mailboxes per account.
    public var maxMailboxes = 10_000
    /// Octets in one keyword.
    public var maxKeywordLength = 255
    /// Keywords on one message, and distinct keywords remembered per mailbox.
    public var maxKeywords = 200
    /// Octets of UTF-8 in an account name (it is also a directory name).
    public var maxAccountNameLength = 200
    /// Changes waiting for one change-feed subscriber before it is dropped with `.overflow`.
    public var changeFeedBuffer = 1000
    /// Distinct accounts one delivery may go to.
    public var maxDeliveryAccounts = 1000
    /// Octets the header fields kept for SEARCH, SORT and FETCH ENVELOPE may take, all
    /// accounts together (`HeaderCacheBudget`).
    public var headerCacheBytes = 64 << 20
    /// Accounts kept open while no one uses them. An open account holds its database
    /// connections (two or three descriptors each); past this many, those used longest ago
    /// are closed, and opened again on their next use. An account in use (a session, a
    /// delivery) is never closed, so the limit may be exceeded while they last.
    public var maxIdleOpenAccounts = 100
    /// Octets up to which a message file is made durable by the commit that stores it (a
    /// copy of its octets goes into that commit) rather than by fsyncs of the file and its
    /// directory before it, which are then done later for many files at once
    /// (FileSyncer.swift). Larger messages cost more to write twice than the two
    /// fsyncs they save.
    public var maxUnsyncedFileSize: Int64 = 64 << 10
    /// How long after its commit an unsynced message file is synced (with all the others
    /// committed meanwhile) and its database copy dropped. The sync is a syncfs(2) of the
    /// data directory's filesystem, which also writes out what other programs left pending
    /// there, so it runs at most twice a second; a crash then finds at most half a second
    /// of deliveries to restore.
    public var fileSyncDelay: Duration = .milliseconds(500)

    public init() {}
}

public enum StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidAccountName(String, reason: String)
    case accountExists(String)
    case noSuchAccount(String)
    /// Another `Store` holds the data directory's lock.
    case dataDirectoryInUse(String)
    case invalidMailboxName(String, reason: String)
    case mailboxExists(String)
    case noSuchMailbox(String)
    case noSuchMailboxID(MailboxID)
    /// RFC 9051 §6.3.5: it is an error to delete INBOX.
    case cannotDeleteInbox
    /// RFC 9051 §6.3.5: the mailbox has inferiors; answer NO [HASCHILDREN].
    case hasChildren(String)
    /// RENAME of a mailbox to a name below itself.
    case renameIntoItself(from: String, to: String)
    /// RFC 6154 §3: the role is taken; answer NO [USEATTR].
    case roleInUse(MailboxRole)
    case tooManyMailboxes(limit: Int)
    case invalidKeyword(String)
    case tooManyKeywords(limit: Int)
    /// The mailbox would need a UID above 2^32-1 (RFC 9051 §2.3.1.1).
    case uidsExhausted(String)
    case noRecipients
    case tooManyAccounts(limit: Int)
    /// Storing would take the account past its quota (RFC 9208 §5.1 STORAGE): SMTP answers
    /// 452 4.2.2 (RFC 3463 "mailbox full"), IMAP NO [OVERQUOTA].
    case overQuota(account: String, limit: Int64)
    /// A file operation failed.
    case io(operation: String, path: String, errno: Int32)
    /// The database holds something the store cannot read.
    case corrupt(String)

    public var description: String {
        switch self {
        case let .invalidAccountName(name, reason): return "invalid account name \(quoted(name)): \(reason)"
        case let .accountExists(name): return "account \(quoted(name)) already exists"
        case let .noSuchAccount(name): return "no account \(quoted(name))"
        case let .dataDirectoryInUse(path): return "data directory \(path) is in use by another store"
        case let .invalidMailboxName(name, reason): return "invalid mailbox name \(quoted(name)): \(reason)"
        case let .mailboxExists(name): return "mailbox \(quoted(name)) already exists"
        case let .noSuchMailbox(name): return "no mailbox \(quoted(name))"
        case let .noSuchMailboxID(id): return "no mailbox with id \(id)"
        case .cannotDeleteInbox: return "INBOX cannot be deleted"
        case let .hasChildren(name): return "mailbox \(quoted(name)) has children; delete them first"
        case let .renameIntoItself(from, to): return "cannot rename \(quoted(from)) to \(quoted(to)) below itself"
        case let .roleInUse(role): return "another mailbox already has the \(role.specialUseAttribute ?? role.rawValue) role"
        case let .tooManyMailboxes(limit): return "too many mailboxes (limit \(limit))"
        case let .invalidKeyword(keyword): return "invalid keyword \(quoted(keyword))"
        case let .tooManyKeywords(limit): return "too many keywords (limit \(limit))"
        case let .uidsExhausted(name): return "mailbox \(quoted(name)) has no UIDs left"
        case .noRecipients: return "delivery without recipients"
        case let .tooManyAccounts(limit): return "delivery to too many accounts (limit \(limit))"
        case let .overQuota(account, limit): return "account \(quoted(account)) would exceed its quota of \(limit) octets"
        case let .io(operation, path, code): return "\(operation) \(path): \(String(cString: strerror(code)))"
        case let .corrupt(what): return "corrupt store: \(what)"
        }
    }
}

func quoted(_ text: String) -> String {
    "\"" + text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined() + "\""
}
