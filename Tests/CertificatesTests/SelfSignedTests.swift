import Certificates
import Foundation
import SwiftASN1
import Testing
import X509

@Suite struct SelfSignedTests {
    @Test func certificateParsesWithItsNames() throws {
        let now = Date(timeIntervalSince1970: 1_795_301_115)
        let generated = try SelfSignedCertificate(hostnames: ["localhost", "mail.example.test"], now: now)
        let certificate = try Certificate(derEncoded: generated.certificateDER)
        let names = try certificate.extensions.subjectAlternativeNames.map { Array($0) } ?? []
        #expect(names == [.dnsName("localhost"), .dnsName("mail.example.test")])
        #expect(certificate.notValidBefore == now.addingTimeInterval(-3600))
        #expect(try certificate.extensions.basicConstraints == .notCertificateAuthority)
        #expect(generated.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(generated.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        // Self-signed: its own signature verifies with its own key.
        #expect(certificate.publicKey.isValidSignature(certificate.signature, for: certificate))
    }
}
