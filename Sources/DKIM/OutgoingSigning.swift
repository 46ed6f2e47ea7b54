/// Which keys sign the mail this server sends, by the domain of its author (the RFC 5322
/// From, which DMARC aligns d= with, RFC 7489 §3.1.1): the seam between the configuration,
/// which the executable reads, and whatever sends mail (submission, report senders). The
/// lookup runs for each message, so a configuration reloaded meanwhile applies to the next.
public struct OutgoingSigning: Sendable {
    private let signersForDomain: @Sendable (String) -> [DKIMSigner]

    /// `signers` gives the signers of one domain (as the message writes it: any case,
    /// Unicode or A-labels), none when the domain does not sign.
    public init(signers: @escaping @Sendable (_ domain: String) -> [DKIMSigner]) {
        signersForDomain = signers
    }

    /// The signers for a message whose From names `domains` (RFC 5322 §3.6.2 allows several
    /// authors), each domain and selector once: two spellings of one domain, or two authors
    /// at it, must not add the same signature twice.
    public func signers(forDomains domains: [String]) -> [DKIMSigner] {
        var seen: Set<String> = []
        return domains.flatMap(signersForDomain).filter { signer in
            seen.insert("\(signer.selector.lowercased())._domainkey.\(signer.domain.lowercased())").inserted
        }
    }
}
