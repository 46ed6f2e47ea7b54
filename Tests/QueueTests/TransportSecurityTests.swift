import DNS
import Foundation
import MTASTS
import MTASTSCache
import SMTPClient
import Synchronization
import TLSRPT
import Testing

@testable import Queue

/// The TLS decision for one MX host under DANE (RFC 7672), MTA-STS (RFC 8461), REQUIRETLS
/// (RFC 8689 §4.2.1) and "TLS-Required: No" (§4.2.2).
@Suite struct TransportSecurityTests {
    let resolver = MockResolver()
    let now: @Sendable () -> Date = { Date(timeIntervalSince1970: 1_795_301_115) }

    func request(
        host: String = "mx.example.net", secureHost: Bool = false, secureMX: Bool = false, requireTLS: Bool = false, ignorePolicy: Bool = false
    ) throws -> TLSPolicyRequest {
        let name = try DNSName(host)
        return TLSPolicyRequest(
            domain: "example.net",
            destinations: Destinations(domain: try DNSName("example.net"), expandedDomain: try DNSName("example.net"), authentic: secureMX, implicitMX: false, hosts: [name]),
            host: HostAddresses(host: name, expandedHost: name, addresses: [try #require(IPAddress("192.0.2.1"))], authentic: secureHost),
            requireTLS: requireTLS, ignorePolicy: ignorePolicy)
    }

    /// The cache's answer with a policy of `mode`.
    func policy(_ mode: String) throws -> PolicyLookup {
        let policy = try STSPolicy(parsing: "version: STSv1\nmode: \(mode)\nmx: *.example.net\nmax_age: 86400\n")
        return PolicyLookup(domain: try Domain("example.net"), outcome: .policy(policy, .cached))
    }

    func settings(_ decision: HostTLSDecision) -> TLSSettings? {
        if case let .connect(settings, _) = decision { return settings }
        return nil
    }

    func skipped(_ decision: HostTLSDecision) -> (DeliveryFailure, Bool)? {
        if case let .skip(failure, unmet, _) = decision { return (failure, unmet) }
        return nil
    }

    /// What TLS reports record about the host: the policies, and the failures known before
    /// connecting.
    func report(_ decision: HostTLSDecision) -> [(PolicyType, String, ResultType?)] {
        let scope: TLSReportScope?
        switch decision {
        case let .connect(_, report): scope = report
        case let .skip(_, _, report): scope = report
        }
        return (scope?.entries ?? []).map { ($0.policy.type, $0.policy.domain, $0.knownFailure?.resultType) }
    }

    @Test func noPolicyIsOpportunistic() async throws {
        let tls = try #require(settings(await TransportSecurity.decide(try request(), sts: nil, resolver: resolver, now: now)))
        #expect(!tls.required && tls.pkix == nil && tls.dane == nil && tls.serverName == "mx.example.net")
    }

    @Test func daneForAValidatedHostWithTLSA() async throws {
        try resolver.add("_25._tcp.mx.example.net", .tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 0xab, count: 32))), authentic: true)
        let tls = try #require(settings(await TransportSecurity.decide(try request(secureHost: true), sts: try policy("enforce"), resolver: resolver, now: now)))
        // DANE takes precedence over MTA-STS (RFC 8461 §2): no PKIX, DANE required.
        #expect(tls.required && tls.dane != nil && tls.pkix == nil && !tls.ignoreVerificationErrors)
        // Not validated: no DANE, whatever the records say.
        let insecure = try #require(settings(await TransportSecurity.decide(try request(secureHost: false), sts: nil, resolver: resolver, now: now)))
        #expect(insecure.dane == nil && !insecure.required)
        // "TLS-Required: No": tried, not enforced.
        let relaxed = try #require(settings(await TransportSecurity.decide(try request(secureHost: true, ignorePolicy: true), sts: nil, resolver: resolver, now: now)))
        #expect(!relaxed.required && relaxed.ignoreVerificationErrors)
    }

    /// RFC 7672 §2.2: only unusable records (PKIX-EE here): TLS required, unauthenticated.
    @Test func unusableTLSAStillRequiresTLS() async throws {
        try resolver.add("_25._tcp.mx.example.net", .tlsa(TLSA(usage: 1, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 32))), authentic: true)
        let tls = try #require(settings(await TransportSecurity.decide(try request(secureHost: true), sts: nil, resolver: resolver, now: now)))
        #expect(tls.required && tls.dane == nil && tls.pkix == nil)
    }

    /// RFC 7672 §2.1.2: a validated host whose TLSA lookup fails is not used.
    @Test func failedTLSALookupSkipsTheHost() async throws {
        resolver.fail(try DNSName("_25._tcp.mx.example.net"), .tlsa, with: .serverFailure(.serverFailure))
        let (failure, unmet) = try #require(skipped(await TransportSecurity.decide(try request(secureHost: true), sts: nil, resolver: resolver, now: now)))
        #expect(!failure.isPermanent && !unmet)
    }

    @Test func mtaSTSEnforceAndTesting() async throws {
        let enforce = try policy("enforce")
        let tls = try #require(settings(await TransportSecurity.decide(try request(host: "mx1.example.net"), sts: enforce, resolver: resolver, now: now)))
        #expect(tls.required && tls.pkix?.names == ["mx1.example.net"] && !tls.ignoreVerificationErrors)
        // RFC 8461 §4.1: an MX host the policy does not list is not used.
        let (failure, unmet) = try #require(skipped(await TransportSecurity.decide(try request(host: "mx.elsewhere.example"), sts: enforce, resolver: resolver, now: now)))
        #expect(failure.status == "4.4.4" && !failure.isPermanent && !unmet)
        #expect(failure.diagnostic.contains("not allowed by the MTA-STS policy of example.net"))
        // Testing: delivered anyway, verification recorded.
        let testing = try #require(settings(await TransportSecurity.decide(try request(host: "mx.elsewhere.example"), sts: try policy("testing"), resolver: resolver, now: now)))
        #expect(!testing.required && testing.pkix != nil && testing.ignoreVerificationErrors)
        // "TLS-Required: No" turns enforce into testing.
        let relaxed = try #require(settings(await TransportSecurity.decide(try request(host: "mx.elsewhere.example", ignorePolicy: true), sts: enforce, resolver: resolver, now: now)))
        #expect(!relaxed.required && relaxed.ignoreVerificationErrors)
    }

    /// RFC 8689 §4.2.1 step 2: the MX host must be vouched for by DNSSEC or MTA-STS.
    @Test func requireTLSNeedsAVouchedMX() async throws {
        let (failure, unmet) = try #require(skipped(await TransportSecurity.decide(try request(requireTLS: true), sts: nil, resolver: resolver, now: now)))
        #expect(unmet && failure.status == "5.7.10")
        let viaDNSSEC = try #require(settings(await TransportSecurity.decide(try request(secureMX: true, requireTLS: true), sts: nil, resolver: resolver, now: now)))
        #expect(viaDNSSEC.required && viaDNSSEC.pkix?.names == ["mx.example.net"] && !viaDNSSEC.ignoreVerificationErrors)
        // DANE verifies the certificate, but the MX host itself must still be vouched for.
        try resolver.add("_25._tcp.mx.example.net", .tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 0xab, count: 32))), authentic: true)
        #expect(skipped(await TransportSecurity.decide(try request(secureHost: true, requireTLS: true), sts: nil, resolver: resolver, now: now))?.1 == true)
        let daneAndDNSSEC = try #require(settings(await TransportSecurity.decide(try request(secureHost: true, secureMX: true, requireTLS: true), sts: nil, resolver: resolver, now: now)))
        #expect(daneAndDNSSEC.required && daneAndDNSSEC.dane != nil)
        // Testing-mode MTA-STS listing the host vouches for it; verification is then enforced.
        let viaSTS = try #require(settings(await TransportSecurity.decide(try request(requireTLS: true), sts: try policy("testing"), resolver: resolver, now: now)))
        #expect(viaSTS.required && !viaSTS.ignoreVerificationErrors)
    }

    /// The policy is looked up once per domain; mode none counts as no policy.
    @Test func modeNoneIsNoPolicy() async throws {
        let lookups = Mutex(0)
        let none = PolicyLookup(
            domain: try Domain("example.net"), outcome: .policy(try STSPolicy(parsing: "version: STSv1\nmode: none\nmax_age: 86400\n"), .cached))
        let policy = TLSPolicy.secure(stsPolicy: { _ in lookups.withLock { $0 += 1 }; return none }, resolver: resolver, now: now)
        let domain = await policy.prepare("example.net")
        for host in ["mx.elsewhere.example", "mx2.elsewhere.example"] {
            let decision = await domain.decide(try request(host: host))
            let tls = try #require(settings(decision))
            #expect(tls.pkix == nil && !tls.required)
            // RFC 8461 §5: a TLS report says no-policy-found.
            #expect(report(decision).map(\.0) == [.noPolicyFound])
        }
        #expect(lookups.withLock { $0 } == 1)
    }
}
