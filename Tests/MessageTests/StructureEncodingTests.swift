import Foundation
import Testing

@testable import Message

/// The binary form the store keeps next to each message (ParsedMessage.encoded()).
@Suite struct StructureEncodingTests {
    /// Messages that exercise every stored property: multipart with preamble and epilogue,
    /// an encapsulated message, dispositions with parameters, languages, defects, 8-bit and
    /// folded header fields, a header without separator.
    static let corpus: [[UInt8]] = [
        MIMEParserTests.multipart,
        message([
            "From: =?UTF-8?Q?J=C3=B6rg?= <j@example.org>",
            "Subject: folded",
            " continuation",
            "Content-Type: multipart/mixed; boundary=outer",
            "",
            "--outer",
            "Content-Type: text/plain; charset=\"iso-8859-1\"; format=flowed",
            "Content-Transfer-Encoding: quoted-printable",
            "Content-Language: en, de",
            "Content-ID: <id1@example.org>",
            "Content-Description: the text",
            "Content-Location: http://example.org/x",
            "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
            "",
            "caf=E9",
            "--outer",
            "Content-Type: message/rfc822",
            "Content-Disposition: attachment; filename=\"fwd.eml\"; size=12",
            "",
            "Subject: inner",
            "Content-Type: multipart/alternative; boundary=in",
            "",
            "--in",
            "",
            "plain",
            "--in",
            "Content-Type: text/html",
            "",
            "<p>html</p>",
            "--in--",
            "--outer",
            "Content-Type: broken",
            "",
            "default typed",
            "--outer--",
            "",
        ]),
        Array("Subject: caf\u{E9} 8-bit\r\nX-Raw: \u{FF}".utf8) + [0xE9, 0x0D, 0x0A, 0x0D, 0x0A] + Array("body".utf8),
        message(["Content-Type: multipart/mixed; boundary=never", "", "--never", "", "unclosed"]),
        message(["Subject: no separator"]),
        [],
    ]

    @Test func roundTripGivesTheSameStructure() throws {
        for bytes in Self.corpus {
            let parsed = ParsedMessage(bytes: bytes)
            let encoded = parsed.encoded()
            #expect(ParsedMessage.isEncodedForm(encoded))
            #expect(try ParsedMessage(encoded: encoded) == parsed)
            // Equal structures encode equally (dictionaries are written in key order).
            #expect(try ParsedMessage(encoded: encoded).encoded() == encoded)
        }
    }

    @Test func headerAloneReadsTheRootHeader() throws {
        for bytes in Self.corpus {
            let parsed = ParsedMessage(bytes: bytes)
            #expect(try HeaderSection(encodedStructure: parsed.encoded()) == parsed.header)
        }
        let encoded = ParsedMessage(bytes: Self.corpus[1]).encoded()
        #expect(throws: StructureDecodingError.self) { try HeaderSection(encodedStructure: Array(encoded.prefix(20))) }
        // Only the named fields, matched case-insensitively, with white space before the colon.
        let some = try HeaderSection(encodedStructure: encoded, only: HeaderNames(["SUBJECT", "content-type", "X-None"]))
        #expect(some.fields.map(\.name) == ["Subject", "Content-Type"])
        #expect(some.first("subject") == "folded continuation")
        #expect(some.length == ParsedMessage(bytes: Self.corpus[1]).header.length)
        let spaced = ParsedMessage(bytes: Array("Subject : spaced\r\nSubjects: no\r\n\r\n".utf8))
        #expect(try HeaderSection(encodedStructure: spaced.encoded(), only: HeaderNames(["Subject"])).fields.map(\.value) == ["spaced"])
        #expect(throws: StructureDecodingError.self) { try HeaderSection(encodedStructure: [0x7B] + encoded.dropFirst()) }
    }

    @Test func headerNamesTellWhichNameAFieldHas() throws {
        let names = HeaderNames(["Subject", "From", "subject", "Message-ID"])
        func field(_ text: String) throws -> HeaderField { try #require(HeaderField(raw: Array(text.utf8))) }
        // Positions in the order given, the repeated name counting once; case and white
        // space before the colon do not matter (RFC 5322 §1.2.2, §4.5.3).
        #expect(names.index(of: try field("subject: a\r\n")) == 0)
        #expect(names.index(of: try field("FROM \t: b\r\n")) == 1)
        #expect(names.index(of: try field("message-id: <c@d>\r\n")) == 2)
        // Same length, other octets; a prefix; a longer name; a name with the letters' case
        // bit set on a non-letter ("{" is "[" | 0x20).
        for other in ["Subjekt: x\r\n", "Subj: x\r\n", "Subjects: x\r\n", "Message-I{: x\r\n", "Message[ID: x\r\n"] {
            #expect(names.index(of: try field(other)) == nil, "\(other)")
            #expect(!names.contains(try field(other)))
        }
        #expect(try field("SUBJECT : x\r\n").is("subject") && !field("Subject: x\r\n").is("Subjects"))
        #expect(try !field("Message[ID: x\r\n").is("message{id"))
    }

    @Test func corpusCoversEveryStoredProperty() {
        let parsed = ParsedMessage(bytes: Self.corpus[1])
        let text = parsed.root.parts[0]
        #expect(text.parameters == ["charset": "iso-8859-1", "format": "flowed"])
        #expect(text.contentLanguage == ["en", "de"] && text.contentID != nil && text.contentMD5 != nil)
        #expect(text.contentDescription != nil && text.contentLocation != nil)
        let forwarded = parsed.root.parts[1]
        #expect(forwarded.disposition == "attachment" && forwarded.dispositionParameters["filename"] == "fwd.eml")
        #expect(forwarded.message?.parts.count == 2)
        #expect(parsed.root.parts[2].defects == [.invalidContentType])
        #expect(!ParsedMessage(bytes: Self.corpus[3]).root.defects.isEmpty)
        #expect(!ParsedMessage(bytes: Self.corpus[4]).header.hasSeparator)
    }

    /// JSON written by earlier versions starts with `{`; the binary form never does.
    @Test func jsonIsNotTakenForTheBinaryForm() throws {
        let json = try JSONEncoder().encode(ParsedMessage(bytes: MIMEParserTests.multipart))
        #expect(!ParsedMessage.isEncodedForm(json))
        #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: Array(json)) }
    }

    /// Every truncation of a valid encoding is an error, never a crash or a wrong tree.
    @Test func truncatedDataIsAnError() {
        let encoded = ParsedMessage(bytes: Self.corpus[1]).encoded()
        for length in 0..<encoded.count {
            #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: Array(encoded[..<length])) }
        }
        #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: encoded + [0]) }
    }

    /// Damaged octets decode to an error or to some structure, never a trap; huge counts
    /// are refused before anything is allocated for them.
    @Test func damagedDataNeverCrashes() {
        let encoded = ParsedMessage(bytes: Self.corpus[1]).encoded()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = encoded
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                damaged[Int.random(in: 1..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? ParsedMessage(encoded: damaged)
        }
        // Format octet, size 0, offset... then a field count of 2^62.
        let hugeCount: [UInt8] = [ParsedMessage.formatVersion, 0, 0, 0, 0, 0, 0] + [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: hugeCount) }
        let tooLong: [UInt8] = [ParsedMessage.formatVersion] + [UInt8](repeating: 0xFF, count: 12)
        #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: tooLong) }
    }

    /// Nesting deeper than any parsed message is refused instead of recursing without end.
    @Test func excessiveNestingIsAnError() {
        var leaf = ParsedMessage(bytes: message(["Subject: x", "", "y"])).root
        for _ in 0...ParsedMessage.maxDecodingDepth { leaf.parts = [leaf] }
        let deep = ParsedMessage(root: leaf, size: 3).encoded()
        #expect(throws: StructureDecodingError.self) { try ParsedMessage(encoded: deep) }
    }
}
