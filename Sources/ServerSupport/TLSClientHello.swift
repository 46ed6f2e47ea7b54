/// The two ClientHello extensions a server needs before choosing its TLS configuration:
/// server_name (RFC 6066 §3) and application_layer_protocol_negotiation (RFC 7301 §3.1),
/// read from the first octets of a connection without doing TLS. Used to answer ACME
/// tls-alpn-01 validation (RFC 8737 §3) on a listener that otherwise serves its own TLS.
public struct TLSClientHello: Sendable, Equatable {
    /// The host_name of server_name, lowercased, without a trailing dot.
    public var serverName: String?
    /// The protocol names offered with ALPN, in the client's order.
    public var applicationProtocols: [String]

    public init(serverName: String?, applicationProtocols: [String]) {
        self.serverName = serverName
        self.applicationProtocols = applicationProtocols
    }

    public enum ParseResult: Sendable, Equatable {
        /// More octets are needed.
        case incomplete
        /// Not a TLS ClientHello as RFC 8446/RFC 5246 define it; the TLS handler will say why.
        case malformed
        case hello(TLSClientHello)
    }

    /// Handshake messages larger than this are not read (RFC 8446 allows 2^24-1; real
    /// ClientHellos, post-quantum key shares included, stay well under 16 KiB).
    public static let maxHandshakeLength = 16 * 1024

    /// Reads TLSPlaintext records (RFC 8446 §5.1, RFC 5246 §6.2.1: type 22 handshake,
    /// legacy_record_version 3.x, a length of at most 2^14, never zero for handshake records)
    /// and collects their fragments until one whole handshake message is there; it must be a
    /// client_hello (type 1, RFC 8446 §4.1.2, RFC 5246 §7.4.1.2). A hello may span records,
    /// and the records may arrive in any number of TCP segments.
    public static func parse(_ bytes: some Collection<UInt8>) -> ParseResult {
        let bytes = Array(bytes)
        var handshake: [UInt8] = []
        var offset = 0
        while true {
            if handshake.count >= 4 {
                guard handshake[0] == 1 else { return .malformed }
                let length = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                guard length <= maxHandshakeLength else { return .malformed }
                if handshake.count >= 4 + length {
                    return parseBody(handshake[4..<(4 + length)]).map(ParseResult.hello) ?? .malformed
                }
            }
            guard bytes.count - offset >= 5 else { return .incomplete }
            guard bytes[offset] == 22, bytes[offset + 1] == 3 else { return .malformed }
            let recordLength = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard recordLength > 0, recordLength <= 1 << 14 else { return .malformed }
            guard bytes.count - offset - 5 >= recordLength else { return .incomplete }
            handshake += bytes[(offset + 5)..<(offset + 5 + recordLength)]
            offset += 5 + recordLength
        }
    }

    /// ClientHello body: legacy_version, random, legacy_session_id<0..32>,
    /// cipher_suites<2..2^16-2>, legacy_compression_methods<1..2^8-1>, then optionally
    /// extensions<8..2^16-1> (absent in some TLS 1.2 hellos, RFC 5246 §7.4.1.2).
    static func parseBody(_ body: ArraySlice<UInt8>) -> TLSClientHello? {
        var reader = Reader(body)
        guard reader.skip(2 + 32),
            let sessionID = reader.vector(lengthBytes: 1), sessionID.count <= 32,
            let suites = reader.vector(lengthBytes: 2), suites.count >= 2, suites.count % 2 == 0,
            let compression = reader.vector(lengthBytes: 1), !compression.isEmpty
        else { return nil }
        var hello = TLSClientHello(serverName: nil, applicationProtocols: [])
        if reader.isAtEnd { return hello }
        guard var extensions = reader.vector(lengthBytes: 2).map(Reader.init), reader.isAtEnd else { return nil }
        var seen = Set<UInt16>()
        while !extensions.isAtEnd {
            guard let type = extensions.uint16(), let data = extensions.vector(lengthBytes: 2) else { return nil }
            // RFC 8446 §4.2: no extension type appears twice.
            guard seen.insert(type).inserted else { return nil }
            switch type {
            case 0:
                guard case let .valid(name) = serverName(data) else { return nil }
                hello.serverName = name
            case 16:
                guard let protocols = protocolNames(data) else { return nil }
                hello.applicationProtocols = protocols
            default:
                continue
            }
        }
        return hello
    }

    /// RFC 6066 §3: ServerNameList, entries of name_type (0 = host_name) and a HostName
    /// vector. The first host_name counts ("MUST NOT contain more than one name of the same
    /// name_type").
    static func serverName(_ data: ArraySlice<UInt8>) -> ServerNameField {
        var reader = Reader(data)
        guard var list = reader.vector(lengthBytes: 2).map(Reader.init), reader.isAtEnd else { return .malformed }
        var name: String?
        while !list.isAtEnd {
            guard let type = list.uint8(), let value = list.vector(lengthBytes: 2), !value.isEmpty else { return .malformed }
            if type == 0, name == nil {
                var text = String(decoding: value, as: UTF8.self).lowercased()
                if text.hasSuffix(".") { text.removeLast() }
                name = text
            }
        }
        return .valid(name)
    }

    enum ServerNameField: Equatable {
        case malformed
        /// Well-formed; the host_name if there is one.
        case valid(String?)
    }

    /// RFC 7301 §3.1: ProtocolNameList<2..2^16-1> of ProtocolName<1..2^8-1>.
    static func protocolNames(_ data: ArraySlice<UInt8>) -> [String]? {
        var reader = Reader(data)
        guard var list = reader.vector(lengthBytes: 2).map(Reader.init), reader.isAtEnd, !list.isAtEnd else { return nil }
        var names: [String] = []
        while !list.isAtEnd {
            guard let name = list.vector(lengthBytes: 1), !name.isEmpty else { return nil }
            names.append(String(decoding: name, as: UTF8.self))
        }
        return names
    }

    /// Big-endian fields and length-prefixed vectors (RFC 8446 §3.4).
    struct Reader {
        var bytes: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

        var isAtEnd: Bool { bytes.isEmpty }

        mutating func skip(_ count: Int) -> Bool {
            guard bytes.count >= count else { return false }
            bytes = bytes.dropFirst(count)
            return true
        }

        mutating func uint8() -> UInt8? {
            guard let first = bytes.first else { return nil }
            bytes = bytes.dropFirst()
            return first
        }

        mutating func uint16() -> UInt16? {
            guard bytes.count >= 2 else { return nil }
            let value = UInt16(bytes[bytes.startIndex]) << 8 | UInt16(bytes[bytes.startIndex + 1])
            bytes = bytes.dropFirst(2)
            return value
        }

        mutating func vector(lengthBytes: Int) -> ArraySlice<UInt8>? {
            guard bytes.count >= lengthBytes else { return nil }
            var length = 0
            for byte in bytes.prefix(lengthBytes) { length = length << 8 | Int(byte) }
            bytes = bytes.dropFirst(lengthBytes)
            guard bytes.count >= length else { return nil }
            let value = bytes.prefix(length)
            bytes = bytes.dropFirst(length)
            return value
        }
    }
}
