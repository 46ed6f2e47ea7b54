import Foundation
import Testing
@testable import Message
import TestSupport

private let sender = Address(displayName: nil, localPart: "alice", domain: "example.org")

private let originalMessage = Array("""
    From: Alice <alice@example.org>\r
    To: bob@example.net\r
    Subject: Lunch\r
    Message-ID: <orig-1@example.org>\r
    \r
    Shall we meet at noon?\r

    """.utf8)

private func failedRecipient() -> DeliveryStatusNotification.Recipient {
    .init(finalRecipient: "bob@example.net", action: .failed, status: "5.1.1", originalRecipient: "bob@example.net",
          diagnosticCode: "550 5.1.1 <bob@example.net>: user unknown", remoteMTA: "mx.example.net",
          lastAttemptDate: encoderTestDate.addingTimeInterval(-60))
}

private func crlfLines(_ bytes: [UInt8]) -> [String] {
    var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

/// Header and body of a part.
private func split(_ part: [UInt8]) -> (header: HeaderSection, body: [UInt8]) {
    let header = HeaderSection(parsing: part)
    return (header, Array(part[header.length...]))
}

@Suite struct DSNTests {
    @Test func failureExactBytes() throws {
        var dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender,
                                             recipients: [failedRecipient()], original: originalMessage, returnContent: .headers)
        dsn.originalEnvelopeID = "QQ314159"
        dsn.arrivalDate = encoderTestDate.addingTimeInterval(-120)
        var random = SplitMix64(state: 1)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        #expect(String(decoding: message.bytes, as: UTF8.self) == """
            From: Mail Delivery System <postmaster@mail.example.org>\r
            To: alice@example.org\r
            Subject: Delivery Status Notification (Failure)\r
            Date: Sat, 21 Nov 2026 22:45:15 +0000\r
            Message-ID: <fh4lv6jvak78ukex13cakm76@mail.example.org>\r
            Auto-Submitted: auto-replied\r
            MIME-Version: 1.0\r
            Content-Type: multipart/report; report-type=delivery-status;\r
             boundary="=_VP9ZTmIsreZKXveU0FvUbumW"\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            This is the mail system at mail.example.org.\r
            \r
            Your message could not be delivered to one or more recipients.\r
            \r
            Delivery failed permanently for:\r
            \r
              bob@example.net\r
                Status: 5.1.1 (permanent failure: Bad destination mailbox address)\r
                Remote server: mx.example.net\r
                Diagnostic: 550 5.1.1 <bob@example.net>: user unknown\r
            \r
            The headers of your message are attached.\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW\r
            Content-Type: message/delivery-status\r
            Content-Transfer-Encoding: 7bit\r
            \r
            Original-Envelope-Id: QQ314159\r
            Reporting-MTA: dns; mail.example.org\r
            Arrival-Date: Sat, 21 Nov 2026 22:43:15 +0000\r
            \r
            Original-Recipient: rfc822; bob@example.net\r
            Final-Recipient: rfc822; bob@example.net\r
            Action: failed\r
            Status: 5.1.1\r
            Remote-MTA: dns; mx.example.net\r
            Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: user unknown\r
            Last-Attempt-Date: Sat, 21 Nov 2026 22:44:15 +0000\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW\r
            Content-Type: text/rfc822-headers\r
            Content-Transfer-Encoding: 7bit\r
            \r
            From: Alice <alice@example.org>\r
            To: bob@example.net\r
            Subject: Lunch\r
            Message-ID: <orig-1@example.org>\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW--\r

            """)
    }

    @Test func structureOfTheReport() throws {
        let delayed = DeliveryStatusNotification.Recipient(
            finalRecipient: "carol@example.com", action: .delayed, status: "4.4.1",
            diagnosticCode: "421 4.4.1 connection timed out", remoteMTA: "mx.example.com",
            lastAttemptDate: encoderTestDate, willRetryUntil: encoderTestDate.addingTimeInterval(4 * 86400))
        let dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender,
                                             recipients: [failedRecipient(), delayed], original: originalMessage, returnContent: .full)
        var random = SplitMix64(state: 2)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        let header = message.header
        #expect(header.first("To") == "alice@example.org")
        #expect(header.first("From") == "Mail Delivery System <postmaster@mail.example.org>")
        #expect(header.first("Auto-Submitted") == "auto-replied")
        #expect(header.first("MIME-Version") == "1.0")
        #expect(message.boundaries.count == 1)
        let boundary = message.boundaries[0]
        #expect(header.first("Content-Type") == "multipart/report; report-type=delivery-status; boundary=\"\(boundary)\"")

        // Delimiter lines: one per part, then the close delimiter ending the message.
        let lines = crlfLines(message.bytes)
        #expect(lines.filter { $0 == "--\(boundary)" }.count == 3)
        #expect(lines.last == "--\(boundary)--")

        let parts = encoderTestParts(message.bytes, boundary: boundary).map(split)
        #expect(parts.count == 3)
        #expect(parts.map { $0.header.first("Content-Type") } == ["text/plain; charset=utf-8", "message/delivery-status", "message/rfc822"])

        // Per-message fields, then one block per recipient, each after an empty line.
        let blocks = String(decoding: parts[1].body, as: UTF8.self).components(separatedBy: "\r\n\r\n")
        #expect(blocks.count == 3)
        #expect(blocks[0] == "Reporting-MTA: dns; mail.example.org")
        let carol = HeaderSection(parsing: Array((blocks[2]).utf8))
        #expect(carol.first("Final-Recipient") == "rfc822; carol@example.com")
        #expect(carol.first("Action") == "delayed")
        #expect(carol.first("Status") == "4.4.1")
        #expect(carol.first("Will-Retry-Until") == "Wed, 25 Nov 2026 22:45:15 +0000")
        let bobFields = HeaderSection(parsing: Array(blocks[1].utf8))
        #expect(bobFields.fields.map(\.name) == ["Original-Recipient", "Final-Recipient", "Action", "Status", "Remote-MTA", "Diagnostic-Code", "Last-Attempt-Date"])
        #expect(bobFields.first("Will-Retry-Until") == nil)

        // The whole original comes back as message/rfc822.
        #expect(parts[2].body == originalMessage)
        let explanation = String(decoding: parts[0].body, as: UTF8.self)
        #expect(explanation.contains("Delivery is delayed for:\r\n\r\n  carol@example.com\r\n"))
        #expect(explanation.contains("Will retry until: Wed, 25 Nov 2026 22:45:15 +0000"))
        #expect(explanation.contains("Your message is attached."))
    }

    @Test func subjects() {
        func subject(_ actions: [DeliveryStatusNotification.Action]) -> String {
            DeliveryStatusNotification(reportingMTA: "m", originalSender: sender, recipients: actions.map {
                .init(finalRecipient: "x@y", action: $0, status: "2.0.0")
            }).subject
        }
        #expect(subject([.delayed, .failed]) == "Delivery Status Notification (Failure)")
        #expect(subject([.delivered, .delayed]) == "Delivery Status Notification (Delay)")
        #expect(subject([.delivered, .relayed, .expanded]) == "Delivery Status Notification (Success)")
    }

    @Test func invalidInputIsAPreciseError() {
        var random = SplitMix64(state: 3)
        var dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender, recipients: [])
        #expect(throws: DSNError.noRecipients) { try dsn.compose(now: encoderTestDate, using: &random) }
        for status in ["5.1", "3.1.1", "5.01.1", "5.1.1000", "5.1.x", "5..1", " 5.1.1"] {
            dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: status)]
            #expect(throws: DSNError.invalidStatus(recipient: "bob@example.net", status: status)) {
                try dsn.compose(now: encoderTestDate, using: &random)
            }
        }
        dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: "5.0.0", willRetryUntil: encoderTestDate)]
        #expect(throws: DSNError.willRetryUntilNotDelayed(recipient: "bob@example.net")) {
            try dsn.compose(now: encoderTestDate, using: &random)
        }
        dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: "5.0.0", remoteMTA: "mx.bücher.example")]
        #expect(throws: DSNError.nonASCIIField(field: "Remote-MTA")) { try dsn.compose(now: encoderTestDate, using: &random) }
        dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: "5.0.0", diagnosticCode: "550 no", diagnosticType: "smtp x")]
        #expect(throws: DSNError.invalidDiagnosticType(recipient: "bob@example.net", type: "smtp x")) {
            try dsn.compose(now: encoderTestDate, using: &random)
        }
        dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: "5.0.0", finalLogID: "a\r\nb")]
        #expect(throws: DSNError.lineBreakInField(field: "Final-Log-ID")) { try dsn.compose(now: encoderTestDate, using: &random) }
        dsn.recipients = [.init(finalRecipient: "bob@example.net", action: .failed, status: "5.0.0")]
        dsn.originalSender = Address(displayName: nil, localPart: "jörg", domain: "example.de")
        #expect(throws: DSNError.compose(.nonASCIILocalPart(field: "To", address: "jörg@example.de"))) {
            try dsn.compose(now: encoderTestDate, using: &random)
        }
    }

    @Test func theSevenBitFormIsASCIIOnly() throws {
        let recipient = DeliveryStatusNotification.Recipient(
            finalRecipient: "jörg+tag@bücher.example", action: .failed, status: "5.1.1",
            originalRecipient: "Jörg=x\\y z@bücher.example",
            diagnosticCode: "550 5.1.1 Benutzer jörg unbekannt —\r\n550 5.1.1 bitte prüfen", remoteMTA: "mx.xn--bcher-kva.example")
        var dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender,
                                             recipients: [recipient], original: originalMessage)
        dsn.allow8bit = false
        var random = SplitMix64(state: 4)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        let parts = encoderTestParts(message.bytes, boundary: message.boundaries[0]).map(split)
        let status = parts[1]
        #expect(status.header.first("Content-Type") == "message/delivery-status")
        #expect(status.header.first("Content-Transfer-Encoding") == "7bit")
        for line in crlfLines(status.body) {
            #expect(line.unicodeScalars.allSatisfy { $0.isASCII }, "\(line)")
            #expect(line.count <= 78, "\(line)")
        }
        let fields = HeaderSection(parsing: Array(String(decoding: status.body, as: UTF8.self).components(separatedBy: "\r\n\r\n")[1].utf8))
        // RFC 6533 §3 utf-8-addr-xtext: \x{HEX} for non-ASCII and for SP, "\\", "+", "=".
        #expect(fields.first("Final-Recipient") == "utf-8; j\\x{F6}rg\\x{2B}tag@b\\x{FC}cher.example")
        #expect(fields.first("Original-Recipient") == "utf-8; J\\x{F6}rg\\x{3D}x\\x{5C}y\\x{20}z@b\\x{FC}cher.example")
        let diagnostic = try #require(fields.first("Diagnostic-Code"))
        #expect(EncodedWord.decode(diagnostic) == "smtp; 550 5.1.1 Benutzer jörg unbekannt — 550 5.1.1 bitte prüfen")
        // The explanation is UTF-8 text, encoded for the 7-bit path.
        #expect(parts[0].header.first("Content-Transfer-Encoding") == "quoted-printable")
        #expect(!message.needs8BITMIME)
    }

    @Test func internationalizedDSN() throws {
        let original = Array("From: Jörg <jörg@bücher.example>\r\nTo: zoë@example.net\r\nSubject: Grüße\r\n\r\nHallo Zoë\r\n".utf8)
        let recipient = DeliveryStatusNotification.Recipient(
            finalRecipient: "zoë@example.net", action: .failed, status: "5.2.2", originalRecipient: "zoë@example.net",
            diagnosticCode: "552 5.2.2 Postfach von zoë ist voll")
        var dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org",
                                             originalSender: Address(displayName: nil, localPart: "jörg", domain: "bücher.example"),
                                             recipients: [recipient], original: original, returnContent: .full)
        dsn.international = true
        dsn.allow8bit = true
        var random = SplitMix64(state: 5)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        #expect(message.header.first("To") == "jörg@bücher.example")
        #expect(message.needsSMTPUTF8)
        let parts = encoderTestParts(message.bytes, boundary: message.boundaries[0]).map(split)
        #expect(parts.map { $0.header.first("Content-Type") } == ["text/plain; charset=utf-8", "message/global-delivery-status", "message/global"])
        #expect(parts[1].header.first("Content-Transfer-Encoding") == "8bit")
        let status = String(decoding: parts[1].body, as: UTF8.self)
        // RFC 6533 §3: the raw utf-8-address form, and UTF-8 in the diagnostic (§4.1).
        #expect(status.contains("Original-Recipient: utf-8; zoë@example.net\r\nFinal-Recipient: utf-8; zoë@example.net\r\n"))
        #expect(status.contains("Diagnostic-Code: smtp; 552 5.2.2 Postfach von zoë ist voll\r\n"))
        #expect(parts[2].header.first("Content-Transfer-Encoding") == "8bit")
        #expect(parts[2].body == original)

        // Headers only: message/global-headers.
        dsn.returnContent = .headers
        let headersOnly = try dsn.compose(now: encoderTestDate, using: &random)
        let third = encoderTestParts(headersOnly.bytes, boundary: headersOnly.boundaries[0]).map(split)[2]
        #expect(third.header.first("Content-Type") == "message/global-headers")
        #expect(third.body == HeaderSection(parsing: original).raw)

        // On a path without 8BITMIME the global parts are encoded (RFC 6533 §4.5).
        dsn.returnContent = .full
        dsn.allow8bit = false
        let sevenBit = try dsn.compose(now: encoderTestDate, using: &random)
        let encodedParts = encoderTestParts(sevenBit.bytes, boundary: sevenBit.boundaries[0]).map(split)
        #expect(encodedParts[1].header.first("Content-Transfer-Encoding") == "quoted-printable")
        #expect(encodedParts[2].header.first("Content-Type") == "message/global")
        #expect(encodedParts[2].header.first("Content-Transfer-Encoding") == "quoted-printable")
        #expect(encodedParts.allSatisfy { $0.body.allSatisfy { $0 < 0x80 } })
    }

    @Test func eightBitOriginalOnASevenBitPathReturnsHeadersOnly() throws {
        let original = Array("From: a@example.org\r\nSubject: x\r\n\r\nGrüße\r\n".utf8)
        var dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender,
                                             recipients: [failedRecipient()], original: original, returnContent: .full)
        var random = SplitMix64(state: 6)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        let parts = encoderTestParts(message.bytes, boundary: message.boundaries[0]).map(split)
        // RFC 2046 §5.2.1: message/rfc822 cannot be encoded, so only the headers go back.
        #expect(parts[2].header.first("Content-Type") == "text/rfc822-headers")
        #expect(String(decoding: parts[0].body, as: UTF8.self).contains("the whole message\r\ncould not be returned on this path."))
        #expect(!message.needs8BITMIME)
        // With 8BITMIME it goes whole, as 8bit.
        dsn.allow8bit = true
        let whole = try dsn.compose(now: encoderTestDate, using: &random)
        let wholeParts = encoderTestParts(whole.bytes, boundary: whole.boundaries[0]).map(split)
        #expect(wholeParts[2].header.first("Content-Type") == "message/rfc822")
        #expect(wholeParts[2].header.first("Content-Transfer-Encoding") == "8bit")
    }

    @Test func noReturnedContent() throws {
        let dsn = DeliveryStatusNotification(reportingMTA: "mail.example.org", originalSender: sender,
                                             recipients: [failedRecipient()], original: originalMessage, returnContent: .none)
        var random = SplitMix64(state: 7)
        let message = try dsn.compose(now: encoderTestDate, using: &random)
        let parts = encoderTestParts(message.bytes, boundary: message.boundaries[0])
        #expect(parts.count == 2)
        #expect(!String(decoding: parts[0], as: UTF8.self).contains("attached"))
    }
}
