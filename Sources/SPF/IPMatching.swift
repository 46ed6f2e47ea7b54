import DNS

extension IPAddress {
    /// RFC 7208 §5: "IPv4-mapped IPv6 addresses" (RFC 4291 §2.5.5.2, ::ffff:0:0/96) are
    /// evaluated as the IPv4 address they carry: A lookups, ip4 mechanisms, the %{i} and
    /// %{v} macros.
    var unmappingIPv4: IPAddress {
        let bytes = self.bytes
        guard !isIPv4, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF else { return self }
        return .v4(bytes[12], bytes[13], bytes[14], bytes[15])
    }

    /// Whether the first `prefixLength` bits equal those of `network`; addresses of different
    /// families never match (RFC 7208 §5).
    func isIn(_ network: IPAddress, prefixLength: Int) -> Bool {
        let mine = bytes
        let theirs = network.bytes
        guard mine.count == theirs.count, prefixLength <= mine.count * 8 else { return false }
        let wholeBytes = prefixLength / 8
        guard mine.prefix(wholeBytes) == theirs.prefix(wholeBytes) else { return false }
        let remainingBits = prefixLength % 8
        guard remainingBits > 0 else { return true }
        let mask = UInt8(0xFF) << (8 - remainingBits)
        return mine[wholeBytes] & mask == theirs[wholeBytes] & mask
    }

    /// The %{i} form (RFC 7208 §7.3): dotted quad for IPv4; for IPv6 the 32 hex nibbles
    /// separated by dots, most significant first, so that %{ir} is the ip6.arpa form (§7.4).
    var spfDottedForm: String {
        switch self {
        case .v4:
            return description
        case let .v6(bytes):
            let digits = Array("0123456789abcdef")
            return bytes.flatMap { [String(digits[Int($0 >> 4)]), String(digits[Int($0 & 0x0F)])] }.joined(separator: ".")
        }
    }
}
