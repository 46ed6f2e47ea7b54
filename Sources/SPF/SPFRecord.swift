import DNS

/// A parsed SPF record (RFC 7208 §4.5, §4.6.1, §12): its directives in order and its
/// modifiers. Parsing checks the whole record, since "if there are any syntax errors
/// anywhere in the record, check_host() returns immediately with the result 'permerror'"
/// (§4.6).
public struct SPFRecord: Hashable, Sendable {
    public var directives: [Directive]
    /// redirect= (RFC 7208 §6.1).
    public var redirect: MacroString?
    /// exp= (RFC 7208 §6.2).
    public var explanation: MacroString?
    /// Modifiers this implementation does not know, kept in order; they do not change the
    /// result (RFC 7208 §6).
    public var unknownModifiers: [UnknownModifier]

    /// version = "v=spf1", case-insensitive, ended by a space or the end of the record
    /// (RFC 7208 §4.5): "v=spf10" is not an SPF record.
    public static func hasVersion(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= version.count, bytes.prefix(version.count).map(ASCII.lowercased).elementsEqual(version) else { return false }
        return bytes.count == version.count || bytes[version.count] == UInt8(ascii: " ")
    }

    static let version = Array("v=spf1".utf8)

    /// Parses a record; errors name the offending term and its column (1-based octets).
    public init(parsing text: String) throws(SPFSyntaxError) {
        guard Self.hasVersion(text) else {
            throw SPFSyntaxError(term: String(text.prefix(Self.version.count)), column: 1, reason: "an SPF record begins with 'v=spf1' and a space")
        }
        directives = []
        redirect = nil
        explanation = nil
        unknownModifiers = []
        // terms = *( 1*SP ( directive / modifier ) ), record = version terms *SP: terms are
        // the runs of anything but spaces.
        let bytes = Array(text.utf8)
        var index = Self.version.count
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: " ") {
                index += 1
                continue
            }
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") { index += 1 }
            try parseTerm(bytes[start..<index])
        }
    }

    private mutating func parseTerm(_ term: ArraySlice<UInt8>) throws(SPFSyntaxError) {
        let parser = TermParser(term: term)
        if let (name, value) = parser.modifierParts() {
            switch name.lowercased() {
            case "redirect":
                // RFC 7208 §6: redirect and exp "MUST NOT appear in a record more than once each".
                guard redirect == nil else { throw parser.error("redirect= appears more than once") }
                redirect = try parser.domainSpec(value, for: "redirect=")
            case "exp":
                guard explanation == nil else { throw parser.error("exp= appears more than once") }
                explanation = try parser.domainSpec(value, for: "exp=")
            default:
                do throws(MacroSyntaxError) {
                    unknownModifiers.append(UnknownModifier(name: name, value: try MacroString(parsing: value, as: .unknownModifier)))
                } catch {
                    throw parser.error(error.reason, at: value.startIndex + error.offset)
                }
            }
        } else {
            directives.append(try parser.directive())
        }
    }
}

/// A qualifier and a mechanism (RFC 7208 §4.6.2).
public struct Directive: Hashable, Sendable, CustomStringConvertible {
    public var qualifier: Qualifier
    public var mechanism: Mechanism
    /// The term as written in the record, e.g. "-ip4:192.0.2.0/24".
    public var description: String

    public init(qualifier: Qualifier, mechanism: Mechanism, description: String) {
        self.qualifier = qualifier
        self.mechanism = mechanism
        self.description = description
    }
}

/// RFC 7208 §4.6.2: the result a matching mechanism produces; "+" when none is written.
public enum Qualifier: Character, Hashable, Sendable {
    case pass = "+"
    case fail = "-"
    case softfail = "~"
    case neutral = "?"

    public var result: SPFResult {
        switch self {
        case .pass: return .pass
        case .fail: return .fail
        case .softfail: return .softfail
        case .neutral: return .neutral
        }
    }
}

/// The mechanisms of RFC 7208 §5; a domain-spec left out means <domain>.
public enum Mechanism: Hashable, Sendable {
    case all
    case include(MacroString)
    case a(MacroString?, PrefixLengths)
    case mx(MacroString?, PrefixLengths)
    case ptr(MacroString?)
    case ip4(IPAddress, prefixLength: Int)
    case ip6(IPAddress, prefixLength: Int)
    case exists(MacroString)

    /// RFC 7208 §4.6.4: "the 'include', 'a', 'mx', 'ptr', and 'exists' mechanisms, and the
    /// 'redirect' modifier" count against the limit of 10 DNS-querying terms.
    public var queriesDNS: Bool {
        switch self {
        case .include, .a, .mx, .ptr, .exists: return true
        case .all, .ip4, .ip6: return false
        }
    }
}

/// dual-cidr-length (RFC 7208 §5.6): the prefix lengths to compare an IPv4 and an IPv6 <ip>
/// with; the defaults compare whole addresses.
public struct PrefixLengths: Hashable, Sendable {
    public var ipv4: Int
    public var ipv6: Int
    public init(ipv4: Int = 32, ipv6: Int = 128) {
        self.ipv4 = ipv4
        self.ipv6 = ipv6
    }
    /// The length that applies to `ip`'s family.
    public func length(for ip: IPAddress) -> Int {
        ip.isIPv4 ? ipv4 : ipv6
    }
}

/// unknown-modifier = name "=" macro-string (RFC 7208 §4.6.1).
public struct UnknownModifier: Hashable, Sendable {
    public var name: String
    public var value: MacroString
}

/// Why a record is not valid SPF: the term as written, its column in the record (counting
/// octets from 1), and what is wrong with it.
public struct SPFSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var term: String
    public var column: Int
    public var reason: String

    public init(term: String, column: Int, reason: String) {
        self.term = term
        self.column = column
        self.reason = reason
    }

    public var description: String { "'\(term)' at column \(column): \(reason)" }
}

/// Parses one term; its slice indices are octet offsets into the record.
private struct TermParser {
    let term: ArraySlice<UInt8>

    var text: String { String(decoding: term, as: UTF8.self) }

    func error(_ reason: String, at index: Int? = nil) -> SPFSyntaxError {
        SPFSyntaxError(term: text, column: (index ?? term.startIndex) + 1, reason: reason)
    }

    /// RFC 7208 §4.6.1: a modifier is `name "=" ...` with name = ALPHA *( ALPHA / DIGIT / "-"
    /// / "_" / "." ), the "=" "immediately after the name, and before any ':' or '/'". A term
    /// that is not that is a directive, so "1up=foo" and "=all" are bad mechanisms.
    func modifierParts() -> (name: String, value: ArraySlice<UInt8>)? {
        guard let first = term.first, ASCII.isLetter(first) else { return nil }
        var index = term.startIndex
        while index < term.endIndex, Self.isNameCharacter(term[index]) { index += 1 }
        guard index < term.endIndex, term[index] == UInt8(ascii: "=") else { return nil }
        return (String(decoding: term[term.startIndex..<index], as: UTF8.self), term[(index + 1)...])
    }

    private static func isNameCharacter(_ byte: UInt8) -> Bool {
        ASCII.isLetter(byte) || ASCII.isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
    }

    func domainSpec(_ bytes: ArraySlice<UInt8>, for owner: String) throws(SPFSyntaxError) -> MacroString {
        guard !bytes.isEmpty else { throw error("\(owner) needs a domain", at: bytes.startIndex) }
        do throws(MacroSyntaxError) {
            return try MacroString(parsing: bytes, as: .domainSpec)
        } catch {
            throw self.error(error.reason, at: bytes.startIndex + error.offset)
        }
    }

    func directive() throws(SPFSyntaxError) -> Directive {
        var index = term.startIndex
        var qualifier = Qualifier.pass
        if let written = term.first.flatMap({ Qualifier(rawValue: Character(Unicode.Scalar($0))) }) {
            qualifier = written
            index += 1
        }
        let nameStart = index
        while index < term.endIndex, term[index] != UInt8(ascii: ":"), term[index] != UInt8(ascii: "/") { index += 1 }
        let name = String(decoding: term[nameStart..<index].map(ASCII.lowercased), as: UTF8.self)
        let rest = term[index...]
        let mechanism: Mechanism
        switch name {
        case "all":
            guard rest.isEmpty else { throw error("'all' takes no argument", at: rest.startIndex) }
            mechanism = .all
        case "include":
            mechanism = .include(try requiredDomainSpec(rest, for: "include"))
        case "exists":
            mechanism = .exists(try requiredDomainSpec(rest, for: "exists"))
        case "a", "mx":
            let (domain, lengths) = try domainAndPrefixLengths(rest, for: name)
            mechanism = name == "a" ? .a(domain, lengths) : .mx(domain, lengths)
        case "ptr":
            if rest.isEmpty {
                mechanism = .ptr(nil)
            } else {
                mechanism = .ptr(try requiredDomainSpec(rest, for: "ptr"))
            }
        case "ip4", "ip6":
            mechanism = try network(rest, for: name)
        default:
            if term.contains(UInt8(ascii: "=")) {
                throw error("not a modifier: a modifier's name begins with a letter, has only letters, digits, '-', '_' and '.', and is followed by '='", at: nameStart)
            }
            throw error("unknown mechanism '\(String(decoding: term[nameStart..<index], as: UTF8.self))'", at: nameStart)
        }
        return Directive(qualifier: qualifier, mechanism: mechanism, description: text)
    }

    /// ":" domain-spec, as include, exists and (with a domain) ptr require.
    private func requiredDomainSpec(_ rest: ArraySlice<UInt8>, for name: String) throws(SPFSyntaxError) -> MacroString {
        guard rest.first == UInt8(ascii: ":") else {
            throw error(name == "ptr" ? "ptr takes only ':' and a domain" : "\(name) needs ':' and a domain", at: rest.startIndex)
        }
        return try domainSpec(rest.dropFirst(), for: name + ":")
    }

    /// a / mx = name [ ":" domain-spec ] [ dual-cidr-length ] (RFC 7208 §5.3, §5.4). The
    /// prefix lengths are taken from the end, since "/" may also appear inside the domain
    /// ("a:foo:bar/baz.example.com" is valid).
    private func domainAndPrefixLengths(_ rest: ArraySlice<UInt8>, for name: String) throws(SPFSyntaxError) -> (MacroString?, PrefixLengths) {
        var remaining = rest
        var lengths = PrefixLengths()
        if let (digits, slash) = Self.trailingPrefix(remaining), slash > remaining.startIndex, remaining[slash - 1] == UInt8(ascii: "/") {
            // "/" ip6-cidr-length, that is "//" and the digits.
            lengths.ipv6 = try prefixLength(digits, maximum: 128)
            remaining = remaining[..<(slash - 1)]
        }
        if let (digits, slash) = Self.trailingPrefix(remaining) {
            lengths.ipv4 = try prefixLength(digits, maximum: 32)
            remaining = remaining[..<slash]
        }
        if remaining.isEmpty { return (nil, lengths) }
        guard remaining.first == UInt8(ascii: ":") else {
            throw error("expected ':' and a domain or a prefix length after '\(name)'", at: remaining.startIndex)
        }
        return (try domainSpec(remaining.dropFirst(), for: name + ":"), lengths)
    }

    /// "/" 1*DIGIT at the end of `bytes`: the digits and the index of the "/".
    private static func trailingPrefix(_ bytes: ArraySlice<UInt8>) -> (digits: ArraySlice<UInt8>, slash: Int)? {
        var index = bytes.endIndex
        while index > bytes.startIndex, ASCII.isDigit(bytes[index - 1]) { index -= 1 }
        guard index < bytes.endIndex, index > bytes.startIndex, bytes[index - 1] == UInt8(ascii: "/") else { return nil }
        return (bytes[index...], index - 1)
    }

    /// ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), ip6-cidr-length likewise up to 128:
    /// no leading zeros, within the family's bits.
    private func prefixLength(_ digits: ArraySlice<UInt8>, maximum: Int) throws(SPFSyntaxError) -> Int {
        let written = String(decoding: digits, as: UTF8.self)
        guard !digits.isEmpty, digits.allSatisfy(ASCII.isDigit) else {
            throw error("prefix length '\(written)' is not a number", at: digits.startIndex)
        }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else {
            throw error("prefix length '\(written)' has a leading zero", at: digits.startIndex)
        }
        guard digits.count <= 3, let value = Int(written), value <= maximum else {
            throw error("prefix length \(written) is more than \(maximum)", at: digits.startIndex)
        }
        return value
    }

    /// ip4 = "ip4" ":" ip4-network [ ip4-cidr-length ], ip6 likewise (RFC 7208 §5.6); no
    /// dual lengths, and no address shortened in place of a prefix length.
    private func network(_ rest: ArraySlice<UInt8>, for name: String) throws(SPFSyntaxError) -> Mechanism {
        guard rest.first == UInt8(ascii: ":"), rest.count > 1 else {
            throw error("\(name) needs ':' and a network", at: rest.startIndex)
        }
        let body = rest.dropFirst()
        let slash = body.firstIndex(of: UInt8(ascii: "/"))
        let addressBytes = body[..<(slash ?? body.endIndex)]
        let addressText = String(decoding: addressBytes, as: UTF8.self)
        let isV4 = name == "ip4"
        var prefix = isV4 ? 32 : 128
        if let slash { prefix = try prefixLength(body[(slash + 1)...], maximum: prefix) }
        if isV4 {
            guard let address = Self.dottedQuad(addressBytes) else {
                throw error("'\(addressText)' is not an IPv4 address in dotted-quad form", at: addressBytes.startIndex)
            }
            return .ip4(address, prefixLength: prefix)
        }
        // ip6-network is RFC 4291 §2.2 text, which inet_pton reads; it always has a colon.
        guard addressText.contains(":"), let address = IPAddress(addressText), !address.isIPv4 else {
            throw error("'\(addressText)' is not an IPv6 address", at: addressBytes.startIndex)
        }
        return .ip6(address, prefixLength: prefix)
    }

    /// ip4-network = qnum "." qnum "." qnum "." qnum, qnum 0-255 without leading zeros.
    private static func dottedQuad(_ bytes: ArraySlice<UInt8>) -> IPAddress? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit),
                part.count == 1 || part.first != UInt8(ascii: "0"),
                let value = UInt8(String(decoding: part, as: UTF8.self))
            else { return nil }
            octets.append(value)
        }
        return IPAddress(bytes: octets)
    }
}
