// DomainKeys Identified Mail: RFC 6376, updated by RFC 8301 (no rsa-sha1, no RSA keys under
// 1024 bits) and RFC 8463 (ed25519-sha256).
//
// The flow, for both directions:
//
//   message octets ──HeaderSection (Message module)──> header fields, raw, as received
//        │                                              │
//        └─ body ──BodyCanonicalizer (§3.4.3/§3.4.4)──> body hash "bh=" (§3.7 step 1, l= §3.5)
//                                                       │
//   fields named by h=, bottom-up (§5.4.2) ──HeaderCanonicalization (§3.4.1/§3.4.2)──┐
//   the DKIM-Signature field itself, b= emptied (§3.7 step 2) ───────────────────────┴─> SHA-256
//                                                                                    = data-hash
//   Signing (DKIMSigner): data-hash signed with RSA PKCS#1 v1.5 (§3.3.2) or Ed25519 (RFC 8463
//   §3), the signature goes into b= of a DKIM-Signature field prepended to the message (§5.6).
//
//   Verifying (DKIMVerifier), per DKIM-Signature field (§6.1): parse and check the tag-list
//   (DKIMSignature, §3.5, §6.1.1); fetch the key record "selector._domainkey.domain" over the
//   injected Resolver (DKIMKeyRecord, §3.6.1, §6.1.2); compare the body hash, then check b=
//   against the data-hash with the key (DKIMPublicKey, §6.1.3). Each signature gets its own
//   DKIMResult with an RFC 8601 §2.7.1 result word.
//
// The parsers (TagList, DKIMSignature, DKIMKeyRecord) and the canonicalization import only
// Foundation, so Fuzz/run.sh compiles them without SwiftPM.

/// Signing algorithms named in a= (RFC 6376 §3.3, RFC 8463 §3).
public enum DKIMAlgorithm: String, Hashable, Sendable, CaseIterable {
    /// Historic (RFC 8301 §3.1): recognised so that it is reported as refused, never verified.
    case rsaSHA1 = "rsa-sha1"
    case rsaSHA256 = "rsa-sha256"
    case ed25519SHA256 = "ed25519-sha256"

    /// RFC 8301 §3.2: "Verifiers MUST NOT consider signatures using RSA keys of less than 1024
    /// bits as valid signatures", and "Signers MUST use RSA keys of at least 1024 bits".
    public static let minimumRSAKeyBits = 1024

    /// The k= key type this algorithm needs (RFC 6376 §3.6.1, RFC 8463 §4).
    public var keyType: String {
        switch self {
        case .rsaSHA1, .rsaSHA256: return "rsa"
        case .ed25519SHA256: return "ed25519"
        }
    }

    /// The hash named in a key record's h= (RFC 6376 §3.6.1).
    public var hashName: String {
        switch self {
        case .rsaSHA1: return "sha1"
        case .rsaSHA256, .ed25519SHA256: return "sha256"
        }
    }
}

/// Header or body canonicalization (RFC 6376 §3.4).
public enum Canonicalization: String, Hashable, Sendable, CaseIterable {
    case simple
    case relaxed
}
