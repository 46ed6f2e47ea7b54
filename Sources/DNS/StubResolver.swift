#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix

/// A DNS stub resolver (RFC 1123 §6.1.3.1) that asks recursive resolvers over UDP, and TCP
/// when an answer is truncated (RFC 7766 §5), with EDNS(0) and the DO bit so a validating
/// resolver reports DNSSEC status in the AD bit.
///
/// Flow of `resolve`: cache → join a lookup of the same question already under way, else: for
/// each round, for each server: one exchange (UDP, resent while unanswered, see
/// `RetransmissionTimer`; then TCP on TC=1) → follow CNAMEs within the answer, asking again
/// for the chain's end if the resolver stopped early → cache the outcome with its TTL.
///
/// Spoofing defences (RFC 5452 §9.1): random 16-bit IDs, a fresh socket per query so the
/// kernel picks a random source port (Linux randomises UDP autobind ports), a connected UDP
/// socket so only the server's address can answer, and the answer's ID, flags and question
/// must match the query; anything else is dropped and the wait goes on.
public final class StubResolver: Resolver {
    /// RFC 1034 §3.6.2 chains should be short; 8 is what common resolvers allow.
    public static let maxCNAMEChain = 8

    private let configuration: StubResolverConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let metrics: DNSMetrics
    private let cache: DNSCache
    private let lookups = LookupCoalescer<DNSCache.Key, Result<DNSAnswer, DNSError>>()
    private let retransmission: RetransmissionTimer
    private let now: @Sendable () -> ContinuousClock.Instant
    private let randomID: @Sendable () -> UInt16

    public init(
        configuration: StubResolverConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "dns"),
        metrics: DNSMetrics = DNSMetrics(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        randomID: @escaping @Sendable () -> UInt16 = { UInt16.random(in: .min ... .max) }
    ) {
        self.configuration = configuration
        self.group = group
        self.logger = logger
        self.metrics = metrics
        self.cache = DNSCache(capacity: configuration.cacheCapacity, now: now)
        self.retransmission = RetransmissionTimer(floor: configuration.retransmitFloor)
        self.now = now
        self.randomID = randomID
    }

    public func resolve(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSAnswer {
        let key = DNSCache.Key(name: name.lowercased, type: type)
        if let cached = await cache.get(key) {
            metrics.cacheHits.increment()
            return try cached.get()
        }
        return try await lookups.run(key) {
            let start = ContinuousClock.now
            let (outcome, ttl) = await self.resolveUncached(name, type)
            let elapsed = (ContinuousClock.now - start).components
            self.metrics.duration.recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
            self.metrics.countLookup(outcome)
            if let ttl { await self.cache.put(key, outcome, ttl: ttl) }
            return outcome
        }.get()
    }

    /// The outcome and how long it may be cached (nil: not at all).
    private func resolveUncached(_ name: DNSName, _ type: RecordType) async -> (Result<DNSAnswer, DNSError>, UInt32?) {
        var current = name
        var seen: Set<DNSName> = [name]
        var authentic = true
        var ttl = configuration.maxTTL
        while true {
            let response: DNSMessage
            do {
                response = try await askServers(current, type)
            } catch {
                return (.failure(error), nil)
            }
            authentic = authentic && response.authenticData

            // Follow the chain as far as this response carries it (RFC 1034 §4.3.2 step 3a).
            var owner = current
            while type != .cname, !response.answers.contains(where: { $0.name == owner && $0.type == type }),
                let cname = response.answers.first(where: { $0.name == owner && $0.type == .cname }),
                case let .cname(target) = cname.data
            {
                guard seen.insert(target).inserted, seen.count <= Self.maxCNAMEChain + 1 else {
                    return (.failure(DNSError(kind: .cnameChainTooLong, name: name, type: type)), nil)
                }
                ttl = min(ttl, cname.ttl)
                owner = target
            }

            let records = response.answers.filter { $0.name == owner && $0.type == type }
            if !records.isEmpty {
                ttl = records.reduce(ttl) { min($0, $1.ttl) }
                let answer = DNSAnswer(name: name, type: type, canonicalName: owner, records: records, authentic: authentic)
                return (.success(answer), ttl)
            }
            let hasSOA = response.authorities.contains { $0.type == .soa }
            if response.rcode == .noError, owner != current, !hasSOA {
                // The resolver stopped inside the chain; ask for its end ourselves.
                current = owner
                continue
            }
            let kind: DNSError.Kind = response.rcode == .nameError ? .nameNotFound : .noRecords
            let error = DNSError(
                kind: kind, name: name, type: type, authentic: authentic,
                extendedErrors: response.edns?.extendedErrors ?? [])
            return (.failure(error), negativeTTL(response))
        }
    }

    /// RFC 2308 §5: a denial is cached for the minimum of the SOA record's TTL and its
    /// MINIMUM field; without an SOA it is not cached.
    private func negativeTTL(_ response: DNSMessage) -> UInt32? {
        for record in response.authorities {
            if case let .soa(soa) = record.data {
                return min(record.ttl, soa.minimum, configuration.maxNegativeTTL)
            }
        }
        return nil
    }

    /// One question to the configured servers in turn. NOERROR and NXDOMAIN are final; a
    /// server error moves on to the next server; timeouts and network errors also earn
    /// another round. The most telling failure is reported.
    private func askServers(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSMessage {
        var failure: DNSError?
        func note(_ error: DNSError) {
            if let current = failure, Self.rank(current.kind) > Self.rank(error.kind) { return }
            failure = error
        }
        for _ in 0..<max(configuration.attempts, 1) {
            var worthAnotherRound = false
            for server in configuration.servers {
                do {
                    let response = try await exchange(server: server, name: name, type: type)
                    if response.rcode == .noError || response.rcode == .nameError { return response }
                    let errors = response.edns?.extendedErrors ?? []
                    logger.debug(
                        "resolver error", metadata: ["server": "\(display(server))", "name": "\(name)", "type": "\(type)", "rcode": "\(response.rcode)", "ede": "\(errors.map(\.description))"])
                    note(DNSError(kind: .serverFailure(response.rcode), name: name, type: type, extendedErrors: errors))
                } catch let error as ExchangeFailure {
                    logger.debug("exchange failed", metadata: ["server": "\(display(server))", "name": "\(name)", "type": "\(type)", "error": "\(error)"])
                    worthAnotherRound = true
                    switch error {
                    case .timeout: note(DNSError(kind: .timeout, name: name, type: type))
                    case let .network(reason): note(DNSError(kind: .network(reason), name: name, type: type))
                    case let .malformed(reason): note(DNSError(kind: .malformed(reason), name: name, type: type))
                    }
                } catch {
                    worthAnotherRound = true
                    note(DNSError(kind: .network("\(error)"), name: name, type: type))
                }
            }
            if !worthAnotherRound { break }
        }
        throw failure ?? DNSError(kind: .network("no resolver configured"), name: name, type: type)
    }

    private static func rank(_ kind: DNSError.Kind) -> Int {
        switch kind {
        case .serverFailure: return 3
        case .malformed: return 2
        case .network: return 1
        default: return 0
        }
    }

    enum ExchangeFailure: Error, CustomStringConvertible {
        case timeout
        case network(String)
        case malformed(String)

        var description: String {
            switch self {
            case .timeout: return "timeout"
            case let .network(reason): return reason
            case let .malformed(reason): return reason
            }
        }
    }

    private func exchange(server: SocketAddress, name: DNSName, type: RecordType) async throws -> DNSMessage {
        let query = DNSMessage.query(id: randomID(), name: name, type: type, udpPayloadSize: configuration.udpPayloadSize)
        if !configuration.forceTCP {
            let response = try await exchangeUDP(server: server, query: query)
            guard response.truncated else { return response }
            // RFC 7766 §5: a truncated answer is asked again over TCP.
            metrics.truncatedRetries.increment()
            logger.debug("answer truncated, retrying over tcp", metadata: ["server": "\(display(server))", "name": "\(name)", "type": "\(type)"])
        }
        return try await exchangeTCP(server: server, query: query)
    }

    private func exchangeUDP(server: SocketAddress, query: DNSMessage) async throws -> DNSMessage {
        let channel: NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>
        do {
            channel = try await DatagramBootstrap(group: group)
                // Room for any datagram: a server that ignores our advertised size must not
                // produce a silently cut message.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .connect(to: server) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw ExchangeFailure.network("udp socket to \(display(server)): \(reason(error))")
        }
        let metrics = self.metrics
        let logger = self.logger
        let retransmission = self.retransmission
        let now = self.now
        let serverName = display(server)
        return try await channel.executeThenClose { inbound, outbound in
            let datagram = AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query.encoded()))
            try await outbound.write(datagram)
            let sent = now()
            let firstInterval = retransmission.interval(for: serverName)
            return try await withTimeout(configuration.timeout) {
                try await withThrowingTaskGroup(of: DNSMessage?.self) { group in
                    // Same datagram, same ID: whichever copy is answered first counts.
                    group.addTask {
                        var interval = firstInterval
                        while true {
                            try await Task.sleep(for: interval)
                            metrics.retransmissions.increment()
                            try await outbound.write(datagram)
                            interval *= 2
                        }
                    }
                    group.addTask {
                        do {
                            for try await envelope in inbound {
                                // Not from the server, unparsable, or not our question: possibly
                                // a spoofing attempt. Keep waiting for the real answer.
                                guard envelope.remoteAddress == server,
                                    let response = try? DNSMessage(parsing: Array(envelope.data.readableBytesView)),
                                    Self.matches(response, query)
                                else {
                                    metrics.ignoredResponses.increment()
                                    logger.debug("ignoring mismatched response", metadata: ["server": "\(serverName)"])
                                    continue
                                }
                                // Karn's rule: an answer after the first resend may be to either copy.
                                let roundTrip = now() - sent
                                if roundTrip < firstInterval { retransmission.record(roundTrip, for: serverName) }
                                return response
                            }
                        } catch {
                            throw ExchangeFailure.network("udp \(serverName): \(reason(error))")
                        }
                        throw ExchangeFailure.network("udp \(serverName): socket closed")
                    }
                    defer { group.cancelAll() }
                    while let result = try await group.next() {
                        if let response = result { return response }
                    }
                    throw ExchangeFailure.network("udp \(serverName): socket closed")
                }
            }
        }
    }

    /// RFC 1035 §4.2.2: each message is preceded by a two-octet length.
    private func exchangeTCP(server: SocketAddress, query: DNSMessage) async throws -> DNSMessage {
        let timeout = configuration.timeout
        return try await withTimeout(timeout) {
            let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
            do {
                channel = try await ClientBootstrap(group: self.group)
                    .connectTimeout(.nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
                    .connect(to: server) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
            } catch {
                throw ExchangeFailure.network("tcp connect to \(display(server)): \(reason(error))")
            }
            return try await channel.executeThenClose { inbound, outbound in
                let message = query.encoded()
                var request = ByteBuffer()
                request.writeInteger(UInt16(message.count))
                request.writeBytes(message)
                try await outbound.write(request)
                var received = ByteBuffer()
                do {
                    for try await chunk in inbound {
                        received.writeImmutableBuffer(chunk)
                        guard let length = received.getInteger(at: received.readerIndex, as: UInt16.self),
                            received.readableBytes >= 2 + Int(length),
                            let bytes = received.getBytes(at: received.readerIndex + 2, length: Int(length))
                        else { continue }
                        let response: DNSMessage
                        do {
                            response = try DNSMessage(parsing: bytes)
                        } catch {
                            throw ExchangeFailure.malformed("tcp answer from \(display(server)): \(error)")
                        }
                        guard Self.matches(response, query) else {
                            throw ExchangeFailure.malformed("tcp answer from \(display(server)) does not match the question")
                        }
                        return response
                    }
                } catch let failure as ExchangeFailure {
                    throw failure
                } catch {
                    throw ExchangeFailure.network("tcp \(display(server)): \(reason(error))")
                }
                throw ExchangeFailure.network("tcp \(display(server)): connection closed before a full answer")
            }
        }
    }

    /// RFC 5452 §9.1: same ID, a response, a standard query, and the same single question.
    static func matches(_ response: DNSMessage, _ query: DNSMessage) -> Bool {
        response.id == query.id && response.isResponse && response.opcode == 0
            && response.questions.count == 1 && response.questions.first == query.questions.first
    }
}

/// "192.0.2.1:53" or "[2001:db8::1]:53", for logs and errors.
func display(_ address: SocketAddress) -> String {
    guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
    return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
}

/// The system's words for a socket error ("Connection refused"), not NIO's debug form.
private func reason(_ error: any Error) -> String {
    if let error = error as? IOError {
        return String(cString: strerror(error.errnoCode))
    }
    return "\(error)"
}

/// Runs `body`, failing with `ExchangeFailure.timeout` when it takes longer than `limit`.
private func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw StubResolver.ExchangeFailure.timeout
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw StubResolver.ExchangeFailure.timeout }
        return first
    }
}
