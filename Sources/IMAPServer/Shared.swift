import Store
import Synchronization

/// Sessions per account (a named limit), so one account's clients cannot use up the server.
actor AccountConnectionLimiter {
    let maxPerAccount: Int
    private var counts: [String: Int] = [:]

    init(maxPerAccount: Int) {
        self.maxPerAccount = maxPerAccount
    }

    func acquire(_ account: String) -> Bool {
        let count = counts[account, default: 0]
        guard count < maxPerAccount else { return false }
        counts[account] = count + 1
        return true
    }

    func release(_ account: String) {
        let count = counts[account, default: 1] - 1
        counts[account] = count > 0 ? count : nil
    }
}

/// Who sees a message as \Recent (RFC 3501 §2.3.2): the first session that selects the
/// mailbox read-write or is told about the message while it is selected. Kept in memory per
/// mailbox as the highest UID already claimed; after a restart every message is old, which
/// RFC 3501 allows (the flag is a hint for IMAP4rev1 clients and gone in IMAP4rev2).
final class RecentTracker: Sendable {
    private struct Key: Hashable {
        var account: String
        var mailbox: MailboxID
    }

    private let claimed = Mutex<[Key: UInt32]>([:])

    /// Claims the UIDs above what was claimed before, up to `upTo`: they are recent for the
    /// caller. The first claim of a mailbox only records `upTo` and returns nothing, so
    /// that a restart does not make a whole mailbox recent.
    func claim(account: String, mailbox: MailboxID, upTo: UInt32, firstClaimIsRecent: Bool) -> ClosedRange<UInt32>? {
        claimed.withLock { claimed in
            let key = Key(account: account, mailbox: mailbox)
            guard let previous = claimed[key] else {
                claimed[key] = upTo
                return firstClaimIsRecent && upTo > 0 ? 1...upTo : nil
            }
            guard upTo > previous else { return nil }
            claimed[key] = upTo
            return (previous + 1)...upTo
        }
    }
}
