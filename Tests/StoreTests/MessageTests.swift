import Foundation
import Message
import Store
import Testing

@Suite struct MessageTests {
    /// A store with account "mjl" and `count` messages delivered to INBOX.
    func setUp(_ count: Int) async throws -> (Fixture, Store, Account, MailboxInfo) {
        let fixture = try Fixture()
        let store = try await fixture.open()
        let account = try store.createAccount("mjl")
        for index in 0..<count {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        return (fixture, store, account, try await account.inbox())
    }

    @Test func appendStoresBytesAndStructure() async throws {
        let (fixture, store, account, inbox) = try await setUp(0)
        defer { store.close() }
        let text = sampleMessage(subject: "Appended")
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let result = try await account.append(
            to: inbox.id, .bytes(Array(text.utf8)), flags: [.seen, .draft], keywords: ["$Forwarded"], internalDate: (date, 0))
        #expect(result.uid == 1 && result.uidValidity == inbox.uidValidity && result.modSeq > inbox.highestModSeq)
        let stored = try #require(try await account.message(in: inbox.id, uid: 1))
        #expect(stored.summary.flags == [.seen, .draft])
        #expect(stored.summary.keywords == ["$Forwarded"])
        #expect(stored.summary.internalDate == date)
        #expect(stored.summary.saveDate > date)
        #expect(stored.summary.size == Int64(text.utf8.count))
        #expect(stored.parsed.header.first("Subject") == "Appended")
        #expect(stored.requireTLS == false && stored.deliveryMetadata == nil)
        let source = try stored.open()
        #expect(try source.read(offset: 0, length: source.count) == Array(text.utf8))

        // From a temp file too (hard-linked).
        let second = try await account.append(to: inbox.id, .file(fixture.incoming(sampleMessage(subject: "File"))))
        #expect(second.uid == 2)
        #expect(fixture.messageFiles("mjl").count == 2)
        await #expect(throws: StoreError.invalidKeyword("bad keyword")) {
            _ = try await account.append(to: inbox.id, .bytes([65]), keywords: ["bad keyword"])
        }
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(9999))) {
            _ = try await account.append(to: MailboxID(9999), .bytes([65]))
        }
        #expect(fixture.messageFiles("mjl").count == 2, "failed appends leave no file")
        #expect(try await store.verify() == [])
    }

    @Test func flagsAndKeywordsWithModSeq() async throws {
        let (_, store, account, inbox) = try await setUp(3)
        defer { store.close() }
        #expect(inbox.unseen == 3)
        let start = inbox.highestModSeq

        let seen = try await account.storeFlags(in: inbox.id, uids: UIDSet(ranges: [1...2]), .add, flags: [.seen])
        #expect(seen.updates.map(\.state.uid) == [1, 2])
        #expect(seen.updates.allSatisfy { $0.changed && $0.state.modSeq == start + 1 && $0.state.flags == [.seen] })
        #expect(seen.highestModSeq == start + 1)
        #expect(try await account.status(inbox.id).unseen == 1)

        // Already set: no new MODSEQ (RFC 7162 §3.1).
        let again = try await account.storeFlags(in: inbox.id, uids: UIDSet([1]), .add, flags: [.seen])
        #expect(again.updates == [FlagUpdate(state: MessageState(uid: 1, modSeq: start + 1, flags: [.seen], keywords: []), changed: false)])
        #expect(try await account.status(inbox.id).highestModSeq == start + 1)

        // Keywords compare case-insensitively; the first spelling stays.
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([3]), .add, keywords: ["$Junk", "Work"])
        let same = try await account.storeFlags(in: inbox.id, uids: UIDSet([3]), .add, keywords: ["$junk"])
        #expect(same.updates.first?.changed == false)
        #expect(same.updates.first?.state.keywords == ["$Junk", "Work"])
        let removed = try await account.storeFlags(in: inbox.id, uids: UIDSet([3]), .remove, keywords: ["WORK"])
        #expect(removed.updates.first?.state.keywords == ["$Junk"])
        #expect(try await account.status(inbox.id).keywords == ["$Junk", "Work"])

        // UNCHANGEDSINCE (RFC 7162 §3.1.3): message 1 changed after start, 3 too.
        let conditional = try await account.storeFlags(
            in: inbox.id, uids: UIDSet.all, .replace, flags: [.flagged], unchangedSince: start)
        #expect(conditional.modified == [1, 2, 3])
        #expect(conditional.updates.isEmpty)
        let current = try await account.status(inbox.id).highestModSeq
        let forced = try await account.storeFlags(
            in: inbox.id, uids: UIDSet([1]), .add, flags: [.seen], unchangedSince: current)
        #expect(forced.updates.first?.changed == true && forced.updates.first?.state.modSeq == current + 1)

        // CHANGEDSINCE listing.
        let changed = try await account.messages(in: inbox.id, changedSince: current)
        #expect(changed.map(\.uid) == [1])
        let replaced = try await account.storeFlags(in: inbox.id, uids: UIDSet.all, .replace, flags: [.deleted, .answered])
        #expect(replaced.updates.allSatisfy { $0.state.flags == [.deleted, .answered] && $0.state.keywords.isEmpty })
        let status = try await account.status(inbox.id)
        #expect(status.unseen == 3 && status.deleted == 3)
        #expect(try await store.verify() == [])
    }

    /// MOVE within one mailbox (RFC 6851 sets no exception): new UIDs, the old ones
    /// vanished, the counters as they were, the file shared still.
    @Test func moveWithinOneMailbox() async throws {
        let (fixture, store, account, inbox) = try await setUp(3)
        defer { store.close() }
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([2]), .add, flags: [.seen])
        let before = try await account.status(inbox.id)
        let within = try await account.move(UIDSet([1, 2]), from: inbox.id, to: inbox.id)
        #expect(within.mapping == [UIDMapping(source: 1, destination: 4), UIDMapping(source: 2, destination: 5)])
        let messages = try await account.messages(in: inbox.id)
        #expect(messages.map(\.uid) == [3, 4, 5])
        #expect(messages.map(\.flags) == [[], [], [.seen]])
        #expect(try await account.vanished(in: inbox.id, since: before.highestModSeq) == [1, 2])
        let after = try await account.status(inbox.id)
        #expect(after.messages == 3 && after.unseen == before.unseen && after.size == before.size && after.uidNext == 6)
        #expect(fixture.messageFiles("mjl").count == 3)
        #expect(try await store.verify() == [])
    }

    @Test func copyMoveExpunge() async throws {
        let (fixture, store, account, inbox) = try await setUp(3)
        defer { store.close() }
        let archive = try await account.require("Archive")
        let trash = try await account.require("Trash")
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([2]), .add, flags: [.flagged], keywords: ["$Label1"])

        let copy = try await account.copy(UIDSet(ranges: [2...3]), from: inbox.id, to: archive.id)
        #expect(copy.uidValidity == archive.uidValidity)
        #expect(copy.mapping == [UIDMapping(source: 2, destination: 1), UIDMapping(source: 3, destination: 2)])
        #expect(fixture.messageFiles("mjl").count == 3, "copies share the file")
        let copied = try await account.messages(in: archive.id)
        #expect(copied.map(\.flags) == [[.flagged], []])
        #expect(copied.first?.keywords == ["$Label1"])
        let original = try await account.messages(in: inbox.id)
        #expect(copied.first?.internalDate == original[1].internalDate, "COPY keeps INTERNALDATE")
        #expect(copied.allSatisfy { $0.modSeq == copy.modSeq })
        #expect(try await account.status(archive.id).size == original[1].size + original[2].size)

        let move = try await account.move(UIDSet([1, 3]), from: inbox.id, to: trash.id)
        #expect(move.mapping == [UIDMapping(source: 1, destination: 1), UIDMapping(source: 3, destination: 2)])
        #expect(try await account.messages(in: inbox.id).map(\.uid) == [2])
        #expect(try await account.vanished(in: inbox.id, since: copy.modSeq) == [1, 3])

        // EXPUNGE removes only \Deleted messages.
        #expect(try await account.expunge(in: trash.id).uids.isEmpty)
        _ = try await account.storeFlags(in: trash.id, uids: UIDSet.all, .add, flags: [.deleted])
        // Trash 2 is inbox 3, which the archive still has a copy of.
        let partial = try await account.expunge(in: trash.id, uids: UIDSet([2]))
        #expect(partial.uids == [2])
        #expect(fixture.messageFiles("mjl").count == 3, "message 3 still has a copy")
        let rest = try await account.expunge(in: trash.id)
        #expect(rest.uids == [1] && rest.modSeq > partial.modSeq)
        #expect(try await account.vanished(in: trash.id, since: partial.modSeq) == [1])
        #expect(fixture.messageFiles("mjl").count == 2, "message 1's only copy is gone")

        // Expunge the archive's copy of 3: its file goes too.
        _ = try await account.storeFlags(in: archive.id, uids: UIDSet([2]), .add, flags: [.deleted])
        _ = try await account.expunge(in: archive.id)
        #expect(fixture.messageFiles("mjl").count == 1)
        let status = try await account.status(trash.id)
        #expect(status.messages == 0 && status.size == 0 && status.deleted == 0 && status.uidNext == 3)
        #expect(try await store.verify() == [])
    }

    @Test func statusAndQuota() async throws {
        let (_, store, account, inbox) = try await setUp(2)
        defer { store.close() }
        let sizes = try await account.messages(in: inbox.id).map(\.size)
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([1]), .add, flags: [.seen, .deleted])
        let status = try await account.status(inbox.id)
        #expect(status.messages == 2)
        #expect(status.unseen == 1)
        #expect(status.deleted == 1)
        #expect(status.uidNext == 3)
        #expect(status.uidValidity == inbox.uidValidity)
        #expect(status.highestModSeq > inbox.highestModSeq)
        #expect(status.size == sizes.reduce(0, +))
        _ = try await account.copy(UIDSet.all, from: inbox.id, to: try await account.require("Archive").id)
        let quota = try await account.quotaUsage()
        #expect(quota.messages == 4)
        #expect(quota.storage == 2 * sizes.reduce(0, +))
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(424242))) { _ = try await account.status(MailboxID(424242)) }
    }

    @Test func uidSetRangesAreMerged() async throws {
        let (_, store, account, inbox) = try await setUp(5)
        defer { store.close() }
        let overlapping = UIDSet(ranges: [4...5, 1...2, 2...3, 5...5])
        let result = try await account.storeFlags(in: inbox.id, uids: overlapping, .add, flags: [.seen])
        #expect(result.updates.map(\.state.uid) == [1, 2, 3, 4, 5])
        let none = try await account.storeFlags(in: inbox.id, uids: UIDSet(ranges: [0...0, 100...200]), .add, flags: [.seen])
        #expect(none.updates.isEmpty)
    }
}
