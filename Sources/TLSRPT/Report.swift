// TLSRPT: the formats of SMTP TLS Reporting (RFC 8460). A sending MTA records, for each
// policy domain (the recipient domain for MTA-STS, the MX host for DANE, RFC 8460 §3), how
// many TLS sessions succeeded and which failed how; once a day the results of a domain
// become a report (this file's `Report`), sent as gzipped JSON (§5.3).
//
// The types follow the JSON schema of §4.4 key for key. Decoding is lenient where senders
// in the wild differ from the schema (an "mx-host" string instead of an array, missing
// optional members, result types this version does not know), so received reports can be
// read; encoding always writes the schema's form.
import Foundation
import Zlib

/// §4.4 "policy-type".
public enum PolicyType: String, Codable, Sendable, Hashable {
    case sts
    case tlsa
    case noPolicyFound = "no-policy-found"
}

/// §4.3 result types. A struct, not an enum: a report may carry types registered later
/// (§6.5), which must survive decoding and re-encoding.
public struct ResultType: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    // §4.3.1 Negotiation failures.
    public static let starttlsNotSupported = ResultType(rawValue: "starttls-not-supported")
    public static let certificateHostMismatch = ResultType(rawValue: "certificate-host-mismatch")
    public static let certificateExpired = ResultType(rawValue: "certificate-expired")
    public static let certificateNotTrusted = ResultType(rawValue: "certificate-not-trusted")
    public static let validationFailure = ResultType(rawValue: "validation-failure")
    // §4.3.2.1 DANE policy failures.
    public static let tlsaInvalid = ResultType(rawValue: "tlsa-invalid")
    public static let dnssecInvalid = ResultType(rawValue: "dnssec-invalid")
    public static let daneRequired = ResultType(rawValue: "dane-required")
    // §4.3.2.2 MTA-STS policy failures.
    public static let stsPolicyFetchError = ResultType(rawValue: "sts-policy-fetch-error")
    public static let stsPolicyInvalid = ResultType(rawValue: "sts-policy-invalid")
    public static let stsWebPKIInvalid = ResultType(rawValue: "sts-webpki-invalid")

    public static let registered: [ResultType] = [
        .starttlsNotSupported, .certificateHostMismatch, .certificateExpired, .certificateNotTrusted, .validationFailure,
        .tlsaInvalid, .dnssecInvalid, .daneRequired, .stsPolicyFetchError, .stsPolicyInvalid, .stsWebPKIInvalid,
    ]

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// The policy a result is about (§4.4 "policy").
public struct Policy: Codable, Sendable, Hashable {
    public var type: PolicyType
    /// §4.5: an MTA-STS policy's lines, or each TLSA record's four fields in presentation
    /// format; empty for no-policy-found.
    public var string: [String]
    /// A-labels (§4.4 "domain").
    public var domain: String
    /// The policy's "mx" patterns, for sts.
    public var mxHost: [String]

    public init(type: PolicyType, string: [String] = [], domain: String, mxHost: [String] = []) {
        self.type = type
        self.string = string
        self.domain = domain
        self.mxHost = mxHost
    }

    enum CodingKeys: String, CodingKey {
        case type = "policy-type", string = "policy-string", domain = "policy-domain", mxHost = "mx-host"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(PolicyType.self, forKey: .type)
        string = try container.decodeIfPresent([String].self, forKey: .string) ?? []
        domain = try container.decode(String.self, forKey: .domain)
        if let patterns = try? container.decodeIfPresent([String].self, forKey: .mxHost) {
            mxHost = patterns
        } else {
            mxHost = try container.decodeIfPresent(String.self, forKey: .mxHost).map { [$0] } ?? []
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(string, forKey: .string)
        try container.encode(domain, forKey: .domain)
        if !mxHost.isEmpty { try container.encode(mxHost, forKey: .mxHost) }
    }

    /// §4.5: an MTA-STS policy as report lines, from its text (CRLF or LF separated).
    public static func stsLines(_ policyText: String) -> [String] {
        policyText.split(omittingEmptySubsequences: true) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }.map(String.init)
    }
}

/// One kind of failure: every field that says what happened, and how many sessions it hit.
public struct FailureDetail: Codable, Sendable, Hashable {
    public var resultType: ResultType
    public var sendingMTAIP: String?
    public var receivingMXHostname: String?
    public var receivingMXHelo: String?
    public var receivingIP: String?
    public var failedSessionCount: Int
    public var additionalInformation: String?
    public var failureReasonCode: String?

    public init(
        resultType: ResultType, sendingMTAIP: String? = nil, receivingMXHostname: String? = nil, receivingMXHelo: String? = nil,
        receivingIP: String? = nil, failedSessionCount: Int = 1, additionalInformation: String? = nil, failureReasonCode: String? = nil
    ) {
        self.resultType = resultType
        self.sendingMTAIP = sendingMTAIP
        self.receivingMXHostname = receivingMXHostname
        self.receivingMXHelo = receivingMXHelo
        self.receivingIP = receivingIP
        self.failedSessionCount = failedSessionCount
        self.additionalInformation = additionalInformation
        self.failureReasonCode = failureReasonCode
    }

    enum CodingKeys: String, CodingKey {
        case resultType = "result-type", sendingMTAIP = "sending-mta-ip", receivingMXHostname = "receiving-mx-hostname"
        case receivingMXHelo = "receiving-mx-helo", receivingIP = "receiving-ip", failedSessionCount = "failed-session-count"
        case additionalInformation = "additional-information", failureReasonCode = "failure-reason-code"
    }

    /// Whether `other` is the same failure (everything but the count), so the two merge.
    func isSameFailure(as other: FailureDetail) -> Bool {
        var counted = other
        counted.failedSessionCount = failedSessionCount
        return counted == self
    }
}

/// §4.4 "summary".
public struct Summary: Codable, Sendable, Hashable {
    public var successful: Int
    public var failed: Int

    public init(successful: Int = 0, failed: Int = 0) {
        self.successful = successful
        self.failed = failed
    }

    enum CodingKeys: String, CodingKey {
        case successful = "total-successful-session-count", failed = "total-failure-session-count"
    }
}

/// The results for one policy: one element of a report's "policies".
public struct PolicyResult: Codable, Sendable, Hashable {
    public var policy: Policy
    public var summary: Summary
    public var failureDetails: [FailureDetail]

    public init(policy: Policy, summary: Summary = Summary(), failureDetails: [FailureDetail] = []) {
        self.policy = policy
        self.summary = summary
        self.failureDetails = failureDetails
    }

    enum CodingKeys: String, CodingKey {
        case policy, summary, failureDetails = "failure-details"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        policy = try container.decode(Policy.self, forKey: .policy)
        summary = try container.decode(Summary.self, forKey: .summary)
        failureDetails = try container.decodeIfPresent([FailureDetail].self, forKey: .failureDetails) ?? []
    }

    /// A session that negotiated TLS as the policy asks.
    public static func success(_ policy: Policy) -> PolicyResult {
        PolicyResult(policy: policy, summary: Summary(successful: 1))
    }

    /// A session that failed, and how.
    public static func failure(_ policy: Policy, _ detail: FailureDetail) -> PolicyResult {
        PolicyResult(policy: policy, summary: Summary(failed: detail.failedSessionCount), failureDetails: [detail])
    }

    /// Adds the counts of `other` (for the same policy): the summary's, and each failure
    /// detail's to the same failure, or as a new one.
    public mutating func add(_ other: PolicyResult) {
        summary.successful += other.summary.successful
        summary.failed += other.summary.failed
        for detail in other.failureDetails {
            if let index = failureDetails.firstIndex(where: { $0.isSameFailure(as: detail) }) {
                failureDetails[index].failedSessionCount += detail.failedSessionCount
            } else {
                failureDetails.append(detail)
            }
        }
    }

    /// `results` with those of the same policy combined, in first-seen order.
    public static func merged(_ results: [PolicyResult]) -> [PolicyResult] {
        var merged: [PolicyResult] = []
        for result in results {
            if let index = merged.firstIndex(where: { $0.policy == result.policy }) {
                merged[index].add(result)
            } else {
                merged.append(result)
            }
        }
        return merged
    }
}

/// A TLS report (§4.4).
public struct Report: Codable, Sendable, Hashable {
    public struct DateRange: Codable, Sendable, Hashable {
        public var start: Date
        public var end: Date

        public init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }

        enum CodingKeys: String, CodingKey {
            case start = "start-datetime", end = "end-datetime"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            start = try Self.date(container, .start)
            end = try Self.date(container, .end)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(Self.format(start), forKey: .start)
            try container.encode(Self.format(end), forKey: .end)
        }

        /// RFC 3339 §5.6 date-time, with or without fractional seconds.
        private static func date(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> Date {
            let text = try container.decode(String.self, forKey: key)
            for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = options
                if let date = formatter.date(from: text) { return date }
            }
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not an RFC 3339 date-time: \(text)")
        }

        private static func format(_ date: Date) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime]
            return formatter.string(from: date)
        }

        /// §4.4: a report covers a full UTC day, 00:00 to 24:00.
        public static func utcDay(containing date: Date) -> DateRange {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let start = calendar.startOfDay(for: date)
            return DateRange(start: start, end: start.addingTimeInterval(24 * 3600))
        }
    }

    public var organizationName: String
    public var dateRange: DateRange
    /// An addr-spec (RFC 5322 §3.4.1).
    public var contactInfo: String
    public var reportID: String
    public var policies: [PolicyResult]

    public init(organizationName: String, dateRange: DateRange, contactInfo: String, reportID: String, policies: [PolicyResult]) {
        self.organizationName = organizationName
        self.dateRange = dateRange
        self.contactInfo = contactInfo
        self.reportID = reportID
        self.policies = policies
    }

    enum CodingKeys: String, CodingKey {
        case organizationName = "organization-name", dateRange = "date-range", contactInfo = "contact-info", reportID = "report-id"
        case policies
    }

    /// The JSON of §4.4, keys sorted so the same report always encodes the same.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// The JSON gzipped, as reports are sent (§5.3, media type application/tlsrpt+gzip).
    public func gzipped() throws -> [UInt8] {
        guard let compressed = Gzip.compress(try json()) else { throw ReportError.noZlib }
        return compressed
    }

    /// The largest report decoded (decompressed), against gzip bombs.
    public static let maxSize = 20 * 1024 * 1024

    /// A report as received: JSON, or gzipped JSON (recognized by the gzip magic, RFC 1952
    /// §2.3.1).
    public static func decode(_ bytes: [UInt8]) throws -> Report {
        var json = bytes
        if bytes.starts(with: [0x1f, 0x8b]) {
            guard Zlib.shared != nil else { throw ReportError.noZlib }
            guard let inflated = Gzip.decompress(bytes, limit: maxSize) else { throw ReportError.badGzip }
            json = inflated
        }
        guard json.count <= maxSize else { throw ReportError.tooLarge }
        do {
            return try JSONDecoder().decode(Report.self, from: Data(json))
        } catch {
            throw ReportError.invalidJSON("\(error)")
        }
    }
}

public enum ReportError: Error, Hashable, Sendable, CustomStringConvertible {
    case noZlib
    case badGzip
    case tooLarge
    case invalidJSON(String)

    public var description: String {
        switch self {
        case .noZlib: return "zlib is not available for gzip"
        case .badGzip: return "the gzip data is corrupt or larger than \(Report.maxSize) octets"
        case .tooLarge: return "the report is larger than \(Report.maxSize) octets"
        case let .invalidJSON(reason): return "the report is not valid TLSRPT JSON: \(reason)"
        }
    }
}
