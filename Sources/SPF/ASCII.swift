/// Octet classes of the ABNF (RFC 5234 §B.1). Keywords compare case-insensitively: "literal
/// text strings (those in quotes) are case-insensitive" (RFC 7208 §12).
enum ASCII {
    static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    static func lowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 32 : byte }
}
