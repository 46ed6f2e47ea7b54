import Foundation
import GRDB
import SQLiteSupport

/// How every store database is opened.
///
/// WAL journal (DatabasePool sets it): IMAP sessions read while a delivery writes.
///
/// Durability `.full`, not NORMAL. In WAL mode NORMAL skips the fsync of the WAL at
/// commit and syncs only at checkpoints, so after a power failure the last commits can be
/// gone although `COMMIT` returned. Tern acknowledges a message (SMTP 250, IMAP OK) right
/// after its commit and the delivery journal relies on an account's commit being durable
/// before the journal entry is removed; NORMAL would break both. FULL costs one WAL fsync
/// per transaction, which grouping concurrent deliveries into one transaction amortizes.
enum StoreDatabase {
    static func openPool(path: String, label: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        try SQLiteDatabase.openPool(path: path, label: label, durability: .full, foreignKeys: true, migrator: migrator)
    }
}

/// Schema of `accounts/<account>/index.db`.
///
/// - `account`: one row. The account-wide mod-sequence counter (RFC 7162 §3.1: every
///   change in any mailbox takes the next value, so values only grow, per mailbox too),
///   and the last UIDVALIDITY handed out (so a recreated mailbox never repeats one).
///   Passwords are not here: the domains file holds them (Config), the one place an
///   operator sets them; v2 drops the credential columns v1 had.
/// - `mailbox`: name (unique, binary compare so children are a range scan), role,
///   UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, counters that make STATUS O(1), and (v4) the
///   highest UID an IMAP session has taken as \Recent (RFC 3501 §2.3.2), so that a message
///   is recent for exactly one session, across restarts too.
/// - `subscription`: names, separate from mailboxes: RFC 9051 §6.3.9 keeps a subscribed
///   name listed after its mailbox is deleted.
/// - `content`: one row per message file (the file id is the row id, AUTOINCREMENT so an
///   id is never handed out twice): size, the parsed MIME structure (StoredStructure), REQUIRETLS,
///   delivery metadata, and the delivery journal id of a multi-account delivery.
/// - `message`: one row per message in a mailbox: UID, MODSEQ, flags, keywords, dates
///   (INTERNALDATE with the zone it was given in, v4), and the content it shows, with the
///   content's size (v3): reading flags and sizes, as FETCH and SEARCH do for every
///   message, then never touches the content rows, whose structures fill most of the
///   database. Copies share one content row and so one file.
/// - `expunged`: UIDs removed from a mailbox and the mod-sequence of their removal, for
///   QRESYNC VANISHED (RFC 7162 §3.2.10).
/// - `unsyncedFile` (v5): the octets of small message files not yet fsynced, committed
///   with their content row so that the commit alone makes them durable; a row goes when
///   its file has been synced, and with its content row (FileSyncer.swift).
enum AccountSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE account (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    name TEXT NOT NULL,
                    created REAL NOT NULL,
                    modSeq INTEGER NOT NULL,
                    lastUIDValidity INTEGER NOT NULL,
                    scramSHA1 BLOB,
                    scramSHA256 BLOB,
                    cramMD5Secret TEXT
                );
                CREATE TABLE mailbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    role TEXT UNIQUE,
                    uidValidity INTEGER NOT NULL,
                    uidNext INTEGER NOT NULL,
                    highestModSeq INTEGER NOT NULL,
                    messageCount INTEGER NOT NULL DEFAULT 0,
                    unseenCount INTEGER NOT NULL DEFAULT 0,
                    deletedCount INTEGER NOT NULL DEFAULT 0,
                    totalSize INTEGER NOT NULL DEFAULT 0,
                    keywords TEXT NOT NULL DEFAULT '',
                    created REAL NOT NULL
                );
                CREATE TABLE subscription (
                    name TEXT PRIMARY KEY NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE content (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    size INTEGER NOT NULL,
                    structure BLOB NOT NULL,
                    requireTLS INTEGER NOT NULL DEFAULT 0,
                    deliveryMetadata BLOB,
                    deliveryID TEXT,
                    created REAL NOT NULL
                );
                CREATE INDEX content_delivery ON content(deliveryID) WHERE deliveryID IS NOT NULL;
                CREATE TABLE message (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    mailboxID INTEGER NOT NULL REFERENCES mailbox(id),
                    uid INTEGER NOT NULL,
                    contentID INTEGER NOT NULL REFERENCES content(id),
                    modSeq INTEGER NOT NULL,
                    flags INTEGER NOT NULL,
                    keywords TEXT NOT NULL DEFAULT '',
                    internalDate REAL NOT NULL,
                    saveDate REAL NOT NULL,
                    UNIQUE (mailboxID, uid)
                );
                CREATE INDEX message_modseq ON message(mailboxID, modSeq);
                CREATE INDEX message_content ON message(contentID);
                CREATE INDEX message_deleted ON message(mailboxID, uid) WHERE flags & 8 != 0;
                CREATE TABLE expunged (
                    mailboxID INTEGER NOT NULL,
                    uid INTEGER NOT NULL,
                    modSeq INTEGER NOT NULL,
                    PRIMARY KEY (mailboxID, uid)
                ) WITHOUT ROWID;
                CREATE INDEX expunged_modseq ON expunged(mailboxID, modSeq);
                """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(sql: """
                ALTER TABLE account DROP COLUMN scramSHA1;
                ALTER TABLE account DROP COLUMN scramSHA256;
                ALTER TABLE account DROP COLUMN cramMD5Secret;
                """)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(sql: """
                ALTER TABLE message ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
                UPDATE message SET size = (SELECT c.size FROM content c WHERE c.id = message.contentID);
                """)
        }
        migrator.registerMigration("v4") { db in
            // Messages already there are old: no session was told about them as recent,
            // but a first SELECT after the upgrade should not show a whole mailbox as new.
            try db.execute(sql: """
                ALTER TABLE mailbox ADD COLUMN recentUID INTEGER NOT NULL DEFAULT 0;
                UPDATE mailbox SET recentUID = uidNext - 1;
                ALTER TABLE message ADD COLUMN internalDateZone INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE unsyncedFile (
                    contentID INTEGER PRIMARY KEY REFERENCES content(id) ON DELETE CASCADE,
                    octets BLOB NOT NULL
                );
                """)
        }
        return migrator
    }
}

/// Schema of `<data>/deliveries.db`, the delivery journal (see `Delivery.swift`): a row per
/// multi-account delivery in progress. A row exists from before the first file is placed
/// until every account has committed; its removal is the delivery's commit point.
enum JournalSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE delivery (
                    id TEXT PRIMARY KEY NOT NULL,
                    accounts TEXT NOT NULL,
                    created REAL NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}

extension Row {
    /// Throwing column access: a damaged database is an error, not a crash.
    func value<T: DatabaseValueConvertible>(_ column: String) throws -> T {
        try decode(T.self, forColumn: column)
    }

    /// By position, for rows read in bulk (MessageRow).
    func value<T: DatabaseValueConvertible & StatementColumnConvertible>(atIndex index: Int) throws -> T {
        try decode(T.self, atIndex: index)
    }
}
