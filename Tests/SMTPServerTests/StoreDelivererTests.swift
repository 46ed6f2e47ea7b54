import Foundation
import SMTP
import Store
import Testing

@testable import SMTPServer

@Suite struct StoreDelivererTests {
    /// A full mailbox is a temporary refusal with RFC 3463's "mailbox full", so the sender
    /// keeps the message; the temporary file is gone either way.
    @Test func fullMailboxIs452MailboxFull() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/tern-deliverer-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await Store.open(dataDirectory: directory)
        defer { store.close() }
        let account = try store.createAccount("alice")
        let deliverer = StoreDeliverer(store: store)
        let message = "From: bob@example.org\r\nSubject: hi\r\n\r\nhello\r\n"
        let envelope = Envelope(
            clientName: "client.example", sender: .null,
            recipients: [Recipient(address: .postmaster, account: "alice", mailbox: "INBOX")],
            parameters: MailParameters(), size: message.utf8.count, tls: false, authenticatedAccount: nil,
            kind: .incoming, extended: true)

        func file() throws -> String {
            let path = store.temporaryDirectory + "/" + UUID().uuidString
            try Data(message.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        account.quotaBytes = Int64(message.utf8.count)
        let first = try file()
        guard case .delivered = await deliverer.deliver(messageFile: first, envelope: envelope) else {
            Issue.record("first delivery refused")
            return
        }
        let second = try file()
        let refused = await deliverer.deliver(messageFile: second, envelope: envelope)
        #expect(refused == .rejected(Reply(452, EnhancedStatus(4, 2, 2), "mailbox full")))
        #expect(!FileManager.default.fileExists(atPath: second))
        #expect(try await account.quotaUsage().messages == 1)
    }
}
