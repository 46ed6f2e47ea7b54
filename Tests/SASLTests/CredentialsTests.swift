import Foundation
import Testing
@testable import SASL
import TestSupport

@Suite struct CredentialsTests {
    static func hex(_ text: String) -> [UInt8] { Bytes.fromHex(Array(text.utf8)) ?? [] }

    /// Hi() is PBKDF2 with one block (RFC 5802 §2.2). RFC 6070 §2 vectors for
    /// PBKDF2-HMAC-SHA1; the SHA-256 one from Python's hashlib.pbkdf2_hmac.
    @Test func hiMatchesPBKDF2Vectors() {
        let password = bytes("password")
        let salt = bytes("salt")
        #expect(SCRAMHash.sha1.hi(password, salt: salt, iterations: 1) == Self.hex("0c60c80f961f0e71f3a9b524af6012062fe037a6"))
        #expect(SCRAMHash.sha1.hi(password, salt: salt, iterations: 2) == Self.hex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"))
        #expect(SCRAMHash.sha1.hi(password, salt: salt, iterations: 4096) == Self.hex("4b007901b765489abead49d926f721d065a429c1"))
        #expect(SCRAMHash.sha256.hi(password, salt: salt, iterations: 4096)
            == Self.hex("c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a"))
    }

    /// The keys for the RFC 5802 §5 and RFC 7677 §3 users, in RFC 5803 form. The SHA-1
    /// string is the example of RFC 5803 §4; both were cross-checked with Python
    /// (hashlib.pbkdf2_hmac, hmac).
    static let rfc5802User = "SCRAM-SHA-1$4096:QSXCR+Q6sek8bf92$6dlGYMOdZcOPutkcNY8U2g7vK9Y=:D+CSWLOshSulAsxiupA+qs2/fTE="
    static let rfc7677User = "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

    @Test func deriveMatchesKnownKeys() throws {
        let sha1 = try SCRAMCredentials.derive(
            password: "pencil", salt: try #require(SASLBase64.decode("QSXCR+Q6sek8bf92")), iterations: 4096, hash: .sha1)
        #expect(sha1.rfc5803 == Self.rfc5802User)
        let sha256 = try SCRAMCredentials.derive(
            password: "pencil", salt: try #require(SASLBase64.decode("W22ZaJ0SNY7soEsUEjb6gQ==")), iterations: 4096, hash: .sha256)
        #expect(sha256.rfc5803 == Self.rfc7677User)
    }

    @Test func rfc5803RoundTrip() throws {
        for string in [Self.rfc5802User, Self.rfc7677User] {
            let parsed = try SCRAMCredentials(rfc5803: string)
            #expect(parsed.rfc5803 == string)
            #expect(parsed.verify(password: "pencil"))
            #expect(!parsed.verify(password: "pencil "))
        }
        let lower = try SCRAMCredentials(rfc5803: Self.rfc7677User.replacingOccurrences(of: "SCRAM-SHA-256", with: "scram-sha-256"))
        #expect(lower.hash == .sha256)
    }

    static let key20 = SASLBase64.encode(Array(repeating: 1, count: 20))
    static let key32 = SASLBase64.encode(Array(repeating: 1, count: 32))

    static let rfc5803ErrorCases: [(String, SCRAMCredentialsError)] = [
        ("", .malformed("want scheme$iterations:salt$storedKey:serverKey, found 1 $-separated parts")),
        ("SCRAM-SHA-1$4096:QSXCR+Q6sek8bf92", .malformed("want scheme$iterations:salt$storedKey:serverKey, found 2 $-separated parts")),
        ("SCRAM-SHA-1$4096:c2FsdA==$\(key20):\(key20)$x", .malformed("want scheme$iterations:salt$storedKey:serverKey, found 4 $-separated parts")),
        ("SCRAM-MD5$4096:c2FsdA==$\(key20):\(key20)", .unknownScheme("SCRAM-MD5")),
        ("SCRAM-SHA-1$4096$\(key20):\(key20)", .malformed("want iterations:salt after the scheme")),
        ("SCRAM-SHA-1$4096c2FsdA==$\(key20):\(key20)", .malformed("want iterations:salt after the scheme")),
        ("SCRAM-SHA-1$4096:c2FsdA==$\(key20)\(key20)", .malformed("want storedKey:serverKey after the salt")),
        ("SCRAM-SHA-1$04096:c2FsdA==$\(key20):\(key20)", .invalidIterationCount("04096")),
        ("SCRAM-SHA-1$abc:c2FsdA==$\(key20):\(key20)", .invalidIterationCount("abc")),
        ("SCRAM-SHA-1$:c2FsdA==$\(key20):\(key20)", .invalidIterationCount("")),
        ("SCRAM-SHA-1$100:c2FsdA==$\(key20):\(key20)", .iterationCountOutOfRange(100)),
        ("SCRAM-SHA-1$9999999999999:c2FsdA==$\(key20):\(key20)", .iterationCountOutOfRange(Int.max)),
        ("SCRAM-SHA-1$4096:c2FsdA=$\(key20):\(key20)", .invalidBase64(field: "salt")),
        ("SCRAM-SHA-1$4096:$\(key20):\(key20)", .invalidSaltLength(0)),
        ("SCRAM-SHA-1$4096:c2FsdA==$%%%%:\(key20)", .invalidBase64(field: "StoredKey")),
        ("SCRAM-SHA-1$4096:c2FsdA==$\(key20):A", .invalidBase64(field: "ServerKey")),
        ("SCRAM-SHA-1$4096:c2FsdA==$\(key32):\(key20)", .invalidKeyLength(field: "StoredKey", expected: 20, actual: 32)),
        ("SCRAM-SHA-256$4096:c2FsdA==$\(key32):\(key20)", .invalidKeyLength(field: "ServerKey", expected: 32, actual: 20)),
    ]

    @Test(arguments: rfc5803ErrorCases.indices)
    func rfc5803Errors(_ index: Int) {
        let (input, expected) = Self.rfc5803ErrorCases[index]
        #expect(throws: expected, "\(input)") { _ = try SCRAMCredentials(rfc5803: input) }
    }

    @Test func errorsDescribeThemselves() {
        #expect(SCRAMCredentialsError.invalidKeyLength(field: "StoredKey", expected: 32, actual: 20).description
            == "StoredKey of 20 octets (want 32)")
        #expect(SCRAMCredentialsError.iterationCountOutOfRange(5).description == "iteration count 5 outside 4096...1000000")
    }

    @Test func verifyPreparesThePassword() throws {
        let credentials = try SCRAMCredentials.derive(
            password: "\u{E9}t\u{E9}", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha256)
        #expect(credentials.verify(password: "e\u{301}te\u{301}"))
        #expect(!credentials.verify(password: "ete"))
        #expect(!credentials.verify(password: ""))
        #expect(!credentials.verify(password: "\u{E9}t\u{E9}\u{7}"))
        var unusable = credentials
        unusable.iterations = 0
        #expect(!unusable.verify(password: "\u{E9}t\u{E9}"))
    }

    @Test func deriveRejectsUnpreparablePasswordsAndClampsIterations() throws {
        #expect(throws: SASLprepError.empty) {
            _ = try SCRAMCredentials.derive(password: "", salt: [1], iterations: 4096, hash: .sha1)
        }
        let clamped = try SCRAMCredentials.derive(password: "p", salt: [1], iterations: -5, hash: .sha1)
        #expect(clamped.iterations == 1)
        #expect(clamped == (try SCRAMCredentials.derive(password: "p", salt: [1], iterations: 1, hash: .sha1)))
    }

    @Test func generateUsesInjectedRandomness() throws {
        var first = SplitMix64(state: 42)
        var second = SplitMix64(state: 42)
        let a = try SCRAMCredentials.generate(password: "pw", hash: .sha256, iterations: 4096, using: &first)
        let b = try SCRAMCredentials.generate(password: "pw", hash: .sha256, iterations: 4096, using: &second)
        #expect(a == b)
        #expect(a.salt.count == SCRAMCredentials.defaultSaltLength)
        #expect(a.iterations == 4096)
        let random = try SCRAMCredentials.generate(password: "pw", hash: .sha1, iterations: 4096)
        #expect(random.salt != a.salt)
        #expect(random.verify(password: "pw"))
        #expect(SCRAMCredentials.defaultIterations == 10_000)
    }

    @Test func codableRoundTrip() throws {
        let stored = pencilCredentials
        let data = try JSONEncoder().encode(stored)
        #expect(try JSONDecoder().decode(SASLStoredCredentials.self, from: data) == stored)
    }

    @Test func storedCredentialsPickTheRightHash() throws {
        var swapped = pencilCredentials
        swapped.scramSHA1 = pencilCredentials.scramSHA256
        #expect(swapped.scram(.sha1) == nil)  // SHA-256 keys in the SHA-1 slot are unusable
        #expect(swapped.scram(.sha256) == pencilCredentials.scramSHA256)
    }

    @Test func noncesAreValidatedAndRandom() {
        #expect(SASLNonce("") == nil)
        #expect(SASLNonce("a,b") == nil)
        #expect(SASLNonce("a b") == nil)
        #expect(SASLNonce(String(repeating: "a", count: 257)) == nil)
        #expect(SASLNonce("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")?.value == "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
        var first = SplitMix64(state: 7)
        var second = SplitMix64(state: 7)
        #expect(SASLNonce.random(using: &first) == SASLNonce.random(using: &second))
        let random = SASLNonce.random()
        #expect(random.value.count == 24)
        #expect(SASLNonce(random.value) == random)
        #expect(SASLNonce.random() != random)
    }
}
