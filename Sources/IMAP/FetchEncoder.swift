extension ResponseEncoder {
    /// One `msg-att` item (RFC 9051 §7.5.2).
    func write(_ attribute: MessageAttribute, to w: inout ByteWriter) {
        switch attribute {
        case let .flags(flags):
            w.write("FLAGS ")
            writeFlags(flags, to: &w)
        case let .uid(uid):
            w.write("UID ")
            w.write(number: uid)
        case let .modSeq(modSeq):
            w.write("MODSEQ (")
            w.write(number: modSeq)
            w.write(UInt8(ascii: ")"))
        case let .internalDate(date):
            w.write("INTERNALDATE ")
            writeDateTime(date, to: &w)
        case let .rfc822Size(size):
            w.write("RFC822.SIZE ")
            w.write(number: size)
        case let .envelope(envelope):
            w.write("ENVELOPE ")
            write(envelope, to: &w)
        case let .body(body):
            w.write("BODY ")
            write(body, extensible: false, to: &w)
        case let .bodyStructure(body):
            w.write("BODYSTRUCTURE ")
            write(body, extensible: true, to: &w)
        case let .bodySection(section, origin, data):
            writeSectionName(section, origin: origin, to: &w)
            w.sp()
            w.writeNString(data, utf8: options.utf8)
        case let .binary(part, origin, data):
            writeBinaryName(part, origin: origin, to: &w)
            w.sp()
            if let data, data.contains(0) {
                // RFC 9051 §7.5.2 / RFC 3516 §4.3: NUL needs literal8.
                w.writeLiteralHeader(data.count, binary: true)
                w.write(bytes: data)
            } else {
                w.writeNString(data, utf8: options.utf8)
            }
        case let .binarySize(part, size):
            w.write("BINARY.SIZE[")
            writePart(part, to: &w)
            w.write("] ")
            w.write(number: size)
        case let .rfc822(data):
            w.write("RFC822 ")
            w.writeNString(data, utf8: options.utf8)
        case let .rfc822Header(data):
            w.write("RFC822.HEADER ")
            w.writeNString(data, utf8: options.utf8)
        case let .rfc822Text(data):
            w.write("RFC822.TEXT ")
            w.writeNString(data, utf8: options.utf8)
        case let .saveDate(date):
            w.write("SAVEDATE ")
            if let date { writeDateTime(date, to: &w) } else { w.write("NIL") }
        case let .preview(text):
            w.write("PREVIEW ")
            w.writeNString(text.map { Array($0.utf8) }, utf8: options.utf8)
        case let .emailID(id):
            w.write("EMAILID (")
            writeObjectID(id, to: &w)
            w.write(UInt8(ascii: ")"))
        case let .threadID(id):
            w.write("THREADID ")
            if let id {
                w.write(UInt8(ascii: "("))
                writeObjectID(id, to: &w)
                w.write(UInt8(ascii: ")"))
            } else {
                w.write("NIL")
            }
        }
    }

    /// RFC 8474 `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`; other characters are dropped.
    private func writeObjectID(_ id: String, to w: inout ByteWriter) {
        let valid = id.utf8.filter { CharClass.isAlpha($0) || CharClass.isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        w.write(bytes: valid.isEmpty ? Array("_".utf8) : Array(valid.prefix(255)))
    }

    /// `date-time`: `"17-Jul-1996 02:44:25 -0700"`.
    func writeDateTime(_ date: IMAPDateTime, to w: inout ByteWriter) {
        w.write(UInt8(ascii: "\""))
        w.write(date.description)
        w.write(UInt8(ascii: "\""))
    }

    func writePart(_ part: [UInt32], to w: inout ByteWriter) {
        for (index, number) in part.enumerated() {
            if index > 0 { w.write(UInt8(ascii: ".")) }
            w.write(number: number)
        }
    }

    /// `BODY[section]<origin>`.
    func writeSectionName(_ section: SectionSpec, origin: UInt64?, to w: inout ByteWriter) {
        w.write("BODY[")
        writePart(section.part, to: &w)
        if let text = section.text {
            if !section.part.isEmpty { w.write(UInt8(ascii: ".")) }
            switch text {
            case .header: w.write("HEADER")
            case .text: w.write("TEXT")
            case .mime: w.write("MIME")
            case let .headerFields(names), let .headerFieldsNot(names):
                if case .headerFields = text { w.write("HEADER.FIELDS (") } else { w.write("HEADER.FIELDS.NOT (") }
                for (index, name) in names.enumerated() {
                    if index > 0 { w.sp() }
                    w.writeAString(name.utf8, utf8: options.utf8)
                }
                w.write(UInt8(ascii: ")"))
            }
        }
        w.write(UInt8(ascii: "]"))
        writeOrigin(origin, to: &w)
    }

    /// `BINARY[part]<origin>`.
    func writeBinaryName(_ part: [UInt32], origin: UInt64?, to w: inout ByteWriter) {
        w.write("BINARY[")
        writePart(part, to: &w)
        w.write(UInt8(ascii: "]"))
        writeOrigin(origin, to: &w)
    }

    private func writeOrigin(_ origin: UInt64?, to w: inout ByteWriter) {
        guard let origin else { return }
        w.write(UInt8(ascii: "<"))
        w.write(number: origin)
        w.write(UInt8(ascii: ">"))
    }

    // MARK: ENVELOPE

    func write(_ envelope: Envelope, to w: inout ByteWriter) {
        let utf8 = options.utf8
        w.write(UInt8(ascii: "("))
        w.writeNString(envelope.date, utf8: utf8)
        w.sp()
        w.writeNString(envelope.subject, utf8: utf8)
        // Six lists in their order, without gathering them into an array first: this runs
        // for every message of a FETCH ENVELOPE.
        w.sp()
        writeAddresses(envelope.from, to: &w)
        w.sp()
        writeAddresses(envelope.sender, to: &w)
        w.sp()
        writeAddresses(envelope.replyTo, to: &w)
        w.sp()
        writeAddresses(envelope.to, to: &w)
        w.sp()
        writeAddresses(envelope.cc, to: &w)
        w.sp()
        writeAddresses(envelope.bcc, to: &w)
        w.sp()
        w.writeNString(envelope.inReplyTo, utf8: utf8)
        w.sp()
        w.writeNString(envelope.messageID, utf8: utf8)
        w.write(UInt8(ascii: ")"))
    }

    /// `"(" 1*address ")" / nil`: addresses follow each other without a space.
    private func writeAddresses(_ addresses: [Address], to w: inout ByteWriter) {
        guard !addresses.isEmpty else { return w.write("NIL") }
        let utf8 = options.utf8
        w.write(UInt8(ascii: "("))
        for address in addresses {
            w.write(UInt8(ascii: "("))
            w.writeNString(address.name, utf8: utf8)
            w.sp()
            w.writeNString(address.adl, utf8: utf8)
            w.sp()
            w.writeNString(address.mailbox, utf8: utf8)
            w.sp()
            w.writeNString(address.host, utf8: utf8)
            w.write(UInt8(ascii: ")"))
        }
        w.write(UInt8(ascii: ")"))
    }

    // MARK: BODY and BODYSTRUCTURE

    func write(_ body: BodyStructure, extensible: Bool, to w: inout ByteWriter) {
        let utf8 = options.utf8
        w.write(UInt8(ascii: "("))
        switch body {
        case let .singlePart(part):
            w.writeString(part.type.bytes, utf8: utf8)
            w.sp()
            w.writeString(part.subtype.bytes, utf8: utf8)
            w.sp()
            writeParameters(part.fields.parameters, to: &w)
            w.sp()
            w.writeNString(part.fields.id, utf8: utf8)
            w.sp()
            w.writeNString(part.fields.description, utf8: utf8)
            w.sp()
            w.writeString(part.fields.encoding.bytes, utf8: utf8)
            w.sp()
            w.write(number: part.fields.octets)
            switch part.kind {
            case .basic:
                break
            case let .text(lines):
                w.sp()
                w.write(number: lines)
            case let .message(envelope, nested, lines):
                w.sp()
                write(envelope, to: &w)
                w.sp()
                write(nested, extensible: extensible, to: &w)
                w.sp()
                w.write(number: lines)
            }
            if extensible, let ext = part.extensionData {
                w.sp()
                w.writeNString(ext.md5, utf8: utf8)
                writeExtensionTail(ext.disposition, ext.language, ext.location, to: &w)
            }
        case let .multipart(multipart):
            // `1*body SP media-subtype`: the parts follow each other without a space. A
            // multipart without parts has no valid form; an empty text/plain stands in.
            if multipart.parts.isEmpty {
                w.write("(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)")
            }
            for part in multipart.parts { write(part, extensible: extensible, to: &w) }
            w.sp()
            w.writeString(multipart.subtype.bytes, utf8: utf8)
            if extensible, let ext = multipart.extensionData {
                w.sp()
                writeParameters(ext.parameters, to: &w)
                writeExtensionTail(ext.disposition, ext.language, ext.location, to: &w)
            }
        }
        w.write(UInt8(ascii: ")"))
    }

    /// `SP body-fld-dsp SP body-fld-lang SP body-fld-loc`.
    private func writeExtensionTail(_ disposition: BodyDisposition?, _ language: [ByteString], _ location: ByteString?, to w: inout ByteWriter) {
        let utf8 = options.utf8
        w.sp()
        if let disposition {
            w.write(UInt8(ascii: "("))
            w.writeString(disposition.type.bytes, utf8: utf8)
            w.sp()
            writeParameters(disposition.parameters, to: &w)
            w.write(UInt8(ascii: ")"))
        } else {
            w.write("NIL")
        }
        w.sp()
        switch language.count {
        case 0: w.write("NIL")
        case 1: w.writeString(language[0].bytes, utf8: utf8)
        default:
            w.write(UInt8(ascii: "("))
            for (index, tag) in language.enumerated() {
                if index > 0 { w.sp() }
                w.writeString(tag.bytes, utf8: utf8)
            }
            w.write(UInt8(ascii: ")"))
        }
        w.sp()
        w.writeNString(location, utf8: utf8)
    }

    /// `body-fld-param`: NIL when empty.
    private func writeParameters(_ parameters: [BodyParameter], to w: inout ByteWriter) {
        guard !parameters.isEmpty else { return w.write("NIL") }
        w.write(UInt8(ascii: "("))
        for (index, parameter) in parameters.enumerated() {
            if index > 0 { w.sp() }
            w.writeString(parameter.name.bytes, utf8: options.utf8)
            w.sp()
            w.writeString(parameter.value.bytes, utf8: options.utf8)
        }
        w.write(UInt8(ascii: ")"))
    }
}

/// A FETCH data item whose octets the server writes itself (a message body of many MB need
/// not be copied into the encoder).
public enum StreamedFetchItem: Hashable, Sendable {
    case bodySection(SectionSpec, origin: UInt64?)
    /// `containsNUL` makes it a literal8 (RFC 3516 §4.3).
    case binary(part: [UInt32], origin: UInt64?, containsNUL: Bool)
    case rfc822
    case rfc822Header
    case rfc822Text
}

/// Builds one FETCH response in pieces, for streaming large data:
///
/// ```
/// var builder = FetchResponseBuilder(sequenceNumber: 12, encoder: encoder)
/// builder.append(.uid(4827))
/// send(builder.takeBytes(announcing: .bodySection(.whole, origin: nil), size: body.count))
/// send(body)                    // exactly `size` octets
/// builder.append(.flags([.seen]))
/// send(builder.finish())        // " FLAGS (\Seen))\r\n"
/// ```
public struct FetchResponseBuilder: Sendable {
    private let encoder: ResponseEncoder
    private var writer: ByteWriter
    private var itemCount = 0

    /// Starts `* n FETCH (`.
    public init(sequenceNumber: UInt32, encoder: ResponseEncoder) {
        self.encoder = encoder
        writer = encoder.makeWriter(capacity: 256)
        writer.write("* ")
        writer.write(number: sequenceNumber)
        writer.write(" FETCH (")
    }

    /// Adds an item encoded in full.
    public mutating func append(_ attribute: MessageAttribute) {
        if itemCount > 0 { writer.sp() }
        encoder.write(attribute, to: &writer)
        itemCount += 1
    }

    /// Adds the item name and the literal announcement `{size}\r\n` and returns everything
    /// not yet taken; the caller then sends exactly `size` octets itself.
    public mutating func takeBytes(announcing item: StreamedFetchItem, size: Int) -> [UInt8] {
        if itemCount > 0 { writer.sp() }
        itemCount += 1
        var binary = false
        switch item {
        case let .bodySection(section, origin): encoder.writeSectionName(section, origin: origin, to: &writer)
        case let .binary(part, origin, containsNUL):
            encoder.writeBinaryName(part, origin: origin, to: &writer)
            binary = containsNUL
        case .rfc822: writer.write("RFC822")
        case .rfc822Header: writer.write("RFC822.HEADER")
        case .rfc822Text: writer.write("RFC822.TEXT")
        }
        writer.sp()
        writer.writeLiteralHeader(size, binary: binary)
        return takeBytes()
    }

    /// Returns the bytes built so far and starts afresh.
    public mutating func takeBytes() -> [UInt8] {
        var taken = encoder.makeWriter(capacity: 256).bytes
        swap(&taken, &writer.bytes)
        return taken
    }

    /// Closes the response (`)` CRLF) and returns the remaining bytes.
    public mutating func finish() -> [UInt8] {
        writer.write(UInt8(ascii: ")"))
        writer.crlf()
        return takeBytes()
    }
}
