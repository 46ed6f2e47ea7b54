import SwiftASN1

/// A certificate or key that is not the DER that RFC 5280 §4.1 describes.
public struct MalformedCertificate: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String

    public var description: String { "malformed certificate: \(reason)" }
}

/// The parts of a certificate DANE matches on, taken from the DER octets as they are.
enum CertificateStructure {
    /// The subjectPublicKeyInfo exactly as encoded in the certificate (RFC 5280 §4.1), which
    /// is what selector SPKI(1) digests (RFC 6698 §2.1.2). Not re-encoded from a parsed key:
    /// a re-encoding may differ from the octets the publisher digested (e.g. RSA parameters,
    /// EC point form), and only the certificate's own structure is needed, so DANE-EE(3)
    /// works with keys a parser might not support.
    static func subjectPublicKeyInfo(ofCertificate der: [UInt8]) throws(MalformedCertificate) -> ArraySlice<UInt8> {
        // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
        let certificate = try sequence(der, "certificate")
        guard certificate.count == 3 else { throw MalformedCertificate(reason: "the certificate has \(certificate.count) fields instead of 3") }
        // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1, serialNumber,
        //   signature, issuer, validity, subject, subjectPublicKeyInfo, ... }
        var fields = try children(of: certificate[0], "tbsCertificate")[...]
        if fields.first?.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) { fields = fields.dropFirst() }
        let position = fields.startIndex + 5
        guard fields.indices.contains(position), fields[position].identifier == .sequence else {
            throw MalformedCertificate(reason: "the certificate has no subjectPublicKeyInfo")
        }
        return fields[position].encodedBytes
    }

    /// That `der` is one SubjectPublicKeyInfo: SEQUENCE { algorithm, subjectPublicKey }.
    static func checkSubjectPublicKeyInfo(_ der: [UInt8]) throws(MalformedCertificate) {
        let fields = try sequence(der, "subjectPublicKeyInfo")
        guard fields.count == 2, fields[0].identifier == .sequence, fields[1].identifier == .bitString else {
            throw MalformedCertificate(reason: "not a subjectPublicKeyInfo")
        }
    }

    /// The fields of the one DER SEQUENCE that `der` is (no trailing octets).
    private static func sequence(_ der: [UInt8], _ name: String) throws(MalformedCertificate) -> [ASN1Node] {
        let root: ASN1Node
        do {
            root = try DER.parse(der)
        } catch {
            throw MalformedCertificate(reason: "the \(name) is not DER: \(error)")
        }
        return try children(of: root, name)
    }

    private static func children(of node: ASN1Node, _ name: String) throws(MalformedCertificate) -> [ASN1Node] {
        guard node.identifier == .sequence, case let .constructed(children) = node.content else {
            throw MalformedCertificate(reason: "the \(name) is not a SEQUENCE")
        }
        return Array(children)
    }
}
