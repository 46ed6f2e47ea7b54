import Foundation
import Testing
import TLSRPT
import TLSRPTStore
import TestSupport

@Suite struct TLSRPTStoreTests {
    @Test func resultsAddUpPerDayAndPolicyDomain() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/tlsrpt.db"
        let monday = Date(timeIntervalSince1970: 1_795_305_600)  // 2026-11-22T00:00:00Z
        let sts = Policy(type: .sts, string: ["version: STSv1", "mode: enforce"], domain: "example.com", mxHost: ["mx.example.com"])
        let dane = Policy(type: .tlsa, string: ["3 1 1 AA"], domain: "mx.example.com")
        let mismatch = FailureDetail(resultType: .certificateHostMismatch, receivingMXHostname: "mx.example.com")

        var store = try TLSRPTStore.open(path: path)
        try await store.add([.success(sts)], policyDomain: "Example.COM", recipientDomain: "example.com", isHost: false, at: monday)
        try await store.add([.failure(sts, mismatch)], policyDomain: "example.com", recipientDomain: "example.com", isHost: false, at: monday.addingTimeInterval(3600))
        try await store.add([.success(dane)], policyDomain: "mx.example.com", recipientDomain: "example.com", isHost: true, at: monday)
        try await store.add([.success(sts)], policyDomain: "example.com", recipientDomain: "example.com", isHost: false, at: monday.addingTimeInterval(86400))
        try await store.add([], policyDomain: "example.org", recipientDomain: "example.org", isHost: false, at: monday)
        store.close()

        // Reopened: everything kept, one row per day, policy domain and kind.
        store = try TLSRPTStore.open(path: path)
        defer { store.close() }
        #expect(try await store.days() == ["2026-11-22", "2026-11-23"])
        let day = try await store.results(day: "2026-11-22")
        #expect(day.map(\.policyDomain) == ["example.com", "mx.example.com"])
        #expect(day[0].results == [PolicyResult(policy: sts, summary: Summary(successful: 1, failed: 1), failureDetails: [mismatch])])
        #expect(day[1].isHost && day[1].recipientDomain == "example.com" && day[1].results == [.success(dane)])

        #expect(try await store.removeDays(before: "2026-11-23") == 2)
        #expect(try await store.days() == ["2026-11-23"])
    }

    @Test func dayIsUTC() {
        #expect(TLSRPTStore.day(of: Date(timeIntervalSince1970: 1_795_305_599)) == "2026-11-21")
        #expect(TLSRPTStore.day(of: Date(timeIntervalSince1970: 1_795_305_600)) == "2026-11-22")
    }
}
