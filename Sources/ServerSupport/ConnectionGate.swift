import NIOCore
import NIOSSL
import NIOTLS
import SASL
import TLSHandshakeCapture

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
    /// When the connection counts as idle: its last read (or timeout change) plus `timeout`.
    private var idleDeadline = NIODeadline.distantFuture
    /// The one scheduled timer: the idle check, or the close once the timeout was reported.
    private var timer: Scheduled<Void>?
    /// When `timer` fires. A read moves `idleDeadline` only; the timer, finding it later
    /// than itself, waits for the rest, so a busy connection costs no timer per read.
    private var timerDeadline = NIODeadline.distantFuture
    private var timeoutReported = false
    /// Kept while the handler is in the pipeline, to re-arm the timer when it changes.
    private var context: ChannelHandlerContext?
    /// Goes in front of the TLS handler: the cipher suite for the Received field (RFC 8314
    /// §4.3) and the channel binding for SCRAM-*-PLUS.
    public let handshakeRecorder = TLSHandshakeRecorder(role: .server)
    /// tls-exporter (TLS 1.3) or tls-unique (TLS 1.2) of this connection once TLS is up,
    /// when the context captures the key log.
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
            channelBinding = handshakeRecorder.handshakeCompleted(version: handler?.tlsVersion)
            let cipher = handshakeRecorder.cipherSuite.map(TLSCipherSuite.name(of:))
            context.fireChannelRead(wrapInboundOut(.tlsEstablished(version: version, cipher: cipher)))
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
            try operations.addHandler(self.handshakeRecorder, position: .first)
        }
    }

    /// The connection's channel binding, once the TLS handshake has completed (nil without
    /// capture in the TLS context, or when the handshake could not be followed).
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
    /// loop is stuck: typically in a write to a client that stopped reading, so that it
    /// never sees the timeout. Then the channel is closed, which fails the pending write and
    /// ends the connection, so a client cannot hold a connection open by not reading.
    private func rearm(_ context: ChannelHandlerContext) {
        idleDeadline = context.eventLoop.now + timeout
        if timeoutReported {
            timeoutReported = false
            timer?.cancel()
            timer = nil
        }
        if timer != nil, timerDeadline <= idleDeadline { return }
        schedule(context, at: idleDeadline)
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) { [self] in
            let context = loopBound.value
            timer = nil
            if timeoutReported {
                context.close(promise: nil)
                return
            }
            if context.eventLoop.now < idleDeadline {
                schedule(context, at: idleDeadline)
                return
            }
            timeoutReported = true
            // The async channel hands reads over at read-complete; a read made up here
            // outside a socket read needs its own.
            context.fireChannelRead(wrapInboundOut(.idleTimeout))
            context.fireChannelReadComplete()
            schedule(context, at: context.eventLoop.now + max(timeout, Self.minimumGrace))
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
