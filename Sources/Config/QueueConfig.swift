// The outbound queue's part of tern.yaml: retry timing, concurrency, named relay transports
// and the global routes that pick them. The executable turns these into the Queue module's
// `QueueSettings`; the Config module knows nothing of the queue itself (DESIGN.md).

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
    /// Relay transports by name, in the order written.
    public var transports: [TransportConfig] = []
    /// Global routes in evaluation order: the first that matches picks the transport;
    /// when none matches, direct delivery to the recipient domain's MX hosts.
    public var routes: [RouteConfig] = []

    public init() {}

    public func transport(named name: String) -> TransportConfig? {
        transports.first { $0.name == name }
    }
}

/// A relay: a smarthost or a third party's submission server.
public struct TransportConfig: Sendable, Equatable {
    public enum Security: String, Sendable, Equatable, CaseIterable {
        /// STARTTLS (RFC 3207) required; the certificate must verify for `host`.
        case startTLS = "STARTTLS"
        /// TLS from the first octet (RFC 8314 §3.3, usually port 465).
        case implicitTLS = "ImplicitTLS"
        /// STARTTLS when offered, plaintext otherwise (a smarthost on a private network).
        case opportunistic = "Opportunistic"
    }

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
    /// A host name or an IP address.
    public var host: String
    public var port: Int
    public var security: Security
    /// AUTH (RFC 4954) with these credentials; nil: no AUTH.
    public var auth: Auth?
    /// Deliver even when the certificate does not verify. Default false.
    public var ignoreVerificationErrors: Bool

    public init(name: String, host: String, port: Int, security: Security = .startTLS, auth: Auth? = nil, ignoreVerificationErrors: Bool = false) {
        self.name = name
        self.host = host
        self.port = port
        self.security = security
        self.auth = auth
        self.ignoreVerificationErrors = ignoreVerificationErrors
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
}
