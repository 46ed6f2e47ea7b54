import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import SMTP

/// An SMTP listener: binds, accepts, limits connections per client address, and runs each
/// connection in its own task until the listener's task is cancelled.
public struct Listener: Sendable {
    public let settings: ConnectionSettings
    public let policy: any SessionPolicy
    public let deliverer: any MessageDeliverer
    public let limiter: ConnectionLimiter
    public let logger: Logger
    public let metrics: SMTPMetrics
    public let now: @Sendable () -> Date
    public let makeID: @Sendable () -> String

    public init(
        settings: ConnectionSettings, policy: any SessionPolicy, deliverer: any MessageDeliverer,
        limiter: ConnectionLimiter, logger: Logger = Logger(label: "smtpserver"), metrics: SMTPMetrics = SMTPMetrics(),
        now: @escaping @Sendable () -> Date = { Date() },
        makeID: @escaping @Sendable () -> String = { String(UInt64.random(in: .min ... .max), radix: 36) }
    ) {
        self.settings = settings
        self.policy = policy
        self.deliverer = deliverer
        self.limiter = limiter
        self.logger = logger
        self.metrics = metrics
        self.now = now
        self.makeID = makeID
    }

    typealias ServerChannel = NIOAsyncChannel<(NIOAsyncChannel<ConnectionInput, ByteBuffer>, ConnectionGate), Never>

    /// Binds `host:port` (port 0: any free port; see `Bound.port`).
    public func bind(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Bound {
        let settings = self.settings
        let channel: ServerChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    // Implicit TLS starts with the handshake; the gate's timer covers it too.
                    let gate = ConnectionGate(timeout: settings.session.implicitTLS ? settings.tlsHandshakeTimeout : settings.commandTimeout)
                    let operations = child.pipeline.syncOperations
                    if settings.session.implicitTLS, let tls = settings.tls {
                        // RFC 8314 §3.3: TLS from the first octet on port 465.
                        try operations.addHandler(NIOSSLServerHandler(context: tls))
                        try operations.addHandler(gate.cipherSniffer, position: .first)
                    }
                    try operations.addHandler(gate)
                    let connection = try NIOAsyncChannel<ConnectionInput, ByteBuffer>(wrappingChannelSynchronously: child)
                    return (connection, gate)
                }
            }
        return Bound(listener: self, channel: channel)
    }

    public struct Bound: Sendable {
        let listener: Listener
        let channel: ServerChannel

        public var port: Int { channel.channel.localAddress?.port ?? 0 }

        /// Accepts connections until cancelled; connections in progress are ended with it.
        public func serve() async throws {
            let listener = self.listener
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await (connection, gate) in inbound {
                        group.addTask { await listener.handle(connection, gate) }
                    }
                }
            }
        }
    }

    fileprivate func handle(_ channel: NIOAsyncChannel<ConnectionInput, ByteBuffer>, _ gate: ConnectionGate) async {
        let address = channel.channel.remoteAddress?.ipAddress ?? "unknown"
        var logger = self.logger
        logger[metadataKey: "cid"] = "\(makeID())"
        logger[metadataKey: "remote"] = "\(address)"
        metrics.connections.increment()
        guard await limiter.acquire(address) else {
            metrics.refusedConnections.increment()
            logger.info("too many connections from address")
            try? await channel.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: Reply(421, .congestion, "too many connections from your address").encoded()))
            }
            return
        }
        logger.debug("connection")
        await Connection(
            channel: channel, gate: gate, settings: settings, policy: policy, deliverer: deliverer, remoteAddress: address,
            logger: logger, metrics: metrics, now: now, makeID: makeID
        ).run()
        await limiter.release(address)
    }
}

/// Connections per client address (a named, configurable limit), so one client cannot use
/// up the server.
public actor ConnectionLimiter {
    public let maxPerAddress: Int
    private var counts: [String: Int] = [:]

    public init(maxPerAddress: Int) {
        self.maxPerAddress = maxPerAddress
    }

    public func acquire(_ address: String) -> Bool {
        let count = counts[address, default: 0]
        guard count < maxPerAddress else { return false }
        counts[address] = count + 1
        return true
    }

    public func release(_ address: String) {
        let count = counts[address, default: 1] - 1
        counts[address] = count > 0 ? count : nil
    }
}

/// A bound listener runs as a swift-service-lifecycle service: on graceful shutdown
/// (SIGTERM, SIGINT) it stops accepting and its connections are ended.
extension Listener.Bound: Service {
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await serve() }
        } catch is CancellationError {
            // The shutdown this service was asked for: a normal end.
        }
    }
}
