/// Why the grammar stopped.
enum GrammarError: Error, Hashable {
    /// The buffer ended where more of the command was needed (a literal not yet received).
    case incomplete
    case invalid(ParseError.Kind, String)

    static func syntax(_ message: String) -> GrammarError { .invalid(.syntax, message) }
}

/// A recursive-descent parser over the bytes of one command as the client sent them: its
/// lines with their CRLFs and the contents of its literals in place (so `{n}\r\n` is followed
/// by the n octets). `CommandParser` frames commands and hands complete ones (or, at a
/// literal announcement, the part so far) to this parser.
///
/// The token rules are RFC 9051 §9's. Every number is range-checked, nesting and list
/// lengths are bounded by `ParserLimits`, and the end of the buffer is reported as
/// `.incomplete`, never read past.
struct GrammarParser {
    let buffer: [UInt8]
    var pos: Int
    let limits: ParserLimits
    let options: ParserOptions
    var depth = 0
    /// Set as soon as the tag is read, so errors can carry it.
    var tag: Tag?

    init(buffer: [UInt8], limits: ParserLimits, options: ParserOptions) {
        self.buffer = buffer
        self.pos = 0
        self.limits = limits
        self.options = options
    }

    var atEnd: Bool { pos >= buffer.count }

    // MARK: Single bytes

    func peek() throws(GrammarError) -> UInt8 {
        guard pos < buffer.count else { throw .incomplete }
        return buffer[pos]
    }

    /// Whether the next byte is `byte` (false at the end of the buffer).
    func next(is byte: UInt8) -> Bool { pos < buffer.count && buffer[pos] == byte }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard next(is: byte) else { return false }
        pos += 1
        return true
    }

    mutating func expect(_ byte: UInt8, _ what: @autoclosure () -> String) throws(GrammarError) {
        guard try peek() == byte else { throw .syntax("expected \(what()) \(describeHere())") }
        pos += 1
    }

    mutating func sp() throws(GrammarError) {
        guard try peek() == 0x20 else { throw .syntax("expected SP \(describeHere())") }
        pos += 1
    }

    mutating func openParen() throws(GrammarError) { try expect(UInt8(ascii: "("), "\"(\"") }
    mutating func closeParen() throws(GrammarError) { try expect(UInt8(ascii: ")"), "\")\"") }

    /// The command's final CRLF.
    mutating func crlf() throws(GrammarError) {
        let b = try peek()
        if b == 0x0D {
            pos += 1
            guard try peek() == 0x0A else { throw .syntax("expected LF after CR") }
            pos += 1
            return
        }
        if b == 0x0A { throw .syntax("line must end with CRLF, not bare LF") }
        throw .syntax("unexpected characters after the command \(describeHere())")
    }

    /// A short description of the input at the current position, for error messages.
    func describeHere() -> String {
        guard pos < buffer.count else { return "at end of line" }
        let b = buffer[pos]
        if b == 0x0D || b == 0x0A { return "at end of line" }
        let end = min(buffer.count, pos + 16)
        var excerpt = ""
        for c in buffer[pos..<end] {
            if c == 0x0D || c == 0x0A { break }
            excerpt.append(c >= 0x20 && c < 0x7F ? Character(Unicode.Scalar(c)) : "?")
        }
        return "at \"\(excerpt)\""
    }

    // MARK: Nesting

    mutating func enter() throws(GrammarError) {
        depth += 1
        guard depth <= limits.maxNestingDepth else {
            throw .invalid(.tooDeeplyNested, "nesting deeper than \(limits.maxNestingDepth) levels")
        }
    }

    mutating func leave() { depth -= 1 }

    func checkCount(_ count: Int, _ what: String) throws(GrammarError) {
        guard count <= limits.maxListItems else {
            throw .invalid(.tooManyItems, "more than \(limits.maxListItems) \(what)")
        }
    }

    // MARK: Atoms and keywords

    /// `1*ATOM-CHAR`.
    mutating func atom(_ what: @autoclosure () -> String = "atom") throws(GrammarError) -> ArraySlice<UInt8> {
        let start = pos
        while pos < buffer.count, CharClass.isAtomChar(buffer[pos]) { pos += 1 }
        guard pos < buffer.count else { throw .incomplete }
        guard pos > start else { throw .syntax("expected \(what()) \(describeHere())") }
        return buffer[start..<pos]
    }

    mutating func atomString(_ what: @autoclosure () -> String = "atom") throws(GrammarError) -> String {
        String(decoding: try atom(what()), as: UTF8.self)
    }

    /// A run of letters, digits, "." and "-": the names of fetch items, options and the like,
    /// which "[", "<" or "(" may follow directly.
    mutating func token() throws(GrammarError) -> ArraySlice<UInt8> {
        let start = pos
        while pos < buffer.count {
            let b = buffer[pos]
            guard CharClass.isAlpha(b) || CharClass.isDigit(b) || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
            else { break }
            pos += 1
        }
        guard pos < buffer.count else { throw .incomplete }
        return buffer[start..<pos]
    }

    /// An uppercased keyword token (letters, digits, ".", "-").
    mutating func keyword(_ what: @autoclosure () -> String) throws(GrammarError) -> String {
        let t = try token()
        guard !t.isEmpty else { throw .syntax("expected \(what()) \(describeHere())") }
        return String(decoding: t.map(CharClass.upper), as: UTF8.self)
    }

    /// Consumes `word` (uppercase ASCII) case-insensitively if it is next and not followed by
    /// another atom character.
    mutating func skipWord(_ word: String) -> Bool {
        let count = word.utf8.count
        guard pos + count <= buffer.count,
              CharClass.equalsKeyword(buffer[pos..<(pos + count)], word)
        else { return false }
        if pos + count < buffer.count, CharClass.isAtomChar(buffer[pos + count]) { return false }
        pos += count
        return true
    }

    // MARK: Numbers

    /// `1*DIGIT` up to `max`.
    mutating func number(max: UInt64, _ what: @autoclosure () -> String) throws(GrammarError) -> UInt64 {
        let start = pos
        var value: UInt64 = 0
        while pos < buffer.count, CharClass.isDigit(buffer[pos]) {
            let digit = UInt64(buffer[pos] - 0x30)
            guard value <= (max - digit) / 10 else { throw .syntax("\(what()) is too large (at most \(max))") }
            value = value * 10 + digit
            pos += 1
        }
        guard pos < buffer.count else { throw .incomplete }
        guard pos > start else { throw .syntax("expected \(what()) \(describeHere())") }
        return value
    }

    /// `number`: unsigned 32-bit.
    mutating func number32(_ what: @autoclosure () -> String = "number") throws(GrammarError) -> UInt32 {
        UInt32(try number(max: UInt64(UInt32.max), what()))
    }

    /// `nz-number`: `digit-nz *DIGIT`, unsigned 32-bit.
    mutating func nzNumber(_ what: @autoclosure () -> String = "non-zero number") throws(GrammarError) -> UInt32 {
        guard try peek() != UInt8(ascii: "0") else { throw .syntax("expected \(what()), not zero or a leading zero") }
        return try number32(what())
    }

    /// `number64`: 0 ... 2^63-1.
    mutating func number64(_ what: @autoclosure () -> String = "number") throws(GrammarError) -> UInt64 {
        try number(max: IMAPGrammar.maxNumber64, what())
    }

    /// `nz-number64` and `mod-sequence-value`: 1 ... 2^63-1.
    mutating func nzNumber64(_ what: @autoclosure () -> String = "non-zero number") throws(GrammarError) -> UInt64 {
        guard try peek() != UInt8(ascii: "0") else { throw .syntax("expected \(what()), not zero or a leading zero") }
        return try number64(what())
    }

    // MARK: Strings

    /// `quoted` (RFC 9051 §4.3): `\"` and `\\` are the only escapes; 8-bit octets must form
    /// UTF-8 (RFC 9051 `QUOTED-CHAR`, RFC 6855 §3).
    mutating func quoted() throws(GrammarError) -> [UInt8] {
        try expect(UInt8(ascii: "\""), "quoted string")
        var result: [UInt8] = []
        var has8bit = false
        while true {
            guard pos < buffer.count else { throw .incomplete }
            let b = buffer[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                if has8bit, String(validating: result, as: UTF8.self) == nil {
                    throw .syntax("quoted string is not valid UTF-8")
                }
                return result
            case UInt8(ascii: "\\"):
                pos += 1
                let escaped = try peek()
                guard escaped == UInt8(ascii: "\"") || escaped == UInt8(ascii: "\\") else {
                    throw .syntax("invalid escape in quoted string (only \\\" and \\\\)")
                }
                result.append(escaped)
                pos += 1
            case 0x0D, 0x0A:
                throw .syntax("unterminated quoted string")
            case 0:
                throw .syntax("NUL in quoted string")
            default:
                if b >= 0x80 { has8bit = true }
                result.append(b)
                pos += 1
            }
        }
    }

    /// The header of a literal, `{n}` / `{n+}` / `~{n}` / `~{n+}` and CRLF, returning n and
    /// whether it was literal8.
    mutating func literalHeader(allowLiteral8: Bool) throws(GrammarError) -> (size: UInt64, binary: Bool, synchronizing: Bool) {
        var binary = false
        if next(is: UInt8(ascii: "~")) {
            guard allowLiteral8 else { throw .syntax("literal8 (~{n}) is only allowed for APPEND data") }
            binary = true
            pos += 1
        }
        try expect(UInt8(ascii: "{"), "literal")
        let size = try number64("literal size")
        let synchronizing = !skip(UInt8(ascii: "+"))
        try expect(UInt8(ascii: "}"), "\"}\" closing the literal size")
        guard try peek() == 0x0D else { throw .syntax("a literal announcement must end the line") }
        pos += 1
        try expect(0x0A, "LF")
        return (size, binary, synchronizing)
    }

    /// `literal` (RFC 9051 §4.3, RFC 7888): its octets must be in the buffer, and may not
    /// contain NUL (`CHAR8`).
    mutating func literal() throws(GrammarError) -> [UInt8] {
        let header = try literalHeader(allowLiteral8: false)
        guard UInt64(buffer.count - pos) >= header.size else { throw .incomplete }
        let end = pos + Int(header.size)
        let content = Array(buffer[pos..<end])
        guard !content.contains(0) else { throw .syntax("NUL in literal (use literal8)") }
        pos = end
        return content
    }

    /// `string = quoted / literal`.
    mutating func string() throws(GrammarError) -> [UInt8] {
        switch try peek() {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"): return try literal()
        default: throw .syntax("expected a string \(describeHere())")
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`.
    mutating func astring(_ what: @autoclosure () -> String = "string") throws(GrammarError) -> [UInt8] {
        switch try peek() {
        case UInt8(ascii: "\""): return try quoted()
        case UInt8(ascii: "{"): return try literal()
        default:
            let start = pos
            while pos < buffer.count, CharClass.isAStringChar(buffer[pos]) { pos += 1 }
            guard pos < buffer.count else { throw .incomplete }
            guard pos > start else { throw .syntax("expected \(what()) \(describeHere())") }
            return Array(buffer[start..<pos])
        }
    }

    /// `nstring = string / nil`.
    mutating func nstring() throws(GrammarError) -> [UInt8]? {
        if skipWord("NIL") { return nil }
        return try string()
    }

    /// An astring as text: it must be UTF-8.
    mutating func astringText(_ what: @autoclosure () -> String = "string") throws(GrammarError) -> String {
        let bytes = try astring(what())
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .syntax("\(what()) is not valid UTF-8") }
        return text
    }

    // MARK: Mailbox names

    /// Decodes a mailbox name or pattern: UTF-8 when enabled, else modified UTF-7 (RFC 3501
    /// §5.1.3); raw UTF-8 from a rev1 client is taken as it is.
    func decodeMailbox(_ bytes: [UInt8], _ what: String) throws(GrammarError) -> String {
        let ascii = bytes.allSatisfy { $0 < 0x80 }
        if options.utf8Mailboxes || !ascii {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .syntax("\(what) is not valid UTF-8") }
            return text
        }
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        guard let decoded = ModifiedUTF7.decode(bytes: bytes) else {
            throw .syntax("\(what) is not valid modified UTF-7 (RFC 3501 §5.1.3)")
        }
        return decoded
    }

    /// `mailbox = "INBOX" / astring`.
    mutating func mailbox() throws(GrammarError) -> MailboxName {
        MailboxName(try decodeMailbox(try astring("mailbox name"), "mailbox name"))
    }

    /// `list-mailbox = 1*list-char / string`.
    mutating func listMailbox() throws(GrammarError) -> String {
        let bytes: [UInt8]
        switch try peek() {
        case UInt8(ascii: "\""): bytes = try quoted()
        case UInt8(ascii: "{"): bytes = try literal()
        default:
            let start = pos
            while pos < buffer.count, CharClass.isListChar(buffer[pos]) { pos += 1 }
            guard pos < buffer.count else { throw .incomplete }
            guard pos > start else { throw .syntax("expected a mailbox pattern \(describeHere())") }
            bytes = Array(buffer[start..<pos])
        }
        return try decodeMailbox(bytes, "mailbox pattern")
    }

    // MARK: Flags

    /// `flag` (RFC 9051 §9): `\` atom or atom (keyword).
    mutating func flag() throws(GrammarError) -> Flag {
        let start = pos
        _ = skip(UInt8(ascii: "\\"))
        _ = try atom("flag")
        guard let flag = Flag(String(decoding: buffer[start..<pos], as: UTF8.self)) else {
            throw .syntax("invalid flag")
        }
        return flag
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`.
    mutating func flagList() throws(GrammarError) -> [Flag] {
        try openParen()
        var flags: [Flag] = []
        if skip(UInt8(ascii: ")")) { return flags }
        repeat {
            flags.append(try flag())
            try checkCount(flags.count, "flags")
        } while skip(0x20)
        try closeParen()
        return flags
    }

    // MARK: Sequence sets

    /// `seq-number = nz-number / "*"`.
    mutating func seqNumber() throws(GrammarError) -> SequenceNumber {
        if skip(UInt8(ascii: "*")) { return .last }
        return .number(try nzNumber("message number or UID"))
    }

    /// `sequence-set` including `$` (RFC 5182 §2.1).
    mutating func sequenceSet() throws(GrammarError) -> SequenceSet {
        if skip(UInt8(ascii: "$")) { return .lastResult }
        let b = try peek()
        guard CharClass.isDigit(b) || b == UInt8(ascii: "*") else {
            throw .syntax("expected a sequence set \(describeHere())")
        }
        var ranges: [SequenceRange] = []
        repeat {
            let first = try seqNumber()
            let last = skip(UInt8(ascii: ":")) ? try seqNumber() : first
            ranges.append(SequenceRange(first, last))
            try checkCount(ranges.count, "sequence set ranges")
        } while skip(UInt8(ascii: ","))
        if pos < buffer.count, CharClass.isAtomChar(buffer[pos]) {
            throw .syntax("invalid sequence set \(describeHere())")
        }
        return .ranges(ranges)
    }

    // MARK: Dates

    /// `date-month`.
    mutating func month() throws(GrammarError) -> Int {
        guard pos + 3 <= buffer.count else { throw .incomplete }
        let slice = buffer[pos..<(pos + 3)]
        guard let index = IMAPDate.monthNames.firstIndex(where: { CharClass.equalsKeyword(slice, $0.asciiUppercased) }) else {
            throw .syntax("invalid month \(describeHere())")
        }
        pos += 3
        return index + 1
    }

    mutating func digits(_ count: ClosedRange<Int>, _ what: String) throws(GrammarError) -> Int {
        var value = 0
        var n = 0
        while n < count.upperBound, pos < buffer.count, CharClass.isDigit(buffer[pos]) {
            value = value * 10 + Int(buffer[pos] - 0x30)
            pos += 1
            n += 1
        }
        guard pos < buffer.count else { throw .incomplete }
        guard n >= count.lowerBound, !CharClass.isDigit(buffer[pos]) else { throw .syntax("invalid \(what) \(describeHere())") }
        return value
    }

    /// `date = date-text / DQUOTE date-text DQUOTE`.
    mutating func date() throws(GrammarError) -> IMAPDate {
        let quoted = skip(UInt8(ascii: "\""))
        let day = try digits(1...2, "day")
        try expect(UInt8(ascii: "-"), "\"-\" in date")
        let month = try month()
        try expect(UInt8(ascii: "-"), "\"-\" in date")
        let year = try digits(4...4, "year")
        if quoted { try expect(UInt8(ascii: "\""), "closing quote of date") }
        guard let date = IMAPDate(year: year, month: month, day: day) else { throw .syntax("no such date") }
        return date
    }

    /// `date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE`.
    mutating func dateTime() throws(GrammarError) -> IMAPDateTime {
        try expect(UInt8(ascii: "\""), "date-time")
        _ = skip(0x20)  // date-day-fixed = (SP DIGIT) / 2DIGIT
        let day = try digits(1...2, "day")
        try expect(UInt8(ascii: "-"), "\"-\" in date-time")
        let month = try month()
        try expect(UInt8(ascii: "-"), "\"-\" in date-time")
        let year = try digits(4...4, "year")
        try sp()
        let hour = try digits(2...2, "hour")
        try expect(UInt8(ascii: ":"), "\":\" in time")
        let minute = try digits(2...2, "minute")
        try expect(UInt8(ascii: ":"), "\":\" in time")
        let second = try digits(2...2, "second")
        try sp()
        let sign = try peek()
        guard sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") else { throw .syntax("invalid zone \(describeHere())") }
        pos += 1
        let zone = try digits(4...4, "zone")
        try expect(UInt8(ascii: "\""), "closing quote of date-time")
        guard zone % 100 < 60,
              let date = IMAPDate(year: year, month: month, day: day),
              let dateTime = IMAPDateTime(date: date, hour: hour, minute: minute, second: second,
                                          zoneMinutes: (sign == UInt8(ascii: "-") ? -1 : 1) * (zone / 100 * 60 + zone % 100))
        else { throw .syntax("no such date-time") }
        return dateTime
    }
}
