import Foundation
import Store
import Testing

@Suite struct AccountFetchTests {
    @Test func summariesOfSomeUIDs() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        for index in 0..<5 {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        let inbox = try await account.inbox()
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([4]), .add, flags: [.flagged])
        let all = try await account.messages(in: inbox.id)
        let some = try await account.summaries(in: inbox.id, uids: UIDSet(ranges: [2...2, 4...9, 1...1]))
        #expect(some.map(\.uid) == [1, 2, 4, 5])
        #expect(some == all.filter { [1, 2, 4, 5].contains($0.uid) })
        #expect(some.first { $0.uid == 4 }?.flags == [.flagged])
        #expect(try await account.summaries(in: inbox.id, uids: UIDSet([99])).isEmpty)
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(9999))) {
            _ = try await account.summaries(in: MailboxID(9999), uids: .all)
        }
    }
}
