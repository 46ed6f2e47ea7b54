// DMARCStore: the DMARC evaluations of incoming messages (RFC 7489 §6.6.5 "Store Results of
// DMARC Processing"), kept per policy domain and UTC hour until the aggregate report sender
// (RFC 7489 §7.2) turns them into reports.
//
// Only evaluations under a record that asks for aggregate reports ("rua", §6.3: without it
// "Mail Receivers MUST NOT generate aggregate feedback reports") are kept. Each holds what a
// report row needs (Appendix C "record"): the source IP, the disposition and the aligned
// results ("policy_evaluated"), the identifiers ("identifiers") and every SPF and DKIM result
// ("auth_results"), with the policy as published ("policy_published"). Identical evaluations
// within an hour share one row and a count, as a report's rows do. Hours rather than days,
// since "ri" may ask for hourly reports (§6.3). Like TLS results, these are statistics:
// writes do not wait for a full fsync.
import DMARC
import DNS
import Foundation
import GRDB
import SQLiteSupport

/// The evaluations of one hour that share every reported field, with their number.
public struct StoredEvaluation: Sendable, Hashable {
    /// The start of the UTC hour.
    public var hour: Date
    /// The domain whose record applied (Appendix C "policy_published/domain"), A-labels.
    public var policyDomain: String
    public var sourceIP: IPAddress
    public var count: Int
    /// The RFC5322.From domain, A-labels.
    public var headerFrom: String
    /// The RFC5321.MailFrom domain; empty for the null reverse-path.
    public var envelopeFrom: String
    /// The recipient domain, when recorded.
    public var envelopeTo: String?
    public var disposition: Policy
    public var dkimAligned: Bool
    public var spfAligned: Bool
    /// "pct" exempted the messages from the requested policy ("sampled_out").
    public var sampledOut: Bool
    public var dkim: [DKIMAuthentication]
    public var spf: SPFAuthentication?
    public var publishedPolicy: PublishedPolicy
}

/// One DKIM result as reported (Appendix C "DKIMAuthResultType").
public struct DKIMAuthentication: Sendable, Hashable, Codable {
    public var domain: String
    public var selector: String?
    public var result: DKIMAuthResult

    public init(domain: String, selector: String?, result: DKIMAuthResult) {
        self.domain = domain
        self.selector = selector
        self.result = result
    }
}

/// The SPF result as reported (Appendix C "SPFAuthResultType").
public struct SPFAuthentication: Sendable, Hashable, Codable {
    public var domain: String
    public var scope: SPFScope
    public var result: SPFAuthResult

    public init(domain: String, scope: SPFScope, result: SPFAuthResult) {
        self.domain = domain
        self.scope = scope
        self.result = result
    }
}

/// The record that applied, as reported (Appendix C "PolicyPublishedType").
public struct PublishedPolicy: Sendable, Hashable, Codable {
    public var domain: String
    public var adkim: AlignmentMode
    public var aspf: AlignmentMode
    public var p: Policy
    /// "sp", or "p" when the record has none (the schema requires a value).
    public var sp: Policy
    public var pct: Int
    /// "fo" as colon-separated options.
    public var fo: String

    public init(_ record: DMARCRecord, domain: Domain) {
        self.domain = domain.ascii
        adkim = record.dkimAlignment
        aspf = record.spfAlignment
        p = record.policy
        sp = record.policy(forSubdomain: true)
        pct = record.percentage
        fo = record.failureReportingOptions.map(\.rawValue).joined(separator: ":")
    }
}

public enum DMARCStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A stored row that does not read back (a damaged or foreign database).
    case unreadableRow(String)

    public var description: String {
        switch self {
        case let .unreadableRow(reason): return "unreadable DMARC evaluation row: \(reason)"
        }
    }
}

public final class DMARCStore: Sendable {
    private let pool: DatabasePool

    private init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Opens (creating) the database at `path`.
    public static func open(path: String) throws -> DMARCStore {
        DMARCStore(pool: try SQLiteDatabase.openPool(path: path, label: "dmarc", durability: .checkpoint, migrator: migrator))
    }

    public func close() {
        try? pool.close()
    }

    /// Every column but `count` identifies a row.
    private static let keyColumns = [
        "hour", "policyDomain", "sourceIP", "headerFrom", "envelopeFrom", "envelopeTo", "disposition", "dkimAligned", "spfAligned",
        "sampledOut", "dkim", "spf", "publishedPolicy",
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // envelopeTo and spf are '' rather than NULL when absent, because a UNIQUE
            // constraint treats NULLs as distinct and identical evaluations would not merge.
            try db.execute(sql: """
                CREATE TABLE evaluation (
                    hour INTEGER NOT NULL,
                    policyDomain TEXT NOT NULL,
                    sourceIP TEXT NOT NULL,
                    headerFrom TEXT NOT NULL,
                    envelopeFrom TEXT NOT NULL,
                    envelopeTo TEXT NOT NULL,
                    disposition TEXT NOT NULL,
                    dkimAligned INTEGER NOT NULL,
                    spfAligned INTEGER NOT NULL,
                    sampledOut INTEGER NOT NULL,
                    dkim TEXT NOT NULL,
                    spf TEXT NOT NULL,
                    publishedPolicy TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    UNIQUE (\(keyColumns.joined(separator: ", ")))
                );
                CREATE INDEX evaluationByDomain ON evaluation (policyDomain, hour);
                """)
        }
        return migrator
    }

    /// The start of the UTC hour that holds `date`.
    public static func hour(of date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    /// Counts `evaluation` in the hour of `date`, when a record applied and asks for aggregate
    /// reports; returns whether it did. Every such evaluation counts, also those "pct" sampled
    /// out (RFC 7489 §6.6.4: "include all relevant message data in any reports").
    @discardableResult
    public func add(_ evaluation: DMARCEvaluation, sourceIP: IPAddress, envelopeFrom: String, envelopeTo: String?, at date: Date) async throws -> Bool {
        guard let record = evaluation.discovery.record, !record.aggregateReportURIs.isEmpty, let policyDomain = evaluation.discovery.policyDomain else {
            return false
        }
        let authentication = evaluation.authentication
        let dkim = authentication.dkim.map { DKIMAuthentication(domain: $0.domain.ascii, selector: $0.selector, result: $0.result) }
        let spf = authentication.spf.map { SPFAuthentication(domain: $0.domain.ascii, scope: $0.scope, result: $0.result) }
        let arguments: StatementArguments = [
            Self.hour(of: date).timeIntervalSince1970, policyDomain.ascii, sourceIP.description, evaluation.authorDomain.ascii,
            envelopeFrom.lowercased(), envelopeTo?.lowercased() ?? "", evaluation.disposition.rawValue, evaluation.dkimAligned,
            evaluation.spfAligned, evaluation.sampledOut, try Self.encode(dkim), try spf.map(Self.encode) ?? "",
            try Self.encode(PublishedPolicy(record, domain: policyDomain)),
        ]
        let placeholders = Array(repeating: "?", count: Self.keyColumns.count).joined(separator: ", ")
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO evaluation (\(Self.keyColumns.joined(separator: ", ")), count) VALUES (\(placeholders), 1)
                    ON CONFLICT (\(Self.keyColumns.joined(separator: ", "))) DO UPDATE SET count = count + 1
                    """,
                arguments: arguments)
        }
        return true
    }

    /// The rows of `policyDomain` in the hours from `start` up to, not including, `end`, oldest
    /// first.
    public func evaluations(policyDomain: String, from start: Date, to end: Date) async throws -> [StoredEvaluation] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM evaluation WHERE policyDomain = ? AND hour >= ? AND hour < ? ORDER BY hour, rowid",
                arguments: [policyDomain.lowercased(), start.timeIntervalSince1970, end.timeIntervalSince1970]
            ).map(Self.evaluation)
        }
    }

    /// The policy domains with rows in the hours from `start` up to, not including, `end`.
    public func policyDomains(from start: Date, to end: Date) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db, sql: "SELECT DISTINCT policyDomain FROM evaluation WHERE hour >= ? AND hour < ? ORDER BY policyDomain",
                arguments: [start.timeIntervalSince1970, end.timeIntervalSince1970])
        }
    }

    /// Removes the rows of the hours before the one holding `date` (once reported, or too old
    /// to report); returns how many.
    @discardableResult
    public func removeEvaluations(before date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM evaluation WHERE hour < ?", arguments: [Self.hour(of: date).timeIntervalSince1970])
            return db.changesCount
        }
    }

    private static func evaluation(_ row: Row) throws -> StoredEvaluation {
        let ip: String = row["sourceIP"]
        let disposition: String = row["disposition"]
        guard let sourceIP = IPAddress(ip) else { throw DMARCStoreError.unreadableRow("source IP \(ip)") }
        guard let policy = Policy(rawValue: disposition) else { throw DMARCStoreError.unreadableRow("disposition \(disposition)") }
        let envelopeTo: String = row["envelopeTo"]
        let spf: String = row["spf"]
        return StoredEvaluation(
            hour: Date(timeIntervalSince1970: row["hour"]), policyDomain: row["policyDomain"], sourceIP: sourceIP, count: row["count"],
            headerFrom: row["headerFrom"], envelopeFrom: row["envelopeFrom"], envelopeTo: envelopeTo.isEmpty ? nil : envelopeTo,
            disposition: policy, dkimAligned: row["dkimAligned"], spfAligned: row["spfAligned"], sampledOut: row["sampledOut"],
            dkim: try decode(row["dkim"]), spf: spf.isEmpty ? nil : try decode(spf), publishedPolicy: try decode(row["publishedPolicy"]))
    }

    /// Sorted keys, so that equal values give equal text and their rows merge.
    private static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    private static func decode<Value: Decodable>(_ text: String) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw DMARCStoreError.unreadableRow("\(Value.self): \(error)")
        }
    }
}
