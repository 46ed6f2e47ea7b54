/// A body section (RFC 9051 §6.4.5.1 and §9 `section-spec`): a part path such as `1.2.3`
/// (empty for the whole message) and what of it.
public struct SectionSpec: Hashable, Sendable, CustomStringConvertible {
    /// Part numbers, each non-zero; empty for the top-level message.
    public var part: [UInt32]
    /// Nil for the part itself (or, with an empty part, the whole message: `BODY[]`).
    public var text: SectionText?

    public enum SectionText: Hashable, Sendable {
        case header
        /// HEADER.FIELDS (names): field names as given (astrings).
        case headerFields([String])
        case headerFieldsNot([String])
        case text
        /// MIME: only after a part number (RFC 9051 §6.4.5.1).
        case mime
    }

    public init(part: [UInt32] = [], text: SectionText? = nil) {
        self.part = part
        self.text = text
    }

    public static let whole = SectionSpec()
    public static let header = SectionSpec(text: .header)
    public static let text = SectionSpec(text: .text)

    /// The text between the brackets, as sent back in the FETCH response: `1.2.HEADER.FIELDS
    /// (DATE FROM)`. Field names are written as atoms where possible, else quoted.
    public var description: String {
        var pieces = part.map(String.init)
        if let text {
            switch text {
            case .header: pieces.append("HEADER")
            case let .headerFields(names): pieces.append("HEADER.FIELDS (\(names.map(Self.fieldName).joined(separator: " ")))")
            case let .headerFieldsNot(names): pieces.append("HEADER.FIELDS.NOT (\(names.map(Self.fieldName).joined(separator: " ")))")
            case .text: pieces.append("TEXT")
            case .mime: pieces.append("MIME")
            }
        }
        return pieces.joined(separator: ".")
    }

    private static func fieldName(_ name: String) -> String {
        var writer = ByteWriter(capacity: name.utf8.count + 2)
        writer.writeAString(Array(name.utf8), utf8: true)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// `partial = "<" number64 "." nz-number64 ">"` (RFC 9051 §9): offset and length.
public struct Partial: Hashable, Sendable {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }
}

/// A FETCH data item (RFC 9051 §6.4.5, RFC 3501 §6.4.5, and the extensions'). The macros ALL,
/// FAST and FULL are expanded by the parser.
public enum FetchAttribute: Hashable, Sendable {
    case envelope
    case flags
    case internalDate
    case rfc822Size
    /// RFC 3501: RFC822 (= BODY[]), RFC822.HEADER (= BODY.PEEK[HEADER]), RFC822.TEXT (= BODY[TEXT]).
    case rfc822, rfc822Header, rfc822Text
    /// Non-extensible BODYSTRUCTURE.
    case body
    case bodyStructure
    /// BODY[section]<partial> and BODY.PEEK[...].
    case bodySection(SectionSpec, partial: Partial?, peek: Bool)
    /// RFC 3516 / RFC 9051: BINARY[part]<partial> and BINARY.PEEK[...].
    case binary(part: [UInt32], partial: Partial?, peek: Bool)
    case binarySize(part: [UInt32])
    case uid
    /// RFC 7162 §3.1.4.
    case modSeq
    /// RFC 8514 §4.2.
    case saveDate
    /// RFC 8970 §3: PREVIEW, optionally (LAZY).
    case preview(lazy: Bool)
    /// RFC 8474 (OBJECTID).
    case emailID, threadID

    /// RFC 9051 §6.4.5 macros.
    public static let all: [FetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope]
    public static let fast: [FetchAttribute] = [.flags, .internalDate, .rfc822Size]
    public static let full: [FetchAttribute] = [.flags, .internalDate, .rfc822Size, .envelope, .body]

    /// Whether fetching this sets \Seen (RFC 9051 §6.4.5: BODY[...] and BINARY[...] without
    /// .PEEK; RFC 3501: RFC822 and RFC822.TEXT).
    public var setsSeen: Bool {
        switch self {
        case .rfc822, .rfc822Text: return true
        case let .bodySection(_, _, peek), let .binary(_, _, peek): return !peek
        default: return false
        }
    }
}

/// FETCH and UID FETCH (RFC 9051 §6.4.5) with the RFC 7162 modifiers.
public struct FetchCommand: Hashable, Sendable {
    public var byUID: Bool
    public var set: SequenceSet
    public var attributes: [FetchAttribute]
    /// RFC 7162 §3.1.4.1 CHANGEDSINCE mod-sequence-value.
    public var changedSince: UInt64?
    /// RFC 7162 §3.2.6 VANISHED (only with UID FETCH and CHANGEDSINCE; the parser checks).
    public var vanished: Bool

    public init(byUID: Bool = false, set: SequenceSet, attributes: [FetchAttribute], changedSince: UInt64? = nil, vanished: Bool = false) {
        self.byUID = byUID
        self.set = set
        self.attributes = attributes
        self.changedSince = changedSince
        self.vanished = vanished
    }
}

/// STORE and UID STORE (RFC 9051 §6.4.6, RFC 7162 §3.1.3 UNCHANGEDSINCE).
public struct StoreCommand: Hashable, Sendable {
    public enum Operation: Hashable, Sendable {
        /// FLAGS
        case replace
        /// +FLAGS
        case add
        /// -FLAGS
        case remove
    }

    public var byUID: Bool
    public var set: SequenceSet
    public var unchangedSince: UInt64?
    public var operation: Operation
    /// `.SILENT`: no untagged FETCH for the change itself.
    public var silent: Bool
    public var flags: [Flag]

    public init(byUID: Bool = false, set: SequenceSet, unchangedSince: UInt64? = nil, operation: Operation, silent: Bool = false, flags: [Flag]) {
        self.byUID = byUID
        self.set = set
        self.unchangedSince = unchangedSince
        self.operation = operation
        self.silent = silent
        self.flags = flags
    }
}
