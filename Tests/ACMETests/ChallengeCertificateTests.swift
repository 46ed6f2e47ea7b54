import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@testable import ACME

@Suite struct ChallengeCertificateTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// RFC 8737 §3: self-signed, one dNSName SAN, critical id-pe-acmeIdentifier whose extnValue
    /// is the DER OCTET STRING of SHA-256(key authorization).
    @Test func structure() throws {
        let keyAuthorization = "token-abc.thumbprint-xyz"
        let challenge = try TLSALPNChallenge.certificate(identifier: "mail.example.com", keyAuthorization: keyAuthorization, now: now)
        let certificate = try Certificate(derEncoded: challenge.certificateDER)

        let san = try #require(try certificate.extensions.subjectAlternativeNames)
        #expect(Array(san) == [.dnsName("mail.example.com")])

        let acme = try #require(certificate.extensions.first { $0.oid == [1, 3, 6, 1, 5, 5, 7, 1, 31] })
        #expect(acme.critical)
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        #expect(Array(acme.value) == [0x04, 0x20] + digest)
        // Parsed as ASN.1: one OCTET STRING of 32 octets.
        let octets = try ASN1OctetString(derEncoded: acme.value)
        #expect(Array(octets.bytes) == digest)

        // Self-signed: the subject is the issuer and the signature verifies with its own key.
        #expect(certificate.issuer == certificate.subject)
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
        #expect(certificate.notValidBefore < now && now < certificate.notValidAfter)

        // The key is the certificate's.
        let key = try P256.Signing.PrivateKey(derRepresentation: challenge.privateKeyDER)
        #expect(Certificate.PublicKey(key.publicKey) == certificate.publicKey)
    }

    @Test func eachChallengeHasItsOwnKey() throws {
        let first = try TLSALPNChallenge.certificate(identifier: "a.example", keyAuthorization: "x.y", now: now)
        let second = try TLSALPNChallenge.certificate(identifier: "a.example", keyAuthorization: "x.y", now: now)
        #expect(first.privateKeyDER != second.privateKeyDER)
    }

    /// RFC 8555 §7.4: a PKCS #10 request with the names as SANs in an extensionRequest, signed
    /// by the certificate key.
    @Test func certificateRequest() throws {
        let key = P256.Signing.PrivateKey()
        let der = try CertificateRequest.der(hostnames: ["mail.example.com", "imap.example.com"], key: key)
        let csr = try CertificateSigningRequest(derEncoded: der)
        #expect(csr.publicKey == Certificate.PublicKey(key.publicKey))
        #expect(csr.publicKey.isValidSignature(csr.signature, for: csr))
        let extensions = try #require(try csr.attributes.extensionRequest?.extensions)
        let san = try #require(try extensions.subjectAlternativeNames)
        #expect(Array(san) == [.dnsName("mail.example.com"), .dnsName("imap.example.com")])
        #expect(csr.subject.description.contains("mail.example.com"))

        // A name longer than a common name may be (64) goes in the SANs only.
        let long = String(repeating: "a", count: 60) + ".example.com"
        let csr2 = try CertificateSigningRequest(derEncoded: try CertificateRequest.der(hostnames: [long], key: key))
        #expect(csr2.subject == DistinguishedName())
    }
}
