import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A listener that only answers ACME tls-alpn-01 validation (RFC 8737), for the port the CA
/// connects to (443, RFC 8737 §3 step 3) when no other TLS service of Tern is there. Every
/// connection goes through `ACMEChallengeResponder` without a normal TLS context: a
/// validation gets the published challenge certificate and is closed after its handshake,
/// anything else is closed at once. Connections that send nothing are closed after
/// `timeout`.
public struct ACMEChallengeListener: Sendable {
    public let challenges: ACMEChallengeCertificates
    public var timeout: TimeAmount
    public var logger: Logger

    public init(challenges: ACMEChallengeCertificates, timeout: TimeAmount = .seconds(10), logger: Logger) {
        self.challenges = challenges
        self.timeout = timeout
        self.logger = logger
    }

    public func bind(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Bound {
        let challenges = self.challenges
        let timeout = self.timeout
        let logger = self.logger
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    let operations = child.pipeline.syncOperations
                    try operations.addHandler(ConnectionDeadline(timeout: timeout))
                    try operations.addHandler(ACMEChallengeResponder(challenges: challenges, tlsContext: nil, logger: logger))
                }
            }
            .bind(host: host, port: port).get()
        return Bound(channel: channel)
    }

    public struct Bound: Sendable, Service {
        let channel: any Channel

        public var port: Int { channel.localAddress?.port ?? 0 }

        /// Serves until cancelled or, under swift-service-lifecycle, until graceful shutdown.
        public func run() async throws {
            let channel = self.channel
            await withTaskCancellationOrGracefulShutdownHandler {
                try? await channel.closeFuture.get()
            } onCancelOrGracefulShutdown: {
                channel.close(promise: nil)
            }
        }

        public func close() async {
            try? await channel.close()
        }
    }
}

/// Closes a connection that is still open `timeout` after it started: a validation takes one
/// handshake.
final class ConnectionDeadline: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension ConnectionDeadline: Sendable {}
