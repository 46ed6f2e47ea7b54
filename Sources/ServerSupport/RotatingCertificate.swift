import NIOSSL
import Synchronization

/// A server certificate that can be replaced while listeners run, as ACME renewal does every
/// couple of months: a TLS context whose configuration went through `install(on:)` asks for
/// the current chain and key at each handshake (swift-nio-ssl's per-hello context callback),
/// so the context, and every listener holding it, stays as it is.
public final class RotatingCertificate: Sendable {
    private struct Pair: Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
    }

    private let current: Mutex<Pair>

    public init(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
        current = Mutex(Pair(chain: chain, key: key))
    }

    /// From PEM: the chain leaf first, the key in PKCS #8 or SEC 1.
    public convenience init(chainPEM: String, keyPEM: String) throws {
        let (chain, key) = try Self.parse(chainPEM: chainPEM, keyPEM: keyPEM)
        self.init(chain: chain, key: key)
    }

    /// New handshakes use `chain` and `key`; connections already up keep theirs.
    public func replace(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey) {
        current.withLock { $0 = Pair(chain: chain, key: key) }
    }

    public func replace(chainPEM: String, keyPEM: String) throws {
        let (chain, key) = try Self.parse(chainPEM: chainPEM, keyPEM: keyPEM)
        replace(chain: chain, key: key)
    }

    /// The leaf in use now.
    public var leaf: NIOSSLCertificate? { current.withLock { $0.chain.first } }

    /// A server configuration that starts with the current pair and takes the pair of the
    /// moment at each handshake. Other settings (minimum version, channel binding capture)
    /// are the caller's to add.
    public func serverConfiguration() -> TLSConfiguration {
        let pair = current.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: pair.chain.map { .certificate($0) }, privateKey: .privateKey(pair.key))
        install(on: &configuration)
        return configuration
    }

    /// Makes `configuration` take the current pair at each handshake.
    public func install(on configuration: inout TLSConfiguration) {
        configuration.sslContextCallback = { [self] _, promise in
            let pair = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = pair.chain.map { .certificate($0) }
            override.privateKey = .privateKey(pair.key)
            promise.succeed(override)
        }
    }

    private static func parse(chainPEM: String, keyPEM: String) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8))
        guard !chain.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
        return (chain, try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
    }
}
