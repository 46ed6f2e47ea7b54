import DNS
import Foundation

/// Which identity was checked (RFC 7208 §2.3, §2.4); the raw value is the Received-SPF
/// "identity" key's value (§9.1).
public enum SPFIdentity: String, Hashable, Sendable {
    case mailFrom = "mailfrom"
    case helo = "helo"
}

/// One DNS query made while checking, with what it returned, in the order made.
public struct SPFLookup: Hashable, Sendable, CustomStringConvertible {
    public enum Answer: Hashable, Sendable {
        /// The records in zone-file presentation form (TXT in quotes).
        case records([String])
        /// NXDOMAIN.
        case nameNotFound
        /// NOERROR without records of the type.
        case noRecords
        /// Any other failure: SERVFAIL, timeout, network.
        case failed(String)
    }

    public var name: DNSName
    public var type: RecordType
    public var answer: Answer
    /// The answer was DNSSEC-validated (the resolver's AD bit). Denials and failures count as
    /// not validated: the resolver's error does not say.
    public var authentic: Bool

    public init(name: DNSName, type: RecordType, answer: Answer, authentic: Bool = false) {
        self.name = name
        self.type = type
        self.answer = answer
        self.authentic = authentic
    }

    /// "MX example.com.: 10 mail.example.com.", records separated by ", ".
    public var description: String {
        let shown: String
        switch answer {
        case let .records(records): shown = records.joined(separator: ", ")
        case .nameNotFound: shown = "NXDOMAIN"
        case .noRecords: shown = "no records"
        case let .failed(reason): shown = "error: \(reason)"
        }
        return "\(type) \(name): \(shown)"
    }
}

/// The outcome of one SPF check, with what is needed to explain it and to record it in a
/// Received-SPF field.
public struct SPFCheck: Hashable, Sendable {
    public var result: SPFResult
    public var identity: SPFIdentity
    public var clientIP: IPAddress
    /// The <sender> checked: the MAIL FROM address, or "postmaster@" and the HELO domain.
    public var sender: String
    /// The MAIL FROM address as given ("" for the null reverse-path); nil for a HELO check.
    public var mailFrom: String?
    public var helo: String
    /// The <domain> the check started at.
    public var domain: String
    /// The name of the host that checked, for %{r} and the Received-SPF "receiver".
    public var receiver: String
    /// The matching term as written (e.g. "-all", "ip4:192.0.2.0/24", "include:_spf.example"),
    /// or "default" when no mechanism matched (RFC 7208 §9.1); nil for none and errors.
    public var mechanism: String?
    /// For fail: the domain's exp= text, expanded (RFC 7208 §6.2); nil when it gave none.
    public var explanation: String?
    /// Why the result is none, temperror or permerror.
    public var problem: String?
    public var lookups: [SPFLookup]

    /// Every lookup behind the result was DNSSEC-validated (false when none was made).
    public var dnssecValidated: Bool {
        !lookups.isEmpty && lookups.allSatisfy(\.authentic)
    }
}

/// check_host() (RFC 7208 §4) over an injected resolver and clock.
public struct SPFVerifier: Sendable {
    /// RFC 7208 §4.6.4: at most 10 terms that query DNS (include, a, mx, ptr, exists,
    /// redirect) per check, across includes and redirects.
    public static let dnsTermLimit = 10
    /// RFC 7208 §4.6.4: an mx mechanism with more MX records than this is a permerror.
    public static let mxNameLimit = 10
    /// RFC 7208 §4.6.4: PTR names after the first 10 are ignored (ptr and %{p}).
    public static let ptrNameLimit = 10
    /// RFC 7208 §6.2 lets an implementation limit the explanation; it goes into an SMTP
    /// reply line of at most 512 octets (RFC 5321 §4.5.3.1.5), after a code and an enhanced
    /// code. Longer explanations are cut.
    public static let explanationLengthLimit = 400

    public let resolver: any Resolver
    public let receiver: String
    /// RFC 7208 §4.6.4: "SPF implementations SHOULD limit 'void lookups' to two. An
    /// implementation MAY choose to make such a limit configurable."
    public let voidLookupLimit: Int
    /// RFC 7208 §4.6.4: the elapsed time a check may take ("SHOULD allow at least 20
    /// seconds"); when exceeded, the result is temperror. Checked before each query.
    public let timeLimit: Duration
    public let now: @Sendable () -> Date

    /// `receiver` is this host's name for %{r} and Received-SPF; "unknown" when there is none
    /// (RFC 7208 §7.3).
    public init(
        resolver: any Resolver, receiver: String = "unknown", voidLookupLimit: Int = 2, timeLimit: Duration = .seconds(20),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.resolver = resolver
        self.receiver = receiver
        self.voidLookupLimit = voidLookupLimit
        self.timeLimit = timeLimit
        self.now = now
    }

    /// RFC 7208 §2.3: checks the HELO identity, the sender being "postmaster@" and `helo`.
    /// An address literal or a name of one label gives none (§4.3).
    public func checkHELO(ip: IPAddress, helo: String) async -> SPFCheck {
        await check(ip: ip, identity: .helo, localPart: "postmaster", domain: helo, mailFrom: nil, helo: helo)
    }

    /// RFC 7208 §2.4: checks the MAIL FROM identity. The null reverse-path (`mailFrom` empty)
    /// stands for "postmaster@" and the HELO domain; an address without a local-part gets
    /// "postmaster" (§4.3), and one without "@" is taken as a bare domain.
    public func checkMailFrom(ip: IPAddress, mailFrom: String, helo: String) async -> SPFCheck {
        guard !mailFrom.isEmpty else {
            return await check(ip: ip, identity: .mailFrom, localPart: "postmaster", domain: helo, mailFrom: mailFrom, helo: helo)
        }
        guard let at = mailFrom.lastIndex(of: "@") else {
            return await check(ip: ip, identity: .mailFrom, localPart: "postmaster", domain: mailFrom, mailFrom: mailFrom, helo: helo)
        }
        let localPart = mailFrom[..<at]
        return await check(
            ip: ip, identity: .mailFrom, localPart: localPart.isEmpty ? "postmaster" : String(localPart),
            domain: String(mailFrom[mailFrom.index(after: at)...]), mailFrom: mailFrom, helo: helo)
    }

    private func check(ip: IPAddress, identity: SPFIdentity, localPart: String, domain given: String, mailFrom: String?, helo: String) async -> SPFCheck {
        // RFC 7208 §4.3: "Internationalized domain names MUST be encoded as A-labels", for
        // the lookups and for %{d}, %{o} and %{s} alike.
        var domain = given
        if !given.unicodeScalars.allSatisfy(\.isASCII), let aLabels = try? Domain(given).ascii { domain = aLabels }
        let sender = localPart + "@" + domain
        let macros = MacroContext(
            sender: sender, localPart: localPart, senderDomain: domain, domain: domain, ip: ip.unmappingIPv4, helo: helo,
            receiver: receiver, timestamp: Int(now().timeIntervalSince1970))
        let evaluation = Evaluation(verifier: self, macros: macros)
        let outcome = await evaluation.run(domain: domain)
        return SPFCheck(
            result: outcome.result, identity: identity, clientIP: ip, sender: sender, mailFrom: mailFrom, helo: helo, domain: domain,
            receiver: receiver, mechanism: outcome.mechanism, explanation: outcome.explanation, problem: outcome.problem,
            lookups: evaluation.lookups)
    }
}
