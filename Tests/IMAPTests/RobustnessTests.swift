import XCTest

@testable import IMAP
import TestSupport

/// Random input never traps, and the parser's events do not depend on how the bytes are split.
final class RobustnessTests: XCTestCase {
    /// A deterministic generator, so failures reproduce.
    typealias Generator = SplitMix64

    static let tokens = [
        "A1", "a", "*", "+", " ", " ", " ", "\r\n", "\n", "\r", "(", ")", "[", "]", "<", ">", "{", "}", "\"", "\\", "~", "$", "%",
        "{3}\r\n", "{0}\r\n", "{5+}\r\n", "~{4}\r\n", "{99999999999999999999}\r\n", "{-1}\r\n", "{3-}\r\n",
        "LOGIN", "SELECT", "FETCH", "UID", "STORE", "SEARCH", "APPEND", "LIST", "STATUS", "SORT", "THREAD", "ID", "NOT", "OR",
        "INBOX", "1:*", "1,2:4", "4294967296", "0", "9223372036854775808", "BODY[", "BODY.PEEK[HEADER.FIELDS (", "BINARY[1.2]",
        "<0.10>", "FLAGS", "+FLAGS.SILENT", "\\Seen", "$Junk", "RETURN", "(CHANGEDSINCE 5 VANISHED)", "UTF8 (", "CHARSET",
        "&U,BTFw-", "&Jjo!", "\u{00E9}", "\u{2713}", "1-Feb-1994", "\"17-Jul-1996 02:44:25 -0700\"", "QRESYNC (1 2 1:5)", "DONE",
    ]

    func testRandomTokenSoup() {
        var generator = Generator(state: 20_240_601)
        let limits = ParserLimits(maxLineLength: 200, maxLiteralSize: 64, maxCommandSize: 300, maxLiteralsPerCommand: 4,
                                  maxAppendSize: 50, maxNestingDepth: 6, maxListItems: 8)
        for round in 0..<400 {
            var input: [UInt8] = []
            for _ in 0..<generator.below(60) {
                if generator.below(10) == 0 {
                    input.append(UInt8(truncatingIfNeeded: generator.next()))
                } else {
                    input += Array(Self.tokens[generator.below(Self.tokens.count)].utf8)
                }
            }
            let options = ParserOptions(utf8Mailboxes: round % 2 == 0, literalMinus: round % 3 == 0)
            _ = events(input, parser: CommandParser(limits: limits, options: options))
        }
    }

    func testMutatedValidCommands() {
        var generator = Generator(state: 7)
        let valid = [
            "A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n",
            "a FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Received \"X-Spam\")] BINARY[1.2]<0.1024> PREVIEW (LAZY))\r\n",
            "A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 5:7)))\r\n",
            "A003 APPEND saved-messages (\\Seen) \" 7-Feb-1994 22:43:04 -0800\" {5+}\r\nhello {3}\r\nabc\r\n",
            "A001 LOGIN {11}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
            "a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (foo bar) RETURN (CHILDREN STATUS (MESSAGES))\r\n",
            "a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)\r\n",
        ]
        for _ in 0..<600 {
            var input = Array(valid[generator.below(valid.count)].utf8)
            for _ in 0..<(1 + generator.below(4)) {
                let position = generator.below(input.count)
                switch generator.below(3) {
                case 0: input[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: input.remove(at: position)
                default: input.insert(input[position], at: position)
                }
            }
            _ = events(input + Array("Z NOOP\r\n".utf8), parser: CommandParser(limits: ParserLimits(maxAppendSize: 100)))
        }
    }

    func testEncoderNeverEmitsLineBreaksOutsideLiterals() {
        // Whatever text the server passes, a status response stays one line.
        for text in ["a\rb", "a\nb", "\r\n", "a\u{0}b", "[ALERT] x", "ünïcödé"] {
            for options in [EncodingOptions.imap4rev1, .imap4rev2] {
                let bytes = ResponseEncoder(options: options).encode(.tagged(tag("t"), .no(text, code: .other("X", text))))
                XCTAssertEqual(bytes.filter { $0 == 0x0A }.count, 1, text)
                XCTAssertEqual(bytes.suffix(2), [0x0D, 0x0A])
                XCTAssertFalse(bytes.contains(0))
                if !options.utf8 { XCTAssertTrue(bytes.allSatisfy { $0 < 0x80 }) }
            }
        }
    }
}
