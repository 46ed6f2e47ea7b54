import Crypto
import Foundation
import SwiftASN1
import X509

/// The key authorization (RFC 8555 §8.1): token || '.' || base64url(JWK thumbprint of the
/// account key), the thumbprint per RFC 7638 with SHA-256.
public enum KeyAuthorization {
    public static func make(token: String, accountKey: P256.Signing.PublicKey) -> String {
        token + "." + JWK(accountKey).thumbprint
    }

    /// What the tls-alpn-01 certificate carries (RFC 8737 §3): SHA-256 of the key
    /// authorization's octets.
    public static func digest(_ keyAuthorization: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
    }
}

/// A certificate and its key, in both DER (for swift-nio-ssl) and PEM.
public struct ChallengeCertificate: Sendable, Equatable {
    /// The certificate in DER.
    public var certificateDER: [UInt8]
    /// The private key in PKCS #8 DER.
    public var privateKeyDER: [UInt8]

    public init(certificateDER: [UInt8], privateKeyDER: [UInt8]) {
        self.certificateDER = certificateDER
        self.privateKeyDER = privateKeyDER
    }
}

/// The tls-alpn-01 validation certificate (RFC 8737 §3).
public enum TLSALPNChallenge {
    /// id-pe-acmeIdentifier, { id-pe 31 } = 1.3.6.1.5.5.7.1.31 (RFC 8737 §3, §6.1).
    public static let acmeIdentifierOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    /// The ALPN protocol name the validation negotiates (RFC 8737 §4, §6.2).
    public static let alpnProtocol = "acme-tls/1"

    /// A self-signed certificate with a single dNSName SAN, `identifier`, and the critical
    /// acmeIdentifier extension whose extnValue is the DER of
    /// `Authorization ::= OCTET STRING (SIZE (32))`, the SHA-256 of the key authorization.
    /// Its validity does not matter to the CA (RFC 8737 §4: no RFC 5280 path validation); a
    /// week around `now` keeps picky TLS stacks happy.
    public static func certificate(identifier: String, keyAuthorization: String, now: Date) throws -> ChallengeCertificate {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(identifier) }
        let authorization = ASN1OctetString(contentBytes: ArraySlice(KeyAuthorization.digest(keyAuthorization)))
        var octetString = DER.Serializer()
        try octetString.serialize(authorization)
        let extensionValue = octetString.serializedBytes
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-24 * 3600),
            notValidAfter: now.addingTimeInterval(7 * 24 * 3600),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                SubjectAlternativeNames([.dnsName(identifier)])
                Certificate.Extension(oid: acmeIdentifierOID, critical: true, value: extensionValue[...])
            },
            issuerPrivateKey: .init(key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return ChallengeCertificate(certificateDER: serializer.serializedBytes, privateKeyDER: Array(key.derRepresentation))
    }
}

/// The certificate signing request sent to finalize an order (RFC 8555 §7.4: PKCS #10, RFC
/// 2986), with every name as a dNSName SAN in an extensionRequest attribute (RFC 2985
/// §5.4.2). The subject carries the first name as common name when it fits (64 octets,
/// RFC 5280 ub-common-name); CAs take the names from the SANs.
public enum CertificateRequest {
    public static func der(hostnames: [String], key: P256.Signing.PrivateKey) throws -> [UInt8] {
        let subject: DistinguishedName
        if let first = hostnames.first, first.utf8.count <= 64 {
            subject = try DistinguishedName { CommonName(first) }
        } else {
            subject = DistinguishedName()
        }
        let extensions = try Certificate.Extensions {
            SubjectAlternativeNames(hostnames.map { GeneralName.dnsName($0) })
        }
        let request = try CertificateSigningRequest(
            version: .v1,
            subject: subject,
            privateKey: .init(key),
            attributes: try CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        return serializer.serializedBytes
    }
}
