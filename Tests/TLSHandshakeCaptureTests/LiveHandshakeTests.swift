import Certificates
import NIOCore
import NIOEmbedded
import NIOSSL
import SASL
import Testing

@testable import TLSHandshakeCapture

/// swift-nio-ssl's own client and server, each with a recorder in front and the key log
/// captured, in memory: both ends must arrive at the same binding, whatever the read sizes.
/// (That the value is the real Finished is `OpenSSLHandshakeTests`' part.)
@Suite struct LiveHandshakeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var version: TLSVersion
        var cipher: NIOTLSCipher?
        var pieceSize: Int?
        /// The server picks its certificate and the client verifies the server's in callbacks
        /// that answer on a later event-loop tick, so the handshake goes on outside a read.
        var deferredCallbacks = false
        var testDescription: String {
            "\(version) \(cipher.map { "\($0.rawValue)" } ?? "default") pieces \(pieceSize ?? 0)\(deferredCallbacks ? " deferred" : "")"
        }
    }

    static let cases = [
        Case(version: .tlsv12, cipher: nil, pieceSize: nil),
        Case(version: .tlsv12, cipher: .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, pieceSize: nil),
        Case(version: .tlsv12, cipher: .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, pieceSize: 1),
        Case(version: .tlsv12, cipher: nil, pieceSize: 100),
        Case(version: .tlsv13, cipher: nil, pieceSize: nil),
        Case(version: .tlsv13, cipher: nil, pieceSize: 5),
        Case(version: .tlsv12, cipher: nil, pieceSize: nil, deferredCallbacks: true),
        Case(version: .tlsv13, cipher: nil, pieceSize: nil, deferredCallbacks: true),
    ]

    /// Runs a handshake; returns each end's binding and cipher suite.
    static func handshake(_ testCase: Case, captureKeyLog: Bool = true) throws -> (
        client: ChannelBinding?, server: ChannelBinding?, clientSuite: UInt16?, serverSuite: UInt16?
    ) {
        let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
        var serverConfiguration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der)))
        serverConfiguration.maximumTLSVersion = testCase.version
        if let cipher = testCase.cipher { serverConfiguration.cipherSuiteValues = [cipher] }
        if testCase.deferredCallbacks {
            serverConfiguration.sslContextCallback = { _, promise in promise.succeed(NIOSSLContextConfigurationOverride()) }
        }
        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.certificateVerification = .none
        if captureKeyLog {
            TLSHandshakeRecorder.captureKeyLog(on: &serverConfiguration, as: .server)
            TLSHandshakeRecorder.captureKeyLog(on: &clientConfiguration, as: .client)
        }

        let serverRecorder = TLSHandshakeRecorder(role: .server)
        let serverTLS = NIOSSLServerHandler(context: try NIOSSLContext(configuration: serverConfiguration))
        let server = EmbeddedChannel()
        try server.pipeline.syncOperations.addHandlers([serverRecorder, serverTLS])
        let clientRecorder = TLSHandshakeRecorder(role: .client)
        let client = EmbeddedChannel()
        let clientContext = try NIOSSLContext(configuration: clientConfiguration)
        let clientTLS =
            testCase.deferredCallbacks
            ? try NIOSSLClientHandler(context: clientContext, serverHostname: nil) { _, promise in
                client.embeddedEventLoop.execute { promise.succeed(.certificateVerified) }
            }
            : try NIOSSLClientHandler(context: clientContext, serverHostname: nil)
        try client.pipeline.syncOperations.addHandlers([clientRecorder, clientTLS])
        defer {
            // A TLS handler closes after the peer's close_notify or its shutdown timeout;
            // time moves only when told to on an embedded loop.
            for channel in [client, server] {
                channel.close(promise: nil)
                channel.embeddedEventLoop.advanceTime(by: .minutes(1))
            }
        }
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 1)
        try server.connect(to: address).wait()
        try client.connect(to: address).wait()

        var moved = true
        while moved {
            moved = false
            for (from, to) in [(client, server), (server, client)] {
                from.embeddedEventLoop.run()
                while let buffer = try from.readOutbound(as: ByteBuffer.self) {
                    moved = true
                    let octets = Array(buffer.readableBytesView)
                    let size = testCase.pieceSize ?? octets.count
                    for start in stride(from: 0, to: octets.count, by: size) {
                        try to.writeInbound(ByteBuffer(bytes: octets[start..<min(start + size, octets.count)]))
                    }
                }
            }
        }
        #expect(clientTLS.tlsVersion == testCase.version)
        #expect(serverTLS.tlsVersion == testCase.version)
        return (
            clientRecorder.handshakeCompleted(version: clientTLS.tlsVersion), serverRecorder.handshakeCompleted(version: serverTLS.tlsVersion),
            clientRecorder.cipherSuite, serverRecorder.cipherSuite
        )
    }

    @Test(arguments: cases)
    func bothEndsAgree(_ testCase: Case) throws {
        let result = try Self.handshake(testCase)
        let client = try #require(result.client)
        #expect(client == result.server)
        #expect(client.type == (testCase.version == .tlsv12 ? "tls-unique" : "tls-exporter"))
        #expect(client.data.count == (testCase.version == .tlsv12 ? 12 : 32))
        #expect(result.clientSuite != nil)
        #expect(result.clientSuite == result.serverSuite)
        if let cipher = testCase.cipher { #expect(result.serverSuite == cipher.rawValue) }
    }

    /// Each handshake has its own binding.
    @Test func differsPerConnection() throws {
        let first = try Self.handshake(Self.cases[0])
        let second = try Self.handshake(Self.cases[0])
        #expect(first.server != nil)
        #expect(first.server != second.server)
    }

    /// Without the key log there is no binding, but the cipher suite is still seen.
    @Test(arguments: [TLSVersion.tlsv12, .tlsv13])
    func noKeyLogNoBinding(_ version: TLSVersion) throws {
        let result = try Self.handshake(Case(version: version), captureKeyLog: false)
        #expect(result.client == nil)
        #expect(result.server == nil)
        #expect(result.serverSuite != nil)
    }
}
