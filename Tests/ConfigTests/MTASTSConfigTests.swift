import DNS
import MTASTS
import Testing

@testable import Config

@Suite("MTA-STS: the MTASTS section of domains.yaml and the MTASTSHTTPS service")
struct MTASTSConfigTests {
    static func domains(_ mtaSTS: String) -> String {
        """
        Domains:
          example.com:
            MTASTS:
        \(mtaSTS)
        Accounts: {}
        """
    }

    @Test("every key read, defaults for the optional ones")
    func parsed() throws {
        let config = try DomainsConfig.parse(Self.domains("""
                  PolicyID: 2025a
                  Mode: testing
                  MaxAge: 24h
                  MX:
                    - mail.example.com
                    - "*.example.net"
            """), file: "domains.yaml")
        let settings = try #require(config.settings(for: try Domain("example.com"))?.mtaSTS)
        #expect(settings.record.text == "v=STSv1; id=2025a")
        #expect(settings.mode == .testing)
        #expect(settings.maxAge == 86400)
        #expect(settings.mx.map(\.description) == ["mail.example.com", "*.example.net"])

        let defaults = try DomainsConfig.parse(Self.domains("      PolicyID: 1\n      Mode: enforce"), file: "domains.yaml")
        let minimal = try #require(defaults.settings(for: try Domain("example.com"))?.mtaSTS)
        #expect(minimal.maxAge == 604_800)
        #expect(minimal.mx.isEmpty)
        #expect(try DomainsConfig.parse("Domains:\n  example.com: {}\nAccounts: {}\n", file: "domains.yaml").domains[0].mtaSTS == nil)
    }

    /// The served policy: configured patterns, or the MX hosts when none are given.
    @Test("the policy text")
    func policy() throws {
        let host = try Domain("mail.example.com")
        let configured = MTASTSSettings(
            record: try STSRecord(id: "1"), mode: .enforce, maxAge: 3600, mx: [try MXPattern(parsing: "*.example.net")])
        #expect(try configured.policy(defaultMX: [host]).text == "version: STSv1\r\nmode: enforce\r\nmx: *.example.net\r\nmax_age: 3600\r\n")
        let defaulted = MTASTSSettings(record: try STSRecord(id: "1"), mode: .testing)
        #expect(try defaulted.policy(defaultMX: [host, try Domain("mx2.example.com")]).text
            == "version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmx: mx2.example.com\r\nmax_age: 604800\r\n")
        #expect(throws: STSPolicySyntaxError.missingMX(mode: .testing)) { try defaulted.policy(defaultMX: []) }
    }

    @Test("errors name the file, line and key")
    func errors() {
        #expect(domainsErrors(Self.domains("""
                  PolicyID: not-alphanumeric
                  Mode: Enforce
                  MaxAge: 8767h
                  MX:
                    - mail.*.example.com
                    - münchen.example
                    - [a]
                  Id: 1
            """)) == [
            "domains.yaml:4:7: Domains.example.com.MTASTS.PolicyID: 'not-alphanumeric' cannot be a policy id: use 1 to 32 ASCII letters and digits (RFC 8461 §3.1), e.g. a date such as 20250101",
            "domains.yaml:5:7: Domains.example.com.MTASTS.Mode: expected enforce, testing or none (RFC 8461 §5), found 'Enforce'",
            "domains.yaml:6:7: Domains.example.com.MTASTS.MaxAge: must be at most 8766h, a year (RFC 8461 §3.2: max_age at most 31557600 seconds)",
            "domains.yaml:8:11: Domains.example.com.MTASTS.MX[0]: 'mail.*.example.com' is not an MX pattern (a host name, or *. and a domain): \"*\" is allowed only as the whole leftmost label",
            "domains.yaml:9:11: Domains.example.com.MTASTS.MX[1]: 'münchen.example' is not an MX pattern (a host name, or *. and a domain): internationalized names must be written as A-labels (xn--...)",
            "domains.yaml:10:11: Domains.example.com.MTASTS.MX[2]: expected text, found a list",
            "domains.yaml:11:7: Domains.example.com.MTASTS.Id: unknown key 'Id'; known keys here: PolicyID, Mode, MaxAge, MX",
        ])
        #expect(domainsErrors(Self.domains("      MaxAge: 1h")) == [
            "domains.yaml:3:5: Domains.example.com.MTASTS.PolicyID: required key is missing",
            "domains.yaml:3:5: Domains.example.com.MTASTS.Mode: required key is missing",
        ])
        let tooLong = String(repeating: "a", count: 33)
        #expect(domainsErrors(Self.domains("      PolicyID: \(tooLong)\n      Mode: none")) == [
            "domains.yaml:4:7: Domains.example.com.MTASTS.PolicyID: '\(tooLong)' cannot be a policy id: use 1 to 32 ASCII letters and digits (RFC 8461 §3.1), e.g. a date such as 20250101",
        ])
        #expect(domainsErrors(Self.domains("      PolicyID: 1\n      Mode: none\n      MaxAge: 1 week")) == [
            "domains.yaml:6:15: Domains.example.com.MTASTS.MaxAge: expected a duration with a unit, e.g. 30s, 5m or 1h30m, found '1 week'",
        ])
    }

    @Test("MTASTSHTTPS: default port 443, needs TLS, binds its port")
    func service() throws {
        let config = try StaticConfig.parse(Fixtures.minimalStatic + """

                TLS:
                  SelfSigned: true
                MTASTSHTTPS:
                  Enabled: true
            """, file: "tern.yaml", directory: "/etc/tern")
        let listener = try #require(config.listener(named: "public"))
        #expect(listener.mtaSTSHTTPS == MTASTSHTTPSService(enabled: true, port: 443))
        #expect(listener.endpoints.map(\.description) == [
            "192.0.2.1:25 (Listeners.public.SMTP)", "192.0.2.1:443 (Listeners.public.MTASTSHTTPS)",
        ])
        #expect(try StaticConfig.parse(Fixtures.minimalStatic, file: "tern.yaml", directory: "/etc/tern").listeners[0].mtaSTSHTTPS.enabled == false)

        #expect(staticErrors(Fixtures.minimalStatic + """

                MTASTSHTTPS:
                  Enabled: true
                  Port: 25
            """) == [
            "tern.yaml:11:7: Listeners.public.MTASTSHTTPS.Enabled: MTA-STS policies are served only over HTTPS (RFC 8461 §3.3), but this listener has no TLS section",
            "tern.yaml:12:7: Listeners.public.MTASTSHTTPS.Port: 192.0.2.1:25 is already used by Listeners.public.SMTP",
        ])
    }

    /// The MX hosts: listeners receiving SMTP, each name once; the global name otherwise.
    @Test("MX hosts")
    func mxHosts() throws {
        let config = try StaticConfig.parse("""
            DataDir: data
            Hostname: mail.example.com
            Postmaster:
              Account: admin
            Listeners:
              a:
                IPs: [192.0.2.1]
                SMTP: {Enabled: true}
              b:
                IPs: [192.0.2.2]
                Hostname: mx2.example.com
                SMTP: {Enabled: true}
              c:
                IPs: [192.0.2.3]
                SMTP: {Enabled: true}
              d:
                IPs: [192.0.2.4]
                Hostname: submit.example.com
                Submission: {Enabled: true, NoRequireSTARTTLS: true}
            """, file: "tern.yaml", directory: "/etc/tern")
        #expect(config.mxHosts.map(\.ascii) == ["mail.example.com", "mx2.example.com"])
        let noSMTP = StaticConfig(
            dataDir: "/d", hostname: try Domain("host.example.com"), postmaster: Postmaster(account: "a"),
            listeners: [Listener(name: "x", ips: [], metrics: MetricsService(enabled: true))])
        #expect(noSMTP.mxHosts.map(\.ascii) == ["host.example.com"])
    }

    @Test("the policy host of a domain")
    func policyHost() throws {
        #expect(DomainSettings(domain: try Domain("münchen.example")).mtaSTSPolicyHost?.ascii == "mta-sts.xn--mnchen-3ya.example")
        let longest = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "." + String(repeating: "d", count: 57)
        #expect(DomainSettings(domain: try Domain(longest)).mtaSTSPolicyHost == nil)
    }
}
