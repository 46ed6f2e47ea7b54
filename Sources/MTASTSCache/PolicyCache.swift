import DNS
import Foundation
import GRDB
import SQLiteSupport
import Logging
import MTASTS
import Metrics

/// The MTA-STS policies of recipient domains (RFC 8461 §5.1), in SQLite (`<data>/mtasts.db`),
/// so a delivery rarely waits for an HTTPS fetch and a policy outlives restarts, which is what
/// makes it protect against downgrades: a policy once seen is applied until its max_age ends.
///
/// `get` answers a delivery; `refresh` (run by `PolicyRefresher`) renews policies before they
/// expire. Both check the domain's TXT record first and fetch only when it names a policy
/// the cache does not have, or the cached one is old.
public final class PolicyCache: Sendable {
    /// After a failed fetch, no new fetch for the same record id for this long (RFC 8461 §3.3:
    /// "five minutes or longer per version ID"), so deliveries meanwhile are not held up by
    /// fetches bound to fail and the Policy Host is not hammered.
    public static let fetchBackoff: TimeInterval = 5 * 60

    private let pool: DatabasePool
    private let resolver: any Resolver
    private let fetcher: any PolicyFetcher
    let now: @Sendable () -> Date
    let logger: Logger
    private let metrics: MetricsFactory

    /// Opens the cache at `path` (the directory must exist), creating the database if needed.
    public init(
        path: String, resolver: any Resolver, fetcher: any PolicyFetcher, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger,
        metrics: MetricsFactory = MetricsSystem.factory
    ) throws {
        // A power failure may lose the last updates, which costs only a fetch again.
        pool = try SQLiteDatabase.openPool(path: path, label: "mtasts", durability: .checkpoint, migrator: PolicyRow.migrator)
        self.resolver = resolver
        self.fetcher = fetcher
        self.now = now
        self.logger = logger
        self.metrics = metrics
    }

    public func close() {
        try? pool.close()
    }

    /// The policy to apply to a delivery to `domain`. Throws only database errors; everything
    /// MTA-STS can go wrong with is in the answer.
    ///
    /// - No cached policy: the record is looked up; without a usable one there is no policy.
    ///   With one, the policy is fetched and cached; if that fails there is no policy, and
    ///   the failure is remembered so that for `fetchBackoff` the same record id is not
    ///   fetched again.
    /// - A valid cached policy: the record is looked up. The same id: the cached policy. A
    ///   new id: the new policy is fetched, and if that fails the cached one is applied. The
    ///   lookup failing: the cached policy. No usable record: the cached policy, unless its
    ///   mode is none, when the entry is removed (RFC 8461 §8.3).
    /// - An expired cached policy is never applied (RFC 8461 §5.1): it is fetched again as
    ///   if none were cached.
    public func get(_ domain: Domain) async throws -> PolicyLookup {
        let now = now()
        let cached = try await entry(for: domain)
        let valid = cached?.valid(at: now)
        func answer(_ outcome: PolicyLookup.Outcome) -> PolicyLookup {
            let lookup = PolicyLookup(domain: domain, outcome: outcome)
            // How deliveries' policies come about: a rise of kept_* or fetch_failed is worth a
            // look (a domain's broken policy host, or a downgrade attempt).
            Counter(label: "tern_mtasts_lookups_total", dimensions: [("outcome", lookup.metricOutcome)], factory: metrics).increment()
            return lookup
        }

        let record: STSRecord
        switch await discoverRecord(domain) {
        case let .success(found):
            record = found
        case let .failure(error) where error.isTemporary:
            if cached != nil { try await touch(domain, at: now) }
            guard let valid else { return answer(.noPolicy(.lookupFailed(error))) }
            return answer(.policy(valid.policy, .keptAfterLookupFailure(error)))
        case let .failure(error):
            // RFC 8461 §3.1: the absence of a usable record "is not by itself sufficient to
            // remove a sender's previously cached policy".
            if let valid, valid.policy.mode != .none {
                try await touch(domain, at: now)
                return answer(.policy(valid.policy, .keptWithoutRecord(error)))
            }
            if cached != nil { try await remove(domain) }
            return answer(.noPolicy(valid == nil ? .noRecord(error) : .removed(error)))
        }

        if let valid, valid.recordID == record.id {
            try await touch(domain, at: now)
            return answer(.policy(valid.policy, .cached))
        }
        let backoff: CachedPolicy.Backoff
        if let recent = cached?.backoff, recent.recordID == record.id, recent.until > now {
            try await touch(domain, at: now)
            backoff = recent
        } else {
            switch try await fetch(domain, record: record, cached: cached, now: now, used: true) {
            case let .fetched(fetched): return answer(.policy(fetched.policy, .fetched))
            case let .failed(failed): backoff = failed
            }
        }
        guard let valid else { return answer(.noPolicy(.fetchFailed(recordID: record.id, backoff.failure, retryAfter: backoff.until))) }
        return answer(.policy(valid.policy, .keptAfterFetchFailure(recordID: record.id, backoff.failure, retryAfter: backoff.until)))
    }

    /// What the cache holds for `domain`.
    public func entry(for domain: Domain) async throws -> CachedPolicy? {
        try await pool.read { db in try PolicyRow.fetchOne(db, key: domain.ascii) }?.entry
    }

    /// Every entry, in domain order.
    public func entries() async throws -> [CachedPolicy] {
        try await pool.read { db in try PolicyRow.order(Column("domain")).fetchAll(db) }.compactMap(\.entry)
    }

    // MARK: Steps shared with refresh

    func discoverRecord(_ domain: Domain) async -> Result<STSRecord, STSRecordError> {
        do {
            return .success(try await STSRecord.lookup(for: domain, resolver: resolver).value)
        } catch {
            return .failure(error)
        }
    }

    /// Fetches the policy `record` announces and stores the outcome: the new policy, or a
    /// backoff for the record's id next to the cached policy while that is still valid (an
    /// expired one is of no further use). `used` marks the entry as asked for at `now`.
    func fetch(_ domain: Domain, record: STSRecord, cached: CachedPolicy?, now: Date, used: Bool) async throws -> FetchOutcome {
        var entry = cached ?? CachedPolicy(domain: domain, inserted: now, lastUsed: now, fetched: nil, backoff: nil)
        if used { entry.lastUsed = now }
        let outcome: FetchOutcome
        do {
            let policy = try await fetcher.fetch(domain)
            let fetched = CachedPolicy.Fetched(policy: policy, recordID: record.id, updated: now, validUntil: now.addingTimeInterval(TimeInterval(policy.maxAge)))
            entry.fetched = fetched
            entry.backoff = nil
            outcome = .fetched(fetched)
        } catch {
            let backoff = CachedPolicy.Backoff(recordID: record.id, until: now.addingTimeInterval(Self.fetchBackoff), failure: PolicyFailure(error))
            entry.fetched = entry.valid(at: now)
            entry.backoff = backoff
            outcome = .failed(backoff)
        }
        try await pool.write { [entry] db in try PolicyRow(entry).upsert(db) }
        return outcome
    }

    enum FetchOutcome {
        case fetched(CachedPolicy.Fetched)
        /// The fetch failed; the backoff now in force.
        case failed(CachedPolicy.Backoff)
    }

    func touch(_ domain: Domain, at now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE policy SET lastUsed = ? WHERE domain = ?", arguments: [now.timeIntervalSince1970, domain.ascii])
        }
    }

    func remove(_ domain: Domain) async throws {
        _ = try await pool.write { db in try PolicyRow.deleteOne(db, key: domain.ascii) }
    }

    /// Removes the entries that can no longer be of use: backoffs that ended without a policy
    /// behind them, and expired policies not asked for since `unusedSince`.
    func removeStale(now: Date, unusedSince: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM policy
                    WHERE (policyText IS NULL AND (backoffUntil IS NULL OR backoffUntil <= ?))
                       OR (validUntil <= ? AND lastUsed < ?)
                    """,
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, unusedSince.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
