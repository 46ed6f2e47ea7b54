import NIOCore
import NIOPosix
import NIOSSL
import SASL

/// Channel binding for SCRAM-*-PLUS (RFC 5802 §6) over TLS 1.3: "tls-exporter" (RFC 9266).
///
/// swift-nio-ssl has no API for exporting keying material, but its key-log callback
/// (NSS key log format) hands over each connection's `EXPORTER_SECRET`, the
/// exporter_master_secret of RFC 8446 §7.1, from which the SASL module derives the
/// binding (RFC 8446 §7.5). The callback belongs to the TLS context, shared by every
/// connection, and names a connection only by its client random, which swift-nio-ssl does
/// not tell either. What ties a line to its connection is the thread: BoringSSL runs the
/// handshake, and so calls the callback, synchronously inside the TLS handler's
/// `channelRead`. `KeyLogScope`, placed in front of the TLS handler, marks its connection as
/// the current one on that thread for exactly that call.
///
/// TLS 1.2 has no tls-exporter without extended master secret and swift-nio-ssl does not
/// give tls-unique, so such connections get no binding and -PLUS is not offered on them.
/// The secret stays in memory only; it is never logged.
public enum TLSChannelBinding {
    /// Installs the capture on a server TLS configuration. Connections of a context made
    /// from a configuration without it simply have no binding.
    public static func enable(on configuration: inout TLSConfiguration) {
        configuration.keyLogCallback = { line in
            guard let scope = current.currentValue else { return }
            scope.record(line)
        }
    }

    static let current = ThreadSpecificVariable<KeyLogScope>()
}

/// Sits in front of the TLS handler of one connection and receives that connection's
/// exporter secret (see `TLSChannelBinding`).
public final class KeyLogScope: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used on the channel's event loop only.
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private(set) var exporterSecret: [UInt8]?

    public init() {}

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        TLSChannelBinding.current.currentValue = self
        defer { TLSChannelBinding.current.currentValue = nil }
        context.fireChannelRead(data)
    }

    /// `EXPORTER_SECRET <client random> <secret>`, hex, one line (NSS key log format).
    func record(_ line: ByteBuffer) {
        let fields = String(decoding: line.readableBytesView, as: UTF8.self).split(separator: " ")
        guard fields.count == 3, fields[0] == "EXPORTER_SECRET" else { return }
        exporterSecret = Self.hexDecode(fields[2].trimmingSuffix { $0 == "\n" || $0 == "\r" })
    }

    /// The tls-exporter binding for this connection once its TLS 1.3 handshake is done.
    func channelBinding(version: TLSVersion?) -> ChannelBinding? {
        guard version == .tlsv13, let exporterSecret, let hash = TLSExporter.Hash(secretLength: exporterSecret.count) else { return nil }
        return try? ChannelBinding.tlsExporter(exporterSecret: exporterSecret, hash: hash)
    }

    static func hexDecode(_ text: some StringProtocol) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, !digits.isEmpty else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension StringProtocol {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> SubSequence {
        var end = endIndex
        while end > startIndex, predicate(self[index(before: end)]) { end = index(before: end) }
        return self[startIndex..<end]
    }
}
