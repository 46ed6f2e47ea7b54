import Crypto
import Foundation

/// A JWS in the flattened JSON serialization (RFC 7515 §7.2.2), the only form ACME accepts
/// (RFC 8555 §6.2): `{"protected": ..., "payload": ..., "signature": ...}`, each base64url.
public struct FlattenedJWS: Sendable, Equatable, Codable {
    public var protected: String
    public var payload: String
    public var signature: String

    public init(protected: String, payload: String, signature: String) {
        self.protected = protected
        self.payload = payload
        self.signature = signature
    }

    /// The JSON body of an ACME POST (`application/jose+json`).
    public func encoded() -> [UInt8] {
        Array(#"{"protected":"\#(protected)","payload":"\#(payload)","signature":"\#(signature)"}"#.utf8)
    }

    /// RFC 7515 §5.1 step 8: ASCII(BASE64URL(protected) || '.' || BASE64URL(payload)).
    public var signingInput: [UInt8] { Array("\(protected).\(payload)".utf8) }

    /// Checks an ES256 signature (RFC 7518 §3.4: R || S, 32 octets each) against `key`.
    public func isValidES256Signature(for key: P256.Signing.PublicKey) -> Bool {
        guard let raw = Base64URL.decode(signature), raw.count == 64,
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw)
        else { return false }
        return key.isValidSignature(signature, for: signingInput)
    }
}

/// How the request names the signing key (RFC 8555 §6.2): the full JWK for newAccount (and
/// revocation by certificate key), else the account URL as "kid".
public enum JWSKeyReference: Sendable, Equatable {
    case jwk(JWK)
    case kid(String)
}

/// Signs ACME requests with an ES256 account key (RFC 7518 §3.4).
public enum JWSSigner {
    /// The protected header of RFC 8555 §6.2: alg, nonce, url, and exactly one of jwk and kid.
    /// Written by hand, members sorted, so the header is the same bytes every time.
    public static func protectedHeader(key: JWSKeyReference, nonce: String?, url: String) -> String {
        var members: [String] = [#""alg":"ES256""#]
        switch key {
        case let .jwk(jwk): members.append(#""jwk":"# + jwk.canonicalJSON)
        case let .kid(kid): members.append(#""kid":"# + JSONText.quoted(kid))
        }
        if let nonce { members.append(#""nonce":"# + JSONText.quoted(nonce)) }
        members.append(#""url":"# + JSONText.quoted(url))
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Signs `payload` (nil for POST-as-GET, RFC 8555 §6.3: the empty string as payload).
    public static func sign(
        payload: [UInt8]?, key: JWSKeyReference, nonce: String?, url: String, with privateKey: P256.Signing.PrivateKey
    ) throws -> FlattenedJWS {
        try sign(protectedHeader: protectedHeader(key: key, nonce: nonce, url: url), payload: payload, with: privateKey)
    }

    /// Signs a given header JSON and payload (RFC 7515 §5.1).
    public static func sign(protectedHeader: String, payload: [UInt8]?, with privateKey: P256.Signing.PrivateKey) throws -> FlattenedJWS {
        let protected = Base64URL.encode(protectedHeader)
        let encodedPayload = payload.map { Base64URL.encode($0) } ?? ""
        var jws = FlattenedJWS(protected: protected, payload: encodedPayload, signature: "")
        let signature = try privateKey.signature(for: jws.signingInput)
        jws.signature = Base64URL.encode(signature.rawRepresentation)
        return jws
    }
}

/// The little JSON text written by hand here.
enum JSONText {
    /// A JSON string literal (RFC 8259 §7).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
