import DKIM
import DNS
import Foundation
import Message
import Synchronization
import Testing

@testable import SMTPServer

/// DKIM signing of submitted messages (RFC 6376 §5), over the network with AUTH.
@Suite struct SigningTests {
    /// Keys made once: RSA key generation takes a while.
    static let rsaKey: DKIMPrivateKey = {
        do {
            return try DKIMPrivateKey.generateRSA(bits: 2048)
        } catch {
            preconditionFailure("RSA key generation failed: \(error)")
        }
    }()
    static let ed25519Key = DKIMPrivateKey.generateEd25519()

    /// An RSA and an Ed25519 selector of example.org, the test accounts' domain.
    static func signers() throws -> [DKIMSigner] {
        [
            try DKIMSigner(domain: "example.org", selector: "rsa", key: rsaKey, now: { fixedNow }),
            try DKIMSigner(domain: "example.org", selector: "ed", key: ed25519Key, now: { fixedNow }),
        ]
    }

    /// The key records of `signers()`, the RSA one in 255-octet strings as in DNS.
    static func resolver() throws -> MockResolver {
        let resolver = MockResolver()
        for (selector, key) in [("rsa", rsaKey), ("ed", ed25519Key)] {
            var rest = Array(key.keyRecord.utf8)[...]
            var strings: [[UInt8]] = []
            while !rest.isEmpty {
                strings.append(Array(rest.prefix(255)))
                rest = rest.dropFirst(255)
            }
            try resolver.add("\(selector)._domainkey.example.org", .txt(strings))
        }
        return resolver
    }

    /// Logs in as alice and submits `message` (without its final CRLF, which the end of data
    /// adds) to bob@example.org; returns the reply code to the data.
    static func submit(port: Int, _ message: String) async throws -> Int? {
        var code: Int?
        try await TestClient.with(port: port) { (client: inout TestClient) async throws in
            _ = try await client.reply()
            _ = try await client.command("EHLO c")
            #expect(try await client.command("AUTH PLAIN " + Data("\0alice@example.org\0secret".utf8).base64EncodedString()) == 235)
            #expect(try await client.command("MAIL FROM:<alice@example.org>") == 250)
            #expect(try await client.command("RCPT TO:<bob@example.org>") == 250)
            #expect(try await client.command("DATA") == 354)
            code = try await client.command(message + "\r\n.")
            _ = try await client.command("QUIT")
        }
        return code
    }

    static func submission(signing: OutgoingSigning?, _ body: (Int, MemoryDeliverer) async throws -> Void) async throws {
        try await withListener(
            kind: .submission, authentication: AuthenticationTests().authentication,
            configure: {
                $0.session.plaintextAuthAllowed = true
                $0.signing = signing
            }, body)
    }

    /// Both selectors sign, their fields come first (above this host's Received), and they
    /// verify against the key records; the Date and Message-ID the server added are signed,
    /// the trace fields are not.
    @Test func submittedMessageIsSignedWithEverySelector() async throws {
        let signers = try Self.signers()
        try await Self.submission(signing: OutgoingSigning { $0.lowercased() == "example.org" ? signers : [] }) { port, deliverer in
            let code = try await Self.submit(
                port: port, "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: signed\r\n\r\n..a dot line\r\nbody  ")
            #expect(code == 250)
            let stored = try #require(deliverer.stored.first)
            let text = String(decoding: stored.bytes, as: UTF8.self)
            let fieldNames = text.split(separator: "\r\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("\t") }.prefix(5).map { $0.prefix { $0 != ":" } }
            #expect(fieldNames == ["DKIM-Signature", "DKIM-Signature", "Delivered-To", "Received", "Date"])
            #expect(text.hasSuffix("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: signed\r\n\r\n.a dot line\r\nbody  \r\n"))

            let results = await DKIMVerifier(resolver: try Self.resolver(), now: { fixedNow }).verify(stored.bytes)
            #expect(results.map(\.status) == [.pass, .pass])
            #expect(results.map(\.algorithm) == ["rsa-sha256", "ed25519-sha256"])
            #expect(results.map(\.domain) == ["example.org", "example.org"])
            let signed = try #require(results.first?.signature?.signedHeaders)
            #expect(signed.contains("date") && signed.contains("message-id") && signed.contains("from"))
            #expect(!signed.contains("received") && !signed.contains("delivered-to"))
            // From is oversigned: one more than present, so none can be added.
            #expect(signed.filter { $0 == "from" }.count == 2)
        }
    }

    /// A domain without selectors, and a server without signing, leave the message as it was.
    @Test func unsignedWithoutSelectors() async throws {
        let signers = try Self.signers()
        for signing in [OutgoingSigning { $0 == "other.example" ? signers : [] }, nil] {
            try await Self.submission(signing: signing) { port, deliverer in
                #expect(try await Self.submit(port: port, "From: alice@example.org\r\nSubject: unsigned\r\n\r\nbody") == 250)
                let stored = try #require(deliverer.stored.first)
                let text = String(decoding: stored.bytes, as: UTF8.self)
                #expect(text.hasPrefix("Delivered-To: bob@example.org\r\nReceived: "))
                #expect(!text.contains("DKIM-Signature"))
            }
        }
    }

    /// The message file cannot be read back for signing (it vanished, as on an I/O error):
    /// 451, nothing delivered; the next message is signed again.
    @Test func signingFailureIsATemporaryFailure() async throws {
        let signers = try Self.signers()
        let failNext = FailureSwitch()
        var directory = ""
        try await withListener(
            kind: .submission, authentication: AuthenticationTests().authentication,
            configure: { settings in
                settings.session.plaintextAuthAllowed = true
                directory = settings.temporaryDirectory
                let temporaryDirectory = settings.temporaryDirectory
                settings.signing = OutgoingSigning { _ in
                    if failNext.take() {
                        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)) ?? [] {
                            try? FileManager.default.removeItem(atPath: temporaryDirectory + "/" + name)
                        }
                    }
                    return signers
                }
            }
        ) { (port: Int, deliverer: MemoryDeliverer) async throws in
            failNext.arm()
            #expect(try await Self.submit(port: port, "From: alice@example.org\r\n\r\nfirst") == 451)
            #expect(deliverer.stored.isEmpty)
            #expect(try await Self.submit(port: port, "From: alice@example.org\r\n\r\nsecond") == 250)
            #expect(String(decoding: try #require(deliverer.stored.first).bytes, as: UTF8.self).hasPrefix("DKIM-Signature: "))
            #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty == true)
        }
    }

    /// Reading back a file that is not there is an error that names it, not a crash.
    @Test func signingAMissingFileThrows() throws {
        #expect(throws: ByteSourceError.open(path: "/nonexistent/tern-message", errno: ENOENT)) {
            _ = try Submission.sign(path: "/nonexistent/tern-message", traceLength: 0, with: try Self.signers())
        }
    }
}

/// Set by the test, taken (and cleared) by the signing lookup.
final class FailureSwitch: Sendable {
    private let armed = Mutex(false)
    func arm() { armed.withLock { $0 = true } }
    func take() -> Bool {
        armed.withLock { armed in
            defer { armed = false }
            return armed
        }
    }
}
