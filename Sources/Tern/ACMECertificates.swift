import ACME
import Certificates
import Config
import Foundation
import Logging
import NIOSSL
import ServerSupport
import ServiceLifecycle

/// Listener certificates from ACME providers (`TLS: ACME: <provider>`): one
/// `CertificateManager` per provider and host name, storing under
/// `<DataDir>/acme/<provider>`; one challenge listener per provider, address and port,
/// answering tls-alpn-01 (RFC 8737) validation. Until the first certificate arrives (and
/// when none is stored), the listener serves a self-signed one for its host name, so the
/// server starts at once; each new certificate is taken by the next handshake
/// (`RotatingCertificate`), without restarting anything.
final class ACMECertificates {
    private let providers: [String: ACMEProvider]
    private let dataDir: String
    private let logger: Logger
    /// Test only (pebble's own HTTPS CA): `TERN_ACME_TRUST_ROOT`, a PEM file added to the
    /// system roots when talking to the CA. Never needed with a public CA.
    private let extraTrustRootPEM: String?
    private var contexts: [String: NIOSSLContext] = [:]
    private var challenges: [String: ACMEChallengeCertificates] = [:]
    private var challengeEndpoints: Set<String> = []
    private(set) var services: [any Service] = []

    init(providers: [ACMEProvider], dataDir: String, logger: Logger) throws {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.dataDir = dataDir
        self.logger = logger
        extraTrustRootPEM = try ProcessInfo.processInfo.environment["TERN_ACME_TRUST_ROOT"].map { try String(contentsOfFile: $0, encoding: .utf8) }
    }

    /// Where the files of the certificate for `hostname` from `provider` are: the key, which
    /// `tern config dnsrecords` reads for TLSA records, and the chain.
    static func storage(dataDir: String, provider: String, hostname: String) -> CertificateStorage {
        CertificateStorage(directory: storageDirectory(dataDir: dataDir, provider: provider), name: hostname.lowercased())
    }

    private static func storageDirectory(dataDir: String, provider: String) -> String {
        dataDir + "/acme/" + provider
    }

    /// The validations of `provider` on its port on `ip`, to be answered by a listener of the
    /// caller's on that port (the MTA-STS policy server, with `ACMEChallengeResponder` in
    /// front of its TLS handler), so that `context` binds no listener of its own there. Call
    /// before `context`.
    func validations(provider name: String, answeredOn ip: String) throws -> ACMEChallengeCertificates {
        guard let provider = providers[name] else { throw ACMESetupError.unknownProvider(name) }
        challengeEndpoints.insert("\(name) \(ip) \(provider.port)")
        return challenges(of: name)
    }

    private func challenges(of provider: String) -> ACMEChallengeCertificates {
        let challenges = challenges[provider] ?? ACMEChallengeCertificates()
        self.challenges[provider] = challenges
        return challenges
    }

    /// The TLS context of a listener with ACME certificates for `hostnames` (the first names
    /// the files), answering validation on the provider's port on `ips`.
    func context(provider name: String, hostnames: [String], ips: [String]) async throws -> NIOSSLContext {
        guard let provider = providers[name] else { throw ACMESetupError.unknownProvider(name) }
        let hostname = hostnames.first ?? ""
        let challenges = challenges(of: name)
        for ip in ips where challengeEndpoints.insert("\(name) \(ip) \(provider.port)").inserted {
            var challengeLogger = logger
            challengeLogger[metadataKey: "acme"] = "\(name)"
            let bound = try await ACMEChallengeListener(challenges: challenges, logger: challengeLogger).bind(host: ip, port: provider.port)
            logger.info("answering ACME validation", metadata: ["provider": "\(name)", "address": "\(ip)", "port": "\(provider.port)"])
            services.append(bound)
        }
        let key = "\(name) \(hostname)"
        if let existing = contexts[key] { return existing }

        var configuration = CertificateManager.Configuration(
            hostnames: hostnames, directoryURL: provider.directoryURL, storageDirectory: Self.storageDirectory(dataDir: dataDir, provider: name),
            contactEmail: provider.contactEmail)
        configuration.additionalTrustRootPEM = extraTrustRootPEM
        let publisher = ClosureChallengePublisher(
            publish: { try challenges.publish(name: $0, certificateDER: $1.certificateDER, privateKeyDER: $1.privateKeyDER) },
            unpublish: { challenges.unpublish(name: $0) })
        let managerLogger = {
            var logger = logger
            logger[metadataKey: "acme"] = "\(name)"
            return logger
        }()
        // Until the CA has issued one, handshakes get a self-signed certificate for the host
        // name: replaced below by a stored certificate, or later by a newly issued one.
        let interim = try SelfSignedCertificate(hostnames: hostnames)
        let rotating = RotatingCertificate(
            chain: [try NIOSSLCertificate(bytes: interim.certificateDER, format: .der)],
            key: try NIOSSLPrivateKey(bytes: interim.privateKeyDER, format: .der))
        let manager = CertificateManager(
            configuration: configuration, publisher: publisher, logger: managerLogger,
            onUpdate: { certificate in
                do {
                    try rotating.replace(chainPEM: certificate.chainPEM, keyPEM: certificate.privateKeyPEM)
                    managerLogger.info("new certificate in use", metadata: ["notAfter": "\(certificate.notAfter)"])
                } catch {
                    managerLogger.error("new certificate unusable", metadata: ["error": "\(error)"])
                }
            },
            onError: { error in managerLogger.error("ACME certificate not obtained; will retry", metadata: ["error": "\(error)"]) })
        if let stored = manager.latest {
            try rotating.replace(chainPEM: stored.chainPEM, keyPEM: stored.privateKeyPEM)
        }
        let context = try ServeCommand.serverContext(rotating.serverConfiguration())
        contexts[key] = context
        services.append(ManagerService(manager: manager))
        return context
    }

    /// Obtains and renews until shutdown.
    private struct ManagerService: Service {
        let manager: CertificateManager
        func run() async throws {
            await cancelWhenGracefulShutdown { await manager.run() }
        }
    }
}

enum ACMESetupError: Error, CustomStringConvertible {
    case unknownProvider(String)

    var description: String {
        switch self {
        case let .unknownProvider(name): "no ACME provider named \(name) in the configuration"
        }
    }
}
