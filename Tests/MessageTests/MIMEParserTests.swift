import Foundation
import Testing

@testable import Message

/// Joins lines with CRLF (or `ending`), the way the corpus below is written.
func message(_ lines: [String], ending: String = "\r\n") -> [UInt8] {
    Array(lines.joined(separator: ending).utf8)
}

/// The hard-message corpus: each case written for this project, with offsets computed by
/// hand from the line lengths noted beside them.
@Suite struct MIMEParserTests {
    @Test func singlePart() {
        let bytes = message(["From: Alice <alice@example.org>", "Subject: hi", "", "Hello", "World", ""])
        let parsed = ParsedMessage(bytes: bytes)
        let root = parsed.root
        #expect(parsed.size == 62)
        #expect(root.offset == 0 && root.headerLength == 48)
        #expect(root.bodyOffset == 48 && root.bodyLength == 14 && root.bodyLines == 2)
        #expect(root.mediaType == "text" && root.subtype == "plain")
        #expect(root.parameters == ["charset": "us-ascii"])
        #expect(root.transferEncoding == "7bit")
        #expect(root.header.first("subject") == "hi")
        #expect(root.defects.isEmpty)
    }

    static let multipart = message([
        "From: a@example.org",  // 0..21
        "Content-Type: multipart/mixed; boundary=\"XX\"",  // 21..67
        "",  // 67..69
        "preamble",  // 69..79
        "--XX",  // 79..85
        "Content-Type: text/plain",  // 85..111
        "",  // 111..113
        "part one",  // 113..123
        "--XX",  // 123..129
        "",  // 129..131
        "part two line 1",  // 131..148
        "part two line 2",  // 148..165
        "--XX--",  // 165..173
        "epilogue",  // 173..183
        "",
    ])

    @Test func multipartOffsets() throws {
        let parsed = ParsedMessage(bytes: Self.multipart)
        let root = parsed.root
        #expect(parsed.size == 183)
        #expect(root.isMultipart && root.subtype == "mixed")
        #expect(root.headerLength == 69 && root.bodyOffset == 69 && root.bodyLength == 114)
        #expect(root.parts.count == 2)
        let one = root.parts[0]
        #expect(one.offset == 85 && one.headerLength == 28 && one.bodyOffset == 113)
        #expect(one.bodyLength == 8 && one.bodyLines == 1)
        let two = root.parts[1]
        #expect(two.offset == 129 && two.headerLength == 2 && two.bodyOffset == 131)
        #expect(two.bodyLength == 32 && two.bodyLines == 2)
        #expect(two.mediaType == "text" && two.parameters["charset"] == "us-ascii")
        #expect(root.defects.isEmpty)
        #expect(Array(Self.multipart[two.bodyOffset..<two.end]) == Array("part two line 1\r\npart two line 2".utf8))
        #expect(root.sections().map(\.section) == ["1", "2"])
    }

    /// The same message with bare LF line endings: every offset shrinks by one per line.
    @Test func bareLineFeeds() {
        let bytes = message(
            ["From: a@example.org", "Content-Type: multipart/mixed; boundary=\"XX\"", "", "preamble", "--XX", "Content-Type: text/plain", "", "part one", "--XX", "", "part two line 1", "part two line 2", "--XX--", "epilogue", ""],
            ending: "\n")
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.headerLength == 66)
        #expect(root.parts.count == 2)
        #expect(root.parts[0].offset == 80 && root.parts[0].bodyOffset == 106 && root.parts[0].bodyLength == 8)
        #expect(root.parts[1].bodyOffset == 121 && root.parts[1].bodyLength == 31 && root.parts[1].bodyLines == 2)
    }

    /// An inner multipart that never closes ends where the outer boundary comes, as
    /// mainstream clients read it; the outer one goes on.
    @Test func missingInnerClosingBoundary() {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=outer",
            "",
            "--outer",
            "Content-Type: multipart/alternative; boundary=inner",
            "",
            "--inner",
            "",
            "plain",
            "--inner",
            "Content-Type: text/html",
            "",
            "<p>html</p>",
            "--outer",
            "Content-Type: application/pdf; name=a.pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0=",
            "--outer--",
            "",
        ])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts.count == 2)
        let alternative = root.parts[0]
        #expect(alternative.subtype == "alternative" && alternative.parts.count == 2)
        #expect(alternative.defects == [.missingClosingBoundary])
        #expect(alternative.parts[1].subtype == "html")
        #expect(String(decoding: bytes[alternative.parts[1].bodyOffset..<alternative.parts[1].end], as: UTF8.self) == "<p>html</p>")
        #expect(root.parts[1].subtype == "pdf" && root.parts[1].transferEncoding == "base64")
        #expect(root.defects.isEmpty)
        #expect(root.sections().map(\.section) == ["1", "1.1", "1.2", "2"])
    }

    @Test func missingFinalBoundaryAtEndOfInput() {
        let bytes = message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "only part", "still the part"])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts.count == 1)
        #expect(root.defects == [.missingClosingBoundary])
        let part = root.parts[0]
        #expect(String(decoding: bytes[part.bodyOffset..<part.end], as: UTF8.self) == "only part\r\nstill the part")
        #expect(part.bodyLines == 2)
    }

    /// Text in the preamble that looks like a boundary but is not exactly one is preamble.
    @Test func boundaryLookalikesInPreamble() {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=\"=_b\"",
            "",
            "--=_bogus",
            "---=_b",
            "--=_b trailing words",
            "--=_b",
            "",
            "body",
            "--=_b--",
        ])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts.count == 1)
        #expect(String(decoding: bytes[root.parts[0].bodyOffset..<root.parts[0].end], as: UTF8.self) == "body")
        #expect(root.defects.isEmpty)
    }

    @Test func delimiterWithTransportPadding() {
        let bytes = message(["Content-Type: multipart/mixed; boundary=b", "", "--b  \t", "", "x", "--b-- ", ""])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts.count == 1 && root.defects.isEmpty)
    }

    @Test func encapsulatedMessage() {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=b",  // 0..43
            "",  // 43..45
            "--b",  // 45..50
            "Content-Type: message/rfc822",  // 50..80
            "",  // 80..82
            "Subject: inner",  // 82..98
            "Content-Type: multipart/alternative; boundary=c",  // 98..147
            "",  // 147..149
            "--c",  // 149..154
            "",  // 154..156
            "inner text",  // 156..168
            "--c--",  // 168..175
            "--b--",  // 175..182
            "",
        ])
        let root = ParsedMessage(bytes: bytes).root
        let wrapper = root.parts[0]
        #expect(wrapper.isMessage)
        #expect(wrapper.bodyOffset == 82 && wrapper.bodyLength == 91 && wrapper.bodyLines == 7)
        let inner = try! #require(wrapper.message)
        #expect(inner.header.first("Subject") == "inner")
        #expect(inner.offset == 82 && inner.bodyOffset == 149)
        #expect(inner.parts.count == 1)
        #expect(inner.parts[0].bodyOffset == 156 && inner.parts[0].bodyLength == 10)
        #expect(root.sections().map(\.section) == ["1", "1.1"])
    }

    /// message/rfc822 that is base64-encoded is not parsed into (RFC 2046 §5.2.1).
    @Test func encodedEncapsulatedMessageIsOpaque() {
        let bytes = message(["Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "", "U3ViamVjdDogeA0KDQpib2R5", ""])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.message == nil && root.bodyLength == 26)
    }

    @Test func digestDefaultsToMessages() {
        let bytes = message(["Content-Type: multipart/digest; boundary=d", "", "--d", "", "Subject: one", "", "first", "--d--"])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts[0].mediaType == "message" && root.parts[0].subtype == "rfc822")
        #expect(root.parts[0].message?.header.first("Subject") == "one")
    }

    @Test func multipartWithoutBoundaryIsOnePart() {
        let root = ParsedMessage(bytes: message(["Content-Type: multipart/mixed", "", "--x", "", "y"])).root
        #expect(root.parts.isEmpty && root.defects == [.missingBoundary])
        #expect(root.bodyLength == 8)
    }

    @Test func invalidContentTypeFallsBackToText() {
        let root = ParsedMessage(bytes: message(["Content-Type: garbage", "", "x"])).root
        #expect(root.mediaType == "text" && root.subtype == "plain" && root.defects == [.invalidContentType])
    }

    @Test func emptyMultipartAndNoHeaderSeparator() {
        let empty = ParsedMessage(bytes: message(["Content-Type: multipart/mixed; boundary=b", "", "--b--", ""])).root
        #expect(empty.defects == [.noParts])
        let headerOnly = ParsedMessage(bytes: message(["Subject: no body"])).root
        #expect(headerOnly.defects == [.missingHeaderSeparator])
        #expect(headerOnly.headerLength == 16 && headerOnly.bodyLength == 0)
        let nothing = ParsedMessage(bytes: []).root
        #expect(nothing.headerLength == 0 && nothing.bodyLength == 0 && nothing.defects.isEmpty)
    }

    /// A delimiter inside a part's header ends the part there; the line break before it is
    /// the delimiter's, so the part stays inside its parent (found by the fuzzer).
    @Test func delimiterInsideAHeader() {
        let bytes = message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "Subject: cut short", "--b--", ""])
        let root = ParsedMessage(bytes: bytes).root
        let part = root.parts[0]
        #expect(part.offset == 50 && part.headerLength == 18 && part.bodyLength == 0)
        #expect(part.end <= root.end)
        #expect(part.header.first("Subject") == "cut short")
        #expect(part.defects == [.missingHeaderSeparator])
    }

    /// A header whose empty line is followed at once by a delimiter: that line break is the
    /// delimiter's, so the part (and an encapsulated message in it) ends before it, inside
    /// the enclosing part (found by the fuzzer).
    @Test func headerEndingRightAtADelimiter() {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=b",  // 0..43
            "",  // 43..45
            "--b",  // 45..50
            "Content-Type: message/rfc822",  // 50..80
            "",  // 80..82
            "Subject: inner",  // 82..98
            "",  // 98..100
            "--b--",  // 100..107
            "",
        ])
        let wrapper = ParsedMessage(bytes: bytes).root.parts[0]
        #expect(wrapper.bodyOffset == 82 && wrapper.bodyLength == 16)
        let inner = try! #require(wrapper.message)
        #expect(inner.offset == 82 && inner.headerLength == 16 && inner.bodyOffset == 98 && inner.bodyLength == 0)
        #expect(inner.end <= wrapper.end)
    }

    /// A message/rfc822 part whose header ends right at a delimiter: the encapsulated message
    /// is empty and stays inside the part (found by the fuzzer).
    @Test func emptyEncapsulatedMessageAtADelimiter() {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=b",  // 0..43
            "",  // 43..45
            "--b",  // 45..50
            "Content-Type: message/rfc822",  // 50..80
            "",  // 80..82
            "--b--",  // 82..89
        ])
        let wrapper = ParsedMessage(bytes: bytes).root.parts[0]
        #expect(wrapper.offset == 50 && wrapper.headerLength == 30 && wrapper.bodyOffset == 80 && wrapper.bodyLength == 0)
        let inner = try! #require(wrapper.message)
        #expect(inner.offset == 80 && inner.headerLength == 0 && inner.bodyLength == 0)
    }

    /// A part that starts with its delimiter right after the header: empty body.
    @Test func emptyBodies() {
        let bytes = message(["Content-Type: multipart/mixed; boundary=b", "", "--b", "Content-Type: text/plain", "", "--b", "", "", "--b--"])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.parts.map(\.bodyLength) == [0, 0])
        #expect(root.parts.map(\.bodyLines) == [0, 0])
    }

    /// Content-Length and other counts in headers are not trusted.
    @Test func wrongCountsAreIgnored() {
        let bytes = message(["Content-Length: 3", "Lines: 100", "", "a body longer than three octets", ""])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.bodyLength == 33 && root.bodyLines == 1)
    }

    @Test func nulAndEightBitOctets() {
        var bytes = Array("Subject: caf\u{E9}\r\nX-Latin1: ".utf8) + [0x63, 0x61, 0x66, 0xE9] + Array("\r\n\r\n".utf8)
        bytes += [0x00, 0x01, 0xFF, 0x0D, 0x0A, 0x00]
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.header.first("subject") == "café")
        // Not UTF-8: each octet read as Latin-1, nothing lost.
        #expect(root.header.first("x-latin1") == "café")
        #expect(root.bodyLength == 6 && root.bodyLines == 2)
    }

    @Test func headerFieldDetails() {
        let bytes = message(["From foo@bar Mon Jan  1 00:00:00 2024", "Subject : folded", "\tacross lines", " ", "X-Empty:", "", "body"])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.header.malformedLines == 1)
        #expect(root.header.first("subject") == "folded\tacross lines")
        #expect(root.header.fields[0].raw == Array("Subject : folded\r\n\tacross lines\r\n \r\n".utf8))
        #expect(root.header.first("x-empty") == "")
        #expect(root.header.all("SUBJECT").count == 1)
    }

    @Test func contentFieldsAreParsed() {
        let bytes = message([
            "Content-Type: Text/HTML; Charset=\"ISO-8859-1\"",
            "Content-Transfer-Encoding: Quoted-Printable (comment)",
            "Content-Disposition: attachment; filename=\"a b.html\"",
            "Content-ID: <id@example.org>",
            "Content-Description: a page",
            "Content-Language: en, de",
            "Content-Location: http://example.org/a.html",
            "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
            "",
            "x",
        ])
        let root = ParsedMessage(bytes: bytes).root
        #expect(root.mediaType == "text" && root.subtype == "html")
        #expect(root.parameters["charset"] == "ISO-8859-1")
        #expect(root.transferEncoding == "quoted-printable")
        #expect(root.disposition == "attachment" && root.dispositionParameters["filename"] == "a b.html")
        #expect(root.contentID == "<id@example.org>")
        #expect(root.contentDescription == "a page")
        #expect(root.contentLanguage == ["en", "de"])
        #expect(root.contentLocation == "http://example.org/a.html")
        #expect(root.contentMD5 == "Q2hlY2sgSW50ZWdyaXR5IQ==")
    }

    // MARK: limits: memory and time stay bounded

    @Test func deepNestingIsBounded() {
        var lines: [String] = []
        for level in 0..<2000 {
            lines += ["Content-Type: multipart/mixed; boundary=b\(level)", "", "--b\(level)"]
        }
        lines += ["", "leaf"]
        let root = ParsedMessage(bytes: message(lines)).root
        var depth = 0
        var part = root
        while let child = part.parts.first {
            depth += 1
            part = child
        }
        #expect(depth == ParseLimits().maxDepth)
        #expect(part.defects.contains(.nestingTooDeep))
    }

    @Test func deepEncapsulationIsBounded() {
        let lines = Array(repeating: ["Content-Type: message/rfc822", ""], count: 5000).flatMap { $0 } + ["x"]
        let root = ParsedMessage(bytes: message(lines)).root
        var depth = 0
        var part = root
        while let inner = part.message {
            depth += 1
            part = inner
        }
        #expect(depth == ParseLimits().maxDepth)
    }

    @Test func partCountIsBounded() {
        var limits = ParseLimits()
        limits.maxParts = 50
        let lines = ["Content-Type: multipart/mixed; boundary=b", ""] + Array(repeating: ["--b", "", "x"], count: 200).flatMap { $0 } + ["--b--", "after"]
        let root = ParsedMessage(bytes: message(lines), limits: limits).root
        #expect(root.parts.count == 49)
        #expect(root.defects == [.tooManyParts])
    }

    @Test func hugeHeaders() {
        var limits = ParseLimits()
        limits.maxHeaderSize = 64 * 1024
        let field = "X-Filler: " + String(repeating: "a", count: 990)
        let lines = Array(repeating: field, count: 200) + ["Subject: last", "", "body"]
        let bytes = message(lines)
        let root = ParsedMessage(bytes: bytes, limits: limits).root
        #expect(root.defects == [.headerTooLong])
        #expect(root.header.fields.count < 200)
        #expect(root.headerLength == bytes.count - 4)
        #expect(root.bodyLength == 4)
        // Within the default limit all 200 fields are kept.
        #expect(ParsedMessage(bytes: bytes).root.header.fields.count == 201)
    }

    /// A file source gives exactly the same tree as memory, including lines longer than
    /// the reader's chunk and a large body that is never held in memory by the parser.
    @Test func fileSourceMatchesMemory() throws {
        var lines = ["Content-Type: multipart/mixed; boundary=big", "", "--big", "Content-Transfer-Encoding: base64", ""]
        lines.append(String(repeating: "QUJD", count: 100_000))  // one 400 kB line, no break
        lines += ["--big", "", String(repeating: "line\r\n", count: 200_000) + "end", "--big--", ""]
        let bytes = message(lines)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tern-mime-\(UUID().uuidString).eml").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try ParsedMessage.parse(FileSource(path: path))
        let fromMemory = ParsedMessage(bytes: bytes)
        #expect(fromFile == fromMemory)
        #expect(fromFile.root.parts[0].bodyLength == 400_000)
        #expect(fromFile.root.parts[1].bodyLines == 200_001)
        #expect(throws: ByteSourceError.self) { try FileSource(path: path + ".missing") }
    }
}

@Suite struct ParsedMessageCodingTests {
    /// The store keeps parsed structures; decoding gives back exactly the same tree.
    @Test func codableRoundTrip() throws {
        let parsed = ParsedMessage(bytes: MIMEParserTests.multipart)
        let data = try JSONEncoder().encode(parsed)
        #expect(try JSONDecoder().decode(ParsedMessage.self, from: data) == parsed)
    }
}

/// Encoded header fields in many charsets, read from a parsed message the way a client does.
@Suite struct EncodedHeaderCorpusTests {
    static let samples: [(charset: String, encoded: String, text: String)] = [
        ("ISO-2022-JP", "=?ISO-2022-JP?B?GyRCN29MPiROJUYlOSVIGyhC?=", "件名のテスト"),
        ("Shift_JIS", "=?Shift_JIS?B?k/qWe4zqgsyMj5a8?=", "日本語の件名"),
        ("EUC-JP", "=?EUC-JP?B?pLOk86TLpMGkzw==?=", "こんにちは"),
        ("KOI8-R", "=?KOI8-R?B?8NLJ18XUIM3J0g==?=", "Привет мир"),
        ("ISO-8859-2", "=?ISO-8859-2?B?UPjtbGm5IL5sdbtvdehr/Q==?=", "Příliš žluťoučký"),
        ("windows-1251", "=?windows-1251?B?x+Tw4OLx8uLz6fLl?=", "Здравствуйте"),
        ("GB2312", "=?GB2312?B?xOO6w8rAvec=?=", "你好世界"),
        ("Big5", "=?Big5?B?wWPF6aSkpOU=?=", "繁體中文"),
        ("EUC-KR", "=?EUC-KR?B?vsiz58fPvLy/5A==?=", "안녕하세요"),
        ("ISO-8859-7", "=?ISO-8859-7?B?yuHr5+zd8eE=?=", "Καλημέρα"),
        ("windows-1256", "=?windows-1256?B?49HNyMc=?=", "مرحبا"),
        ("ISO-8859-8", "=?ISO-8859-8?B?+ezl7Q==?=", "שלום"),
        ("GB18030", "=?GB18030?B?lTKCNrq619Y=?=", "𠀀汉字"),
    ]

    @Test func subjectsAndDisplayNames() throws {
        var lines: [String] = []
        for (index, sample) in Self.samples.enumerated() {
            lines.append("Subject: \(sample.encoded)")
            lines.append("X-From-\(index): \(sample.encoded) <u\(index)@example.org>")
        }
        let header = ParsedMessage(bytes: message(lines + ["", "body"])).header
        let subjects = header.all("Subject").map(EncodedWord.decode)
        #expect(subjects == Self.samples.map(\.text))
        for (index, sample) in Self.samples.enumerated() {
            let value = try #require(header.first("X-From-\(index)"))
            #expect(AddressList.mailboxes(AddressList.parseLenient(value)).first?.displayName == sample.text, "\(sample.charset)")
        }
    }

    /// A folded Subject of two encoded-words, a multi-byte character split between them.
    @Test func foldedSplitCharacter() {
        // "é" is C3 A9 in UTF-8: the first word ends with C3, the second starts with A9.
        let header = ParsedMessage(bytes: message(["Subject: =?UTF-8?Q?caf=C3?=", " =?UTF-8?Q?=A9_cr=C3=A8me?=", "", ""])).header
        #expect(header.first("Subject").map(EncodedWord.decode) == "café crème")
    }
}
