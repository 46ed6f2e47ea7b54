import SASL

/// The cipher suites BoringSSL negotiates (PSK suites aside, which Tern never configures),
/// by their code in the IANA "TLS Cipher Suites" registry: their names, which RFC 8314 §4.3
/// wants in the Received field, and their hash, which tls-unique needs for the TLS 1.2 PRF.
public enum TLSCipherSuite {
    /// The IANA name, or the code in hex for a suite not listed here.
    public static func name(of code: UInt16) -> String {
        if let name = known[code]?.name { return name }
        let digits = String(code, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// The suite's hash: of the PRF in TLS 1.2 (RFC 5246 §5), of HKDF in TLS 1.3; nil for
    /// suites not listed here.
    public static func hash(of code: UInt16) -> TLSHash? {
        known[code]?.hash
    }

    /// TLS 1.2 suites named ..._SHA384 use SHA-384 for the PRF (RFC 5289 §3.2, RFC 5288 §3),
    /// all others SHA-256 (RFC 5246 §5, RFC 7905 §2); TLS 1.3 suites name their HKDF hash
    /// (RFC 8446 B.4).
    static let known: [UInt16: (name: String, hash: TLSHash)] = [
        0x000A: ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", .sha256),
        0x002F: ("TLS_RSA_WITH_AES_128_CBC_SHA", .sha256),
        0x0035: ("TLS_RSA_WITH_AES_256_CBC_SHA", .sha256),
        0x009C: ("TLS_RSA_WITH_AES_128_GCM_SHA256", .sha256),
        0x009D: ("TLS_RSA_WITH_AES_256_GCM_SHA384", .sha384),
        0x1301: ("TLS_AES_128_GCM_SHA256", .sha256),
        0x1302: ("TLS_AES_256_GCM_SHA384", .sha384),
        0x1303: ("TLS_CHACHA20_POLY1305_SHA256", .sha256),
        0xC009: ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", .sha256),
        0xC00A: ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", .sha256),
        0xC013: ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", .sha256),
        0xC014: ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", .sha256),
        0xC023: ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", .sha256),
        0xC027: ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", .sha256),
        0xC02B: ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", .sha256),
        0xC02C: ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", .sha384),
        0xC02F: ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", .sha256),
        0xC030: ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", .sha384),
        0xCCA8: ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", .sha256),
        0xCCA9: ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", .sha256),
    ]
}
