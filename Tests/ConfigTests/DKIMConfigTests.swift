import DNS
import Foundation
import Testing

@testable import Config

@Suite("DKIM: the DKIM section of domains.yaml")
struct DKIMConfigTests {
    static func domains(_ dkim: String) -> String {
        """
        Domains:
          example.com:
            DKIM:
        \(dkim)
        Accounts: {}
        """
    }

    @Test("every key read, defaults for the optional ones, paths relative to domains.yaml")
    func parsed() throws {
        let config = try DomainsConfig.parse(Self.domains("""
                  Selectors:
                    2026a:
                      PrivateKeyFile: dkim/a.pem
                      Canonicalization: simple/relaxed
                      Headers: [From, Subject]
                      Expiration: 72h
                    mail.2026b:
                      PrivateKeyFile: /keys/b.pem
                      Canonicalization: relaxed
                  Sign: [mail.2026b, 2026a]
            """), file: "/etc/tern/domains.yaml")
        let dkim = try #require(config.settings(for: try Domain("example.com"))?.dkim)
        #expect(dkim.selectors == [
            DKIMSelectorSettings(
                name: "2026a", privateKeyFile: "/etc/tern/dkim/a.pem", headerCanonicalization: .simple, bodyCanonicalization: .relaxed,
                headers: ["From", "Subject"], expiration: .seconds(72 * 3600)),
            // RFC 6376 §3.5: "relaxed" alone is relaxed/simple.
            DKIMSelectorSettings(name: "mail.2026b", privateKeyFile: "/keys/b.pem", headerCanonicalization: .relaxed, bodyCanonicalization: .simple),
        ])
        #expect(dkim.signingSelectors.map(\.name) == ["mail.2026b", "2026a"])
        #expect(try DomainsConfig.parse("Domains:\n  example.com: {}\nAccounts: {}\n", file: "domains.yaml").domains[0].dkim == nil)
    }

    @Test("errors with file, line and key")
    func errors() {
        let text = Self.domains("""
                  Selectors:
                    bad_sel!:
                      PrivateKeyFile: k.pem
                    2026a:
                      Canonicalization: loose/relaxed
                      Headers: [Subject, "Bad:Name"]
                      Colour: blue
                  Sign: [2026a, missing]
            """)
        #expect(domainsErrors(text) == [
            "domains.yaml:5:9: Domains.example.com.DKIM.Selectors.bad_sel!: 'bad_sel!' is not a selector: use DNS labels such as 2026a or mail.2026",
            "domains.yaml:7:9: Domains.example.com.DKIM.Selectors.2026a.PrivateKeyFile: required key is missing",
            "domains.yaml:8:11: Domains.example.com.DKIM.Selectors.2026a.Canonicalization: expected header/body canonicalization such as relaxed/relaxed or simple/simple (RFC 6376 §3.4), found 'loose/relaxed'",
            "domains.yaml:9:11: Domains.example.com.DKIM.Selectors.2026a.Headers: must include From (RFC 6376 §5.4: the From field is always signed)",
            "domains.yaml:9:30: Domains.example.com.DKIM.Selectors.2026a.Headers[1]: 'Bad:Name' is not a header field name",
            "domains.yaml:10:11: Domains.example.com.DKIM.Selectors.2026a.Colour: unknown key 'Colour'; known keys here: PrivateKeyFile, Canonicalization, Headers, Expiration",
            "domains.yaml:11:21: Domains.example.com.DKIM.Sign[1]: no selector 'missing' under Selectors",
        ])
    }

    @Test("unreadable key files, when files are checked")
    func keyFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let config = try DomainsConfig.parse(Self.domains("""
                  Selectors:
                    here:
                      PrivateKeyFile: here.pem
                    gone:
                      PrivateKeyFile: gone.pem
            """), file: directory.path + "/domains.yaml")
        try directory.write("here.pem", "key")
        #expect(config.keyFileIssues().map(\.description) == [
            "Domains.example.com.DKIM.Selectors.gone.PrivateKeyFile: cannot read \(directory.path)/gone.pem (create one with `tern dkim genrsa` or `tern dkim gened25519`)",
        ])
    }
}

@Suite("AcceptDMARCRejects: the operator's exceptions to DMARC rejects")
struct DMARCExceptionsConfigTests {
    @Test func parsedAndChecked() throws {
        let config = try DomainsConfig.parse("""
            Domains: {}
            Accounts: {}
            AcceptDMARCRejects:
              Lists.Example.NET: Lists
              bücher.example: Junk
            """, file: "domains.yaml")
        #expect(config.acceptDMARCRejects == [try Domain("lists.example.net"): "Lists", try Domain("xn--bcher-kva.example"): "Junk"])
        #expect(domainsErrors("""
            Domains: {}
            Accounts: {}
            AcceptDMARCRejects:
              "not a domain!": Lists
              lists.example.org: ""
            """) == [
            "domains.yaml:4:3: AcceptDMARCRejects.not a domain!: 'not a domain!' is not a domain",
            "domains.yaml:5:3: AcceptDMARCRejects.lists.example.org: expected the name of the mailbox to deliver into, e.g. Lists or Junk",
        ])
    }
}
