import DNS
import DNSTestSupport
import Foundation
import Testing

private func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }
private func txt(_ owner: String, _ text: String) -> ResourceRecord {
    ResourceRecord(name: name(owner), ttl: 300, data: .txt([Array(text.utf8)]))
}

/// `tern spf check` run as a binary against a DNS server on loopback.
@Suite struct SPFCommandTests {
    static let zone: [ResourceRecord] = [
        txt("example.test", "v=spf1 mx include:_spf.partner.test -all exp=why.example.test"),
        ResourceRecord(name: name("example.test"), ttl: 300, data: .mx(MX(preference: 10, exchange: name("mail.example.test")))),
        ResourceRecord(name: name("mail.example.test"), ttl: 300, data: .a(.v4(192, 0, 2, 1))),
        txt("why.example.test", "%{i} may not send mail for %{d}; see https://%{d}/spf"),
        txt("_spf.partner.test", "v=spf1 ip4:198.51.100.0/24 ?all"),
        txt("broken.test", "v=spf1 ip4:198.51.100.1/33 -all"),
        txt("flaky.test", "v=spf1 a:servfail.flaky.test -all"),
    ]

    func server() async throws -> FakeDNSServer {
        try await FakeDNSServer { query, transport in
            if query.questions.first?.name == name("servfail.flaky.test") {
                return [FakeDNSServer.reply(to: query, rcode: .serverFailure).encoded()]
            }
            return FakeDNSServer.zone(Self.zone)(query, transport)
        }
    }

    @Test func passAndFail() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }

        let pass = try await TernRun.run(["spf", "check", "--resolver", server.address, "192.0.2.1", "alice@example.test", "mail.example.test"])
        #expect(pass.status == 0)
        #expect(pass.stderr == "")
        #expect(pass.stdout == """
            result: pass
            identity: mailfrom
            sender: alice@example.test
            mechanism: mx
            lookups:
              TXT example.test.: "v=spf1 mx include:_spf.partner.test -all exp=why.example.test"
              MX example.test.: 10 mail.example.test.
              A mail.example.test.: 192.0.2.1

            """)

        let fail = try await TernRun.run(["spf", "check", "--resolver", server.address, "203.0.113.5", "<alice@example.test>"])
        #expect(fail.status == 0)
        #expect(fail.stdout == """
            result: fail
            identity: mailfrom
            sender: alice@example.test
            mechanism: -all
            explanation: 203.0.113.5 may not send mail for example.test; see https://example.test/spf
            lookups:
              TXT example.test.: "v=spf1 mx include:_spf.partner.test -all exp=why.example.test"
              MX example.test.: 10 mail.example.test.
              A mail.example.test.: 192.0.2.1
              TXT _spf.partner.test.: "v=spf1 ip4:198.51.100.0/24 ?all"
              TXT why.example.test.: "%{i} may not send mail for %{d}; see https://%{d}/spf"

            """)
    }

    /// Every SPF result exits 0: none, permerror and temperror are answers, not failures.
    @Test func noneAndErrorsAreResultsToo() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }

        let none = try await TernRun.run(["spf", "check", "--resolver", server.address, "192.0.2.1", "", "mail.example.test"])
        #expect(none.status == 0)
        #expect(none.stdout == """
            result: none
            identity: mailfrom
            sender: postmaster@mail.example.test
            problem: no SPF record at mail.example.test
            lookups:
              TXT mail.example.test.: no records

            """)

        let permerror = try await TernRun.run(["spf", "check", "--resolver", server.address, "198.51.100.1", "bob@broken.test", "mail.example.test"])
        #expect(permerror.status == 0)
        #expect(permerror.stdout == """
            result: permerror
            identity: mailfrom
            sender: bob@broken.test
            problem: syntax error in the SPF record of broken.test: 'ip4:198.51.100.1/33' at column 25: prefix length 33 is more than 32
            lookups:
              TXT broken.test.: "v=spf1 ip4:198.51.100.1/33 -all"

            """)

        let temperror = try await TernRun.run(["spf", "check", "--resolver", server.address, "198.51.100.1", "bob@flaky.test"])
        #expect(temperror.status == 0)
        #expect(temperror.stdout == """
            result: temperror
            identity: mailfrom
            sender: bob@flaky.test
            problem: 'a:servfail.flaky.test' in the record of flaky.test: DNS error: A servfail.flaky.test.: SERVFAIL
            lookups:
              TXT flaky.test.: "v=spf1 a:servfail.flaky.test -all"
              A servfail.flaky.test.: error: SERVFAIL

            """)
    }

    @Test func usageErrors() async throws {
        let badIP = try await TernRun.run(["spf", "check", "--resolver", "127.0.0.1:9", "192.0.2.300", "a@example.test"])
        #expect(badIP.status == 64)
        #expect(badIP.stderr.contains("Error: '192.0.2.300' is not an IP address"))

        let nullWithoutHELO = try await TernRun.run(["spf", "check", "--resolver", "127.0.0.1:9", "192.0.2.1", "<>"])
        #expect(nullWithoutHELO.status == 64)
        #expect(nullWithoutHELO.stderr.contains("Error: a null MAIL FROM needs HELO: SPF then checks postmaster@HELO (RFC 7208 §2.4)"))

        let missing = try await TernRun.run(["spf", "check", "192.0.2.1"])
        #expect(missing.status == 64)
    }
}
