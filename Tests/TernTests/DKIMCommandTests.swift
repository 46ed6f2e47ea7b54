import DKIM
import DNS
import DNSTestSupport
import Foundation
import TestSupport
import Testing

/// `tern dkim` run as a binary; verification against a DNS server on loopback.
@Suite struct DKIMCommandTests {
    static let message = "From: Joe <joe@example.test>\r\nTo: bob@example.net\r\nSubject: Grüße\r\n\r\nHello.\r\n"

    /// A TXT record in character-strings of at most 255 octets (RFC 1035 §3.3), as a zone
    /// file holds a 2048-bit RSA key record.
    static func keyRecord(_ selector: String, _ key: DKIMPrivateKey) -> ResourceRecord {
        let octets = Array(key.keyRecord.utf8)
        let strings = stride(from: 0, to: octets.count, by: 255).map { Array(octets[$0..<min($0 + 255, octets.count)]) }
        return ResourceRecord(name: (try? DNSName("\(selector)._domainkey.example.test")) ?? .root, ttl: 300, data: .txt(strings))
    }

    @Test func keysAndTheirRecords() async throws {
        let directory = try TemporaryDirectory()
        for (arguments, prefix) in [(["genrsa"], "v=DKIM1; k=rsa; p=MIIBIjAN"), (["genrsa", "--bits", "1024"], "v=DKIM1; k=rsa; p=MIGfMA0G"), (["gened25519"], "v=DKIM1; k=ed25519; p=")] {
            let generated = try await TernRun.run(["dkim"] + arguments)
            #expect(generated.status == 0, "\(generated.stderr)")
            #expect(generated.stdout.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            #expect(generated.stdout.hasSuffix("-----END PRIVATE KEY-----\n"))
            let path = directory.path + "/key.pem"
            try Data(generated.stdout.utf8).write(to: URL(fileURLWithPath: path))
            let record = try await TernRun.run(["dkim", "txt", path])
            #expect(record.status == 0)
            #expect(record.stdout.hasPrefix(prefix), "\(record.stdout)")
            #expect(record.stdout == (try DKIMPrivateKey(pem: generated.stdout)).keyRecord + "\n")
        }

        let tooShort = try await TernRun.run(["dkim", "genrsa", "--bits", "512"])
        #expect(tooShort.status == 64)
        #expect(tooShort.stderr.contains("--bits: RSA keys of 512 bits are not supported"))

        let missing = try await TernRun.run(["dkim", "txt", directory.path + "/none.pem"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("tern dkim txt: \(directory.path)/none.pem: "))
        let notAKey = directory.path + "/not.pem"
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: notAKey))
        let garbage = try await TernRun.run(["dkim", "txt", notAKey])
        #expect(garbage.status == 1)
        #expect(garbage.stderr == "tern dkim txt: \(notAKey): not a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA of at least 1024 bits)\n")
    }

    @Test func signThenVerify() async throws {
        let directory = try TemporaryDirectory()
        let rsa = try DKIMPrivateKey.generateRSA(bits: 2048)
        let ed25519 = DKIMPrivateKey.generateEd25519()
        try Data(rsa.pemRepresentation.utf8).write(to: URL(fileURLWithPath: directory.path + "/rsa.pem"))
        try Data(ed25519.pemRepresentation.utf8).write(to: URL(fileURLWithPath: directory.path + "/ed.pem"))
        let messagePath = directory.path + "/message.eml"
        try Data(Self.message.utf8).write(to: URL(fileURLWithPath: messagePath))

        let signed = try await TernRun.run([
            "dkim", "sign", "--domain", "example.test", "--selector", "rsa", "--key", directory.path + "/rsa.pem", "--selector", "ed", "--key",
            directory.path + "/ed.pem", "--canonicalization", "simple/relaxed", messagePath,
        ])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout.hasSuffix("\r\n" + Self.message))
        #expect(signed.stdout.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; c=simple/relaxed; d=example.test; s=rsa;\r\n"))
        #expect(signed.stdout.components(separatedBy: "DKIM-Signature: ").count == 3)
        let signedPath = directory.path + "/signed.eml"
        try Data(signed.stdout.utf8).write(to: URL(fileURLWithPath: signedPath))

        let server = try await FakeDNSServer(handler: FakeDNSServer.zone([Self.keyRecord("rsa", rsa), Self.keyRecord("ed", ed25519)], authentic: true))
        defer { Task { await server.stop() } }
        let verified = try await TernRun.run(["dkim", "verify", "--resolver", server.address, signedPath])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout == """
            result: pass
            domain: example.test
            selector: rsa
            algorithm: rsa-sha256
            identity: @example.test
            authentic: yes

            result: pass
            domain: example.test
            selector: ed
            algorithm: ed25519-sha256
            identity: @example.test
            authentic: yes

            """)

        // From standard input, with the body changed: both fail, exit status 1.
        let tampered = Array(signed.stdout.replacingOccurrences(of: "Hello.", with: "Hello!").utf8)
        let failed = try await TernRun.run(["dkim", "verify", "--resolver", server.address, "-"], input: tampered)
        #expect(failed.status == 1)
        #expect(failed.stdout.components(separatedBy: "result: fail\n").count == 3)
        #expect(failed.stdout.contains("reason: body hash did not verify\n"))
    }

    @Test func verifyWithoutSignaturesOrKeys() async throws {
        let server = try await FakeDNSServer { query, _ in
            [FakeDNSServer.reply(to: query, rcode: .serverFailure).encoded()]
        }
        defer { Task { await server.stop() } }
        let none = try await TernRun.run(["dkim", "verify", "--resolver", server.address, "-"], input: Array(Self.message.utf8))
        #expect(none.status == 1)
        #expect(none.stdout == "result: none\nreason: no DKIM-Signature field\n")

        let signature = "DKIM-Signature: v=1; a=ed25519-sha256; d=example.test; s=sel; h=from; bh=AAAA; b=AAAA\r\n"
        let temperror = try await TernRun.run(["dkim", "verify", "--resolver", server.address, "-"], input: Array((signature + Self.message).utf8))
        #expect(temperror.status == 1)
        #expect(temperror.stdout == """
            result: temperror
            domain: example.test
            selector: sel
            algorithm: ed25519-sha256
            identity: @example.test
            authentic: no
            reason: key unavailable: TXT sel._domainkey.example.test.: server failure (SERVFAIL)

            """)

        let missing = try await TernRun.run(["dkim", "verify", "--resolver", server.address, "/nonexistent/message.eml"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("tern dkim verify: /nonexistent/message.eml: "))
    }

    @Test func signUsageErrors() async throws {
        let directory = try TemporaryDirectory()
        let keyPath = directory.path + "/ed.pem"
        try Data(DKIMPrivateKey.generateEd25519().pemRepresentation.utf8).write(to: URL(fileURLWithPath: keyPath))
        let messagePath = directory.path + "/message.eml"
        try Data("Subject: no sender\r\n\r\nbody\r\n".utf8).write(to: URL(fileURLWithPath: messagePath))

        let oneSelectorTwoKeys = try await TernRun.run(["dkim", "sign", "--domain", "example.test", "--selector", "s", "--key", keyPath, "--key", keyPath, messagePath])
        #expect(oneSelectorTwoKeys.status == 64)
        #expect(oneSelectorTwoKeys.stderr.contains("give one --selector for each --key (1 selector(s), 2 key(s))"))

        let sameSelector = try await TernRun.run(["dkim", "sign", "--domain", "example.test", "--selector", "s", "--key", keyPath, "--selector", "s", "--key", keyPath, messagePath])
        #expect(sameSelector.status == 64)

        let canonicalization = try await TernRun.run(["dkim", "sign", "--domain", "example.test", "--selector", "s", "--key", keyPath, "--canonicalization", "relaxed", messagePath])
        #expect(canonicalization.status == 64)
        #expect(canonicalization.stderr.contains("--canonicalization: 'relaxed' is not HEADER/BODY with each simple or relaxed"))

        let badDomain = try await TernRun.run(["dkim", "sign", "--domain", "localhost", "--selector", "s", "--key", keyPath, messagePath])
        #expect(badDomain.status == 64)
        #expect(badDomain.stderr.contains("'localhost' is not a domain name for d="))

        let noFrom = try await TernRun.run(["dkim", "sign", "--domain", "example.test", "--selector", "s", "--key", keyPath, messagePath])
        #expect(noFrom.status == 1)
        #expect(noFrom.stdout == "")
        #expect(noFrom.stderr == "tern dkim sign: the message has no From field, which DKIM must sign (RFC 6376 §5.4)\n")
    }
}
