import Foundation
import Logging
import NIOCore
import NIOPosix
import ServerSupport
import SMTP

/// An SMTP listener: the shared `ConnectionListener` running an SMTP `Connection` on each
/// accepted socket.
public struct Listener: Sendable {
    public let settings: ConnectionSettings
    public let policy: any SessionPolicy
    public let deliverer: any MessageDeliverer
    /// Submission: where mail for other domains goes; nil: such recipients are refused.
    public let relayer: (any MessageRelayer)?
    public let limiter: ConnectionLimiter
    public let logger: Logger
    public let metrics: SMTPMetrics
    public let now: @Sendable () -> Date
    public let makeID: @Sendable () -> String

    public init(
        settings: ConnectionSettings, policy: any SessionPolicy, deliverer: any MessageDeliverer, relayer: (any MessageRelayer)? = nil,
        limiter: ConnectionLimiter, logger: Logger = Logger(label: "smtpserver"), metrics: SMTPMetrics = SMTPMetrics(),
        now: @escaping @Sendable () -> Date = { Date() },
        makeID: @escaping @Sendable () -> String = { String(UInt64.random(in: .min ... .max), radix: 36) }
    ) {
        var settings = settings
        settings.session.relayAvailable = relayer != nil
        // RFC 4865: the queue is what holds a message until its release time.
        settings.session.futureReleaseAvailable = relayer != nil
        self.settings = settings
        self.relayer = relayer
        self.policy = policy
        self.deliverer = deliverer
        self.limiter = limiter
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.makeID = makeID
    }

    /// Binds `host:port` (port 0: any free port; see `Bound.port`).
    public func bind(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ConnectionListener.Bound {
        let smtp = self
        let listener = ConnectionListener(
            implicitTLS: settings.session.implicitTLS ? settings.tls : nil,
            // Implicit TLS starts with the handshake; the gate's timer covers it too.
            initialTimeout: settings.session.implicitTLS ? settings.tlsHandshakeTimeout : settings.commandTimeout,
            limiter: limiter, refusal: Reply(421, .congestion, "too many connections from your address").encoded(),
            logger: logger, makeID: makeID, connections: metrics.connections, refusedConnections: metrics.refusedConnections
        ) { accepted in
            let connection = Connection(
                channel: accepted.channel, gate: accepted.gate, settings: smtp.settings, policy: smtp.policy,
                routing: Routing(deliverer: smtp.deliverer, relayer: smtp.relayer), remoteAddress: accepted.remoteAddress, logger: accepted.logger,
                metrics: smtp.metrics, now: smtp.now, makeID: smtp.makeID)
            await withTaskExecutorPreference(EventLoopTaskExecutor(accepted.channel.channel.eventLoop)) {
                await connection.run()
            }
        }
        return try await listener.bind(host: host, port: port, group: group)
    }
}
