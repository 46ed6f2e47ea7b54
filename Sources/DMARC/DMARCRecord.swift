// The DMARC record (RFC 7489 §6.3, §6.4) and its parser. This file imports nothing, so the
// fuzz target compiles it on its own (Fuzz/run.sh dmarc-record).

/// The policy a Domain Owner requests for mail that fails DMARC (RFC 7489 §6.3 "p" and "sp"),
/// and the disposition a receiver applies. Ordered from the least to the most strict.
public enum Policy: String, Hashable, Sendable, Comparable, Codable {
    case none, quarantine, reject

    public static func < (lhs: Policy, rhs: Policy) -> Bool {
        lhs.strictness < rhs.strictness
    }

    private var strictness: Int {
        switch self {
        case .none: return 0
        case .quarantine: return 1
        case .reject: return 2
        }
    }
}

/// Identifier alignment mode (RFC 7489 §3.1, "adkim" and "aspf"); the raw value is the tag's.
public enum AlignmentMode: String, Hashable, Sendable, Codable {
    case relaxed = "r"
    case strict = "s"
}

/// A failure reporting option of the "fo" tag (RFC 7489 §6.3).
public enum FailureReportingOption: String, Hashable, Sendable, Codable {
    /// "0": report when all mechanisms fail to give an aligned pass.
    case allFailed = "0"
    /// "1": report when any mechanism gives something other than an aligned pass.
    case anyFailed = "1"
    /// "d": report a DKIM signature that failed evaluation, aligned or not.
    case dkimFailed = "d"
    /// "s": report an SPF failure, aligned or not.
    case spfFailed = "s"
}

/// A report destination of "rua" or "ruf" (RFC 7489 §6.2): a URI and an optional size limit.
public struct ReportURI: Hashable, Sendable, CustomStringConvertible {
    /// The URI as written, percent-encoding kept, without the size limit.
    public var uri: String
    /// The scheme, lowercase (RFC 3986 §3.1: schemes compare case-insensitively), e.g. "mailto".
    public var scheme: String
    /// The largest report the destination accepts, when given.
    public var sizeLimit: ReportSizeLimit?

    public init(uri: String, scheme: String, sizeLimit: ReportSizeLimit?) {
        self.uri = uri
        self.scheme = scheme
        self.sizeLimit = sizeLimit
    }

    /// As written in a record: "mailto:reports@example.com!50m".
    public var description: String {
        sizeLimit.map { "\(uri)!\($0)" } ?? uri
    }
}

/// A maximum report size (RFC 7489 §6.4): a count of units, where the units are powers of two.
public struct ReportSizeLimit: Hashable, Sendable, CustomStringConvertible {
    public enum Unit: String, Hashable, Sendable {
        case bytes = ""
        case kilobytes = "k"
        case megabytes = "m"
        case gigabytes = "g"
        case terabytes = "t"

        /// "a kilobyte is 2^10, a megabyte is 2^20, etc."
        var shift: UInt64 {
            switch self {
            case .bytes: return 0
            case .kilobytes: return 10
            case .megabytes: return 20
            case .gigabytes: return 30
            case .terabytes: return 40
            }
        }
    }

    public var count: UInt64
    public var unit: Unit

    public init(count: UInt64, unit: Unit) {
        self.count = count
        self.unit = unit
    }

    /// The limit in octets; a limit beyond what 64 bits hold is no limit in practice, so it
    /// saturates at `UInt64.max`.
    public var bytes: UInt64 {
        count > UInt64.max >> unit.shift ? UInt64.max : count << unit.shift
    }

    public var description: String { "\(count)\(unit.rawValue)" }
}

/// A tag as written in a record, for display; names lowercase.
public struct DMARCTag: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A parsed DMARC policy record (RFC 7489 §6.3). Tags not written have their defaults.
///
/// Parsing follows §6.3: the record must start with "v=DMARC1" and have a valid "p"; unknown
/// tags are ignored; a known tag with a syntax error is ignored in favour of its default and
/// noted in `problems`. A record whose "p" is missing or invalid, or whose "sp" is invalid, is
/// an error, except that with at least one valid "rua" URI it is taken as "p=none" (§6.6.3 step
/// 6.1), so that its owner still gets the aggregate reports that tell them about the mistake.
/// "p" may come anywhere after "v": §6.3 asks that they "appear in that order", which a first
/// "v" already ensures, and deployed records put "p" after "rua" with no doubt about meaning;
/// only §6.4's grammar is stricter.
public struct DMARCRecord: Hashable, Sendable {
    /// "p": the policy for the domain queried (and its subdomains when there is no "sp").
    public var policy: Policy
    /// "sp": the policy for subdomains, when written.
    public var subdomainPolicy: Policy?
    /// "pct": the percentage of failing messages the policy is applied to (0 through 100).
    public var percentage: Int
    /// "rua": where aggregate reports go; only valid URIs.
    public var aggregateReportURIs: [ReportURI]
    /// "ruf": where failure reports go; only valid URIs.
    public var failureReportURIs: [ReportURI]
    /// "adkim".
    public var dkimAlignment: AlignmentMode
    /// "aspf".
    public var spfAlignment: AlignmentMode
    /// "fo"; RFC 7489 §6.3 says it is to be ignored without "ruf", which is the failure report
    /// sender's business, so it is kept as written.
    public var failureReportingOptions: [FailureReportingOption]
    /// "rf": the failure report formats, only registered ones ("afrf", RFC 7489 §11.5).
    public var reportFormats: [String]
    /// "ri": the requested interval between aggregate reports, in seconds.
    public var reportInterval: UInt32
    /// Every tag as written, in order, including unknown and ignored ones.
    public var tags: [DMARCTag]
    /// What was ignored or replaced while parsing.
    public var problems: [DMARCRecordProblem]

    public static let defaultPercentage = 100
    public static let defaultReportInterval: UInt32 = 86400
    /// RFC 7489 §11.5: the only registered failure report format.
    public static let registeredReportFormats = ["afrf"]

    /// The policy for a message whose author domain is the domain the record was found for
    /// (`isSubdomain` false) or one of its subdomains (RFC 7489 §6.3 "sp": "If absent, the
    /// policy specified by the "p" tag MUST be applied for subdomains").
    public func policy(forSubdomain isSubdomain: Bool) -> Policy {
        isSubdomain ? subdomainPolicy ?? policy : policy
    }

    /// RFC 7489 §6.6.3 steps 2 and 4: whether a TXT record starts with a "v" tag naming the
    /// current version of DMARC: "v", optional white space, "=", optional white space, exactly
    /// "DMARC1" (§6.4 gives its octets, so case matters), then the end or a ";".
    public static func isDMARCRecord(_ text: String) -> Bool {
        guard let first = TagList.split(Array(text.utf8)).first, let tag = TagList.tag(first) else { return false }
        return tag.name == "v" && tag.value == "DMARC1"
    }

    /// Parses a record's text (the TXT record's strings concatenated, RFC 7489 §6.1).
    public init(parsing text: String) throws(DMARCRecordError) {
        let list = try TagList(parsing: text)
        policy = .none
        subdomainPolicy = nil
        percentage = Self.defaultPercentage
        aggregateReportURIs = []
        failureReportURIs = []
        dkimAlignment = .relaxed
        spfAlignment = .relaxed
        failureReportingOptions = [.allFailed]
        reportFormats = Self.registeredReportFormats
        reportInterval = Self.defaultReportInterval
        tags = list.tags
        problems = list.problems

        var policyError: DMARCRecordError? = .missingPolicy
        var subdomainPolicyError: DMARCRecordError?
        for tag in list.tags.dropFirst() {
            switch tag.name {
            case "p":
                if let value = Policy(keyword: tag.value) {
                    policy = value
                    policyError = nil
                } else {
                    policyError = .invalidPolicy(tag.value)
                }
            case "sp":
                if let value = Policy(keyword: tag.value) {
                    subdomainPolicy = value
                } else {
                    subdomainPolicyError = .invalidSubdomainPolicy(tag.value)
                }
            case "rua":
                aggregateReportURIs = parseURIs(tag)
            case "ruf":
                failureReportURIs = parseURIs(tag)
            case "adkim":
                dkimAlignment = parseAlignment(tag) ?? dkimAlignment
            case "aspf":
                spfAlignment = parseAlignment(tag) ?? spfAlignment
            case "pct":
                // dmarc-percent = 1*3DIGIT, "between 0 and 100, inclusive".
                if let value = TagList.number(tag.value, maximumDigits: 3), value <= 100 {
                    percentage = Int(value)
                } else {
                    problems.append(.invalidValue(tag, expected: "a percentage from 0 to 100", defaultValue: "\(Self.defaultPercentage)"))
                }
            case "ri":
                // "plain-text 32-bit unsigned integer".
                if let value = TagList.number(tag.value, maximumDigits: 10), value <= UInt64(UInt32.max) {
                    reportInterval = UInt32(value)
                } else {
                    problems.append(.invalidValue(tag, expected: "a number of seconds (32-bit)", defaultValue: "\(Self.defaultReportInterval)"))
                }
            case "fo":
                parseFailureOptions(tag)
            case "rf":
                parseReportFormats(tag)
            default:
                // RFC 7489 §6.3: "unknown tags MUST be ignored".
                continue
            }
        }
        if let policyError = policyError ?? subdomainPolicyError {
            // RFC 7489 §6.6.3 step 6: without a valid "p" (or with an invalid "sp"), a record
            // with a valid "rua" URI counts as "p=none"; any other is not applied at all.
            guard !aggregateReportURIs.isEmpty else { throw policyError }
            policy = .none
            subdomainPolicy = nil
            problems.append(.policyNoneForReports(policyError))
        }
    }

    /// "rua"/"ruf": dmarc-uri *(*WSP "," *WSP dmarc-uri); invalid URIs are left out, each
    /// noted. Commas inside a URI are percent-encoded (§6.2), so every comma separates.
    private mutating func parseURIs(_ tag: DMARCTag) -> [ReportURI] {
        var uris: [ReportURI] = []
        for item in tag.value.split(separator: ",", omittingEmptySubsequences: false) {
            let text = TagList.trimmed(Array(item.utf8)[...])
            switch ReportURI.parse(text) {
            case let .success(uri): uris.append(uri)
            case let .failure(reason): problems.append(.invalidReportURI(tag: tag.name, uri: String(decoding: text, as: UTF8.self), reason: reason))
            }
        }
        return uris
    }

    private mutating func parseAlignment(_ tag: DMARCTag) -> AlignmentMode? {
        guard let mode = AlignmentMode(rawValue: tag.value.lowercased()) else {
            problems.append(.invalidValue(tag, expected: "r (relaxed) or s (strict)", defaultValue: AlignmentMode.relaxed.rawValue))
            return nil
        }
        return mode
    }

    /// dmarc-fo: ( "0" / "1" / "d" / "s" ) *(*WSP ":" *WSP ( "0" / "1" / "d" / "s" )).
    private mutating func parseFailureOptions(_ tag: DMARCTag) {
        var options: [FailureReportingOption] = []
        for item in TagList.colonList(tag.value) {
            guard let option = FailureReportingOption(rawValue: item.lowercased()) else {
                problems.append(.invalidValue(tag, expected: "0, 1, d or s, separated by colons", defaultValue: FailureReportingOption.allFailed.rawValue))
                return
            }
            if !options.contains(option) { options.append(option) }
        }
        failureReportingOptions = options
    }

    /// dmarc-rfmt: Keyword *(*WSP ":" Keyword); "a Mail Receiver observing a different value
    /// [than a registered one] SHOULD ignore it" (§6.3).
    private mutating func parseReportFormats(_ tag: DMARCTag) {
        var formats: [String] = []
        for item in TagList.colonList(tag.value) {
            let format = item.lowercased()
            if Self.registeredReportFormats.contains(format) {
                if !formats.contains(format) { formats.append(format) }
            } else {
                problems.append(.unknownReportFormat(item))
            }
        }
        if !formats.isEmpty { reportFormats = formats }
    }
}

extension Policy {
    /// "none" / "quarantine" / "reject"; quoted ABNF strings are case-insensitive (RFC 5234 §2.3).
    init?(keyword: String) {
        self.init(rawValue: keyword.lowercased())
    }
}

extension ReportURI {
    /// dmarc-uri = URI [ "!" 1*DIGIT [ "k" / "m" / "g" / "t" ] ] (RFC 7489 §6.4). A URI is valid
    /// here when it has a scheme (RFC 3986 §3.1), something after the colon, and only octets a
    /// URI may hold, with well-formed percent-encoding (RFC 3986 §2); commas and exclamation
    /// points must be percent-encoded (§6.2), so the first "!" starts the size limit.
    static func parse(_ text: ArraySlice<UInt8>) -> Result<ReportURI, ReportURIError> {
        var uri = text
        var sizeLimit: ReportSizeLimit?
        if let bang = text.firstIndex(of: UInt8(ascii: "!")) {
            uri = text[..<bang]
            guard let limit = ReportSizeLimit.parse(text[(bang + 1)...]) else { return .failure(.invalidSizeLimit) }
            sizeLimit = limit
        }
        guard let colon = uri.firstIndex(of: UInt8(ascii: ":")) else { return .failure(.missingScheme) }
        let scheme = uri[..<colon]
        guard let first = scheme.first, TagList.isLetter(first),
              scheme.allSatisfy({ TagList.isLetter($0) || TagList.isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") })
        else { return .failure(.missingScheme) }
        let rest = uri[(colon + 1)...]
        guard !rest.isEmpty else { return .failure(.empty) }
        var index = rest.startIndex
        while index < rest.endIndex {
            let byte = rest[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < rest.endIndex, TagList.isHexDigit(rest[index + 1]), TagList.isHexDigit(rest[index + 2]) else {
                    return .failure(.badPercentEncoding)
                }
                index += 3
                continue
            }
            guard isURIOctet(byte) else { return .failure(.invalidCharacter(byte)) }
            index += 1
        }
        return .success(ReportURI(
            uri: String(decoding: uri, as: UTF8.self), scheme: String(decoding: scheme, as: UTF8.self).lowercased(), sizeLimit: sizeLimit))
    }

    /// RFC 3986 §2.2, §2.3: unreserved and reserved characters, less "," and "!" (RFC 7489 §6.2).
    private static func isURIOctet(_ byte: UInt8) -> Bool {
        TagList.isLetter(byte) || TagList.isDigit(byte) || uriPunctuation.contains(byte)
    }

    private static let uriPunctuation = Set("-._~:/?#[]@$&'()*+;=".utf8)
}

extension ReportSizeLimit {
    /// 1*DIGIT [ "k" / "m" / "g" / "t" ]; "the numeric portion MUST fit within an unsigned
    /// 64-bit integer".
    static func parse(_ text: ArraySlice<UInt8>) -> ReportSizeLimit? {
        var digits = text
        var unit = Unit.bytes
        if let last = text.last, !TagList.isDigit(last) {
            guard let named = Unit(rawValue: String(decoding: [TagList.lowercased(last)], as: UTF8.self)), named != .bytes else { return nil }
            unit = named
            digits = text.dropLast()
        }
        guard let count = TagList.number(String(decoding: digits, as: UTF8.self), maximumDigits: 20) else { return nil }
        return ReportSizeLimit(count: count, unit: unit)
    }
}

/// Why a "rua" or "ruf" URI was left out.
public enum ReportURIError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case missingScheme
    case invalidCharacter(UInt8)
    case badPercentEncoding
    case invalidSizeLimit

    public var description: String {
        switch self {
        case .empty: return "nothing after the scheme"
        case .missingScheme: return "no URI scheme (such as mailto:)"
        case let .invalidCharacter(byte):
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "!") {
                return "'\(Character(Unicode.Scalar(byte)))' must be percent-encoded in a DMARC URI"
            }
            return (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))' is not allowed in a URI" : "octet 0x\(String(byte, radix: 16)) is not allowed in a URI"
        case .badPercentEncoding: return "'%' not followed by two hexadecimal digits"
        case .invalidSizeLimit: return "the size limit after '!' is not digits with an optional k, m, g or t that fit in 64 bits"
        }
    }
}

/// Why a TXT record is not a usable DMARC policy record.
public enum DMARCRecordError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first tag is not "v=DMARC1" (RFC 7489 §6.3: the record "MUST be ignored").
    case notDMARC
    /// A tag appears twice, which makes the whole tag list invalid (RFC 6376 §3.2, whose
    /// tag-value syntax RFC 7489 §6.3 uses).
    case duplicateTag(String)
    /// No "p" tag, and no valid "rua" URI (RFC 7489 §6.6.3 step 6.2).
    case missingPolicy
    /// A "p" that is not none, quarantine or reject, and no valid "rua" URI.
    case invalidPolicy(String)
    /// An "sp" that is not none, quarantine or reject, and no valid "rua" URI.
    case invalidSubdomainPolicy(String)

    public var description: String {
        switch self {
        case .notDMARC: return "not a DMARC record: it does not start with v=DMARC1"
        case let .duplicateTag(name): return "tag \(name) appears more than once"
        case .missingPolicy: return "no p= tag (and no valid rua= to report to)"
        case let .invalidPolicy(value): return "p=\(value) is not none, quarantine or reject (and no valid rua= to report to)"
        case let .invalidSubdomainPolicy(value): return "sp=\(value) is not none, quarantine or reject (and no valid rua= to report to)"
        }
    }
}

/// Something in a record that was ignored or replaced; the record still applies.
public enum DMARCRecordProblem: Hashable, Sendable, CustomStringConvertible {
    /// A tag spec without "=" or with an invalid name; the text as written.
    case malformedTag(String)
    /// A known tag with a value outside its syntax; the default applies instead.
    case invalidValue(DMARCTag, expected: String, defaultValue: String)
    /// A "rua" or "ruf" URI that was left out.
    case invalidReportURI(tag: String, uri: String, reason: ReportURIError)
    /// An "rf" format that is not registered; ignored.
    case unknownReportFormat(String)
    /// The record's policy was unusable and it is applied as "p=none" because it names a
    /// report destination (RFC 7489 §6.6.3 step 6.1).
    case policyNoneForReports(DMARCRecordError)

    public var description: String {
        switch self {
        case let .malformedTag(text): return "ignored malformed tag \"\(text)\""
        case let .invalidValue(tag, expected, defaultValue):
            return "ignored \(tag.name)=\(tag.value): expected \(expected); using the default \(defaultValue)"
        case let .invalidReportURI(tag, uri, reason): return "ignored \(tag) URI \"\(uri)\": \(reason)"
        case let .unknownReportFormat(format): return "ignored unregistered report format rf=\(format)"
        case let .policyNoneForReports(error): return "applied as p=none for the sake of the rua= reports (RFC 7489 §6.6.3): \(error)"
        }
    }
}

/// The tag-value syntax of RFC 6376 §3.2 that DMARC records (and the report authorization
/// records of RFC 7489 §7.1) use: tag-spec *( ";" tag-spec ) [ ";" ], each tag-spec
/// [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS].
struct TagList {
    /// The tags in order, names lowercase; the first is "v=DMARC1".
    var tags: [DMARCTag]
    var problems: [DMARCRecordProblem]

    /// Splits and checks the list: "v=DMARC1" must come first (RFC 7489 §6.3 "It MUST be the
    /// first tag in the list"), and no tag may appear twice. Empty tag specs (";;", a final
    /// "; ") are skipped; a spec that is not name=value is noted and skipped, as RFC 7489 §6.3
    /// asks of syntax errors after the version.
    init(parsing text: String) throws(DMARCRecordError) {
        let specs = Self.split(Array(text.utf8))
        guard let first = specs.first, let version = Self.tag(first), version.name == "v", version.value == "DMARC1" else {
            throw .notDMARC
        }
        tags = [version]
        problems = []
        for spec in specs.dropFirst() {
            let trimmed = Self.trimmed(spec)
            if trimmed.isEmpty { continue }
            guard let tag = Self.tag(spec) else {
                problems.append(.malformedTag(String(decoding: trimmed, as: UTF8.self)))
                continue
            }
            guard !tags.contains(where: { $0.name == tag.name }) else { throw .duplicateTag(tag.name) }
            tags.append(tag)
        }
    }

    /// The tag specs: a value never holds ";" (VALCHAR excludes it), so every ";" separates.
    static func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
    }

    /// tag-name "=" tag-value, white space around both trimmed. tag-name = ALPHA
    /// *ALNUMPUNC, lowercased: DMARC's ABNF writes tag names as quoted strings, which are
    /// case-insensitive (RFC 5234 §2.3). tag-value is VALCHARs (%x21-3A / %x3C-7E) with
    /// inner white space.
    static func tag(_ spec: ArraySlice<UInt8>) -> DMARCTag? {
        guard let equals = spec.firstIndex(of: UInt8(ascii: "=")) else { return nil }
        let name = trimmed(spec[..<equals])
        let value = trimmed(spec[(equals + 1)...])
        guard let first = name.first, isLetter(first),
              name.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_") }),
              value.allSatisfy({ (0x21...0x7E).contains($0) || isWhiteSpace($0) })
        else { return nil }
        return DMARCTag(name: String(decoding: name.map(lowercased), as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    /// The items of a colon-separated value, white space around each trimmed.
    static func colonList(_ value: String) -> [String] {
        value.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map {
            String(decoding: trimmed(Array($0)[...]), as: UTF8.self)
        }
    }

    /// 1 through `maximumDigits` decimal digits, when they fit in 64 bits.
    static func number(_ text: String, maximumDigits: Int) -> UInt64? {
        let digits = Array(text.utf8)
        guard (1...maximumDigits).contains(digits.count), digits.allSatisfy(isDigit) else { return nil }
        return UInt64(text)
    }

    /// FWS (RFC 6376 §2.8) less its structure: spaces, tabs and line breaks.
    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, isWhiteSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isWhiteSpace(last) { slice = slice.dropLast() }
        return slice
    }

    static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte) }
    static func lowercased(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte + 32 : byte }
}
