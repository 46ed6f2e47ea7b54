import Base64

/// RFC 2047 encoded-words ("=?charset?encoding?encoded-text?="). Decoding lives here;
/// encoding is added elsewhere in this module.
public enum EncodedWord {
    /// Longest encoded-word recognised, in octets. RFC 2047 §2 allows 75, but real senders
    /// put whole subjects or file names into one word, so this is generous; longer candidates
    /// are left as written.
    static let maxRecognizedWordLength = 2048

    /// Longest "charset*language" field recognised (RFC 2047 §2, RFC 2231 §5).
    static let maxRecognizedCharsetFieldLength = 128

    /// RFC 2047 decoding of header text (unstructured text such as Subject, or a phrase or
    /// display name):
    /// - encoded-words "=?charset[*lang]?B|Q?text?=" are decoded (§4); the RFC 2231 §5
    ///   language suffix is ignored; Q uses "_" for space (§4.2);
    /// - whitespace between two adjacent decoded encoded-words is removed (§6.2), line breaks
    ///   of folding included;
    /// - adjacent encoded-words in the same charset are joined as octets before charset
    ///   conversion, so a multi-octet character split across words decodes right; B words cut
    ///   in the middle of a base64 quantum are joined before base64 decoding too;
    /// - malformed words, and words in an unknown charset, are left as written.
    ///
    /// Tolerated as mainstream clients do: encoded-words not separated by whitespace from the
    /// surrounding text or from each other (§5 requires it), lowercase "b"/"q", missing "="
    /// padding in B, "?" inside Q text, words longer than 75 octets. Linear in the input.
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBufferPointer({ mayStart(in: $0) }) else { return text }
        let words = scan(bytes)
        guard !words.isEmpty else { return text }

        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var cursor = 0
        var previousDecoded = false
        var index = 0
        while index < words.count {
            // A group: adjacent words (only whitespace between) in the same charset.
            var last = index
            while last + 1 < words.count, words[last + 1].decoder == words[index].decoder,
                  isWhitespace(bytes, words[last].range.upperBound..<words[last + 1].range.lowerBound) {
                last += 1
            }
            let group = words[index...last]
            let decoded = decodeGroup(group, in: bytes)

            let gap = cursor..<words[index].range.lowerBound
            if !(previousDecoded && decoded != nil && isWhitespace(bytes, gap)) {
                out.append(contentsOf: bytes[gap])
            }
            if let decoded {
                out.append(contentsOf: decoded.utf8)
            } else {
                // Left as written, whitespace between its words included.
                out.append(contentsOf: bytes[words[index].range.lowerBound..<words[last].range.upperBound])
            }
            previousDecoded = decoded != nil
            cursor = words[last].range.upperBound
            index = last + 1
        }
        out.append(contentsOf: bytes[cursor...])
        return String(decoding: out, as: UTF8.self)
    }

    /// One syntactically valid encoded-word in a known charset.
    private struct Word {
        /// The whole word, "=?" through "?=".
        var range: Range<Int>
        var decoder: Charset.Decoder
        var isBase64: Bool
        /// The encoded-text.
        var text: Range<Int>
    }

    /// Whether `bytes` hold "=?", where every encoded-word starts: text without it decodes
    /// to itself.
    public static func mayStart(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == 0x3D, bytes[index + 1] == 0x3F { return true }
            index += 1
        }
        return false
    }

    /// Finds the encoded-words of `bytes`, in order, not overlapping.
    private static func scan(_ bytes: [UInt8]) -> [Word] {
        var words: [Word] = []
        var finder = TerminatorFinder(bytes: bytes)
        var index = 0
        while index + 1 < bytes.count {
            guard bytes[index] == 0x3D, bytes[index + 1] == 0x3F else {
                index += 1
                continue
            }
            if let word = parseWord(bytes, at: index, finder: &finder) {
                words.append(word)
                index = word.range.upperBound
            } else {
                index += 1
            }
        }
        return words
    }

    /// Finds the "?=" ending an encoded-text. The answer from one start holds for every later
    /// start up to where that scan stopped, so it is remembered: however many "=?" a hostile
    /// header holds, the scanning stays linear.
    private struct TerminatorFinder {
        let bytes: [UInt8]
        var cachedFrom = -1
        var cachedStop = -1
        var cachedFound = false

        /// The index of the "?" of the first "?=" at or after `start`, or nil when a space, a
        /// control or a non-ASCII octet (none of which an encoded-word contains, RFC 2047 §2)
        /// or the end comes first.
        mutating func find(from start: Int) -> Int? {
            if cachedFrom >= 0, start >= cachedFrom, start <= cachedStop {
                return cachedFound ? cachedStop : nil
            }
            var index = start
            var found = false
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x3F, index + 1 < bytes.count, bytes[index + 1] == 0x3D {
                    found = true
                    break
                }
                if byte <= 0x20 || byte >= 0x7F { break }
                index += 1
            }
            cachedFrom = start
            cachedStop = index
            cachedFound = found
            return found ? index : nil
        }
    }

    /// Parses "=?charset[*lang]?B|Q?text?=" at `start` (which holds "=?").
    private static func parseWord(_ bytes: [UInt8], at start: Int, finder: inout TerminatorFinder) -> Word? {
        let count = bytes.count
        let fieldStart = start + 2
        var index = fieldStart
        while index < count, bytes[index] != 0x3F {
            let byte = bytes[index]
            guard byte > 0x20, byte < 0x7F, index - fieldStart < maxRecognizedCharsetFieldLength else { return nil }
            index += 1
        }
        guard index < count, index > fieldStart else { return nil }
        // RFC 2231 §5: "charset*language"; the language is only a hint for display.
        let field = bytes[fieldStart..<index]
        let charsetBytes = field.prefix { $0 != 0x2A }
        guard !charsetBytes.isEmpty else { return nil }

        let encodingIndex = index + 1
        guard encodingIndex + 1 < count, bytes[encodingIndex + 1] == 0x3F else { return nil }
        let isBase64: Bool
        switch bytes[encodingIndex] {
        case 0x42, 0x62: isBase64 = true  // B, b
        case 0x51, 0x71: isBase64 = false  // Q, q
        default: return nil
        }
        let textStart = encodingIndex + 2
        guard let textEnd = finder.find(from: textStart) else { return nil }
        let end = textEnd + 2
        guard end - start <= maxRecognizedWordLength else { return nil }
        if isBase64 {
            // RFC 2047 §4.1: the base64 alphabet and padding only.
            for byte in bytes[textStart..<textEnd] where !isBase64Character(byte) { return nil }
        }
        guard let decoder = Charset.resolve(String(decoding: charsetBytes, as: UTF8.self)) else { return nil }
        return Word(range: start..<end, decoder: decoder, isBase64: isBase64, text: textStart..<textEnd)
    }

    /// Decodes a group of adjacent words in one charset; nil when the charset's converter is
    /// missing (the words are then left as written).
    private static func decodeGroup(_ group: ArraySlice<Word>, in bytes: [UInt8]) -> String? {
        guard let decoder = group.first?.decoder else { return "" }
        var octets: [UInt8] = []
        // Base64 text carried into the next word when a word ends mid-quantum without padding
        // (senders that split one base64 string across words at arbitrary points).
        var pendingBase64: [UInt8] = []
        for word in group {
            let text = bytes[word.text]
            if word.isBase64 {
                pendingBase64.append(contentsOf: text)
                if pendingBase64.count % 4 == 0 || text.contains(0x3D) {
                    octets.append(contentsOf: Base64.decode(pendingBase64))
                    pendingBase64.removeAll(keepingCapacity: true)
                }
            } else {
                if !pendingBase64.isEmpty {
                    octets.append(contentsOf: Base64.decode(pendingBase64))
                    pendingBase64.removeAll(keepingCapacity: true)
                }
                decodeQ(text, into: &octets)
            }
        }
        if !pendingBase64.isEmpty { octets.append(contentsOf: Base64.decode(pendingBase64)) }
        return Charset.decode(octets, with: decoder)
    }

    /// RFC 2047 §4.2: "_" is space, "=XX" (either case) an octet, anything else itself; an
    /// "=" not followed by two hex digits is kept literally.
    private static func decodeQ(_ text: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            if byte == 0x5F {
                out.append(0x20)
                index += 1
            } else if byte == 0x3D, index + 2 < text.endIndex,
                      let high = hexValue(text[index + 1]), let low = hexValue(text[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    private static func isBase64Character(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2B, 0x2F, 0x3D: true
        default: false
        }
    }

    /// Whether the range holds only linear whitespace (RFC 2047 §6.2; CR and LF of folding).
    private static func isWhitespace(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        for byte in bytes[range] where !(byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A) {
            return false
        }
        return true
    }
}
