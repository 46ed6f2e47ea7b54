import Certificates
import Foundation
import IMAP
import IMAPServer
import NIOCore
import NIOPosix
import NIOSSL
import SASL
import ServerSupport
import Store
import Testing
import TestSupport
import TLSHandshakeCapture

/// A line-reading IMAP client over loopback.
struct LineClient {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var reader: LineReader

    /// With `tls`, TLS from the first octet (RFC 8314), with `recorder` in front of the TLS
    /// handler if given.
    static func with(
        port: Int, tls: TLSConfiguration? = nil, recorder: TLSHandshakeRecorder? = nil, _ body: (inout LineClient) async throws -> Void
    ) async throws {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try addTLS(context, recorder: recorder, to: channel) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var client = LineClient(channel: channel.channel, outbound: outbound, reader: LineReader(inbound.makeAsyncIterator()))
            try await body(&client)
        }
    }

    func startTLS(_ configuration: TLSConfiguration = TLSTestSupport.clientConfiguration, recorder: TLSHandshakeRecorder? = nil) async throws {
        let context = try NIOSSLContext(configuration: configuration)
        let channel = self.channel
        try await channel.eventLoop.submit { try Self.addTLS(context, recorder: recorder, to: channel) }.get()
    }

    /// The recorder goes first: the TLS handler writes its ClientHello as it is added to an
    /// active channel.
    static func addTLS(_ context: NIOSSLContext, recorder: TLSHandshakeRecorder?, to channel: any Channel) throws {
        let operations = channel.pipeline.syncOperations
        let tls = try NIOSSLClientHandler(context: context, serverHostname: nil)
        if let recorder {
            try operations.addHandler(recorder, position: .first)
            try operations.addHandler(tls, position: .after(recorder))
        } else {
            try operations.addHandler(tls, position: .first)
        }
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
        try await outbound.write(ByteBuffer(bytes: wire(text)))
    }

    /// The next line without CRLF; nil when the server closed.
    mutating func line() async throws -> String? { try await reader.line() }

    /// Lines up to and including the tagged response of `tag`.
    mutating func response(_ tag: String) async throws -> [String] {
        var lines: [String] = []
        while let line = try await line() {
            lines.append(line)
            if line.hasPrefix(tag + " ") { break }
        }
        return lines
    }

    mutating func command(_ tag: String, _ text: String) async throws -> [String] {
        try await send("\(tag) \(text)\n")
        return try await response(tag)
    }
}

enum TLSTestSupport {
    static var clientConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }

    /// With the key log captured for channel binding, as Tern's listeners have it.
    static func serverContext() throws -> NIOSSLContext {
        let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der)))
        TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .server)
        return try NIOSSLContext(configuration: configuration)
    }

    /// A client that captures its key log, for its own recorder, up to `maximumVersion`.
    static func clientConfiguration(capturingUpTo maximumVersion: TLSVersion) -> TLSConfiguration {
        var configuration = clientConfiguration
        configuration.maximumTLSVersion = maximumVersion
        TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .client)
        return configuration
    }
}

func withListener(
    _ fixture: Fixture, configure: (inout IMAPSettings) -> Void = { _ in }, _ body: (Int) async throws -> Void
) async throws {
    let listener = IMAPListener(settings: fixture.settings(configure: configure))
    let bound = try await listener.bind(host: "127.0.0.1", port: 0)
    let server = Task { try await bound.serve() }
    defer { server.cancel() }
    try await body(bound.port)
}

@Suite struct ListenerTests {
    @Test func sessionOverTheNetworkWithIdle() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        try await withListener(fixture) { port in
            try await LineClient.with(port: port) { client in
                #expect(try await client.line()?.hasPrefix("* OK [CAPABILITY IMAP4rev2 IMAP4rev1 ") == true)
                #expect(try await client.command("a", "LOGIN alice secret").last?.hasPrefix("a OK [CAPABILITY") == true)
                #expect(try await client.command("b", "SELECT INBOX").contains("* 1 EXISTS"))
                try await client.send("c IDLE\n")
                #expect(try await client.line() == "+ idling")
                // Delivered while idling: pushed at once (RFC 2177).
                try await fixture.deliver(sampleMessage)
                #expect(try await client.line() == "* 2 EXISTS")
                // Both messages: the first one became recent for this session at SELECT.
                #expect(try await client.line() == "* 2 RECENT")
                try await client.send("DONE\n")
                #expect(try await client.line() == "c OK IDLE done")
                #expect(try await client.command("d", "FETCH 2 (UID FLAGS)") == ["* 2 FETCH (UID 2 FLAGS (\\Recent))", "d OK FETCH completed"])
                #expect(try await client.command("e", "LOGOUT") == ["* BYE logging out", "e OK LOGOUT completed"])
                #expect(try await client.line() == nil)
            }
        }
    }

    /// RFC 9051 §6.2.1: commands sent in plaintext right behind STARTTLS must not run once
    /// TLS is up: the injected LOGIN would make the next CAPABILITY's state authenticated.
    @Test func startTLSDropsInjectedCommands() async throws {
        let fixture = try await Fixture.make()
        let tls = try TLSTestSupport.serverContext()
        try await withListener(fixture, configure: { $0.tls = tls; $0.plaintextLoginAllowed = false }) { port in
            try await LineClient.with(port: port) { client in
                let greeting = try #require(try await client.line())
                #expect(greeting.contains(" STARTTLS ") && greeting.contains(" LOGINDISABLED "))
                try await client.send("a STARTTLS\nb LOGIN alice secret\n")
                #expect(try await client.line() == "a OK begin TLS negotiation now")
                try await client.startTLS()
                let capability = try await client.command("c", "CAPABILITY")
                #expect(capability.first?.contains("AUTH=PLAIN") == true)
                #expect(capability.first?.contains("STARTTLS") == false)
                #expect(try await client.command("d", "LOGIN alice secret").last?.hasPrefix("d OK") == true)
            }
        }
    }

    /// SCRAM-SHA-256-PLUS (RFC 5802 §6) through AUTHENTICATE: tls-unique (RFC 5929) on TLS
    /// 1.2, tls-exporter (RFC 9266) on TLS 1.3, over implicit TLS (the greeting's
    /// capabilities already offer -PLUS) and after STARTTLS. The client's binding comes from
    /// its own recorder; the server accepts it only unaltered.
    @Test(arguments: [TLSVersion.tlsv12, .tlsv13], [true, false])
    func scramPlus(_ version: TLSVersion, implicitTLS: Bool) async throws {
        let fixture = try await Fixture.make()
        let tls = try TLSTestSupport.serverContext()
        let configuration = TLSTestSupport.clientConfiguration(capturingUpTo: version)
        try await withListener(fixture, configure: {
            $0.tls = tls
            $0.implicitTLS = implicitTLS
        }) { port in
            let recorder = TLSHandshakeRecorder(role: .client)
            try await LineClient.with(port: port, tls: implicitTLS ? configuration : nil, recorder: recorder) { client in
                let greeting = try #require(try await client.line())
                #expect(greeting.contains(" AUTH=SCRAM-SHA-256-PLUS ") == implicitTLS)
                if !implicitTLS {
                    #expect(try await client.command("a", "STARTTLS") == ["a OK begin TLS negotiation now"])
                    try await client.startTLS(configuration, recorder: recorder)
                    #expect(try await client.command("b", "CAPABILITY").first?.contains(" AUTH=SCRAM-SHA-256-PLUS ") == true)
                }
                var binding = try #require(try await client.channelBinding(from: recorder))
                #expect(binding.type == (version == .tlsv12 ? "tls-unique" : "tls-exporter"))
                binding.data[0] ^= 1
                #expect(try await Self.authenticate(&client, tag: "c", binding: binding)?.hasPrefix("c NO ") == true)
                binding.data[0] ^= 1
                #expect(try await Self.authenticate(&client, tag: "d", binding: binding)?.hasPrefix("d OK ") == true)
            }
        }
    }

    /// AUTHENTICATE SCRAM-SHA-256-PLUS as alice with `binding`; the tagged response.
    static func authenticate(_ client: inout LineClient, tag: String, binding: ChannelBinding) async throws -> String? {
        var sasl = try SASLClient(
            mechanism: .scramSHA256Plus, credentials: SASLClientCredentials(username: "alice", password: "secret"),
            channelBinding: binding, serverOffersChannelBinding: true)
        let initial = sasl.start() ?? []
        try await client.send("\(tag) AUTHENTICATE SCRAM-SHA-256-PLUS \(Data(initial).base64EncodedString())\n")
        while let line = try await client.line() {
            guard line.hasPrefix("+ ") else { return line }
            let challenge = Data(base64Encoded: String(line.dropFirst(2))).map { Array($0) } ?? []
            guard case let .respond(response) = sasl.receive(challenge: challenge) else {
                try await client.send("*\n")
                continue
            }
            try await client.send(Data(response).base64EncodedString() + "\n")
        }
        return nil
    }

    @Test func implicitTLSAndAccountLimit() async throws {
        let fixture = try await Fixture.make()
        let tls = try TLSTestSupport.serverContext()
        try await withListener(fixture, configure: {
            $0.tls = tls
            $0.implicitTLS = true
            $0.limits.maxConnectionsPerAccount = 1
        }) { port in
            try await LineClient.with(port: port, tls: TLSTestSupport.clientConfiguration) { first in
                #expect(try await first.line()?.hasPrefix("* OK [CAPABILITY") == true)
                #expect(try await first.command("a", "LOGIN alice secret").last?.hasPrefix("a OK") == true)
                try await LineClient.with(port: port, tls: TLSTestSupport.clientConfiguration) { second in
                    _ = try await second.line()
                    #expect(try await second.command("a", "LOGIN alice secret") == ["a NO [LIMIT] too many connections for this account"])
                }
            }
        }
    }
}
