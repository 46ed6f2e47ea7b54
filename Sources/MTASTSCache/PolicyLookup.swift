import DNS
import Foundation
import MTASTS

/// The answer of `PolicyCache.get`: the policy to apply to a delivery, or why there is none,
/// and how it was arrived at, for logs and TLS reports.
public struct PolicyLookup: Hashable, Sendable, CustomStringConvertible {
    public enum Outcome: Hashable, Sendable {
        case policy(STSPolicy, Source)
        case noPolicy(NoPolicyReason)
    }

    /// Where an applied policy came from.
    public enum Source: Hashable, Sendable {
        /// The cache, and the record's id still names it.
        case cached
        /// Fetched just now: the domain's first policy, a new id's, or after the cached one
        /// expired.
        case fetched
        /// The cache, because the record lookup failed (RFC 8461 §3.3: a valid cached policy
        /// is applied when no live one can be discovered).
        case keptAfterLookupFailure(STSRecordError)
        /// The cache, although the record is gone or unusable while the cached mode is not
        /// none: removing the record is not how a domain ends its policy (RFC 8461 §8.3), so
        /// this may be an attacker suppressing it (RFC 8461 §10). Worth a warning.
        case keptWithoutRecord(STSRecordError)
        /// The cache, because the policy of the new id `recordID` could not be fetched, now
        /// or within the backoff that ends at `retryAfter`.
        case keptAfterFetchFailure(recordID: String, PolicyFailure, retryAfter: Date)
    }

    /// Why no policy applies: deliver as though the domain had no MTA-STS (RFC 8461 §3.3).
    public enum NoPolicyReason: Hashable, Sendable {
        /// No usable record, and no valid cached policy to keep.
        case noRecord(STSRecordError)
        /// The record is gone and the cached policy was mode none: the domain has removed its
        /// policy (RFC 8461 §8.3), and so has the cache.
        case removed(STSRecordError)
        /// The record lookup failed, and no valid policy is cached.
        case lookupFailed(STSRecordError)
        /// The record's policy could not be fetched, now or within the backoff that ends at
        /// `retryAfter`, and no valid policy is cached.
        case fetchFailed(recordID: String, PolicyFailure, retryAfter: Date)
    }

    /// What a TLS report says about the domain's policy (RFC 8460 §4.4): policy type "sts"
    /// with the policy's text and MX patterns, "no-policy-found", or a failure to get the
    /// policy with its result type.
    public enum ReportPolicy: Hashable, Sendable {
        case sts(STSPolicy)
        case noPolicyFound
        case failure(PolicyFailure)
    }

    public var domain: Domain
    public var outcome: Outcome

    public init(domain: Domain, outcome: Outcome) {
        self.domain = domain
        self.outcome = outcome
    }

    /// The policy to apply, nil when there is none. A policy of mode none is returned too;
    /// RFC 8461 §5 has the sender treat it as no policy.
    public var policy: STSPolicy? {
        if case let .policy(policy, _) = outcome { return policy }
        return nil
    }

    public var report: ReportPolicy {
        switch outcome {
        case let .policy(policy, _):
            // RFC 8461 §5: mode none is "as though it does not have any active policy".
            return policy.mode == .none ? .noPolicyFound : .sts(policy)
        case let .noPolicy(.noRecord(error)), let .noPolicy(.removed(error)), let .noPolicy(.lookupFailed(error)):
            guard let resultType = error.resultType else { return .noPolicyFound }
            return .failure(PolicyFailure(resultType: resultType, reason: error.description))
        case let .noPolicy(.fetchFailed(_, failure, _)):
            return .failure(failure)
        }
    }

    /// The outcome as a metric label value.
    var metricOutcome: String {
        switch outcome {
        case .policy(_, .cached): return "cached"
        case .policy(_, .fetched): return "fetched"
        case .policy(_, .keptAfterLookupFailure): return "kept_after_lookup_failure"
        case .policy(_, .keptWithoutRecord): return "kept_without_record"
        case .policy(_, .keptAfterFetchFailure): return "kept_after_fetch_failure"
        case .noPolicy(.noRecord): return "no_record"
        case .noPolicy(.removed): return "removed"
        case .noPolicy(.lookupFailed): return "lookup_failed"
        case .noPolicy(.fetchFailed): return "fetch_failed"
        }
    }

    public var description: String {
        switch outcome {
        case let .policy(policy, source):
            let applied = "\(domain.ascii): mode \(policy.mode.rawValue) policy"
            switch source {
            case .cached: return applied + " from the cache"
            case .fetched: return applied + " fetched"
            case let .keptAfterLookupFailure(error): return applied + " from the cache; \(error)"
            case let .keptWithoutRecord(error): return applied + " from the cache although the record is gone, a possible downgrade attack; \(error)"
            case let .keptAfterFetchFailure(recordID, failure, retryAfter):
                return applied + " from the cache; the policy of record id \(recordID) could not be fetched (next attempt after \(retryAfter)): \(failure)"
            }
        case let .noPolicy(reason):
            let none = "\(domain.ascii): no policy"
            switch reason {
            case let .noRecord(error): return none + "; \(error)"
            case let .removed(error): return none + "; mode none policy removed with its record; \(error)"
            case let .lookupFailed(error): return none + "; \(error)"
            case let .fetchFailed(recordID, failure, retryAfter):
                return none + "; the policy of record id \(recordID) could not be fetched (next attempt after \(retryAfter)): \(failure)"
            }
        }
    }
}
