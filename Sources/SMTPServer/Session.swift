import Foundation
import SASL
import SMTP

/// An SMTP server session (RFC 5321) as a state machine: it takes command lines and events
/// from a network adapter and returns what to do next. It does no I/O, keeps no clock of
/// its own and asks an injected policy about addresses, so every path is tested exactly.
///
/// Flow: `start()` → 220; EHLO → 250 with extensions; [STARTTLS → 220, `.startTLS`, the
/// adapter discards any bytes already received (RFC 3207 §6: no plaintext injection), does
/// the handshake and calls `tlsEstablished()`, and the client says EHLO again]; [AUTH →
/// `.authenticate`, the adapter runs SASL and calls `authChallenge` / `authSucceeded` /
/// `authFailed`]; MAIL → RCPT... → DATA (`.readData`, then `dataRead`) or BDAT chunks
/// (`.readChunk`, then `chunkRead`) → `.deliver(envelope)` → the adapter stores the message
/// durably and calls `delivered` → 250 only then.
///
/// Recipients are local (delivered into the Store) or, on submission with a relay
/// configured, remote (handed to the outbound queue, RFC 6409 §1: the MSA passes the
/// message on to an MTA). Incoming mail (port 25) is never relayed.
public struct Session: Sendable {
    public enum Kind: Sendable, Hashable {
        /// Port 25: mail for local domains from anyone.
        case incoming
        /// Ports 587/465: mail from authenticated accounts (RFC 6409).
        case submission
    }

    public struct Settings: Sendable {
        public var kind: Kind
        public var hostname: String
        /// RFC 1870 SIZE, enforced during DATA and BDAT.
        public var maxMessageSize = 50 * 1024 * 1024
        /// RFC 9422 RCPTMAX; RFC 5321 §4.5.3.1.8 asks for at least 100.
        public var maxRecipients = 1000
        /// RFC 9422 MAILMAX: transactions per session.
        public var maxTransactions = 1000
        /// Commands other than a transaction's (NOOP, RSET, VRFY, HELP, EHLO) in a row
        /// before the session is ended, against connections kept busy for nothing.
        public var maxIdleCommands = 50
        /// Bad commands before the session is ended.
        public var maxErrors = 10
        /// A certificate is there, so STARTTLS can be offered.
        public var startTLSAvailable = false
        /// The connection began with TLS (port 465, RFC 8314).
        public var implicitTLS = false
        /// Authentication without TLS, for loopback listeners only.
        public var plaintextAuthAllowed = false
        /// SASL mechanisms to offer, strongest first; empty: no AUTH.
        public var authMechanisms: [String] = []
        /// RFC 4865 FUTURERELEASE on submission: offered only where something can hold a
        /// message until its time (the outbound queue); without it a hold would be ignored,
        /// which §3 forbids.
        public var futureReleaseAvailable = false
        /// The longest hold, in seconds.
        public var maxFutureRelease = 30 * 24 * 3600
        /// Submission: recipients at other domains are accepted, to be relayed through the
        /// outbound queue (the adapter's `MessageRelayer`). Without one they are refused.
        /// Never on `.incoming`: port 25 is no open relay (RFC 5321 §3.6.2, §7.1).
        public var relayAvailable = false

        public init(kind: Kind, hostname: String) {
            self.kind = kind
            self.hostname = hostname
        }
    }

    public enum Action: Sendable, Hashable {
        case reply(Reply)
        /// After the 220: discard buffered input, do the TLS handshake, call `tlsEstablished`.
        case startTLS
        /// After the 354: read the DATA body with a `DataReader(limit:)`, call `dataRead`.
        case readData(limit: Int)
        /// BDAT: read exactly `size` octets; keep them unless `discard`; call `chunkRead`.
        case readChunk(size: Int, discard: Bool)
        /// Run the SASL mechanism, with the decoded initial response if one was given.
        case authenticate(mechanism: String, initialResponse: [UInt8]?)
        /// A decoded client response for the running SASL exchange.
        case authResponse([UInt8])
        /// Store the message that was read, durably; then call `delivered`.
        case deliver(Envelope)
        case close
    }

    public enum DeliveryResult: Sendable, Hashable {
        case delivered(id: String)
        case temporaryFailure(String)
        case rejected(Reply)
    }

    private enum Phase: Sendable, Hashable {
        case connected
        case ready
        case transaction
        case readingData
        case readingChunk(last: Bool)
        case delivering
        case authenticating
        case startingTLS
        case closed
    }

    public let settings: Settings
    private let policy: any SessionPolicy
    private let now: @Sendable () -> Date

    private var phase = Phase.connected
    private var clientName: String?
    private var extended = false
    public private(set) var tls: Bool
    /// Whether the TLS layer gives this connection a channel binding (tls-exporter or
    /// tls-unique), which SCRAM-*-PLUS needs; without it the -PLUS mechanisms are neither
    /// offered nor accepted.
    public private(set) var channelBindingAvailable = false
    public private(set) var authenticatedAccount: String?
    private var sender: ReversePath?
    private var parameters = MailParameters()
    private var recipients: [Recipient] = []
    private var remoteRecipients: [Mailbox] = []
    /// A policy asked for a recipient to go unanswered: nothing is answered any more until
    /// the adapter's timer ends the session.
    private var stalled = false
    private var chunksTooBig = false
    private var chunkedSize = 0
    private var usedBDAT = false
    private var transactions = 0
    private var idleCommands = 0
    private var errors = 0
    private var pendingMechanism: String?

    public init(settings: Settings, policy: any SessionPolicy, now: @escaping @Sendable () -> Date) {
        self.settings = settings
        self.policy = policy
        self.now = now
        tls = settings.implicitTLS
    }

    public var isClosed: Bool { phase == .closed }

    /// RFC 5321 §4.3.1: the greeting names the server.
    public mutating func start() -> [Action] {
        [.reply(Reply(220, nil, "\(settings.hostname) ESMTP Tern"))]
    }

    // MARK: - Commands

    public mutating func received(line: [UInt8]) -> [Action] {
        switch phase {
        case .closed:
            return []
        case .authenticating:
            return authenticationLine(line)
        case .startingTLS:
            // Nothing may come between STARTTLS and the handshake (RFC 3207 §4.2).
            return close(Reply(421, .protocolError, "data after STARTTLS"))
        case .readingData, .readingChunk, .delivering:
            // The adapter sends lines here only when it breaks the protocol itself.
            return close(Reply(421, .protocolError, "command while a message was being received"))
        case .connected, .ready, .transaction:
            if stalled { return [] }
        }
        let command: Command
        do {
            command = try Command.parse(line)
        } catch {
            return fail(error.reply)
        }
        switch command {
        case let .ehlo(name): return hello(name, extended: true)
        case let .helo(name): return hello(name, extended: false)
        case .startTLS: return startTLS()
        case let .auth(mechanism, initialResponse): return auth(mechanism, initialResponse)
        case let .mail(path, parameters): return mail(path, parameters)
        case let .rcpt(path, _): return rcpt(path)
        case .data: return data()
        case let .bdat(size, last): return bdat(size: size, last: last)
        case .rset:
            resetTransaction()
            return idle(Reply(250, .ok, "reset"))
        case .noop: return idle(Reply(250, .ok, "ok"))
        case .quit:
            phase = .closed
            return [.reply(Reply(221, .ok, "\(settings.hostname) closing connection")), .close]
        case .vrfy:
            // RFC 5321 §3.5.3: 252, so address harvesting learns nothing.
            return idle(Reply(252, EnhancedStatus(2, 5, 0), "cannot verify, but will try delivery"))
        case .expn: return idle(Reply(502, .invalidCommand, "EXPN not available"))
        case .help: return idle(Reply(214, .ok, "see RFC 5321; this is Tern"))
        }
    }

    /// A command line longer than the adapter's limit (RFC 5321 §4.5.3.1.4).
    public mutating func lineTooLong() -> [Action] {
        fail(Reply(500, .syntaxError, "line too long"))
    }

    /// The adapter's timer for the current state ran out (RFC 5321 §4.5.3.2).
    public mutating func timedOut() -> [Action] {
        stalled = false
        return close(Reply(421, .badConnection, "timeout, closing connection"))
    }

    /// The server is stopping.
    public mutating func shuttingDown() -> [Action] {
        close(Reply(421, .notAccepting, "\(settings.hostname) shutting down"))
    }

    private mutating func hello(_ name: String, extended: Bool) -> [Action] {
        // RFC 5321 §4.1.4: EHLO/HELO also resets the transaction.
        resetTransaction()
        clientName = name
        self.extended = extended
        phase = .ready
        guard extended else { return idle(Reply(250, nil, "\(settings.hostname)")) }
        return idle(Reply(250, nil, [settings.hostname] + extensions()))
    }

    /// What is offered depends on TLS and authentication: STARTTLS until TLS is on, AUTH
    /// only where credentials cannot be sniffed, REQUIRETLS only under TLS (RFC 8689 §4),
    /// FUTURERELEASE on submission only (RFC 4865).
    public func extensions() -> [String] {
        var lines = ["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE \(settings.maxMessageSize)", "ENHANCEDSTATUSCODES", "CHUNKING"]
        if settings.startTLSAvailable, !tls { lines.append("STARTTLS") }
        if authOffered { lines.append("AUTH " + offeredMechanisms.joined(separator: " ")) }
        if tls { lines.append("REQUIRETLS") }
        if settings.kind == .submission, settings.futureReleaseAvailable {
            let until = now().addingTimeInterval(TimeInterval(settings.maxFutureRelease))
            lines.append("FUTURERELEASE \(settings.maxFutureRelease) \(Self.rfc3339(until))")
        }
        lines.append("LIMITS RCPTMAX=\(settings.maxRecipients) MAILMAX=\(settings.maxTransactions)")
        return lines
    }

    /// RFC 5802 §6: -PLUS variants only where the channel can be bound.
    private var offeredMechanisms: [String] {
        settings.authMechanisms.filter { channelBindingAvailable || !(SASLMechanism(name: $0)?.usesChannelBinding ?? false) }
    }

    private var authOffered: Bool {
        settings.kind == .submission && !settings.authMechanisms.isEmpty && (tls || settings.plaintextAuthAllowed) && authenticatedAccount == nil
    }

    // MARK: - STARTTLS (RFC 3207)

    private mutating func startTLS() -> [Action] {
        guard settings.startTLSAvailable, !tls else {
            return fail(Reply(tls ? 503 : 454, tls ? .invalidCommand : EnhancedStatus(4, 7, 0), tls ? "TLS already active" : "TLS not available"))
        }
        guard phase != .transaction else { return fail(Reply(503, .invalidCommand, "STARTTLS inside a transaction")) }
        phase = .startingTLS
        return [.reply(Reply(220, .ok, "ready to start TLS")), .startTLS]
    }

    /// RFC 3207 §4.2: after the handshake the session starts over, without what the client
    /// said before.
    public mutating func tlsEstablished() {
        tls = true
        channelBindingAvailable = false
        phase = .connected
        clientName = nil
        extended = false
        resetTransaction()
    }

    /// The TLS layer has a channel binding for this connection (after `tlsEstablished`, or
    /// on implicit TLS once the handshake is done).
    public mutating func channelBindingEstablished() {
        channelBindingAvailable = tls
    }

    // MARK: - AUTH (RFC 4954)

    private mutating func auth(_ mechanism: String, _ initialResponse: String?) -> [Action] {
        guard settings.kind == .submission, !settings.authMechanisms.isEmpty else {
            return fail(Reply(503, .invalidCommand, "AUTH not available here"))
        }
        guard extended else { return fail(Reply(503, .invalidCommand, "send EHLO first")) }
        guard authenticatedAccount == nil else { return fail(Reply(503, .invalidCommand, "already authenticated")) }
        guard phase != .transaction else { return fail(Reply(503, .invalidCommand, "AUTH inside a transaction")) }
        guard tls || settings.plaintextAuthAllowed else {
            return fail(Reply(538, .encryptionRequired, "encryption required for authentication"))
        }
        guard offeredMechanisms.contains(mechanism) else {
            return fail(Reply(504, .invalidArguments, "unsupported mechanism \(mechanism.prefix(40))"))
        }
        var decoded: [UInt8]?
        if let initialResponse {
            // RFC 4954 §4: "=" is an empty initial response.
            guard let bytes = initialResponse == "=" ? [] : SASLBase64.decode(initialResponse) else {
                return fail(Reply(501, .syntaxError, "invalid base64"))
            }
            decoded = bytes
        }
        phase = .authenticating
        pendingMechanism = mechanism
        return [.authenticate(mechanism: mechanism, initialResponse: decoded)]
    }

    private mutating func authenticationLine(_ line: [UInt8]) -> [Action] {
        // RFC 4954 §4: "*" cancels the exchange.
        if line == [UInt8(ascii: "*")] {
            endAuthentication()
            return fail(Reply(501, EnhancedStatus(5, 0, 0), "authentication canceled"))
        }
        guard let bytes = SASLBase64.decode(bytes: line) else {
            endAuthentication()
            return fail(Reply(501, .syntaxError, "invalid base64"))
        }
        return [.authResponse(bytes)]
    }

    /// The mechanism wants to send a challenge: 334 with it in base64.
    public mutating func authChallenge(_ challenge: [UInt8]) -> [Action] {
        guard phase == .authenticating else { return [] }
        return [.reply(Reply(334, nil, SASLBase64.encode(challenge)))]
    }

    public mutating func authSucceeded(account: String) -> [Action] {
        guard phase == .authenticating else { return [] }
        endAuthentication()
        authenticatedAccount = account
        return [.reply(Reply(235, .authenticated, "authentication successful"))]
    }

    /// RFC 4954 §6: 535 5.7.8; the adapter adds delays and limits per IP.
    public mutating func authFailed() -> [Action] {
        guard phase == .authenticating else { return [] }
        endAuthentication()
        return fail(Reply(535, .badCredentials, "authentication failed"))
    }

    /// Too many failures from this address: 421 and close, before any exchange starts.
    public mutating func authenticationRefused() -> [Action] {
        guard phase == .authenticating else { return [] }
        endAuthentication()
        return close(Reply(421, EnhancedStatus(4, 7, 0), "too many authentication failures, try again later"))
    }

    private mutating func endAuthentication() {
        phase = clientName == nil ? .connected : .ready
        pendingMechanism = nil
    }

    // MARK: - Transaction

    private mutating func mail(_ path: ReversePath, _ parameters: MailParameters) -> [Action] {
        guard clientName != nil else { return fail(Reply(503, .invalidCommand, "send EHLO first")) }
        guard phase == .ready else { return fail(Reply(503, .invalidCommand, "nested MAIL command")) }
        transactions += 1
        guard transactions <= settings.maxTransactions else {
            return close(Reply(421, EnhancedStatus(4, 7, 0), "too many transactions, closing connection"))
        }
        idleCommands = 0
        if settings.kind == .submission, authenticatedAccount == nil {
            return fail(Reply(530, EnhancedStatus(5, 7, 0), "authentication required"))
        }
        if !extended, parameters != MailParameters() {
            // RFC 5321 §4.1.1.2: parameters only after EHLO.
            return fail(Reply(555, .invalidArguments, "MAIL parameters need EHLO"))
        }
        if let size = parameters.size, size > settings.maxMessageSize {
            return fail(Reply(552, .messageTooBig, "message size exceeds \(settings.maxMessageSize) octets"))
        }
        if parameters.body == .binaryMIME {
            return fail(Reply(555, .invalidArguments, "BINARYMIME not supported"))
        }
        if parameters.requireTLS, !tls {
            return fail(Reply(555, .invalidArguments, "REQUIRETLS needs TLS"))
        }
        if path.mailbox?.needsSMTPUTF8 == true, !parameters.smtputf8 {
            return fail(Reply(553, .nonASCIIAddress, "non-ASCII sender needs SMTPUTF8"))
        }
        if parameters.holdFor != nil || parameters.holdUntil != nil {
            if let reply = checkFutureRelease(parameters) { return fail(reply) }
        }
        if settings.kind == .submission, let account = authenticatedAccount, !policy.mayUseSender(path, account: account) {
            return fail(Reply(550, .notAuthorized, "\(path) does not belong to your account"))
        }
        sender = path
        self.parameters = parameters
        phase = .transaction
        return [.reply(Reply(250, .addressOK, "sender \(path) ok"))]
    }

    /// RFC 4865 §3: one hold parameter, within the advertised bounds, else 501 5.5.4.
    private func checkFutureRelease(_ parameters: MailParameters) -> Reply? {
        guard settings.kind == .submission, settings.futureReleaseAvailable else {
            return Reply(555, .invalidArguments, "FUTURERELEASE not available here")
        }
        guard parameters.holdFor == nil || parameters.holdUntil == nil else { return Reply(501, .invalidArguments, "only one of HOLDFOR and HOLDUNTIL") }
        if let seconds = parameters.holdFor, !(1...settings.maxFutureRelease).contains(seconds) {
            return Reply(501, .invalidArguments, "HOLDFOR must be 1 to \(settings.maxFutureRelease) seconds")
        }
        if let until = parameters.holdUntil {
            guard let date = Self.parseRFC3339(until) else { return Reply(501, .invalidArguments, "HOLDUNTIL is not an RFC 3339 date-time") }
            let limit = now().addingTimeInterval(TimeInterval(settings.maxFutureRelease))
            guard date <= limit else { return Reply(501, .invalidArguments, "HOLDUNTIL is later than \(Self.rfc3339(limit))") }
        }
        return nil
    }

    private mutating func rcpt(_ path: ForwardPath) -> [Action] {
        guard phase == .transaction else { return fail(Reply(503, .invalidCommand, "send MAIL first")) }
        guard recipients.count + remoteRecipients.count < settings.maxRecipients else {
            // RFC 5321 §4.5.3.1.10: 452 for too many recipients; the client sends the rest later.
            return [.reply(Reply(452, EnhancedStatus(4, 5, 3), "too many recipients"))]
        }
        if case let .mailbox(mailbox) = path, mailbox.needsSMTPUTF8, !parameters.smtputf8 {
            return fail(Reply(553, .nonASCIIAddress, "non-ASCII recipient needs SMTPUTF8"))
        }
        if path == .postmaster, parameters.holdFor != nil || parameters.holdUntil != nil {
            // A held message waits in the queue, which keeps recipients as mailboxes at a
            // domain; "<Postmaster>" has none (RFC 5321 §4.1.1.3).
            return fail(Reply(550, .invalidArguments, "<Postmaster> without a domain cannot be held for future release"))
        }
        switch policy.resolve(path) {
        case let .local(account, mailbox):
            recipients.append(Recipient(address: path, account: account, mailbox: mailbox))
            return [.reply(Reply(250, .destinationValid, "recipient \(path) ok"))]
        case .unknownUser:
            return fail(Reply(550, .badMailbox, "no such user \(path)"))
        case .remote:
            // Never an open relay (RFC 5321 §3.6.2): incoming mail is only for local domains;
            // only an authenticated submission (checked at MAIL) may go elsewhere.
            guard settings.kind == .submission else { return fail(Reply(550, .notAuthorized, "relaying denied for \(path)")) }
            guard settings.relayAvailable, case let .mailbox(mailbox) = path else {
                return fail(Reply(550, .notAuthorized, "delivery to other domains is not configured on this server"))
            }
            if !remoteRecipients.contains(mailbox) { remoteRecipients.append(mailbox) }
            // RFC 5321 §3.6.2 / RFC 3463 X.1.5: valid destination; the queue takes it over.
            return [.reply(Reply(250, .destinationValid, "recipient \(path) ok, will be relayed"))]
        case let .refused(reply):
            return fail(reply)
        case .unanswered:
            stalled = true
            return []
        }
    }

    private mutating func data() -> [Action] {
        guard phase == .transaction, !usedBDAT else {
            return fail(Reply(503, .invalidCommand, usedBDAT ? "DATA after BDAT" : "send MAIL first"))
        }
        // RFC 5321 §3.3: without any accepted recipient, 554 (503 when RCPT was never tried).
        guard hasRecipients else { return fail(Reply(554, .invalidCommand, "no valid recipients")) }
        phase = .readingData
        return [.reply(Reply(354, nil, "end data with <CR><LF>.<CR><LF>")), .readData(limit: settings.maxMessageSize)]
    }

    /// The DATA body was read (the adapter kept it, normalized, with a `DataReader`).
    public mutating func dataRead(size: Int, exceededLimit: Bool) -> [Action] {
        guard phase == .readingData else { return [] }
        if exceededLimit {
            resetTransaction()
            phase = .ready
            return [.reply(Reply(552, .messageTooBig, "message exceeds \(settings.maxMessageSize) octets"))]
        }
        phase = .delivering
        return [.deliver(envelope(size: size))]
    }

    /// RFC 3030 §2: BDAT chunks; the octets follow the command whatever the reply will be,
    /// so they are read (or dropped) before answering.
    private mutating func bdat(size: Int, last: Bool) -> [Action] {
        guard phase == .transaction, hasRecipients else {
            // The chunk is on its way anyway: drop it, then answer.
            let reply = phase == .transaction ? Reply(554, .invalidCommand, "no valid recipients") : Reply(503, .invalidCommand, "send MAIL first")
            errors += 1
            return [.readChunk(size: size, discard: true), .reply(reply)]
        }
        usedBDAT = true
        chunkedSize += size
        if chunkedSize > settings.maxMessageSize { chunksTooBig = true }
        phase = .readingChunk(last: last)
        return [.readChunk(size: size, discard: chunksTooBig)]
    }

    public mutating func chunkRead() -> [Action] {
        guard case let .readingChunk(last) = phase else { return [] }
        if chunksTooBig {
            // RFC 3030 §2: after an error the rest of the transaction fails too; reset.
            resetTransaction()
            phase = .ready
            return [.reply(Reply(552, .messageTooBig, "message exceeds \(settings.maxMessageSize) octets"))]
        }
        guard last else {
            phase = .transaction
            return [.reply(Reply(250, .ok, "\(chunkedSize) octets received"))]
        }
        phase = .delivering
        return [.deliver(envelope(size: chunkedSize))]
    }

    private var hasRecipients: Bool { !recipients.isEmpty || !remoteRecipients.isEmpty }

    public mutating func delivered(_ result: DeliveryResult) -> [Action] {
        guard phase == .delivering else { return [] }
        resetTransaction()
        phase = .ready
        switch result {
        case let .delivered(id):
            return [.reply(Reply(250, .messageAccepted, "message accepted, id \(id)"))]
        case let .temporaryFailure(reason):
            return [.reply(Reply(451, .systemError, "temporary failure: \(reason)"))]
        case let .rejected(reply):
            return [.reply(reply)]
        }
    }

    /// The transaction so far, as it would be delivered: the adapter writes the Received
    /// field from it before the message octets arrive.
    public func currentEnvelope() -> Envelope? {
        sender == nil ? nil : envelope(size: 0)
    }

    private func envelope(size: Int) -> Envelope {
        Envelope(
            clientName: clientName ?? "", sender: sender ?? .null, recipients: recipients, parameters: parameters,
            size: size, tls: tls, authenticatedAccount: authenticatedAccount, kind: settings.kind, extended: extended,
            remoteRecipients: remoteRecipients, futureRelease: futureRelease())
    }

    /// The accepted hold (RFC 4865 §4.2 items 5 and 6): HOLDFOR counts from now, the end
    /// of the transaction, so the message never leaves early.
    private func futureRelease() -> FutureRelease? {
        if let seconds = parameters.holdFor {
            return FutureRelease(releaseAt: now().addingTimeInterval(TimeInterval(seconds)), request: "for;\(seconds)")
        }
        if let until = parameters.holdUntil, let date = Self.parseRFC3339(until) {
            return FutureRelease(releaseAt: date, request: "until;\(until)")
        }
        return nil
    }

    private mutating func resetTransaction() {
        sender = nil
        parameters = MailParameters()
        recipients = []
        remoteRecipients = []
        chunksTooBig = false
        chunkedSize = 0
        usedBDAT = false
        if phase == .transaction { phase = .ready }
    }

    // MARK: - Errors and limits

    private mutating func idle(_ reply: Reply) -> [Action] {
        idleCommands += 1
        if idleCommands > settings.maxIdleCommands {
            return close(Reply(421, EnhancedStatus(4, 7, 0), "too many commands without mail, closing connection"))
        }
        return [.reply(reply)]
    }

    private mutating func fail(_ reply: Reply) -> [Action] {
        errors += 1
        if errors >= settings.maxErrors {
            return close(Reply(421, EnhancedStatus(4, 7, 0), "too many errors, closing connection"), after: reply)
        }
        return [.reply(reply)]
    }

    private mutating func close(_ reply: Reply, after first: Reply? = nil) -> [Action] {
        phase = .closed
        return (first.map { [Action.reply($0)] } ?? []) + [.reply(reply), .close]
    }

    // MARK: - Helpers

    static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func parseRFC3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// A message ready for delivery: who sent it to whom, and how it came.
public struct Envelope: Sendable, Hashable {
    public var clientName: String
    public var sender: ReversePath
    public var recipients: [Recipient]
    public var parameters: MailParameters
    public var size: Int
    public var tls: Bool
    public var authenticatedAccount: String?
    public var kind: Session.Kind
    public var extended: Bool
    /// Submission only: recipients at other domains, for the outbound queue, in RCPT order.
    public var remoteRecipients: [Mailbox] = []
    /// Submission only: the message waits in the outbound queue until then (RFC 4865).
    public var futureRelease: FutureRelease?
    /// Submission only: the message says "TLS-Required: No" (RFC 8689 §5), so the queue
    /// delivers it even where the recipients' TLS policies (MTA-STS, DANE) would refuse.
    public var ignoreTLSPolicy = false

    public init(
        clientName: String, sender: ReversePath, recipients: [Recipient], parameters: MailParameters = MailParameters(), size: Int, tls: Bool,
        authenticatedAccount: String? = nil, kind: Session.Kind, extended: Bool = true, remoteRecipients: [Mailbox] = [],
        futureRelease: FutureRelease? = nil
    ) {
        self.clientName = clientName
        self.sender = sender
        self.recipients = recipients
        self.parameters = parameters
        self.size = size
        self.tls = tls
        self.authenticatedAccount = authenticatedAccount
        self.kind = kind
        self.extended = extended
        self.remoteRecipients = remoteRecipients
        self.futureRelease = futureRelease
    }

    /// Recipients whose delivery the outbound queue takes on: the remote ones, and with a
    /// hold every one, local ones included, because the queue is what waits (RFC 4865 §4.2
    /// items 5 and 6 forbid releasing the message early to anybody).
    public var queuedRecipients: [Mailbox] {
        guard futureRelease != nil else { return remoteRecipients }
        return recipients.compactMap(\.address.mailbox) + remoteRecipients
    }

    /// Recipients delivered into the Store right away.
    public var immediateRecipients: [Recipient] { futureRelease == nil ? recipients : [] }

    /// Every recipient, local and remote, in the order accepted within each kind.
    public var recipientCount: Int { recipients.count + remoteRecipients.count }

    /// The protocol name for the Received header's "with" clause (RFC 3848, RFC 6531
    /// §3.7.3): SMTP/ESMTP, UTF8 when SMTPUTF8 was used, S for TLS, A for authenticated.
    public var receivedProtocol: String {
        var name = parameters.smtputf8 ? "UTF8SMTP" : (extended ? "ESMTP" : "SMTP")
        if tls { name += "S" }
        if authenticatedAccount != nil { name += "A" }
        return name
    }
}

/// A hold accepted under RFC 4865.
public struct FutureRelease: Sendable, Hashable {
    public var releaseAt: Date
    /// The hold as the client asked for it, "for;<seconds>" or "until;<date-time>": what a
    /// DSN's Future-Release-Request field repeats (RFC 4865 §5.1.2).
    public var request: String

    public init(releaseAt: Date, request: String) {
        self.releaseAt = releaseAt
        self.request = request
    }
}

public struct Recipient: Sendable, Hashable {
    public var address: ForwardPath
    public var account: String
    public var mailbox: String

    public init(address: ForwardPath, account: String, mailbox: String) {
        self.address = address
        self.account = account
        self.mailbox = mailbox
    }
}

/// What the server's configuration says about addresses, asked synchronously: the lookups
/// are in memory.
public protocol SessionPolicy: Sendable {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision
    /// Submission: may this account send as this address?
    func mayUseSender(_ sender: ReversePath, account: String) -> Bool
}

public enum RecipientDecision: Sendable, Hashable {
    case local(account: String, mailbox: String)
    /// A local domain without this user: 550 5.1.1.
    case unknownUser
    /// Not a local domain: relayed on submission when the server can, else refused.
    case remote
    /// Refused with this reply (a 4xx or 5xx).
    case refused(Reply)
    /// No reply at all: the client is left to time out, and the session is ended by the
    /// adapter's timer. For test servers that show a sender how a stuck peer looks.
    case unanswered
}
