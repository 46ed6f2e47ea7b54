import Certificates
import Crypto
import DNS
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SASL
import SMTP
import SMTPServer
import SwiftASN1
import ServerSupport
import Synchronization
import Testing
import TLSHandshakeCapture
import X509

@testable import SMTPClient
import TestSupport

let loopback = IPAddress("127.0.0.1")!

// MARK: - A scripted server for odd behaviour

/// The server side of one loopback connection, driven by a test's script.
struct FakePeer {
    let channel: any Channel
    var reader: LineReader
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func send(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    /// The next line without its CR LF; nil when the client closed.
    mutating func line() async throws -> String? { try await reader.line() }

    /// Reads until the client closes.
    mutating func drain() async {
        while (try? await line()) != nil {}
    }

    /// Starts TLS as the server, right after a 220 to STARTTLS.
    func startTLS(_ context: NIOSSLContext) async throws {
        let channel = self.channel
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context), position: .first)
        }.get()
    }
}

/// Runs `script` for the first connection to a fresh loopback port while `body` runs.
func withFakeServer(
    _ script: @escaping @Sendable (inout FakePeer) async throws -> Void, _ body: (Int) async throws -> Void
) async throws {
    let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0) { child in
            child.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
        }
    let port = server.channel.localAddress?.port ?? 0
    let task = Task {
        try await server.executeThenClose { connections in
            for try await connection in connections {
                try? await connection.executeThenClose { input, output in
                    var peer = FakePeer(channel: connection.channel, reader: LineReader(input.makeAsyncIterator()), outbound: output)
                    try await script(&peer)
                }
                return
            }
        }
    }
    try await body(port)
    task.cancel()
    _ = await task.result
}

// MARK: - Tern's own server

/// example.org has alice and bob.
struct TestPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        guard case let .mailbox(mailbox) = recipient, mailbox.domain.lowercased() == "example.org" else { return .remote }
        switch mailbox.localPart.lowercased() {
        case "alice": return .local(account: "alice", mailbox: "Inbox")
        case "bob": return .local(account: "bob", mailbox: "Inbox")
        default: return .unknownUser
        }
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool {
        sender.mailbox?.localPart == account && sender.mailbox?.domain == "example.org"
    }
}

/// Keeps what would have been stored.
final class MemoryDeliverer: MessageDeliverer {
    private let messages = Mutex<[(bytes: [UInt8], envelope: SMTPServer.Envelope)]>([])

    func deliver(messageFile: String, envelope: SMTPServer.Envelope) async -> Session.DeliveryResult {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: messageFile))).map { Array($0) } ?? []
        try? FileManager.default.removeItem(atPath: messageFile)
        let count = messages.withLock { messages in
            messages.append((bytes, envelope))
            return messages.count
        }
        return .delivered(id: "m\(count)")
    }

    var stored: [(bytes: [UInt8], envelope: SMTPServer.Envelope)] { messages.withLock { $0 } }
}

/// alice@example.org's password is "secret".
struct TestCredentials: CredentialSource {
    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        username == "alice@example.org" ? ("alice", AuthenticationTests.stored) : nil
    }
}

enum TestTLS {
    /// One certificate for "localhost" for the whole run.
    private static let shared = try? SelfSignedCertificate(hostnames: ["localhost"])

    static func certificate() throws -> SelfSignedCertificate {
        try #require(shared)
    }

    static func serverConfiguration() throws -> TLSConfiguration {
        let certificate = try certificate()
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der)))
    }

    /// Tern's listener context, with the channel binding capture for SCRAM-*-PLUS; the
    /// self-signed certificate, or one from `TestCA`, followed by the CA's own certificate
    /// when `presentingRoot` (as DANE-TA needs, RFC 7672 §3.1.2); TLS up to `maximumVersion`.
    static func serverContext(issuedBy ca: TestCA? = nil, presentingRoot: Bool = false, maximumVersion: TLSVersion = .tlsv13) throws -> NIOSSLContext {
        var configuration = try serverConfiguration()
        configuration.maximumTLSVersion = maximumVersion
        if let ca {
            configuration.certificateChain = try (presentingRoot ? [ca.leafDER, ca.rootDER] : [ca.leafDER]).map {
                .certificate(try NIOSSLCertificate(bytes: $0, format: .der))
            }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: ca.leafKeyDER, format: .der))
        }
        TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .server)
        return try NIOSSLContext(configuration: configuration)
    }
}

/// A private CA and a server certificate it issued for "localhost". A trust anchor must be
/// a CA (RFC 5280 §6.1, §4.2.1.9), so a self-signed server certificate cannot be one.
struct TestCA {
    let root: Certificate
    let rootDER: [UInt8]
    let leafDER: [UInt8]
    let leafKeyDER: [UInt8]

    init() throws {
        let now = Date()
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("Tern Test CA") }
        root = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400), issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let leafKey = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leafKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400), issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames([.dnsName("localhost")])
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(caKey))
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        leafDER = serializer.serializedBytes
        leafKeyDER = Array(leafKey.derRepresentation)
        serializer = DER.Serializer()
        try serializer.serialize(root)
        rootDER = serializer.serializedBytes
    }
}

/// Runs Tern's SMTP listener on a free loopback port for the duration of `body`.
func withTernServer(
    kind: Session.Kind = .incoming, tls: NIOSSLContext? = nil, authentication: Bool = false,
    _ body: (Int, MemoryDeliverer) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-smtpclient-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var settings = ConnectionSettings(session: Session.Settings(kind: kind, hostname: "mx.example.org"), temporaryDirectory: directory)
    settings.tls = tls
    settings.session.startTLSAvailable = tls != nil
    settings.session.plaintextAuthAllowed = true
    if authentication {
        settings.authentication = Authentication(
            credentials: TestCredentials(), serverSecret: Array("server secret".utf8),
            failureLimiter: AuthFailureLimiter(maxFailures: 10, baseDelay: .milliseconds(1)))
    }
    let deliverer = MemoryDeliverer()
    let listener = Listener(
        settings: settings, policy: TestPolicy(), deliverer: deliverer, limiter: ConnectionLimiter(maxPerAddress: 10),
        makeID: { "id\(UInt32.random(in: 0...UInt32.max))" })
    let bound = try await listener.bind(host: "127.0.0.1", port: 0)
    let server = Task { try await bound.serve() }
    defer { server.cancel() }
    try await body(bound.port, deliverer)
}

extension [UInt8] {
    var text: String { String(decoding: self, as: UTF8.self) }
}
