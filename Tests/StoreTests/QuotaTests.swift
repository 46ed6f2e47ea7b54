import Foundation
import Message
import Store
import Testing

/// QuotaBytes (RFC 9208 STORAGE): deliveries, APPEND and COPY stop at the limit, inside
/// their transactions; what was refused leaves nothing behind.
@Suite struct QuotaTests {
    @Test func deliveryAppendAndCopyStopAtTheLimit() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let text = sampleMessage()
        let size = Int64(text.utf8.count)
        account.quotaBytes = size * 2

        _ = try await store.deliver(IncomingMessage(file: try fixture.incoming(text)), to: [DeliveryRecipient(account: "mjl")])
        let inbox = try await account.inbox()
        _ = try await account.append(to: inbox.id, .bytes(Array(text.utf8)))
        #expect(try await account.quotaUsage().storage == size * 2)

        await #expect(throws: StoreError.overQuota(account: "mjl", limit: size * 2)) {
            _ = try await store.deliver(IncomingMessage(file: try fixture.incoming(text)), to: [DeliveryRecipient(account: "mjl")])
        }
        await #expect(throws: StoreError.overQuota(account: "mjl", limit: size * 2)) {
            _ = try await account.append(to: inbox.id, .bytes(Array(text.utf8)))
        }
        let archive = try #require(try await account.mailbox(role: .archive))
        await #expect(throws: StoreError.overQuota(account: "mjl", limit: size * 2)) {
            _ = try await account.copy(UIDSet(ranges: [1...1]), from: inbox.id, to: archive.id)
        }
        // MOVE adds nothing, so it is allowed at the limit.
        let moved = try await account.move(UIDSet(ranges: [1...1]), from: inbox.id, to: archive.id)
        #expect(moved.mapping.count == 1)

        let usage = try await account.quotaUsage()
        #expect(usage.messages == 2 && usage.storage == size * 2)
        #expect(fixture.messageFiles("mjl").count == 2, "refused messages leave no files")
        #expect(try await store.verify() == [])

        // Raised or removed limits apply to the next write.
        account.quotaBytes = nil
        _ = try await account.append(to: inbox.id, .bytes(Array(text.utf8)))
        #expect(try await account.quotaUsage().messages == 3)
    }

    /// Several accounts: one over quota fails the whole delivery (all-or-nothing), so the
    /// sender retries for everyone rather than anyone losing the message.
    @Test func oneFullAccountFailsAMultiAccountDelivery() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let full = try store.createAccount("full")
        let other = try store.createAccount("other")
        full.quotaBytes = 10
        await #expect(throws: StoreError.overQuota(account: "full", limit: 10)) {
            _ = try await store.deliver(
                IncomingMessage(file: try fixture.incoming(sampleMessage())),
                to: [DeliveryRecipient(account: "other"), DeliveryRecipient(account: "full")])
        }
        #expect(try await other.quotaUsage().messages == 0)
        #expect(try await store.verify() == [])
    }
}
