import DNS
import Foundation
import Testing
import TestSupport

@testable import DANE

/// Certificates and TLSA digests made by openssl, as an operator would make them
/// (RFC 7671 §5.1's "3 1 1" recipe): DANE must match them, which guards selector SPKI(1)
/// against an encoding of the key other than the one in the certificate.
@Suite struct OpenSSLInteropTests {
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// RSA (whose key carries NULL parameters), and EC P-256 with the point uncompressed and
    /// compressed (a form a re-encoding of the key would change).
    @Test(
        .enabled(if: openssl != nil, "openssl is not installed"),
        arguments: [
            "req -x509 -newkey rsa:2048 -nodes -keyout key.pem",
            "ecparam -name prime256v1 -genkey -noout -out key.pem && $OPENSSL req -x509 -key key.pem",
            "ecparam -name prime256v1 -genkey -noout -out plain.pem && $OPENSSL ec -in plain.pem -conv_form compressed -out key.pem && $OPENSSL req -x509 -key key.pem",
        ])
    func digestsFromOpenSSL(makeCertificate: String) async throws {
        let openssl = try #require(Self.openssl)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-dane-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try run(
            """
            $OPENSSL \(makeCertificate) -subj /CN=mx.example.com -days 2 -out cert.pem
            $OPENSSL x509 -in cert.pem -outform DER -out cert.der
            $OPENSSL x509 -in cert.pem -pubkey -noout | $OPENSSL pkey -pubin -outform DER | $OPENSSL dgst -sha256
            $OPENSSL x509 -in cert.pem -outform DER | $OPENSSL dgst -sha256
            """, openssl: openssl, in: directory)
        // "SHA2-256(stdin)= 3fe2...", one line per digest.
        let digests = output.split(separator: "\n").compactMap { $0.split(separator: "= ").last.map(String.init) }
        try #require(digests.count == 2, "openssl said: \(output)")
        let der = Array(try Data(contentsOf: directory.appendingPathComponent("cert.der")))

        let spkiRecord = tlsa("3 1 1 \(digests[0])")
        // What `tern config dnsrecords` publishes for a certificate file is openssl's record.
        #expect(try UsableTLSA(daneEEForCertificate: der).record == spkiRecord)
        #expect(UsableTLSA.MatchingType.sha256.associationData(for: try CertificateStructure.subjectPublicKeyInfo(ofCertificate: der)) == spkiRecord.data)
        #expect(await verify([spkiRecord], [der]).match?.record == (try UsableTLSA(spkiRecord)))
        let certificateRecord = tlsa("3 0 1 \(digests[1])")
        #expect(await verify([certificateRecord], [der]).match?.record == (try UsableTLSA(certificateRecord)))
    }

    private func run(_ script: String, openssl: String, in directory: URL) throws -> String {
        let output = directory.appendingPathComponent("script.out").path
        let errors = directory.appendingPathComponent("script.err").path
        let status = try ChildProcess(
            "/bin/sh", ["-ec", "cd \"$WORKDIR\"\n" + script], environment: ["OPENSSL": openssl, "PATH": "/usr/bin:/bin", "WORKDIR": directory.path],
            output: output, errors: errors
        ).wait()
        let errorText = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        try #require(status == 0, "the openssl commands failed: \(errorText)")
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}
