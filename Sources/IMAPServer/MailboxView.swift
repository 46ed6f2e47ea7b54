import IMAP
import Store

/// The selected mailbox as this client knows it: message sequence numbers (RFC 9051
/// §2.3.1.2) are positions in `uids`. `modSeq` is the mailbox's HIGHESTMODSEQ the view is
/// synchronized to: every store change after it is yet to be reported, except the states
/// in `reported`, which this session told the client itself since then.
///
/// Only those few states are kept, not every message's flags: a session idling in a large
/// mailbox holds its UIDs (4 octets a message) and nothing more.
struct MailboxView {
    let id: MailboxID
    var name: String
    let readOnly: Bool
    let uidValidity: UInt32
    /// Ascending; index + 1 is the sequence number.
    private(set) var uids: UIDList
    /// Flags (and MODSEQ) this session reported after `modSeq`; emptied at every
    /// synchronization, which moves `modSeq` past them.
    private(set) var reported: [UInt32: MessageState] = [:]
    var modSeq: Int64
    /// RFC 3501 §2.3.2: the messages that are recent in this session.
    var recent: Set<UInt32> = []
    /// Keywords announced in FLAGS.
    var keywords: [String]
    /// RFC 5182 SEARCHRES: the saved result, as UIDs (so expunges cannot shift it).
    var savedResult: NumberSet = NumberSet()

    init(info: MailboxInfo, readOnly: Bool, uids: [UInt32]) {
        id = info.id
        name = info.name
        self.readOnly = readOnly
        uidValidity = info.uidValidity
        self.uids = UIDList(uids)
        modSeq = info.highestModSeq
        keywords = info.keywords
    }

    var count: UInt32 { UInt32(clamping: uids.count) }
    var lastUID: UInt32 { uids.last ?? 0 }

    /// The sequence number of `uid`, by binary search.
    func sequenceNumber(of uid: UInt32) -> UInt32? {
        guard let index = index(of: uid) else { return nil }
        return UInt32(clamping: index + 1)
    }

    private func index(of uid: UInt32) -> Int? { uids.firstIndex(of: uid) }

    func uid(at sequenceNumber: UInt32) -> UInt32? {
        guard sequenceNumber >= 1, Int(sequenceNumber) <= uids.count else { return nil }
        return uids[Int(sequenceNumber) - 1]
    }

    func contains(_ uid: UInt32) -> Bool { index(of: uid) != nil }

    /// The state this session last reported for `uid` since `modSeq`, if any.
    func reportedState(of uid: UInt32) -> MessageState? { reported[uid] }

    /// The MODSEQ of `uid` as far as the client knows: reported by this session, or at
    /// most `modSeq` (RFC 7162 §3.1.3 tells a STORE whether others changed a message).
    func knownModSeq(of uid: UInt32) -> Int64 { reported[uid]?.modSeq ?? modSeq }

    /// Removes an expunged message; returns the sequence number it had.
    mutating func remove(_ uid: UInt32) -> UInt32? {
        guard let index = index(of: uid) else { return nil }
        uids.remove(at: index)
        reported[uid] = nil
        recent.remove(uid)
        savedResult.remove(uid)
        return UInt32(clamping: index + 1)
    }

    /// Adds a new message (a UID above every UID in the view).
    mutating func append(_ uid: UInt32) {
        guard uid > lastUID else { return }
        uids.append(uid)
    }

    /// The client was told `state` (FETCH FLAGS, or the answer to its STORE).
    mutating func noteReported(_ state: MessageState) {
        guard state.modSeq > modSeq, contains(state.uid) else { return }
        reported[state.uid] = state
    }

    /// The view is now synchronized to `highestModSeq`: what was reported before it needs
    /// no memory.
    mutating func synchronized(to highestModSeq: Int64) {
        modSeq = highestModSeq
        if !reported.isEmpty { reported = reported.filter { $0.value.modSeq > highestModSeq } }
    }

    /// The messages a sequence set names, ascending, as (sequence number, UID). Sequence
    /// numbers above the message count are an error (RFC 9051 §9 `seq-number`); UIDs that do
    /// not exist are skipped (§6.4.9).
    func resolve(_ set: SequenceSet, byUID: Bool) throws(SessionError) -> [(sequenceNumber: UInt32, uid: UInt32)] {
        var out: [(UInt32, UInt32)] = []
        if byUID {
            let numbers: NumberSet
            if case .lastResult = set {
                numbers = savedResult
            } else {
                numbers = set.resolved(largest: lastUID)
            }
            for range in numbers.ranges {
                var index = uids.lowerBound(range.lowerBound)
                while index < uids.count, uids[index] <= range.upperBound {
                    out.append((UInt32(clamping: index + 1), uids[index]))
                    index += 1
                }
            }
            return out
        }
        if case .lastResult = set {
            for uid in savedResult {
                if let number = sequenceNumber(of: uid) { out.append((number, uid)) }
            }
            return out
        }
        // A number written without "*" beyond the message count is an error; "n:*" is
        // not, so that "1:*" on an empty mailbox simply names nothing.
        if case let .ranges(ranges) = set {
            for range in ranges where range.first != .last && range.last != .last {
                let largest = max(range.first.resolved(largest: 0), range.last.resolved(largest: 0))
                if largest > count { throw .bad("message sequence number \(largest) does not exist (\(count) messages)", nil) }
            }
        }
        guard count > 0 else { return [] }
        for range in set.resolved(largest: count).ranges {
            guard range.lowerBound <= count else { continue }
            for number in range.lowerBound...min(range.upperBound, count) {
                out.append((number, uids[Int(number) - 1]))
            }
        }
        return out
    }
}

extension IMAPSession {
    /// The UIDs of `view` that become \Recent for this session (RFC 3501 §2.3.2): those up to
    /// its last that no session has taken yet (above `claimed`), taken now. A read-only
    /// session shows them without taking them (EXAMINE, §6.3.2); an IMAP4rev2 one has no
    /// \Recent (RFC 9051 Appendix E). Nil for none.
    func newlyRecent(in view: MailboxView, claimedUpTo claimed: UInt32) async throws -> ClosedRange<UInt32>? {
        guard !imap4rev2, view.lastUID > claimed else { return nil }
        if view.readOnly { return (claimed + 1)...view.lastUID }
        return try await requireAccount().claimRecent(in: view.id, upTo: view.lastUID)
    }

    /// Brings the selected mailbox's view up to date and writes the untagged responses
    /// (RFC 9051 §7.4.1 EXISTS, §7.5.1 EXPUNGE, §7.5.2 FETCH; RFC 7162 §3.2.10 VANISHED
    /// under QRESYNC; RFC 3501 §7.3.2 RECENT for IMAP4rev1 clients). Returns `.close` when
    /// the mailbox was deleted under the session.
    func synchronize(expunges: Bool) async throws -> SessionSignal? {
        guard expunges, var view = selected, let account else { return nil }
        // Nothing added, flagged, expunged or deleted since the view's mod-sequence: no
        // read of the mailbox (the store knows this from its change feed).
        guard account.mayHaveChanged(view.id, since: view.modSeq) else {
            view.synchronized(to: view.modSeq)
            selected = view
            return nil
        }
        let info: MailboxInfo
        do {
            info = try await account.status(view.id)
        } catch StoreError.noSuchMailboxID {
            return try await selectedMailboxGone()
        }
        guard info.highestModSeq > view.modSeq else {
            view.synchronized(to: info.highestModSeq)
            selected = view
            return nil
        }
        let changed = try await account.messages(in: view.id, changedSince: view.modSeq)
        let vanished = try await account.vanished(in: view.id, since: view.modSeq)
        let previousLast = view.lastUID

        // Expunges, highest sequence number first, so that each number is still valid
        // when the client reads it.
        var gone: [UInt32] = []
        for uid in vanished.reversed() {
            guard let number = view.remove(uid) else { continue }
            gone.append(uid)
            if !qresync { send(.expunge(number)) }
        }
        if qresync, !gone.isEmpty { send(.vanished(earlier: false, NumberSet(gone))) }

        // New keywords: the client learns them before it sees them on messages.
        if !Set(info.keywords.map { $0.lowercased() }).isSubset(of: Set(view.keywords.map { $0.lowercased() })) {
            view.keywords = info.keywords
            sendFlags(view)
        }

        // New messages.
        var added: [MessageState] = []
        for message in changed where message.uid > previousLast {
            view.append(message.uid)
            added.append(message.state)
        }
        if !added.isEmpty {
            send(.exists(view.count))
            if let range = try await newlyRecent(in: view, claimedUpTo: info.recentUID) {
                for state in added where range.contains(state.uid) { view.recent.insert(state.uid) }
            }
            if !imap4rev2 { send(.recent(UInt32(clamping: view.recent.count))) }
        }

        // Flag changes of messages the client knows, except those it was told already.
        for message in changed where message.uid <= previousLast {
            guard let number = view.sequenceNumber(of: message.uid) else { continue }
            if let known = view.reportedState(of: message.uid) {
                let differs = known.flags != message.flags
                    || Set(known.keywords.map { $0.lowercased() }) != Set(message.keywords.map { $0.lowercased() })
                guard differs || (condStore && known.modSeq != message.modSeq) else { continue }
            }
            var attributes: [MessageAttribute] = [.uid(message.uid), .flags(flags(of: message.state, recent: view.recent.contains(message.uid)))]
            if condStore { attributes.append(.modSeq(UInt64(max(0, message.modSeq)))) }
            send(.fetch(FetchResponse(number, attributes)))
        }
        view.synchronized(to: info.highestModSeq)
        selected = view
        return nil
    }

    /// The selected mailbox no longer exists: RFC 9051 §7.1.5 allows BYE, which is the only
    /// answer that keeps sequence numbers meaningful.
    func selectedMailboxGone() async throws -> SessionSignal? {
        selected = nil
        send(.bye(ResponseText(text: "the selected mailbox was deleted")))
        state = .logout
        return .close
    }

    func sendFlags(_ view: MailboxView) {
        send(.flags(Self.systemFlags + view.keywords.compactMap(Flag.keyword)))
        if !view.readOnly {
            send(.condition(.ok("flags that can be changed permanently", code: .permanentFlags(Self.systemFlags + view.keywords.compactMap(Flag.keyword), allowsNewKeywords: true))))
        }
    }

    static let systemFlags: [Flag] = [.answered, .flagged, .deleted, .seen, .draft]

    /// The IMAP flags of a message; \Recent only for IMAP4rev1 clients.
    func flags(of state: MessageState, recent: Bool) -> [Flag] {
        var out: [Flag] = []
        if state.flags.contains(.seen) { out.append(.seen) }
        if state.flags.contains(.answered) { out.append(.answered) }
        if state.flags.contains(.flagged) { out.append(.flagged) }
        if state.flags.contains(.deleted) { out.append(.deleted) }
        if state.flags.contains(.draft) { out.append(.draft) }
        if recent, !imap4rev2 { out.append(.recent) }
        out += state.keywords.compactMap(Flag.keyword)
        return out
    }

    /// Splits IMAP flags into the store's system flags and keywords; \Recent is not stored
    /// (RFC 9051 §2.3.2).
    static func storeFlags(_ flags: [Flag]) -> (MessageFlags, [String]) {
        var system: MessageFlags = []
        var keywords: [String] = []
        for flag in flags {
            if flag.isKeyword {
                keywords.append(flag.rawValue)
            } else if let known = MessageFlags(imapName: flag.rawValue) {
                system.insert(known)
            }
        }
        return (system, keywords)
    }
}
