import XCTest

@testable import IMAP

final class FetchEncoderTests: XCTestCase {
    func fetch(_ n: UInt32, _ attributes: [MessageAttribute], _ options: EncodingOptions = .imap4rev2) -> String {
        encoded(.untagged(.fetch(FetchResponse(n, attributes))), options)
    }

    let textPlain = BodyStructure.singlePart(SinglePartBody(
        type: "TEXT", subtype: "PLAIN",
        fields: BodyFields(parameters: [BodyParameter("CHARSET", "US-ASCII")], encoding: "7BIT", octets: 3028),
        kind: .text(lines: 92)))

    func testRFC9051SampleFetchFull() {
        // RFC 9051 §8, `a003 fetch 12 full`; addresses in a list follow each other without a
        // space (RFC 9051 §9 `env-cc = "(" 1*address ")"`).
        let gray = Address(name: "Terry Gray", mailbox: "gray", host: "cac.washington.edu")
        let envelope = Envelope(
            date: "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
            subject: "IMAP4rev2 WG mtg summary and minutes",
            from: [gray], sender: [gray], replyTo: [gray],
            to: [Address(mailbox: "imap", host: "cac.washington.edu")],
            cc: [Address(mailbox: "minutes", host: "CNRI.Reston.VA.US"), Address(name: "John Klensin", mailbox: "KLENSIN", host: "MIT.EDU")],
            messageID: "<B27397-0100000@cac.washington.ed>")
        let expected = "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE ("
            + "\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg summary and minutes\" "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
            + "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) "
            + "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
            + "\"<B27397-0100000@cac.washington.ed>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n"
        XCTAssertEqual(fetch(12, [.flags([.seen]), .internalDate(dateTime(1996, 7, 17, 2, 44, 25, zone: -420)), .rfc822Size(4286),
                                  .envelope(envelope), .body(textPlain)]), expected)
    }

    func testRFC9051SampleBodyHeader() {
        let header = wire("""
            Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
            From: Terry Gray <gray@cac.washington.edu>
            Subject: IMAP4rev2 WG mtg summary and minutes
            To: imap@cac.washington.edu
            cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
            Message-Id: <B27397-0100000@cac.washington.edu>
            MIME-Version: 1.0
            Content-Type: TEXT/PLAIN; CHARSET=US-ASCII


            """)
        XCTAssertEqual(header.count, 342)
        XCTAssertEqual(fetch(12, [.bodySection(.header, origin: nil, data: header)]),
                       "* 12 FETCH (BODY[HEADER] {342}\r\n" + String(decoding: header, as: UTF8.self) + ")\r\n")
        XCTAssertEqual(fetch(12, [.flags([.seen, .deleted])]), "* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n")
        XCTAssertEqual(fetch(23, [.flags([.seen]), .rfc822Size(44827), .uid(447)]), "* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827 UID 447)\r\n")
        XCTAssertEqual(fetch(14, [.uid(1305), .flags([.seen, .deleted])]), "* 14 FETCH (UID 1305 FLAGS (\\Seen \\Deleted))\r\n")
    }

    func testRFC9051BodyStructureExamples() {
        // RFC 9051 §7.5.2.
        let simple = BodyStructure.singlePart(SinglePartBody(type: "TEXT", subtype: "PLAIN",
                                                             fields: BodyFields(parameters: [BodyParameter("CHARSET", "US-ASCII")], octets: 2279),
                                                             kind: .text(lines: 48)))
        XCTAssertEqual(fetch(1, [.bodyStructure(simple)]), "* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 2279 48))\r\n")
        let twoPart = BodyStructure.multipart(MultipartBody(parts: [
            .singlePart(SinglePartBody(type: "TEXT", subtype: "PLAIN", fields: BodyFields(parameters: [BodyParameter("CHARSET", "US-ASCII")], octets: 1152),
                                       kind: .text(lines: 23))),
            .singlePart(SinglePartBody(type: "TEXT", subtype: "PLAIN",
                                       fields: BodyFields(parameters: [BodyParameter("CHARSET", "US-ASCII"), BodyParameter("NAME", "cc.diff")],
                                                          id: "<960723163407.20117h@cac.washington.edu>", description: "Compiler diff",
                                                          encoding: "BASE64", octets: 4554),
                                       kind: .text(lines: 73))),
        ], subtype: "MIXED"))
        XCTAssertEqual(fetch(1, [.bodyStructure(twoPart)]),
                       "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
                           + "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" "
                           + "\"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\"))\r\n")
    }

    func testExtensionDataAndNestedMessages() {
        let attachment = BodyStructure.singlePart(SinglePartBody(
            type: "APPLICATION", subtype: "PDF",
            fields: BodyFields(encoding: "BASE64", octets: 1000),
            extensionData: SinglePartExtension(md5: nil, disposition: BodyDisposition("attachment", parameters: [BodyParameter("filename", "a.pdf")]),
                                               language: ["en", "de"], location: nil)))
        let inner = BodyStructure.singlePart(SinglePartBody(type: "TEXT", subtype: "PLAIN", fields: BodyFields(octets: 10), kind: .text(lines: 1),
                                                            extensionData: SinglePartExtension(md5: "Q2hlY2sgSW50ZWdyaXR5IQ==", language: ["en"])))
        let forwarded = BodyStructure.singlePart(SinglePartBody(
            type: "MESSAGE", subtype: "RFC822", fields: BodyFields(encoding: "7BIT", octets: 500),
            kind: .message(Envelope(subject: "fwd"), inner, lines: 12)))
        let mixed = BodyStructure.multipart(MultipartBody(
            parts: [attachment, forwarded], subtype: "MIXED",
            extensionData: MultipartExtension(parameters: [BodyParameter("BOUNDARY", "xyz")], location: "http://example.com/")))
        let envelope = "(NIL \"fwd\" NIL NIL NIL NIL NIL NIL NIL NIL)"
        XCTAssertEqual(fetch(2, [.bodyStructure(mixed)]),
                       "* 2 FETCH (BODYSTRUCTURE ((\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 1000 NIL (\"attachment\" (\"filename\" \"a.pdf\")) (\"en\" \"de\") NIL)"
                           + "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 500 \(envelope) "
                           + "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" NIL \"en\" NIL) 12) "
                           + "\"MIXED\" (\"BOUNDARY\" \"xyz\") NIL NIL \"http://example.com/\"))\r\n")
        // BODY leaves all extension data out, also in nested parts.
        XCTAssertEqual(fetch(2, [.body(mixed)]),
                       "* 2 FETCH (BODY ((\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 1000)"
                           + "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 500 \(envelope) (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1) 12) \"MIXED\"))\r\n")
    }

    func testEnvelopeStrings() {
        // Group syntax, 8-bit and line breaks in header values.
        let envelope = Envelope(subject: ByteString([0x48, 0xE9]), to: [.groupStart("undisclosed-recipients"), .groupEnd], inReplyTo: "",
                                messageID: "<a\r\n b@c>")
        XCTAssertEqual(fetch(3, [.envelope(envelope)]),
                       "* 3 FETCH (ENVELOPE (NIL {2}\r\nH\u{FFFD} NIL NIL NIL ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) NIL NIL \"\" {9}\r\n<a\r\n b@c>))\r\n",
                       "the Latin-1 octet goes in a literal (shown here decoded as U+FFFD)")
        let subject = Envelope(subject: "Grüße")
        XCTAssertEqual(fetch(3, [.envelope(subject)], .imap4rev2), "* 3 FETCH (ENVELOPE (NIL \"Grüße\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
        XCTAssertEqual(fetch(3, [.envelope(subject)], .imap4rev1), "* 3 FETCH (ENVELOPE (NIL {7}\r\nGrüße NIL NIL NIL NIL NIL NIL NIL NIL))\r\n")
    }

    func testOtherAttributes() {
        // RFC 7162 §3.2.5.1 and §3.1.4.1.
        XCTAssertEqual(fetch(49, [.uid(117), .flags([.seen, .answered]), .modSeq(90_060_115_194_045_001)]),
                       "* 49 FETCH (UID 117 FLAGS (\\Seen \\Answered) MODSEQ (90060115194045001))\r\n")
        XCTAssertEqual(fetch(4, [.uid(408), .modSeq(29738), .flags([flag("$NoJunk"), flag("$AutoJunk"), .mdnSent])]),
                       "* 4 FETCH (UID 408 MODSEQ (29738) FLAGS ($NoJunk $AutoJunk $MDNSent))\r\n")
        XCTAssertEqual(fetch(1, [.flags([.seen, .recent])]), "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n")
        XCTAssertEqual(fetch(1, [.bodySection(SectionSpec(text: .headerFields(["DATE", "FROM", "X Y"])), origin: nil, data: Array("Date: x\r\n\r\n".utf8))]),
                       "* 1 FETCH (BODY[HEADER.FIELDS (DATE FROM \"X Y\")] {11}\r\nDate: x\r\n\r\n)\r\n")
        XCTAssertEqual(fetch(1, [.bodySection(SectionSpec(part: [4, 2], text: .headerFieldsNot(["Received"])), origin: nil, data: nil)]),
                       "* 1 FETCH (BODY[4.2.HEADER.FIELDS.NOT (Received)] NIL)\r\n")
        XCTAssertEqual(fetch(1, [.bodySection(SectionSpec(part: [1, 2]), origin: 0, data: Array("hello".utf8))]), "* 1 FETCH (BODY[1.2]<0> \"hello\")\r\n")
        XCTAssertEqual(fetch(1, [.bodySection(SectionSpec(part: [4, 1], text: .mime), origin: nil, data: [])]), "* 1 FETCH (BODY[4.1.MIME] \"\")\r\n")
        XCTAssertEqual(fetch(1, [.bodySection(.text, origin: 100, data: [])]), "* 1 FETCH (BODY[TEXT]<100> \"\")\r\n")
        // RFC 3516 §4.3 / RFC 9051 §7.5.2: NUL needs literal8; otherwise a string.
        XCTAssertEqual(fetch(1, [.binary(part: [1], origin: nil, data: [0x61, 0x00, 0x62])]), "* 1 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n")
        XCTAssertEqual(fetch(1, [.binary(part: [1, 2], origin: 10, data: Array("été".utf8))], .imap4rev1), "* 1 FETCH (BINARY[1.2]<10> {5}\r\nété)\r\n")
        XCTAssertEqual(fetch(1, [.binary(part: [], origin: nil, data: nil)]), "* 1 FETCH (BINARY[] NIL)\r\n")
        XCTAssertEqual(fetch(1, [.binarySize(part: [2], size: 4096)]), "* 1 FETCH (BINARY.SIZE[2] 4096)\r\n")
        XCTAssertEqual(fetch(1, [.rfc822(Array("a".utf8)), .rfc822Header(nil), .rfc822Text(Array("b\r\n".utf8))]),
                       "* 1 FETCH (RFC822 \"a\" RFC822.HEADER NIL RFC822.TEXT {3}\r\nb\r\n)\r\n")
        // RFC 8514, RFC 8970, RFC 8474.
        XCTAssertEqual(fetch(1, [.saveDate(dateTime(2020, 1, 2, 3, 4, 5, zone: 0)), .saveDate(nil)]),
                       "* 1 FETCH (SAVEDATE \"02-Jan-2020 03:04:05 +0000\" SAVEDATE NIL)\r\n")
        XCTAssertEqual(fetch(1, [.preview("Hello world"), .preview(nil)]), "* 1 FETCH (PREVIEW \"Hello world\" PREVIEW NIL)\r\n")
        XCTAssertEqual(fetch(1, [.emailID("M6d99ac3275bb4e"), .threadID("T64b478a75b7ea9"), .threadID(nil)]),
                       "* 1 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9) THREADID NIL)\r\n")
        XCTAssertEqual(fetch(1, []), "", "a FETCH without items has no valid form")
    }

    func testStreamedBody() {
        let encoder = ResponseEncoder(options: .imap4rev2)
        var builder = FetchResponseBuilder(sequenceNumber: 12, encoder: encoder)
        builder.append(.uid(4827))
        let prefix = builder.takeBytes(announcing: .bodySection(.whole, origin: nil), size: 20_000_000)
        XCTAssertEqual(String(decoding: prefix, as: UTF8.self), "* 12 FETCH (UID 4827 BODY[] {20000000}\r\n")
        builder.append(.flags([.seen]))
        XCTAssertEqual(String(decoding: builder.finish(), as: UTF8.self), " FLAGS (\\Seen))\r\n")

        var first = FetchResponseBuilder(sequenceNumber: 1, encoder: encoder)
        XCTAssertEqual(String(decoding: first.takeBytes(announcing: .binary(part: [2], origin: 0, containsNUL: true), size: 5), as: UTF8.self),
                       "* 1 FETCH (BINARY[2]<0> ~{5}\r\n")
        XCTAssertEqual(String(decoding: first.takeBytes(announcing: .rfc822Text, size: 3), as: UTF8.self), " RFC822.TEXT {3}\r\n")
        XCTAssertEqual(String(decoding: first.finish(), as: UTF8.self), ")\r\n")

        // The same response built whole and streamed is identical.
        let body = Array("Subject: x\r\n\r\nhi\r\n".utf8)
        let whole = encoder.encode(.untagged(.fetch(FetchResponse(7, [.uid(1), .bodySection(.whole, origin: nil, data: body), .flags([])]))))
        var streamed = FetchResponseBuilder(sequenceNumber: 7, encoder: encoder)
        streamed.append(.uid(1))
        var bytes = streamed.takeBytes(announcing: .bodySection(.whole, origin: nil), size: body.count)
        bytes += body
        streamed.append(.flags([]))
        bytes += streamed.finish()
        XCTAssertEqual(bytes, whole)
    }

    func testEncodeIntoBuffer() {
        let encoder = ResponseEncoder(options: .imap4rev2)
        var buffer = Array("* 1 EXISTS\r\n".utf8)
        encoder.encode(.untagged(.recent(0)), into: &buffer)
        encoder.encode(.tagged(tag("a"), .ok("done")), into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "* 1 EXISTS\r\n* 0 RECENT\r\na OK done\r\n")
    }
}
