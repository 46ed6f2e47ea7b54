import DNS
import Testing

@testable import SPF

private func domainSpec(_ text: String) throws -> MacroString {
    try MacroString(parsing: text, as: .domainSpec)
}

private func ipv4(_ text: String) throws -> IPAddress {
    try #require(IPAddress(text))
}

/// The syntax error a record gives, or nil when it parses.
private func syntaxError(_ record: String) -> SPFSyntaxError? {
    do {
        _ = try SPFRecord(parsing: record)
        return nil
    } catch {
        return error
    }
}

@Suite struct SPFRecordTests {
    /// RFC 7208 §4.5: exactly "v=spf1", any case, then a space or the end.
    @Test func versionSelection() {
        #expect(SPFRecord.hasVersion("v=spf1"))
        #expect(SPFRecord.hasVersion("v=spf1 -all"))
        #expect(SPFRecord.hasVersion("V=SpF1 ~all"))
        #expect(!SPFRecord.hasVersion("v=spf10"))
        #expect(!SPFRecord.hasVersion("v=spf1mx"))
        #expect(!SPFRecord.hasVersion("v=spf2.0/pra -all"))
        #expect(!SPFRecord.hasVersion(" v=spf1 -all"))
        #expect(!SPFRecord.hasVersion("v=spf"))
        #expect(syntaxError("spf1 -all") == SPFSyntaxError(term: "spf1 -", column: 1, reason: "an SPF record begins with 'v=spf1' and a space"))
    }

    @Test func emptyRecordAndSpaces() throws {
        #expect(try SPFRecord(parsing: "v=spf1").directives.isEmpty)
        // terms = *( 1*SP ( directive / modifier ) ), record = version terms *SP.
        let record = try SPFRecord(parsing: "v=spf1   a    -all  ")
        #expect(record.directives.map(\.description) == ["a", "-all"])
    }

    /// RFC 7208 §3: the example record.
    @Test func sectionThreeExample() throws {
        let record = try SPFRecord(parsing: "v=spf1 +mx a:colo.example.com/28 -all")
        #expect(record.directives == [
            Directive(qualifier: .pass, mechanism: .mx(nil, PrefixLengths()), description: "+mx"),
            Directive(qualifier: .pass, mechanism: .a(try domainSpec("colo.example.com"), PrefixLengths(ipv4: 28)), description: "a:colo.example.com/28"),
            Directive(qualifier: .fail, mechanism: .all, description: "-all"),
        ])
    }

    @Test func qualifiers() throws {
        let record = try SPFRecord(parsing: "v=spf1 +all -all ~all ?all all")
        #expect(record.directives.map(\.qualifier) == [.pass, .fail, .softfail, .neutral, .pass])
        #expect(record.directives.map(\.qualifier.result) == [.pass, .fail, .softfail, .neutral, .pass])
    }

    @Test func everyMechanism() throws {
        let record = try SPFRecord(parsing: """
            v=spf1 all include:_spf.example.com a a:a.example.com a/24 a//64 a:a.example.com/24//64 \
            mx mx:mx.example.com/30 ptr ptr:example.com ip4:192.0.2.0/24 ip4:192.0.2.1 \
            ip6:2001:db8::/32 ip6:2001:db8::1 exists:%{ir}.list.example.com
            """)
        let expected: [Mechanism] = [
            .all,
            .include(try domainSpec("_spf.example.com")),
            .a(nil, PrefixLengths()),
            .a(try domainSpec("a.example.com"), PrefixLengths()),
            .a(nil, PrefixLengths(ipv4: 24)),
            .a(nil, PrefixLengths(ipv6: 64)),
            .a(try domainSpec("a.example.com"), PrefixLengths(ipv4: 24, ipv6: 64)),
            .mx(nil, PrefixLengths()),
            .mx(try domainSpec("mx.example.com"), PrefixLengths(ipv4: 30)),
            .ptr(nil),
            .ptr(try domainSpec("example.com")),
            .ip4(try ipv4("192.0.2.0"), prefixLength: 24),
            .ip4(try ipv4("192.0.2.1"), prefixLength: 32),
            .ip6(try ipv4("2001:db8::"), prefixLength: 32),
            .ip6(try ipv4("2001:db8::1"), prefixLength: 128),
            .exists(try domainSpec("%{ir}.list.example.com")),
        ]
        #expect(record.directives.map(\.mechanism) == expected)
        #expect(record.directives.map(\.mechanism.queriesDNS) == [false, true, true, true, true, true, true, true, true, true, true, false, false, false, false, true])
    }

    /// RFC 7208 §12: names of mechanisms and modifiers are case-insensitive.
    @Test func caseInsensitiveNames() throws {
        let record = try SPFRecord(parsing: "v=spf1 MX -ALL Ip4:192.0.2.1 REDIRECT=example.com Exp=why.example.com")
        #expect(record.directives.map(\.mechanism) == [.mx(nil, PrefixLengths()), .all, .ip4(try ipv4("192.0.2.1"), prefixLength: 32)])
        #expect(record.redirect == (try domainSpec("example.com")))
        #expect(record.explanation == (try domainSpec("why.example.com")))
    }

    @Test func modifiers() throws {
        let record = try SPFRecord(parsing: "v=spf1 redirect=_spf.example.com exp=explain._spf.%{d} moo.cow-far_out=man:dog/cat default=pass x= ")
        #expect(record.redirect?.description == "_spf.example.com")
        #expect(record.explanation?.description == "explain._spf.%{d}")
        // RFC 7208 §6: unknown modifiers are kept, syntax-checked, and do nothing.
        #expect(record.unknownModifiers.map(\.name) == ["moo.cow-far_out", "default", "x"])
        #expect(record.unknownModifiers.map(\.value.description) == ["man:dog/cat", "pass", ""])
        // c, r and t in an unknown modifier are macro syntax like any other.
        #expect(throws: Never.self) { try SPFRecord(parsing: "v=spf1 note=%{r}.%{t}") }
    }

    /// A domain-spec may hold any visible character but "%" outside macros; only its end is
    /// constrained (RFC 7208 §7.1).
    @Test func unusualButValidDomains() throws {
        let record = try SPFRecord(parsing: "v=spf1 a:foo:bar/baz.example.com mx:foo.example.xn--zckzah include:o.spf.example.com. exists:x.%{d}")
        #expect(record.directives.map(\.mechanism) == [
            .a(try domainSpec("foo:bar/baz.example.com"), PrefixLengths()),
            .mx(try domainSpec("foo.example.xn--zckzah"), PrefixLengths()),
            .include(try domainSpec("o.spf.example.com.")),
            .exists(try domainSpec("x.%{d}")),
        ])
        // A dotted top label made of digits and a hyphen is a toplabel too.
        #expect(syntaxError("v=spf1 a:example.1-2") == nil)
        #expect(syntaxError("v=spf1 a:%{d}") == nil)
        #expect(syntaxError("v=spf1 a:%{d}%%") == nil)
    }

    @Test(arguments: [
        // Terms and their errors: (record, term, column, reason).
        ("v=spf1 ip4:1.2.3.4 -all moo", "moo", 25, "unknown mechanism 'moo'"),
        ("v=spf1 -all ip6", "ip6", 16, "ip6 needs ':' and a network"),
        ("v=spf1 -all.", "-all.", 9, "unknown mechanism 'all.'"),
        ("v=spf1 -all:foobar", "-all:foobar", 12, "'all' takes no argument"),
        ("v=spf1 -all/8", "-all/8", 12, "'all' takes no argument"),
        ("v=spf1 ip4:1.2.3.4 redirect:t2.example.com", "redirect:t2.example.com", 20, "unknown mechanism 'redirect'"),
        ("v=spf1 moo.cow/far_out=man:dog/cat", "moo.cow/far_out=man:dog/cat", 8,
         "not a modifier: a modifier's name begins with a letter, has only letters, digits, '-', '_' and '.', and is followed by '='"),
        ("v=spf1 1up=foo", "1up=foo", 8,
         "not a modifier: a modifier's name begins with a letter, has only letters, digits, '-', '_' and '.', and is followed by '='"),
        ("v=spf1 =all", "=all", 8,
         "not a modifier: a modifier's name begins with a letter, has only letters, digits, '-', '_' and '.', and is followed by '='"),
        ("v=spf1 include", "include", 15, "include needs ':' and a domain"),
        ("v=spf1 include:", "include:", 16, "include: needs a domain"),
        ("v=spf1 include:ip5.example.com/24", "include:ip5.example.com/24", 28, "'com/24' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 exists", "exists", 14, "exists needs ':' and a domain"),
        ("v=spf1 exists:mail.example.com/24", "exists:mail.example.com/24", 28, "'com/24' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 a:", "a:", 10, "a: needs a domain"),
        ("v=spf1 a:museum", "a:museum", 10, "a domain must end in a macro or in '.' and a top label, not 'museum'"),
        ("v=spf1 a:museum.", "a:museum.", 10, "a domain must end in a macro or in '.' and a top label, not 'museum.'"),
        ("v=spf1 a:abc.123", "a:abc.123", 14, "'123' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 a:111.222.33.44", "a:111.222.33.44", 21, "'44' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 a:example.-com", "a:example.-com", 18, "'-com' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 a:example.com:8080", "a:example.com:8080", 18, "'com:8080' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("v=spf1 a/33", "a/33", 10, "prefix length 33 is more than 32"),
        ("v=spf1 a//129", "a//129", 11, "prefix length 129 is more than 128"),
        ("v=spf1 a/24/64", "a/24/64", 13, "prefix length 64 is more than 32"),
        ("v=spf1 a/24/6", "a/24/6", 9, "expected ':' and a domain or a prefix length after 'a'"),
        ("v=spf1 mx/032", "mx/032", 11, "prefix length '032' has a leading zero"),
        ("v=spf1 mx:", "mx:", 11, "mx: needs a domain"),
        ("v=spf1 mxx", "mxx", 8, "unknown mechanism 'mxx'"),
        ("v=spf1 ptr/0", "ptr/0", 11, "ptr takes only ':' and a domain"),
        ("v=spf1 ptr:", "ptr:", 12, "ptr: needs a domain"),
        ("v=spf1 ip4", "ip4", 11, "ip4 needs ':' and a network"),
        ("v=spf1 ip4:1.2.3", "ip4:1.2.3", 12, "'1.2.3' is not an IPv4 address in dotted-quad form"),
        ("v=spf1 ip4:1.2.3.4:8080", "ip4:1.2.3.4:8080", 12, "'1.2.3.4:8080' is not an IPv4 address in dotted-quad form"),
        ("v=spf1 ip4:01.2.3.4", "ip4:01.2.3.4", 12, "'01.2.3.4' is not an IPv4 address in dotted-quad form"),
        ("v=spf1 ip4:1.2.3.256", "ip4:1.2.3.256", 12, "'1.2.3.256' is not an IPv4 address in dotted-quad form"),
        ("v=spf1 ip4:1.2.3.4/33", "ip4:1.2.3.4/33", 20, "prefix length 33 is more than 32"),
        ("v=spf1 ip4:1.2.3.4/032", "ip4:1.2.3.4/032", 20, "prefix length '032' has a leading zero"),
        ("v=spf1 ip4:1.2.3.4//32", "ip4:1.2.3.4//32", 20, "prefix length '/32' is not a number"),
        ("v=spf1 ip4:1.2.3.4/", "ip4:1.2.3.4/", 20, "prefix length '' is not a number"),
        ("v=spf1 ip4:::1", "ip4:::1", 12, "'::1' is not an IPv4 address in dotted-quad form"),
        ("v=spf1 ip6::CAFE::BABE", "ip6::CAFE::BABE", 12, "':CAFE::BABE' is not an IPv6 address"),
        ("v=spf1 ip6:192.0.2.1", "ip6:192.0.2.1", 12, "'192.0.2.1' is not an IPv6 address"),
        ("v=spf1 ip6:::1.1.1.1/129", "ip6:::1.1.1.1/129", 22, "prefix length 129 is more than 128"),
        ("v=spf1 ip6:::1.1.1.1//33", "ip6:::1.1.1.1//33", 22, "prefix length '/33' is not a number"),
        ("v=spf1 redirect=", "redirect=", 17, "redirect= needs a domain"),
        ("v=spf1 exp=", "exp=", 12, "exp= needs a domain"),
        ("v=spf1 exp=-all", "exp=-all", 12, "a domain must end in a macro or in '.' and a top label, not '-all'"),
        ("v=spf1 redirect=a.example.com -all redirect=b.example.com", "redirect=b.example.com", 36, "redirect= appears more than once"),
        ("v=spf1 exp=a.example.com -all exp=b.example.com", "exp=b.example.com", 31, "exp= appears more than once"),
        ("v=spf1 -all foo=%abc", "foo=%abc", 17, "'%' must be followed by '{', '%', '_' or '-'"),
        ("v=spf1 -exists:%(ir).sbl.example.com", "-exists:%(ir).sbl.example.com", 16, "'%' must be followed by '{', '%', '_' or '-'"),
        ("v=spf1 a:%{a}.example.com", "a:%{a}.example.com", 12, "unknown macro letter 'a'"),
        ("v=spf1 -all exp=%{r}.example.com", "exp=%{r}.example.com", 19, "macro letter 'r' is allowed only in explanation text"),
        ("v=spf1 a:\u{FEFF}garbage.example.net", "a:\u{FEFF}garbage.example.net", 10, "character 0xEF is not allowed"),
    ])
    func syntaxErrors(record: String, term: String, column: Int, reason: String) {
        #expect(syntaxError(record) == SPFSyntaxError(term: term, column: column, reason: reason))
    }

    @Test func syntaxErrorDescription() {
        #expect(syntaxError("v=spf1 ip4:1.2.3")?.description == "'ip4:1.2.3' at column 12: '1.2.3' is not an IPv4 address in dotted-quad form")
    }

    /// RFC 7208 §4.6: an error anywhere makes the record invalid, also after "all".
    @Test func errorsAfterAllAreStillErrors() {
        #expect(syntaxError("v=spf1 -all a:") != nil)
        #expect(syntaxError("v=spf1 a:example.com\u{0}") != nil)
        #expect(syntaxError("v=spf1 -all\tmx") != nil)
    }
}
