import DKIM
import DNS
import Foundation
import Message
import PublicSuffix
import Synchronization
import Testing

@testable import SMTPServer

/// The verdicts on mail from other servers (SPF, iprev) and the fields they add, over the
/// network with a mock resolver.
@Suite struct IncomingAnalysisTests {
    /// remote.example's SPF allows 127.0.0.1; 127.0.0.1 is mail.remote.example and back, all
    /// DNSSEC-validated but the SPF record when `signedSPF` is false.
    func resolver(signedSPF: Bool = true) throws -> MockResolver {
        let resolver = MockResolver()
        try resolver.add("remote.example", .txt([Array("v=spf1 ip4:127.0.0.0/8 -all".utf8)]), authentic: signedSPF)
        resolver.add([ResourceRecord(name: DNSName.reverse(IPAddress("127.0.0.1")!), ttl: 300, data: .ptr(try DNSName("mail.remote.example")))], authentic: true)
        try resolver.add("mail.remote.example", .a(IPAddress("127.0.0.1")!), authentic: true)
        return resolver
    }

    /// What the analysis handed to the DMARC store.
    final class Recorded: Sendable {
        let evaluations = Mutex<[String]>([])
    }

    /// Sends `message`; returns the reply to the end of DATA, and what was stored.
    func send(
        _ message: String, from sender: String = "<sender@remote.example>", resolver: MockResolver, recorded: Recorded = Recorded(),
        exceptions: [String: String] = [:]
    ) async throws -> (reply: (code: Int, lines: [String])?, stored: String?, mailbox: String?) {
        var result: (reply: (code: Int, lines: [String])?, stored: String?, mailbox: String?) = (nil, nil, nil)
        let analysis = IncomingAnalysis(
            hostname: "mx.example.org", resolver: resolver, publicSuffixList: try PublicSuffixList.shipped(), random: { 0 },
            recordDMARC: { evaluation, input in
                recorded.evaluations.withLock { $0.append("\(evaluation.result.rawValue) \(input.clientAddress) \(input.recipientDomain ?? "-")") }
            }, acceptDMARCRejects: { exceptions[$0.ascii] })
        try await withListener(configure: { $0.analysis = analysis }) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO mail.remote.example") == 250)
                #expect(try await client.command("MAIL FROM:\(sender)") == 250)
                #expect(try await client.command("RCPT TO:<alice@example.org>") == 250)
                #expect(try await client.command("DATA") == 354)
                try await client.send(message + "\r\n.\r\n")
                result.reply = try await client.reply()
            }
            result.stored = deliverer.stored.first.map { String(decoding: $0.bytes, as: UTF8.self) }
            result.mailbox = deliverer.stored.first?.envelope.recipients.first?.mailbox
        }
        return result
    }

    func deliver(_ message: String, from sender: String = "<sender@remote.example>", resolver: MockResolver) async throws -> String {
        let sent = try await send(message, from: sender, resolver: resolver)
        #expect(sent.reply?.code == 250)
        return try #require(sent.stored)
    }

    @Test func passingMessageGetsTheFieldsOnTop() async throws {
        let stored = try await deliver("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody", resolver: try resolver())
        let lines = stored.components(separatedBy: "\r\n")
        // RFC 8601 §2.7.3, §2.7.2, with the DNSSEC status of each verdict.
        #expect(Array(lines.prefix(4)) == [
            "Authentication-Results: mx.example.org;",
            "\tiprev=pass (mail.remote.example, DNSSEC) policy.iprev=127.0.0.1;",
            "\tspf=pass (DNSSEC) smtp.mailfrom=remote.example;",
            // No DMARC record: none, the denial not validated.
            "\tdmarc=none (no DNSSEC) header.from=remote.example",
        ])
        #expect(lines[4].hasPrefix("Received-SPF: pass (mx.example.org: domain of sender@remote.example designates"))
        #expect(stored.contains("\r\nDelivered-To: alice@example.org\r\nReceived: from mail.remote.example"))
        #expect(stored.hasSuffix("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody\r\n"))
    }

    /// RFC 8601 §5: a field claiming this host's identifier is removed; another host's stays,
    /// as do lines the parser does not take for fields.
    @Test func forgedResultsAreRemoved() async throws {
        let message = """
            Authentication-Results: MX.example.org; spf=pass smtp.mailfrom=bank.example\r
            From: sender@remote.example\r
            Authentication-Results: relay.example; dkim=pass header.d=remote.example\r
            Authentication-Results: mx.example.org;\r
             dkim=pass header.d=bank.example\r
            Subject: hi\r
            \r
            Authentication-Results: mx.example.org; in the body, kept
            """
        let stored = try await deliver(message, resolver: try resolver(signedSPF: false))
        #expect(stored.components(separatedBy: "Authentication-Results: mx.example.org;").count == 3, "ours and the body's")
        #expect(stored.hasPrefix("Authentication-Results: mx.example.org;\r\n"))
        #expect(stored.contains("spf=pass (no DNSSEC) smtp.mailfrom=remote.example"))
        #expect(!stored.contains("bank.example"))
        #expect(stored.contains("\r\nFrom: sender@remote.example\r\nAuthentication-Results: relay.example; dkim=pass header.d=remote.example\r\nSubject: hi\r\n\r\n"))
        #expect(stored.hasSuffix("\r\n\r\nAuthentication-Results: mx.example.org; in the body, kept\r\n"))
    }

    @Test func failingVerdicts() async throws {
        let resolver = MockResolver()
        try resolver.add("remote.example", .txt([Array("v=spf1 -all".utf8)]))
        let stored = try await deliver("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody", resolver: resolver)
        #expect(stored.hasPrefix("""
            Authentication-Results: mx.example.org;\r
            \tiprev=fail (no DNSSEC) reason="no PTR record for 127.0.0.1"\r
            \tpolicy.iprev=127.0.0.1;\r
            \tspf=fail (no DNSSEC) smtp.mailfrom=remote.example;\r
            \tdmarc=none (no DNSSEC) header.from=remote.example\r
            Received-SPF: fail
            """))
        // The null reverse-path: SPF checks the HELO name, reported as smtp.helo.
        let bounce = try await deliver("From: MAILER-DAEMON@remote.example\r\nSubject: bounce\r\n\r\nbody", from: "<>", resolver: resolver)
        #expect(bounce.contains("spf=none (no DNSSEC) smtp.helo=mail.remote.example"))
    }

    @Test func temporaryDNSFailures() async throws {
        let resolver = MockResolver()
        resolver.fail(try DNSName("remote.example"), .txt, with: .timeout)
        resolver.fail(DNSName.reverse(IPAddress("127.0.0.1")!), .ptr, with: .serverFailure(.serverFailure))
        let stored = try await deliver("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody", resolver: resolver)
        #expect(stored.contains("iprev=temperror (no DNSSEC)"))
        #expect(stored.contains("spf=temperror (no DNSSEC)"))
    }

    /// DKIM (RFC 6376) and DMARC (RFC 7489): a message signed by the author's domain passes
    /// DMARC through DKIM although SPF fails.
    @Test func dkimSignedMessagePassesDMARC() async throws {
        let resolver = try resolver(signedSPF: false)
        let key = DKIMPrivateKey.generateEd25519()
        try resolver.add("s1._domainkey.author.example", .txt([Array(key.keyRecord.utf8)]), authentic: true)
        try resolver.add("_dmarc.author.example", .txt([Array("v=DMARC1; p=reject; rua=mailto:d@author.example".utf8)]))
        let signer = try DKIMSigner(domain: "author.example", selector: "s1", key: key)
        let message = Array("From: Ann <ann@author.example>\r\nSubject: signed\r\n\r\nbody\r\n".utf8)
        // The final CRLF is the client's, before the end-of-data dot.
        let signed = String(decoding: try DKIMSigner.sign(message, with: [signer]).dropLast(2), as: UTF8.self)
        let recorded = Recorded()
        let sent = try await send(signed, resolver: resolver, recorded: recorded)
        #expect(sent.reply?.code == 250)
        let stored = try #require(sent.stored)
        let unfolded = stored.replacingOccurrences(of: "\r\n\t", with: " ")
        #expect(unfolded.contains("; dkim=pass (DNSSEC) header.d=author.example header.s=s1 header.a=ed25519-sha256 header.b="))
        #expect(unfolded.contains("; dmarc=pass (no DNSSEC) header.from=author.example\r\n"))
        #expect(sent.mailbox == "Inbox")
        #expect(recorded.evaluations.withLock { $0 } == ["pass 127.0.0.1 example.org"])
    }

    /// RFC 7489 p=reject: neither SPF nor DKIM authenticates the author's domain: 550 with
    /// RFC 7372's X.7.26, nothing delivered.
    @Test func dmarcRejectRefusesAtTheEndOfData() async throws {
        let resolver = try resolver()
        try resolver.add("_dmarc.bank.example", .txt([Array("v=DMARC1; p=reject".utf8)]), authentic: true)
        let sent = try await send("From: bank@bank.example\r\nSubject: pay\r\n\r\nbody", resolver: resolver)
        #expect(sent.reply?.code == 550)
        #expect(sent.reply?.lines.first?.hasPrefix("5.7.26 message refused by the DMARC policy of bank.example") == true)
        #expect(sent.stored == nil)
        // The operator's exception (RFC 7489 §6.7): accepted into the mailbox named.
        let excepted = try await send(
            "From: bank@bank.example\r\nSubject: pay\r\n\r\nbody", resolver: resolver, exceptions: ["bank.example": "Lists"])
        #expect(excepted.reply?.code == 250 && excepted.mailbox == "Lists")
        #expect(excepted.stored?.replacingOccurrences(of: "\r\n\t", with: " ").contains("dmarc=fail (p=reject dis=reject DNSSEC)") == true)
    }

    /// p=quarantine: delivered, into the Junk mailbox.
    @Test func dmarcQuarantineGoesToJunk() async throws {
        let resolver = try resolver()
        try resolver.add("_dmarc.bank.example", .txt([Array("v=DMARC1; p=quarantine".utf8)]))
        let sent = try await send("From: bank@bank.example\r\nSubject: pay\r\n\r\nbody", resolver: resolver)
        #expect(sent.reply?.code == 250)
        #expect(sent.mailbox == "Junk")
        let unfolded = sent.stored?.replacingOccurrences(of: "\r\n\t", with: " ") ?? ""
        #expect(unfolded.contains("; dmarc=fail (p=quarantine dis=quarantine no DNSSEC) reason="), "\(unfolded)")
        // Without a From field: permerror, refused (RFC 5322 §3.6 requires one).
        let noFrom = try await send("Subject: who\r\n\r\nbody", resolver: resolver)
        #expect(noFrom.reply?.code == 550 && noFrom.reply?.lines.first?.hasPrefix("5.6.0 message refused: the message has no From field") == true)
    }

    /// A header section that never ends: nothing removed, nothing lost.
    @Test func rewriteKeepsAnUnendedHeader() {
        let head = Array("Authentication-Results: mx.example.org; spf=pass\r\nX: y".utf8)
        let isResults: (HeaderField) -> Bool = { $0.name == "Authentication-Results" }
        #expect(MessageRewrite.without(head, isResults) == [UInt8]("X: y".utf8), "short: the header is complete")
        let long = Array("Authentication-Results: mx.example.org; spf=pass\r\n".utf8) + [UInt8](repeating: 0x41, count: MessageRewrite.headerLimit)
        #expect(MessageRewrite.without(long, isResults) == long)
    }

    /// A resolver that, asked for the DMARC record, first removes every file in the
    /// connection's temporary directory: the message file vanishes while the analysis is
    /// under way.
    final class FileRemovingResolver: Resolver {
        let inner: MockResolver
        let directory = Mutex<String?>(nil)

        init(inner: MockResolver) {
            self.inner = inner
        }

        func resolve(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSAnswer {
            if name.description.hasPrefix("_dmarc."), let directory = directory.withLock({ $0 }) {
                for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                    try? FileManager.default.removeItem(atPath: directory + "/" + file)
                }
            }
            return try await inner.resolve(name, type)
        }
    }

    /// When the analysis cannot finish its work on the message file, the message is refused
    /// for now (451, the sender retries), nothing is delivered, and the connection goes on.
    @Test func unprocessableMessageIsDeferred() async throws {
        let resolver = FileRemovingResolver(inner: try resolver())
        let analysis = IncomingAnalysis(
            hostname: "mx.example.org", resolver: resolver, publicSuffixList: try PublicSuffixList.shipped(), random: { 0 },
            recordDMARC: { _, _ in }, acceptDMARCRejects: { _ in nil })
        try await withListener(configure: { settings in
            settings.analysis = analysis
            resolver.directory.withLock { $0 = settings.temporaryDirectory }
        }) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO mail.remote.example") == 250)
                #expect(try await client.command("MAIL FROM:<sender@remote.example>") == 250)
                #expect(try await client.command("RCPT TO:<alice@example.org>") == 250)
                #expect(try await client.command("DATA") == 354)
                try await client.send("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody\r\n.\r\n")
                let reply = try #require(try await client.reply())
                #expect(reply.code == 451)
                #expect(reply.lines == ["4.3.0 temporary failure: the message could not be processed"])
                #expect(try await client.command("NOOP") == 250)
            }
            #expect(deliverer.stored.isEmpty)
        }
    }
}
