import Foundation

/// The header section of a message or MIME part (RFC 5322 §2.2, §3.6; RFC 2045 §3).
///
/// Every field keeps its raw octets exactly as received, folding and line ending included,
/// because DKIM signs them (RFC 6376 §3.4) and IMAP serves them byte for byte. The value is
/// also given unfolded (RFC 5322 §2.2.3) as text: UTF-8 when the octets are valid UTF-8
/// (RFC 6532 §3.2), otherwise each octet as one Latin-1 character, so 8-bit headers from
/// legacy software remain readable and nothing is lost. Encoded-words are not decoded here.
///
/// Tolerance (what real mail needs): bare LF line endings; whitespace between a field name
/// and its colon (RFC 5322 §4.5, obs-optional); lines that are neither a field nor a
/// continuation (an mbox "From " line, garbage) are skipped and counted in `malformedLines`.
public struct HeaderSection: Hashable, Sendable, Codable {
    public var fields: [HeaderField]
    /// Octets from the start of the section through the empty line that ends it (or through
    /// the end of input when there is none). The body starts here.
    public var length: Int
    /// Whether an empty line ended the section (false: the message has no body separator).
    public var hasSeparator: Bool
    public var malformedLines: Int

    public init(fields: [HeaderField] = [], length: Int = 0, hasSeparator: Bool = true, malformedLines: Int = 0) {
        self.fields = fields
        self.length = length
        self.hasSeparator = hasSeparator
        self.malformedLines = malformedLines
    }

    /// Parses a header section at the start of `bytes`.
    public init(parsing bytes: some Collection<UInt8>) {
        self = HeaderSection.parse(Array(bytes))
    }

    /// The unfolded value of the first field named `name` (case-insensitive), if any.
    public func first(_ name: String) -> String? {
        fields.first { $0.is(name) }?.value
    }

    /// The unfolded values of all fields named `name`, in order.
    public func all(_ name: String) -> [String] {
        fields.filter { $0.is(name) }.map(\.value)
    }

    /// The raw octets of the whole section, as received.
    public var raw: [UInt8] { fields.flatMap(\.raw) }

    static func parse(_ bytes: [UInt8]) -> HeaderSection {
        var fields: [HeaderField] = []
        var malformed = 0
        var offset = 0
        var current: (start: Int, end: Int)?

        func finish() {
            if let range = current, let field = HeaderField(raw: Array(bytes[range.start..<range.end])) {
                fields.append(field)
            } else if current != nil {
                malformed += 1
            }
            current = nil
        }

        while offset < bytes.count {
            let lineEnd = bytes[offset...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
            let isEmptyLine = bytes[offset] == 0x0A || (bytes[offset] == 0x0D && offset + 1 < bytes.count && bytes[offset + 1] == 0x0A)
            if isEmptyLine {
                finish()
                return HeaderSection(fields: fields, length: lineEnd, hasSeparator: true, malformedLines: malformed)
            }
            if bytes[offset] == 0x20 || bytes[offset] == 0x09 {
                // RFC 5322 §2.2.3: a continuation line; without a field before it, it is junk.
                if current != nil { current?.end = lineEnd } else { malformed += 1 }
            } else {
                finish()
                current = (offset, lineEnd)
            }
            offset = lineEnd
        }
        finish()
        return HeaderSection(fields: fields, length: bytes.count, hasSeparator: false, malformedLines: malformed)
    }
}

/// One header field.
///
/// Only the raw octets are kept, with where the name ends and where the colon is; name and
/// value are made from them when asked. A stored structure is read for every message a
/// FETCH ENVELOPE or header SEARCH touches, and most of a message's fields (Received,
/// DKIM-Signature, ...) are never looked at there.
public struct HeaderField: Hashable, Sendable, Codable {
    /// The whole field as received: name, colon, value, folding and final line ending.
    public let raw: [UInt8]
    /// Where the name ends in `raw` (white space before the colon excluded).
    let nameEnd: Int
    private let colon: Int

    /// The field name as written, without surrounding whitespace.
    public var name: String { String(decoding: raw[0..<nameEnd], as: UTF8.self) }

    /// The value after the colon, unfolded, with leading and trailing whitespace removed.
    public var value: String { HeaderField.text(unfoldedValue) }

    /// The octets of `value`: unfolded (CR and LF removed, RFC 5322 §2.2.3), surrounding
    /// white space trimmed, 8-bit octets and encoded-words as received (IMAP ENVELOPE
    /// serves them this way).
    public var unfoldedValue: [UInt8] {
        if let value = singleLineValue { return Array(value) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count - colon)
        for octet in raw[(colon + 1)...] where octet != 0x0D && octet != 0x0A {
            // Leading white space is never kept.
            if out.isEmpty, octet == 0x20 || octet == 0x09 { continue }
            out.append(octet)
        }
        while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
        return out
    }

    /// The octets of `unfoldedValue` where they lie in `raw`, without a copy, for a field on
    /// one line (nothing to unfold); nil for a folded field. Searching every message's
    /// Subject or From takes this way.
    public var singleLineValue: ArraySlice<UInt8>? {
        var end = raw.endIndex
        if end > colon + 1, raw[end - 1] == 0x0A { end -= 1 }
        if end > colon + 1, raw[end - 1] == 0x0D { end -= 1 }
        var start = colon + 1
        for index in start..<end where raw[index] == 0x0D || raw[index] == 0x0A { return nil }
        while start < end, raw[start] == 0x20 || raw[start] == 0x09 { start += 1 }
        while end > start, raw[end - 1] == 0x20 || raw[end - 1] == 0x09 { end -= 1 }
        return raw[start..<end]
    }

    /// Parses a field from its raw octets; nil when there is no valid name before a colon
    /// (RFC 5322 §3.6.8: printable US-ASCII except colon).
    public init?(raw: [UInt8]) {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        var nameEnd = colon
        while nameEnd > 0, raw[nameEnd - 1] == 0x20 || raw[nameEnd - 1] == 0x09 { nameEnd -= 1 }
        guard nameEnd > 0, raw[0..<nameEnd].allSatisfy({ $0 >= 33 && $0 <= 126 }) else { return nil }
        self.raw = raw
        self.nameEnd = nameEnd
        self.colon = colon
    }

    /// Builds a field from a name and an already folded value (the composer's way in).
    public init(name: String, foldedValue: String) {
        raw = Array("\(name):\(foldedValue)\r\n".utf8)
        nameEnd = name.utf8.count
        colon = nameEnd
    }

    /// Case-insensitive name comparison (RFC 5322 §1.2.2), without building strings: field
    /// names are US-ASCII, so folding ASCII letters is the whole rule.
    public func `is`(_ other: String) -> Bool {
        // Most names asked about differ in length: no octet need be compared.
        guard other.utf8.count == nameEnd else { return false }
        return raw.withUnsafeBufferPointer { raw in
            var other = other
            return other.withUTF8 { ASCIICase.equal(UnsafeBufferPointer(rebasing: raw[..<nameEnd]), $0) }
        }
    }

    /// Only the raw octets are stored, as base64 (JSON's `Data` form): name and value are
    /// derived from them, and an array of numbers would cost several times the space and
    /// time on every delivery. Structures stored before this change (`raw` as an array of
    /// numbers, with name and value) still decode.
    private enum CodingKeys: String, CodingKey { case raw }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Data(raw), forKey: .raw)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let bytes: [UInt8]
        if let data = try? container.decode(Data.self, forKey: .raw) {
            bytes = Array(data)
        } else {
            bytes = try container.decode([UInt8].self, forKey: .raw)
        }
        guard let field = HeaderField(raw: bytes) else {
            throw DecodingError.dataCorruptedError(forKey: .raw, in: container, debugDescription: "not a header field")
        }
        self = field
    }

    /// UTF-8 when valid (RFC 6532), otherwise Latin-1, one character per octet.
    static func text(_ bytes: [UInt8]) -> String {
        if let utf8 = String(validating: bytes, as: UTF8.self) { return utf8 }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}

/// ASCII case folding, the whole rule for comparing field names (RFC 5322 §1.2.2: they are
/// US-ASCII and case-insensitive).
enum ASCIICase {
    static func lower(_ octet: UInt8) -> UInt8 {
        octet >= 0x41 && octet <= 0x5A ? octet | 0x20 : octet
    }

    /// Whether `a` and `b` are the same octets but for the case of ASCII letters.
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && (0..<a.count).allSatisfy { lower(a[$0]) == lower(b[$0]) }
    }
}
