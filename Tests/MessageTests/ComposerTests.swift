import Foundation
import Testing
@testable import Message
import TestSupport

/// Sat, 21 Nov 2026 22:45:15 +0000.
let encoderTestDate = Date(timeIntervalSince1970: 1_795_301_115)

private let alice = Address(displayName: "Alice Example", localPart: "alice", domain: "example.org")
private let bob = Address(displayName: nil, localPart: "bob", domain: "example.net")

private func text(_ message: ComposedMessage) -> String { String(decoding: message.bytes, as: UTF8.self) }

/// Lines split at CRLF; the final CRLF gives no empty last element.
private func crlfLines(_ bytes: [UInt8]) -> [String] {
    var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

/// The parts of a multipart body delimited by `boundary` (RFC 2046 §5.1.1), each as bytes.
func encoderTestParts(_ bytes: [UInt8], boundary: String) -> [[UInt8]] {
    let delimiter = Array("\r\n--\(boundary)".utf8)
    var positions: [Int] = []
    var index = 0
    while index + delimiter.count <= bytes.count {
        if bytes[index..<(index + delimiter.count)].elementsEqual(delimiter) {
            positions.append(index)
            index += delimiter.count
        } else {
            index += 1
        }
    }
    var parts: [[UInt8]] = []
    for (start, end) in zip(positions, positions.dropFirst()) {
        // Skip the delimiter and its CRLF.
        parts.append(Array(bytes[(start + delimiter.count + 2)..<end]))
    }
    return parts
}

@Suite struct ComposerTests {
    @Test func simpleMessageExactBytes() throws {
        var composer = MessageComposer(from: alice, to: [bob], subject: "Lunch tomorrow?", text: "Hi Bob,\n\nshall we meet at noon?\n\nAlice")
        composer.cc = [Address(displayName: "Carol", localPart: "carol", domain: "example.com")]
        var random = SplitMix64(state: 1)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        #expect(text(message) == """
            From: Alice Example <alice@example.org>\r
            To: bob@example.net\r
            Cc: Carol <carol@example.com>\r
            Subject: Lunch tomorrow?\r
            Date: Sat, 21 Nov 2026 22:45:15 +0000\r
            Message-ID: <fh4lv6jvak78ukex13cakm76@example.org>\r
            MIME-Version: 1.0\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            Hi Bob,\r
            \r
            shall we meet at noon?\r
            \r
            Alice\r

            """)
        #expect(message.boundaries == [])
        #expect(!message.needsSMTPUTF8)
        #expect(!message.needs8BITMIME)
        #expect(message.header.first("Subject") == "Lunch tomorrow?")
    }

    @Test func multipartMessageExactBytes() throws {
        var composer = MessageComposer(from: alice, to: [bob], subject: "Report", text: "See the attachment.\n")
        composer.html = "<p>See the attachment.</p>\n"
        composer.attachments = [.init(data: [0x00, 0x01, 0x02, 0xFF], contentType: "application/octet-stream", filename: "data.bin")]
        var random = SplitMix64(state: 1)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        #expect(message.boundaries.count == 2)
        #expect(text(message) == """
            From: Alice Example <alice@example.org>\r
            To: bob@example.net\r
            Subject: Report\r
            Date: Sat, 21 Nov 2026 22:45:15 +0000\r
            Message-ID: <fh4lv6jvak78ukex13cakm76@example.org>\r
            MIME-Version: 1.0\r
            Content-Type: multipart/mixed; boundary="=_rkgf6YL7TUY84PmF6oZxV55n"\r
            \r
            --=_rkgf6YL7TUY84PmF6oZxV55n\r
            Content-Type: multipart/alternative; boundary="=_VP9ZTmIsreZKXveU0FvUbumW"\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW\r
            Content-Type: text/plain; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            See the attachment.\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW\r
            Content-Type: text/html; charset=utf-8\r
            Content-Transfer-Encoding: 7bit\r
            \r
            <p>See the attachment.</p>\r
            \r
            --=_VP9ZTmIsreZKXveU0FvUbumW--\r
            --=_rkgf6YL7TUY84PmF6oZxV55n\r
            Content-Type: application/octet-stream; name="data.bin"\r
            Content-Transfer-Encoding: base64\r
            Content-Disposition: attachment; filename="data.bin"\r
            \r
            AAEC/w==\r
            --=_rkgf6YL7TUY84PmF6oZxV55n--\r

            """)
        // Outermost first; the inner boundary was drawn first.
        #expect(message.boundaries == ["=_rkgf6YL7TUY84PmF6oZxV55n", "=_VP9ZTmIsreZKXveU0FvUbumW"])
    }

    @Test func everyLineEndsWithCRLFAndHeaderLinesAreShort() throws {
        var composer = MessageComposer(from: alice, to: (1...12).map { Address(displayName: "Recipient Number \($0)", localPart: "r\($0)", domain: "example.net") },
                                       subject: String(repeating: "A rather long subject line ", count: 6),
                                       text: "unix\nline endings\rand old mac ones\r\n" + String(repeating: "x", count: 1500))
        composer.html = "<p>" + String(repeating: "y", count: 2000) + "</p>"
        var random = SplitMix64(state: 2)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        let bytes = message.bytes
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A { #expect(index > 0 && bytes[index - 1] == 0x0D) }
            if byte == 0x0D { #expect(index + 1 < bytes.count && bytes[index + 1] == 0x0A) }
        }
        #expect(bytes.suffix(2) == [0x0D, 0x0A])
        let headerLines = crlfLines(Array(message.header.raw))
        for line in headerLines { #expect(line.count <= 78, "\(line)") }
        for line in crlfLines(bytes) { #expect(line.utf8.count <= 998) }
        #expect(HeaderField(raw: Array(message.header.fields[1].raw))?.value.hasSuffix("Recipient Number 12 <r12@example.net>") == true)
        // The long lines forced quoted-printable.
        #expect(text(message).contains("Content-Transfer-Encoding: quoted-printable"))
    }

    @Test func bccIsNotWrittenButIsAnEnvelopeRecipient() throws {
        var composer = MessageComposer(from: alice, to: [bob], subject: "x", text: "y")
        let hidden = Address(displayName: "Hidden", localPart: "hidden", domain: "example.com")
        composer.bcc = [hidden]
        var random = SplitMix64(state: 3)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        #expect(!text(message).contains("hidden"))
        #expect(!text(message).lowercased().contains("bcc"))
        #expect(composer.envelopeRecipients == [bob, hidden])
    }

    @Test func dateAndMessageIDComeFromTheInjectedSources() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.messageIDHost = "mail.example.org"
        var first = SplitMix64(state: 9)
        var second = SplitMix64(state: 9)
        let one = try composer.compose(now: encoderTestDate, zoneOffsetSeconds: 3600, using: &first)
        let two = try composer.compose(now: encoderTestDate, zoneOffsetSeconds: 3600, using: &second)
        #expect(one == two)
        #expect(one.header.first("Date") == "Sat, 21 Nov 2026 23:45:15 +0100")
        #expect(one.messageID.hasSuffix("@mail.example.org"))
        #expect(one.header.first("Message-ID") == "<\(one.messageID)>")
        var other = SplitMix64(state: 10)
        #expect(try composer.compose(now: encoderTestDate, using: &other).messageID != one.messageID)
        composer.messageID = "draft-1@example.org"
        #expect(try composer.compose(now: encoderTestDate, using: &other).messageID == "draft-1@example.org")
    }

    @Test func threadingHeaders() throws {
        var composer = MessageComposer(from: alice, to: [bob], subject: "Re: x", text: "y")
        composer.inReplyTo = ["<c@example.net>"]
        composer.references = ["a@example.net", "<b@example.net>", "<c@example.net>"]
        var random = SplitMix64(state: 4)
        let header = try composer.compose(now: encoderTestDate, using: &random).header
        #expect(header.first("In-Reply-To") == "<c@example.net>")
        #expect(header.first("References") == "<a@example.net> <b@example.net> <c@example.net>")
        composer.references = ["not an id"]
        #expect(throws: ComposeError.invalidMessageID("not an id")) { try composer.compose(now: encoderTestDate, using: &random) }
        composer.references = ["<a@b>\r\nBcc: x@y"]
        #expect(throws: ComposeError.invalidMessageID("<a@b>\r\nBcc: x@y")) { try composer.compose(now: encoderTestDate, using: &random) }
    }

    @Test func withoutSMTPUTF8HeadersAreASCII() throws {
        let jorg = Address(displayName: "Jörg Müller", localPart: "joerg", domain: "example.de")
        var composer = MessageComposer(from: jorg, to: [Address(displayName: "Zoë (Sales)", localPart: "zoe", domain: "example.net")],
                                       subject: "Grüße aus Köln", text: "Schöne Grüße aus Köln, wir sehen uns nächste Woche.\n")
        var random = SplitMix64(state: 5)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        let header = message.header
        #expect(header.raw.allSatisfy { $0 < 0x80 })
        #expect(!message.needsSMTPUTF8)
        #expect(header.first("From") == "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <joerg@example.de>")
        #expect(EncodedWord.decode(header.first("To") ?? "") == "Zoë (Sales) <zoe@example.net>")
        #expect(EncodedWord.decode(header.first("Subject") ?? "") == "Grüße aus Köln")
        // No 8-bit data without 8BITMIME: mostly ASCII text goes quoted-printable, and short
        // text with a high share of non-ASCII goes base64, whichever is shorter.
        #expect(!message.needs8BITMIME)
        #expect(text(message).hasSuffix("Content-Transfer-Encoding: quoted-printable\r\n\r\nSch=C3=B6ne Gr=C3=BC=C3=9Fe aus K=C3=B6ln, wir sehen uns n=C3=A4chste Woche.\r\n"))
        composer.text = "Schöne Grüße\n"
        let short = try composer.compose(now: encoderTestDate, using: &random)
        #expect(text(short).hasSuffix("Content-Transfer-Encoding: base64\r\n\r\nU2Now7ZuZSBHcsO8w59lDQo=\r\n"))
    }

    @Test func withoutSMTPUTF8NonASCIIAddressesAreErrors() {
        var random = SplitMix64(state: 6)
        let composer = MessageComposer(from: alice, to: [Address(displayName: nil, localPart: "jörg", domain: "example.de")], text: "x")
        #expect(throws: ComposeError.nonASCIILocalPart(field: "To", address: "jörg@example.de")) {
            try composer.compose(now: encoderTestDate, using: &random)
        }
        var idn = MessageComposer(from: alice, text: "x")
        idn.cc = [Address(displayName: nil, localPart: "info", domain: "bücher.example")]
        #expect(throws: ComposeError.nonASCIIDomain(field: "Cc", address: "info@bücher.example")) {
            try idn.compose(now: encoderTestDate, using: &random)
        }
        var hidden = MessageComposer(from: alice, text: "x")
        hidden.bcc = [Address(displayName: nil, localPart: "jörg", domain: "example.de")]
        #expect(throws: ComposeError.nonASCIILocalPart(field: "Bcc", address: "jörg@example.de")) {
            try hidden.compose(now: encoderTestDate, using: &random)
        }
        let injected = MessageComposer(from: Address(displayName: nil, localPart: "a\r\nBcc: x", domain: "example.org"), text: "x")
        #expect(throws: ComposeError.self) { try injected.compose(now: encoderTestDate, using: &random) }
    }

    @Test func withSMTPUTF8UTF8IsWrittenRaw() throws {
        let jorg = Address(displayName: "Jörg Müller", localPart: "jörg", domain: "bücher.example")
        var composer = MessageComposer(from: jorg, to: [Address(displayName: "Zoë", localPart: "zoë", domain: "example.net")],
                                       subject: "Grüße aus Köln", text: "Schöne Grüße\n")
        composer.smtputf8 = true
        var random = SplitMix64(state: 5)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        let header = message.header
        #expect(header.first("From") == "Jörg Müller <jörg@bücher.example>")
        #expect(header.first("To") == "Zoë <zoë@example.net>")
        #expect(header.first("Subject") == "Grüße aus Köln")
        #expect(header.first("Message-ID")?.hasSuffix("@bücher.example>") == true)
        #expect(!text(message).contains("=?UTF-8?"))
        #expect(message.needsSMTPUTF8)
        // SMTPUTF8 implies 8BITMIME (RFC 6531 §3.1): the body goes as 8bit.
        #expect(message.needs8BITMIME)
        #expect(text(message).hasSuffix("Content-Transfer-Encoding: 8bit\r\n\r\nSchöne Grüße\r\n"))
        // A UTF-8 address only in Bcc still needs SMTPUTF8 for its RCPT TO.
        var hidden = MessageComposer(from: alice, to: [bob], text: "x")
        hidden.bcc = [Address(displayName: nil, localPart: "zoë", domain: "example.net")]
        hidden.smtputf8 = true
        let blind = try hidden.compose(now: encoderTestDate, using: &random)
        #expect(blind.header.raw.allSatisfy { $0 < 0x80 })
        #expect(blind.needsSMTPUTF8)
    }

    @Test func eightBitBodyWhenAllowed() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "Grüße\n")
        composer.allow8bit = true
        var random = SplitMix64(state: 5)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        #expect(text(message).hasSuffix("Content-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n"))
        #expect(message.needs8BITMIME)
        #expect(!message.needsSMTPUTF8)
        composer.text = "日本語のメッセージです。\n"
        composer.allow8bit = false
        let japanese = try composer.compose(now: encoderTestDate, using: &random)
        #expect(text(japanese).contains("Content-Transfer-Encoding: base64\r\n\r\n5pel5pys6Kqe44Gu44Oh44OD44K744O844K444Gn44GZ44CCDQo=\r\n"))
    }

    @Test func nonASCIIFilenames() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.attachments = [
            .init(data: Array("%PDF".utf8), contentType: "application/pdf", filename: "Résumé.pdf"),
            .init(data: [1, 2, 3], contentType: "image/png", filename: "Übersicht März 2026 mit einem sehr langen Dateinamen, der umbrochen wird.png",
                  disposition: .inline, contentID: "img1@example.org"),
        ]
        var random = SplitMix64(state: 8)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        let parts = encoderTestParts(message.bytes, boundary: message.boundaries[0])
        #expect(parts.count == 3)
        let pdf = HeaderSection(parsing: parts[1])
        #expect(pdf.first("Content-Type") == "application/pdf; name=\"=?UTF-8?B?UsOpc3Vtw6kucGRm?=\"")
        #expect(pdf.first("Content-Disposition") == "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.pdf")
        let png = HeaderSection(parsing: parts[2])
        #expect(png.first("Content-ID") == "<img1@example.org>")
        let disposition = try #require(png.first("Content-Disposition"))
        #expect(disposition.hasPrefix("inline; filename*0*=utf-8''%C3%9Cbersicht%20M%C3%A4rz"))
        #expect(disposition.contains("; filename*1*="))
        // Sections joined and percent-decoded give the name back (RFC 2231 §3, §4).
        let sections = disposition.components(separatedBy: "; ").dropFirst().map { $0.split(separator: "=", maxSplits: 1)[1] }
        let joined = sections.joined().replacingOccurrences(of: "utf-8''", with: "")
        #expect(joined.removingPercentEncoding == "Übersicht März 2026 mit einem sehr langen Dateinamen, der umbrochen wird.png")
        for line in crlfLines(Array(png.raw)) { #expect(line.count <= 78, "\(line)") }
        let name = try #require(png.first("Content-Type")?.components(separatedBy: "name=").last)
        #expect(EncodedWord.decode(String(name.dropFirst().dropLast())) == "Übersicht März 2026 mit einem sehr langen Dateinamen, der umbrochen wird.png")
        // With SMTPUTF8 the filename is plain quoted UTF-8 (RFC 6532 §3.2).
        composer.smtputf8 = true
        let utf8 = try composer.compose(now: encoderTestDate, using: &random)
        let utf8Parts = encoderTestParts(utf8.bytes, boundary: utf8.boundaries[0])
        #expect(HeaderSection(parsing: utf8Parts[1]).first("Content-Disposition") == "attachment; filename=\"Résumé.pdf\"")
    }

    @Test func textAttachmentsAreCanonicalText() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.attachments = [.init(data: Array("a,b\n1,2\n".utf8), contentType: "text/csv", charset: "utf-8", filename: "t.csv")]
        var random = SplitMix64(state: 8)
        let message = try composer.compose(now: encoderTestDate, using: &random)
        let part = encoderTestParts(message.bytes, boundary: message.boundaries[0])[1]
        #expect(String(decoding: part, as: UTF8.self) == """
            Content-Type: text/csv; charset=utf-8; name="t.csv"\r
            Content-Transfer-Encoding: 7bit\r
            Content-Disposition: attachment; filename="t.csv"\r
            \r
            a,b\r
            1,2\r

            """)
    }

    @Test func boundariesNeverOccurInTheContent() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.html = "<p>x</p>"
        composer.attachments = [.init(data: [1])]
        var random = SplitMix64(state: 11)
        let first = try composer.compose(now: encoderTestDate, using: &random)
        #expect(first.boundaries.count == 2)
        // Put the boundaries the same random sequence gives into the content itself.
        composer.text = "--\(first.boundaries[1])\n--\(first.boundaries[0])--\n"
        var same = SplitMix64(state: 11)
        let second = try composer.compose(now: encoderTestDate, using: &same)
        #expect(second.messageID == first.messageID)
        #expect(second.boundaries.count == 2)
        #expect(Set(second.boundaries).isDisjoint(with: first.boundaries))
        let outer = encoderTestParts(second.bytes, boundary: second.boundaries[0])
        #expect(outer.count == 2)
        let inner = encoderTestParts(outer[0], boundary: second.boundaries[1])
        #expect(inner.count == 2)
        #expect(String(decoding: inner[0], as: UTF8.self).hasSuffix("\r\n\r\n--\(first.boundaries[1])\r\n--\(first.boundaries[0])--\r\n"))
    }

    @Test func aBrokenRandomSourceGivesAnErrorNotACrash() {
        struct Constant: RandomNumberGenerator { mutating func next() -> UInt64 { 0 } }
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.html = "<p>x</p>"
        composer.attachments = [.init(data: [1])]
        var random = Constant()
        // Every boundary drawn is the same, so the outer one always collides with the inner.
        #expect(throws: ComposeError.boundaryCollision) { try composer.compose(now: encoderTestDate, using: &random) }
    }

    @Test func extraHeaders() throws {
        var composer = MessageComposer(from: alice, to: [bob], text: "x")
        composer.extraHeaders = [
            .init(name: "X-Mailer", value: "Tern — webmail"),
            .init(name: "List-Unsubscribe", value: "<mailto:unsubscribe@example.org>", kind: .structured),
        ]
        var random = SplitMix64(state: 12)
        let header = try composer.compose(now: encoderTestDate, using: &random).header
        #expect(EncodedWord.decode(header.first("X-Mailer") ?? "") == "Tern — webmail")
        #expect(header.first("List-Unsubscribe") == "<mailto:unsubscribe@example.org>")
        let names = header.fields.map(\.name)
        #expect(names.firstIndex(of: "List-Unsubscribe")! < names.firstIndex(of: "MIME-Version")!)

        composer.extraHeaders = [.init(name: "Content-Type", value: "text/html")]
        #expect(throws: ComposeError.reservedHeader("Content-Type")) { try composer.compose(now: encoderTestDate, using: &random) }
        composer.extraHeaders = [.init(name: "X Bad", value: "v")]
        #expect(throws: ComposeError.invalidHeaderName("X Bad")) { try composer.compose(now: encoderTestDate, using: &random) }
        composer.extraHeaders = [.init(name: "X-Raw", value: "a\r\nBcc: b@c", kind: .structured)]
        #expect(throws: ComposeError.lineBreakInHeaderValue(field: "X-Raw")) { try composer.compose(now: encoderTestDate, using: &random) }
        composer.extraHeaders = [.init(name: "X-Raw", value: "Grüße", kind: .structured)]
        #expect(throws: ComposeError.nonASCIIHeaderValue(field: "X-Raw")) { try composer.compose(now: encoderTestDate, using: &random) }
        composer.attachments = [.init(data: [1], contentType: "not a type")]
        composer.extraHeaders = []
        #expect(throws: ComposeError.invalidMediaType("not a type")) { try composer.compose(now: encoderTestDate, using: &random) }
    }

    @Test func subjectLineBreaksCannotInjectHeaders() throws {
        let composer = MessageComposer(from: alice, to: [bob], subject: "hi\r\nBcc: victim@example.com", text: "x")
        var random = SplitMix64(state: 13)
        let header = try composer.compose(now: encoderTestDate, using: &random).header
        #expect(header.first("Subject") == "hi Bcc: victim@example.com")
        #expect(header.first("Bcc") == nil)
    }

    @Test func pathologicalInputStaysWithinTheLineLimit() throws {
        for smtputf8 in [false, true] {
            var composer = MessageComposer(from: Address(displayName: String(repeating: "Ö", count: 1500), localPart: "a", domain: "example.org"),
                                           to: [Address(displayName: String(repeating: "x", count: 1500) + ", y", localPart: "b", domain: "example.net")],
                                           subject: String(repeating: "€", count: 2000) + " " + String(repeating: "z", count: 3000),
                                           text: String(repeating: "long line ", count: 500))
            composer.smtputf8 = smtputf8
            composer.attachments = [
                .init(data: [1, 2], filename: String(repeating: "ä", count: 1200) + ".bin"),
                .init(data: [3], filename: String(repeating: "n", count: 2500) + ".txt"),
            ]
            composer.extraHeaders = [.init(name: "X-" + String(repeating: "H", count: 90), value: "ünïcödé " + String(repeating: "w", count: 1200))]
            var random = SplitMix64(state: 14)
            let message = try composer.compose(now: encoderTestDate, using: &random)
            for line in crlfLines(message.bytes) { #expect(line.utf8.count <= 998) }
            let header = message.header
            #expect(header.malformedLines == 0)
            #expect(header.fields.map(\.name) == ["From", "To", "Subject", "Date", "Message-ID", "X-" + String(repeating: "H", count: 90), "MIME-Version", "Content-Type"])
        }
    }
}
