import Foundation
import Message
import SMTP

/// Where DSNs go. A sender of a local domain gets it delivered into their account
/// (`deliverLocally`, wired to the Store by the executable); any other sender gets it
/// through the queue itself, as a new message with the null reverse-path (RFC 3464 §2,
/// RFC 5321 §4.5.5), which in turn never causes a DSN.
public struct DSNDelivery: Sendable {
    public var isLocal: @Sendable (Mailbox) -> Bool
    public var deliverLocally: @Sendable (_ from: ReversePath, _ to: Mailbox, _ message: [UInt8]) async throws -> Void

    public init(
        isLocal: @escaping @Sendable (Mailbox) -> Bool,
        deliverLocally: @escaping @Sendable (_ from: ReversePath, _ to: Mailbox, _ message: [UInt8]) async throws -> Void
    ) {
        self.isLocal = isLocal
        self.deliverLocally = deliverLocally
    }

    /// Every sender is remote: DSNs are queued.
    public static let viaQueue = DSNDelivery(isLocal: { _ in false }, deliverLocally: { _, _, _ in })
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
        dsn.arrivalDate = message.created
        dsn.international = message.utf8Header || plan.recipient.needsSMTPUTF8 || message.recipients.contains { $0.address.needsSMTPUTF8 }
        return try dsn.compose(now: now, using: &random).bytes
    }
}
