import Logging
import NIOCore
import NIOSSL
import ServerSupport
import Store
import Zlib

/// The session's output on a channel.
final class ChannelOutput: IMAPOutput {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    /// RFC 4978: set once COMPRESS DEFLATE is active.
    var compressor: DeflateCodec?

    init(_ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.outbound = outbound
    }

    func write(_ bytes: [UInt8]) async throws {
        if let compressor {
            guard let compressed = compressor.process(bytes) else { throw CompressionError() }
            try await outbound.write(ByteBuffer(bytes: compressed))
        } else {
            try await outbound.write(ByteBuffer(bytes: bytes))
        }
    }
}

struct CompressionError: Error {}

/// One IMAP connection: the thin adapter between a socket and an `IMAPSession`. It merges
/// what can happen into one stream of events (client octets, the TLS handshake's end, the
/// gate's idle timeout, the account's store changes), hands each to the session, and
/// carries out the session's signals (STARTTLS, close). Every protocol decision is the
/// session's.
struct Connection {
    let accepted: ConnectionListener.Accepted
    let settings: IMAPSettings
    let shared: IMAPSharedState
    let metrics: IMAPMetrics

    enum Event: Sendable {
        case input(ConnectionInput)
        case change(StoreChange)
        case end
    }

    func run() async {
        let channel = accepted.channel
        let logger = accepted.logger
        do {
            try await channel.executeThenClose { inbound, outbound in
                let output = ChannelOutput(outbound)
                let session = IMAPSession(
                    settings: SessionSettings(settings, remoteAddress: accepted.remoteAddress), shared: shared,
                    output: output, metrics: metrics, logger: logger)
                let (events, continuation) = AsyncStream.makeStream(of: Event.self)
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        do {
                            for try await input in inbound { continuation.yield(.input(input)) }
                        } catch {
                            logger.debug("read failed", metadata: ["error": "\(error)"])
                        }
                        continuation.yield(.end)
                    }
                    do {
                        try await serve(session, output: output, events: events, continuation: continuation, group: &group)
                    } catch {
                        logger.debug("connection ended", metadata: ["error": "\(error)"])
                    }
                    if Task.isCancelled, session.state != .logout {
                        try? await session.shutDown()
                    }
                    await session.finish()
                    continuation.finish()
                    group.cancelAll()
                }
            }
        } catch {
            logger.debug("connection closed", metadata: ["error": "\(error)"])
        }
    }

    private func serve(
        _ session: IMAPSession, output: ChannelOutput, events: AsyncStream<Event>, continuation: AsyncStream<Event>.Continuation,
        group: inout TaskGroup<Void>
    ) async throws {
        let gate = accepted.gate
        let channel = accepted.channel.channel
        var epoch = 0
        var timeout = settings.limits.unauthenticatedTimeout
        // With implicit TLS the greeting waits for the handshake (it could not go out before
        // anyway): its capabilities name the -PLUS mechanisms only once the channel binding
        // is known.
        if settings.implicitTLS {
            gate.setTimeout(settings.limits.tlsHandshakeTimeout, on: channel)
        } else {
            try await session.start()
        }
        var awaitingHandshake = false
        var inflater: DeflateCodec?

        for await event in events {
            var signal: SessionSignal?
            switch event {
            case .end:
                return
            case let .change(change):
                signal = try await inShortLivedTask(session) { try await $0.storeChanged(change) }
            case let .input(.bytes(inputEpoch, buffer)):
                // RFC 9051 §6.2.1: octets read before TLS started (they carry an older epoch)
                // are never commands. The OK and the TLS handler go out in one step, so the
                // client's ClientHello always reaches TLS (ConnectionGate.startTLS).
                guard inputEpoch == epoch, !awaitingHandshake else { continue }
                if let inflater {
                    guard let plain = inflater.process(Array(buffer.readableBytesView)) else {
                        accepted.logger.info("corrupt compressed input")
                        return
                    }
                    signal = try await inShortLivedTask(session) { try await $0.receive(plain) }
                } else {
                    let bytes = buffer.readableBytesView
                    signal = try await inShortLivedTask(session) { try await $0.receive(bytes) }
                }
            case .input(.tlsEstablished):
                let channelBinding = try await gate.channelBinding(on: channel).get()
                if awaitingHandshake {
                    awaitingHandshake = false
                    session.tlsEstablished(channelBinding: channelBinding)
                } else if settings.implicitTLS {
                    session.tlsEstablished(channelBinding: channelBinding)
                    try await session.start()
                }
                gate.setTimeout(timeout, on: channel)
            case .input(.idleTimeout):
                if awaitingHandshake { return }
                try await session.timedOut()
                return
            }
            switch signal {
            case .startTLS?:
                guard let tls = settings.tls else { return }
                gate.setTimeout(settings.limits.tlsHandshakeTimeout, on: channel)
                var reply = session.takeOutput()
                if let compressor = output.compressor {
                    // RFC 4978 §4: TLS goes on top of compression; the OK is still compressed.
                    guard let compressed = compressor.process(reply) else { return }
                    reply = compressed
                }
                try await gate.startTLS(context: tls, on: channel, afterWriting: reply).get()
                epoch = try await gate.currentEpoch(on: channel).get()
                awaitingHandshake = true
                continue
            case .close?:
                return
            case let .startCompression(pending)?:
                // RFC 4978 §3: both directions, from the octet after the OK and the CRLF of
                // the command.
                guard let compressor = DeflateCodec(.compress), let decompressor = DeflateCodec(.decompress) else { return }
                output.compressor = compressor
                inflater = decompressor
                if !pending.isEmpty {
                    guard let plain = decompressor.process(pending) else { return }
                    if try await inShortLivedTask(session, { try await $0.receive(plain) }) == .close { return }
                }
            case nil:
                break
            }
            if let stream = session.takeChangeStream() {
                group.addTask {
                    for await change in stream { continuation.yield(.change(change)) }
                }
            }
            // The autologout timer by state (RFC 9051 §5.4, RFC 2177 §3).
            let wanted: TimeAmount
            if session.isIdling {
                wanted = settings.limits.idleTimeout
            } else if session.state == .notAuthenticated {
                wanted = settings.limits.unauthenticatedTimeout
            } else {
                wanted = settings.limits.commandTimeout
            }
            if wanted != timeout {
                timeout = wanted
                gate.setTimeout(timeout, on: channel)
            }
        }
    }
}
