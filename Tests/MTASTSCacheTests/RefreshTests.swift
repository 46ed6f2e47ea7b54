import DNS
import Foundation
import MTASTS
import MTASTSCache
import Synchronization
import Testing

@Suite struct RefreshTests {
    let hour: TimeInterval = 3600
    let day: TimeInterval = 24 * 3600

    /// A fixture whose cache holds example.com's policy with id 1, fetched at the clock's start.
    func cached(_ text: String = policyText()) async throws -> (Fixture, PolicyCache) {
        let fixture = try Fixture()
        let cache = try fixture.open()
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(text)
        _ = try await cache.get(fixture.domain)
        return (fixture, cache)
    }

    /// RFC 8461 §3.3 suggests refreshing once a day: a policy fetched more than a day ago is
    /// fetched again, which extends its validity; when it was last asked for stays as it was.
    @Test func renewsDailyWhileInUse() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        let start = fixture.clock.now

        fixture.clock.advance(23 * hour)
        #expect(try await cache.refresh(now: fixture.clock.now).isEmpty)
        #expect(fixture.fetcher.calls == 1)

        fixture.clock.advance(2 * hour)
        let results = try await cache.refresh(now: fixture.clock.now)
        #expect(results.map(\.domain) == [fixture.domain])
        #expect(results.map(\.outcome) == [.renewed(recordID: "1")])
        #expect(fixture.fetcher.calls == 2)
        let entry = try #require(try await cache.entry(for: fixture.domain))
        #expect(entry.fetched?.updated == fixture.clock.now)
        #expect(entry.fetched?.validUntil == fixture.clock.now.addingTimeInterval(7 * day))
        #expect(entry.lastUsed == start)
    }

    @Test func leavesPoliciesNotUsedRecently() async throws {
        let (fixture, cache) = try await cached(policyText(maxAge: 30 * 24 * 3600))
        defer { cache.close() }
        fixture.clock.advance(7 * day + 1)
        #expect(try await cache.refresh(now: fixture.clock.now).isEmpty)
        #expect(fixture.fetcher.calls == 1)
        // Still cached and valid: a delivery applies it.
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText(maxAge: 30 * 24 * 3600)), .cached))
    }

    /// A short max_age is renewed once half of it has passed, before it runs out.
    @Test func renewsShortMaxAgeAtHalfLife() async throws {
        let (fixture, cache) = try await cached(policyText(maxAge: 3600))
        defer { cache.close() }
        fixture.clock.advance(1799)
        #expect(try await cache.refresh(now: fixture.clock.now).isEmpty)
        fixture.clock.advance(1)
        #expect(try await cache.refresh(now: fixture.clock.now).map(\.outcome) == [.renewed(recordID: "1")])
    }

    @Test func picksUpANewRecordID() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        fixture.clock.advance(day)
        try fixture.resolver.publish("v=STSv1; id=2")
        try fixture.fetcher.serve(policyText(mode: "testing"))
        #expect(try await cache.refresh(now: fixture.clock.now).map(\.outcome) == [.renewed(recordID: "2")])
        let entry = try #require(try await cache.entry(for: fixture.domain))
        #expect(entry.fetched?.recordID == "2")
        #expect(entry.fetched?.policy.mode == .testing)
    }

    /// A failed renewal keeps the policy and backs off: the next pass within five minutes
    /// leaves the domain alone, and deliveries go on with the cached policy.
    @Test func failedRenewalKeepsThePolicy() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        fixture.clock.advance(day)
        fixture.fetcher.fail(.status(503))
        #expect(try await cache.refresh(now: fixture.clock.now).map(\.outcome) == [.fetchFailed(PolicyFailure(.status(503)))])
        let entry = try #require(try await cache.entry(for: fixture.domain))
        #expect(entry.fetched?.updated == fixture.clock.now.addingTimeInterval(-day))
        #expect(entry.backoff?.until == fixture.clock.now.addingTimeInterval(PolicyCache.fetchBackoff))

        fixture.clock.advance(60)
        #expect(try await cache.refresh(now: fixture.clock.now).isEmpty)
        #expect(fixture.fetcher.calls == 2)
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText()), .cached))

        fixture.clock.advance(PolicyCache.fetchBackoff)
        try fixture.fetcher.serve(policyText())
        #expect(try await cache.refresh(now: fixture.clock.now).map(\.outcome) == [.renewed(recordID: "1")])
    }

    @Test func lookupFailureChangesNothing() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        let before = try await cache.entry(for: fixture.domain)
        fixture.clock.advance(day)
        try fixture.resolver.failLookups()
        let outcomes = try await cache.refresh(now: fixture.clock.now).map(\.outcome)
        guard case .lookupFailed? = outcomes.first, outcomes.count == 1 else { Issue.record("\(outcomes)"); return }
        #expect(try await cache.entry(for: fixture.domain) == before)
        #expect(fixture.fetcher.calls == 1)
    }

    @Test func recordGoneKeepsAnEnforcedPolicy() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        fixture.clock.advance(day)
        try fixture.resolver.publish(nil)
        let outcomes = try await cache.refresh(now: fixture.clock.now).map(\.outcome)
        guard case .recordMissing(.noRecord)? = outcomes.first, outcomes.count == 1 else { Issue.record("\(outcomes)"); return }
        #expect(try await cache.entry(for: fixture.domain)?.fetched != nil)
    }

    @Test func recordGoneRemovesAModeNonePolicy() async throws {
        let (fixture, cache) = try await cached("version: STSv1\nmode: none\nmax_age: 604800\n")
        defer { cache.close() }
        fixture.clock.advance(day)
        try fixture.resolver.publish(nil)
        let outcomes = try await cache.refresh(now: fixture.clock.now).map(\.outcome)
        guard case .removed? = outcomes.first, outcomes.count == 1 else { Issue.record("\(outcomes)"); return }
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    /// Entries of no further use go: a backoff that ended with no policy behind it, and an
    /// expired policy nobody asked for within the recent-use window.
    @Test func removesStaleEntries() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        fixture.fetcher.fail(.status(500))
        _ = try await cache.get(fixture.domain)
        #expect(try await cache.refresh(now: fixture.clock.now).isEmpty)
        #expect(try await cache.entry(for: fixture.domain) != nil)
        fixture.clock.advance(PolicyCache.fetchBackoff)
        _ = try await cache.refresh(now: fixture.clock.now)
        #expect(try await cache.entry(for: fixture.domain) == nil)

        try fixture.fetcher.serve(policyText(maxAge: 3600))
        _ = try await cache.get(fixture.domain)
        fixture.clock.advance(7 * day + 1)
        _ = try await cache.refresh(now: fixture.clock.now)
        #expect(try await cache.entries().isEmpty)
    }

    /// The service: a pass at once, then one per interval, until `sleep` throws.
    @Test func refresherRunsPassesUntilStopped() async throws {
        let (fixture, cache) = try await cached()
        defer { cache.close() }
        fixture.clock.advance(day)
        let sleeps = Mutex<[Duration]>([])
        let clock = fixture.clock
        let refresher = PolicyRefresher(cache: cache) { duration in
            let count = sleeps.withLock { sleeps in
                sleeps.append(duration)
                return sleeps.count
            }
            clock.advance(TimeInterval(duration.components.seconds))
            if count == 2 { throw CancellationError() }
        }
        await refresher.run()
        #expect(sleeps.withLock { $0 } == [.seconds(3600), .seconds(3600)])
        // The first pass renewed the policy; the second found nothing due.
        #expect(fixture.fetcher.calls == 2)
        #expect(try await cache.entry(for: fixture.domain)?.fetched?.updated == fixture.clock.now.addingTimeInterval(-2 * hour))
    }
}
