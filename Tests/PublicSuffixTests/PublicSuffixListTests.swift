import DNS
import PublicSuffix
import Testing

@Suite struct PublicSuffixListTests {
    /// The list ships as a resource of the module and loads through Bundle.module.
    @Test func shippedListLoads() throws {
        let list = try PublicSuffixList.shipped()
        #expect(list.ruleCount > 5000)
        #expect(try list.organizationalDomain(of: Domain("www.example.co.uk")) == Domain("example.co.uk"))
    }

    /// The PSL's own test cases (test_psl.txt, public domain), "checkPublicSuffix(domain,
    /// registrable domain)". Inputs that are not domain names (null, a leading dot) cannot be a
    /// `Domain`, which stands for their null answer.
    @Test(arguments: [
        // Mixed case.
        ("COM", nil), ("example.COM", "example.com"), ("WwW.example.COM", "example.com"),
        // Unlisted TLD.
        ("example", nil), ("example.example", "example.example"), ("b.example.example", "example.example"),
        ("a.b.example.example", "example.example"),
        // TLD with only 1 rule.
        ("biz", nil), ("domain.biz", "domain.biz"), ("b.domain.biz", "domain.biz"), ("a.b.domain.biz", "domain.biz"),
        // TLD with some 2-level rules.
        ("com", nil), ("example.com", "example.com"), ("b.example.com", "example.com"), ("a.b.example.com", "example.com"),
        ("uk.com", nil), ("example.uk.com", "example.uk.com"), ("b.example.uk.com", "example.uk.com"),
        ("a.b.example.uk.com", "example.uk.com"), ("test.ac", "test.ac"),
        // TLD with only 1 (wildcard) rule.
        ("mm", nil), ("c.mm", nil), ("b.c.mm", "b.c.mm"), ("a.b.c.mm", "b.c.mm"),
        // More complex TLD.
        ("jp", nil), ("test.jp", "test.jp"), ("www.test.jp", "test.jp"), ("ac.jp", nil), ("test.ac.jp", "test.ac.jp"),
        ("www.test.ac.jp", "test.ac.jp"), ("kyoto.jp", nil), ("test.kyoto.jp", "test.kyoto.jp"), ("ide.kyoto.jp", nil),
        ("b.ide.kyoto.jp", "b.ide.kyoto.jp"), ("a.b.ide.kyoto.jp", "b.ide.kyoto.jp"), ("c.kobe.jp", nil), ("b.c.kobe.jp", "b.c.kobe.jp"),
        ("a.b.c.kobe.jp", "b.c.kobe.jp"), ("city.kobe.jp", "city.kobe.jp"), ("www.city.kobe.jp", "city.kobe.jp"),
        // TLD with a wildcard rule and exceptions.
        ("ck", nil), ("test.ck", nil), ("b.test.ck", "b.test.ck"), ("a.b.test.ck", "b.test.ck"), ("www.ck", "www.ck"),
        ("www.www.ck", "www.ck"),
        // US K12.
        ("us", nil), ("test.us", "test.us"), ("www.test.us", "test.us"), ("ak.us", nil), ("test.ak.us", "test.ak.us"),
        ("www.test.ak.us", "test.ak.us"), ("k12.ak.us", nil), ("test.k12.ak.us", "test.k12.ak.us"),
        ("www.test.k12.ak.us", "test.k12.ak.us"),
        // IDN labels.
        ("食狮.com.cn", "食狮.com.cn"), ("食狮.公司.cn", "食狮.公司.cn"), ("www.食狮.公司.cn", "食狮.公司.cn"),
        ("shishi.公司.cn", "shishi.公司.cn"), ("公司.cn", nil), ("食狮.中国", "食狮.中国"), ("www.食狮.中国", "食狮.中国"),
        ("shishi.中国", "shishi.中国"), ("中国", nil),
        // Same as above, but punycoded.
        ("xn--85x722f.com.cn", "xn--85x722f.com.cn"), ("xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"),
        ("www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn"), ("shishi.xn--55qx5d.cn", "shishi.xn--55qx5d.cn"),
        ("xn--55qx5d.cn", nil), ("xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"),
        ("www.xn--85x722f.xn--fiqs8s", "xn--85x722f.xn--fiqs8s"), ("shishi.xn--fiqs8s", "shishi.xn--fiqs8s"), ("xn--fiqs8s", nil),
    ] as [(String, String?)])
    func pslTestCases(domain: String, registrable: String?) throws {
        let list = try PublicSuffixList.shipped()
        let name = try Domain(domain)
        #expect(try list.registrableDomain(of: name) == registrable.map(Domain.init))
        // The Organizational Domain (RFC 7489 §3.2) is the registrable domain, or the name
        // itself when it is a public suffix.
        #expect(try list.organizationalDomain(of: name) == registrable.map(Domain.init) ?? name)
    }

    @Test func inputsThatAreNotDomainNamesAreRefusedBeforeTheList() {
        for text in ["", ".com", ".example", ".example.com", ".example.example"] {
            #expect(throws: DomainError.self) { try Domain(text) }
        }
    }

    /// Both sections are used: names in the PRIVATE section are where unrelated parties
    /// register, so they are public suffixes too.
    @Test func privateSectionRulesApply() throws {
        let list = try PublicSuffixList.shipped()
        #expect(try list.organizationalDomain(of: Domain("alice.github.io")) == Domain("alice.github.io"))
        #expect(try list.organizationalDomain(of: Domain("www.alice.blogspot.co.uk")) == Domain("alice.blogspot.co.uk"))
        #expect(try list.publicSuffix(of: Domain("alice.blogspot.co.uk")) == Domain("blogspot.co.uk"))
        #expect(try list.organizationalDomain(of: Domain("github.io")) == Domain("github.io"))
    }

    @Test func resultsKeepTheUnicodeForm() throws {
        let list = try PublicSuffixList.shipped()
        let registrable = try #require(list.registrableDomain(of: Domain("www.Bücher.example")))
        #expect(registrable.unicode == "bücher.example")
        #expect(registrable.ascii == "xn--bcher-kva.example")
        #expect(try list.publicSuffix(of: Domain("www.食狮.公司.cn")).unicode == "公司.cn")
    }

    /// The algorithm on a small list of its own: the longest rule wins, a wildcard covers one
    /// label, an exception takes a name back out, and rules in Unicode match A-labels.
    @Test func rulesOfAGivenList() throws {
        let list = try PublicSuffixList(parsing: """
            // ===BEGIN ICANN DOMAINS===
            test
            co.test
            *.wild.test
            !keep.wild.test   trailing text after white space is not part of the rule

            bücher.test\r
            // ===END ICANN DOMAINS===
            """)
        #expect(list.ruleCount == 5)
        let cases: [(String, String?)] = [
            ("a.b.co.test", "b.co.test"), ("x.wild.test", nil), ("y.x.wild.test", "y.x.wild.test"), ("keep.wild.test", "keep.wild.test"),
            ("a.keep.wild.test", "keep.wild.test"), ("wild.test", "wild.test"), ("a.xn--bcher-kva.test", "a.xn--bcher-kva.test"),
            ("bücher.test", nil), ("other", nil), ("a.b.other", "b.other"),
        ]
        for (domain, registrable) in cases {
            #expect(try list.registrableDomain(of: Domain(domain)) == registrable.map(Domain.init), "\(domain)")
        }
    }

    @Test func listErrors() {
        #expect(throws: PublicSuffixListError.empty) { try PublicSuffixList(parsing: "// only a comment\n\n") }
        #expect(throws: PublicSuffixListError.unsupportedRule(line: 2, rule: "a.*.test")) { try PublicSuffixList(parsing: "test\na.*.test\n") }
        #expect(throws: PublicSuffixListError.unsupportedRule(line: 1, rule: "!*.test")) { try PublicSuffixList(parsing: "!*.test") }
        #expect(throws: PublicSuffixListError.invalidRule(line: 2, rule: "☃.test", .invalidCharacter(label: "☃", scalar: "☃", offset: 0))) {
            try PublicSuffixList(parsing: "test\n☃.test\n")
        }
        let error = PublicSuffixListError.invalidRule(line: 3, rule: "a..b", .emptyLabel(index: 1))
        #expect(error.description == "public suffix list line 3: rule \"a..b\": empty label at index 1 in domain name")
    }
}
