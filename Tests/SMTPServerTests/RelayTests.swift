import Foundation
import NIOCore
import SMTP
import ServerSupport
import Synchronization
import Testing

@testable import SMTPServer

/// Keeps what would have been queued; answers only after a pause, so a 250 sent before
/// `relay` returned would find nothing here yet.
final class MemoryRelayer: MessageRelayer {
    let messages = Mutex<[(bytes: [UInt8], envelope: Envelope, recipients: [Mailbox])]>([])
    let failing: Bool

    init(failing: Bool = false) { self.failing = failing }

    func relay(messageFile: String, envelope: Envelope, recipients: [Mailbox]) async -> Session.DeliveryResult {
        let bytes = (try? Data(contentsOf: URL(fileURLWithPath: messageFile))).map { Array($0) } ?? []
        try? await Task.sleep(for: .milliseconds(100))
        if failing { return .temporaryFailure("the message could not be queued") }
        messages.withLock { $0.append((bytes, envelope, recipients)) }
        return .delivered(id: "q\(messages.withLock { $0.count })")
    }

    var queued: [(bytes: [UInt8], envelope: Envelope, recipients: [Mailbox])] { messages.withLock { $0 } }
}

/// A submission listener with a relayer, alice logged in by `body`'s client.
func withRelayingListener(
    relayer: MemoryRelayer, kind: Session.Kind = .submission, _ body: (Int, MemoryDeliverer) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-relay-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var settings = ConnectionSettings(session: Session.Settings(kind: kind, hostname: "mx.example.org"), temporaryDirectory: directory)
    settings.session.plaintextAuthAllowed = true
    if kind == .submission {
        settings.authentication = Authentication(
            credentials: TestCredentials(), serverSecret: Array("server secret".utf8),
            failureLimiter: AuthFailureLimiter(maxFailures: 3, baseDelay: .milliseconds(1)))
    }
    let deliverer = MemoryDeliverer()
    let listener = Listener(
        settings: settings, policy: TestPolicy(), deliverer: deliverer, relayer: relayer, limiter: ConnectionLimiter(maxPerAddress: 10),
        now: { fixedNow }, makeID: { "id\(UInt32.random(in: 0...UInt32.max))" })
    let bound = try await listener.bind(host: "127.0.0.1", port: 0)
    let server = Task { try await bound.serve() }
    defer { server.cancel() }
    try await body(bound.port, deliverer)
    // Every temporary file is gone: delivered, queued or removed.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
}

extension TestClient {
    mutating func logIn() async throws {
        _ = try await reply()
        #expect(try await command("EHLO c") == 250)
        let plain = Data(Array("\0alice@example.org\0secret".utf8)).base64EncodedString()
        #expect(try await command("AUTH PLAIN " + plain) == 235)
    }

    /// MAIL, the RCPTs (each must get 250), DATA: the final reply code.
    mutating func submit(to recipients: [String], parameters: String = "") async throws -> Int? {
        #expect(try await command("MAIL FROM:<alice@example.org>" + parameters) == 250)
        for recipient in recipients { #expect(try await command("RCPT TO:<\(recipient)>") == 250) }
        #expect(try await command("DATA") == 354)
        return try await command("From: alice@example.org\r\nSubject: out\r\n\r\nhello\r\n.")
    }
}

@Suite struct RelayTests {
    /// RFC 6409: an authenticated submission to another domain is accepted and queued; the
    /// 250 comes only once the relayer (the queue) has the message.
    @Test func remoteRecipientIsQueuedBeforeThe250() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                #expect(try await client.submit(to: ["friend@elsewhere.example"]) == 250)
                #expect(relayer.queued.count == 1)
            }
            #expect(deliverer.stored.isEmpty)
            let queued = try #require(relayer.queued.first)
            #expect(queued.envelope.remoteRecipients == [Mailbox(localPart: "friend", domain: "elsewhere.example")])
            #expect(queued.envelope.recipients.isEmpty)
            let text = String(decoding: queued.bytes, as: UTF8.self)
            // RFC 9228: no Delivered-To for a message handed on; trace and Message-ID added.
            #expect(text.hasPrefix("Received: from c ([127.0.0.1])"))
            #expect(text.contains("Message-ID: <") && text.hasSuffix("Subject: out\r\n\r\nhello\r\n"))
        }
    }

    /// Local recipients go to the store, remote ones to the queue, one 250 for both.
    @Test func mixedLocalAndRemote() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                #expect(try await client.submit(to: ["bob@example.org", "friend@elsewhere.example", "other@third.example"]) == 250)
            }
            #expect(deliverer.stored.map { $0.envelope.recipients.map(\.account) } == [["bob"]])
            #expect(relayer.queued.map { $0.recipients.map(\.domain) } == [["elsewhere.example", "third.example"]])
            #expect(deliverer.stored.first?.bytes == relayer.queued.first?.bytes)
        }
    }

    /// RFC 4865: a held message goes wholly to the queue, local recipients too, so nobody
    /// gets it before the release time; the hold travels with it.
    @Test func heldMessageIsQueuedForEveryRecipient() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                #expect(try await client.submit(to: ["bob@example.org", "friend@elsewhere.example"], parameters: " HOLDFOR=600") == 250)
                #expect(try await client.submit(to: ["bob@example.org"], parameters: " HOLDUNTIL=2026-11-22T01:00:00Z") == 250)
                #expect(try await client.command("MAIL FROM:<alice@example.org> HOLDFOR=60") == 250)
                try await client.send("RCPT TO:<Postmaster>\r\n")
                let reply = try #require(try await client.reply())
                #expect(reply.code == 550 && reply.lines == ["5.5.4 <Postmaster> without a domain cannot be held for future release"])
            }
            #expect(deliverer.stored.isEmpty)
            #expect(relayer.queued.map { $0.recipients.map(\.description) } == [["bob@example.org", "friend@elsewhere.example"], ["bob@example.org"]])
            #expect(relayer.queued.map { $0.envelope.futureRelease } == [
                FutureRelease(releaseAt: fixedNow.addingTimeInterval(600), request: "for;600"),
                FutureRelease(releaseAt: Date(timeIntervalSince1970: 1_795_309_200), request: "until;2026-11-22T01:00:00Z"),
            ])
            // Delivered-To only where the message is delivered, not handed to the queue
            // for a later delivery (RFC 9228): a single local recipient still gets it, since
            // the queue delivers that very file into the Store.
            #expect(String(decoding: relayer.queued[1].bytes, as: UTF8.self).hasPrefix("Delivered-To: bob@example.org\r\n"))
        }
    }

    /// When the queue cannot take the message, the whole transaction gets 451: the client
    /// sends it again (the local copy made first may then arrive twice, RFC 5321 §6.1).
    @Test func queueFailureIs451() async throws {
        let relayer = MemoryRelayer(failing: true)
        try await withRelayingListener(relayer: relayer) { port, deliverer in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                #expect(try await client.submit(to: ["friend@elsewhere.example"]) == 451)
                #expect(try await client.submit(to: ["bob@example.org", "friend@elsewhere.example"]) == 451)
                // The session goes on: a local-only message is still accepted.
                #expect(try await client.submit(to: ["bob@example.org"]) == 250)
            }
            #expect(relayer.queued.isEmpty)
        }
    }

    /// REQUIRETLS (RFC 8689) and SMTPUTF8 travel with the envelope to the relayer.
    @Test func parametersReachTheQueue() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                #expect(try await client.submit(to: ["friend@elsewhere.example"], parameters: " SMTPUTF8 BODY=8BITMIME") == 250)
            }
            let parameters = try #require(relayer.queued.first?.envelope.parameters)
            #expect(parameters.smtputf8 && parameters.body == .eightBitMIME)
        }
    }

    /// RFC 8689 §5: "TLS-Required: No" in a submitted message asks the queue to ignore the
    /// recipients' TLS policies; any other value, or none, does not.
    @Test func tlsRequiredNoReachesTheQueue() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                try await client.logIn()
                for value in ["No", " no ", "yes"] {
                    #expect(try await client.command("MAIL FROM:<alice@example.org>") == 250)
                    #expect(try await client.command("RCPT TO:<friend@elsewhere.example>") == 250)
                    #expect(try await client.command("DATA") == 354)
                    #expect(try await client.command("From: alice@example.org\r\nTLS-Required:\(value)\r\nSubject: t\r\n\r\nhello\r\n.") == 250)
                }
                #expect(try await client.submit(to: ["friend@elsewhere.example"]) == 250)
            }
            #expect(relayer.queued.map(\.envelope.ignoreTLSPolicy) == [true, true, false, false])
        }
    }

    /// Port 25 never relays, whatever the server can queue.
    @Test func incomingStillRefusesRelaying() async throws {
        let relayer = MemoryRelayer()
        try await withRelayingListener(relayer: relayer, kind: .incoming) { port, _ in
            try await TestClient.with(port: port) { (client: inout TestClient) async throws in
                _ = try await client.reply()
                #expect(try await client.command("EHLO c") == 250)
                #expect(try await client.command("MAIL FROM:<someone@elsewhere.example>") == 250)
                try await client.send("RCPT TO:<victim@third.example>\r\n")
                let reply = try #require(try await client.reply())
                #expect(reply.code == 550 && reply.lines == ["5.7.1 relaying denied for <victim@third.example>"])
            }
            #expect(relayer.queued.isEmpty)
        }
    }
}

@Suite struct RelaySessionTests {
    @Test func submissionAcceptsRemoteOnlyWithARelay() {
        for relay in [false, true] {
            var driver = Driver(kind: .submission) { $0.plaintextAuthAllowed = true; $0.relayAvailable = relay }
            _ = driver.send("EHLO c")
            _ = driver.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
            _ = driver.session.authSucceeded(account: "alice")
            #expect(driver.codes("MAIL FROM:<alice@example.org>") == [250])
            let reply = driver.reply("RCPT TO:<friend@elsewhere.example>")
            if relay {
                #expect(reply == Reply(250, .destinationValid, "recipient <friend@elsewhere.example> ok, will be relayed"))
                let actions = driver.send("DATA")
                #expect(actions.contains(.readData(limit: driver.session.settings.maxMessageSize)))
                let delivered = driver.session.dataRead(size: 10, exceededLimit: false)
                guard case let .deliver(envelope) = delivered.first else {
                    Issue.record("no delivery: \(delivered)")
                    continue
                }
                #expect(envelope.remoteRecipients == [Mailbox(localPart: "friend", domain: "elsewhere.example")] && envelope.recipients.isEmpty)
            } else {
                #expect(reply == Reply(550, .notAuthorized, "delivery to other domains is not configured on this server"))
                #expect(driver.codes("DATA") == [554])
            }
        }
    }

    /// Port 25 with the relay flag set (it cannot be, through a Listener) still refuses.
    @Test func incomingNeverRelays() {
        var driver = Driver(kind: .incoming) { $0.relayAvailable = true }
        _ = driver.send("EHLO c")
        _ = driver.send("MAIL FROM:<a@elsewhere.example>")
        #expect(driver.reply("RCPT TO:<victim@elsewhere.example>") == Reply(550, .notAuthorized, "relaying denied for <victim@elsewhere.example>"))
    }
}
