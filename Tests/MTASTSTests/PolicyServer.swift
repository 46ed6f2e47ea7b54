import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import SwiftASN1
import X509

/// A certification authority for tests: a root certificate the fetcher is told to trust, and
/// server certificates it issues.
struct TestCA {
    let key = P256.Signing.PrivateKey()
    let certificate: Certificate

    init(name: String = "MTA-STS Test CA") throws {
        let subject = try DistinguishedName { CommonName(name) }
        certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: Date().addingTimeInterval(24 * 3600),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key))
    }

    /// The root as swift-nio-ssl takes it for `additionalTrustRoots`.
    var trustRoot: NIOSSLCertificate {
        get throws { try NIOSSLCertificate(bytes: try Self.der(certificate), format: .der) }
    }

    /// A server certificate for `names` and its key.
    func issue(for names: [String], notValidAfter: Date = Date().addingTimeInterval(3600)) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
        let leafKey = P256.Signing.PrivateKey()
        let leaf = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey),
            notValidBefore: Date().addingTimeInterval(-3600), notValidAfter: notValidAfter,
            issuer: certificate.subject, subject: try DistinguishedName { CommonName(names[0]) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames(names.map { GeneralName.dnsName($0) })
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(key))
        return (
            try NIOSSLCertificate(bytes: try Self.der(leaf), format: .der),
            try NIOSSLPrivateKey(bytes: Array(leafKey.derRepresentation), format: .der)
        )
    }

    private static func der(_ certificate: Certificate) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return serializer.serializedBytes
    }
}

/// An HTTPS server on loopback that answers by the request's Host: a policy host's test
/// scenario. A host without a reply gets no answer at all, to test timeouts.
final class PolicyServer: Sendable {
    struct Reply: Sendable {
        var status = 200
        var headers: [(String, String)] = [("Content-Type", "text/plain")]
        var body: [UInt8] = []
    }

    let port: Int
    /// The request paths seen, as "host path".
    var requests: [String] { log.entries }
    private let channel: any Channel
    private let log = RequestLog()

    init(certificate: NIOSSLCertificate, key: NIOSSLPrivateKey, replies: [String: Reply]) async throws {
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(key)))
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(ReplyHandler { host, path in
                        log.append("\(host) \(path)")
                        return replies[host]
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class RequestLog: Sendable {
    private let lines = Mutex<[String]>([])
    var entries: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

private final class ReplyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let reply: @Sendable (_ host: String, _ path: String) -> PolicyServer.Reply?
    private var head: HTTPRequestHead?

    init(reply: @escaping @Sendable (String, String) -> PolicyServer.Reply?) {
        self.reply = reply
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            // The Host header carries the port when the URL has one.
            let host = head.headers.first(name: "Host").map { String($0.split(separator: ":")[0]) } ?? ""
            guard let response = reply(host, head.uri) else { return }
            var headers = HTTPHeaders(response.headers)
            headers.add(name: "Content-Length", value: "\(response.body.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
