import IMAP
import Message

/// The FETCH data that comes from a message's stored structure: ENVELOPE and BODYSTRUCTURE
/// (RFC 9051 §7.5.2), and where each section lies (§6.4.5).
enum FetchData {
    // MARK: ENVELOPE

    /// The fields ENVELOPE is made of. Int-backed: which field of a message is which is kept in
    /// an array indexed by it, so making an envelope hashes nothing.
    private enum EnvelopeField: Int, CaseIterable {
        case date, subject, from, sender, replyTo, to, cc, bcc, inReplyTo, messageID

        var name: String {
            switch self {
            case .date: "Date"
            case .subject: "Subject"
            case .from: "From"
            case .sender: "Sender"
            case .replyTo: "Reply-To"
            case .to: "To"
            case .cc: "Cc"
            case .bcc: "Bcc"
            case .inReplyTo: "In-Reply-To"
            case .messageID: "Message-ID"
            }
        }
    }

    /// Built once: a message's envelope looks each of its fields up in them.
    private static let allEnvelopeFields = EnvelopeField.allCases

    /// Their names in the order of the cases, so a field's index here is its raw value.
    static let envelopeFields = HeaderNames(allEnvelopeFields.map(\.name))

    /// RFC 9051 §7.5.2: header values as in the message (encoded-words left alone), Sender
    /// and Reply-To defaulting to From. Addresses are parsed leniently, as clients show them.
    static func envelope(_ header: HeaderSection, utf8: Bool) -> Envelope {
        // One pass over the fields, the first of each name counting: a message's envelope is
        // made for every message of a FETCH ENVELOPE.
        var first = [Int?](repeating: nil, count: allEnvelopeFields.count)
        for (index, field) in header.fields.enumerated() {
            if let which = envelopeFields.index(of: field), first[which] == nil { first[which] = index }
        }
        func raw(_ field: EnvelopeField) -> ByteString? {
            first[field.rawValue].map { ByteString(header.fields[$0].unfoldedValue) }
        }
        func addresses(_ field: EnvelopeField) -> [IMAP.Address] {
            first[field.rawValue].map { imapAddresses(header.fields[$0], utf8: utf8) } ?? []
        }
        let from = addresses(.from)
        let sender = addresses(.sender)
        let replyTo = addresses(.replyTo)
        return Envelope(
            date: raw(.date), subject: raw(.subject), from: from, sender: sender.isEmpty ? from : sender,
            replyTo: replyTo.isEmpty ? from : replyTo, to: addresses(.to), cc: addresses(.cc), bcc: addresses(.bcc),
            inReplyTo: raw(.inReplyTo), messageID: raw(.messageID))
    }

    /// The addresses of `field`. The usual one-address field is read from its octets where
    /// they lie: what the lenient parse makes of it, without making strings on the way.
    static func imapAddresses(_ field: HeaderField, utf8: Bool) -> [IMAP.Address] {
        if let value = field.singleLineValue, let common = AddressList.commonForm(value) {
            return [IMAP.Address(
                name: common.displayName.map { ByteString($0) }, mailbox: ByteString(Array(common.localPart)),
                host: ByteString(Array(common.domain)))]
        }
        return imapAddresses(field.value, utf8: utf8)
    }

    /// The addresses of a field value, parsed leniently.
    static func imapAddresses(_ value: String, utf8: Bool) -> [IMAP.Address] {
        var out: [IMAP.Address] = []
        func convert(_ address: Message.Address) -> IMAP.Address {
            IMAP.Address(
                name: address.displayName.map { phrase($0, utf8: utf8) }, adl: address.route.map { ByteString($0) },
                mailbox: ByteString(address.localPart), host: ByteString(address.domain))
        }
        for item in AddressList.parseLenient(value) {
            switch item {
            case let .mailbox(address):
                out.append(convert(address))
            case let .group(name, members):
                // RFC 9051 §7.5.2: group start (NIL host, name as mailbox), members, group end.
                out.append(.groupStart(phrase(name, utf8: utf8)))
                out += members.map(convert)
                out.append(.groupEnd)
            }
        }
        return out
    }

    /// A decoded display name as an IMAP4rev1 client expects it: RFC 2047 encoded-words for
    /// non-ASCII text (the header's own form), UTF-8 for IMAP4rev2/UTF8=ACCEPT clients.
    private static func phrase(_ text: String, utf8: Bool) -> ByteString {
        if utf8 || text.utf8.allSatisfy({ $0 < 0x80 }) { return ByteString(text) }
        return ByteString(EncodedWord.encode(text, context: .text))
    }

    // MARK: BODYSTRUCTURE

    /// RFC 9051 §7.5.2 BODYSTRUCTURE with extension data (BODY leaves it out when encoding).
    static func bodyStructure(_ part: MIMEPart, utf8: Bool) -> BodyStructure {
        if part.isMultipart {
            return .multipart(MultipartBody(
                parts: part.parts.map { bodyStructure($0, utf8: utf8) }, subtype: ByteString(part.subtype.uppercased()),
                extensionData: MultipartExtension(
                    parameters: parameters(part.parameters), disposition: disposition(part),
                    language: part.contentLanguage.map { ByteString($0) }, location: part.contentLocation.map { ByteString($0) })))
        }
        let fields = BodyFields(
            parameters: parameters(part.parameters), id: part.contentID.map { ByteString($0) },
            description: part.contentDescription.map { ByteString($0) },
            encoding: ByteString(part.transferEncoding.uppercased()), octets: UInt32(clamping: part.bodyLength))
        var kind = SinglePartBody.Kind.basic
        if part.isText {
            kind = .text(lines: UInt64(max(0, part.bodyLines)))
        } else if part.isMessage, let inner = part.message {
            kind = .message(envelope(inner.header, utf8: utf8), bodyStructure(inner, utf8: utf8), lines: UInt64(max(0, part.bodyLines)))
        }
        return .singlePart(SinglePartBody(
            type: ByteString(part.mediaType.uppercased()), subtype: ByteString(part.subtype.uppercased()), fields: fields, kind: kind,
            extensionData: SinglePartExtension(
                md5: part.contentMD5.map { ByteString($0) }, disposition: disposition(part),
                language: part.contentLanguage.map { ByteString($0) }, location: part.contentLocation.map { ByteString($0) })))
    }

    /// Parameters sorted by name (the stored dictionary has no order), names uppercased as
    /// in RFC 9051's examples.
    private static func parameters(_ parameters: [String: String]) -> [BodyParameter] {
        parameters.sorted { $0.key < $1.key }.map { BodyParameter(ByteString($0.key.uppercased()), ByteString($0.value)) }
    }

    private static func disposition(_ part: MIMEPart) -> BodyDisposition? {
        guard let type = part.disposition else { return nil }
        return BodyDisposition(ByteString(type.uppercased()), parameters: parameters(part.dispositionParameters))
    }

    // MARK: Sections (RFC 9051 §6.4.5)

    /// The part a section's part numbers name. Part 1 of a message that is not multipart is
    /// its body; the parts of an encapsulated message (message/rfc822) continue the numbering
    /// of the part that holds it.
    static func part(_ path: [UInt32], in root: MIMEPart) -> MIMEPart? {
        var current = root
        for (index, number) in path.enumerated() {
            if index > 0, current.isMessage, let inner = current.message { current = inner }
            if current.isMultipart {
                let i = Int(number) - 1
                guard i >= 0, i < current.parts.count else { return nil }
                current = current.parts[i]
            } else if number != 1 {
                return nil
            }
        }
        return current
    }

    /// Where the octets of a section are.
    enum Extent: Equatable {
        /// A range of the message file.
        case range(offset: Int, length: Int)
        /// Built: HEADER.FIELDS and friends.
        case bytes([UInt8])
    }

    /// The extent of `section`, nil when the part does not exist (the answer is then an
    /// empty string, as for a section that has no content).
    static func extent(of section: SectionSpec, in message: ParsedMessage) -> Extent? {
        let root = message.root
        if section.part.isEmpty {
            switch section.text {
            case nil: return .range(offset: 0, length: message.size)
            case .header: return .range(offset: root.offset, length: root.headerLength)
            case .text: return .range(offset: root.bodyOffset, length: root.bodyLength)
            case let .headerFields(names): return .bytes(headerFields(root.header, names: names, not: false))
            case let .headerFieldsNot(names): return .bytes(headerFields(root.header, names: names, not: true))
            case .mime: return nil
            }
        }
        guard let part = part(section.part, in: root) else { return nil }
        switch section.text {
        case nil:
            return .range(offset: part.bodyOffset, length: part.bodyLength)
        case .mime:
            return .range(offset: part.offset, length: part.headerLength)
        case .header, .text, .headerFields, .headerFieldsNot:
            // Only an encapsulated message has a header and a text below a part number.
            guard part.isMessage, let inner = part.message else { return .bytes([]) }
            switch section.text {
            case .header: return .range(offset: inner.offset, length: inner.headerLength)
            case .text: return .range(offset: inner.bodyOffset, length: inner.bodyLength)
            case let .headerFields(names): return .bytes(headerFields(inner.header, names: names, not: false))
            case let .headerFieldsNot(names): return .bytes(headerFields(inner.header, names: names, not: true))
            default: return nil
            }
        }
    }

    /// RFC 9051 §6.4.5 HEADER.FIELDS (.NOT): the matching fields as received, and the empty
    /// line that ends a header.
    static func headerFields(_ header: HeaderSection, names: [String], not: Bool) -> [UInt8] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [UInt8] = []
        for field in header.fields where wanted.contains(field.name.lowercased()) != not {
            out += field.raw
            if out.last != 0x0A { out += [0x0D, 0x0A] }
        }
        out += [0x0D, 0x0A]
        return out
    }
}
