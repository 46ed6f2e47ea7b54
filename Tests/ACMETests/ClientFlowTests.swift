import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOSSL
import SwiftASN1
import Testing
import X509

@testable import ACME

/// The RFC 8555 client against the in-process fake CA, over HTTPS on loopback.
@Suite struct ClientFlowTests {
    struct Setup {
        let server: FakeACMEServer
        let publisher: RecordingPublisher
        let clock: ManualClock
        let http: HTTPClient
        let client: ACMEClient

        func shutdown() async {
            try? await http.shutdown()
            await server.stop()
        }
    }

    static func setup(_ behavior: FakeACMEServer.Behavior = .init(), maxPolls: Int = 30) async throws -> Setup {
        let publisher = RecordingPublisher()
        let clock = ManualClock()
        let server = try await FakeACMEServer(behavior: behavior, now: { clock.now() }, lookup: { publisher.certificate(for: $0) })
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.tlsCertificatePEM.utf8)))]
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls, timeout: .init(connect: .seconds(2))))
        var configuration = ACMEClient.Configuration(directoryURL: server.directoryURL)
        configuration.maxPolls = maxPolls
        let client = ACMEClient(
            configuration: configuration, accountKey: P256.Signing.PrivateKey(), httpClient: http, clock: clock,
            logger: quietLogger)
        return Setup(server: server, publisher: publisher, clock: clock, http: http, client: client)
    }

    /// Runs `body` with a fresh fake CA and client, shutting both down afterwards.
    static func with(_ behavior: FakeACMEServer.Behavior = .init(), maxPolls: Int = 30, _ body: (Setup) async throws -> Void) async throws {
        let setup = try await setup(behavior, maxPolls: maxPolls)
        do {
            try await body(setup)
        } catch {
            await setup.shutdown()
            throw error
        }
        await setup.shutdown()
    }

    func obtain(_ setup: Setup, names: [String], key: P256.Signing.PrivateKey = .init()) async throws -> IssuedCertificate {
        try await setup.client.obtainCertificate(
            hostnames: names, certificateKey: key, contact: ["mailto:postmaster@example.com"], termsOfServiceAgreed: true,
            publisher: setup.publisher)
    }

    @Test func issuesACertificateForTwoNames() async throws {
        try await Self.with { setup in
            let key = P256.Signing.PrivateKey()
            let issued = try await obtain(setup, names: ["mail.example.com", "imap.example.com"], key: key)
            #expect(issued.covers(["mail.example.com", "imap.example.com"]))
            #expect(issued.notAfter.timeIntervalSince(issued.notBefore) == 90 * 24 * 3600)
            let chain = try PEMDocument.parseMultiple(pemString: issued.chainPEM)
            #expect(chain.count == 2)
            let leaf = try Certificate(derEncoded: chain[0].derBytes)
            #expect(leaf.publicKey == Certificate.PublicKey(key.publicKey))
            #expect(leaf.issuer == setup.server.caCertificate.subject)

            // Every challenge certificate was published before the CA looked and removed after.
            #expect(setup.publisher.events.filter { $0.hasPrefix("publish") }.count == 2)
            #expect(setup.publisher.current.isEmpty)
            let log = setup.server.log
            #expect(log.first == "GET /dir")
            #expect(log.contains("HEAD /nonce"))
            #expect(log.filter { $0 == "HEAD /nonce" }.count == 1)  // afterwards each response's nonce is reused
            #expect(log.contains("POST /order/1/finalize"))
            #expect(log.last == "POST /cert/1")
            // The account exists now: a second registration finds it (200, same URL).
            let again = try await setup.client.registerAccount(contact: [], termsOfServiceAgreed: true)
            #expect(again.url == setup.server.base + "/acct/1")
        }
    }

    /// RFC 8555 §6.5: badNonce is retried once, with the nonce of the error response.
    @Test func retriesOnceOnBadNonce() async throws {
        try await Self.with(.init(badNonces: 1)) { setup in
            _ = try await obtain(setup, names: ["mail.example.com"])
            #expect(setup.server.log.filter { $0 == "POST /account" }.count == 2)
            #expect(setup.server.log.filter { $0 == "HEAD /nonce" }.count == 1)
        }
    }

    @Test func twoBadNoncesInARowFail() async throws {
        try await Self.with(.init(badNonces: 2)) { setup in
            do {
                _ = try await obtain(setup, names: ["mail.example.com"])
                Issue.record("expected badNonce")
            } catch let ACMEError.problem(problem, url) {
                #expect(problem.kind == .badNonce)
                #expect(problem.detail == "nonce rejected for testing")
                #expect(url == setup.server.base + "/account")
            }
        }
    }

    /// RFC 8555 §7.5.1: pending → valid, polling as told by Retry-After; the order is
    /// "processing" for a while after finalize.
    @Test func pollsPendingAuthorizationsWithRetryAfter() async throws {
        try await Self.with(.init(pendingPolls: 2, retryAfter: 3, processingPolls: 1)) { setup in
            _ = try await obtain(setup, names: ["mail.example.com"])
            // Two pending authorization polls and one processing order poll, 3 s each.
            #expect(setup.clock.sleeps == [.seconds(3), .seconds(3), .seconds(3)])
            #expect(setup.server.log.filter { $0 == "POST /authz/mail.example.com" }.count == 4)
        }
    }

    @Test func pollingIsBounded() async throws {
        try await Self.with(.init(neverValidate: true), maxPolls: 5) { setup in
            do {
                _ = try await obtain(setup, names: ["mail.example.com"])
                Issue.record("expected a timeout")
            } catch let ACMEError.pollingTimedOut(what, url, attempts) {
                #expect(what == "authorization")
                #expect(url == setup.server.base + "/authz/mail.example.com")
                #expect(attempts == 5)
            }
            #expect(setup.clock.sleeps.count == 4)
            #expect(setup.clock.sleeps.allSatisfy { $0 == .seconds(2) })  // the default without Retry-After
            #expect(setup.publisher.current.isEmpty)  // unpublished on failure too
        }
    }

    @Test func invalidOrderSaysWhy() async throws {
        try await Self.with(.init(invalidOrder: true)) { setup in
            do {
                _ = try await obtain(setup, names: ["mail.example.com"])
                Issue.record("expected an invalid order")
            } catch let error as ACMEError {
                guard case let .orderFailed(status, problem, url) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(status == "invalid")
                #expect(problem?.kind == .rejectedIdentifier)
                #expect(url == setup.server.base + "/order/1")
                #expect(error.description.contains("order refused for testing"))
            }
        }
    }

    /// A challenge the CA could not validate: the challenge's error is the reason.
    @Test func failedValidation() async throws {
        try await Self.with { setup in
            // A publisher that publishes nothing: the CA finds no certificate.
            let forgetful = ClosureChallengePublisher(publish: { _, _ in }, unpublish: { _ in })
            do {
                _ = try await setup.client.obtainCertificate(
                    hostnames: ["mail.example.com"], certificateKey: .init(), contact: [], termsOfServiceAgreed: true, publisher: forgetful)
                Issue.record("expected a failed authorization")
            } catch let ACMEError.authorizationFailed(identifier, status, problem) {
                #expect(identifier == "mail.example.com")
                #expect(status == "invalid")
                #expect(problem?.kind == .incorrectResponse)
                #expect(problem?.detail == "no certificate for mail.example.com")
            }
        }
    }

    @Test func noTLSALPNChallengeOffered() async throws {
        try await Self.with(.init(challengeTypes: ["http-01", "dns-01"])) { setup in
            do {
                _ = try await obtain(setup, names: ["mail.example.com"])
                Issue.record("expected no supported challenge")
            } catch let ACMEError.noSupportedChallenge(identifier, offered) {
                #expect(identifier == "mail.example.com")
                #expect(offered == ["http-01", "dns-01"])
            }
        }
    }

    @Test func termsMustBeAgreed() async throws {
        try await Self.with { setup in
            do {
                try await setup.client.registerAccount(contact: [], termsOfServiceAgreed: false)
                Issue.record("expected userActionRequired")
            } catch let ACMEError.problem(problem, _) {
                #expect(problem.kind == .userActionRequired)
            }
        }
    }

    @Test func refusesPlainHTTPDirectories() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let client = ACMEClient(
            configuration: .init(directoryURL: "http://ca.example/dir"), accountKey: .init(), httpClient: http, logger: quietLogger)
        await #expect(throws: ACMEError.self) { try await client.directory() }
        try await http.shutdown()
    }

    /// Without the test CA trusted, the fake's self-signed HTTPS certificate is refused.
    @Test func untrustedCAIsRefused() async throws {
        try await Self.with { setup in
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(1))))
            let client = ACMEClient(
                configuration: .init(directoryURL: setup.server.directoryURL), accountKey: .init(), httpClient: http, logger: quietLogger)
            do {
                _ = try await client.directory()
                Issue.record("expected a TLS failure")
            } catch let ACMEError.transport(_, url) {
                #expect(url == setup.server.directoryURL)
            }
            try await http.shutdown()
        }
    }
}
