/// One node of a message's MIME tree (RFC 2045, RFC 2046) with where it lies in the message:
/// what IMAP BODYSTRUCTURE, BODY[section]<partial> and BINARY need without parsing again.
/// Codable, so the store keeps it next to the message and nothing is parsed twice.
///
/// Offsets are absolute octet positions in the whole message. A part's header runs from
/// `offset` for `headerLength` octets (its final empty line included); the body follows at
/// `bodyOffset` for `bodyLength` octets. RFC 2046 §5.1.1: the line break before a boundary
/// delimiter belongs to the delimiter, so it is not in the body.
public struct MIMEPart: Hashable, Sendable, Codable {
    public var offset: Int
    public var headerLength: Int
    public var bodyOffset: Int
    public var bodyLength: Int
    /// Text lines in the body (IMAP body-fld-lines for text/* and message/rfc822): every
    /// line break, plus a final line without one.
    public var bodyLines: Int
    public var header: HeaderSection

    /// Lowercased media type and subtype, e.g. "text" and "plain". RFC 2045 §5.2: without
    /// a valid Content-Type, text/plain; charset=us-ascii (message/rfc822 in a
    /// multipart/digest, RFC 2046 §5.1.5).
    public var mediaType: String
    public var subtype: String
    /// Content-Type parameters by lowercased name, decoded (RFC 2231).
    public var parameters: [String: String]
    /// Content-Transfer-Encoding, lowercased; "7bit" when absent (RFC 2045 §6.1).
    public var transferEncoding: String
    /// Content-Disposition (RFC 2183): lowercased value and its parameters.
    public var disposition: String?
    public var dispositionParameters: [String: String]
    public var contentID: String?
    public var contentDescription: String?
    public var contentLanguage: [String]
    public var contentLocation: String?
    public var contentMD5: String?

    /// Children of a multipart, in order.
    public var parts: [MIMEPart]
    /// The encapsulated message of a message/rfc822 or message/global part: its root part.
    public var message: MIMEPart? {
        get { encapsulated.first }
        set { encapsulated = newValue.map { [$0] } ?? [] }
    }
    /// Zero or one element (an array, because a struct cannot hold itself directly).
    var encapsulated: [MIMEPart]

    /// What was wrong with the structure and how it was read anyway.
    public var defects: [MIMEDefect]

    public var isMultipart: Bool { mediaType == "multipart" }
    public var isMessage: Bool { mediaType == "message" && (subtype == "rfc822" || subtype == "global") }
    public var isText: Bool { mediaType == "text" }
    public var end: Int { bodyOffset + bodyLength }

    init(offset: Int, header: HeaderSection, defaultType: (String, String)) {
        self.offset = offset
        self.header = header
        headerLength = header.length
        bodyOffset = offset + header.length
        bodyLength = 0
        bodyLines = 0
        parts = []
        encapsulated = []
        defects = []

        let contentType = header.first("Content-Type").map(MIMEParameters.init(parsing:))
        let typeParts = contentType?.value.split(separator: "/", omittingEmptySubsequences: false) ?? []
        if let contentType, typeParts.count == 2, Self.isToken(typeParts[0]), Self.isToken(typeParts[1]) {
            mediaType = String(typeParts[0])
            subtype = String(typeParts[1])
            parameters = contentType.parameters
        } else {
            if contentType != nil { defects.append(.invalidContentType) }
            (mediaType, subtype) = defaultType
            parameters = defaultType == ("text", "plain") ? ["charset": "us-ascii"] : [:]
        }
        transferEncoding = header.first("Content-Transfer-Encoding")
            .map { $0.split(separator: "(").first.map { $0.trimmingWhitespace.lowercased() } ?? "" }
            .flatMap { $0.isEmpty ? nil : $0 } ?? "7bit"
        if let value = header.first("Content-Disposition") {
            let parsed = MIMEParameters(parsing: value)
            disposition = parsed.value.isEmpty ? nil : parsed.value
            dispositionParameters = parsed.parameters
        } else {
            disposition = nil
            dispositionParameters = [:]
        }
        contentID = header.first("Content-ID")
        contentDescription = header.first("Content-Description")
        contentLanguage = header.first("Content-Language").map {
            $0.split(separator: ",").map { $0.trimmingWhitespace }.filter { !$0.isEmpty }
        } ?? []
        contentLocation = header.first("Content-Location")
        contentMD5 = header.first("Content-MD5")
    }

    /// RFC 2045 §5.1 token: printable ASCII except space and tspecials.
    private static func isToken(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 32 && $0 < 127 && !"()<>@,;:\\\"/[]?=".utf8.contains($0) }
    }

    /// Every part in IMAP order (depth first), with its section number ("1", "1.2", ...).
    /// The root of a non-multipart message is section "1" (RFC 9051 §6.4.5).
    public func sections(prefix: String = "") -> [(section: String, part: MIMEPart)] {
        var out: [(String, MIMEPart)] = []
        if isMultipart {
            for (index, child) in parts.enumerated() {
                let number = prefix.isEmpty ? "\(index + 1)" : "\(prefix).\(index + 1)"
                out.append((number, child))
                out += child.sectionsBelow(number)
            }
        } else {
            let number = prefix.isEmpty ? "1" : prefix
            if prefix.isEmpty { out.append((number, self)) }
            out += sectionsBelow(number)
        }
        return out
    }

    private func sectionsBelow(_ number: String) -> [(section: String, part: MIMEPart)] {
        if isMultipart { return sections(prefix: number) }
        if let message {
            // RFC 9051 §6.4.5: parts of an encapsulated message continue the numbering.
            if message.isMultipart { return message.sections(prefix: number) }
            return [("\(number).1", message)] + message.sectionsBelow("\(number).1")
        }
        return []
    }
}

/// A structural problem the parser worked around the way mainstream clients do.
public enum MIMEDefect: Hashable, Sendable, Codable, CustomStringConvertible {
    /// A Content-Type without type/subtype: read as the default type.
    case invalidContentType
    /// A multipart without a boundary parameter: read as a single part.
    case missingBoundary
    /// A multipart whose closing delimiter never came (end of input or an outer boundary).
    case missingClosingBoundary
    /// A multipart with no body parts at all.
    case noParts
    /// Deeper than the nesting limit: read as a single part.
    case nestingTooDeep
    /// More parts than the limit: the rest is left in the multipart's epilogue.
    case tooManyParts
    /// A header section larger than the limit: fields past it are dropped.
    case headerTooLong
    /// A header section that no empty line ends.
    case missingHeaderSeparator

    public var description: String {
        switch self {
        case .invalidContentType: return "invalid Content-Type, read as default"
        case .missingBoundary: return "multipart without boundary, read as one part"
        case .missingClosingBoundary: return "missing closing boundary"
        case .noParts: return "multipart without parts"
        case .nestingTooDeep: return "nesting too deep, read as one part"
        case .tooManyParts: return "too many parts, rest ignored"
        case .headerTooLong: return "header too long, truncated"
        case .missingHeaderSeparator: return "no empty line after the header"
        }
    }
}

extension StringProtocol {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
