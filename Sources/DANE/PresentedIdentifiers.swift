import DNS
import X509

/// The names a server certificate is valid for, as DANE-TA(2) checks them (RFC 7672
/// §3.2.3): its DNS-IDs (subjectAltName dNSName), or its CN-ID only when it has no DNS-ID.
struct PresentedIdentifiers: Hashable, Sendable {
    let names: [String]

    init(_ certificate: Certificate) throws(MalformedCertificate) {
        let alternativeNames: SubjectAlternativeNames?
        do {
            alternativeNames = try certificate.extensions.subjectAlternativeNames
        } catch {
            throw MalformedCertificate(reason: "the subjectAltName extension does not parse: \(error)")
        }
        let dnsIDs = (alternativeNames ?? SubjectAlternativeNames()).compactMap { name -> String? in
            if case let .dnsName(text) = name { text } else { nil }
        }
        if !dnsIDs.isEmpty {
            names = dnsIDs
            return
        }
        // RFC 6125 §6.4.4: the most specific CN, which DER puts last.
        let commonNames = certificate.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        names = commonNames.last.flatMap { String($0.value) }.map { [$0] } ?? []
    }

    /// The first reference identifier one of the names matches.
    func firstMatch(in referenceIdentifiers: [DNSName]) -> DNSName? {
        referenceIdentifiers.first { reference in names.contains { Self.matches(presented: $0, reference: reference) } }
    }

    /// RFC 7672 §3.2.3 with RFC 6125 §6.4: labels compared without regard to ASCII case; a
    /// wildcard only as the whole leftmost label, standing for exactly one label of the
    /// reference identifier ("*.example.com" matches "mx1.example.com", not
    /// "a.mx1.example.com", "example.com", nor do "mx*.example.com" or "*mx.example.com"
    /// match anything).
    static func matches(presented: String, reference: DNSName) -> Bool {
        let labels = presented.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count == reference.labels.count, labels.allSatisfy({ !$0.isEmpty }) else { return false }
        let wildcard = labels[0].elementsEqual("*".utf8)
        // RFC 6125 §7.2: a wildcard right above a top-level domain ("*.com") would cover
        // unrelated registrants; at least two labels must follow it.
        if wildcard, labels.count < 3 { return false }
        let compared = wildcard ? 1 : 0
        guard !labels.dropFirst(compared).contains(where: { $0.contains(UInt8(ascii: "*")) }) else { return false }
        return zip(labels.dropFirst(compared), reference.labels.dropFirst(compared)).allSatisfy { presentedLabel, referenceLabel in
            presentedLabel.elementsEqual(referenceLabel) { asciiLowercased($0) == asciiLowercased($1) }
        }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
