import Message
import Synchronization

/// Header fields of stored messages, by the field names asked for and by message content.
/// A message's header never changes, so an entry is never stale: SEARCH on the same fields
/// again (a client's saved search, a filter run on every sync), SORT, and FETCH ENVELOPE read
/// no stored structures, only the rows.
///
/// Entries are grouped by names so that a search hashes its names once, then looks each
/// message up by its content id alone. Memory: every account's cache draws on the store's
/// one `HeaderCacheBudget`; when it is spent, the cache of the account used longest ago is
/// emptied (the next search there reads structures again).
final class HeaderCache: Sendable {
    /// The cached fields of one set of names, by content id.
    typealias Headers = [Int64: HeaderSection]

    private let budget: HeaderCacheBudget
    private let entries = Mutex<[HeaderNames: Headers]>([:])

    init(budget: HeaderCacheBudget) {
        self.budget = budget
    }

    /// What is cached for `names` (a copy-on-write snapshot: taking it copies nothing).
    func headers(_ names: HeaderNames) -> Headers {
        budget.touch(self)
        return entries.withLock { $0[names] ?? [:] }
    }

    func store(_ headers: [(contentID: Int64, header: HeaderSection)], names: HeaderNames) {
        guard !headers.isEmpty else { return }
        let size = headers.reduce(0) { $0 + Self.size(of: $1.header) }
        // Not while holding `entries`: the budget may empty this or another cache.
        guard budget.admit(size, into: self) else { return }
        entries.withLock { entries in
            var cached = entries.removeValue(forKey: names) ?? [:]
            for (contentID, header) in headers { cached[contentID] = header }
            entries[names] = cached
        }
    }

    /// Empties the cache (the budget's eviction).
    func removeAll() {
        entries.withLock { $0 = [:] }
    }

    /// Empties the cache and gives its share of the budget back: its account is closed.
    func close() {
        budget.release(self)
        removeAll()
    }

    var count: Int { entries.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// About what an entry holds: the fields' octets, and the arrays and table slot around them.
    static func size(of header: HeaderSection) -> Int {
        header.fields.reduce(96) { $0 + $1.raw.count + 48 }
    }
}

/// The memory all header caches of a store may take together, shared out by use: when an
/// addition does not fit, whole caches are emptied, the one used longest ago first, until
/// it does. An addition bigger than the whole budget is not cached.
final class HeaderCacheBudget: Sendable {
    private struct Usage {
        var cache: HeaderCache
        var bytes = 0
        var lastUse: UInt64 = 0
    }
    private struct State {
        var usage: [ObjectIdentifier: Usage] = [:]
        var total = 0
        var clock: UInt64 = 0
    }

    let limit: Int
    private let state = Mutex(State())

    /// 64 MiB (`StoreLimits.headerCacheBytes`) hold the envelope fields of some 100,000
    /// messages, or several times that of one field for SEARCH.
    init(bytes: Int) {
        limit = bytes
    }

    var spent: Int { state.withLock { $0.total } }

    /// Forgets `cache` and what it held: its account is closed. (A cache enters the budget
    /// with its first `admit`.)
    func release(_ cache: HeaderCache) {
        state.withLock { state in
            if let usage = state.usage.removeValue(forKey: ObjectIdentifier(cache)) { state.total -= usage.bytes }
        }
    }

    /// `cache` was just read: it is emptied after those used longer ago.
    func touch(_ cache: HeaderCache) {
        state.withLock { state in
            state.clock += 1
            state.usage[ObjectIdentifier(cache)]?.lastUse = state.clock
        }
    }

    /// Makes room for `bytes` more in `cache`, emptying least recently used caches (possibly
    /// `cache` itself) as needed; false when `bytes` exceed the whole budget.
    func admit(_ bytes: Int, into cache: HeaderCache) -> Bool {
        guard bytes <= limit else { return false }
        let key = ObjectIdentifier(cache)
        let emptied = state.withLock { state -> [HeaderCache] in
            var emptied: [HeaderCache] = []
            while state.total + bytes > limit,
                let (victim, usage) = state.usage.filter({ $0.value.bytes > 0 }).min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.total -= usage.bytes
                state.usage[victim]?.bytes = 0
                emptied.append(usage.cache)
            }
            state.clock += 1
            state.usage[key, default: Usage(cache: cache)].bytes += bytes
            state.usage[key]?.lastUse = state.clock
            state.total += bytes
            return emptied
        }
        // Emptied outside the budget's lock; a search reading a victim meanwhile merely
        // finds fewer entries.
        for victim in emptied { victim.removeAll() }
        return true
    }
}
