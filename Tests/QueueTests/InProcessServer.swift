import Certificates
import Foundation
import NIOSSL
import SMTPServer
import ServerSupport
import TLSHandshakeCapture
import TestSupport

/// Tern's own SMTP server, in-process on loopback, with STARTTLS and a self-signed
/// certificate for "localhost": a next hop that speaks real TLS. It keeps what it receives.
struct InProcessServer {
    let port: Int
    let kept = KeptMessages()
    /// The certificate it presents, as DER.
    let certificateDER: [UInt8]
    private let temporary: TemporaryDirectory
    private let task: Task<Void, any Error>

    init(kind: Session.Kind, hostname: String, policy: some SessionPolicy, authentication: Authentication? = nil) async throws {
        let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
        certificateDER = certificate.certificateDER
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der)))
        TLSHandshakeRecorder.captureKeyLog(on: &tls, as: .server)
        temporary = try TemporaryDirectory()
        var settings = ConnectionSettings(session: Session.Settings(kind: kind, hostname: hostname), temporaryDirectory: temporary.path)
        settings.tls = try NIOSSLContext(configuration: tls)
        settings.session.startTLSAvailable = true
        settings.authentication = authentication
        let listener = Listener(settings: settings, policy: policy, deliverer: kept, limiter: ConnectionLimiter(maxPerAddress: 10), makeID: { "id1" })
        let bound = try await listener.bind(host: "127.0.0.1", port: 0)
        port = bound.port
        task = Task { try await bound.serve() }
    }

    func stop() {
        task.cancel()
    }
}
