import Foundation
import GRDB

// Reads the IMAP server needs for FETCH and SEARCH beyond `messages(in:)`.

extension Account {
    /// The summaries of the given UIDs of a mailbox, in UID order (UIDs that do not exist are
    /// left out): FETCH of FLAGS, INTERNALDATE, RFC822.SIZE, SAVEDATE and MODSEQ for a few
    /// messages without reading the whole mailbox. One indexed range scan per range of
    /// consecutive UIDs.
    public func summaries(in mailbox: MailboxID, uids: UIDSet) async throws -> [MessageSummary] {
        try await pool.read { db in
            _ = try MailboxRow.require(db, id: mailbox)
            return try MessageRow.fetch(db, mailbox: mailbox.rawValue, uids: uids).map(\.summary)
        }
    }
}
