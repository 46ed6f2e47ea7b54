#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What per-client limits count by: an IPv4 address, or the /64 of an IPv6 address. An
/// IPv6 client usually has a whole /64 to itself (RFC 4291 §2.5.4, RFC 7421), so counting
/// single addresses would let it take as many slots as it likes. IPv4-mapped IPv6
/// addresses count as their IPv4 address. Anything unparsable counts as itself.
enum ClientAddress {
    static func limitKey(_ address: String) -> String {
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address, &v6) == 1 else { return address }
        var bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        if mapped { return bytes[12...].map(String.init).joined(separator: ".") }
        for index in 8..<16 { bytes[index] = 0 }
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count)) != nil else { return address }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/64"
    }
}
