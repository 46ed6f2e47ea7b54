// The encoding side of RFC 2047 encoded-words: "=?UTF-8?Q?...?=" and "=?UTF-8?B?...?=".
// Decoding lives with the parsers; this file adds the encoder to the same namespace.

import Base64

extension EncodedWord {
    /// Where the encoded text goes; it decides which words may stay plain and which
    /// characters the Q encoding may leave as they are.
    public enum Context: Sendable, Hashable {
        /// Unstructured text: Subject, Comments, extension fields (RFC 2047 §5(1)).
        case text
        /// A phrase: the display name of an address (RFC 2047 §5(3), RFC 5322 §3.2.5).
        case phrase
    }

    /// RFC 2047 §2: an encoded-word is at most 75 characters, delimiters included.
    public static let maximumLength = 75

    /// A phrase with a longer word is encoded whole, so it can be folded within the 998-octet
    /// line limit (RFC 5322 §2.1.1) next to the address that follows it.
    static let longestPlainPhraseWord = 900

    /// Encodes `text` for a header field, returning it unchanged where nothing needs encoding.
    ///
    /// Only the words that need it are encoded: words with characters outside US-ASCII (unless
    /// `allowUTF8`: the message goes with SMTPUTF8 and UTF-8 is written raw, RFC 6532 §3.2),
    /// with control characters, or that contain "=?" and so could be taken for an encoded-word.
    /// Adjacent words that need encoding become one run, the whitespace between them encoded
    /// inside it, because decoders drop whitespace between encoded-words (RFC 2047 §6.2).
    ///
    /// The charset is UTF-8; each run uses Q or B, whichever is shorter (§4). Each
    /// encoded-word is at most 75 characters (§2) and holds whole characters only: a UTF-8
    /// sequence, and where possible a whole grapheme cluster, is never split across words (§5).
    /// Successive encoded-words are separated by a single space.
    ///
    /// For `.phrase` the result is always a valid RFC 5322 phrase: atoms, a quoted-string (for
    /// ASCII names with specials such as "." or ","), or encoded-words whose Q form uses only
    /// the characters §5(3) allows. When a phrase mixes words that need encoding with words
    /// that are not atoms, the whole phrase is encoded: an encoded-word may not appear inside
    /// a quoted-string (§5(3)). Whitespace in a phrase is collapsed to single spaces, which is
    /// its meaning anyway (RFC 5322 §3.2.2). An empty phrase becomes `""`.
    ///
    /// Line breaks in `text` become spaces. To fold the result into a field, use
    /// `HeaderFolding.foldText`, which also sizes the words to the lines they land on.
    public static func encode(_ text: String, context: Context = .text, allowUTF8: Bool = false) -> String {
        var layout = HeaderFolding.Layout.unbounded()
        for segment in segments(text, context: context, allowUTF8: allowUTF8) {
            // An unbounded layout has no line to overflow, so this cannot throw.
            do { try layout.add(segment) } catch {}
        }
        return layout.value
    }

    /// A piece of a header value to lay out, with the whitespace before it.
    enum Segment: Hashable, Sendable {
        /// A plain word of unstructured text (encoded anyway if too long for any line).
        case text(String, whitespace: String)
        /// A plain word of a structured value that must be written exactly as it is.
        case atom(String, whitespace: String)
        /// Text to be written as encoded-words.
        case encoded(String, whitespace: String, context: Context)
    }

    /// Splits `text` into segments for `context`, deciding what gets encoded.
    static func segments(_ text: String, context: Context, allowUTF8: Bool) -> [Segment] {
        let words = splitWords(text)
        switch context {
        case .text:
            return textSegments(words, allowUTF8: allowUTF8)
        case .phrase:
            return phraseSegments(words.map(\.word), allowUTF8: allowUTF8)
        }
    }

    /// Words with the whitespace before each; a line break counts as a space, and leading and
    /// trailing whitespace is dropped.
    private static func splitWords(_ text: String) -> [(whitespace: String, word: String)] {
        var result: [(whitespace: String, word: String)] = []
        var whitespace = ""
        var word = ""
        for character in text {
            let isLineBreak = character.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
            if character == " " || character == "\t" || isLineBreak {
                if !word.isEmpty {
                    result.append((result.isEmpty ? "" : whitespace, word))
                    whitespace = ""
                    word = ""
                }
                whitespace.append(isLineBreak ? " " : character)
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { result.append((result.isEmpty ? "" : whitespace, word)) }
        return result
    }

    /// Whether a word cannot be written as it is.
    private static func needsEncoding(_ word: String, allowUTF8: Bool) -> Bool {
        for scalar in word.unicodeScalars {
            let value = scalar.value
            // C0 and C1 controls and DEL are not VCHAR (RFC 5322 §3.2.5, RFC 6532 §3.2).
            if value < 0x20 || (value >= 0x7F && value < 0xA0) { return true }
            if value >= 0x80 && !allowUTF8 { return true }
        }
        // Text that looks like an encoded-word would be decoded by readers; encoding it keeps
        // it literal.
        return word.contains("=?")
    }

    private static func textSegments(_ words: [(whitespace: String, word: String)], allowUTF8: Bool) -> [Segment] {
        var segments: [Segment] = []
        var run: (whitespace: String, text: String)?
        for (whitespace, word) in words {
            if needsEncoding(word, allowUTF8: allowUTF8) {
                if let current = run {
                    run = (current.whitespace, current.text + whitespace + word)
                } else {
                    run = (whitespace, word)
                }
            } else {
                if let current = run {
                    segments.append(.encoded(current.text, whitespace: current.whitespace, context: .text))
                    run = nil
                }
                segments.append(.text(word, whitespace: whitespace))
            }
        }
        if let current = run {
            segments.append(.encoded(current.text, whitespace: current.whitespace, context: .text))
        }
        return segments
    }

    private static func phraseSegments(_ words: [String], allowUTF8: Bool) -> [Segment] {
        guard !words.isEmpty else { return [.atom("\"\"", whitespace: "")] }
        let whole = words.joined(separator: " ")
        // A word so long that it could not share a line goes encoded, so it can be split.
        if words.contains(where: { $0.utf8.count > longestPlainPhraseWord }) {
            return [.encoded(whole, whitespace: "", context: .phrase)]
        }
        let needs = words.map { needsEncoding($0, allowUTF8: allowUTF8) }
        let atoms = words.map { isAtom($0, allowUTF8: allowUTF8) }
        if !needs.contains(true) {
            if !atoms.contains(false) {
                return words.enumerated().map { .atom($1, whitespace: $0 == 0 ? "" : " ") }
            }
            // A quoted-string may be folded at its spaces (RFC 5322 §3.2.4: FWS in qcontent).
            let quoted = quote(whole)
            return quoted.split(separator: " ", omittingEmptySubsequences: false).enumerated().map {
                .atom(String($1), whitespace: $0 == 0 ? "" : " ")
            }
        }
        guard zip(needs, atoms).allSatisfy({ $0 || $1 }) else {
            return [.encoded(whole, whitespace: "", context: .phrase)]
        }
        var segments: [Segment] = []
        var run: [String] = []
        var runWhitespace = ""
        for (index, word) in words.enumerated() {
            let whitespace = index == 0 ? "" : " "
            if needs[index] {
                if run.isEmpty { runWhitespace = whitespace }
                run.append(word)
            } else {
                if !run.isEmpty {
                    segments.append(.encoded(run.joined(separator: " "), whitespace: runWhitespace, context: .phrase))
                    run = []
                }
                segments.append(.atom(word, whitespace: whitespace))
            }
        }
        if !run.isEmpty {
            segments.append(.encoded(run.joined(separator: " "), whitespace: runWhitespace, context: .phrase))
        }
        return segments
    }

    /// RFC 5322 §3.2.3 atext, extended by RFC 6532 §3.2 with UTF-8 when allowed.
    private static func isAtom(_ word: String, allowUTF8: Bool) -> Bool {
        word.unicodeScalars.allSatisfy { scalar in
            if scalar.value >= 0x80 { return allowUTF8 }
            return isASCIIAlphanumeric(scalar) || "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
        }
    }

    /// RFC 5322 §3.2.4 quoted-string: backslash before DQUOTE and backslash.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        out += "\""
        return out
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        (scalar >= "A" && scalar <= "Z") || (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9")
    }

    // MARK: The encoded-word itself

    enum Scheme: Hashable, Sendable {
        case q
        case b
    }

    /// "=?UTF-8?Q?" and "?=": the characters around the encoded text.
    static let overhead = 12

    /// The units an encoded run may be split between: the UTF-8 octets of each grapheme
    /// cluster, or of each scalar when a cluster is too long to fit one word (at most 21
    /// octets, whose Q form of 63 characters still fits with the 12 of overhead).
    static func units(_ text: String) -> [[UInt8]] {
        var units: [[UInt8]] = []
        for character in text {
            let bytes = Array(character.utf8)
            if bytes.count <= 21 {
                units.append(bytes)
            } else {
                for scalar in character.unicodeScalars { units.append(Array(String(scalar).utf8)) }
            }
        }
        return units
    }

    /// Q unless B is shorter over the whole run (RFC 2047 §4 allows either).
    static func scheme(for units: [[UInt8]], context: Context) -> Scheme {
        let bytes = units.flatMap { $0 }
        let q = payloadLength(bytes, scheme: .q, context: context)
        let b = payloadLength(bytes, scheme: .b, context: context)
        return q <= b ? .q : .b
    }

    static func payloadLength(_ bytes: [UInt8], scheme: Scheme, context: Context) -> Int {
        switch scheme {
        case .b: return (bytes.count + 2) / 3 * 4
        case .q: return bytes.reduce(0) { $0 + (isQLiteral($1, context: context) || $1 == 0x20 ? 1 : 3) }
        }
    }

    /// RFC 2047 §4.2 (and §5(3) for phrases): which octets the Q encoding writes as they are.
    /// Space is written "_" (rule 2); "=", "?" and "_" are always encoded (rule 3).
    private static func isQLiteral(_ byte: UInt8, context: Context) -> Bool {
        switch context {
        case .text:
            return byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "?") && byte != UInt8(ascii: "_")
        case .phrase:
            // §5(3): in a phrase only letters, digits and "!" "*" "+" "-" "/" may appear.
            return isASCIIAlphanumeric(Unicode.Scalar(byte)) || "!*+-/".utf8.contains(byte)
        }
    }

    /// One encoded-word for `bytes`.
    static func word(_ bytes: [UInt8], scheme: Scheme, context: Context) -> String {
        var out = scheme == .q ? "=?UTF-8?Q?" : "=?UTF-8?B?"
        switch scheme {
        case .b:
            out += String(decoding: Base64.encode(bytes, lineLength: nil), as: UTF8.self)
        case .q:
            let hex = Array("0123456789ABCDEF".unicodeScalars)
            for byte in bytes {
                if byte == 0x20 {
                    out += "_"
                } else if isQLiteral(byte, context: context) {
                    out.unicodeScalars.append(Unicode.Scalar(byte))
                } else {
                    out += "="
                    out.unicodeScalars.append(hex[Int(byte >> 4)])
                    out.unicodeScalars.append(hex[Int(byte & 0x0F)])
                }
            }
        }
        return out + "?="
    }
}
