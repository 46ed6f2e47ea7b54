import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A local control endpoint: a Unix domain socket that takes one request line (ending in LF)
/// per connection, hands it to `handle`, writes the response line back and closes. What the
/// lines mean is the caller's (the queue's JSON requests); this is only the transport.
///
/// Only the socket's owner may connect (mode 0600): the file system is the access control,
/// as for mox's `ctl` socket. The socket is created under a temporary name, restricted, and
/// then renamed into place, so it is never reachable with wider permissions; a stale socket
/// left by a crash is replaced at start, and the socket is removed when the service ends.
public struct UnixLineServer: Sendable {
    /// Named limits: a peer cannot make the server buffer without end or wait forever.
    public struct Limits: Sendable, Hashable {
        /// The longest request line, LF included.
        public var maxLineLength: Int = 64 * 1024
        /// How long a connection may take to send its request line.
        public var readTimeout: TimeAmount = .seconds(10)

        public init(maxLineLength: Int = 64 * 1024, readTimeout: TimeAmount = .seconds(10)) {
            self.maxLineLength = maxLineLength
            self.readTimeout = readTimeout
        }
    }

    public let path: String
    public var limits: Limits
    public var logger: Logger
    /// The response to a request line (without its LF); the response must not contain LF.
    public var handle: @Sendable ([UInt8]) async -> [UInt8]
    /// The response to a line longer than `limits.maxLineLength`.
    public var oversizedResponse: [UInt8]

    public init(
        path: String, limits: Limits = Limits(), logger: Logger, oversizedResponse: [UInt8],
        handle: @escaping @Sendable ([UInt8]) async -> [UInt8]
    ) {
        self.path = path
        self.limits = limits
        self.logger = logger
        self.oversizedResponse = oversizedResponse
        self.handle = handle
    }

    typealias ServerChannel = NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>

    /// Binds the socket at `path`, replacing a stale socket there; refuses to replace
    /// anything that is not a socket.
    public func bind(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Bound {
        try Self.removeStaleSocket(at: path)
        let temporary = path + ".\(getpid()).tmp"
        try Self.removeStaleSocket(at: temporary)
        let channel: ServerChannel = try await ServerBootstrap(group: group)
            .bind(unixDomainSocketPath: temporary) { child in
                child.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        guard chmod(temporary, 0o600) == 0, rename(temporary, path) == 0 else {
            let error = UnixSocketError.cannotCreate(path: path, reason: String(cString: strerror(errno)))
            unlink(temporary)
            try? await channel.channel.close()
            throw error
        }
        return Bound(server: self, channel: channel)
    }

    static func removeStaleSocket(at path: String) throws {
        var status = stat()
        guard lstat(path, &status) == 0 else { return }
        guard status.st_mode & S_IFMT == S_IFSOCK else {
            throw UnixSocketError.cannotCreate(path: path, reason: "a file that is not a socket is in the way")
        }
        unlink(path)
    }

    public struct Bound: Sendable {
        let server: UnixLineServer
        let channel: ServerChannel

        public var path: String { server.path }

        /// Accepts connections until cancelled, then removes the socket.
        public func serve() async throws {
            let server = self.server
            defer { unlink(server.path) }
            try await channel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await server.serve(connection) }
                    }
                }
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let limits = self.limits
        do {
            try await connection.executeThenClose { inbound, outbound in
                let line = try await Self.withTimeout(limits.readTimeout, channel: connection.channel) {
                    try await Self.readLine(inbound, maxLength: limits.maxLineLength)
                }
                let response: [UInt8]
                switch line {
                case let .line(bytes): response = await handle(bytes)
                case .oversized:
                    logger.info("control request too long", metadata: ["limit": "\(limits.maxLineLength)"])
                    response = oversizedResponse
                case .closed, .timedOut: return
                }
                try await outbound.write(ByteBuffer(bytes: response + [0x0A]))
            }
        } catch {
            logger.debug("control connection failed", metadata: ["error": "\(error)"])
        }
    }

    enum LineResult: Sendable {
        case line([UInt8])
        case oversized
        case closed
        case timedOut
    }

    /// One LF-terminated line (without LF, and without a CR before it).
    static func readLine(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, maxLength: Int) async throws -> LineResult {
        var collected: [UInt8] = []
        for try await var buffer in inbound {
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            if let end = bytes.firstIndex(of: 0x0A) {
                collected += bytes[..<end]
                guard collected.count < maxLength else { return .oversized }
                if collected.last == 0x0D { collected.removeLast() }
                return .line(collected)
            }
            collected += bytes
            if collected.count >= maxLength { return .oversized }
        }
        return .closed
    }

    /// Runs `body`; when it has not finished after `timeout`, closes the channel (which ends
    /// the read) and reports a timeout.
    static func withTimeout(
        _ timeout: TimeAmount, channel: any Channel, _ body: @escaping @Sendable () async throws -> LineResult
    ) async throws -> LineResult {
        try await withThrowingTaskGroup(of: LineResult.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, timeout.nanoseconds)))
                return .timedOut
            }
            let first = try await group.next() ?? .timedOut
            group.cancelAll()
            if case .timedOut = first { try? await channel.close() }
            return first
        }
    }
}

extension UnixLineServer.Bound: Service {
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await serve() }
        } catch is CancellationError {
            // The shutdown this service was asked for: a normal end.
        }
    }
}

public enum UnixSocketError: Error, Hashable, Sendable, CustomStringConvertible {
    case cannotCreate(path: String, reason: String)
    /// Nothing listens at the path: the file is missing, or nobody accepts on it.
    case notListening(path: String, reason: String)
    case responseTooLong(limit: Int)
    case noResponse
    case timedOut

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason): return "cannot create the socket \(path): \(reason)"
        case let .notListening(path, reason): return "cannot connect to \(path): \(reason)"
        case let .responseTooLong(limit): return "the response is longer than \(limit) bytes"
        case .noResponse: return "the server closed the connection without a response"
        case .timedOut: return "no response in time"
        }
    }
}

/// The client side of `UnixLineServer`: one request line, one response line.
public enum UnixLineClient {
    public static func request(
        path: String, line: [UInt8], maxResponseLength: Int = 512 * 1024 * 1024, timeout: TimeAmount = .seconds(60),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [UInt8] {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: path) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        } catch let error as IOError {
            throw UnixSocketError.notListening(path: path, reason: String(cString: strerror(error.errnoCode)))
        } catch {
            throw UnixSocketError.notListening(path: path, reason: "\(error)")
        }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: line + [0x0A]))
            let result = try await UnixLineServer.withTimeout(timeout, channel: channel.channel) {
                try await UnixLineServer.readLine(inbound, maxLength: maxResponseLength)
            }
            switch result {
            case let .line(bytes): return bytes
            case .oversized: throw UnixSocketError.responseTooLong(limit: maxResponseLength)
            case .closed: throw UnixSocketError.noResponse
            case .timedOut: throw UnixSocketError.timedOut
            }
        }
    }
}
