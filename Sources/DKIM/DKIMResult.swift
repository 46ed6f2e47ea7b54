/// The result of one signature, in the words of Authentication-Results (RFC 8601 §2.7.1).
///
/// How RFC 6376's outcomes map onto them:
/// - pass: SUCCESS (§6.1.3 step 5).
/// - fail: PERMFAIL because the message does not match: "body hash did not verify", "signature
///   did not verify" (§6.1.3 steps 3 and 4), or an l= longer than the body (§3.5).
/// - neutral: the DKIM-Signature field cannot be processed: a syntax error, a missing tag, an
///   unknown version, algorithm, canonicalization or query method. RFC 8601 §2.7.1 gives
///   neutral for exactly this ("contained syntax errors or were not otherwise able to be
///   processed"), where RFC 6376 §6.1.1 only says PERMFAIL.
/// - permerror: the signature is well-formed but can never verify: no key record, several,
///   a malformed or revoked key, an unsuitable key or hash (§6.1.2), From not signed and i=
///   outside d= (§6.1.1; RFC 8601's "a required header field being absent"), expired (x=).
///   Also rsa-sha1 and RSA keys under 1024 bits: RFC 8301 §3.1 and §3.2 say such signatures
///   "have permanently failed evaluation as discussed in Section 3.9 of [RFC6376]", a rule
///   of the protocol, so permerror and not policy.
/// - temperror: the key could not be fetched now (§6.1.2 step 2, "TEMPFAIL (key unavailable)").
/// - policy: the signature verified or could, but this verifier's own rules refuse it (RFC
///   8601 §2.7.1: "some aspect of the signature or signatures was not acceptable to the
///   ADMD"): an RSA key shorter than the configured minimum, content beyond l= when
///   configured to refuse it (RFC 6376 §6.1.3), a signature beyond the number checked.
public enum DKIMStatus: String, Hashable, Sendable, CaseIterable {
    case pass, fail, neutral, temperror, permerror, policy
}

/// What a verifier found for one DKIM-Signature field.
public struct DKIMResult: Hashable, Sendable {
    public var status: DKIMStatus
    /// Why, for every status but pass; for a pass with l=, what was left unsigned.
    public var reason: String?
    /// d=, s=, a= and i= as written (i= defaulted to "@" + d=). For a field that could not be
    /// parsed, what could be read of them.
    public var domain: String?
    public var selector: String?
    public var algorithm: String?
    public var identity: String?
    /// Whether the key record's answer was DNSSEC-validated (the resolver's AD bit); false
    /// when no key was fetched.
    public var keyAuthentic: Bool
    /// The key record has t=y: "Verifiers MUST NOT treat messages from Signers in testing mode
    /// differently from unsigned email" (RFC 6376 §3.6.1).
    public var testing: Bool
    /// l=, when the signature covers only part of the body (RFC 6376 §3.5, §8.2).
    public var bodyLength: Int?
    /// Canonicalized body octets after the first l= octets: content nobody signed.
    public var unsignedBodyOctets: Int
    /// The size of the key that verified (RSA only).
    public var keyBits: Int?
    /// The parsed field, when it could be parsed.
    public var signature: DKIMSignature?

    public init(
        status: DKIMStatus, reason: String? = nil, domain: String? = nil, selector: String? = nil, algorithm: String? = nil,
        identity: String? = nil, keyAuthentic: Bool = false, testing: Bool = false, bodyLength: Int? = nil, unsignedBodyOctets: Int = 0,
        keyBits: Int? = nil, signature: DKIMSignature? = nil
    ) {
        self.status = status
        self.reason = reason
        self.domain = domain
        self.selector = selector
        self.algorithm = algorithm
        self.identity = identity
        self.keyAuthentic = keyAuthentic
        self.testing = testing
        self.bodyLength = bodyLength
        self.unsignedBodyOctets = unsignedBodyOctets
        self.keyBits = keyBits
        self.signature = signature
    }
}
