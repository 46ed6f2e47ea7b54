import DNS
import Testing

@testable import SPF

/// RFC 7208 §7.4: "The <sender> is strong-bad@email.example.com. The IPv4 SMTP client IP is
/// 192.0.2.3. The IPv6 SMTP client IP is 2001:db8::cb01. The PTR domain name of the client
/// IP is mx.example.org."
private func sectionSevenFourContext(ip: String = "192.0.2.3") -> MacroContext {
    MacroContext(
        sender: "strong-bad@email.example.com", localPart: "strong-bad", senderDomain: "email.example.com",
        domain: "email.example.com", ip: IPAddress(ip) ?? .v4(0, 0, 0, 0), helo: "mail.example.org",
        receiver: "mx.example.net", timestamp: 1_700_000_000, validatedName: "mx.example.org")
}

private func expand(_ text: String, _ context: MacroContext = sectionSevenFourContext(), as use: MacroString.Use = .domainSpec) throws -> String {
    try MacroString(parsing: text, as: use).expand(in: context)
}

private func macroError(_ text: String, as use: MacroString.Use = .domainSpec) -> MacroSyntaxError? {
    do {
        _ = try MacroString(parsing: text, as: use)
        return nil
    } catch {
        return error
    }
}

@Suite struct MacroTests {
    @Test(arguments: [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
    ])
    func sectionSevenFourMacros(macro: String, expansion: String) throws {
        // A lone macro is a valid domain-spec (domain-end = macro-expand).
        #expect(try expand(macro) == expansion)
    }

    @Test(arguments: [
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
    ])
    func sectionSevenFourStrings(macroString: String, expansion: String) throws {
        #expect(try expand(macroString) == expansion)
    }

    @Test func sectionSevenFourIPv6() throws {
        let context = sectionSevenFourContext(ip: "2001:db8::cb01")
        #expect(try expand("%{ir}.%{v}._spf.%{d2}", context)
            == "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com")
        #expect(try expand("%{i}", context) == "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1")
        // %{c} is the readable RFC 5952 form (RFC 7208 §7.3).
        #expect(try expand("%{c}", context, as: .explanation) == "2001:db8::cb01")
    }

    @Test func everyLetter() throws {
        let context = sectionSevenFourContext()
        let values = Macro.Letter.allCases.map { letter in
            (try? expand("%{\(letter.rawValue)}", context, as: .explanation)) ?? "?"
        }
        #expect(values == [
            "strong-bad@email.example.com", "strong-bad", "email.example.com", "email.example.com", "192.0.2.3",
            "mx.example.org", "in-addr", "mail.example.org", "192.0.2.3", "mx.example.net", "1700000000",
        ])
        #expect(Macro.Letter.allCases.filter(\.isExplanationOnly) == [.clientIP, .receiver, .timestamp])
    }

    /// RFC 7208 §7.1: "%%", "%_" and "%-".
    @Test func escapes() throws {
        #expect(try expand("macro%%percent%_%_space%-url-space.example.com") == "macro%percent  space%20url-space.example.com")
        #expect(try expand("100%% of %{d}", as: .explanation) == "100% of email.example.com")
    }

    /// RFC 7208 §7.3: uppercase letters expand the same and are then URL-escaped outside
    /// RFC 3986's unreserved set.
    @Test func uppercaseIsURLEscaped() throws {
        var context = sectionSevenFourContext()
        context.sender = "jack&jill=up@e8.example.com"
        context.localPart = "jack&jill=up"
        #expect(try expand("http://example.com/why.html?l=%{L}", context, as: .explanation) == "http://example.com/why.html?l=jack%26jill%3Dup")
        #expect(try expand("%{S}", context, as: .explanation) == "jack%26jill%3Dup%40e8.example.com")
        #expect(try expand("%{D2R}", context) == "example.email")
        #expect(try expand("%{C}", sectionSevenFourContext(ip: "2001:db8::cb01"), as: .explanation) == "2001%3Adb8%3A%3Acb01")
        context.localPart = "a b~c_d.é"
        #expect(try expand("%{L}", context, as: .explanation) == "a%20b~c_d.%C3%A9")
    }

    @Test func transformers() throws {
        var context = sectionSevenFourContext()
        context.localPart = "foo-bar+zip+quux"
        // Several delimiters split on any of them; parts are joined with ".".
        #expect(try expand("%{l2r+-}", context) == "bar.foo")
        #expect(try expand("%{l+-}", context) == "foo.bar.zip.quux")
        #expect(try expand("%{l=,/_+}", context) == "foo-bar.zip.quux")
        // More parts asked for than there are keeps them all, however many are asked for.
        #expect(try expand("%{d127}") == "email.example.com")
        #expect(try expand("%{d99999999999999999999}") == "email.example.com")
        #expect(try expand("%{d002}") == "example.com")
        // Empty parts are kept (RFC 7208 §7.3: "no special treatment").
        context.domain = "a..b."
        #expect(try expand("%{dr}", context) == ".b..a")
        #expect(try expand("%{d2}", context) == "b.")
    }

    @Test func explanationsMayHoldSpacesAndExplanationLetters() throws {
        #expect(try expand("%{i} is not one of %{d}'s designated mail servers.", as: .explanation)
            == "192.0.2.3 is not one of email.example.com's designated mail servers.")
        #expect(try expand("See http://%{d}/why.html?s=%{S}&i=%{I} at %{t} by %{r}", as: .explanation)
            == "See http://email.example.com/why.html?s=strong-bad%40email.example.com&i=192.0.2.3 at 1700000000 by mx.example.net")
        #expect(macroError("a b.example.com") == MacroSyntaxError(offset: 1, reason: "character 0x20 is not allowed"))
        #expect(macroError("a b", as: .unknownModifier) == MacroSyntaxError(offset: 1, reason: "character 0x20 is not allowed"))
    }

    @Test(arguments: [
        ("%", 0, "'%' at the end; a literal '%' is written '%%'"),
        ("foo%.sbl.example.com", 3, "'%' must be followed by '{', '%', '_' or '-'"),
        ("%(ir).sbl.example.com", 0, "'%' must be followed by '{', '%', '_' or '-'"),
        ("%{", 0, "unterminated macro, missing '}'"),
        ("%{d", 0, "unterminated macro, missing '}'"),
        ("%{d2r.", 0, "unterminated macro, missing '}'"),
        ("%{x}", 2, "unknown macro letter 'x'"),
        ("%{}", 2, "unknown macro letter '}'"),
        ("%{d0}", 3, "the count of parts must be nonzero"),
        ("%{dx}", 3, "unexpected 'x' in macro, expected a delimiter or '}'"),
        ("%{d r}", 3, "unexpected 0x20 in macro, expected a delimiter or '}'"),
        ("%{rd}", 2, "macro letter 'r' is allowed only in explanation text"),
        ("%{C}", 2, "macro letter 'c' is allowed only in explanation text"),
        ("%{t}.x.com", 2, "macro letter 't' is allowed only in explanation text"),
        ("%{d}com", 4, "a domain must end in a macro or in '.' and a top label, not 'com'"),
        ("%{d}.", 4, "a domain must end in a macro or in '.' and a top label, not '.'"),
        ("x.%{d}.123", 7, "'123' is not a top label (letters, digits and inner hyphens, not all digits)"),
        ("tab\there.com", 3, "character 0x9 is not allowed"),
    ])
    func syntaxErrors(text: String, offset: Int, reason: String) {
        #expect(macroError(text) == MacroSyntaxError(offset: offset, reason: reason))
    }

    /// The letters c, r and t are fine outside domain-specs.
    @Test func explanationOnlyLettersInExplanations() {
        #expect(macroError("%{c} %{r} %{t}", as: .explanation) == nil)
        #expect(macroError("%{c}", as: .unknownModifier) == nil)
    }

    @Test func uses() throws {
        #expect(try MacroString(parsing: "%{p}.example.com", as: .domainSpec).uses(.validatedName))
        #expect(try !MacroString(parsing: "p.example.com", as: .domainSpec).uses(.validatedName))
    }
}
