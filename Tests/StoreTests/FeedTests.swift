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
