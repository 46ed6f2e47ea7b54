/// An RFC 8914 Extended DNS Error: an EDNS option (code 15) a resolver adds to say why it
/// failed, e.g. "DNSSEC Bogus" with a SERVFAIL. Operators need this to tell a broken
/// signature from an unreachable server.
public struct ExtendedDNSError: Hashable, Sendable, CustomStringConvertible {
    /// RFC 8914 §2: the EDNS option code.
    public static let optionCode: UInt16 = 15

    public var infoCode: UInt16
    public var extraText: String

    public init(infoCode: UInt16, extraText: String = "") {
        self.infoCode = infoCode
        self.extraText = extraText
    }

    /// Parses the option payload (RFC 8914 §2): INFO-CODE, then EXTRA-TEXT in UTF-8 that may
    /// be NUL-terminated and must not be assumed to be.
    init?(optionData: [UInt8]) {
        guard optionData.count >= 2 else { return nil }
        infoCode = UInt16(optionData[0]) << 8 | UInt16(optionData[1])
        var text = optionData.dropFirst(2)
        if text.last == 0 { text = text.dropLast() }
        extraText = String(decoding: text, as: UTF8.self)
    }

    var optionData: [UInt8] {
        [UInt8(infoCode >> 8), UInt8(infoCode & 0xFF)] + Array(extraText.utf8)
    }

    /// RFC 8914 §5.2 initial registry.
    public var purpose: String? {
        let purposes = [
            "Other Error", "Unsupported DNSKEY Algorithm", "Unsupported DS Digest Type", "Stale Answer",
            "Forged Answer", "DNSSEC Indeterminate", "DNSSEC Bogus", "Signature Expired",
            "Signature Not Yet Valid", "DNSKEY Missing", "RRSIGs Missing", "No Zone Key Bit Set",
            "NSEC Missing", "Cached Error", "Not Ready", "Blocked", "Censored", "Filtered", "Prohibited",
            "Stale NXDOMAIN Answer", "Not Authoritative", "Not Supported", "No Reachable Authority",
            "Network Error", "Invalid Data",
        ]
        return Int(infoCode) < purposes.count ? purposes[Int(infoCode)] : nil
    }

    /// "extended error 6 (DNSSEC Bogus): text".
    public var description: String {
        var out = "extended error \(infoCode)"
        if let purpose { out += " (\(purpose))" }
        if !extraText.isEmpty { out += ": \(extraText)" }
        return out
    }
}
