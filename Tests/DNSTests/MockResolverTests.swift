import Testing

@testable import DNS

private func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }

@Suite struct MockResolverTests {
    func makeMock() throws -> MockResolver {
        let mock = MockResolver()
        try mock.add("example.test", .mx(MX(preference: 20, exchange: name("backup.example.test"))), authentic: true)
        try mock.add("example.test", .mx(MX(preference: 10, exchange: name("mail.example.test"))), authentic: true)
        try mock.add("example.test", .txt([Array("v=spf1 ".utf8), Array("mx -all".utf8)]), authentic: true)
        try mock.add("mail.example.test", .a(.v4(192, 0, 2, 1)))
        try mock.add("mail.example.test", .aaaa(.v6([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1])))
        try mock.add("v4only.example.test", .a(.v4(192, 0, 2, 2)))
        try mock.add("alias.example.test", .cname(name("mail.example.test")))
        try mock.add("_25._tcp.mail.example.test", .tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: [1, 2])), authentic: true)
        try mock.add("1.2.0.192.in-addr.arpa", .ptr(name("mail.example.test")))
        try mock.add("deep.sub.example.test", .a(.v4(192, 0, 2, 3)))
        return mock
    }

    @Test func typedLookups() async throws {
        let mock = try makeMock()
        let mx = try await mock.lookupMX(name("example.test"))
        #expect(mx.value.map(\.preference) == [10, 20])
        #expect(mx.authentic)
        // RFC 7208 §3.3: strings of one TXT record are joined without a separator.
        #expect(try await mock.lookupTXT(name("example.test")).value == ["v=spf1 mx -all"])
        #expect(try await mock.lookupTLSA(port: 25, host: name("mail.example.test")).value.first?.usage == 3)
        #expect(try await mock.lookupPTR(.v4(192, 0, 2, 1)).value == [name("mail.example.test")])
        #expect(try await mock.resolve(name("alias.example.test"), .a).canonicalName == name("mail.example.test"))
        #expect(mock.queries.contains(Question(name: name("_25._tcp.mail.example.test"), type: .tlsa)))
    }

    @Test func ipAddressesFromBothFamilies() async throws {
        let mock = try makeMock()
        let both = try await mock.lookupIPAddresses(name("mail.example.test"))
        #expect(both.value.count == 2)
        #expect(!both.authentic)
        #expect(try await mock.lookupIPAddresses(name("v4only.example.test")).value == [.v4(192, 0, 2, 2)])
        // One family failing temporarily while the other has records is still a success.
        mock.fail(name("v4only.example.test"), .aaaa, with: .timeout)
        #expect(try await mock.lookupIPAddresses(name("v4only.example.test")).value == [.v4(192, 0, 2, 2)])
    }

    @Test func ipAddressErrorsPreferTemporary() async throws {
        let mock = try makeMock()
        mock.fail(name("flaky.example.test"), .a, with: .serverFailure(.serverFailure))
        do {
            _ = try await mock.lookupIPAddresses(name("flaky.example.test"))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .serverFailure(.serverFailure))
        }
        do {
            _ = try await mock.lookupIPAddresses(name("absent.example.test"))
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .nameNotFound)
        }
    }

    /// RFC 8020: NXDOMAIN only for a name with nothing at or below it.
    @Test func nxdomainVersusNodata() async throws {
        let mock = try makeMock()
        await #expect(throws: DNSError(kind: .nameNotFound, name: name("absent.example.test"), type: .a)) {
            try await mock.resolve(name("absent.example.test"), .a)
        }
        await #expect(throws: DNSError(kind: .noRecords, name: name("sub.example.test"), type: .a)) {
            try await mock.resolve(name("sub.example.test"), .a)
        }
        mock.setAuthentic(name("absent2.example.test"))
        await #expect(throws: DNSError(kind: .nameNotFound, name: name("absent2.example.test"), type: .a, authentic: true)) {
            try await mock.resolve(name("absent2.example.test"), .a)
        }
    }

    @Test func injectedFailures() async throws {
        let mock = try makeMock()
        mock.fail(name("example.test"), .mx, with: .timeout)
        await #expect(throws: DNSError(kind: .timeout, name: name("example.test"), type: .mx)) {
            try await mock.lookupMX(name("example.test"))
        }
    }

    @Test func cnameLoop() async throws {
        let mock = MockResolver()
        try mock.add("a.example.test", .cname(name("b.example.test")))
        try mock.add("b.example.test", .cname(name("a.example.test")))
        await #expect(throws: DNSError(kind: .cnameChainTooLong, name: name("a.example.test"), type: .a)) {
            try await mock.resolve(name("a.example.test"), .a)
        }
    }
}

@Suite struct StubResolverConfigurationTests {
    @Test func resolvConf() {
        let configuration = StubResolverConfiguration.fromResolvConf("""
            # comment
            search example.org
            nameserver 192.0.2.53
            nameserver 2001:db8::53
            nameserver not-an-address
            nameserver 192.0.2.54
            nameserver 192.0.2.55
            options timeout:1 attempts:4 rotate
            """)
        #expect(configuration.servers.map(\.ipAddress) == ["192.0.2.53", "2001:db8::53", "192.0.2.54"])
        #expect(configuration.timeout == .seconds(1))
        #expect(configuration.attempts == 4)
        #expect(!configuration.forceTCP)
        #expect(StubResolverConfiguration.fromResolvConf("options use-vc").forceTCP)
        // RFC-less but universal: no nameserver line means the local host.
        #expect(StubResolverConfiguration.fromResolvConf("").servers.map { $0.port } == [53])
    }

    @Test func serverAddresses() throws {
        #expect(try StubResolverConfiguration.parseServer("127.0.0.1:5353").port == 5353)
        #expect(try StubResolverConfiguration.parseServer("127.0.0.1").port == 53)
        #expect(try StubResolverConfiguration.parseServer("[::1]:5353").port == 5353)
        #expect(try StubResolverConfiguration.parseServer("::1").port == 53)
        #expect(try StubResolverConfiguration.parseServer("[::1]").port == 53)
        #expect(throws: ResolverAddressError.invalid("localhost:53", "'localhost' is not an IP address")) {
            try StubResolverConfiguration.parseServer("localhost:53")
        }
        #expect(throws: ResolverAddressError.invalid("127.0.0.1:x", "port is not a number")) {
            try StubResolverConfiguration.parseServer("127.0.0.1:x")
        }
        #expect(throws: ResolverAddressError.invalid("127.0.0.1:0", "port 0 out of range 1-65535")) {
            try StubResolverConfiguration.parseServer("127.0.0.1:0")
        }
        #expect(throws: ResolverAddressError.invalid("[::1", "missing ']'")) {
            try StubResolverConfiguration.parseServer("[::1")
        }
    }
}
