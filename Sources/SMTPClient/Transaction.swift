import SMTP

/// One message to send: the envelope (RFC 5321 §2.3.1) and what the content needs from the
/// server.
public struct OutboundEnvelope: Sendable, Hashable {
    public var sender: ReversePath
    public var recipients: [ForwardPath]
    /// Octets of the message as it will be sent, for SIZE= (RFC 1870 §4) and BDAT.
    public var size: Int
    /// What the content is: 7bit, 8bit (RFC 6152) or binary (RFC 3030 BINARYMIME).
    public var body: MailParameters.Body
    /// The header has UTF-8 (RFC 6532), so the server must offer SMTPUTF8 (RFC 6531 §3.1).
    /// Addresses with a non-ASCII local part need it too; the session sees those itself.
    public var utf8Header: Bool
    /// RFC 8689 REQUIRETLS: only over verified TLS to a server that offers REQUIRETLS.
    public var requireTLS: Bool

    public init(
        sender: ReversePath, recipients: [ForwardPath], size: Int, body: MailParameters.Body = .sevenBit,
        utf8Header: Bool = false, requireTLS: Bool = false
    ) {
        self.sender = sender
        self.recipients = recipients
        self.size = size
        self.body = body
        self.utf8Header = utf8Header
        self.requireTLS = requireTLS
    }
}

/// The outcome of one transaction, one entry per recipient of the envelope, in its order.
public struct TransactionResult: Sendable, Hashable {
    public var recipients: [RecipientResult]

    public init(recipients: [RecipientResult]) {
        self.recipients = recipients
    }

    public var delivered: [ForwardPath] {
        recipients.compactMap { if case .delivered = $0.outcome { $0.recipient } else { nil } }
    }

    public var failed: [(recipient: ForwardPath, error: ClientError)] {
        recipients.compactMap { if case let .failed(error) = $0.outcome { ($0.recipient, error) } else { nil } }
    }
}

public struct RecipientResult: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        /// The server took responsibility for the message: its final reply.
        case delivered(Reply)
        case failed(ClientError)
    }

    public var recipient: ForwardPath
    public var outcome: Outcome

    public init(recipient: ForwardPath, outcome: Outcome) {
        self.recipient = recipient
        self.outcome = outcome
    }
}

/// The octets of a message, read in pieces so a large message from the queue is never
/// held in memory whole. The pieces must add up to `OutboundEnvelope.size` octets, with
/// CR LF line breaks (RFC 5321 §2.3.8); dot-stuffing is the session's business.
public protocol MessageContent: Sendable {
    /// Calls `body` with consecutive pieces of the message, in order.
    func forEachPiece(_ body: ([UInt8]) async throws -> Void) async throws
}

/// A message held in memory, handed out in pieces of `pieceSize` octets.
public struct MessageBytes: MessageContent {
    public var bytes: [UInt8]
    public var pieceSize: Int

    public init(_ bytes: [UInt8], pieceSize: Int = 64 * 1024) {
        self.bytes = bytes
        self.pieceSize = max(1, pieceSize)
    }

    public func forEachPiece(_ body: ([UInt8]) async throws -> Void) async throws {
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + pieceSize)
            try await body(Array(bytes[start..<end]))
            start = end
        }
    }
}
