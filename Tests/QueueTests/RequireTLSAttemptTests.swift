import Foundation
import SMTP
import SMTPClient
import Testing

@testable import Queue

/// RFC 8689 §4.2.1 within one attempt: a host that cannot meet REQUIRETLS passes the
/// message on to the next MX host; only when none can does it fail, permanently.
@Suite struct RequireTLSAttemptTests {
    let message = QueuedMessage(
        id: 1, fileID: 1, sender: .mailbox(Mailbox(localPart: "a", domain: "example.com")), domain: "example.net",
        recipients: [QueuedRecipient(id: 7, address: Mailbox(localPart: "bob", domain: "example.net"))], size: 10, requireTLS: true,
        created: Date(timeIntervalSince1970: 0), nextAttempt: Date(timeIntervalSince1970: 0))
    let noTLS = ClientError(step: .startTLS, kind: .tls, enhanced: EnhancedStatus(4, 7, 10), text: "TLS is required and the server does not offer STARTTLS", isPermanent: false)
    let noRequireTLS = ClientError(step: .mail, kind: .unsupportedByServer, enhanced: .requireTLSRequired, text: "REQUIRETLS: the server does not offer REQUIRETLS", isPermanent: true)
    let refused = ClientError(step: .connect, kind: .connection, text: "connection refused", isPermanent: false)

    func outcome(_ state: AttemptState) -> RecipientOutcome? { state.results[1]?.outcomes[7] }

    func result(_ outcome: RecipientResult.Outcome) -> TransactionResult {
        TransactionResult(recipients: [RecipientResult(recipient: .mailbox(Mailbox(localPart: "bob", domain: "example.net")), outcome: outcome)])
    }

    @Test func noHostMeetsItPermanentFailure() {
        var state = AttemptState(messages: [message])
        state.failOpen(DeliveryFailure(noTLS, remoteMTA: "mx1"), requireTLS: true, error: noTLS)
        // Still open for the next host.
        #expect(state.hasOpen(requireTLS: true))
        state.record(message: 1, recipients: message.recipients, result: result(.failed(noRequireTLS)), remoteMTA: "mx2")
        #expect(state.hasOpen(requireTLS: true))
        state.failRequireTLS()
        guard case let .failed(failure)? = outcome(state) else {
            Issue.record("no failure: \(String(describing: outcome(state)))")
            return
        }
        #expect(failure.isPermanent && failure.status == "5.7.30" && failure.remoteMTA == "mx2")
        #expect(failure.diagnostic == "REQUIRETLS (RFC 8689) could not be met: MAIL: REQUIRETLS: the server does not offer REQUIRETLS")
    }

    @Test func aLaterHostDelivers() {
        var state = AttemptState(messages: [message])
        state.failOpen(DeliveryFailure(noTLS, remoteMTA: "mx1"), requireTLS: true, error: noTLS)
        state.record(message: 1, recipients: message.recipients, result: result(.delivered(Reply(250, nil, "ok"))), remoteMTA: "mx2")
        state.failRequireTLS()
        #expect(outcome(state) == .delivered)
        #expect(!state.hasOpen)
    }

    /// The last host could not be reached at all: maybe it can meet REQUIRETLS; retry.
    @Test func unreachableLastHostIsTemporary() {
        var state = AttemptState(messages: [message])
        state.failOpen(DeliveryFailure(noTLS, remoteMTA: "mx1"), requireTLS: true, error: noTLS)
        state.failOpen(DeliveryFailure(refused, remoteMTA: "mx2"), requireTLS: true, error: refused)
        state.failRequireTLS()
        guard case let .failed(failure)? = outcome(state) else {
            Issue.record("no failure")
            return
        }
        #expect(!failure.isPermanent && failure.diagnostic == "connect: connection refused")
    }

    /// Without REQUIRETLS the same TLS failure stays temporary.
    @Test func otherMessagesUnaffected() {
        var plain = message
        plain.requireTLS = false
        var state = AttemptState(messages: [plain])
        state.failOpen(DeliveryFailure(noTLS, remoteMTA: "mx1"), requireTLS: false, error: noTLS)
        state.failRequireTLS()
        guard case let .failed(failure)? = state.results[1]?.outcomes[7] else {
            Issue.record("no failure")
            return
        }
        #expect(!failure.isPermanent && failure.status == "4.7.10")
    }
}
