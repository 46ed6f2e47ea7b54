import DNS

/// Gets a domain's current policy from its Policy Host. `HTTPSPolicyFetcher` does it over
/// HTTPS; the cache takes any fetcher, so its tests need no HTTP.
public protocol PolicyFetcher: Sendable {
    /// The policy of `domain`, from `https://mta-sts.<domain>/.well-known/mta-sts.txt`
    /// (RFC 8461 §3.2), parsed.
    func fetch(_ domain: Domain) async throws(PolicyFetchError) -> STSPolicy
}

/// The MTA-STS result types of TLS reports (RFC 8460 §4.3.2.2), which every MTA-STS failure
/// maps to. The raw values are the strings reports use.
public enum STSResultType: String, Hashable, Sendable {
    /// The policy could not be retrieved, e.g. the Policy Host is unreachable.
    case policyFetchError = "sts-policy-fetch-error"
    /// What was retrieved is not a valid policy.
    case policyInvalid = "sts-policy-invalid"
    /// The Policy Host's certificate did not pass PKIX validation.
    case webPKIInvalid = "sts-webpki-invalid"
}

/// Why fetching a policy failed (RFC 8461 §3.3).
public enum PolicyFetchError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The Policy Host could not be reached: its name did not resolve, the connection was
    /// refused or broke.
    case connection(String)
    /// The TLS handshake failed for a reason other than the certificate, e.g. no common
    /// protocol version.
    case tls(String)
    /// The certificate did not verify: no chain to a trusted root, expired, or not valid for
    /// `mta-sts.<domain>` (RFC 8461 §3.3).
    case certificate(String)
    /// A 3xx response; RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
    case redirect(status: Int, location: String?)
    /// A status other than 200 and 3xx; RFC 8461 §3.3: policies are "only valid if the HTTP
    /// response code is 200".
    case status(Int)
    /// A media type other than text/plain (RFC 8461 §3.2), or none.
    case contentType(String?)
    /// A body longer than the limit.
    case tooLarge(limit: Int)
    /// The whole fetch took longer than the limit.
    case timeout(Duration)
    case invalidPolicy(STSPolicySyntaxError)

    /// The TLS report result type for this failure (RFC 8460 §4.3.2.2): the certificate
    /// failing PKIX is `sts-webpki-invalid`; a response that is not a policy (wrong media
    /// type, too large, bad syntax) is `sts-policy-invalid`; not getting a response at all,
    /// or a refusal by status or redirect, is `sts-policy-fetch-error`.
    public var resultType: STSResultType {
        switch self {
        case .certificate: return .webPKIInvalid
        case .contentType, .tooLarge, .invalidPolicy: return .policyInvalid
        case .connection, .tls, .redirect, .status, .timeout: return .policyFetchError
        }
    }

    public var description: String {
        switch self {
        case let .connection(reason): return "cannot connect to the policy host: \(reason)"
        case let .tls(reason): return "TLS with the policy host failed: \(reason)"
        case let .certificate(reason): return "the policy host's certificate is not valid: \(reason)"
        case let .redirect(status, location): return "HTTP status \(status), a redirect (to \(location.map(quoted) ?? "nowhere")), which must not be followed"
        case let .status(status): return "HTTP status \(status), not 200"
        case let .contentType(type): return "content type \(type.map(quoted) ?? "missing"), not text/plain"
        case let .tooLarge(limit): return "the policy is larger than \(limit) bytes"
        case let .timeout(limit): return "no complete policy within \(limit)"
        case let .invalidPolicy(error): return "invalid policy: \(error)"
        }
    }
}
