import DNS
import Foundation
import MTASTS
import MTASTSCache
import MetricsTestKit
import SMTP
import SMTPClient
import SMTPServer
import Synchronization
import TLSRPT
import Testing

@testable import Queue

/// Accepts every recipient into a local mailbox: a receiving MX.
struct AcceptingPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision { .local(account: "any", mailbox: "Inbox") }
    func mayUseSender(_ sender: ReversePath, account: String) -> Bool { true }
}

/// Keeps what the queue records for TLS reports.
final class RecordedTLSResults: Sendable {
    private let results = Mutex<[TLSReportResult]>([])
    var all: [TLSReportResult] { results.withLock { $0 } }
    var recorder: TLSResultRecorder { TLSResultRecorder { new in self.results.withLock { $0 += new } } }
}

/// TLS report results (RFC 8460) of direct delivery: what each session counts as for each
/// policy, end to end through the queue and the real SMTP client.
@Suite(.serialized) struct TLSReportingTests {
    let lookupDate = Date(timeIntervalSince1970: 1_795_301_115)

    func stsLookup(_ mode: String) throws -> PolicyLookup {
        let policy = try STSPolicy(parsing: "version: STSv1\nmode: \(mode)\nmx: *.example.net\nmax_age: 86400\n")
        return PolicyLookup(domain: try Domain("example.net"), outcome: .policy(policy, .fetched))
    }

    // MARK: The policies a report names

    @Test func domainEntryFromTheCachesAnswer() throws {
        let sts = TLSReportScope.domainEntry(try stsLookup("testing"), domain: "example.net")
        // §4.5: the policy's lines, and its MX patterns.
        #expect(sts.policy == Policy(
            type: .sts, string: ["version: STSv1", "mode: testing", "mx: *.example.net", "max_age: 86400"], domain: "example.net",
            mxHost: ["*.example.net"]))
        #expect(sts.verification == .pkix && sts.knownFailure == nil)

        let none = TLSReportScope.domainEntry(nil, domain: "example.net")
        #expect(none.policy == Policy(type: .noPolicyFound, domain: "example.net") && none.verification == nil)

        // A policy announced but not fetched: every session reports the fetch failure (§4.3.2.2).
        let failed = PolicyLookup(
            domain: try Domain("example.net"),
            outcome: .noPolicy(.fetchFailed(
                recordID: "20261122", PolicyFailure(resultType: .policyFetchError, reason: "cannot connect to the policy host"),
                retryAfter: lookupDate)))
        let entry = TLSReportScope.domainEntry(failed, domain: "example.net")
        #expect(entry.policy.type == .sts)
        #expect(entry.knownFailure == TLSReportScope.KnownFailure(resultType: .stsPolicyFetchError, detail: "cannot connect to the policy host"))
    }

    @Test func sessionOutcomesPerPolicy() throws {
        let scope = TLSReportScope(
            recipientDomain: "example.net", mxHost: "mx.example.net",
            entries: [
                TLSReportScope.domainEntry(try stsLookup("testing"), domain: "example.net"),
                TLSReportScope.daneEntry(host: "mx.example.net", records: [TLSA(usage: 3, selector: 1, matchingType: 1, data: [0xab, 0xcd])]),
            ])
        func state(pkix: VerificationOutcome?, dane: VerificationOutcome?) -> TLSConnectionState {
            TLSConnectionState(version: .tlsv13, serverName: "mx.example.net", peerCertificates: PeerCertificateChain(der: []), pkix: pkix, dane: dane, channelBinding: nil)
        }
        func summary(_ outcome: SessionTLSOutcome?) -> [String] {
            scope.results(of: outcome, address: "192.0.2.1").map { result in
                let failure = result.result.failureDetails.first.map { " \($0.resultType) \($0.receivingMXHostname ?? "-") \($0.receivingIP ?? "-")" } ?? ""
                return "\(result.policyDomain) \(result.isHost ? "host" : "domain") \(result.result.summary.successful)/\(result.result.summary.failed)" + failure
            }
        }
        #expect(summary(.established(state(pkix: .verified, dane: .verified))) == ["example.net domain 1/0", "mx.example.net host 1/0"])
        // Testing mode: PKIX failed but was ignored; DANE passed. Each policy its own verdict.
        let mismatch = VerificationOutcome.failed(VerificationFailure(resultType: .certificateHostMismatch, reason: "not for mx.example.net"))
        #expect(summary(.established(state(pkix: mismatch, dane: .verified))) == [
            "example.net domain 0/1 certificate-host-mismatch mx.example.net 192.0.2.1", "mx.example.net host 1/0",
        ])
        #expect(summary(.plaintext(startTLSOffered: false)) == [
            "example.net domain 0/1 starttls-not-supported mx.example.net 192.0.2.1", "mx.example.net host 0/1 starttls-not-supported mx.example.net 192.0.2.1",
        ])
        let alert = TLSSessionFailure(resultType: .validationFailure, reason: .alert(TLSAlert(code: 40)), detail: "handshake_failure")
        #expect(summary(.failed(alert)).allSatisfy { $0.hasSuffix("0/1 validation-failure mx.example.net 192.0.2.1") })
        // Without a session, only what was known before counts: nothing here.
        #expect(summary(nil).isEmpty)
        #expect(SessionTLSOutcome.established(state(pkix: mismatch, dane: .verified)).failure?.resultType == .certificateHostMismatch)
        #expect(SessionTLSOutcome.established(state(pkix: nil, dane: nil)).failure == nil)
    }

    // MARK: Decisions

    @Test func decisionsSayWhatIsReported() async throws {
        let resolver = MockResolver()
        let now: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_795_301_115) }
        func request(_ host: String, secure: Bool = false) throws -> TLSPolicyRequest {
            let name = try DNSName(host)
            return TLSPolicyRequest(
                domain: "example.net",
                destinations: Destinations(domain: try DNSName("example.net"), expandedDomain: try DNSName("example.net"), authentic: false, implicitMX: false, hosts: [name]),
                host: HostAddresses(host: name, expandedHost: name, addresses: [try #require(IPAddress("192.0.2.1"))], authentic: secure),
                requireTLS: false)
        }
        func entries(_ decision: HostTLSDecision) -> [String] {
            let scope: TLSReportScope?
            switch decision {
            case let .connect(_, report): scope = report
            case let .skip(_, _, report): scope = report
            }
            return (scope?.entries ?? []).map { "\($0.policy.type.rawValue) \($0.policy.domain) \($0.knownFailure?.resultType.rawValue ?? "-")" }
        }
        // An MX host outside a testing policy: delivered, and reported as a failure.
        #expect(entries(await TransportSecurity.decide(try request("mx.elsewhere.example"), sts: try stsLookup("testing"), resolver: resolver, now: now))
            == ["sts example.net validation-failure"])
        // Outside an enforced policy: skipped, the same failure reported once.
        let skipped = await TransportSecurity.decide(try request("mx.elsewhere.example"), sts: try stsLookup("enforce"), resolver: resolver, now: now)
        guard case .skip = skipped else { Issue.record("not skipped: \(skipped)"); return }
        #expect(entries(skipped) == ["sts example.net validation-failure"])
        // DANE: the MX host is the policy domain; unusable records are a known failure.
        try resolver.add("_25._tcp.mx1.example.net", .tlsa(TLSA(usage: 1, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 32))), authentic: true)
        #expect(entries(await TransportSecurity.decide(try request("mx1.example.net", secure: true), sts: try stsLookup("enforce"), resolver: resolver, now: now))
            == ["sts example.net -", "tlsa mx1.example.net tlsa-invalid"])
        // A signed host whose TLSA lookup fails: skipped, "dnssec-invalid" (§4.3.2.1).
        resolver.fail(try DNSName("_25._tcp.mx2.example.net"), .tlsa, with: .serverFailure(.serverFailure))
        #expect(entries(await TransportSecurity.decide(try request("mx2.example.net", secure: true), sts: nil, resolver: resolver, now: now))
            == ["tlsa mx2.example.net dnssec-invalid"])
    }

    // MARK: Through the queue

    /// A next hop without STARTTLS: delivered in plaintext, reported as "starttls-not-supported"
    /// under no-policy-found, and counted in the metrics.
    @Test func plaintextSessionIsReported() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let recorded = RecordedTLSResults()
        let metrics = TestMetrics()
        let fixture = try await QueueFixture(port: server.port, metrics: QueueMetrics(factory: metrics), tlsResults: recorded.recorder)
        try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        #expect(recorded.all == [TLSReportResult(
            recipientDomain: "example.net",
            result: .failure(
                Policy(type: .noPolicyFound, domain: "example.net"),
                FailureDetail(
                    resultType: .starttlsNotSupported, receivingMXHostname: "mx.example.net", receivingIP: "127.0.0.1",
                    failureReasonCode: "STARTTLS not offered; delivered without TLS")))])
        #expect(try metrics.expectCounter("tern_queue_tls_sessions_total", [("result", "failure")]).totalValue == 1)
        #expect(try metrics.expectCounter(
            "tern_queue_tls_failures_total", [("result_type", "starttls-not-supported"), ("reason", "starttls-not-offered")]).totalValue == 1)
    }

    /// Real TLS to Tern's own server: MTA-STS testing mode with a certificate the system does
    /// not trust (delivered, PKIX failure reported), then DANE with a matching DANE-EE record
    /// (success for the MX host's TLSA policy and for the domain's).
    @Test func tlsSessionsAreReportedPerPolicy() async throws {
        let server = try await InProcessServer(kind: .incoming, hostname: "mx.example.net", policy: AcceptingPolicy())
        defer { server.stop() }
        let recorded = RecordedTLSResults()
        let metrics = TestMetrics()
        let lookup = try stsLookup("testing")
        let fixture = try await QueueFixture(
            port: server.port, metrics: QueueMetrics(factory: metrics),
            tlsPolicy: .secure(stsPolicy: { _ in lookup }, resolver: MockResolver(), now: { Date() }), tlsResults: recorded.recorder)
        try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty && server.kept.envelopes.count == 1)
        let stsResult = try #require(recorded.all.first)
        #expect(recorded.all.count == 1 && stsResult.policyDomain == "example.net" && !stsResult.isHost)
        #expect(stsResult.result.policy.type == .sts && stsResult.result.summary == Summary(successful: 0, failed: 1))
        #expect(stsResult.result.failureDetails.first?.resultType == .certificateNotTrusted)
        #expect(try metrics.expectCounter(
            "tern_queue_tls_failures_total", [("result_type", "certificate-not-trusted"), ("reason", "verification")]).totalValue == 1)

        // DANE-EE(3) full certificate (0), exact (0), for a signed MX host: verified.
        let resolver = MockResolver()
        let dane = RecordedTLSResults()
        let signed = try await QueueFixture(
            port: server.port, resolver: resolver, tlsPolicy: .secure(stsPolicy: { _ in nil }, resolver: resolver, now: { Date() }),
            tlsResults: dane.recorder)
        resolver.setAuthentic(try DNSName("mx.example.net"))
        try resolver.add(
            "_\(server.port)._tcp.mx.example.net", .tlsa(TLSA(usage: 3, selector: 0, matchingType: 0, data: server.certificateDER)), authentic: true)
        try await signed.queue.enqueue(submission(to: ["carol@example.net"]))
        try await signed.queue.runDue()
        #expect(try await signed.queue.list().isEmpty && server.kept.envelopes.count == 2)
        #expect(dane.all.map { "\($0.policyDomain) \($0.result.policy.type.rawValue) \($0.result.summary.successful)/\($0.result.summary.failed)" }
            == ["example.net no-policy-found 1/0", "mx.example.net tlsa 1/0"])
        #expect(dane.all.last?.result.policy.string == ["3 0 0 " + server.certificateDER.map { String(format: "%02x", $0) }.joined()])
    }
}
