import DNS
import Foundation
import Logging
import MTASTS
import ServiceLifecycle

/// When policies are renewed ahead of need. RFC 8461 §3.3: "MTAs SHOULD proactively refresh
/// cached policies before they expire; a suggested refresh frequency is once per day", which
/// keeps an attacker who blocks refreshes from ending a policy before its full max_age.
public struct RefreshSchedule: Hashable, Sendable {
    /// How often `PolicyRefresher` looks for policies to renew. An hour: a renewal that
    /// failed is tried again soon, but not before the fetch backoff ends.
    public var interval: Duration = .seconds(3600)
    /// Only policies asked for within this time are renewed; others are left to expire, so
    /// domains mail no longer goes to are not fetched forever. A week.
    public var recentUse: TimeInterval = 7 * 24 * 3600
    /// A policy fetched longer ago than this is renewed: a day, as RFC 8461 §3.3 suggests.
    /// One past half its max_age is renewed too, so that a short max_age does not run out
    /// between two deliveries.
    public var refreshAge: TimeInterval = 24 * 3600

    public init() {}

    /// Whether `fetched` is due for renewal at `now`.
    func isDue(_ fetched: CachedPolicy.Fetched, at now: Date) -> Bool {
        now.timeIntervalSince(fetched.updated) >= refreshAge || fetched.validUntil.timeIntervalSince(now) <= TimeInterval(fetched.policy.maxAge) / 2
    }
}

/// What one renewal did.
public struct RefreshResult: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        /// Fetched again, for record id `recordID`.
        case renewed(recordID: String)
        /// The fetch failed; the policy stays as it was and the record id backs off.
        case fetchFailed(PolicyFailure)
        /// The record lookup failed; nothing changed.
        case lookupFailed(STSRecordError)
        /// The record is gone while the policy's mode is not none; the policy stays until it
        /// expires (RFC 8461 §3.1, §10).
        case recordMissing(STSRecordError)
        /// The record is gone and the policy was mode none: removed (RFC 8461 §8.3).
        case removed(STSRecordError)
    }

    public var domain: Domain
    public var outcome: Outcome
}

extension PolicyCache {
    /// Renews the policies due under `schedule`: asked for within `recentUse`, and fetched
    /// more than `refreshAge` ago or past half their max_age; not those whose last fetch
    /// failed less than `fetchBackoff` ago. First removes entries of no further use (ended
    /// backoffs without a policy, expired policies not asked for within `recentUse`).
    ///
    /// Failures are logged as warnings, unless the policy's mode is none (RFC 8461 §3.3:
    /// "MTAs SHOULD alert administrators ... when such attempts fail, unless the cached policy
    /// mode is 'none'"). Throws only database errors.
    @discardableResult
    public func refresh(now: Date, schedule: RefreshSchedule = RefreshSchedule()) async throws -> [RefreshResult] {
        let recentlyUsed = now.addingTimeInterval(-schedule.recentUse)
        let removed = try await removeStale(now: now, unusedSince: recentlyUsed)
        if removed > 0 { logger.debug("mta-sts cache entries removed", metadata: ["count": "\(removed)"]) }

        var results: [RefreshResult] = []
        for entry in try await entries() {
            guard let fetched = entry.fetched, entry.lastUsed >= recentlyUsed, schedule.isDue(fetched, at: now) else { continue }
            if let backoff = entry.backoff, backoff.until > now { continue }
            let outcome = try await renew(entry, fetched: fetched, now: now)
            results.append(RefreshResult(domain: entry.domain, outcome: outcome))
            log(outcome, domain: entry.domain, mode: fetched.policy.mode)
        }
        return results
    }

    private func renew(_ entry: CachedPolicy, fetched: CachedPolicy.Fetched, now: Date) async throws -> RefreshResult.Outcome {
        switch await discoverRecord(entry.domain) {
        case let .success(record):
            switch try await fetch(entry.domain, record: record, cached: entry, now: now, used: false) {
            case .fetched: return .renewed(recordID: record.id)
            case let .failed(backoff): return .fetchFailed(backoff.failure)
            }
        case let .failure(error) where error.isTemporary:
            return .lookupFailed(error)
        case let .failure(error):
            guard fetched.policy.mode == .none else { return .recordMissing(error) }
            try await remove(entry.domain)
            return .removed(error)
        }
    }

    private func log(_ outcome: RefreshResult.Outcome, domain: Domain, mode: STSPolicy.Mode) {
        var metadata: Logger.Metadata = ["domain": "\(domain.ascii)", "mode": "\(mode.rawValue)"]
        let failure: String
        switch outcome {
        case let .renewed(recordID):
            metadata["id"] = "\(recordID)"
            logger.debug("mta-sts policy renewed", metadata: metadata)
            return
        case let .removed(error):
            metadata["reason"] = "\(error)"
            logger.info("mta-sts policy of mode none removed with its record", metadata: metadata)
            return
        case let .fetchFailed(reason):
            metadata["resultType"] = "\(reason.resultType.rawValue)"
            failure = reason.reason
        case let .lookupFailed(error):
            failure = error.description
        case let .recordMissing(error):
            failure = "record gone while the policy is in force, a possible downgrade attack: \(error)"
        }
        metadata["error"] = "\(failure)"
        if mode == .none {
            logger.debug("mta-sts policy refresh failed", metadata: metadata)
        } else {
            logger.warning("mta-sts policy refresh failed", metadata: metadata)
        }
    }
}

/// Runs `PolicyCache.refresh` every `schedule.interval` until shutdown.
public struct PolicyRefresher: Service {
    public let cache: PolicyCache
    public let schedule: RefreshSchedule
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameter sleep: waits between passes; tests pass one they control.
    public init(
        cache: PolicyCache, schedule: RefreshSchedule = RefreshSchedule(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.cache = cache
        self.schedule = schedule
        self.sleep = sleep
    }

    /// A pass at once, then one after every interval; returns on graceful shutdown, on
    /// cancellation, or when `sleep` throws.
    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await cache.refresh(now: cache.now(), schedule: schedule)
                } catch {
                    cache.logger.error("mta-sts policy refresh pass failed", metadata: ["error": "\(error)"])
                }
                do {
                    try await sleep(schedule.interval)
                } catch {
                    return
                }
            }
        }
    }
}
