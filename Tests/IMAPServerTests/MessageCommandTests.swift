import Foundation
import IMAP
@testable import IMAPServer
import Store
import Testing

let multipartMessage = """
    From: =?UTF-8?Q?J=C3=B6rg?= <jorg@example.org>
    To: undisclosed-recipients:;
    Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=
    Date: Fri, 2 Jan 2026 12:00:00 +0000
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="b1"

    preamble
    --b1
    Content-Type: text/plain; charset=utf-8
    Content-Transfer-Encoding: quoted-printable

    Caf=C3=A9 au lait, s'il vous pla=C3=AEt.
    --b1
    Content-Type: application/octet-stream; name="data.bin"
    Content-Disposition: attachment; filename="data.bin"
    Content-Transfer-Encoding: base64

    AAECAw==
    --b1
    Content-Type: text/html; charset=utf-8
    Content-Transfer-Encoding: base64

    PHA+U2VjcmV0IHdvcmQ6IHplcHB5cjwvcD4=
    --b1--

    """

@Suite struct MessageCommandTests {
    @Test func appendSelectFetch() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        let message = String(decoding: wire(sampleMessage), as: UTF8.self)
        #expect(try await client.send("a APPEND INBOX (\\Seen $Work) \"01-Jan-2026 12:00:00 +0000\" {\(message.utf8.count)}\n") == "+ Ready for literal data\n")
        #expect(try await client.sendBytes(Array(message.utf8) + wire("\n")).hasPrefix("a OK [APPENDUID "))
        #expect(try await client.send("b APPEND nothing {3}\n") == "b NO [TRYCREATE] no such mailbox\n")
        // MULTIAPPEND with LITERAL+.
        let answer = try await client.send("c APPEND INBOX {5+}\nhello (\\Flagged) {5+}\nworld\n")
        #expect(answer.hasPrefix("c OK [APPENDUID ") && answer.hasSuffix(" 2:3] APPEND completed\n"))
        // RFC 7889: over the limit, before the client sends the message.
        #expect(try await client.send("d APPEND INBOX {60000000}\n") == "d NO [TOOBIG] message too large (more than 52428800 octets)\n")

        let select = try await client.send("e SELECT INBOX\n")
        let validity = try #require(select.split(separator: "\n").first { $0.contains("UIDVALIDITY") }.flatMap { $0.split(separator: " ")[3].dropLast() })
        #expect(select == """
            * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)
            * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] flags that can be changed permanently
            * 3 EXISTS
            * 3 RECENT
            * OK [UNSEEN 2] first unseen
            * OK [UIDVALIDITY \(validity)] UIDs valid
            * OK [UIDNEXT 4] predicted next UID
            * OK [HIGHESTMODSEQ 10] highest mod-sequence
            * OK [MAILBOXID (M1)] mailbox id
            e OK [READ-WRITE] SELECT completed

            """)
        #expect(try await client.send("f FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)\n") == """
            * 1 FETCH (UID 1 FLAGS (\\Seen \\Recent $Work) RFC822.SIZE \(message.utf8.count) INTERNALDATE "01-Jan-2026 12:00:00 +0000")
            * 2 FETCH (UID 2 FLAGS (\\Recent) RFC822.SIZE 5 INTERNALDATE "01-Jan-2026 00:00:03 +0000")
            * 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent) RFC822.SIZE 5 INTERNALDATE "01-Jan-2026 00:00:04 +0000")
            f OK FETCH completed

            """)
        #expect(try await client.send("g FETCH 1 (ENVELOPE BODYSTRUCTURE)\n") == """
            * 1 FETCH (ENVELOPE ("Thu, 1 Jan 2026 10:00:00 +0100" "Hello there" (("Alice Example" NIL "alice" "example.org")) (("Alice Example" NIL "alice" "example.org")) (("Alice Example" NIL "alice" "example.org")) (("Bob" NIL "bob" "example.com")(NIL NIL "carol" "example.net")) NIL NIL NIL "<m1@example.org>") BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 26 2 NIL NIL NIL NIL))
            g OK FETCH completed

            """)
        #expect(try await client.send("h FETCH 2 BODY[]\n") == "* 2 FETCH (BODY[] \"hello\" FLAGS (\\Seen \\Recent))\nh OK FETCH completed\n")
        #expect(try await client.send("i UID FETCH 3 (BODY.PEEK[]<1.3> FLAGS)\n") == "* 3 FETCH (UID 3 BODY[]<1> \"orl\" FLAGS (\\Flagged \\Recent))\ni OK FETCH completed\n")
        #expect(try await client.send("j FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT message-id)])\n") == """
            * 1 FETCH (BODY[HEADER.FIELDS (SUBJECT message-id)] {54}
            Subject: Hello there
            Message-ID: <m1@example.org>

            )
            j OK FETCH completed

            """)
        #expect(try await client.send("k FETCH 4 FLAGS\n") == "k BAD message sequence number 4 does not exist (3 messages)\n")
        #expect(try await client.send("l UID FETCH 4:* FLAGS\n") == "* 3 FETCH (UID 3 FLAGS (\\Flagged \\Recent))\nl OK FETCH completed\n")
    }

    @Test func fetchSectionsOfMultipart() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(multipartMessage)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a FETCH 1 (ENVELOPE)\n") == """
            * 1 FETCH (ENVELOPE ("Fri, 2 Jan 2026 12:00:00 +0000" "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=" (("=?UTF-8?B?SsO2cmc=?=" NIL "jorg" "example.org")) (("=?UTF-8?B?SsO2cmc=?=" NIL "jorg" "example.org")) (("=?UTF-8?B?SsO2cmc=?=" NIL "jorg" "example.org")) ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))
            a OK FETCH completed

            """)
        #expect(try await client.send("b FETCH 1 (BODYSTRUCTURE)\n") == """
            * 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 40 1 NIL NIL NIL NIL)("APPLICATION" "OCTET-STREAM" ("NAME" "data.bin") NIL NIL "BASE64" 8 NIL ("ATTACHMENT" ("FILENAME" "data.bin")) NIL NIL)("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "BASE64" 36 1 NIL NIL NIL NIL) "MIXED" ("BOUNDARY" "b1") NIL NIL NIL))
            b OK FETCH completed

            """)
        #expect(try await client.send("c FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[1] BINARY.SIZE[2])\n") == """
            * 1 FETCH (BODY[1] "Caf=C3=A9 au lait, s'il vous pla=C3=AEt." BODY[2.MIME] {148}
            Content-Type: application/octet-stream; name="data.bin"
            Content-Disposition: attachment; filename="data.bin"
            Content-Transfer-Encoding: base64

             BINARY[1] {32}
            Café au lait, s'il vous plaît. BINARY.SIZE[2] 4)
            c OK FETCH completed

            """)
        #expect(try await client.send("d FETCH 1 (BINARY.PEEK[2])\n") == "* 1 FETCH (BINARY[2] ~{4}\n\u{0}\u{1}\u{2}\u{3})\nd OK FETCH completed\n")
        #expect(try await client.send("e FETCH 1 (BODY.PEEK[9] PREVIEW)\n") == "* 1 FETCH (BODY[9] \"\" PREVIEW {32}\nCafé au lait, s'il vous plaît.)\ne OK FETCH completed\n")
    }

    @Test func storeExpungeCopyMove() async throws {
        let fixture = try await Fixture.make()
        for _ in 0..<4 { try await fixture.deliver(sampleMessage) }
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a STORE 1:2 +FLAGS (\\Deleted)\n") == "* 1 FETCH (FLAGS (\\Deleted \\Recent))\n* 2 FETCH (FLAGS (\\Deleted \\Recent))\na OK STORE completed\n")
        #expect(try await client.send("b UID STORE 3 +FLAGS.SILENT (\\Answered $Label)\n") == "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label)\n* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label \\*)] flags that can be changed permanently\nb OK STORE completed\n")
        #expect(try await client.send("c UID EXPUNGE 2\n") == "* 2 EXPUNGE\nc OK UID EXPUNGE completed\n")
        #expect(try await client.send("d EXPUNGE\n") == "* 1 EXPUNGE\nd OK EXPUNGE completed\n")
        #expect(try await client.send("e FETCH 1:* (UID FLAGS)\n") == "* 1 FETCH (UID 3 FLAGS (\\Answered \\Recent $Label))\n* 2 FETCH (UID 4 FLAGS (\\Recent))\ne OK FETCH completed\n")
        let copy = try await client.send("f COPY 1:2 Archive\n")
        #expect(copy.hasPrefix("f OK [COPYUID ") && copy.hasSuffix(" 3:4 1:2] COPY completed\n"))
        #expect(try await client.send("g COPY 1 nothing\n") == "g NO [TRYCREATE] no such mailbox\n")
        let move = try await client.send("h UID MOVE 4 Trash\n")
        #expect(move.hasPrefix("* OK [COPYUID ") && move.hasSuffix(" 4 1] moved\n* 2 EXPUNGE\nh OK MOVE completed\n"))
        #expect(try await client.send("i STATUS Archive (MESSAGES)\n") == "* STATUS Archive (MESSAGES 2)\ni OK STATUS completed\n")
        // Into the selected mailbox itself: a new UID, the old one expunged.
        let within = try await client.send("i2 MOVE 1 INBOX\n")
        #expect(within.hasPrefix("* OK [COPYUID ") && within.hasSuffix(" 3 5] moved\n* 1 EXPUNGE\n* 1 EXISTS\n* 1 RECENT\ni2 OK MOVE completed\n"), "\(within)")
        #expect(try await client.send("i3 FETCH 1 (UID FLAGS)\n") == "* 1 FETCH (UID 5 FLAGS (\\Answered \\Recent $Label))\ni3 OK FETCH completed\n")
        #expect(try await client.send("j CLOSE\n") == "j OK CLOSE completed\n")
        #expect(try await client.send("k FETCH 1 FLAGS\n") == "k BAD no mailbox selected\n")
        // The copies are recent: no session has selected Archive (EXAMINE does not take them).
        #expect(try await client.send("l EXAMINE Archive\n").contains("l OK [READ-ONLY] EXAMINE completed\n"))
        #expect(try await client.send("m STORE 1 +FLAGS (\\Seen)\n") == "m NO [READ-ONLY] mailbox is read-only\n")
        #expect(try await client.send("n FETCH 1 BODY[TEXT]\n").contains("n OK FETCH completed"))
        #expect(try await client.send("o FETCH 1 FLAGS\n") == "* 1 FETCH (FLAGS (\\Answered \\Recent $Label))\no OK FETCH completed\n")
        #expect(try await client.send("p UNSELECT\n") == "p OK UNSELECT completed\n")
    }

    /// RFC 4731 §3.2 (RFC 7162 §3.1.5): MODSEQ goes with the message MIN or MAX returns
    /// alone, the higher of the two for both, else the highest of all found.
    @Test func esearchModSeqFollowsTheReturnedMessages() async throws {
        let fixture = try await Fixture.make()
        for _ in 0..<3 { try await fixture.deliver(sampleMessage) }
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        _ = try await client.send("e ENABLE CONDSTORE\n")
        try await client.select()
        // Changed in the order 1, 3, 2: mod-sequences 11, 12, 13 (10 after the deliveries).
        for number in [1, 3, 2] { _ = try await client.send("s STORE \(number) +FLAGS.SILENT (\\Flagged)\n") }
        let search = "SEARCH RETURN"
        let key = "MODSEQ \"/flags/\\\\flagged\" all 1"
        #expect(try await client.send("a \(search) (MIN) \(key)\n") == "* ESEARCH (TAG \"a\") MIN 1 MODSEQ 11\na OK SEARCH completed\n")
        #expect(try await client.send("b \(search) (MAX) \(key)\n") == "* ESEARCH (TAG \"b\") MAX 3 MODSEQ 12\nb OK SEARCH completed\n")
        #expect(try await client.send("c \(search) (MIN MAX) \(key)\n") == "* ESEARCH (TAG \"c\") MIN 1 MAX 3 MODSEQ 12\nc OK SEARCH completed\n")
        #expect(try await client.send("d \(search) (MIN COUNT) \(key)\n") == "* ESEARCH (TAG \"d\") MIN 1 COUNT 3 MODSEQ 13\nd OK SEARCH completed\n")
        #expect(try await client.send("f \(search) () \(key)\n") == "* ESEARCH (TAG \"f\") ALL 1:3 MODSEQ 13\nf OK SEARCH completed\n")
        #expect(try await client.send("g \(search) (MIN) MODSEQ 99\n") == "* ESEARCH (TAG \"g\")\ng OK SEARCH completed\n")
    }

    /// RFC 9051 §6.4.4: FROM/TO/CC/BCC match the envelope's addresses, so comments and
    /// spaces inside an address do not hide it; the field's text still matches as written.
    @Test func addressSearchMatchesTheEnvelopeAddress() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver("From: <user-from (comment)@ (comment) domain.org>\nTo: Team: \"Ann B.\" <ann (x) @b.example>;\nSubject: s\n\nbody\n")
        try await fixture.deliver("From: other@domain.org\nCc: =?UTF-8?Q?J=C3=B6rg?= <jorg@c.example>\nSubject: s\n\nbody\n")
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a SEARCH FROM user-from@domain.org\n") == "* SEARCH 1\na OK SEARCH completed\n")
        #expect(try await client.send("b SEARCH FROM \"(comment)\"\n") == "* SEARCH 1\nb OK SEARCH completed\n")
        #expect(try await client.send("c SEARCH FROM @domain.org\n") == "* SEARCH 1 2\nc OK SEARCH completed\n")
        #expect(try await client.send("d SEARCH TO ann@b.example\n") == "* SEARCH 1\nd OK SEARCH completed\n")
        #expect(try await client.send("e SEARCH TO \"ann b.\"\n") == "* SEARCH 1\ne OK SEARCH completed\n")
        #expect(try await client.sendBytes(wire("g SEARCH CHARSET UTF-8 CC {5+}\n") + Array("jörg".utf8) + wire("\n")) == "* SEARCH 2\ng OK SEARCH completed\n")
        #expect(try await client.send("h SEARCH BCC jorg\n") == "* SEARCH\nh OK SEARCH completed\n")
    }

    /// APPEND's date keeps its zone (RFC 9051 §2.3.3): FETCH shows it as written, COPY
    /// keeps it, and SEARCH BEFORE/ON/SINCE take the day in that zone, "disregarding time and
    /// timezone" (§6.4.4), not the day in UTC.
    @Test func internalDateKeepsItsZone() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        for date in ["24-Mar-2007 23:00:00 +0200", "25-Mar-2007 01:00:00 +0200", "24-Mar-2007 23:30:00 -0500"] {
            #expect(try await client.send("a APPEND INBOX \"\(date)\" {5+}\nhello\n").hasPrefix("a OK [APPENDUID "))
        }
        try await client.select()
        #expect(try await client.send("b FETCH 1:3 INTERNALDATE\n") == """
            * 1 FETCH (INTERNALDATE "24-Mar-2007 23:00:00 +0200")
            * 2 FETCH (INTERNALDATE "25-Mar-2007 01:00:00 +0200")
            * 3 FETCH (INTERNALDATE "24-Mar-2007 23:30:00 -0500")
            b OK FETCH completed

            """)
        #expect(try await client.send("c SEARCH BEFORE 25-Mar-2007\n") == "* SEARCH 1 3\nc OK SEARCH completed\n")
        #expect(try await client.send("d SEARCH ON 25-Mar-2007\n") == "* SEARCH 2\nd OK SEARCH completed\n")
        #expect(try await client.send("e SEARCH SINCE 25-Mar-2007\n") == "* SEARCH 2\ne OK SEARCH completed\n")
        _ = try await client.send("f COPY 2 Archive\n")
        #expect(try await client.send("g EXAMINE Archive\n").contains("g OK [READ-ONLY]"))
        #expect(try await client.send("h FETCH 1 INTERNALDATE\n") == "* 1 FETCH (INTERNALDATE \"25-Mar-2007 01:00:00 +0200\")\nh OK FETCH completed\n")
    }

    @Test func search() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        try await fixture.deliver(multipartMessage)
        try await fixture.deliver(sampleMessage.replacingOccurrences(of: "Hello there", with: "Other"))
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a SEARCH ALL\n") == "* SEARCH 1 2 3\na OK SEARCH completed\n")
        #expect(try await client.send("b SEARCH SUBJECT hello\n") == "* SEARCH 1\nb OK SEARCH completed\n")
        // RFC 2047 in headers, quoted-printable and base64 in bodies are decoded first.
        #expect(try await client.send("c SEARCH SUBJECT \"grüße\"\n") == "* SEARCH 2\nc OK SEARCH completed\n")
        #expect(try await client.send("d SEARCH BODY \"café\"\n") == "* SEARCH 2\nd OK SEARCH completed\n")
        #expect(try await client.send("e SEARCH BODY zeppyr\n") == "* SEARCH 2\ne OK SEARCH completed\n")
        #expect(try await client.send("f SEARCH TEXT \"jörg\"\n") == "* SEARCH 2\nf OK SEARCH completed\n")
        #expect(try await client.send("g UID SEARCH NOT FROM alice\n") == "* SEARCH 2\ng OK SEARCH completed\n")
        #expect(try await client.send("h SEARCH OR SUBJECT other SENTON 2-Jan-2026\n") == "* SEARCH 2 3\nh OK SEARCH completed\n")
        #expect(try await client.send("i SEARCH SENTBEFORE 2-Jan-2026 LARGER 100\n") == "* SEARCH 1 3\ni OK SEARCH completed\n")
        #expect(try await client.send("j SEARCH HEADER Message-ID \"\" 2:*\n") == "* SEARCH 3\nj OK SEARCH completed\n")
        #expect(try await client.sendBytes(wire("k SEARCH CHARSET ISO-8859-1 BODY {4+}\n") + [0x63, 0x61, 0x66, 0xE9] + wire("\n")) == "* SEARCH 2\nk OK SEARCH completed\n")
        #expect(try await client.send("l SEARCH CHARSET X-NONE BODY x\n") == "l NO [BADCHARSET (UTF-8 US-ASCII)] charset not supported\n")
        // RFC 4731 ESEARCH and RFC 5182 SEARCHRES.
        #expect(try await client.send("m SEARCH RETURN (MIN MAX COUNT ALL) FROM alice\n") == "* ESEARCH (TAG \"m\") MIN 1 MAX 3 COUNT 2 ALL 1,3\nm OK SEARCH completed\n")
        #expect(try await client.send("n UID SEARCH RETURN (SAVE) FROM alice\n") == "n OK SEARCH completed\n")
        #expect(try await client.send("o FETCH $ (UID)\n") == "* 1 FETCH (UID 1)\n* 3 FETCH (UID 3)\no OK FETCH completed\n")
        #expect(try await client.send("p SEARCH YOUNGER 100000000 OLDER 10 NOT SEEN UNKEYWORD $x SINCE 1-Jan-2026 BEFORE 2-Jan-2026 ON 1-Jan-2026 MODSEQ 1\n") == "* OK [HIGHESTMODSEQ 10] highest mod-sequence\n* SEARCH 1 2 3 (MODSEQ 10)\np OK SEARCH completed\n")
        // RFC 7162 §3.1: from now on every FETCH response carries MODSEQ.
        #expect(try await client.send("q FETCH 1 (FLAGS)\n") == "* 1 FETCH (FLAGS (\\Recent) MODSEQ (8))\nq OK FETCH completed\n")
    }

    /// FETCH, body SEARCH and SORT read a mailbox in batches, the next one read while the
    /// current one is handled: every message comes once, in order, across the boundary, and
    /// a FETCH that must stop in a later batch stops there.
    @Test func commandsReadAcrossBatches() async throws {
        let fixture = try await Fixture.make()
        let account = try fixture.account
        let inbox = try #require(try await account.mailboxID(named: "INBOX"))
        let count = IMAPSession.fetchBatch + 20
        for n in 1...count {
            let marked = n == 10 || n == count - 5
            let encoding = n == count - 2 ? "Content-Transfer-Encoding: x-unknown\n" : ""
            let text = "From: a@example.com\nSubject: \(String(format: "%03d", count + 1 - n))\n\(encoding)\n\(marked ? "the marker word" : "plain")\n"
            _ = try await account.append(to: inbox, .bytes(wire(text)))
        }
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        _ = try await client.send("a SELECT INBOX\n")
        let fetched = try await client.send("b FETCH 1:* (UID ENVELOPE)\n").split(separator: "\n")
        let numbers = fetched.filter { $0.hasPrefix("* ") }.map { Int($0.split(separator: " ")[1])! }
        #expect(numbers == Array(1...count))
        #expect(fetched.last == "b OK FETCH completed")
        #expect(try await client.send("c SEARCH BODY marker\n") == "* SEARCH 10 \(count - 5)\nc OK SEARCH completed\n")
        let sorted = try await client.send("d SORT (SUBJECT) UTF-8 ALL\n")
        #expect(sorted == "* SORT " + (1...count).reversed().map(String.init).joined(separator: " ") + "\nd OK SORT completed\n")
        // BINARY of an unknown transfer encoding ends the FETCH in the second batch, after
        // the messages before it.
        let stopped = try await client.send("e FETCH 1:* (BINARY.SIZE[1])\n").split(separator: "\n")
        #expect(stopped.filter { $0.hasPrefix("* ") }.count == count - 3)
        #expect(stopped.last?.hasPrefix("e NO [UNKNOWN-CTE]") == true)
    }
}

@Suite struct MessageEdgeTests {
    /// A large body is streamed from the file as one literal, byte for byte, and partial
    /// fetches cut it exactly.
    @Test func largeMessageStreams() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        var message = Array("Subject: big\r\n\r\n".utf8)
        for line in 0..<4000 { message += Array("line \(line) of a long message body\r\n".utf8) }
        let answer = try await client.sendBytes(wire("a APPEND INBOX {\(message.count)+}\n") + message + wire("\n"))
        #expect(answer.hasPrefix("a OK [APPENDUID "))
        // Nothing stays behind in the store's tmp directory.
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.store.temporaryDirectory).isEmpty)
        try await client.select()
        let fetched = try await client.send("b FETCH 1 BODY.PEEK[]\n")
        #expect(fetched == "* 1 FETCH (BODY[] {\(message.count)}\n" + String(decoding: message, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n") + ")\nb OK FETCH completed\n")
        let partial = try await client.send("c FETCH 1 BODY.PEEK[TEXT]<20000.30000>\n")
        let text = Array(message[16...])
        #expect(partial == "* 1 FETCH (BODY[TEXT]<20000> {30000}\n" + String(decoding: text[20000..<50000], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n") + ")\nc OK FETCH completed\n")
        #expect(try await client.send("d FETCH 1 BODY.PEEK[]<99999999.10>\n") == "* 1 FETCH (BODY[]<99999999> \"\")\nd OK FETCH completed\n")
    }

    /// A MULTIAPPEND whose small messages outgrow the memory budget: the first ones are kept
    /// in memory, the rest written to files in tmp; each is stored byte for byte, in order,
    /// and no file stays behind.
    @Test func multiAppendBeyondTheMemoryBudget() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        let size = Int(PendingAppend.memoryMessageLimit)
        let count = Int(PendingAppend.memoryBudget) / size + 2
        let messages = (0..<count).map { index -> [UInt8] in
            let head = Array("Subject: part \(index)\r\n\r\n".utf8)
            return head + [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: size - head.count - 2) + wire("\n")
        }
        var command = wire("a APPEND INBOX")
        for message in messages { command += wire(" {\(message.count)+}\n") + message }
        let answer = try await client.sendBytes(command + wire("\n"))
        #expect(answer.hasPrefix("a OK [APPENDUID ") && answer.hasSuffix(" 1:\(count)] APPEND completed\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.store.temporaryDirectory).isEmpty)
        try await client.select()
        for index in [0, count - 2, count - 1] {
            let text = String(decoding: messages[index], as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
            #expect(try await client.send("b FETCH \(index + 1) BODY.PEEK[]\n") == "* \(index + 1) FETCH (BODY[] {\(size)}\n\(text))\nb OK FETCH completed\n")
        }
    }

    /// The whole message is read from the file up to its recorded size, without the stored
    /// structure; it matches what the structure path sends, partial fetches cut it the
    /// same, and a missing file is a NO on either path.
    @Test func wholeMessageWithoutStructure() async throws {
        let fixture = try await Fixture.make()
        let delivered = try #require(try await fixture.deliver(sampleMessage))
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        let text = String(decoding: wire(sampleMessage), as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
        let literal = "BODY[] {\(wire(sampleMessage).count)}\n" + text
        #expect(try await client.send("a FETCH 1 BODY.PEEK[]\n") == "* 1 FETCH (\(literal))\na OK FETCH completed\n")
        let viaStructure = try await client.send("b FETCH 1 (BODY.PEEK[] BODY.PEEK[1])\n")
        #expect(viaStructure.hasPrefix("* 1 FETCH (\(literal) BODY[1] "))
        #expect(try await client.send("c FETCH 1 (RFC822.SIZE BODY.PEEK[]<6.5>)\n") == """
            * 1 FETCH (RFC822.SIZE \(wire(sampleMessage).count) BODY[]<6> "Alice")
            c OK FETCH completed

            """)

        let account = try fixture.account
        let summary = try #require(try await account.summaries(in: delivered.mailbox, uids: UIDSet([delivered.uid])).first)
        try FileManager.default.removeItem(atPath: account.path(forFile: summary.fileID))
        #expect(try await client.send("d FETCH 1 BODY.PEEK[]\n") == "d NO [CORRUPTION] message 1 cannot be read\n")
        #expect(try await client.send("e FETCH 1 BODY.PEEK[TEXT]\n") == "e NO [CORRUPTION] message 1 cannot be read\n")
    }

    /// RFC 9051 §7.5.2: an address's obsolete source route is its `addr-adl`.
    @Test func envelopeReportsASourceRoute() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver("From: <@route.example,@b.example:user@domain.example>\nSubject: r\n\nbody\n")
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        let route = "((NIL \"@route.example,@b.example\" \"user\" \"domain.example\"))"
        #expect(try await client.send("a FETCH 1 ENVELOPE\n") == "* 1 FETCH (ENVELOPE (NIL \"r\" \(route) \(route) \(route) NIL NIL NIL NIL NIL))\na OK FETCH completed\n")
    }

    /// Mailbox names are names in the database, never paths.
    @Test func mailboxNamesStayInside() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        #expect(try await client.send("a CREATE \"../../escape\"\n").hasSuffix(")] CREATE completed\n"))
        #expect(try await client.send("b CREATE \"/abs\"\n") == "b NO [CANNOT] invalid mailbox name \"/abs\": empty hierarchy level\n")
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/escape"))
        #expect(!FileManager.default.fileExists(atPath: fixture.root + "/accounts/escape"))
        #expect(try await client.send("c SELECT \"../../escape\"\n").contains("c OK [READ-WRITE]"))
        #expect(try await client.send("d FETCH 1:* FLAGS\n") == "d OK FETCH completed\n")
        #expect(try await client.send("e FETCH 1 FLAGS\n") == "e BAD message sequence number 1 does not exist (0 messages)\n")
    }

    /// Every error is a response: bad syntax, unknown commands, oversized lines.
    @Test func errorsAreResponses() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState()) { $0.limits.parser.maxLineLength = 200 }
        #expect(try await client.send("a BLURDYBLOOP\n") == "a BAD unknown command BLURDYBLOOP\n")
        #expect(try await client.send("\n") == "* BAD empty command line\n")
        #expect(try await client.send("b LOGIN {5}\n") == "+ Ready for literal data\n")
        #expect(try await client.send("alice secret\n").hasPrefix("b OK"))
        #expect(try await client.send("c SELECT INBOX (BOGUS)\n") == "c BAD unknown SELECT parameter BOGUS\n")
        #expect(try await client.send("d FETCH 1 FLAGS\n") == "d BAD no mailbox selected\n")
        #expect(try await client.send("e NOOP " + String(repeating: "x", count: 300) + "\n").hasPrefix("e BAD command line too long"))
        #expect(try await client.send("f APPEND INBOX {10}\n") == "+ Ready for literal data\n")
        #expect(try await client.send("0123456789 extra\n").hasPrefix("f BAD"))
        #expect(try await client.send("g NOOP\n") == "g OK NOOP completed\n")
    }
}
