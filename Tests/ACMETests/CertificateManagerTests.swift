import Crypto
import Foundation
import Logging
import Synchronization
import Testing
import X509

@testable import ACME

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct CertificateManagerTests {
    static let names = ["mail.example.com", "imap.example.com"]

    final class Events: Sendable {
        let updates = Mutex<[ManagedCertificate]>([])
        let errors = Mutex<[String]>([])
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "acme-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func manager(
        directoryURL: String, storage: String, trust: String?, clock: ManualClock, publisher: any ChallengePublisher,
        names: [String] = names, events: Events = Events(), configure: (inout CertificateManager.Configuration) -> Void = { _ in }
    ) -> CertificateManager {
        var configuration = CertificateManager.Configuration(
            hostnames: names, directoryURL: directoryURL, storageDirectory: storage + "/acme", contactEmail: "postmaster@example.com")
        configuration.additionalTrustRootPEM = trust
        configuration.connectTimeout = .seconds(1)
        configure(&configuration)
        return CertificateManager(
            configuration: configuration, publisher: publisher, clock: clock, logger: quietLogger,
            onUpdate: { certificate in events.updates.withLock { $0.append(certificate) } },
            onError: { error in events.errors.withLock { $0.append("\(error)") } })
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test func obtainsStoresAndReloads() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let publisher = RecordingPublisher()
        let clock = ManualClock()
        let server = try await FakeACMEServer(now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        let events = Events()
        let manager = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher,
            events: events)
        #expect(await manager.current == nil)
        #expect(await manager.renewalReason(now: clock.now()) == "no certificate")
        let current = try await manager.certificate()
        #expect(await manager.current == current)
        #expect(manager.latest == current)
        #expect(Set(current.names) == Set(Self.names))
        #expect(events.updates.withLock { $0 } == [current])

        // Secrets on disk: 0600 files in a 0700 directory, nothing left over.
        let files = manager.files
        for path in [files.key, files.chain, files.accountKey] { #expect(Self.mode(path) == 0o600, "\(path)") }
        #expect(Self.mode(directory + "/acme") == 0o700)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/acme").sorted() == [
            "account-key.pem", "mail.example.com.crt.pem", "mail.example.com.key.pem",
        ])
        #expect(try String(contentsOfFile: files.key, encoding: .utf8) == current.privateKeyPEM)

        // Fresh: nothing to do.
        #expect(try await manager.renewIfNeeded() == false)

        // A new manager (a restart) loads it, asks the CA nothing, and uses the same account key.
        let before = server.log.count
        let restarted = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher)
        #expect(await restarted.current == current)
        #expect(try await restarted.renewIfNeeded() == false)
        #expect(server.log.count == before)
        await server.stop()
    }

    /// Renewal once less than a third of the validity (90 days → 30) is left.
    @Test func renewsWhenAThirdIsLeft() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let publisher = RecordingPublisher()
        let clock = ManualClock()
        let server = try await FakeACMEServer(now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        let manager = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher)
        let first = try await manager.obtain()
        #expect(first.renewalDate(fraction: 1.0 / 3.0) == first.notBefore.addingTimeInterval(60 * 24 * 3600))

        clock.advance(by: 60 * 24 * 3600 - 1)
        #expect(await manager.renewalReason(now: clock.now()) == nil)
        #expect(try await manager.renewIfNeeded() == false)
        clock.advance(by: 1)
        #expect(await manager.renewalReason(now: clock.now()) == "less than a third of the validity left")
        #expect(try await manager.renewIfNeeded())
        let second = try #require(await manager.current)
        #expect(second.notAfter > first.notAfter)
        // The same key for every certificate, so a TLSA record of it stays valid (RFC 7671 §5.1).
        #expect(second.privateKeyPEM == first.privateKeyPEM)
        #expect(second.chainPEM != first.chainPEM)
        #expect(try String(contentsOfFile: manager.files.key, encoding: .utf8) == first.privateKeyPEM)
        #expect(try String(contentsOfFile: manager.files.chain, encoding: .utf8) == second.chainPEM)
        #expect(server.state.withLock { $0.issued } == 2)
        #expect(server.log.filter { $0 == "POST /account" }.count == 2)  // same account, found again
        #expect(server.state.withLock { $0.accounts.count } == 1)
        await server.stop()
    }

    @Test func aNewNameMeansANewCertificate() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let publisher = RecordingPublisher()
        let clock = ManualClock()
        let server = try await FakeACMEServer(now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        let manager = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher)
        try await manager.obtain()
        let more = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher,
            names: Self.names + ["smtp.example.com"])
        #expect(await more.renewalReason(now: clock.now()) == "certificate does not cover all names")
        await server.stop()
    }

    /// The schedule: after success, sleep until the renewal date (at most maxCheckInterval).
    @Test func runSleepsUntilRenewal() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let publisher = RecordingPublisher()
        let clock = ManualClock(sleepLimit: 3)
        let server = try await FakeACMEServer(now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        let manager = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher
        ) { $0.maxCheckInterval = .seconds(40 * 24 * 3600) }
        await manager.run()
        // Obtained at t0; 40 days (the cap); 20 more to the renewal date; renewed there and
        // then the stop.
        #expect(clock.sleeps == [.seconds(40 * 24 * 3600), .seconds(20 * 24 * 3600), .seconds(40 * 24 * 3600)])
        #expect(server.state.withLock { $0.issued } == 2)
        await server.stop()
    }

    /// Failures are reported and retried with exponential backoff; run() never throws.
    @Test func runBacksOffOnErrors() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = ManualClock(sleepLimit: 4)
        let events = Events()
        let manager = Self.manager(
            directoryURL: "https://127.0.0.1:1/dir", storage: directory, trust: nil, clock: clock, publisher: RecordingPublisher(),
            events: events
        ) { $0.maxBackoff = .seconds(300) }
        await manager.run()
        #expect(clock.sleeps == [.seconds(60), .seconds(120), .seconds(240), .seconds(300)])
        let errors = events.errors.withLock { $0 }
        #expect(errors.count == 5)
        #expect(errors.allSatisfy { $0.contains("cannot reach the ACME CA at https://127.0.0.1:1/dir") }, "\(errors)")
        #expect(await manager.consecutiveFailures == 5)
        #expect(manager.backoff(failures: 1) == .seconds(60))
        #expect(manager.backoff(failures: 30) == .seconds(300))
    }

    @Test func damagedStorageIsIgnored() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = CertificateStorage(directory: directory + "/acme", name: "mail.example.com")
        try storage.write("not a key", to: storage.certificateKeyPath)
        try storage.storeChain("not a chain")
        let manager = Self.manager(
            directoryURL: "https://127.0.0.1:1/dir", storage: directory, trust: nil, clock: ManualClock(), publisher: RecordingPublisher())
        #expect(await manager.current == nil)
        // The account key is created once and then reused.
        let key = try storage.accountKey()
        #expect(try storage.accountKey().rawRepresentation == key.rawRepresentation)
        // A damaged certificate key is not silently replaced: that would invalidate its TLSA
        // records. Obtaining fails before asking the CA, naming the file.
        let error = await #expect(throws: StorageError.self) { try await manager.obtain() }
        #expect(error?.description.hasPrefix("parse certificate key \(storage.certificateKeyPath): ") == true)
    }

    /// The key made before the first certificate (for publishing TLSA records early) is the
    /// one certified, and a second storage of the same files finds it rather than making one.
    @Test func keyMadeBeforeTheFirstCertificateIsCertified() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let storage = CertificateStorage(directory: directory + "/acme", name: "mail.example.com")
        let key = try storage.certificateKey()
        #expect(Self.mode(storage.certificateKeyPath) == 0o600)
        #expect(try CertificateStorage(directory: directory + "/acme", name: "mail.example.com").certificateKey().rawRepresentation == key.rawRepresentation)
        // Only the key: no certificate to load yet.
        #expect(try storage.certificate() == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/acme") == ["mail.example.com.key.pem"])

        let publisher = RecordingPublisher()
        let clock = ManualClock()
        let server = try await FakeACMEServer(now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        let manager = Self.manager(
            directoryURL: server.directoryURL, storage: directory, trust: server.tlsCertificatePEM, clock: clock, publisher: publisher)
        #expect(await manager.current == nil)
        let certificate = try await manager.obtain()
        #expect(certificate.privateKeyPEM == key.pemRepresentation)
        #expect(try IssuedCertificate(chainPEM: certificate.chainPEM).leafPublicKey == .init(key.publicKey))
        await server.stop()
    }
}
