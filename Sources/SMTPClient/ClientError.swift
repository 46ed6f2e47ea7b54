import SMTP

/// Why a session, a transaction or a recipient failed: where (the command or stage), what
/// the server said (code, enhanced code, text) or what happened instead, and whether
/// trying again later can help. The queue turns these into retries and DSNs (RFC 3464
/// Status and Diagnostic-Code), so local decisions carry an enhanced code too.
public struct ClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command whose reply failed, or the stage without a command.
    public enum Step: String, Hashable, Sendable {
        case connect = "connect"
        /// Connecting through a SOCKS5 proxy (RFC 1928): reaching it, or its handshake.
        case proxy = "SOCKS5 proxy"
        case tlsHandshake = "TLS handshake"
        case greeting = "greeting"
        case ehlo = "EHLO"
        case helo = "HELO"
        case startTLS = "STARTTLS"
        case auth = "AUTH"
        case rset = "RSET"
        case mail = "MAIL"
        case rcpt = "RCPT"
        case data = "DATA"
        /// The reply after the message content and its end marker.
        case endOfData = "end of DATA"
        case bdat = "BDAT"
        case quit = "QUIT"
    }

    public enum Kind: Hashable, Sendable {
        /// The server answered with a negative reply.
        case reply
        /// The server broke the protocol: a malformed, over-long or unexpected reply.
        case protocolViolation
        /// The TLS handshake failed, the certificate did not verify, an alert arrived, or
        /// TLS was required and is not available.
        case tls
        /// No reply in time (RFC 5321 §4.5.3.2).
        case timeout
        /// The connection could not be made, closed, or failed.
        case connection
        /// The message needs what the server does not offer (an extension, a larger SIZE,
        /// REQUIRETLS), found before anything was sent.
        case unsupportedByServer
        /// The client side of authentication failed: no acceptable mechanism, unusable
        /// credentials, or a server that did not prove it knows them (RFC 5802 §5).
        case authentication
        /// An address of the envelope cannot be written in a command.
        case invalidAddress
    }

    public var step: Step
    public var kind: Kind
    /// The server's reply code, when the error is a reply.
    public var code: Int?
    /// The server's enhanced code (RFC 3463), or the one describing a local decision.
    public var enhanced: EnhancedStatus?
    /// The server's text (lines joined by a space), or a description of what happened.
    public var text: String
    /// True when trying again cannot help (5xx, or a decision that will not change).
    public var isPermanent: Bool
    /// For a session that failed for want of TLS: why, as TLS reports count it (RFC 8460).
    public var tlsFailure: TLSSessionFailure?

    public init(
        step: Step, kind: Kind, code: Int? = nil, enhanced: EnhancedStatus? = nil, text: String, isPermanent: Bool,
        tlsFailure: TLSSessionFailure? = nil
    ) {
        self.step = step
        self.kind = kind
        self.code = code
        self.enhanced = enhanced
        self.text = text
        self.isPermanent = isPermanent
        self.tlsFailure = tlsFailure
    }

    /// A negative reply to `step`: permanent for 5xx (RFC 5321 §4.2.1).
    public init(step: Step, reply: Reply) {
        self.init(
            step: step, kind: .reply, code: reply.code, enhanced: reply.enhanced,
            text: reply.lines.joined(separator: " "), isPermanent: reply.isPermanent)
    }

    /// The alert the server sent, for TLS errors where one arrived.
    public var tlsAlert: TLSAlert? {
        if case let .alert(alert)? = tlsFailure?.reason { return alert }
        return nil
    }

    public var description: String {
        var parts = [step.rawValue + ":"]
        if let code { parts.append(String(code)) }
        if let enhanced { parts.append(enhanced.description) }
        parts.append(text)
        if let tlsAlert { parts.append("(TLS alert \(tlsAlert))") }
        parts.append(isPermanent ? "(permanent)" : "(temporary)")
        return parts.joined(separator: " ")
    }
}
