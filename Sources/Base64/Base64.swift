// Base64 (RFC 4648 §4 alphabet, with padding) for every module that puts octets into text:
// MIME bodies and RFC 2047 encoded-words (Message), SASL exchanges and SCRAM attributes
// (SASL, and through it SMTP), IMAP AUTHENTICATE (IMAP). One encoder; two decoders, because
// the uses disagree on tolerance: a MIME decoder must skip what is not base64 (RFC 2045
// §6.8), while SASL's grammar leaves no room for it (RFC 4954 §4, RFC 5802 §7).
//
// Written here rather than taken from Foundation because Foundation's decoder differs
// between platforms in what it tolerates.

public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Base64-encodes `bytes` (RFC 2045 §6.8, RFC 4648 §4 alphabet, with padding).
    ///
    /// With a `lineLength` (default 76, the RFC 2045 §6.8 maximum) the output is broken into
    /// lines of that many characters, each ended by CRLF, the last one included, which is the
    /// form of a MIME body. The length is rounded down to a multiple of 4 (minimum 4) so that
    /// no quantum straddles a line break. With `nil` the output is one unbroken run, as the
    /// RFC 2047 "B" encoding needs. Empty input gives empty output.
    public static func encode(_ bytes: some Collection<UInt8>, lineLength: Int? = 76) -> [UInt8] {
        let input = Array(bytes)
        guard !input.isEmpty else { return [] }
        let groups = (input.count + 2) / 3
        var plain: [UInt8] = []
        plain.reserveCapacity(groups * 4)
        var index = 0
        while index + 3 <= input.count {
            let value = UInt32(input[index]) << 16 | UInt32(input[index + 1]) << 8 | UInt32(input[index + 2])
            plain.append(alphabet[Int(value >> 18 & 0x3F)])
            plain.append(alphabet[Int(value >> 12 & 0x3F)])
            plain.append(alphabet[Int(value >> 6 & 0x3F)])
            plain.append(alphabet[Int(value & 0x3F)])
            index += 3
        }
        let rest = input.count - index
        if rest > 0 {
            let second = rest == 2 ? UInt32(input[index + 1]) : 0
            let value = UInt32(input[index]) << 16 | second << 8
            plain.append(alphabet[Int(value >> 18 & 0x3F)])
            plain.append(alphabet[Int(value >> 12 & 0x3F)])
            plain.append(rest == 2 ? alphabet[Int(value >> 6 & 0x3F)] : UInt8(ascii: "="))
            plain.append(UInt8(ascii: "="))
        }
        guard let lineLength else { return plain }
        let width = max(4, lineLength - lineLength % 4)
        var out: [UInt8] = []
        out.reserveCapacity(plain.count + (plain.count / width + 1) * 2)
        var start = 0
        while start < plain.count {
            let end = min(start + width, plain.count)
            out.append(contentsOf: plain[start..<end])
            out.append(0x0D)
            out.append(0x0A)
            start = end
        }
        return out
    }

    /// The length of the unbroken base64 form of `count` octets: what a protocol adapter
    /// compares a line against before decoding it.
    public static func encodedLength(of count: Int) -> Int {
        (max(count, 0) + 2) / 3 * 4
    }

    /// The octets that the ASCII octets `text` encode, or nil when they are not strict
    /// base64 (RFC 4648 §4, as RFC 4954 §4 requires of SASL exchanges): every character
    /// outside the alphabet is rejected (no whitespace, no line breaks), the length is a
    /// multiple of four, and "=" appears only as padding at the end. No octets decode to none.
    public static func decodeStrict(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            var n: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let char = input[index + offset]
                if char == UInt8(ascii: "=") {
                    // RFC 4954 §4: padding only at the very end, at most two characters,
                    // and nothing after it.
                    guard isLast, offset >= 2 else { return nil }
                    padding += 1
                    n <<= 6
                    continue
                }
                guard padding == 0, let value = sextet(char) else { return nil }
                n = n << 6 | UInt32(value)
            }
            out.append(UInt8(n >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(n & 0xFF)) }
            index += 4
        }
        return out
    }

    /// RFC 2045 §6.8 decoding, tolerant as mainstream clients are: characters outside the
    /// base64 alphabet (line breaks, spaces, junk) are ignored, as §6.8 says decoders must;
    /// decoding stops at the first "=" padding (§6.8: "=" marks the end of the encoded data);
    /// a final incomplete quantum is decoded as far as it holds whole octets (two sextets give
    /// one octet, three give two; a lone sextet gives nothing). Linear, never fails.
    public static func decode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let decoded = bytes.withContiguousStorageIfAvailable({ decodeContiguous($0) }) {
            return decoded
        }
        return Array(bytes).withUnsafeBufferPointer { decodeContiguous($0) }
    }

    private static func decodeContiguous(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var sextets = 0
        for byte in buffer {
            if byte == UInt8(ascii: "=") { return finish(&out, accumulator, sextets) }
            guard let value = sextet(byte) else { continue }
            accumulator = accumulator << 6 | UInt32(value)
            sextets += 1
            if sextets == 4 {
                out.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                out.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                out.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
                sextets = 0
            }
        }
        return finish(&out, accumulator, sextets)
    }

    /// Appends the whole octets of an incomplete final quantum of `sextets` (0–3) sextets.
    private static func finish(_ out: inout [UInt8], _ accumulator: UInt32, _ sextets: Int) -> [UInt8] {
        switch sextets {
        case 2:
            // 12 bits: one octet, 4 padding bits.
            out.append(UInt8(truncatingIfNeeded: accumulator >> 4))
        case 3:
            // 18 bits: two octets, 2 padding bits.
            out.append(UInt8(truncatingIfNeeded: accumulator >> 10))
            out.append(UInt8(truncatingIfNeeded: accumulator >> 2))
        default:
            break
        }
        return out
    }

    /// The value of a character of the alphabet; nil for any other (padding included).
    private static func sextet(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): char - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): char - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
