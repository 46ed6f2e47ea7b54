// SQLiteSupport: how every Tern database file is opened (account indexes, the delivery
// journal, the queue, the MTA-STS cache, TLS and DMARC report data), so the settings that
// decide what a commit means live in one place.
import GRDB

/// What a returned COMMIT promises.
public enum CommitDurability: Sendable {
    /// `synchronous = FULL`: the WAL is fsynced before COMMIT returns, so a power failure
    /// cannot lose the commit. For what Tern acknowledges (stored mail, queued messages) and
    /// what recovery relies on (the delivery journal).
    case full
    /// GRDB's WAL default, `synchronous = NORMAL`: the WAL is synced at checkpoints only, so
    /// a power failure may lose the last commits. For caches and statistics, where that
    /// costs a refetch or a few counts.
    case checkpoint
}

public enum SQLiteDatabase {
    /// Opens (creating) the WAL database at `path` and migrates it. `label` names its
    /// connections in GRDB's diagnostics.
    public static func openPool(
        path: String, label: String, durability: CommitDurability, foreignKeys: Bool = false, migrator: DatabaseMigrator
    ) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.label = label
        configuration.foreignKeysEnabled = foreignKeys
        // Concurrent writers only exist within this process (GRDB serializes them); a wait
        // means another process (a backup tool) holds the lock briefly.
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        if durability == .full {
            // Set on the writer once the pool exists: GRDB's WAL setup sets NORMAL after
            // `prepareDatabase` has run, so FULL set there would be silently undone. The
            // setting is per connection, and the writer is the only connection that commits.
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        }
        try migrator.migrate(pool)
        return pool
    }
}
