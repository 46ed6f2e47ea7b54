import DNS

/// The `_mta-sts` TXT record of a Policy Domain (RFC 8461 §3.1). It says that the domain
/// publishes a policy, and its `id` names the policy's version, so a sender with a cached
/// policy learns from one DNS query whether the cache is still current.
public struct STSRecord: Hashable, Sendable {
    /// The `id` field: 1 to 32 letters and digits. A different value means a different policy;
    /// there is no order between values (RFC 8461 §3.1).
    public let id: String

    /// The longest `id` (RFC 8461 §3.1: `1*32(ALPHA / DIGIT)`).
    public static let maximumIDLength = 32
    /// The longest extension field name: one letter or digit and up to 31 more characters.
    static let maximumFieldNameLength = 32
    private static let version = Array("v=STSv1".utf8)

    /// Parses one record's text (its character-strings already concatenated, RFC 8461 §3.1):
    ///
    ///     sts-text-record = sts-version 1*(sts-field-delim sts-field) [sts-field-delim]
    ///     sts-field-delim = *WSP ";" *WSP
    ///
    /// Fields other than `id` are checked against the `sts-extension` syntax and ignored; of
    /// several `id` fields the first counts (RFC 8461 §3.2: later duplicates are ignored).
    public init(parsing text: String) throws(STSRecordSyntaxError) {
        let bytes = Array(text.utf8)
        // RFC 8461 §3.1: "MTA-STS TXT records MUST be US-ASCII".
        guard bytes.allSatisfy({ $0 < 0x80 }) else { throw .nonASCII }
        guard Self.beginsWithVersion(bytes) else { throw .notSTSv1 }
        // The delimiter's spaces and the values' exclusion of ";" and spaces make splitting on
        // ";" and trimming each piece the same as reading the grammar.
        let pieces = bytes[Self.version.count...].split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard pieces.count > 1 else {
            if pieces[0].allSatisfy(isWhitespace) { throw .missingID }
            throw .missingSeparator
        }
        guard pieces[0].allSatisfy(isWhitespace) else { throw .missingSeparator }
        var id: String?
        for (index, piece) in pieces.enumerated().dropFirst() {
            let field = trimmingWhitespace(piece)
            if field.isEmpty {
                // Only the optional final delimiter may leave nothing behind it.
                if index == pieces.count - 1 { break }
                throw .emptyField
            }
            guard let equals = field.firstIndex(of: UInt8(ascii: "=")) else { throw .malformedField(String(decoding: field, as: UTF8.self)) }
            let name = String(decoding: field[..<equals], as: UTF8.self)
            let value = field[(equals + 1)...]
            guard isFieldName(name.utf8, maximumLength: Self.maximumFieldNameLength) else { throw .invalidFieldName(name) }
            // sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), everything visible but "=" and ";".
            guard !value.isEmpty, value.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "=") }) else {
                throw .invalidFieldValue(name: name, value: String(decoding: value, as: UTF8.self))
            }
            if name == "id", id == nil {
                let candidate = String(decoding: value, as: UTF8.self)
                guard value.count <= Self.maximumIDLength, value.allSatisfy(isAlphanumeric) else { throw .invalidID(candidate) }
                id = candidate
            }
        }
        guard let id else { throw .missingID }
        self.id = id
    }

    /// The record to publish for a policy version `id`, checked by `init(parsing:)`.
    ///
    /// - Throws: `invalidID` (or another syntax error) when `id` is not 1 to 32 letters and
    ///   digits.
    public init(id: String) throws(STSRecordSyntaxError) {
        try self.init(parsing: Self.text(id: id))
        // "1; id=2" would parse, as the id 1.
        guard self.id == id else { throw .invalidID(id) }
    }

    /// The TXT record's text (RFC 8461 §3.1), e.g. `v=STSv1; id=20240101T000000`.
    public var text: String {
        Self.text(id: id)
    }

    private static func text(id: String) -> String {
        "v=STSv1; id=\(id)"
    }

    /// Whether a TXT record is an STSv1 record at all: "v=STSv1" followed by the end, a space
    /// or ";". RFC 8461 §3.1 discards the others before counting, so "v=STSv10" or an SPF
    /// record next to the MTA-STS one does not make the domain's record invalid.
    static func beginsWithVersion(_ bytes: [UInt8]) -> Bool {
        guard bytes.starts(with: version) else { return false }
        guard bytes.count > version.count else { return true }
        let next = bytes[version.count]
        return isWhitespace(next) || next == UInt8(ascii: ";")
    }
}

extension STSRecord {
    /// Looks up the record of `domain` at `_mta-sts.<domain>` (CNAMEs followed, RFC 8461 §3.1)
    /// and picks the one STSv1 record among the TXT records there.
    ///
    /// Throws when there is no usable record, which means the domain has no policy now, or when
    /// the lookup failed, which means nothing either way (`STSRecordError.isTemporary`).
    public static func lookup(for domain: Domain, resolver: some Resolver) async throws(STSRecordError) -> DNSResult<STSRecord> {
        guard let name = try? DNSName(domain.ascii).prepending("_mta-sts") else { throw .nameTooLong(domain) }
        let texts: DNSResult<[String]>
        do {
            texts = try await resolver.lookupTXT(name)
        } catch {
            throw error.isNotFound ? .noRecord(error) : .lookupFailed(error)
        }
        let candidates = texts.value.filter { beginsWithVersion(Array($0.utf8)) }
        guard let text = candidates.first else { throw .noSTSRecord(others: texts.value) }
        guard candidates.count == 1 else { throw .multipleRecords(candidates) }
        do {
            return DNSResult(value: try STSRecord(parsing: text), authentic: texts.authentic)
        } catch {
            throw .syntax(error, record: text)
        }
    }
}

/// Why the text of an STSv1 record does not parse (RFC 8461 §3.1).
public enum STSRecordSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    case nonASCII
    /// The text does not begin with "v=STSv1".
    case notSTSv1
    /// Something other than ";" after "v=STSv1".
    case missingSeparator
    /// Two ";" with nothing between them.
    case emptyField
    /// A field without "=".
    case malformedField(String)
    /// A field name that is not a letter or digit followed by at most 31 letters, digits,
    /// "_", "-" or ".".
    case invalidFieldName(String)
    /// An empty value, or one with spaces, "=" or control characters.
    case invalidFieldValue(name: String, value: String)
    /// An `id` that is not 1 to 32 letters and digits.
    case invalidID(String)
    case missingID

    public var description: String {
        switch self {
        case .nonASCII: return "the record has non-ASCII characters"
        case .notSTSv1: return "the record does not begin with v=STSv1"
        case .missingSeparator: return "v=STSv1 is not followed by \";\""
        case .emptyField: return "empty field between two \";\""
        case let .malformedField(field): return "field \(quoted(field)) has no \"=\""
        case let .invalidFieldName(name): return "invalid field name \(quoted(name))"
        case let .invalidFieldValue(name, value): return "field \(name) has an invalid value \(quoted(value))"
        case let .invalidID(id): return "id \(quoted(id)) is not 1 to \(STSRecord.maximumIDLength) letters and digits"
        case .missingID: return "the record has no id field"
        }
    }
}

/// Why a domain has no usable `_mta-sts` record.
public enum STSRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    /// NXDOMAIN or NODATA at `_mta-sts.<domain>`: the domain publishes no policy.
    case noRecord(DNSError)
    /// TXT records, but none of them an STSv1 record.
    case noSTSRecord(others: [String])
    /// More than one STSv1 record; RFC 8461 §3.1 then treats the domain as having no policy.
    case multipleRecords([String])
    /// The one STSv1 record does not parse.
    case syntax(STSRecordSyntaxError, record: String)
    /// `_mta-sts.<domain>` would be longer than a DNS name can be, so no such record exists.
    case nameTooLong(Domain)
    /// The lookup failed (SERVFAIL, timeout, network): whether there is a record is unknown.
    case lookupFailed(DNSError)

    /// A failure that says nothing about the record: a cached policy stays in use (RFC 8461
    /// §3.3: "if no live policy can be discovered via DNS ... the sender MUST apply that cached
    /// policy"). All other cases mean there is no usable record now.
    public var isTemporary: Bool {
        if case .lookupFailed = self { return true }
        return false
    }

    /// The RFC 8460 §4.3.2.2 result type to report, or nil for "no-policy-found": the domain
    /// publishes no record, or the lookup failed, which says nothing about whether it does (a
    /// transient error, RFC 8460 §4.3.4, not a policy that could not be fetched). A broken or
    /// doubled record is a policy the domain meant to publish and got wrong.
    public var resultType: STSResultType? {
        switch self {
        case .noRecord, .noSTSRecord, .nameTooLong, .lookupFailed: return nil
        case .multipleRecords, .syntax: return .policyInvalid
        }
    }

    public var description: String {
        switch self {
        case let .noRecord(error): return "no MTA-STS record: \(error)"
        case let .noSTSRecord(others): return "no STSv1 record among \(others.count) TXT records"
        case let .multipleRecords(records): return "\(records.count) STSv1 records: \(records.map(quoted).joined(separator: ", "))"
        case let .syntax(error, record): return "invalid MTA-STS record \(quoted(record)): \(error)"
        case let .nameTooLong(domain): return "_mta-sts.\(domain.ascii) is too long for a DNS name"
        case let .lookupFailed(error): return "MTA-STS record lookup failed: \(error)"
        }
    }
}

// MARK: Character classes shared by the record and the policy grammars.

/// WSP (RFC 5234 appendix B.1): space or horizontal tab.
func isWhitespace(_ byte: UInt8) -> Bool {
    byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
}

func isAlphanumeric(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
}

/// `sts-ext-name` (RFC 8461 §3.1) and `sts-policy-ext-name` (§3.2) alike: a letter or digit,
/// then letters, digits, "_", "-" and ".", at most `maximumLength` in all.
func isFieldName(_ name: some Collection<UInt8>, maximumLength: Int) -> Bool {
    guard let first = name.first, isAlphanumeric(first), name.count <= maximumLength else { return false }
    return name.dropFirst().allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
}

func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    guard let start = bytes.firstIndex(where: { !isWhitespace($0) }), let end = bytes.lastIndex(where: { !isWhitespace($0) }) else {
        return bytes[bytes.endIndex...]
    }
    return bytes[start...end]
}

/// Text from a peer in an error message: quoted, and cut short so that one message stays one
/// readable line however long the input.
func quoted(_ text: String) -> String {
    let limit = 100
    let shown = text.count > limit ? text.prefix(limit) + "…" : Substring(text)
    return "\"" + shown.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
}
