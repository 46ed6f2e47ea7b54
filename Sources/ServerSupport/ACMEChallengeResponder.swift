import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// The tls-alpn-01 certificates (RFC 8737 §3) currently published, by host name, each as a
/// TLS context that presents it and negotiates only "acme-tls/1". Shared by every listener
/// that answers validation; the ACME client publishes before it tells the CA to validate
/// and unpublishes afterwards.
public final class ACMEChallengeCertificates: Sendable {
    /// RFC 8737 §4, §6.2.
    public static let alpnProtocol = "acme-tls/1"

    private let contexts = Mutex<[String: NIOSSLContext]>([:])

    public init() {}

    /// Publishes a challenge certificate (DER) and its private key (PKCS #8 or SEC 1 DER)
    /// for `name`, replacing any earlier one.
    public func publish(name: String, certificateDER: [UInt8], privateKeyDER: [UInt8]) throws {
        let certificate = try NIOSSLCertificate(bytes: certificateDER, format: .der)
        let key = try NIOSSLPrivateKey(bytes: privateKeyDER, format: .der)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key))
        // RFC 8737 §4: validation uses TLS 1.2 or higher; the only protocol is acme-tls/1.
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [Self.alpnProtocol]
        let context = try NIOSSLContext(configuration: configuration)
        contexts.withLock { $0[Self.key(name)] = context }
    }

    public func unpublish(name: String) {
        _ = contexts.withLock { $0.removeValue(forKey: Self.key(name)) }
    }

    /// The context for a validation of `name`, if a certificate is published for it.
    public func context(for name: String) -> NIOSSLContext? {
        contexts.withLock { $0[Self.key(name)] }
    }

    public var isEmpty: Bool { contexts.withLock { $0.isEmpty } }

    /// DNS names compare case-insensitively (RFC 8737 §3, RFC 4343).
    static func key(_ name: String) -> String {
        var name = name.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}

/// Goes where the TLS server handler would go on an implicit-TLS connection and picks the TLS
/// handler by the ClientHello (RFC 8446 §4.1.2): when its ALPN extension offers "acme-tls/1"
/// (RFC 8737 §4) and a challenge certificate is published for its server_name, a handler
/// presenting that certificate, after which the connection is closed once the handshake is
/// done and nothing reaches the protocol (RFC 8737 §4: "does not carry application data");
/// otherwise the listener's normal TLS handler (or, without one, the connection is closed).
///
/// Until it has decided it holds the octets read (the hello may come in several TCP
/// segments, up to `maxBufferedBytes`; past that, or on anything that is not a ClientHello,
/// the normal handler gets the octets and fails or serves them) and holds writes from the
/// protocol, which the TLS handler then takes as it takes writes during a handshake. Then it
/// removes itself.
///
/// Only for TLS from the first octet: STARTTLS connections are never validated by ACME CAs
/// (RFC 8737 §3 step 3: TLS on port 443), so `ConnectionGate.startTLS` is left as it is.
public final class ACMEChallengeResponder: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    /// How much of a connection's start is read for the decision.
    public static let maxBufferedBytes = TLSClientHello.maxHandshakeLength + 4 * 5 + 64

    private let challenges: ACMEChallengeCertificates
    private let tlsContext: NIOSSLContext?
    private let logger: Logger?
    private var buffered: ByteBuffer?
    private var heldWrites: [(NIOAny, EventLoopPromise<Void>?)] = []
    private var flushHeld = false
    private var decided = false

    /// `tlsContext` nil: a listener that exists only to answer validation; other
    /// connections are closed.
    public init(challenges: ACMEChallengeCertificates, tlsContext: NIOSSLContext?, logger: Logger? = nil) {
        self.challenges = challenges
        self.tlsContext = tlsContext
        self.logger = logger
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered?.writeBuffer(&bytes)
        }
        guard let buffered else { return }
        switch TLSClientHello.parse(buffered.readableBytesView) {
        case .incomplete where buffered.readableBytes <= Self.maxBufferedBytes:
            return
        case .incomplete, .malformed:
            install(.normal, context: context)
        case let .hello(hello):
            if hello.applicationProtocols.contains(ACMEChallengeCertificates.alpnProtocol), let name = hello.serverName,
                let challengeContext = challenges.context(for: name)
            {
                logger?.info("answering acme tls-alpn-01 validation", metadata: ["name": "\(name)"])
                install(.challenge(challengeContext), context: context)
            } else {
                install(.normal, context: context)
            }
        }
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if decided {
            context.write(data, promise: promise)
        } else {
            heldWrites.append((data, promise))
        }
    }

    public func flush(context: ChannelHandlerContext) {
        if decided {
            context.flush()
        } else {
            flushHeld = true
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        failHeldWrites()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        failHeldWrites()
    }

    private enum Choice {
        case normal
        case challenge(NIOSSLContext)
    }

    private func install(_ choice: Choice, context: ChannelHandlerContext) {
        decided = true
        let operations = context.pipeline.syncOperations
        let writes = heldWrites
        heldWrites = []
        let flush = flushHeld
        do {
            switch choice {
            case .normal:
                guard let tlsContext else {
                    for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
                    buffered = nil
                    context.close(promise: nil)
                    return
                }
                try operations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .after(self))
            case let .challenge(challengeContext):
                let closer = ChallengeConnectionCloser()
                try operations.addHandler(closer, position: .after(self))
                try operations.addHandler(NIOSSLServerHandler(context: challengeContext), position: .after(self))
                // The protocol's writes (a greeting, say) must not go out on a validation
                // connection.
                for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
            }
        } catch {
            for (_, promise) in writes { promise?.fail(error) }
            buffered = nil
            context.close(promise: nil)
            return
        }
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        operations.removeHandler(context: context, promise: nil)
        // Writes the protocol made before the TLS handler existed now go through it, from the
        // tail, as if it had been there all along.
        if case .normal = choice {
            for (data, promise) in writes { operations.write(data, promise: promise) }
            if flush { operations.flush() }
        }
    }

    private func failHeldWrites() {
        let writes = heldWrites
        heldWrites = []
        for (_, promise) in writes { promise?.fail(ChannelError.ioOnClosedChannel) }
    }
}

@available(*, unavailable)
extension ACMEChallengeResponder: Sendable {}

/// Sits behind the TLS handler of a validation connection: closes the connection when the
/// handshake is done (RFC 8737 §4), and keeps the handshake, reads and writes away from the
/// protocol handlers behind it.
final class ChallengeConnectionCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.fail(ChannelError.ioOnClosedChannel)
    }
}

@available(*, unavailable)
extension ChallengeConnectionCloser: Sendable {}
