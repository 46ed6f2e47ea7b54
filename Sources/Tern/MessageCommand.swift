import ArgumentParser
import Foundation
import Message

struct MessageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "message",
        abstract: "Inspect internet messages (RFC 5322, MIME).",
        subcommands: [MessageParseCommand.self]
    )
}

/// `tern message parse FILE`: the MIME tree as JSON, so operators and tests can see what the
/// server sees: types, parameters, offsets, lengths, line counts, defects, and the decoded
/// header fields that matter.
struct MessageParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print a message's MIME structure and main header fields as JSON.",
        discussion: """
            Offsets and lengths are in octets from the start of the file; a part's header \
            starts at "offset", its body at "bodyOffset". "lines" counts the body's text lines. \
            Structural problems the parser worked around are listed under "defects".
            """
    )

    @OptionGroup var logOptions: LogOptions

    @Argument(help: "The message file (RFC 5322 format, CRLF or LF line endings).")
    var file: String

    func run() throws {
        try logOptions.bootstrap()
        let source: FileSource
        let parsed: ParsedMessage
        let preview: String?
        do {
            source = try FileSource(path: file)
            parsed = try ParsedMessage.parse(source)
            preview = try parsed.preview(in: source)
        } catch {
            printError("tern: message parse: \(error)")
            throw ExitCode(1)
        }
        let output = MessageJSON(size: parsed.size, headers: HeadersJSON(parsed.header), preview: preview, part: PartJSON(parsed.root, section: nil))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(output)
        print(String(decoding: data, as: UTF8.self))
    }
}

struct MessageJSON: Encodable {
    var size: Int
    var headers: HeadersJSON
    var preview: String?
    var part: PartJSON
}

struct AddressJSON: Encodable {
    var name: String?
    var address: String
}

/// The fields a mail client shows, decoded (RFC 2047) and parsed leniently, as a client would.
struct HeadersJSON: Encodable {
    var from: [AddressJSON]?
    var to: [AddressJSON]?
    var cc: [AddressJSON]?
    var subject: String?
    var date: String?
    var messageID: String?

    init(_ header: HeaderSection) {
        func addresses(_ name: String) -> [AddressJSON]? {
            guard let value = header.first(name) else { return nil }
            return AddressList.mailboxes(AddressList.parseLenient(value)).map { AddressJSON(name: $0.displayName, address: $0.addrSpec) }
        }
        from = addresses("From")
        to = addresses("To")
        cc = addresses("Cc")
        subject = header.first("Subject").map(EncodedWord.decode)
        date = header.first("Date").flatMap(MessageDate.parseLenient).map { parsed in
            let formatter = ISO8601DateFormatter()
            formatter.timeZone = TimeZone(secondsFromGMT: parsed.zoneOffsetSeconds)
            return formatter.string(from: parsed.date)
        }
        messageID = header.first("Message-ID").flatMap(MessageID.parse)
    }
}

struct PartJSON: Encodable {
    var section: String?
    var contentType: String
    var parameters: [String: String]
    var transferEncoding: String
    var disposition: String?
    var dispositionParameters: [String: String]?
    var contentID: String?
    var contentDescription: String?
    var contentLanguage: [String]?
    var contentLocation: String?
    var offset: Int
    var headerLength: Int
    var bodyOffset: Int
    var bodyLength: Int
    var lines: Int?
    var defects: [String]?
    var parts: [PartJSON]?
    var message: EncapsulatedJSON?

    init(_ part: MIMEPart, section: String?) {
        self.section = section
        contentType = "\(part.mediaType)/\(part.subtype)"
        parameters = part.parameters
        transferEncoding = part.transferEncoding
        disposition = part.disposition
        dispositionParameters = part.dispositionParameters.isEmpty ? nil : part.dispositionParameters
        contentID = part.contentID
        contentDescription = part.contentDescription.map(EncodedWord.decode)
        contentLanguage = part.contentLanguage.isEmpty ? nil : part.contentLanguage
        contentLocation = part.contentLocation
        offset = part.offset
        headerLength = part.headerLength
        bodyOffset = part.bodyOffset
        bodyLength = part.bodyLength
        // IMAP reports line counts for text and encapsulated messages only.
        lines = part.isText || part.isMessage ? part.bodyLines : nil
        defects = part.defects.isEmpty ? nil : part.defects.map(\.description)
        if part.isMultipart {
            parts = part.parts.enumerated().map { index, child in
                PartJSON(child, section: section.map { "\($0).\(index + 1)" } ?? "\(index + 1)")
            }
        }
        if let inner = part.message {
            // RFC 9051 §6.4.5: a multipart inside numbers its parts on from this part's number;
            // a single-part body is this number with ".1".
            let innerSection = inner.isMultipart ? section : (section.map { "\($0).1" } ?? "1")
            message = EncapsulatedJSON(headers: HeadersJSON(inner.header), part: PartJSON(inner, section: innerSection))
        }
    }
}

/// A message/rfc822 part's message, with its own decoded header fields.
final class EncapsulatedJSON: Encodable {
    let headers: HeadersJSON
    let part: PartJSON
    init(headers: HeadersJSON, part: PartJSON) {
        self.headers = headers
        self.part = part
    }
}
