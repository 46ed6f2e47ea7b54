import Crypto
import DANE
import DNS
import Foundation
import SwiftASN1
import Testing
import X509

@testable import SMTPClient

/// DANE through the client's hook against Tern's server over TLS: the TLSA records decide
/// during the handshake whether the message goes (RFC 7672 §3.2).
@Suite struct DANEDeliveryTests {
    private let message = "Subject: dane\r\n\r\nbody\r\n"

    private func configuration(
        _ records: [TLSA], referenceIdentifiers: [String], now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> ClientConfiguration {
        let verifier = try DANEVerifier(records: records, referenceIdentifiers: referenceIdentifiers.map { try DNSName($0) })
        return SMTPClientTests.configuration {
            $0.tls.required = true
            // RFC 7671 §10.2: SNI carries the TLSA base domain.
            $0.tls.serverName = referenceIdentifiers.first
            $0.tls.dane = DANEVerification(verifier, now: now)
        }
    }

    /// Delivers the message to alice; returns the result and what TLS showed.
    private func deliver(port: Int, _ configuration: ClientConfiguration) async throws -> (TransactionResult, TLSConnectionState?) {
        try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration) { connection in
            let result = await connection.deliver(
                envelope(to: ["alice@example.org"], size: message.utf8.count), content: MessageBytes(Array(message.utf8)))
            return (result, connection.tls)
        }
    }

    /// The handshake fails with `text`; nothing is delivered.
    private func expectFailure(port: Int, _ configuration: ClientConfiguration, _ text: (String) -> Bool) async throws {
        do {
            _ = try await deliver(port: port, configuration)
            Issue.record("delivered despite DANE")
        } catch let error as ClientError {
            #expect(error.step == .tlsHandshake && error.kind == .tls && text(error.text), "\(error)")
        }
    }

    /// "3 1 1" of the server's key: delivered without any name or CA; another key's digest
    /// stops the handshake.
    @Test func endEntityRecord() async throws {
        let certificate = try Certificate(derEncoded: try TestTLS.certificate().certificateDER)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.publicKey)
        let matching = TLSA(usage: 3, selector: 1, matchingType: 1, data: Array(SHA256.hash(data: serializer.serializedBytes)))
        let otherKey = P256.Signing.PrivateKey().publicKey.derRepresentation
        let mismatching = TLSA(usage: 3, selector: 1, matchingType: 1, data: Array(SHA256.hash(data: otherKey)))

        try await withTernServer(tls: try TestTLS.serverContext()) { port, deliverer in
            // The certificate is for localhost; DANE-EE checks no names (RFC 7672 §3.2.1).
            let (result, state) = try await deliver(port: port, try configuration([matching], referenceIdentifiers: ["mx.example.org"]))
            #expect(result.delivered.count == 1, "\(result)")
            #expect(state?.dane == .verified && state?.isVerified == true)
            #expect(deliverer.stored.count == 1)

            try await expectFailure(port: port, try configuration([mismatching], referenceIdentifiers: ["mx.example.org"])) {
                $0 == "certificate verification failed: DANE: the server's certificate matches no DANE-EE TLSA record"
            }
            #expect(deliverer.stored.count == 1)
        }
    }

    /// "2 0 1" of the CA the server sends with its certificate: delivered when the name is
    /// one of the reference identifiers and the chain is in date at the client's clock.
    @Test func trustAnchorRecord() async throws {
        let ca = try TestCA()
        let records = [TLSA(usage: 2, selector: 0, matchingType: 1, data: Array(SHA256.hash(data: ca.rootDER)))]
        try await withTernServer(tls: try TestTLS.serverContext(issuedBy: ca, presentingRoot: true)) { port, deliverer in
            let (result, state) = try await deliver(port: port, try configuration(records, referenceIdentifiers: ["mx.example.org", "localhost"]))
            #expect(result.delivered.count == 1, "\(result)")
            #expect(state?.dane == .verified && state?.peerCertificates.der == [ca.leafDER, ca.rootDER])

            try await expectFailure(port: port, try configuration(records, referenceIdentifiers: ["mx.example.org"])) {
                $0 == "certificate verification failed: DANE: the server's certificate is for localhost, not for mx.example.org"
            }
            let later = try configuration(records, referenceIdentifiers: ["localhost"]) { Date().addingTimeInterval(2 * 86400) }
            try await expectFailure(port: port, later) { $0.hasPrefix("certificate verification failed: DANE: certificate CN=localhost expired at ") }
            #expect(deliverer.stored.count == 1)
        }
    }
}
