import Crypto
import Foundation
import SwiftASN1
import X509

/// A self-signed certificate for a host name: what `tern localserve` serves, and what tests
/// use for TLS on loopback. ECDSA P-256 (RFC 8446 §4.2.3 ecdsa_secp256r1_sha256, accepted
/// by every TLS 1.2+ client), the names as subject alternative names (RFC 5280 §4.2.1.6;
/// clients ignore the common name), not a CA (RFC 5280 §4.2.1.9).
public struct SelfSignedCertificate: Sendable {
    /// The certificate in DER.
    public var certificateDER: [UInt8]
    /// The private key in PKCS #8 DER.
    public var privateKeyDER: [UInt8]
    public var certificatePEM: String
    public var privateKeyPEM: String

    public init(hostnames: [String], now: Date = Date(), validity: TimeInterval = 3 * 365 * 24 * 3600) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(hostnames.first ?? "localhost") }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            // An hour back, for clocks that are slightly behind.
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                SubjectAlternativeNames(hostnames.map { GeneralName.dnsName($0) })
                try ExtendedKeyUsage([.serverAuth])
            },
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        certificateDER = serializer.serializedBytes
        privateKeyDER = Array(key.derRepresentation)
        certificatePEM = try certificate.serializeAsPEM().pemString
        privateKeyPEM = key.pemRepresentation
    }
}
