/// A mailbox name (RFC 9051 §5.1), held as Unicode text. On the wire it is UTF-8 for
/// IMAP4rev2 and UTF8=ACCEPT clients (RFC 9051 §5.1, RFC 6855 §3) and modified UTF-7 for
/// IMAP4rev1 clients (RFC 3501 §5.1.3); the parser and encoder convert according to their
/// options. `INBOX` is case-insensitive (RFC 9051 §9 `mailbox`): any spelling is stored as
/// `INBOX`.
public struct MailboxName: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String

    public static let inbox = MailboxName("INBOX")

    public init(_ name: String) {
        self.name = name.asciiCaseInsensitiveEquals("INBOX") ? "INBOX" : name
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var isInbox: Bool { name == "INBOX" }

    /// The modified UTF-7 form (RFC 3501 §5.1.3) for IMAP4rev1 clients.
    public var modifiedUTF7: String { ModifiedUTF7.encode(name) }

    /// Decodes a name as sent by an IMAP4rev1 client; nil if it is not valid modified UTF-7.
    public init?(modifiedUTF7 encoded: String) {
        guard let decoded = ModifiedUTF7.decode(encoded) else { return nil }
        self.init(decoded)
    }

    /// The components separated by `delimiter`.
    public func components(separatedBy delimiter: Character) -> [Substring] {
        name.split(separator: delimiter, omittingEmptySubsequences: false)
    }

    public static func < (a: MailboxName, b: MailboxName) -> Bool { a.name < b.name }

    public var description: String { name }
}

/// Modified UTF-7 (RFC 3501 §5.1.3): printable US-ASCII except `&` stands for itself, `&` is
/// `&-`, everything else is UTF-16 in modified BASE64 (`,` for `/`, no padding) between `&`
/// and `-`.
public enum ModifiedUTF7 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    @inline(__always) private static func isPrintable(_ value: UInt32) -> Bool { value >= 0x20 && value <= 0x7E }

    public static func encode(_ string: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count + 8)
        var pending: [UInt16] = []

        func flush() {
            guard !pending.isEmpty else { return }
            out.append(UInt8(ascii: "&"))
            var bits: UInt32 = 0
            var count = 0
            for unit in pending {
                bits = bits << 16 | UInt32(unit)
                count += 16
                while count >= 6 {
                    count -= 6
                    out.append(alphabet[Int(bits >> UInt32(count) & 0x3F)])
                }
                bits &= (1 << UInt32(count)) - 1
            }
            if count > 0 { out.append(alphabet[Int(bits << UInt32(6 - count) & 0x3F)]) }
            out.append(UInt8(ascii: "-"))
            pending.removeAll(keepingCapacity: true)
        }

        for scalar in string.unicodeScalars {
            if isPrintable(scalar.value) {
                flush()
                out.append(UInt8(scalar.value))
                if scalar == "&" { out.append(UInt8(ascii: "-")) }
            } else {
                if let units = UTF16.encode(scalar) { pending.append(contentsOf: units) }
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil if `encoded` is not valid modified UTF-7: characters outside printable US-ASCII, a
    /// shift without its closing `-`, bad BASE64 or UTF-16, BASE64 that encodes a printable
    /// ASCII character, or two adjacent encoded runs ("superfluous shift").
    public static func decode(_ encoded: String) -> String? {
        decode(bytes: Array(encoded.utf8))
    }

    static func decode(bytes: [UInt8]) -> String? {
        var result = String.UnicodeScalarView()
        var i = 0
        var previousWasEncoded = false
        while i < bytes.count {
            let b = bytes[i]
            guard isPrintable(UInt32(b)) else { return nil }
            guard b == UInt8(ascii: "&") else {
                result.append(Unicode.Scalar(b))
                previousWasEncoded = false
                i += 1
                continue
            }
            i += 1
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "-") {
                result.append("&")
                previousWasEncoded = false
                i += 1
                continue
            }
            if previousWasEncoded { return nil }
            var units: [UInt16] = []
            var bits: UInt32 = 0
            var count = 0
            while i < bytes.count, bytes[i] != UInt8(ascii: "-") {
                let value = decodeTable[Int(bytes[i])]
                guard value >= 0 else { return nil }
                bits = bits << 6 | UInt32(value)
                count += 6
                if count >= 16 {
                    count -= 16
                    units.append(UInt16(truncatingIfNeeded: bits >> UInt32(count)))
                    bits &= (1 << UInt32(count)) - 1
                }
                i += 1
            }
            // The run must be closed by "-", leave fewer than 6 bits over, and those zero.
            guard i < bytes.count, count < 6, bits == 0, !units.isEmpty else { return nil }
            i += 1
            var scalars: [Unicode.Scalar] = []
            var iterator = units.makeIterator()
            var decoder = UTF16()
            decoding: while true {
                switch decoder.decode(&iterator) {
                case let .scalarValue(scalar): scalars.append(scalar)
                case .emptyInput: break decoding
                case .error: return nil
                }
            }
            guard !scalars.contains(where: { isPrintable($0.value) }) else { return nil }
            result.append(contentsOf: scalars)
            previousWasEncoded = true
        }
        return String(result)
    }
}
