import DNS

/// An MTA-STS policy (RFC 8461 §3.2), parsed from the text the Policy Host serves, which is
/// kept as it was: TLS reports quote it (RFC 8460 §4.4 "policy-string") and the cache stores
/// it.
public struct STSPolicy: Hashable, Sendable {
    /// What a sender does when an MX fails validation (RFC 8461 §5).
    public enum Mode: String, Hashable, Sendable {
        /// Deliver only to MX hosts that match a pattern and present a valid certificate.
        case enforce
        /// Deliver anyway, and report the failure (RFC 8460).
        case testing
        /// As if the domain had no policy; a step in removing one (RFC 8461 §8.3).
        case none
    }

    public let mode: Mode
    /// The allowed MX hosts; empty only in mode none.
    public let mx: [MXPattern]
    /// How long the policy may be cached after it was fetched, in seconds.
    public let maxAge: Int
    /// The policy as served.
    public let text: String

    /// RFC 8461 §3.2: "maximum value of 31557600" (a year of 365.25 days).
    public static let maximumMaxAge = 31_557_600
    /// `sts-policy-ext-name`: a letter or digit and up to 31 more characters.
    static let maximumFieldNameLength = 32
    /// `sts-policy-max-age-value = 1*10(DIGIT)`.
    static let maximumMaxAgeDigits = 10

    /// Parses a policy: lines of `name: value` ended by LF or CRLF (RFC 8461 §3.2). Unknown
    /// fields are ignored; of a repeated field other than `mx` the first counts and the others
    /// are ignored, as §3.2 asks ("all entries except for the first SHALL be ignored").
    ///
    /// One leniency: empty lines are skipped. The grammar has none, but policies in the wild
    /// end with an extra newline, and an empty line carries no field, so skipping it cannot
    /// change what a policy says.
    public init(parsing text: String) throws(STSPolicySyntaxError) {
        var first: [String: (line: Int, value: String)] = [:]
        var mxValues: [(line: Int, value: String)] = []
        for (index, rawLine) in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.last == UInt8(ascii: "\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformedLine(line: number, text: String(decoding: line, as: UTF8.self))
            }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            guard isFieldName(name.utf8, maximumLength: Self.maximumFieldNameLength) else { throw .invalidFieldName(line: number, name: name) }
            // sts-policy-field-delim = ":" *WSP, and a field may be followed by *WSP.
            let valueBytes = trimmingWhitespace(line[(colon + 1)...])
            let value = String(decoding: valueBytes, as: UTF8.self)
            // sts-policy-ext-value: visible characters (UTF-8 allowed) and inner spaces, so
            // no control characters, and not empty.
            guard !valueBytes.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw .invalidFieldValue(line: number, name: name, value: value)
            }
            if name == "mx" {
                mxValues.append((number, value))
            } else if first[name] == nil {
                first[name] = (number, value)
            }
        }

        guard let version = first["version"] else { throw .missingVersion }
        guard version.value == "STSv1" else { throw .unsupportedVersion(version.value) }
        guard let modeField = first["mode"] else { throw .missingMode }
        guard let mode = Mode(rawValue: modeField.value) else { throw .invalidMode(modeField.value) }
        guard let maxAgeField = first["max_age"] else { throw .missingMaxAge }
        let digits = maxAgeField.value.utf8
        guard digits.count <= Self.maximumMaxAgeDigits, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let maxAge = Int(maxAgeField.value)
        else { throw .invalidMaxAge(maxAgeField.value) }
        guard maxAge <= Self.maximumMaxAge else { throw .maxAgeTooLarge(maxAge) }
        var patterns: [MXPattern] = []
        for field in mxValues {
            do {
                patterns.append(try MXPattern(parsing: field.value))
            } catch {
                throw .invalidMX(line: field.line, pattern: field.value, reason: error)
            }
        }
        // RFC 8461 §3.2: mx is "required at least once, except when mode is 'none'".
        guard mode == .none || !patterns.isEmpty else { throw .missingMX(mode: mode) }

        self.mode = mode
        self.mx = patterns
        self.maxAge = maxAge
        self.text = text
    }

    /// A policy to publish, its text written as RFC 8461 §3.2 shows it: CRLF after every
    /// line, version first, one `mx` line per pattern. The text is read back with
    /// `init(parsing:)`, so what a Policy Host serves is exactly what a sender would accept.
    ///
    /// - Throws: what the parser finds wrong: `max_age` out of range, no `mx` in mode
    ///   enforce or testing.
    public init(mode: Mode, mx: [MXPattern], maxAge: Int) throws(STSPolicySyntaxError) {
        let lines = ["version: STSv1", "mode: \(mode.rawValue)"] + mx.map { "mx: \($0)" } + ["max_age: \(maxAge)"]
        try self.init(parsing: lines.map { $0 + "\r\n" }.joined())
    }

    /// Whether `host`, the name of an MX record, is one this policy allows (RFC 8461 §4.1).
    public func allows(mxHost host: DNSName) -> Bool {
        mx.contains { $0.matches(host) }
    }
}

/// Why a policy text is not a valid STSv1 policy. Lines count from 1.
public enum STSPolicySyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The body is not UTF-8 (RFC 8461 §3.2 allows UTF-8 in extension values, nothing else).
    case notUTF8
    /// A line without ":".
    case malformedLine(line: Int, text: String)
    /// A field name that is not a letter or digit followed by at most 31 letters, digits, "_",
    /// "-" or "." (so also a line starting with a space, or a space before the ":").
    case invalidFieldName(line: Int, name: String)
    /// An empty value, or one with control characters.
    case invalidFieldValue(line: Int, name: String, value: String)
    case missingVersion
    case unsupportedVersion(String)
    case missingMode
    case invalidMode(String)
    case missingMaxAge
    /// Not 1 to 10 digits.
    case invalidMaxAge(String)
    /// More than `STSPolicy.maximumMaxAge`.
    case maxAgeTooLarge(Int)
    case invalidMX(line: Int, pattern: String, reason: MXPatternError)
    /// No `mx` field in mode enforce or testing.
    case missingMX(mode: STSPolicy.Mode)

    public var description: String {
        switch self {
        case .notUTF8: return "the policy is not UTF-8 text"
        case let .malformedLine(line, text): return "line \(line): \(quoted(text)) is not \"name: value\""
        case let .invalidFieldName(line, name): return "line \(line): invalid field name \(quoted(name))"
        case let .invalidFieldValue(line, name, value): return "line \(line): field \(name) has an invalid value \(quoted(value))"
        case .missingVersion: return "no version field"
        case let .unsupportedVersion(version): return "version \(quoted(version)) is not STSv1"
        case .missingMode: return "no mode field"
        case let .invalidMode(mode): return "mode \(quoted(mode)) is not enforce, testing or none"
        case .missingMaxAge: return "no max_age field"
        case let .invalidMaxAge(value): return "max_age \(quoted(value)) is not 1 to \(STSPolicy.maximumMaxAgeDigits) digits"
        case let .maxAgeTooLarge(value): return "max_age \(value) is more than \(STSPolicy.maximumMaxAge)"
        case let .invalidMX(line, pattern, reason): return "line \(line): mx \(quoted(pattern)): \(reason)"
        case let .missingMX(mode): return "no mx field, which mode \(mode.rawValue) requires"
        }
    }
}
