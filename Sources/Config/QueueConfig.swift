// The outbound queue's part of tern.yaml: retry timing, concurrency, named transports
// (relays, and direct delivery through a SOCKS5 proxy) and the global routes that pick them;
// domains.yaml adds routes of domains and accounts, which name the same transports. The
// executable turns these into the Queue module's `QueueSettings`; the Config module knows
// nothing of the queue itself (DESIGN.md).

import DNS

import SASL

/// The `Queue` section.
public struct QueueConfig: Sendable, Equatable {
    /// The wait after the first failed attempt; each further wait doubles. Default 7m30s,
    /// so a short outage costs minutes (RFC 5321 §4.5.4.1 suggests at least 30 minutes
    /// between attempts; the doubling reaches that by the third retry).
    public var firstRetryInterval: Duration = .seconds(450)
    /// How long after submission the last attempt is made; then the sender gets a DSN.
    /// Default 96h: RFC 5321 §4.5.4.1 asks to give up after at least 4-5 days.
    public var maximumAge: Duration = .seconds(96 * 3600)
    /// After this many failed attempts the sender is told once that delivery is delayed
    /// (RFC 3464 "delayed"); nil: never. Default 4.
    public var delayedDSNAfterAttempts: Int? = 4
    /// Groups of messages (one per destination domain and transport) delivered at once.
    /// Default 8.
    public var concurrency: Int = 8
    /// The port direct delivery connects to on the MX hosts. Default 25 (RFC 5321 §4.5.4);
    /// another port only for tests (a receiving server on loopback that cannot bind 25) or
    /// an unusual private setup: the MX hosts of the internet listen on 25.
    public var directPort: Int = 25
    /// Whether direct delivery records TLS report results (RFC 8460) in DataDir/tlsrpt.db,
    /// for the daily TLS reports to the recipient domains. Default true.
    public var recordTLSResults = true
    /// Transports by name, in the order written.
    public var transports: [TransportConfig] = []
    /// Global routes in evaluation order, after those of the submitting account and of the
    /// sender's domain (domains.yaml): the first that matches picks the transport; when none
    /// matches, direct delivery to the recipient domain's MX hosts.
    public var routes: [RouteConfig] = []

    public init() {}

    public func transport(named name: String) -> TransportConfig? {
        transports.first { $0.name == name }
    }
}

/// A named transport: a relay, or direct delivery through a SOCKS5 proxy.
public struct TransportConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case relay(RelayConfig)
        case socks(SOCKSConfig)
    }

    /// Credentials: AUTH (RFC 4954) for a relay, RFC 1929 username/password for a proxy.
    public struct Auth: Sendable, Equatable {
        public var username: String
        public var password: String
        /// The mechanisms that may be used, the strongest offered first; empty: any. Naming
        /// only the strongest the relay implements keeps an attacker who edits its EHLO
        /// reply from downgrading AUTH to one that shows more of the password.
        public var mechanisms: [SASLMechanism]

        public init(username: String, password: String, mechanisms: [SASLMechanism] = []) {
            self.username = username
            self.password = password
            self.mechanisms = mechanisms
        }
    }

    public var name: String
    public var kind: Kind

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }
}

/// A relay: a smarthost or a third party's submission server.
public struct RelayConfig: Sendable, Equatable {
    public enum Security: String, Sendable, Equatable, CaseIterable {
        /// STARTTLS (RFC 3207) required; the certificate must verify for `host`.
        case startTLS = "STARTTLS"
        /// TLS from the first octet (RFC 8314 §3.3, usually port 465).
        case implicitTLS = "ImplicitTLS"
        /// STARTTLS when offered, plaintext otherwise (a smarthost on a private network).
        case opportunistic = "Opportunistic"
    }

    /// A host name or an IP address.
    public var host: String
    public var port: Int
    public var security: Security
    /// AUTH (RFC 4954) with these credentials; nil: no AUTH.
    public var auth: TransportConfig.Auth?
    /// Deliver even when the certificate does not verify. Default false.
    public var ignoreVerificationErrors: Bool

    public init(host: String, port: Int, security: Security = .startTLS, auth: TransportConfig.Auth? = nil, ignoreVerificationErrors: Bool = false) {
        self.host = host
        self.port = port
        self.security = security
        self.auth = auth
        self.ignoreVerificationErrors = ignoreVerificationErrors
    }
}

/// Direct delivery (MX lookup) whose connections a SOCKS5 proxy makes (RFC 1928), as mox's
/// TransportSocks.
public struct SOCKSConfig: Sendable, Equatable {
    /// The proxy: a host name or an IP address, and its port.
    public var host: String
    public var port: Int
    /// The addresses the proxy's connections come from, as the MX hosts see them; at least
    /// one. Only MX addresses of their families are tried.
    public var remoteIPs: [IPAddress]
    /// The name of `remoteIPs`, said in EHLO instead of the global Hostname.
    public var hostname: Domain
    /// RFC 1929 username and password; nil: the proxy needs none.
    public var auth: TransportConfig.Auth?

    /// RFC 1929 §2: ULEN and PLEN are one octet, at least 1.
    static let credentialLength = 1...255

    public init(host: String, port: Int, remoteIPs: [IPAddress], hostname: Domain, auth: TransportConfig.Auth? = nil) {
        self.host = host
        self.port = port
        self.remoteIPs = remoteIPs
        self.hostname = hostname
        self.auth = auth
    }
}

/// Which transport a message takes: every condition given must match.
public struct RouteConfig: Sendable, Equatable {
    /// Lower-case ASCII domains; empty: any sender.
    public var senderDomains: [String]
    /// Lower-case ASCII domains; empty: any recipient domain.
    public var recipientDomains: [String]
    /// From this attempt on (1 is the first). Default 1.
    public var minimumAttempt: Int
    /// A name under `Queue.Transports`, or `direct`.
    public var transport: String

    public init(senderDomains: [String] = [], recipientDomains: [String] = [], minimumAttempt: Int = 1, transport: String) {
        self.senderDomains = senderDomains
        self.recipientDomains = recipientDomains
        self.minimumAttempt = minimumAttempt
        self.transport = transport
    }

    /// The transport name that means direct delivery (MX lookup), as in the Queue module.
    public static let directTransport = "direct"

    /// Why `name` is not a transport: neither `direct` nor one of `defined`; nil when it is.
    /// `place` says where transports are defined, for a file that does not define them.
    static func transportProblem(_ name: String, defined: [String], place: String = "") -> String? {
        guard name != directTransport, !defined.contains(name) else { return nil }
        let names = defined + [directTransport]
        var message = "no transport named '\(name)'\(place)"
        if let suggestion = DocumentReader.closest(to: name, among: names) {
            message += "; did you mean '\(suggestion)'?"
        } else {
            message += "; defined: \(names.joined(separator: ", "))"
        }
        return message
    }
}
