// The Authentication-Results header field (RFC 8601): how a receiving host reports the
// message authentication it did (SPF, DKIM, DMARC, iprev, ...), under its authentication
// service identifier (authserv-id). Writing one, and reading the identifier and version of
// fields already in a message, which a receiver must remove when they claim to be its own
// (§5) or use a version it does not know.

/// One Authentication-Results field (RFC 8601 §2.2).
public struct AuthenticationResults: Hashable, Sendable {
    /// ptype.property=pvalue (§2.3), e.g. smtp.mailfrom=example.net.
    public struct Property: Hashable, Sendable {
        public var type: String
        public var name: String
        public var value: String

        public init(_ type: String, _ name: String, _ value: String) {
            self.type = type
            self.name = name
            self.value = value
        }
    }

    /// One resinfo: method=result, a comment, reason= and properties (§2.2).
    public struct Result: Hashable, Sendable {
        public var method: String
        public var result: String
        /// Written as a comment after the result, e.g. "(DNSSEC)".
        public var comment: String?
        /// reason= (§2.2 reasonspec): free text for a human.
        public var reason: String?
        public var properties: [Property]

        public init(method: String, result: String, comment: String? = nil, reason: String? = nil, properties: [Property] = []) {
            self.method = method
            self.result = result
            self.comment = comment
            self.reason = reason
            self.properties = properties
        }
    }

    public static let fieldName = "Authentication-Results"
    /// §2.2: the version this writes and reads; a field without one is version 1.
    public static let version = 1

    public var authservID: String
    public var results: [Result]

    public init(authservID: String, results: [Result]) {
        self.authservID = authservID
        self.results = results
    }

    /// The field, with its CRLF: each resinfo on a line of its own, as RFC 8601's examples
    /// show, folded further only between its parts, never inside a comment or a quoted
    /// reason. Without results, "none" (§2.2 no-result). Comments and values are cleaned to
    /// printable ASCII and quoted where the grammar needs it, so a sender's text (a reason,
    /// an EHLO name) cannot break the field.
    public func field() throws(HeaderFoldingError) -> HeaderField {
        let head = "\(Self.fieldName): \(Self.value(authservID));"
        guard !results.isEmpty else {
            return try HeaderFolding.fold(name: Self.fieldName, value: "\(Self.value(authservID)); none")
        }
        var lines = [head]
        for (index, result) in results.enumerated() {
            var parts = ["\(result.method)=\(result.result)"]
            if let comment = result.comment { parts.append("(\(Self.commentText(comment)))") }
            if let reason = result.reason { parts.append("reason=\(Self.quoted(String(reason.prefix(Self.reasonLimit))))") }
            for property in result.properties {
                let part = "\(property.type).\(property.name)=\(Self.propertyValue(property.value))"
                if part.utf8.count <= Self.propertyLimit { parts.append(part) }
            }
            if index < results.count - 1 { parts[parts.count - 1] += ";" }
            var line = "\t" + parts[0]
            for part in parts.dropFirst() {
                if line.count + 1 + part.count > HeaderFolding.preferredLineLength {
                    lines.append(line)
                    line = "\t" + part
                } else {
                    line += " " + part
                }
            }
            lines.append(line)
        }
        let text = lines.joined(separator: "\r\n") + "\r\n"
        guard lines.allSatisfy({ $0.utf8.count <= HeaderFolding.maximumLineLength }), let field = HeaderField(raw: Array(text.utf8)) else {
            throw .lineTooLong(field: Self.fieldName, octets: lines.map(\.utf8.count).max() ?? 0)
        }
        return field
    }

    /// reason= is for people; longer texts are cut so the field stays readable and its
    /// lines within RFC 5322's limit.
    static let reasonLimit = 200

    /// Octets of one written property; a longer one is left out (RFC 8601 §2.7 makes every
    /// property optional). A sender chooses some values (a DKIM selector, a HELO name), and
    /// one too long for RFC 5322's 998-octet line must not make the field unwritable, which
    /// would make the message impossible to accept.
    static let propertyLimit = 500

    /// The authserv-id and version (nil when absent, i.e. 1) of an existing field's value;
    /// nil when the value does not start as §2.2 says (such a field cannot be trusted either).
    public static func identifier(ofValue value: [UInt8]) -> (authservID: String, version: Int?)? {
        var scanner = Scanner(value)
        scanner.skipCFWS()
        guard let id = scanner.value(), !id.isEmpty else { return nil }
        scanner.skipCFWS()
        let digits = scanner.digits()
        if !digits.isEmpty { scanner.skipCFWS() }
        // After the identifier (and version): a resinfo, "; none", or the end.
        guard scanner.atEnd || scanner.peek == UInt8(ascii: ";") else { return nil }
        return (id, digits.isEmpty ? nil : Int(digits))
    }

    /// Whether a received field must go before this host adds its own (§5): it claims this
    /// host's identifier (compared without case), or has a version this host does not know,
    /// or cannot be read.
    public static func mustRemove(_ field: HeaderField, authservID: String) -> Bool {
        guard field.name.lowercased() == fieldName.lowercased() else { return false }
        guard let (id, version) = identifier(ofValue: field.unfoldedValue) else { return true }
        return id.lowercased() == authservID.lowercased() || (version.map { $0 != Self.version } ?? false)
    }

    // MARK: Writing

    /// RFC 2045 token characters: printable ASCII but space and tspecials.
    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        (33...126).contains(scalar.value) && !"()<>@,;:\\\"/[]?=".unicodeScalars.contains(scalar)
    }

    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }

    /// value = token / quoted-string (RFC 2045 §5.1).
    static func value(_ text: String) -> String {
        let clean = printable(text)
        return !clean.isEmpty && clean.unicodeScalars.allSatisfy(isTokenCharacter) ? clean : quoted(clean)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in printable(text).unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out + "\""
    }

    /// pvalue (§2.2): a value, or [local-part "@"] domain written as it is.
    static func propertyValue(_ text: String) -> String {
        let clean = printable(text)
        let isAddress = clean.unicodeScalars.allSatisfy { isTokenCharacter($0) || $0 == "@" } && !clean.isEmpty
            && clean.unicodeScalars.filter { $0 == "@" }.count <= 1
        return isAddress ? clean : value(clean)
    }

    /// ctext with "(", ")" and "\" as quoted-pairs (RFC 5322 §3.2.2).
    static func commentText(_ text: String) -> String {
        var out = ""
        for scalar in printable(text).unicodeScalars {
            if scalar == "(" || scalar == ")" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    // MARK: Reading

    /// Just enough of RFC 5322's lexical grammar for the field's start: CFWS (with nested
    /// comments), tokens, quoted-strings and digits.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[index] }

        mutating func skipCFWS() {
            var depth = 0
            while let byte = peek {
                if byte == UInt8(ascii: "\\"), depth > 0 {
                    index += 2
                } else if byte == UInt8(ascii: "(") {
                    depth += 1
                    index += 1
                } else if byte == UInt8(ascii: ")"), depth > 0 {
                    depth -= 1
                    index += 1
                } else if depth > 0 || byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A {
                    index += 1
                } else {
                    return
                }
            }
        }

        /// A token or a quoted-string's content.
        mutating func value() -> String? {
            if peek == UInt8(ascii: "\"") {
                index += 1
                var out: [UInt8] = []
                while let byte = peek {
                    index += 1
                    if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                    if byte == UInt8(ascii: "\\"), let next = peek {
                        out.append(next)
                        index += 1
                    } else {
                        out.append(byte)
                    }
                }
                return nil
            }
            let start = index
            // RFC 6532: an identifier may be UTF-8 (EAI), so octets above 127 count as token.
            while let byte = peek, byte > 126 || AuthenticationResults.isTokenCharacter(Unicode.Scalar(byte)) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func digits() -> String {
            let start = index
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }
}
