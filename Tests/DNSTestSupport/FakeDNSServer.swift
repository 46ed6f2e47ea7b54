import DNS
import NIOCore
import NIOPosix
import Synchronization

/// A programmable DNS server on loopback (UDP and TCP on the same port), for testing the stub
/// resolver and `tern dns lookup` over real sockets. The handler sees each query and returns
/// the datagrams (or TCP messages) to send back: none to simulate loss, several to send a
/// spoofed answer before the real one.
public final class FakeDNSServer: Sendable {
    public enum Transport: Sendable { case udp, tcp }
    public typealias Handler = @Sendable (DNSMessage, Transport) -> [[UInt8]]

    public let port: Int
    private let udp: Channel
    private let tcp: Channel
    private let log = QueryLog()

    /// Every question received, with its transport, in order.
    public var received: [(Question, Transport)] { log.entries.withLock { $0 } }

    public init(handler: @escaping Handler) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let log = self.log
        let recording: Handler = { query, transport in
            if let question = query.questions.first { log.entries.withLock { $0.append((question, transport)) } }
            return handler(query, transport)
        }
        var lastError: Error?
        // UDP first on an ephemeral port, then TCP on the same number; retry if it is taken.
        for _ in 0..<20 {
            let udp = try await DatagramBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPHandler(handler: recording)) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
            let port = udp.localAddress?.port ?? 0
            do {
                let tcp = try await ServerBootstrap(group: group)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(TCPHandler(handler: recording)) }
                    }
                    .bind(host: "127.0.0.1", port: port).get()
                self.udp = udp
                self.tcp = tcp
                self.port = port
                return
            } catch {
                lastError = error
                try? await udp.close()
            }
        }
        throw lastError ?? ChannelError.inputClosed
    }

    /// "127.0.0.1:PORT", as `--resolver` takes it.
    public var address: String { "127.0.0.1:\(port)" }

    public func stop() async {
        try? await udp.close()
        try? await tcp.close()
    }

    /// A handler answering from a fixed set of records (CNAMEs followed within the zone),
    /// NXDOMAIN with an SOA for unknown names, AD set when `authentic`.
    public static func zone(_ records: [ResourceRecord], authentic: Bool = false, truncateUDPAbove: Int? = nil) -> Handler {
        let soa = ResourceRecord(
            name: DNSName.root, ttl: 60,
            data: .soa(SOA(primary: DNSName.root, mailbox: DNSName.root, serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 30)))
        return { query, transport in
            guard let question = query.questions.first else { return [] }
            var answers: [ResourceRecord] = []
            var owner = question.name
            for _ in 0..<10 {
                let here = records.filter { $0.name == owner }
                let matching = here.filter { $0.type == question.type }
                if !matching.isEmpty {
                    answers += matching
                    break
                }
                guard let cname = here.first(where: { $0.type == .cname }), case let .cname(target) = cname.data else { break }
                answers.append(cname)
                owner = target
            }
            let exists = records.contains { $0.name.isSubdomain(of: owner) }
            var response = reply(to: query, rcode: exists || !answers.isEmpty ? .noError : .nameError)
            response.answers = answers
            response.authenticData = authentic
            if answers.isEmpty || !exists { response.authorities = [soa] }
            var bytes = response.encoded()
            if transport == .udp, let limit = truncateUDPAbove, bytes.count > limit {
                var truncated = reply(to: query, rcode: .noError)
                truncated.truncated = true
                bytes = truncated.encoded()
            }
            return [bytes]
        }
    }

    /// An empty response to `query`: same ID and question, QR and RA set, with EDNS.
    public static func reply(to query: DNSMessage, rcode: ResponseCode) -> DNSMessage {
        DNSMessage(
            id: query.id, isResponse: true, recursionDesired: query.recursionDesired, recursionAvailable: true,
            rcode: rcode, questions: query.questions, edns: EDNS(udpPayloadSize: 1232, dnssecOK: query.edns?.dnssecOK ?? false))
    }
}

private final class QueryLog: Sendable {
    let entries = Mutex<[(Question, FakeDNSServer.Transport)]>([])
}

private final class UDPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let handler: FakeDNSServer.Handler
    init(handler: @escaping FakeDNSServer.Handler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let query = try? DNSMessage(parsing: Array(envelope.data.readableBytesView)) else { return }
        for bytes in handler(query, .udp) {
            context.write(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: bytes))), promise: nil)
        }
        context.flush()
    }
}

private final class TCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let handler: FakeDNSServer.Handler
    var buffer = ByteBuffer()
    init(handler: @escaping FakeDNSServer.Handler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        while let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self), buffer.readableBytes >= 2 + Int(length) {
            buffer.moveReaderIndex(forwardBy: 2)
            guard let bytes = buffer.readBytes(length: Int(length)), let query = try? DNSMessage(parsing: bytes) else { continue }
            for reply in handler(query, .tcp) {
                var out = ByteBuffer()
                out.writeInteger(UInt16(reply.count))
                out.writeBytes(reply)
                context.write(wrapOutboundOut(out), promise: nil)
            }
            context.flush()
        }
    }
}
