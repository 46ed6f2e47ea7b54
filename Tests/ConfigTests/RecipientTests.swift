import DNS
import Testing

@testable import Config

@Suite("recipient resolution")
struct RecipientTests {
    let config: DomainsConfig

    init() throws {
        config = try DomainsConfig.parse(Fixtures.domains, file: "domains.yaml")
    }

    func local(_ account: String, _ mailbox: String, _ destination: String, _ match: LocalRecipient.Match = .address) -> RecipientLookup {
        .local(LocalRecipient(account: account, mailbox: mailbox, destination: destination, match: match))
    }

    @Test("exact addresses, local parts at the account's domain")
    func exact() {
        #expect(config.resolveRecipient("alice@example.com") == local("alice", "Inbox", "alice@example.com"))
        #expect(config.resolveRecipient("admin@example.com") == local("admin", "Inbox", "admin@example.com"))
        #expect(config.resolveRecipient("alice@example.org") == local("alice", "Org", "alice@example.org"))
        #expect(config.resolveRecipient("alice.smith@example.com") == local("alice", "Smith", "alice.smith@example.com"))
    }

    @Test("subaddressing cuts at the domain's separator")
    func subaddressing() {
        #expect(config.resolveRecipient("alice+news@example.com") == local("alice", "Inbox", "alice@example.com"))
        #expect(config.resolveRecipient("alice+a+b@example.com") == local("alice", "Inbox", "alice@example.com"))
        #expect(config.resolveRecipient("Alice.Smith+x@example.com") == local("alice", "Smith", "alice.smith@example.com"))
        #expect(config.resolveRecipient("+news@example.com") == .noSuchUser)
        // example.org has no separator: the whole local part is looked up, then the catch-all.
        #expect(config.resolveRecipient("alice+news@example.org") == local("alice", "Org/Catchall", "@example.org", .catchall))
    }

    @Test("case: ignored unless the domain is case-sensitive")
    func caseRules() {
        #expect(config.resolveRecipient("ALICE@EXAMPLE.COM") == local("alice", "Inbox", "alice@example.com"))
        #expect(config.resolveRecipient(localpart: "AlIcE", domain: try! Domain("Example.Com")) == local("alice", "Inbox", "alice@example.com"))
        #expect(config.resolveRecipient("Bob@strict.example") == local("bob", "Inbox", "Bob@strict.example"))
        #expect(config.resolveRecipient("bob@strict.example") == .noSuchUser)
        #expect(config.resolveRecipient("BOB@strict.example") == .noSuchUser)
    }

    @Test("catch-all when nothing else matches")
    func catchall() {
        #expect(config.resolveRecipient("anyone@example.org") == local("alice", "Org/Catchall", "@example.org", .catchall))
        #expect(config.resolveRecipient("ALICE@example.org") == local("alice", "Org", "alice@example.org"))
    }

    @Test("unknown users and foreign domains")
    func unknown() {
        #expect(config.resolveRecipient("nobody@example.com") == .noSuchUser)
        #expect(config.resolveRecipient("alice@example.net") == .notLocalDomain)
        #expect(config.resolveRecipient("no-at-sign") == .invalidAddress)
        #expect(config.resolveRecipient("@example.com") == .invalidAddress)
        #expect(config.resolveRecipient("alice@exa mple.com") == .invalidAddress)
    }

    @Test("postmaster falls back to the static config, before a catch-all")
    func postmaster() {
        let postmaster = Postmaster(account: "admin", mailbox: "Postmaster")
        #expect(config.resolveRecipient("postmaster@example.com") == .noSuchUser)
        #expect(config.resolveRecipient("PostMaster@example.com", postmaster: postmaster) == local("admin", "Postmaster", "postmaster@example.com", .postmaster))
        #expect(config.resolveRecipient("postmaster@example.org", postmaster: postmaster) == local("admin", "Postmaster", "postmaster@example.org", .postmaster))
        #expect(config.resolveRecipient("postmaster@example.org") == local("alice", "Org/Catchall", "@example.org", .catchall))
        #expect(config.resolveRecipient("postmaster@example.net", postmaster: postmaster) == .notLocalDomain)
    }

    @Test("internationalized domains match in either form")
    func idn() {
        let expected = local("bob", "Inbox", "info@münchen.example")
        #expect(config.resolveRecipient("info@münchen.example") == expected)
        #expect(config.resolveRecipient("info@xn--mnchen-3ya.example") == expected)
        #expect(config.resolveRecipient("info@MÜNCHEN.example") == expected)
        #expect(config.isLocal(try! Domain("xn--mnchen-3ya.example")))
    }

    @Test("login addresses are exact destinations only")
    func loginAddress() {
        #expect(config.accountName(forAddress: "Alice@example.com") == "alice")
        #expect(config.accountName(forAddress: "alice@example.org") == "alice")
        #expect(config.accountName(forAddress: "alice+x@example.com") == nil)
        #expect(config.accountName(forAddress: "anyone@example.org") == nil)
        #expect(config.accountName(forAddress: "alice@example.net") == nil)
    }

    @Test("local domains")
    func localDomains() {
        #expect(config.localDomains.map(\.ascii) == ["example.com", "example.org", "strict.example", "xn--mnchen-3ya.example"])
        #expect(!config.isLocal(try! Domain("example.net")))
    }
}
