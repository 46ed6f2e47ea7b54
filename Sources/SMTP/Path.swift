/// SMTP mailboxes and paths (RFC 5321 §4.1.2), with UTF-8 under SMTPUTF8 (RFC 6531 §3.3).
///
///     Path      = "<" [ A-d-l ":" ] Mailbox ">"     ; a source route is accepted and ignored (§4.1.1.3, §C)
///     Mailbox   = Local-part "@" ( Domain / address-literal )
///     Local-part = Dot-string / Quoted-string
public struct Mailbox: Hashable, Sendable, CustomStringConvertible {
    /// The local part without quoting: quoted-pairs resolved, surrounding quotes removed.
    public var localPart: String
    /// The domain as given (case kept; compare case-insensitively), or an address literal
    /// including its brackets, e.g. "[192.0.2.1]".
    public var domain: String

    public init(localPart: String, domain: String) {
        self.localPart = localPart
        self.domain = domain
    }

    /// True when the address needs SMTPUTF8 (RFC 6531 §3.2).
    public var needsSMTPUTF8: Bool {
        !localPart.unicodeScalars.allSatisfy(\.isASCII) || !domain.unicodeScalars.allSatisfy(\.isASCII)
    }

    /// The address as written in a path: the local part quoted when it is not a dot-string.
    public var description: String {
        "\(Self.quotedIfNeeded(localPart))@\(domain)"
    }

    static func quotedIfNeeded(_ localPart: String) -> String {
        var scanner = PathScanner(Array(localPart.utf8), allowUTF8: true)
        if scanner.dotString() != nil, scanner.atEnd { return localPart }
        var out = "\""
        for scalar in localPart.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out + "\""
    }
}

/// MAIL FROM's path: a mailbox, or the null path "<>" of bounces (RFC 5321 §4.5.5).
public enum ReversePath: Hashable, Sendable, CustomStringConvertible {
    case null
    case mailbox(Mailbox)

    public var mailbox: Mailbox? {
        if case let .mailbox(mailbox) = self { return mailbox }
        return nil
    }

    public var description: String {
        switch self {
        case .null: return "<>"
        case let .mailbox(mailbox): return "<\(mailbox)>"
        }
    }
}

/// RCPT TO's path: a mailbox, or "<Postmaster>" without a domain, which every server must
/// accept (RFC 5321 §4.1.1.3).
public enum ForwardPath: Hashable, Sendable, CustomStringConvertible {
    case postmaster
    case mailbox(Mailbox)

    public var mailbox: Mailbox? {
        if case let .mailbox(mailbox) = self { return mailbox }
        return nil
    }

    public var description: String {
        switch self {
        case .postmaster: return "<Postmaster>"
        case let .mailbox(mailbox): return "<\(mailbox)>"
        }
    }
}

public enum PathError: Error, Hashable, Sendable, CustomStringConvertible {
    case missingAngleBrackets
    case invalidRoute
    case invalidLocalPart
    case missingAt
    case invalidDomain
    case invalidAddressLiteral
    case nonASCIIWithoutSMTPUTF8
    case tooLong(Int)
    case trailingCharacters

    public var description: String {
        switch self {
        case .missingAngleBrackets: return "address must be enclosed in <>"
        case .invalidRoute: return "invalid source route"
        case .invalidLocalPart: return "invalid local part"
        case .missingAt: return "missing @domain"
        case .invalidDomain: return "invalid domain"
        case .invalidAddressLiteral: return "invalid address literal"
        case .nonASCIIWithoutSMTPUTF8: return "non-ASCII address without SMTPUTF8"
        case let .tooLong(length): return "path of \(length) octets is too long"
        case .trailingCharacters: return "unexpected characters after the address"
        }
    }
}

public enum Path {
    /// RFC 5321 §4.5.3.1.3 sets 256 octets as the minimum a server must accept; real mail
    /// (SRS, VERP, long subaddresses) goes beyond, so the limit is twice that.
    public static let maxLength = 512

    /// Parses a reverse path at the start of `bytes`; returns it and the octets consumed.
    public static func parseReverse(_ bytes: ArraySlice<UInt8>, allowUTF8: Bool) throws(PathError) -> (ReversePath, Int) {
        if bytes.starts(with: Array("<>".utf8)) { return (.null, 2) }
        let (mailbox, length) = try parse(bytes, allowUTF8: allowUTF8)
        return (.mailbox(mailbox), length)
    }

    /// Parses a forward path at the start of `bytes`; "<Postmaster>" (any case) stands alone.
    public static func parseForward(_ bytes: ArraySlice<UInt8>, allowUTF8: Bool) throws(PathError) -> (ForwardPath, Int) {
        let postmaster = Array("<postmaster>".utf8)
        if bytes.count >= postmaster.count, zip(bytes.prefix(postmaster.count), postmaster).allSatisfy({ $0 | 0x20 == $1 | 0x20 }) {
            return (.postmaster, postmaster.count)
        }
        let (mailbox, length) = try parse(bytes, allowUTF8: allowUTF8)
        return (.mailbox(mailbox), length)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, allowUTF8: Bool) throws(PathError) -> (Mailbox, Int) {
        var scanner = PathScanner(Array(bytes), allowUTF8: allowUTF8)
        guard scanner.take(UInt8(ascii: "<")) else { throw .missingAngleBrackets }
        // A-d-l: "@one,@two:" is obsolete; accept and ignore (RFC 5321 §4.1.1.3).
        if scanner.peek == UInt8(ascii: "@") {
            repeat {
                guard scanner.take(UInt8(ascii: "@")), scanner.domain() != nil else { throw .invalidRoute }
            } while scanner.take(UInt8(ascii: ","))
            guard scanner.take(UInt8(ascii: ":")) else { throw .invalidRoute }
        }
        let localPart: String
        if scanner.peek == UInt8(ascii: "\"") {
            guard let quoted = scanner.quotedString() else { throw .invalidLocalPart }
            localPart = quoted
        } else {
            guard let dotString = scanner.dotString() else {
                if scanner.sawNonASCII && !allowUTF8 { throw .nonASCIIWithoutSMTPUTF8 }
                throw .invalidLocalPart
            }
            localPart = dotString
        }
        guard scanner.take(UInt8(ascii: "@")) else { throw .missingAt }
        let domain: String
        if scanner.peek == UInt8(ascii: "[") {
            guard let literal = scanner.addressLiteral() else { throw .invalidAddressLiteral }
            domain = literal
        } else {
            guard let name = scanner.domain() else {
                if scanner.sawNonASCII && !allowUTF8 { throw .nonASCIIWithoutSMTPUTF8 }
                throw .invalidDomain
            }
            domain = name
            // A character a domain cannot have, e.g. "exa_mple.org".
            if let next = scanner.peek, next != UInt8(ascii: ">") { throw .invalidDomain }
        }
        guard !scanner.atEnd else { throw .missingAngleBrackets }
        guard scanner.take(UInt8(ascii: ">")) else { throw .trailingCharacters }
        guard scanner.position <= maxLength else { throw .tooLong(scanner.position) }
        return (Mailbox(localPart: localPart, domain: domain), scanner.position)
    }
}

/// The RFC 5321 §4.1.2 grammar over octets; UTF-8 (RFC 6531 §3.3 UTF8-non-ascii) where
/// allowed.
struct PathScanner {
    let bytes: [UInt8]
    let allowUTF8: Bool
    var position = 0
    var sawNonASCII = false

    init(_ bytes: [UInt8], allowUTF8: Bool) {
        self.bytes = bytes
        self.allowUTF8 = allowUTF8
    }

    var atEnd: Bool { position >= bytes.count }
    var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func take(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        position += 1
        return true
    }

    /// RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~; plus UTF-8 under SMTPUTF8.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: return true
        default: return Array("!#$%&'*+-/=?^_`{|}~".utf8).contains(byte)
        }
    }

    /// One valid UTF-8 sequence of a non-ASCII scalar at the position, if allowed.
    mutating func utf8Scalar() -> Bool {
        guard let first = peek, first >= 0x80 else { return false }
        sawNonASCII = true
        guard allowUTF8 else { return false }
        let length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC2 ? 2 : 0
        guard length > 0, position + length <= bytes.count,
            String(validating: bytes[position..<position + length], as: UTF8.self) != nil
        else { return false }
        position += length
        return true
    }

    mutating func atom() -> Bool {
        let start = position
        while let byte = peek {
            if Self.isAtext(byte) {
                position += 1
            } else if byte >= 0x80 {
                guard utf8Scalar() else { break }
            } else {
                break
            }
        }
        return position > start
    }

    /// Dot-string = Atom *("." Atom)
    mutating func dotString() -> String? {
        let start = position
        guard atom() else { return nil }
        while peek == UInt8(ascii: "."), position + 1 < bytes.count {
            let dot = position
            position += 1
            guard atom() else {
                position = dot
                break
            }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Quoted-string with quoted-pairs resolved (RFC 5321 §4.1.2: qtextSMTP / %d92 %d32-126).
    mutating func quotedString() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var out: [UInt8] = []
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count, (32...126).contains(bytes[position + 1]) else { return nil }
                out.append(bytes[position + 1])
                position += 2
            case 32...126:
                out.append(byte)
                position += 1
            case 0x80...:
                let start = position
                guard utf8Scalar() else { return nil }
                out += bytes[start..<position]
            default:
                return nil
            }
        }
        return nil
    }

    /// Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str], or a U-label
    /// under SMTPUTF8 (its IDNA validity is the resolver's and the config's business).
    mutating func domain() -> String? {
        let start = position
        repeat {
            let labelStart = position
            while let byte = peek {
                if Self.isLetDig(byte) || byte == UInt8(ascii: "-") {
                    position += 1
                } else if byte >= 0x80 {
                    guard utf8Scalar() else { break }
                } else {
                    break
                }
            }
            let label = bytes[labelStart..<position]
            guard let first = label.first, let last = label.last, first != UInt8(ascii: "-"), last != UInt8(ascii: "-"), label.count <= 63 else {
                position = start
                return nil
            }
        } while take(UInt8(ascii: "."))
        guard position - start <= 255 else { return nil }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    static func isLetDig(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
    }

    /// address-literal = "[" ( IPv4 / "IPv6:" IPv6 / General ) "]" (RFC 5321 §4.1.3).
    mutating func addressLiteral() -> String? {
        let start = position
        guard take(UInt8(ascii: "[")) else { return nil }
        guard let close = bytes[position...].firstIndex(of: UInt8(ascii: "]")) else { return nil }
        let inside = String(decoding: bytes[position..<close], as: UTF8.self)
        position = close + 1
        if inside.lowercased().hasPrefix("ipv6:") {
            guard Self.isIPv6(String(inside.dropFirst(5))) else { return nil }
        } else if inside.contains(":") {
            // General-address-literal: Standardized-tag ":" 1*dcontent; no tag other than
            // IPv6 is registered, so it cannot be delivered to.
            return nil
        } else {
            guard Self.isIPv4(inside) else { return nil }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && (Int(part) ?? 256) <= 255
        }
    }

    static func isIPv6(_ text: String) -> Bool {
        var groups = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var maxGroups = 8
        if let last = groups.last, last.contains(".") {
            guard isIPv4(last) else { return false }
            groups.removeLast()
            maxGroups = 6
        }
        let characters = Array(text)
        let compressed = zip(characters, characters.dropFirst()).filter { $0 == ":" && $1 == ":" }.count
        guard compressed <= 1 else { return false }
        let nonEmpty = groups.filter { !$0.isEmpty }
        guard nonEmpty.allSatisfy({ $0.count <= 4 && $0.allSatisfy(\.isHexDigit) }) else { return false }
        return compressed == 1 ? nonEmpty.count < maxGroups : (nonEmpty.count == maxGroups && groups.count == maxGroups)
    }
}
