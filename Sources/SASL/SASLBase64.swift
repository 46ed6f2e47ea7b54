// Base64 for SASL exchanges and SCRAM attributes, and the small byte helpers the
// mechanisms share.
//
// Where base64 lives: the mechanisms in this module work on raw octets (RFC 4422 §3.3:
// challenges and responses are octet strings). SMTP (RFC 4954 §4) and IMAP (RFC 9051
// §6.2.2) each base64-encode those octets on the wire and add their own framing ("*" to
// cancel, "=" for an empty initial response in SMTP), so the protocol adapters encode and
// decode, both with the Base64 module's strict decoder (SMTP through `SASLBase64`, the IMAP
// grammar directly), so both accept exactly the same strings. SCRAM additionally
// base64-encodes some attribute values inside its messages (RFC 5802 §7: s=, c=, p=, v=);
// the SCRAM code uses the same strict decoder for those.

import Base64

/// Strict base64 (RFC 4648 §4) as RFC 4954 §4 requires of SASL exchanges, as text: the
/// Base64 module's encoder and strict decoder, with the strings the mechanisms and the
/// protocol adapters work in.
public enum SASLBase64 {
    /// The base64 form of `bytes`, padded.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: Base64.encode(bytes, lineLength: nil), as: UTF8.self)
    }

    /// The octets that `text` encodes, or nil when it is not strict base64. The empty
    /// string decodes to no octets.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        Base64.decodeStrict(Array(text.utf8))
    }

    /// `decode(_:)` over the ASCII octets of a base64 string.
    public static func decode(bytes text: some Collection<UInt8>) -> [UInt8]? {
        Base64.decodeStrict(text)
    }

    /// The length of the base64 form of `count` octets: what a protocol adapter compares
    /// a line against before decoding it.
    public static func encodedLength(of count: Int) -> Int {
        Base64.encodedLength(of: count)
    }
}

enum Bytes {
    /// Compares two secrets in time that depends only on their lengths, so a verifier
    /// leaks nothing about how many leading octets of a guess were right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }

    /// Octet-wise exclusive or of two equally long strings (RFC 5802 §3 "XOR"). Callers
    /// check the lengths; a shorter operand only shortens the result.
    static func xor(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        zip(a, b).map { $0 ^ $1 }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex digits of either case to octets; nil on an odd length or any other character.
    static func fromHex(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 2)
        var index = 0
        while index < input.count {
            guard let high = nibble(input[index]), let low = nibble(input[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func nibble(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func startsWith(_ bytes: ArraySlice<UInt8>, _ prefix: String) -> Bool {
        bytes.starts(with: prefix.utf8)
    }
}
