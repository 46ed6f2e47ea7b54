import Crypto
import Foundation

/// A public JSON Web Key, reduced to the members its thumbprint covers (RFC 7638 §3.2):
/// for EC keys crv, kty, x, y (RFC 7518 §6.2.1), for RSA keys e, kty, n (RFC 7518 §6.3.1).
/// ACME accounts here use EC P-256; RSA is accepted so that the RFC 7638 §3.1 example can
/// be checked.
public struct JWK: Sendable, Equatable {
    /// The required members, sorted by name (RFC 7638 §3: lexicographic order by Unicode
    /// code point; all names here are ASCII).
    public let members: [(name: String, value: String)]

    public static func == (lhs: JWK, rhs: JWK) -> Bool {
        lhs.members.map(\.name) == rhs.members.map(\.name) && lhs.members.map(\.value) == rhs.members.map(\.value)
    }

    /// An EC P-256 public key: x and y are the 32-octet big-endian coordinates (RFC 7518
    /// §6.2.1.2, §6.2.1.3), full length even with leading zeros.
    public init(_ key: P256.Signing.PublicKey) {
        // x963: 0x04 || X || Y (SEC 1 §2.3.3, uncompressed).
        let point = Array(key.x963Representation)
        let x = point[1..<33], y = point[33..<65]
        members = [("crv", "P-256"), ("kty", "EC"), ("x", Base64URL.encode(x)), ("y", Base64URL.encode(y))]
    }

    /// An RSA public key from its base64url modulus and exponent (RFC 7518 §6.3.1).
    public init(rsaModulus n: String, exponent e: String) {
        members = [("e", e), ("kty", "RSA"), ("n", n)]
    }

    /// The canonical JSON of RFC 7638 §3: required members only, sorted, no whitespace.
    /// All values here are base64url or fixed names, so none needs JSON escaping.
    public var canonicalJSON: String {
        "{" + members.map { "\"\($0.name)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// The JWK thumbprint (RFC 7638 §3) with SHA-256, base64url-encoded: what the key
    /// authorization appends to the token (RFC 8555 §8.1).
    public var thumbprint: String {
        Base64URL.encode(SHA256.hash(data: Array(canonicalJSON.utf8)))
    }
}
