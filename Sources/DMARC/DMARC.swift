// DMARC: Domain-based Message Authentication, Reporting and Conformance (RFC 7489), for mail a
// receiver accepts. SPF and DKIM are evaluated elsewhere; their results come in as plain values
// (`SPFOutcome`, `DKIMOutcome`), so this module depends on neither.
//
// The flow for one message (RFC 7489 §6.6.2):
//
// 1. The author domain is the domain of the RFC5322.From address, in A-labels (§6.6.1); a
//    message without exactly one From field, or with several addresses in it, is handled by
//    `DMARCVerifier.verify(from:...)` as `FromField` documents.
// 2. Policy discovery (§6.6.3, `DMARCVerifier.discoverPolicy`): the TXT records at
//    `_dmarc.<author domain>`, else at `_dmarc.<Organizational Domain>` (§3.2, from the Public
//    Suffix List); exactly one record starting with "v=DMARC1" must remain; it is parsed by
//    `DMARCRecord` (§6.3, §6.4). Temporary DNS errors make a temperror; whether the answers were
//    DNSSEC-authentic is kept.
// 3. Identifier alignment (§3.1, `DMARCEvaluation`): an SPF pass for the MAIL FROM (or, for the
//    null reverse-path, HELO) domain, or a DKIM pass for a signature's d= domain, whose domain
//    equals the author domain (strict) or has the same Organizational Domain (relaxed, the
//    default) makes DMARC pass.
// 4. The policy (§6.3, §6.6.4): on fail, "p" for the domain the record was found at, "sp" (or
//    "p") for its subdomains, softened for the messages that "pct" samples out.
//
// Aggregate report destinations outside the policy domain's organization are checked with
// `DMARCVerifier.verifyReportDestination` (§7.1) before reports are sent.
import DNS

/// The DMARC result (RFC 7489 §11.2, the Authentication-Results "dmarc" method's values).
public enum DMARCResult: String, Hashable, Sendable {
    /// An aligned identifier passed.
    case pass
    /// A policy record applies and no aligned identifier passed.
    case fail
    /// No DMARC record: DMARC does not apply.
    case none
    /// A temporary DNS error during discovery, or an aligned check that had one.
    case temperror
    /// The published DMARC record(s) cannot be used: several records, or an invalid one.
    case permerror
}

/// An SPF result as DMARC gets it (RFC 7208 §2.6; RFC 7489 Appendix C "SPFResultType").
public enum SPFAuthResult: String, Hashable, Sendable, Codable {
    case none, neutral, pass, fail, softfail, temperror, permerror
}

/// The identity SPF checked (RFC 7489 Appendix C "SPFDomainScope").
public enum SPFScope: String, Hashable, Sendable, Codable {
    /// The RFC5321.MailFrom domain.
    case mailFrom = "mfrom"
    /// The HELO/EHLO domain.
    case helo
}

/// The outcome of SPF for a message.
///
/// RFC 7489 §3.1.2: the MAIL FROM identity is the one aligned. For the null reverse-path, SPF
/// checks "postmaster@" and the HELO domain (RFC 7208 §2.4); pass that check with scope `.helo`:
/// it is the one case where the HELO identity takes part in DMARC. A separate HELO check of a
/// message with a MAIL FROM address is not for DMARC.
public struct SPFOutcome: Hashable, Sendable {
    public var result: SPFAuthResult
    /// The domain SPF was evaluated for.
    public var domain: Domain
    public var scope: SPFScope

    public init(result: SPFAuthResult, domain: Domain, scope: SPFScope) {
        self.result = result
        self.domain = domain
        self.scope = scope
    }
}

/// A DKIM result as DMARC gets it (RFC 8601 §2.7.1; RFC 7489 Appendix C "DKIMResultType").
public enum DKIMAuthResult: String, Hashable, Sendable, Codable {
    case none, pass, fail, policy, neutral, temperror, permerror
}

/// The outcome of verifying one DKIM signature.
public struct DKIMOutcome: Hashable, Sendable {
    public var result: DKIMAuthResult
    /// The signing domain, the signature's "d=" (RFC 6376 §3.5).
    public var domain: Domain
    /// The signature's "s=", for reports.
    public var selector: String?

    public init(result: DKIMAuthResult, domain: Domain, selector: String? = nil) {
        self.result = result
        self.domain = domain
        self.selector = selector
    }
}

/// What SPF and DKIM said about a message (RFC 7489 §6.6.2 steps 3 and 4).
public struct AuthenticationResults: Hashable, Sendable {
    /// Nil when SPF was not evaluated, e.g. for a MAIL FROM domain that is not a valid name.
    public var spf: SPFOutcome?
    /// One per signature checked, in the message's order.
    public var dkim: [DKIMOutcome]

    public init(spf: SPFOutcome?, dkim: [DKIMOutcome]) {
        self.spf = spf
        self.dkim = dkim
    }
}
