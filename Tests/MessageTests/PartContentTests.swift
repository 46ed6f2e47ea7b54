import Testing

@testable import Message

@Suite struct PartContentTests {
    static let bytes = message([
        "Content-Type: multipart/mixed; boundary=b",
        "",
        "--b",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "caf=E9 cr=E8me=",
        " br=FBl=E9e",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        "w7xiZXIg",
        "TcO8bmNoZW4=",
        "--b",
        "Content-Type: text/plain",
        "",
        "unlabelled but UTF-8: \u{00E9}",
        "--b",
        "Content-Type: text/plain; charset=x-unheard-of",
        "",
        "?",
        "--b--",
    ])

    @Test func decodesTransferEncodingAndCharset() throws {
        let source = MemorySource(Self.bytes)
        let parts = ParsedMessage(bytes: Self.bytes).root.parts
        #expect(try parts[0].rawBody(in: source) == Array("caf=E9 cr=E8me=\r\n br=FBl=E9e".utf8))
        #expect(try parts[0].text(in: source) == "café crème brûlée")
        #expect(try parts[1].decodedBody(in: source) == Array("über München".utf8))
        #expect(try parts[1].text(in: source) == "über München")
        #expect(try parts[2].text(in: source) == "unlabelled but UTF-8: é")
        #expect(throws: PartContentError.charset(.unknown("x-unheard-of"))) { try parts[3].text(in: source) }
    }

    @Test func previewFromPlainText() throws {
        let long = String(repeating: "word ", count: 100)
        let bytes = message(["Subject: x", "", "  First   line\t", "", long])
        let preview = try ParsedMessage(bytes: bytes).preview(in: MemorySource(bytes))
        #expect(preview?.hasPrefix("First line word word") == true)
        #expect(preview?.count == ParsedMessage.previewLength)
    }

    /// RFC 8970: without text/plain, the HTML part reduced to text; attachments are skipped.
    @Test func previewFromHTML() throws {
        let bytes = message([
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain",
            "Content-Disposition: attachment; filename=notes.txt",
            "",
            "not this",
            "--b",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<html><head><title>T</title><style>p { color: red }</style></head>",
            "<body><p>Hello&nbsp;&amp; welcome&#33; &#x263A; &lt;b&gt;</p><script>alert(1)</script>bye</body></html>",
            "--b--",
        ])
        let preview = try ParsedMessage(bytes: bytes).preview(in: MemorySource(bytes))
        #expect(preview == "Hello & welcome! ☺ <b> bye")
    }

    @Test func noPreviewWithoutText() throws {
        let bytes = message(["Content-Type: image/png", "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo="])
        #expect(try ParsedMessage(bytes: bytes).preview(in: MemorySource(bytes)) == nil)
    }

    /// Only the start of a huge text part is read; a character cut at the read limit is
    /// dropped rather than shown as U+FFFD.
    @Test func previewOfHugePartReadsOnlyItsStart() throws {
        let body = String(repeating: "é", count: ParsedMessage.previewReadLimit)  // two octets each
        let bytes = message(["Content-Type: text/plain; charset=utf-8", "", " " + body])
        let preview = try ParsedMessage(bytes: bytes).preview(in: MemorySource(bytes))
        #expect(preview == String(repeating: "é", count: ParsedMessage.previewLength))
    }
}
