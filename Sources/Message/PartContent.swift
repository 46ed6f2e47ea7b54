import Base64

/// Reading a part's content on demand: the octets as stored, with the transfer encoding
/// undone, or as text in UTF-8. Only the part's own range of the source is read.
extension MIMEPart {
    /// The body exactly as in the message.
    public func rawBody(in source: any ByteSource) throws(ByteSourceError) -> [UInt8] {
        try source.read(offset: bodyOffset, length: bodyLength)
    }

    /// The body with its Content-Transfer-Encoding undone (RFC 2045 §6): base64 and
    /// quoted-printable are decoded; 7bit, 8bit, binary and unknown encodings (RFC 2045
    /// §6.4 says to treat those as opaque) are returned as they are.
    public func decodedBody(in source: any ByteSource) throws(ByteSourceError) -> [UInt8] {
        decode(try rawBody(in: source))
    }

    func decode(_ raw: [UInt8]) -> [UInt8] {
        switch transferEncoding {
        case "base64": return Base64.decode(raw)
        case "quoted-printable": return QuotedPrintable.decode(raw)
        default: return raw
        }
    }

    /// The charset the text is in: the parameter, or RFC 2045 §5.2's us-ascii.
    public var charset: String {
        parameters["charset"].flatMap { $0.isEmpty ? nil : $0 } ?? "us-ascii"
    }

    /// The body as text: transfer-decoded, then converted from `charset`. Text labelled
    /// us-ascii (or not labelled) that is valid UTF-8 is read as UTF-8, as mainstream
    /// clients do, since much software sends UTF-8 without saying so. An unknown charset is
    /// an error, not a guess.
    public func text(in source: any ByteSource) throws(PartContentError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try decodedBody(in: source)
        } catch {
            throw .read(error)
        }
        return try Self.text(bytes, charset: charset)
    }

    static func text(_ bytes: [UInt8], charset: String) throws(PartContentError) -> String {
        let label = charset.lowercased()
        if label == "us-ascii" || label == "utf-8" || label == "utf8", let utf8 = String(validating: bytes, as: UTF8.self) {
            return utf8
        }
        do {
            return try Charset.decode(bytes, charset: charset)
        } catch {
            throw .charset(error)
        }
    }
}

public enum PartContentError: Error, Equatable, Sendable, CustomStringConvertible {
    case read(ByteSourceError)
    case charset(CharsetError)

    public var description: String {
        switch self {
        case let .read(error): return error.description
        case let .charset(error): return error.description
        }
    }
}
