import DNS
import Foundation
import Message
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

    func deliver(_ message: String, from sender: String = "<sender@remote.example>", resolver: MockResolver) async throws -> String {
        var stored = ""
        try await withListener(configure: { $0.analysis = IncomingAnalysis(hostname: "mx.example.org", resolver: resolver) }) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO mail.remote.example") == 250)
                #expect(try await client.command("MAIL FROM:\(sender)") == 250)
                #expect(try await client.command("RCPT TO:<alice@example.org>") == 250)
                #expect(try await client.command("DATA") == 354)
                #expect(try await client.command(message + "\r\n.") == 250)
            }
            stored = String(decoding: try #require(deliverer.stored.first).bytes, as: UTF8.self)
        }
        return stored
    }

    @Test func passingMessageGetsTheFieldsOnTop() async throws {
        let stored = try await deliver("From: sender@remote.example\r\nSubject: hi\r\n\r\nbody", resolver: try resolver())
        let lines = stored.components(separatedBy: "\r\n")
        // RFC 8601 §2.7.3, §2.7.2, with the DNSSEC status of each verdict.
        #expect(Array(lines.prefix(3)) == [
            "Authentication-Results: mx.example.org;",
            "\tiprev=pass (mail.remote.example, DNSSEC) policy.iprev=127.0.0.1;",
            "\tspf=pass (DNSSEC) smtp.mailfrom=remote.example",
        ])
        #expect(lines[3].hasPrefix("Received-SPF: pass (mx.example.org: domain of sender@remote.example designates"))
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
        let stored = try await deliver("Subject: hi\r\n\r\nbody", resolver: resolver)
        #expect(stored.hasPrefix("""
            Authentication-Results: mx.example.org;\r
            \tiprev=fail (no DNSSEC) reason="no PTR record for 127.0.0.1"\r
            \tpolicy.iprev=127.0.0.1;\r
            \tspf=fail (no DNSSEC) smtp.mailfrom=remote.example\r
            Received-SPF: fail
            """))
        // The null reverse-path: SPF checks the HELO name, reported as smtp.helo.
        let bounce = try await deliver("Subject: bounce\r\n\r\nbody", from: "<>", resolver: resolver)
        #expect(bounce.contains("spf=none (no DNSSEC) smtp.helo=mail.remote.example"))
    }

    @Test func temporaryDNSFailures() async throws {
        let resolver = MockResolver()
        resolver.fail(try DNSName("remote.example"), .txt, with: .timeout)
        resolver.fail(DNSName.reverse(IPAddress("127.0.0.1")!), .ptr, with: .serverFailure(.serverFailure))
        let stored = try await deliver("Subject: hi\r\n\r\nbody", resolver: resolver)
        #expect(stored.contains("iprev=temperror (no DNSSEC)"))
        #expect(stored.contains("spf=temperror (no DNSSEC)"))
    }

    /// A header section that never ends: nothing removed, nothing lost.
    @Test func rewriteKeepsAnUnendedHeader() {
        let head = Array("Authentication-Results: mx.example.org; spf=pass\r\nX: y".utf8)
        let isResults: (HeaderField) -> Bool = { $0.name == "Authentication-Results" }
        #expect(MessageRewrite.without(head, isResults) == [UInt8]("X: y".utf8), "short: the header is complete")
        let long = Array("Authentication-Results: mx.example.org; spf=pass\r\n".utf8) + [UInt8](repeating: 0x41, count: MessageRewrite.headerLimit)
        #expect(MessageRewrite.without(long, isResults) == long)
    }
}
