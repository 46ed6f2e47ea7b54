#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DKIM
import DNS
import DurableFiles
import Foundation
import Logging
import Message
import NIOCore
import NIOSSL
import SASL
import ServerSupport
import SMTP
import Store
import Synchronization

/// Stores a received message durably. The session answers 250 only after `deliver` returns
/// `.delivered`, so an implementation must have the message on disk (fsynced, committed) by
/// then (DESIGN.md: durability).
public protocol MessageDeliverer: Sendable {
    /// `messageFile` holds the whole message (trace fields first) in the temporary
    /// directory; the deliverer takes it over (links or moves it, or removes it).
    func deliver(messageFile: String, envelope: Envelope) async -> Session.DeliveryResult
}

/// Everything a connection needs besides its socket.
public struct ConnectionSettings: Sendable {
    public var session: Session.Settings
    /// For STARTTLS, or for the whole connection when `session.implicitTLS`.
    public var tls: NIOSSLContext?
    /// RFC 5321 §4.5.3.1.4 allows 512 octets for a command line, but RFC 4954 §4 raises it
    /// to 12288 for AUTH, and SMTPUTF8 paths are longer in octets.
    public var maxLineLength = 12_288
    /// RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for a command.
    public var commandTimeout = TimeAmount.minutes(5)
    /// RFC 5321 §4.5.3.2.5/.6: and a while for each block of DATA.
    public var dataTimeout = TimeAmount.minutes(5)
    /// A TLS handshake that has not finished by then ends the connection.
    public var tlsHandshakeTimeout = TimeAmount.minutes(1)
    /// Where messages are written while they arrive (the store's tmp directory).
    public var temporaryDirectory: String
    /// The verdicts on mail from other servers (SPF, iprev, ...) and the Authentication-Results
    /// field they give; nil: none (localserve, tests).
    public var analysis: IncomingAnalysis?
    /// The DKIM keys submitted messages are signed with, by the From domain; nil: none
    /// (unsigned).
    public var signing: OutgoingSigning?
    /// AUTH on this listener (submission); nil: no AUTH.
    public var authentication: Authentication? {
        didSet { session.authMechanisms = authentication?.mechanisms.map(\.name) ?? [] }
    }

    public init(session: Session.Settings, temporaryDirectory: String) {
        self.session = session
        self.temporaryDirectory = temporaryDirectory
    }
}

/// One SMTP connection: reads lines and message octets, feeds the `Session`, carries out
/// its actions. All protocol decisions are the session's.
struct Connection {
    let channel: NIOAsyncChannel<ConnectionInput, ByteBuffer>
    let gate: ConnectionGate
    let settings: ConnectionSettings
    let policy: any SessionPolicy
    let routing: Routing
    let remoteAddress: String
    let logger: Logger
    let metrics: SMTPMetrics
    let now: @Sendable () -> Date
    let makeID: @Sendable () -> String

    func run() async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                let connection = ConnectionState(
                    session: Session(settings: settings.session, policy: policy, now: now),
                    io: ConnectionIO(iterator: inbound.makeAsyncIterator(), outbound: outbound))
                // Each step runs in a short-lived child task, so that the memory of its
                // deepest calls is freed when it ends (ServerSupport's inShortLivedTask):
                // an idle connection keeps only this loop's frames.
                try await inShortLivedTask(connection) { try await self.perform($0.session.start(), $0) }
                while !connection.session.isClosed {
                    let event = try await connection.io.nextLine(maxLength: settings.maxLineLength)
                    if case .endOfInput = event { return }
                    try await inShortLivedTask(connection) { try await self.handle(event, $0) }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// One event read while waiting for a command.
    private func handle(_ event: ConnectionIO.Event, _ connection: ConnectionState) async throws {
        switch event {
        case .endOfInput: return
        case let .line(line): try await perform(connection.session.received(line: line), connection)
        case .tooLong: try await perform(connection.session.lineTooLong(), connection)
        case .timeout: try await perform(connection.session.timedOut(), connection)
        case let .tls(version, cipher):
            // Implicit TLS: the handshake ends after the greeting went out.
            connection.transport.tlsVersion = version
            connection.transport.cipher = cipher
            try await noteChannelBinding(connection)
        }
    }

    /// What one connection's steps share: they run one at a time, each in its own child
    /// task, hence a class.
    final class ConnectionState {
        var session: Session
        var io: ConnectionIO
        var transport = TransportState()

        init(session: Session, io: ConnectionIO) {
            self.session = session
            self.io = io
        }
    }

    struct TransportState {
        var tlsVersion: String?
        var cipher: String?
        /// For SCRAM-*-PLUS, when the context captures the key log: tls-exporter (RFC 9266)
        /// on TLS 1.3, tls-unique (RFC 5929) on TLS 1.2.
        var channelBinding: ChannelBinding?
        var messageFile: MessageFile?
        /// Octets of trace fields at the start of `messageFile`.
        var traceLength = 0
        /// The incoming analysis of the current transaction, started when its message starts
        /// to arrive, so the DNS lookups overlap with the transfer.
        var verdict: Task<(IncomingAnalysis.Input, IncomingAnalysis.TransactionVerdict), Never>?
    }

    private func perform(_ actions: [Session.Action], _ connection: ConnectionState) async throws {
        for action in actions {
            switch action {
            case let .reply(reply):
                if reply.code >= 400, let status = reply.enhanced { metrics.countRejection(status) }
                connection.io.queue(reply)
            case .close:
                try await connection.io.flush()
                return
            case .startTLS:
                // The 220 goes out with the TLS handler's installation (ConnectionGate).
                try await startTLS(connection)
            case let .readData(limit):
                try await connection.io.flush()
                let file = try createMessageFile(connection)
                gate.setTimeout(settings.dataTimeout, on: channel.channel)
                let outcome = try await connection.io.readData(limit: limit, into: file)
                gate.setTimeout(settings.commandTimeout, on: channel.channel)
                switch outcome {
                case let .complete(size, exceeded):
                    try await perform(connection.session.dataRead(size: size, exceededLimit: exceeded), connection)
                case .interrupted:
                    try await perform(connection.session.timedOut(), connection)
                }
            case let .readChunk(size, discard):
                try await connection.io.flush()
                if !discard, connection.transport.messageFile == nil { _ = try createMessageFile(connection) }
                switch try await connection.io.readChunk(size: size, into: discard ? nil : connection.transport.messageFile) {
                case .complete: try await perform(connection.session.chunkRead(), connection)
                case .interrupted: try await perform(connection.session.timedOut(), connection)
                }
            case let .authenticate(name, initialResponse):
                try await authenticate(name, initialResponse, connection)
            case .authResponse:
                // Responses are consumed inside `authenticate`; one here has no exchange.
                try await perform(connection.session.authFailed(), connection)
            case let .deliver(envelope):
                try await connection.io.flush()
                guard let file = connection.transport.messageFile else {
                    try await perform(connection.session.delivered(.temporaryFailure("message file missing")), connection)
                    continue
                }
                connection.transport.messageFile = nil
                file.close()
                var envelope = envelope
                if envelope.kind == .submission, let account = envelope.authenticatedAccount {
                    var refusal: Reply?
                    var authorDomains: [String] = []
                    do {
                        switch try Submission.prepare(
                            path: file.path, traceLength: connection.transport.traceLength, account: account, policy: policy,
                            hostname: settings.session.hostname, now: now(), makeID: makeID)
                        {
                        case let .accepted(ignoreTLSPolicy, domains):
                            // RFC 8689 §5: with REQUIRETLS the header field is ignored.
                            envelope.ignoreTLSPolicy = ignoreTLSPolicy && !envelope.parameters.requireTLS
                            authorDomains = domains
                        case let .refused(reply):
                            refusal = reply
                        }
                    } catch {
                        logger.error("preparing a submitted message failed", metadata: ["error": "\(error)"])
                        refusal = Reply(451, .systemError, "temporary failure: the message could not be read back")
                    }
                    if let refusal {
                        file.remove()
                        metrics.countDelivery(.rejected(refusal))
                        try await perform(connection.session.delivered(.rejected(refusal)), connection)
                        continue
                    }
                    // Every submitted message, local recipients included: it leaves the
                    // author's domain as it is now, whoever reads it.
                    if let failure = await sign(file, authorDomains: authorDomains, connection) {
                        file.remove()
                        metrics.countDelivery(.temporaryFailure(failure))
                        try await perform(connection.session.delivered(.temporaryFailure(failure)), connection)
                        continue
                    }
                }
                let transaction = connection.transport.verdict
                connection.transport.verdict = nil
                if let transaction, let analysis = settings.analysis {
                    let (input, verdict) = await transaction.value
                    var refusal: Session.DeliveryResult?
                    switch await finishAnalysis(verdict, input: input, file: file, analysis: analysis, connection) {
                    case let .failure(failure): refusal = .temporaryFailure(failure.reason)
                    case .success(.reject(let reply)): refusal = .rejected(reply)
                    case let .success(.deliverInto(mailbox)):
                        // DMARC quarantine (Junk), or an operator's exception to a reject.
                        envelope.recipients = envelope.recipients.map { recipient in
                            var redirected = recipient
                            redirected.mailbox = mailbox
                            return redirected
                        }
                    case .success(.deliver): break
                    }
                    if let refusal {
                        file.remove()
                        metrics.countDelivery(refusal)
                        try await perform(connection.session.delivered(refusal), connection)
                        continue
                    }
                }
                let result = await routing.deliver(messageFile: file.path, envelope: envelope)
                metrics.countDelivery(result)
                var metadata = result.logMetadata
                metadata["size"] = "\(envelope.size)"
                metadata["recipients"] = "\(envelope.recipients.count)"
                metadata["remote"] = "\(envelope.remoteRecipients.count)"
                logger.info("message received", metadata: metadata)
                try await perform(connection.session.delivered(result), connection)
            }
        }
        // RFC 2920: replies to a pipelined group go out together, once no further command
        // is already waiting.
        if !connection.io.hasCompleteLine { try await connection.io.flush() }
        if connection.session.isClosed {
            connection.transport.messageFile?.remove()
            connection.transport.messageFile = nil
        }
    }

    /// Starts the incoming analysis of mail from another server (SMTP, no AUTH) for
    /// `envelope`; nil for other mail or without an analysis.
    private func startAnalysis(_ envelope: Envelope) -> Task<(IncomingAnalysis.Input, IncomingAnalysis.TransactionVerdict), Never>? {
        guard envelope.kind == .incoming, envelope.authenticatedAccount == nil, let analysis = settings.analysis,
              let address = IPAddress(remoteAddress)
        else { return nil }
        let recipientDomain = envelope.recipients.first.flatMap { recipient -> String? in
            if case let .mailbox(mailbox) = recipient.address { mailbox.domain } else { nil }
        }
        let input = IncomingAnalysis.Input(
            clientAddress: address, clientName: envelope.clientName, sender: envelope.sender, recipientDomain: recipientDomain)
        return Task { (input, await analysis.checkTransaction(input)) }
    }

    /// Checks the message (DKIM, DMARC) on top of the transaction's verdicts and prepends
    /// the fields they give to the message file, removing Authentication-Results fields that
    /// claim to be this host's (RFC 8601 §5). Fails with why the message cannot be taken now.
    private func finishAnalysis(
        _ transaction: IncomingAnalysis.TransactionVerdict, input: IncomingAnalysis.Input, file: MessageFile, analysis: IncomingAnalysis,
        _ connection: ConnectionState
    ) async -> Result<IncomingAnalysis.Disposition, AnalysisFailure> {
        let path = file.path
        let traceLength = connection.transport.traceLength
        do {
            // Reading the whole file: off the connection's event loop.
            let message = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                Array(try Data(contentsOf: URL(fileURLWithPath: path)).dropFirst(traceLength))
            }
            let verdict = await analysis.checkMessage(message, transaction: transaction, input: input)
            for result in verdict.authenticationResults.results { metrics.countVerdict(method: result.method, result: result.result) }
            logger.info("message analyzed", metadata: [
                "iprev": "\(verdict.iprev.status.rawValue)", "spf": "\(verdict.spf.result)", "spfdomain": "\(verdict.spf.domain)",
                "dkim": "\(verdict.dkim.map { "\($0.status.rawValue):\($0.domain ?? "-")" }.joined(separator: ","))",
                "dmarc": "\(verdict.dmarc.map { "\($0.result.rawValue):\($0.disposition.rawValue)" } ?? "none")",
            ])
            if case .reject = verdict.disposition { return .success(verdict.disposition) }
            let fields = try verdict.headerFields()
            let authservID = analysis.hostname
            connection.transport.traceLength = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try MessageRewrite.prepend(fields, to: path, traceLength: traceLength) { AuthenticationResults.mustRemove($0, authservID: authservID) }
            }
            return .success(verdict.disposition)
        } catch {
            logger.error("analysing the message failed", metadata: ["error": "\(error)"])
            return .failure(AnalysisFailure(reason: "the message could not be processed"))
        }
    }

    /// Signs a submitted message with the selectors of its author's domains (RFC 6376 §5).
    /// Returns why the message cannot be taken now, nil when it can (also when nothing signs).
    private func sign(_ file: MessageFile, authorDomains: [String], _ connection: ConnectionState) async -> String? {
        guard let signers = settings.signing?.signers(forDomains: authorDomains), !signers.isEmpty else { return nil }
        let path = file.path
        let traceLength = connection.transport.traceLength
        let selectors = signers.map { "\($0.selector)._domainkey.\($0.domain)" }.joined(separator: " ")
        do {
            // Reading and writing the whole file: off the connection's event loop.
            connection.transport.traceLength = try await withTaskExecutorPreference(globalConcurrentExecutor) {
                try Submission.sign(path: path, traceLength: traceLength, with: signers)
            }
            logger.debug("message signed", metadata: ["dkim": "\(selectors)"])
            return nil
        } catch {
            logger.error("signing a submitted message failed", metadata: ["dkim": "\(selectors)", "error": "\(error)"])
            return "the message could not be signed"
        }
    }

    struct AnalysisFailure: Error {
        var reason: String
    }

    /// RFC 4954: runs the SASL exchange. Challenges go out through the session (334 and
    /// base64), responses come back through it (cancel and bad base64 end the exchange
    /// there), credentials are asked for only when the mechanism needs them.
    private func authenticate(
        _ name: String, _ initialResponse: [UInt8]?, _ connection: ConnectionState
    ) async throws {
        guard let authentication = settings.authentication, let mechanism = SASLMechanism(name: name) else {
            try await perform(connection.session.authFailed(), connection)
            return
        }
        if await authentication.failureLimiter.isBlocked(remoteAddress) {
            logger.info("authentication refused: too many failures from address")
            try await perform(connection.session.authenticationRefused(), connection)
            return
        }
        let configuration = SASLServerConfiguration(
            serverSecret: authentication.serverSecret, hostname: settings.session.hostname, tlsActive: connection.session.tls,
            channelBindings: connection.transport.channelBinding.map { [$0] } ?? [],
            enabledMechanisms: Set(authentication.mechanisms), allowPlaintextWithoutTLS: settings.session.plaintextAuthAllowed)
        var server = SASLServer(mechanism: mechanism, configuration: configuration)
        var action = server.start(initialResponse: initialResponse)
        var account: String?
        while true {
            switch action {
            case let .challenge(challenge):
                try await perform(connection.session.authChallenge(challenge), connection)
                try await connection.io.flush()
                guard case let .line(line) = try await connection.io.nextLine(maxLength: settings.maxLineLength) else {
                    try await perform(connection.session.timedOut(), connection)
                    return
                }
                let actions = connection.session.received(line: line)
                guard actions.count == 1, case let .authResponse(response) = actions[0] else {
                    try await perform(actions, connection)
                    return
                }
                action = server.receive(response)
            case let .needCredentials(request):
                if let found = await authentication.credentials.credentials(for: request.username) {
                    account = found.account
                    action = server.provide(.found(found.credentials))
                } else {
                    action = server.provide(.unknownUser)
                }
            case .success:
                await authentication.failureLimiter.recordSuccess(remoteAddress)
                logger.info("authenticated", metadata: ["account": "\(account ?? "")", "mechanism": "\(mechanism.name)"])
                metrics.countAuthentication(success: true)
                try await perform(connection.session.authSucceeded(account: account ?? ""), connection)
                return
            case let .failure(failure, _):
                logger.info("authentication failed", metadata: ["mechanism": "\(mechanism.name)", "reason": "\(failure)"])
                metrics.countAuthentication(success: false)
                // RFC 4954 §4 leaves the timing to the server: each failure from an address
                // is answered later than the one before.
                let delay = await authentication.failureLimiter.recordFailure(remoteAddress)
                try await Task.sleep(for: delay)
                try await perform(connection.session.authFailed(), connection)
                return
            }
        }
    }

    private func startTLS(_ connection: ConnectionState) async throws {
        guard let tls = settings.tls else {
            try await connection.io.flush()
            return
        }
        gate.setTimeout(settings.tlsHandshakeTimeout, on: channel.channel)
        defer { gate.setTimeout(settings.commandTimeout, on: channel.channel) }
        try await gate.startTLS(context: tls, on: channel.channel, afterWriting: connection.io.takeOutput()).get()
        connection.io.epoch = try await gate.currentEpoch(on: channel.channel).get()
        connection.io.discardBuffered()
        // Wait for the handshake: anything else first is a protocol violation.
        while true {
            switch try await connection.io.nextLine(maxLength: settings.maxLineLength) {
            case let .tls(version, cipher):
                connection.transport.tlsVersion = version
                connection.transport.cipher = cipher
                connection.session.tlsEstablished()
                try await noteChannelBinding(connection)
                return
            case .endOfInput, .timeout, .line, .tooLong:
                // No reply can be sent on a half-done handshake (the TLS handler would hold
                // it forever): the session ends and the connection is closed.
                logger.debug("TLS handshake not completed")
                _ = connection.session.timedOut()
                return
            }
        }
    }

    private func noteChannelBinding(_ connection: ConnectionState) async throws {
        connection.transport.channelBinding = try await gate.channelBinding(on: channel.channel).get()
        if connection.transport.channelBinding != nil { connection.session.channelBindingEstablished() }
    }

    /// The message file starts with the Received field (RFC 5321 §4.4) and, for a single
    /// recipient, Delivered-To (RFC 9228).
    private func createMessageFile(_ connection: ConnectionState) throws -> MessageFile {
        let id = makeID()
        let file = try MessageFile(path: "\(settings.temporaryDirectory)/\(id)")
        if let envelope = connection.session.currentEnvelope() {
            let recipient: ForwardPath? = envelope.recipientCount == 1
                ? envelope.recipients.first?.address ?? envelope.remoteRecipients.first.map { .mailbox($0) } : nil
            var trace = ""
            // RFC 9228: Delivered-To records a delivery here, not a hand-over to the queue.
            if let recipient, !envelope.recipients.isEmpty, case let .mailbox(mailbox) = recipient {
                trace += TraceFields.deliveredTo(mailbox.description)
            }
            trace += TraceFields.received(
                clientName: envelope.clientName, clientAddress: remoteAddress, reverseName: nil,
                hostname: settings.session.hostname, protocolName: envelope.receivedProtocol, id: id,
                recipient: recipient, tlsCipher: connection.transport.cipher, date: now())
            try file.write(Array(trace.utf8))
            connection.transport.traceLength = trace.utf8.count
            connection.transport.verdict?.cancel()
            connection.transport.verdict = startAnalysis(envelope)
        }
        connection.transport.messageFile = file
        return file
    }
}

/// A message file being written, with plain POSIX calls: small sequential writes in a
/// connection's task.
final class MessageFile: Sendable {
    let path: String
    private let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    init(path: String) throws {
        descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MessageFileError(path: path, code: errno) }
        self.path = path
    }

    func write(_ bytes: [UInt8]) throws {
        if let code = FileIO.writeAll(descriptor, bytes) { throw MessageFileError(path: path, code: code) }
    }

    /// Closes the descriptor once: `remove()` after `close()` must not close the same number
    /// again, which by then may be another thread's socket (NIO then fails on it).
    func close() {
        guard closed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        _ = Glibc.close(descriptor)
    }

    func remove() {
        close()
        unlink(path)
    }
}

struct MessageFileError: Error, CustomStringConvertible {
    let path: String
    let code: Int32
    var description: String { "\(path): \(String(cString: strerror(code)))" }
}

/// Buffered reading of lines and message octets, and batched writing of replies.
struct ConnectionIO {
    enum Event: Sendable {
        case line([UInt8])
        case tooLong
        case timeout
        case tls(version: String, cipher: String?)
        case endOfInput
    }

    var iterator: NIOAsyncChannelInboundStream<ConnectionInput>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var buffer: [UInt8] = []
    var start = 0
    var epoch = 0
    var output: [UInt8] = []
    var skippingLongLine = false

    init(iterator: NIOAsyncChannelInboundStream<ConnectionInput>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.iterator = iterator
        self.outbound = outbound
    }

    mutating func queue(_ reply: Reply) { output += reply.encoded() }

    mutating func flush() async throws {
        guard !output.isEmpty else { return }
        try await outbound.write(ByteBuffer(bytes: output))
        output = []
    }

    /// The replies not yet written, for a caller that writes them itself.
    mutating func takeOutput() -> [UInt8] {
        defer { output = [] }
        return output
    }

    var hasCompleteLine: Bool { buffer[start...].contains(0x0A) }

    mutating func discardBuffered() {
        buffer = []
        start = 0
    }

    /// More input; false at the end of input. Octets from an old TLS epoch are dropped.
    private mutating func fill() async throws -> Event? {
        while true {
            guard let input = try await iterator.next() else { return .endOfInput }
            switch input {
            case let .bytes(inputEpoch, bytes):
                guard inputEpoch == epoch else { continue }
                if start > 0 {
                    buffer.removeFirst(start)
                    start = 0
                }
                buffer += bytes.readableBytesView
                return nil
            case .idleTimeout: return .timeout
            case let .tlsEstablished(version, cipher): return .tls(version: version, cipher: cipher)
            }
        }
    }

    /// The next command line without its line break (CRLF, or a bare LF, which is
    /// tolerated in commands), or what happened instead.
    mutating func nextLine(maxLength: Int) async throws -> Event {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = Array(buffer[start..<end])
                start = newline + 1
                if skippingLongLine {
                    skippingLongLine = false
                    continue
                }
                return line.count > maxLength ? .tooLong : .line(line)
            }
            if buffer.count - start > maxLength, !skippingLongLine {
                // Report once, then drop the rest of the line as it arrives.
                skippingLongLine = true
                start = buffer.count
                return .tooLong
            }
            if skippingLongLine { start = buffer.count }
            if let event = try await fill() { return event }
        }
    }

    enum ReadOutcome {
        case complete(size: Int, exceededLimit: Bool)
        /// A timeout or the end of input before the message was complete.
        case interrupted
    }

    /// DATA: through a `DataReader` into the file, up to the end marker.
    mutating func readData(limit: Int, into file: MessageFile) async throws -> ReadOutcome {
        var reader = DataReader(limit: limit)
        while true {
            var chunk: [UInt8] = []
            start += reader.consume(buffer[start...], into: &chunk)
            if !chunk.isEmpty { try file.write(chunk) }
            if reader.finished { return .complete(size: reader.size, exceededLimit: reader.exceededLimit) }
            if let event = try await fill() {
                if case .tls = event { continue }
                return .interrupted
            }
        }
    }

    /// BDAT: exactly `size` octets, kept in the file or dropped.
    mutating func readChunk(size: Int, into file: MessageFile?) async throws -> ReadOutcome {
        var remaining = size
        while remaining > 0 {
            let available = min(remaining, buffer.count - start)
            if available > 0 {
                try file?.write(Array(buffer[start..<start + available]))
                start += available
                remaining -= available
                continue
            }
            if let event = try await fill() {
                if case .tls = event { continue }
                return .interrupted
            }
        }
        return .complete(size: size, exceededLimit: false)
    }
}

extension Session.DeliveryResult {
    /// The outcome as logfmt keys (`result=delivered id=...`), rather than Swift's
    /// reflection of the enum, which is also the costliest part of the log line.
    var logMetadata: Logger.Metadata {
        switch self {
        case let .delivered(id): ["result": "delivered", "id": "\(id)"]
        case let .temporaryFailure(reason): ["result": "tempfail", "reason": "\(reason)"]
        case let .rejected(reply): ["result": "rejected", "reply": "\(reply)"]
        }
    }
}
