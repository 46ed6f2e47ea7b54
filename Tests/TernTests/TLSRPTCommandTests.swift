import Foundation
import TLSRPT
import TLSRPTStore
import TestSupport
import Testing

/// `tern tlsrpt results`: what direct delivery recorded, read from the data directory.
@Suite struct TLSRPTCommandTests {
    @Test func printsTheRecordedResults() async throws {
        let directory = try TemporaryDirectory()
        let store = try TLSRPTStore.open(path: directory.path + "/tlsrpt.db")
        let day = Date(timeIntervalSince1970: 1_795_301_115)  // 2026-11-21, 22:45 UTC
        let sts = Policy(type: .sts, string: ["version: STSv1", "mode: testing", "mx: *.example.net", "max_age: 86400"], domain: "example.net", mxHost: ["*.example.net"])
        try await store.add([.success(sts)], policyDomain: "example.net", recipientDomain: "example.net", isHost: false, at: day)
        try await store.add(
            [.failure(sts, FailureDetail(
                resultType: .certificateExpired, receivingMXHostname: "mx.example.net", receivingIP: "192.0.2.1", failureReasonCode: "expired yesterday"))],
            policyDomain: "example.net", recipientDomain: "example.net", isHost: false, at: day)
        try await store.add(
            [.success(Policy(type: .tlsa, string: ["3 1 1 abcd"], domain: "mx.example.net"))], policyDomain: "mx.example.net",
            recipientDomain: "example.net", isHost: true, at: day.addingTimeInterval(86400))
        store.close()

        let text = try await TernRun.run(["tlsrpt", "results", "--dir", directory.path])
        #expect(text.status == 0 && text.stderr == "")
        #expect(text.stdout == """
            2026-11-21 example.net recipient-domain=example.net policy=sts (mode: testing) successful=1 failed=1
              certificate-expired count=1 mx=mx.example.net ip=192.0.2.1: expired yesterday
            2026-11-22 mx.example.net recipient-domain=example.net policy=tlsa successful=1 failed=0

            """)

        let json = try await TernRun.run(["tlsrpt", "results", "--dir", directory.path, "--day", "2026-11-22", "--json"])
        #expect(json.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(decoded?.count == 1)
        #expect(decoded?.first?["day"] as? String == "2026-11-22")
        let policies = decoded?.first?["policies"] as? [[String: Any]]
        // RFC 8460 §4.4 member names.
        #expect((policies?.first?["policy"] as? [String: Any])?["policy-type"] as? String == "tlsa")
        #expect((policies?.first?["summary"] as? [String: Any])?["total-successful-session-count"] as? Int == 1)
    }

    @Test func nothingRecordedYet() async throws {
        let directory = try TemporaryDirectory()
        let run = try await TernRun.run(["tlsrpt", "results", "--dir", directory.path])
        #expect(run.status == 0 && run.stdout == "")
        #expect(run.stderr.contains("no results recorded") && run.stderr.contains("tlsrpt.db does not exist"))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/tlsrpt.db"))
    }

    @Test func badConfigurationIsAnError() async throws {
        let run = try await TernRun.run(["tlsrpt", "results", "--config", "/nonexistent/tern.yaml"])
        #expect(run.status == 1 && run.stderr.contains("/nonexistent/tern.yaml"))
    }
}
