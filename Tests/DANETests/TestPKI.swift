import Crypto
import DNS
import Foundation
import SwiftASN1
import X509

@testable import DANE

/// The time the tests verify at; certificates are valid for a day either side unless a test
/// says otherwise.
let now = Date(timeIntervalSince1970: 1_760_000_000)
let day: TimeInterval = 86400

/// A certificate made in the test, with its key, so that it can issue others.
struct TestCertificate {
    let certificate: Certificate
    let key: P256.Signing.PrivateKey
    let der: [UInt8]

    /// Issued by `issuer`, or self-signed without one.
    init(
        _ commonName: String, names: [String]? = nil, issuer: TestCertificate? = nil, isCA: Bool = false,
        notBefore: Date = now - day, notAfter: Date = now + day, key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(),
        criticalNames: Bool = false, signingKey: P256.Signing.PrivateKey? = nil
    ) throws {
        let subject = try DistinguishedName { CommonName(commonName) }
        let extensions = try Certificate.Extensions {
            if isCA {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            } else {
                Critical(BasicConstraints.notCertificateAuthority)
            }
            if let names {
                if criticalNames {
                    Critical(SubjectAlternativeNames(names.map { .dnsName($0) }))
                } else {
                    SubjectAlternativeNames(names.map { .dnsName($0) })
                }
            }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey), notValidBefore: notBefore,
            notValidAfter: notAfter, issuer: issuer?.certificate.subject ?? subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: .init(signingKey ?? issuer?.key ?? key))
        self.certificate = certificate
        self.key = key
        der = try derBytes(certificate)
    }

    /// The SubjectPublicKeyInfo as swift-crypto encodes the key: computed apart from the
    /// DANE module's extraction from the certificate's octets, so each checks the other.
    var subjectPublicKeyInfo: [UInt8] { Array(key.publicKey.derRepresentation) }
}

func derBytes(_ certificate: Certificate) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(certificate)
    return serializer.serializedBytes
}

/// Root CA, intermediate CA, and a server certificate for mx.example.com.
struct TestHierarchy {
    let root: TestCertificate
    let intermediate: TestCertificate
    let leaf: TestCertificate

    init(leafNames: [String]? = ["mx.example.com"], leafCommonName: String = "mx.example.com") throws {
        root = try TestCertificate("Tern Test Root", isCA: true)
        intermediate = try TestCertificate("Tern Test Intermediate", issuer: root, isCA: true)
        leaf = try TestCertificate(leafCommonName, names: leafNames, issuer: intermediate)
    }

    /// What a server configured as RFC 7672 §3.1.2 asks sends: everything up to the root.
    var fullChain: [[UInt8]] { [leaf.der, intermediate.der, root.der] }
}

/// A TLSA record for `certificate`, its data computed here (RFC 6698 §2.1).
func tlsa(_ usage: UInt8, _ selector: UInt8, _ matchingType: UInt8, _ certificate: TestCertificate) -> TLSA {
    let content = selector == 0 ? certificate.der : certificate.subjectPublicKeyInfo
    let data: [UInt8]
    switch matchingType {
    case 1: data = Array(SHA256.hash(data: content))
    case 2: data = Array(SHA512.hash(data: content))
    default: data = content
    }
    return TLSA(usage: usage, selector: selector, matchingType: matchingType, data: data)
}

/// A record in presentation form (RFC 6698 §2.2), as the RFCs print their examples.
func tlsa(_ presentation: String) -> TLSA {
    let fields = presentation.split(whereSeparator: \.isWhitespace)
    let numbers = fields.prefix(3).compactMap { UInt8($0) }
    return TLSA(usage: numbers[0], selector: numbers[1], matchingType: numbers[2], data: hex(fields.dropFirst(3).joined()))
}

func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8)
    return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
}

func names(_ texts: String...) -> [DNSName] {
    texts.compactMap { try? DNSName($0) }
}

/// What verification says: the match, or the failure.
func verify(
    _ records: [TLSA], _ chain: [[UInt8]], referenceIdentifiers: [DNSName] = names("mx.example.com"), at time: Date = now
) async -> Result<DANEMatch, DANEFailure> {
    do {
        let verifier = try DANEVerifier(records: records, referenceIdentifiers: referenceIdentifiers)
        return .success(try await verifier.verify(chain, at: time))
    } catch {
        return .failure(error)
    }
}

extension Result where Failure == DANEFailure {
    var failure: DANEFailure? {
        if case let .failure(failure) = self { failure } else { nil }
    }

    var match: Success? {
        try? get()
    }
}
