import DNS
import Foundation
import GRDB
import MTASTS
import MTASTSCache
import MetricsTestKit
import Testing

/// Every transition of `PolicyCache.get`, with the test's clock, DNS and fetcher.
@Suite struct PolicyCacheTests {
    // MARK: No cached policy

    @Test func noRecordMeansNoPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish(nil)
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.noRecord(.noRecord)) = lookup.outcome else { Issue.record("\(lookup)"); return }
        #expect(lookup.policy == nil)
        #expect(lookup.report == .noPolicyFound)
        #expect(fixture.fetcher.calls == 0)
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    /// RFC 8461 §3.1: an invalid record means no policy; the report says the policy is invalid.
    @Test func invalidRecordMeansNoPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=not-alphanumeric")
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.noRecord(.syntax(.invalidID("not-alphanumeric"), _))) = lookup.outcome else { Issue.record("\(lookup)"); return }
        guard case let .failure(failure) = lookup.report else { Issue.record("\(lookup.report)"); return }
        #expect(failure.resultType == .policyInvalid)
        #expect(fixture.fetcher.calls == 0)
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    @Test func lookupFailureWithoutCachedPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.failLookups()
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.lookupFailed(.lookupFailed)) = lookup.outcome else { Issue.record("\(lookup)"); return }
        // Whether the domain has a policy is unknown: a TLS report says no-policy-found.
        #expect(lookup.report == .noPolicyFound)
        #expect(fixture.fetcher.calls == 0)
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    @Test func firstFetchIsCached() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        let text = policyText(maxAge: 86400)
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(text)
        let lookup = try await cache.get(fixture.domain)
        let policy = try STSPolicy(parsing: text)
        #expect(lookup.outcome == .policy(policy, .fetched))
        #expect(lookup.report == .sts(policy))
        let entry = try #require(try await cache.entry(for: fixture.domain))
        let now = fixture.clock.now
        #expect(entry.fetched?.policy == policy)
        #expect(entry.fetched?.recordID == "1")
        #expect(entry.fetched?.updated == now)
        #expect(entry.fetched?.validUntil == now.addingTimeInterval(86400))
        #expect(entry.inserted == now)
        #expect(entry.lastUsed == now)
        #expect(entry.backoff == nil)
    }

    /// RFC 8461 §3.3: after a failed fetch, no new attempt for the same id within five minutes.
    @Test func failedFirstFetchBacksOff() async throws {
        let fixture = try Fixture()
        let metrics = TestMetrics()
        let cache = try fixture.open(metrics: metrics)
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        fixture.fetcher.fail(.status(500))
        let failure = PolicyFailure(.status(500))
        let retryAfter = fixture.clock.now.addingTimeInterval(PolicyCache.fetchBackoff)

        let first = try await cache.get(fixture.domain)
        #expect(first.outcome == .noPolicy(.fetchFailed(recordID: "1", failure, retryAfter: retryAfter)))
        #expect(first.report == .failure(failure))
        let entry = try #require(try await cache.entry(for: fixture.domain))
        #expect(entry.fetched == nil)
        #expect(entry.backoff?.recordID == "1")
        #expect(entry.backoff?.until == retryAfter)
        #expect(entry.backoff?.failure == failure)

        fixture.clock.advance(PolicyCache.fetchBackoff - 1)
        try fixture.fetcher.serve(policyText())
        #expect(try await cache.get(fixture.domain).outcome == .noPolicy(.fetchFailed(recordID: "1", failure, retryAfter: retryAfter)))
        #expect(fixture.fetcher.calls == 1)

        fixture.clock.advance(1)
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText()), .fetched))
        #expect(fixture.fetcher.calls == 2)
        #expect(try await cache.entry(for: fixture.domain)?.backoff == nil)
        // Each answer counted by how it came about.
        #expect(try metrics.expectCounter("tern_mtasts_lookups_total", [("outcome", "fetch_failed")]).totalValue == 2)
        #expect(try metrics.expectCounter("tern_mtasts_lookups_total", [("outcome", "fetched")]).totalValue == 1)
    }

    /// The backoff is per record id: a new id is fetched at once.
    @Test func newRecordIDIsFetchedDuringBackoff() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        fixture.fetcher.fail(.timeout(.seconds(60)))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(10)
        try fixture.resolver.publish("v=STSv1; id=2")
        try fixture.fetcher.serve(policyText())
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText()), .fetched))
        #expect(fixture.fetcher.calls == 2)
        #expect(try await cache.entry(for: fixture.domain)?.fetched?.recordID == "2")
    }

    // MARK: Cached policy

    @Test func sameRecordIDUsesTheCache() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText())
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(3600)
        fixture.fetcher.fail(.status(500))
        let lookup = try await cache.get(fixture.domain)
        #expect(lookup.outcome == .policy(try STSPolicy(parsing: policyText()), .cached))
        #expect(fixture.fetcher.calls == 1)
        #expect(try await cache.entry(for: fixture.domain)?.lastUsed == fixture.clock.now)
    }

    @Test func newRecordIDFetchesTheNewPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText(mode: "testing"))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(3600)
        try fixture.resolver.publish("v=STSv1; id=2")
        try fixture.fetcher.serve(policyText(mode: "enforce", mx: "*.example.net"))
        let lookup = try await cache.get(fixture.domain)
        #expect(lookup.outcome == .policy(try STSPolicy(parsing: policyText(mode: "enforce", mx: "*.example.net")), .fetched))
        let entry = try #require(try await cache.entry(for: fixture.domain))
        #expect(entry.fetched?.recordID == "2")
        #expect(entry.fetched?.updated == fixture.clock.now)
        #expect(entry.inserted == fixture.clock.now.addingTimeInterval(-3600))
    }

    /// A new id whose policy cannot be fetched: the cached policy stays in use, and the new id
    /// backs off.
    @Test func newRecordIDFetchFailureKeepsTheCachedPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        let old = try STSPolicy(parsing: policyText())
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText())
        _ = try await cache.get(fixture.domain)

        try fixture.resolver.publish("v=STSv1; id=2")
        let error = PolicyFetchError.certificate("expired")
        fixture.fetcher.fail(error)
        let retryAfter = fixture.clock.now.addingTimeInterval(PolicyCache.fetchBackoff)
        let kept = PolicyLookup.Outcome.policy(old, .keptAfterFetchFailure(recordID: "2", PolicyFailure(error), retryAfter: retryAfter))
        let lookup = try await cache.get(fixture.domain)
        #expect(lookup.outcome == kept)
        #expect(lookup.report == .sts(old))
        #expect(PolicyFailure(error).resultType == .webPKIInvalid)
        #expect(try await cache.entry(for: fixture.domain)?.fetched?.recordID == "1")

        fixture.clock.advance(60)
        #expect(try await cache.get(fixture.domain).outcome == kept)
        #expect(fixture.fetcher.calls == 2)

        fixture.clock.advance(PolicyCache.fetchBackoff)
        try fixture.fetcher.serve(policyText(mode: "testing"))
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText(mode: "testing")), .fetched))
        #expect(fixture.fetcher.calls == 3)
    }

    @Test func lookupFailureKeepsTheCachedPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText())
        _ = try await cache.get(fixture.domain)

        try fixture.resolver.failLookups()
        let lookup = try await cache.get(fixture.domain)
        guard case let .policy(policy, .keptAfterLookupFailure(error)) = lookup.outcome else { Issue.record("\(lookup)"); return }
        #expect(policy.text == policyText())
        #expect(error.isTemporary)
        #expect(lookup.report == .sts(policy))
        #expect(fixture.fetcher.calls == 1)
    }

    /// RFC 8461 §3.1 and §10: the record going away does not end a policy that is in force.
    @Test func recordGoneKeepsAnEnforcedPolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText())
        _ = try await cache.get(fixture.domain)

        try fixture.resolver.publish(nil)
        let gone = try await cache.get(fixture.domain)
        guard case .policy(_, .keptWithoutRecord(.noRecord)) = gone.outcome else { Issue.record("\(gone)"); return }
        #expect(gone.description.contains("possible downgrade attack"))

        try fixture.resolver.publish("v=STSv1; id=1; id")
        let broken = try await cache.get(fixture.domain)
        guard case .policy(_, .keptWithoutRecord(.syntax)) = broken.outcome else { Issue.record("\(broken)"); return }
        #expect(try await cache.entry(for: fixture.domain)?.fetched?.recordID == "1")
        #expect(fixture.fetcher.calls == 1)
    }

    /// RFC 8461 §8.3: a domain ends its policy by publishing mode none, then removing the record.
    @Test func recordGoneRemovesAModeNonePolicy() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve("version: STSv1\nmode: none\nmax_age: 86400\n")
        let none = try await cache.get(fixture.domain)
        #expect(none.policy?.mode == STSPolicy.Mode.none)
        #expect(none.report == .noPolicyFound)

        try fixture.resolver.publish(nil)
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.removed(.noRecord)) = lookup.outcome else { Issue.record("\(lookup)"); return }
        #expect(lookup.report == .noPolicyFound)
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    // MARK: Expired policy (RFC 8461 §5.1: not applied past max_age)

    @Test func expiredPolicyIsNotAppliedWhenTheFetchFails() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText(maxAge: 3600))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(3600)
        fixture.fetcher.fail(.connection("refused"))
        let lookup = try await cache.get(fixture.domain)
        let failure = PolicyFailure(.connection("refused"))
        #expect(lookup.outcome == .noPolicy(.fetchFailed(recordID: "1", failure, retryAfter: fixture.clock.now.addingTimeInterval(PolicyCache.fetchBackoff))))
        #expect(lookup.report == .failure(failure))
        #expect(try await cache.entry(for: fixture.domain)?.fetched == nil)
    }

    @Test func expiredPolicyIsFetchedAgain() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText(maxAge: 3600))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(7200)
        #expect(try await cache.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText(maxAge: 3600)), .fetched))
        #expect(fixture.fetcher.calls == 2)
        #expect(try await cache.entry(for: fixture.domain)?.fetched?.validUntil == fixture.clock.now.addingTimeInterval(3600))
    }

    @Test func expiredPolicyWithoutRecordIsRemoved() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText(maxAge: 3600))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(3600)
        try fixture.resolver.publish(nil)
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.noRecord(.noRecord)) = lookup.outcome else { Issue.record("\(lookup)"); return }
        #expect(try await cache.entry(for: fixture.domain) == nil)
    }

    @Test func expiredPolicyIsNotAppliedWhenTheLookupFails() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        defer { cache.close() }
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText(maxAge: 3600))
        _ = try await cache.get(fixture.domain)

        fixture.clock.advance(3600)
        try fixture.resolver.failLookups()
        let lookup = try await cache.get(fixture.domain)
        guard case .noPolicy(.lookupFailed) = lookup.outcome else { Issue.record("\(lookup)"); return }
        #expect(lookup.policy == nil)
    }

    // MARK: Persistence

    @Test func policiesSurviveReopening() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        try fixture.resolver.publish("v=STSv1; id=1")
        try fixture.fetcher.serve(policyText())
        _ = try await cache.get(fixture.domain)
        let other = try Domain("other.example")
        let stored = try #require(try await cache.entry(for: fixture.domain))
        cache.close()

        let reopened = try fixture.open()
        defer { reopened.close() }
        #expect(try await reopened.entry(for: fixture.domain) == stored)
        #expect(try await reopened.entries().map(\.domain) == [fixture.domain])
        #expect(try await reopened.get(fixture.domain).outcome == .policy(try STSPolicy(parsing: policyText()), .cached))
        #expect(fixture.fetcher.calls == 1)
        #expect(try await reopened.entry(for: other) == nil)
    }

    /// The database is SQLite in WAL mode with the table the migration creates.
    @Test func schema() async throws {
        let fixture = try Fixture()
        try fixture.open().close()
        let database = try DatabaseQueue(path: fixture.path)
        defer { try? database.close() }
        let (journalMode, columns, migrations) = try await database.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode"), try db.columns(in: "policy").map(\.name),
                try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            )
        }
        #expect(journalMode == "wal")
        #expect(columns == [
            "domain", "inserted", "lastUsed", "recordID", "policyText", "updated", "validUntil",
            "backoffRecordID", "backoffUntil", "failureResultType", "failureReason",
        ])
        #expect(migrations == ["v1"])
    }

    @Test func backoffSurvivesReopening() async throws {
        let fixture = try Fixture()
        let cache = try fixture.open()
        try fixture.resolver.publish("v=STSv1; id=1")
        fixture.fetcher.fail(.tooLarge(limit: 65536))
        _ = try await cache.get(fixture.domain)
        cache.close()

        let reopened = try fixture.open()
        defer { reopened.close() }
        let backoff = try #require(try await reopened.entry(for: fixture.domain)?.backoff)
        #expect(backoff.failure == PolicyFailure(.tooLarge(limit: 65536)))
        #expect(backoff.failure.resultType == .policyInvalid)
        guard case .noPolicy(.fetchFailed) = try await reopened.get(fixture.domain).outcome else { Issue.record("not in backoff"); return }
        #expect(fixture.fetcher.calls == 1)
    }
}
