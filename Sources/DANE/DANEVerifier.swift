import DNS
import Foundation
import SwiftASN1
// The SPI turns off RFC5280Policy's own date check: TrustAnchorChainPolicy checks dates
// itself at the injected time, so that an expired certificate is reported as such.
@_spi(DisableValidityCheck) import X509

/// Verifies a server's certificate chain against the TLSA records of its TLSA base domain
/// (RFC 7672 §3, RFC 7671 §5): DANE-EE(3) records match the server's certificate alone,
/// DANE-TA(2) records a trust anchor that the chain must lead to, with name checks.
public struct DANEVerifier: Sendable {
    /// The records SMTP can use, as published.
    public let usable: [UsableTLSA]
    /// The records it cannot, and why; logged, not fatal while one is usable.
    public let unusable: [UnusableTLSA]
    /// The names a DANE-TA(2) server certificate must be valid for one of (RFC 7672
    /// §3.2.2): the TLSA base domain first, the MX host name as the destination named it,
    /// and the next-hop domain where that section says so.
    public let referenceIdentifiers: [DNSName]
    /// The records matched against: RFC 7671 §9 digest algorithm agility.
    let matched: [UsableTLSA]

    /// - Throws: `DANEFailure.noUsableRecords` when no record is usable: DANE cannot
    ///   authenticate the server, and RFC 7672 §2.2 asks for TLS without authentication.
    public init(records: [TLSA], referenceIdentifiers: [DNSName]) throws(DANEFailure) {
        var usable: [UsableTLSA] = []
        var unusable: [UnusableTLSA] = []
        for record in records {
            do {
                usable.append(try UsableTLSA(record))
            } catch {
                unusable.append(UnusableTLSA(record: record, reason: error))
            }
        }
        guard !usable.isEmpty else { throw .noUsableRecords(unusable) }
        self.usable = usable
        self.unusable = unusable
        self.referenceIdentifiers = referenceIdentifiers
        matched = Self.strongestDigests(usable)
    }

    /// RFC 7671 §9: for each usage and selector, the Full(0) records and those with the
    /// strongest digest among them, so that a weaker digest published for older clients
    /// cannot authenticate on its own.
    static func strongestDigests(_ records: [UsableTLSA]) -> [UsableTLSA] {
        records.filter { record in
            guard let length = record.matchingType.digestLength else { return true }
            return !records.contains { other in
                other.usage == record.usage && other.selector == record.selector && (other.matchingType.digestLength ?? 0) > length
            }
        }
    }

    /// Checks the chain the server presented (DER, its own certificate first) at `time`.
    public func verify(_ chain: [[UInt8]], at time: Date) async throws(DANEFailure) -> DANEMatch {
        guard let leaf = chain.first else { throw .noCertificate }
        let endEntityRecords = matched.filter { $0.usage == .daneEE }
        var malformedLeaf: MalformedCertificate?
        for record in endEntityRecords {
            do {
                // RFC 7671 §5.1: no name checks and no dates for DANE-EE(3).
                if try record.matches(certificate: leaf) { return DANEMatch(record: record, referenceIdentifier: nil) }
            } catch {
                malformedLeaf = error
            }
        }
        let trustAnchorRecords = matched.filter { $0.usage == .daneTA }
        if trustAnchorRecords.isEmpty {
            if let malformedLeaf { throw .malformedCertificate(position: 0, reason: malformedLeaf.reason) }
            throw .leafMismatch
        }
        return try await verifyTrustAnchors(trustAnchorRecords, chain, at: time, endEntityRecordsFailed: !endEntityRecords.isEmpty)
    }

    /// RFC 7671 §5.2: each certificate matching a DANE-TA(2) record is a trust anchor, and
    /// the chain from the server's certificate to one of them must verify.
    private func verifyTrustAnchors(
        _ records: [UsableTLSA], _ chain: [[UInt8]], at time: Date, endEntityRecordsFailed: Bool
    ) async throws(DANEFailure) -> DANEMatch {
        var certificates: [Certificate] = []
        for (position, der) in chain.enumerated() {
            do {
                certificates.append(try Certificate(derEncoded: der))
            } catch {
                throw .malformedCertificate(position: position, reason: "\(error)")
            }
        }
        let anchors = try trustAnchors(records, chain, certificates)
        guard !anchors.isEmpty else { throw endEntityRecordsFailed ? .noRecordMatches : .noTrustAnchorMatch }

        let policy = TrustAnchorChainPolicy(time: time, referenceIdentifiers: referenceIdentifiers)
        let intermediates = CertificateStore(certificates.dropFirst())
        var firstFailure: DANEFailure?
        for anchor in anchors {
            var verifier = Verifier(rootCertificates: CertificateStore([anchor.certificate])) { policy }
            switch await verifier.validate(leaf: certificates[0], intermediates: intermediates) {
            case .validCertificate:
                let name = try? PresentedIdentifiers(certificates[0]).firstMatch(in: referenceIdentifiers)
                return DANEMatch(record: anchor.record, referenceIdentifier: name)
            case let .couldNotValidate(failures):
                // The verifier only says why for chains whose signatures verified; without
                // one, nothing led from the server's certificate to this anchor.
                let failure =
                    failures.first.flatMap { policy.failure(of: $0.chain) }
                    ?? .invalidChain("no chain of valid signatures from the server's certificate to the trust anchor \(anchor.certificate.subject)")
                firstFailure = firstFailure ?? failure
            }
        }
        throw firstFailure ?? .noTrustAnchorMatch
    }

    /// The trust anchors the records name: certificates of the chain that match (RFC 6698
    /// §2.1.1 usage 2), a Cert(0) Full(0) certificate from DNS even when the server left it
    /// out (RFC 7671 §5.2.2), and for an SPKI(1) Full(0) key, the certificates of the chain
    /// that key signed (RFC 7671 §5.2.3), which are then as good as issued by the anchor.
    private func trustAnchors(
        _ records: [UsableTLSA], _ chain: [[UInt8]], _ certificates: [Certificate]
    ) throws(DANEFailure) -> [(certificate: Certificate, record: UsableTLSA)] {
        var anchors: [(certificate: Certificate, record: UsableTLSA)] = []
        for record in records {
            for (position, certificate) in certificates.enumerated() {
                do {
                    if try record.matches(certificate: chain[position]) { anchors.append((certificate, record)) }
                } catch {
                    throw .malformedCertificate(position: position, reason: error.reason)
                }
            }
            guard record.matchingType == .full else { continue }
            switch record.selector {
            case .certificate:
                if let fromDNS = try? Certificate(derEncoded: record.data), !certificates.contains(fromDNS) {
                    anchors.append((fromDNS, record))
                }
            case .subjectPublicKeyInfo:
                guard let key = try? Certificate.PublicKey(derEncoded: record.data) else { continue }
                // A certificate with the key itself already matched above.
                for certificate in certificates where certificate.publicKey != key && key.isValidSignature(certificate.signature, for: certificate) {
                    anchors.append((certificate, record))
                }
            }
        }
        return anchors
    }
}

/// How DANE authenticated a server.
public struct DANEMatch: Hashable, Sendable, CustomStringConvertible {
    /// The record that matched.
    public let record: UsableTLSA
    /// For DANE-TA(2), the reference identifier the server's certificate is valid for;
    /// nil for DANE-EE(3), which checks no names (RFC 7672 §3.2.1).
    public let referenceIdentifier: DNSName?

    public init(record: UsableTLSA, referenceIdentifier: DNSName?) {
        self.record = record
        self.referenceIdentifier = referenceIdentifier
    }

    public var description: String {
        guard let referenceIdentifier else { return "\(record) record matches the server's certificate" }
        return "\(record) record matches a trust anchor of the chain; the certificate is for \(referenceIdentifier.withoutFinalDot)"
    }
}

/// What a chain to a DANE-TA(2) trust anchor must satisfy besides its signatures, which
/// the verifier checks as it builds the chain: RFC 5280 (basic, path length and name
/// constraints, RFC 7672 §3.1.2), validity dates at the given time, and a server
/// certificate for one of the reference identifiers (RFC 7672 §3.2.2).
struct TrustAnchorChainPolicy: VerifierPolicy {
    let time: Date
    let referenceIdentifiers: [DNSName]
    private let structure = RFC5280Policy.withValidityCheckDisabled()

    init(time: Date, referenceIdentifiers: [DNSName]) {
        self.time = time
        self.referenceIdentifiers = referenceIdentifiers
    }

    /// The names are checked here, so a critical subjectAltName is understood.
    var verifyingCriticalExtensions: [ASN1ObjectIdentifier] {
        structure.verifyingCriticalExtensions + [.X509ExtensionID.subjectAlternativeName]
    }

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) -> PolicyEvaluationResult {
        guard let failure = failure(of: chain) else { return .meetsPolicy }
        return .failsToMeetPolicy(reason: failure.description)
    }

    /// The first requirement the chain (server certificate first, trust anchor last) fails.
    func failure(of chain: UnverifiedCertificateChain) -> DANEFailure? {
        if case let .failsToMeetPolicy(reason) = structure.chainMeetsPolicyRequirements(chain: chain) {
            return .invalidChain(reason.description)
        }
        // The trust anchor's own dates count too, as in RFC 7671 §5.2.3 for the certificate
        // an anchor key signed.
        for certificate in chain {
            if time < certificate.notValidBefore {
                return .notYetValid(certificate: certificate.subject.description, notValidBefore: certificate.notValidBefore)
            }
            if time > certificate.notValidAfter {
                return .expired(certificate: certificate.subject.description, notValidAfter: certificate.notValidAfter)
            }
        }
        let presented: PresentedIdentifiers
        do {
            presented = try PresentedIdentifiers(chain.leaf)
        } catch {
            return .malformedCertificate(position: 0, reason: error.reason)
        }
        guard presented.firstMatch(in: referenceIdentifiers) == nil else { return nil }
        return .nameMismatch(presented: presented.names, referenceIdentifiers: referenceIdentifiers.map(\.withoutFinalDot))
    }
}
