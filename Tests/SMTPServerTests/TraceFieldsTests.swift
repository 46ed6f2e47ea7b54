import Foundation
import Message
import SMTP
import Testing

@testable import SMTPServer

@Suite struct TraceFieldsTests {
    @Test func receivedField() {
        let field = TraceFields.received(
            clientName: "client.example", clientAddress: "192.0.2.1", reverseName: "rdns.example", hostname: "mx.example.org",
            protocolName: "ESMTPS", id: "abc", recipient: .mailbox(Mailbox(localPart: "alice", domain: "example.org")),
            tlsCipher: "TLS_AES_128_GCM_SHA256", date: fixedNow)
        #expect(field == "Received: from client.example (rdns.example [192.0.2.1])\r\n\tby mx.example.org with ESMTPS id abc\r\n\tfor <alice@example.org>\r\n\ttls TLS_AES_128_GCM_SHA256; Sat, 21 Nov 2026 22:45:15 +0000\r\n")
    }

    @Test func oddClientNamesGoInAComment() {
        let field = TraceFields.received(
            clientName: "bad name(x)\\", clientAddress: "2001:db8::1", reverseName: nil, hostname: "mx.example.org",
            protocolName: "SMTP", id: "1", recipient: nil, tlsCipher: nil, date: fixedNow)
        #expect(field == "Received: from [IPv6:2001:db8::1] (helo=bad_name_x__)\r\n\tby mx.example.org with SMTP id 1; Sat, 21 Nov 2026 22:45:15 +0000\r\n")
        #expect(TraceFields.isDomainOrLiteral("[192.0.2.1]"))
        #expect(TraceFields.isDomainOrLiteral("mail.example.org"))
        #expect(!TraceFields.isDomainOrLiteral("localhost>"))
        #expect(!TraceFields.isDomainOrLiteral(""))
    }

    /// The field parses back as one header field with the right value.
    @Test func fieldIsWellFormed() {
        let field = TraceFields.received(
            clientName: "c.example", clientAddress: "192.0.2.1", reverseName: nil, hostname: "mx.example.org",
            protocolName: "ESMTP", id: "9", recipient: nil, tlsCipher: nil, date: fixedNow)
        let parsed = ParsedMessage(bytes: Array((field + TraceFields.deliveredTo("alice@example.org") + "\r\nbody").utf8))
        #expect(parsed.header.fields.count == 2)
        #expect(parsed.header.first("Received") == "from c.example ([192.0.2.1])\tby mx.example.org with ESMTP id 9; Sat, 21 Nov 2026 22:45:15 +0000")
        #expect(parsed.header.first("Delivered-To") == "alice@example.org")
    }
}
