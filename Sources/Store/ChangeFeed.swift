import Synchronization

/// A change in an account, as IMAP IDLE (RFC 2177, RFC 9051 §6.3.13) and NOTIFY need it.
/// Message changes carry the mailbox's new HIGHESTMODSEQ (RFC 7162 §3.1.2.1).
public enum StoreChange: Hashable, Sendable {
    /// New messages (delivery, APPEND, COPY, MOVE), ascending UIDs.
    case messagesAdded(mailbox: MailboxID, messages: [MessageState], highestModSeq: Int64)
    /// Flags or keywords changed (STORE), each message with its new MODSEQ.
    case flagsChanged(mailbox: MailboxID, messages: [MessageState], highestModSeq: Int64)
    /// UIDs removed (EXPUNGE, MOVE, an undone delivery), ascending.
    case expunged(mailbox: MailboxID, uids: [UInt32], highestModSeq: Int64)
    case mailboxCreated(mailbox: MailboxID, name: String)
    case mailboxRenamed(mailbox: MailboxID, from: String, to: String)
    case mailboxDeleted(mailbox: MailboxID, name: String)
    /// The subscriber fell too far behind and was dropped: nothing more comes on this
    /// stream. The session must re-read its mailbox state (or end, e.g. IMAP BYE).
    case overflow
}

/// Broadcasts an account's changes to every subscribed session.
///
/// Order: changes are published while their writer still holds the database, right after
/// their transaction commits (GRDB `afterNextTransaction`, or the group committer once its
/// COMMIT returns), so every subscriber sees them in commit order, which is mod-sequence
/// order. A session should subscribe first, then read the mailbox state, and skip changes
/// whose mod-sequence its read already covered.
///
/// Slow subscribers: a subscriber may have `limit` changes waiting. The change that makes
/// it more than `limit` is still queued, followed by `.overflow`, and the stream finishes,
/// so one stuck session never makes the server hold an unbounded backlog, and never
/// silently misses a change: it learns it must re-sync.
///
/// A stream ends (and unsubscribes) when its consumer stops iterating or is cancelled.
///
/// Known state: the feed also remembers each mailbox's HIGHESTMODSEQ as of the last change
/// published for it (or noted from a read of its row), and which mailboxes were deleted, so
/// that a session can tell without reading the database that its mailbox has not changed
/// (`mayHaveChanged`). That holds because every write that raises a mailbox's
/// HIGHESTMODSEQ publishes a change carrying the new value, before its writer lets go of
/// the database. Mailbox ids are never reused (AUTOINCREMENT), so a deleted id stays
/// deleted.
final class ChangeFeed: Sendable {
    private struct State {
        var nextID = 0
        var subscribers: [Int: AsyncStream<StoreChange>.Continuation] = [:]
        var closed = false
        var highestModSeqs: [MailboxID: Int64] = [:]
        var deleted: Set<MailboxID> = []

        /// Values only grow: a read that raced with a newer change must not take it back,
        /// nor bring back a deleted mailbox.
        mutating func learn(_ mailbox: MailboxID, highestModSeq: Int64) {
            guard !deleted.contains(mailbox) else { return }
            highestModSeqs[mailbox] = max(highestModSeqs[mailbox] ?? highestModSeq, highestModSeq)
        }

        mutating func learn(_ change: StoreChange) {
            switch change {
            case let .messagesAdded(mailbox, _, highestModSeq), let .flagsChanged(mailbox, _, highestModSeq),
                 let .expunged(mailbox, _, highestModSeq):
                learn(mailbox, highestModSeq: highestModSeq)
            case let .mailboxDeleted(mailbox, _):
                deleted.insert(mailbox)
                highestModSeqs[mailbox] = nil
            case .mailboxCreated, .mailboxRenamed, .overflow:
                break
            }
        }
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func subscribe() -> AsyncStream<StoreChange> {
        // `limit` changes, one more that triggers the overflow, and `.overflow` itself.
        let (stream, continuation) = AsyncStream.makeStream(of: StoreChange.self, bufferingPolicy: .bufferingOldest(limit + 2))
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        let added = state.withLock { state in
            guard !state.closed else { return false }
            state.subscribers[id] = continuation
            return true
        }
        if !added { continuation.finish() }
        return stream
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    /// False only when `mailbox` is known to be at a HIGHESTMODSEQ of at most `modSeq` and
    /// not deleted; true when it changed since, or when the feed knows nothing of it yet.
    func mayHaveChanged(_ mailbox: MailboxID, since modSeq: Int64) -> Bool {
        state.withLock { state in
            guard let known = state.highestModSeqs[mailbox] else { return true }
            return known > modSeq
        }
    }

    /// A read found `mailbox` at `highestModSeq`.
    func note(_ mailbox: MailboxID, highestModSeq: Int64) {
        state.withLock { $0.learn(mailbox, highestModSeq: highestModSeq) }
    }

    private func remove(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    func publish(_ changes: [StoreChange]) {
        guard !changes.isEmpty else { return }
        // finish() runs onTermination, which takes the lock: call it after releasing it.
        let dropped = state.withLock { state -> [AsyncStream<StoreChange>.Continuation] in
            for change in changes { state.learn(change) }
            var dropped: [AsyncStream<StoreChange>.Continuation] = []
            for (id, continuation) in state.subscribers {
                deliver: for change in changes {
                    switch continuation.yield(change) {
                    case let .enqueued(remaining):
                        // remaining == 1: limit + 1 changes wait, only the overflow slot is left.
                        if remaining <= 1 {
                            continuation.yield(.overflow)
                            state.subscribers[id] = nil
                            dropped.append(continuation)
                            break deliver
                        }
                    case .dropped:
                        state.subscribers[id] = nil
                        dropped.append(continuation)
                        break deliver
                    case .terminated:
                        state.subscribers[id] = nil
                        break deliver
                    @unknown default:
                        state.subscribers[id] = nil
                        dropped.append(continuation)
                        break deliver
                    }
                }
            }
            return dropped
        }
        for continuation in dropped { continuation.finish() }
    }

    /// Ends every stream; later subscriptions end at once.
    func close() {
        let all = state.withLock { state -> [AsyncStream<StoreChange>.Continuation] in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in all { continuation.finish() }
    }
}
