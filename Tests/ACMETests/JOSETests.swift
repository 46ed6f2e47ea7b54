import Crypto
import Foundation
import Testing

@testable import ACME

@Suite struct JOSETests {
    @Test func base64urlRoundTripsWithoutPadding() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode([]) == "")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("-_8=") == nil)  // RFC 7515 §2: no padding
        #expect(Base64URL.decode("a+b/") == nil)
        #expect(Base64URL.decode("abcde") == nil)  // no encoding has 4n+1 characters
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }

    /// RFC 7638 §3.1: the example RSA key and its SHA-256 thumbprint.
    @Test func thumbprintOfTheRFC7638Example() {
        let n =
            "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        let jwk = JWK(rsaModulus: n, exponent: "AQAB")
        #expect(jwk.canonicalJSON == #"{"e":"AQAB","kty":"RSA","n":"\#(n)"}"#)
        #expect(jwk.thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    /// RFC 7515 Appendix A.3's P-256 key.
    static let a3x = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    static let a3y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    static let a3d = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"

    static func a3Key() throws -> P256.Signing.PrivateKey {
        try P256.Signing.PrivateKey(rawRepresentation: try #require(Base64URL.decode(a3d)))
    }

    /// The EC JWK members are the RFC's x and y: full 32-octet coordinates, base64url, and the
    /// thumbprint input is their canonical JSON (RFC 7638 §3.2).
    @Test func ecJWKOfTheRFC7515Key() throws {
        let jwk = JWK(try Self.a3Key().publicKey)
        #expect(jwk.canonicalJSON == #"{"crv":"P-256","kty":"EC","x":"\#(Self.a3x)","y":"\#(Self.a3y)"}"#)
        let digest = SHA256.hash(data: Array(jwk.canonicalJSON.utf8))
        #expect(jwk.thumbprint == Base64URL.encode(digest))
        #expect(jwk.thumbprint.count == 43)
    }

    /// RFC 7515 Appendix A.3: the RFC's ES256 signature verifies over the RFC's signing input
    /// (ECDSA is randomized, so ours are verified rather than compared).
    @Test func rfc7515ExampleA3Verifies() throws {
        let jws = FlattenedJWS(
            protected: "eyJhbGciOiJFUzI1NiJ9",
            payload: "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ",
            signature: "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
        let key = try Self.a3Key().publicKey
        #expect(jws.isValidES256Signature(for: key))
        var tampered = jws
        tampered.payload = Base64URL.encode(#"{"iss":"joe"}"#)
        #expect(!tampered.isValidES256Signature(for: key))
        // Our own signature over the same header and payload verifies too.
        let payload = try #require(Base64URL.decode(jws.payload))
        let ours = try JWSSigner.sign(protectedHeader: #"{"alg":"ES256"}"#, payload: payload, with: try Self.a3Key())
        #expect(ours.protected == jws.protected)
        #expect(ours.payload == jws.payload)
        #expect(try #require(Base64URL.decode(ours.signature)).count == 64)
        #expect(ours.isValidES256Signature(for: key))
    }

    /// RFC 8555 §6.2: newAccount carries the jwk, everything else the kid; alg, nonce, url always.
    @Test func acmeProtectedHeaders() throws {
        let key = try Self.a3Key()
        let jwk = JWK(key.publicKey)
        let withJWK = JWSSigner.protectedHeader(key: .jwk(jwk), nonce: "abc", url: "https://ca.example/acme/new-account")
        #expect(withJWK == #"{"alg":"ES256","jwk":\#(jwk.canonicalJSON),"nonce":"abc","url":"https://ca.example/acme/new-account"}"#)
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(withJWK.utf8)) as? [String: Any])
        #expect((decoded["jwk"] as? [String: String])?["x"] == Self.a3x)
        let withKid = JWSSigner.protectedHeader(key: .kid("https://ca.example/acct/1"), nonce: "n\"1", url: "https://ca.example/order")
        #expect(withKid == #"{"alg":"ES256","kid":"https://ca.example/acct/1","nonce":"n\"1","url":"https://ca.example/order"}"#)

        // POST-as-GET (RFC 8555 §6.3): the payload is the empty string.
        let get = try JWSSigner.sign(payload: nil, key: .kid("k"), nonce: "n", url: "https://ca.example/authz/1", with: key)
        #expect(get.payload == "")
        #expect(get.isValidES256Signature(for: key.publicKey))
        let body = try #require(try JSONSerialization.jsonObject(with: Data(get.encoded())) as? [String: String])
        #expect(Set(body.keys) == ["protected", "payload", "signature"])
        #expect(body["payload"] == "")
    }

    /// RFC 8555 §8.1: token "." thumbprint.
    @Test func keyAuthorization() throws {
        let key = try Self.a3Key()
        let token = "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
        let authorization = KeyAuthorization.make(token: token, accountKey: key.publicKey)
        #expect(authorization == token + "." + JWK(key.publicKey).thumbprint)
        #expect(KeyAuthorization.digest(authorization) == Array(SHA256.hash(data: Array(authorization.utf8))))
    }

    @Test func retryAfter() {
        let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        #expect(RetryAfter.parse("120", now: now) == .seconds(120))
        #expect(RetryAfter.parse(" 5 ", now: now) == .seconds(5))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:50:37 GMT", now: now) == .seconds(60))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:40:37 GMT", now: now) == .seconds(0))
        #expect(RetryAfter.parse("-3", now: now) == nil)
        #expect(RetryAfter.parse("soon", now: now) == nil)
    }
}
