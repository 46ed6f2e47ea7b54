import Foundation
import Message
@testable import Store
import Testing

@Suite struct OpenAccountsTests {
    /// Past `maxIdleOpenAccounts` unused accounts, those used longest ago are closed; one that
    /// someone holds stays open, however long ago it was asked for; a closed account opens
    /// again on its next use with everything in it, and its header cache's share of the
    /// budget is given back.
    @Test func idleAccountsAreClosed() async throws {
        let fixture = try Fixture()
        var limits = StoreLimits()
        limits.maxIdleOpenAccounts = 2
        let store = try await fixture.open(limits: limits)
        defer { store.close() }
        let held = try store.createAccount("held")
        for name in ["a", "b"] { try store.createAccount(name) }
        #expect(store.openAccountCount == 3, "two idle and one held: nothing to close yet")
        _ = try await store.deliver(IncomingMessage(file: try fixture.incoming(sampleMessage(subject: "kept"))), to: [DeliveryRecipient(account: "a")])
        let before = try store.account("a")
        let inbox = try await before.inbox()
        let headers = try await before.storedHeaders(in: inbox.id, uids: UIDSet([1]), only: HeaderNames(["Subject"]))
        #expect(headers.first?.header.first("Subject") == "kept")
        #expect(store.headerCacheSpent > 0)

        _ = try store.account("b")  // b is now used more recently than a
        try store.createAccount("c")
        #expect(store.openAccountCount == 4, "a is still held here")
        _ = consume before
        try store.createAccount("d")
        // Idle: a, b, c (d is the one just opened). a, used longest ago, is closed.
        #expect(store.openAccountCount == 4)
        #expect(store.headerCacheSpent == 0, "a's cached headers went with it")
        #expect(try store.account("held") === held, "held the whole time: never closed")

        let reopened = try store.account("a")
        let again = try await reopened.inbox()
        #expect(again.messages == 1 && again.uidValidity == inbox.uidValidity)
        #expect(try await reopened.message(in: again.id, uid: 1)?.parsed.header.first("Subject") == "kept")
        _ = try await store.deliver(IncomingMessage(file: try fixture.incoming(sampleMessage())), to: [DeliveryRecipient(account: "a")])
        #expect(try await reopened.inbox().uidNext == 3)
    }
}
