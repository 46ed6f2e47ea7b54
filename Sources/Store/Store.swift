import DurableFiles
import Foundation
import GRDB
import Logging
import Synchronization

/// The mail store of one data directory:
///
/// ```
/// <data>/accounts/<account>/index.db           mailboxes, messages, flags, credentials (SQLite, WAL)
/// <data>/accounts/<account>/msg/<shard>/<id>   one file per message, written once, never modified
/// <data>/deliveries.db                         journal of multi-account deliveries in progress
/// <data>/tmp/                                  files being received; emptied on open
/// <data>/store.lock                            flock(2): one Store per data directory
/// ```
///
/// `open` first finishes what a crash interrupted: it undoes multi-account deliveries the
/// journal shows as incomplete (`Delivery.swift`), then removes everything in `tmp/` and
/// every message file without a database row. Each account, when opened, restores the
/// small message files that were durable only through its database (FileSyncer.swift).
/// Open the store before any service starts, since files in `tmp/` are assumed to belong
/// to nobody at that point.
public final class Store: Sendable {
    public let dataDirectory: String
    let environment: StoreEnvironment
    let limits: StoreLimits
    let journal: DeliveryJournal
    /// Whether crash leftovers are repaired (`open(recover:)`); accounts restore their
    /// unsynced message files on opening only then.
    let recovers: Bool
    let logger = Logger(label: "store")
    private let openAccounts = Mutex(OpenAccounts())
    private let headerCacheBudget: HeaderCacheBudget
    private let metrics: StoreMetrics
    private let lockDescriptor: Mutex<Int32?>

    public var temporaryDirectory: String { dataDirectory + "/tmp" }
    var accountsDirectory: String { dataDirectory + "/accounts" }

    private init(
        dataDirectory: String, environment: StoreEnvironment, limits: StoreLimits, metrics: StoreMetrics, journal: DeliveryJournal,
        recovers: Bool, lock: Int32
    ) {
        self.dataDirectory = dataDirectory
        self.recovers = recovers
        self.environment = environment
        self.limits = limits
        self.metrics = metrics
        self.journal = journal
        headerCacheBudget = HeaderCacheBudget(bytes: limits.headerCacheBytes)
        lockDescriptor = Mutex(lock)
    }

    deinit {
        close()
    }

    /// Opens the store in `dataDirectory`, creating the layout when missing.
    ///
    /// With `recover` (the default, for `serve`), runs journal recovery and then the cleaner.
    /// Without it (for `verifydata` on a copy), leaves everything as found, so an
    /// interrupted delivery is reported by `verify()` rather than repaired.
    public static func open(
        dataDirectory: String, environment: StoreEnvironment = .system, limits: StoreLimits = StoreLimits(),
        metrics: StoreMetrics = StoreMetrics(), recover: Bool = true
    ) async throws -> Store {
        let directory = dataDirectory.count > 1 && dataDirectory.hasSuffix("/") ? String(dataDirectory.dropLast()) : dataDirectory
        let lock = try storeIO { () throws(FileIOError) in
            try FileIO.makeDirectories(directory + "/accounts")
            try FileIO.makeDirectory(directory + "/tmp")
            return try FileIO.lockExclusively(directory + "/store.lock")
        }
        guard let lock else {
            throw StoreError.dataDirectoryInUse(directory)
        }
        let journal: DeliveryJournal
        do {
            journal = try DeliveryJournal(path: directory + "/deliveries.db", commitMetrics: metrics.journal)
            try storeIO { () throws(FileIOError) in try FileIO.syncDirectory(directory) }
        } catch {
            FileIO.unlock(lock)
            throw error
        }
        let store = Store(
            dataDirectory: directory, environment: environment, limits: limits, metrics: metrics, journal: journal, recovers: recover,
            lock: lock)
        if recover {
            try await store.recover()
            try store.clean()
        }
        return store
    }

    /// Closes every account database and the journal, ends all change streams, and releases
    /// the data directory. The store must not be used afterwards.
    public func close() {
        let accounts = openAccounts.withLock { open in
            defer { open.byName = [:] }
            return open.byName.values.map(\.account)
        }
        for account in accounts { account.close() }
        journal.close()
        if let lock = lockDescriptor.withLock({ descriptor in
            defer { descriptor = nil }
            return descriptor
        }) {
            FileIO.unlock(lock)
        }
    }

    // MARK: Accounts

    func accountDirectory(_ name: String) -> String { accountsDirectory + "/" + name }

    /// The account `name`, opened on first use and shared afterwards (one change feed per
    /// account for all its sessions) until it has been unused for long enough
    /// (`StoreLimits.maxIdleOpenAccounts`).
    public func account(_ name: String) throws -> Account {
        try AccountName.validate(name, limits: limits)
        let (account, idle) = try openAccounts.withLock { open throws -> (Account, [Account]) in
            if let account = open.use(name) { return (account, []) }
            let account = try Account.open(
                name: name, directory: accountDirectory(name), create: false, recover: recovers, environment: environment, limits: limits,
                headerCacheBudget: headerCacheBudget, commitMetrics: metrics.accounts)
            return (account, open.add(account, keepingIdle: limits.maxIdleOpenAccounts))
        }
        closeInBackground(idle)
        return account
    }

    /// Accounts open now, in use or not.
    var openAccountCount: Int { openAccounts.withLock { $0.byName.count } }

    /// Octets the header caches of open accounts hold.
    var headerCacheSpent: Int { headerCacheBudget.spent }

    private func closeInBackground(_ accounts: [Account]) {
        for account in accounts { account.close(databaseInBackground: true) }
    }

    /// Creates an account with its default mailboxes (INBOX and the special-use ones).
    @discardableResult
    public func createAccount(_ name: String) throws -> Account {
        try AccountName.validate(name, limits: limits)
        let (account, idle) = try openAccounts.withLock { open throws -> (Account, [Account]) in
            if open.byName[name] != nil || FileIO.exists(accountDirectory(name) + "/index.db") {
                throw StoreError.accountExists(name)
            }
            let account = try Account.open(
                name: name, directory: accountDirectory(name), create: true, recover: recovers, environment: environment, limits: limits,
                headerCacheBudget: headerCacheBudget, commitMetrics: metrics.accounts)
            return (account, open.add(account, keepingIdle: limits.maxIdleOpenAccounts))
        }
        closeInBackground(idle)
        logger.info("account created", metadata: ["account": "\(name)"])
        return account
    }

    /// Names of the accounts on disk, sorted.
    public func accountNames() -> [String] {
        FileIO.list(accountsDirectory)
            .filter { !$0.hasPrefix(".") && FileIO.exists(accountDirectory($0) + "/index.db") }
            .sorted()
    }

    // MARK: Recovery and cleaning

    /// Undoes every delivery the journal shows as incomplete. Such a delivery was never
    /// acknowledged, so the sender still has it and will retry; undoing (rather than
    /// completing) means the retry does not produce a duplicate.
    func recover() async throws {
        for entry in try await journal.incomplete() {
            var logger = logger
            logger[metadataKey: "delivery"] = "\(entry.id)"
            logger.warning("undoing interrupted delivery", metadata: ["accounts": "\(entry.accounts.joined(separator: ","))"])
            for name in entry.accounts where FileIO.exists(accountDirectory(name) + "/index.db") {
                let removed = try await account(name).undoDelivery(entry.id)
                if removed > 0 {
                    logger.warning("removed messages of interrupted delivery", metadata: ["account": "\(name)", "count": "\(removed)"])
                }
            }
            try await journal.complete(entry.id)
        }
    }

    /// Removes leftovers of crashes: everything in `tmp/`, and message files that no
    /// database row points to (placed before a commit that never happened, or left behind
    /// by an expunge interrupted before unlinking). Returns the removed paths.
    @discardableResult
    func clean() throws -> [String] {
        var removed: [String] = []
        for entry in FileIO.list(temporaryDirectory) {
            let path = temporaryDirectory + "/" + entry
            do {
                try FileManager.default.removeItem(atPath: path)
                removed.append(path)
            } catch {
                logger.error("cannot remove temporary file", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        for name in accountNames() {
            let account = try account(name)
            for path in try account.orphanFiles() {
                FileIO.remove(path)
                removed.append(path)
            }
        }
        if !removed.isEmpty {
            logger.notice("removed leftover files", metadata: ["count": "\(removed.count)"])
        }
        return removed
    }

    // MARK: Consistency

    /// The checks of `tern verifydata`: every message row has its file with the recorded
    /// size and no file lacks a row; UIDs are unique and below UIDNEXT; mod-sequences do not
    /// exceed HIGHESTMODSEQ; counters match; stored structures decode; the delivery journal
    /// has no incomplete entries. Empty when all is well.
    public func verify() async throws -> [ConsistencyProblem] {
        var problems: [ConsistencyProblem] = []
        for entry in try await journal.incomplete() {
            problems.append(.incompleteDelivery(id: entry.id, accounts: entry.accounts))
        }
        for name in accountNames() {
            do {
                problems += try await account(name).verify()
            } catch {
                problems.append(.unreadableAccount(account: name, error: "\(error)"))
            }
        }
        return problems
    }
}

/// The accounts a store has open, with when each was last asked for.
private struct OpenAccounts {
    struct Entry {
        var account: Account
        var lastUse: UInt64
    }

    var byName: [String: Entry] = [:]
    private var clock: UInt64 = 0

    mutating func use(_ name: String) -> Account? {
        guard byName[name] != nil else { return nil }
        clock += 1
        byName[name]?.lastUse = clock
        return byName[name]?.account
    }

    /// Adds `account`, then takes out (to be closed) the accounts used longest ago that no
    /// one else holds, while more than `limit` of those are open. Holding an `Account` is
    /// what using it means, so one that is referenced only from here has no session, no
    /// delivery and no change stream, and closing it cannot disturb anyone; it is taken out
    /// under the lock through which alone it could be found again.
    mutating func add(_ account: Account, keepingIdle limit: Int) -> [Account] {
        clock += 1
        byName[account.name] = Entry(account: account, lastUse: clock)
        var idle: [(name: String, lastUse: UInt64)] = []
        for name in Array(byName.keys) where name != account.name {
            guard var entry = byName.removeValue(forKey: name) else { continue }
            if isKnownUniquelyReferenced(&entry.account) { idle.append((name, entry.lastUse)) }
            byName[name] = entry
        }
        guard idle.count > limit else { return [] }
        idle.sort { $0.lastUse < $1.lastUse }
        return idle.prefix(idle.count - limit).compactMap { byName.removeValue(forKey: $0.name)?.account }
    }
}
