import DNS
import Foundation
import Queue
import SASL
import SMTP
import SMTPClient
import SMTPServer
import ServerSupport
import Synchronization
import Testing

/// example.org has alice, who may send as alice@example.org, and bob.
struct RelayPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        guard case let .mailbox(mailbox) = recipient, mailbox.domain.lowercased() == "example.org" else { return .remote }
        return mailbox.localPart == "bob" ? .local(account: "bob", mailbox: "Inbox") : .unknownUser
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool {
        sender.mailbox?.localPart == account && sender.mailbox?.domain == "example.org"
    }
}

final class KeptMessages: MessageDeliverer {
    private let messages = Mutex<[SMTPServer.Envelope]>([])
    var envelopes: [SMTPServer.Envelope] { messages.withLock { $0 } }

    func deliver(messageFile: String, envelope: SMTPServer.Envelope) async -> Session.DeliveryResult {
        try? FileManager.default.removeItem(atPath: messageFile)
        let count = messages.withLock { messages in
            messages.append(envelope)
            return messages.count
        }
        return .delivered(id: "m\(count)")
    }
}

/// alice@example.org's password is "secret".
struct RelayCredentials: CredentialSource {
    static let stored: SASLStoredCredentials = {
        let salt = Array("saltsaltsaltsalt".utf8)
        return SASLStoredCredentials(
            scramSHA1: nil, scramSHA256: try? SCRAMCredentials.derive(password: "secret", salt: salt, iterations: 4096, hash: .sha256),
            cramMD5: nil)
    }()

    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        username == "alice@example.org" ? ("alice", Self.stored) : nil
    }
}

@Suite struct RelayTests {
    /// Submission with AUTH to a third party's server (Tern's own, in-process, STARTTLS with
    /// a self-signed certificate whose verification the transport is told to ignore),
    /// chosen by a route for the sender's domain.
    @Test(arguments: [SASLMechanism.plain, .scramSHA256])
    func submissionWithAuthentication(_ mechanism: SASLMechanism) async throws {
        let server = try await InProcessServer(
            kind: .submission, hostname: "smtp.example.org", policy: RelayPolicy(),
            authentication: Authentication(
                credentials: RelayCredentials(), serverSecret: Array("server secret".utf8),
                failureLimiter: AuthFailureLimiter(maxFailures: 10, baseDelay: .milliseconds(1))))
        defer { server.stop() }
        let kept = server.kept

        let relay = RelayTransport(
            host: "localhost", port: server.port, security: .requireSTARTTLS,
            authentication: ClientAuthentication(
                credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"), mechanism: mechanism),
            ignoreVerificationErrors: true)
        // The direct transport points at a closed port: only the route gets the message out.
        let fixture = try await QueueFixture(
            port: 9, transports: ["submission": .relay(relay)], routes: [Route(senderDomains: ["example.org"], transport: "submission")])
        try await fixture.queue.enqueue(submission(from: "alice@example.org", to: ["bob@example.org"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        #expect(kept.envelopes.count == 1)
        #expect(kept.envelopes.first?.sender == .mailbox(mailbox("alice@example.org")))
        #expect(kept.envelopes.first?.tls == true)
        #expect(kept.envelopes.first?.authenticatedAccount == "alice")
        #expect(fixture.local.dsns.isEmpty)
    }

    /// A relay refusing the credentials is deferred, not bounced: the operator fixes the
    /// password and the mail goes out. Other 5xx replies stay permanent.
    @Test func authFailureIsDeferred() {
        let refused = ClientError(step: .auth, reply: Reply(535, EnhancedStatus(5, 7, 8), "authentication failed"))
        #expect(refused.isPermanent)
        let failure = DeliveryFailure(refused, remoteMTA: "relay.example")
        #expect(!failure.isPermanent)
        #expect(failure.status == "4.7.8")
        #expect(failure.diagnostic == "535 5.7.8 authentication failed")
        let unknownUser = DeliveryFailure(ClientError(step: .rcpt, reply: Reply(550, EnhancedStatus(5, 1, 1), "no such user")), remoteMTA: nil)
        #expect(unknownUser.isPermanent && unknownUser.status == "5.1.1")
    }
}
