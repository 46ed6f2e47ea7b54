import Foundation
import SMTP

/// Hands a submitted message for recipients at other domains to the outbound queue. The
/// executable implements it with the Queue module; this module knows only the seam.
///
/// RFC 6409 §1: the submission server passes the message on to an MTA; RFC 5321 §6.1: with
/// the 250 it takes responsibility for delivering it or reporting the failure. So an
/// implementation returns `.delivered` only once the queue holds the message durably (file
/// fsynced, records committed), and `.temporaryFailure` when it cannot queue it.
public protocol MessageRelayer: Sendable {
    /// Queues `messageFile` (the whole message, trace fields first) for `recipients`, from
    /// `envelope.sender`, carrying the transaction's parameters (8BITMIME, SMTPUTF8,
    /// REQUIRETLS of RFC 8689 §4.2) and its hold (RFC 4865). The caller keeps the file: the
    /// queue links or copies it.
    func relay(messageFile: String, envelope: Envelope, recipients: [Mailbox]) async -> Session.DeliveryResult
}

/// How one transaction's message reaches its recipients: immediate local ones through the
/// `MessageDeliverer`, the rest (submission only: other domains, and with a hold every
/// recipient, `Envelope.queuedRecipients`) through the `MessageRelayer`.
///
/// SMTP has one reply to DATA for all recipients (RFC 5321 §3.3, §4.2.5), so a message
/// with both kinds gets its 250 only when both succeeded. The local delivery goes first:
/// when it fails (a full mailbox: 452; a store error: 451) nothing is queued and its reply
/// stands for the whole message. When the queue then fails, the reply is 451 and the client
/// sends the whole message again, so the local recipients may see it twice. RFC 5321 §6.1
/// prefers a duplicate to a loss, and this order keeps the duplicate in this server's own
/// mailboxes instead of sending it to another domain (the reverse order could not take back
/// a queued message whose delivery had already begun).
struct Routing: Sendable {
    let deliverer: any MessageDeliverer
    let relayer: (any MessageRelayer)?

    /// Delivers `messageFile`, which it takes over (it is gone afterwards).
    func deliver(messageFile: String, envelope: Envelope) async -> Session.DeliveryResult {
        let queued = envelope.queuedRecipients
        guard !queued.isEmpty else {
            return await deliverer.deliver(messageFile: messageFile, envelope: envelope)
        }
        guard let relayer else {
            // The session accepts remote recipients and holds only when a relayer exists.
            try? FileManager.default.removeItem(atPath: messageFile)
            return .temporaryFailure("no outbound queue")
        }
        var immediate = envelope
        immediate.recipients = envelope.immediateRecipients
        guard !immediate.recipients.isEmpty else {
            defer { try? FileManager.default.removeItem(atPath: messageFile) }
            return await relayer.relay(messageFile: messageFile, envelope: envelope, recipients: queued)
        }
        // The local deliverer takes the file over; the queue gets it through a second link.
        let queueCopy = messageFile + ".relay"
        do {
            try FileManager.default.linkItem(atPath: messageFile, toPath: queueCopy)
        } catch {
            try? FileManager.default.removeItem(atPath: messageFile)
            return .temporaryFailure("the message could not be prepared for relaying")
        }
        defer { try? FileManager.default.removeItem(atPath: queueCopy) }
        let local = await deliverer.deliver(messageFile: messageFile, envelope: immediate)
        guard case let .delivered(localID) = local else { return local }
        switch await relayer.relay(messageFile: queueCopy, envelope: envelope, recipients: queued) {
        case let .delivered(queueID): return .delivered(id: "\(localID) queued \(queueID)")
        case let other: return other
        }
    }
}
