import Logging
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The network side every protocol server shares (SMTP, IMAP): binds, accepts, limits
/// connections per client address, puts a `ConnectionGate` (STARTTLS epochs, idle
/// timeouts) and, for implicit TLS (RFC 8314 §3.3), the TLS handler in front of each
/// connection, and runs each connection in its own task until the listener's task is
/// cancelled. What happens on a connection is the protocol's `handle` closure.
public struct ConnectionListener: Sendable {
    /// One accepted connection, handed to the protocol.
    public struct Accepted: Sendable {
        public let channel: NIOAsyncChannel<ConnectionInput, ByteBuffer>
        public let gate: ConnectionGate
        public let remoteAddress: String
        /// The listener's logger with this connection's `cid` and `remote`.
        public let logger: Logger
    }

    /// With a context, TLS starts with the first octet.
    public var implicitTLS: NIOSSLContext?
    /// The gate's first timeout: for implicit TLS the handshake's, else the greeting's.
    public var initialTimeout: TimeAmount
    public let limiter: ConnectionLimiter
    /// Sent to a client over its address's connection limit before closing (the
    /// protocol's "too busy" reply: SMTP 421, IMAP BYE).
    public var refusal: [UInt8]
    public var logger: Logger
    public var makeID: @Sendable () -> String
    /// Counts accepted connections and refusals (the protocol names the metrics).
    public var connections: Counter
    public var refusedConnections: Counter
    public var handle: @Sendable (Accepted) async -> Void
    /// With `implicitTLS`: answers ACME tls-alpn-01 validation (RFC 8737) for the names
    /// published here, ahead of the TLS handler (`ACMEChallengeResponder`).
    public var acmeChallenges: ACMEChallengeCertificates?

    public init(
        implicitTLS: NIOSSLContext?, initialTimeout: TimeAmount, limiter: ConnectionLimiter, refusal: [UInt8],
        logger: Logger, makeID: @escaping @Sendable () -> String, connections: Counter, refusedConnections: Counter,
        handle: @escaping @Sendable (Accepted) async -> Void
    ) {
        self.implicitTLS = implicitTLS
        self.initialTimeout = initialTimeout
        self.limiter = limiter
        self.refusal = refusal
        self.logger = logger
        self.makeID = makeID
        self.connections = connections
        self.refusedConnections = refusedConnections
        self.handle = handle
    }

    typealias ServerChannel = NIOAsyncChannel<(NIOAsyncChannel<ConnectionInput, ByteBuffer>, ConnectionGate), Never>

    /// Binds `host:port` (port 0: any free port; see `Bound.port`).
    public func bind(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Bound {
        let implicitTLS = self.implicitTLS
        let initialTimeout = self.initialTimeout
        let acmeChallenges = self.acmeChallenges
        let channel: ServerChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    let gate = ConnectionGate(timeout: initialTimeout)
                    let operations = child.pipeline.syncOperations
                    if let implicitTLS, let acmeChallenges {
                        try operations.addHandler(ACMEChallengeResponder(challenges: acmeChallenges, tlsContext: implicitTLS))
                    } else if let implicitTLS {
                        try operations.addHandler(NIOSSLServerHandler(context: implicitTLS))
                    }
                    if implicitTLS != nil {
                        try operations.addHandler(gate.handshakeRecorder, position: .first)
                    }
                    try operations.addHandler(gate)
                    let connection = try NIOAsyncChannel<ConnectionInput, ByteBuffer>(wrappingChannelSynchronously: child)
                    return (connection, gate)
                }
            }
        return Bound(listener: self, channel: channel)
    }

    public struct Bound: Sendable {
        let listener: ConnectionListener
        let channel: ServerChannel

        public var port: Int { channel.channel.localAddress?.port ?? 0 }

        /// Accepts connections until cancelled; connections in progress are ended with it.
        public func serve() async throws {
            let listener = self.listener
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await (connection, gate) in inbound {
                        group.addTask { await listener.accept(connection, gate) }
                    }
                }
            }
        }
    }

    private func accept(_ channel: NIOAsyncChannel<ConnectionInput, ByteBuffer>, _ gate: ConnectionGate) async {
        let address = channel.channel.remoteAddress?.ipAddress ?? "unknown"
        var logger = self.logger
        logger[metadataKey: "cid"] = "\(makeID())"
        logger[metadataKey: "remote"] = "\(address)"
        connections.increment()
        guard await limiter.acquire(address) else {
            refusedConnections.increment()
            logger.info("too many connections from address")
            let refusal = self.refusal
            try? await channel.executeThenClose { _, outbound in
                try await outbound.write(ByteBuffer(bytes: refusal))
            }
            return
        }
        logger.debug("connection")
        await handle(Accepted(channel: channel, gate: gate, remoteAddress: address, logger: logger))
        await limiter.release(address)
    }
}

/// Connections per client address (a named, configurable limit; IPv6 clients by their /64,
/// `ClientAddress`), so one client cannot use up the server. One limiter may be shared by
/// several listeners.
public actor ConnectionLimiter {
    public let maxPerAddress: Int
    private var counts: [String: Int] = [:]

    public init(maxPerAddress: Int) {
        self.maxPerAddress = maxPerAddress
    }

    public func acquire(_ address: String) -> Bool {
        let key = ClientAddress.limitKey(address)
        let count = counts[key, default: 0]
        guard count < maxPerAddress else { return false }
        counts[key] = count + 1
        return true
    }

    public func release(_ address: String) {
        let key = ClientAddress.limitKey(address)
        let count = counts[key, default: 1] - 1
        counts[key] = count > 0 ? count : nil
    }
}

/// A bound listener runs as a swift-service-lifecycle service: on graceful shutdown
/// (SIGTERM, SIGINT) it stops accepting and its connections are ended.
extension ConnectionListener.Bound: Service {
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await serve() }
        } catch is CancellationError {
            // The shutdown this service was asked for: a normal end.
        }
    }
}
