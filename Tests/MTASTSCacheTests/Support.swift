import DNS
import Foundation
import Logging
import Metrics
import MTASTS
import MTASTSCache
import Synchronization
import TestSupport

/// The DNS of the test: `example.com`'s `_mta-sts` record, replaced or removed as the test
/// goes on, or a lookup failure.
final class RecordResolver: Resolver {
    private let current = Mutex(MockResolver())

    /// Publishes `text` as the only TXT record, or none when nil.
    func publish(_ text: String?) throws {
        let resolver = MockResolver()
        if let text { try resolver.add("_mta-sts.example.com", .txt([Array(text.utf8)])) }
        current.withLock { $0 = resolver }
    }

    /// Makes the lookup fail with SERVFAIL.
    func failLookups() throws {
        let resolver = MockResolver()
        resolver.fail(try DNSName("_mta-sts.example.com"), .txt, with: .serverFailure(.serverFailure))
        current.withLock { $0 = resolver }
    }

    func resolve(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSAnswer {
        try await current.withLock { $0 }.resolve(name, type)
    }
}

/// A fetcher that serves what the test sets and counts its calls.
final class FakeFetcher: PolicyFetcher {
    private let state = Mutex<(next: Result<STSPolicy, PolicyFetchError>, calls: Int)>((.failure(.status(404)), 0))

    var calls: Int { state.withLock { $0.calls } }

    func serve(_ text: String) throws {
        let policy = try STSPolicy(parsing: text)
        state.withLock { $0.next = .success(policy) }
    }

    func fail(_ error: PolicyFetchError) {
        state.withLock { $0.next = .failure(error) }
    }

    func fetch(_ domain: Domain) async throws(PolicyFetchError) -> STSPolicy {
        try state.withLock { state in
            state.calls += 1
            return state.next
        }.get()
    }
}

func policyText(mode: String = "enforce", maxAge: Int = 7 * 86400, mx: String = "mx.example.com") -> String {
    "version: STSv1\r\nmode: \(mode)\r\nmx: \(mx)\r\nmax_age: \(maxAge)\r\n"
}

let quietLogger = Logger(label: "mtasts-test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A cache on a fresh database with the test's clock, DNS and fetcher.
struct Fixture {
    let clock = TestClock()
    let resolver = RecordResolver()
    let fetcher = FakeFetcher()
    let directory: TemporaryDirectory
    let domain = try! Domain("example.com")

    init() throws {
        directory = try TemporaryDirectory()
    }

    var path: String { directory.path + "/mtasts.db" }

    func open(metrics: MetricsFactory = MetricsSystem.factory) throws -> PolicyCache {
        try PolicyCache(path: path, resolver: resolver, fetcher: fetcher, now: { [clock] in clock.now }, logger: quietLogger, metrics: metrics)
    }
}
