import Foundation

/// Why DANE did not authenticate a server.
public enum DANEFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The TLSA RRset has no record SMTP can use: DANE cannot authenticate the server, and
    /// RFC 7672 §2.2 asks for TLS without authentication instead.
    case noUsableRecords([UnusableTLSA])
    /// The server presented no certificate.
    case noCertificate
    /// A certificate the check needed does not parse; `position` counts from the server's
    /// own certificate, 0.
    case malformedCertificate(position: Int, reason: String)
    /// Only DANE-EE(3) records, and the server's certificate matches none of them.
    case leafMismatch
    /// Only DANE-TA(2) records, and no certificate of the chain (nor a certificate a trust
    /// anchor key signed) matches one of them.
    case noTrustAnchorMatch
    /// Both kinds of record, and neither matched: not the server's certificate for a
    /// DANE-EE(3) record, nor a certificate of the chain for a DANE-TA(2) record.
    case noRecordMatches
    /// A trust anchor matched, but no chain from the server's certificate to it passes RFC
    /// 5280 checks: a signature that does not verify, an issuer that is not a CA, a
    /// violated path length or name constraint, an unknown critical extension.
    case invalidChain(String)
    /// A certificate on the way to a DANE-TA(2) trust anchor has expired (DANE-EE(3)
    /// ignores dates, RFC 7671 §5.1).
    case expired(certificate: String, notValidAfter: Date)
    /// A certificate on the way to a DANE-TA(2) trust anchor is not valid yet.
    case notYetValid(certificate: String, notValidBefore: Date)
    /// The chain leads to a DANE-TA(2) trust anchor, but the server's certificate is not for
    /// any of the reference identifiers (RFC 7672 §3.2.2).
    case nameMismatch(presented: [String], referenceIdentifiers: [String])

    /// The result type a TLS report gives this failure (RFC 8460 §4.3).
    public var tlsReportResultType: String {
        switch self {
        // §4.3.2.1: "None of the records in the RRset were found to be valid."
        case .noUsableRecords: return "tlsa-invalid"
        // §4.3.1 covers untrusted anchors and chain errors with "certificate-not-trusted".
        case .leafMismatch, .noTrustAnchorMatch, .noRecordMatches, .invalidChain: return "certificate-not-trusted"
        case .expired: return "certificate-expired"
        case .nameMismatch: return "certificate-host-mismatch"
        // §4.3.3: what no other type describes.
        case .noCertificate, .malformedCertificate, .notYetValid: return "validation-failure"
        }
    }

    public var description: String {
        switch self {
        case let .noUsableRecords(unusable):
            return "no usable TLSA record (\(unusable.map(\.description).joined(separator: "; ")))"
        case .noCertificate:
            return "the server presented no certificate"
        case let .malformedCertificate(position, reason):
            return "certificate \(position) of the server's chain is malformed: \(reason)"
        case .leafMismatch:
            return "the server's certificate matches no DANE-EE TLSA record"
        case .noTrustAnchorMatch:
            return "no certificate in the server's chain matches a DANE-TA TLSA record"
        case .noRecordMatches:
            return "the server's certificate matches no DANE-EE TLSA record and no certificate in its chain a DANE-TA TLSA record"
        case let .invalidChain(reason):
            return "the chain to the DANE-TA trust anchor does not verify: \(reason)"
        case let .expired(certificate, notValidAfter):
            return "certificate \(certificate) expired at \(notValidAfter.ISO8601Format())"
        case let .notYetValid(certificate, notValidBefore):
            return "certificate \(certificate) is not valid before \(notValidBefore.ISO8601Format())"
        case let .nameMismatch(presented, referenceIdentifiers):
            let names = presented.isEmpty ? "no names" : presented.joined(separator: ", ")
            return "the server's certificate is for \(names), not for \(referenceIdentifiers.joined(separator: " or "))"
        }
    }
}
