// TLSRPTStore: the TLS results of outgoing deliveries (RFC 8460), kept per UTC day, policy
// domain and recipient domain until the daily report sender turns them into reports.
//
// Every delivery attempt adds its results: one for the recipient domain's MTA-STS policy
// (or no-policy-found), and one per MX host tried for DANE, whose policy domain is the MX
// host itself (RFC 8460 §3). Adding merges into the day's row, so a busy domain has one
// row per day, not one per session. Results are statistics: losing the last ones in a
// crash costs a report a few counts, so writes do not wait for a full fsync.
import Foundation
import GRDB
import SQLiteSupport
import TLSRPT

/// The results of one day for one policy domain and recipient domain.
public struct StoredResults: Sendable, Hashable {
    /// "2026-11-22".
    public var day: String
    /// The domain the policy belongs to: the recipient domain (MTA-STS, no-policy-found) or
    /// an MX host (DANE, `isHost`), A-labels.
    public var policyDomain: String
    public var recipientDomain: String
    /// A DANE result about an MX host rather than the recipient domain.
    public var isHost: Bool
    public var results: [PolicyResult]
}

public final class TLSRPTStore: Sendable {
    private let pool: DatabasePool

    private init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Opens (creating) the database at `path`.
    public static func open(path: String) throws -> TLSRPTStore {
        TLSRPTStore(pool: try SQLiteDatabase.openPool(path: path, label: "tlsrpt", durability: .checkpoint, migrator: migrator))
    }

    public func close() {
        try? pool.close()
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE result (
                    day TEXT NOT NULL,
                    policyDomain TEXT NOT NULL,
                    recipientDomain TEXT NOT NULL,
                    isHost INTEGER NOT NULL,
                    results TEXT NOT NULL,
                    PRIMARY KEY (day, policyDomain, recipientDomain, isHost)
                );
                """)
        }
        return migrator
    }

    /// The UTC day of `date`, as stored.
    public static func day(of date: Date) -> String {
        // The day a report covers (RFC 8460 §4.4), as a full-date (RFC 3339 §5.6).
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Report.DateRange.utcDay(containing: date).start)
    }

    /// Adds `results` to the day of `date` for the policy domain.
    public func add(_ results: [PolicyResult], policyDomain: String, recipientDomain: String, isHost: Bool, at date: Date) async throws {
        guard !results.isEmpty else { return }
        let day = Self.day(of: date)
        let key: StatementArguments = [day, policyDomain.lowercased(), recipientDomain.lowercased(), isHost]
        try await pool.write { db in
            var merged: [PolicyResult] = []
            if let text = try String.fetchOne(
                db, sql: "SELECT results FROM result WHERE day = ? AND policyDomain = ? AND recipientDomain = ? AND isHost = ?", arguments: key)
            {
                merged = try Self.decode(text)
            }
            merged = PolicyResult.merged(merged + results)
            try db.execute(
                sql: "INSERT OR REPLACE INTO result (day, policyDomain, recipientDomain, isHost, results) VALUES (?, ?, ?, ?, ?)",
                arguments: key + [try Self.encode(merged)])
        }
    }

    /// Every stored row of `day`, by policy domain.
    public func results(day: String) async throws -> [StoredResults] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM result WHERE day = ? ORDER BY policyDomain, recipientDomain, isHost", arguments: [day]).map { row in
                StoredResults(
                    day: row["day"], policyDomain: row["policyDomain"], recipientDomain: row["recipientDomain"], isHost: row["isHost"],
                    results: try Self.decode(row["results"]))
            }
        }
    }

    /// The days with results, oldest first.
    public func days() async throws -> [String] {
        try await pool.read { db in try String.fetchAll(db, sql: "SELECT DISTINCT day FROM result ORDER BY day") }
    }

    /// Removes the days before `day` (once reported, or too old to report).
    @discardableResult
    public func removeDays(before day: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM result WHERE day < ?", arguments: [day])
            return db.changesCount
        }
    }

    private static func encode(_ results: [PolicyResult]) throws -> String {
        String(decoding: try JSONEncoder().encode(results), as: UTF8.self)
    }

    private static func decode(_ text: String) throws -> [PolicyResult] {
        try JSONDecoder().decode([PolicyResult].self, from: Data(text.utf8))
    }
}
