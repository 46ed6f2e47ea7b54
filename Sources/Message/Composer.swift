// Composing new messages: header fields (RFC 5322 §3.6), MIME structure (RFC 2045, RFC 2046),
// attachments (RFC 2183, RFC 2231) and internationalized headers (RFC 2047, RFC 6532).

import Foundation

/// Why a message could not be composed. Each case names the field and the rule.
public enum ComposeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A local part with characters outside US-ASCII needs SMTPUTF8 (RFC 6531 §3.3, RFC 6532
    /// §3.2); RFC 2047 encoded-words may not appear in an addr-spec (RFC 2047 §5(3)).
    case nonASCIILocalPart(field: String, address: String)
    /// A domain with characters outside US-ASCII: without SMTPUTF8 it must be written as
    /// A-labels (RFC 5890 §2.3.2.1; the DNS module converts).
    case nonASCIIDomain(field: String, address: String)
    /// An empty local part or domain, or a control character in an address.
    case invalidAddress(field: String, address: String)
    /// An extra header's name is not a valid field name (RFC 5322 §3.6.8).
    case invalidHeaderName(String)
    /// An extra header the composer writes itself (From, Date, Content-Type, ...).
    case reservedHeader(String)
    /// A header value contains CR or LF (RFC 5322 §2.2).
    case lineBreakInHeaderValue(field: String)
    /// A structured header value with characters outside US-ASCII, without SMTPUTF8.
    case nonASCIIHeaderValue(field: String)
    /// A message identifier that is not `id-left "@" id-right` (RFC 5322 §3.6.4).
    case invalidMessageID(String)
    /// A content type that is not `type "/" subtype` made of tokens (RFC 2045 §5.1).
    case invalidMediaType(String)
    /// A word of a structured field too long for a line of 998 octets (RFC 5322 §2.1.1).
    case lineTooLong(field: String)
    /// No boundary could be found that does not occur in the content (RFC 2046 §5.1.1).
    /// With a working random source this does not happen.
    case boundaryCollision

    public var description: String {
        switch self {
        case .nonASCIILocalPart(let field, let address):
            return "\(field): local part of \(address) is not ASCII; it needs SMTPUTF8 (RFC 6531, RFC 6532 §3.2)"
        case .nonASCIIDomain(let field, let address):
            return "\(field): domain of \(address) is not ASCII; without SMTPUTF8 write it as A-labels (RFC 5890)"
        case .invalidAddress(let field, let address):
            return "\(field): invalid address \(address) (empty part or control character)"
        case .invalidHeaderName(let name):
            return "invalid header field name \"\(name)\" (RFC 5322 §3.6.8)"
        case .reservedHeader(let name):
            return "\(name): written by the composer, not settable as an extra header"
        case .lineBreakInHeaderValue(let field):
            return "\(field): value contains a line break (RFC 5322 §2.2)"
        case .nonASCIIHeaderValue(let field):
            return "\(field): structured value is not ASCII; it needs SMTPUTF8 (RFC 6532 §3.2)"
        case .invalidMessageID(let id):
            return "invalid message identifier \"\(id)\" (RFC 5322 §3.6.4)"
        case .invalidMediaType(let type):
            return "invalid media type \"\(type)\" (RFC 2045 §5.1)"
        case .lineTooLong(let field):
            return "\(field): a word is too long for a line of 998 octets (RFC 5322 §2.1.1)"
        case .boundaryCollision:
            return "no multipart boundary absent from the content could be found (RFC 2046 §5.1.1)"
        }
    }

    init(_ error: HeaderFoldingError) {
        switch error {
        case .invalidFieldName(let name): self = .invalidHeaderName(name)
        case .lineBreakInValue(let field): self = .lineBreakInHeaderValue(field: field)
        case .lineTooLong(let field, _): self = .lineTooLong(field: field)
        }
    }
}

/// A composed message: the octets to hand to the queue, and what a reader of them needs.
public struct ComposedMessage: Hashable, Sendable {
    /// The whole message, CRLF line endings throughout, ending with CRLF.
    public var bytes: [UInt8]
    /// The Message-ID without angle brackets, "id-left@id-right": the form `MessageID.parse`
    /// returns, so ids from both compare equal.
    public var messageID: String
    /// The multipart boundaries in the order their parts begin (outermost first).
    public var boundaries: [String]
    /// The header or an envelope address has UTF-8 (RFC 6532): the message must go with
    /// SMTPUTF8 (RFC 6531).
    public var needsSMTPUTF8: Bool
    /// The message has octets above 127: it must go with BODY=8BITMIME (RFC 6152).
    public var needs8BITMIME: Bool

    /// The top-level header section, parsed back from `bytes`.
    public var header: HeaderSection { HeaderSection(parsing: bytes) }

    /// `messageID` may be given with its angle brackets, as written in the header.
    init(bytes: [UInt8], messageID: String, boundaries: [String]) {
        self.bytes = bytes
        self.messageID = messageID.hasPrefix("<") && messageID.hasSuffix(">") ? String(messageID.dropFirst().dropLast()) : messageID
        self.boundaries = boundaries
        let headerLength = HeaderSection(parsing: bytes).length
        needsSMTPUTF8 = bytes[..<headerLength].contains { $0 >= 0x80 }
        needs8BITMIME = bytes.contains { $0 >= 0x80 }
    }
}

/// Composes a new message.
///
/// Structure, by what is set: `text` alone gives a text/plain message; with `html`, a
/// multipart/alternative of the two (plain first: RFC 2046 §5.1.4 puts the preferred, richest
/// form last); with attachments, a multipart/mixed of that body and the attachments.
///
/// Text parts are UTF-8 with CRLF line breaks (RFC 2046 §4.1.1) and a transfer encoding chosen
/// by content (`TransferEncoder.choose`). Bcc is never written (RFC 5322 §3.6.3 permits
/// leaving it out; writing it would disclose the blind copies); it is part of
/// `envelopeRecipients`. The Date and Message-ID come from the clock and random source given
/// to `compose`, so output is exact in tests.
///
/// With `smtputf8` the header carries UTF-8 as it is (RFC 6532 §3.2) and addresses may have
/// UTF-8 local parts; the message must then go with SMTPUTF8. Without it, display names,
/// subject and filenames use RFC 2047 and RFC 2231 encodings, and a UTF-8 local part is an
/// error (it has no ASCII form). SMTPUTF8 implies 8BITMIME (RFC 6531 §3.1), so `smtputf8`
/// also allows 8bit bodies.
public struct MessageComposer: Hashable, Sendable {
    /// A file sent along with the message (RFC 2183).
    public struct Attachment: Hashable, Sendable {
        /// Content-Disposition (RFC 2183 §2.1, §2.2).
        public enum Disposition: String, Hashable, Sendable {
            case attachment
            case inline
        }

        public var data: [UInt8]
        /// The media type, `type/subtype` (RFC 2045 §5.1), e.g. "application/pdf".
        public var contentType: String
        /// The charset parameter, for text types whose data is text in that charset.
        public var charset: String?
        public var filename: String?
        public var disposition: Disposition
        /// A Content-ID (RFC 2392), without angle brackets, for inline parts an HTML body
        /// refers to as "cid:".
        public var contentID: String?

        public init(data: [UInt8], contentType: String = "application/octet-stream", charset: String? = nil,
                    filename: String? = nil, disposition: Disposition = .attachment, contentID: String? = nil) {
            self.data = data
            self.contentType = contentType
            self.charset = charset
            self.filename = filename
            self.disposition = disposition
            self.contentID = contentID
        }
    }

    /// A header field the composer has no property for.
    public struct ExtraHeader: Hashable, Sendable {
        public enum Kind: Hashable, Sendable {
            /// Unstructured text (RFC 5322 §3.2.5), encoded with RFC 2047 as needed.
            case unstructured
            /// Written exactly as given (it must be ASCII without SMTPUTF8), folded at its
            /// whitespace. For List-Unsubscribe, Auto-Submitted and the like.
            case structured
        }

        public var name: String
        public var value: String
        public var kind: Kind

        public init(name: String, value: String, kind: Kind = .unstructured) {
            self.name = name
            self.value = value
            self.kind = kind
        }
    }

    public var from: Address
    public var to: [Address] = []
    public var cc: [Address] = []
    /// Blind copies: envelope recipients only, never written.
    public var bcc: [Address] = []
    public var replyTo: [Address] = []
    public var subject: String?
    /// Message identifiers, with or without angle brackets.
    public var inReplyTo: [String] = []
    public var references: [String] = []
    /// A Message-ID to use instead of a generated one (a draft keeps its identifier).
    public var messageID: String?
    /// The host part of generated Message-IDs; the domain of `from` when nil.
    public var messageIDHost: String?
    public var extraHeaders: [ExtraHeader] = []
    /// The text/plain body.
    public var text: String
    /// An HTML alternative to `text`.
    public var html: String?
    public var attachments: [Attachment] = []
    /// The message goes with SMTPUTF8: UTF-8 is written raw in the header (RFC 6532).
    public var smtputf8 = false
    /// The path offers 8BITMIME (RFC 6152): text may go as 8bit instead of quoted-printable.
    public var allow8bit = false

    public init(from: Address, to: [Address] = [], subject: String? = nil, text: String = "") {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
    }

    /// Everyone the message goes to, Bcc included: the RCPT TO list (RFC 5321 §3.3).
    public var envelopeRecipients: [Address] { to + cc + bcc }

    /// Fields written by the composer; extra headers may not repeat them.
    static let reservedNames: Set<String> = [
        "from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id", "in-reply-to",
        "references", "mime-version", "content-type", "content-transfer-encoding", "content-disposition",
    ]

    /// Builds the message.
    ///
    /// - Parameters:
    ///   - now: the Date field (RFC 5322 §3.6.1: when the message was ready to send).
    ///   - zoneOffsetSeconds: the zone the Date is written in.
    ///   - generator: the random source for the Message-ID and the boundaries. It is drawn in
    ///     this order: the Message-ID (when generated), then one boundary per multipart,
    ///     innermost first.
    public func compose(now: Date, zoneOffsetSeconds: Int = 0, using generator: inout some RandomNumberGenerator) throws(ComposeError) -> ComposedMessage {
        let utf8 = smtputf8
        var fields: [HeaderField] = []
        fields.append(try MIMEWriting.addressField("From", [from], smtputf8: utf8))
        if !to.isEmpty { fields.append(try MIMEWriting.addressField("To", to, smtputf8: utf8)) }
        if !cc.isEmpty { fields.append(try MIMEWriting.addressField("Cc", cc, smtputf8: utf8)) }
        // Bcc addresses are checked like the others, since they go into RCPT TO.
        for address in bcc { try MIMEWriting.checkAddress(address, field: "Bcc", smtputf8: utf8) }
        if !replyTo.isEmpty { fields.append(try MIMEWriting.addressField("Reply-To", replyTo, smtputf8: utf8)) }
        if let subject {
            fields.append(try MIMEWriting.textField("Subject", subject, smtputf8: utf8))
        }
        fields.append(try MIMEWriting.structuredField("Date", MessageDate.format(now, zoneOffsetSeconds: zoneOffsetSeconds), smtputf8: utf8))
        let identifier: String
        if let messageID {
            identifier = try MIMEWriting.normalizedMessageID(messageID, smtputf8: utf8)
        } else {
            identifier = try MIMEWriting.generateMessageID(host: messageIDHost ?? from.domain, smtputf8: utf8, using: &generator)
        }
        fields.append(try MIMEWriting.structuredField("Message-ID", identifier, smtputf8: utf8))
        if !inReplyTo.isEmpty {
            let ids = try inReplyTo.map { (id) throws(ComposeError) in try MIMEWriting.normalizedMessageID(id, smtputf8: utf8) }
            fields.append(try MIMEWriting.structuredField("In-Reply-To", ids.joined(separator: " "), smtputf8: utf8))
        }
        if !references.isEmpty {
            let ids = try references.map { (id) throws(ComposeError) in try MIMEWriting.normalizedMessageID(id, smtputf8: utf8) }
            fields.append(try MIMEWriting.structuredField("References", ids.joined(separator: " "), smtputf8: utf8))
        }
        for extra in extraHeaders {
            guard HeaderFolding.isValidFieldName(extra.name) else { throw .invalidHeaderName(extra.name) }
            guard !MessageComposer.reservedNames.contains(extra.name.lowercased()) else { throw .reservedHeader(extra.name) }
            switch extra.kind {
            case .unstructured:
                fields.append(try MIMEWriting.textField(extra.name, extra.value, smtputf8: utf8))
            case .structured:
                fields.append(try MIMEWriting.structuredField(extra.name, extra.value, smtputf8: utf8))
            }
        }
        // RFC 2045 §4: the top-level header of a MIME message carries MIME-Version.
        fields.append(HeaderField(name: "MIME-Version", foldedValue: " 1.0"))

        let eightBit = allow8bit || smtputf8
        var body = MIMEWriting.textEntity(text, subtype: "plain", allow8bit: eightBit)
        if let html {
            body = MIMEWriting.Entity(fields: [], content: .multipart(type: "multipart/alternative", parameters: [], parts: [
                body, MIMEWriting.textEntity(html, subtype: "html", allow8bit: eightBit),
            ]))
        }
        if !attachments.isEmpty {
            var parts = [body]
            for attachment in attachments {
                parts.append(try MIMEWriting.attachmentEntity(attachment, smtputf8: utf8, allow8bit: eightBit))
            }
            body = MIMEWriting.Entity(fields: [], content: .multipart(type: "multipart/mixed", parameters: [], parts: parts))
        }
        let (bytes, boundaries) = try MIMEWriting.message(fields: fields, body: body, using: &generator)
        var message = ComposedMessage(bytes: bytes, messageID: identifier, boundaries: boundaries)
        // A UTF-8 address needs SMTPUTF8 in MAIL FROM or RCPT TO even when only a Bcc has it.
        if (envelopeRecipients + [from]).contains(where: { !$0.addrSpec.unicodeScalars.allSatisfy(\.isASCII) }) {
            message.needsSMTPUTF8 = true
        }
        return message
    }
}

/// The shared machinery of the composer and the DSN writer.
enum MIMEWriting {
    /// A MIME entity (RFC 2045 §2.4) before serialization: content fields and body.
    struct Entity {
        enum Content {
            /// An already encoded body.
            case leaf([UInt8])
            /// A multipart; its Content-Type field, boundary included, is written when the
            /// boundary is chosen.
            case multipart(type: String, parameters: [(name: String, value: String)], parts: [Entity])
        }

        /// The content fields (for a multipart, besides Content-Type).
        var fields: [HeaderField]
        var content: Content
    }

    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// A complete message: the top-level fields, then the body's content fields, an empty
    /// line and the body. It ends with CRLF (RFC 5321 §4.1.1.4: the DATA end follows a line).
    static func message(fields: [HeaderField], body: Entity, using generator: inout some RandomNumberGenerator) throws(ComposeError) -> (bytes: [UInt8], boundaries: [String]) {
        var (bytes, boundaries) = try serialize(body, leadingFields: fields, using: &generator)
        if !bytes.ends(with: crlf) { bytes += crlf }
        return (bytes, boundaries)
    }

    /// Serializes an entity. A multipart body is built from its parts first, so that its
    /// boundary can be checked against everything inside it.
    static func serialize(_ entity: Entity, leadingFields: [HeaderField] = [], using generator: inout some RandomNumberGenerator) throws(ComposeError) -> (bytes: [UInt8], boundaries: [String]) {
        switch entity.content {
        case .leaf(let body):
            return ((leadingFields + entity.fields).flatMap(\.raw) + crlf + body, [])
        case .multipart(let type, let parameters, let parts):
            var serializedParts: [[UInt8]] = []
            var inner: [String] = []
            for part in parts {
                let (bytes, boundaries) = try serialize(part, using: &generator)
                serializedParts.append(bytes)
                inner += boundaries
            }
            let boundary = try chooseBoundary(avoiding: serializedParts, inner: inner, using: &generator)
            // The boundary is always quoted: "=" is a tspecial (RFC 2045 §5.1).
            let contentType = try parameterField("Content-Type", value: type, parameters: parameters + [("boundary", "\"\(boundary)\"")])
            var out = (leadingFields + [contentType] + entity.fields).flatMap(\.raw) + crlf
            let delimiter = Array("--\(boundary)".utf8)
            // RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the delimiter; no
            // preamble; the close delimiter ends the body (an enclosing writer adds the CRLF).
            for (index, part) in serializedParts.enumerated() {
                if index > 0 { out += crlf }
                out += delimiter + crlf + part
            }
            out += crlf + delimiter + Array("--".utf8)
            return (out, [boundary] + inner)
        }
    }

    /// A random boundary of the form "=_" + 24 letters and digits. "=_" cannot occur in
    /// quoted-printable or base64 output (RFC 2045 §6.7 note), and the content of every
    /// part is searched as well, so a 7bit or 8bit part cannot contain it either (RFC 2046
    /// §5.1.1: the boundary MUST NOT appear inside the encapsulated material). No boundary is
    /// a prefix of another, which would confuse parsers that match prefixes.
    static func chooseBoundary(avoiding contents: [[UInt8]], inner: [String], using generator: inout some RandomNumberGenerator) throws(ComposeError) -> String {
        for _ in 0..<boundaryAttempts {
            let boundary = "=_" + randomString(count: randomLength, alphabet: alphanumerics, using: &generator)
            let needle = Array(boundary.utf8)
            if contents.contains(where: { $0.containsSequence(needle) }) { continue }
            if inner.contains(where: { $0.hasPrefix(boundary) || boundary.hasPrefix($0) }) { continue }
            return boundary
        }
        throw .boundaryCollision
    }

    /// Tries at a boundary absent from the content before giving up (each try fails with
    /// probability about 2^-140 with a working random source).
    static let boundaryAttempts = 16
    /// Random characters in a boundary or a Message-ID local part.
    static let randomLength = 24
    /// Parameter values longer than this go as RFC 2231 sections, so that a line stays under
    /// 998 octets (RFC 5322 §2.1.1) with the parameter name and folding around it.
    static let longestPlainParameter = 900
    /// The longest RFC 2231 section value, so each section line stays within 78 columns.
    static let rfc2231SectionLength = 60

    static let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".unicodeScalars)
    static let lowercaseAlphanumerics = Array("abcdefghijklmnopqrstuvwxyz0123456789".unicodeScalars)

    /// `count` characters from `alphabet`, one 64-bit draw each. The modulo keeps the mapping
    /// from draws to characters fixed (tests depend on it); its bias is below 2^-57.
    static func randomString(count: Int, alphabet: [Unicode.Scalar], using generator: inout some RandomNumberGenerator) -> String {
        var out = ""
        for _ in 0..<count {
            out.unicodeScalars.append(alphabet[Int(generator.next() % UInt64(alphabet.count))])
        }
        return out
    }

    // MARK: Header fields

    static func textField(_ name: String, _ text: String, smtputf8: Bool) throws(ComposeError) -> HeaderField {
        do {
            return try HeaderFolding.foldText(name: name, text: text, allowUTF8: smtputf8)
        } catch {
            throw ComposeError(error)
        }
    }

    static func structuredField(_ name: String, _ value: String, smtputf8: Bool) throws(ComposeError) -> HeaderField {
        if !smtputf8 && value.utf8.contains(where: { $0 >= 0x80 }) { throw .nonASCIIHeaderValue(field: name) }
        do {
            return try HeaderFolding.fold(name: name, value: value)
        } catch {
            throw ComposeError(error)
        }
    }

    /// RFC 5322 §3.4: mailbox-list, each `display-name <addr-spec>` or a bare addr-spec.
    static func addressField(_ name: String, _ addresses: [Address], smtputf8: Bool) throws(ComposeError) -> HeaderField {
        do {
            var layout = try HeaderFolding.Layout(fieldName: name)
            for (index, address) in addresses.enumerated() {
                try checkAddress(address, field: name, smtputf8: smtputf8)
                let separator = index == 0 ? "" : " "
                let comma = index == addresses.count - 1 ? "" : ","
                if let displayName = address.displayName, !displayName.allSatisfy(\.isWhitespace) {
                    let segments = EncodedWord.segments(displayName, context: .phrase, allowUTF8: smtputf8)
                    for (position, segment) in segments.enumerated() {
                        try layout.add(position == 0 ? segment.withWhitespace(separator) : segment)
                    }
                    try layout.structured("<\(address.addrSpec)>\(comma)", whitespace: " ")
                } else {
                    try layout.structured("\(address.addrSpec)\(comma)", whitespace: separator)
                }
            }
            return layout.field()
        } catch let error as ComposeError {
            throw error
        } catch let error as HeaderFoldingError {
            throw ComposeError(error)
        } catch {
            throw .lineTooLong(field: name)
        }
    }

    /// An address must have both parts, no control characters (a CR or LF would inject
    /// header lines), and without SMTPUTF8 only ASCII: encoded-words are not allowed in an
    /// addr-spec (RFC 2047 §5(3)), so there is no other way to write it.
    static func checkAddress(_ address: Address, field: String, smtputf8: Bool) throws(ComposeError) {
        let spec = address.addrSpec
        let hasControl = (address.localPart + address.domain).unicodeScalars.contains {
            $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0)
        }
        guard !address.localPart.isEmpty, !address.domain.isEmpty, !hasControl else {
            throw .invalidAddress(field: field, address: spec)
        }
        guard smtputf8 || address.localPart.unicodeScalars.allSatisfy(\.isASCII) else {
            throw .nonASCIILocalPart(field: field, address: spec)
        }
        guard smtputf8 || address.domain.unicodeScalars.allSatisfy(\.isASCII) else {
            throw .nonASCIIDomain(field: field, address: spec)
        }
    }

    /// "<" id-left "@" id-right ">" (RFC 5322 §3.6.4); angle brackets are added if missing.
    static func normalizedMessageID(_ id: String, smtputf8: Bool) throws(ComposeError) -> String {
        var core = Substring(id)
        if core.hasPrefix("<") && core.hasSuffix(">") && core.count >= 2 { core = core.dropFirst().dropLast() }
        let bad = core.unicodeScalars.contains {
            $0.value <= 0x20 || $0.value == 0x7F || $0 == "<" || $0 == ">" || (!smtputf8 && $0.value >= 0x80)
        }
        guard !bad, let at = core.lastIndex(of: "@"), at != core.startIndex, core.index(after: at) != core.endIndex else {
            throw .invalidMessageID(id)
        }
        return "<\(core)>"
    }

    /// A new Message-ID: 24 random characters (about 124 bits) at `host` (RFC 5322 §3.6.4
    /// wants it unique; a domain the sender controls keeps it unique across hosts).
    static func generateMessageID(host: String, smtputf8: Bool, using generator: inout some RandomNumberGenerator) throws(ComposeError) -> String {
        guard smtputf8 || host.unicodeScalars.allSatisfy(\.isASCII) else {
            throw .nonASCIIDomain(field: "Message-ID", address: host)
        }
        let local = randomString(count: randomLength, alphabet: lowercaseAlphanumerics, using: &generator)
        return try normalizedMessageID("\(local)@\(host)", smtputf8: smtputf8)
    }

    /// A field of the form `value; name=value; ...` (Content-Type, Content-Disposition,
    /// RFC 2045 §5.1, RFC 2183 §2). Parameter values are given already formatted; lines break
    /// after each ";" and at spaces inside quoted values (FWS is allowed there).
    static func parameterField(_ name: String, value: String, parameters: [(name: String, value: String)]) throws(ComposeError) -> HeaderField {
        do {
            var layout = try HeaderFolding.Layout(fieldName: name)
            try layout.structured(value + (parameters.isEmpty ? "" : ";"), whitespace: "")
            for (index, parameter) in parameters.enumerated() {
                let text = "\(parameter.name)=\(parameter.value)" + (index == parameters.count - 1 ? "" : ";")
                for (position, piece) in HeaderFolding.whitespaceSeparated(text).enumerated() {
                    try layout.structured(piece.word, whitespace: position == 0 ? " " : piece.whitespace)
                }
            }
            return layout.field()
        } catch {
            throw ComposeError(error)
        }
    }

    /// RFC 2045 §5.1: token = 1*<any CHAR except SPACE, CTLs, or tspecials>.
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?=".utf8.contains($0) }
    }

    static func validatedMediaType(_ type: String) throws(ComposeError) -> String {
        let pieces = type.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 2, isToken(String(pieces[0])), isToken(String(pieces[1])) else {
            throw .invalidMediaType(type)
        }
        return type.lowercased()
    }

    // MARK: Bodies

    /// A text part: UTF-8, canonical CRLF line breaks ending with one (RFC 2046 §4.1.1), and
    /// the transfer encoding its content calls for.
    static func textEntity(_ text: String, subtype: String, allow8bit: Bool) -> Entity {
        var bytes = TransferEncoder.canonicalLineEndings(Array(text.utf8))
        if !bytes.isEmpty && !bytes.ends(with: crlf) { bytes += crlf }
        return leafEntity(bytes, contentType: "text/\(subtype); charset=utf-8", isText: true, allow8bit: allow8bit, extraFields: [])
    }

    /// A leaf with Content-Type (already formatted), Content-Transfer-Encoding chosen by
    /// content, then `extraFields`.
    static func leafEntity(_ bytes: [UInt8], contentType: String, isText: Bool, allow8bit: Bool, extraFields: [HeaderField]) -> Entity {
        let encoding = TransferEncoder.choose(for: bytes, isText: isText, allow8bit: allow8bit)
        return leafEntity(bytes, contentTypeField: HeaderField(name: "Content-Type", foldedValue: " " + contentType), encoding: encoding, isText: isText, extraFields: extraFields)
    }

    static func leafEntity(_ bytes: [UInt8], contentTypeField: HeaderField, encoding: TransferEncoder.Encoding, isText: Bool, extraFields: [HeaderField]) -> Entity {
        var encoded = TransferEncoder.encode(bytes, as: encoding, isText: isText)
        // The CRLF before the next delimiter ends the last base64 line (RFC 2046 §5.1.1).
        if encoding == .base64 && encoded.ends(with: crlf) { encoded.removeLast(2) }
        let fields = [contentTypeField, HeaderField(name: "Content-Transfer-Encoding", foldedValue: " " + encoding.rawValue)] + extraFields
        return Entity(fields: fields, content: .leaf(encoded))
    }

    /// An attachment: Content-Type with a name parameter, Content-Disposition with the
    /// filename (RFC 2183 §2.3), Content-ID, and the data encoded by content.
    ///
    /// A non-ASCII filename is written the standard way, RFC 2231 in Content-Disposition
    /// (`filename*=utf-8''...`), and also as an RFC 2047 encoded-word inside the quoted
    /// Content-Type `name` parameter. RFC 2047 §5 forbids that last form, but Outlook and
    /// other clients that never implemented RFC 2231 look only there, and readers that know
    /// RFC 2231 prefer the filename. With SMTPUTF8 both are plain quoted UTF-8 (RFC 6532 §3.2).
    static func attachmentEntity(_ attachment: MessageComposer.Attachment, smtputf8: Bool, allow8bit: Bool) throws(ComposeError) -> Entity {
        let type = try validatedMediaType(attachment.contentType)
        let isText = type.hasPrefix("text/")
        var typeParameters: [(name: String, value: String)] = []
        if let charset = attachment.charset {
            guard isToken(charset) else { throw .invalidMediaType("\(type); charset=\(charset)") }
            typeParameters.append(("charset", charset))
        }
        var dispositionParameters: [(name: String, value: String)] = []
        if let filename = attachment.filename, !filename.isEmpty {
            // Past `longestPlainParameter` only the RFC 2231 sections can carry the name
            // within the 998-octet line limit.
            if filename.utf8.count <= longestPlainParameter {
                typeParameters.append(("name", nameParameterValue(filename, smtputf8: smtputf8)))
            }
            dispositionParameters = filenameParameters(filename, smtputf8: smtputf8)
        }
        let contentType = try parameterField("Content-Type", value: type, parameters: typeParameters)
        var extra = [try parameterField("Content-Disposition", value: attachment.disposition.rawValue, parameters: dispositionParameters)]
        if let contentID = attachment.contentID {
            extra.append(try structuredField("Content-ID", normalizedMessageID(contentID, smtputf8: smtputf8), smtputf8: smtputf8))
        }
        // Text travels with CRLF line breaks (RFC 2046 §4.1.1); readers convert to their local
        // convention. Any other type is sent octet for octet.
        let data = isText ? TransferEncoder.canonicalLineEndings(attachment.data) : attachment.data
        let encoding = TransferEncoder.choose(for: data, isText: isText, allow8bit: allow8bit)
        return leafEntity(data, contentTypeField: contentType, encoding: encoding, isText: isText, extraFields: extra)
    }

    /// Whether a parameter value can go as a plain (quoted) string.
    private static func isPlainParameter(_ text: String, smtputf8: Bool) -> Bool {
        text.utf8.count <= longestPlainParameter && text.unicodeScalars.allSatisfy {
            $0.value >= 0x20 && $0.value != 0x7F && ($0.isASCII || (smtputf8 && $0.value >= 0xA0))
        }
    }

    /// The Content-Type name parameter (RFC 2045 §5.1 "name", RFC 2046 §4.5.1 history).
    static func nameParameterValue(_ filename: String, smtputf8: Bool) -> String {
        // Quoted even when a token: some readers only take quoted filenames.
        if isPlainParameter(filename, smtputf8: smtputf8) { return EncodedWord.quote(filename) }
        return EncodedWord.quote(EncodedWord.encode(filename, context: .text, allowUTF8: smtputf8))
    }

    /// The Content-Disposition filename: plain when it can be, otherwise RFC 2231 §4
    /// `filename*=utf-8''%..`, split into numbered sections (§3) when long, each section
    /// holding whole characters so readers that decode sections one by one still work.
    static func filenameParameters(_ filename: String, smtputf8: Bool) -> [(name: String, value: String)] {
        if isPlainParameter(filename, smtputf8: smtputf8) { return [("filename", EncodedWord.quote(filename))] }
        let pieces = filename.map { percentEncoded(String($0)) }
        let whole = pieces.joined()
        if whole.count <= rfc2231SectionLength - 10 { return [("filename*", "utf-8''" + whole)] }
        var sections: [String] = []
        var current = "utf-8''"
        for piece in pieces {
            if current.count + piece.count > rfc2231SectionLength && !(sections.isEmpty ? current == "utf-8''" : current.isEmpty) {
                sections.append(current)
                current = ""
            }
            current += piece
        }
        sections.append(current)
        return sections.enumerated().map { ("filename*\($0)*", $1) }
    }

    /// RFC 2231 §7 extended-other-values: attribute-chars stay, everything else is %XX of
    /// its UTF-8 octets.
    static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".unicodeScalars)
        var out = ""
        for byte in text.utf8 {
            let isAttributeChar = byte > 0x20 && byte < 0x7F && !"*'%()<>@,;:\\\"/[]?=".utf8.contains(byte)
            if isAttributeChar {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%"
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return out
    }
}

extension EncodedWord.Segment {
    func withWhitespace(_ whitespace: String) -> EncodedWord.Segment {
        switch self {
        case .text(let word, _): return .text(word, whitespace: whitespace)
        case .atom(let word, _): return .atom(word, whitespace: whitespace)
        case .encoded(let text, _, let context): return .encoded(text, whitespace: whitespace, context: context)
        }
    }
}

extension Array where Element == UInt8 {
    /// Whether the array ends with `suffix`.
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix)
    }

    /// Whether `needle` occurs anywhere in the array.
    fileprivate func containsSequence(_ needle: [UInt8]) -> Bool {
        guard let first = needle.first, needle.count <= count else { return needle.isEmpty }
        var index = 0
        while index <= count - needle.count {
            if self[index] == first && self[index..<(index + needle.count)].elementsEqual(needle) { return true }
            index += 1
        }
        return false
    }
}
