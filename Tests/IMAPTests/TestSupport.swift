import XCTest

@testable import IMAP

/// Client lines as written in the RFCs: "\n" stands for CRLF.
func wire(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

/// Consecutive `.appendBytes` merged, so feeds of different granularity compare equal.
func coalesced(_ events: [ParserEvent]) -> [ParserEvent] {
    var result: [ParserEvent] = []
    for event in events {
        if case let .appendBytes(more) = event, case let .appendBytes(previous)? = result.last {
            result[result.count - 1] = .appendBytes(previous + more)
        } else if case .appendBytes([]) = event {
            continue
        } else {
            result.append(event)
        }
    }
    return result
}

func drain(_ parser: inout CommandParser) -> [ParserEvent] {
    var events: [ParserEvent] = []
    while let event = parser.next() { events.append(event) }
    return events
}

/// The events for `bytes` fed in one piece; asserts that feeding them one byte at a time (and
/// in chunks of 7) gives the same events.
func events(_ bytes: [UInt8], parser: CommandParser = CommandParser(),
            file: StaticString = #filePath, line: UInt = #line) -> [ParserEvent] {
    var whole = parser
    whole.append(bytes)
    let wholeEvents = coalesced(drain(&whole))

    var single = parser
    var singleEvents: [ParserEvent] = []
    for byte in bytes {
        single.append([byte])
        singleEvents += drain(&single)
    }
    XCTAssertEqual(coalesced(singleEvents), wholeEvents, "byte-by-byte feed differs", file: file, line: line)

    var chunked = parser
    var chunkedEvents: [ParserEvent] = []
    var index = 0
    while index < bytes.count {
        let end = min(bytes.count, index + 7)
        chunked.append(bytes[index..<end])
        chunkedEvents += drain(&chunked)
        index = end
    }
    XCTAssertEqual(coalesced(chunkedEvents), wholeEvents, "chunked feed differs", file: file, line: line)
    return wholeEvents
}

func events(_ text: String, parser: CommandParser = CommandParser(), file: StaticString = #filePath, line: UInt = #line) -> [ParserEvent] {
    events(wire(text), parser: parser, file: file, line: line)
}

/// The single command in `text` (one line or several joined by literals).
func parse(_ text: String, options: ParserOptions = ParserOptions(), file: StaticString = #filePath, line: UInt = #line) -> Command? {
    let result = events(text, parser: CommandParser(options: options), file: file, line: line)
    let commands = result.compactMap { event -> TaggedCommand? in
        if case let .command(command) = event { return command }
        return nil
    }
    guard commands.count == 1 else {
        XCTFail("expected one command, got \(result)", file: file, line: line)
        return nil
    }
    return commands[0].command
}

/// The error produced by `text`, which must be followed by a NOOP that still parses.
func parseError(_ text: String, parser: CommandParser = CommandParser(), file: StaticString = #filePath, line: UInt = #line) -> ParseError? {
    let result = events(text + "Z1 NOOP\n", parser: parser, file: file, line: line)
    let errors = result.compactMap { event -> ParseError? in
        if case let .error(error) = event { return error }
        return nil
    }
    XCTAssertEqual(errors.count, 1, "expected one error in \(result)", file: file, line: line)
    XCTAssertEqual(result.last, .command(TaggedCommand(tag: tag("Z1"), command: .noop)),
                   "the next command must still parse: \(result)", file: file, line: line)
    return errors.first
}

func tag(_ text: String) -> Tag {
    guard let tag = Tag(text) else { preconditionFailure("invalid tag \(text)") }
    return tag
}

func flag(_ text: String) -> Flag {
    guard let flag = Flag(text) else { preconditionFailure("invalid flag \(text)") }
    return flag
}

func date(_ year: Int, _ month: Int, _ day: Int) -> IMAPDate {
    guard let date = IMAPDate(year: year, month: month, day: day) else { preconditionFailure("no such date") }
    return date
}

func dateTime(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int, zone: Int) -> IMAPDateTime {
    guard let value = IMAPDateTime(date: date(year, month, day), hour: hour, minute: minute, second: second, zoneMinutes: zone) else {
        preconditionFailure("no such date-time")
    }
    return value
}

func set(_ text: String) -> SequenceSet {
    var grammar = GrammarParser(buffer: Array((text + " ").utf8), limits: ParserLimits(), options: ParserOptions())
    guard let set = try? grammar.sequenceSet() else { preconditionFailure("invalid set \(text)") }
    return set
}

func encoded(_ response: Response, _ options: EncodingOptions = .imap4rev2) -> String {
    String(decoding: ResponseEncoder(options: options).encode(response), as: UTF8.self)
}
