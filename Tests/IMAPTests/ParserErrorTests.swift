import XCTest

@testable import IMAP

/// Every error path yields one precise error, and the command on the following line still
/// parses (`parseError` appends `Z1 NOOP` and checks it).
final class ParserErrorTests: XCTestCase {
    func testSyntaxErrorsCarryTheTag() throws {
        var error = try XCTUnwrap(parseError("A1 LOGIN \"fred\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A1"), kind: .syntax, message: "unterminated quoted string"))
        XCTAssertEqual(error.response, .tagged(tag("A1"), .bad("unterminated quoted string")))
        XCTAssertEqual(encoded(error.response), "A1 BAD unterminated quoted string\r\n")

        error = try XCTUnwrap(parseError("A2 FETCH 1:x FLAGS\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A2"), kind: .syntax, message: "expected message number or UID at \"x FLAGS\""))
        error = try XCTUnwrap(parseError("A2 FETCH 0 FLAGS\n"))
        XCTAssertEqual(error.message, "expected message number or UID, not zero or a leading zero")
        error = try XCTUnwrap(parseError("A2 FETCH 1,,2 FLAGS\n"))
        XCTAssertEqual(error.message, "expected message number or UID at \",2 FLAGS\"")
        error = try XCTUnwrap(parseError("A2 FETCH 1:3a FLAGS\n"))
        XCTAssertEqual(error.message, "invalid sequence set at \"a FLAGS\"")
        error = try XCTUnwrap(parseError("A2 COPY 1,$ foo\n"))
        XCTAssertEqual(error.message, "expected message number or UID at \"$ foo\"")

        // Numbers are 32-bit or 63-bit, never wrapped.
        error = try XCTUnwrap(parseError("A3 FETCH 4294967296 FLAGS\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A3"), kind: .syntax, message: "message number or UID is too large (at most 4294967295)"))
        XCTAssertEqual(parse("A3 FETCH 4294967295 FLAGS\n"), .fetch(FetchCommand(set: SequenceSet(4_294_967_295), attributes: [.flags])))
        error = try XCTUnwrap(parseError("A3 SEARCH LARGER 9223372036854775808\n"))
        XCTAssertEqual(error.message, "size is too large (at most 9223372036854775807)")
        error = try XCTUnwrap(parseError("A3 FETCH 1 (FLAGS) (CHANGEDSINCE 99999999999999999999999)\n"))
        XCTAssertEqual(error.message, "mod-sequence is too large (at most 9223372036854775807)")
        error = try XCTUnwrap(parseError("A3 FETCH 1 BODY[]<0.0>\n"))
        XCTAssertEqual(error.message, "expected partial length, not zero or a leading zero")

        // Missing SP, and garbage after a complete command.
        error = try XCTUnwrap(parseError("A9 SELECT\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A9"), kind: .syntax, message: "expected SP at end of line"))
        error = try XCTUnwrap(parseError("A9 LOGIN fred  secret\n"))
        XCTAssertEqual(error.message, "expected password at \" secret\"")
        error = try XCTUnwrap(parseError("A9 STORE 1 +FLAGS(\\Seen)\n"))
        XCTAssertEqual(error.message, "expected SP at \"(\\Seen)\"")
        error = try XCTUnwrap(parseError("A10 NOOP x\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A10"), kind: .syntax, message: "unexpected characters after the command at \" x\""))
        error = try XCTUnwrap(parseError("A10 SELECT INBOX)\n"))
        XCTAssertEqual(error.message, "unexpected characters after the command at \")\"")
        error = try XCTUnwrap(parseError("A10 NOOP\r\r\n"))
        XCTAssertEqual(error.message, "expected LF after CR")
    }

    func testUnknownCommands() throws {
        var error = try XCTUnwrap(parseError("A8 BLURDYBLOOP\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A8"), kind: .unknownCommand, message: "unknown command BLURDYBLOOP"))
        error = try XCTUnwrap(parseError("A8 UID NOOP 1\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A8"), kind: .unknownCommand, message: "unknown command UID NOOP"))
        XCTAssertEqual(parseError("A8 APPEND\n")?.message, "expected SP at end of line")

        // RFC 9051 §7.6: refused before the literal is invited; the client never sends it.
        let result = events("A044 BLURDYBLOOP {102856}\nA045 NOOP\n")
        XCTAssertEqual(result, [
            .error(ParseError(tag: tag("A044"), kind: .unknownCommand, message: "unknown command BLURDYBLOOP")),
            .command(TaggedCommand(tag: tag("A045"), command: .noop)),
        ])
    }

    func testLinesWithoutATag() throws {
        var error = try XCTUnwrap(parseError("\n"))
        XCTAssertEqual(error, ParseError(tag: nil, kind: .syntax, message: "empty command line"))
        XCTAssertEqual(encoded(error.response), "* BAD empty command line\r\n")
        error = try XCTUnwrap(parseError("* NOOP\n"))
        XCTAssertEqual(error, ParseError(tag: nil, kind: .syntax, message: "expected a tag at \"* NOOP\""))
        error = try XCTUnwrap(parseError("+ NOOP\n"))
        XCTAssertNil(error.tag)
        error = try XCTUnwrap(parseError("A1\n"))
        XCTAssertEqual(error, ParseError(tag: tag("A1"), kind: .syntax, message: "missing command after the tag"))
        error = try XCTUnwrap(parseError("A\"1 NOOP\n"))
        XCTAssertEqual(error, ParseError(tag: nil, kind: .syntax, message: "invalid character in tag at \"\"1 NOOP\""))
        // DONE outside IDLE is just a bad command.
        error = try XCTUnwrap(parseError("DONE\n"))
        XCTAssertEqual(error, ParseError(tag: tag("DONE"), kind: .syntax, message: "missing command after the tag"))
    }

    func testLineEndings() throws {
        var parser = CommandParser()
        parser.append(Array("A1 NOOP\nA2 NOOP\r\n".utf8))
        XCTAssertEqual(drain(&parser), [
            .error(ParseError(tag: tag("A1"), kind: .syntax, message: "line must end with CRLF, not bare LF")),
            .command(TaggedCommand(tag: tag("A2"), command: .noop)),
        ])
    }

    func testStrings() throws {
        // Invalid UTF-8 in a quoted string, bad escapes, NUL.
        var parser = CommandParser()
        parser.append(Array("A1 LOGIN \"a\u{1}b\" \"".utf8) + [0xC3, 0x28] + Array("\"\r\nA2 LOGIN \"a\\b\" c\r\nA3 LOGIN {3+}\r\na".utf8) + [0] + Array("b c\r\n".utf8))
        XCTAssertEqual(drain(&parser), [
            .error(ParseError(tag: tag("A1"), kind: .syntax, message: "quoted string is not valid UTF-8")),
            .error(ParseError(tag: tag("A2"), kind: .syntax, message: "invalid escape in quoted string (only \\\" and \\\\)")),
            .error(ParseError(tag: tag("A3"), kind: .syntax, message: "NUL in literal (use literal8)")),
        ])
        // Valid UTF-8 in quoted strings is accepted (RFC 9051 QUOTED-CHAR, RFC 6855 §3).
        XCTAssertEqual(parse("A1 LOGIN \"jöe\" \"pässword\"\n"), .login(username: "jöe", password: "pässword"))
        var error = try XCTUnwrap(parseError("A1 SELECT &Jjo!\n"))
        XCTAssertEqual(error.message, "mailbox name is not valid modified UTF-7 (RFC 3501 §5.1.3)")
        error = try XCTUnwrap(parseError("A1 LOGIN {3-}\n"))
        XCTAssertEqual(error.message, "expected \"}\" closing the literal size at \"-}\"")
        error = try XCTUnwrap(parseError("A1 LOGIN ~{3}\n"))
        XCTAssertEqual(error.message, "expected SP at \"{3}\"")
    }

    func testGrammarRules() throws {
        XCTAssertEqual(parseError("A1 UID FETCH 1 (FLAGS) (VANISHED)\n")?.message, "VANISHED requires CHANGEDSINCE")
        XCTAssertEqual(parseError("A1 FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)\n")?.message, "VANISHED is only allowed with UID FETCH")
        XCTAssertEqual(parseError("A1 FETCH 1 (FLAGS) (FOO)\n")?.message, "unknown FETCH modifier FOO")
        XCTAssertEqual(parseError("A1 FETCH 1 ()\n")?.message, "expected fetch item at \")\"")
        XCTAssertEqual(parseError("A1 FETCH 1 BODY[MIME]\n")?.message, "MIME needs a part number")
        XCTAssertEqual(parseError("A1 FETCH 1 BODY.PEEK\n")?.message, "BODY.PEEK needs a section")
        XCTAssertEqual(parseError("A1 LIST (REMOTE RECURSIVEMATCH) \"\" *\n")?.message, "RECURSIVEMATCH requires another selection option such as SUBSCRIBED")
        XCTAssertEqual(parseError("A1 LIST (FOO) \"\" *\n")?.message, "unknown LIST selection option FOO")
        XCTAssertEqual(parseError("A1 LIST \"\" * RETURN (FOO)\n")?.message, "unknown LIST return option FOO")
        XCTAssertEqual(parseError("A1 SELECT INBOX (FOO)\n")?.message, "unknown SELECT parameter FOO")
        XCTAssertEqual(parseError("A1 SELECT INBOX (QRESYNC (1 2 1:*))\n")?.message, "known UIDs may not contain \"*\" or \"$\"")
        XCTAssertEqual(parseError("A1 SELECT INBOX (QRESYNC (0 2))\n")?.message, "expected UIDVALIDITY, not zero or a leading zero")
        XCTAssertEqual(parseError("A1 SEARCH RETURN (PARTIAL 1:5) ALL\n")?.message, "unknown search return option PARTIAL")
        XCTAssertEqual(parseError("A1 SEARCH FOO\n")?.message, "unknown search key FOO")
        XCTAssertEqual(parseError("A1 SEARCH SINCE 30-Feb-2020\n")?.message, "no such date")
        XCTAssertEqual(parseError("A1 SEARCH SINCE 1-Foo-2020\n")?.message, "invalid month at \"Foo-2020\"")
        XCTAssertEqual(parseError("A1 SEARCH KEYWORD \\Seen\n")?.message, "expected keyword at \"\\Seen\"")
        XCTAssertEqual(parseError("A1 SEARCH MODSEQ \"/shared/x\" all 5\n")?.message, "MODSEQ entry name must be \"/flags/<flag>\"")
        XCTAssertEqual(parseError("A1 STORE 1 FLAGS.LOUD (\\Seen)\n")?.message, "expected FLAGS, not FLAGS.LOUD")
        XCTAssertEqual(parseError("A1 STATUS INBOX (MESSAGES FOO)\n")?.message, "unknown status item FOO")
        XCTAssertEqual(parseError("A1 AUTHENTICATE PLAIN abc\n")?.message, "initial response is not valid base64")
        XCTAssertEqual(parseError("A1 APPEND INBOX (\\Seen) \"1-Jan-2020 00:00:00 +0000\" {3}x\n")?.message,
                       "a literal announcement must end the line")
        XCTAssertEqual(parseError("A1 APPEND INBOX \"31-Apr-2020 00:00:00 +0000\" {3}\n")?.message, "no such date-time")
        XCTAssertEqual(parseError("A1 APPEND INBOX \"30-Apr-2020 00:00:00 +0060\" {3}\n")?.message, "no such date-time")
    }

    func testNestingAndListLimits() throws {
        let limits = ParserLimits(maxNestingDepth: 8, maxListItems: 5)
        let parser = CommandParser(limits: limits)
        XCTAssertEqual(parseError("A4 SEARCH " + String(repeating: "NOT ", count: 8) + "ALL\n", parser: parser),
                       ParseError(tag: tag("A4"), kind: .tooDeeplyNested, message: "nesting deeper than 8 levels"))
        XCTAssertEqual(parseError("A4 SEARCH " + String(repeating: "(", count: 9) + "ALL" + String(repeating: ")", count: 9) + "\n", parser: parser)?.kind,
                       .tooDeeplyNested)
        var accepted = CommandParser(limits: limits)
        accepted.append(wire("A4 SEARCH " + String(repeating: "NOT ", count: 7) + "ALL\n"))
        var key = SearchKey.all
        for _ in 0..<7 { key = .not(key) }
        XCTAssertEqual(accepted.next(), .command(TaggedCommand(tag: tag("A4"), command: .search(SearchCommand(key: key)))))

        XCTAssertEqual(parseError("A5 FETCH 1,2,3,4,5,6 FLAGS\n", parser: parser),
                       ParseError(tag: tag("A5"), kind: .tooManyItems, message: "more than 5 sequence set ranges"))
        XCTAssertEqual(parseError("A5 STORE 1 FLAGS (a b c d e f)\n", parser: parser)?.kind, .tooManyItems)
        XCTAssertEqual(parseError("A5 SEARCH 1 2 3 4 5 6\n", parser: parser)?.kind, .tooManyItems)
        // The default depth is generous for real clients' OR chains, and still bounded.
        XCTAssertEqual(parseError("A4 SEARCH " + String(repeating: "OR ALL ", count: 5000) + "ALL\n",
                                  parser: CommandParser(limits: ParserLimits(maxLineLength: 100_000)))?.kind, .tooDeeplyNested)
    }

    func testLineTooLong() throws {
        let parser = CommandParser(limits: ParserLimits(maxLineLength: 100))
        let long = "A5 SELECT " + String(repeating: "x", count: 200) + "\n"
        XCTAssertEqual(parseError(long, parser: parser),
                       ParseError(tag: tag("A5"), kind: .lineTooLong, message: "command line too long (more than 100 octets)"))
        // Without a tag.
        XCTAssertEqual(parseError(String(repeating: "(", count: 200) + "\n", parser: parser)?.tag, nil)
        // Counted over all lines of a command, literals excluded.
        let split = "A6 LOGIN {50+}\n" + String(repeating: "u", count: 50) + " " + String(repeating: "p", count: 90) + "\n"
        XCTAssertEqual(parseError(split, parser: parser)?.kind, .lineTooLong)
        let fits = "A6 LOGIN {150+}\n" + String(repeating: "u", count: 150) + " " + String(repeating: "p", count: 70) + "\n"
        var fitting = CommandParser(limits: ParserLimits(maxLineLength: 100, maxLiteralSize: 200))
        fitting.append(wire(fits))
        XCTAssertEqual(fitting.next(), .command(TaggedCommand(tag: tag("A6"), command: .login(username: String(repeating: "u", count: 150), password: String(repeating: "p", count: 70)))))
        // A too-long line that announces a non-synchronizing literal: the literal is skipped.
        let announcing = "A7 LOGIN " + String(repeating: "x", count: 200) + " {10+}\n0123456789\n"
        XCTAssertEqual(parseError(announcing, parser: parser)?.kind, .lineTooLong)
    }

    func testTooLongTagIsNotReportedWhateverTheSplit() throws {
        // Found by Fuzz/run.sh imap-command: a tag reaching past maxLineLength was echoed when
        // the whole line arrived in one read, but not when it arrived byte by byte (the limit
        // is hit before the tag ends). `parseError` feeds both ways and compares.
        let parser = CommandParser(limits: ParserLimits(maxLineLength: 100))
        let longTag = String(repeating: "t", count: 140) + " NOOP\n"
        XCTAssertEqual(parseError(longTag, parser: parser)?.tag, nil)
        // Ending right at the limit: the SP is octet 101, beyond it.
        XCTAssertEqual(parseError(String(repeating: "t", count: 100) + " " + String(repeating: "x", count: 50) + "\n", parser: parser)?.tag, nil)
        XCTAssertEqual(parseError(String(repeating: "t", count: 99) + " " + String(repeating: "x", count: 50) + "\n", parser: parser)?.tag,
                       tag(String(repeating: "t", count: 99)))
        // The same after a too-large synchronizing literal, where the fuzzer found it: the
        // literal's octets are read as the next (too long) command.
        let small = CommandParser(limits: ParserLimits(maxLineLength: 120, maxLiteralSize: 40))
        let result = events("a LOGIN {50}\n" + String(repeating: "x", count: 142) + " y\nZ1 NOOP\n", parser: small)
        XCTAssertEqual(result.count, 3)
        guard case let .error(second) = result[1] else { return XCTFail("\(result)") }
        XCTAssertEqual(second.kind, .lineTooLong)
        XCTAssertNil(second.tag)
    }

    func testTooLongAuthenticationResponseWhateverTheSplit() throws {
        // Found by Fuzz/run.sh imap-command: a too-long AUTHENTICATE response line was refused
        // as too long when it arrived in pieces, but decoded (and refused as bad base64, or
        // accepted) when it arrived whole.
        let limits = ParserLimits(maxLineLength: 120, maxLiteralSize: 40)
        // The limit counts the octets before the LF, CR included.
        for (line, expected) in [(String(repeating: "QUFB", count: 30), ParseError.Kind.lineTooLong),  // 121 octets
                                 (String(repeating: "QUFB", count: 29), nil)] {                      // 117 octets: fits
            var whole = CommandParser(limits: limits)
            whole.mode = .authenticationResponse
            whole.append(wire(line + "\nZ1 NOOP\n"))
            let wholeEvents = drain(&whole)
            var single = CommandParser(limits: limits)
            single.mode = .authenticationResponse
            var singleEvents: [ParserEvent] = []
            for byte in wire(line + "\nZ1 NOOP\n") {
                single.append([byte])
                singleEvents += drain(&single)
            }
            XCTAssertEqual(wholeEvents, singleEvents)
            XCTAssertEqual(wholeEvents.last, .command(TaggedCommand(tag: tag("Z1"), command: .noop)))
            if let expected {
                XCTAssertEqual(wholeEvents.first, .error(ParseError(tag: nil, kind: expected, message: "line too long (more than 120 octets)")))
            } else {
                XCTAssertEqual(wholeEvents.first, .authenticationResponse(.data(Array(repeating: UInt8(ascii: "A"), count: 87))))
            }
        }
    }

    func testTooLongLineAfterAppendDataWhateverTheSplit() throws {
        // Found by Fuzz/run.sh imap-command: the line after an APPEND message's octets was
        // refused as too long when it arrived in pieces, but parsed (and refused for its
        // syntax) when it arrived whole. `events` compares whole, byte-by-byte and chunked feeds.
        let parser = CommandParser(limits: ParserLimits(maxLineLength: 60))
        let result = events("A1 APPEND INBOX {3+}\nabc" + String(repeating: "?", count: 80) + "\nZ1 NOOP\n", parser: parser)
        XCTAssertEqual(result, [
            .appendStart(tag: tag("A1"), mailbox: .inbox),
            .appendMessageBegin(AppendMessage(size: 3, isSynchronizing: false)),
            .appendBytes(Array("abc".utf8)),
            .appendMessageEnd,
            .error(ParseError(tag: tag("A1"), kind: .lineTooLong, message: "command line too long (more than 60 octets)")),
            .command(TaggedCommand(tag: tag("Z1"), command: .noop)),
        ])
        // A too-long line announcing a literal with the next message: its octets are skipped.
        let announcing = "A2 APPEND INBOX {3+}\nabc " + String(repeating: "x", count: 80) + " {4+}\nwxyz\nZ2 NOOP\n"
        XCTAssertEqual(events(announcing, parser: parser).last, .command(TaggedCommand(tag: tag("Z2"), command: .noop)))
    }

    func testLiteralAnnouncementAfterTooLongLineWhateverTheSplit() throws {
        // A too-long line is skipped keeping only its last octets when it arrives in pieces;
        // a whole line must be judged on the same octets, or `{` plus many leading zeros is a
        // literal to skip in one case and not in the other.
        let parser = CommandParser(limits: ParserLimits(maxLineLength: 60))
        let zeros = "A3 LOGIN " + String(repeating: "x", count: 80) + " {" + String(repeating: "0", count: 40) + "4+}\nZ3 NOOP\n"
        let result = events(zeros, parser: parser)
        XCTAssertEqual(result.first, .error(ParseError(tag: tag("A3"), kind: .lineTooLong, message: "command line too long (more than 60 octets)")))
        XCTAssertEqual(result.last, .command(TaggedCommand(tag: tag("Z3"), command: .noop)))
        // The usual announcement is skipped either way.
        let usual = "A4 LOGIN " + String(repeating: "x", count: 80) + " {9+}\nZ4 NOOP\r\n rest of A4\nZ5 NOOP\n"
        XCTAssertEqual(events(usual, parser: parser).suffix(2), [
            .error(ParseError(tag: tag("A4"), kind: .lineTooLong, message: "command line too long (more than 60 octets)")),
            .command(TaggedCommand(tag: tag("Z5"), command: .noop)),
        ])
    }

    func testLiteralLimits() throws {
        let parser = CommandParser(limits: ParserLimits(maxLiteralSize: 100, maxCommandSize: 300, maxLiteralsPerCommand: 3))
        // Synchronizing: refused before the continuation; the client sends nothing.
        XCTAssertEqual(parseError("A6 LOGIN {101}\n", parser: parser),
                       ParseError(tag: tag("A6"), kind: .literalTooLarge, message: "literal too large (more than 100 octets)"))
        // Non-synchronizing: the octets are skipped, including CRLFs inside, and the rest of the command.
        let body = String(repeating: "a\n", count: 40)  // 120 octets once "\n" is CRLF
        XCTAssertEqual(parseError("A7 LOGIN {120+}\n" + body + " pass {5+}\nA8 NO\n", parser: parser),
                       ParseError(tag: tag("A7"), kind: .literalTooLarge, message: "literal too large (more than 100 octets)"))
        XCTAssertEqual(parseError("A6 ID (\"a\" {100+}\n" + String(repeating: "x", count: 100) + " \"b\" {100+}\n" + String(repeating: "x", count: 100) + " \"c\" {100+}\n" + String(repeating: "x", count: 100) + ")\n", parser: parser),
                       ParseError(tag: tag("A6"), kind: .literalTooLarge, message: "command too large (more than 300 octets)"))
        XCTAssertEqual(parseError("A6 ID (\"a\" {1+}\nx {1+}\ny {1+}\nz {1+}\nw)\n", parser: parser),
                       ParseError(tag: tag("A6"), kind: .literalTooLarge, message: "too many literals (more than 3)"))
        // A literal size beyond 63 bits fails every limit.
        XCTAssertEqual(parseError("A6 LOGIN {99999999999999999999999}\n", parser: parser)?.message, "literal size is too large (at most 9223372036854775807)")
        // Non-synchronizing, it cannot be skipped over: everything after it is skipped.
        XCTAssertEqual(events("A6 LOGIN {99999999999999999999999+}\nA7 NOOP\n", parser: parser),
                       [.error(ParseError(tag: tag("A6"), kind: .literalTooLarge, message: "literal too large (more than 100 octets)"))])
    }

    func testLiteralMinus() throws {
        // RFC 7888 §5: non-synchronizing literals over 4096 octets are refused under LITERAL-.
        let parser = CommandParser(options: ParserOptions(literalMinus: true))
        let big = String(repeating: "x", count: 4097)
        let error = try XCTUnwrap(parseError("A1 LOGIN {4097+}\n" + big + " pass\n", parser: parser))
        XCTAssertEqual(error, ParseError(tag: tag("A1"), kind: .literalMinusViolation(append: false),
                                         message: "non-synchronizing literal larger than 4096 octets (LITERAL-)"))
        XCTAssertEqual(encoded(error.response), "A1 BAD non-synchronizing literal larger than 4096 octets (LITERAL-)\r\n")
        var accepted = parser
        accepted.append(wire("A2 LOGIN {4096+}\n" + String(repeating: "x", count: 4096) + " pass\n"))
        XCTAssertEqual(accepted.next(), .command(TaggedCommand(tag: tag("A2"), command: .login(username: String(repeating: "x", count: 4096), password: "pass"))))
        // Synchronizing literals are fine at any size (within the limits).
        var sync = parser
        sync.append(wire("A3 LOGIN {4097}\n"))
        XCTAssertEqual(sync.next(), .continuationRequest)
    }

    func testErrorsInLaterLinesOfACommand() throws {
        // Detected when the command completes; a second literal's octets were already read.
        XCTAssertEqual(parseError("A1 LOGIN {3+}\nabc {5+}\n12345 extra\n")?.message, "unexpected characters after the command at \" extra\"")
        // Detected at a synchronizing literal: no continuation for it.
        let result = events("A1 LOGIN {3+}\nabc def {5}\nA2 NOOP\n")
        XCTAssertEqual(result, [
            .error(ParseError(tag: tag("A1"), kind: .syntax, message: "unexpected characters after the command at \" {5}\"")),
            .command(TaggedCommand(tag: tag("A2"), command: .noop)),
        ])
        // An unknown command with non-synchronizing literals: all of it is read, then refused.
        XCTAssertEqual(parseError("A1 XYZ {3+}\nabc {4+}\nabcd\n")?.kind, .unknownCommand)
    }

    func testDiscardCommand() {
        var parser = CommandParser()
        parser.append(wire("A1 LOGIN {5}\n"))
        XCTAssertEqual(parser.next(), .continuationRequest)
        parser.discardCommand()
        parser.append(wire("A2 NOOP\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A2"), command: .noop)))
        XCTAssertTrue(parser.isBetweenCommands)

        parser.append(wire("A3 LOGIN {5+}\n"))
        XCTAssertNil(parser.next())
        parser.discardCommand()
        parser.append(wire("ab\ncd user\nA4 NOOP\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A4"), command: .noop)))
    }
}

final class StreamChangeTests: XCTestCase {
    func testTakeUnprocessedBytes() {
        // RFC 9051 §6.2.1: data pipelined after STARTTLS is not read as commands.
        var parser = CommandParser()
        parser.append(wire("a STARTTLS\nb LOGIN injected x\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("a"), command: .startTLS)))
        XCTAssertEqual(parser.takeUnprocessedBytes(), wire("b LOGIN injected x\n"))
        XCTAssertNil(parser.next())
        XCTAssertTrue(parser.isBetweenCommands)
        // RFC 4978 §3: after COMPRESS the rest is compressed data, handed back mid-line too.
        parser.append(wire("c COMPRESS DEFLATE\n") + [0x78, 0x9C, 0x0A])
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("c"), command: .compress(algorithm: "DEFLATE"))))
        XCTAssertEqual(parser.takeUnprocessedBytes(), [0x78, 0x9C, 0x0A])
        parser.append(wire("d NOOP\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("d"), command: .noop)))
    }
}
