import Foundation
import GRDB
@testable import Store
import Testing

/// The durability rule rests on SQLite syncing the WAL at every commit (`synchronous =
/// FULL`, Schema.swift): checked on the connection that actually writes.
@Suite struct DurabilityTests {
    @Test func accountWriterSyncsEveryCommit() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let level = try await account.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(level == 2, "PRAGMA synchronous must be FULL (2) on the writer")
        let journalMode = try await account.pool.write { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(journalMode == "wal")
    }
}
