import NIOCore
import NIOPosix
import Synchronization

/// A small SOCKS5 proxy on loopback (RFC 1928 CONNECT, and RFC 1929 username/password when
/// given credentials) that relays to the requested address, or answers every CONNECT with
/// one failure code. It keeps the requests it got.
public final class SOCKS5TestProxy: Sendable {
    public enum Behaviour: Sendable {
        case relay
        /// Every CONNECT gets this reply code (RFC 1928 §6), then the connection closes.
        case refuse(reply: UInt8)
    }

    public struct Request: Sendable, Hashable {
        /// The CONNECT target as "address:port".
        public var target: String
        /// The RFC 1929 username, when the client authenticated.
        public var username: String?

        public init(target: String, username: String?) {
            self.target = target
            self.username = username
        }
    }

    public let port: Int
    private final class RequestLog: Sendable {
        let requests = Mutex<[Request]>([])
    }

    private let requestLog = RequestLog()
    private let task: Task<Void, Never>

    /// What the proxy was asked to connect to, in order.
    public var requests: [Request] { requestLog.requests.withLock { $0 } }

    /// - Parameter credentials: when given, the proxy insists on username/password and
    ///   accepts only these.
    public init(credentials: (username: String, password: String)? = nil, behaviour: Behaviour = .relay) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
            }
        port = server.channel.localAddress?.port ?? 0
        let settings = Settings(username: credentials?.username, password: credentials?.password, behaviour: behaviour)
        let requestLog = self.requestLog
        let log: @Sendable (Request) -> Void = { request in requestLog.requests.withLock { $0.append(request) } }
        task = Task {
            try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            try? await connection.executeThenClose { input, output in
                                try await Self.serve(LineReader(input.makeAsyncIterator()), output, settings: settings, log: log)
                            }
                        }
                    }
                }
            }
        }
    }

    public func stop() {
        task.cancel()
    }

    private struct Settings: Sendable {
        var username: String?
        var password: String?
        var behaviour: Behaviour
    }

    private static func serve(
        _ reader: LineReader, _ output: NIOAsyncChannelOutboundWriter<ByteBuffer>, settings: Settings, log: @Sendable (Request) -> Void
    ) async throws {
        var reader = reader
        func send(_ octets: [UInt8]) async throws { try await output.write(ByteBuffer(bytes: octets)) }
        // RFC 1928 §3: VER NMETHODS METHODS.
        guard let head = try await reader.octets(2), head[0] == 5, let methods = try await reader.octets(Int(head[1])) else { return }
        let wanted: UInt8 = settings.username == nil ? 0x00 : 0x02
        guard methods.contains(wanted) else { return try await send([5, 0xFF]) }
        try await send([5, wanted])
        var username: String?
        if wanted == 0x02 {
            // RFC 1929 §2: VER ULEN UNAME PLEN PASSWD.
            guard let version = try await reader.octets(2), version[0] == 1, let name = try await reader.octets(Int(version[1])),
                  let length = try await reader.octets(1), let password = try await reader.octets(Int(length[0]))
            else { return }
            username = String(decoding: name, as: UTF8.self)
            guard username == settings.username, String(decoding: password, as: UTF8.self) == settings.password else {
                return try await send([1, 1])
            }
            try await send([1, 0])
        }
        // RFC 1928 §4: VER CMD RSV ATYP DST.ADDR DST.PORT, with an IPv4 or IPv6 address.
        guard let request = try await reader.octets(4), request[0] == 5, request[1] == 1,
              let address = try await reader.octets(request[3] == 4 ? 16 : 4), let portOctets = try await reader.octets(2)
        else { return }
        let host = request[3] == 4 ? ipv6Text(address) : address.map(String.init).joined(separator: ".")
        let port = Int(portOctets[0]) << 8 | Int(portOctets[1])
        log(Request(target: "\(host):\(port)", username: username))
        // RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT.
        let bound: [UInt8] = [1, 127, 0, 0, 1, 0, 0]
        if case let .refuse(reply) = settings.behaviour { return try await send([5, reply, 0] + bound) }
        let target: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            target = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            return try await send([5, 5, 0] + bound)
        }
        try await send([5, 0, 0] + bound)
        try await target.executeThenClose { targetInput, targetOutput in
            let early = reader.takeBuffered()
            if !early.isEmpty { try await targetOutput.write(ByteBuffer(bytes: early)) }
            // The target closing closes the client's side, which then closes its own.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await buffer in targetInput { try await output.write(buffer) }
                    output.finish()
                }
                while let buffer = try await reader.nextBuffer() { try await targetOutput.write(buffer) }
                group.cancelAll()
            }
        }
    }

    private static func ipv6Text(_ octets: [UInt8]) -> String {
        stride(from: 0, to: 16, by: 2).map { String(Int(octets[$0]) << 8 | Int(octets[$0 + 1]), radix: 16) }.joined(separator: ":")
    }
}
