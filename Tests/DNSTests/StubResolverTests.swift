import DNSTestSupport
import NIOCore
import Synchronization
import Testing

@testable import DNS

/// A clock the tests move by hand, for cache expiry.
final class ManualClock: Sendable {
    private let current = Mutex(ContinuousClock.now)
    var now: @Sendable () -> ContinuousClock.Instant { { self.current.withLock { $0 } } }
    func advance(_ duration: Duration) { current.withLock { $0 = $0.advanced(by: duration) } }
}

/// What a test's handlers record, in order.
private final class Tally<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])
    /// Records `value`; returns how many there are now.
    func append(_ value: Value) -> Int { values.withLock { $0.append(value); return $0.count } }
    var all: [Value] { values.withLock { $0 } }
}

private func name(_ text: String) -> DNSName {
    // Test names are literals; a bad one should fail loudly, in the test.
    (try? DNSName(text)) ?? .root
}

/// The default timeout is long: with the whole suite running in parallel on a small
/// machine, a loopback answer can take seconds, and a retry would change what the tests see.
/// For the same reason UDP queries are not resent unless a test asks (`retransmitFloor`).
private func resolver(
    _ servers: [FakeDNSServer], timeout: Duration = .seconds(15), attempts: Int = 2, forceTCP: Bool = false,
    retransmitFloor: Duration? = nil, clock: ManualClock = ManualClock()
) throws -> StubResolver {
    var configuration = StubResolverConfiguration(servers: try servers.map { try SocketAddress(ipAddress: "127.0.0.1", port: $0.port) })
    configuration.timeout = timeout
    configuration.retransmitFloor = retransmitFloor ?? timeout
    configuration.attempts = attempts
    configuration.forceTCP = forceTCP
    return StubResolver(configuration: configuration, now: clock.now)
}

@Suite struct StubResolverTests {
    static let zone: [ResourceRecord] = [
        ResourceRecord(name: name("example.test"), ttl: 300, data: .mx(MX(preference: 10, exchange: name("mail.example.test")))),
        ResourceRecord(name: name("mail.example.test"), ttl: 300, data: .a(.v4(192, 0, 2, 25))),
        ResourceRecord(name: name("www.example.test"), ttl: 120, data: .cname(name("mail.example.test"))),
        ResourceRecord(name: name("loop1.example.test"), ttl: 300, data: .cname(name("loop2.example.test"))),
        ResourceRecord(name: name("loop2.example.test"), ttl: 300, data: .cname(name("loop1.example.test"))),
    ]

    @Test func answersWithAuthenticFromTheADBit() async throws {
        let signed = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: true))
        let unsigned = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: false))
        defer { Task { await signed.stop(); await unsigned.stop() } }

        let answer = try await resolver([signed]).resolve(name("example.test"), .mx)
        #expect(answer.authentic)
        #expect(answer.records.map(\.data) == [.mx(MX(preference: 10, exchange: name("mail.example.test")))])
        #expect(try await !resolver([unsigned]).resolve(name("example.test"), .mx).authentic)
    }

    @Test func queryCarriesRandomIDAndDOBit() async throws {
        let seen = Mutex<[DNSMessage]>([])
        let server = try await FakeDNSServer { query, transport in
            seen.withLock { $0.append(query) }
            return FakeDNSServer.zone(Self.zone)(query, transport)
        }
        defer { Task { await server.stop() } }
        var configuration = StubResolverConfiguration(servers: [try SocketAddress(ipAddress: "127.0.0.1", port: server.port)])
        configuration.timeout = .seconds(2)
        let stub = StubResolver(configuration: configuration, randomID: { 0x4242 })
        _ = try await stub.resolve(name("mail.example.test"), .a)
        let query = try #require(seen.withLock { $0.first })
        #expect(query.id == 0x4242)
        #expect(query.edns?.dnssecOK == true)
        #expect(query.edns?.udpPayloadSize == 1232)
        #expect(query.recursionDesired)
    }

    @Test func followsCNAMEs() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await server.stop() } }
        let answer = try await resolver([server]).resolve(name("www.example.test"), .a)
        #expect(answer.canonicalName == name("mail.example.test"))
        #expect(answer.records.map(\.data) == [.a(.v4(192, 0, 2, 25))])
        // Asking for the CNAME itself does not follow it.
        let cname = try await resolver([server]).lookupCNAME(name("www.example.test"))
        #expect(cname.value == name("mail.example.test"))
    }

    @Test func cnameLoopIsAnError() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await server.stop() } }
        await #expect(throws: DNSError(kind: .cnameChainTooLong, name: name("loop1.example.test"), type: .a)) {
            try await resolver([server]).resolve(name("loop1.example.test"), .a)
        }
    }

    /// A resolver that returns only the first link of a chain: the stub asks for the rest.
    @Test func asksForTheEndOfAnIncompleteChain() async throws {
        let server = try await FakeDNSServer { query, _ in
            guard let question = query.questions.first else { return [] }
            var response = FakeDNSServer.reply(to: query, rcode: .noError)
            if question.name == name("start.example.test") {
                response.answers = [ResourceRecord(name: question.name, ttl: 60, data: .cname(name("end.example.test")))]
            } else {
                response.answers = [ResourceRecord(name: question.name, ttl: 60, data: .a(.v4(192, 0, 2, 99)))]
            }
            return [response.encoded()]
        }
        defer { Task { await server.stop() } }
        let answer = try await resolver([server]).resolve(name("start.example.test"), .a)
        #expect(answer.canonicalName == name("end.example.test"))
        #expect(server.received.map(\.0.name) == [name("start.example.test"), name("end.example.test")])
    }

    @Test func nxdomainAndNodata() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: true))
        defer { Task { await server.stop() } }
        let stub = try resolver([server])
        await #expect(throws: DNSError(kind: .nameNotFound, name: name("nothing.example.test"), type: .a, authentic: true)) {
            try await stub.resolve(name("nothing.example.test"), .a)
        }
        await #expect(throws: DNSError(kind: .noRecords, name: name("mail.example.test"), type: .txt, authentic: true)) {
            try await stub.resolve(name("mail.example.test"), .txt)
        }
    }

    @Test func serverFailureCarriesExtendedErrors() async throws {
        let server = try await FakeDNSServer { query, _ in
            var response = FakeDNSServer.reply(to: query, rcode: .serverFailure)
            response.edns?.options = [EDNSOption(ExtendedDNSError(infoCode: 6, extraText: "signature invalid"))]
            return [response.encoded()]
        }
        defer { Task { await server.stop() } }
        let stub = try resolver([server])
        do {
            _ = try await stub.resolve(name("bogus.example.test"), .txt)
            Issue.record("expected SERVFAIL")
        } catch {
            #expect(error.kind == .serverFailure(.serverFailure))
            #expect(error.extendedErrors == [ExtendedDNSError(infoCode: 6, extraText: "signature invalid")])
            #expect(error.isTemporary)
            #expect(error.description == "TXT bogus.example.test.: server failure (SERVFAIL); extended error 6 (DNSSEC Bogus): signature invalid")
        }
        // All servers answered: no second round of the same question.
        #expect(server.received.count == 1)
    }

    @Test func failsOverToTheNextServer() async throws {
        let broken = try await FakeDNSServer { query, _ in [FakeDNSServer.reply(to: query, rcode: .refused).encoded()] }
        let good = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await broken.stop(); await good.stop() } }
        let answer = try await resolver([broken, good]).resolve(name("mail.example.test"), .a)
        #expect(answer.records.count == 1)
        #expect(broken.received.count == 1 && good.received.count == 1)
    }

    @Test func truncatedAnswerIsAskedAgainOverTCP() async throws {
        let strings = (0..<12).map { index in Array(String(repeating: Character(String(index % 10)), count: 200).utf8) }
        let big = [ResourceRecord(name: name("big.example.test"), ttl: 60, data: .txt(strings))]
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(big, truncateUDPAbove: 1232))
        defer { Task { await server.stop() } }
        let answer = try await resolver([server]).resolve(name("big.example.test"), .txt)
        #expect(answer.records.first?.data == .txt(strings))
        #expect(server.received.map(\.1) == [.udp, .tcp])
    }

    @Test func forcedTCP() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await server.stop() } }
        _ = try await resolver([server], forceTCP: true).resolve(name("mail.example.test"), .a)
        #expect(server.received.map(\.1) == [.tcp])
    }

    /// RFC 5452 §9.1: an answer with the wrong ID or question is dropped, and the real one,
    /// arriving after it, is taken.
    @Test func spoofedAnswersAreIgnored() async throws {
        let server = try await FakeDNSServer { query, transport in
            var wrongID = FakeDNSServer.reply(to: query, rcode: .noError)
            wrongID.id = query.id &+ 1
            wrongID.answers = [ResourceRecord(name: query.questions[0].name, ttl: 60, data: .a(.v4(6, 6, 6, 6)))]
            var wrongQuestion = wrongID
            wrongQuestion.id = query.id
            wrongQuestion.questions = [Question(name: name("other.example.test"), type: .a)]
            let notAResponse = DNSMessage(id: query.id, questions: query.questions)
            return [wrongID.encoded(), wrongQuestion.encoded(), notAResponse.encoded(), [1, 2, 3]] + FakeDNSServer.zone(Self.zone)(query, transport)
        }
        defer { Task { await server.stop() } }
        let answer = try await resolver([server]).resolve(name("mail.example.test"), .a)
        #expect(answer.records.map(\.data) == [.a(.v4(192, 0, 2, 25))])
    }

    @Test func malformedTCPAnswerIsAnError() async throws {
        let server = try await FakeDNSServer { query, _ in [[UInt8(query.id >> 8), UInt8(query.id & 0xFF), 0x81]] }
        defer { Task { await server.stop() } }
        await #expect {
            try await resolver([server], attempts: 1, forceTCP: true).resolve(name("mail.example.test"), .a)
        } throws: { error in
            guard let error = error as? DNSError, case .malformed = error.kind else { return false }
            return true
        }
    }

    @Test func silentServerTimesOutAfterEachAttempt() async throws {
        let server = try await FakeDNSServer { _, _ in [] }
        defer { Task { await server.stop() } }
        await #expect(throws: DNSError(kind: .timeout, name: name("mail.example.test"), type: .a)) {
            try await resolver([server], timeout: .milliseconds(200), attempts: 2).resolve(name("mail.example.test"), .a)
        }
        #expect(server.received.count == 2)
    }

    /// RFC 1035 §4.2.1: a lost datagram is sent again within the same exchange, with the same
    /// ID, well before the timeout (which here would fail the test: one attempt, 60 s).
    @Test func lostQueryIsSentAgain() async throws {
        let queries = Tally<UInt16>()
        let server = try await FakeDNSServer { query, transport in
            let count = queries.append(query.id)
            // The first two copies are lost.
            return count <= 2 ? [] : FakeDNSServer.zone(Self.zone)(query, transport)
        }
        defer { Task { await server.stop() } }
        let stub = try resolver([server], timeout: .seconds(60), attempts: 1, retransmitFloor: .milliseconds(50))
        let answer = try await stub.resolve(name("mail.example.test"), .a)
        #expect(answer.records.map(\.data) == [.a(.v4(192, 0, 2, 25))])
        let ids = queries.all
        #expect(ids.count == 3)
        #expect(Set(ids).count == 1)
    }

    /// The resend interval follows the measured round-trip time (RFC 6298 §2) but never goes
    /// below the floor, and starts at 1 s before anything was measured.
    @Test func retransmissionIntervalFollowsRoundTrips() {
        let timer = RetransmissionTimer(floor: .milliseconds(100))
        #expect(timer.interval(for: "a") == .seconds(1))
        timer.record(.milliseconds(400), for: "a")
        // First sample: SRTT = R, RTTVAR = R/2, interval = SRTT + 4 RTTVAR.
        #expect(timer.interval(for: "a") == .milliseconds(1200))
        for _ in 0..<50 { timer.record(.milliseconds(2), for: "a") }
        #expect(timer.interval(for: "a") == .milliseconds(100))
        #expect(timer.interval(for: "b") == .seconds(1))
    }

    /// Concurrent lookups of one question share one exchange.
    @Test func concurrentLookupsOfOneQuestionShareOneRun() async {
        let coalescer = LookupCoalescer<String, Int>()
        let runs = Tally<Void>()
        let (gate, opener) = AsyncStream<Void>.makeStream()
        let first = Task {
            await coalescer.run("q") { @Sendable in
                _ = runs.append(())
                for await _ in gate { break }
                return 42
            }
        }
        while await coalescer.callers(of: "q") < 1 { await Task.yield() }
        let second = Task { await coalescer.run("q") { @Sendable in _ = runs.append(()); return 7 } }
        while await coalescer.callers(of: "q") < 2 { await Task.yield() }
        opener.yield()
        #expect(await first.value == 42)
        #expect(await second.value == 42)
        #expect(runs.all.count == 1)
        // Once finished, the next lookup runs again.
        #expect(await coalescer.run("q") { @Sendable in 8 } == 8)
    }

    @Test func unreachableServerIsANetworkError() async throws {
        // A port nobody listens on: connected UDP sockets see ICMP port unreachable.
        let server = try await FakeDNSServer { _, _ in [] }
        let port = server.port
        await server.stop()
        var configuration = StubResolverConfiguration(servers: [try SocketAddress(ipAddress: "127.0.0.1", port: port)])
        configuration.timeout = .seconds(2)
        configuration.attempts = 1
        await #expect {
            try await StubResolver(configuration: configuration).resolve(name("mail.example.test"), .a)
        } throws: { error in
            guard let error = error as? DNSError else { return false }
            if case .network = error.kind { return true }
            return error.kind == .timeout
        }
    }

    @Test func cachesByTTLWithTheInjectedClock() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await server.stop() } }
        let clock = ManualClock()
        let stub = try resolver([server], clock: clock)
        _ = try await stub.resolve(name("mail.example.test"), .a)
        clock.advance(.seconds(100))
        let cached = try await stub.resolve(name("MAIL.example.test"), .a)
        #expect(server.received.count == 1)
        #expect(cached.records.first?.ttl == 200)
        clock.advance(.seconds(200))
        _ = try await stub.resolve(name("mail.example.test"), .a)
        #expect(server.received.count == 2)
    }

    /// RFC 2308 §5: denials are cached for the SOA's minimum (30 s in the fake zone).
    @Test func cachesDenialsButNotFailures() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone))
        defer { Task { await server.stop() } }
        let clock = ManualClock()
        let stub = try resolver([server], clock: clock)
        for _ in 0..<2 { _ = try? await stub.resolve(name("nothing.example.test"), .a) }
        #expect(server.received.count == 1)
        clock.advance(.seconds(31))
        _ = try? await stub.resolve(name("nothing.example.test"), .a)
        #expect(server.received.count == 2)

        let failing = try await FakeDNSServer { query, _ in [FakeDNSServer.reply(to: query, rcode: .serverFailure).encoded()] }
        defer { Task { await failing.stop() } }
        let failingStub = try resolver([failing], clock: clock)
        for _ in 0..<2 { _ = try? await failingStub.resolve(name("x.example.test"), .a) }
        #expect(failing.received.count == 2)
    }

    @Test func cacheIsBounded() async throws {
        let clock = ManualClock()
        let cache = DNSCache(capacity: 8, now: clock.now)
        for index in 0..<100 {
            let key = DNSCache.Key(name: name("n\(index).example"), type: .a)
            await cache.put(key, .failure(DNSError(kind: .noRecords, name: key.name, type: .a)), ttl: UInt32(100 + index))
            #expect(await cache.count <= 8)
        }
        // The longest-lived entries survive eviction.
        #expect(await cache.get(DNSCache.Key(name: name("n99.example"), type: .a)) != nil)
        #expect(await cache.get(DNSCache.Key(name: name("n0.example"), type: .a)) == nil)
    }
}
