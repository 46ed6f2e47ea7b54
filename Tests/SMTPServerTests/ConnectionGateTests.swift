import NIOCore
import NIOEmbedded
import NIOSSL
import ServerSupport
import Testing

@Suite struct ConnectionGateTests {
    /// The idle timer reports once; a connection loop that does not react within one more
    /// period (stuck writing to a client that does not read) gets its channel closed.
    /// Reads in between start the clock again.
    @Test func secondExpiryWithoutReadsClosesTheChannel() throws {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handler: ConnectionGate(timeout: .seconds(10)), loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()

        loop.advanceTime(by: .seconds(9))
        try channel.writeInbound(ByteBuffer(string: "NOOP\r\n"))
        guard case .bytes = try channel.readInbound(as: ConnectionInput.self) else {
            Issue.record("read not passed on")
            return
        }
        loop.advanceTime(by: .seconds(9))
        #expect(try channel.readInbound(as: ConnectionInput.self) == nil, "a read re-arms the timer")
        loop.advanceTime(by: .seconds(1))
        guard case .idleTimeout = try channel.readInbound(as: ConnectionInput.self) else {
            Issue.record("no idle timeout")
            return
        }
        #expect(channel.isActive)
        loop.advanceTime(by: .seconds(9))
        #expect(channel.isActive, "the loop has one more period to react")
        loop.advanceTime(by: .seconds(1))
        #expect(!channel.isActive, "closed after the second period without reads")
    }

    /// A read only moves the idle deadline, and the timer waits for the rest when it finds
    /// the deadline later; a shorter timeout set later still counts from then, before the
    /// timer scheduled for the longer one would fire.
    @Test func timeoutsCountFromTheLastReadOrChange() throws {
        let loop = EmbeddedEventLoop()
        let gate = ConnectionGate(timeout: .seconds(60))
        let channel = EmbeddedChannel(handler: gate, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        for _ in 0..<3 {
            loop.advanceTime(by: .seconds(50))
            try channel.writeInbound(ByteBuffer(string: "NOOP\r\n"))
            _ = try channel.readInbound(as: ConnectionInput.self)
        }
        loop.advanceTime(by: .seconds(59))
        #expect(try channel.readInbound(as: ConnectionInput.self) == nil, "60 s after the last read, not after the first")
        gate.setTimeout(.seconds(10), on: channel)
        loop.run()
        loop.advanceTime(by: .seconds(9))
        #expect(try channel.readInbound(as: ConnectionInput.self) == nil)
        loop.advanceTime(by: .seconds(1))
        guard case .idleTimeout = try channel.readInbound(as: ConnectionInput.self) else {
            Issue.record("the shorter timeout did not fire")
            return
        }
        #expect(channel.isActive)
    }

    /// STARTTLS: the go-ahead is written in clear and the TLS handler added in the same
    /// event-loop step, so a ClientHello read right after the go-ahead reaches TLS (it used
    /// to be stamped with the old epoch and dropped, stalling the handshake), while octets
    /// read before it keep the old epoch, for the session to drop.
    @Test func goAheadAndTLSHandlerInOneStep() throws {
        let loop = EmbeddedEventLoop()
        let gate = ConnectionGate(timeout: .seconds(10))
        let server = EmbeddedChannel(handler: gate, loop: loop)
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        try server.writeInbound(ByteBuffer(string: "STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n"))
        guard case .bytes(0, _) = try server.readInbound(as: ConnectionInput.self) else {
            Issue.record("the command is read in epoch 0")
            return
        }

        let started = gate.startTLS(context: try TLSTestSupport.serverContext(), on: server, afterWriting: Array("220 go ahead\r\n".utf8))
        loop.run()
        try started.wait()
        #expect(try server.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "220 go ahead\r\n"))
        let epoch = gate.currentEpoch(on: server)
        loop.run()
        #expect(try epoch.wait() == 1)

        // A client's ClientHello, read immediately: the server answers with its handshake.
        let client = EmbeddedChannel(loop: loop)
        try client.pipeline.syncOperations.addHandler(
            try NIOSSLClientHandler(context: NIOSSLContext(configuration: TLSTestSupport.clientConfiguration), serverHostname: nil))
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        loop.run()
        var hello = ByteBuffer()
        while var chunk = try client.readOutbound(as: ByteBuffer.self) { hello.writeBuffer(&chunk) }
        #expect(hello.readableBytesView.first == 22, "a TLS handshake record")
        try server.writeInbound(hello)
        loop.run()
        let answer = try server.readOutbound(as: ByteBuffer.self)
        #expect(answer?.readableBytesView.first == 22, "the server's handshake: the ClientHello reached TLS")
        #expect(try server.readInbound(as: ConnectionInput.self) == nil, "no ClientHello octets reach the session")
        _ = try? client.finish()
        _ = try? server.finish()
    }
}
