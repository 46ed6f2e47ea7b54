import IMAP
import Store

extension IMAPSession {
    // MARK: SELECT, EXAMINE (RFC 9051 §6.3.2, §6.3.3; RFC 7162 §3.1.8, §3.2.5)

    func select(_ name: MailboxName, _ parameters: SelectParameters, readOnly: Bool) async throws -> StatusResponse {
        let account = try requireAccount()
        if selected != nil {
            // RFC 9051 §6.3.2: the previous mailbox is closed without expunge; IMAP4rev2 and
            // QRESYNC clients are told where the old mailbox's responses end (RFC 7162 §3.2.11).
            selected = nil
            state = .authenticated
            if imap4rev2 || qresync { send(.condition(.ok("previous mailbox closed", code: .closed))) }
        }
        if parameters.qresync != nil, !qresync {
            return .bad("QRESYNC must be enabled first (RFC 7162 §3.2.3)")
        }
        if parameters.condStore { condStore = true }
        guard let info = try await account.mailbox(named: name.name) else {
            return .no("no such mailbox", code: .nonExistent)
        }
        // The counters first, then the messages: a change between the two reads shows up
        // again at the next synchronization and is filtered there, never lost.
        let listing = try await account.uids(in: info.id)
        var view = MailboxView(info: info, readOnly: readOnly, uids: listing.uids)
        // The range ends at the last UID, so the recent ones are the tail of the list.
        if let range = try await newlyRecent(in: view, claimedUpTo: info.recentUID) {
            view.recent.formUnion(view.uids[view.uids.lowerBound(range.lowerBound)...])
        }

        sendFlags(view)
        if readOnly {
            send(.condition(.ok("no permanent flags", code: .permanentFlags([], allowsNewKeywords: false))))
        }
        send(.exists(view.count))
        if !imap4rev2 {
            send(.recent(UInt32(clamping: view.recent.count)))
            if let first = listing.firstUnseen {
                send(.condition(.ok("first unseen", code: .unseen(UInt32(clamping: first + 1)))))
            }
        }
        send(.condition(.ok("UIDs valid", code: .uidValidity(info.uidValidity))))
        send(.condition(.ok("predicted next UID", code: .uidNext(info.uidNext))))
        send(.condition(.ok("highest mod-sequence", code: .highestModSeq(UInt64(max(0, info.highestModSeq))))))
        // RFC 8474 §4.2.
        send(.condition(.ok("mailbox id", code: .mailboxID(ObjectID.mailbox(info.id)))))
        if imap4rev2 {
            // RFC 9051 §6.3.2: a LIST response with the mailbox name.
            send(.list(ListResponse(attributes: [], delimiter: "/", mailbox: MailboxName(info.name))))
        }
        if let qresync = parameters.qresync, qresync.uidValidity == info.uidValidity {
            try await quickResync(view: view, qresync)
        }
        selected = view
        state = .selected
        return .ok(readOnly ? "EXAMINE completed" : "SELECT completed", code: readOnly ? .readOnly : .readWrite)
    }

    /// RFC 7162 §3.2.5.2: VANISHED (EARLIER) for known UIDs expunged since the client's
    /// mod-sequence, and FETCH for messages changed since.
    private func quickResync(view: MailboxView, _ parameters: QResyncParameters) async throws {
        let account = try requireAccount()
        let since = Int64(clamping: parameters.modSeq)
        var vanished = NumberSet(try await account.vanished(in: view.id, since: since))
        if let known = parameters.knownUIDs {
            let knownSet = known.resolved(largest: view.lastUID)
            vanished = NumberSet(vanished.filter { knownSet.contains($0) })
        }
        if !vanished.isEmpty { send(.vanished(earlier: true, vanished)) }
        for message in try await account.messages(in: view.id, changedSince: since) {
            guard let number = view.sequenceNumber(of: message.uid) else { continue }
            if let known = parameters.knownUIDs, !known.resolved(largest: view.lastUID).contains(message.uid) { continue }
            send(.fetch(FetchResponse(number, [
                .uid(message.uid), .flags(flags(of: message.state, recent: view.recent.contains(message.uid))),
                .modSeq(UInt64(max(0, message.modSeq))),
            ])))
        }
    }

    // MARK: CLOSE, UNSELECT (RFC 9051 §6.4.1, §6.4.2)

    func close(expunge: Bool) async throws -> StatusResponse {
        guard let view = selected else { return .bad("no mailbox selected") }
        if expunge, !view.readOnly {
            // RFC 9051 §6.4.1: silently expunge, no untagged responses.
            _ = try await requireAccount().expunge(in: view.id)
        }
        selected = nil
        state = .authenticated
        return .ok(expunge ? "CLOSE completed" : "UNSELECT completed")
    }

    // MARK: EXPUNGE, UID EXPUNGE (RFC 9051 §6.4.3, §6.4.9; RFC 4315 §2.1)

    func expunge(uids set: SequenceSet?) async throws -> StatusResponse {
        guard let view = selected else { return .bad("no mailbox selected") }
        guard !view.readOnly else { return .no("mailbox is read-only", code: .readOnly) }
        let account = try requireAccount()
        var uids = UIDSet.all
        if let set {
            uids = UIDSet(try view.resolve(set, byUID: true).map(\.uid))
            if uids.ranges.isEmpty { return .ok("UID EXPUNGE completed") }
        }
        let result = try await account.expunge(in: view.id, uids: uids)
        // The expunged messages are reported by the synchronization before the tagged OK,
        // like anyone else's.
        let text = set == nil ? "EXPUNGE completed" : "UID EXPUNGE completed"
        guard condStore else { return .ok(text) }
        // RFC 7162 §3.2.10: HIGHESTMODSEQ in the tagged OK of EXPUNGE.
        return .ok(text, code: .highestModSeq(UInt64(max(0, result.modSeq))))
    }

    // MARK: STORE (RFC 9051 §6.4.6; RFC 7162 §3.1.3 UNCHANGEDSINCE)

    func store(_ command: StoreCommand) async throws -> StatusResponse {
        guard var view = selected else { return .bad("no mailbox selected") }
        guard !view.readOnly else { return .no("mailbox is read-only", code: .readOnly) }
        let account = try requireAccount()
        if command.unchangedSince != nil { enableCondStore() }
        let targets = try view.resolve(command.set, byUID: command.byUID)
        let (system, keywords) = Self.storeFlags(command.flags)
        let operation: FlagOperation
        switch command.operation {
        case .replace: operation = .replace
        case .add: operation = .add
        case .remove: operation = .remove
        }
        guard !targets.isEmpty else { return .ok("STORE completed") }
        let result = try await account.storeFlags(
            in: view.id, uids: UIDSet(targets.map(\.uid)), operation, flags: system, keywords: keywords,
            unchangedSince: command.unchangedSince.map { Int64(clamping: $0) })
        var learned = false
        for update in result.updates {
            guard let number = view.sequenceNumber(of: update.state.uid) else { continue }
            let knownModSeq = view.knownModSeq(of: update.state.uid)
            view.noteReported(update.state)
            for keyword in update.state.keywords where !view.keywords.contains(where: { $0.lowercased() == keyword.lowercased() }) {
                view.keywords.append(keyword)
                learned = true
            }
            // RFC 9051 §6.4.6: the new flags unless .SILENT; RFC 7162 §3.1.3: with
            // UNCHANGEDSINCE (or CONDSTORE on) also MODSEQ, and even under .SILENT a FETCH for
            // messages whose mod-sequence changed in a way the client did not ask for.
            let changedByOthers = !update.changed && update.state.modSeq > knownModSeq
            if !command.silent || (condStore && changedByOthers) {
                var attributes: [MessageAttribute] = [.flags(flags(of: update.state, recent: view.recent.contains(update.state.uid)))]
                if command.byUID { attributes.insert(.uid(update.state.uid), at: 0) }
                if condStore { attributes.append(.modSeq(UInt64(max(0, update.state.modSeq)))) }
                send(.fetch(FetchResponse(number, attributes)))
            }
        }
        if learned { sendFlags(view) }
        selected = view
        if !result.modified.isEmpty {
            // RFC 7162 §3.1.3: MODIFIED with the numbers of the messages that failed the test.
            let numbers = command.byUID ? NumberSet(result.modified) : NumberSet(result.modified.compactMap { view.sequenceNumber(of: $0) })
            return .ok("conditional STORE failed for some messages", code: .modified(numbers))
        }
        return .ok("STORE completed")
    }

    // MARK: COPY, MOVE (RFC 9051 §6.4.7, §6.4.8; RFC 4315 COPYUID; RFC 6851)

    func copy(byUID: Bool, _ set: SequenceSet, to destination: MailboxName, move: Bool) async throws -> StatusResponse {
        guard let view = selected else { return .bad("no mailbox selected") }
        if move, view.readOnly { return .no("mailbox is read-only", code: .readOnly) }
        let account = try requireAccount()
        let targets = try view.resolve(set, byUID: byUID)
        guard let target = try await account.mailbox(named: destination.name) else {
            // RFC 9051 §6.4.7: TRYCREATE when the destination does not exist.
            return .no("no such mailbox", code: .tryCreate)
        }
        let name = move ? "MOVE" : "COPY"
        guard !targets.isEmpty else { return .ok("\(name) completed (no messages)") }
        let uids = UIDSet(targets.map(\.uid))
        let result = move
            ? try await account.move(uids, from: view.id, to: target.id)
            : try await account.copy(uids, from: view.id, to: target.id)
        if result.mapping.isEmpty {
            return .no("the messages were expunged", code: .expungeIssued)
        }
        let code = ResponseCode.copyUID(
            uidValidity: result.uidValidity, source: NumberSet(result.mapping.map(\.source)),
            destination: NumberSet(result.mapping.map(\.destination)))
        if move {
            // RFC 6851 §4.3: COPYUID goes in an untagged OK before the expunges.
            send(.condition(.ok("moved", code: code)))
            return .ok("MOVE completed")
        }
        return .ok("COPY completed", code: code)
    }
}
