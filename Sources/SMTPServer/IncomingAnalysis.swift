// The verdicts on a message another server hands over (SMTP on port 25, no AUTH), before it
// is delivered:
//
//   1. from the transaction, started when the message starts to arrive (DATA, or the first
//      BDAT) so its DNS lookups overlap with the transfer (`checkTransaction`):
//      - iprev (RFC 8601 §3): does the client's address have a name that resolves back to it;
//      - SPF (RFC 7208) for the MAIL FROM identity (for the null reverse-path, HELO's
//        postmaster, §2.4);
//   2. from the message, once it is in (`checkMessage`):
//      - DKIM (RFC 6376): every signature, with the DNSSEC status of its key record;
//      - DMARC (RFC 7489) for the RFC5322.From domain(s), on the SPF and DKIM results;
//   3. an Authentication-Results field (RFC 8601) naming this host as authserv-id, with the
//      DNSSEC status of the lookups behind each verdict as a comment, and a Received-SPF
//      field (RFC 7208 §9.1), both prepended to the message; Authentication-Results fields
//      that claim this host's identifier are removed first (RFC 8601 §5, `MessageRewrite`);
//   4. the disposition DMARC asks for: reject (550 5.7.26, RFC 7372 §3.3: SPF and DKIM both
//      failed to authenticate the author's domain), quarantine (the recipients' Junk
//      mailbox), or delivery as usual. Each DMARC evaluation is handed to `recordDMARC` (the
//      store of aggregate report data).
import DKIM
import DMARC
import DNS
import Foundation
import IPRev
import Message
import PublicSuffix
import SMTP
import SPF
import Store

public struct IncomingAnalysis: Sendable {
    /// What the SMTP transaction says about the message.
    public struct Input: Sendable {
        public var clientAddress: IPAddress
        /// The EHLO or HELO name.
        public var clientName: String
        public var sender: ReversePath
        /// The recipients' domains, for DMARC's aggregate report data (RFC 7489 Appendix C
        /// "envelope_to").
        public var recipientDomain: String?

        public init(clientAddress: IPAddress, clientName: String, sender: ReversePath, recipientDomain: String? = nil) {
            self.clientAddress = clientAddress
            self.clientName = clientName
            self.sender = sender
            self.recipientDomain = recipientDomain
        }
    }

    /// The verdicts the transaction alone gives.
    public struct TransactionVerdict: Sendable {
        public var iprev: IPRevResult
        public var spf: SPFCheck
    }

    public enum Disposition: Sendable, Hashable {
        case deliver
        /// Into this mailbox of each recipient: Junk for DMARC quarantine (RFC 7489 §6.3), or
        /// the one the operator named for a domain whose DMARC rejects are accepted.
        case deliverInto(String)
        /// Refused with this reply.
        case reject(Reply)
    }

    public struct Verdict: Sendable {
        public var iprev: IPRevResult
        public var spf: SPFCheck
        public var dkim: [DKIMResult]
        /// Nil when the message's From field gave nothing to evaluate.
        public var dmarc: MessageEvaluation?
        public var authenticationResults: Message.AuthenticationResults
        public var disposition: Disposition

        /// The fields to prepend, with their CRLFs: Authentication-Results, then Received-SPF.
        public func headerFields() throws(HeaderFoldingError) -> [UInt8] {
            try authenticationResults.field().raw + Array(spf.receivedSPFField.utf8)
        }
    }

    /// This host's name: the authserv-id (RFC 8601 §2.5) and SPF's receiver (RFC 7208 §9.1).
    public let hostname: String
    public let resolver: any Resolver
    private let dmarc: DMARCVerifier
    private let dkim: DKIMVerifier
    private let random: @Sendable () -> UInt64
    private let recordDMARC: @Sendable (MessageEvaluation, Input) async -> Void
    private let acceptDMARCRejects: @Sendable (Domain) -> String?

    /// `random` serves DMARC's "pct" sampling; `recordDMARC` gets every DMARC evaluation;
    /// `acceptDMARCRejects` names, for a From domain, the mailbox its DMARC-rejected mail is
    /// accepted into instead (the operator's exceptions, RFC 7489 §6.7), nil for none.
    public init(
        hostname: String, resolver: any Resolver, publicSuffixList: PublicSuffixList, now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) },
        recordDMARC: @escaping @Sendable (MessageEvaluation, Input) async -> Void = { _, _ in },
        acceptDMARCRejects: @escaping @Sendable (Domain) -> String? = { _ in nil }
    ) {
        self.hostname = hostname
        self.resolver = resolver
        dmarc = DMARCVerifier(resolver: resolver, publicSuffixList: publicSuffixList)
        dkim = DKIMVerifier(resolver: resolver, now: now)
        self.random = random
        self.recordDMARC = recordDMARC
        self.acceptDMARCRejects = acceptDMARCRejects
    }

    public func checkTransaction(_ input: Input) async -> TransactionVerdict {
        async let iprev = IPRev(resolver: resolver).check(input.clientAddress)
        let mailFrom = input.sender.mailbox?.description ?? ""
        async let spf = SPFVerifier(resolver: resolver, receiver: hostname)
            .checkMailFrom(ip: input.clientAddress, mailFrom: mailFrom, helo: input.clientName)
        return await TransactionVerdict(iprev: iprev, spf: spf)
    }

    /// The verdicts on `message` (the message as the client sent it, without this host's trace
    /// fields), on top of the transaction's.
    public func checkMessage(_ message: [UInt8], transaction: TransactionVerdict, input: Input) async -> Verdict {
        let signatures = await dkim.verify(message)
        let header = HeaderSection(parsing: message)
        let authentication = DMARC.AuthenticationResults(
            spf: Self.dmarcSPF(transaction.spf), dkim: signatures.compactMap(Self.dmarcDKIM))
        var generator = InjectedRandom(source: random)
        let evaluation: MessageEvaluation? = switch Self.fromField(header) {
        case let .addresses(domains) where domains.isEmpty: nil
        case let field: await dmarc.verify(from: field, authentication: authentication, using: &generator)
        }
        if let evaluation { await recordDMARC(evaluation, input) }
        var results = [Self.result(of: transaction.iprev), Self.result(of: transaction.spf)]
        results += signatures.map(Self.result(of:))
        if let evaluation { results += Self.results(of: evaluation) }
        return Verdict(
            iprev: transaction.iprev, spf: transaction.spf, dkim: signatures, dmarc: evaluation,
            authenticationResults: Message.AuthenticationResults(authservID: hostname, results: results),
            disposition: Self.disposition(evaluation, exceptions: acceptDMARCRejects))
    }

    /// Both steps at once, for a message not received over SMTP (`tern dmarc verify`).
    public func analyze(_ input: Input, message: [UInt8]) async -> Verdict {
        await checkMessage(message, transaction: await checkTransaction(input), input: input)
    }

    // MARK: DMARC's inputs and outputs

    /// RFC 7489 §6.6.1: the From field's domains; a domain that is not a valid name (or an
    /// address without one) cannot be looked up and is left out.
    static func fromField(_ header: HeaderSection) -> FromField {
        let fields = header.fields.filter { $0.is("From") }
        guard let field = fields.first else { return .missing }
        guard fields.count == 1 else { return .repeated }
        let addresses = AddressList.mailboxes(AddressList.parseLenient(field.value))
        return .addresses(addresses.compactMap { try? Domain($0.domain) })
    }

    static func dmarcSPF(_ spf: SPFCheck) -> SPFOutcome? {
        guard let domain = try? Domain(spf.domain), let result = SPFAuthResult(rawValue: spf.result.rawValue) else { return nil }
        // RFC 7489 §3.1.2: for the null reverse-path, the HELO identity takes part.
        return SPFOutcome(result: result, domain: domain, scope: spf.identity == .helo || spf.mailFrom?.isEmpty == true ? .helo : .mailFrom)
    }

    static func dmarcDKIM(_ result: DKIMResult) -> DKIMOutcome? {
        guard let name = result.domain, let domain = try? Domain(name), let status = DKIMAuthResult(rawValue: result.status.rawValue) else { return nil }
        return DKIMOutcome(result: status, domain: domain, selector: result.selector)
    }

    static func disposition(_ evaluation: MessageEvaluation?, exceptions: (Domain) -> String? = { _ in nil }) -> Disposition {
        if let evaluation, evaluation.evaluations.isEmpty, evaluation.disposition == .reject {
            // No From field, or several: the message itself is malformed (RFC 5322 §3.6), which
            // RFC 7489 §6.6.1 says is "typically rejected"; X.6.0, a content error.
            return .reject(Reply(550, EnhancedStatus(5, 6, 0), "message refused: \(evaluation.reason)"))
        }
        switch evaluation?.disposition {
        case .reject?:
            // RFC 7489 §6.7: the operator may accept what the policy refuses; only when every
            // rejecting author domain is one of the exceptions.
            let rejecting = evaluation?.evaluations.filter { $0.disposition == .reject }.map(\.authorDomain) ?? []
            if let mailbox = rejecting.first.flatMap(exceptions), rejecting.allSatisfy({ exceptions($0) != nil }) {
                return .deliverInto(mailbox)
            }
            // RFC 7372 §3.3 X.7.26: more than one authentication check failed (DMARC: SPF and
            // DKIM, for the author's domain).
            let domains = evaluation?.evaluations.map(\.authorDomain.unicode).joined(separator: ", ") ?? ""
            return .reject(Reply(550, EnhancedStatus(5, 7, 26), "message refused by the DMARC policy of \(domains): \(evaluation?.reason ?? "")"))
        case .quarantine?: return .deliverInto(MailboxRole.junk.defaultName)
        case .none?, nil: return .deliver
        }
    }

    // MARK: Authentication-Results

    /// The comment that says whether a verdict rests on DNSSEC-validated answers only.
    static func dnssec(_ validated: Bool) -> String {
        validated ? "DNSSEC" : "no DNSSEC"
    }

    /// RFC 8601 §2.7.3: iprev, with the client's address as policy.iprev.
    static func result(of iprev: IPRevResult) -> Message.AuthenticationResults.Result {
        let comment = (iprev.name.map { [$0] } ?? []) + [dnssec(iprev.authentic)]
        return .init(
            method: "iprev", result: iprev.status.rawValue, comment: comment.joined(separator: ", "), reason: iprev.reason,
            properties: [.init("policy", "iprev", iprev.address.description)])
    }

    /// RFC 8601 §2.7.2: spf, with smtp.mailfrom (the domain only: SPF does not authenticate
    /// the local part), or smtp.helo for the null reverse-path, whose check is HELO's.
    static func result(of spf: SPFCheck) -> Message.AuthenticationResults.Result {
        let property: Message.AuthenticationResults.Property = spf.identity == .helo || spf.mailFrom?.isEmpty == true
            ? .init("smtp", "helo", spf.helo) : .init("smtp", "mailfrom", spf.domain)
        let reason = spf.result == .temperror || spf.result == .permerror ? spf.problem : nil
        return .init(method: "spf", result: spf.result.rawValue, comment: dnssec(spf.dnssecValidated), reason: reason, properties: [property])
    }

    /// RFC 8601 §2.7.1: dkim, with header.d, header.s, header.a and header.b (the first eight
    /// characters of the signature, RFC 6008, to tell several signatures apart).
    static func result(of dkim: DKIMResult) -> Message.AuthenticationResults.Result {
        var properties: [Message.AuthenticationResults.Property] = []
        if let domain = dkim.domain { properties.append(.init("header", "d", domain)) }
        if let selector = dkim.selector { properties.append(.init("header", "s", selector)) }
        if let algorithm = dkim.algorithm { properties.append(.init("header", "a", algorithm)) }
        if let signature = dkim.signature?.signature, !signature.isEmpty {
            properties.append(.init("header", "b", String(Data(signature).base64EncodedString().prefix(8))))
        }
        let reason = dkim.status == .pass ? nil : dkim.reason
        return .init(method: "dkim", result: dkim.status.rawValue, comment: dnssec(dkim.keyAuthentic), reason: reason, properties: properties)
    }

    /// RFC 7489 §11.2: dmarc, with header.from, per author domain; the comment gives the
    /// published policy and the disposition, and whether the record's lookups were validated.
    static func results(of evaluation: MessageEvaluation) -> [Message.AuthenticationResults.Result] {
        guard !evaluation.evaluations.isEmpty else {
            return [.init(method: "dmarc", result: evaluation.result.rawValue, reason: evaluation.reason)]
        }
        return evaluation.evaluations.map { one in
            var comment: [String] = []
            if let policy = one.requestedPolicy { comment += ["p=\(policy.rawValue)", "dis=\(one.disposition.rawValue)"] }
            comment.append(dnssec(one.discovery.authentic))
            let explained: Set<DMARCResult> = [.fail, .temperror, .permerror]
            return .init(
                method: "dmarc", result: one.result.rawValue, comment: comment.joined(separator: " "),
                reason: explained.contains(one.result) ? one.reason : nil, properties: [.init("header", "from", one.authorDomain.ascii)])
        }
    }
}

/// The injected randomness as a generator, for DMARC's sampling.
private struct InjectedRandom: RandomNumberGenerator {
    let source: @Sendable () -> UInt64
    mutating func next() -> UInt64 { source() }
}
