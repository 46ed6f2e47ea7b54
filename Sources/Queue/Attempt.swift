import DNS
import DurableFiles
import Foundation
import Logging
import NIOCore
import SMTP
import SMTPClient

/// The outcome of one attempt for one message: per recipient, and the reason for the
/// recipients the attempt never reached (no host answered, DNS failed).
struct MessageAttemptResult: Sendable {
    var outcomes: [Int64: RecipientOutcome] = [:]
    var failure: DeliveryFailure?
}

/// What an attempt needs besides the messages: the network side of the queue.
struct AttemptContext: Sendable {
    var hostname: String
    var timeouts: Timeouts
    var resolver: any DNS.Resolver
    var tlsPolicy: TLSPolicy
    var tlsResults: TLSResultRecorder
    var metrics: QueueMetrics
    var now: @Sendable () -> Date
    var random: @Sendable () -> UInt64
    var group: any EventLoopGroup
    var logger: Logger
    var path: @Sendable (Int64) -> String
}

/// One attempt for messages to one domain over one transport, on as few connections as
/// possible: every message goes over the first connection that works (RFC 5321 §3.3, a
/// connection carries several transactions), and a host or address that cannot be reached
/// passes the rest on to the next one.
enum Attempt {
    static func run(_ messages: [QueuedMessage], transport: Transport, context: AttemptContext) async -> [Int64: MessageAttemptResult] {
        var state = AttemptState(messages: messages)
        switch transport {
        case let .direct(direct):
            await runDirect(
                port: direct.port, preference: direct.addressPreference, hostname: context.hostname, proxy: nil, state: &state, context: context)
        case let .relay(relay):
            await runRelay(relay, state: &state, context: context)
        case let .socks(socks):
            await runSOCKS(socks, state: &state, context: context)
        }
        state.failRequireTLS()
        return state.results
    }

    /// Direct delivery, each connection made by `proxy` when there is one, with `hostname`
    /// in EHLO.
    private static func runDirect(
        port: Int, preference: AddressPreference, hostname: String, proxy: SOCKS5Proxy?, state: inout AttemptState, context: AttemptContext
    ) async {
        guard let domain = state.messages.first?.domain else { return }
        var random = InjectedRandom(next: context.random)
        let destinations: Destinations
        do {
            let name = try DNSName(domain)
            destinations = try await Dialing.gatherDestinations(for: name, resolver: context.resolver, random: &random)
        } catch let error as DialingError {
            state.failAll(DeliveryFailure(error))
            return
        } catch {
            // RFC 3463 §3.3 X.1.2: bad destination system address.
            state.failAll(DeliveryFailure(status: "5.1.2", isPermanent: true, diagnostic: "invalid domain \(domain): \(error)"))
            return
        }
        let policy = await context.tlsPolicy.prepare(domain)
        // RFC 5321 §5.1: the hosts in preference order, each of a host's addresses in turn.
        for host in destinations.hosts where state.hasOpen {
            let addresses: HostAddresses
            do {
                addresses = try await Dialing.gatherAddresses(of: host, resolver: context.resolver, preference: preference)
            } catch {
                state.failOpen(DeliveryFailure(error))
                continue
            }
            for requireTLS in [false, true] where state.hasOpen(requireTLS: requireTLS) {
                // One batch shares the flag: OutboundQueue groups messages by it.
                let request = TLSPolicyRequest(
                    domain: domain, destinations: destinations, host: addresses, port: port, requireTLS: requireTLS,
                    ignorePolicy: state.messages.first?.ignoreTLSPolicy ?? false)
                let tls: TLSSettings
                let report: TLSReportScope?
                switch await policy.decide(request) {
                case let .connect(settings, scope):
                    tls = settings
                    report = scope
                case let .skip(failure, requireTLSUnmet, scope):
                    await recordTLS(nil, scope: scope, address: nil, context: context)
                    state.failOpen(failure, requireTLS: requireTLS, requireTLSUnmet: requireTLSUnmet)
                    continue
                }
                for address in addresses.addresses where state.hasOpen(requireTLS: requireTLS) {
                    let configuration = ClientConfiguration(localHostname: hostname, tls: tls, timeouts: context.timeouts, now: context.now)
                    await connect(
                        to: address, port: port, through: proxy, remoteMTA: host.withoutFinalDot, configuration: configuration, requireTLS: requireTLS,
                        report: report, state: &state, context: context)
                }
            }
        }
    }

    private static func runRelay(_ relay: RelayTransport, state: inout AttemptState, context: AttemptContext) async {
        let addresses: [IPAddress]
        do {
            addresses = try await resolve(configuredHost: relay.host, resolver: context.resolver)
        } catch let error as DialingError {
            state.failAll(DeliveryFailure(error))
            return
        } catch {
            state.failAll(DeliveryFailure(status: "4.4.3", isPermanent: false, diagnostic: "invalid relay host \(relay.host): \(error)"))
            return
        }
        for requireTLS in [false, true] {
            var tls = TLSSettings()
            tls.serverName = IPAddress(relay.host) == nil ? relay.host : nil
            switch relay.security {
            case .opportunisticSTARTTLS: break
            case .requireSTARTTLS: tls.required = true
            case .implicitTLS: tls.implicitTLS = true
            }
            // RFC 8689 §4.2.1: the next hop must be authenticated for REQUIRETLS too.
            if requireTLS { tls.required = true }
            if tls.required || tls.implicitTLS {
                tls.pkix = PKIXVerification(names: [relay.host], trustRoots: relay.trustRoots)
                tls.ignoreVerificationErrors = relay.ignoreVerificationErrors
            }
            let configuration = ClientConfiguration(
                localHostname: context.hostname, tls: tls, authentication: relay.authentication, timeouts: context.timeouts, now: context.now)
            for address in addresses where state.hasOpen(requireTLS: requireTLS) {
                await connect(
                    to: address, port: relay.port, through: nil, remoteMTA: relay.host, configuration: configuration, requireTLS: requireTLS,
                    report: nil, state: &state, context: context)
            }
        }
    }

    private static func runSOCKS(_ socks: SOCKSTransport, state: inout AttemptState, context: AttemptContext) async {
        let proxyAddresses: [IPAddress]
        do {
            proxyAddresses = try await resolve(configuredHost: socks.proxyHost, resolver: context.resolver)
        } catch {
            // The proxy is ours: a name that does not resolve is a temporary problem to fix
            // here, not a reason to return the message. RFC 3463 §3.5 X.4.3: directory
            // server failure.
            let reason = (error as? DialingError)?.text ?? "\(error)"
            state.failAll(DeliveryFailure(status: "4.4.3", isPermanent: false, diagnostic: "SOCKS5 proxy \(socks.proxyHost): \(reason)"))
            return
        }
        var context = context
        context.logger[metadataKey: "sourceips"] = "\(socks.remoteIPs.map(\.description).joined(separator: ","))"
        let proxy = SOCKS5Proxy(host: socks.proxyHost, addresses: proxyAddresses, port: socks.proxyPort, credentials: socks.credentials)
        await runDirect(
            port: socks.port, preference: socks.addressPreference, hostname: socks.hostname, proxy: proxy, state: &state, context: context)
    }

    /// The addresses of a host the configuration names (a relay, a proxy): the literal, or
    /// what its name resolves to.
    private static func resolve(configuredHost host: String, resolver: any DNS.Resolver) async throws -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        return try await Dialing.gatherAddresses(of: try DNSName(host), resolver: resolver).addresses
    }

    /// One connection: every open message of the REQUIRETLS kind in turn while the
    /// connection lasts. `report`: what TLS reports record of it.
    private static func connect(
        to address: IPAddress, port: Int, through proxy: SOCKS5Proxy?, remoteMTA: String, configuration: ClientConfiguration, requireTLS: Bool,
        report: TLSReportScope?, state: inout AttemptState, context: AttemptContext
    ) async {
        let candidates = state.openMessages(requireTLS: requireTLS)
        guard !candidates.isEmpty else { return }
        var logger = context.logger
        // The host by name; the connection adds "remote", the address and port it dials.
        logger[metadataKey: "host"] = "\(remoteMTA)"
        do {
            let (tlsOutcome, results) = try await ClientConnection.withConnection(
                to: address, port: port, through: proxy, configuration: configuration, group: context.group, logger: logger
            ) { connection -> (SessionTLSOutcome, [(QueuedMessage, [QueuedRecipient], TransactionResult)]) in
                let tlsOutcome = connection.tls.map(SessionTLSOutcome.established) ?? .plaintext(startTLSOffered: connection.extensions.startTLS)
                var results: [(QueuedMessage, [QueuedRecipient], TransactionResult)] = []
                for (message, recipients) in candidates where connection.isUsable {
                    let envelope = OutboundEnvelope(
                        sender: message.sender, recipients: recipients.map { .mailbox($0.address) }, size: message.size, body: message.body,
                        utf8Header: message.utf8Header, requireTLS: message.requireTLS)
                    let result = await connection.deliver(envelope, content: QueueFileContent(path: context.path(message.fileID)))
                    results.append((message, recipients, result))
                }
                return (tlsOutcome, results)
            }
            await recordTLS(tlsOutcome, scope: report, address: address, context: context)
            for (message, recipients, result) in results {
                state.record(message: message.id, recipients: recipients, result: result, remoteMTA: remoteMTA)
            }
        } catch let error as ClientError {
            if let failure = error.tlsFailure { await recordTLS(.failed(failure), scope: report, address: address, context: context) }
            // The session could not be set up: the next address or host gets its chance.
            state.failOpen(DeliveryFailure(error, remoteMTA: remoteMTA), requireTLS: requireTLS, error: error)
        } catch {
            state.failOpen(DeliveryFailure(status: "4.4.0", isPermanent: false, diagnostic: "\(error)", remoteMTA: remoteMTA), requireTLS: requireTLS)
        }
    }
}

extension Attempt {
    /// Records a session's TLS outcome (nil: no session, only the failures known before) for
    /// TLS reports and metrics.
    fileprivate static func recordTLS(_ outcome: SessionTLSOutcome?, scope: TLSReportScope?, address: IPAddress?, context: AttemptContext) async {
        guard let scope else { return }
        if let outcome {
            let failure = outcome.failure
            context.metrics.countTLSSession(failed: failure != nil)
            if let failure { context.metrics.countTLSFailure(resultType: failure.resultType.rawValue, reason: failure.reason.description) }
        }
        for case let known? in scope.entries.map(\.knownFailure) {
            context.metrics.countTLSFailure(resultType: known.resultType.rawValue, reason: "policy")
        }
        let results = scope.results(of: outcome, address: address?.description)
        if !results.isEmpty { await context.tlsResults.record(results) }
    }
}

/// Which recipients are still open during an attempt, and what happened to the others.
struct AttemptState {
    let messages: [QueuedMessage]
    var results: [Int64: MessageAttemptResult] = [:]
    /// Recipients with a final answer for this attempt: a reply (positive or negative) or a
    /// permanent failure. The rest may still be tried at another address.
    private var settled: Set<Int64> = []
    /// Recipients of REQUIRETLS messages whose latest failure is that a host could not meet
    /// REQUIRETLS: no verified TLS (5.7.10) or no REQUIRETLS offered (5.7.30).
    private var unmetRequireTLSStatus: [Int64: EnhancedStatus] = [:]

    init(messages: [QueuedMessage]) {
        self.messages = messages
        for message in messages { results[message.id] = MessageAttemptResult() }
    }

    var hasOpen: Bool { hasOpen(requireTLS: false) || hasOpen(requireTLS: true) }

    func hasOpen(requireTLS: Bool) -> Bool { !openMessages(requireTLS: requireTLS).isEmpty }

    /// `requireTLS`: the messages that demand verified TLS (`demandsVerifiedTLS`), or the others.
    func openMessages(requireTLS: Bool) -> [(QueuedMessage, [QueuedRecipient])] {
        messages.filter { $0.demandsVerifiedTLS == requireTLS }.compactMap { message in
            let open = message.pending.filter { !settled.contains($0.id) }
            return open.isEmpty ? nil : (message, open)
        }
    }

    mutating func record(message id: Int64, recipients: [QueuedRecipient], result: TransactionResult, remoteMTA: String) {
        let demandsVerifiedTLS = messages.first { $0.id == id }?.demandsVerifiedTLS ?? false
        for (recipient, outcome) in zip(recipients, result.recipients) {
            unmetRequireTLSStatus[recipient.id] = nil
            switch outcome.outcome {
            case .delivered:
                results[id, default: MessageAttemptResult()].outcomes[recipient.id] = .delivered
                settled.insert(recipient.id)
            case let .failed(error):
                let failure = DeliveryFailure(error, remoteMTA: remoteMTA)
                results[id, default: MessageAttemptResult()].outcomes[recipient.id] = .failed(failure)
                if demandsVerifiedTLS, let unmet = Self.unmetRequireTLS(error) {
                    // RFC 8689 §4.2.1: the next MX host may meet it; only when none does,
                    // the message fails (`failRequireTLS`).
                    unmetRequireTLSStatus[recipient.id] = unmet
                    continue
                }
                // A server's answer, or a decision that will not change, ends the attempt for
                // this recipient; a broken connection lets the next address try.
                if error.kind == .reply || error.isPermanent { settled.insert(recipient.id) }
            }
        }
    }

    /// Gives the open recipients of the matching messages `failure` as their latest reason;
    /// a permanent failure settles them. `error` is the client's error behind it, if any.
    mutating func failOpen(_ failure: DeliveryFailure, requireTLS: Bool? = nil, error: ClientError? = nil, requireTLSUnmet: Bool = false) {
        let unmet = requireTLSUnmet ? EnhancedStatus(5, 7, 10) : error.flatMap(Self.unmetRequireTLS)
        for flag in [false, true] where requireTLS == nil || requireTLS == flag {
            for (message, recipients) in openMessages(requireTLS: flag) {
                for recipient in recipients {
                    results[message.id, default: MessageAttemptResult()].outcomes[recipient.id] = .failed(failure)
                    unmetRequireTLSStatus[recipient.id] = flag ? unmet : nil
                    if failure.isPermanent { settled.insert(recipient.id) }
                }
            }
        }
    }

    /// Whether `error` means a host cannot meet REQUIRETLS (RFC 8689 §4.2.1 steps 4 and 5),
    /// with the status code the RFC gives for it.
    static func unmetRequireTLS(_ error: ClientError) -> EnhancedStatus? {
        if error.enhanced == .requireTLSRequired { return .requireTLSRequired }
        // A server's negative reply is about the message, not about TLS.
        return error.kind == .tls ? EnhancedStatus(5, 7, 10) : nil
    }

    /// RFC 8689 §4.2.1: when no MX host could meet REQUIRETLS, the message must not go to the
    /// domain at all, and the sender gets a DSN: the recipients' last failures become
    /// permanent, with 5.7.30 (REQUIRETLS not offered) or 5.7.10 (encryption needed).
    mutating func failRequireTLS() {
        for message in messages where message.demandsVerifiedTLS {
            for recipient in message.pending {
                guard let status = unmetRequireTLSStatus[recipient.id], case let .failed(last)? = results[message.id]?.outcomes[recipient.id] else { continue }
                results[message.id]?.outcomes[recipient.id] = .failed(DeliveryFailure(
                    status: status.description, isPermanent: true, diagnostic: "REQUIRETLS (RFC 8689) could not be met: \(last.diagnostic)",
                    isSMTPReply: false, remoteMTA: last.remoteMTA))
            }
        }
    }

    mutating func failAll(_ failure: DeliveryFailure) {
        for message in messages { results[message.id, default: MessageAttemptResult()].failure = failure }
        failOpen(failure)
    }
}

/// A queued message file, read in pieces on an I/O thread.
struct QueueFileContent: MessageContent {
    let path: String
    static let pieceSize = 256 * 1024

    func forEachPiece(_ body: ([UInt8]) async throws -> Void) async throws {
        var offset: UInt64 = 0
        let path = path
        while true {
            let start = offset
            let piece = try await blockingIO { () throws -> [UInt8] in
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw FileIOError(operation: "open", path: path, errno: ENOENT)
                }
                defer { try? handle.close() }
                try handle.seek(toOffset: start)
                return Array(try handle.read(upToCount: Self.pieceSize) ?? Data())
            }
            if piece.isEmpty { return }
            offset += UInt64(piece.count)
            try await body(piece)
        }
    }
}

/// The injected randomness as a generator, for the APIs that take one.
struct InjectedRandom: RandomNumberGenerator {
    let source: @Sendable () -> UInt64

    init(next source: @escaping @Sendable () -> UInt64) {
        self.source = source
    }

    mutating func next() -> UInt64 { source() }
}
