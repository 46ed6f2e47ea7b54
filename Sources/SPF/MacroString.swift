import DNS

/// A macro-string of RFC 7208 §7.1: literal text with `%{...}` macros and the escapes `%%`,
/// `%_` and `%-`, parsed once when the record is parsed and expanded when a term needs it.
public struct MacroString: Hashable, Sendable, CustomStringConvertible {
    public enum Item: Hashable, Sendable {
        /// Visible ASCII other than "%" (macro-literal), and spaces in explanation text.
        case literal(String)
        case macro(Macro)
        /// `%%`, a literal percent sign.
        case percent
        /// `%_`, a space.
        case space
        /// `%-`, a URL-encoded space: "%20".
        case urlEncodedSpace
    }

    /// Where a macro-string stands decides what it may contain.
    public enum Use: Sendable {
        /// A mechanism's or modifier's domain-spec: no spaces, no c/r/t macros (RFC 7208 §7.2),
        /// and it ends in a macro or in "." and a top label (domain-end).
        case domainSpec
        /// An explain-string fetched for exp= (RFC 7208 §6.2): spaces allowed, every macro.
        case explanation
        /// The value of a modifier this implementation does not know: only macro syntax is
        /// checked, as the modifier is never evaluated (RFC 7208 §6).
        case unknownModifier
    }

    public let items: [Item]
    /// The text as written.
    public let description: String

    /// Parses `text` for `use`; the error's offset counts octets from the start of `text`.
    public init(parsing text: String, as use: Use) throws(MacroSyntaxError) {
        try self.init(parsing: Array(text.utf8)[...], as: use)
    }

    init(parsing bytes: ArraySlice<UInt8>, as use: Use) throws(MacroSyntaxError) {
        var items: [Item] = []
        var literal: [UInt8] = []
        var index = bytes.startIndex
        func offset(_ position: Int) -> Int { position - bytes.startIndex }
        func flushLiteral() {
            if !literal.isEmpty { items.append(.literal(String(decoding: literal, as: UTF8.self))) }
            literal = []
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                flushLiteral()
                guard index + 1 < bytes.endIndex else {
                    throw MacroSyntaxError(offset: offset(index), reason: "'%' at the end; a literal '%' is written '%%'")
                }
                switch bytes[index + 1] {
                case UInt8(ascii: "%"): items.append(.percent)
                case UInt8(ascii: "_"): items.append(.space)
                case UInt8(ascii: "-"): items.append(.urlEncodedSpace)
                case UInt8(ascii: "{"):
                    let (macro, end) = try Macro.parse(bytes, openingAt: index, use: use)
                    items.append(.macro(macro))
                    index = end
                    continue
                default:
                    // RFC 7208 §7.3: "A '%' character not followed by a '{', '%', '-', or '_'
                    // character is a syntax error."
                    throw MacroSyntaxError(offset: offset(index), reason: "'%' must be followed by '{', '%', '_' or '-'")
                }
                index += 2
            } else if (0x21...0x7E).contains(byte) || (byte == UInt8(ascii: " ") && use == .explanation) {
                literal.append(byte)
                index += 1
            } else {
                throw MacroSyntaxError(offset: offset(index), reason: "character \(Self.describe(byte)) is not allowed")
            }
        }
        flushLiteral()
        if use == .domainSpec { try Self.checkDomainEnd(items, length: bytes.count) }
        self.items = items
        description = String(decoding: bytes, as: UTF8.self)
    }

    /// Whether any macro of this string is `letter`, e.g. to look up %{p} only when needed.
    public func uses(_ letter: Macro.Letter) -> Bool {
        items.contains { if case let .macro(macro) = $0 { macro.letter == letter } else { false } }
    }

    /// The text with every macro replaced (RFC 7208 §7.3).
    public func expand(in context: MacroContext) -> String {
        var out = ""
        for item in items {
            switch item {
            case let .literal(text): out += text
            case let .macro(macro): out += macro.expand(context.value(of: macro.letter))
            case .percent: out += "%"
            case .space: out += " "
            case .urlEncodedSpace: out += "%20"
            }
        }
        return out
    }

    /// domain-end = ( "." toplabel [ "." ] ) / macro-expand (RFC 7208 §7.1): a domain-spec
    /// that ends in literal text needs at least one dot in that text and a valid top label
    /// after it, so "a:museum", "a:abc.123" and "a:example.com:8080" are syntax errors.
    private static func checkDomainEnd(_ items: [Item], length: Int) throws(MacroSyntaxError) {
        guard case let .literal(text)? = items.last else { return }
        var tail = Substring(text)
        if tail.hasSuffix(".") { tail = tail.dropLast() }
        guard let dot = tail.lastIndex(of: ".") else {
            throw MacroSyntaxError(offset: length - text.utf8.count, reason: "a domain must end in a macro or in '.' and a top label, not '\(text)'")
        }
        let topLabel = tail[tail.index(after: dot)...]
        guard isTopLabel(topLabel) else {
            throw MacroSyntaxError(
                offset: length - text.utf8.count + tail.utf8.distance(from: tail.startIndex, to: topLabel.startIndex),
                reason: "'\(topLabel)' is not a top label (letters, digits and inner hyphens, not all digits)")
        }
    }

    /// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
    /// (RFC 7208 §7.1, after RFC 3696 §2: a top-level domain is not all-numeric).
    static func isTopLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool { ASCII.isLetter(byte) || ASCII.isDigit(byte) }
        guard isAlphanumeric(first), isAlphanumeric(last) else { return false }
        guard bytes.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else { return false }
        return bytes.contains(where: ASCII.isLetter) || bytes.contains(UInt8(ascii: "-"))
    }

    static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16, uppercase: true)
    }
}

/// One `%{...}` macro: a letter, then transformers (a count of right-hand parts and "r" for
/// reversal) and delimiters to split on (RFC 7208 §7.1, §7.3).
public struct Macro: Hashable, Sendable {
    /// RFC 7208 §7.2.
    public enum Letter: Character, Hashable, Sendable, CaseIterable {
        /// `s`: <sender>.
        case sender = "s"
        /// `l`: the local-part of <sender>.
        case localPart = "l"
        /// `o`: the domain of <sender>.
        case senderDomain = "o"
        /// `d`: <domain>, the domain whose record is being evaluated.
        case domain = "d"
        /// `i`: <ip>, IPv6 in dotted nibbles.
        case ip = "i"
        /// `p`: the validated domain name of <ip> (RFC 7208 §5.5).
        case validatedName = "p"
        /// `v`: "in-addr" or "ip6".
        case ipVersion = "v"
        /// `h`: the HELO/EHLO domain.
        case helo = "h"
        /// `c`: the client IP in its usual text form; explanations only.
        case clientIP = "c"
        /// `r`: the receiving host's name; explanations only.
        case receiver = "r"
        /// `t`: the current time in seconds since the epoch; explanations only.
        case timestamp = "t"

        /// RFC 7208 §7.2: "The following macro letters are allowed only in 'exp' text: c, r, t".
        public var isExplanationOnly: Bool { self == .clientIP || self == .receiver || self == .timestamp }
    }

    public var letter: Letter
    /// Written in uppercase: the expansion is URL-escaped (RFC 7208 §7.3).
    public var urlEscaped: Bool
    /// The DIGIT transformer: keep this many right-hand parts (nil keeps all).
    public var rightParts: Int?
    /// The "r" transformer.
    public var reversed: Bool
    /// The characters to split on; empty means ".".
    public var delimiters: [Character]

    public init(letter: Letter, urlEscaped: Bool = false, rightParts: Int? = nil, reversed: Bool = false, delimiters: [Character] = []) {
        self.letter = letter
        self.urlEscaped = urlEscaped
        self.rightParts = rightParts
        self.reversed = reversed
        self.delimiters = delimiters
    }

    /// delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
    static let delimiterSet: Set<UInt8> = Set(".-+,/_=".utf8)
    /// Where counting the parts of a DIGIT transformer stops instead of overflowing: far above
    /// the 127 labels a name can have (RFC 7208 §7.3).
    static let countBound = 100_000

    /// Parses `%{letter *DIGIT ["r"] *delimiter}` starting at the "%"; returns the macro and
    /// the index after the "}".
    static func parse(_ bytes: ArraySlice<UInt8>, openingAt percent: Int, use: MacroString.Use) throws(MacroSyntaxError) -> (Macro, Int) {
        func offset(_ position: Int) -> Int { position - bytes.startIndex }
        var index = percent + 2
        guard index < bytes.endIndex else {
            throw MacroSyntaxError(offset: offset(percent), reason: "unterminated macro, missing '}'")
        }
        let letterByte = bytes[index]
        let lowercase = ASCII.lowercased(letterByte)
        guard let letter = Letter(rawValue: Character(Unicode.Scalar(lowercase))) else {
            throw MacroSyntaxError(offset: offset(index), reason: "unknown macro letter \(MacroString.describe(letterByte))")
        }
        if letter.isExplanationOnly && use == .domainSpec {
            throw MacroSyntaxError(offset: offset(index), reason: "macro letter '\(letter.rawValue)' is allowed only in explanation text")
        }
        var macro = Macro(letter: letter, urlEscaped: lowercase != letterByte)
        index += 1
        let digitsStart = index
        while index < bytes.endIndex, ASCII.isDigit(bytes[index]) { index += 1 }
        if index > digitsStart {
            // A count beyond the number of parts keeps them all (RFC 7208 §7.3), so counting
            // stops at a bound above any name's number of parts instead of overflowing.
            let value = bytes[digitsStart..<index].reduce(0) { min($0 * 10 + Int($1 - 0x30), Self.countBound) }
            guard value > 0 else {
                throw MacroSyntaxError(offset: offset(digitsStart), reason: "the count of parts must be nonzero")
            }
            macro.rightParts = value
        }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "r") || bytes[index] == UInt8(ascii: "R") {
            macro.reversed = true
            index += 1
        }
        while index < bytes.endIndex, delimiterSet.contains(bytes[index]) {
            macro.delimiters.append(Character(Unicode.Scalar(bytes[index])))
            index += 1
        }
        guard index < bytes.endIndex else {
            throw MacroSyntaxError(offset: offset(percent), reason: "unterminated macro, missing '}'")
        }
        guard bytes[index] == UInt8(ascii: "}") else {
            throw MacroSyntaxError(offset: offset(index), reason: "unexpected \(MacroString.describe(bytes[index])) in macro, expected a delimiter or '}'")
        }
        return (macro, index + 1)
    }

    /// RFC 7208 §7.3: split on the delimiters (keeping empty parts), reverse, keep the
    /// right-hand parts, join with "."; then URL-escape for an uppercase letter.
    public func expand(_ value: String) -> String {
        let separators = delimiters.isEmpty ? ["."] : delimiters
        var parts = value.split(omittingEmptySubsequences: false, whereSeparator: separators.contains)
        if reversed { parts.reverse() }
        if let rightParts, rightParts < parts.count { parts = Array(parts.suffix(rightParts)) }
        let joined = parts.joined(separator: ".")
        return urlEscaped ? Self.urlEscape(joined) : joined
    }

    /// Percent-encodes every octet outside RFC 3986 §2.3's "unreserved" set, in uppercase hex.
    static func urlEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if ASCII.isLetter(byte) || ASCII.isDigit(byte) || "-._~".utf8.contains(byte) {
                out.append(Character(Unicode.Scalar(byte)))
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

/// The values macros expand to (RFC 7208 §7.2).
public struct MacroContext: Hashable, Sendable {
    /// <sender>, with "postmaster" for a missing local-part (RFC 7208 §4.3).
    public var sender: String
    public var localPart: String
    public var senderDomain: String
    /// <domain>: changes with include and redirect.
    public var domain: String
    /// <ip>, IPv4-mapped IPv6 already turned into IPv4 (RFC 7208 §5).
    public var ip: IPAddress
    public var helo: String
    /// The receiving host's name, or "unknown" (RFC 7208 §7.3).
    public var receiver: String
    /// Seconds since the epoch.
    public var timestamp: Int
    /// The validated domain name of <ip>, or "unknown" (RFC 7208 §7.3).
    public var validatedName: String

    public init(
        sender: String, localPart: String, senderDomain: String, domain: String, ip: IPAddress, helo: String,
        receiver: String = "unknown", timestamp: Int = 0, validatedName: String = "unknown"
    ) {
        self.sender = sender
        self.localPart = localPart
        self.senderDomain = senderDomain
        self.domain = domain
        self.ip = ip
        self.helo = helo
        self.receiver = receiver
        self.timestamp = timestamp
        self.validatedName = validatedName
    }

    public func value(of letter: Macro.Letter) -> String {
        switch letter {
        case .sender: return sender
        case .localPart: return localPart
        case .senderDomain: return senderDomain
        case .domain: return domain
        case .ip: return ip.spfDottedForm
        case .validatedName: return validatedName
        case .ipVersion: return ip.isIPv4 ? "in-addr" : "ip6"
        case .helo: return helo
        case .clientIP: return ip.description
        case .receiver: return receiver
        case .timestamp: return String(timestamp)
        }
    }
}

/// A macro syntax error; `offset` counts octets from the start of the macro-string.
public struct MacroSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { reason }
}
