/// The quoted-printable content transfer encoding (RFC 2045 §6.7). Decoding lives here;
/// encoding is added elsewhere in this module.
public enum QuotedPrintable {
    /// RFC 2045 §6.7 decoding, tolerant:
    /// - "=XX" with hex digits in either case is the octet XX (rule 1; lowercase is what the
    ///   §6.7 note on robust decoders asks to accept);
    /// - "=" at the end of a line is a soft line break (rule 5), with CRLF or a bare LF, and
    ///   also when whitespace a transport added follows the "=";
    /// - any other "=" (not followed by two hex digits) is kept literally, as §6.7 suggests;
    /// - trailing spaces and tabs at line ends are removed (rule 3: they may have been added by
    ///   a transport; encoded ones are written as "=20"/"=09");
    /// - line breaks are kept as they are, CRLF or bare LF; an "=" at the very end of the
    ///   input is a soft break before nothing.
    /// Linear, never fails.
    public static func decode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let decoded = bytes.withContiguousStorageIfAvailable({ decodeContiguous($0) }) {
            return decoded
        }
        return Array(bytes).withUnsafeBufferPointer { decodeContiguous($0) }
    }

    private static func decodeContiguous(_ buffer: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count)
        let count = buffer.count
        var lineStart = 0
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count, buffer[lineEnd] != 0x0A { lineEnd += 1 }
            let hasLineFeed = lineEnd < count
            // The line break: "\r\n" or a bare "\n" (or nothing on the last line).
            var contentEnd = lineEnd
            if hasLineFeed, contentEnd > lineStart, buffer[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let breakEnd = hasLineFeed ? lineEnd + 1 : lineEnd

            var end = contentEnd
            while end > lineStart, buffer[end - 1] == 0x20 || buffer[end - 1] == 0x09 { end -= 1 }
            var softBreak = false
            if end > lineStart, buffer[end - 1] == 0x3D {
                softBreak = true
                end -= 1
            }
            decodeLine(buffer, lineStart..<end, into: &out)
            if !softBreak {
                for index in contentEnd..<breakEnd { out.append(buffer[index]) }
            }
            lineStart = breakEnd
        }
        return out
    }

    private static func decodeLine(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [UInt8]) {
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = buffer[index]
            if byte == 0x3D, index + 2 < range.upperBound,
               let high = hexDigitValue(buffer[index + 1]), let low = hexDigitValue(buffer[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
    }

}

/// The value of a hex digit in either case, or nil.
private func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: byte - 0x30
    case 0x41...0x46: byte - 0x41 + 10
    case 0x61...0x66: byte - 0x61 + 10
    default: nil
    }
}
