import DNS
import NIOCore

/// A SOCKS5 proxy (RFC 1928) that makes the TCP connection to the SMTP server for us.
public struct SOCKS5Proxy: Sendable, Hashable, CustomStringConvertible {
    /// The proxy as the operator named it (a host name or an IP address), for messages.
    public var host: String
    /// Where `host` is, tried in order until one accepts the connection.
    public var addresses: [IPAddress]
    public var port: Int
    /// RFC 1929 username and password; nil: only "no authentication" is offered.
    public var credentials: SOCKS5Credentials?

    public init(host: String, addresses: [IPAddress], port: Int, credentials: SOCKS5Credentials? = nil) {
        self.host = host
        self.addresses = addresses
        self.port = port
        self.credentials = credentials
    }

    /// `host:port`, an IPv6 literal in brackets.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// Runs a `SOCKS5Handshake` on a new connection to the proxy before anything else uses the
/// channel, then leaves the pipeline, handing on what the target sent with the proxy's
/// reply. `established` tells the outcome: success, or a `SOCKS5Error` (or the channel's
/// error), after which the channel is closed.
final class SOCKS5TunnelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var handshake: SOCKS5Handshake
    /// The whole handshake, most of which is the proxy connecting to the target.
    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    // Completing it a second time (a close after a failure) is ignored by NIO.
    let established: EventLoopPromise<Void>

    init(handshake: SOCKS5Handshake, timeout: TimeAmount, established: EventLoopPromise<Void>) {
        self.handshake = handshake
        self.timeout = timeout
        self.established = established
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { begin(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context: context)
        context.fireChannelActive()
    }

    private func begin(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        let established = self.established
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) {
            established.fail(SOCKS5Error(.timedOut))
            channel.close(promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: handshake.start())), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            switch try handshake.received(unwrapInboundIn(data).readableBytesView) {
            case .needMore:
                break
            case let .send(octets):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: octets)), promise: nil)
            case let .established(leftover):
                timer?.cancel()
                if !leftover.isEmpty { context.fireChannelRead(wrapInboundOut(ByteBuffer(bytes: leftover))) }
                // Before the removal, whose `handlerRemoved` would report a closed connection.
                established.succeed()
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            }
        } catch {
            fail(error, context: context)
        }
    }

    /// Closing the channel removes the handler, also when the connection never came up: the
    /// handshake did not finish. (After success, failing the promise does nothing.)
    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        established.fail(SOCKS5Error(.closed))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        timer?.cancel()
        established.fail(error)
        context.close(promise: nil)
    }
}
