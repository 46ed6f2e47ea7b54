import Crypto
import DNS

/// A TLSA record that SMTP can authenticate a server with (RFC 7672 §3.1): certificate
/// usage DANE-TA(2) or DANE-EE(3), a selector and a matching type this implementation
/// knows, and certificate association data of the form they call for. The names of the
/// numbers are RFC 7218's.
public struct UsableTLSA: Hashable, Sendable, CustomStringConvertible {
    /// RFC 6698 §2.1.1, limited to the usages RFC 7672 §3.1 keeps for SMTP.
    public enum Usage: UInt8, Sendable {
        /// The data names a trust anchor of the server's chain (RFC 7671 §5.2).
        case daneTA = 2
        /// The data names the server's own certificate or key (RFC 7671 §5.1).
        case daneEE = 3
    }

    /// RFC 6698 §2.1.2: the part of a certificate the data is about.
    public enum Selector: UInt8, Sendable {
        case certificate = 0
        case subjectPublicKeyInfo = 1
    }

    /// RFC 6698 §2.1.3: how the data represents that part.
    public enum MatchingType: UInt8, Sendable {
        case full = 0
        case sha256 = 1
        case sha512 = 2
    }

    public let usage: Usage
    public let selector: Selector
    public let matchingType: MatchingType
    public let data: [UInt8]

    /// Sorts one record (RFC 6698 §2.1 fields) into usable or not.
    ///
    /// - Throws: why the record is unusable: RFC 7672 §3.1.3 for the PKIX usages, RFC 6698
    ///   §4.1 for values this implementation does not know and for malformed data.
    public init(_ record: TLSA) throws(UnusableTLSA.Reason) {
        if record.usage == 0 || record.usage == 1 { throw .pkixUsage(record.usage) }
        guard let usage = Usage(rawValue: record.usage) else { throw .unknownUsage(record.usage) }
        guard let selector = Selector(rawValue: record.selector) else { throw .unknownSelector(record.selector) }
        guard let matchingType = MatchingType(rawValue: record.matchingType) else { throw .unknownMatchingType(record.matchingType) }
        if let length = matchingType.digestLength, record.data.count != length {
            // RFC 7671 §9: a digest of the wrong length is malformed.
            throw .wrongDigestLength(expected: length, actual: record.data.count)
        }
        if matchingType == .full {
            do {
                switch selector {
                case .certificate: _ = try CertificateStructure.subjectPublicKeyInfo(ofCertificate: record.data)
                case .subjectPublicKeyInfo: try CertificateStructure.checkSubjectPublicKeyInfo(record.data)
                }
            } catch {
                throw .malformedData(error.reason)
            }
        }
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = record.data
    }

    /// The record in DNS form.
    public var record: TLSA {
        TLSA(usage: usage.rawValue, selector: selector.rawValue, matchingType: matchingType.rawValue, data: data)
    }

    /// The parameters with their RFC 7218 names, e.g. "DANE-EE(3) SPKI(1) SHA2-256(1)".
    public var description: String {
        let usageName = usage == .daneTA ? "DANE-TA" : "DANE-EE"
        let selectorName = selector == .certificate ? "Cert" : "SPKI"
        let matchingName: String
        switch matchingType {
        case .full: matchingName = "Full"
        case .sha256: matchingName = "SHA2-256"
        case .sha512: matchingName = "SHA2-512"
        }
        return "\(usageName)(\(usage.rawValue)) \(selectorName)(\(selector.rawValue)) \(matchingName)(\(matchingType.rawValue))"
    }

    /// Whether the certificate (DER, exactly as the server sent it) is the one this record
    /// names (RFC 6698 §2.1.2, §2.1.3).
    func matches(certificate der: [UInt8]) throws(MalformedCertificate) -> Bool {
        let content = selector == .certificate ? der[...] : try CertificateStructure.subjectPublicKeyInfo(ofCertificate: der)
        return matchingType.associationData(for: content) == data
    }
}

extension UsableTLSA {
    /// The record a server publishes for its own key, the form RFC 7671 §5.1 recommends:
    /// DANE-EE(3) SPKI(1) SHA2-256(1). It names the key, not the certificate, so it stays
    /// valid when a certificate for the same key replaces the old one.
    ///
    /// - Parameter subjectPublicKeyInfo: DER, encoded as the certificates will carry it.
    public init(daneEEForSubjectPublicKeyInfo subjectPublicKeyInfo: [UInt8]) {
        usage = .daneEE
        selector = .subjectPublicKeyInfo
        matchingType = .sha256
        data = matchingType.associationData(for: subjectPublicKeyInfo[...])
    }

    /// The same for the key of a certificate (DER), with its SubjectPublicKeyInfo exactly as
    /// encoded there, which is what senders match (RFC 6698 §2.1.2): an EC key's point may
    /// be compressed in one encoding and not in another.
    public init(daneEEForCertificate der: [UInt8]) throws(MalformedCertificate) {
        self.init(daneEEForSubjectPublicKeyInfo: Array(try CertificateStructure.subjectPublicKeyInfo(ofCertificate: der)))
    }
}

extension UsableTLSA.MatchingType {
    /// The digest's length in octets; nil for Full(0).
    var digestLength: Int? {
        switch self {
        case .full: return nil
        case .sha256: return SHA256.byteCount
        case .sha512: return SHA512.byteCount
        }
    }

    /// RFC 6698 §2.1.4: the selected content itself, or its digest.
    func associationData(for content: ArraySlice<UInt8>) -> [UInt8] {
        switch self {
        case .full: return Array(content)
        case .sha256: return Array(SHA256.hash(data: content))
        case .sha512: return Array(SHA512.hash(data: content))
        }
    }
}

/// A TLSA record SMTP cannot use, and why. An RRset of only such records means DANE cannot
/// authenticate the server: RFC 7672 §2.2 then asks for TLS without authentication.
public struct UnusableTLSA: Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Error, Hashable, Sendable, CustomStringConvertible {
        /// PKIX-TA(0) or PKIX-EE(1): no agreed set of public CAs among MTAs (RFC 7672 §3.1.3).
        case pkixUsage(UInt8)
        /// RFC 6698 §4.1: a certificate usage, selector or matching type not understood.
        case unknownUsage(UInt8)
        case unknownSelector(UInt8)
        case unknownMatchingType(UInt8)
        /// RFC 7671 §9: a SHA2-256 or SHA2-512 digest of the wrong length.
        case wrongDigestLength(expected: Int, actual: Int)
        /// RFC 6698 §4.1: Full(0) data that is not a DER certificate or SubjectPublicKeyInfo.
        case malformedData(String)

        public var description: String {
            switch self {
            case let .pkixUsage(usage): return "certificate usage \(usage == 0 ? "PKIX-TA(0)" : "PKIX-EE(1)") is not used for SMTP"
            case let .unknownUsage(usage): return "unknown certificate usage \(usage)"
            case let .unknownSelector(selector): return "unknown selector \(selector)"
            case let .unknownMatchingType(matchingType): return "unknown matching type \(matchingType)"
            case let .wrongDigestLength(expected, actual): return "digest of \(actual) octets instead of \(expected)"
            case let .malformedData(reason): return "malformed association data: \(reason)"
            }
        }
    }

    public let record: TLSA
    public let reason: Reason

    public init(record: TLSA, reason: Reason) {
        self.record = record
        self.reason = reason
    }

    public var description: String {
        "TLSA \(record.usage) \(record.selector) \(record.matchingType): \(reason)"
    }
}
