import Foundation
import Store
import Testing

@Suite struct FeedTests {
    @Test func twoSubscribersSeeTheSameChangesInOrder() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        var first = account.changes().makeAsyncIterator()
        var second = account.changes().makeAsyncIterator()

        let folder = try await account.createMailbox("Folder")
        let delivered = try await Fixture.deliverPlain(store, fixture, to: ["mjl"])
        let inbox = try await account.inbox()
        let stored = try await account.storeFlags(in: inbox.id, uids: UIDSet([1]), .add, flags: [.seen, .deleted])
        let moved = try await account.move(UIDSet([1]), from: inbox.id, to: folder.id)
        try await account.renameMailbox("Folder", to: "Renamed")
        _ = try await account.storeFlags(in: folder.id, uids: UIDSet.all, .add, flags: [.deleted])
        let expunged = try await account.expunge(in: folder.id)
        try await account.deleteMailbox("Renamed")

        let expected: [StoreChange] = [
            .mailboxCreated(mailbox: folder.id, name: "Folder"),
            .messagesAdded(
                mailbox: inbox.id, messages: [MessageState(uid: 1, modSeq: delivered.modSeq, flags: [], keywords: [])],
                highestModSeq: delivered.modSeq),
            .flagsChanged(
                mailbox: inbox.id, messages: [MessageState(uid: 1, modSeq: stored.highestModSeq, flags: [.seen, .deleted], keywords: [])],
                highestModSeq: stored.highestModSeq),
            .messagesAdded(
                mailbox: folder.id, messages: [MessageState(uid: 1, modSeq: moved.modSeq, flags: [.seen, .deleted], keywords: [])],
                highestModSeq: moved.modSeq),
            .expunged(mailbox: inbox.id, uids: [1], highestModSeq: moved.modSeq),
            .mailboxRenamed(mailbox: folder.id, from: "Folder", to: "Renamed"),
            // The STORE changed nothing (already \Deleted), so no event for it.
            .expunged(mailbox: folder.id, uids: [1], highestModSeq: expunged.modSeq),
            .mailboxDeleted(mailbox: folder.id, name: "Renamed"),
        ]
        #expect(await take(expected.count, from: &first) == expected)
        #expect(await take(expected.count, from: &second) == expected)
    }

    @Test func slowSubscriberIsDroppedWithOverflow() async throws {
        let fixture = try Fixture()
        var limits = StoreLimits()
        limits.changeFeedBuffer = 3
        let store = try await fixture.open(limits: limits)
        defer { store.close() }
        let account = try store.createAccount("mjl")
        var slow = account.changes().makeAsyncIterator()
        for index in 0..<6 { try await account.createMailbox("F\(index)") }
        var received: [StoreChange] = []
        while let change = await slow.next() { received.append(change) }
        // `limit` changes, the one that overflowed, then .overflow and the end.
        #expect(received.count == 5)
        #expect(received.last == .overflow)
        #expect(received.dropLast().allSatisfy { if case .mailboxCreated = $0 { return true } else { return false } })

        // A new subscriber works normally.
        var fresh = account.changes().makeAsyncIterator()
        let created = try await account.createMailbox("G")
        #expect(await fresh.next() == .mailboxCreated(mailbox: created.id, name: "G"))
    }

    /// What the feed knows answers "did this mailbox change since mod-sequence N?" without a
    /// read: only "no" when it knows the mailbox's HIGHESTMODSEQ, from a change or a status
    /// read; every kind of change makes it "yes" again, and a deleted mailbox stays "yes".
    @Test func knownStateTellsWhetherAMailboxChanged() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let inbox = try await account.inbox()
        #expect(account.mayHaveChanged(inbox.id, since: inbox.highestModSeq), "nothing seen yet")
        var status = try await account.status(inbox.id)
        #expect(!account.mayHaveChanged(inbox.id, since: status.highestModSeq))
        #expect(account.mayHaveChanged(inbox.id, since: status.highestModSeq - 1))

        // Another mailbox's changes leave this one unchanged.
        let folder = try await account.createMailbox("Folder")
        _ = try await account.append(to: folder.id, .bytes(Array(sampleMessage().utf8)))
        #expect(!account.mayHaveChanged(inbox.id, since: status.highestModSeq))

        // A delivery, a flag change and an expunge each count, with no read in between.
        let delivered = try await Fixture.deliverPlain(store, fixture, to: ["mjl"])
        #expect(account.mayHaveChanged(inbox.id, since: status.highestModSeq))
        #expect(!account.mayHaveChanged(inbox.id, since: delivered.modSeq))
        let flagged = try await account.storeFlags(in: inbox.id, uids: UIDSet([1]), .add, flags: [.deleted])
        #expect(account.mayHaveChanged(inbox.id, since: delivered.modSeq))
        let expunged = try await account.expunge(in: inbox.id)
        #expect(account.mayHaveChanged(inbox.id, since: flagged.highestModSeq))
        status = try await account.status(inbox.id)
        #expect(status.highestModSeq == expunged.modSeq && !account.mayHaveChanged(inbox.id, since: expunged.modSeq))

        // Deleted: always "may have changed", even after a status read from before the delete.
        let folderStatus = try await account.status(folder.id)
        #expect(!account.mayHaveChanged(folder.id, since: folderStatus.highestModSeq))
        try await account.deleteMailbox("Folder")
        #expect(account.mayHaveChanged(folder.id, since: .max))
        await #expect(throws: StoreError.noSuchMailboxID(folder.id)) { _ = try await account.status(folder.id) }
        #expect(account.mayHaveChanged(folder.id, since: .max))
    }

    @Test func endedStreamUnsubscribes() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        let account = try store.createAccount("mjl")
        let task = Task {
            var count = 0
            for await _ in account.changes() { count += 1 }
            return count
        }
        try await account.createMailbox("Probe")
        try await Task.sleep(for: .milliseconds(20))
        task.cancel()
        _ = await task.value
        // Closing ends every stream; nothing hangs.
        var stream = account.changes().makeAsyncIterator()
        store.close()
        #expect(await stream.next() == nil)
    }
}
