// TLS report results of direct delivery (RFC 8460). Every connection to an MX host counts
// once for each policy that applies to it:
//
//   - the recipient domain's MTA-STS policy, or "no-policy-found" when it has none (§4.4);
//   - DANE, when the host has DNSSEC-validated TLSA records; its policy domain is the MX
//     host, not the recipient domain (§3).
//
// A session counts as a success when TLS was negotiated and the policy's own verification
// (PKIX for MTA-STS, the TLSA records for DANE) passed or was not asked for; otherwise as a
// failure with the result type of §4.3 and the reason in "failure-reason-code". Some
// failures are known before connecting (the policy could not be fetched, the TLSA records
// are unusable, the MX host is not in the policy) and count instead of the session's own
// outcome; a host skipped for such a reason counts once without a session. Connections that
// never reached TLS (refused, timed out) are transient failures the RFC leaves out (§4.3.4).
import DNS
import Foundation
import MTASTS
import MTASTSCache
import SMTPClient
import TLSRPT

/// What TLS reports say about connections to one MX host: the policies that apply, each
/// with how a session's outcome counts for it.
public struct TLSReportScope: Sendable, Hashable {
    public enum Verification: Sendable, Hashable {
        /// PKIX, which MTA-STS asks for (RFC 8461 §4.2).
        case pkix
        /// The TLSA records (RFC 7672 §3).
        case dane
    }

    /// A failure that holds for every session before it starts.
    public struct KnownFailure: Sendable, Hashable {
        public var resultType: ResultType
        public var detail: String

        public init(resultType: ResultType, detail: String) {
            self.resultType = resultType
            self.detail = detail
        }
    }

    public struct Entry: Sendable, Hashable {
        public var policy: Policy
        /// The verification whose outcome decides this policy's result; nil: TLS negotiated
        /// is a success (no-policy-found).
        public var verification: Verification?
        /// Counted instead of each session's own outcome.
        public var knownFailure: KnownFailure?

        public init(policy: Policy, verification: Verification? = nil, knownFailure: KnownFailure? = nil) {
            self.policy = policy
            self.verification = verification
            self.knownFailure = knownFailure
        }
    }

    public var recipientDomain: String
    /// The MX host, without the final dot.
    public var mxHost: String
    public var entries: [Entry]

    public init(recipientDomain: String, mxHost: String, entries: [Entry]) {
        self.recipientDomain = recipientDomain
        self.mxHost = mxHost
        self.entries = entries
    }

    /// The result of one session with the server at `address` for each policy; without a
    /// session (`outcome` nil) only the known failures.
    func results(of outcome: SessionTLSOutcome?, address: String?) -> [TLSReportResult] {
        entries.compactMap { entry in
            let failure: (ResultType, String)?
            if let known = entry.knownFailure {
                failure = (known.resultType, known.detail)
            } else if let outcome {
                failure = outcome.failure(for: entry.verification).map { ($0.resultType, $0.detail) }
            } else {
                return nil
            }
            let result: PolicyResult
            if let (resultType, detail) = failure {
                result = .failure(
                    entry.policy,
                    FailureDetail(resultType: resultType, receivingMXHostname: mxHost, receivingIP: address, failureReasonCode: detail))
            } else {
                result = .success(entry.policy)
            }
            return TLSReportResult(recipientDomain: recipientDomain, result: result)
        }
    }

    /// The recipient domain's entry from its MTA-STS policy lookup (the cache's answer, nil
    /// without one): the policy with its text and MX patterns (§4.5); "no-policy-found"; or
    /// a policy that could not be had, whose failure every session then reports (§4.3.2.2).
    public static func domainEntry(_ lookup: PolicyLookup?, domain: String) -> Entry {
        switch lookup?.report {
        case let .sts(policy)?:
            return Entry(
                policy: Policy(type: .sts, string: Policy.stsLines(policy.text), domain: domain, mxHost: policy.mx.map(\.description)),
                verification: .pkix)
        case let .failure(failure)?:
            return Entry(
                policy: Policy(type: .sts, domain: domain),
                knownFailure: KnownFailure(resultType: ResultType(rawValue: failure.resultType.rawValue), detail: failure.reason))
        case .noPolicyFound?, nil:
            return Entry(policy: Policy(type: .noPolicyFound, domain: domain))
        }
    }

    /// The DANE entry for an MX host with these TLSA records (§4.5: each in presentation form).
    static func daneEntry(host: String, records: [TLSA], knownFailure: KnownFailure? = nil) -> Entry {
        Entry(
            policy: Policy(type: .tlsa, string: records.map { RecordData.tlsa($0).presentation }, domain: host),
            verification: .dane, knownFailure: knownFailure)
    }
}

/// One policy's result of one session, for the TLS report store.
public struct TLSReportResult: Sendable, Hashable {
    public var recipientDomain: String
    public var result: PolicyResult

    public init(recipientDomain: String, result: PolicyResult) {
        self.recipientDomain = recipientDomain
        self.result = result
    }

    /// The policy domain: the recipient domain, or the MX host for DANE.
    public var policyDomain: String { result.policy.domain }
    /// A DANE result, about the MX host rather than the recipient domain.
    public var isHost: Bool { result.policy.type == .tlsa }
}

/// How TLS went on one connection.
enum SessionTLSOutcome: Sendable {
    /// Negotiated; the verifications asked for may still have failed when failures were
    /// ignored (MTA-STS testing mode).
    case established(TLSConnectionState)
    /// The session went on without TLS: STARTTLS not offered, or offered and refused.
    case plaintext(startTLSOffered: Bool)
    /// TLS was needed and failed, or the handshake failed.
    case failed(TLSSessionFailure)

    /// The session's failure as the policy checking `verification` sees it; nil: success.
    func failure(for verification: TLSReportScope.Verification?) -> TLSSessionFailure? {
        switch self {
        case let .established(state):
            let outcome: VerificationOutcome?
            switch verification {
            case .pkix: outcome = state.pkix
            case .dane: outcome = state.dane
            case nil: outcome = nil
            }
            return outcome?.failure.map { TLSSessionFailure(resultType: $0.resultType, reason: .verification, detail: $0.reason) }
        case let .plaintext(offered):
            // §4.3.1: "the recipient MX did not support STARTTLS", either way.
            return offered
                ? TLSSessionFailure(resultType: .starttlsNotSupported, reason: .startTLSRefused, detail: "STARTTLS refused; delivered without TLS")
                : TLSSessionFailure(resultType: .starttlsNotSupported, reason: .startTLSNotOffered, detail: "STARTTLS not offered; delivered without TLS")
        case let .failed(failure):
            return failure
        }
    }

    /// The session's failure whatever the policy: TLS missing or failed, or any
    /// verification asked for failing. For metrics.
    var failure: TLSSessionFailure? {
        if case let .established(state) = self {
            return failure(for: .dane) ?? failure(for: state.pkix == nil ? nil : .pkix)
        }
        return failure(for: nil)
    }
}

/// Where direct delivery's TLS report results go: TLSRPTStore on `serve`; nowhere when the
/// operator turned recording off, and in tests that do not look.
public struct TLSResultRecorder: Sendable {
    public var record: @Sendable ([TLSReportResult]) async -> Void

    public init(record: @escaping @Sendable ([TLSReportResult]) async -> Void) {
        self.record = record
    }

    public static let none = TLSResultRecorder { _ in }
}
