import XCTest

@testable import IMAP

/// APPEND is streamed: its message data is handed on as it arrives, never buffered whole.
final class AppendTests: XCTestCase {
    // RFC 9051 §6.3.12 examples.
    let message1 = wire("""
        Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
        From: Fred Foobar <foobar@Blurdybloop.example>
        Subject: afternoon meeting
        To: mooch@owatagu.siam.edu.example
        Message-Id: <B27397-0100000@Blurdybloop.example>
        MIME-Version: 1.0
        Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

        Hello Joe, do you think we can meet at 3:30 tomorrow?

        """)
    let message2 = wire("""
        Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
        From: Fred Foobar <foobar@example.com>
        Subject: afternoon meeting
        To: mooch@example.com
        Message-Id: <B27397-0100000@example.com>
        MIME-Version: 1.0
        Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

        Hello Joe, do you think we can meet at 3:30 tomorrow?

        """)

    func testSynchronizingAppend() {
        XCTAssertEqual(message1.count, 326)
        let input = wire("A003 APPEND saved-messages (\\Seen) {326}\n") + message1 + wire("\nA004 NOOP\n")
        XCTAssertEqual(events(input), [
            .appendStart(tag: tag("A003"), mailbox: "saved-messages"),
            .appendMessageBegin(AppendMessage(flags: [.seen], size: 326)),
            .continuationRequest,
            .appendBytes(message1),
            .appendMessageEnd,
            .appendEnd,
            .command(TaggedCommand(tag: tag("A004"), command: .noop)),
        ])
    }

    func testNonSynchronizingAppend() {
        XCTAssertEqual(message2.count, 297)
        let input = wire("A003 APPEND saved-messages (\\Seen) {297+}\n") + message2 + wire("\n")
        XCTAssertEqual(events(input), [
            .appendStart(tag: tag("A003"), mailbox: "saved-messages"),
            .appendMessageBegin(AppendMessage(flags: [.seen], size: 297, isSynchronizing: false)),
            .appendBytes(message2),
            .appendMessageEnd,
            .appendEnd,
        ])
    }

    func testMultiAppend() {
        // RFC 3502 §6.3.11: several messages in one command, the second with a date-day-fixed
        // of SP DIGIT.
        let input = wire("A003 APPEND saved-messages (\\Seen) {326}\n") + message1
            + wire(" (\\Seen $Forwarded) \" 7-Feb-1994 22:43:04 -0800\" {297}\n") + message2
            + wire(" \"07-Feb-1994 22:43:05 +0100\" {0+}\n\n")
        XCTAssertEqual(events(input), [
            .appendStart(tag: tag("A003"), mailbox: "saved-messages"),
            .appendMessageBegin(AppendMessage(flags: [.seen], size: 326)),
            .continuationRequest,
            .appendBytes(message1),
            .appendMessageEnd,
            .appendMessageBegin(AppendMessage(flags: [.seen, .forwarded], internalDate: dateTime(1994, 2, 7, 22, 43, 4, zone: -480), size: 297)),
            .continuationRequest,
            .appendBytes(message2),
            .appendMessageEnd,
            .appendMessageBegin(AppendMessage(internalDate: dateTime(1994, 2, 7, 22, 43, 5, zone: 60), size: 0, isSynchronizing: false)),
            .appendMessageEnd,
            .appendEnd,
        ])
    }

    func testBinaryAndUTF8Append() {
        // RFC 3516 §4.4: literal8 may carry NUL.
        let binary: [UInt8] = [0x61, 0x00, 0x62, 0x0D, 0x0A]
        XCTAssertEqual(events(wire("A1 APPEND INBOX ~{5}\n") + binary + wire("\n")), [
            .appendStart(tag: tag("A1"), mailbox: .inbox),
            .appendMessageBegin(AppendMessage(size: 5, isBinary: true)),
            .continuationRequest,
            .appendBytes(binary),
            .appendMessageEnd,
            .appendEnd,
        ])
        // RFC 6855 §4: UTF8 (literal8).
        let text = Array("Subject: ✓\r\n".utf8)
        XCTAssertEqual(events(wire("A2 APPEND INBOX () UTF8 (~{\(text.count)+}\n") + text + wire(")\n")), [
            .appendStart(tag: tag("A2"), mailbox: .inbox),
            .appendMessageBegin(AppendMessage(size: UInt64(text.count), isBinary: true, isUTF8: true, isSynchronizing: false)),
            .appendBytes(text),
            .appendMessageEnd,
            .appendEnd,
        ])
        // The UTF8 wrapper must be closed.
        let unclosed = events(wire("A3 APPEND INBOX UTF8 (~{2+}\n") + Array("ab".utf8) + wire("\nA4 NOOP\n"))
        XCTAssertEqual(unclosed.suffix(2), [
            .error(ParseError(tag: tag("A3"), kind: .syntax, message: "expected \")\" at end of line")),
            .command(TaggedCommand(tag: tag("A4"), command: .noop)),
        ])
    }

    func testMailboxAsLiteral() {
        XCTAssertEqual(events(wire("A1 APPEND {5}\nDraft (\\Draft) {3}\nabc\n")), [
            .continuationRequest,
            .appendStart(tag: tag("A1"), mailbox: "Draft"),
            .appendMessageBegin(AppendMessage(flags: [.draft], size: 3)),
            .continuationRequest,
            .appendBytes(Array("abc".utf8)),
            .appendMessageEnd,
            .appendEnd,
        ])
    }

    func testMessageDataIsStreamed() {
        var parser = CommandParser()
        parser.append(wire("A1 APPEND INBOX {10000000+}\n") + [UInt8](repeating: 0x41, count: 1000))
        XCTAssertEqual(parser.next(), .appendStart(tag: tag("A1"), mailbox: .inbox))
        XCTAssertEqual(parser.next(), .appendMessageBegin(AppendMessage(size: 10_000_000, isSynchronizing: false)))
        XCTAssertEqual(parser.next(), .appendBytes([UInt8](repeating: 0x41, count: 1000)))
        XCTAssertNil(parser.next())
        XCTAssertEqual(parser.bufferedByteCount, 0)
        var total = 1000
        while total < 10_000_000 {
            let chunk = min(65536, 10_000_000 - total)
            parser.append([UInt8](repeating: 0x42, count: chunk))
            XCTAssertEqual(parser.next(), .appendBytes([UInt8](repeating: 0x42, count: chunk)))
            total += chunk
            XCTAssertEqual(parser.next(), total == 10_000_000 ? .appendMessageEnd : nil)
        }
        XCTAssertNil(parser.next())
        parser.append(wire("\n"))
        XCTAssertEqual(drain(&parser), [.appendEnd])
        XCTAssertTrue(parser.isBetweenCommands)
    }

    func testTooBig() throws {
        let parser = CommandParser(limits: ParserLimits(maxAppendSize: 100))
        // Synchronizing: NO [TOOBIG] before the continuation; the client never sends it.
        let error = try XCTUnwrap(parseError("A1 APPEND INBOX (\\Seen) {101}\n", parser: parser))
        XCTAssertEqual(error, ParseError(tag: tag("A1"), kind: .appendTooLarge, message: "message too large (more than 100 octets)"))
        XCTAssertEqual(encoded(error.response), "A1 NO [TOOBIG] message too large (more than 100 octets)\r\n")
        // Non-synchronizing: the octets are skipped, and the rest of the command.
        let body = String(repeating: "x", count: 150)
        XCTAssertEqual(parseError("A2 APPEND INBOX {150+}\n" + body + " {3+}\nabc\n", parser: parser)?.kind, .appendTooLarge)
        // A later message of a MULTIAPPEND: the APPEND started and now fails as a whole.
        let result = events("A3 APPEND INBOX {3+}\nabc {200}\nA4 NOOP\n", parser: parser)
        XCTAssertEqual(result, [
            .appendStart(tag: tag("A3"), mailbox: .inbox),
            .appendMessageBegin(AppendMessage(size: 3, isSynchronizing: false)),
            .appendBytes(Array("abc".utf8)),
            .appendMessageEnd,
            .error(ParseError(tag: tag("A3"), kind: .appendTooLarge, message: "message too large (more than 100 octets)")),
            .command(TaggedCommand(tag: tag("A4"), command: .noop)),
        ])
    }

    func testLiteralMinusAppend() throws {
        // RFC 7888 §5: BAD with TOOBIG.
        let parser = CommandParser(options: ParserOptions(literalMinus: true))
        let error = try XCTUnwrap(parseError("A1 APPEND INBOX {5000+}\n" + String(repeating: "x", count: 5000) + "\n", parser: parser))
        XCTAssertEqual(error.kind, .literalMinusViolation(append: true))
        XCTAssertEqual(encoded(error.response), "A1 BAD [TOOBIG] non-synchronizing literal larger than 4096 octets (LITERAL-)\r\n")
    }

    func testBadContinuation() {
        let result = events("A1 APPEND INBOX {3+}\nabc garbage {4+}\nabcd\nA2 NOOP\n")
        XCTAssertEqual(result, [
            .appendStart(tag: tag("A1"), mailbox: .inbox),
            .appendMessageBegin(AppendMessage(size: 3, isSynchronizing: false)),
            .appendBytes(Array("abc".utf8)),
            .appendMessageEnd,
            .error(ParseError(tag: tag("A1"), kind: .syntax, message: "expected the message literal at \"garbage {4+}\"")),
            .command(TaggedCommand(tag: tag("A2"), command: .noop)),
        ])
        XCTAssertEqual(parseError("A1 APPEND INBOX (\\Seen)\n")?.message, "expected SP at end of line")
        XCTAssertEqual(parseError("A1 APPEND INBOX (\\Seen) NOTALITERAL\n")?.message, "expected the message literal at \"NOTALITERAL\"")
        XCTAssertEqual(parseError("A1 APPEND INBOX (\\Seen) {3+}\nabc extra\n")?.message, "expected the message literal at \"extra\"")
    }

    func testServerRefusesAppend() {
        // RFC 9051 §6.3.12: no such mailbox, NO [TRYCREATE] instead of the continuation.
        var parser = CommandParser()
        parser.append(wire("A1 APPEND Nowhere {326}\n"))
        XCTAssertEqual(parser.next(), .appendStart(tag: tag("A1"), mailbox: "Nowhere"))
        parser.discardCommand()
        parser.append(wire("A2 NOOP\n"))
        XCTAssertEqual(drain(&parser), [.command(TaggedCommand(tag: tag("A2"), command: .noop))])

        // Non-synchronizing data cannot be stopped: it is skipped.
        parser.append(wire("A3 APPEND Nowhere {10+}\n01234"))
        XCTAssertEqual(parser.next(), .appendStart(tag: tag("A3"), mailbox: "Nowhere"))
        parser.discardCommand()
        parser.append(wire("56789 {2+}\nab\nA4 NOOP\n"))
        XCTAssertEqual(drain(&parser), [.command(TaggedCommand(tag: tag("A4"), command: .noop))])
    }
}
