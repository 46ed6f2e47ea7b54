import ACME
import Certificates
import Foundation
import Logging
import Metrics
import NIOCore
import NIOEmbedded
import NIOPosix
import NIOSSL
import NIOTLS
import ServerSupport
import Synchronization
import Testing

/// ServerSupport's tls-alpn-01 responder (RFC 8737 §3, §4) in front of a real implicit-TLS
/// listener and as a listener of its own, with swift-nio-ssl clients.
@Suite struct ChallengeResponderTests {
    /// What a TLS client saw.
    struct Seen: Sendable {
        var negotiatedProtocol: String?
        var handshakeCompleted = false
        var peerCertificateDER: [UInt8]?
        var received: [UInt8] = []
        var closed = false
        var error: String?
    }

    final class Recorder: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let seen = Mutex(Seen())
        let done: EventLoopPromise<Void>
        /// Done as soon as this much has arrived, without waiting for the server to close.
        let expected: [UInt8]?

        init(done: EventLoopPromise<Void>, expected: [UInt8]? = nil) {
            self.done = done
            self.expected = expected
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case let TLSUserEvent.handshakeCompleted(negotiatedProtocol) = event {
                seen.withLock {
                    $0.handshakeCompleted = true
                    $0.negotiatedProtocol = negotiatedProtocol
                }
            }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            let received = seen.withLock { seen in
                seen.received += bytes.readableBytesView
                return seen.received
            }
            if let expected, received.count >= expected.count { done.succeed() }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            seen.withLock { $0.error = "\(error)" }
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            seen.withLock { $0.closed = true }
            done.succeed()
        }
    }

    /// Connects with TLS (any certificate accepted, the leaf recorded), sends `send` once the
    /// handshake is done, and waits until the server closes or `wait` passes.
    static func connect(
        port: Int, serverName: String?, alpn: [String], send: String? = nil, wait: TimeAmount = .seconds(2), expecting expected: String? = nil
    ) async throws -> Seen {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.applicationProtocols = alpn
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.any().makePromise(of: Void.self)
        let recorder = Recorder(done: done, expected: expected.map { Array($0.utf8) })
        let leaf = Mutex<[UInt8]?>(nil)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName) { certificates, promise in
                        leaf.withLock { $0 = try? certificates.first?.toDERBytes() }
                        promise.succeed(.certificateVerified)
                    }
                    try channel.pipeline.syncOperations.addHandler(handler)
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        if let send {
            // Written right away; swift-nio-ssl sends it once the handshake is done.
            channel.writeAndFlush(ByteBuffer(string: send), promise: nil)
        }
        let timeout = channel.eventLoop.scheduleTask(in: wait) { channel.close(promise: nil) }
        try? await done.futureResult.get()
        timeout.cancel()
        if expected != nil { try? await channel.close() }
        var seen = recorder.seen.withLock { $0 }
        seen.peerCertificateDER = leaf.withLock { $0 }
        return seen
    }

    /// Waits up to 5 s for `condition` (the server side finishes after the client has seen
    /// the close).
    static func eventually(_ condition: () -> Bool) async {
        for _ in 0..<100 where !condition() { try? await Task.sleep(for: .milliseconds(50)) }
    }

    struct Fixture {
        let challenges = ACMEChallengeCertificates()
        let normal: SelfSignedCertificate
        let normalContext: NIOSSLContext
        let challenge: ChallengeCertificate

        init() throws {
            normal = try SelfSignedCertificate(hostnames: ["mail.example.com"])
            normalContext = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: [.certificate(try NIOSSLCertificate(bytes: normal.certificateDER, format: .der))],
                    privateKey: .privateKey(try NIOSSLPrivateKey(bytes: normal.privateKeyDER, format: .der))))
            challenge = try TLSALPNChallenge.certificate(identifier: "mail.example.com", keyAuthorization: "token.thumb", now: Date())
            try challenges.publish(name: "Mail.Example.com", certificateDER: challenge.certificateDER, privateKeyDER: challenge.privateKeyDER)
        }
    }

    /// What the protocol behind a listener saw on its connections.
    final class ProtocolLog: Sendable {
        let inputs = Mutex<[String]>([])
        func add(_ text: String) { inputs.withLock { $0.append(text) } }
        var all: [String] { inputs.withLock { $0 } }
    }

    /// A ConnectionListener with implicit TLS and the responder, and a protocol that greets
    /// at once (as SMTP over implicit TLS does) and logs what it reads.
    static func withListener(_ fixture: Fixture, _ body: (Int, ProtocolLog) async throws -> Void) async throws {
        let log = ProtocolLog()
        var listener = ConnectionListener(
            implicitTLS: fixture.normalContext, initialTimeout: .seconds(5), limiter: ConnectionLimiter(maxPerAddress: 10),
            refusal: Array("busy\r\n".utf8), logger: quietLogger, makeID: { "c" }, connections: Counter(label: "test_connections"),
            refusedConnections: Counter(label: "test_refused")
        ) { accepted in
            try? await accepted.channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "220 greeting\r\n"))
                for try await input in inbound {
                    switch input {
                    case let .bytes(_, bytes): log.add("bytes \(String(buffer: bytes))")
                    case let .tlsEstablished(version, _): log.add("tls \(version)")
                    case .idleTimeout: log.add("timeout")
                    }
                }
            }
            log.add("end")
        }
        listener.acmeChallenges = fixture.challenges
        let bound = try await listener.bind(host: "127.0.0.1", port: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bound.serve() }
            do {
                try await body(bound.port, log)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// RFC 8737 §3 step 3 and 4: ALPN acme-tls/1 with the SNI of a published name gets the
    /// challenge certificate, negotiates acme-tls/1, and is closed after the handshake; the
    /// protocol's greeting never goes out and the protocol sees no TLS and no data.
    @Test func validationConnectionGetsTheChallengeCertificate() async throws {
        let fixture = try Fixture()
        try await Self.withListener(fixture) { port, log in
            let seen = try await Self.connect(port: port, serverName: "mail.example.com", alpn: ["acme-tls/1"], send: "EHLO x\r\n")
            #expect(seen.handshakeCompleted)
            #expect(seen.negotiatedProtocol == "acme-tls/1")
            #expect(seen.peerCertificateDER == fixture.challenge.certificateDER)
            #expect(seen.received.isEmpty)
            #expect(seen.closed)
            await Self.eventually { log.all.contains("end") }
            #expect(log.all == ["end"])
        }
    }

    /// Everything else gets the listener's own TLS and reaches the protocol.
    @Test func otherConnectionsGetTheNormalTLS() async throws {
        let fixture = try Fixture()
        try await Self.withListener(fixture) { port, log in
            // A plain client.
            let plain = try await Self.connect(port: port, serverName: "mail.example.com", alpn: [], send: "NOOP\r\n", wait: .seconds(5))
            #expect(plain.handshakeCompleted)
            #expect(plain.negotiatedProtocol == nil)
            #expect(plain.peerCertificateDER == fixture.normal.certificateDER)
            #expect(String(decoding: plain.received, as: UTF8.self) == "220 greeting\r\n")

            // acme-tls/1 for a name with nothing published: the normal certificate, no ALPN.
            let other = try await Self.connect(port: port, serverName: "other.example.com", alpn: ["acme-tls/1"], wait: .seconds(10), expecting: "220 greeting\r\n")
            #expect(other.handshakeCompleted)
            #expect(other.negotiatedProtocol == nil)
            #expect(other.peerCertificateDER == fixture.normal.certificateDER)

            // acme-tls/1 without SNI.
            let noSNI = try await Self.connect(port: port, serverName: nil, alpn: ["acme-tls/1"], wait: .seconds(10), expecting: "220 greeting\r\n")
            #expect(noSNI.peerCertificateDER == fixture.normal.certificateDER)

            // Unpublished: back to normal.
            fixture.challenges.unpublish(name: "mail.example.com")
            let after = try await Self.connect(port: port, serverName: "mail.example.com", alpn: ["acme-tls/1"], wait: .seconds(10), expecting: "220 greeting\r\n")
            #expect(after.peerCertificateDER == fixture.normal.certificateDER)

            await Self.eventually { log.all.contains("bytes NOOP\r\n") }
            #expect(log.all.contains("tls TLS1.3"))
            #expect(log.all.contains("bytes NOOP\r\n"))
        }
    }

    /// The challenge-only listener: validation answered, anything else closed unanswered.
    @Test func challengeOnlyListener() async throws {
        let fixture = try Fixture()
        let bound = try await ACMEChallengeListener(challenges: fixture.challenges, logger: quietLogger).bind(host: "127.0.0.1", port: 0)
        let validation = try await Self.connect(port: bound.port, serverName: "MAIL.example.com", alpn: ["acme-tls/1"])
        #expect(validation.negotiatedProtocol == "acme-tls/1")
        #expect(validation.peerCertificateDER == fixture.challenge.certificateDER)
        #expect(validation.closed)

        let other = try await Self.connect(port: bound.port, serverName: "mail.example.com", alpn: ["h2"])
        #expect(!other.handshakeCompleted)
        #expect(other.closed)
        await bound.close()
    }

    // MARK: The handler alone, octet by octet

    /// A hello in three segments: nothing is decided, and the protocol's early write is held
    /// (never sent in plaintext), until the hello is complete; then the normal TLS handler
    /// takes over, the responder is gone, and the TLS handler answers.
    @Test func segmentedHelloAndHeldWrites() throws {
        let fixture = try Fixture()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ACMEChallengeResponder(challenges: fixture.challenges, tlsContext: fixture.normalContext))
        _ = channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 465))
        let written = channel.pipeline.syncOperations.writeAndFlush(NIOAny(ByteBuffer(string: "220 greeting\r\n")))
        let outcome = Self.outcome(of: written)

        let hello = try TLSClientHelloTests.clientHello(serverName: "mail.example.com", alpn: [])
        let thirds = [hello[..<3], hello[3..<(hello.count / 2)], hello[(hello.count / 2)...]]
        try channel.writeInbound(ByteBuffer(bytes: thirds[0]))
        try channel.writeInbound(ByteBuffer(bytes: thirds[1]))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect((try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) == nil)
        try channel.writeInbound(ByteBuffer(bytes: thirds[2]))
        #expect((try? channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) != nil)
        #expect((try? channel.pipeline.syncOperations.handler(type: ACMEChallengeResponder.self)) == nil)
        var outbound: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { outbound += buffer.readableBytesView }
        #expect(outbound.first == 22)  // the ServerHello's handshake record
        #expect(!String(decoding: outbound, as: UTF8.self).contains("greeting"))
        #expect(outcome.value.withLock { $0 } == nil)  // held by the TLS handler until its handshake is done
        _ = try? channel.finish()
    }

    /// On a validation connection, the protocol's early write fails instead of going out.
    @Test func heldWritesFailOnValidation() throws {
        let fixture = try Fixture()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ACMEChallengeResponder(challenges: fixture.challenges, tlsContext: fixture.normalContext))
        _ = channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 443))
        let written = channel.pipeline.syncOperations.writeAndFlush(NIOAny(ByteBuffer(string: "220 greeting\r\n")))
        let outcome = Self.outcome(of: written)
        try channel.writeInbound(ByteBuffer(bytes: try TLSClientHelloTests.clientHello(serverName: "mail.example.com", alpn: ["acme-tls/1"])))
        #expect(outcome.value.withLock { $0 } == "failure")
        var outbound: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { outbound += buffer.readableBytesView }
        #expect(outbound.first == 22)
        #expect(!String(decoding: outbound, as: UTF8.self).contains("greeting"))
        _ = try? channel.finish()
    }

    /// Not TLS, or a hello past the size limit: the normal handler gets it all (and fails it).
    @Test func malformedAndOversizedGoToTheNormalHandler() throws {
        let fixture = try Fixture()
        let plain = EmbeddedChannel()
        try plain.pipeline.syncOperations.addHandler(ACMEChallengeResponder(challenges: fixture.challenges, tlsContext: fixture.normalContext))
        _ = plain.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 465))
        _ = try? plain.writeInbound(ByteBuffer(string: "EHLO client.example\r\n"))
        #expect((try? plain.pipeline.syncOperations.handler(type: ACMEChallengeResponder.self)) == nil)
        _ = try? plain.finish()

        // Valid-looking records of one handshake octet each, never completing the hello.
        let big = EmbeddedChannel()
        try big.pipeline.syncOperations.addHandler(ACMEChallengeResponder(challenges: fixture.challenges, tlsContext: fixture.normalContext))
        _ = big.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 465))
        var octets: [UInt8] = []
        for byte in [UInt8(1), 0, 0x40, 0] + [UInt8](repeating: 0, count: 3000) { octets += [22, 3, 1, 0, 1, byte] }
        var decidedAt: Int?
        for (index, chunk) in stride(from: 0, to: octets.count, by: 1000).map({ octets[$0..<min($0 + 1000, octets.count)] }).enumerated() {
            _ = try? big.writeInbound(ByteBuffer(bytes: chunk))
            if decidedAt == nil, (try? big.pipeline.syncOperations.handler(type: ACMEChallengeResponder.self)) == nil { decidedAt = index }
        }
        #expect(decidedAt == ACMEChallengeResponder.maxBufferedBytes / 1000)
        _ = try? big.finish()
    }

    static func outcome(of future: EventLoopFuture<Void>) -> OutcomeBox {
        let box = OutcomeBox()
        future.whenComplete { result in
            box.value.withLock {
                switch result {
                case .success: $0 = "success"
                case .failure: $0 = "failure"
                }
            }
        }
        return box
    }

    @Test func registry() throws {
        let fixture = try Fixture()
        #expect(fixture.challenges.context(for: "mail.example.com.") != nil)
        #expect(fixture.challenges.context(for: "MAIL.EXAMPLE.COM") != nil)
        #expect(fixture.challenges.context(for: "example.com") == nil)
        #expect(!fixture.challenges.isEmpty)
        fixture.challenges.unpublish(name: "mail.example.com")
        #expect(fixture.challenges.isEmpty)
        #expect(throws: (any Error).self) { try fixture.challenges.publish(name: "x", certificateDER: [1, 2, 3], privateKeyDER: [4]) }
    }
}

final class OutcomeBox: Sendable {
    let value = Mutex<String?>(nil)
}

/// ServerSupport's RotatingCertificate: a renewed certificate is served by the same context.
@Suite struct RotatingCertificateTests {
    @Test func newHandshakesGetTheReplacement() async throws {
        let first = try SelfSignedCertificate(hostnames: ["mail.example.com"])
        let second = try SelfSignedCertificate(hostnames: ["mail.example.com"])
        let rotating = try RotatingCertificate(chainPEM: first.certificatePEM, keyPEM: first.privateKeyPEM)
        var configuration = rotating.serverConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        let fixture = try ChallengeResponderTests.Fixture()
        // Behind the ACME responder, as a listener with ACME certificates would run it.
        var listener = ConnectionListener(
            implicitTLS: context, initialTimeout: .seconds(5), limiter: ConnectionLimiter(maxPerAddress: 10), refusal: [],
            logger: quietLogger, makeID: { "c" }, connections: Counter(label: "test_connections"),
            refusedConnections: Counter(label: "test_refused")
        ) { accepted in
            try? await accepted.channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "hi\r\n"))
                for try await _ in inbound {}
            }
        }
        listener.acmeChallenges = fixture.challenges
        let bound = try await listener.bind(host: "127.0.0.1", port: 0)
        let serving = Task { try await bound.serve() }

        // The server keeps the connection open: done once its greeting is in (or after 10 s).
        let before = try await ChallengeResponderTests.connect(port: bound.port, serverName: "mail.example.com", alpn: [], wait: .seconds(10), expecting: "hi\r\n")
        #expect(before.peerCertificateDER == first.certificateDER)
        try rotating.replace(chainPEM: second.certificatePEM, keyPEM: second.privateKeyPEM)
        let after = try await ChallengeResponderTests.connect(port: bound.port, serverName: "mail.example.com", alpn: [], wait: .seconds(10), expecting: "hi\r\n")
        #expect(after.peerCertificateDER == second.certificateDER)
        #expect(after.handshakeCompleted)
        #expect(String(decoding: after.received, as: UTF8.self) == "hi\r\n")
        // The challenge path is unaffected.
        let validation = try await ChallengeResponderTests.connect(port: bound.port, serverName: "mail.example.com", alpn: ["acme-tls/1"])
        #expect(validation.peerCertificateDER == fixture.challenge.certificateDER)
        serving.cancel()
    }
}
