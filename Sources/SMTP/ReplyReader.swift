/// Reading replies as a client (RFC 5321 §4.2): octets from the server are cut into lines,
/// and lines are put together into replies, one- or multi-line (§4.2.1: "250-" for every
/// line but the last, "250 " or a bare "250" on the last).
///
/// Everything a server sends is bounded before it is kept: a line longer than
/// `maxLineLength` and a reply of more than `maxLines` lines are errors, so a hostile or
/// broken server cannot make the client buffer without end. RFC 5321 §4.5.3.1.5 sets 512
/// octets for a reply line; real servers go beyond that with long texts, so the default
/// limit is larger, but still small.
///
/// With ENHANCEDSTATUSCODES (RFC 2034 §4) each line's text starts with the enhanced code;
/// it is taken out of the text into `Reply.enhanced`, so `Reply.encoded()` gives back what
/// was read. A code whose class differs from the reply's first digit is not one (RFC 3463
/// §2: the class must agree) and stays part of the text.
public struct ReplyReader: Sendable {
    public struct Limits: Hashable, Sendable {
        /// Octets of one line, without its line break.
        public var maxLineLength: Int
        /// Lines of one reply.
        public var maxLines: Int

        public init(maxLineLength: Int = 4096, maxLines: Int = 256) {
            self.maxLineLength = maxLineLength
            self.maxLines = maxLines
        }
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0
    private var code: Int?
    private var enhanced: EnhancedStatus?
    private var lines: [String] = []

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Drops everything buffered, e.g. plaintext that followed the 220 to STARTTLS and so
    /// must not be read as if it had come over TLS (RFC 3207 §6), and any incomplete reply.
    /// Returns how many unread octets were dropped.
    public mutating func discardBuffered() -> Int {
        let dropped = buffer.count - start
        buffer = []
        start = 0
        code = nil
        enhanced = nil
        lines = []
        return dropped
    }

    /// The next complete reply, nil when more octets are needed.
    public mutating func next() throws(ReplyError) -> Reply? {
        while let newline = buffer[start...].firstIndex(of: 0x0A) {
            // CR LF ends a line; a bare LF is accepted from servers (RFC 5321 §4.5.2 asks
            // for CR LF, but refusing a reply for it helps nobody).
            var end = newline
            if end > start, buffer[end - 1] == 0x0D { end -= 1 }
            let line = buffer[start..<end]
            start = newline + 1
            guard line.count <= limits.maxLineLength else { throw .lineTooLong(limit: limits.maxLineLength) }
            if let reply = try add(line) { return reply }
        }
        // The CR of a line's CR LF may be here without its LF yet.
        if buffer.count - start > limits.maxLineLength + 1 { throw .lineTooLong(limit: limits.maxLineLength) }
        if start > 4096 {
            buffer.removeFirst(start)
            start = 0
        }
        return nil
    }

    private mutating func add(_ line: ArraySlice<UInt8>) throws(ReplyError) -> Reply? {
        let parsed = try ReplyLine(line)
        if let code, parsed.code != code {
            // §4.2.1: every line of a multi-line reply has the same code.
            throw .inconsistentCode(expected: code, found: parsed.code)
        }
        guard lines.count < limits.maxLines else { throw .tooManyLines(limit: limits.maxLines) }
        code = parsed.code
        var text = parsed.text
        if let status = Self.enhancedStatus(in: text, code: parsed.code) {
            if lines.isEmpty { enhanced = status }
            if status == enhanced { text = String(text.dropFirst(status.description.count).drop { $0 == " " }) }
        }
        lines.append(text)
        guard parsed.isLast else { return nil }
        let reply = Reply(parsed.code, enhanced, lines)
        code = nil
        enhanced = nil
        lines = []
        return reply
    }

    /// RFC 2034 §4 / RFC 3463 §2: "class.subject.detail" followed by a space or the end of
    /// the text, with the class equal to the reply code's first digit.
    static func enhancedStatus(in text: String, code: Int) -> EnhancedStatus? {
        let word = text.prefix { $0 != " " }
        guard let status = EnhancedStatus(word), status.klass == code / 100 else { return nil }
        return status
    }
}

/// One line of a reply: Reply-code [ "-" / SP ] [ textstring ] (RFC 5321 §4.2).
public struct ReplyLine: Hashable, Sendable {
    public var code: Int
    /// False for "250-..." lines, which another line follows.
    public var isLast: Bool
    /// The text after the separator, octets outside UTF-8 replaced.
    public var text: String

    public init(_ line: some Collection<UInt8>) throws(ReplyError) {
        let bytes = Array(line)
        // Reply-code = %x32-35 %x30-35 %x30-39; the second digit is not checked more
        // strictly than "a digit", since it decides nothing a client does.
        guard bytes.count >= 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(bytes[0]),
            bytes[1...2].allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) })
        else {
            throw .malformed(Self.excerpt(bytes))
        }
        code = Int(bytes[0] - UInt8(ascii: "0")) * 100 + Int(bytes[1] - UInt8(ascii: "0")) * 10 + Int(bytes[2] - UInt8(ascii: "0"))
        switch bytes.count > 3 ? bytes[3] : nil {
        case nil:
            // §4.2: a bare code without text, which clients must accept.
            isLast = true
            text = ""
        case UInt8(ascii: " "):
            isLast = true
            text = String(decoding: bytes[4...], as: UTF8.self)
        case UInt8(ascii: "-"):
            isLast = false
            text = String(decoding: bytes[4...], as: UTF8.self)
        default:
            throw .malformed(Self.excerpt(bytes))
        }
    }

    /// The start of a bad line, printable, for an error message.
    static func excerpt(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(64).map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}

public enum ReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A line that does not start with a three-digit code and a separator.
    case malformed(String)
    /// A line of a multi-line reply with another code than the first line.
    case inconsistentCode(expected: Int, found: Int)
    case lineTooLong(limit: Int)
    case tooManyLines(limit: Int)

    public var description: String {
        switch self {
        case let .malformed(excerpt): return "malformed reply line \"\(excerpt)\""
        case let .inconsistentCode(expected, found): return "reply line with code \(found) inside a \(expected) reply"
        case let .lineTooLong(limit): return "reply line longer than \(limit) octets"
        case let .tooManyLines(limit): return "reply of more than \(limit) lines"
        }
    }
}
