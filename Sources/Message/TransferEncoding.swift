// The encoding side of MIME content-transfer-encodings (RFC 2045 §6): quoted-printable, and
// the choice between it, base64 (the Base64 module), 7bit and 8bit for a given body.
//
// Decoders live with the parsers; this file only adds encoders to the same namespaces.

import Base64

extension QuotedPrintable {
    /// How line breaks in the input are treated.
    public enum EncodingMode: Sendable, Hashable {
        /// Text (RFC 2045 §6.7 rule 4): CRLF and a bare LF are line breaks and become CRLF; a bare
        /// CR is data and becomes "=0D". The output is canonical text (RFC 2046 §4.1.1).
        case text
        /// Binary data: CR and LF are data ("=0D", "=0A"); the only line breaks are soft ones,
        /// so decoding gives back exactly the input octets.
        case binary
    }

    /// Quoted-printable encoding (RFC 2045 §6.7).
    ///
    /// Encoded lines are at most 76 characters, the "=" of a soft line break included (rule 5).
    /// Literal: octets 33–60 and 62–126 (rule 2). Encoded as "=XX" with upper-case hex (rule 1):
    /// "=", controls, octets above 126, and a space or tab that would end an encoded line
    /// (rule 3: trailing white space is removed by some transports). The end of the input is
    /// also the end of a line, so trailing white space there is encoded too.
    ///
    /// Two extra safety rules, both allowed by rule 1 ("may be represented" as =XX): a "."
    /// starting an encoded line becomes "=2E", because a lone "." line ends SMTP DATA and some
    /// relays get dot-stuffing wrong (RFC 5321 §4.5.2); and "From " starting an encoded line
    /// gets its "F" written as "=46", because mbox stores quote such lines as ">From " and so
    /// corrupt the text and any signature over it (the mbox format, RFC 4155).
    public static func encode(_ bytes: some Collection<UInt8>, mode: EncodingMode = .text) -> [UInt8] {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 8)
        switch mode {
        case .binary:
            encodeLine(input[...], into: &out)
        case .text:
            var lineStart = 0
            for index in input.indices where input[index] == 0x0A {
                let end = index > lineStart && input[index - 1] == 0x0D ? index - 1 : index
                encodeLine(input[lineStart..<end], into: &out)
                out.append(0x0D)
                out.append(0x0A)
                lineStart = index + 1
            }
            // The last line may have no line break after it; its end is still a line end.
            if lineStart < input.count {
                encodeLine(input[lineStart...], into: &out)
            }
        }
        return out
    }

    /// The maximum encoded line length, soft-break "=" included (RFC 2045 §6.7 rule 5).
    fileprivate static let maximumEncodedLineLength = 76

    /// Encodes one line (no line break inside in text mode; anything in binary mode) with soft
    /// breaks so that no output line exceeds 76 characters.
    private static func encodeLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var column = 0
        var index = line.startIndex
        while index < line.endIndex {
            let byte = line[index]
            let isLast = index == line.endIndex - 1
            var literal = byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")
            if byte == 0x20 || byte == 0x09 { literal = !isLast }
            if column == 0 && (byte == UInt8(ascii: ".") || startsWithFromSpace(line, at: index)) {
                literal = false
            }
            let width = literal ? 1 : 3
            // A soft break needs one column for "=", except after the very last token,
            // which may use the full 76 (rule 5).
            let limit = isLast ? maximumEncodedLineLength : maximumEncodedLineLength - 1
            if column > 0 && column + width > limit {
                out.append(UInt8(ascii: "="))
                out.append(0x0D)
                out.append(0x0A)
                column = 0
                continue // re-evaluate: the byte may now start a line (".", "From ")
            }
            if literal {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "="))
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
            column += width
            index += 1
        }
    }

    private static func startsWithFromSpace(_ line: ArraySlice<UInt8>, at index: Int) -> Bool {
        let from: [UInt8] = [0x46, 0x72, 0x6F, 0x6D, 0x20] // "From "
        guard line.endIndex - index >= from.count else { return false }
        return line[index..<(index + from.count)].elementsEqual(from)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}

/// Chooses and applies a Content-Transfer-Encoding for a body (RFC 2045 §6).
public enum TransferEncoder {
    /// The Content-Transfer-Encoding values the composer writes (RFC 2045 §6.1). "binary" is
    /// never chosen: it needs BINARYMIME and CHUNKING (RFC 3030), which the queue does not use.
    public enum Encoding: String, Sendable, Hashable, CaseIterable {
        case sevenBit = "7bit"
        case eightBit = "8bit"
        case quotedPrintable = "quoted-printable"
        case base64 = "base64"
    }

    /// RFC 5322 §2.1.1 (and RFC 2045 §2.7, §2.8): a line is at most 998 octets before CRLF.
    public static let maximumLineLength = 998

    /// Picks the encoding for `bytes` by content.
    ///
    /// - 7bit when the data is already a valid 7bit body (RFC 2045 §2.7): no octet above 127,
    ///   no NUL, CR and LF only as CRLF pairs, and no line over 998 octets (RFC 5322 §2.1.1).
    /// - 8bit (text only, and only when `allow8bit` says the path offers 8BITMIME, RFC 6152)
    ///   when the same holds except for octets above 127 (RFC 2045 §2.8).
    /// - Otherwise text goes as quoted-printable or base64, whichever comes out shorter: QP for
    ///   mostly-ASCII text that stays readable, base64 for mostly non-ASCII text. Text with NUL
    ///   is binary and goes as base64. Non-text data that is not valid 7bit goes as base64.
    ///
    /// Text should already be in canonical form (CRLF line breaks, RFC 2046 §4.1.1; see
    /// `canonicalLineEndings`): a bare CR or LF rules out 7bit and 8bit.
    public static func choose(for bytes: some Collection<UInt8>, isText: Bool = true, allow8bit: Bool = false) -> Encoding {
        let stats = Statistics(Array(bytes))
        let lineShaped = !stats.hasNUL && !stats.hasBareCR && !stats.hasBareLF && stats.longestLine <= maximumLineLength
        if lineShaped && stats.highOctets == 0 { return .sevenBit }
        if lineShaped && isText && allow8bit { return .eightBit }
        if !isText || stats.hasNUL { return .base64 }
        return stats.quotedPrintableLength <= stats.base64Length ? .quotedPrintable : .base64
    }

    /// Encodes `bytes` with `encoding`. 7bit and 8bit return the bytes unchanged (the caller
    /// chose them because the data already qualifies). Quoted-printable uses text mode for
    /// text and binary mode otherwise; base64 has 76-character CRLF lines.
    public static func encode(_ bytes: [UInt8], as encoding: Encoding, isText: Bool = true) -> [UInt8] {
        switch encoding {
        case .sevenBit, .eightBit: return bytes
        case .quotedPrintable: return QuotedPrintable.encode(bytes, mode: isText ? .text : .binary)
        case .base64: return Base64.encode(bytes)
        }
    }

    /// Converts every line break (CRLF, bare LF, bare CR) to CRLF: the canonical form of text
    /// (RFC 2046 §4.1.1, RFC 5322 §2.3).
    public static func canonicalLineEndings(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        var previousWasCR = false
        for byte in bytes {
            if byte == 0x0A {
                if !previousWasCR { out.append(0x0D) }
                out.append(0x0A)
                previousWasCR = false
            } else {
                if previousWasCR { out.append(0x0A) }
                if byte == 0x0D {
                    out.append(0x0D)
                    previousWasCR = true
                } else {
                    out.append(byte)
                    previousWasCR = false
                }
            }
        }
        if previousWasCR { out.append(0x0A) }
        return out
    }

    /// What `choose` needs to know, gathered in one pass.
    private struct Statistics {
        var hasNUL = false
        var hasBareCR = false
        var hasBareLF = false
        var highOctets = 0
        var longestLine = 0
        /// Quoted-printable output length, soft line breaks included (text mode).
        var quotedPrintableLength = 0
        var base64Length = 0

        init(_ bytes: [UInt8]) {
            var lineLength = 0
            var encodedLineLength = 0
            func endLine() {
                longestLine = max(longestLine, lineLength)
                // Each output line holds at most 75 characters before a soft break "=" CRLF.
                if encodedLineLength > QuotedPrintable.maximumEncodedLineLength {
                    quotedPrintableLength += (encodedLineLength - 1) / 75 * 3
                }
                quotedPrintableLength += encodedLineLength
                lineLength = 0
                encodedLineLength = 0
            }
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x0D {
                    if index + 1 < bytes.count && bytes[index + 1] == 0x0A {
                        endLine()
                        quotedPrintableLength += 2
                        index += 2
                        continue
                    }
                    hasBareCR = true
                } else if byte == 0x0A {
                    hasBareLF = true
                    endLine()
                    quotedPrintableLength += 2
                    index += 1
                    continue
                }
                if byte == 0 { hasNUL = true }
                if byte >= 0x80 { highOctets += 1 }
                lineLength += 1
                let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || byte == 0x20 || byte == 0x09
                encodedLineLength += literal ? 1 : 3
                index += 1
            }
            endLine()
            let chars = (bytes.count + 2) / 3 * 4
            base64Length = chars + (chars + 75) / 76 * 2
        }
    }
}
