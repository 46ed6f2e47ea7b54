import Testing

@testable import SMTP

/// What the SMTP client reads and writes: replies, EHLO keywords, encoded commands and
/// dot-stuffing in pieces.
@Suite struct ReplyReaderTests {
    func replies(_ text: String, limits: ReplyReader.Limits = ReplyReader.Limits()) throws(ReplyError) -> [Reply] {
        var reader = ReplyReader(limits: limits)
        reader.append(Array(text.utf8))
        var out: [Reply] = []
        while let reply = try reader.next() { out.append(reply) }
        return out
    }

    @Test func singleAndMultiLine() throws {
        #expect(try replies("250 ok\r\n") == [Reply(250, nil, "ok")])
        // RFC 5321 §4.2.1: the example, with a line that starts with digits.
        #expect(try replies("250-First line\r\n250-Second line\r\n250-234 Text beginning with numbers\r\n250 The last line\r\n")
            == [Reply(250, nil, ["First line", "Second line", "234 Text beginning with numbers", "The last line"])])
        // §4.2: a bare code, with or without the space; bare LF line ends.
        #expect(try replies("354\r\n250 \n") == [Reply(354, nil, ""), Reply(250, nil, "")])
    }

    @Test func enhancedCodes() throws {
        let reply = try #require(try replies("550-5.1.1 no such user\r\n550 5.1.1 try another\r\n").first)
        #expect(reply.enhanced == .badMailbox && reply.lines == ["no such user", "try another"])
        #expect(reply.encoded() == Array("550-5.1.1 no such user\r\n550 5.1.1 try another\r\n".utf8))
        // The class must agree with the code (RFC 3463 §2); otherwise it is text.
        #expect(try replies("250 5.1.1 odd\r\n") == [Reply(250, nil, "5.1.1 odd")])
        #expect(try replies("250 2.0.0\r\n") == [Reply(250, .ok, "")])
    }

    @Test func repliesInPieces() throws {
        var reader = ReplyReader()
        var got: [Reply] = []
        for byte in Array("250-a\r\n250 b\r\n451 4.3.0 later\r\n".utf8) {
            reader.append([byte])
            while let reply = try reader.next() { got.append(reply) }
        }
        #expect(got == [Reply(250, nil, ["a", "b"]), Reply(451, .systemError, "later")])
    }

    @Test func badReplies() {
        #expect(throws: ReplyError.malformed("hello")) { try replies("hello\r\n") }
        #expect(throws: ReplyError.malformed("25")) { try replies("25\r\n") }
        #expect(throws: ReplyError.malformed("650 x")) { try replies("650 x\r\n") }
        #expect(throws: ReplyError.malformed("250x")) { try replies("250x\r\n") }
        #expect(throws: ReplyError.inconsistentCode(expected: 250, found: 251)) { try replies("250-a\r\n251 b\r\n") }
    }

    @Test func limits() throws {
        let limits = ReplyReader.Limits(maxLineLength: 10, maxLines: 3)
        #expect(try replies("250 " + String(repeating: "x", count: 6) + "\r\n", limits: limits).count == 1)
        #expect(throws: ReplyError.lineTooLong(limit: 10)) { try replies("250 " + String(repeating: "x", count: 7) + "\r\n", limits: limits) }
        // Without a line end, the limit stops buffering too.
        #expect(throws: ReplyError.lineTooLong(limit: 10)) { try replies(String(repeating: "2", count: 12), limits: limits) }
        #expect(try replies("250-a\r\n250-b\r\n250 c\r\n", limits: limits).count == 1)
        #expect(throws: ReplyError.tooManyLines(limit: 3)) { try replies("250-a\r\n250-b\r\n250-c\r\n250 d\r\n", limits: limits) }
    }

    @Test func discardingAfterSTARTTLS() throws {
        var reader = ReplyReader()
        reader.append(Array("220 go ahead\r\n250 injected\r\n".utf8))
        #expect(try reader.next() == Reply(220, nil, "go ahead"))
        #expect(reader.discardBuffered() == "250 injected\r\n".utf8.count)
        #expect(try reader.next() == nil)
    }
}

@Suite struct ServiceExtensionsTests {
    @Test func keywordsAndParameters() {
        let reply = Reply(250, nil, [
            "mx.example.org greets you", "pipelining", "SIZE 35882577", "8BITMIME", "AUTH PLAIN LOGIN SCRAM-SHA-256",
            "ENHANCEDSTATUSCODES", "CHUNKING", "BINARYMIME", "SMTPUTF8", "STARTTLS", "REQUIRETLS", "X_BAD keyword", "",
        ])
        let extensions = ServiceExtensions(ehloReply: reply)
        #expect(extensions.pipelining && extensions.eightBitMIME && extensions.smtpUTF8 && extensions.startTLS)
        #expect(extensions.chunking && extensions.binaryMIME && extensions.enhancedStatusCodes && extensions.requireTLS)
        #expect(extensions.maxMessageSize == 35_882_577)
        #expect(extensions.authMechanisms == ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
        #expect(!extensions.offers("X_BAD") && !extensions.offers("MX.EXAMPLE.ORG"))
        #expect(ServiceExtensions().maxMessageSize == nil && !ServiceExtensions().pipelining)
    }

    /// RFC 1870 §4: SIZE without a number, or 0, announces no fixed limit.
    @Test func sizeWithoutLimit() {
        #expect(ServiceExtensions(ehloReply: Reply(250, nil, ["mx", "SIZE"])).maxMessageSize == 0)
        #expect(ServiceExtensions(ehloReply: Reply(250, nil, ["mx", "SIZE 0"])).maxMessageSize == 0)
        #expect(ServiceExtensions(ehloReply: Reply(250, nil, ["mx", "SIZE lots"])).maxMessageSize == 0)
    }
}

@Suite struct CommandEncodingTests {
    @Test func roundTrip() throws {
        var parameters = MailParameters()
        parameters.size = 1234
        parameters.body = .eightBitMIME
        parameters.smtputf8 = true
        parameters.requireTLS = true
        parameters.auth = "a+b=c@example.org"
        let commands: [Command] = [
            .ehlo("client.example"), .helo("client.example"),
            .mail(.mailbox(Mailbox(localPart: "john doe", domain: "example.org")), parameters),
            .mail(.null, MailParameters()),
            .rcpt(.mailbox(Mailbox(localPart: "用户", domain: "例子.广告")), RecipientParameters()), .rcpt(.postmaster, RecipientParameters()),
            .data, .bdat(size: 10, last: false), .bdat(size: 0, last: true), .rset, .noop, .quit, .vrfy("bob"), .expn("list"),
            .help(""), .startTLS, .auth(mechanism: "PLAIN", initialResponse: "AGFAYgBj"), .auth(mechanism: "LOGIN", initialResponse: nil),
        ]
        for command in commands {
            let line = command.encoded
            #expect(line.suffix(2) == [0x0D, 0x0A])
            #expect(try Command.parse(Array(line.dropLast(2))) == command, "\(String(decoding: line, as: UTF8.self))")
        }
        #expect(String(decoding: Command.mail(.null, parameters).encoded, as: UTF8.self)
            == "MAIL FROM:<> SIZE=1234 BODY=8BITMIME SMTPUTF8 REQUIRETLS AUTH=a+2Bb+3Dc@example.org\r\n")
        // RFC 4954 §4: an empty initial response is "=".
        #expect(Command.auth(mechanism: "PLAIN", initialResponse: "").encoded == Array("AUTH PLAIN =\r\n".utf8))
    }
}

@Suite struct DotStufferTests {
    /// Stuffing in pieces of any size gives exactly what stuffing the whole gives.
    @Test func piecesMatchTheWhole() {
        let messages = ["", ".", "a\r\n.\r\n..b\r\n", ".x\r\n.y", "line\r\n", "no end", "\r\n.\r\n"]
        for message in messages {
            let whole = DotStuffing.stuff(Array(message.utf8))
            for size in 1...4 {
                var stuffer = DotStuffer()
                var out: [UInt8] = []
                var rest = Array(message.utf8)[...]
                while !rest.isEmpty {
                    stuffer.stuff(rest.prefix(size), into: &out)
                    rest = rest.dropFirst(size)
                }
                stuffer.finish(into: &out)
                #expect(out == whole, "\(message.debugDescription) in pieces of \(size)")
            }
        }
        #expect(String(decoding: DotStuffing.stuff(Array(".x\r\n.y".utf8)), as: UTF8.self) == "..x\r\n..y\r\n.\r\n")
        #expect(DotStuffing.stuff([]) == Array(".\r\n".utf8))
    }
}
