import DMARC
import DNS
import PublicSuffix
import TestSupport

/// A mock DNS with TXT records given as (owner, strings of one record).
func zone(_ records: [(String, [String])], authentic: Bool = false) throws -> MockResolver {
    let resolver = MockResolver()
    for (owner, strings) in records {
        try resolver.add(owner, .txt(strings.map { Array($0.utf8) }), authentic: authentic)
    }
    return resolver
}

func verifier(_ resolver: MockResolver) throws -> DMARCVerifier {
    DMARCVerifier(resolver: resolver, publicSuffixList: try PublicSuffixList.shipped())
}

func name(_ text: String) throws -> DNSName { try DNSName(text) }

func spf(_ result: SPFAuthResult, _ domain: String, scope: SPFScope = .mailFrom) throws -> SPFOutcome {
    SPFOutcome(result: result, domain: try Domain(domain), scope: scope)
}

func dkim(_ result: DKIMAuthResult, _ domain: String, selector: String? = "s1") throws -> DKIMOutcome {
    DKIMOutcome(result: result, domain: try Domain(domain), selector: selector)
}

/// Evaluates a message from `author` against the one record at `_dmarc.<recordDomain>`.
func evaluate(
    record: String, at recordDomain: String, author: String, spf: SPFOutcome? = nil, dkim: [DKIMOutcome] = [], seed: UInt64 = 1
) async throws -> DMARCEvaluation {
    var generator = SplitMix64(state: seed)
    let resolver = try zone([("_dmarc." + recordDomain, [record])])
    return try await verifier(resolver).verify(
        authorDomain: try Domain(author), authentication: AuthenticationResults(spf: spf, dkim: dkim), using: &generator)
}
