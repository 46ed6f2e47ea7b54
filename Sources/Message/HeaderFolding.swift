// Writing header fields: folding long fields into lines (RFC 5322 §2.2.3), with RFC 2047
// encoded-words laid out to fit the lines they land on.

/// Why a header field could not be written.
public enum HeaderFoldingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The name is empty or has a character outside printable US-ASCII or a colon
    /// (RFC 5322 §3.6.8 ftext).
    case invalidFieldName(String)
    /// The value contains CR or LF. Folding is the writer's job; a line break in a value is a
    /// header injection (RFC 5322 §2.2: a field body never contains CR or LF except in folding).
    case lineBreakInValue(field: String)
    /// A single word of a structured field is so long that even alone on a line it exceeds
    /// 998 octets (RFC 5322 §2.1.1), and structured fields cannot be split inside a word.
    case lineTooLong(field: String, octets: Int)

    public var description: String {
        switch self {
        case .invalidFieldName(let name):
            return "invalid header field name \"\(name)\" (RFC 5322 §3.6.8: printable US-ASCII, no colon)"
        case .lineBreakInValue(let field):
            return "\(field): value contains a line break (RFC 5322 §2.2)"
        case .lineTooLong(let field, let octets):
            return "\(field): a word of \(octets) octets cannot fit a line of 998 octets (RFC 5322 §2.1.1)"
        }
    }
}

/// Folds header fields for writing.
///
/// Lines are kept to 78 characters where whitespace allows (RFC 5322 §2.1.1 SHOULD), and lines
/// that carry an encoded-word to 76 (RFC 2047 §2). A line never exceeds 998 octets, CRLF
/// excluded (RFC 5322 §2.1.1 MUST; RFC 6532 §3.4 counts octets for this limit and characters
/// for the 78 one). Folding inserts CRLF before existing whitespace (RFC 5322 §2.2.3), so
/// unfolding gives back exactly the value that was folded.
public enum HeaderFolding {
    /// RFC 5322 §2.1.1: lines SHOULD be at most 78 characters, CRLF excluded.
    public static let preferredLineLength = 78
    /// RFC 2047 §2: a line containing an encoded-word is at most 76 characters.
    public static let encodedWordLineLength = 76
    /// RFC 5322 §2.1.1: lines MUST be at most 998 octets, CRLF excluded (RFC 6532 §3.4).
    public static let maximumLineLength = 998
    /// The longest run of whitespace kept between two words; see `Layout`.
    static let maximumWhitespaceRun = 128

    /// Folds a structured field (addresses, message identifiers, parameters): `value` is
    /// written as given, and lines break only at its whitespace. Leading and trailing
    /// whitespace of the value is dropped; whitespace inside is kept exactly.
    public static func fold(name: String, value: String) throws(HeaderFoldingError) -> HeaderField {
        var layout = try Layout(fieldName: name)
        guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) else {
            throw .lineBreakInValue(field: name)
        }
        for (whitespace, word) in whitespaceSeparated(value) {
            try layout.structured(word, whitespace: whitespace)
        }
        return layout.field()
    }

    /// Writes an unstructured field (Subject, Comments, RFC 5322 §3.2.5 unstructured): words
    /// that cannot be written as they are become RFC 2047 encoded-words (see
    /// `EncodedWord.encode`), and a word too long for any line is encoded too, since encoded
    /// words can be split where plain words cannot. Line breaks in `text` become spaces.
    /// `allowUTF8`: the message goes with SMTPUTF8, so UTF-8 is written as it is (RFC 6532 §3.2).
    public static func foldText(name: String, text: String, allowUTF8: Bool = false) throws(HeaderFoldingError) -> HeaderField {
        var layout = try Layout(fieldName: name)
        for segment in EncodedWord.segments(text, context: .text, allowUTF8: allowUTF8) {
            try layout.add(segment)
        }
        return layout.field()
    }

    /// RFC 5322 §3.6.8: field-name = 1*ftext, printable US-ASCII except colon.
    public static func isValidFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != UInt8(ascii: ":") }
    }

    /// Splits at runs of space and tab: each word with the whitespace before it (empty for the
    /// first word; leading and trailing whitespace is dropped).
    static func whitespaceSeparated(_ value: String) -> [(whitespace: String, word: String)] {
        var result: [(whitespace: String, word: String)] = []
        var whitespace = ""
        var word = ""
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" {
                if !word.isEmpty {
                    result.append((result.isEmpty ? "" : whitespace, word))
                    whitespace = ""
                    word = ""
                }
                whitespace.unicodeScalars.append(scalar)
            } else {
                word.unicodeScalars.append(scalar)
            }
        }
        if !word.isEmpty { result.append((result.isEmpty ? "" : whitespace, word)) }
        return result
    }

    /// Lays out words and encoded-words into folded lines.
    ///
    /// A bounded layout writes one field ("Name:" then the value); an unbounded one writes a
    /// value on a single line (for `EncodedWord.encode`), still keeping each encoded-word to
    /// 75 characters.
    struct Layout {
        let fieldName: String
        private let bounded: Bool
        /// Finished lines of the value; the first one follows "Name:".
        private var lines: [String] = []
        private var current = ""
        /// Characters on the current line, "Name:" included on the first (RFC 6532 §3.4: the
        /// 78 limit counts characters).
        private var columns: Int
        /// Octets on the current line, for the 998 limit.
        private var octets: Int
        private var lineHasWord = false
        private var lineHasEncodedWord = false
        private var anyWord = false

        init(fieldName: String) throws(HeaderFoldingError) {
            guard HeaderFolding.isValidFieldName(fieldName) else { throw .invalidFieldName(fieldName) }
            self.fieldName = fieldName
            bounded = true
            columns = fieldName.unicodeScalars.count + 1
            octets = fieldName.utf8.count + 1
        }

        /// A layout with no line limit, for a value written on its own.
        static func unbounded() -> Layout { Layout() }

        private init() {
            fieldName = ""
            bounded = false
            columns = 0
            octets = 0
        }

        mutating func add(_ segment: EncodedWord.Segment) throws(HeaderFoldingError) {
            switch segment {
            case .text(let word, let whitespace): text(word, whitespace: whitespace)
            case .atom(let word, let whitespace): try structured(word, whitespace: whitespace)
            case .encoded(let text, let whitespace, let context): encoded(text, whitespace: whitespace, context: context)
            }
        }

        /// The separator before the next word: after "Name:" a single space, at the start of an
        /// unbounded value nothing, otherwise the whitespace given, cut to
        /// `maximumWhitespaceRun`: a longer run could not be folded without a line of
        /// whitespace only (RFC 5322 §3.2.2 forbids it) or a line over 998 octets.
        private func separator(_ whitespace: String) -> String {
            guard anyWord else { return bounded ? " " : "" }
            return whitespace.utf8.count > HeaderFolding.maximumWhitespaceRun
                ? String(whitespace.prefix(HeaderFolding.maximumWhitespaceRun)) : whitespace
        }

        /// A word of a structured field: breaks only at the whitespace before it.
        mutating func structured(_ word: String, whitespace: String) throws(HeaderFoldingError) {
            guard !word.isEmpty else { return }
            let separator = separator(whitespace)
            let addedColumns = separator.unicodeScalars.count + word.unicodeScalars.count
            let addedOctets = separator.utf8.count + word.utf8.count
            if bounded {
                let limit = lineHasEncodedWord ? HeaderFolding.encodedWordLineLength : HeaderFolding.preferredLineLength
                let fitsSoft = columns + addedColumns <= limit
                let fitsHard = octets + addedOctets <= HeaderFolding.maximumLineLength
                // Break before the word when it does not fit, if there is whitespace to break
                // at. Right after "Name:" only when the 998 limit forces it: a lone field name
                // on a line is legal but reads badly.
                if !(fitsSoft && fitsHard) && !separator.isEmpty && (lineHasWord || !fitsHard) {
                    newLine()
                }
            }
            append(separator + word, encoded: false)
            if bounded && octets > HeaderFolding.maximumLineLength {
                throw .lineTooLong(field: fieldName, octets: word.utf8.count)
            }
        }

        /// A word of unstructured text: written as it is, unless even alone on a line it would
        /// exceed 998 octets; then it is encoded (RFC 2047 §5(1) allows any word of *text
        /// to be an encoded-word, and encoded-words can be split anywhere between characters).
        mutating func text(_ word: String, whitespace: String) {
            let separator = separator(whitespace)
            if bounded && max(separator.utf8.count, 1) + word.utf8.count > HeaderFolding.maximumLineLength {
                encoded(word, whitespace: whitespace, context: .text)
                return
            }
            // Cannot throw: the word fits a line of its own.
            do { try structured(word, whitespace: whitespace) } catch {}
        }

        /// Text to be written as one or more encoded-words (RFC 2047). Each word is at most 75
        /// characters (§2) and as long as the line allows, holds whole characters only (§5:
        /// a multi-octet character is never split across words), and is separated from what
        /// precedes it by whitespace (§5(1)). Whitespace between adjacent encoded-words is
        /// ignored by decoders (§6.2), so breaking between them changes nothing.
        mutating func encoded(_ text: String, whitespace: String, context: EncodedWord.Context) {
            let units = EncodedWord.units(text)
            guard !units.isEmpty else { return }
            let scheme = EncodedWord.scheme(for: units, context: context)
            var separator = separator(whitespace)
            if anyWord && separator.isEmpty { separator = " " }
            var index = 0
            while index < units.count {
                var room = EncodedWord.maximumLength
                if bounded {
                    room = min(room, HeaderFolding.encodedWordLineLength - columns - separator.unicodeScalars.count)
                }
                var taken = 0
                var pending: [UInt8] = []
                while index + taken < units.count {
                    let candidate = pending + units[index + taken]
                    let candidateLength = EncodedWord.overhead + EncodedWord.payloadLength(candidate, scheme: scheme, context: context)
                    if candidateLength > room { break }
                    pending = candidate
                    taken += 1
                }
                let finishesRun = index + taken == units.count
                // Start a new line when nothing fits, or when only a stub word would (fewer
                // than 16 characters of payload) and more text follows.
                let stub = !finishesRun && room - EncodedWord.overhead < 16 && lineHasWord
                if bounded && (taken == 0 || stub) && columns > 0 {
                    newLine()
                    if separator.isEmpty { separator = " " }
                    continue
                }
                if taken == 0 {
                    // Unreachable with units of at most 21 octets, kept so the loop always ends.
                    pending = units[index]
                    taken = 1
                }
                append(separator + EncodedWord.word(pending, scheme: scheme, context: context), encoded: true)
                separator = " "
                index += taken
            }
        }

        private mutating func append(_ text: String, encoded: Bool) {
            current += text
            columns += text.unicodeScalars.count
            octets += text.utf8.count
            lineHasWord = true
            anyWord = true
            if encoded { lineHasEncodedWord = true }
        }

        private mutating func newLine() {
            lines.append(current)
            current = ""
            columns = 0
            octets = 0
            lineHasWord = false
            lineHasEncodedWord = false
        }

        /// The folded field, with CRLF + whitespace continuations.
        func field() -> HeaderField {
            HeaderField(name: fieldName, foldedValue: (lines + [current]).joined(separator: "\r\n"))
        }

        /// The value of an unbounded layout.
        var value: String { (lines + [current]).joined(separator: "\r\n") }
    }
}
