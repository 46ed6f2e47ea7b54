import Testing

@testable import Config

@Suite("SCRAM passwords (RFC 5803)")
struct SCRAMPasswordTests {
    @Test("valid SHA-256 and SHA-1 credentials")
    func valid() throws {
        let sha256 = try SCRAMPassword(rfc5803: Fixtures.sha256)
        #expect(sha256.scheme == .scramSHA256)
        #expect(sha256.iterations == 4096)
        #expect(sha256.salt.count == 16)
        #expect(sha256.storedKey.count == 32)
        #expect(sha256.serverKey.count == 32)
        let sha1 = try SCRAMPassword(rfc5803: Fixtures.sha1)
        #expect(sha1.scheme == .scramSHA1)
        #expect(sha1.iterations == 10000)
        #expect(sha1.storedKey.count == 20)
        // The scheme is case-insensitive (RFC 3112 §2).
        #expect(try SCRAMPassword(rfc5803: "scram-sha-1" + Fixtures.sha1.dropFirst("SCRAM-SHA-1".count)).scheme == .scramSHA1)
    }

    @Test("each syntax error has its message", arguments: [
        ("SCRAM-SHA-256", "expected SCHEME$ITERATIONS:SALT$STOREDKEY:SERVERKEY (RFC 5803), found 1 part(s) separated by '$'"),
        ("SCRAM-MD5$4096:c2FsdA==$a:b", "unknown scheme 'SCRAM-MD5'; expected SCRAM-SHA-256 or SCRAM-SHA-1"),
        ("SCRAM-SHA-1$4096$a:b", "expected ITERATIONS:SALT after 'SCRAM-SHA-1$'"),
        ("SCRAM-SHA-1$4096:c2FsdA==$ab", "expected STOREDKEY:SERVERKEY after the salt"),
        ("SCRAM-SHA-1$04096:c2FsdA==$a:b", "iteration count '04096' is not a positive whole number"),
        ("SCRAM-SHA-1$x:c2FsdA==$a:b", "iteration count 'x' is not a positive whole number"),
        ("SCRAM-SHA-1$99999999999:c2FsdA==$a:b", "iteration count 99999999999 is outside 4096...1000000 (RFC 7677 §4 asks for at least 4096)"),
        ("SCRAM-SHA-1$4096:c2FsdA$a:b", "the salt is not valid base64"),
        ("SCRAM-SHA-1$4096:$a:b", "the salt is not valid base64"),
        ("SCRAM-SHA-1$4096:c2FsdA==$****:AAAA", "StoredKey is not valid base64"),
        ("SCRAM-SHA-1$4096:c2FsdA==$AAAA:AA AA", "ServerKey is not valid base64"),
        ("SCRAM-SHA-256$4096:c2FsdA==$qe6lIZMQEnPtD2Z5igTsXqldZc2SbBh8tUvRP1MlO0k=:wirCN8ioV9O5Jntv6JXF1rD4Aqc=", "ServerKey has 20 octets; SCRAM-SHA-256 needs 32"),
    ])
    func invalid(text: String, message: String) {
        #expect(throws: SCRAMPasswordError(message)) {
            try SCRAMPassword(rfc5803: text)
        }
    }
}
