import NIOCore
import NIOEmbedded
import NIOSSL
import ServerSupport
import Testing

/// The ClientHello reader of ServerSupport, on hellos made by BoringSSL (swift-nio-ssl's
/// client) and on hand-made malformed ones.
@Suite struct TLSClientHelloTests {
    /// The first flight of a real TLS client: its ClientHello record(s).
    static func clientHello(serverName: String?, alpn: [String]) throws -> [UInt8] {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = alpn
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
        _ = channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443))
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        _ = try? channel.finish()
        return bytes
    }

    @Test func realHelloWithSNIAndALPN() throws {
        let hello = try Self.clientHello(serverName: "Mail.Example.COM", alpn: ["acme-tls/1"])
        #expect(hello.first == 22)
        #expect(TLSClientHello.parse(hello) == .hello(.init(serverName: "mail.example.com", applicationProtocols: ["acme-tls/1"])))

        let h2 = try Self.clientHello(serverName: "imap.example.org", alpn: ["h2", "http/1.1"])
        #expect(TLSClientHello.parse(h2) == .hello(.init(serverName: "imap.example.org", applicationProtocols: ["h2", "http/1.1"])))

        let bare = try Self.clientHello(serverName: nil, alpn: [])
        #expect(TLSClientHello.parse(bare) == .hello(.init(serverName: nil, applicationProtocols: [])))
    }

    /// Any prefix is incomplete, not malformed: the hello may come in many TCP segments.
    @Test func everyPrefixIsIncomplete() throws {
        let hello = try Self.clientHello(serverName: "mail.example.com", alpn: ["acme-tls/1"])
        for length in 0..<hello.count {
            #expect(TLSClientHello.parse(hello[..<length]) == .incomplete, "prefix \(length)")
        }
        // Trailing octets (the client's next record) do not matter.
        #expect(TLSClientHello.parse(hello + [20, 3, 3, 0, 1, 1]) != .incomplete)
    }

    /// RFC 8446 §5.1: a handshake message may be split over several records.
    @Test func helloSplitOverRecords() throws {
        let hello = try Self.clientHello(serverName: "mail.example.com", alpn: ["acme-tls/1"])
        let handshake = Array(hello[5...])
        var split: [UInt8] = []
        for chunk in stride(from: 0, to: handshake.count, by: 100).map({ handshake[$0..<min($0 + 100, handshake.count)] }) {
            split += [22, 3, 1, UInt8(chunk.count >> 8), UInt8(chunk.count & 0xFF)] + chunk
        }
        #expect(TLSClientHello.parse(split) == .hello(.init(serverName: "mail.example.com", applicationProtocols: ["acme-tls/1"])))
        #expect(TLSClientHello.parse(split.dropLast()) == .incomplete)
    }

    /// A minimal ClientHello body with the given extensions.
    static func record(extensions: [UInt8]?, handshakeType: UInt8 = 1) -> [UInt8] {
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + [0, 2, 0x13, 0x01] + [1, 0]
        if let extensions { body += [UInt8(extensions.count >> 8), UInt8(extensions.count & 0xFF)] + extensions }
        let handshake = [handshakeType, 0, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
        return [22, 3, 1, UInt8(handshake.count >> 8), UInt8(handshake.count & 0xFF)] + handshake
    }

    static func sni(_ name: String) -> [UInt8] {
        let host = Array(name.utf8)
        let entry: [UInt8] = [0, UInt8(host.count >> 8), UInt8(host.count & 0xFF)] + host
        let list: [UInt8] = [UInt8(entry.count >> 8), UInt8(entry.count & 0xFF)] + entry
        return [0, 0, UInt8(list.count >> 8), UInt8(list.count & 0xFF)] + list
    }

    static func alpn(_ names: [String]) -> [UInt8] {
        let entries = names.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
        let list: [UInt8] = [UInt8(entries.count >> 8), UInt8(entries.count & 0xFF)] + entries
        return [0, 16, UInt8(list.count >> 8), UInt8(list.count & 0xFF)] + list
    }

    @Test func handMadeHellos() {
        #expect(TLSClientHello.parse(Self.record(extensions: nil)) == .hello(.init(serverName: nil, applicationProtocols: [])))
        #expect(
            TLSClientHello.parse(Self.record(extensions: Self.alpn(["acme-tls/1"]) + Self.sni("mail.example.com.")))
                == .hello(.init(serverName: "mail.example.com", applicationProtocols: ["acme-tls/1"])))
        // An unknown extension is skipped.
        #expect(
            TLSClientHello.parse(Self.record(extensions: [0xFA, 0xFA, 0, 1, 0] + Self.sni("a.example")))
                == .hello(.init(serverName: "a.example", applicationProtocols: [])))
    }

    @Test func malformedHellos() {
        let good = Self.record(extensions: Self.sni("a.example"))
        // Not a handshake record (application data), not TLS at all, SSL 2 style.
        #expect(TLSClientHello.parse([23] + good.dropFirst()) == .malformed)
        #expect(TLSClientHello.parse(Array("EHLO client.example\r\n".utf8)) == .malformed)
        #expect(TLSClientHello.parse([0x80, 0x2E, 0x01, 0x03, 0x01]) == .malformed)
        // A ServerHello, not a ClientHello.
        #expect(TLSClientHello.parse(Self.record(extensions: nil, handshakeType: 2)) == .malformed)
        // A zero-length record; one over 2^14.
        #expect(TLSClientHello.parse([22, 3, 1, 0, 0]) == .malformed)
        #expect(TLSClientHello.parse([22, 3, 1, 0x40, 0x01]) == .malformed)
        // A handshake length over the limit.
        #expect(TLSClientHello.parse([22, 3, 1, 0, 4, 1, 0x01, 0, 0]) == .malformed)
        // The same extension twice (RFC 8446 §4.2).
        #expect(TLSClientHello.parse(Self.record(extensions: Self.sni("a.example") + Self.sni("b.example"))) == .malformed)
        // Extension lengths that overrun.
        #expect(TLSClientHello.parse(Self.record(extensions: [0, 0, 0, 9, 0, 3])) == .malformed)
        // An empty ALPN list, an empty protocol name (RFC 7301 §3.1).
        #expect(TLSClientHello.parse(Self.record(extensions: [0, 16, 0, 2, 0, 0])) == .malformed)
        #expect(TLSClientHello.parse(Self.record(extensions: [0, 16, 0, 3, 0, 1, 0])) == .malformed)
        // A session id over 32 octets.
        var long = good
        long[5 + 4 + 34] = 33
        #expect(TLSClientHello.parse(long) == .malformed)
    }
}
