import Logging

/// logfmt encoding of keys and values.
///
/// Values are written bare when that is unambiguous, otherwise in double quotes. Every
/// scalar that could hide or forge text on an operator's terminal or in a log viewer is
/// escaped, because log values routinely come from peers (HELO names, addresses,
/// commands): a raw newline would let a peer inject a fake log line, a bidi override
/// (U+202E) would make a line read differently from what it contains.
///
/// Composite metadata values are flattened before quoting: an array as `[a,b]`, a
/// dictionary as `{k=v,...}` with keys sorted and sanitized like top-level keys. Inside
/// them an element is quoted (same escapes) when it is empty or contains a space, `=`,
/// `"`, `\`, `,`, `[`, `]`, `{`, `}` or an escaped scalar, so the structure stays
/// unambiguous; the flattened text is then quoted as a whole as needed.
enum Logfmt {
    /// Appends `value`, bare or quoted. `structural` additionally quotes on `,[]{}`,
    /// for elements inside a flattened array or dictionary.
    static func appendValue(_ value: String, to out: inout String, structural: Bool = false) {
        guard needsQuoting(value, structural: structural) else {
            out += value
            return
        }
        out += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if mustEscape(scalar) {
                    appendHexEscape(scalar, to: &out)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    static func value(_ value: String, structural: Bool = false) -> String {
        var out = ""
        appendValue(value, to: &out, structural: structural)
        return out
    }

    /// A key with every scalar outside [A-Za-z0-9_.-] replaced by `_`; `_` for an empty key.
    /// Keys are never quoted, so they must not contain anything a value could.
    static func key(_ key: String) -> String {
        if key.isEmpty { return "_" }
        if key.utf8.allSatisfy(isKeyByte) { return key }
        var out = ""
        for scalar in key.unicodeScalars {
            if scalar.isASCII, isKeyByte(UInt8(scalar.value)) {
                out.unicodeScalars.append(scalar)
            } else {
                out += "_"
            }
        }
        return out
    }

    /// The text of a metadata value before quoting; see the type's documentation.
    static func flatten(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text):
            return text
        case .stringConvertible(let convertible):
            return convertible.description
        case .array(let elements):
            var out = "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                appendElement(element, to: &out)
            }
            return out + "]"
        case .dictionary(let dictionary):
            var out = "{"
            for (index, entry) in sortedEntries(dictionary).enumerated() {
                if index > 0 { out += "," }
                out += entry.key
                out += "="
                appendElement(entry.value, to: &out)
            }
            return out + "}"
        }
    }

    /// Metadata entries with sanitized keys, sorted by sanitized key and then by the
    /// original key, so output order is stable even when two keys sanitize alike.
    static func sortedEntries(_ metadata: Logger.Metadata) -> [(key: String, value: Logger.MetadataValue)] {
        metadata
            .map { (original: $0.key, key: key($0.key), value: $0.value) }
            .sorted { $0.key != $1.key ? $0.key < $1.key : $0.original < $1.original }
            .map { (key: $0.key, value: $0.value) }
    }

    private static func appendElement(_ element: Logger.MetadataValue, to out: inout String) {
        switch element {
        case .array, .dictionary:
            // Nested structure is already delimited by its brackets.
            out += flatten(element)
        case .string, .stringConvertible:
            appendValue(flatten(element), to: &out, structural: true)
        }
    }

    private static func needsQuoting(_ value: String, structural: Bool) -> Bool {
        if value.isEmpty { return true }
        for scalar in value.unicodeScalars {
            switch scalar {
            case " ", "=", "\"", "\\":
                return true
            case ",", "[", "]", "{", "}":
                if structural { return true }
            default:
                if mustEscape(scalar) { return true }
            }
        }
        return false
    }

    /// Scalars written as `\xHH`/`\uHHHH`/`\UHHHHHHHH` (or a short escape for \n \r \t):
    /// controls (Cc), format characters (Cf: bidi overrides, zero-width joiners, BOM),
    /// line and paragraph separators, and all whitespace except the plain space.
    static func mustEscape(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value >= 0x20 && scalar.value < 0x7F { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            return true
        default:
            return scalar.properties.isWhitespace
        }
    }

    private static func appendHexEscape(_ scalar: Unicode.Scalar, to out: inout String) {
        let value = scalar.value
        let (prefix, width) =
            switch value {
            case ...0xFF: ("\\x", 2)
            case ...0xFFFF: ("\\u", 4)
            default: ("\\U", 8)
            }
        let digits = String(value, radix: 16)
        out += prefix
        out += String(repeating: "0", count: max(0, width - digits.count))
        out += digits
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }
}
