import NIOCore
import NIOEmbedded
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
}
