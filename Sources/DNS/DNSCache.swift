/// A bounded cache of resolver outcomes, keyed by name and type.
///
/// Positive answers live for the smallest TTL of their records (CNAMEs included), negative
/// ones (NXDOMAIN, NODATA) for the SOA-derived time of RFC 2308 §5; both are capped so an
/// absurd TTL cannot pin an entry. Server failures and timeouts are not cached: they are
/// worth retrying. Time comes from an injected clock so expiry is tested exactly.
actor DNSCache {
    struct Key: Hashable {
        var name: DNSName
        var type: RecordType
    }

    private struct Entry {
        var outcome: Result<DNSAnswer, DNSError>
        var stored: ContinuousClock.Instant
        var expires: ContinuousClock.Instant
    }

    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private var entries: [Key: Entry] = [:]

    init(capacity: Int, now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.capacity = max(capacity, 0)
        self.now = now
    }

    var count: Int { entries.count }

    /// The cached outcome, with record TTLs lowered by the time spent in the cache.
    func get(_ key: Key) -> Result<DNSAnswer, DNSError>? {
        guard let entry = entries[key] else { return nil }
        let current = now()
        guard current < entry.expires else {
            entries[key] = nil
            return nil
        }
        guard case var .success(answer) = entry.outcome else { return entry.outcome }
        let elapsed = UInt32(clamping: (current - entry.stored).components.seconds)
        for index in answer.records.indices {
            answer.records[index].ttl = answer.records[index].ttl > elapsed ? answer.records[index].ttl - elapsed : 0
        }
        return .success(answer)
    }

    func put(_ key: Key, _ outcome: Result<DNSAnswer, DNSError>, ttl: UInt32) {
        guard ttl > 0, capacity > 0 else { return }
        let current = now()
        if entries[key] == nil, entries.count >= capacity { evict(at: current) }
        entries[key] = Entry(outcome: outcome, stored: current, expires: current + .seconds(Int64(ttl)))
    }

    /// Drops expired entries, then, if still full, the quarter that expires soonest: one
    /// sort per capacity/4 insertions keeps the cost per insertion logarithmic.
    private func evict(at current: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.expires > current }
        guard entries.count >= capacity else { return }
        let victims = entries.sorted { $0.value.expires < $1.value.expires }.prefix(max(1, capacity / 4))
        for (key, _) in victims { entries[key] = nil }
    }
}
