import Foundation
import Logging
import SMTP
import Store

/// Delivers into the Store: one stored copy per account, durably, before the session may
/// answer 250 (the store fsyncs and commits; see Store's Delivery).
public struct StoreDeliverer: MessageDeliverer {
    public let store: Store
    public let logger: Logger

    public init(store: Store, logger: Logger = Logger(label: "smtpserver")) {
        self.store = store
        self.logger = logger
    }

    /// Runs on the caller's executor (the connection's event loop): the store hands the
    /// work on a large message (fsync, parse) to I/O threads, and a small one costs here
    /// about what writing it to its temporary file did.
    public func deliver(messageFile: String, envelope: Envelope) async -> Session.DeliveryResult {
        // The store links the file into each account; the temporary name goes either way
        // (unlink(2) itself: FileManager's removal also asks what the path is first).
        defer { unlink(messageFile) }
        do {
            // Several addresses of one account get one copy per mailbox (RCPT order kept).
            var seen: Set<[String]> = []
            let recipients = envelope.recipients.filter { seen.insert([$0.account, $0.mailbox]).inserted }
                .map { DeliveryRecipient(account: $0.account, mailbox: $0.mailbox) }
            let incoming = IncomingMessage(file: messageFile, receivedAt: Date(), requireTLS: envelope.parameters.requireTLS)
            let delivered = try await store.deliver(incoming, to: recipients)
            return .delivered(id: delivered.map { "\($0.account)/\($0.uid)" }.joined(separator: ","))
        } catch let StoreError.overQuota(account, _) {
            // RFC 3463 X.2.2: the sender keeps the message and retries; the user may make room.
            logger.info("delivery refused: mailbox full", metadata: ["account": "\(account)"])
            return .rejected(Reply(452, EnhancedStatus(4, 2, 2), "mailbox full"))
        } catch {
            logger.error("storing a message failed", metadata: ["error": "\(error)"])
            return .temporaryFailure("the message could not be stored")
        }
    }
}
