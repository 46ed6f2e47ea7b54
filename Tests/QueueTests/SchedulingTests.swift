import Foundation
import Queue
import SMTP
import Testing

/// The pure part: backoff, transitions, DSN decisions and routes, without sockets or disk.
@Suite struct SchedulingTests {
    static let start = Date(timeIntervalSince1970: 1_700_000_000)
    static let policy = RetryPolicy(firstDelay: 450, maximumAge: 4 * 24 * 3600, jitter: 0, delayedDSNAfterAttempts: 3)

    static func message(sender: ReversePath = .mailbox(Mailbox(localPart: "a", domain: "example.com")), recipients: Int = 1, attempts: Int = 1) -> QueuedMessage {
        QueuedMessage(
            id: 1, fileID: 1, sender: sender, domain: "example.net",
            recipients: (1...recipients).map { QueuedRecipient(id: Int64($0), address: Mailbox(localPart: "r\($0)", domain: "example.net")) },
            size: 10, created: start, attempts: attempts, nextAttempt: start)
    }

    static let temporary = DeliveryFailure(status: "4.3.0", isPermanent: false, diagnostic: "451 4.3.0 try later", isSMTPReply: true, remoteMTA: "mx")
    static let permanent = DeliveryFailure(status: "5.1.1", isPermanent: true, diagnostic: "550 5.1.1 no such user", isSMTPReply: true, remoteMTA: "mx")

    @Test func backoffDoubles() {
        let delays = (1...5).map { Scheduling.delay(afterAttempt: $0, policy: Self.policy, random: 0.5) }
        #expect(delays == [450, 900, 1800, 3600, 7200])
    }

    @Test func jitterStaysWithinItsFraction() {
        let policy = RetryPolicy(firstDelay: 1000, jitter: 0.1)
        #expect(Scheduling.delay(afterAttempt: 1, policy: policy, random: 0) == 900)
        #expect(abs(Scheduling.delay(afterAttempt: 1, policy: policy, random: 0.999_999) - 1100) < 0.01)
    }

    /// Temporary failures at each due time until the total runs out: the last attempt is
    /// exactly at created + maximumAge, and its failure gives up with a DSN.
    @Test func givesUpAfterTheConfiguredTotal() throws {
        var message = Self.message()
        message.attempts = 0
        var now = Self.start
        var attempts: [Date] = []
        var final: AttemptPlan?
        while final == nil, attempts.count < 100 {
            message.attempts += 1
            attempts.append(now)
            let plan = Scheduling.plan(message, outcomes: [1: .failed(Self.temporary)], attemptFailure: nil, now: now, policy: Self.policy, random: 0.5)
            switch plan.next {
            case let .retry(at):
                message.recipients = plan.recipients
                message.delayedDSNSent = plan.delayedDSNSent
                now = at
            case .finished:
                final = plan
            }
        }
        let plan = try #require(final)
        #expect(plan.gaveUp)
        #expect(attempts.last == Self.start.addingTimeInterval(Self.policy.maximumAge))
        // 450·(2^k - 1) ≤ 4 days gives 10 doubled waits, then the capped last one.
        #expect(attempts.count == 11)
        let dsn = try #require(plan.dsn)
        #expect(dsn.entries == [.failed(QueuedRecipient(id: 1, address: Mailbox(localPart: "r1", domain: "example.net"), state: .failed, lastFailure: plan.recipients[0].lastFailure), try #require(plan.recipients[0].lastFailure))])
        #expect(plan.recipients[0].lastFailure?.status == "5.4.7")
        #expect(plan.recipients[0].lastFailure?.diagnostic == "451 4.3.0 try later")
    }

    @Test func delayedDSNOnceAtTheConfiguredAttempt() {
        var message = Self.message()
        var delayedAt: [Int] = []
        for attempt in 1...6 {
            message.attempts = attempt
            let plan = Scheduling.plan(message, outcomes: [1: .failed(Self.temporary)], attemptFailure: nil, now: Self.start, policy: Self.policy, random: 0.5)
            if let dsn = plan.dsn {
                #expect(dsn.entries.allSatisfy { if case .delayed = $0 { true } else { false } })
                delayedAt.append(attempt)
            }
            message.delayedDSNSent = plan.delayedDSNSent
        }
        #expect(delayedAt == [3])
    }

    @Test func perRecipientTransitions() {
        let message = Self.message(recipients: 4)
        let plan = Scheduling.plan(
            message, outcomes: [1: .delivered, 2: .failed(Self.temporary), 3: .failed(Self.permanent)],
            attemptFailure: DeliveryFailure(status: "4.4.1", isPermanent: false, diagnostic: "connection refused"), now: Self.start,
            policy: Self.policy, random: 0.5)
        #expect(plan.recipients.map(\.state) == [.delivered, .pending, .failed, .pending])
        #expect(plan.recipients[1].lastFailure == Self.temporary)
        #expect(plan.recipients[3].lastFailure?.diagnostic == "connection refused")
        #expect(plan.next == .retry(at: Self.start.addingTimeInterval(450)))
        #expect(plan.dsn?.entries.count == 1)
        #expect(plan.dsn?.recipient == Mailbox(localPart: "a", domain: "example.com"))
    }

    @Test func allSettledFinishes() {
        let plan = Scheduling.plan(
            Self.message(recipients: 2), outcomes: [1: .delivered, 2: .delivered], attemptFailure: nil, now: Self.start, policy: Self.policy, random: 0.5)
        #expect(plan.next == .finished)
        #expect(plan.dsn == nil)
    }

    /// RFC 5321 §4.5.5, §6.1: nothing goes back to a null reverse-path.
    @Test func noDSNForNullSender() {
        let plan = Scheduling.plan(
            Self.message(sender: .null), outcomes: [1: .failed(Self.permanent)], attemptFailure: nil, now: Self.start, policy: Self.policy, random: 0.5)
        #expect(plan.next == .finished)
        #expect(plan.recipients[0].state == .failed)
        #expect(plan.dsn == nil)
    }

    @Test func unreportedKeepsRecipientsPending() {
        let message = Self.message(recipients: 2)
        let plan = Scheduling.plan(message, outcomes: [1: .delivered, 2: .failed(Self.permanent)], attemptFailure: nil, now: Self.start, policy: Self.policy, random: 0.5)
        #expect(plan.next == .finished)
        let kept = Scheduling.unreported(plan, original: message, retryAt: Self.start.addingTimeInterval(60))
        #expect(kept.recipients.map(\.state) == [.delivered, .pending])
        #expect(kept.next == .retry(at: Self.start.addingTimeInterval(60)))
        #expect(kept.dsn == nil)
    }

    @Test func routesFirstMatchWins() {
        let routes = [
            Route(senderDomains: ["Example.com"], recipientDomains: ["special.net"], transport: "a"),
            Route(recipientDomains: ["special.net"], minimumAttempt: 3, transport: "b"),
            Route(senderDomains: ["other.org"], transport: "c"),
        ]
        #expect(Route.select(routes, senderDomain: "example.COM", recipientDomain: "special.net.", attempt: 1) == "a")
        #expect(Route.select(routes, senderDomain: "x.org", recipientDomain: "special.net", attempt: 1) == nil)
        #expect(Route.select(routes, senderDomain: "x.org", recipientDomain: "special.net", attempt: 3) == "b")
        #expect(Route.select(routes, senderDomain: "other.org", recipientDomain: "anything.net", attempt: 1) == "c")
        #expect(Route.select(routes, senderDomain: nil, recipientDomain: "anything.net", attempt: 9) == nil)
    }

    /// At each attempt: the operator's transport, else the routes of the submitting account,
    /// then of the sender's domain, then the global ones, each with its minimum attempt;
    /// else direct delivery.
    @Test func accountRoutesThenDomainRoutesThenGlobal() {
        let local = LocalRoutes(
            account: { $0 == "alice" ? [Route(minimumAttempt: 2, transport: "account")] : [] },
            domain: { domain in
                domain == "example.com" ? [Route(recipientDomains: ["example.net"], transport: "domain"), Route(minimumAttempt: 3, transport: "late")] : []
            })
        let settings = QueueSettings(hostname: "mail.example.com", routes: [Route(transport: "global")], localRoutes: local)
        var message = Self.message()
        message.account = "alice"
        #expect(settings.transportName(for: message, attempt: 1) == "domain")
        #expect(settings.transportName(for: message, attempt: 2) == "account")
        message.account = "bob"
        #expect(settings.transportName(for: message, attempt: 2) == "domain")
        message.domain = "example.org"
        #expect(settings.transportName(for: message, attempt: 2) == "global")
        #expect(settings.transportName(for: message, attempt: 3) == "late")
        message.sender = .null
        message.account = nil
        #expect(settings.transportName(for: message, attempt: 3) == "global")
        message.transport = "operator"
        #expect(settings.transportName(for: message, attempt: 3) == "operator")
        #expect(QueueSettings(hostname: "mail.example.com", localRoutes: local).transportName(for: Self.message(), attempt: 1) == "domain")
        #expect(QueueSettings(hostname: "mail.example.com").transportName(for: Self.message(), attempt: 1) == "direct")
    }
}
