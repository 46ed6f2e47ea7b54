import DMARC
import DNS
import Testing

/// Verifying external report destinations, RFC 7489 §7.1.
@Suite struct ReportDestinationTests {
    func uri(_ text: String) throws -> ReportURI {
        try #require(try DMARCRecord(parsing: "v=DMARC1; p=none; rua=\(text)").aggregateReportURIs.first)
    }

    /// A destination in the policy domain's own organization needs no check.
    @Test func sameOrganization() async throws {
        let resolver = try zone([])
        let dmarc = try verifier(resolver)
        let local = try uri("mailto:dmarc@reports.example.com")
        #expect(await dmarc.verifyReportDestination(local, kind: .aggregate, policyDomain: try Domain("news.example.com")) == .sameOrganization(local))
        #expect(resolver.queries.isEmpty)
    }

    /// RFC 7489 Appendix B.2.3: thirdparty.example.net accepts reports for example.com.
    @Test func authorizedThirdParty() async throws {
        let resolver = try zone([("example.com._report._dmarc.thirdparty.example.net", ["v=DMARC1"])])
        let external = try uri("mailto:auth-reports@thirdparty.example.net")
        let verification = try await verifier(resolver).verifyReportDestination(external, kind: .failure, policyDomain: Domain("example.com"))
        #expect(verification == .authorized([external]))
        #expect(resolver.queries.map(\.name) == [try name("example.com._report._dmarc.thirdparty.example.net")])
    }

    @Test func unauthorizedThirdParty() async throws {
        let resolver = try zone([
            ("example.com._report._dmarc.elsewhere.example.net", ["v=spf1 -all"]),
            ("example.com._report._dmarc.elsewhere.example.net", ["p=none; v=DMARC1"]),
        ])
        let dmarc = try verifier(resolver)
        let nothing = await dmarc.verifyReportDestination(try uri("mailto:a@victim.example.org"), kind: .aggregate, policyDomain: try Domain("example.com"))
        #expect(nothing == .refused("victim.example.org does not accept reports for example.com: TXT example.com._report._dmarc.victim.example.org.: name does not exist (NXDOMAIN)"))
        let wrong = await dmarc.verifyReportDestination(try uri("mailto:a@elsewhere.example.net"), kind: .aggregate, policyDomain: try Domain("example.com"))
        #expect(wrong == .refused("no v=DMARC1 record at example.com._report._dmarc.elsewhere.example.net"))
    }

    @Test func temporaryFailure() async throws {
        let resolver = try zone([])
        resolver.fail(try name("example.com._report._dmarc.thirdparty.example.net"), .txt, with: .serverFailure(.serverFailure))
        let verification = try await verifier(resolver).verifyReportDestination(uri("mailto:a@thirdparty.example.net"), kind: .aggregate, policyDomain: Domain("example.com"))
        guard case let .temporaryFailure(error) = verification else {
            Issue.record("expected a temporary failure, got \(verification)")
            return
        }
        #expect(error.kind == .serverFailure(.serverFailure))
    }

    /// Step 8: the authorization's own rua/ruf replaces the URI when on the same host; a URI
    /// on another host voids the destination.
    @Test func overrides() async throws {
        let resolver = try zone([
            ("example.com._report._dmarc.thirdparty.example.net", ["v=DMARC1; rua=mailto:agg@thirdparty.example.net!5m, mailto:copy@thirdparty.example.net"]),
            ("example.org._report._dmarc.thirdparty.example.net", ["v=DMARC1; rua=mailto:agg@loop.example"]),
        ])
        let dmarc = try verifier(resolver)
        let original = try uri("mailto:reports@thirdparty.example.net")
        let replaced = await dmarc.verifyReportDestination(original, kind: .aggregate, policyDomain: try Domain("example.com"))
        #expect(replaced == .authorized([try uri("mailto:agg@thirdparty.example.net!5m"), try uri("mailto:copy@thirdparty.example.net")]))
        // The override is for rua only; a ruf destination stays.
        #expect(await dmarc.verifyReportDestination(original, kind: .failure, policyDomain: try Domain("example.com")) == .authorized([original]))
        let elsewhere = await dmarc.verifyReportDestination(original, kind: .aggregate, policyDomain: try Domain("example.org"))
        #expect(elsewhere == .refused("the authorization at example.org._report._dmarc.thirdparty.example.net redirects to mailto:agg@loop.example, not on thirdparty.example.net"))
    }

    /// Step 3: the policy domain in A-labels.
    @Test func internationalizedPolicyDomain() async throws {
        let resolver = try zone([("xn--bcher-kva.example._report._dmarc.thirdparty.example.net", ["v=DMARC1"])])
        let external = try uri("mailto:a@thirdparty.example.net")
        #expect(try await verifier(resolver).verifyReportDestination(external, kind: .aggregate, policyDomain: Domain("bücher.example")) == .authorized([external]))
    }

    @Test(arguments: [
        ("mailto:dmarc@Reports.Example.NET?subject=dmarc", "reports.example.net"),
        ("mailto:dmarc%40x@reports.example.net", "reports.example.net"),
        ("https://user@reports.example.net:8443/dmarc?x=1", "reports.example.net"),
        ("https://reports.example.net", "reports.example.net"),
        ("mailto:a@x.example%2Cb@y.example", nil),
        ("mailto:nobody", nil),
        ("urn:dmarc:reports", nil),
        ("https://[2001:db8::1]/dmarc", nil),
    ] as [(String, String?)])
    func destinationHost(text: String, host: String?) throws {
        #expect(try uri(text).destinationHost == host.map { try Domain($0) })
    }

    @Test func uriWithoutHostIsRefused() async throws {
        let verification = try await verifier(zone([])).verifyReportDestination(uri("urn:dmarc:reports"), kind: .aggregate, policyDomain: Domain("example.com"))
        #expect(verification == .refused("urn:dmarc:reports has no single destination host"))
    }
}
