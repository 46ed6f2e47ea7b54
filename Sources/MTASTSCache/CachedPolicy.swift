import DNS
import Foundation
import GRDB
import MTASTS

/// What the cache holds for one Policy Domain: the policy last fetched, if any, and whether
/// fetching is backing off after a failure.
public struct CachedPolicy: Hashable, Sendable {
    /// A policy as fetched.
    public struct Fetched: Hashable, Sendable {
        public var policy: STSPolicy
        /// The `id` of the TXT record when the policy was fetched.
        public var recordID: String
        /// When the policy was last fetched.
        public var updated: Date
        /// `updated` plus the policy's max_age; afterwards the policy is not applied (RFC 8461
        /// §5.1).
        public var validUntil: Date
    }

    /// No new fetch for a record id until `until`, after one failed: RFC 8461 §3.3 asks to
    /// "limit further attempts to a period of five minutes or longer per version ID".
    public struct Backoff: Hashable, Sendable {
        public var recordID: String
        public var until: Date
        public var failure: PolicyFailure
    }

    public var domain: Domain
    /// When the domain got its entry.
    public var inserted: Date
    /// The last time the cache was asked for the domain's policy.
    public var lastUsed: Date
    /// Nil when the domain's first fetch failed and only the backoff is remembered.
    public var fetched: Fetched?
    public var backoff: Backoff?

    /// The fetched policy while it is valid at `now`.
    func valid(at now: Date) -> Fetched? {
        guard let fetched, fetched.validUntil > now else { return nil }
        return fetched
    }
}

/// A failure to get a policy, as kept for backoff and for TLS reports: its RFC 8460 result
/// type and a sentence saying what went wrong.
public struct PolicyFailure: Hashable, Sendable, CustomStringConvertible {
    public var resultType: STSResultType
    public var reason: String

    public init(resultType: STSResultType, reason: String) {
        self.resultType = resultType
        self.reason = reason
    }

    public init(_ error: PolicyFetchError) {
        self.init(resultType: error.resultType, reason: error.description)
    }

    public var description: String { "\(reason) (\(resultType.rawValue))" }
}

/// One row of the `policy` table. A policy is stored as the text that was fetched and parsed
/// again when read, so the text TLS reports quote and the rules applied cannot disagree.
struct PolicyRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "policy"

    /// The domain in A-label form, lowercase, without a trailing dot.
    var domain: String
    var inserted: Double
    var lastUsed: Double
    // The fetched policy: all four set, or none.
    var recordID: String?
    var policyText: String?
    var updated: Double?
    var validUntil: Double?
    // The backoff: all four set, or none.
    var backoffRecordID: String?
    var backoffUntil: Double?
    var failureResultType: String?
    var failureReason: String?

    init(_ entry: CachedPolicy) {
        domain = entry.domain.ascii
        inserted = entry.inserted.timeIntervalSince1970
        lastUsed = entry.lastUsed.timeIntervalSince1970
        recordID = entry.fetched?.recordID
        policyText = entry.fetched?.policy.text
        updated = entry.fetched?.updated.timeIntervalSince1970
        validUntil = entry.fetched?.validUntil.timeIntervalSince1970
        backoffRecordID = entry.backoff?.recordID
        backoffUntil = entry.backoff?.until.timeIntervalSince1970
        failureResultType = entry.backoff?.failure.resultType.rawValue
        failureReason = entry.backoff?.failure.reason
    }

    /// The entry; nil when the domain is not a valid name. A policy text that no longer parses
    /// (only possible if a later version parsed more strictly) counts as no policy, so the
    /// domain's policy is fetched again.
    var entry: CachedPolicy? {
        guard let domain = try? Domain(domain) else { return nil }
        var fetched: CachedPolicy.Fetched?
        if let recordID, let policyText, let updated, let validUntil, let policy = try? STSPolicy(parsing: policyText) {
            fetched = CachedPolicy.Fetched(
                policy: policy, recordID: recordID, updated: Date(timeIntervalSince1970: updated), validUntil: Date(timeIntervalSince1970: validUntil))
        }
        var backoff: CachedPolicy.Backoff?
        if let backoffRecordID, let backoffUntil, let failureResultType, let resultType = STSResultType(rawValue: failureResultType), let failureReason {
            backoff = CachedPolicy.Backoff(
                recordID: backoffRecordID, until: Date(timeIntervalSince1970: backoffUntil),
                failure: PolicyFailure(resultType: resultType, reason: failureReason))
        }
        return CachedPolicy(
            domain: domain, inserted: Date(timeIntervalSince1970: inserted), lastUsed: Date(timeIntervalSince1970: lastUsed), fetched: fetched,
            backoff: backoff)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE policy (
                    domain TEXT PRIMARY KEY NOT NULL,
                    inserted REAL NOT NULL,
                    lastUsed REAL NOT NULL,
                    recordID TEXT,
                    policyText TEXT,
                    updated REAL,
                    validUntil REAL,
                    backoffRecordID TEXT,
                    backoffUntil REAL,
                    failureResultType TEXT,
                    failureReason TEXT
                )
                """)
        }
        return migrator
    }
}
