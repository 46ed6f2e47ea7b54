import Foundation
import SMTP
import SMTPClient

/// One queued message: the envelope for one destination domain and its recipients there,
/// and the scheduling state. A submission to several domains becomes one record per domain
/// (sharing one message file), because each domain is delivered to, retried and given up
/// on independently (RFC 5321 §4.5.4.1: retries are per destination).
public struct QueuedMessage: Sendable, Hashable {
    public var id: Int64
    /// The message file (`msg/<fileID>`), shared by the records of one submission.
    public var fileID: Int64
    public var sender: ReversePath
    /// The account that submitted the message, whose routes apply first; nil for mail the
    /// server made itself (DSNs).
    public var account: String?
    /// The recipient domain, lower-cased: every recipient of the record is in it.
    public var domain: String
    public var recipients: [QueuedRecipient]
    /// Octets of the message file.
    public var size: Int
    public var body: MailParameters.Body
    public var utf8Header: Bool
    /// RFC 8689: deliver only over verified TLS to a server that offers REQUIRETLS.
    public var requireTLS: Bool
    /// "TLS-Required: No" (RFC 8689 §5): deliver even where the recipient domain's TLS
    /// policy (MTA-STS, DANE) is not met, still trying TLS first.
    public var ignoreTLSPolicy: Bool
    /// The ENVID of the submission (RFC 3461 §4.4), returned in DSNs.
    public var envelopeID: String?
    public var created: Date
    /// Attempts started, including one in progress.
    public var attempts: Int
    public var nextAttempt: Date
    public var lastAttempt: Date?
    /// Held messages are not attempted until released.
    public var held: Bool
    /// A transport chosen by the operator, overriding the routes; nil: the routes decide.
    public var transport: String?
    /// The delayed-delivery DSN went out (it is sent once, RFC 3464 §2.3.3 "delayed").
    public var delayedDSNSent: Bool
    /// A message held for future release (RFC 4865): not attempted before this time.
    public var releaseAt: Date?
    /// The hold as the submitter asked for it ("for;600", "until;<date-time>"), for DSNs.
    public var futureReleaseRequest: String?

    public init(
        id: Int64, fileID: Int64, sender: ReversePath, account: String? = nil, domain: String, recipients: [QueuedRecipient], size: Int,
        body: MailParameters.Body = .sevenBit, utf8Header: Bool = false, requireTLS: Bool = false, ignoreTLSPolicy: Bool = false, envelopeID: String? = nil,
        created: Date, attempts: Int = 0, nextAttempt: Date, lastAttempt: Date? = nil, held: Bool = false, transport: String? = nil,
        delayedDSNSent: Bool = false, releaseAt: Date? = nil, futureReleaseRequest: String? = nil
    ) {
        self.id = id
        self.fileID = fileID
        self.sender = sender
        self.account = account
        self.domain = domain
        self.recipients = recipients
        self.size = size
        self.body = body
        self.utf8Header = utf8Header
        self.requireTLS = requireTLS
        self.ignoreTLSPolicy = ignoreTLSPolicy
        self.envelopeID = envelopeID
        self.created = created
        self.attempts = attempts
        self.nextAttempt = nextAttempt
        self.lastAttempt = lastAttempt
        self.held = held
        self.transport = transport
        self.delayedDSNSent = delayedDSNSent
        self.releaseAt = releaseAt
        self.futureReleaseRequest = futureReleaseRequest
    }

    public var pending: [QueuedRecipient] { recipients.filter { $0.state == .pending } }

    /// RFC 8689 §4.2.1 applies: REQUIRETLS with a non-null reverse-path. A bounce keeps the
    /// REQUIRETLS parameter but not its demands (§4.2.1 names non-empty return paths; §5:
    /// a bounce is not discarded for a next hop without REQUIRETLS).
    public var demandsVerifiedTLS: Bool { requireTLS && sender != .null }

    public var tlsRequirement: TLSRequirement {
        requireTLS ? .requireTLS : ignoreTLSPolicy ? .ignorePolicy : .policy
    }
}

/// What a message asks of TLS on its way (RFC 8689), as the operator can change it.
public enum TLSRequirement: String, Codable, Sendable, Hashable, CaseIterable {
    /// REQUIRETLS (RFC 8689 §4): only over verified TLS to next hops offering REQUIRETLS.
    case requireTLS = "yes"
    /// The recipient domain's TLS policy (MTA-STS, DANE) decides; otherwise opportunistic.
    case policy = "default"
    /// "TLS-Required: No" (RFC 8689 §5): TLS is tried, but policies are not enforced.
    case ignorePolicy = "no"
}

public struct QueuedRecipient: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Not delivered yet: tried at the next attempt.
        case pending
        /// A server took responsibility for the message (RFC 5321 §6.1): done.
        case delivered
        /// Failed permanently or given up on, and reported: final.
        case failed
    }

    public var id: Int64
    public var address: Mailbox
    public var state: State
    /// Why the last attempt for this recipient did not deliver.
    public var lastFailure: DeliveryFailure?

    public init(id: Int64, address: Mailbox, state: State = .pending, lastFailure: DeliveryFailure? = nil) {
        self.id = id
        self.address = address
        self.state = state
        self.lastFailure = lastFailure
    }
}

/// Why a recipient was not delivered, in the terms a DSN needs (RFC 3464 §2.3.4 Status,
/// §2.3.6 Diagnostic-Code, §2.3.5 Remote-MTA).
public struct DeliveryFailure: Sendable, Hashable {
    /// The enhanced status code (RFC 3463), e.g. "5.1.1".
    public var status: String
    public var isPermanent: Bool
    /// The remote reply as received ("550 5.1.1 no such user"), or a description of what
    /// happened locally (a DNS failure, a refused connection, a TLS requirement).
    public var diagnostic: String
    /// `diagnostic` is an SMTP reply, so its Diagnostic-Code type is "smtp" (RFC 3464 §2.1.2).
    public var isSMTPReply: Bool
    /// The host that gave the reply.
    public var remoteMTA: String?

    public init(status: String, isPermanent: Bool, diagnostic: String, isSMTPReply: Bool = false, remoteMTA: String? = nil) {
        self.status = status
        self.isPermanent = isPermanent
        self.diagnostic = diagnostic
        self.isSMTPReply = isSMTPReply
        self.remoteMTA = remoteMTA
    }

    /// A client error: a server's reply keeps its code and text; a local one gets the
    /// client's enhanced code, or RFC 3463's "other" code of its class.
    ///
    /// An AUTH failure is never permanent here, whatever the reply: a relay refusing this
    /// server's credentials (535 5.7.8, RFC 4954 §6), or offering none of the configured
    /// mechanisms, is the operator's to fix, and the message itself is deliverable. So the
    /// recipients are retried (and their senders get the delayed DSN) instead of bounced.
    public init(_ error: ClientError, remoteMTA: String?) {
        let permanent = error.isPermanent && error.step != .auth
        if let code = error.code {
            self.init(replyCode: code, enhanced: error.enhanced, text: error.text, isPermanent: permanent, remoteMTA: remoteMTA)
        } else {
            self.init(
                status: Self.status(error.enhanced, isPermanent: permanent), isPermanent: permanent,
                diagnostic: "\(error.step.rawValue): \(error.text)", remoteMTA: remoteMTA)
        }
    }

    /// An SMTP reply (a remote server's, or this server's own local delivery's): the
    /// diagnostic is the reply as given; the status's class follows `isPermanent` (RFC 3463
    /// §3.1: a server may pair 4xx with 5.x.x).
    public init(replyCode code: Int, enhanced: EnhancedStatus?, text: String, isPermanent: Bool, remoteMTA: String?) {
        self.init(
            status: Self.status(enhanced, isPermanent: isPermanent), isPermanent: isPermanent, diagnostic: "\(code) \(enhanced.map { "\($0) " } ?? "")\(text)",
            isSMTPReply: true, remoteMTA: remoteMTA)
    }

    public init(_ error: DialingError) {
        self.init(status: Self.status(error.enhanced, isPermanent: error.isPermanent), isPermanent: error.isPermanent, diagnostic: error.text)
    }

    /// The enhanced status (RFC 3463) for a decision: the class follows it (§3.1: a server
    /// may pair 4xx with 5.x.x), RFC 3463's "other" code of the class when there is none.
    private static func status(_ enhanced: EnhancedStatus?, isPermanent: Bool) -> String {
        var status = enhanced ?? EnhancedStatus(isPermanent ? 5 : 4, 0, 0)
        status.klass = isPermanent ? 5 : 4
        return status.description
    }
}

/// What one attempt did for one recipient.
public enum RecipientOutcome: Sendable, Hashable {
    case delivered
    case failed(DeliveryFailure)
}
