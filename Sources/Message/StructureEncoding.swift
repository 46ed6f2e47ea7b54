/// The compact binary form in which a parsed message's structure is stored next to the
/// message (Store's `content.structure`), so IMAP FETCH and SEARCH read ENVELOPE,
/// BODYSTRUCTURE and section offsets without parsing the message again.
///
/// JSON (the `Codable` form) cost more to decode than the rest of a FETCH of ENVELOPE, for
/// every message of a mailbox; this form is read in one pass over the bytes. Layout: a
/// format octet (`formatVersion`, never `{`, so JSON written by earlier versions is told
/// apart by its first octet), the message size, then the root part. Numbers are unsigned
/// LEB128 varints; strings and byte strings are a varint length and the octets; a
/// dictionary is a count and its pairs sorted by key (so equal structures encode equally).
/// A header field is stored as its raw octets only: name and value derive from them.
///
/// Decoding checks every length against the bytes left and bounds the nesting, so a
/// damaged row yields `StructureDecodingError`, never a crash or a huge allocation.
extension ParsedMessage {
    static let formatVersion: UInt8 = 1
    /// Deeper than the parser ever nests (`ParseLimits.maxDepth`, encapsulated messages
    /// included), so only damaged data hits it.
    static let maxDecodingDepth = 200

    /// The binary form (see the type's extension comment).
    public func encoded() -> [UInt8] {
        var writer = StructureWriter()
        writer.bytes.reserveCapacity(1024)
        writer.bytes.append(Self.formatVersion)
        writer.int(size)
        writer.part(root)
        return writer.bytes
    }

    /// Whether `bytes` starts like the binary form (rather than the JSON of older versions).
    public static func isEncodedForm(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.first == formatVersion
    }

    /// Reads the binary form written by `encoded()`.
    public init(encoded bytes: [UInt8]) throws(StructureDecodingError) {
        self = try bytes.withUnsafeBytes { buffer in
            Result { () throws(StructureDecodingError) in try ParsedMessage(encoded: buffer) }
        }.get()
    }

    /// Reads the binary form in place (a database row's memory), without copying it first.
    public init(encoded bytes: UnsafeRawBufferPointer) throws(StructureDecodingError) {
        var reader = StructureReader(bytes: bytes)
        guard try reader.byte() == Self.formatVersion else { throw StructureDecodingError(reason: "unknown format", offset: 0) }
        let size = try reader.int()
        let root = try reader.part(depth: 0)
        guard reader.atEnd else { throw StructureDecodingError(reason: "trailing bytes", offset: reader.offset) }
        self.init(root: root, size: size)
    }
}

extension HeaderSection {
    /// The message's own header section from the binary form of its structure, without
    /// reading the parts: all ENVELOPE and a header SEARCH need. With `only`, just the
    /// fields of those names (case-insensitive) are made, the others skipped unread: ENVELOPE
    /// needs ten names, a SEARCH on a header one, and a message has dozens of fields.
    public init(encodedStructure bytes: [UInt8], only names: HeaderNames? = nil) throws(StructureDecodingError) {
        self = try bytes.withUnsafeBytes { buffer in
            Result { () throws(StructureDecodingError) in try HeaderSection(encodedStructure: buffer, only: names) }
        }.get()
    }

    /// Reads the header in place (a database row's memory), without copying the structure.
    public init(encodedStructure bytes: UnsafeRawBufferPointer, only names: HeaderNames? = nil) throws(StructureDecodingError) {
        var reader = StructureReader(bytes: bytes)
        guard try reader.byte() == ParsedMessage.formatVersion else { throw StructureDecodingError(reason: "unknown format", offset: 0) }
        _ = try reader.int()
        for _ in 0..<5 { _ = try reader.int() }
        self = try reader.header(only: names)
    }
}

/// A set of header field names, compared as RFC 5322 §1.2.2 says (ASCII case-insensitive)
/// against raw field octets without building strings.
public struct HeaderNames: Hashable, Sendable {
    private let lowercased: [[UInt8]]

    public init(_ names: some Sequence<String>) {
        var unique: [[UInt8]] = []
        for name in names {
            let octets = Array(name.utf8).map(ASCIICase.lower)
            if !unique.contains(octets) { unique.append(octets) }
        }
        lowercased = unique
    }

    public func contains(_ field: HeaderField) -> Bool { index(of: field) != nil }

    /// Where the field's name stands among the names, in the order first given (a name given
    /// twice counts once); nil when it is none of them. One call per field tells which of
    /// several wanted fields it is, as an ENVELOPE made for every message of a FETCH needs.
    public func index(of field: HeaderField) -> Int? {
        field.raw.withUnsafeBufferPointer { raw in position(of: UnsafeBufferPointer(rebasing: raw[..<field.nameEnd])) }
    }

    /// Whether the field whose raw octets are `raw` has one of the names: its name runs up
    /// to the colon, with white space before the colon ignored (RFC 5322 §4.5.3).
    func matches(_ raw: Slice<UnsafeRawBufferPointer>) -> Bool {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return false }
        var end = colon
        while end > raw.startIndex, raw[end - 1] == 0x20 || raw[end - 1] == 0x09 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: raw[raw.startIndex..<end]).withMemoryRebound(to: UInt8.self) { position(of: $0) } != nil
    }

    /// The position of the field name `name` (as written, any case) among the names.
    private func position(of name: UnsafeBufferPointer<UInt8>) -> Int? {
        for (position, candidate) in lowercased.enumerated() where candidate.count == name.count {
            if candidate.withUnsafeBufferPointer({ ASCIICase.equal($0, name) }) { return position }
        }
        return nil
    }
}

/// A stored structure that does not decode: where and why.
public struct StructureDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int
    public var description: String { "structure: \(reason) at octet \(offset)" }
}

private struct StructureWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    /// Offsets, lengths and counts are never negative; a negative one (impossible from the
    /// parser) is stored as 0 rather than trapping.
    mutating func int(_ value: Int) { varint(UInt64(max(0, value))) }

    mutating func octets(_ value: [UInt8]) {
        int(value.count)
        bytes += value
    }

    mutating func string(_ value: String) {
        int(value.utf8.count)
        bytes += value.utf8
    }

    mutating func optional(_ value: String?) {
        if let value {
            bytes.append(1)
            string(value)
        } else {
            bytes.append(0)
        }
    }

    mutating func dictionary(_ value: [String: String]) {
        int(value.count)
        for (key, entry) in value.sorted(by: { $0.key < $1.key }) {
            string(key)
            string(entry)
        }
    }

    mutating func part(_ part: MIMEPart) {
        int(part.offset)
        int(part.headerLength)
        int(part.bodyOffset)
        int(part.bodyLength)
        int(part.bodyLines)
        int(part.header.fields.count)
        for field in part.header.fields { octets(field.raw) }
        int(part.header.length)
        bytes.append(part.header.hasSeparator ? 1 : 0)
        int(part.header.malformedLines)
        string(part.mediaType)
        string(part.subtype)
        dictionary(part.parameters)
        string(part.transferEncoding)
        optional(part.disposition)
        dictionary(part.dispositionParameters)
        optional(part.contentID)
        optional(part.contentDescription)
        int(part.contentLanguage.count)
        for language in part.contentLanguage { string(language) }
        optional(part.contentLocation)
        optional(part.contentMD5)
        int(part.defects.count)
        for defect in part.defects { bytes.append(defect.code) }
        int(part.parts.count)
        for child in part.parts { self.part(child) }
        int(part.encapsulated.count)
        for inner in part.encapsulated { self.part(inner) }
    }
}

private struct StructureReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    func failure(_ reason: String) -> StructureDecodingError {
        StructureDecodingError(reason: reason, offset: offset)
    }

    mutating func byte() throws(StructureDecodingError) -> UInt8 {
        guard offset < bytes.count else { throw failure("truncated") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func int() throws(StructureDecodingError) -> Int {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let octet = try byte()
            // 9 groups of 7 bits cover every value an Int can hold here.
            guard shift <= 56 else { throw failure("number too long") }
            value |= UInt64(octet & 0x7F) << shift
            if octet < 0x80 { break }
            shift += 7
        }
        guard value <= UInt64(Int.max) else { throw failure("number out of range") }
        return Int(value)
    }

    /// A count of items that each take at least one octet: never more than the bytes left.
    mutating func count() throws(StructureDecodingError) -> Int {
        let count = try int()
        guard count <= bytes.count - offset else { throw failure("count beyond the data") }
        return count
    }

    mutating func octets() throws(StructureDecodingError) -> Slice<UnsafeRawBufferPointer> {
        let length = try count()
        defer { offset += length }
        return bytes[offset..<(offset + length)]
    }

    mutating func string() throws(StructureDecodingError) -> String {
        let raw = try octets()
        guard let text = String(validating: raw, as: UTF8.self) else { throw failure("invalid UTF-8") }
        return text
    }

    mutating func optional() throws(StructureDecodingError) -> String? {
        switch try byte() {
        case 0: return nil
        case 1: return try string()
        default: throw failure("bad optional marker")
        }
    }

    mutating func bool() throws(StructureDecodingError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw failure("bad boolean")
        }
    }

    mutating func dictionary() throws(StructureDecodingError) -> [String: String] {
        let count = try count()
        var out: [String: String] = [:]
        out.reserveCapacity(count)
        for _ in 0..<count {
            let key = try string()
            out[key] = try string()
        }
        return out
    }

    /// A part's header section; it follows the part's five offsets and counts.
    mutating func header(only names: HeaderNames? = nil) throws(StructureDecodingError) -> HeaderSection {
        let fieldCount = try count()
        var fields: [HeaderField] = []
        if names == nil { fields.reserveCapacity(fieldCount) }
        for _ in 0..<fieldCount {
            let raw = try octets()
            if let names, !names.matches(raw) { continue }
            guard let field = HeaderField(raw: Array(raw)) else { throw failure("not a header field") }
            fields.append(field)
        }
        return HeaderSection(fields: fields, length: try int(), hasSeparator: try bool(), malformedLines: try int())
    }

    mutating func part(depth: Int) throws(StructureDecodingError) -> MIMEPart {
        guard depth <= ParsedMessage.maxDecodingDepth else { throw failure("nesting too deep") }
        let offset = try int()
        let headerLength = try int()
        let bodyOffset = try int()
        let bodyLength = try int()
        let bodyLines = try int()
        let header = try header()
        let mediaType = try string()
        let subtype = try string()
        let parameters = try dictionary()
        let transferEncoding = try string()
        let disposition = try optional()
        let dispositionParameters = try dictionary()
        let contentID = try optional()
        let contentDescription = try optional()
        var contentLanguage: [String] = []
        for _ in 0..<(try count()) { contentLanguage.append(try string()) }
        let contentLocation = try optional()
        let contentMD5 = try optional()
        var defects: [MIMEDefect] = []
        for _ in 0..<(try count()) {
            guard let defect = MIMEDefect(code: try byte()) else { throw failure("unknown defect") }
            defects.append(defect)
        }
        var parts: [MIMEPart] = []
        for _ in 0..<(try count()) { parts.append(try part(depth: depth + 1)) }
        var encapsulated: [MIMEPart] = []
        for _ in 0..<(try count()) { encapsulated.append(try part(depth: depth + 1)) }
        guard encapsulated.count <= 1 else { throw failure("more than one encapsulated message") }
        return MIMEPart(
            offset: offset, headerLength: headerLength, bodyOffset: bodyOffset, bodyLength: bodyLength, bodyLines: bodyLines,
            header: header, mediaType: mediaType, subtype: subtype, parameters: parameters,
            transferEncoding: transferEncoding, disposition: disposition, dispositionParameters: dispositionParameters,
            contentID: contentID, contentDescription: contentDescription, contentLanguage: contentLanguage,
            contentLocation: contentLocation, contentMD5: contentMD5, parts: parts, encapsulated: encapsulated,
            defects: defects)
    }
}

extension MIMEPart {
    /// Every stored property, as read back from the binary form.
    fileprivate init(
        offset: Int, headerLength: Int, bodyOffset: Int, bodyLength: Int, bodyLines: Int, header: HeaderSection,
        mediaType: String, subtype: String, parameters: [String: String], transferEncoding: String,
        disposition: String?, dispositionParameters: [String: String], contentID: String?, contentDescription: String?,
        contentLanguage: [String], contentLocation: String?, contentMD5: String?, parts: [MIMEPart],
        encapsulated: [MIMEPart], defects: [MIMEDefect]
    ) {
        self.offset = offset
        self.headerLength = headerLength
        self.bodyOffset = bodyOffset
        self.bodyLength = bodyLength
        self.bodyLines = bodyLines
        self.header = header
        self.mediaType = mediaType
        self.subtype = subtype
        self.parameters = parameters
        self.transferEncoding = transferEncoding
        self.disposition = disposition
        self.dispositionParameters = dispositionParameters
        self.contentID = contentID
        self.contentDescription = contentDescription
        self.contentLanguage = contentLanguage
        self.contentLocation = contentLocation
        self.contentMD5 = contentMD5
        self.parts = parts
        self.encapsulated = encapsulated
        self.defects = defects
    }
}

extension MIMEDefect {
    /// Stable codes for the binary form: new defects get new numbers, old ones keep theirs.
    var code: UInt8 {
        switch self {
        case .invalidContentType: return 1
        case .missingBoundary: return 2
        case .missingClosingBoundary: return 3
        case .noParts: return 4
        case .nestingTooDeep: return 5
        case .tooManyParts: return 6
        case .headerTooLong: return 7
        case .missingHeaderSeparator: return 8
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .invalidContentType
        case 2: self = .missingBoundary
        case 3: self = .missingClosingBoundary
        case 4: self = .noParts
        case 5: self = .nestingTooDeep
        case 6: self = .tooManyParts
        case 7: self = .headerTooLong
        case 8: self = .missingHeaderSeparator
        default: return nil
        }
    }
}
