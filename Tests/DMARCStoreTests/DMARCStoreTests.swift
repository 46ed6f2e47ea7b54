import DMARC
import DMARCStore
import DNS
import Foundation
import PublicSuffix
import TestSupport
import Testing

@Suite struct DMARCStoreTests {
    let monday = Date(timeIntervalSince1970: 1_795_305_600)  // 2026-11-22T00:00:00Z

    func evaluation(record: String, author: String, spf: SPFAuthResult, dkim: [DKIMOutcome] = []) async throws -> DMARCEvaluation {
        let resolver = MockResolver()
        try resolver.add("_dmarc.example.com", .txt([Array(record.utf8)]))
        let verifier = DMARCVerifier(resolver: resolver, publicSuffixList: try PublicSuffixList.shipped())
        var generator = SplitMix64(state: 1)
        let authentication = AuthenticationResults(spf: SPFOutcome(result: spf, domain: try Domain("bounces.example.com"), scope: .mailFrom), dkim: dkim)
        return await verifier.verify(authorDomain: try Domain(author), authentication: authentication, using: &generator)
    }

    @Test func evaluationsAddUpPerHourAndPolicyDomain() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/dmarc.db"
        let record = "v=DMARC1; p=reject; sp=quarantine; pct=50; fo=1:d; rua=mailto:dmarc@example.com"
        let signature = DKIMOutcome(result: .fail, domain: try Domain("example.com"), selector: "s1")
        let failed = try await evaluation(record: record, author: "news.example.com", spf: .fail, dkim: [signature])
        let passed = try await evaluation(record: record, author: "example.com", spf: .pass)
        let client = try #require(IPAddress("192.0.2.25"))
        let client6 = try #require(IPAddress("2001:db8::25"))

        var store = try DMARCStore.open(path: path)
        #expect(try await store.add(failed, sourceIP: client, envelopeFrom: "Bounces.example.com", envelopeTo: "example.org", at: monday))
        #expect(try await store.add(failed, sourceIP: client, envelopeFrom: "bounces.example.com", envelopeTo: "example.org", at: monday.addingTimeInterval(3599)))
        #expect(try await store.add(passed, sourceIP: client6, envelopeFrom: "bounces.example.com", envelopeTo: nil, at: monday.addingTimeInterval(60)))
        #expect(try await store.add(passed, sourceIP: client6, envelopeFrom: "bounces.example.com", envelopeTo: nil, at: monday.addingTimeInterval(3600)))
        store.close()

        // Reopened: kept, identical evaluations of one hour in one row with a count.
        store = try DMARCStore.open(path: path)
        defer { store.close() }
        let firstHour = try await store.evaluations(policyDomain: "EXAMPLE.com", from: monday, to: monday.addingTimeInterval(3600))
        #expect(firstHour.map(\.count) == [2, 1])
        let row = try #require(firstHour.first)
        #expect(row.hour == monday)
        #expect(row.policyDomain == "example.com")
        #expect(row.sourceIP == client)
        #expect(row.headerFrom == "news.example.com")
        #expect(row.envelopeFrom == "bounces.example.com")
        #expect(row.envelopeTo == "example.org")
        #expect(row.disposition == failed.disposition)
        #expect(row.sampledOut == failed.sampledOut)
        #expect(!row.dkimAligned && !row.spfAligned)
        #expect(row.dkim == [DKIMAuthentication(domain: "example.com", selector: "s1", result: .fail)])
        #expect(row.spf == SPFAuthentication(domain: "bounces.example.com", scope: .mailFrom, result: .fail))
        let published = row.publishedPolicy
        #expect(published.domain == "example.com")
        #expect(published.p == .reject && published.sp == .quarantine && published.pct == 50 && published.fo == "1:d")
        #expect(published.adkim == .relaxed && published.aspf == .relaxed)

        let second = firstHour[1]
        #expect(second.sourceIP == client6)
        #expect(second.envelopeTo == nil)
        #expect(second.spfAligned && second.disposition == .none)

        #expect(try await store.policyDomains(from: monday, to: monday.addingTimeInterval(7200)) == ["example.com"])
        #expect(try await store.evaluations(policyDomain: "example.com", from: monday, to: monday.addingTimeInterval(7200)).count == 3)
        #expect(try await store.policyDomains(from: monday.addingTimeInterval(7200), to: monday.addingTimeInterval(9000)).isEmpty)

        // Removal goes by whole hours: a date inside the second hour keeps that hour.
        #expect(try await store.removeEvaluations(before: monday.addingTimeInterval(3600 + 1800)) == 2)
        #expect(try await store.evaluations(policyDomain: "example.com", from: .distantPast, to: .distantFuture).map(\.hour) == [monday.addingTimeInterval(3600)])
    }

    /// Only evaluations under a record with "rua" are kept (RFC 7489 §6.3: without it, no
    /// aggregate reports).
    @Test func onlyWhenAggregateReportsAreAskedFor() async throws {
        let directory = try TemporaryDirectory()
        let store = try DMARCStore.open(path: directory.path + "/dmarc.db")
        defer { store.close() }
        let client = try #require(IPAddress("192.0.2.1"))
        let withoutRUA = try await evaluation(record: "v=DMARC1; p=reject", author: "example.com", spf: .fail)
        let noRecord = try await evaluation(record: "v=spf1 -all", author: "example.com", spf: .fail)
        #expect(try await !store.add(withoutRUA, sourceIP: client, envelopeFrom: "", envelopeTo: nil, at: monday))
        #expect(try await !store.add(noRecord, sourceIP: client, envelopeFrom: "", envelopeTo: nil, at: monday))
        #expect(try await store.policyDomains(from: .distantPast, to: .distantFuture).isEmpty)
    }

    @Test func hourIsUTC() {
        #expect(DMARCStore.hour(of: monday.addingTimeInterval(3599.9)) == monday)
        #expect(DMARCStore.hour(of: monday.addingTimeInterval(3600)) == monday.addingTimeInterval(3600))
        #expect(DMARCStore.hour(of: monday.addingTimeInterval(-0.5)) == monday.addingTimeInterval(-3600))
    }
}
