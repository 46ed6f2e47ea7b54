// The dynamic configuration (domains.yaml): the domains mail is accepted for and the accounts
// it is delivered to. Reloaded while the server runs (see DomainsConfigWatcher), so the
// lookups the SMTP server needs are answered from indexes built once per load.

import DNS
import MTASTS
import SASL

/// The parsed and validated `domains.yaml`, with its recipient lookups.
public struct DomainsConfig: Sendable, Equatable {
    /// In the order written.
    public private(set) var domains: [DomainSettings]
    /// In the order written.
    public private(set) var accounts: [Account]
    /// Mail whose From domain (a key) fails DMARC under a reject policy is accepted into the
    /// recipient's mailbox named by the value instead of being refused: the operator's
    /// exceptions, e.g. for a mailing list that breaks its members' DMARC (RFC 7489 §6.7
    /// lets a receiver "override" the policy).
    public var acceptDMARCRejects: [Domain: String] = [:]

    private var domainIndex: [Domain: Int] = [:]
    private var accountIndex: [String: Int] = [:]
    private var addressIndex: [AddressKey: LocalTarget] = [:]
    private var catchallIndex: [Domain: LocalTarget] = [:]

    /// Builds the model and its lookups, checking everything the file checks: valid names,
    /// destinations in configured domains, each address with exactly one account.
    public init(domains: [DomainSettings], accounts: [Account]) throws(ConfigIssues) {
        let (config, issues) = Self.build(domains: domains, accounts: accounts)
        guard issues.isEmpty else { throw ConfigIssues(issues) }
        self = config
    }

    private init(uncheckedDomains domains: [DomainSettings], accounts: [Account]) {
        self.domains = domains
        self.accounts = accounts
    }

    /// The configured domains, in the order written.
    public var localDomains: [Domain] {
        domains.map(\.domain)
    }

    public func isLocal(_ domain: Domain) -> Bool {
        domainIndex[domain] != nil
    }

    public func settings(for domain: Domain) -> DomainSettings? {
        domainIndex[domain].map { domains[$0] }
    }

    public func account(named name: String) -> Account? {
        accountIndex[name].map { accounts[$0] }
    }

    /// Where a message for `localpart@domain` goes.
    ///
    /// In order: the domain must be configured; a subaddress is cut off at the domain's
    /// LocalpartCatchallSeparator ("alice+news" is "alice"); unless the domain is
    /// LocalpartCaseSensitive, case is ignored; an explicit destination matches; then, when
    /// `postmaster` is given, the local part "postmaster" in any case (RFC 5321 §4.5.1
    /// requires it for every domain); then the domain's catch-all ("@domain"); else there is
    /// no such user.
    ///
    /// - Parameter localpart: the local part as delivered, without quoting (RFC 5321
    ///   §4.1.2 quoted-string already decoded).
    public func resolveRecipient(localpart: String, domain: Domain, postmaster: Postmaster? = nil) -> RecipientLookup {
        guard let settings = settings(for: domain) else { return .notLocalDomain }
        let base = settings.baseLocalpart(localpart)
        if let target = addressIndex[AddressKey(localpart: settings.normalized(base), domain: domain)] {
            return .local(LocalRecipient(account: target.account, mailbox: target.mailbox, destination: target.address, match: .address))
        }
        if let postmaster, base.lowercased() == "postmaster" {
            return .local(LocalRecipient(
                account: postmaster.account, mailbox: postmaster.mailbox, destination: "postmaster@\(domain.unicode)",
                match: .postmaster))
        }
        if let target = catchallIndex[domain] {
            return .local(LocalRecipient(account: target.account, mailbox: target.mailbox, destination: target.address, match: .catchall))
        }
        return .noSuchUser
    }

    /// `resolveRecipient(localpart:domain:postmaster:)` for `localpart@domain` text, split at
    /// the last "@"; the domain may be ASCII, A-labels or Unicode.
    public func resolveRecipient(_ address: String, postmaster: Postmaster? = nil) -> RecipientLookup {
        guard let (localpart, domain) = Self.split(address) else { return .invalidAddress }
        return resolveRecipient(localpart: localpart, domain: domain, postmaster: postmaster)
    }

    /// The account with exactly this destination address (case as the domain says, no
    /// subaddress, no catch-all): the account a user logging in with the address means.
    public func accountName(forAddress address: String) -> String? {
        guard let (localpart, domain) = Self.split(address), let settings = settings(for: domain) else { return nil }
        return addressIndex[AddressKey(localpart: settings.normalized(localpart), domain: domain)]?.account
    }

    static func split(_ address: String) -> (String, Domain)? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        let localpart = String(address[..<at])
        guard !localpart.isEmpty, let domain = try? Domain(String(address[address.index(after: at)...])) else { return nil }
        return (localpart, domain)
    }

    // MARK: Building and checking

    /// The model with its indexes, and every problem found; on a conflict the first
    /// destination written wins, so a model with issues is still consistent.
    static func build(domains: [DomainSettings], accounts: [Account]) -> (DomainsConfig, [ConfigIssue]) {
        var config = DomainsConfig(uncheckedDomains: domains, accounts: accounts)
        var issues: [ConfigIssue] = []

        for (index, settings) in domains.enumerated() {
            let path = ["Domains", settings.domain.unicode]
            if config.domainIndex[settings.domain] != nil {
                issues.append(ConfigIssue(path: path, message: "domain \(settings.domain) is configured twice (once as \(settings.domain.ascii))"))
                continue
            }
            config.domainIndex[settings.domain] = index
            if let separator = settings.localpartCatchallSeparator, let problem = separatorProblem(separator) {
                issues.append(ConfigIssue(path: path + ["LocalpartCatchallSeparator"], message: problem))
            }
            if let description = settings.description, containsControl(description) {
                issues.append(ConfigIssue(path: path + ["Description"], message: "contains a control character or line break"))
            }
        }

        for (index, account) in accounts.enumerated() {
            let path = ["Accounts", account.name]
            if let problem = Validation.accountNameProblem(account.name) {
                issues.append(ConfigIssue(path: path, message: problem))
            }
            if config.accountIndex[account.name] != nil {
                issues.append(ConfigIssue(path: path, message: "account '\(account.name)' is defined twice"))
                continue
            }
            config.accountIndex[account.name] = index
            if !config.isLocal(account.domain) {
                issues.append(ConfigIssue(path: path + ["Domain"], message: notConfigured(account.domain, config)))
            }
            if let fullName = account.fullName, containsControl(fullName) {
                // The name goes into From: display names; a line break would start a new header.
                issues.append(ConfigIssue(path: path + ["FullName"], message: "contains a control character or line break"))
            }
            if account.destinations.isEmpty {
                issues.append(ConfigIssue(path: path + ["Destinations"], message: "needs at least one destination: the addresses that deliver to this account"))
            }
            var schemes: Set<SCRAMHash> = []
            for (position, password) in account.passwords.enumerated() where !schemes.insert(password.hash).inserted {
                issues.append(ConfigIssue(
                    path: path + ["Passwords", "[\(position)]"],
                    message: "a second SCRAM-\(password.hash.rawValue) entry; an account has at most one per scheme, since the server offers one salt per user"))
            }
            if let secret = account.cramMD5Secret, secret.isEmpty {
                issues.append(ConfigIssue(path: path + ["CRAMMD5Secret"], message: "cannot be empty; remove the key to turn CRAM-MD5 off for this account"))
            }
            if let quota = account.quotaBytes, quota < 1 {
                issues.append(ConfigIssue(path: path + ["QuotaBytes"], message: "must be at least 1; remove the key for no quota"))
            }
            for destination in account.destinations {
                issues += config.add(destination, of: account, path: path + ["Destinations", destination.key])
            }
        }
        return (config, issues)
    }

    /// Indexes one destination, or says why it cannot be.
    private mutating func add(_ destination: Destination, of account: Account, path: [String]) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        if let problem = Validation.mailboxNameProblem(destination.mailbox) {
            issues.append(ConfigIssue(path: path + ["Mailbox"], message: problem))
        }
        let key = destination.key
        let localpart: String
        let domain: Domain
        if key.hasPrefix("@") {
            // A catch-all: every address of the domain without its own destination.
            guard case let .success(parsed) = Validation.hostname(String(key.dropFirst())) else {
                return issues + [ConfigIssue(path: path, message: "'\(key)' is not a catch-all: '@' must be followed by a domain")]
            }
            guard isLocal(parsed) else {
                return issues + [ConfigIssue(path: path, message: Self.notConfigured(parsed, self))]
            }
            if let other = catchallIndex[parsed] {
                return issues + [ConfigIssue(path: path, message: "the catch-all for \(parsed) is already a destination of \(other.account == account.name ? "this account" : "account '\(other.account)'")")]
            }
            catchallIndex[parsed] = LocalTarget(account: account.name, mailbox: destination.mailbox, address: "@\(parsed.unicode)")
            return issues
        } else if let at = key.lastIndex(of: "@") {
            localpart = String(key[..<at])
            switch Validation.hostname(String(key[key.index(after: at)...])) {
            case let .success(parsed): domain = parsed
            case let .failure(message): return issues + [ConfigIssue(path: path, message: message)]
            }
            guard isLocal(domain) else {
                return issues + [ConfigIssue(path: path, message: Self.notConfigured(domain, self))]
            }
        } else {
            localpart = key
            domain = account.domain
            // An unconfigured account domain is reported once, on Domain.
            guard isLocal(domain) else { return issues }
        }
        if let problem = Validation.localpartProblem(localpart) {
            return issues + [ConfigIssue(path: path, message: problem)]
        }
        guard let settings = settings(for: domain) else { return issues }
        if let separator = settings.localpartCatchallSeparator, !separator.isEmpty, localpart.contains(separator) {
            return issues + [ConfigIssue(
                path: path,
                message: "'\(localpart)' contains the domain's LocalpartCatchallSeparator '\(separator)', so no address could reach it: everything from the separator on is cut off before lookup")]
        }
        let normalized = settings.normalized(localpart)
        let address = "\(normalized)@\(domain.unicode)"
        let addressKey = AddressKey(localpart: normalized, domain: domain)
        if let other = addressIndex[addressKey] {
            let owner = other.account == account.name ? "this account" : "account '\(other.account)'"
            let caseNote = settings.localpartCaseSensitive ? "" : " (\(domain) ignores case in local parts)"
            return issues + [ConfigIssue(path: path, message: "\(address) is already a destination of \(owner)\(caseNote); an address delivers to exactly one account")]
        }
        addressIndex[addressKey] = LocalTarget(account: account.name, mailbox: destination.mailbox, address: address)
        return issues
    }

    private static func notConfigured(_ domain: Domain, _ config: DomainsConfig) -> String {
        let names = config.domains.map(\.domain.unicode)
        var message = "domain \(domain) is not configured under Domains"
        if let suggestion = DocumentReader.closest(to: domain.unicode, among: names) {
            message += "; did you mean \(suggestion)?"
        }
        return message
    }

    static func separatorProblem(_ separator: String) -> String? {
        if separator.isEmpty { return "cannot be empty; remove the key to turn subaddressing off" }
        if separator.contains("@") || separator.contains("\"") || separator.contains("\\") {
            return "'\(separator)' cannot be used: '@', '\"' and '\\' have other meanings in addresses"
        }
        if separator.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            return "cannot contain spaces or control characters"
        }
        if separator.count > 8 {
            return "'\(separator)' is too long; separators are one or a few characters, usually '+' or '-'"
        }
        return nil
    }

    private static func containsControl(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

/// One domain mail is accepted for.
public struct DomainSettings: Sendable, Equatable {
    public var domain: Domain
    /// For the operator; shown in admin tools.
    public var description: String?
    /// Subaddressing (RFC 5233): "alice+news@" goes to "alice@" when this is "+". nil: off.
    public var localpartCatchallSeparator: String?
    /// Whether "Alice@" and "alice@" are different addresses. Default false: RFC 5321 §2.4
    /// lets the receiving domain decide, and people expect case not to matter.
    public var localpartCaseSensitive: Bool
    /// Routes for mail from this domain, evaluated after the submitting account's and before
    /// the global ones; transports are those of tern.yaml.
    public var routes: [RouteConfig]
    /// The MTA-STS policy the domain publishes; nil: none.
    public var mtaSTS: MTASTSSettings?
    /// How its outgoing mail is signed; nil: not signed.
    public var dkim: DKIMSettings?

    public init(
        domain: Domain, description: String? = nil, localpartCatchallSeparator: String? = nil, localpartCaseSensitive: Bool = false,
        routes: [RouteConfig] = [], mtaSTS: MTASTSSettings? = nil, dkim: DKIMSettings? = nil
    ) {
        self.domain = domain
        self.description = description
        self.localpartCatchallSeparator = localpartCatchallSeparator
        self.localpartCaseSensitive = localpartCaseSensitive
        self.routes = routes
        self.mtaSTS = mtaSTS
        self.dkim = dkim
    }

    /// `mta-sts.<domain>`, the Policy Host senders fetch the policy from (RFC 8461 §3.2);
    /// nil when that name would be too long for DNS, which `Domain` checks.
    public var mtaSTSPolicyHost: Domain? {
        try? Domain("mta-sts." + domain.ascii)
    }

    /// The local part without its subaddress.
    func baseLocalpart(_ localpart: String) -> String {
        guard let separator = localpartCatchallSeparator, !separator.isEmpty,
              let range = localpart.range(of: separator) else { return localpart }
        return String(localpart[..<range.lowerBound])
    }

    /// The form addresses are compared in.
    func normalized(_ localpart: String) -> String {
        localpartCaseSensitive ? localpart : localpart.lowercased()
    }
}

/// How a domain signs the mail it sends (DKIM, RFC 6376): its selectors with their keys, and
/// the ones that sign now. Publishing a new selector's key in DNS before adding it to `sign`,
/// and keeping an old one published for a while after, is how keys are rolled over.
public struct DKIMSettings: Sendable, Equatable {
    public var selectors: [DKIMSelectorSettings]
    /// The selectors that sign outgoing mail, each adding a DKIM-Signature (RSA and Ed25519
    /// side by side, as large providers do).
    public var sign: [String]

    public init(selectors: [DKIMSelectorSettings], sign: [String]) {
        self.selectors = selectors
        self.sign = sign
    }

    /// The selectors of `sign`, in that order.
    public var signingSelectors: [DKIMSelectorSettings] {
        sign.compactMap { name in selectors.first { $0.name == name } }
    }
}

/// One DKIM selector: `<name>._domainkey.<domain>` holds its public key (RFC 6376 §3.6.2.1).
public struct DKIMSelectorSettings: Sendable, Equatable {
    /// RFC 6376 §3.4: simple or relaxed, for the header and the body separately.
    public enum Canonicalization: String, Sendable, Equatable, CaseIterable {
        case simple, relaxed
    }

    public var name: String
    /// PEM, PKCS#8 ("PRIVATE KEY"): an RSA or Ed25519 key (`tern dkim genrsa|gened25519`);
    /// absolute, resolved against the directory of domains.yaml.
    public var privateKeyFile: String
    public var headerCanonicalization: Canonicalization
    public var bodyCanonicalization: Canonicalization
    /// The header fields to sign; nil: the recommended set of RFC 6376 §5.4.1.
    public var headers: [String]?
    /// How long signatures stay valid (x=, RFC 6376 §3.5); nil: no expiry.
    public var expiration: Duration?

    public init(
        name: String, privateKeyFile: String, headerCanonicalization: Canonicalization = .relaxed, bodyCanonicalization: Canonicalization = .relaxed,
        headers: [String]? = nil, expiration: Duration? = nil
    ) {
        self.name = name
        self.privateKeyFile = privateKeyFile
        self.headerCanonicalization = headerCanonicalization
        self.bodyCanonicalization = bodyCanonicalization
        self.headers = headers
        self.expiration = expiration
    }
}

/// A domain's MTA-STS policy (RFC 8461): served over HTTPS by listeners with MTASTSHTTPS,
/// announced by the `_mta-sts` TXT record with the policy's id.
public struct MTASTSSettings: Sendable, Equatable {
    /// RFC 8461 §3.2 expects weeks or more, so that an attacker who blocks policy refreshes
    /// gains little; a week is short enough to take back a mistake.
    public static let defaultMaxAge = 7 * 24 * 3600

    /// The `_mta-sts` record with the policy's id (RFC 8461 §3.1). A new id tells senders to
    /// fetch the policy again; with the same id they keep the one they cached.
    public var record: STSRecord
    public var mode: STSPolicy.Mode
    /// How long senders may cache the policy, in seconds (RFC 8461 §3.2 `max_age`).
    public var maxAge: Int
    /// The MX hosts senders may deliver to; empty: the host names the server receives mail
    /// under (`StaticConfig.mxHosts`).
    public var mx: [MXPattern]

    public init(record: STSRecord, mode: STSPolicy.Mode, maxAge: Int = MTASTSSettings.defaultMaxAge, mx: [MXPattern] = []) {
        self.record = record
        self.mode = mode
        self.maxAge = maxAge
        self.mx = mx
    }

    /// The policy to serve, with `hosts` as its MX patterns when none are configured.
    ///
    /// - Throws: what `STSPolicy` refuses; the parser has checked mode and max_age, so only
    ///   an empty `hosts` in mode enforce or testing.
    public func policy(defaultMX hosts: [Domain]) throws(STSPolicySyntaxError) -> STSPolicy {
        try STSPolicy(mode: mode, mx: mx.isEmpty ? hosts.map(MXPattern.init(host:)) : mx, maxAge: maxAge)
    }
}

/// A user's mail store, login and addresses.
public struct Account: Sendable, Equatable {
    /// Also its directory name under DataDir/accounts.
    public var name: String
    /// The domain of destinations written as a bare local part.
    public var domain: Domain
    /// The display name for messages the user sends.
    public var fullName: String?
    /// In the order written.
    public var destinations: [Destination]
    /// SCRAM credentials; PLAIN and LOGIN verify against them too. Empty: no login.
    public var passwords: [SCRAMCredentials]
    /// The password itself, for CRAM-MD5 (RFC 2195), which needs the HMAC key on the server.
    /// Password-equivalent: whoever reads it can log in. nil: CRAM-MD5 is off for the account.
    public var cramMD5Secret: String?
    /// Total message bytes the account may hold; nil: no quota.
    public var quotaBytes: Int?
    /// Routes for mail the account submits, evaluated before those of the sender's domain
    /// and the global ones; transports are those of tern.yaml.
    public var routes: [RouteConfig]

    public init(
        name: String, domain: Domain, fullName: String? = nil, destinations: [Destination], passwords: [SCRAMCredentials] = [],
        cramMD5Secret: String? = nil, quotaBytes: Int? = nil, routes: [RouteConfig] = []
    ) {
        self.name = name
        self.domain = domain
        self.fullName = fullName
        self.destinations = destinations
        self.passwords = passwords
        self.cramMD5Secret = cramMD5Secret
        self.quotaBytes = quotaBytes
        self.routes = routes
    }
}

/// An address (or catch-all) that delivers to an account.
public struct Destination: Sendable, Equatable {
    /// As written: a local part ("alice", at the account's Domain), an address
    /// ("alice@example.org") or a catch-all ("@example.org").
    public var key: String
    /// Default `Inbox`.
    public var mailbox: String

    public init(_ key: String, mailbox: String = "Inbox") {
        self.key = key
        self.mailbox = mailbox
    }
}

/// What `resolveRecipient` found.
public enum RecipientLookup: Sendable, Equatable {
    case local(LocalRecipient)
    /// The domain is ours, the address is not: RFC 5321 §3.3 550 5.1.1.
    case noSuchUser
    /// Not one of our domains: relaying, which only authenticated submission may do.
    case notLocalDomain
    /// Only from the string form: no "@", empty local part, or an invalid domain.
    case invalidAddress
}

public struct LocalRecipient: Sendable, Equatable {
    public enum Match: Sendable, Equatable {
        /// An explicit destination, possibly after removing a subaddress.
        case address
        /// The domain's catch-all.
        case catchall
        /// The Postmaster fallback.
        case postmaster
    }

    public var account: String
    public var mailbox: String
    /// The destination that matched, normalized: "alice@example.com", "@example.com".
    public var destination: String
    public var match: Match

    public init(account: String, mailbox: String, destination: String, match: Match) {
        self.account = account
        self.mailbox = mailbox
        self.destination = destination
        self.match = match
    }
}

struct AddressKey: Hashable, Sendable {
    var localpart: String
    var domain: Domain
}

struct LocalTarget: Hashable, Sendable {
    var account: String
    var mailbox: String
    var address: String
}
