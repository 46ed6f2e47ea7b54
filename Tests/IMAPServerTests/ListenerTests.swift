import Certificates
import Foundation
import IMAP
import IMAPServer
import NIOCore
import NIOPosix
import NIOSSL
import ServerSupport
import Store
import Testing
import TestSupport

/// A line-reading IMAP client over loopback.
struct LineClient {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var reader: LineReader

    static func with(port: Int, tls: Bool = false, _ body: (inout LineClient) async throws -> Void) async throws {
        let context = tls ? try NIOSSLContext(configuration: TLSTestSupport.clientConfiguration) : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil)) }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var client = LineClient(channel: channel.channel, outbound: outbound, reader: LineReader(inbound.makeAsyncIterator()))
            try await body(&client)
        }
    }

    func startTLS() async throws {
        let context = try NIOSSLContext(configuration: TLSTestSupport.clientConfiguration)
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil), position: .first)
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

    static func serverContext() throws -> NIOSSLContext {
        let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
        return try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der))))
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
                #expect(try await client.line() == "* 1 RECENT")
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

    @Test func implicitTLSAndAccountLimit() async throws {
        let fixture = try await Fixture.make()
        let tls = try TLSTestSupport.serverContext()
        try await withListener(fixture, configure: {
            $0.tls = tls
            $0.implicitTLS = true
            $0.limits.maxConnectionsPerAccount = 1
        }) { port in
            try await LineClient.with(port: port, tls: true) { first in
                #expect(try await first.line()?.hasPrefix("* OK [CAPABILITY") == true)
                #expect(try await first.command("a", "LOGIN alice secret").last?.hasPrefix("a OK") == true)
                try await LineClient.with(port: port, tls: true) { second in
                    _ = try await second.line()
                    #expect(try await second.command("a", "LOGIN alice secret") == ["a NO [LIMIT] too many connections for this account"])
                }
            }
        }
    }
}
