import DNS
import SASL
import SMTP
import TLSRPT

/// One SMTP client session (RFC 5321) as a state machine: it takes what arrives from the
/// server (octets, the end of a TLS handshake, a timeout, the end of the connection) and
/// the caller's requests (deliver, quit), and returns actions for the network adapter. It
/// does no I/O and reads no clock, so every path is tested without sockets.
///
/// Replies are matched to commands by counting (RFC 2920 §3.1): every command written
/// leaves an expectation, and each reply answers the oldest one.
public struct ClientSession: Sendable {
    public enum Action: Sendable, Hashable {
        /// Write these octets.
        case write([UInt8])
        /// Add TLS to the connection and do the handshake; then call `tlsEstablished` or
        /// `tlsFailed`. Octets that arrive before the handshake ends are not TLS data.
        case startTLS
        /// Send the message content; then call `messageSent`.
        case sendMessage(MessageEncoding)
        /// The session is set up: transactions can start.
        case ready
        /// A transaction ended, with a result per recipient.
        case completed(TransactionResult)
        /// Setting up the session failed.
        case failed(ClientError)
        /// Close the connection.
        case close
    }

    public enum MessageEncoding: Sendable, Hashable {
        /// After DATA's 354: dot-stuffed, then the end marker (RFC 5321 §4.5.2).
        case dotStuffed
        /// After a BDAT command: the octets as they are (RFC 3030 §2).
        case raw
    }

    private enum Phase: Sendable {
        case notStarted
        case tlsHandshake(implicit: Bool)
        case greeting
        case ehlo
        case helo
        case startTLS
        case authenticating(SASLClient)
        /// "*" was sent to end a failed exchange (RFC 4954 §4); its reply is awaited.
        case cancellingAuthentication(ClientError)
        case ready
        case transaction
        case sendingMessage
        case quitting
        case closed
    }

    /// What a transaction waits for, oldest first.
    private enum Expected: Sendable, Hashable {
        case rset
        case mail
        case rcpt(Int)
        case data
        case endOfData
        case bdat

        var step: ClientError.Step {
            switch self {
            case .rset: return .rset
            case .mail: return .mail
            case .rcpt: return .rcpt
            case .data: return .data
            case .endOfData: return .endOfData
            case .bdat: return .bdat
            }
        }
    }

    private struct Transaction: Sendable {
        var recipients: [ForwardPath]
        var outcomes: [RecipientResult.Outcome?]
        /// Indexes of recipients the server accepted with RCPT.
        var accepted: [Int] = []
        /// With pipelining the replies after a failed MAIL answer commands the server
        /// never took up; the MAIL error is what every recipient gets.
        var mailError: ClientError?
        var size: Int
        var useBDAT: Bool
        var expected: [Expected] = []
        /// Without pipelining, the commands still to send, one per reply.
        var unsent: [(command: Command, expected: Expected)] = []
        /// The content was sent (or an empty message after a 354 without recipients).
        var contentStarted = false
        /// "." was sent after a 354 although no recipient was accepted (RFC 2920 §3.1);
        /// its reply decides nothing.
        var finalReplyIgnored = false
    }

    public let configuration: ClientConfiguration
    private var phase = Phase.notStarted
    private var reader: ReplyReader
    private var triedSTARTTLS = false
    private var transactionCount = 0
    private var transaction: Transaction?

    /// The server's greeting (RFC 5321 §4.3.1).
    public private(set) var greeting: Reply?
    /// What the last EHLO announced; none after HELO.
    public private(set) var extensions = ServiceExtensions()
    public private(set) var tls: TLSConnectionState?
    public private(set) var authenticatedMechanism: SASLMechanism?
    /// Why the session ended, when an error ended it.
    public private(set) var closingError: ClientError?
    /// Plaintext octets that arrived between the 220 to STARTTLS and the end of the
    /// handshake and were dropped (RFC 3207 §6: never read as if they came over TLS).
    public private(set) var discardedPlaintextOctets = 0

    public init(configuration: ClientConfiguration) {
        self.configuration = configuration
        reader = ReplyReader(limits: configuration.replyLimits)
    }

    public var isClosed: Bool {
        if case .closed = phase { return true }
        return false
    }

    public var isReady: Bool {
        if case .ready = phase { return true }
        return false
    }

    /// How long to wait for the next input, nil when the session waits for none (idle,
    /// closed, or while the adapter sends the message).
    public var inputTimeout: Duration? {
        let timeouts = configuration.timeouts
        switch phase {
        case .notStarted, .ready, .sendingMessage, .closed: return nil
        case .tlsHandshake: return timeouts.tlsHandshake
        case .greeting: return timeouts.greeting
        case .ehlo, .helo, .startTLS, .authenticating, .cancellingAuthentication: return timeouts.command
        case .quitting: return timeouts.quit
        case .transaction:
            switch transaction?.expected.first {
            case nil: return nil
            case .rset: return timeouts.command
            case .mail: return timeouts.mail
            case .rcpt: return timeouts.rcpt
            case .data: return timeouts.dataInitiation
            case .endOfData, .bdat: return timeouts.dataTermination
            }
        }
    }

    /// The command (or stage) that an error now would belong to.
    private var currentStep: ClientError.Step {
        switch phase {
        case .notStarted: return .connect
        case .tlsHandshake: return .tlsHandshake
        case .greeting: return .greeting
        case .ehlo: return .ehlo
        case .helo: return .helo
        case .startTLS: return .startTLS
        case .authenticating, .cancellingAuthentication: return .auth
        case .ready: return .mail
        case .transaction, .sendingMessage: return transaction?.expected.first?.step ?? .mail
        case .quitting, .closed: return .quit
        }
    }

    // MARK: - Events

    /// The connection is up. With implicit TLS (RFC 8314 §3.3) the handshake comes first;
    /// otherwise the server speaks first (RFC 5321 §3.1).
    public mutating func start() -> [Action] {
        guard case .notStarted = phase else { return [] }
        if configuration.tls.implicitTLS {
            phase = .tlsHandshake(implicit: true)
            return [.startTLS]
        }
        phase = .greeting
        return []
    }

    /// Octets from the server.
    public mutating func received(_ bytes: some Collection<UInt8>) -> [Action] {
        switch phase {
        case .notStarted, .closed:
            return []
        case .tlsHandshake:
            // Plaintext before the handshake ended: an attacker's injection (RFC 3207 §6).
            discardedPlaintextOctets += bytes.count
            return []
        default:
            break
        }
        reader.append(bytes)
        var actions: [Action] = []
        while !isClosed {
            let reply: Reply?
            do {
                reply = try reader.next()
            } catch {
                return actions + failSession(ClientError(
                    step: currentStep, kind: .protocolViolation, enhanced: EnhancedStatus(4, 5, 0), text: error.description,
                    isPermanent: false))
            }
            guard let reply else { break }
            actions += handle(reply)
            if case .tlsHandshake = phase {
                discardedPlaintextOctets += reader.discardBuffered()
                break
            }
        }
        return actions
    }

    /// The TLS handshake completed. After STARTTLS the client forgets what it learned and
    /// says EHLO again (RFC 3207 §4.2); after implicit TLS the greeting comes next.
    public mutating func tlsEstablished(_ state: TLSConnectionState) -> [Action] {
        guard case let .tlsHandshake(implicit) = phase else { return [] }
        tls = state
        if implicit {
            phase = .greeting
            return []
        }
        extensions = ServiceExtensions()
        phase = .ehlo
        return [.write(Command.ehlo(configuration.localHostname).encoded)]
    }

    /// The handshake failed, or TLS failed later (e.g. an alert on the first read after the
    /// handshake, when the server refused our certificate).
    public mutating func tlsFailed(_ failure: TLSFailure) -> [Action] {
        guard !isClosed else { return [] }
        return failSession(ClientError(
            step: currentStep, kind: .tls, enhanced: EnhancedStatus(4, 7, 0), text: failure.text, isPermanent: false,
            tlsFailure: TLSSessionFailure(failure)))
    }

    /// `inputTimeout` passed without input (RFC 5321 §4.5.3.2).
    public mutating func timedOut() -> [Action] {
        if case .quitting = phase { return closeQuietly() }
        guard !isClosed else { return [] }
        let within = inputTimeout.map { " within \($0)" } ?? ""
        return failSession(ClientError(
            step: currentStep, kind: .timeout, enhanced: EnhancedStatus(4, 4, 2), text: "no reply\(within)", isPermanent: false))
    }

    /// The server closed the connection.
    public mutating func connectionClosed() -> [Action] {
        connectionFailed("connection closed by the server")
    }

    /// Reading or writing failed.
    public mutating func connectionFailed(_ reason: String) -> [Action] {
        if case .quitting = phase { return closeQuietly() }
        guard !isClosed else { return [] }
        // A connection lost during the handshake is a failed handshake: a server that
        // offers STARTTLS and cannot do it (RFC 7672 §2.2 lets opportunistic TLS retry
        // in plaintext then).
        if case .tlsHandshake = phase {
            return failSession(ClientError(
                step: .tlsHandshake, kind: .tls, enhanced: EnhancedStatus(4, 7, 0), text: "TLS failed: \(reason)", isPermanent: false,
                tlsFailure: TLSSessionFailure(resultType: .validationFailure, reason: .eof, detail: reason)))
        }
        return failSession(ClientError(
            step: currentStep, kind: .connection, enhanced: EnhancedStatus(4, 4, 2), text: reason, isPermanent: false))
    }

    // MARK: - Requests

    /// Starts a transaction for one message (RFC 5321 §3.3). Checks first what the message
    /// needs from the server, so nothing is sent that must fail.
    public mutating func deliver(_ envelope: OutboundEnvelope) -> [Action] {
        guard isReady else {
            let error = closingError ?? ClientError(
                step: .mail, kind: .connection, enhanced: EnhancedStatus(4, 4, 2), text: "the session is not ready for a transaction",
                isPermanent: false)
            return [.completed(Self.result(envelope.recipients, allFailed: error))]
        }
        guard !envelope.recipients.isEmpty else { return [.completed(TransactionResult(recipients: []))] }

        let sender = Self.withASCIIDomain(envelope.sender)
        let recipients = envelope.recipients.map(Self.withASCIIDomain)
        guard Self.isWritable(sender.description) else {
            return [.completed(Self.result(envelope.recipients, allFailed: ClientError(
                step: .mail, kind: .invalidAddress, enhanced: .badSenderSyntax, text: "sender address has control characters",
                isPermanent: true)))]
        }
        let outcomes: [RecipientResult.Outcome?] = recipients.map { recipient in
            Self.isWritable(recipient.description) ? nil : .failed(ClientError(
                step: .rcpt, kind: .invalidAddress, enhanced: .badMailboxSyntax, text: "recipient address has control characters",
                isPermanent: true))
        }
        let addressesNeedUTF8 = !([sender.description] + recipients.map(\.description)).allSatisfy { $0.unicodeScalars.allSatisfy(\.isASCII) }
        if let refusal = refusal(envelope, addressesNeedUTF8: addressesNeedUTF8) {
            return [.completed(Self.result(envelope.recipients, allFailed: refusal))]
        }

        var parameters = MailParameters()
        if extensions.maxMessageSize != nil { parameters.size = envelope.size }
        switch envelope.body {
        case .sevenBit: break
        case .eightBitMIME, .binaryMIME: parameters.body = envelope.body
        }
        parameters.smtputf8 = envelope.utf8Header || addressesNeedUTF8
        // RFC 8689 §5: a bounce (null sender) goes on without REQUIRETLS when the server
        // lacks it, so the parameter is given only where offered.
        parameters.requireTLS = envelope.requireTLS && extensions.requireTLS

        guard outcomes.contains(where: { $0 == nil }) else {
            return [.completed(TransactionResult(recipients: zip(envelope.recipients, outcomes).compactMap { recipient, outcome in
                outcome.map { RecipientResult(recipient: recipient, outcome: $0) }
            }))]
        }
        var commands: [(command: Command, expected: Expected)] = []
        // A server that refused part of the previous transaction may still hold its
        // state; RSET makes every transaction on a reused connection start clean.
        if transactionCount > 0 { commands.append((.rset, .rset)) }
        commands.append((.mail(sender, parameters), .mail))
        for (index, recipient) in recipients.enumerated() where outcomes[index] == nil {
            commands.append((.rcpt(recipient, RecipientParameters()), .rcpt(index)))
        }
        // BINARYMIME can only go with BDAT (RFC 3030 §3); `refusal` checked CHUNKING.
        let useBDAT = (extensions.chunking && configuration.useChunking) || envelope.body == .binaryMIME
        if !useBDAT { commands.append((.data, .data)) }

        transactionCount += 1
        var state = Transaction(recipients: envelope.recipients, outcomes: outcomes, size: envelope.size, useBDAT: useBDAT)
        phase = .transaction
        let write: [UInt8]
        if extensions.pipelining {
            // RFC 2920 §3.1: RSET, MAIL and RCPT anywhere in a group, DATA only last.
            state.expected = commands.map(\.expected)
            write = commands.flatMap(\.command.encoded)
        } else {
            state.expected = [commands[0].expected]
            state.unsent = Array(commands.dropFirst())
            write = commands[0].command.encoded
        }
        transaction = state
        return [.write(write)]
    }

    /// The adapter sent the whole message content.
    public mutating func messageSent() -> [Action] {
        guard case .sendingMessage = phase else { return [] }
        phase = .transaction
        return []
    }

    /// Ends the session politely (RFC 5321 §4.1.1.10) when idle; otherwise just closes.
    public mutating func quit() -> [Action] {
        switch phase {
        case .closed:
            return []
        case .ready:
            phase = .quitting
            return [.write(Command.quit.encoded)]
        default:
            return closeQuietly()
        }
    }

    // MARK: - Replies

    private mutating func handle(_ reply: Reply) -> [Action] {
        switch phase {
        case .notStarted, .tlsHandshake, .closed:
            return []
        case .greeting:
            greeting = reply
            // RFC 5321 §3.1: 554 (or any other refusal) instead of 220: no service here;
            // the client should still say QUIT.
            guard reply.code == 220 else { return failSession(ClientError(step: .greeting, reply: reply), quit: reply.code != 421) }
            phase = .ehlo
            return [.write(Command.ehlo(configuration.localHostname).encoded)]
        case .ehlo:
            if reply.code == 250 {
                extensions = ServiceExtensions(ehloReply: reply)
                return afterHello()
            }
            // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
            if reply.isPermanent {
                phase = .helo
                return [.write(Command.helo(configuration.localHostname).encoded)]
            }
            return failSession(ClientError(step: .ehlo, reply: reply), quit: reply.code != 421)
        case .helo:
            guard reply.code == 250 else { return failSession(ClientError(step: .helo, reply: reply), quit: reply.code != 421) }
            extensions = ServiceExtensions()
            return afterHello()
        case .startTLS:
            triedSTARTTLS = true
            if reply.code == 220 {
                phase = .tlsHandshake(implicit: false)
                return [.startTLS]
            }
            if reply.code == 421 { return failSession(ClientError(step: .startTLS, reply: reply)) }
            if configuration.tls.required {
                var error = ClientError(step: .startTLS, reply: reply)
                error.kind = .tls
                error.tlsFailure = TLSSessionFailure(
                    resultType: .starttlsNotSupported, reason: .startTLSRefused, detail: "STARTTLS answered \(reply.code) \(error.text)")
                // RFC 7672 §2.2, RFC 8461 §5: a TLS failure defers delivery.
                error.isPermanent = false
                return failSession(error, quit: true)
            }
            // RFC 3207 §4 (454 and the like): the client decides; opportunistic TLS goes on
            // in plaintext.
            return afterTLSDecision()
        case let .authenticating(client):
            return authenticationReply(reply, client)
        case let .cancellingAuthentication(error):
            return failSession(error, quit: reply.code != 421)
        case .ready:
            // Nothing was asked: a server that is closing (421), or one out of step.
            if reply.code == 421 { return failSession(ClientError(step: .mail, reply: reply), quit: false) }
            return failSession(ClientError(
                step: .mail, kind: .protocolViolation, code: reply.code, enhanced: EnhancedStatus(4, 5, 0),
                text: "unexpected reply: \(reply.lines.joined(separator: " "))", isPermanent: false))
        case .transaction, .sendingMessage:
            return transactionReply(reply)
        case .quitting:
            return closeQuietly()
        }
    }

    /// After EHLO/HELO: STARTTLS if wanted, then authentication, then ready.
    private mutating func afterHello() -> [Action] {
        let settings = configuration.tls
        if tls == nil, !triedSTARTTLS, settings.useSTARTTLS || settings.required {
            if extensions.startTLS {
                phase = .startTLS
                return [.write(Command.startTLS.encoded)]
            }
            if settings.required {
                return failSession(
                    ClientError(
                        step: .startTLS, kind: .tls, enhanced: EnhancedStatus(4, 7, 10),
                        text: "TLS is required and the server does not offer STARTTLS", isPermanent: false,
                        tlsFailure: TLSSessionFailure(
                            resultType: .starttlsNotSupported, reason: .startTLSNotOffered, detail: "STARTTLS not offered")),
                    quit: true)
            }
        }
        return afterTLSDecision()
    }

    private mutating func afterTLSDecision() -> [Action] {
        guard let authentication = configuration.authentication else { return becomeReady() }
        return startAuthentication(authentication)
    }

    private mutating func becomeReady() -> [Action] {
        phase = .ready
        return [.ready]
    }

    // MARK: - AUTH (RFC 4954)

    private mutating func startAuthentication(_ authentication: ClientAuthentication) -> [Action] {
        let advertised = extensions.authMechanisms
        guard !advertised.isEmpty else {
            return failSession(authenticationError("the server offers no AUTH"), quit: true)
        }
        let options = SASLClientOptions(
            tlsActive: tls != nil, channelBinding: tls?.channelBinding, allowPlaintextWithoutTLS: authentication.allowPlaintextWithoutTLS,
            mechanism: authentication.mechanism, allowedMechanisms: authentication.allowedMechanisms)
        let nonce = configuration.makeNonce()
        var client: SASLClient
        do {
            client = try SASLClient(advertised: advertised, credentials: authentication.credentials, options: options, nonce: nonce)
        } catch {
            return failSession(authenticationError("cannot authenticate with \(advertised.joined(separator: " ")): \(error)"), quit: true)
        }
        let initial = client.start(initialResponseAllowed: true)
        var command = Command.auth(mechanism: client.mechanism.name, initialResponse: initial.map { SASLBase64.encode($0) })
        // RFC 4954 §4: an initial response that would make the line longer than the SMTP
        // limit (512 octets, RFC 5321 §4.5.3.1.4) waits for the server's empty challenge.
        if command.encoded.count > 512 {
            do {
                client = try SASLClient(advertised: advertised, credentials: authentication.credentials, options: options, nonce: nonce)
            } catch {
                return failSession(authenticationError("cannot authenticate: \(error)"), quit: true)
            }
            _ = client.start(initialResponseAllowed: false)
            command = .auth(mechanism: client.mechanism.name, initialResponse: nil)
        }
        phase = .authenticating(client)
        return [.write(command.encoded)]
    }

    private mutating func authenticationReply(_ reply: Reply, _ client: SASLClient) -> [Action] {
        var client = client
        switch reply.code {
        case 334:
            // RFC 4954 §4: the challenge is the base64 text of the 334 reply.
            guard let challenge = SASLBase64.decode(reply.lines.first ?? "") else {
                return cancelAuthentication(authenticationError("the server's challenge is not base64"))
            }
            switch client.receive(challenge: challenge) {
            case let .respond(response):
                phase = .authenticating(client)
                return [.write(Array((SASLBase64.encode(response) + "\r\n").utf8))]
            case let .failure(failure):
                return cancelAuthentication(authenticationError("\(client.mechanism): \(failure)"))
            case .success:
                // `receive` answers every challenge with a response or a failure.
                return cancelAuthentication(authenticationError("\(client.mechanism): success before the outcome"))
            }
        case 235:
            switch client.receiveSuccess() {
            case .success:
                authenticatedMechanism = client.mechanism
                return becomeReady()
            case let .failure(failure):
                // RFC 5802 §5: a server that did not prove it knows the keys is not trusted,
                // whatever it says.
                return failSession(authenticationError("\(client.mechanism): \(failure)"), quit: true)
            case .respond:
                return failSession(authenticationError("\(client.mechanism): exchange not finished at 235"), quit: true)
            }
        default:
            return failSession(ClientError(step: .auth, reply: reply), quit: reply.code != 421)
        }
    }

    /// RFC 4954 §4: "*" ends the exchange; the server answers 501.
    private mutating func cancelAuthentication(_ error: ClientError) -> [Action] {
        phase = .cancellingAuthentication(error)
        return [.write(Array("*\r\n".utf8))]
    }

    private func authenticationError(_ text: String) -> ClientError {
        // RFC 3463 §3.9 X.7.4: security features not supported / not usable.
        ClientError(step: .auth, kind: .authentication, enhanced: EnhancedStatus(5, 7, 4), text: text, isPermanent: true)
    }

    // MARK: - Transactions

    /// What the server lacks for this message, found before sending anything.
    private func refusal(_ envelope: OutboundEnvelope, addressesNeedUTF8: Bool) -> ClientError? {
        if envelope.requireTLS, envelope.sender != .null {
            // RFC 8689 §4.2.1 steps 4 and 5, with its status codes.
            guard let tls, tls.isVerified else {
                return ClientError(
                    step: .mail, kind: .tls, enhanced: EnhancedStatus(5, 7, 10),
                    text: "REQUIRETLS: " + (tls == nil ? "no TLS on this connection" : "the server's certificate is not verified"),
                    isPermanent: true)
            }
            guard extensions.requireTLS else {
                return ClientError(
                    step: .mail, kind: .unsupportedByServer, enhanced: .requireTLSRequired,
                    text: "REQUIRETLS: the server does not offer REQUIRETLS", isPermanent: true)
            }
        }
        if let limit = extensions.maxMessageSize, limit > 0, envelope.size > limit {
            // RFC 1870 §6: a message over the announced SIZE is not sent.
            return ClientError(
                step: .mail, kind: .unsupportedByServer, enhanced: .messageTooBig,
                text: "message of \(envelope.size) octets exceeds the server's SIZE limit of \(limit)", isPermanent: true)
        }
        // The rest is temporary: a filtering front server may hide extensions that the
        // real server has, and another host of the destination may offer them.
        switch envelope.body {
        case .eightBitMIME where !extensions.eightBitMIME:
            return ClientError(
                step: .mail, kind: .unsupportedByServer, enhanced: EnhancedStatus(4, 6, 3),
                text: "message has 8-bit content and the server does not offer 8BITMIME (RFC 6152)", isPermanent: false)
        case .binaryMIME where !(extensions.binaryMIME && extensions.chunking):
            return ClientError(
                step: .mail, kind: .unsupportedByServer, enhanced: EnhancedStatus(4, 6, 3),
                text: "message has binary content and the server does not offer BINARYMIME with CHUNKING (RFC 3030)",
                isPermanent: false)
        default:
            break
        }
        if (envelope.utf8Header || addressesNeedUTF8), !extensions.smtpUTF8 {
            // RFC 6531 §3.7.4: X.6.7 for addresses, X.6.9 for a UTF-8 header.
            return ClientError(
                step: .mail, kind: .unsupportedByServer, enhanced: EnhancedStatus(4, 6, addressesNeedUTF8 ? 7 : 9),
                text: "message needs SMTPUTF8 (RFC 6531) for its \(addressesNeedUTF8 ? "addresses" : "header") and the server does not offer it",
                isPermanent: false)
        }
        return nil
    }

    private mutating func transactionReply(_ reply: Reply) -> [Action] {
        guard var state = transaction, !state.expected.isEmpty else {
            return failSession(ClientError(
                step: currentStep, kind: .protocolViolation, code: reply.code, enhanced: EnhancedStatus(4, 5, 0),
                text: "unexpected reply: \(reply.lines.joined(separator: " "))", isPermanent: false))
        }
        let expected = state.expected.removeFirst()
        if reply.code == 421 {
            // RFC 5321 §3.8: the server is closing the connection; no more replies come.
            transaction = state
            return failSession(ClientError(step: expected.step, reply: reply))
        }
        var actions: [Action] = []
        switch expected {
        case .rset:
            guard reply.code / 100 == 2 else {
                transaction = state
                return failSession(ClientError(step: .rset, reply: reply), quit: true)
            }
        case .mail:
            if reply.code / 100 != 2 { state.mailError = ClientError(step: .mail, reply: reply) }
        case let .rcpt(index):
            // RFC 5321 §3.3, §3.4: 250 and 251 accept; anything else refuses this one.
            if state.mailError == nil {
                if reply.code / 100 == 2 {
                    state.accepted.append(index)
                } else {
                    state.outcomes[index] = .failed(ClientError(step: .rcpt, reply: reply))
                }
            }
        case .data:
            if reply.code == 354 {
                state.contentStarted = true
                state.expected = [.endOfData]
                if state.mailError != nil || state.accepted.isEmpty {
                    // RFC 2920 §3.1: DATA accepted without recipients; a single dot ends
                    // the empty message, which the server must not deliver (§3.2 item 4).
                    state.finalReplyIgnored = true
                    actions.append(.write(Array(".\r\n".utf8)))
                } else {
                    phase = .sendingMessage
                    actions.append(.sendMessage(.dotStuffed))
                }
            } else {
                let error = ClientError(step: .data, reply: reply)
                for index in state.accepted { state.outcomes[index] = .failed(error) }
                state.accepted = []
            }
        case .endOfData, .bdat:
            if !state.finalReplyIgnored {
                let outcome: RecipientResult.Outcome = reply.code / 100 == 2 ? .delivered(reply) : .failed(ClientError(step: expected.step, reply: reply))
                for index in state.accepted { state.outcomes[index] = outcome }
                state.accepted = []
            }
        }
        guard state.expected.isEmpty else {
            transaction = state
            return actions
        }
        // Without pipelining: the next command, unless the transaction is decided.
        if state.mailError == nil, !state.unsent.isEmpty {
            let next = state.unsent.removeFirst()
            if next.expected != .data || !state.accepted.isEmpty {
                state.expected = [next.expected]
                transaction = state
                return actions + [.write(next.command.encoded)]
            }
        }
        // BDAT after the envelope: RFC 3030 §4.2 would allow it in the pipeline, but the
        // message is sent only once some recipient is known to be accepted.
        if state.useBDAT, !state.contentStarted, state.mailError == nil, !state.accepted.isEmpty {
            state.contentStarted = true
            state.expected = [.bdat]
            transaction = state
            phase = .sendingMessage
            return actions + [.write(Command.bdat(size: state.size, last: true).encoded), .sendMessage(.raw)]
        }
        transaction = state
        let result = finishTransaction(undecided: ClientError(
            step: expected.step, kind: .protocolViolation, enhanced: EnhancedStatus(4, 5, 0), text: "transaction ended without a reply",
            isPermanent: false))
        phase = .ready
        return actions + [.completed(result)]
    }

    /// The result of the current transaction: each recipient's own outcome, the MAIL error
    /// where MAIL failed, or `undecided` for those the transaction did not get to.
    private mutating func finishTransaction(undecided: ClientError) -> TransactionResult {
        guard let state = transaction else { return TransactionResult(recipients: []) }
        transaction = nil
        let fallback = state.mailError ?? undecided
        return TransactionResult(recipients: state.recipients.indices.map { index in
            RecipientResult(recipient: state.recipients[index], outcome: state.outcomes[index] ?? .failed(fallback))
        })
    }

    private static func result(_ recipients: [ForwardPath], allFailed error: ClientError) -> TransactionResult {
        TransactionResult(recipients: recipients.map { RecipientResult(recipient: $0, outcome: .failed(error)) })
    }

    // MARK: - Ending

    /// Ends the session after `error`: a running transaction completes with it for every
    /// recipient still open, setup reports it. With `quit`, the connection is still in step
    /// and QUIT is said first (RFC 5321 §4.1.1.10); otherwise it is closed at once.
    private mutating func failSession(_ error: ClientError, quit: Bool = false) -> [Action] {
        var actions: [Action] = []
        if transaction != nil {
            actions.append(.completed(finishTransaction(undecided: error)))
        } else {
            actions.append(.failed(error))
        }
        closingError = error
        if quit {
            phase = .quitting
            actions.append(.write(Command.quit.encoded))
        } else {
            phase = .closed
            actions.append(.close)
        }
        return actions
    }

    private mutating func closeQuietly() -> [Action] {
        phase = .closed
        return [.close]
    }

    // MARK: - Addresses

    /// An internationalized domain in its A-label form (RFC 5890), so the address needs
    /// SMTPUTF8 only for a non-ASCII local part (RFC 6531 §3.2).
    static func withASCIIDomain(_ path: ReversePath) -> ReversePath {
        guard case let .mailbox(mailbox) = path else { return path }
        return .mailbox(withASCIIDomain(mailbox))
    }

    static func withASCIIDomain(_ path: ForwardPath) -> ForwardPath {
        guard case let .mailbox(mailbox) = path else { return path }
        return .mailbox(withASCIIDomain(mailbox))
    }

    private static func withASCIIDomain(_ mailbox: Mailbox) -> Mailbox {
        guard !mailbox.domain.unicodeScalars.allSatisfy(\.isASCII), let domain = try? Domain(mailbox.domain) else { return mailbox }
        return Mailbox(localPart: mailbox.localPart, domain: domain.ascii)
    }

    /// No CR, LF or other control character, which would end or corrupt the command line.
    static func isWritable(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}
