import Foundation
import Store
import Testing

@Suite struct MailboxTests {
    @Test func newAccountHasDefaultMailboxes() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let mailboxes = try await account.mailboxes()
        #expect(Set(mailboxes.map(\.name)) == ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive", "Rejects"])
        let roles = Dictionary(uniqueKeysWithValues: mailboxes.map { ($0.name, $0.role) })
        #expect(roles["INBOX"] == .some(nil))
        #expect(roles["Sent"] == .sent)
        #expect(roles["Junk"] == .junk)
        #expect(roles["Rejects"] == .rejects)
        #expect(MailboxRole.sent.specialUseAttribute == "\\Sent")
        #expect(MailboxRole.rejects.specialUseAttribute == nil)
        #expect(MailboxRole(specialUseAttribute: "\\archive") == .archive)
        #expect(mailboxes.allSatisfy { $0.subscribed })
        #expect(mailboxes.allSatisfy { $0.uidNext == 1 && $0.messages == 0 && $0.highestModSeq > 0 })
        // RFC 9051 §2.3.1.1: distinct, non-zero, from the clock.
        let validities = mailboxes.map(\.uidValidity)
        #expect(Set(validities).count == validities.count)
        #expect(validities.allSatisfy { $0 > 1_767_225_600 })
        #expect(try await account.mailbox(role: .trash)?.name == "Trash")

        #expect(throws: StoreError.accountExists("mjl")) { try store.createAccount("mjl") }
        #expect(throws: StoreError.self) { try store.createAccount("../x") }
        #expect(throws: StoreError.self) { try store.createAccount(".hidden") }
        #expect(throws: StoreError.noSuchAccount("nobody")) { try store.account("nobody") }
        #expect(store.accountNames() == ["mjl"])
    }

    @Test func accountSurvivesReopen() async throws {
        let fixture = try Fixture()
        var store = try await fixture.open()
        let before = try await store.createAccount("mjl").mailboxes()
        store.close()
        store = try await fixture.open()
        defer { store.close() }
        #expect(try await store.account("mjl").mailboxes() == before)
    }

    @Test func secondStoreOnSameDirectoryIsRefused() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        await #expect(throws: StoreError.dataDirectoryInUse(fixture.root)) { _ = try await fixture.open() }
        store.close()
        let again = try await fixture.open()
        again.close()
    }

    @Test func mailboxNamesAreNormalized() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        #expect(try await account.mailbox(named: "inbox")?.name == "INBOX")
        let child = try await account.createMailbox("Inbox/Sub")
        #expect(child.name == "INBOX/Sub")
        // NFD input is stored as NFC (RFC 9051 §5.1) and found in either form.
        let created = try await account.createMailbox("Cafe\u{301}")
        #expect(created.name == "Caf\u{E9}")
        #expect(try await account.mailbox(named: "Cafe\u{301}")?.id == created.id)
        // Trailing separator only declares intent (RFC 9051 §6.3.4).
        #expect(try await account.createMailbox("Projects/").name == "Projects")
        for bad in ["", "a//b", "/a", "a*b", "100%", "tab\there"] {
            await #expect(throws: StoreError.self) { try await account.createMailbox(bad) }
        }
        await #expect(throws: StoreError.mailboxExists("Projects")) { try await account.createMailbox("Projects") }
        await #expect(throws: StoreError.roleInUse(.sent)) { try await account.createMailbox("Sent2", role: .sent) }
    }

    @Test func createMakesSuperiors() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        try await account.createMailbox("a/b/c")
        let names = try await account.mailboxes().map(\.name)
        #expect(names.contains("a") && names.contains("a/b") && names.contains("a/b/c"))
    }

    @Test func renameMovesChildrenAndSubscriptions() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let work = try await account.createMailbox("Work", subscribe: true)
        try await account.createMailbox("Work/2025", subscribe: true)
        try await account.createMailbox("Workshop")
        try await account.renameMailbox("Work", to: "Old/Work")
        let names = try await account.mailboxes().map(\.name)
        #expect(names.contains("Old") && names.contains("Old/Work") && names.contains("Old/Work/2025"))
        #expect(!names.contains("Work") && !names.contains("Work/2025"))
        #expect(names.contains("Workshop"), "a name that merely starts alike is not a child")
        let renamed = try await account.require("Old/Work")
        #expect(renamed.id == work.id && renamed.uidValidity == work.uidValidity)
        let subscriptions = try await account.subscriptions()
        #expect(subscriptions.contains("Old/Work") && subscriptions.contains("Old/Work/2025"))
        #expect(!subscriptions.contains("Work"))

        await #expect(throws: StoreError.renameIntoItself(from: "Old", to: "Old/Work/x")) {
            try await account.renameMailbox("Old", to: "Old/Work/x")
        }
        await #expect(throws: StoreError.mailboxExists("Workshop")) { try await account.renameMailbox("Old", to: "Workshop") }
        await #expect(throws: StoreError.noSuchMailbox("Nope")) { try await account.renameMailbox("Nope", to: "Yes") }
    }

    /// APPEND's lookup of a mailbox by name is kept, and follows renames and deletions.
    @Test func mailboxIDsFollowRenamesAndDeletions() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let work = try await account.createMailbox("Work")
        let child = try await account.createMailbox("Work/2025")
        #expect(try await account.mailboxID(named: "Work") == work.id)
        #expect(try await account.mailboxID(named: "Work/2025") == child.id)
        #expect(try await account.mailboxID(named: "Nope") == nil)
        try await account.renameMailbox("Work", to: "Old")
        #expect(try await account.mailboxID(named: "Work") == nil)
        #expect(try await account.mailboxID(named: "Work/2025") == nil)
        #expect(try await account.mailboxID(named: "Old/2025") == child.id)
        try await account.deleteMailbox("Old/2025")
        #expect(try await account.mailboxID(named: "Old/2025") == nil)
        let again = try await account.createMailbox("Work")
        #expect(again.id != work.id)
        #expect(try await account.mailboxID(named: "Work") == again.id)
        #expect(try await account.mailboxID(named: "inbox") == (try await account.inbox()).id)
    }

    @Test func renameInboxMovesMessages() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        try await account.createMailbox("INBOX/Child")
        for index in 0..<3 {
            _ = try await store.deliver(IncomingMessage(file: fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        let inboxBefore = try await account.inbox()
        try await account.renameMailbox("INBOX", to: "Old Inbox")

        let inbox = try await account.inbox()
        let old = try await account.require("Old Inbox")
        // RFC 9051 §6.3.6: INBOX stays, empty, its children untouched.
        #expect(inbox.id == inboxBefore.id)
        #expect(inbox.messages == 0 && inbox.unseen == 0 && inbox.size == 0)
        #expect(inbox.uidValidity == inboxBefore.uidValidity)
        #expect(inbox.uidNext == 4, "UIDs of INBOX are not reused")
        #expect(inbox.highestModSeq > inboxBefore.highestModSeq)
        #expect(try await account.mailbox(named: "INBOX/Child") != nil)
        #expect(try await account.vanished(in: inbox.id, since: inboxBefore.highestModSeq) == [1, 2, 3])
        #expect(old.messages == 3 && old.size == inboxBefore.size && old.uidNext == 4)
        #expect(old.uidValidity != inbox.uidValidity)
        #expect(try await account.messages(in: old.id).map(\.uid) == [1, 2, 3])
        #expect(try await account.message(in: old.id, uid: 2)?.parsed.header.first("Subject") == "m1")

        let next = try await store.deliver(IncomingMessage(file: fixture.incoming(sampleMessage())), to: [DeliveryRecipient(account: "mjl")])
        #expect(next.first?.uid == 4)
        #expect(try await store.verify() == [])
    }

    @Test func deleteRules() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        await #expect(throws: StoreError.cannotDeleteInbox) { try await account.deleteMailbox("inbox") }
        try await account.createMailbox("Parent/Child")
        // RFC 9051 §6.3.5: refused with HASCHILDREN rather than leaving a \Noselect name.
        await #expect(throws: StoreError.hasChildren("Parent")) { try await account.deleteMailbox("Parent") }
        await #expect(throws: StoreError.noSuchMailbox("Nope")) { try await account.deleteMailbox("Nope") }

        let child = try await account.require("Parent/Child")
        try await account.subscribe("Parent/Child")
        _ = try await store.deliver(
            IncomingMessage(file: fixture.incoming(sampleMessage())), to: [DeliveryRecipient(account: "mjl", mailbox: "Parent/Child")])
        #expect(fixture.messageFiles("mjl").count == 1)
        try await account.deleteMailbox("Parent/Child")
        #expect(fixture.messageFiles("mjl").isEmpty, "the only copy's file is removed")
        try await account.deleteMailbox("Parent")
        // RFC 9051 §6.3.9: the subscription outlives the mailbox.
        #expect(try await account.subscriptions().contains("Parent/Child"))
        let recreated = try await account.createMailbox("Parent/Child")
        #expect(recreated.id != child.id)
        #expect(recreated.uidValidity > child.uidValidity, "a new incarnation gets a new UIDVALIDITY")
        #expect(recreated.subscribed)
        #expect(try await store.verify() == [])
    }

    @Test func deleteKeepsFilesSharedWithOtherMailboxes() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        _ = try await store.deliver(IncomingMessage(file: fixture.incoming(sampleMessage())), to: [DeliveryRecipient(account: "mjl")])
        let inbox = try await account.inbox()
        let other = try await account.createMailbox("Other")
        _ = try await account.copy(UIDSet([1]), from: inbox.id, to: other.id)
        try await account.deleteMailbox("Other")
        #expect(fixture.messageFiles("mjl").count == 1)
        #expect(try await account.message(in: inbox.id, uid: 1) != nil)
        #expect(try await store.verify() == [])
    }
}
