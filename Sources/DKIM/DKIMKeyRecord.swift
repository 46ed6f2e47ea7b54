import Foundation

/// A DKIM key record, the TXT record at "selector._domainkey.domain" (RFC 6376 §3.6.1,
/// §3.6.2). The TXT record's character-strings are concatenated before parsing (§3.6.2.2).
public struct DKIMKeyRecord: Hashable, Sendable {
    /// h=, the hash algorithms the key may be used with; nil: any (the default).
    public var hashAlgorithms: [String]?
    /// k=, default "rsa"; "ed25519" in RFC 8463 §4.
    public var keyType: String
    /// p=, decoded: DER for rsa (RSAPublicKey or, as published in practice,
    /// SubjectPublicKeyInfo), the raw 32-octet key for ed25519 (RFC 8463 §4). Empty: revoked.
    public var publicKey: [UInt8]
    /// s=, the service types; default "*".
    public var services: [String]
    /// t=, the flags as written; unknown flags are kept and ignored.
    public var flags: [String]

    /// p= is empty: "this public key has been revoked" (§3.6.1).
    public var isRevoked: Bool { publicKey.isEmpty }
    /// t=y: "This domain is testing DKIM" (§3.6.1).
    public var isTesting: Bool { flags.contains("y") }
    /// t=s: the i= domain must be d= itself, not a subdomain (§3.6.1).
    public var isStrict: Bool { flags.contains("s") }
    /// s= lists "email" or "*" (§3.6.1: other records "MUST" be ignored by email verifiers).
    public var allowsEmail: Bool { services.contains("*") || services.contains("email") }

    /// Whether h= allows the hash of `algorithm` (§6.1.2 step 6).
    public func allows(_ algorithm: DKIMAlgorithm) -> Bool {
        hashAlgorithms.map { $0.contains(algorithm.hashName) } ?? true
    }

    public init(parsing text: String) throws(DKIMKeyRecordError) {
        let tags: TagList
        do {
            tags = try TagList(Array(text.utf8))
        } catch {
            throw .tagList(error)
        }
        // v= "MUST be the first tag in the record. Records beginning with a v= tag with any
        // other value MUST be discarded."
        if let version = tags.tag("v") {
            guard tags.tags.first?.name == "v" else { throw .versionNotFirst }
            let value = String(decoding: tags.bytes[version.value], as: UTF8.self)
            guard value == "DKIM1" else { throw .unsupportedVersion(value) }
        }
        hashAlgorithms = tags.colonList("h")
        keyType = tags.value("k") ?? "rsa"
        services = tags.colonList("s") ?? ["*"]
        flags = tags.colonList("t") ?? []
        guard let keyText = tags.compactValue("p") else { throw .missingPublicKey }
        if keyText.isEmpty {
            publicKey = []
        } else {
            guard let data = Data(base64Encoded: Data(keyText)) else {
                throw .invalidPublicKey(String(decoding: keyText.prefix(40), as: UTF8.self))
            }
            publicKey = Array(data)
        }
    }
}

/// Why a key record is not usable (RFC 6376 §6.1.2 step 5, "key syntax error").
public enum DKIMKeyRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    case tagList(TagListError)
    case versionNotFirst
    case unsupportedVersion(String)
    /// No p= tag at all (an empty one means revoked).
    case missingPublicKey
    case invalidPublicKey(String)

    public var description: String {
        switch self {
        case let .tagList(error): return "syntax error: \(error)"
        case .versionNotFirst: return "tag 'v' is not the first tag"
        case let .unsupportedVersion(version): return "tag 'v': version '\(version)' is not DKIM1"
        case .missingPublicKey: return "required tag 'p' is missing"
        case let .invalidPublicKey(text): return "tag 'p': '\(text)' is not base64"
        }
    }
}
