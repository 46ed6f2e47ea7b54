import Foundation
import GRDB
import SQLiteSupport
import Testing

/// What `SQLiteDatabase.openPool` promises: WAL, the synchronous level of the durability
/// asked for on the writer (the only connection that commits), foreign keys when asked,
/// and the migrations run.
@Suite struct DatabaseOpeningTests {
    @Test(arguments: [(CommitDurability.full, 2), (.checkpoint, 1)])
    func durabilitySetsTheWritersSynchronousLevel(durability: CommitDurability, level: Int) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in try db.execute(sql: "CREATE TABLE t (x INTEGER)") }
        let pool = try SQLiteDatabase.openPool(
            path: directory + "/t.db", label: "test", durability: durability, foreignKeys: durability == .full, migrator: migrator)
        defer { try? pool.close() }
        let (synchronous, foreignKeys, journal) = try pool.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"),
             try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(synchronous == level)
        #expect(foreignKeys == (durability == .full ? 1 : 0))
        #expect(journal == "wal")
        #expect(try pool.read { db in try db.tableExists("t") })
    }
}
