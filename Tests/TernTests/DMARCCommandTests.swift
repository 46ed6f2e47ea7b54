import DNS
import DNSTestSupport
import Foundation
import Testing

private func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }
private func txt(_ owner: String, _ strings: String...) -> ResourceRecord {
    ResourceRecord(name: name(owner), ttl: 300, data: .txt(strings.map { Array($0.utf8) }))
}

/// `tern dmarc lookup` run as a binary against a DNS server on loopback.
@Suite struct DMARCCommandTests {
    static let zone: [ResourceRecord] = [
        txt("_dmarc.example.test", "v=DMARC1; p=reject; sp=quarantine; pct=50; ", "rua=mailto:dmarc@example.test!10m,mailto:x@reports.test; adkim=s; np=none; fo=zz"),
        txt("_dmarc.own.example.test", "v=DMARC1; rua=mailto:dmarc@example.test"),
        txt("_dmarc.twice.test", "v=DMARC1; p=none"),
        txt("_dmarc.twice.test", "v=DMARC1; p=reject"),
        txt("_dmarc.broken.test", "v=DMARC1; p=deny"),
        txt("_dmarc.xn--bcher-kva.test", "v=DMARC1; p=none"),
    ]

    func server(authentic: Bool = false) async throws -> FakeDNSServer {
        try await FakeDNSServer { query, transport in
            if query.questions.first?.name == name("_dmarc.flaky.test") {
                return [FakeDNSServer.reply(to: query, rcode: .serverFailure).encoded()]
            }
            return FakeDNSServer.zone(Self.zone, authentic: authentic)(query, transport)
        }
    }

    @Test func theDomainsOwnRecord() async throws {
        let server = try await server(authentic: true)
        defer { Task { await server.stop() } }
        let run = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "Example.TEST"])
        #expect(run.status == 0)
        #expect(run.stderr == "")
        #expect(run.stdout == """
            domain: example.test
            organizational domain: example.test
            record at: _dmarc.example.test (the domain's own)
            authentic: yes
            record: v=DMARC1; p=reject; sp=quarantine; pct=50; rua=mailto:dmarc@example.test!10m,mailto:x@reports.test; adkim=s; np=none; fo=zz
            v: DMARC1
            p: reject
            sp: quarantine
            pct: 50
            adkim: s
            aspf: r (default)
            rua: mailto:dmarc@example.test (at most 10485760 bytes), mailto:x@reports.test
            ruf: none
            fo: 0 (default)
            rf: afrf (default)
            ri: 86400 (default)
            np: none (unknown, ignored)
            problem: ignored fo=zz: expected 0, 1, d or s, separated by colons; using the default 0
            policy for example.test: reject (p)

            """)
    }

    /// No record at the subdomain: the organizational domain's applies, with its sp.
    @Test func theOrganizationalDomainsRecord() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let run = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "mail.example.test"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("""
            domain: mail.example.test
            organizational domain: example.test
            record at: _dmarc.example.test (the organizational domain's, none at the domain)
            authentic: no

            """))
        #expect(run.stdout.hasSuffix("policy for mail.example.test: quarantine (sp)\n"))

        // RFC 7489 §6.6.3 step 6.1: without p, the rua makes it p=none.
        let own = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "own.example.test"])
        #expect(own.status == 0)
        #expect(own.stdout.contains("\np: none (see problem)\nsp: none (as p)\n"))
        #expect(own.stdout.contains("\nproblem: applied as p=none for the sake of the rua= reports (RFC 7489 §6.6.3): no p= tag (and no valid rua= to report to)\n"))
    }

    @Test func internationalizedDomain() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let run = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "www.bücher.test"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("domain: www.xn--bcher-kva.test\norganizational domain: xn--bcher-kva.test\nrecord at: _dmarc.xn--bcher-kva.test"))
    }

    /// Exit status 1 with the reason on stderr when no record applies.
    @Test func noApplicableRecord() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }

        let missing = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "a.nothing.test"])
        #expect(missing.status == 1)
        #expect(missing.stdout == "domain: a.nothing.test\norganizational domain: nothing.test\n")
        #expect(missing.stderr == "tern: dmarc lookup: no DMARC record at _dmarc.a.nothing.test or _dmarc.nothing.test\n")

        let twice = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "twice.test"])
        #expect(twice.status == 1)
        #expect(twice.stdout.hasSuffix("record at: _dmarc.twice.test (the domain's own)\nrecord: v=DMARC1; p=none\nrecord: v=DMARC1; p=reject\n"))
        #expect(twice.stderr == "tern: dmarc lookup: 2 DMARC records at _dmarc.twice.test; none applies\n")

        let broken = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "broken.test"])
        #expect(broken.status == 1)
        #expect(broken.stdout.hasSuffix("record: v=DMARC1; p=deny\n"))
        #expect(broken.stderr == "tern: dmarc lookup: invalid DMARC record at _dmarc.broken.test: p=deny is not none, quarantine or reject (and no valid rua= to report to)\n")

        let flaky = try await TernRun.run(["dmarc", "lookup", "--resolver", server.address, "flaky.test"])
        #expect(flaky.status == 1)
        #expect(flaky.stderr == "tern: dmarc lookup: DMARC record lookup failed: TXT _dmarc.flaky.test.: server failure (SERVFAIL)\n")
    }

    @Test func usageErrors() async throws {
        let invalid = try await TernRun.run(["dmarc", "lookup", "--resolver", "127.0.0.1:9", "exa_mple.test"])
        #expect(invalid.status == 64)
        #expect(invalid.stderr.contains("Error: invalid domain 'exa_mple.test'"))
        let missing = try await TernRun.run(["dmarc", "lookup"])
        #expect(missing.status == 64)
        let help = try await TernRun.run(["--help"])
        #expect(help.stdout.contains("  dmarc                   DMARC (RFC 7489) the way the server evaluates it."))
    }
}

/// `tern dmarc verify`: the SMTP server's verdicts for a message file and connection data.
@Suite struct DMARCVerifyCommandTests {
    static let zone: [ResourceRecord] = [
        txt("bank.test", "v=spf1 ip4:192.0.2.1 -all"),
        txt("_dmarc.bank.test", "v=DMARC1; p=reject"),
    ]

    @Test func verdictsAndDisposition() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: true))
        defer { Task { await server.stop() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-dmarc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("message.eml").path
        try Data("From: Bank <service@bank.test>\r\nSubject: statement\r\n\r\nhello\r\n".utf8).write(to: URL(fileURLWithPath: file))
        func verify(_ ip: String) async throws -> TernRun {
            try await TernRun.run([
                "dmarc", "verify", "--resolver", server.address, "--hostname", "mx.tern.test", "--ip", ip, "--mail-from", "service@bank.test",
                "--helo", "mail.bank.test", file,
            ])
        }
        // From the domain's own server: SPF passes and aligns.
        let allowed = try await verify("192.0.2.1")
        #expect(allowed.status == 0, "\(allowed.stderr)")
        let unfolded = allowed.stdout.replacingOccurrences(of: "\r\n\t", with: " ").replacingOccurrences(of: "\r\n ", with: " ")
        #expect(unfolded.hasPrefix("Authentication-Results: mx.tern.test; iprev="))
        #expect(unfolded.contains("spf=pass (DNSSEC) smtp.mailfrom=bank.test; dmarc=pass (DNSSEC) header.from=bank.test\r\n"))
        #expect(unfolded.contains("Received-SPF: pass (mx.tern.test: domain of service@bank.test designates 192.0.2.1"))
        #expect(unfolded.hasSuffix("disposition: deliver\n"))
        // From elsewhere: SPF fails, no DKIM: the policy refuses it.
        let forged = try await verify("198.51.100.7")
        #expect(forged.status == 1)
        #expect(forged.stdout.replacingOccurrences(of: "\r\n\t", with: " ").contains("dmarc=fail (p=reject dis=reject DNSSEC)"))
        #expect(forged.stdout.contains("disposition: reject 550 5.7.26 message refused by the DMARC policy of bank.test"))
        // Bad input: a clear error.
        let bad = try await TernRun.run(["dmarc", "verify", "--ip", "nonsense", "--mail-from", "", "--helo", "x", file])
        #expect(bad.status != 0 && bad.stderr.contains("'nonsense' is not an IP address"))
        let missing = try await TernRun.run(["dmarc", "verify", "--resolver", server.address, "--ip", "192.0.2.1", "--mail-from", "", "--helo", "x", "/nonexistent.eml"])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read /nonexistent.eml"))
    }
}
