import DNS
import SASL
import Testing

@testable import Config

@Suite("domains.yaml")
struct DomainsConfigTests {
    @Test("a valid file with every key")
    func valid() throws {
        let config = try DomainsConfig.parse(Fixtures.domains, file: "domains.yaml")
        #expect(config.localDomains.map(\.unicode) == ["example.com", "example.org", "strict.example", "münchen.example"])
        let example = try #require(config.settings(for: try Domain("example.com")))
        #expect(example == DomainSettings(domain: try Domain("example.com"), description: "Main", localpartCatchallSeparator: "+", localpartCaseSensitive: false))
        #expect(config.settings(for: try Domain("strict.example"))?.localpartCaseSensitive == true)
        #expect(config.accounts.map(\.name) == ["admin", "alice", "bob"])
        let alice = try #require(config.account(named: "alice"))
        #expect(alice.domain == (try Domain("example.com")))
        #expect(alice.fullName == "Alice Example")
        #expect(alice.destinations == [
            Destination("alice"), Destination("Alice.Smith", mailbox: "Smith"), Destination("alice@example.org", mailbox: "Org"),
            Destination("@example.org", mailbox: "Org/Catchall"),
        ])
        #expect(alice.passwords.map(\.hash) == [.sha256, .sha1])
        #expect(alice.passwords.first?.iterations == 4096)
        #expect(alice.passwords.first?.rfc5803 == Fixtures.sha256)
        #expect(alice.cramMD5Secret == "secret")
        #expect(alice.quotaBytes == 1_000_000)
        let admin = try #require(config.account(named: "admin"))
        #expect(admin.passwords.isEmpty)
        #expect(admin.cramMD5Secret == nil)
        #expect(admin.quotaBytes == nil)
    }

    @Test("the same model built in code")
    func builtInCode() throws {
        let example = try Domain("example.com")
        let config = try DomainsConfig(
            domains: [DomainSettings(domain: example, localpartCatchallSeparator: "-")],
            accounts: [Account(name: "alice", domain: example, destinations: [Destination("alice")])])
        #expect(config.resolveRecipient("alice-lists@example.com") == .local(LocalRecipient(account: "alice", mailbox: "Inbox", destination: "alice@example.com", match: .address)))
        #expect(throws: ConfigIssues([
            ConfigIssue(path: ["Accounts", "bob", "Domain"], message: "domain example.org is not configured under Domains; did you mean example.com?"),
        ])) {
            try DomainsConfig(
                domains: [DomainSettings(domain: example)],
                accounts: [Account(name: "bob", domain: try Domain("example.org"), destinations: [Destination("bob")])])
        }
    }

    @Test("unknown keys, wrong types and missing keys")
    func structure() {
        let yaml = """
            Domains:
              example.com:
                LocalpartCaseSensitve: true
                LocalpartCatchallSeparator: [a]
              example.org:
                LocalpartCaseSensitive: yes
            Accounts:
              alice:
                Destinations:
                  alice@example.com: {Mailbox: Inbox, Folder: x}
                QuotaBytes: 0
              bob: just bob
              carol:
                Domain: example.com
                Destinations: [carol]
                Passwords: SCRAM
            """
        #expect(domainsErrors(yaml) == [
            "domains.yaml:3:5: Domains.example.com.LocalpartCaseSensitve: unknown key 'LocalpartCaseSensitve'; did you mean 'LocalpartCaseSensitive'?",
            "domains.yaml:4:33: Domains.example.com.LocalpartCatchallSeparator: expected text, found a list",
            "domains.yaml:6:29: Domains.example.org.LocalpartCaseSensitive: expected true or false, found 'yes'",
            "domains.yaml:8:3: Accounts.alice.Domain: required key is missing",
            "domains.yaml:10:43: Accounts.alice.Destinations.alice@example.com.Folder: unknown key 'Folder'; known keys here: Mailbox",
            "domains.yaml:11:17: Accounts.alice.QuotaBytes: 0 is out of range: must be at least 1",
            "domains.yaml:12:8: Accounts.bob: expected a mapping (KEY: VALUE lines), found 'just bob'",
            "domains.yaml:15:19: Accounts.carol.Destinations: expected a mapping (NAME: VALUE lines), found a list",
            "domains.yaml:16:16: Accounts.carol.Passwords: expected a list (lines starting with '- ', or [a, b]), found 'SCRAM'",
        ])
        #expect(domainsErrors("Domains: {}\n") == ["domains.yaml:1:1: Accounts: required key is missing"])
    }

    @Test("domain names")
    func domainNames() {
        let yaml = """
            Domains:
              Example.com: {}
              exa_mple.org: {}
              xn--mnchen-3ya.example: {}
              münchen.example: {}
            Accounts: {}
            """
        #expect(domainsErrors(yaml) == [
            "domains.yaml:2:3: Domains.Example.com: write the domain as 'example.com' (lowercase, no trailing dot)",
            "domains.yaml:3:3: Domains.exa_mple.org: 'exa_mple.org' is not a valid host name: \(domainError("exa_mple.org"))",
            "domains.yaml:5:3: Domains.münchen.example: domain münchen.example is configured twice (once as xn--mnchen-3ya.example)",
        ])
    }

    @Test("destinations: configured domains, one account per address, separators")
    func destinations() {
        let yaml = """
            Domains:
              example.com:
                LocalpartCatchallSeparator: "+"
              example.org: {}
            Accounts:
              alice:
                Domain: example.com
                Destinations:
                  alice: {}
                  alice@example.net: {}
                  "@example.org": {}
                  a+b: {}
                  Alice@Example.COM: {}
              bob:
                Domain: example.net
                Destinations:
                  ALICE@example.com: {}
                  "@example.org": {Mailbox: ""}
                  bob@example.org:
                    Mailbox: "a//b"
              carol:
                Domain: example.org
                Destinations: {}
                FullName: "Carol\\r\\nBcc: everyone"
            """
        #expect(domainsErrors(yaml) == [
            "domains.yaml:10:7: Accounts.alice.Destinations.alice@example.net: domain example.net is not configured under Domains; did you mean example.com?",
            "domains.yaml:12:7: Accounts.alice.Destinations.a+b: 'a+b' contains the domain's LocalpartCatchallSeparator '+', so no address could reach it: everything from the separator on is cut off before lookup",
            "domains.yaml:13:7: Accounts.alice.Destinations.Alice@Example.COM: alice@example.com is already a destination of this account (example.com ignores case in local parts); an address delivers to exactly one account",
            "domains.yaml:15:5: Accounts.bob.Domain: domain example.net is not configured under Domains; did you mean example.com?",
            "domains.yaml:17:7: Accounts.bob.Destinations.ALICE@example.com: alice@example.com is already a destination of account 'alice' (example.com ignores case in local parts); an address delivers to exactly one account",
            "domains.yaml:18:7: Accounts.bob.Destinations.@example.org: the catch-all for example.org is already a destination of account 'alice'",
            "domains.yaml:18:24: Accounts.bob.Destinations.@example.org.Mailbox: a mailbox name cannot be empty",
            "domains.yaml:20:9: Accounts.bob.Destinations.bob@example.org.Mailbox: mailbox name 'a//b' has an empty level: '/' separates levels, as in 'Lists/Swift'",
            "domains.yaml:23:5: Accounts.carol.Destinations: needs at least one destination: the addresses that deliver to this account",
            "domains.yaml:24:5: Accounts.carol.FullName: contains a control character or line break",
        ])
    }

    @Test("case-sensitive domains keep addresses that differ in case apart")
    func caseSensitiveDuplicates() throws {
        let yaml = """
            Domains:
              strict.example:
                LocalpartCaseSensitive: true
            Accounts:
              upper:
                Domain: strict.example
                Destinations:
                  Bob: {}
              lower:
                Domain: strict.example
                Destinations:
                  bob: {}
            """
        let config = try DomainsConfig.parse(yaml, file: "domains.yaml")
        #expect(config.resolveRecipient("Bob@strict.example").account == "upper")
        #expect(config.resolveRecipient("bob@strict.example").account == "lower")
        #expect(config.resolveRecipient("BOB@strict.example") == .noSuchUser)
    }

    @Test("passwords are checked for syntax, one per scheme")
    func passwords() {
        let yaml = """
            Domains:
              example.com: {}
            Accounts:
              alice:
                Domain: example.com
                Destinations:
                  alice: {}
                Passwords:
                  - \(Fixtures.sha256)
                  - \(Fixtures.sha256)
                  - PLAIN$secret
                  - SCRAM-SHA-1$4096:c2FsdA==$AAAA:AAAA
                  - SCRAM-SHA-256$1000:c2FsdA==$AAAA:AAAA
                  - [nested]
                CRAMMD5Secret: ""
            """
        #expect(domainsErrors(yaml) == [
            "domains.yaml:10:9: Accounts.alice.Passwords[1]: a second SCRAM-SHA-256 entry; an account has at most one per scheme, since the server offers one salt per user",
            "domains.yaml:11:9: Accounts.alice.Passwords[2]: malformed SCRAM credentials: want scheme$iterations:salt$storedKey:serverKey, found 2 $-separated parts",
            "domains.yaml:12:9: Accounts.alice.Passwords[3]: StoredKey of 3 octets (want 20)",
            "domains.yaml:13:9: Accounts.alice.Passwords[4]: iteration count 1000 outside 4096...1000000",
            "domains.yaml:14:9: Accounts.alice.Passwords[5]: expected text, found a list",
            "domains.yaml:15:5: Accounts.alice.CRAMMD5Secret: cannot be empty; remove the key to turn CRAM-MD5 off for this account",
        ])
    }

    @Test("separators")
    func separators() {
        #expect(DomainsConfig.separatorProblem("+") == nil)
        #expect(DomainsConfig.separatorProblem("--") == nil)
        #expect(DomainsConfig.separatorProblem("") != nil)
        #expect(DomainsConfig.separatorProblem("@") != nil)
        #expect(DomainsConfig.separatorProblem(" ") != nil)
        #expect(DomainsConfig.separatorProblem("123456789") != nil)
    }

    @Test("errors in many places are all reported, in line order")
    func collectsAll() {
        let yaml = """
            Domains:
              example.com:
                Descripton: x
            Accounts:
              a:
                Domain: example.org
                Destinations:
                  a: {}
              b:
                Domain: example.com
                Destinations:
                  x@nowhere.example: {}
                QuotaBytes: lots
            Extra: 1
            """
        let errors = domainsErrors(yaml)
        #expect(errors.count == 5)
        #expect(errors.map { $0.split(separator: ":").prefix(2).joined(separator: ":") } == [
            "domains.yaml:3", "domains.yaml:6", "domains.yaml:12", "domains.yaml:13", "domains.yaml:14",
        ])
    }
}

func domainError(_ text: String) -> String {
    do {
        _ = try Domain(text)
        return "valid"
    } catch {
        return "\(error)"
    }
}

extension RecipientLookup {
    /// The account for a local recipient, nil otherwise.
    var account: String? {
        if case let .local(recipient) = self { return recipient.account }
        return nil
    }
}
