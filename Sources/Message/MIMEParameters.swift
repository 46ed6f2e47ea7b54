/// A header value with parameters: Content-Type, Content-Disposition (RFC 2045 §5.1,
/// RFC 2183 §2).
///
/// Grammar (RFC 2045 §5.1): `value *(";" attribute "=" (token / quoted-string))`, with RFC 822
/// comments and whitespace (CFWS) allowed between the parts, e.g. RFC 2045's own example
/// `text/plain; charset=us-ascii (Plain text)`. On top of that:
/// - RFC 2231 §3 continuations (`name*0`, `name*1`, ...) are joined in section order, and
///   RFC 2231 §4 extended values (`name*=charset'language'%XX...`, `name*0*=...`) are
///   percent-decoded and converted from their charset (`Charset`); per §4.1 only the first
///   section carries the charset, and extended and plain sections may be mixed;
/// - when a parameter is given both plainly and in RFC 2231 form (Outlook sends `filename=`
///   as a fallback next to `filename*=`), the RFC 2231 form wins, as in mainstream clients;
/// - RFC 2047 encoded-words inside plain parameter values are decoded, as mainstream clients
///   do (Outlook and Gmail send `filename="=?UTF-8?B?...?="`, though RFC 2047 §5 forbids it),
///   except in `boundary`, which must be kept exactly as written (RFC 2046 §5.1.1).
///
/// Tolerated, with a defect noted: a missing ";" between parameters (RFC 2231's own §4.1
/// example omits them), whitespace inside unquoted values (`name=My File.pdf`), characters
/// RFC 2045 calls tspecials inside unquoted values (`boundary==_Part_1`), unterminated quoted
/// strings and comments (read to the end), parameters without "=" (skipped), duplicates (the
/// first one counts, as the later one could be a smuggled override).
/// Names are case-insensitive (RFC 2045 §5.1) and stored lowercased. Linear in the input.
public struct MIMEParameters: Hashable, Sendable {
    /// The main value lowercased, e.g. "text/plain" or "attachment"; "" when absent.
    public var value: String
    /// Parameters by lowercased name, values decoded (see the type's description).
    public var parameters: [String: String]
    /// What was wrong, for diagnostics; parsing still returns what it could.
    public var defects: [String]

    /// Highest RFC 2231 §3 section number accepted, plus one; sections beyond are dropped with
    /// a defect (real values need a handful).
    static let maxSections = 1000
    /// At most this many defects are listed, so hostile input cannot grow the list unbounded.
    static let maxDefects = 32
    /// Names quoted in defect messages are cut to this many characters.
    static let maxNameInDefect = 64

    public init(value: String = "", parameters: [String: String] = [:], defects: [String] = []) {
        self.value = value
        self.parameters = parameters
        self.defects = defects
    }

    public init(parsing headerValue: String) {
        var parser = ParameterParser(bytes: Array(headerValue.utf8))
        let (value, expectSeparator) = parser.parseMainValue()
        parser.parseParameters(expectSeparator: expectSeparator)
        var resolver = ParameterResolver(defects: parser.defects)
        let parameters = resolver.resolve(parser.parameters)
        self.init(value: value, parameters: parameters, defects: resolver.defects)
    }

    /// The value of the parameter `name` (case-insensitive).
    public subscript(_ name: String) -> String? {
        parameters[Charset.lowercasedASCII(name)]
    }

    static func addDefect(_ message: String, to defects: inout [String]) {
        if defects.count < maxDefects {
            defects.append(message)
        } else if defects.count == maxDefects {
            defects.append("further defects not listed")
        }
    }

    static func describe(_ name: String) -> String {
        let cut = name.count > maxNameInDefect ? String(name.prefix(maxNameInDefect)) + "..." : name
        return "\"\(cut)\""
    }
}

/// A parameter as written, before RFC 2231 processing.
private struct RawParameter {
    /// Lowercased, RFC 2231 "*" markers still in place.
    var name: String
    /// Unquoted, octets as written otherwise.
    var value: String
}

/// The lexical pass over the header value (RFC 2045 §5.1, RFC 822 §3.3 comments).
private struct ParameterParser {
    let bytes: [UInt8]
    var index = 0
    var defects: [String] = []
    var parameters: [RawParameter] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private static let semicolon: UInt8 = 0x3B
    private static let equals: UInt8 = 0x3D
    private static let quote: UInt8 = 0x22
    private static let backslash: UInt8 = 0x5C
    private static let openParen: UInt8 = 0x28
    private static let closeParen: UInt8 = 0x29
    private static let slash: UInt8 = 0x2F

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    private mutating func defect(_ message: String) {
        MIMEParameters.addDefect(message, to: &defects)
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Skips whitespace and RFC 822 comments.
    private mutating func skipCFWS() {
        while let byte = current {
            if Self.isWhitespace(byte) {
                index += 1
            } else if byte == Self.openParen {
                skipComment()
            } else {
                break
            }
        }
    }

    private mutating func skipWhitespace() {
        while let byte = current, Self.isWhitespace(byte) { index += 1 }
    }

    /// Skips a comment starting at "(": nested, with quoted-pairs (RFC 822 §3.4.3).
    private mutating func skipComment() {
        var depth = 0
        while let byte = current {
            if byte == Self.backslash {
                index = min(index + 2, bytes.count)
                continue
            }
            if byte == Self.openParen {
                depth += 1
            } else if byte == Self.closeParen {
                depth -= 1
                if depth == 0 {
                    index += 1
                    return
                }
            }
            index += 1
        }
        defect("unterminated comment")
    }

    /// Reads a quoted-string starting at the opening quote: backslash escapes any octet
    /// (RFC 822 §3.4.4), line breaks of folding are removed (RFC 5322 §2.2.3). Unterminated:
    /// the rest of the input, with a defect.
    private mutating func readQuotedString() -> [UInt8] {
        index += 1
        var out: [UInt8] = []
        while let byte = current {
            if byte == Self.quote {
                index += 1
                return out
            }
            if byte == Self.backslash, index + 1 < bytes.count {
                out.append(bytes[index + 1])
                index += 2
                continue
            }
            if byte != 0x0D, byte != 0x0A { out.append(byte) }
            index += 1
        }
        defect("unterminated quoted string")
        return out
    }

    private mutating func readRun(until stop: (UInt8) -> Bool) -> [UInt8] {
        let start = index
        while let byte = current, !stop(byte) { index += 1 }
        return Array(bytes[start..<index])
    }

    private static func endsName(_ byte: UInt8) -> Bool {
        byte == equals || byte == semicolon || byte == quote || byte == openParen || isWhitespace(byte)
    }

    /// Reads the main value (`type/subtype` or a disposition type), lowercased. Returns whether
    /// a ";" is expected next (false when there was no main value at all).
    mutating func parseMainValue() -> (String, Bool) {
        skipCFWS()
        guard let first = current else { return ("", false) }
        if first == Self.semicolon {
            defect("missing value before parameters")
            return ("", false)
        }
        if first == Self.quote {
            defect("quoted main value")
            let value = readQuotedString()
            return (Charset.lowercasedASCII(String(decoding: value, as: UTF8.self)), true)
        }
        let start = index
        var value = readRun { $0 == Self.slash || Self.endsName($0) }
        skipCFWS()
        if current == Self.equals {
            // The header starts with a parameter: there is no main value.
            defect("missing value before parameters")
            index = start
            return ("", false)
        }
        if current == Self.slash {
            index += 1
            skipCFWS()
            value.append(Self.slash)
            value.append(contentsOf: readRun { Self.endsName($0) })
        }
        return (Charset.lowercasedASCII(String(decoding: value, as: UTF8.self)), true)
    }

    mutating func parseParameters(expectSeparator: Bool) {
        var expectSeparator = expectSeparator
        while true {
            skipCFWS()
            guard let byte = current else { return }
            if byte == Self.semicolon {
                index += 1
                expectSeparator = false
                continue
            }
            if expectSeparator { defect("missing ';' before parameter") }
            parseParameter()
            expectSeparator = true
        }
    }

    /// Parses `attribute = value` at a non-separator octet; always consumes at least one octet.
    private mutating func parseParameter() {
        let nameBytes = readRun { Self.endsName($0) }
        guard !nameBytes.isEmpty else {
            defect("unexpected character where a parameter name belongs")
            skipToSeparator()
            return
        }
        let name = Charset.lowercasedASCII(String(decoding: nameBytes, as: UTF8.self))
        skipCFWS()
        guard current == Self.equals else {
            defect("parameter \(MIMEParameters.describe(name)) has no '=' and no value")
            skipToSeparator()
            return
        }
        index += 1
        skipCFWS()
        guard let first = current, first != Self.semicolon else {
            defect("parameter \(MIMEParameters.describe(name)) has an empty value")
            parameters.append(RawParameter(name: name, value: ""))
            return
        }
        let value = first == Self.quote ? readQuotedString() : readUnquotedValue(name: name)
        parameters.append(RawParameter(name: name, value: String(decoding: value, as: UTF8.self)))
    }

    /// Reads a token value. RFC 2045 §5.1 forbids tspecials in tokens, but senders write
    /// `boundary==_Part` or `name=a(1).pdf` unquoted, so only ";" and whitespace end a run. After
    /// whitespace, "(" starts a comment; other text either starts the next parameter (a missing
    /// ";") when it looks like `name=`, or continues this value (unquoted spaces).
    private mutating func readUnquotedValue(name: String) -> [UInt8] {
        func endsRun(_ byte: UInt8) -> Bool { byte == Self.semicolon || Self.isWhitespace(byte) }
        var value = readRun(until: endsRun)
        var reported = false
        while true {
            let whitespaceStart = index
            skipWhitespace()
            guard let byte = current, byte != Self.semicolon else { return value }
            if byte == Self.openParen {
                skipComment()
                continue
            }
            if looksLikeParameterStart() {
                return value
            }
            if !reported {
                defect("unquoted value of \(MIMEParameters.describe(name)) contains whitespace")
                reported = true
            }
            value.append(contentsOf: bytes[whitespaceStart..<index].filter { $0 != 0x0D && $0 != 0x0A })
            value.append(contentsOf: readRun(until: endsRun))
        }
    }

    /// Whether `name=` (with optional whitespace before "=") starts at the current index.
    private func looksLikeParameterStart() -> Bool {
        var probe = index
        while probe < bytes.count, !Self.endsName(bytes[probe]) { probe += 1 }
        guard probe > index else { return false }
        while probe < bytes.count, Self.isWhitespace(bytes[probe]) { probe += 1 }
        return probe < bytes.count && bytes[probe] == Self.equals
    }

    /// Skips junk up to the next ";" (quoted strings and comments included).
    private mutating func skipToSeparator() {
        let start = index
        while let byte = current, byte != Self.semicolon {
            if byte == Self.quote {
                _ = readQuotedString()
            } else if byte == Self.openParen {
                skipComment()
            } else {
                index += 1
            }
        }
        // Never stall: callers only arrive here off a separator, but progress is guaranteed anyway.
        if index == start, let byte = current, byte != Self.semicolon { index += 1 }
    }
}

/// The semantic pass: RFC 2231 continuations and extended values, RFC 2047 words, duplicates.
private struct ParameterResolver {
    var defects: [String]

    private mutating func defect(_ message: String) {
        MIMEParameters.addDefect(message, to: &defects)
    }

    /// All forms one parameter was given in.
    private struct Forms {
        var plain: String?
        var extended: String?
        var sections: [Int: (value: String, extended: Bool)] = [:]
    }

    mutating func resolve(_ raw: [RawParameter]) -> [String: String] {
        var forms: [String: Forms] = [:]
        var order: [String] = []
        for parameter in raw {
            var name = parameter.name
            // RFC 2231 §4: a trailing "*" marks an extended value.
            var isExtended = false
            if name.hasSuffix("*") {
                isExtended = true
                name.removeLast()
            }
            // RFC 2231 §3: "*" and a decimal section number mark a continuation.
            var section: Int?
            if let star = name.lastIndex(of: "*") {
                let digits = name[name.index(after: star)...]
                if !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
                    guard let number = Int(digits), number < MIMEParameters.maxSections else {
                        defect("section number of \(MIMEParameters.describe(name)) is too large")
                        continue
                    }
                    section = number
                    name = String(name[..<star])
                }
            }
            guard !name.isEmpty else {
                defect("parameter without a name")
                continue
            }
            if forms[name] == nil {
                forms[name] = Forms()
                order.append(name)
            }
            if let section {
                if forms[name]?.sections[section] != nil {
                    defect("duplicate section \(section) of parameter \(MIMEParameters.describe(name))")
                } else {
                    forms[name]?.sections[section] = (parameter.value, isExtended)
                }
            } else if isExtended {
                if forms[name]?.extended != nil {
                    defect("duplicate parameter \(MIMEParameters.describe(name + "*"))")
                } else {
                    forms[name]?.extended = parameter.value
                }
            } else {
                if forms[name]?.plain != nil {
                    defect("duplicate parameter \(MIMEParameters.describe(name))")
                } else {
                    forms[name]?.plain = parameter.value
                }
            }
        }

        var result: [String: String] = [:]
        for name in order {
            guard let form = forms[name] else { continue }
            result[name] = value(of: name, form)
        }
        return result
    }

    /// Picks the best form: RFC 2231 extended, then continuations, then plain; a form whose
    /// charset is unknown loses to a plain fallback, or else is decoded lossily.
    private mutating func value(of name: String, _ form: Forms) -> String {
        var lossy: String?
        if let extended = form.extended {
            let decoded = decodeExtended(extended, name: name)
            if decoded.exact { return decoded.text }
            lossy = decoded.text
        }
        if !form.sections.isEmpty {
            let joined = joinSections(form.sections, name: name)
            if joined.exact { return joined.text }
            lossy = lossy ?? joined.text
        }
        if let plain = form.plain { return decodeWords(plain, name: name) }
        return lossy ?? ""
    }

    /// RFC 2047 words in a plain value; never in `boundary` (RFC 2046 §5.1.1: compared exactly).
    private func decodeWords(_ value: String, name: String) -> String {
        name == "boundary" ? value : EncodedWord.decode(value)
    }

    /// Splits RFC 2231 §4 `charset'language'rest`; nil without the two quotes.
    private static func splitCharset(_ value: String) -> (charset: String, rest: Substring)? {
        guard let first = value.firstIndex(of: "'") else { return nil }
        let afterFirst = value.index(after: first)
        guard let second = value[afterFirst...].firstIndex(of: "'") else { return nil }
        return (String(value[..<first]), value[value.index(after: second)...])
    }

    /// The decoder for an RFC 2231 charset field: empty means unspecified (§4), read as
    /// US-ASCII (which accepts UTF-8); unknown gives nil with a defect.
    private mutating func decoder(for charset: String, name: String) -> Charset.Decoder? {
        if charset.isEmpty { return .ascii }
        if let decoder = Charset.resolve(charset), decoder.isAvailable { return decoder }
        defect("unknown charset \(MIMEParameters.describe(charset)) in \(MIMEParameters.describe(name + "*"))")
        return nil
    }

    /// Decodes a single extended value (RFC 2231 §4): `charset'language'%XX...`.
    private mutating func decodeExtended(_ value: String, name: String) -> (text: String, exact: Bool) {
        guard let split = Self.splitCharset(value) else {
            defect("extended parameter \(MIMEParameters.describe(name + "*")) lacks charset'language'")
            return (Charset.decode(Self.percentDecode(value[...]), with: .ascii) ?? "", true)
        }
        let octets = Self.percentDecode(split.rest)
        if let decoder = decoder(for: split.charset, name: name), let text = Charset.decode(octets, with: decoder) {
            return (text, true)
        }
        return (String(decoding: octets, as: UTF8.self), false)
    }

    /// Joins RFC 2231 §3 continuations in section order. Runs of extended sections are
    /// percent-decoded and converted together (a character may span sections, §4.1), in the
    /// charset named by the first section; plain sections are taken as written.
    private mutating func joinSections(_ sections: [Int: (value: String, extended: Bool)], name: String) -> (text: String, exact: Bool) {
        let numbers = sections.keys.sorted()
        if let first = numbers.first, first != 0 {
            defect("parameter \(MIMEParameters.describe(name)) continuation starts at section \(first)")
        }
        for (position, number) in numbers.enumerated() where position > 0 && number != numbers[position - 1] + 1 {
            defect("parameter \(MIMEParameters.describe(name)) misses section \(numbers[position - 1] + 1)")
            break
        }

        var decoder: Charset.Decoder = .ascii
        var exact = true
        var anyExtended = false
        var text = ""
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            text += Charset.decode(pending, with: decoder) ?? String(decoding: pending, as: UTF8.self)
            pending.removeAll(keepingCapacity: true)
        }
        for (position, number) in numbers.enumerated() {
            guard let section = sections[number] else { continue }
            guard section.extended else {
                flush()
                text += section.value
                continue
            }
            anyExtended = true
            var encoded = section.value[...]
            if position == 0 {
                if let split = Self.splitCharset(section.value) {
                    encoded = split.rest
                    if let found = self.decoder(for: split.charset, name: name) {
                        decoder = found
                    } else {
                        decoder = .utf8
                        exact = false
                    }
                } else {
                    defect("extended parameter \(MIMEParameters.describe(name + "*0*")) lacks charset'language'")
                }
            }
            pending.append(contentsOf: Self.percentDecode(encoded))
        }
        flush()
        // Only plain sections: the joined value may hold encoded-words, as a plain value may.
        if !anyExtended { text = decodeWords(text, name: name) }
        return (text, exact)
    }

    /// RFC 2231 §4 percent-decoding ("%XX", either case); a "%" without two hex digits is kept.
    private static func percentDecode(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x25, index + 2 < bytes.count,
               let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
