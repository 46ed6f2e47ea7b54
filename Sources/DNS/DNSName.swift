/// A domain name as it travels in DNS messages: a sequence of labels of arbitrary octets
/// (RFC 1035 §3.1, RFC 2181 §11), compared case-insensitively for ASCII letters only
/// (RFC 4343 §3).
///
/// This is the resolver's name type. It allows what hostnames do not (underscore labels such
/// as `_dmarc` or `_25._tcp`), so validated hostnames live in `Domain`, which converts to a
/// `DNSName` through its ASCII (A-label) form.
public struct DNSName: Hashable, Sendable, CustomStringConvertible {
    /// RFC 1035 §2.3.4: labels are at most 63 octets.
    public static let maxLabelLength = 63
    /// RFC 1035 §2.3.4: a name is at most 255 octets in wire form (length octets included).
    public static let maxWireLength = 255

    /// The labels from the leftmost, without the empty root label, in their original case.
    public let labels: [[UInt8]]

    public static let root = DNSName(uncheckedLabels: [])

    init(uncheckedLabels: [[UInt8]]) {
        labels = uncheckedLabels
    }

    public init(labels: [[UInt8]]) throws(DNSNameError) {
        var wireLength = 1
        for label in labels {
            if label.isEmpty { throw .emptyLabel }
            if label.count > Self.maxLabelLength { throw .labelTooLong(length: label.count) }
            wireLength += 1 + label.count
        }
        if wireLength > Self.maxWireLength { throw .nameTooLong(length: wireLength) }
        self.labels = labels
    }

    /// Parses presentation format (RFC 1035 §5.1): labels separated by dots, an optional final
    /// dot, `\X` for a literal character and `\DDD` for an octet. "." alone is the root.
    /// Non-ASCII text is refused: internationalized names go through `Domain` first.
    public init(_ text: String) throws(DNSNameError) {
        if text == "." {
            self = .root
            return
        }
        if text.isEmpty { throw .empty }
        var labels: [[UInt8]] = []
        var current: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        var endedWithDot = false
        while index < bytes.count {
            let byte = bytes[index]
            endedWithDot = false
            if byte >= 0x80 { throw .nonASCII }
            if byte == UInt8(ascii: ".") {
                if current.isEmpty { throw .emptyLabel }
                labels.append(current)
                current = []
                endedWithDot = true
                index += 1
            } else if byte == UInt8(ascii: "\\") {
                index += 1
                guard index < bytes.count else { throw .badEscape }
                if Self.isDigit(bytes[index]) {
                    guard index + 2 < bytes.count, Self.isDigit(bytes[index + 1]), Self.isDigit(bytes[index + 2]) else {
                        throw .badEscape
                    }
                    let value = Int(bytes[index] - 48) * 100 + Int(bytes[index + 1] - 48) * 10 + Int(bytes[index + 2] - 48)
                    guard value <= 255 else { throw .badEscape }
                    current.append(UInt8(value))
                    index += 3
                } else {
                    current.append(bytes[index])
                    index += 1
                }
            } else {
                current.append(byte)
                index += 1
            }
        }
        if !endedWithDot {
            if current.isEmpty { throw .emptyLabel }
            labels.append(current)
        }
        try self.init(labels: labels)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

    /// Wire length including the length octets and the root label.
    public var wireLength: Int { labels.reduce(1) { $0 + 1 + $1.count } }

    /// Presentation form with a final dot, escaping what RFC 1035 §5.1 requires.
    public var description: String {
        if labels.isEmpty { return "." }
        var out = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("),
                    UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    out.append("\\")
                    out.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    out.append(Character(Unicode.Scalar(byte)))
                default:
                    out += decimalEscape(byte)
                }
            }
            out.append(".")
        }
        return out
    }

    /// The name as people write it in messages and certificates: the presentation form
    /// without the root's final dot ("mx.example.com"); the root stays ".".
    public var withoutFinalDot: String {
        let text = description
        return labels.isEmpty ? text : String(text.dropLast())
    }

    /// The name in lowercase, for comparison and cache keys.
    public var lowercased: DNSName {
        DNSName(uncheckedLabels: labels.map { $0.map(Self.lowercase) })
    }

    static func lowercase(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }

    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.labels.count == rhs.labels.count else { return false }
        for (left, right) in zip(lhs.labels, rhs.labels) {
            guard left.count == right.count else { return false }
            for (a, b) in zip(left, right) where lowercase(a) != lowercase(b) { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        for label in labels {
            hasher.combine(label.count)
            for byte in label { hasher.combine(Self.lowercase(byte)) }
        }
    }

    /// True when this name equals `ancestor` or lies below it.
    public func isSubdomain(of ancestor: DNSName) -> Bool {
        guard labels.count >= ancestor.labels.count else { return false }
        return DNSName(uncheckedLabels: Array(labels.suffix(ancestor.labels.count))) == ancestor
    }

    /// This name with `label` put in front, e.g. "_25" before "_tcp.mx.example.".
    public func prepending(_ label: String) throws(DNSNameError) -> DNSName {
        try DNSName(labels: [Array(label.utf8)] + labels)
    }

    /// The reverse-lookup name of an address: RFC 1035 §3.5 in-addr.arpa for IPv4, RFC 3596
    /// §2.5 ip6.arpa nibbles for IPv6.
    public static func reverse(_ address: IPAddress) -> DNSName {
        let hex = Array("0123456789abcdef".utf8)
        switch address {
        case .v4:
            let octets = address.bytes.reversed().map { Array(String($0).utf8) }
            return DNSName(uncheckedLabels: octets + [Array("in-addr".utf8), Array("arpa".utf8)])
        case let .v6(bytes):
            var nibbles: [[UInt8]] = []
            for byte in bytes.reversed() {
                nibbles.append([hex[Int(byte & 0x0F)]])
                nibbles.append([hex[Int(byte >> 4)]])
            }
            return DNSName(uncheckedLabels: nibbles + [Array("ip6".utf8), Array("arpa".utf8)])
        }
    }
}

/// RFC 1035 §5.1: `\DDD`, an octet as three decimal digits, for presentation form.
func decimalEscape(_ byte: UInt8) -> String {
    let digits = String(byte)
    return "\\" + String(repeating: "0", count: 3 - digits.count) + digits
}

public enum DNSNameError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case emptyLabel
    case labelTooLong(length: Int)
    case nameTooLong(length: Int)
    case badEscape
    case nonASCII

    public var description: String {
        switch self {
        case .empty: return "empty name"
        case .emptyLabel: return "empty label"
        case let .labelTooLong(length): return "label of \(length) octets, more than 63"
        case let .nameTooLong(length): return "name of \(length) octets in wire form, more than 255"
        case .badEscape: return "invalid backslash escape"
        case .nonASCII: return "non-ASCII characters (use the IDNA form)"
        }
    }
}
