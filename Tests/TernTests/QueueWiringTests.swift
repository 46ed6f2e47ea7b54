import Config
import DNS
import Foundation
import Logging
import Queue
import SMTP
import SMTPClient
import SMTPServer
import Store
import Testing

@testable import SMTPServer
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

    /// A Socks transport becomes direct delivery through the proxy, to the MX hosts on
    /// Queue.DirectPort, with the transport's Hostname in EHLO.
    @Test func socksTransport() throws {
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            Postmaster:
              Account: admin
            Listeners:
              public:
                IPs: [192.0.2.1]
                SMTP:
                  Enabled: true
            Queue:
              DirectPort: 2525
              Transports:
                proxied:
                  Socks:
                    Address: proxy.example.net:1080
                    RemoteIPs: [198.51.100.7]
                    Hostname: Out.Example.com
                    Auth:
                      Username: tern
                      Password: secret
            """
        let config = try StaticConfig.parse(yaml, file: "tern.yaml", directory: "/etc/tern")
        let settings = QueueSettings(config.queue, hostname: config.hostname.ascii)
        guard case let .socks(socks)? = settings.transports["proxied"] else {
            Issue.record("no SOCKS5 transport in \(settings.transports.keys.sorted())")
            return
        }
        #expect(socks == SOCKSTransport(
            proxyHost: "proxy.example.net", proxyPort: 1080, credentials: SOCKS5Credentials(username: "tern", password: "secret"),
            remoteIPs: [try #require(IPAddress("198.51.100.7"))], hostname: "out.example.com", port: 2525))
    }

    /// Submitted mail is queued with its account; at each attempt the routes of that
    /// account, then of the sender's domain, then tern.yaml's, from the domains file in
    /// effect: a reload changes the transport of mail already queued.
    @Test func routesFromTheDomainsFileInEffect() async throws {
        let staticConfig = try StaticConfig.parse(
            """
            DataDir: data
            Hostname: mail.example.com
            Postmaster:
              Account: alice
            Listeners:
              public:
                IPs: [192.0.2.1]
                SMTP:
                  Enabled: true
            Queue:
              Transports:
                relay:
                  Host: smtp.example.net
                  Port: 587
              Routes:
                - Transport: relay
            """, file: "tern.yaml", directory: "/etc/tern")
        let domainsFile = """
            Domains:
              example.com:
                Routes:
                  - RecipientDomains: [example.net]
                    Transport: direct
            Accounts:
              alice:
                Domain: example.com
                Destinations:
                  alice: {}
                Routes:
                  - MinimumAttempt: 2
                    Transport: relay
            """
        let domains = DomainsHolder(try DomainsConfig.parse(domainsFile, file: "domains.yaml", check: staticConfig.domainsIssues))
        var settings = QueueSettings(staticConfig.queue, hostname: "mail.example.com")
        settings.localRoutes = LocalRoutes(domains)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-wiring-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await QueueStore.open(directory: directory, now: Date())
        defer { store.close() }
        let queue = OutboundQueue(store: store, settings: settings, environment: QueueEnvironment(resolver: MockResolver()))
        let messageFile = directory + "/message"
        try Data("Subject: hi\r\n\r\nhello\r\n".utf8).write(to: URL(fileURLWithPath: messageFile))
        var envelope = Envelope(
            clientName: "client.example", sender: .mailbox(Mailbox(localPart: "alice", domain: "example.com")), recipients: [],
            parameters: MailParameters(), size: 22, tls: true, authenticatedAccount: "alice", kind: .submission, extended: true)
        envelope.remoteRecipients = [Mailbox(localPart: "bob", domain: "example.net"), Mailbox(localPart: "carol", domain: "example.org")]
        let relayer = QueueRelayer(queue: queue, logger: Logger(label: "smtpserver"))
        guard case .delivered = await relayer.relay(messageFile: messageFile, envelope: envelope, recipients: envelope.remoteRecipients) else {
            Issue.record("the submission was not queued")
            return
        }
        let records = try await queue.list()
        #expect(records.map(\.account) == ["alice", "alice"])
        let toNet = try #require(records.first { $0.domain == "example.net" })
        let toOrg = try #require(records.first { $0.domain == "example.org" })
        #expect(settings.transportName(for: toNet, attempt: 1) == "direct")
        #expect(settings.transportName(for: toNet, attempt: 2) == "relay")
        #expect(settings.transportName(for: toOrg, attempt: 1) == "relay")

        domains.replace(try DomainsConfig.parse(
            domainsFile.replacingOccurrences(of: "example.net]", with: "example.org]").replacingOccurrences(of: "MinimumAttempt: 2", with: "MinimumAttempt: 5"),
            file: "domains.yaml"))
        #expect(settings.transportName(for: toNet, attempt: 2) == "relay")
        #expect(settings.transportName(for: toOrg, attempt: 2) == "direct")
        #expect(settings.transportName(for: toNet, attempt: 5) == "relay")
        #expect(settings.transportName(for: toOrg, attempt: 5) == "relay")
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

        // A domain no longer served here: kept for later, not bounced.
        let moved = await delivery.deliver(LocalDelivery.Request(sender: .null, recipients: [Mailbox(localPart: "bob", domain: "elsewhere.example")], path: queueFile, requireTLS: false))
        #expect(moved == [.failed(DeliveryFailure(status: "4.3.5", isPermanent: false, diagnostic: "the domain is no longer served here"))])

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
