import NIOCore
import NIOSSL
import NIOTLS
import SASL

/// What the connection loop reads: octets stamped with the TLS epoch they arrived in, the
/// end of a TLS handshake, or an idle timeout.
public enum ConnectionInput: Sendable {
    case bytes(epoch: Int, ByteBuffer)
    case tlsEstablished(version: String, cipher: String?)
    case idleTimeout
}

/// Sits in front of the async channel. Two jobs:
///
/// - STARTTLS injection (RFC 3207 §6, CVE-2011-0411 and its many relatives): a client may
///   send commands right behind STARTTLS, in plaintext, hoping they are read as if they came
///   over TLS. Octets NIO already handed on before the TLS handler was added would reach the
///   session in plaintext. So every read is stamped with an epoch, the epoch is bumped on
///   the event loop in the same step that adds the TLS handler, and the session drops
///   anything from an older epoch.
/// - Timeouts: a timer, reset by every read, that reports an idle connection.
public final class ConnectionGate: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: all state is touched on the channel's event loop only.
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ConnectionInput

    private var epoch = 0
    private var timeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Kept while the handler is in the pipeline, to re-arm the timer when it changes.
    private var context: ChannelHandlerContext?
    public let cipherSniffer = ServerHelloSniffer()
    /// Receives the TLS 1.3 exporter secret for SCRAM-*-PLUS (`TLSChannelBinding`).
    public let keyLogScope = KeyLogScope()
    /// tls-exporter of this connection once TLS 1.3 is up, when the context captures it.
    private var channelBinding: ChannelBinding?

    public init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// An accepted channel may already be active when the handler is added.
    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { rearm(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        rearm(context)
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        rearm(context)
        context.fireChannelRead(wrapInboundOut(.bytes(epoch: epoch, unwrapInboundIn(data))))
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            let version = handler?.tlsVersion.map(Self.name) ?? "TLS"
            channelBinding = keyLogScope.channelBinding(version: handler?.tlsVersion)
            context.fireChannelRead(wrapInboundOut(.tlsEstablished(version: version, cipher: cipherSniffer.cipherName)))
            context.fireChannelReadComplete()
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Writes `reply` (the go-ahead to STARTTLS, in clear), adds the TLS server handler at
    /// the front of the pipeline and starts a new epoch, all in one event-loop step.
    ///
    /// A client may send its ClientHello the moment it reads the go-ahead. Were the reply
    /// written first and the handler added in a later step, a ClientHello read in between
    /// would be stamped with the old epoch and dropped, and the handshake would stall until
    /// the timeout. In one step, whatever is read before it (in clear, possibly injected
    /// commands) carries the old epoch and whatever is read after it goes to TLS.
    public func startTLS(context sslContext: NIOSSLContext, on channel: any Channel, afterWriting reply: [UInt8]) -> EventLoopFuture<Void> {
        channel.eventLoop.submit {
            if !reply.isEmpty, let context = self.context {
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: reply)), promise: nil)
            }
            self.epoch += 1
            let operations = channel.pipeline.syncOperations
            try operations.addHandler(NIOSSLServerHandler(context: sslContext), position: .first)
            try operations.addHandler(self.cipherSniffer, position: .first)
            try operations.addHandler(self.keyLogScope, position: .first)
        }
    }

    /// The connection's channel binding, once the TLS handshake has completed (nil without
    /// TLS 1.3 or without capture in the TLS context).
    public func channelBinding(on channel: any Channel) -> EventLoopFuture<ChannelBinding?> {
        channel.eventLoop.submit { self.channelBinding }
    }

    /// The epoch reads carry from now on.
    public func currentEpoch(on channel: any Channel) -> EventLoopFuture<Int> {
        channel.eventLoop.submit { self.epoch }
    }

    /// Changes the idle timeout (it differs by state, RFC 5321 §4.5.3.2), counting from
    /// now: a stalled TLS handshake sends nothing that would re-arm the timer.
    public func setTimeout(_ amount: TimeAmount, on channel: any Channel) {
        channel.eventLoop.execute {
            self.timeout = amount
            if let context = self.context { self.rearm(context) }
        }
    }

    /// The shortest wait for a connection loop to react to its timeout before it is closed.
    static let minimumGrace = TimeAmount.seconds(10)

    /// The timer: on expiry the connection loop gets `.idleTimeout` (and answers it, e.g.
    /// with 421). If one more period (at least `minimumGrace`, so that a busy server with
    /// short timeouts still gets to answer) passes without a read or a new timeout, the
    /// loop is stuck: typically in a write to a client that stopped reading, so that it never sees
    /// the timeout. Then the channel is closed, which fails the pending write and ends the
    /// connection, so a client cannot hold a connection open by not reading.
    private func rearm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) { [self] in
            // The async channel hands reads over at read-complete; a read made up here
            // outside a socket read needs its own.
            loopBound.value.fireChannelRead(self.wrapInboundOut(.idleTimeout))
            loopBound.value.fireChannelReadComplete()
            timer = loopBound.value.eventLoop.scheduleTask(in: max(timeout, Self.minimumGrace)) {
                loopBound.value.close(promise: nil)
            }
        }
    }

    public static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLS1.0"
        case .tlsv11: return "TLS1.1"
        case .tlsv12: return "TLS1.2"
        case .tlsv13: return "TLS1.3"
        }
    }
}

/// swift-nio-ssl does not say which cipher suite was negotiated, which RFC 8314 §4.3 wants in
/// the Received field. The server sends it itself, in clear, in its ServerHello (RFC 8446
/// §4.1.3, RFC 5246 §7.4.1.3); this outbound handler, placed between the TLS handler and
/// the socket, reads it from the first handshake record and then steps aside.
public final class ServerHelloSniffer: ChannelOutboundHandler, @unchecked Sendable {
    // @unchecked: used on the channel's event loop only.
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public private(set) var cipherName: String?
    private var seen: [UInt8] = []
    private var done = false

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if !done {
            let buffer = unwrapOutboundIn(data)
            seen += buffer.readableBytesView.prefix(max(0, 512 - seen.count))
            if let suite = Self.cipherSuite(in: seen) {
                cipherName = Self.names[suite] ?? String(suite, radix: 16, uppercase: true).leftPadded(4)
                done = true
            } else if seen.count >= 512 {
                done = true
            }
        }
        context.write(data, promise: promise)
    }

    /// Record: type 22 (handshake), version, length; handshake: type 2 (server_hello), length
    /// (3), legacy_version (2), random (32), session id (1 + n), cipher_suite (2).
    static func cipherSuite(in bytes: [UInt8]) -> UInt16? {
        guard bytes.count >= 5 + 4 + 2 + 32 + 1, bytes[0] == 22, bytes[5] == 2 else { return nil }
        let sessionIDLength = Int(bytes[5 + 4 + 2 + 32])
        let at = 5 + 4 + 2 + 32 + 1 + sessionIDLength
        guard bytes.count >= at + 2 else { return nil }
        return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }

    /// IANA "TLS Cipher Suites" names of the suites BoringSSL negotiates.
    static let names: [UInt16: String] = [
        0x1301: "TLS_AES_128_GCM_SHA256",
        0x1302: "TLS_AES_256_GCM_SHA384",
        0x1303: "TLS_CHACHA20_POLY1305_SHA256",
        0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    ]
}

extension String {
    func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
