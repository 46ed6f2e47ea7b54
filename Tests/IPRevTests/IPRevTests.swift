import DNS
import IPRev
import Testing

/// Forward-confirmed reverse DNS (RFC 8601 §3) against a mock resolver.
@Suite struct IPRevTests {
    let resolver = MockResolver()
    let v4 = IPAddress("192.0.2.1")!
    let v6 = IPAddress("2001:db8::25")!

    func ptr(_ address: IPAddress, _ names: String..., authentic: Bool = false) throws {
        for name in names { resolver.add([ResourceRecord(name: DNSName.reverse(address), ttl: 300, data: .ptr(try DNSName(name)))], authentic: authentic) }
    }

    @Test func confirmedName() async throws {
        try ptr(v4, "other.example", "mail.example.com", authentic: true)
        try resolver.add("other.example", .a(IPAddress("198.51.100.9")!))
        try resolver.add("mail.example.com", .a(v4), authentic: true)
        let result = await IPRev(resolver: resolver).check(v4)
        #expect(result.status == .pass && result.name == "mail.example.com" && result.reason == nil)
        #expect(result.reverseNames == ["other.example", "mail.example.com"])
        #expect(result.authentic)
        // The same, with the forward answer not validated.
        let insecure = MockResolver()
        insecure.add([ResourceRecord(name: DNSName.reverse(v4), ttl: 300, data: .ptr(try DNSName("mail.example.com")))], authentic: true)
        try insecure.add("mail.example.com", .a(v4))
        let unvalidated = await IPRev(resolver: insecure).check(v4)
        #expect(unvalidated.status == .pass && !unvalidated.authentic)
    }

    @Test func ipv6UsesAAAA() async throws {
        try ptr(v6, "mx6.example.com")
        try resolver.add("mx6.example.com", .a(v4))
        #expect(await IPRev(resolver: resolver).check(v6).status == .fail)
        try resolver.add("mx6.example.com", .aaaa(v6))
        #expect(await IPRev(resolver: resolver).check(v6).status == .pass)
    }

    @Test func failures() async throws {
        // No PTR record at all.
        let none = await IPRev(resolver: resolver).check(v4)
        #expect(none.status == .fail && none.reason == "no PTR record for 192.0.2.1")
        // A name that does not resolve back.
        try ptr(v4, "liar.example")
        try resolver.add("liar.example", .a(IPAddress("203.0.113.1")!))
        let unconfirmed = await IPRev(resolver: resolver).check(v4)
        #expect(unconfirmed.status == .fail && unconfirmed.reason == "no name of liar.example resolves to 192.0.2.1")
    }

    @Test func temporaryErrors() async throws {
        resolver.fail(DNSName.reverse(v4), .ptr, with: .serverFailure(.serverFailure))
        let reverse = await IPRev(resolver: resolver).check(v4)
        #expect(reverse.status == .temperror && reverse.reason?.hasPrefix("PTR lookup failed") == true)

        let forward = MockResolver()
        forward.add([ResourceRecord(name: DNSName.reverse(v4), ttl: 300, data: .ptr(try DNSName("slow.example")))])
        forward.fail(try DNSName("slow.example"), .a, with: .timeout)
        let result = await IPRev(resolver: forward).check(v4)
        #expect(result.status == .temperror && result.reason?.contains("slow.example") == true)
        // A confirming name wins over another name's temporary failure.
        forward.add([ResourceRecord(name: DNSName.reverse(v4), ttl: 300, data: .ptr(try DNSName("ok.example")))])
        try forward.add("ok.example", .a(v4))
        #expect(await IPRev(resolver: forward).check(v4).status == .pass)
    }

    /// RFC 8601 §3: a limit on the PTR names processed.
    @Test func nameLimit() async throws {
        for index in 0..<12 { try ptr(v4, "n\(index).example") }
        try resolver.add("n11.example", .a(v4))
        let limited = await IPRev(resolver: resolver).check(v4)
        #expect(limited.status == .fail && limited.reverseNames.count == 10)
        #expect(await IPRev(resolver: resolver, nameLimit: 12).check(v4).status == .pass)
    }
}
