import NIOCore
import NIOSSL
import SASL
import Synchronization

/// What swift-nio-ssl does not tell about a connection's TLS handshake, recorded by a handler
/// in front of its TLS handler (between the TLS handler and the socket), on either end:
///
/// - the channel binding for SCRAM-*-PLUS (RFC 5802 §6): for TLS 1.3 "tls-exporter"
///   (RFC 9266) from the exporter secret, for TLS 1.2 "tls-unique" (RFC 5929 §3.1), the
///   first Finished, recomputed from the master secret and the handshake messages;
/// - the negotiated cipher suite, from the ServerHello.
///
/// swift-nio-ssl has no API for exporters or for the Finished messages, but the key-log
/// callback of a TLS configuration (NSS key log format) hands over each connection's
/// secrets: `EXPORTER_SECRET`, the exporter_master_secret of RFC 8446 §7.1, and
/// `CLIENT_RANDOM`, the TLS 1.2 master_secret (RFC 5246 §8.1). The callback belongs to the
/// TLS context, which may be shared by every connection, and swift-nio-ssl does not say
/// which connection a line is for; nor is the line always written while the TLS handler
/// reads: a handshake paused for an asynchronous callback (certificate verification, a
/// per-connection certificate) resumes on a later event-loop tick. What names the
/// connection is the line itself: its client random, which the recorder has seen in its
/// connection's ClientHello, together with the end the context serves (a client and a
/// server in one process share the random of their connection). So each recorder
/// registers its end and client random while its handshake runs (`KeyLogRegistry`), and
/// the callback hands each line to the recorder registered for it.
///
/// The handshake messages come from the records passing through in both directions
/// (`TLSHandshakeTranscript`); the secrets and the transcript stay in memory only, are never
/// logged, and are dropped when the handshake completes.
public final class TLSHandshakeRecorder: ChannelDuplexHandler, @unchecked Sendable {
    // @unchecked: used on the channel's event loop only; the registry hands it key-log lines
    // only on that loop.
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// Installs the key-log capture on a TLS configuration for `role`'s end. Connections of
    /// a context made from a configuration without it have no channel binding.
    public static func captureKeyLog(on configuration: inout TLSConfiguration, as role: TLSRole) {
        configuration.keyLogCallback = { line in
            guard let entry = KeyLogEntry(line.readableBytesView) else { return }
            KeyLogRegistry.shared.deliver(entry, to: role)
        }
    }

    /// Which end of the connection the TLS handler behind this recorder plays: what it
    /// writes was sent by that end, what it reads by the other.
    private let role: TLSRole
    private var eventLoop: (any EventLoop)?
    /// Until the handshake completes.
    private var transcript: TLSHandshakeTranscript?
    /// The client random this recorder is registered under.
    private var registeredRandom: [UInt8]?
    private var exporterSecret: [UInt8]?
    private var masterSecret: [UInt8]?
    private var completedCipherSuite: UInt16?

    public init(role: TLSRole) {
        self.role = role
        transcript = TLSHandshakeTranscript()
    }

    /// ServerHello.cipher_suite, once the server sent it.
    public var cipherSuite: UInt16? { transcript?.cipherSuite ?? completedCipherSuite }

    public func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        unregister()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        observe(unwrapInboundIn(data), from: role == .server ? .client : .server)
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        observe(unwrapOutboundIn(data), from: role)
        context.write(data, promise: promise)
    }

    private func observe(_ buffer: ByteBuffer, from sender: TLSRole) {
        guard transcript != nil else { return }
        transcript?.append(buffer.readableBytesView, from: sender)
        if registeredRandom == nil, let clientRandom = transcript?.clientRandom {
            registeredRandom = clientRandom
            KeyLogRegistry.shared.register(self, role: role, clientRandom: clientRandom)
        }
    }

    private func unregister() {
        guard let registeredRandom else { return }
        KeyLogRegistry.shared.unregister(role: role, clientRandom: registeredRandom)
        self.registeredRandom = nil
    }

    /// A line of the key log with this connection's client random.
    func receiveKeyLog(_ entry: KeyLogEntry) {
        // BoringSSL runs the handshake, and so writes the key log, on the connection's event
        // loop; a line from anywhere else is not taken (no binding rather than a wrong one).
        guard eventLoop?.inEventLoop == true, entry.clientRandom == registeredRandom else { return }
        switch entry.label {
        case "EXPORTER_SECRET": exporterSecret = entry.secret
        case "CLIENT_RANDOM": masterSecret = entry.secret
        default: return
        }
    }

    /// The channel binding of this connection, to be asked once its handshake completed
    /// with `version`; nil when the version has none, or the context did not capture the
    /// key log, or the handshake could not be followed. Drops the transcript and the secrets.
    public func handshakeCompleted(version: TLSVersion?) -> ChannelBinding? {
        defer {
            unregister()
            completedCipherSuite = transcript?.cipherSuite
            transcript = nil
            exporterSecret = nil
            masterSecret = nil
        }
        switch version {
        case .tlsv13?:
            guard let exporterSecret, let hash = TLSHash(secretLength: exporterSecret.count) else { return nil }
            return try? ChannelBinding.tlsExporter(exporterSecret: exporterSecret, hash: hash)
        case .tlsv12?:
            // RFC 9266 §1: without extended master secret tls-unique is not unique (the
            // triple handshake attack), so it is not offered. RFC 5246 §8.1: the master
            // secret is 48 octets.
            guard let transcript, case let .complete(firstFinished) = transcript.state, transcript.extendedMasterSecret,
                let masterSecret, masterSecret.count == 48, let hash = transcript.cipherSuite.flatMap(TLSCipherSuite.hash(of:))
            else { return nil }
            return ChannelBinding.tlsUnique(
                masterSecret: masterSecret, prfHash: hash, firstFinishedBy: firstFinished, handshakeMessages: transcript.messages)
        default:
            // RFC 5929 §3.1 defines tls-unique for TLS 1.2 and before, but Tern speaks
            // neither TLS 1.0 nor 1.1 (RFC 8996).
            return nil
        }
    }
}

/// The recorders with a handshake in progress, by their end and the client random of their
/// ClientHello: where the key-log callback, shared by the connections of a context, finds
/// the connection a line is for. A client random is 32 octets chosen by the client
/// (RFC 5246 §7.4.1.2), but anyone who saw a ClientHello can send the same one; a random
/// claimed by two connections of one end at once names neither, and its lines go nowhere.
final class KeyLogRegistry: Sendable {
    static let shared = KeyLogRegistry()

    private struct Key: Hashable {
        var role: TLSRole
        var clientRandom: [UInt8]
    }

    private struct Claim {
        weak var recorder: TLSHandshakeRecorder?
        var count: Int
    }

    private let claims = Mutex<[Key: Claim]>([:])

    func register(_ recorder: TLSHandshakeRecorder, role: TLSRole, clientRandom: [UInt8]) {
        claims.withLock { claims in
            let key = Key(role: role, clientRandom: clientRandom)
            if var claim = claims[key] {
                claim.count += 1
                claims[key] = claim
            } else {
                claims[key] = Claim(recorder: recorder, count: 1)
            }
        }
    }

    func unregister(role: TLSRole, clientRandom: [UInt8]) {
        claims.withLock { claims in
            let key = Key(role: role, clientRandom: clientRandom)
            guard var claim = claims[key] else { return }
            claim.count -= 1
            claims[key] = claim.count > 0 ? claim : nil
        }
    }

    func deliver(_ entry: KeyLogEntry, to role: TLSRole) {
        let recorder = claims.withLock { claims -> TLSHandshakeRecorder? in
            guard let claim = claims[Key(role: role, clientRandom: entry.clientRandom)], claim.count == 1 else { return nil }
            return claim.recorder
        }
        recorder?.receiveKeyLog(entry)
    }

    /// How many recorders of `role` claim `clientRandom` now.
    func claimCount(role: TLSRole, clientRandom: [UInt8]) -> Int {
        claims.withLock { $0[Key(role: role, clientRandom: clientRandom)]?.count ?? 0 }
    }
}

/// One line of the NSS key log format: `<label> <client random> <secret>`, both in hex.
struct KeyLogEntry: Equatable {
    var label: String
    var clientRandom: [UInt8]
    var secret: [UInt8]

    init?(_ line: some Collection<UInt8>) {
        let fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
        guard fields.count == 3, let clientRandom = Self.hexDecode(fields[1]), clientRandom.count == 32,
            let secret = Self.hexDecode(fields[2])
        else { return nil }
        label = String(decoding: fields[0], as: UTF8.self)
        self.clientRandom = clientRandom
        self.secret = secret
    }

    static func hexDecode(_ digits: some Collection<UInt8>) -> [UInt8]? {
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var high: UInt8?
        for digit in digits {
            guard let value = nibble(digit) else { return nil }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
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
