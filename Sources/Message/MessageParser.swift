/// Parsing a message into its MIME tree (RFC 2045, RFC 2046, RFC 5322), in one pass over the
/// lines of a `ByteSource`, keeping offsets rather than octets.
///
/// Flow: `parsePart` reads a header section, then, by Content-Type, either reads a multipart
/// (preamble, then body parts separated by `--boundary` lines, then `--boundary--` and the
/// epilogue), an encapsulated message (message/rfc822, message/global: a whole message as
/// the body), or a leaf body. A part ends at the first line that is a delimiter of *any*
/// enclosing multipart, which is how mainstream clients survive a missing closing
/// boundary: the inner multipart ends and the outer one carries on.
///
/// Limits (all in `ParseLimits`): nesting depth, number of parts, header octets per part and
/// in total, so memory stays bounded whatever the input.
public struct ParseLimits: Hashable, Sendable {
    /// Deeper multiparts and messages are read as opaque single parts.
    public var maxDepth = 40
    /// Parts beyond this many are left unparsed in their multipart's epilogue.
    public var maxParts = 10_000
    /// Header octets kept per part; the rest of a longer header is skipped.
    public var maxHeaderSize = 1024 * 1024
    /// Header octets kept over the whole message.
    public var maxTotalHeaderSize = 16 * 1024 * 1024

    public init() {}
}

/// A parsed message: the MIME tree of the whole message, with offsets into its source.
public struct ParsedMessage: Hashable, Sendable, Codable {
    public var root: MIMEPart
    /// Size of the whole message in octets.
    public var size: Int

    /// The message's own header section.
    public var header: HeaderSection { root.header }

    /// Parses the message in `source`; throws only when the source cannot be read.
    public static func parse(_ source: any ByteSource, limits: ParseLimits = ParseLimits()) throws(ByteSourceError) -> ParsedMessage {
        var parser = MIMEParser(reader: LineReader(source: source), limits: limits)
        let (root, _) = try parser.parsePart(boundaries: [], depth: 0, defaultType: ("text", "plain"))
        return ParsedMessage(root: root, size: source.count)
    }

    /// Parses a message held in memory.
    public init(bytes: [UInt8], limits: ParseLimits = ParseLimits()) {
        var parser = MIMEParser(reader: LineReader(source: MemorySource(bytes)), limits: limits)
        // A memory source cannot fail to read.
        let root = (try? parser.parsePart(boundaries: [], depth: 0, defaultType: ("text", "plain")).0)
            ?? MIMEPart(offset: 0, header: HeaderSection(), defaultType: ("text", "plain"))
        self.init(root: root, size: bytes.count)
    }

    public init(root: MIMEPart, size: Int) {
        self.root = root
        self.size = size
    }
}

private struct MIMEParser {
    /// RFC 2046 §5.1.1: boundaries are at most 70 characters; with "--" twice and some
    /// trailing whitespace, this much of a line decides whether it is a delimiter.
    static let delimiterPrefix = 160

    var reader: LineReader
    let limits: ParseLimits
    var partCount = 0
    var headerBudget: Int

    init(reader: LineReader, limits: ParseLimits) {
        self.reader = reader
        self.limits = limits
        headerBudget = limits.maxTotalHeaderSize
    }

    /// A boundary delimiter line of one of the enclosing multiparts.
    struct Delimiter {
        /// Index into the boundary stack: higher is more deeply nested.
        var level: Int
        var isClose: Bool
        var line: LineReader.Line
        /// Lines read before the delimiter line.
        var linesBefore: Int
        var previous: LineReader.Line?
    }

    mutating func parsePart(boundaries: [[UInt8]], depth: Int, defaultType: (String, String)) throws(ByteSourceError) -> (MIMEPart, Delimiter?) {
        partCount += 1
        let start = reader.position
        var defects: [MIMEDefect] = []
        var headerBytes: [UInt8] = []
        var sawSeparator = false
        var delimiter: Delimiter?
        let keep = max(Self.delimiterPrefix, min(limits.maxHeaderSize, headerBudget))
        while let line = try reader.next(keep: keep) {
            if let found = match(line, boundaries) {
                delimiter = found
                break
            }
            if line.prefix.count == line.length, headerBytes.count + line.length <= min(limits.maxHeaderSize, headerBudget) {
                headerBytes += line.prefix
            } else if !defects.contains(.headerTooLong) {
                defects.append(.headerTooLong)
            }
            if line.isBlank {
                sawSeparator = true
                break
            }
        }
        headerBudget -= headerBytes.count
        var header = HeaderSection.parse(headerBytes)
        header.length = (delimiter?.line.start ?? reader.position) - start
        header.hasSeparator = sawSeparator
        if !sawSeparator, header.length > 0 { defects.append(.missingHeaderSeparator) }

        var part = MIMEPart(offset: start, header: header, defaultType: defaultType)
        part.defects += defects
        let bodyStartLine = reader.lineCount
        if let delimiter {
            finish(&part, bodyStartLine: bodyStartLine, ending: delimiter)
            return (part, delimiter)
        }

        if part.isMultipart {
            if let boundary = part.parameters["boundary"], !boundary.isEmpty {
                if depth < limits.maxDepth {
                    let ending = try parseMultipart(&part, boundary: Array("--\(boundary)".utf8), outer: boundaries, depth: depth)
                    finish(&part, bodyStartLine: bodyStartLine, ending: ending)
                    return (part, ending)
                }
                part.defects.append(.nestingTooDeep)
            } else {
                part.defects.append(.missingBoundary)
            }
        } else if part.isMessage, ["7bit", "8bit", "binary"].contains(part.transferEncoding) {
            // RFC 2046 §5.2.1: an encapsulated message is parsed only when not encoded.
            if depth < limits.maxDepth {
                let (inner, ending) = try parsePart(boundaries: boundaries, depth: depth + 1, defaultType: ("text", "plain"))
                part.message = inner
                finish(&part, bodyStartLine: bodyStartLine, ending: ending)
                return (part, ending)
            }
            part.defects.append(.nestingTooDeep)
        }
        let ending = try skip(until: boundaries)
        finish(&part, bodyStartLine: bodyStartLine, ending: ending)
        return (part, ending)
    }

    /// Reads the preamble, the body parts and the epilogue; returns the outer delimiter that
    /// ended the multipart (nil at the end of input).
    mutating func parseMultipart(_ part: inout MIMEPart, boundary: [UInt8], outer: [[UInt8]], depth: Int) throws(ByteSourceError) -> Delimiter? {
        let stack = outer + [boundary]
        let own = stack.count - 1
        let childType = part.subtype == "digest" ? ("message", "rfc822") : ("text", "plain")
        var next = try skip(until: stack)  // the preamble
        while true {
            guard let delimiter = next else {
                part.defects.append(.missingClosingBoundary)
                if part.parts.isEmpty { part.defects.append(.noParts) }
                return nil
            }
            if delimiter.level < own {
                part.defects.append(.missingClosingBoundary)
                if part.parts.isEmpty { part.defects.append(.noParts) }
                return delimiter
            }
            if delimiter.isClose {
                if part.parts.isEmpty { part.defects.append(.noParts) }
                return try skip(until: outer)  // the epilogue
            }
            if partCount >= limits.maxParts {
                part.defects.append(.tooManyParts)
                return try skipToOuter(stack: stack, own: own)
            }
            let (child, ending) = try parsePart(boundaries: stack, depth: depth + 1, defaultType: childType)
            part.parts.append(child)
            next = ending
        }
    }

    /// After the part limit: everything up to this multipart's end is left unparsed.
    mutating func skipToOuter(stack: [[UInt8]], own: Int) throws(ByteSourceError) -> Delimiter? {
        while let delimiter = try skip(until: stack) {
            if delimiter.level < own { return delimiter }
            if delimiter.isClose { return try skip(until: Array(stack.dropLast())) }
        }
        return nil
    }

    /// Reads lines until a delimiter of `boundaries` (returned) or the end of input (nil).
    mutating func skip(until boundaries: [[UInt8]]) throws(ByteSourceError) -> Delimiter? {
        while let line = try reader.next(keep: boundaries.isEmpty ? 0 : Self.delimiterPrefix) {
            if let delimiter = match(line, boundaries) { return delimiter }
        }
        return nil
    }

    /// Sets the body's extent and line count from how it ended. RFC 2046 §5.1.1: the line
    /// break before a delimiter belongs to the delimiter. When that line break is the one
    /// ending the part's header section (a header, then straight away a delimiter), the
    /// header is shortened by it, so a part never reaches past the end its parent sees.
    /// Nested parts ending at the same delimiter are finished by the same rule, so they stay
    /// inside.
    func finish(_ part: inout MIMEPart, bodyStartLine: Int, ending: Delimiter?) {
        guard let ending else {
            part.bodyLength = reader.source.count - part.bodyOffset
            part.bodyLines = reader.lineCount - bodyStartLine
            return
        }
        let end = ending.line.start - (ending.previous?.terminatorLength ?? 0)
        if end < part.offset {
            // Nothing of the part is before the delimiter's line break (an empty message
            // inside a message/rfc822 whose header ends at the delimiter): it sits there,
            // empty, inside its parent.
            part.offset = end
        }
        if end < part.bodyOffset {
            part.headerLength = end - part.offset
            part.header.length = part.headerLength
            part.bodyOffset = end
        }
        part.bodyLength = end - part.bodyOffset
        let lines = ending.linesBefore - bodyStartLine
        let lastIsBlank = ending.previous?.isBlank ?? false
        part.bodyLines = part.bodyLength == 0 ? 0 : (lastIsBlank ? lines - 1 : lines)
    }

    /// RFC 2046 §5.1.1: "--" boundary, optionally "--", then only white space. Innermost
    /// boundaries are tried first.
    func match(_ line: LineReader.Line, _ boundaries: [[UInt8]]) -> Delimiter? {
        guard line.prefix.count >= 2, line.prefix[0] == 0x2D, line.prefix[1] == 0x2D else { return nil }
        for level in boundaries.indices.reversed() {
            let boundary = boundaries[level]
            guard line.prefix.count >= boundary.count, line.prefix.starts(with: boundary) else { continue }
            var rest = line.prefix[boundary.count...]
            var isClose = false
            if rest.starts(with: [0x2D, 0x2D]) {
                isClose = true
                rest = rest.dropFirst(2)
            }
            guard line.prefix.count == line.length, rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) else { continue }
            return Delimiter(level: level, isClose: isClose, line: line, linesBefore: reader.lineCount - 1, previous: reader.previousLine)
        }
        return nil
    }
}
