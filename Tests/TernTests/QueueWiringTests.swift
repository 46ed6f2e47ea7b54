import Config
import Foundation
import Queue
import SMTP
import SMTPServer
import Store
import Testing

@testable import Tern

@Suite struct QueueWiringTests {
    /// Queue.DirectPort reaches the queue as its default ("direct") transport; at 25 the
    /// queue's built-in direct transport is left alone.
    @Test func directPortBecomesTheDirectTransport() {
        var config = QueueConfig()
        #expect(QueueSettings(config, hostname: "mail.example").transports.isEmpty)

        config.directPort = 2525
        let settings = QueueSettings(config, hostname: "mail.example")
        guard case let .direct(direct)? = settings.transports[QueueSettings.directTransportName] else {
            Issue.record("no direct transport in \(settings.transports.keys.sorted())")
            return
        }
        #expect(direct.port == 2525)
    }

    /// Held local recipients and DSNs to local senders reach the Store through the
    /// submission's deliverer; addresses are resolved at delivery time.
    @Test func localDeliveryGoesIntoTheStore() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/tern-localdelivery-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await Store.open(dataDirectory: directory)
        defer { store.close() }
        let alice = try store.createAccount("alice")
        let delivery = LocalDelivery.store(deliverer: StoreDeliverer(store: store), policy: ExampleOrgPolicy(), temporaryDirectory: store.temporaryDirectory)
        #expect(delivery.servesDomain("example.org"))
        #expect(!delivery.servesDomain("elsewhere.example"))

        let message = "From: bob@elsewhere.example\r\nSubject: later\r\n\r\nhello\r\n"
        let queueFile = directory + "/queued"
        try Data(message.utf8).write(to: URL(fileURLWithPath: queueFile))
        let request = LocalDelivery.Request(
            sender: .mailbox(Mailbox(localPart: "bob", domain: "elsewhere.example")),
            recipients: [Mailbox(localPart: "alice", domain: "example.org"), Mailbox(localPart: "gone", domain: "example.org")],
            path: queueFile, requireTLS: false)
        let outcomes = await delivery.deliver(request)
        #expect(outcomes.first == .delivered)
        guard case let .failed(failure) = outcomes.last else {
            Issue.record("gone@example.org was delivered")
            return
        }
        #expect(failure.isPermanent && failure.status == "5.1.1")
        // The queue's file stays: the queue removes it once no record needs it.
        #expect(FileManager.default.fileExists(atPath: queueFile))
        let inbox = try #require(try await alice.mailbox(named: "INBOX"))
        #expect(try await alice.messages(in: inbox.id).count == 1)

        // A full mailbox is a temporary failure with the Store's reply.
        alice.quotaBytes = 1
        let full = await delivery.deliver(LocalDelivery.Request(sender: .null, recipients: [Mailbox(localPart: "alice", domain: "example.org")], path: queueFile, requireTLS: false))
        #expect(full == [.failed(DeliveryFailure(status: "4.2.2", isPermanent: false, diagnostic: "452 4.2.2 mailbox full", isSMTPReply: true))])
    }
}

/// example.org is local with one user, alice; every other domain is remote.
private struct ExampleOrgPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        guard let mailbox = recipient.mailbox, mailbox.domain == "example.org" else { return .remote }
        return mailbox.localPart == "alice" ? .local(account: "alice", mailbox: "INBOX") : .unknownUser
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool { false }
}
