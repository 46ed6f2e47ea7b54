import DNS
import PublicSuffix

/// An authenticated identifier that passed and aligned with the author domain (RFC 7489 §3.1).
public enum AlignedIdentifier: Hashable, Sendable, CustomStringConvertible {
    /// SPF passed for this domain (RFC 7489 §3.1.2).
    case spf(Domain, SPFScope)
    /// A DKIM signature with this d= (and selector) passed (RFC 7489 §3.1.1).
    case dkim(Domain, selector: String?)

    public var description: String {
        switch self {
        case let .spf(domain, scope): return "SPF (\(scope == .mailFrom ? "MAIL FROM" : "HELO") \(domain.ascii))"
        case let .dkim(domain, selector): return "DKIM (d=\(domain.ascii)\(selector.map { " s=\($0)" } ?? ""))"
        }
    }
}

/// The DMARC verdict for one author domain: the result, the identifiers that aligned, and the
/// policy to apply.
public struct DMARCEvaluation: Hashable, Sendable {
    public var discovery: PolicyDiscovery
    /// The SPF and DKIM results the evaluation started from (all of them go into aggregate
    /// reports, aligned or not: RFC 7489 §6.6.4, Appendix C "auth_results").
    public var authentication: AuthenticationResults
    public var result: DMARCResult
    /// The identifiers that passed and aligned; empty unless the result is pass.
    public var alignedIdentifiers: [AlignedIdentifier]
    /// The policy the record requests for the author domain ("p", or "sp" for a subdomain),
    /// when a record applies.
    public var requestedPolicy: Policy?
    /// What to do with the message: the requested policy when DMARC failed and the message was
    /// sampled, a milder one when "pct" sampled it out, `none` otherwise.
    public var disposition: Policy
    /// RFC 7489 §6.6.4: the message failed, but "pct" exempted it from the requested policy
    /// (reported as the "sampled_out" override, Appendix C).
    public var sampledOut: Bool
    /// Why, in a sentence, for logs and Authentication-Results comments.
    public var reason: String

    public var authorDomain: Domain { discovery.authorDomain }

    /// Whether an SPF pass aligned (Appendix C "policy_evaluated/spf").
    public var spfAligned: Bool {
        alignedIdentifiers.contains { if case .spf = $0 { true } else { false } }
    }

    /// Whether a DKIM pass aligned (Appendix C "policy_evaluated/dkim").
    public var dkimAligned: Bool {
        alignedIdentifiers.contains { if case .dkim = $0 { true } else { false } }
    }

    /// Evaluates the authentication results against the discovered policy (RFC 7489 §6.6.2
    /// steps 5 and 6). `generator` is drawn from only when "pct" is between 1 and 99 and the
    /// message failed under a policy other than none.
    public init(
        discovery: PolicyDiscovery, authentication: AuthenticationResults, publicSuffixList: PublicSuffixList,
        using generator: inout some RandomNumberGenerator
    ) {
        self.discovery = discovery
        self.authentication = authentication
        alignedIdentifiers = []
        requestedPolicy = nil
        disposition = .none
        sampledOut = false
        let record: DMARCRecord
        switch discovery.outcome {
        case .noRecord:
            result = .none
            reason = discovery.explanation
            return
        case .multipleRecords, .invalidRecord:
            result = .permerror
            reason = discovery.explanation
            return
        case .temporaryFailure:
            result = .temperror
            reason = discovery.explanation
            return
        case let .found(found, _):
            record = found
        }

        let alignment = Alignment(author: discovery.authorDomain, organizationalDomain: discovery.organizationalDomain, list: publicSuffixList)
        let spfAligns = authentication.spf.map { alignment.aligns($0.domain, mode: record.spfAlignment) } ?? false
        if let spf = authentication.spf, spf.result == .pass, spfAligns {
            alignedIdentifiers.append(.spf(spf.domain, spf.scope))
        }
        let alignedSignatures = authentication.dkim.filter { alignment.aligns($0.domain, mode: record.dkimAlignment) }
        for signature in alignedSignatures where signature.result == .pass {
            alignedIdentifiers.append(.dkim(signature.domain, selector: signature.selector))
        }
        let modes = "aspf=\(record.spfAlignment.rawValue), adkim=\(record.dkimAlignment.rawValue)"

        if !alignedIdentifiers.isEmpty {
            result = .pass
            reason = "\(alignedIdentifiers.map(\.description).joined(separator: ", ")) passed and aligned with \(discovery.authorDomain.ascii) (\(modes))"
            return
        }
        // RFC 7489 §6.6.2: with no aligned pass and a temporary error, "the Receiver ... is
        // unable to conclude that the DMARC mechanism had a permanent failure". Only errors of
        // aligned identifiers count: an unaligned identifier could not have passed DMARC.
        let spfTemporary = spfAligns && authentication.spf?.result == .temperror
        let dkimTemporary = alignedSignatures.contains { $0.result == .temperror }
        if spfTemporary || dkimTemporary {
            result = .temperror
            reason = "no aligned pass, and the aligned \(spfTemporary ? "SPF" : "DKIM") check had a temporary error"
            return
        }

        result = .fail
        let requested = record.policy(forSubdomain: discovery.appliesSubdomainPolicy)
        requestedPolicy = requested
        disposition = requested
        var explanation = "no aligned SPF or DKIM pass for \(discovery.authorDomain.ascii) (\(modes)); "
            + "\(Self.summary(authentication)); policy \(requested.rawValue)"
        if discovery.appliesSubdomainPolicy { explanation += " for subdomains of \(discovery.organizationalDomain.ascii)" }
        // RFC 7489 §6.6.4: the policy is enacted on at most pct% of failing messages; those
        // left out get the next milder treatment (reject becomes quarantine, quarantine none).
        // The draw follows §6.3's "(random mod 100) < pct".
        if requested != .none, record.percentage < 100 {
            let selected = record.percentage > 0 && Int.random(in: 0..<100, using: &generator) < record.percentage
            if !selected {
                sampledOut = true
                disposition = requested == .reject ? .quarantine : .none
                explanation += ", sampled out by pct=\(record.percentage): \(disposition.rawValue)"
            }
        }
        reason = explanation
    }

    /// "SPF fail for example.net (mfrom), DKIM pass for example.org", or what was missing.
    private static func summary(_ authentication: AuthenticationResults) -> String {
        var parts: [String] = []
        if let spf = authentication.spf {
            parts.append("SPF \(spf.result.rawValue) for \(spf.domain.ascii) (\(spf.scope.rawValue))")
        } else {
            parts.append("no SPF result")
        }
        if authentication.dkim.isEmpty {
            parts.append("no DKIM signature")
        } else {
            parts += authentication.dkim.map { "DKIM \($0.result.rawValue) for \($0.domain.ascii)" }
        }
        return parts.joined(separator: ", ")
    }
}

/// Identifier alignment with one author domain (RFC 7489 §3.1; domains compare
/// case-insensitively, which `Domain` equality does).
struct Alignment {
    let author: Domain
    let organizationalDomain: Domain
    let list: PublicSuffixList

    /// Strict: the same name. Relaxed: the same Organizational Domain (§3.1.1, §3.1.2), so
    /// "d=com" never aligns with "example.com": a public suffix is only its own.
    func aligns(_ identifier: Domain, mode: AlignmentMode) -> Bool {
        switch mode {
        case .strict: return identifier == author
        case .relaxed: return identifier == author || list.organizationalDomain(of: identifier) == organizationalDomain
        }
    }
}
