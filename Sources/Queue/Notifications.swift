import Foundation
import Message
import SMTP

/// Delivery to this server's own domains. The queue holds mail for them in two cases: a DSN
/// to a local sender, and a submission held for future release (RFC 4865) with local
/// recipients. Records for a domain served here are delivered through this seam (wired to
/// the Store by the executable) instead of over SMTP, whatever the routes say.
public struct LocalDelivery: Sendable {
    /// One message for recipients in one local domain.
    public struct Request: Sendable {
        public var sender: ReversePath
        public var recipients: [Mailbox]
        /// The queue's file: read it, link it, never remove it.
        public var path: String
        public var requireTLS: Bool

        public init(sender: ReversePath, recipients: [Mailbox], path: String, requireTLS: Bool) {
            self.sender = sender
            self.recipients = recipients
            self.path = path
            self.requireTLS = requireTLS
        }
    }

    public var servesDomain: @Sendable (String) -> Bool
    /// One outcome per recipient, in order.
    public var deliver: @Sendable (Request) async -> [RecipientOutcome]

    public init(servesDomain: @escaping @Sendable (String) -> Bool, deliver: @escaping @Sendable (Request) async -> [RecipientOutcome]) {
        self.servesDomain = servesDomain
        self.deliver = deliver
    }

    /// No domain is local: everything goes out over SMTP.
    public static let none = LocalDelivery(servesDomain: { _ in false }) { message in
        message.recipients.map { _ in .failed(DeliveryFailure(status: "4.3.5", isPermanent: false, diagnostic: "no local delivery")) }
    }
}

enum Notifications {
    /// The DSN for `plan` (RFC 3464): one per-recipient block for each reported recipient,
    /// the last attempt's reply as Diagnostic-Code, and the original's header (RET=HDRS,
    /// RFC 3461 §4.3, so a bounce does not carry the whole message back).
    static func compose(
        _ plan: DSNPlan, message: QueuedMessage, original: [UInt8], reportingMTA: String, now: Date,
        using random: inout some RandomNumberGenerator
    ) throws -> [UInt8] {
        let recipients = plan.entries.map { entry -> DeliveryStatusNotification.Recipient in
            let recipient: QueuedRecipient
            let failure: DeliveryFailure
            let action: DeliveryStatusNotification.Action
            var retryUntil: Date?
            switch entry {
            case let .failed(r, f):
                (recipient, failure, action) = (r, f, .failed)
            case let .delayed(r, f, until):
                (recipient, failure, action, retryUntil) = (r, f, .delayed, until)
            }
            // RFC 3464 §2.1.2: "smtp" for an SMTP reply; a local reason (DNS, a refused
            // connection, TLS) has no registered type, so a private "X-" one.
            return DeliveryStatusNotification.Recipient(
                finalRecipient: "\(recipient.address.localPart)@\(recipient.address.domain)", action: action, status: failure.status,
                diagnosticCode: failure.diagnostic, diagnosticType: failure.isSMTPReply ? "smtp" : "X-Tern", remoteMTA: failure.remoteMTA,
                lastAttemptDate: message.lastAttempt ?? now, willRetryUntil: retryUntil, finalLogID: String(message.id))
        }
        var dsn = DeliveryStatusNotification(
            reportingMTA: reportingMTA, originalSender: Address(displayName: nil, localPart: plan.recipient.localPart, domain: plan.recipient.domain),
            recipients: recipients, original: original, returnContent: .headers)
        dsn.originalEnvelopeID = message.envelopeID
        // RFC 4865 §5.1.2: both fields for a message that was held.
        dsn.arrivalDate = message.created
        dsn.futureReleaseRequest = message.futureReleaseRequest
        dsn.international = message.utf8Header || plan.recipient.needsSMTPUTF8 || message.recipients.contains { $0.address.needsSMTPUTF8 }
        return try dsn.compose(now: now, using: &random).bytes
    }
}
