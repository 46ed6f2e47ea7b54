import Foundation
import Testing

@testable import Message
import TestSupport

/// Composer and DSN output, parsed back with the parser: the same structure and content.
@Suite struct RoundTripTests {
    static let sender = Address(displayName: "Jörg Ünïcode, Jr.", localPart: "joerg", domain: "example.org")
    static let recipient = Address(displayName: "Zoë", localPart: "zoe", domain: "example.net")

    func normalized(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n")
    }

    func composeAndParse(smtputf8: Bool, seed: UInt64 = 7) throws -> (MessageComposer, ComposedMessage, ParsedMessage) {
        var composer = MessageComposer(from: Self.sender, to: [Self.recipient], subject: "Grüße aus München — a long subject line that certainly needs folding at seventy-eight columns", text: "Hallo Zoë,\n\nwie geht's? = sign, trailing space \nand a line that is rather long " + String(repeating: "x", count: 1200) + "\n.\nFrom here on\n")
        composer.html = "<p>Hallo <b>Zoë</b> ☺</p>"
        composer.attachments = [
            MessageComposer.Attachment(data: (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }, contentType: "application/octet-stream", filename: "résumé final.bin"),
            MessageComposer.Attachment(data: Array("plain ascii notes\r\n".utf8), contentType: "text/plain", charset: "us-ascii", filename: "notes.txt", disposition: .inline),
        ]
        composer.smtputf8 = smtputf8
        var random = SplitMix64(state: seed)
        let composed = try composer.compose(now: encoderTestDate, zoneOffsetSeconds: 3600, using: &random)
        return (composer, composed, ParsedMessage(bytes: composed.bytes))
    }

    @Test(arguments: [false, true])
    func composedMessageParsesBack(smtputf8: Bool) throws {
        let (composer, composed, parsed) = try composeAndParse(smtputf8: smtputf8)
        let source = MemorySource(composed.bytes)
        let root = parsed.root
        #expect(root.defects.isEmpty)
        #expect(root.mediaType == "multipart" && root.subtype == "mixed")
        #expect(root.parameters["boundary"] == composed.boundaries.first)
        #expect(root.parts.count == 3)

        let alternative = root.parts[0]
        #expect(alternative.subtype == "alternative" && alternative.parts.map(\.subtype) == ["plain", "html"])
        // The composer ends every text part with a line break (documented there).
        #expect(normalized(try alternative.parts[0].text(in: source)) == composer.text)
        #expect(try alternative.parts[1].text(in: source) == (composer.html ?? "") + "\r\n")

        let binary = root.parts[1]
        #expect(try binary.decodedBody(in: source) == composer.attachments[0].data)
        #expect(binary.dispositionParameters["filename"] == "résumé final.bin")
        #expect(binary.disposition == "attachment")
        let notes = root.parts[2]
        #expect(try notes.decodedBody(in: source) == composer.attachments[1].data)
        #expect(notes.disposition == "inline" && notes.dispositionParameters["filename"] == "notes.txt")

        let header = parsed.header
        #expect(EncodedWord.decode(try #require(header.first("Subject"))) == composer.subject)
        let from = AddressList.mailboxes(try AddressList.parse(try #require(header.first("From"))))
        #expect(from == [Self.sender])
        #expect(AddressList.mailboxes(try AddressList.parse(try #require(header.first("To")))) == [Self.recipient])
        let date = try MessageDate.parse(try #require(header.first("Date")))
        #expect(date.date == encoderTestDate && date.zoneOffsetSeconds == 3600)
        #expect(MessageID.parse(try #require(header.first("Message-ID"))) == composed.messageID)
        // Without SMTPUTF8 the whole message is ASCII; with it, headers carry raw UTF-8.
        #expect(composed.bytes.allSatisfy { $0 < 0x80 } == !smtputf8)
        #expect(composed.needsSMTPUTF8 == smtputf8)
    }

    /// Random texts and attachments, many seeds: content survives exactly.
    @Test func randomContentSurvives() throws {
        var random = SplitMix64(state: 99)
        let alphabet = Array("abc xyz\t=.-_é€😀\n\r\u{00A0}") + ["From ", "\n.\n", "=?", "--"].flatMap { Array($0) }
        for round in 0..<40 {
            let length = Int(random.next() % 3000)
            var text = String((0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            text = text.replacingOccurrences(of: "\r", with: "")  // the composer's text is line-based
            let data = (0..<Int(random.next() % 5000)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var composer = MessageComposer(from: Self.sender, to: [Self.recipient], subject: "round \(round) é", text: text)
            composer.attachments = [MessageComposer.Attachment(data: data, filename: "f\(round).bin")]
            let composed = try composer.compose(now: encoderTestDate, using: &random)
            let parsed = ParsedMessage(bytes: composed.bytes)
            let source = MemorySource(composed.bytes)
            #expect(parsed.root.parts.count == 2, "round \(round)")
            let expected = text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
            #expect(normalized(try parsed.root.parts[0].text(in: source)) == expected, "round \(round)")
            #expect(try parsed.root.parts[1].decodedBody(in: source) == data, "round \(round)")
        }
    }

    @Test(arguments: [false, true])
    func deliveryStatusNotificationParsesBack(international: Bool) throws {
        let (_, original, _) = try composeAndParse(smtputf8: international)
        var dsn = DeliveryStatusNotification(
            reportingMTA: "mx.example.org", originalSender: Self.sender,
            recipients: [
                .init(finalRecipient: "zoe@example.net", action: .failed, status: "5.1.1", diagnosticCode: "550 5.1.1 no such user", remoteMTA: "mx.example.net", lastAttemptDate: encoderTestDate),
                .init(finalRecipient: "late@example.net", action: .delayed, status: "4.4.1", willRetryUntil: encoderTestDate.addingTimeInterval(86400)),
            ],
            original: original.bytes, returnContent: .full)
        dsn.international = international
        dsn.allow8bit = international
        var random = SplitMix64(state: 3)
        let composed = try dsn.compose(now: encoderTestDate, using: &random)
        let parsed = ParsedMessage(bytes: composed.bytes)
        let source = MemorySource(composed.bytes)
        let root = parsed.root
        #expect(root.subtype == "report" && root.parameters["report-type"] == "delivery-status")
        #expect(root.defects.isEmpty)
        #expect(root.parts.map { "\($0.mediaType)/\($0.subtype)" } == (international
            ? ["text/plain", "message/global-delivery-status", "message/global"]
            : ["text/plain", "message/delivery-status", "message/rfc822"]))
        let status = String(decoding: try root.parts[1].decodedBody(in: source), as: UTF8.self)
        #expect(status.contains("Reporting-MTA: dns; mx.example.org\r\n"))
        #expect(status.contains("Action: failed\r\n") && status.contains("Status: 5.1.1\r\n"))
        #expect(status.contains("Diagnostic-Code: smtp; 550 5.1.1 no such user"))
        #expect(status.contains("Action: delayed\r\n") && status.contains("Will-Retry-Until: "))
        // The returned original is a whole message again, parsed as such.
        let returned = try #require(root.parts[2].message)
        #expect(returned.header.first("Message-ID") == "<\(original.messageID)>")
        #expect(returned.subtype == "mixed" && returned.parts.count == 3)
        #expect(parsed.header.first("Auto-Submitted") == "auto-replied")
    }
}
