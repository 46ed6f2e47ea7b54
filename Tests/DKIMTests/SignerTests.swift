import DKIM
import DNS
import Foundation
import MetricsTestKit
import TestSupport
import Testing

/// Keys made once: RSA key generation takes a while.
enum Keys {
    static let rsa2048: DKIMPrivateKey = {
        do {
            return try DKIMPrivateKey.generateRSA(bits: 2048)
        } catch {
            preconditionFailure("RSA key generation failed: \(error)")
        }
    }()
    static let ed25519 = DKIMPrivateKey.generateEd25519()
}

@Suite struct SignerTests {
    /// Messages that stress canonicalization: folded fields, 8-bit content, a 1,500-octet
    /// line, no final line ending, bare LF, white space at line ends, trailing empty lines.
    static let messages: [(String, [UInt8])] = [
        (
            "folded",
            crlf(
                """
                From: "Joe Q. Public"
                 <joe@example.com>
                To: Mary Smith <mary@x.test>,
                \tjane@example.org,
                  bob@example.net
                Subject: A subject that goes on and on, long enough to be folded by any sane
                 writer of mail
                Date: Fri, 21 Nov 1997 09:55:06 -0600
                Message-ID: <1234@local.machine.example>

                Body with trailing white space   \t
                and an empty line at the end


                """)
        ),
        (
            "8bit",
            crlf("From: Jörg <jörg@example.com>\nTo: bob@example.net\nSubject: Grüße aus Köln\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nDie Straße ist naß. 日本語\n")
                + [0xE9, 0x0D, 0x0A]
        ),
        ("long line", crlf("From: joe@example.com\nSubject: long\n\n" + String(repeating: "0123456789 ", count: 137) + "\nshort\n")),
        ("no final CRLF", Array("From: joe@example.com\r\nSubject: no end\r\n\r\nlast line without an end".utf8)),
        ("bare LF", Array("From: joe@example.com\nSubject: bare\n  LF folding\n\nline one\n\nline  three \n\n".utf8)),
        ("header only", Array("From: joe@example.com\r\nSubject: nothing else\r\n".utf8)),
    ]

    static let canonicalizations: [(Canonicalization, Canonicalization)] = [(.relaxed, .relaxed), (.simple, .simple), (.relaxed, .simple), (.simple, .relaxed)]

    func resolver() -> MockResolver {
        let resolver = MockResolver()
        resolver.addTXT("rsa._domainkey.example.com", [Keys.rsa2048.keyRecord])
        resolver.addTXT("ed._domainkey.example.com", [Keys.ed25519.keyRecord])
        return resolver
    }

    func signers(_ header: Canonicalization, _ body: Canonicalization, now: @escaping @Sendable () -> Date = { Date() }) throws -> [DKIMSigner] {
        [
            try DKIMSigner(domain: "example.com", selector: "rsa", key: Keys.rsa2048, headerCanonicalization: header, bodyCanonicalization: body, now: now),
            try DKIMSigner(domain: "example.com", selector: "ed", key: Keys.ed25519, headerCanonicalization: header, bodyCanonicalization: body, now: now),
        ]
    }

    @Test(arguments: canonicalizations)
    func signedMessagesVerify(_ header: Canonicalization, _ body: Canonicalization) async throws {
        let verifier = DKIMVerifier(resolver: resolver())
        for (label, message) in Self.messages {
            let signed = try DKIMSigner.sign(message, with: signers(header, body))
            #expect(signed.suffix(message.count) == message[...], "\(label): the message itself is unchanged")
            let results = await verifier.verify(signed)
            #expect(results.map(\.status) == [.pass, .pass], "\(label) \(header)/\(body): \(results.map { $0.reason ?? "" })")
            #expect(results.map(\.algorithm) == ["rsa-sha256", "ed25519-sha256"])
            #expect(results.first?.keyBits == 2048)
        }
    }

    /// A message signed with LF line endings verifies once sent with CRLF, and the other way
    /// round: canonicalization reads a bare LF as CRLF.
    @Test func lineEndingsDoNotMatter() async throws {
        let verifier = DKIMVerifier(resolver: resolver())
        for (header, body) in Self.canonicalizations {
            let lf = Array("From: joe@example.com\nSubject: x\n folded\n\nbody\n".utf8)
            let signed = try DKIMSigner.sign(lf, with: signers(header, body))
            #expect(!signed.contains(0x0D), "LF messages get LF signature fields")
            let sent = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
            #expect(await verifier.verify(sent).map(\.status) == [.pass, .pass])

            let signedCRLF = try DKIMSigner.sign(crlf(String(decoding: lf, as: UTF8.self)), with: signers(header, body))
            let stored = Array(String(decoding: signedCRLF, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
            #expect(await verifier.verify(stored).map(\.status) == [.pass, .pass])
        }
    }

    /// Relaxed survives refolding and white-space changes; simple does not.
    @Test func relaxedToleratesWhitespaceChangesSimpleDoesNot() async throws {
        let message = crlf("From: joe@example.com\nSubject: hello world\n\nsome  text\n")
        let verifier = DKIMVerifier(resolver: resolver())
        let relaxed = String(decoding: try DKIMSigner.sign(message, with: signers(.relaxed, .relaxed)), as: UTF8.self)
        let simple = String(decoding: try DKIMSigner.sign(message, with: signers(.simple, .simple)), as: UTF8.self)
        func mangle(_ text: String) -> [UInt8] {
            Array(text.replacingOccurrences(of: "Subject: hello world", with: "subject:  hello\r\n\tworld")
                .replacingOccurrences(of: "some  text", with: "some text  ").utf8)
        }
        #expect(await verifier.verify(mangle(relaxed)).map(\.status) == [.pass, .pass])
        #expect(await verifier.verify(mangle(simple)).map(\.status) == [.fail, .fail])
    }

    @Test func fieldLayout() throws {
        let clock = TestClock()
        let signer = try DKIMSigner(
            domain: "example.com", selector: "rsa", key: Keys.rsa2048, identity: "joe@example.com", validity: .seconds(86400), now: { clock.now })
        let message = crlf("From: joe@example.com\nTo: a@x.test\nTo: b@x.test\nReceived: by relay\nList-Id: <l.x.test>\nX-Other: 1\n\nbody\n")
        let field = String(decoding: try signer.signatureField(for: message), as: UTF8.self)
        #expect(field.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa;\r\n i=joe@example.com; t=1700000000; x=1700086400;"))
        #expect(field.hasSuffix("\r\n"))
        let lines = field.dropLast(2).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.count <= 78 }, "\(lines)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        let signature = try DKIMSignature(field: Array(field.utf8))
        // Present fields once, oversigned ones once more; absent oversigned ones once; List-Id
        // only as present; unknown and trace fields not at all.
        #expect(signature.signedHeaders == [
            "from", "from", "reply-to", "subject", "date", "to", "to", "to", "cc", "in-reply-to", "references", "message-id", "mime-version",
            "content-type", "content-transfer-encoding", "list-id",
        ])
        #expect(signature.timestamp == 1_700_000_000 && signature.expiration == 1_700_086_400)
        #expect(signature.signature.count == 256)
    }

    @Test func errors() throws {
        let key = Keys.ed25519
        #expect(throws: DKIMSigningError.invalidDomain("localhost")) { try DKIMSigner(domain: "localhost", selector: "s", key: key) }
        #expect(throws: DKIMSigningError.invalidSelector("a b")) { try DKIMSigner(domain: "example.com", selector: "a b", key: key) }
        #expect(throws: DKIMSigningError.fromNotSigned) { try DKIMSigner(domain: "example.com", selector: "s", key: key, headers: ["Subject"]) }
        #expect(throws: DKIMSigningError.invalidHeaderName("Bad:Name")) {
            try DKIMSigner(domain: "example.com", selector: "s", key: key, headers: ["From", "Bad:Name"])
        }
        #expect(throws: DKIMSigningError.identityOutsideDomain("joe@example.org")) {
            try DKIMSigner(domain: "example.com", selector: "s", key: key, identity: "joe@example.org")
        }
        #expect(throws: DKIMSigningError.invalidValidity) { try DKIMSigner(domain: "example.com", selector: "s", key: key, validity: .zero) }
        let signer = try DKIMSigner(domain: "example.com", selector: "s", key: key)
        #expect(throws: DKIMSigningError.noFromField) { try signer.signatureField(for: crlf("Subject: no sender\n\nbody\n")) }
        #expect(throws: DKIMSigningError.noFromField) { try signer.signatureField(for: []) }
    }

    @Test func keys() throws {
        // PKCS#8 PEM for both types, read back as the same key.
        for key in [Keys.rsa2048, Keys.ed25519] {
            #expect(key.pemRepresentation.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            let read = try DKIMPrivateKey(pem: key.pemRepresentation)
            #expect(read.keyRecord == key.keyRecord)
            #expect(read.algorithm == key.algorithm)
        }
        #expect(Keys.rsa2048.keyRecord.hasPrefix("v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"))
        #expect(Keys.ed25519.keyRecord.hasPrefix("v=DKIM1; k=ed25519; p="))
        #expect(Keys.ed25519.keyRecord.count == "v=DKIM1; k=ed25519; p=".count + 44)
        // The RFC 8463 RSA key (PKCS#1) has the RFC's public key.
        let rfc = try DKIMPrivateKey(pem: RFC8463.rsaPrivateKeyPEM)
        #expect(rfc.keyRecord == "v=DKIM1; k=rsa; p=" + RFC8463.rsaRecordStrings.joined().dropFirst(18))
        #expect(throws: DKIMKeyError.unreadableKey) { try DKIMPrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
        #expect(throws: DKIMKeyError.unsupportedRSAKeySize(512)) { try DKIMPrivateKey.generateRSA(bits: 512) }
        #expect(throws: DKIMKeyError.unsupportedRSAKeySize(2047)) { try DKIMPrivateKey.generateRSA(bits: 2047) }
    }

    /// RFC 8463's Ed25519 key signs the appendix message so that the appendix's record
    /// verifies it, with the h= of the appendix (oversigned From, Subject, Date).
    @Test func rfc8463KeySignsForTheAppendixRecord() async throws {
        let seed = try #require(Data(base64Encoded: RFC8463.ed25519Seed))
        let pem = "-----BEGIN PRIVATE KEY-----\n" + Data([0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20] + seed).base64EncodedString()
            + "\n-----END PRIVATE KEY-----\n"
        let key = try DKIMPrivateKey(pem: pem)
        #expect(key.keyRecord == RFC8463.ed25519Record)
        let signer = try DKIMSigner(
            domain: "football.example.com", selector: "brisbane", key: key, headers: ["From", "To", "Subject", "Date", "Message-ID"],
            oversigned: ["from", "subject", "date"])
        let signed = try DKIMSigner.sign(crlf(RFC8463.unsigned), with: [signer])
        let results = await DKIMVerifier(resolver: RFC8463.resolver()).verify(signed)
        #expect(results.map(\.status) == [.pass])
        #expect(results.first?.signature?.signedHeaders == ["from", "from", "to", "subject", "subject", "date", "date", "message-id"])
    }

    /// The seam gives each domain's signers, each domain and selector once however often
    /// (and however spelled) the From names it, and nothing for domains that do not sign.
    @Test func outgoingSigningByAuthorDomain() throws {
        let rsa = try DKIMSigner(domain: "example.com", selector: "rsa", key: Keys.rsa2048)
        // A fixed t=: Ed25519 signatures are deterministic, so signing twice gives one field.
        let ed = try DKIMSigner(domain: "example.com", selector: "ed", key: Keys.ed25519, now: { Date(timeIntervalSince1970: 1_795_301_115) })
        let other = try DKIMSigner(domain: "other.example", selector: "ed", key: Keys.ed25519)
        let signing = OutgoingSigning { domain in
            switch domain.lowercased() {
            case "example.com": [ed, rsa]
            case "other.example": [other]
            default: []
            }
        }
        let names = { (signers: [DKIMSigner]) in signers.map { "\($0.selector)@\($0.domain)" } }
        #expect(names(signing.signers(forDomains: ["example.com"])) == ["ed@example.com", "rsa@example.com"])
        #expect(names(signing.signers(forDomains: ["EXAMPLE.com", "other.example", "example.com"])) == ["ed@example.com", "rsa@example.com", "ed@other.example"])
        #expect(signing.signers(forDomains: ["unsigned.example"]).isEmpty)
        #expect(signing.signers(forDomains: []).isEmpty)

        // The fields alone are what `sign` puts in front of the message.
        let message = crlf("From: a@example.com\nSubject: s\n\nbody\n")
        let fields = try DKIMSigner.signatureFields(for: message, with: [ed])
        #expect(String(decoding: fields, as: UTF8.self).hasPrefix("DKIM-Signature: v=1; a=ed25519-sha256;"))
        #expect(try DKIMSigner.sign(message, with: [ed]) == fields + message)
    }

    @Test func signaturesAreCounted() throws {
        let metrics = TestMetrics()
        let signer = try DKIMSigner(domain: "example.com", selector: "ed", key: Keys.ed25519, metrics: DKIMMetrics(factory: metrics))
        _ = try signer.signatureField(for: crlf("From: a@example.com\n\nx\n"))
        #expect(try metrics.expectCounter("tern_dkim_signatures_total", [("algorithm", "ed25519-sha256")]).totalValue == 1)
        #expect(try metrics.expectCounter("tern_dkim_signatures_total", [("algorithm", "rsa-sha256")]).totalValue == 0)
    }
}
