import Foundation
import Store
import Testing

/// The store's part of \Recent (RFC 3501 §2.3.2): which messages some session has taken.
@Suite struct RecentClaimTests {
    /// What was taken stays taken when the store is opened again, and a new mailbox's
    /// messages are all new.
    @Test func claimsOutliveTheProcess() async throws {
        let root = FileManager.default.temporaryDirectory.path + "/recenttests-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: root) }
        var store = try await Store.open(dataDirectory: root)
        var account = try store.createAccount("alice")
        let inbox = try await account.inbox()
        for _ in 0..<3 {
            _ = try await account.append(to: inbox.id, .bytes(Array("Subject: x\r\n\r\nbody\r\n".utf8)))
        }
        #expect(try await account.unclaimedRecentCount(in: inbox.id) == 3)
        #expect(try await account.claimRecent(in: inbox.id, upTo: 2) == 1...2)
        #expect(try await account.claimRecent(in: inbox.id, upTo: 2) == nil)
        #expect(try await account.unclaimedRecentCount(in: inbox.id) == 1)
        store.close()

        store = try await Store.open(dataDirectory: root)
        defer { store.close() }
        account = try store.account("alice")
        #expect(try await account.inbox().recentUID == 2)
        #expect(try await account.claimRecent(in: inbox.id, upTo: 3) == 3...3)
        #expect(try await account.claimRecent(in: inbox.id, upTo: 3) == nil)
        let created = try await account.createMailbox("Fresh")
        #expect(created.recentUID == 0)
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(999))) { try await account.claimRecent(in: MailboxID(999), upTo: 1) }
    }
}
