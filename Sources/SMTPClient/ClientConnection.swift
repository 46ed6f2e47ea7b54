import DNS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SASL
import SMTP
import Synchronization
import TLSHandshakeCapture

/// One SMTP connection: the network adapter that runs a `ClientSession` over a NIO
/// channel. It writes what the session says, reads what the server sends and feeds it
/// back, adds TLS mid-connection for STARTTLS, streams message content, and keeps each
/// wait within the session's per-command timeout. All protocol decisions are the
/// session's.
///
/// Use it inside `withConnection`, which sets the session up, runs the caller's work (any
/// number of transactions, RFC 5321 §3.3), and says QUIT and closes at the end.
public final class ClientConnection {
    private var session: ClientSession
    private let channel: any Channel
    private var inbound: NIOAsyncChannelInboundStream<ClientInput>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let tlsLayer: ConnectionTLS
    private let logger: Logger
    private let timedOut = TimeoutFlag()
    /// Why a write failed; replies already on their way are still read before it counts.
    private var writeFailure: String?
    private var content: (any MessageContent)?
    private var contentSize = 0
    private var readyForTransactions = false
    private var setupError: ClientError?
    private var transactionResult: TransactionResult?

    private init(
        session: ClientSession, channel: any Channel, inbound: NIOAsyncChannelInboundStream<ClientInput>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, logger: Logger
    ) {
        self.session = session
        self.channel = channel
        self.inbound = inbound
        self.outbound = outbound
        self.tlsLayer = ConnectionTLS(settings: session.configuration.tls, now: session.configuration.now)
        self.logger = logger
    }

    /// Connects to `address`, directly or through `proxy`, sets the session up (greeting,
    /// EHLO, STARTTLS, AUTH), runs `body`, then says QUIT and closes.
    ///
    /// - Throws: a `ClientError` when the session cannot be set up (step `.proxy` when the
    ///   proxy cannot be reached or does not connect); what `body` throws.
    public static func withConnection<Value: Sendable>(
        to address: IPAddress, port: Int, through proxy: SOCKS5Proxy? = nil, configuration: ClientConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "smtpclient"),
        _ body: (ClientConnection) async throws -> Value
    ) async throws -> Value {
        var logger = logger
        logger[metadataKey: "remote"] = "\(address):\(port)"
        if let proxy { logger[metadataKey: "proxy"] = "\(proxy)" }
        let (asyncChannel, tunnel) = try await open(
            to: address, port: port, through: proxy, timeout: configuration.timeouts.connect, group: group, logger: logger)
        return try await asyncChannel.executeThenClose { inbound, outbound in
            if let proxy, let tunnel {
                do {
                    try await tunnel.get()
                } catch {
                    let failure = proxyFailure(error, proxy: proxy)
                    logger.info("connecting through the proxy failed", metadata: ["error": "\(failure)"])
                    throw failure
                }
            }
            let connection = ClientConnection(
                session: ClientSession(configuration: configuration), channel: asyncChannel.channel,
                inbound: inbound.makeAsyncIterator(), outbound: outbound, logger: logger)
            try await connection.establish()
            let value: Value
            do {
                value = try await body(connection)
            } catch {
                await connection.end()
                throw error
            }
            await connection.end()
            return value
        }
    }

    /// A connection to `address`, or to `proxy` with a SOCKS5 handshake for `address` on
    /// it, whose outcome the returned future tells.
    private static func open(
        to address: IPAddress, port: Int, through proxy: SOCKS5Proxy?, timeout: Duration, group: any EventLoopGroup, logger: Logger
    ) async throws(ClientError) -> (NIOAsyncChannel<ClientInput, ByteBuffer>, tunnel: EventLoopFuture<Void>?) {
        guard let proxy else {
            do {
                return try await connect(to: address, port: port, handshake: nil, timeout: timeout, group: group)
            } catch {
                logger.info("connecting failed", metadata: ["error": "\(error)"])
                // RFC 3463 §3.5 X.4.1: no answer from host.
                throw ClientError(step: .connect, kind: .connection, enhanced: EnhancedStatus(4, 4, 1), text: "\(error)", isPermanent: false)
            }
        }
        let handshake = SOCKS5Handshake(target: address, port: port, credentials: proxy.credentials)
        var failures: [String] = []
        for proxyAddress in proxy.addresses {
            do {
                return try await connect(to: proxyAddress, port: proxy.port, handshake: handshake, timeout: timeout, group: group)
            } catch {
                failures.append("\(proxyAddress): \(error)")
            }
        }
        logger.info("connecting to the proxy failed", metadata: ["error": "\(failures)"])
        throw ClientError(
            step: .proxy, kind: .connection, enhanced: EnhancedStatus(4, 4, 1),
            text: "cannot reach \(proxy): \(failures.isEmpty ? "it has no address" : failures.joined(separator: "; "))", isPermanent: false)
    }

    private static func connect(
        to address: IPAddress, port: Int, handshake: SOCKS5Handshake?, timeout: Duration, group: any EventLoopGroup
    ) async throws -> (NIOAsyncChannel<ClientInput, ByteBuffer>, tunnel: EventLoopFuture<Void>?) {
        let socketAddress = try SocketAddress(ipAddress: address.description, port: port)
        return try await ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(timeout))
            .connect(to: socketAddress) { channel in
                channel.eventLoop.makeCompletedFuture {
                    var tunnel: EventLoopFuture<Void>?
                    if let handshake {
                        let established = channel.eventLoop.makePromise(of: Void.self)
                        // The proxy's connection to the target is a TCP connect too: the same limit.
                        try channel.pipeline.syncOperations.addHandler(
                            SOCKS5TunnelHandler(handshake: handshake, timeout: TimeAmount(timeout), established: established))
                        tunnel = established.futureResult
                    }
                    try channel.pipeline.syncOperations.addHandler(ClientInputHandler())
                    return (try NIOAsyncChannel<ClientInput, ByteBuffer>(wrappingChannelSynchronously: channel), tunnel)
                }
            }
    }

    /// A failed SOCKS5 handshake as a session error: temporary, naming the proxy and what it
    /// answered.
    static func proxyFailure(_ error: any Error, proxy: SOCKS5Proxy) -> ClientError {
        guard let socks = error as? SOCKS5Error else {
            // RFC 3463 §3.5 X.4.2: bad connection.
            return ClientError(
                step: .proxy, kind: .connection, enhanced: EnhancedStatus(4, 4, 2), text: "\(proxy) failed during the SOCKS5 handshake: \(error)",
                isPermanent: false)
        }
        let kind: ClientError.Kind
        switch socks.kind {
        case .protocolViolation: kind = .protocolViolation
        case .timedOut: kind = .timeout
        case .noAcceptableMethod, .authenticationFailed, .unsendableCredentials: kind = .authentication
        case .connectFailed, .closed: kind = .connection
        }
        return ClientError(step: .proxy, kind: kind, enhanced: socks.enhanced, text: "\(proxy) \(socks)", isPermanent: false)
    }

    /// The server's greeting.
    public var greeting: Reply? { session.greeting }
    /// What the server announced in its last EHLO reply.
    public var extensions: ServiceExtensions { session.extensions }
    /// The TLS state, when the connection runs over TLS.
    public var tls: TLSConnectionState? { session.tls }
    public var authenticatedMechanism: SASLMechanism? { session.authenticatedMechanism }
    /// Whether another transaction can start; false once the connection ended.
    public var isUsable: Bool { session.isReady }

    /// Sends one message (RFC 5321 §3.3) and returns the outcome for each recipient. A
    /// connection that breaks during the transaction gives its error to every recipient
    /// still open, and is not usable afterwards.
    public func deliver(_ envelope: OutboundEnvelope, content: some MessageContent) async -> TransactionResult {
        self.content = content
        contentSize = envelope.size
        transactionResult = nil
        defer { self.content = nil }
        await run(session.deliver(envelope))
        return transactionResult ?? TransactionResult(recipients: [])
    }

    // MARK: - Running the session

    private func establish() async throws {
        await run(session.start())
        if let setupError { throw setupError }
        guard readyForTransactions else {
            throw ClientError(step: .connect, kind: .connection, enhanced: EnhancedStatus(4, 4, 2), text: "the session ended during setup", isPermanent: false)
        }
        logger.debug("session ready", metadata: [
            "tls": "\(session.tls?.version.map(Self.name) ?? "none")", "auth": "\(session.authenticatedMechanism?.name ?? "none")",
        ])
    }

    private func end() async {
        await run(session.quit())
    }

    /// Carries out actions, and reads and feeds input as long as the session waits for
    /// some.
    private func run(_ actions: [ClientSession.Action]) async {
        var queue = actions[...]
        while true {
            while let action = queue.popFirst() {
                queue += await perform(action)
            }
            guard !session.isClosed, let timeout = session.inputTimeout else { return }
            queue = await nextInput(within: timeout)[...]
        }
    }

    private func perform(_ action: ClientSession.Action) async -> [ClientSession.Action] {
        switch action {
        case let .write(bytes):
            await write(bytes)
            return []
        case .startTLS:
            do {
                let channel = self.channel
                let tlsLayer = self.tlsLayer
                try await channel.eventLoop.submit {
                    // The recorder first: the TLS handler writes its ClientHello as it is added.
                    let recorder = TLSHandshakeRecorder(role: .client)
                    let operations = channel.pipeline.syncOperations
                    try operations.addHandler(recorder, position: .first)
                    try operations.addHandler(tlsLayer.makeHandler(), position: .after(recorder))
                }.get()
                return []
            } catch {
                return session.tlsFailed(tlsLayer.failure(for: error))
            }
        case let .sendMessage(encoding):
            return await sendContent(encoding)
        case .ready:
            readyForTransactions = true
            return []
        case let .completed(result):
            transactionResult = result
            let failed = result.failed
            logger.debug("transaction completed", metadata: [
                "delivered": "\(result.delivered.count)", "failed": "\(failed.count)",
                "error": "\(failed.first.map { "\($0.error)" } ?? "")",
            ])
            return []
        case let .failed(error):
            setupError = error
            logger.info("session setup failed", metadata: ["error": "\(error)"])
            return []
        case .close:
            channel.close(promise: nil)
            return []
        }
    }

    private func nextInput(within timeout: Duration) async -> [ClientSession.Action] {
        do {
            let input = try await withDeadline(timeout) { try await inbound.next() }
            switch input {
            case let .bytes(buffer)?:
                return session.received(buffer.readableBytesView)
            case let .tlsEstablished(version, channelBinding)?:
                let state = tlsLayer.connectionState(version: version, channelBinding: channelBinding)
                if session.discardedPlaintextOctets > 0 {
                    // RFC 3207 §6: someone put plaintext behind the 220 to STARTTLS.
                    logger.warning("plaintext after STARTTLS discarded", metadata: ["octets": "\(session.discardedPlaintextOctets)"])
                }
                logger.debug("TLS established", metadata: [
                    "version": "\(version.map(Self.name) ?? "unknown")", "pkix": "\(state.pkix.map { "\($0)" } ?? "not checked")",
                    "dane": "\(state.dane.map { "\($0)" } ?? "not checked")",
                ])
                return session.tlsEstablished(state)
            case nil:
                if timedOut.isSet { return session.timedOut() }
                if let writeFailure { return session.connectionFailed(writeFailure) }
                return session.connectionClosed()
            }
        } catch {
            if timedOut.isSet { return session.timedOut() }
            if ConnectionTLS.isTLSError(error) { return session.tlsFailed(tlsLayer.failure(for: error)) }
            return session.connectionFailed("\(error)")
        }
    }

    /// Writes, unless an earlier write failed: the server may have closed after a final
    /// reply, which is read before the failure counts.
    private func write(_ bytes: [UInt8]) async {
        guard writeFailure == nil, !bytes.isEmpty else { return }
        do {
            try await withDeadline(session.configuration.timeouts.dataBlock) {
                try await outbound.write(ByteBuffer(bytes: bytes))
            }
        } catch {
            writeFailure = timedOut.isSet ? "writing timed out" : "writing failed: \(error)"
        }
    }

    /// Streams the message: dot-stuffed after DATA, as is after BDAT. RFC 5321 §4.5.3.2.5:
    /// each piece has its own timeout.
    private func sendContent(_ encoding: ClientSession.MessageEncoding) async -> [ClientSession.Action] {
        guard let content else { return session.connectionFailed("no message content to send") }
        var stuffer = DotStuffer()
        var sent = 0
        do {
            try await content.forEachPiece { piece in
                sent += piece.count
                switch encoding {
                case .dotStuffed:
                    var stuffed: [UInt8] = []
                    stuffed.reserveCapacity(piece.count + 16)
                    stuffer.stuff(piece, into: &stuffed)
                    await write(stuffed)
                case .raw:
                    await write(piece)
                }
            }
        } catch {
            return session.connectionFailed("reading the message failed: \(error)")
        }
        switch encoding {
        case .dotStuffed:
            var end: [UInt8] = []
            stuffer.finish(into: &end)
            await write(end)
        case .raw:
            // RFC 3030 §2: BDAT announced the size; other octets would be read as commands.
            guard sent == contentSize else {
                return session.connectionFailed("the message had \(sent) octets, not the \(contentSize) announced")
            }
        }
        return session.messageSent()
    }

    /// Runs `body`; if it takes longer than `duration`, the channel is closed, which ends
    /// the read or write in progress, and `timedOut` tells why.
    private func withDeadline<T>(_ duration: Duration, _ body: () async throws -> T) async throws -> T {
        let channel = self.channel
        let timedOut = self.timedOut
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(duration)) {
            timedOut.set()
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await body()
    }

    static func name(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: return "TLS1.0"
        case .tlsv11: return "TLS1.1"
        case .tlsv12: return "TLS1.2"
        case .tlsv13: return "TLS1.3"
        }
    }
}

/// Set once a deadline passed; the timer runs on the event loop, the connection reads it
/// in its task.
final class TimeoutFlag: Sendable {
    private let value = Mutex(false)

    var isSet: Bool { value.withLock { $0 } }

    func set() { value.withLock { $0 = true } }
}

/// What the connection reads: octets, or the end of a TLS handshake, in the order they
/// happened, so octets from before the handshake are never taken for TLS data.
enum ClientInput: Sendable {
    case bytes(ByteBuffer)
    /// With the negotiated version and the channel binding, read when the handshake
    /// completed: a server that rejects us (an alert right after the handshake) may have
    /// closed the channel, and so removed the TLS handler, before the connection loop gets to
    /// this event.
    case tlsEstablished(TLSVersion?, ChannelBinding?)
}

/// Turns reads and the TLS handshake event into `ClientInput`. The TLS handler, when
/// added, goes in front of it, and its `TLSHandshakeRecorder` in front of that.
final class ClientInputHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ClientInput

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(wrapInboundOut(.bytes(unwrapInboundIn(data))))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let operations = context.pipeline.syncOperations
            let version = (try? operations.handler(type: NIOSSLClientHandler.self).tlsVersion) ?? nil
            let binding = (try? operations.handler(type: TLSHandshakeRecorder.self))?.handshakeCompleted(version: version)
            context.fireChannelRead(wrapInboundOut(.tlsEstablished(version, binding)))
            // The async channel hands reads on at read-complete.
            context.fireChannelReadComplete()
        }
        context.fireUserInboundEventTriggered(event)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
