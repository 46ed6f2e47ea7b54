import DNS
import SMTP
import Testing

@testable import SMTPClient
import TestSupport


func name(_ text: String) -> DNSName {
    (try? DNSName(text)) ?? .root
}

@Suite struct DestinationTests {
    func resolverWithMX() throws -> MockResolver {
        let resolver = MockResolver()
        for (preference, host) in [(10, "a.example.org"), (10, "b.example.org"), (10, "c.example.org"), (20, "d.example.org"), (5, "e.example.org")] {
            try resolver.add("example.org", .mx(MX(preference: UInt16(preference), exchange: name(host))), authentic: true)
        }
        return resolver
    }

    /// RFC 5321 §5.1: by preference, random within one preference.
    @Test func preferenceOrderAndInjectedRandomness() async throws {
        let resolver = try resolverWithMX()
        var orders: Set<[DNSName]> = []
        for seed in UInt64(0)..<12 {
            var random = SplitMix64(state: seed)
            let destinations = try await Dialing.gatherDestinations(for: name("example.org"), resolver: resolver, random: &random)
            #expect(destinations.hosts.first == name("e.example.org") && destinations.hosts.last == name("d.example.org"))
            #expect(Set(destinations.hosts[1...3]) == [name("a.example.org"), name("b.example.org"), name("c.example.org")])
            #expect(destinations.authentic && !destinations.implicitMX && destinations.expandedDomain == name("example.org"))
            orders.insert(destinations.hosts)
            // The same seed gives the same order: the randomness is the caller's.
            var again = SplitMix64(state: seed)
            #expect(try await Dialing.gatherDestinations(for: name("example.org"), resolver: resolver, random: &again).hosts == destinations.hosts)
        }
        #expect(orders.count > 1, "equal preferences are shuffled")
    }

    @Test func implicitMX() async throws {
        let resolver = MockResolver()
        try resolver.add("example.net", .a(IPAddress("192.0.2.1")!), authentic: true)
        var random = SplitMix64(state: 1)
        let destinations = try await Dialing.gatherDestinations(for: name("example.net"), resolver: resolver, random: &random)
        #expect(destinations.implicitMX && destinations.hosts == [name("example.net")])
        #expect(destinations.authentic, "the validated NODATA for MX")

        let insecure = MockResolver()
        try insecure.add("example.net", .a(IPAddress("192.0.2.1")!))
        #expect(try await !Dialing.gatherDestinations(for: name("example.net"), resolver: insecure, random: &random).authentic)
    }

    /// RFC 7505: a lone "." MX means no mail; permanent, 5.1.10.
    @Test func nullMX() async throws {
        let resolver = MockResolver()
        try resolver.add("nomail.example", .mx(MX(preference: 0, exchange: .root)))
        var random = SplitMix64(state: 1)
        await #expect(throws: DialingError(
            kind: .nullMX, name: name("nomail.example"), enhanced: EnhancedStatus(5, 1, 10),
            text: "domain nomail.example accepts no mail (null MX, RFC 7505)", isPermanent: true)
        ) {
            try await Dialing.gatherDestinations(for: name("nomail.example"), resolver: resolver, random: &random)
        }
        // Listed with a real MX, against the RFC: the real one is still tried.
        try resolver.add("mixed.example", .mx(MX(preference: 0, exchange: .root)))
        try resolver.add("mixed.example", .mx(MX(preference: 10, exchange: name("mx.mixed.example"))))
        #expect(try await Dialing.gatherDestinations(for: name("mixed.example"), resolver: resolver, random: &random).hosts == [name("mx.mixed.example")])
    }

    @Test func lookupFailures() async throws {
        let resolver = MockResolver()
        try resolver.add("other.example", .a(IPAddress("192.0.2.9")!))
        var random = SplitMix64(state: 1)
        do {
            _ = try await Dialing.gatherDestinations(for: name("missing.example"), resolver: resolver, random: &random)
            Issue.record("NXDOMAIN gave destinations")
        } catch {
            #expect(error.kind == .domainNotFound && error.isPermanent && error.enhanced == .badSystem)
        }
        resolver.fail(name("broken.example"), .mx, with: .serverFailure(.serverFailure))
        do {
            _ = try await Dialing.gatherDestinations(for: name("broken.example"), resolver: resolver, random: &random)
            Issue.record("SERVFAIL gave destinations")
        } catch {
            // RFC 7672 §2.1.2: delivery is delayed.
            #expect(error.kind == .dns && !error.isPermanent && error.enhanced == EnhancedStatus(4, 4, 3))
        }
    }

    /// A domain that is an alias: the MX records of the target, and `authentic` for the
    /// whole chain.
    @Test func cnameDomain() async throws {
        let resolver = MockResolver()
        try resolver.add("alias.example", .cname(name("target.example")), authentic: true)
        try resolver.add("target.example", .mx(MX(preference: 10, exchange: name("mx.target.example"))), authentic: true)
        var random = SplitMix64(state: 1)
        let destinations = try await Dialing.gatherDestinations(for: name("alias.example"), resolver: resolver, random: &random)
        #expect(destinations.hosts == [name("mx.target.example")] && destinations.expandedDomain == name("target.example"))
        #expect(destinations.authentic && destinations.domain == name("alias.example"))

        let insecureAlias = MockResolver()
        try insecureAlias.add("alias.example", .cname(name("target.example")))
        try insecureAlias.add("target.example", .mx(MX(preference: 10, exchange: name("mx.target.example"))), authentic: true)
        #expect(try await !Dialing.gatherDestinations(for: name("alias.example"), resolver: insecureAlias, random: &random).authentic)
    }
}

@Suite struct AddressTests {
    let v4 = IPAddress("192.0.2.1")!
    let v6 = IPAddress("2001:db8::1")!

    @Test func bothFamiliesInPreferredOrder() async throws {
        let resolver = MockResolver()
        try resolver.add("mx.example.org", .a(v4), authentic: true)
        try resolver.add("mx.example.org", .aaaa(v6), authentic: true)
        let host = name("mx.example.org")
        let sixFirst = try await Dialing.gatherAddresses(of: host, resolver: resolver, preference: .ipv6First)
        #expect(sixFirst.addresses == [v6, v4] && sixFirst.authentic && sixFirst.expandedHost == host)
        #expect(try await Dialing.gatherAddresses(of: host, resolver: resolver, preference: .ipv4First).addresses == [v4, v6])
        #expect(try await Dialing.gatherAddresses(of: host, resolver: resolver, preference: .ipv4Only).addresses == [v4])
        #expect(try await Dialing.gatherAddresses(of: host, resolver: resolver, preference: .ipv6Only).addresses == [v6])
    }

    @Test func onlyOneFamilyAndAuthenticity() async throws {
        let resolver = MockResolver()
        try resolver.add("v4.example.org", .a(v4))
        let found = try await Dialing.gatherAddresses(of: name("v4.example.org"), resolver: resolver)
        #expect(found.addresses == [v4] && !found.authentic)
    }

    @Test func cnameHost() async throws {
        let resolver = MockResolver()
        try resolver.add("mx.example.org", .cname(name("mail.hoster.example")), authentic: true)
        try resolver.add("mail.hoster.example", .a(v4), authentic: true)
        let found = try await Dialing.gatherAddresses(of: name("mx.example.org"), resolver: resolver)
        #expect(found.host == name("mx.example.org") && found.expandedHost == name("mail.hoster.example"))
        #expect(found.addresses == [v4] && found.authentic)
    }

    @Test func noAddresses() async throws {
        let resolver = MockResolver()
        try resolver.add("mx.example.org", .mx(MX(preference: 1, exchange: name("x.example.org"))))
        do {
            _ = try await Dialing.gatherAddresses(of: name("mx.example.org"), resolver: resolver)
            Issue.record("no addresses, but a result")
        } catch {
            #expect(error.kind == .hostNotFound && error.isPermanent)
        }
        resolver.fail(name("mx.example.org"), .a, with: .timeout)
        do {
            _ = try await Dialing.gatherAddresses(of: name("mx.example.org"), resolver: resolver)
            Issue.record("no addresses, but a result")
        } catch {
            #expect(error.kind == .dns && !error.isPermanent)
        }
    }
}

@Suite struct TLSATests {
    let tlsa = TLSA(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32))
    let v4 = IPAddress("192.0.2.1")!

    func addresses(_ host: String, expanded: String? = nil, authentic: Bool) -> HostAddresses {
        HostAddresses(host: name(host), expandedHost: name(expanded ?? host), addresses: [v4], authentic: authentic)
    }

    @Test func secureHost() async throws {
        let resolver = MockResolver()
        try resolver.add("_25._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        let found = try await Dialing.gatherTLSA(for: addresses("mx.example.org", authentic: true), resolver: resolver)
        #expect(found == .records([tlsa], baseDomain: name("mx.example.org")))
        // Another port, another name (RFC 7672 §2.2.3).
        try resolver.add("_587._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        #expect(try await Dialing.gatherTLSA(for: addresses("mx.example.org", authentic: true), port: 587, resolver: resolver)
            == .records([tlsa], baseDomain: name("mx.example.org")))
    }

    /// RFC 7672 §2.2.2: no TLSA lookup for a host whose addresses are not validated.
    @Test func insecureAddresses() async throws {
        let resolver = MockResolver()
        try resolver.add("_25._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        guard case .notApplicable = try await Dialing.gatherTLSA(for: addresses("mx.example.org", authentic: false), resolver: resolver) else {
            Issue.record("DANE applied to an insecure host")
            return
        }
        #expect(!resolver.queries.contains { $0.type == .tlsa })
    }

    @Test func insecureOrMissingRecords() async throws {
        let resolver = MockResolver()
        try resolver.add("_25._tcp.mx.example.org", .tlsa(tlsa))
        guard case .notApplicable = try await Dialing.gatherTLSA(for: addresses("mx.example.org", authentic: true), resolver: resolver) else {
            Issue.record("insecure TLSA records used")
            return
        }
        #expect(try await Dialing.gatherTLSA(for: addresses("mx.other.example", authentic: true), resolver: resolver)
            == .notApplicable("no DNSSEC-validated TLSA records for mx.other.example"))
    }

    /// RFC 7672 §2.1.2: a failed TLSA lookup makes the host unusable, not DANE-less.
    @Test func failedLookup() async throws {
        let resolver = MockResolver()
        resolver.fail(name("_25._tcp.mx.example.org"), .tlsa, with: .serverFailure(.serverFailure))
        do {
            _ = try await Dialing.gatherTLSA(for: addresses("mx.example.org", authentic: true), resolver: resolver)
            Issue.record("SERVFAIL taken for no TLSA")
        } catch {
            #expect(error.kind == .dns && !error.isPermanent)
        }
    }

    /// RFC 7672 §2.2.2 "Secure CNAME": the expanded name first, then the original.
    @Test func secureAlias() async throws {
        let resolver = MockResolver()
        try resolver.add("_25._tcp.mail.hoster.example", .tlsa(tlsa), authentic: true)
        let alias = addresses("mx.example.org", expanded: "mail.hoster.example", authentic: true)
        #expect(try await Dialing.gatherTLSA(for: alias, resolver: resolver) == .records([tlsa], baseDomain: name("mail.hoster.example")))

        let original = MockResolver()
        try original.add("_25._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        #expect(try await Dialing.gatherTLSA(for: alias, resolver: original) == .records([tlsa], baseDomain: name("mx.example.org")))
    }

    /// "Insecure CNAME": the original name only, and only if its CNAME was validated.
    @Test func insecureAlias() async throws {
        let resolver = MockResolver()
        try resolver.add("mx.example.org", .cname(name("mail.hoster.example")), authentic: true)
        try resolver.add("_25._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        try resolver.add("_25._tcp.mail.hoster.example", .tlsa(tlsa), authentic: true)
        let alias = addresses("mx.example.org", expanded: "mail.hoster.example", authentic: false)
        #expect(try await Dialing.gatherTLSA(for: alias, resolver: resolver) == .records([tlsa], baseDomain: name("mx.example.org")))

        let unsigned = MockResolver()
        try unsigned.add("mx.example.org", .cname(name("mail.hoster.example")))
        try unsigned.add("_25._tcp.mx.example.org", .tlsa(tlsa), authentic: true)
        guard case .notApplicable = try await Dialing.gatherTLSA(for: alias, resolver: unsigned) else {
            Issue.record("DANE through an insecure CNAME")
            return
        }
    }
}
