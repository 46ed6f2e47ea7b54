import Certificates
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SASL
import SMTP
import Synchronization
import Testing
import TLSHandshakeCapture

@testable import SMTPServer
import ServerSupport

/// Keeps what would have been stored.
final class MemoryDeliverer: MessageDeliverer {
    let messages = Mutex<[(bytes: [UInt8], envelope: Envelope)]>([])
    func deliver(messageFile: String, envelope: Envelope) async -> Session.DeliveryResult {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: messageFile))).map { Array($0) } ?? []
        try? FileManager.default.removeItem(atPath: messageFile)
        messages.withLock { $0.append((bytes, envelope)) }
        return .delivered(id: "m\(messages.withLock { $0.count })")
    }
    var stored: [(bytes: [UInt8], envelope: Envelope)] { messages.withLock { $0 } }
}

/// A plain SMTP client over loopback, reading whole (multi-line) replies. It lives inside
/// `with`, so its channel is always closed properly.
struct TestClient {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var pending: [UInt8] = []

    static func with(port: Int, tls: NIOSSLContext? = nil, _ body: (inout TestClient) async throws -> Void) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var client = TestClient(channel: channel.channel, outbound: outbound, iterator: inbound.makeAsyncIterator())
            try await body(&client)
        }
    }

    /// Starts TLS on this connection (after the server's 220 to STARTTLS), with `recorder`
    /// in front of the TLS handler if given.
    func startTLS(_ configuration: TLSConfiguration = TLSTestSupport.clientConfiguration, recorder: TLSHandshakeRecorder? = nil) async throws {
        let context = try NIOSSLContext(configuration: configuration)
        let channel = self.channel
        try await channel.eventLoop.submit {
            let operations = channel.pipeline.syncOperations
            let tls = try NIOSSLClientHandler(context: context, serverHostname: nil)
            // The recorder first: the TLS handler writes its ClientHello as it is added.
            if let recorder {
                try operations.addHandler(recorder, position: .first)
                try operations.addHandler(tls, position: .after(recorder))
            } else {
                try operations.addHandler(tls, position: .first)
            }
        }.get()
    }

    /// The client's own channel binding, from its recorder, once the handshake is done.
    func channelBinding(from recorder: TLSHandshakeRecorder) async throws -> ChannelBinding? {
        let channel = self.channel
        return try await channel.eventLoop.submit {
            let version = try channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
            return recorder.handshakeCompleted(version: version)
        }.get()
    }

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// The next reply: its code and its lines' texts; nil when the server closed.
    mutating func reply() async throws -> (code: Int, lines: [String])? {
        var lines: [String] = []
        while true {
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .newlines)
                pending.removeFirst(newline + 1)
                guard line.count >= 4, let code = Int(line.prefix(3)) else { continue }
                lines.append(String(line.dropFirst(4)))
                if line.dropFirst(3).first == " " { return (code, lines) }
            }
            guard let buffer = try await iterator.next() else { return nil }
            pending += buffer.readableBytesView
        }
    }

    mutating func code() async throws -> Int? { try await reply()?.code }

    /// Sends a command and returns its reply code.
    mutating func command(_ line: String) async throws -> Int? {
        try await send(line + "\r\n")
        return try await code()
    }
}

/// Starts a listener on a free loopback port for the duration of `body`.
func withListener(
    kind: Session.Kind = .incoming, tls: NIOSSLContext? = nil, maxPerAddress: Int = 10, authentication: Authentication? = nil,
    configure: (inout ConnectionSettings) -> Void = { _ in },
    _ body: (Int, MemoryDeliverer) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-smtp-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var settings = ConnectionSettings(session: Session.Settings(kind: kind, hostname: "mx.example.org"), temporaryDirectory: directory)
    settings.tls = tls
    settings.session.startTLSAvailable = tls != nil
    settings.authentication = authentication
    configure(&settings)
    let deliverer = MemoryDeliverer()
    let listener = Listener(
        settings: settings, policy: TestPolicy(), deliverer: deliverer, limiter: ConnectionLimiter(maxPerAddress: maxPerAddress),
        now: { fixedNow }, makeID: { "id\(UInt32.random(in: 0...UInt32.max))" })
    let bound = try await listener.bind(host: "127.0.0.1", port: 0)
    let server = Task { try await bound.serve() }
    defer { server.cancel() }
    try await body(bound.port, deliverer)
}

@Suite struct ListenerTests {
    @Test func transactionOverTheNetwork() async throws {
        try await withListener { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
            #expect(try await client.reply()?.lines == ["mx.example.org ESMTP Tern"])
            #expect(try await client.command("EHLO client.example") == 250)
            #expect(try await client.command("MAIL FROM:<sender@remote.example>") == 250)
            #expect(try await client.command("RCPT TO:<alice@example.org>") == 250)
            #expect(try await client.command("DATA") == 354)
            #expect(try await client.command("Subject: hi\r\n\r\n..dot line\r\nlast\r\n.") == 250)
            #expect(try await client.command("QUIT") == 221)
            }
            let stored = try #require(deliverer.stored.first)
            let text = String(decoding: stored.bytes, as: UTF8.self)
            #expect(text.hasPrefix("Delivered-To: alice@example.org\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.example.org with ESMTP id "))
            #expect(text.hasSuffix("; Sat, 21 Nov 2026 22:45:15 +0000\r\nSubject: hi\r\n\r\n.dot line\r\nlast\r\n"))
            #expect(stored.envelope.recipients.map(\.account) == ["alice"])
        }
    }

    @Test func pipelinedCommandsAndSmugglingAttempt() async throws {
        try await withListener { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
            _ = try await client.reply()
            // Everything in one write; the bare-LF "end" is data, not an end of message.
            try await client.send("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n")
            var codes: [Int] = []
            for _ in 0..<5 { codes.append(try await client.code() ?? 0) }
            #expect(codes == [250, 250, 250, 550, 354])
            try await client.send("first\n.\nMAIL FROM:<evil@b.example>\r\nRCPT TO:<alice@example.org>\r\n.\r\nNOOP\r\n")
            #expect(try await client.code() == 250)
            #expect(try await client.code() == 250)  // the NOOP after the message
            }
            #expect(deliverer.stored.count == 1)
            let text = String(decoding: try #require(deliverer.stored.first).bytes, as: UTF8.self)
            #expect(text.hasSuffix("first\r\n.\r\nMAIL FROM:<evil@b.example>\r\nRCPT TO:<alice@example.org>\r\n"))
        }
    }

    @Test func chunking() async throws {
        try await withListener { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
            _ = try await client.reply()
            for line in ["EHLO c", "MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.org>"] { #expect(try await client.command(line) == 250) }
            try await client.send("BDAT 14\r\nSubject: x\r\n\r\n")
            #expect(try await client.code() == 250)
            try await client.send("BDAT 6 LAST\r\nbinary")
            #expect(try await client.code() == 250)
            }
            let text = String(decoding: try #require(deliverer.stored.first).bytes, as: UTF8.self)
            #expect(text.hasSuffix("Subject: x\r\n\r\nbinary"))
        }
    }

    @Test func limitsKeepTheConnectionUsable() async throws {
        try await withListener(configure: { $0.session.maxMessageSize = 100; $0.maxLineLength = 64 }) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
            _ = try await client.reply()
            #expect(try await client.command("EHLO c") == 250)
            #expect(try await client.command("NOOP " + String(repeating: "x", count: 200)) == 500)
            for line in ["MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.org>"] { #expect(try await client.command(line) == 250) }
            #expect(try await client.command("DATA") == 354)
            #expect(try await client.command(String(repeating: "y", count: 300) + "\r\n.") == 552)
            #expect(deliverer.stored.isEmpty)
            #expect(try await client.command("MAIL FROM:<a@b.example>") == 250)
            }
        }
    }

    @Test func connectionsPerAddress() async throws {
        try await withListener(maxPerAddress: 1) { port, _ in
            try await TestClient.with(port: port) { (first: inout TestClient) async throws in
                #expect(try await first.code() == 220)
                try await TestClient.with(port: port) { (second: inout TestClient) async throws in
                    #expect(try await second.reply()?.code == 421)
                }
                #expect(try await first.command("QUIT") == 221)
            }
        }
    }

    @Test func idleTimeout() async throws {
        try await withListener(configure: { $0.commandTimeout = .milliseconds(300) }) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.reply()?.code == 421)
                #expect(try await client.reply() == nil)  // closed
            }
        }
    }
}

enum TLSTestSupport {
    static var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }

    static func serverContext(channelBinding: Bool = true) throws -> NIOSSLContext {
        let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der)))
        if channelBinding { TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .server) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client configuration that hands its connection's exporter secret to `secret`: the
    /// client side of tls-exporter (RFC 9266), computed independently of the server's.
    final class Secret: Sendable {
        let value = Mutex<[UInt8]?>(nil)
    }

    static func clientConfiguration(capturing secret: Secret) -> TLSConfiguration {
        var configuration = clientConfiguration
        configuration.keyLogCallback = { line in
            let fields = String(decoding: line.readableBytesView, as: UTF8.self).split(separator: " ")
            guard fields.count == 3, fields[0] == "EXPORTER_SECRET" else { return }
            let hex = Array(fields[2].utf8).filter { $0 != 0x0A && $0 != 0x0D }
            let bytes = stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16) }
            secret.value.withLock { $0 = bytes }
        }
        return configuration
    }
}

@Suite struct TLSListenerTests {
    /// RFC 3207 §6: commands sent in plaintext behind STARTTLS must not be executed once TLS
    /// is up. If the injected MAIL were run, the first reply after the handshake would be
    /// its 503, not EHLO's 250.
    @Test func startTLSDropsInjectedCommands() async throws {
        try await withListener(tls: try TLSTestSupport.serverContext()) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO c") == 250)
                try await client.send("STARTTLS\r\nMAIL FROM:<evil@b.example>\r\nRCPT TO:<alice@example.org>\r\n")
                #expect(try await client.code() == 220)
                try await client.startTLS()
                let ehlo = try await { () async throws -> (code: Int, lines: [String])? in
                    try await client.send("EHLO c\r\n")
                    return try await client.reply()
                }()
                #expect(ehlo?.code == 250)
                #expect(ehlo?.lines.contains("REQUIRETLS") == true && ehlo?.lines.contains("STARTTLS") == false)
                #expect(try await client.command("MAIL FROM:<ok@b.example> REQUIRETLS") == 250)
                #expect(try await client.command("RCPT TO:<alice@example.org>") == 250)
                #expect(try await client.command("DATA") == 354)
                #expect(try await client.command("Subject: secret\r\n\r\nover TLS\r\n.") == 250)
            }
            let stored = try #require(deliverer.stored.first)
            let text = String(decoding: stored.bytes, as: UTF8.self)
            #expect(text.contains("with ESMTPS id ") && text.contains("\ttls TLS_"))
            #expect(stored.envelope.parameters.requireTLS && stored.envelope.sender == .mailbox(Mailbox(localPart: "ok", domain: "b.example")))
        }
    }

    /// A client that asks for STARTTLS and never does the handshake is cut off after the
    /// handshake timeout, not the much longer command timeout.
    @Test func stalledHandshakeTimesOut() async throws {
        try await withListener(tls: try TLSTestSupport.serverContext(), configure: { $0.tlsHandshakeTimeout = .milliseconds(300) }) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO c") == 250)
                #expect(try await client.command("STARTTLS") == 220)
                let clock = ContinuousClock()
                let start = clock.now
                // The server's side of the handshake starts; this client stays silent.
                while try await client.reply() != nil {}
                #expect(clock.now - start < .seconds(30))
            }
        }
    }

    /// RFC 8314 §3.3: TLS from the first octet, as on port 465.
    @Test func implicitTLS() async throws {
        try await withListener(tls: try TLSTestSupport.serverContext(), configure: { $0.session.implicitTLS = true }) { port, deliverer in
            let context = try NIOSSLContext(configuration: TLSTestSupport.clientConfiguration)
            try await TestClient.with(port: port, tls: context) { (client: inout TestClient) async throws in
                #expect(try await client.code() == 220)
                let ehlo = try await { () async throws -> (code: Int, lines: [String])? in
                    try await client.send("EHLO c\r\n")
                    return try await client.reply()
                }()
                #expect(ehlo?.lines.contains("STARTTLS") == false)
                for line in ["MAIL FROM:<a@b.example>", "RCPT TO:<bob@example.org>", "DATA"] { _ = try await client.command(line) }
                #expect(try await client.command("hello\r\n.") == 250)
            }
            let text = String(decoding: try #require(deliverer.stored.first).bytes, as: UTF8.self)
            #expect(text.contains("with ESMTPS id ") && text.contains("\ttls TLS_AES_"))
        }
    }
}

/// alice's password is "secret".
struct TestCredentials: CredentialSource {
    static let stored: SASLStoredCredentials = {
        let salt = Array("saltsaltsaltsalt".utf8)
        return SASLStoredCredentials(
            scramSHA1: try? SCRAMCredentials.derive(password: "secret", salt: salt, iterations: 4096, hash: .sha1),
            scramSHA256: try? SCRAMCredentials.derive(password: "secret", salt: salt, iterations: 4096, hash: .sha256))
    }()

    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        username == "alice@example.org" ? ("alice", Self.stored) : nil
    }
}

@Suite struct AuthenticationTests {
    let authentication = Authentication(
        credentials: TestCredentials(), serverSecret: Array("server secret".utf8),
        failureLimiter: AuthFailureLimiter(maxFailures: 3, baseDelay: .milliseconds(1)))

    /// Failures are answered with growing delays; past the limit the address is refused,
    /// also with the right password, until the window has passed.
    @Test func failuresPerAddress() async throws {
        let clock = ManualDate()
        let limiter = AuthFailureLimiter(maxFailures: 3, window: 600, baseDelay: .milliseconds(100), maxDelay: .seconds(1), now: clock.now)
        #expect(await limiter.recordFailure("192.0.2.1") == .milliseconds(100))
        #expect(await limiter.recordFailure("192.0.2.1") == .milliseconds(200))
        #expect(await !limiter.isBlocked("192.0.2.1"))
        #expect(await limiter.recordFailure("192.0.2.1") == .milliseconds(400))
        #expect(await limiter.isBlocked("192.0.2.1"))
        #expect(await !limiter.isBlocked("192.0.2.2"))
        clock.advance(601)
        #expect(await !limiter.isBlocked("192.0.2.1"))

        var settings = authentication
        settings.failureLimiter = AuthFailureLimiter(maxFailures: 2, baseDelay: .milliseconds(1))
        try await withListener(kind: .submission, authentication: settings, configure: { $0.session.plaintextAuthAllowed = true }) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                _ = try await client.command("EHLO c")
                let wrong = Data(Array("\0alice@example.org\0wrong".utf8)).base64EncodedString()
                #expect(try await client.command("AUTH PLAIN " + wrong) == 535)
                #expect(try await client.command("AUTH PLAIN " + wrong) == 535)
                let right = Data(Array("\0alice@example.org\0secret".utf8)).base64EncodedString()
                #expect(try await client.command("AUTH PLAIN " + right) == 421)
            }
        }
    }

    @Test func plainOverLoopback() async throws {
        try await withListener(kind: .submission, authentication: authentication, configure: { $0.session.plaintextAuthAllowed = true }) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                let ehlo = try await { () async throws -> [String] in
                    try await client.send("EHLO c\r\n")
                    return try await client.reply()?.lines ?? []
                }()
                #expect(ehlo.contains("AUTH SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN"))
                let wrong = Array("\0alice@example.org\0wrong".utf8)
                #expect(try await client.command("AUTH PLAIN " + Data(wrong).base64EncodedString()) == 535)
                let right = Array("\0alice@example.org\0secret".utf8)
                #expect(try await client.command("AUTH PLAIN " + Data(right).base64EncodedString()) == 235)
                #expect(try await client.command("MAIL FROM:<alice@example.org>") == 250)
                #expect(try await client.command("RCPT TO:<bob@example.org>") == 250)
                #expect(try await client.command("DATA") == 354)
                #expect(try await client.command("From: Alice <alice@example.org>\r\nSubject: hi\r\n\r\nbody\r\n.") == 250)
                // RFC 6409 §8.1: the author must be the account's own address.
                for message in ["From: bob@example.org\r\n\r\nx\r\n.", "Subject: no author\r\n\r\nx\r\n."] {
                    for line in ["MAIL FROM:<alice@example.org>", "RCPT TO:<bob@example.org>"] { _ = try await client.command(line) }
                    #expect(try await client.command("DATA") == 354)
                    #expect(try await client.command(message) == 550)
                }
            }
            #expect(deliverer.stored.count == 1)
            let stored = try #require(deliverer.stored.first)
            #expect(stored.envelope.authenticatedAccount == "alice" && stored.envelope.receivedProtocol == "ESMTPA")
            // RFC 6409 §8.2, §8.3: Date and Message-ID added, after this server's trace fields.
            let text = String(decoding: stored.bytes, as: UTF8.self)
            #expect(text.contains("; Sat, 21 Nov 2026 22:45:15 +0000\r\nDate: Sat, 21 Nov 2026 22:45:15 +0000\r\nMessage-ID: <id"))
            #expect(text.hasSuffix("@mx.example.org>\r\nFrom: Alice <alice@example.org>\r\nSubject: hi\r\n\r\nbody\r\n"))
        }
    }

    /// SCRAM-SHA-256 end to end with the SASL module's client, which checks the server's
    /// signature (mutual authentication).
    @Test func scramOverLoopback() async throws {
        try await withListener(kind: .submission, authentication: authentication, configure: { $0.session.plaintextAuthAllowed = true }) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                _ = try await client.command("EHLO c")
                var sasl = try SASLClient(mechanism: .scramSHA256, credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"))
                let first = sasl.start(initialResponseAllowed: true) ?? []
                try await client.send("AUTH SCRAM-SHA-256 " + Data(first).base64EncodedString() + "\r\n")
                var reply = try #require(try await client.reply())
                while reply.code == 334 {
                    let challenge = Array(Data(base64Encoded: reply.lines[0]) ?? Data())
                    switch sasl.receive(challenge: challenge) {
                    case let .respond(response): try await client.send(Data(response).base64EncodedString() + "\r\n")
                    case .success: try await client.send("\r\n")
                    case let .failure(failure):
                        Issue.record("client failed: \(failure)")
                        return
                    }
                    reply = try #require(try await client.reply())
                }
                #expect(reply.code == 235)
            }
        }
    }
}

/// SCRAM-*-PLUS over STARTTLS: tls-exporter (RFC 9266) on TLS 1.3, tls-unique (RFC 5929)
/// on TLS 1.2.
@Suite struct ChannelBindingTests {
    let authentication = AuthenticationTests().authentication

    /// Runs AUTH with the SASL client; returns the final reply code.
    static func authenticate(_ client: inout TestClient, _ sasl: inout SASLClient, mechanism: String) async throws -> Int? {
        let first = sasl.start(initialResponseAllowed: true) ?? []
        try await client.send("AUTH \(mechanism) " + Data(first).base64EncodedString() + "\r\n")
        var reply = try await client.reply()
        while let current = reply, current.code == 334 {
            let challenge = Array(Data(base64Encoded: current.lines[0]) ?? Data())
            switch sasl.receive(challenge: challenge) {
            case let .respond(response): try await client.send(Data(response).base64EncodedString() + "\r\n")
            case .success: try await client.send("\r\n")
            case .failure: try await client.send("*\r\n")
            }
            reply = try await client.reply()
        }
        return reply?.code
    }

    /// Connects, says EHLO, does STARTTLS with `configuration`, says EHLO again and returns
    /// the AUTH line.
    static func startTLS(
        _ client: inout TestClient, _ configuration: TLSConfiguration, recorder: TLSHandshakeRecorder? = nil
    ) async throws -> String? {
        _ = try await client.reply()
        _ = try await client.command("EHLO c")
        #expect(try await client.command("STARTTLS") == 220)
        try await client.startTLS(configuration, recorder: recorder)
        try await client.send("EHLO c\r\n")
        return try await client.reply()?.lines.first { $0.hasPrefix("AUTH ") }
    }

    @Test func plusOverTLS13WithTheRightBindingOnly() async throws {
        try await withListener(kind: .submission, tls: try TLSTestSupport.serverContext(), authentication: authentication) { port, _ in
            for tamper in [false, true] {
                try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                    let secret = TLSTestSupport.Secret()
                    let auth = try await Self.startTLS(&client, TLSTestSupport.clientConfiguration(capturing: secret))
                    #expect(auth == "AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN")
                    let exporterSecret = try #require(secret.value.withLock { $0 })
                    let hash = try #require(TLSHash(secretLength: exporterSecret.count))
                    var binding = try ChannelBinding.tlsExporter(exporterSecret: exporterSecret, hash: hash)
                    if tamper { binding.data[0] ^= 1 }
                    var sasl = try SASLClient(
                        mechanism: .scramSHA256Plus, credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"),
                        channelBinding: binding, serverOffersChannelBinding: true)
                    let code = try await Self.authenticate(&client, &sasl, mechanism: "SCRAM-SHA-256-PLUS")
                    #expect(code == (tamper ? 535 : 235), "tampered: \(tamper)")
                }
            }
        }
    }

    /// tls-unique (RFC 5929 §3.1) on TLS 1.2: the server offers -PLUS, the client's own
    /// recorder computes the binding its side sees, the GS2 header names it, and the server
    /// accepts it only unaltered: both ends computed the same first Finished.
    @Test func plusOverTLS12WithTheRightBindingOnly() async throws {
        try await withListener(kind: .submission, tls: try TLSTestSupport.serverContext(), authentication: authentication) { port, _ in
            for tamper in [false, true] {
                try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                    var configuration = TLSTestSupport.clientConfiguration
                    configuration.maximumTLSVersion = .tlsv12
                    TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .client)
                    let recorder = TLSHandshakeRecorder(role: .client)
                    let auth = try await Self.startTLS(&client, configuration, recorder: recorder)
                    #expect(auth == "AUTH SCRAM-SHA-256-PLUS SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN")
                    var binding = try #require(try await client.channelBinding(from: recorder))
                    #expect(binding.type == "tls-unique" && binding.data.count == 12)
                    if tamper { binding.data[0] ^= 1 }
                    var sasl = try SASLClient(
                        mechanism: .scramSHA256Plus, credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"),
                        channelBinding: binding, serverOffersChannelBinding: true)
                    var probe = sasl
                    #expect(String(decoding: probe.start(initialResponseAllowed: true) ?? [], as: UTF8.self).hasPrefix("p=tls-unique,,n="))
                    let code = try await Self.authenticate(&client, &sasl, mechanism: "SCRAM-SHA-256-PLUS")
                    #expect(code == (tamper ? 535 : 235), "tampered: \(tamper)")
                }
            }
        }
    }

    /// No binding, no -PLUS: a TLS context without the capture. Asking for it anyway is
    /// refused, not attempted.
    @Test func noPlusWithoutBinding() async throws {
        try await withListener(
            kind: .submission, tls: try TLSTestSupport.serverContext(channelBinding: false), authentication: authentication
        ) { port, _ in
            for maximumVersion in [TLSVersion.tlsv12, .tlsv13] {
                try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                    var configuration = TLSTestSupport.clientConfiguration
                    configuration.maximumTLSVersion = maximumVersion
                    let auth = try await Self.startTLS(&client, configuration)
                    #expect(auth == "AUTH SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN")
                    #expect(try await client.command("AUTH SCRAM-SHA-256-PLUS") == 504)
                }
            }
        }
    }
}

final class ManualDate: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_795_301_115))
    var now: @Sendable () -> Date { { self.current.withLock { $0 } } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
