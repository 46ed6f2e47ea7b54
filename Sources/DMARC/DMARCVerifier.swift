import DNS
import PublicSuffix

/// DMARC for incoming mail over an injected resolver and Public Suffix List.
public struct DMARCVerifier: Sendable {
    public let resolver: any Resolver
    public let publicSuffixList: PublicSuffixList

    public init(resolver: any Resolver, publicSuffixList: PublicSuffixList) {
        self.resolver = resolver
        self.publicSuffixList = publicSuffixList
    }

    /// Discovers the policy for `authorDomain` and evaluates `authentication` against it
    /// (RFC 7489 §6.6.2). `generator` serves "pct" sampling.
    public func verify(
        authorDomain: Domain, authentication: AuthenticationResults, using generator: inout some RandomNumberGenerator
    ) async -> DMARCEvaluation {
        let discovery = await discoverPolicy(for: authorDomain)
        return DMARCEvaluation(discovery: discovery, authentication: authentication, publicSuffixList: publicSuffixList, using: &generator)
    }

    /// DMARC for a whole message, by what its From field gave (RFC 7489 §6.6.1, see `FromField`).
    public func verify(
        from field: FromField, authentication: AuthenticationResults, using generator: inout some RandomNumberGenerator
    ) async -> MessageEvaluation {
        switch field {
        case .missing:
            return MessageEvaluation(evaluations: [], result: .permerror, disposition: .reject, reason: "the message has no From field (RFC 5322 §3.6 requires one)")
        case .repeated:
            return MessageEvaluation(
                evaluations: [], result: .permerror, disposition: .reject, reason: "the message has more than one From field (RFC 5322 §3.6 allows one)")
        case let .addresses(domains):
            var evaluations: [DMARCEvaluation] = []
            var seen: Set<Domain> = []
            for domain in domains where seen.insert(domain).inserted {
                evaluations.append(await verify(authorDomain: domain, authentication: authentication, using: &generator))
            }
            return MessageEvaluation(combining: evaluations)
        }
    }
}

/// What a message's RFC5322.From gave, for the cases RFC 7489 §6.6.1 discusses.
///
/// The choices, following its account of how receivers handle them:
/// - no From field, or several: the message breaks RFC 5322 §3.6; permerror, and the
///   disposition is reject ("typically rejected").
/// - one From field without any address (a group with no members): nothing to evaluate;
///   none ("typically ignored").
/// - one From field with several addresses: each distinct domain is evaluated as an author
///   domain and "the most strict policy selected among the checks that fail" applies (the
///   process §6.6.1 gives for this case rather than rejecting outright, so a legitimate
///   co-authored message from DMARC-passing domains still gets through).
public enum FromField: Hashable, Sendable {
    /// The domains of the single From field's addresses, in order (empty for a group
    /// without addresses).
    case addresses([Domain])
    /// No From field.
    case missing
    /// More than one From field.
    case repeated
}

/// The DMARC verdict for a message: one evaluation per author domain, combined.
public struct MessageEvaluation: Hashable, Sendable {
    public var evaluations: [DMARCEvaluation]
    /// The most significant result: fail, then temperror, permerror, pass, none.
    public var result: DMARCResult
    /// The strictest disposition among the evaluations (RFC 7489 §6.6.1).
    public var disposition: Policy
    public var reason: String

    public init(evaluations: [DMARCEvaluation], result: DMARCResult, disposition: Policy, reason: String) {
        self.evaluations = evaluations
        self.result = result
        self.disposition = disposition
        self.reason = reason
    }

    init(combining evaluations: [DMARCEvaluation]) {
        let precedence: [DMARCResult] = [.fail, .temperror, .permerror, .pass]
        let results = Set(evaluations.map(\.result))
        self.init(
            evaluations: evaluations,
            result: precedence.first(where: results.contains) ?? .none,
            disposition: evaluations.map(\.disposition).max() ?? .none,
            reason: evaluations.isEmpty
                ? "the From field has no address to evaluate"
                : evaluations.map { "\($0.authorDomain.ascii): \($0.result.rawValue), \($0.reason)" }.joined(separator: "; "))
    }
}
