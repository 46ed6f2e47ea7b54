import Testing

@testable import SMTP
import TestSupport

@Suite struct ReplyTests {
    @Test func encoding() {
        #expect(Reply(250, .ok, "done").encoded() == Array("250 2.0.0 done\r\n".utf8))
        #expect(Reply(250, nil, ["mx.example", "PIPELINING", "SIZE 100"]).encoded() == Array("250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n".utf8))
        #expect(Reply(550, .badMailbox, "no").encoded(enhancedCodes: false) == Array("550 no\r\n".utf8))
        // A line break in a text cannot end the reply early.
        #expect(Reply(550, nil, "a\r\n250 injected").encoded() == Array("550-a\r\n550 250 injected\r\n".utf8))
        #expect(Reply(550, nil, "a\nb\rc").encoded() == Array("550-a\r\n550-b\r\n550 c\r\n".utf8))
    }

    @Test func enhancedStatusParsing() {
        #expect(EnhancedStatus("5.1.1") == .badMailbox)
        #expect(EnhancedStatus("4.7.0") == EnhancedStatus(4, 7, 0))
        for bad in ["3.1.1", "5.01.1", "5.1", "5.1.1.1", "5.1.1000", "x.1.1", "5..1"] {
            #expect(EnhancedStatus(bad) == nil, "\(bad)")
        }
    }
}

@Suite struct PathTests {
    func reverse(_ text: String) throws(PathError) -> ReversePath {
        try Path.parseReverse(Array(text.utf8)[...], allowUTF8: true).0
    }

    func forward(_ text: String, utf8: Bool = true) throws(PathError) -> ForwardPath {
        try Path.parseForward(Array(text.utf8)[...], allowUTF8: utf8).0
    }

    @Test func validPaths() throws {
        #expect(try reverse("<>") == .null)
        #expect(try reverse("<a.b+tag@Example.ORG>") == .mailbox(Mailbox(localPart: "a.b+tag", domain: "Example.ORG")))
        #expect(try forward("<PostMaster>") == .postmaster)
        #expect(try forward("<postmaster@example.org>") == .mailbox(Mailbox(localPart: "postmaster", domain: "example.org")))
        // RFC 5321 §4.1.1.3: source routes are accepted and ignored.
        #expect(try forward("<@relay.example,@other.example:user@example.org>") == .mailbox(Mailbox(localPart: "user", domain: "example.org")))
        #expect(try forward("<\"john \\\"q\\\" doe\"@example.org>") == .mailbox(Mailbox(localPart: "john \"q\" doe", domain: "example.org")))
        #expect(try forward("<user@[192.0.2.1]>") == .mailbox(Mailbox(localPart: "user", domain: "[192.0.2.1]")))
        #expect(try forward("<user@[IPv6:2001:db8::1]>") == .mailbox(Mailbox(localPart: "user", domain: "[IPv6:2001:db8::1]")))
        // RFC 6531: UTF-8 local parts and domains.
        let utf8 = try forward("<用户@例子.广告>")
        #expect(utf8 == .mailbox(Mailbox(localPart: "用户", domain: "例子.广告")))
        if case let .mailbox(mailbox) = utf8 { #expect(mailbox.needsSMTPUTF8) }
    }

    @Test func invalidPaths() {
        #expect(throws: PathError.missingAngleBrackets) { try forward("user@example.org") }
        #expect(throws: PathError.missingAt) { try forward("<user>") }
        #expect(throws: PathError.invalidLocalPart) { try forward("<.user@example.org>") }
        #expect(throws: PathError.invalidDomain) { try forward("<user@-example.org>") }
        #expect(throws: PathError.invalidDomain) { try forward("<user@exa_mple.org>") }
        #expect(throws: PathError.invalidAddressLiteral) { try forward("<user@[300.1.1.1]>") }
        #expect(throws: PathError.invalidAddressLiteral) { try forward("<user@[IPv6:1::2::3]>") }
        #expect(throws: PathError.invalidAddressLiteral) { try forward("<user@[tag:value]>") }
        #expect(throws: PathError.invalidRoute) { try forward("<@:user@example.org>") }
        #expect(throws: PathError.missingAngleBrackets) { try forward("<user@example.org") }
        #expect(throws: PathError.trailingCharacters) { try forward("<user@[192.0.2.1] >") }
        #expect(throws: PathError.nonASCIIWithoutSMTPUTF8) { try forward("<用户@example.org>", utf8: false) }
        #expect(throws: PathError.invalidLocalPart) { try forward("<\"unterminated@example.org>") }
        #expect(throws: PathError.tooLong(514)) { try forward("<" + String(repeating: "a", count: 500) + "@example.org>") }
    }

    @Test func quotingForOutput() {
        #expect(Mailbox(localPart: "a.b", domain: "x").description == "a.b@x")
        #expect(Mailbox(localPart: "a b", domain: "x").description == "\"a b\"@x")
        #expect(Mailbox(localPart: "a..b", domain: "x").description == "\"a..b\"@x")
        #expect(Mailbox(localPart: "q\"", domain: "x").description == "\"q\\\"\"@x")
    }
}

@Suite struct CommandTests {
    func parse(_ line: String) throws(CommandError) -> Command { try Command.parse(Array(line.utf8)) }

    @Test func commands() throws {
        #expect(try parse("EHLO client.example") == .ehlo("client.example"))
        #expect(try parse("helo [192.0.2.1]") == .helo("[192.0.2.1]"))
        #expect(try parse("DATA") == .data)
        #expect(try parse("rset") == .rset)
        #expect(try parse("NOOP anything") == .noop)
        #expect(try parse("QUIT") == .quit)
        #expect(try parse("STARTTLS") == .startTLS)
        #expect(try parse("BDAT 100") == .bdat(size: 100, last: false))
        #expect(try parse("BDAT 0 LAST") == .bdat(size: 0, last: true))
        #expect(try parse("AUTH plain AHVzZXIAcGFzcw==") == .auth(mechanism: "PLAIN", initialResponse: "AHVzZXIAcGFzcw=="))
        #expect(try parse("AUTH LOGIN") == .auth(mechanism: "LOGIN", initialResponse: nil))
        #expect(try parse("VRFY user") == .vrfy("user"))
        #expect(try parse("HELP") == .help(""))
    }

    @Test func mailAndParameters() throws {
        guard case let .mail(path, parameters) = try parse("MAIL FROM:<a@example.org> SIZE=1000 BODY=8bitmime SMTPUTF8 REQUIRETLS AUTH=a+2Bb@example.org HOLDFOR=60") else {
            Issue.record("not MAIL")
            return
        }
        #expect(path == .mailbox(Mailbox(localPart: "a", domain: "example.org")))
        #expect(parameters.size == 1000 && parameters.body == .eightBitMIME && parameters.smtputf8 && parameters.requireTLS)
        #expect(parameters.auth == "a+b@example.org" && parameters.holdFor == 60)
        // A space after the colon, as many clients send.
        #expect(try parse("mail from: <>") == .mail(.null, MailParameters()))
        guard case let .mail(_, huge) = try parse("MAIL FROM:<> SIZE=99999999999999999999") else { return }
        #expect(huge.size == Int(Int32.max))
        #expect(try parse("RCPT TO:<Postmaster>") == .rcpt(.postmaster, RecipientParameters()))
    }

    @Test func errorsMapToReplies() {
        #expect(throws: CommandError.unknownCommand("FROB")) { try parse("FROB x") }
        #expect((try? parse("FROB")) == nil)
        #expect(CommandError.unknownCommand("FROB").reply == Reply(500, .invalidCommand, "unknown command FROB"))
        #expect(throws: CommandError.syntax("EHLO requires a domain or address literal", .syntaxError)) { try parse("EHLO") }
        #expect(throws: CommandError.syntax("DATA takes no arguments", .syntaxError)) { try parse("DATA now") }
        #expect(throws: CommandError.syntax("syntax: MAIL FROM:<address>", .syntaxError)) { try parse("MAIL <a@b>") }
        #expect(throws: CommandError.syntax("invalid address: missing @domain", .badMailboxSyntax)) { try parse("RCPT TO:<user>") }
        #expect(throws: CommandError.unsupportedParameter("NOTIFY")) { try parse("RCPT TO:<a@b.c> NOTIFY=NEVER") }
        #expect(throws: CommandError.unsupportedParameter("RET")) { try parse("MAIL FROM:<a@b.c> RET=HDRS") }
        #expect(throws: CommandError.syntax("parameter SIZE given twice", .invalidArguments)) { try parse("MAIL FROM:<a@b.c> SIZE=1 SIZE=2") }
        #expect(throws: CommandError.syntax("SIZE needs a number", .invalidArguments)) { try parse("MAIL FROM:<a@b.c> SIZE=x") }
        #expect(throws: CommandError.syntax("BODY must be 7BIT, 8BITMIME or BINARYMIME", .invalidArguments)) { try parse("MAIL FROM:<a@b.c> BODY=9BIT") }
        #expect(throws: CommandError.syntax("AUTH needs an xtext mailbox or <>", .invalidArguments)) { try parse("MAIL FROM:<a@b.c> AUTH=a+zz") }
        #expect(throws: CommandError.syntax("syntax: BDAT size [LAST]", .syntaxError)) { try parse("BDAT -1") }
        #expect(throws: CommandError.syntax("syntax: BDAT size [LAST]", .syntaxError)) { try parse("BDAT 1 FIRST") }
        for line in ["EXPN li\rst", "EHLO a\rX-Injected:yes", "VRFY a\u{0}b", "HELP \n"] {
            #expect(throws: CommandError.syntax("bare CR, LF or NUL in the command", .syntaxError)) { try parse(line) }
        }
    }
}

@Suite struct DataReaderTests {
    func read(_ text: String, limit: Int = 1000, chunk: Int = 3) -> (message: String, used: Int, reader: DataReader) {
        var reader = DataReader(limit: limit)
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        var used = 0
        while used < bytes.count, !reader.finished {
            used += reader.consume(bytes[used..<min(used + chunk, bytes.count)], into: &output)
        }
        return (String(decoding: output, as: UTF8.self), used, reader)
    }

    @Test func unstuffsAndEnds() {
        let result = read("line one\r\n..leading dot\r\n.\r\nQUIT\r\n")
        #expect(result.message == "line one\r\n.leading dot\r\n")
        #expect(result.reader.finished)
        #expect(result.used == 28)  // the rest, "QUIT", is the next command
        #expect(read(".\r\n").message == "")
    }

    /// Every end-of-data look-alike other servers have accepted is data here, normalized
    /// to CRLF so it cannot end a message further along either.
    @Test(arguments: ["\n.\n", "\r.\r", "\n.\r\n", "\r\n.\n", "\r\n.\r", "\r.\r\n"])
    func smugglingVariantsAreNotTheEnd(variant: String) {
        let result = read("first" + variant + "MAIL FROM:<x@evil>\r\n.\r\n")
        #expect(result.reader.finished)
        #expect(result.message.hasPrefix("first\r\n"))
        #expect(result.message.hasSuffix("MAIL FROM:<x@evil>\r\n"))
        #expect(result.reader.bareLineBreaks > 0)
        // Only CRLF line breaks are stored.
        let bytes = Array(result.message.utf8)
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            #expect(index > 0 && bytes[index - 1] == 0x0D)
        }
        for (index, byte) in bytes.enumerated() where byte == 0x0D {
            #expect(index + 1 < bytes.count && bytes[index + 1] == 0x0A)
        }
    }

    /// A dot after a bare line break is data: not unstuffed, not an end marker.
    @Test func dotAfterBareLineBreakIsData() {
        let result = read("a\n..b\n.\r\nstill data\r\n.\r\n")
        #expect(result.message == "a\r\n..b\r\n.\r\nstill data\r\n")
    }

    /// Property: the data ends exactly after the first CR LF "." CR LF, counting the CR LF
    /// that ended the DATA command, and nowhere else.
    @Test func endsExactlyAtTheFirstRealEndMarker() {
        var random = SplitMix64(state: 2026)
        let alphabet: [UInt8] = [UInt8(ascii: "."), 0x0D, 0x0A, UInt8(ascii: "a")]
        let marker: [UInt8] = [0x0D, 0x0A, UInt8(ascii: "."), 0x0D, 0x0A]
        for _ in 0..<5000 {
            let input = (0..<Int.random(in: 0..<24, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
            let stream = [0x0D, 0x0A] + input
            var expected: Int?
            if stream.count >= marker.count {
                for start in 0...(stream.count - marker.count) where Array(stream[start..<start + marker.count]) == marker {
                    expected = start + marker.count - 2
                    break
                }
            }
            var reader = DataReader(limit: 1000)
            var output: [UInt8] = []
            let used = reader.consume(input, into: &output)
            #expect(reader.finished == (expected != nil), "\(input)")
            if let expected { #expect(used == expected, "\(input)") }
        }
    }

    @Test func sizeLimitWhileReading() {
        // In small pieces (octet by octet paths) and in one (whole lines at once).
        for chunk in [3, 1000] {
            let result = read("0123456789\r\n" + String(repeating: "x", count: 100) + "\r\n.\r\n", limit: 20, chunk: chunk)
            #expect(result.reader.exceededLimit && result.reader.finished)
            #expect(result.message == "0123456789\r\n" + String(repeating: "x", count: 8))
            #expect(result.reader.size == 114)
        }
        let exact = read("0123456789\r\n123456\r\n.\r\n", limit: 20, chunk: 1000)
        #expect(!exact.reader.exceededLimit && exact.message == "0123456789\r\n123456\r\n")
        let over = read("0123456789\r\n1234567\r\n.\r\n", limit: 20, chunk: 1000)
        #expect(over.reader.exceededLimit && over.reader.size == 21)
    }

    /// Whole-line copying must leave the octet-level rules intact when everything arrives at once.
    @Test func oneChunkKeepsLineRules() {
        let input = "a\rb\nc\r\n..d\r\n.\nnot end\r\n.\r\nNEXT"
        let result = read(input, chunk: 1000)
        #expect(result.message == read(input, chunk: 1).message)
        #expect(result.message == "a\r\nb\r\nc\r\n.d\r\n\r\nnot end\r\n", "the dot before a bare LF is unstuffed, not an end")
        #expect(result.reader.bareLineBreaks == 3 && result.used == "a\rb\nc\r\n..d\r\n.\nnot end\r\n.\r\n".utf8.count)
    }

    @Test func stuffingRoundTrip() {
        let message = ".starts with dot\r\nmiddle\r\n..two\r\n.\r\nend"
        let stuffed = DotStuffing.stuff(Array(message.utf8))
        #expect(String(decoding: stuffed, as: UTF8.self) == "..starts with dot\r\nmiddle\r\n...two\r\n..\r\nend\r\n.\r\n")
        var reader = DataReader(limit: 1000)
        var output: [UInt8] = []
        _ = reader.consume(stuffed, into: &output)
        #expect(String(decoding: output, as: UTF8.self) == message + "\r\n")
    }
}

