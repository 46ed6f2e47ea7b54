import Foundation
import SASL
import SMTP

/// Everything a session needs besides its socket, given by the caller (the queue reads
/// its configuration and routes and hands over just these values).
public struct ClientConfiguration: Sendable {
    /// The name said in EHLO/HELO: a domain, or an address literal (RFC 5321 §4.1.1.1).
    public var localHostname: String
    public var tls: TLSSettings
    /// AUTH (RFC 4954) after EHLO, e.g. to a submission server or smarthost; nil: none.
    public var authentication: ClientAuthentication?
    public var timeouts: Timeouts
    public var replyLimits: ReplyReader.Limits
    /// Send messages with BDAT when the server offers CHUNKING (RFC 3030): no dot-stuffing,
    /// and the size is known up front. Off, DATA is used unless the content is binary.
    public var useChunking: Bool
    /// SCRAM client nonces (RFC 5802 §5.1); random unless a test fixes them.
    public var makeNonce: @Sendable () -> SASLNonce
    /// The time certificates are checked against.
    public var now: @Sendable () -> Date

    public init(
        localHostname: String, tls: TLSSettings = TLSSettings(), authentication: ClientAuthentication? = nil,
        timeouts: Timeouts = Timeouts(), replyLimits: ReplyReader.Limits = ReplyReader.Limits(), useChunking: Bool = true,
        makeNonce: @escaping @Sendable () -> SASLNonce = { SASLNonce.random() },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.localHostname = localHostname
        self.tls = tls
        self.authentication = authentication
        self.timeouts = timeouts
        self.replyLimits = replyLimits
        self.useChunking = useChunking
        self.makeNonce = makeNonce
        self.now = now
    }
}

/// Authentication as a client (RFC 4954 with the SASL module's mechanisms).
public struct ClientAuthentication: Sendable, Hashable {
    public var credentials: SASLClientCredentials
    /// The mechanism to use; nil: the strongest one the server offers that the
    /// circumstances permit (`SASLMechanism.select`).
    public var mechanism: SASLMechanism?
    public var allowedMechanisms: Set<SASLMechanism>
    /// PLAIN and LOGIN without TLS (RFC 4616 §6 advises against it), e.g. on loopback.
    public var allowPlaintextWithoutTLS: Bool

    public init(
        credentials: SASLClientCredentials, mechanism: SASLMechanism? = nil,
        allowedMechanisms: Set<SASLMechanism> = Set(SASLMechanism.allCases), allowPlaintextWithoutTLS: Bool = false
    ) {
        self.credentials = credentials
        self.mechanism = mechanism
        self.allowedMechanisms = allowedMechanisms
        self.allowPlaintextWithoutTLS = allowPlaintextWithoutTLS
    }
}

/// How long to wait, per command and per block of data rather than for a whole
/// transaction (RFC 5321 §4.5.3.2). The defaults are the RFC's minimums.
public struct Timeouts: Hashable, Sendable {
    /// Establishing the TCP connection (not in the RFC).
    public var connect: Duration = .seconds(30)
    /// §4.5.3.2.1 Initial 220 message: 5 minutes.
    public var greeting: Duration = .seconds(300)
    /// The TLS handshake (not in the RFC).
    public var tlsHandshake: Duration = .seconds(60)
    /// EHLO, HELO, STARTTLS, AUTH and RSET, which the RFC does not list: like MAIL.
    public var command: Duration = .seconds(300)
    /// §4.5.3.2.2 MAIL: 5 minutes.
    public var mail: Duration = .seconds(300)
    /// §4.5.3.2.3 RCPT: 5 minutes.
    public var rcpt: Duration = .seconds(300)
    /// §4.5.3.2.4 DATA initiation (waiting for 354): 2 minutes.
    public var dataInitiation: Duration = .seconds(120)
    /// §4.5.3.2.5 Data block: 3 minutes for each send of message data.
    public var dataBlock: Duration = .seconds(180)
    /// §4.5.3.2.6 DATA termination (waiting for the 250 after the message): 10 minutes;
    /// also the reply to BDAT LAST, which plays the same part.
    public var dataTermination: Duration = .seconds(600)
    /// The reply to QUIT, after which the connection is closed anyway (not in the RFC).
    public var quit: Duration = .seconds(30)

    public init() {}
}
