import Foundation
import SMTP

/// When to try again and when to give up (RFC 5321 §4.5.4.1: retry at intervals of at
/// least 30 minutes is suggested, giving up after at least 4-5 days; Tern starts sooner
/// and doubles, so a short outage costs minutes and a long one few attempts).
public struct RetryPolicy: Sendable, Hashable {
    /// The wait after the first attempt; each further wait doubles.
    public var firstDelay: TimeInterval
    /// How long after submission the last attempt is made; a failure after that gives up.
    public var maximumAge: TimeInterval
    /// Each wait is varied by up to this fraction either way, so messages that failed
    /// together do not all come back at the same moment.
    public var jitter: Double
    /// After this many failed attempts, a delayed-delivery DSN goes to the sender, once;
    /// nil: never.
    public var delayedDSNAfterAttempts: Int?

    public init(
        firstDelay: TimeInterval = 7.5 * 60, maximumAge: TimeInterval = 4 * 24 * 3600, jitter: Double = 0.1,
        delayedDSNAfterAttempts: Int? = 4
    ) {
        self.firstDelay = firstDelay
        self.maximumAge = maximumAge
        self.jitter = jitter
        self.delayedDSNAfterAttempts = delayedDSNAfterAttempts
    }
}

/// What the queue does with a message after an attempt: the pure part of the queue, with
/// no sockets, files or clocks, so every decision is tested exactly.
public struct AttemptPlan: Sendable, Hashable {
    public enum Next: Sendable, Hashable {
        /// Every recipient is delivered or failed: the record goes.
        case finished
        case retry(at: Date)
    }

    /// The recipients with their new states.
    public var recipients: [QueuedRecipient]
    public var next: Next
    /// The attempt was the last: the remaining recipients were given up on.
    public var gaveUp: Bool
    /// The DSN to send, if any.
    public var dsn: DSNPlan?
    /// The delayed DSN is (or was earlier) sent.
    public var delayedDSNSent: Bool

    public init(recipients: [QueuedRecipient], next: Next, gaveUp: Bool = false, dsn: DSNPlan? = nil, delayedDSNSent: Bool = false) {
        self.recipients = recipients
        self.next = next
        self.gaveUp = gaveUp
        self.dsn = dsn
        self.delayedDSNSent = delayedDSNSent
    }
}

/// Which recipients a DSN reports on, and how.
public struct DSNPlan: Sendable, Hashable {
    public enum Entry: Sendable, Hashable {
        case failed(QueuedRecipient, DeliveryFailure)
        case delayed(QueuedRecipient, DeliveryFailure, retryUntil: Date)
    }

    /// The original envelope sender, who gets the DSN.
    public var recipient: Mailbox
    public var entries: [Entry]
}

public enum Scheduling {
    /// The wait after attempt number `attempt` (1 for the first): `firstDelay`·2^(attempt-1),
    /// varied by the jitter with `random`, a value in 0..<1.
    public static func delay(afterAttempt attempt: Int, policy: RetryPolicy, random: Double) -> TimeInterval {
        let doublings = Double(max(0, min(attempt - 1, 40)))
        let base = policy.firstDelay * pow(2, doublings)
        return base * (1 + policy.jitter * (2 * random - 1))
    }

    /// RFC 3463 §3.5 X.4.7: delivery time expired.
    static let expired = "5.4.7"

    /// Applies one attempt's outcomes to `message` (whose `attempts` already counts this
    /// attempt) at `now`.
    ///
    /// - A delivered recipient is done; a permanently failed one is final and reported.
    /// - A temporary failure, or no outcome at all (the attempt did not reach the
    ///   recipient), leaves the recipient pending with `attemptFailure` as its reason.
    /// - Pending recipients after the last attempt (at or after `maximumAge` past the
    ///   submission, or past the release time of a held message, RFC 4865) are
    ///   given up on and reported as failed. Otherwise the next attempt is after the
    ///   backoff, never later than that last moment, so the configured total holds.
    /// - A delayed DSN is due once, when pending recipients remain after
    ///   `delayedDSNAfterAttempts` attempts.
    /// - No DSN at all for a null reverse-path: RFC 5321 §4.5.5 and §6.1, notifications
    ///   about notifications would loop.
    public static func plan(
        _ message: QueuedMessage, outcomes: [Int64: RecipientOutcome], attemptFailure: DeliveryFailure?, now: Date,
        policy: RetryPolicy, random: Double
    ) -> AttemptPlan {
        var recipients = message.recipients
        var failed: [(QueuedRecipient, DeliveryFailure)] = []
        for index in recipients.indices where recipients[index].state == .pending {
            switch outcomes[recipients[index].id] {
            case .delivered?:
                recipients[index].state = .delivered
                recipients[index].lastFailure = nil
            case let .failed(failure)? where failure.isPermanent:
                recipients[index].state = .failed
                recipients[index].lastFailure = failure
                failed.append((recipients[index], failure))
            case let .failed(failure)?:
                recipients[index].lastFailure = failure
            case nil:
                if let attemptFailure { recipients[index].lastFailure = attemptFailure }
            }
        }

        let deadline = (message.releaseAt ?? message.created).addingTimeInterval(policy.maximumAge)
        var next = AttemptPlan.Next.finished
        var gaveUp = false
        var delayed: [DSNPlan.Entry] = []
        var delayedDSNSent = message.delayedDSNSent
        if recipients.contains(where: { $0.state == .pending }) {
            if now >= deadline {
                gaveUp = true
                for index in recipients.indices where recipients[index].state == .pending {
                    let last = recipients[index].lastFailure
                    let failure = DeliveryFailure(
                        status: expired, isPermanent: true, diagnostic: last?.diagnostic ?? "delivery time expired",
                        isSMTPReply: last?.isSMTPReply ?? false, remoteMTA: last?.remoteMTA)
                    recipients[index].state = .failed
                    recipients[index].lastFailure = failure
                    failed.append((recipients[index], failure))
                }
            } else {
                let wait = delay(afterAttempt: message.attempts, policy: policy, random: random)
                next = .retry(at: min(now.addingTimeInterval(wait), deadline))
                if !delayedDSNSent, let threshold = policy.delayedDSNAfterAttempts, message.attempts >= threshold {
                    delayedDSNSent = true
                    for recipient in recipients where recipient.state == .pending {
                        let failure = recipient.lastFailure ?? DeliveryFailure(status: "4.0.0", isPermanent: false, diagnostic: "not delivered yet")
                        delayed.append(.delayed(recipient, failure, retryUntil: deadline))
                    }
                }
            }
        }

        var dsn: DSNPlan?
        let entries = failed.map { DSNPlan.Entry.failed($0.0, $0.1) } + delayed
        if let sender = message.sender.mailbox, !entries.isEmpty {
            dsn = DSNPlan(recipient: sender, entries: entries)
        }
        return AttemptPlan(recipients: recipients, next: next, gaveUp: gaveUp, dsn: dsn, delayedDSNSent: delayedDSNSent)
    }
}

extension Scheduling {
    /// The plan to record when its DSN could not be handed on: the recipients it would have
    /// reported stay pending and the delayed DSN stays unsent, so the next attempt at
    /// `retryAt` decides again. A failure is never recorded without its report, so a DSN
    /// is never lost; at worst it is sent twice.
    public static func unreported(_ plan: AttemptPlan, original: QueuedMessage, retryAt: Date) -> AttemptPlan {
        guard let dsn = plan.dsn else { return plan }
        var reported: Set<Int64> = []
        for entry in dsn.entries {
            if case let .failed(recipient, _) = entry { reported.insert(recipient.id) }
        }
        var recipients = plan.recipients
        for index in recipients.indices where reported.contains(recipients[index].id) {
            recipients[index].state = .pending
        }
        return AttemptPlan(
            recipients: recipients, next: .retry(at: retryAt), gaveUp: false, dsn: nil, delayedDSNSent: original.delayedDSNSent)
    }
}
