import Foundation
import GRDB
@testable import Store
import Testing

/// An account database file in a directory of its own, removed afterwards.
private func withScratchDatabase(_ body: (DatabaseQueue) throws -> Void) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try body(try DatabaseQueue(path: directory + "/index.db"))
}

/// A scratch account database migrated up to `version`, given the rows `sql` inserts, then
/// migrated to the current schema.
private func withMigrated(from version: String, rows sql: String, _ body: (DatabaseQueue) throws -> Void) throws {
    try withScratchDatabase { queue in
        try AccountSchema.migrator.migrate(queue, upTo: version)
        try queue.write { db in try db.execute(sql: sql) }
        try AccountSchema.migrator.migrate(queue)
        try body(queue)
    }
}

@Suite struct SchemaTests {
    /// Account databases made before v2 kept password credentials; the domains file holds
    /// them now, and v2 drops the columns without touching the rest.
    @Test func v2DropsTheCredentialColumns() throws {
        try withScratchDatabase { queue in
            try AccountSchema.migrator.migrate(queue, upTo: "v1")
            try queue.write { db in
                try db.execute(
                    sql: "INSERT INTO account (id, name, created, modSeq, lastUIDValidity, scramSHA256) VALUES (1, 'mjl', 0, 7, 3, x'00')")
            }
            func columns() throws -> [String] {
                try queue.read { db in try db.columns(in: "account").map(\.name) }
            }
            #expect(try columns().contains("scramSHA256"))
            try AccountSchema.migrator.migrate(queue)
            #expect(try columns() == ["id", "name", "created", "modSeq", "lastUIDValidity"])
            let kept = try queue.read { db in
                try Row.fetchOne(db, sql: "SELECT name, modSeq, lastUIDValidity FROM account").map { row -> [String] in
                    [row["name"], String(row["modSeq"] as Int64), String(row["lastUIDValidity"] as Int64)]
                }
            }
            #expect(kept == ["mjl", "7", "3"])
        }
    }

    /// v3 copies each content's size into its message rows, copies included.
    @Test func v3GivesMessagesTheirContentSize() throws {
        try withMigrated(from: "v2", rows: """
            INSERT INTO account (id, name, created, modSeq, lastUIDValidity) VALUES (1, 'mjl', 0, 3, 1);
            INSERT INTO mailbox (id, name, uidValidity, uidNext, highestModSeq, created) VALUES (1, 'INBOX', 1, 4, 3, 0);
            INSERT INTO content (id, size, structure, created) VALUES (10, 1234, x'00', 0), (11, 99, x'00', 0);
            INSERT INTO message (mailboxID, uid, contentID, modSeq, flags, internalDate, saveDate)
            VALUES (1, 1, 10, 1, 0, 0, 0), (1, 2, 11, 2, 0, 0, 0), (1, 3, 10, 3, 0, 0, 0);
            """) { queue in
            let sizes = try queue.read { db in try Int64.fetchAll(db, sql: "SELECT size FROM message ORDER BY uid") }
            #expect(sizes == [1234, 99, 1234])
        }
    }

    /// v4: the messages of existing mailboxes count as claimed (old), new mailboxes start at
    /// 0; messages get INTERNALDATE's zone.
    @Test func v4MakesExistingMessagesOld() throws {
        try withMigrated(from: "v3", rows: """
            INSERT INTO account (id, name, created, modSeq, lastUIDValidity) VALUES (1, 'mjl', 0, 3, 1);
            INSERT INTO mailbox (id, name, uidValidity, uidNext, highestModSeq, created) VALUES (1, 'INBOX', 1, 4, 3, 0), (2, 'Empty', 2, 1, 0, 0);
            INSERT INTO content (id, size, structure, created) VALUES (10, 1, x'00', 0);
            INSERT INTO message (mailboxID, uid, contentID, modSeq, flags, internalDate, saveDate, size) VALUES (1, 1, 10, 1, 0, 0, 0, 1);
            """) { queue in
            let claimed = try queue.read { db in try Int64.fetchAll(db, sql: "SELECT recentUID FROM mailbox ORDER BY id") }
            #expect(claimed == [3, 0])
            // And INTERNALDATE's zone: UTC for the messages already there.
            #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT internalDateZone FROM message") } == 0)
        }
    }
}
