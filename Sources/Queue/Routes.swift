import DNS
import SMTPClient

/// How a message leaves: straight to the recipient domain's MX hosts, from here or through
/// a SOCKS5 proxy, or through a relay.
public enum Transport: Sendable {
    /// MX lookup (RFC 5321 §5.1), each host's addresses in turn, opportunistic STARTTLS
    /// unless the TLS policy says more.
    case direct(DirectTransport)
    /// A fixed host: a smarthost (plain SMTP, usually without AUTH) or a submission server
    /// of a third party (AUTH, RFC 4954, over STARTTLS or implicit TLS, RFC 8314).
    case relay(RelayTransport)
    /// Direct delivery whose TCP connections a SOCKS5 proxy makes (RFC 1928), e.g. on a host
    /// whose addresses may send on port 25 or have a better reputation.
    case socks(SOCKSTransport)
}

public struct DirectTransport: Sendable, Hashable {
    /// 25 in the real world (RFC 5321 §4.5.4); tests run servers on other ports.
    public var port: Int
    public var addressPreference: AddressPreference

    public init(port: Int = 25, addressPreference: AddressPreference = .ipv6First) {
        self.port = port
        self.addressPreference = addressPreference
    }
}

public struct RelayTransport: Sendable {
    public enum Security: Sendable, Hashable {
        /// STARTTLS when offered, plaintext otherwise.
        case opportunisticSTARTTLS
        /// STARTTLS, or no delivery.
        case requireSTARTTLS
        /// TLS from the first octet (RFC 8314 §3.3, port 465).
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var authentication: ClientAuthentication?
    /// Certificate checking when TLS is required (RFC 6125 against `host`).
    public var trustRoots: PKIXVerification.TrustRoots
    /// Deliver even when the certificate does not verify (a relay with a self-signed
    /// certificate on a private network).
    public var ignoreVerificationErrors: Bool

    public init(
        host: String, port: Int, security: Security = .requireSTARTTLS, authentication: ClientAuthentication? = nil,
        trustRoots: PKIXVerification.TrustRoots = .system, ignoreVerificationErrors: Bool = false
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.authentication = authentication
        self.trustRoots = trustRoots
        self.ignoreVerificationErrors = ignoreVerificationErrors
    }
}

public struct SOCKSTransport: Sendable, Hashable {
    /// The proxy: a host name or an IP address.
    public var proxyHost: String
    public var proxyPort: Int
    /// RFC 1929 username and password; nil: the proxy needs none.
    public var credentials: SOCKS5Credentials?
    /// The addresses the proxy's connections come from, as the MX hosts see them (they
    /// belong in the senders' SPF records, with PTR records naming `hostname`). Only MX
    /// addresses of their families are tried: a proxy without IPv6 cannot reach an IPv6 MX.
    public var remoteIPs: [IPAddress]
    /// The name said in EHLO: the name of `remoteIPs`, which is what the MX hosts see
    /// (RFC 5321 §4.1.1.1), not this host's name.
    public var hostname: String
    /// The MX hosts' port: 25 in the real world (RFC 5321 §4.5.4); tests use others.
    public var port: Int

    public init(
        proxyHost: String, proxyPort: Int, credentials: SOCKS5Credentials? = nil, remoteIPs: [IPAddress], hostname: String, port: Int = 25
    ) {
        self.proxyHost = proxyHost
        self.proxyPort = proxyPort
        self.credentials = credentials
        self.remoteIPs = remoteIPs
        self.hostname = hostname
        self.port = port
    }

    /// The address families `remoteIPs` covers, IPv6 first when both.
    var addressPreference: AddressPreference {
        let families = Set(remoteIPs.map(\.bytes.count))
        switch (families.contains(4), families.contains(16)) {
        case (true, false): return .ipv4Only
        case (false, true): return .ipv6Only
        default: return .ipv6First
        }
    }
}

/// Picks a transport per attempt. The caller passes the routes in evaluation order
/// (account routes, then domain routes, then global ones); the first that matches wins.
public struct Route: Sendable, Hashable {
    /// Sender domains this route applies to; empty: any (including the null sender).
    public var senderDomains: [String]
    /// Recipient domains this route applies to; empty: any.
    public var recipientDomains: [String]
    /// The route applies from this attempt on (1 is the first): e.g. fall back to a
    /// smarthost after direct delivery failed a few times.
    public var minimumAttempt: Int
    /// The name of the transport, a key of `QueueSettings.transports`.
    public var transport: String

    public init(senderDomains: [String] = [], recipientDomains: [String] = [], minimumAttempt: Int = 1, transport: String) {
        self.senderDomains = senderDomains.map(Self.normalize)
        self.recipientDomains = recipientDomains.map(Self.normalize)
        self.minimumAttempt = minimumAttempt
        self.transport = transport
    }

    /// Domains compare case-insensitively and without a final dot (RFC 5321 §2.4).
    static func normalize(_ domain: String) -> String {
        let lower = domain.lowercased()
        return lower.hasSuffix(".") ? String(lower.dropLast()) : lower
    }

    public func matches(senderDomain: String?, recipientDomain: String, attempt: Int) -> Bool {
        guard attempt >= minimumAttempt else { return false }
        if !senderDomains.isEmpty {
            guard let senderDomain, senderDomains.contains(Self.normalize(senderDomain)) else { return false }
        }
        return recipientDomains.isEmpty || recipientDomains.contains(Self.normalize(recipientDomain))
    }

    /// The transport name of the first matching route; nil: the default transport.
    public static func select(_ routes: [Route], senderDomain: String?, recipientDomain: String, attempt: Int) -> String? {
        routes.first { $0.matches(senderDomain: senderDomain, recipientDomain: recipientDomain, attempt: attempt) }?.transport
    }
}

/// The routes that live on an account or on a domain, from a configuration that can
/// change while the queue runs: asked at every attempt, so a change applies to the next.
public struct LocalRoutes: Sendable {
    /// The routes of the account that submitted a message, by account name.
    public var account: @Sendable (String) -> [Route]
    /// The routes of the sender's domain, by domain; none for a domain that is not ours.
    public var domain: @Sendable (String) -> [Route]

    public init(account: @escaping @Sendable (String) -> [Route], domain: @escaping @Sendable (String) -> [Route]) {
        self.account = account
        self.domain = domain
    }

    public static let none = LocalRoutes(account: { _ in [] }, domain: { _ in [] })
}

/// What the TLS policy is asked for one MX host of direct delivery.
public struct TLSPolicyRequest: Sendable {
    /// The recipient domain.
    public var domain: String
    public var destinations: Destinations
    /// The MX host being connected to, with its addresses.
    public var host: HostAddresses
    /// The port connected to: 25, but for tests (TLSA records are named by it, RFC 6698 §3).
    public var port: Int
    /// The message requires verified TLS (RFC 8689).
    public var requireTLS: Bool
    /// The message says "TLS-Required: No" (RFC 8689 §5): the domain's policy is not
    /// enforced (TLS is still tried first).
    public var ignorePolicy: Bool

    public init(domain: String, destinations: Destinations, host: HostAddresses, port: Int = 25, requireTLS: Bool, ignorePolicy: Bool = false) {
        self.domain = domain
        self.destinations = destinations
        self.host = host
        self.port = port
        self.requireTLS = requireTLS
        self.ignorePolicy = ignorePolicy
    }

    /// The host name as certificates name it: without the final dot.
    var hostName: String { host.host.withoutFinalDot }
}

/// What the TLS policy decides for one MX host.
public enum HostTLSDecision: Sendable {
    /// Connect with these settings; `report`: what TLS reports record of the sessions
    /// (RFC 8460), nothing when nil.
    case connect(TLSSettings, report: TLSReportScope? = nil)
    /// Not this host, for this reason: an MX host outside an enforced MTA-STS policy (RFC
    /// 8461 §4.1), a failed TLSA lookup of a DNSSEC-signed host (RFC 7672 §2.1.2), a host
    /// that cannot meet REQUIRETLS (RFC 8689 §4.2.1; `requireTLSUnmet`). `report`: the
    /// known failures TLS reports record for it.
    case skip(DeliveryFailure, requireTLSUnmet: Bool, report: TLSReportScope? = nil)
}

/// Decides the TLS of direct delivery: once per recipient domain and attempt, `prepare`
/// (where MTA-STS looks up the domain's policy), then for each MX host.
public struct TLSPolicy: Sendable {
    public var prepare: @Sendable (_ domain: String) async -> DomainTLSPolicy

    public init(prepare: @escaping @Sendable (_ domain: String) async -> DomainTLSPolicy) {
        self.prepare = prepare
    }

    /// STARTTLS when offered, without verification, as RFC 3207 §4 permits for relaying
    /// between MTAs; except for a REQUIRETLS message, which RFC 8689 §4.2.1 lets go only
    /// over TLS whose certificate verifies against the MX host name (step 4) and so gets
    /// required STARTTLS with PKIX verification. (The session then also needs the server's
    /// REQUIRETLS keyword; without either, the message is not sent in plaintext.) For
    /// `localserve` and tests; `serve` uses `secure`.
    public static let opportunistic = TLSPolicy { domain in
        DomainTLSPolicy { request in
            var settings = TLSSettings()
            settings.serverName = request.hostName
            if request.requireTLS {
                settings.required = true
                settings.pkix = PKIXVerification(names: [request.hostName])
            }
            let report = TLSReportScope(
                recipientDomain: domain, mxHost: request.hostName, entries: [TLSReportScope.domainEntry(nil, domain: domain)])
            return .connect(settings, report: report)
        }
    }
}

/// The TLS policy of one recipient domain for this attempt.
public struct DomainTLSPolicy: Sendable {
    public var decide: @Sendable (TLSPolicyRequest) async -> HostTLSDecision

    public init(decide: @escaping @Sendable (TLSPolicyRequest) async -> HostTLSDecision) {
        self.decide = decide
    }
}
