import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// A certificate and its private key, ready for a TLS server: the chain leaf first, PEM.
public struct ManagedCertificate: Sendable, Equatable {
    public var chainPEM: String
    /// PKCS #8 PEM ("PRIVATE KEY").
    public var privateKeyPEM: String
    public var notBefore: Date
    public var notAfter: Date
    public var names: [String]

    /// When renewal is due: once less than `fraction` of the validity is left (Let's Encrypt
    /// suggests a third; RFC 8555 leaves the timing to the client).
    public func renewalDate(fraction: Double) -> Date {
        let validity = notAfter.timeIntervalSince(notBefore)
        return notAfter.addingTimeInterval(-validity * fraction)
    }
}

/// Obtains and renews the certificate for a set of host names from an ACME CA (RFC 8555)
/// with tls-alpn-01 (RFC 8737), keeping key, chain and account key in a storage directory.
/// Every certificate is for the same stored key (`CertificateStorage.certificateKey()`).
///
/// - `current` is the certificate now (loaded from storage at init, replaced on renewal);
///   `latest` is the same, readable synchronously from any thread (for a TLS context
///   callback).
/// - `renewIfNeeded()` obtains a certificate when there is none, when the stored one does not
///   cover every configured name, or when less than a third of its validity is left.
/// - `run()` does that on a schedule until cancelled: errors are logged, reported through
///   `onError`, and retried with exponential backoff; it never throws, so it can run beside
///   the servers without holding up startup.
public actor CertificateManager {
    public struct Configuration: Sendable {
        /// ASCII (A-label) host names; the first one names the files.
        public var hostnames: [String]
        /// The CA, RFC 8555 client settings (directory URL, polling bounds, timeouts).
        public var acme: ACMEClient.Configuration
        /// Registered with the account (RFC 8555 §7.3: "mailto:" URLs).
        public var contactEmail: String?
        /// RFC 8555 §7.3 termsOfServiceAgreed. Configuring a CA is taken as agreeing.
        public var termsOfServiceAgreed = true
        public var storageDirectory: String
        /// Renew when less than this fraction of the validity remains.
        public var renewalFraction = 1.0 / 3.0
        /// First wait after a failure; doubles with each further failure up to `maxBackoff`.
        public var initialBackoff: Duration = .seconds(60)
        public var maxBackoff: Duration = .seconds(4 * 3600)
        /// The longest `run()` sleeps between checks, so a clock that jumps is noticed.
        public var maxCheckInterval: Duration = .seconds(12 * 3600)
        /// For each connection to the CA; failed connections are retried until then.
        public var connectTimeout: Duration = .seconds(10)
        /// TEST ONLY: an extra CA (PEM) trusted for the CA's HTTPS, such as pebble's test CA.
        /// Never set in production: the system trust store is what authenticates the CA.
        public var additionalTrustRootPEM: String?

        public init(hostnames: [String], directoryURL: String, storageDirectory: String, contactEmail: String? = nil) {
            self.hostnames = hostnames.map { $0.lowercased() }
            self.acme = ACMEClient.Configuration(directoryURL: directoryURL)
            self.storageDirectory = storageDirectory
            self.contactEmail = contactEmail
        }
    }

    public nonisolated let configuration: Configuration
    private let publisher: any ChallengePublisher
    private let clock: any ACMEClock
    private let logger: Logger
    private let storage: CertificateStorage
    private let onUpdate: @Sendable (ManagedCertificate) async -> Void
    private let onError: @Sendable (any Error) async -> Void
    private let snapshot: Mutex<ManagedCertificate?>
    /// Failures since the last success, for the backoff.
    public private(set) var consecutiveFailures = 0

    /// Loads any stored certificate (a damaged or mismatched one is logged and ignored).
    public init(
        configuration: Configuration, publisher: any ChallengePublisher, clock: any ACMEClock = SystemACMEClock(), logger: Logger,
        onUpdate: @escaping @Sendable (ManagedCertificate) async -> Void = { _ in },
        onError: @escaping @Sendable (any Error) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.publisher = publisher
        self.clock = clock
        var logger = logger
        logger[metadataKey: "names"] = "\(configuration.hostnames.joined(separator: ","))"
        self.logger = logger
        self.storage = CertificateStorage(directory: configuration.storageDirectory, name: configuration.hostnames.first ?? "certificate")
        self.onUpdate = onUpdate
        self.onError = onError
        self.snapshot = Mutex(Self.loadStored(storage, logger: logger))
    }

    /// The certificate in use, if any.
    public var current: ManagedCertificate? { snapshot.withLock { $0 } }

    /// The same as `current`, without an actor hop.
    public nonisolated var latest: ManagedCertificate? { snapshot.withLock { $0 } }

    /// Where the files are.
    public nonisolated var files: (key: String, chain: String, accountKey: String) {
        let storage = CertificateStorage(directory: configuration.storageDirectory, name: configuration.hostnames.first ?? "certificate")
        return (storage.certificateKeyPath, storage.certificateChainPath, storage.accountKeyPath)
    }

    /// Why a certificate must be obtained now, or nil when the current one is good until its
    /// renewal date.
    public func renewalReason(now: Date) -> String? {
        guard let current else { return "no certificate" }
        if !IssuedCertificateNames(current.names).covers(configuration.hostnames) { return "certificate does not cover all names" }
        if now >= current.renewalDate(fraction: configuration.renewalFraction) { return "less than a third of the validity left" }
        return nil
    }

    /// The certificate, obtained first when there is none or it is due (one attempt: errors
    /// are thrown, not retried; `run()` is what retries).
    public func certificate() async throws -> ManagedCertificate {
        try await renewIfNeeded()
        guard let current else { throw ACMEError.badCertificate("no certificate after issuance") }
        return current
    }

    /// Obtains a certificate if one is due (see `renewalReason`); returns whether it did.
    @discardableResult
    public func renewIfNeeded() async throws -> Bool {
        guard let reason = renewalReason(now: clock.now()) else { return false }
        logger.info("requesting acme certificate", metadata: ["reason": "\(reason)"])
        try await obtain()
        return true
    }

    /// Obtains a new certificate now, stores it and makes it current.
    @discardableResult
    public func obtain() async throws -> ManagedCertificate {
        let accountKey = try storage.accountKey()
        let certificateKey = try storage.certificateKey()
        let httpClient = try makeHTTPClient()
        let issued: IssuedCertificate
        do {
            let client = ACMEClient(configuration: configuration.acme, accountKey: accountKey, httpClient: httpClient, clock: clock, logger: logger)
            issued = try await client.obtainCertificate(
                hostnames: configuration.hostnames, certificateKey: certificateKey,
                contact: configuration.contactEmail.map { ["mailto:" + $0] } ?? [],
                termsOfServiceAgreed: configuration.termsOfServiceAgreed, publisher: publisher)
        } catch {
            try? await httpClient.shutdown()
            throw error
        }
        try await httpClient.shutdown()
        let certificate = ManagedCertificate(
            chainPEM: issued.chainPEM, privateKeyPEM: certificateKey.pemRepresentation, notBefore: issued.notBefore,
            notAfter: issued.notAfter, names: issued.names)
        try storage.storeChain(certificate.chainPEM)
        snapshot.withLock { $0 = certificate }
        await onUpdate(certificate)
        return certificate
    }

    /// Checks, obtains or renews, sleeps, and again, until the task is cancelled. Failures are
    /// retried after `backoff(failures:)`.
    public func run() async {
        while !Task.isCancelled {
            let wait: Duration
            do {
                try await renewIfNeeded()
                consecutiveFailures = 0
                wait = nextCheck(now: clock.now())
            } catch is CancellationError {
                return
            } catch {
                consecutiveFailures += 1
                wait = backoff(failures: consecutiveFailures)
                logger.error(
                    "acme certificate request failed",
                    metadata: ["error": "\(error)", "failures": "\(consecutiveFailures)", "retryIn": "\(Int(wait.seconds))s"])
                await onError(error)
            }
            do { try await clock.sleep(for: wait) } catch { return }
        }
    }

    /// How long to sleep after a successful check: until the renewal date, at most
    /// `maxCheckInterval`, at least a second.
    public func nextCheck(now: Date) -> Duration {
        guard let current else { return configuration.initialBackoff }
        let until = current.renewalDate(fraction: configuration.renewalFraction).timeIntervalSince(now)
        let capped = min(until, configuration.maxCheckInterval.seconds)
        return .seconds(max(1, Int64(capped.rounded(.up))))
    }

    /// initialBackoff × 2^(failures-1), at most maxBackoff.
    public nonisolated func backoff(failures: Int) -> Duration {
        var wait = configuration.initialBackoff
        for _ in 1..<max(1, failures) {
            wait *= 2
            if wait >= configuration.maxBackoff { return configuration.maxBackoff }
        }
        return min(wait, configuration.maxBackoff)
    }

    private func makeHTTPClient() throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let pem = configuration.additionalTrustRootPEM {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
        }
        // ACME uses no redirects; a CA that sends one is not followed.
        let connect = TimeAmount.nanoseconds(Int64(configuration.connectTimeout.seconds * 1e9))
        let httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: connect))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    private static func loadStored(_ storage: CertificateStorage, logger: Logger) -> ManagedCertificate? {
        do {
            guard let (keyPEM, chainPEM) = try storage.certificate() else { return nil }
            let issued = try IssuedCertificate(chainPEM: chainPEM)
            let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
            guard issued.leafPublicKey == .init(key.publicKey) else {
                logger.warning("stored acme certificate does not match its key; obtaining a new one")
                return nil
            }
            return ManagedCertificate(
                chainPEM: chainPEM, privateKeyPEM: keyPEM, notBefore: issued.notBefore, notAfter: issued.notAfter, names: issued.names)
        } catch {
            logger.warning("stored acme certificate unusable; obtaining a new one", metadata: ["error": "\(error)"])
            return nil
        }
    }
}

/// Case-insensitive name coverage (RFC 4343).
struct IssuedCertificateNames {
    let names: Set<String>
    init(_ names: [String]) { self.names = Set(names.map { $0.lowercased() }) }
    func covers(_ hostnames: [String]) -> Bool { hostnames.allSatisfy { names.contains($0.lowercased()) } }
}
