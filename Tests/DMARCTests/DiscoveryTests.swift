import DMARC
import DNS
import Testing

/// Policy discovery, RFC 7489 §6.6.3.
@Suite struct DiscoveryTests {
    @Test func recordAtTheAuthorDomain() async throws {
        let resolver = try zone([
            ("_dmarc.news.example.com", ["v=DMARC1; p=quarantine"]),
            ("_dmarc.example.com", ["v=DMARC1; p=reject"]),
        ])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(discovery.record?.policy == .quarantine)
        #expect(discovery.policyDomain == (try Domain("news.example.com")))
        #expect(discovery.organizationalDomain == (try Domain("example.com")))
        #expect(!discovery.appliesSubdomainPolicy)
        #expect(discovery.queried == [try name("_dmarc.news.example.com")])
        #expect(discovery.explanation == "DMARC record at _dmarc.news.example.com")
        #expect(!discovery.authentic)
    }

    /// Steps 3-4: no record at the author domain, so the Organizational Domain's applies.
    @Test func fallbackToTheOrganizationalDomain() async throws {
        let resolver = try zone([
            ("_dmarc.example.co.uk", ["v=DMARC1; p=reject; sp=none"]),
            // Not DMARC records (step 2): discarded, so the fallback still happens.
            ("_dmarc.a.b.example.co.uk", ["v=spf1 -all"]),
            ("_dmarc.a.b.example.co.uk", ["v=DMARC2; p=none"]),
        ])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("a.b.example.co.uk"))
        #expect(discovery.record?.policy == .reject)
        #expect(discovery.policyDomain == (try Domain("example.co.uk")))
        #expect(discovery.appliesSubdomainPolicy)
        #expect(discovery.queried == [try name("_dmarc.a.b.example.co.uk"), try name("_dmarc.example.co.uk")])
    }

    @Test func noRecordAnywhere() async throws {
        let resolver = try zone([("_dmarc.example.org", ["some other text"])])
        let sub = try await verifier(resolver).discoverPolicy(for: Domain("mail.example.org"))
        #expect(sub.outcome == .noRecord)
        #expect(sub.policyDomain == nil)
        #expect(sub.explanation == "no DMARC record at _dmarc.mail.example.org or _dmarc.example.org")

        // The Organizational Domain is asked only "if different".
        let top = try await verifier(resolver).discoverPolicy(for: Domain("example.org"))
        #expect(top.outcome == .noRecord)
        #expect(top.queried == [try name("_dmarc.example.org")])
    }

    /// Step 5: several DMARC records at the name that has any: no policy, and no fallback.
    @Test func multipleRecords() async throws {
        let resolver = try zone([
            ("_dmarc.news.example.com", ["v=DMARC1; p=none"]),
            ("_dmarc.news.example.com", ["v=DMARC1; p=reject"]),
            ("_dmarc.news.example.com", ["v=spf1 -all"]),
            ("_dmarc.example.com", ["v=DMARC1; p=reject"]),
        ])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(discovery.outcome == .multipleRecords(["v=DMARC1; p=none", "v=DMARC1; p=reject"]))
        #expect(discovery.policyDomain == (try Domain("news.example.com")))
        #expect(discovery.queried.count == 1)
        #expect(discovery.explanation == "2 DMARC records at _dmarc.news.example.com; none applies")
    }

    /// Step 6.2: an unusable record at the author domain is not replaced by the
    /// Organizational Domain's.
    @Test func invalidRecordDoesNotFallBack() async throws {
        let resolver = try zone([
            ("_dmarc.news.example.com", ["v=DMARC1; p=block"]),
            ("_dmarc.example.com", ["v=DMARC1; p=reject"]),
        ])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(discovery.outcome == .invalidRecord("v=DMARC1; p=block", .invalidPolicy("block")))
        #expect(discovery.explanation == "invalid DMARC record at _dmarc.news.example.com: p=block is not none, quarantine or reject (and no valid rua= to report to)")
    }

    /// RFC 7489 §6.1: the strings of one TXT record are joined before parsing.
    @Test func characterStringsAreConcatenated() async throws {
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=quarantine; ", "rua=mailto:dmarc-feedback@example.com,", "mailto:tld-test@thirdparty.example.net!10m; ", "pct=25"])])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("example.com"))
        #expect(discovery.record?.aggregateReportURIs.count == 2)
        #expect(discovery.record?.percentage == 25)
    }

    @Test func recordBehindACNAME() async throws {
        let resolver = try zone([("dmarc.provider.example", ["v=DMARC1; p=reject"])])
        try resolver.add("_dmarc.example.com", .cname(name("dmarc.provider.example")))
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("example.com"))
        #expect(discovery.record?.policy == .reject)
    }

    /// Temporary errors end discovery with temperror; at the author domain they do not fall
    /// back, since a record may exist there.
    @Test func temporaryDNSErrors() async throws {
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=reject"])])
        resolver.fail(try name("_dmarc.news.example.com"), .txt, with: .serverFailure(.serverFailure))
        let atAuthor = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        guard case let .temporaryFailure(error) = atAuthor.outcome else {
            Issue.record("expected a temporary failure, got \(atAuthor.outcome)")
            return
        }
        #expect(error.kind == .serverFailure(.serverFailure))
        #expect(atAuthor.queried.count == 1)
        #expect(!atAuthor.authentic)
        #expect(atAuthor.explanation == "DMARC record lookup failed: TXT _dmarc.news.example.com.: server failure (SERVFAIL)")

        resolver.fail(try name("_dmarc.example.com"), .txt, with: .timeout)
        let atOrganization = try await verifier(resolver).discoverPolicy(for: Domain("other.example.com"))
        #expect(atOrganization.queried.count == 2)
        if case let .temporaryFailure(error) = atOrganization.outcome {
            #expect(error.kind == .timeout)
        } else {
            Issue.record("expected a temporary failure, got \(atOrganization.outcome)")
        }
    }

    /// A permanent DNS failure at a name is an empty set there (step 1: "A possibly empty set
    /// of records is returned").
    @Test func permanentDNSErrorsAreNoRecords() async throws {
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=reject"])])
        resolver.fail(try name("_dmarc.news.example.com"), .txt, with: .cnameChainTooLong)
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(discovery.record?.policy == .reject)
    }

    /// The result is authentic only when every answer it rests on was: for a record at the
    /// Organizational Domain, also the denial at the author domain.
    @Test func authenticity() async throws {
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=reject"])], authentic: true)
        let own = try await verifier(resolver).discoverPolicy(for: Domain("example.com"))
        #expect(own.authentic)

        let forgeableDenial = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(forgeableDenial.record != nil)
        #expect(!forgeableDenial.authentic)

        resolver.setAuthentic(try name("_dmarc.news.example.com"))
        let provenDenial = try await verifier(resolver).discoverPolicy(for: Domain("news.example.com"))
        #expect(provenDenial.authentic)

        let unsigned = try zone([("_dmarc.example.net", ["v=DMARC1; p=reject"])])
        #expect(!(try await verifier(unsigned).discoverPolicy(for: Domain("example.net"))).authentic)
    }

    /// RFC 7489 §6.6.1: a UTF-8 author domain is looked up in A-labels.
    @Test func internationalizedAuthorDomain() async throws {
        let resolver = try zone([("_dmarc.xn--bcher-kva.example", ["v=DMARC1; p=reject"])])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain("Mail.Bücher.example"))
        #expect(discovery.record?.policy == .reject)
        #expect(discovery.queried == [try name("_dmarc.mail.xn--bcher-kva.example"), try name("_dmarc.xn--bcher-kva.example")])
        #expect(discovery.organizationalDomain.unicode == "bücher.example")
    }

    /// An author domain so long that "_dmarc." does not fit cannot have a record of its own;
    /// the Organizational Domain's still applies.
    @Test func authorDomainTooLongForItsOwnRecord() async throws {
        let long = (0..<4).map { _ in String(repeating: "a", count: 58) }.joined(separator: ".") + ".example.com"
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=reject"])])
        let discovery = try await verifier(resolver).discoverPolicy(for: Domain(long))
        #expect(discovery.queried == [try name("_dmarc.example.com")])
        #expect(discovery.record?.policy == .reject)
    }
}
