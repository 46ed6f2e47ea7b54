import Foundation
import Testing
import TestSupport
@testable import Message

private func mailbox(_ name: String?, _ local: String, _ domain: String, route: String? = nil) -> AddressListItem {
    .mailbox(Address(displayName: name, localPart: local, domain: domain, route: route))
}

private func address(_ name: String?, _ local: String, _ domain: String) -> Address {
    Address(displayName: name, localPart: local, domain: domain)
}

private func strictError(_ value: String) -> AddressError? {
    do throws(AddressError) {
        _ = try AddressList.parse(value)
        return nil
    } catch {
        return error
    }
}

@Suite struct AddressStrictTests {
    // RFC 5322 Appendix A.1.1
    @Test func appendixA11() throws {
        #expect(try AddressList.parse("John Doe <jdoe@machine.example>") == [mailbox("John Doe", "jdoe", "machine.example")])
        #expect(try AddressList.parseMailbox("Michael Jones <mjones@machine.example>") == address("Michael Jones", "mjones", "machine.example"))
        #expect(try AddressList.parse("Mary Smith <mary@example.net>") == [mailbox("Mary Smith", "mary", "example.net")])
    }

    // RFC 5322 Appendix A.1.2
    @Test func appendixA12() throws {
        #expect(try AddressList.parse(#""Joe Q. Public" <john.q.public@example.com>"#)
            == [mailbox("Joe Q. Public", "john.q.public", "example.com")])
        #expect(try AddressList.parse("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>") == [
            mailbox("Mary Smith", "mary", "x.test"),
            mailbox(nil, "jdoe", "example.org"),
            mailbox("Who?", "one", "y.test"),
        ])
        #expect(try AddressList.parse(#"<boss@nil.test>, "Giant; \"Big\" Box" <sysservices@example.net>"#) == [
            mailbox(nil, "boss", "nil.test"),
            mailbox(#"Giant; "Big" Box"#, "sysservices", "example.net"),
        ])
    }

    // RFC 5322 Appendix A.1.3
    @Test func appendixA13Groups() throws {
        #expect(try AddressList.parse("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;") == [
            .group(name: "A Group", members: [
                address("Ed Jones", "c", "a.test"),
                address(nil, "joe", "where.test"),
                address("John", "jdoe", "one.test"),
            ]),
        ])
        #expect(try AddressList.parse("Undisclosed recipients:;") == [.group(name: "Undisclosed recipients", members: [])])
    }

    // RFC 5322 Appendix A.2: a ":" inside a quoted display name is not a group.
    @Test func appendixA2QuotedColon() throws {
        #expect(try AddressList.parse(#""Mary Smith: Personal Account" <smith@home.example>"#)
            == [mailbox("Mary Smith: Personal Account", "smith", "home.example")])
    }

    // RFC 5322 Appendix A.5 (values unfolded: CRLF removed, white space kept)
    @Test func appendixA5CommentsEverywhere() throws {
        #expect(try AddressList.parse(#"Pete(A nice \) chap) <pete(his account)@silly.test(his host)>"#)
            == [mailbox("Pete", "pete", "silly.test")])
        let to = "A Group(Some people)     :Chris Jones <c@(Chris's host.)public.example>,"
            + "         joe@example.org,  John <jdoe@one.test> (my dear friend); (the end of the group)"
        #expect(try AddressList.parse(to) == [
            .group(name: "A Group", members: [
                address("Chris Jones", "c", "public.example"),
                address(nil, "joe", "example.org"),
                address("John", "jdoe", "one.test"),
            ]),
        ])
        #expect(try AddressList.parse("(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;")
            == [.group(name: "Hidden recipients", members: [])])
    }

    // RFC 5322 Appendix A.6.1: unquoted "." in a phrase, a route, a null element, CFWS
    // around the dots of a domain.
    @Test func appendixA61ObsoleteAddressing() throws {
        #expect(try AddressList.parse("Joe Q. Public <john.q.public@example.com>")
            == [mailbox("Joe Q. Public", "john.q.public", "example.com")])
        #expect(try AddressList.parse("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example") == [
            mailbox("Mary Smith", "mary", "example.net", route: "@node.test"),
            mailbox(nil, "jdoe", "test.example"),
        ])
    }

    // RFC 5322 Appendix A.6.3
    @Test func appendixA63ObsoleteWhiteSpace() throws {
        #expect(try AddressList.parse("John Doe <jdoe@machine(comment).  example>")
            == [mailbox("John Doe", "jdoe", "machine.example")])
        #expect(try AddressList.parse("Mary Smith\t  \t          <mary@example.net>")
            == [mailbox("Mary Smith", "mary", "example.net")])
    }

    /// The route is kept (IMAP's ENVELOPE reports it), its domains as "@a,@b", in the strict
    /// parser and in the lenient one's fallback alike.
    @Test func routesWithSeveralDomains() throws {
        #expect(try AddressList.parse("<@a.test,@b.test:x@y.test>") == [mailbox(nil, "x", "y.test", route: "@a.test,@b.test")])
        #expect(try AddressList.parse("Name <,@a.test, ,@b.test : x@y.test>") == [mailbox("Name", "x", "y.test", route: "@a.test,@b.test")])
        #expect(AddressList.parseLenient("<@a.test, @b.test:x@y.test>, broken <") == [mailbox(nil, "x", "y.test", route: "@a.test,@b.test")])
    }

    @Test func nullElementsAndCommentsBetween() throws {
        #expect(try AddressList.parse(",a@x,,(c) ,b@y,") == [mailbox(nil, "a", "x"), mailbox(nil, "b", "y")])
        #expect(try AddressList.parse("G: , a@x ,, ;, b@y")
            == [.group(name: "G", members: [address(nil, "a", "x")]), mailbox(nil, "b", "y")])
    }

    @Test func quotedLocalParts() throws {
        let spaced = try AddressList.parse(#""john doe"@example.com"#)
        #expect(spaced == [mailbox(nil, "john doe", "example.com")])
        #expect(AddressList.mailboxes(spaced).first?.addrSpec == #""john doe"@example.com"#)

        let escaped = try AddressList.parse(#"Name <"john\"q\\x"@example.com>"#)
        #expect(escaped == [mailbox("Name", #"john"q\x"#, "example.com")])
        #expect(AddressList.mailboxes(escaped).first?.addrSpec == #""john\"q\\x"@example.com"#)

        // Quoting that is not needed goes away (RFC 5322 §3.4.1).
        let plain = try AddressList.parse(#""jdoe"@example.com"#)
        #expect(AddressList.mailboxes(plain).first?.addrSpec == "jdoe@example.com")
        // obs-local-part: quoted words and atoms joined by dots.
        #expect(try AddressList.parse(#""john"."doe".x@example.com"#) == [mailbox(nil, "john.doe.x", "example.com")])
        #expect(address(nil, "a..b", "x").addrSpec == #""a..b"@x"#)
        #expect(address(nil, ".a", "x").addrSpec == #"".a"@x"#)
    }

    @Test func domainLiterals() throws {
        #expect(try AddressList.parse("jdoe@[192.0.2.1]") == [mailbox(nil, "jdoe", "[192.0.2.1]")])
        #expect(try AddressList.parse("Name <x@[IPv6:2001:db8::1]>") == [mailbox("Name", "x", "[IPv6:2001:db8::1]")])
        #expect(try AddressList.parse("x@ [ 192.0.2.1 ] (c)") == [mailbox(nil, "x", "[192.0.2.1]")])
        #expect(try AddressList.parse(#"x@[a\]b]"#) == [mailbox(nil, "x", "[a]b]")])
    }

    // RFC 6532 §3.2: UTF-8 in atoms, quoted strings, domains.
    @Test func utf8Addresses() throws {
        #expect(try AddressList.parse("Jörg <jörg@bücher.example>") == [mailbox("Jörg", "jörg", "bücher.example")])
        #expect(try AddressList.parse("用户@例子.广告") == [mailbox(nil, "用户", "例子.广告")])
        #expect(try AddressList.parse(#""Dvořák, Antonín" <antonin@hudba.example>"#)
            == [mailbox("Dvořák, Antonín", "antonin", "hudba.example")])
        #expect(address(nil, "jörg", "bücher.example").addrSpec == "jörg@bücher.example")
    }

    // RFC 2047 §5(3) in phrases; inside quotes as mainstream clients do.
    @Test func encodedWordDisplayNames() throws {
        #expect(try AddressList.parse("=?UTF-8?Q?J=C3=B6rg?= <j@x.example>") == [mailbox("Jörg", "j", "x.example")])
        #expect(try AddressList.parse("=?UTF-8?Q?J=C3=B6rg?= Smith <j@x.example>") == [mailbox("Jörg Smith", "j", "x.example")])
        #expect(try AddressList.parse(#""=?UTF-8?Q?J=C3=B6rg?=" <j@x.example>"#) == [mailbox("Jörg", "j", "x.example")])
        #expect(try AddressList.parse("=?UTF-8?Q?J=C3=B6rg?=: j@x.example;")
            == [.group(name: "Jörg", members: [address(nil, "j", "x.example")])])
    }

    @Test func emptyDisplayNameIsNil() throws {
        #expect(try AddressList.parse(#""" <a@x>"#) == [mailbox(nil, "a", "x")])
        #expect(try AddressList.parse(#""  " <a@x>"#) == [mailbox(nil, "a", "x")])
        #expect(address("", "a", "x").displayName == nil)
    }

    @Test func strictIgnoresComments() throws {
        #expect(try AddressList.parse("jdoe@example.org (John Doe)") == [mailbox(nil, "jdoe", "example.org")])
    }

    @Test func descriptionQuotesWhenNeeded() throws {
        #expect(address("John Doe", "jdoe", "machine.example").description == "John Doe <jdoe@machine.example>")
        #expect(address("Joe Q. Public", "john.q.public", "example.com").description == #""Joe Q. Public" <john.q.public@example.com>"#)
        #expect(address(#"Giant; "Big" Box"#, "s", "example.net").description == #""Giant; \"Big\" Box" <s@example.net>"#)
        #expect(address(nil, "boss", "nil.test").description == "boss@nil.test")
        #expect(address("Jörg", "j", "x").description == "Jörg <j@x>")
        #expect(address("Name", "postmaster", "").description == "Name <postmaster>")
        for original in [
            address("John Doe", "jdoe", "machine.example"),
            address("Joe Q. Public", "john.q.public", "example.com"),
            address(#"Giant; "Big" Box"#, #"we\"ird"#, "[192.0.2.1]"),
            address(nil, "john doe", "example.com"),
        ] {
            #expect(try AddressList.parse(original.description) == [.mailbox(original)])
        }
    }

    @Test func mailboxesFlattensGroups() throws {
        let items = try AddressList.parse("a@x, G: b@x, c@x;, d@x")
        #expect(AddressList.mailboxes(items).map(\.addrSpec) == ["a@x", "b@x", "c@x", "d@x"])
    }

    @Test(arguments: [
        ("", AddressError.Reason.empty, 0),
        (" , ,(c)", .empty, 0),
        (#""john@x"#, .unterminatedQuotedString, 0),
        ("john@x (comment", .unterminatedComment, 7),
        ("john@[1.2.3.4", .unterminatedDomainLiteral, 5),
        ("john", .missingAtSign, 4),
        ("a@x, john, b@x", .missingAtSign, 9),
        ("John Doe <john>", .missingAtSign, 14),
        ("@example.com", .missingLocalPart, 0),
        ("<>", .missingLocalPart, 1),
        ("John Doe@example.com", .invalidLocalPart, 5),
        ("john..doe@x", .invalidLocalPart, 5),
        (".john@x", .invalidLocalPart, 0),
        ("john.@x", .invalidLocalPart, 4),
        ("john@", .missingDomain, 5),
        ("john@.com", .missingDomain, 5),
        ("john@example.com.", .invalidDomain, 17),
        (". John <j@x>", .invalidDisplayName, 0),
        ("John <j@x", .missingClosingAngleBracket, 5),
        ("John <j@x y>", .missingClosingAngleBracket, 10),
        ("<@a.test,b.test:j@x>", .invalidRoute, 9),
        ("<@a.test j@x>", .invalidRoute, 9),
        (":a@b;", .missingGroupName, 0),
        ("G: a@b", .unterminatedGroup, 6),
        ("G: a@b, c@d", .unterminatedGroup, 11),
        ("G: H: a@b;;", .nestedGroup, 4),
        ("a@b c@d", .expectedComma, 4),
        ("G: a@b c@d;", .expectedComma, 7),
        ("john@x ;", .expectedComma, 7),
        ("john@x, >", .unexpectedCharacter(">"), 8),
        ("a@b, [x]", .unexpectedCharacter("["), 5),
        ("a\u{01}b@x", .unexpectedCharacter("\u{01}"), 1),
        ("Jörg <j@x", .missingClosingAngleBracket, 5),  // Characters, not octets
    ])
    func strictErrors(value: String, reason: AddressError.Reason, offset: Int) {
        #expect(strictError(value) == AddressError(reason, offset: offset), "\(value)")
    }

    @Test func parseMailboxErrors() {
        #expect(throws: AddressError(.groupNotAllowed, offset: 1)) { try AddressList.parseMailbox("G: a@b;") }
        #expect(throws: AddressError(.unexpectedCharacter(","), offset: 3)) { try AddressList.parseMailbox("a@b, c@d") }
        #expect(throws: AddressError(.empty, offset: 0)) { try AddressList.parseMailbox("  ") }
    }

    @Test func errorDescriptionSaysWhatAndWhere() {
        #expect(strictError("John <j@x")?.description == "expected '>' at offset 5")
        #expect(strictError("a@b c@d")?.description == "expected ',' between addresses at offset 4")
    }

    @Test func itemLimit() {
        #expect(strictError("a@x, b@x, c@x") == nil)
        do throws(AddressError) {
            _ = try AddressList.parse("a@x, b@x, c@x, d@x", maxItems: 3)
            Issue.record("expected tooManyItems")
        } catch {
            #expect(error == AddressError(.tooManyItems(limit: 3), offset: 15))
        }
        // Group and members each count.
        do throws(AddressError) {
            _ = try AddressList.parse("G: a@x, b@x, c@x;", maxItems: 3)
            Issue.record("expected tooManyItems")
        } catch {
            #expect(error.reason == .tooManyItems(limit: 3))
        }
        let many = (0...AddressList.maxItems).map { "u\($0)@example.com" }.joined(separator: ", ")
        #expect(strictError(many)?.reason == .tooManyItems(limit: AddressList.maxItems))
    }
}

@Suite struct AddressLenientTests {
    @Test func validInputGivesStrictResult() throws {
        for value in [
            "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
            "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
            "Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
        ] {
            #expect(AddressList.parseLenient(value) == (try AddressList.parse(value)))
        }
    }

    @Test func commentAfterBareAddressIsTheName() {
        #expect(AddressList.parseLenient("jdoe@example.org (John Doe)") == [mailbox("John Doe", "jdoe", "example.org")])
        #expect(AddressList.parseLenient("jdoe@example.org (=?UTF-8?Q?J=C3=B6rg?=), a@x")
            == [mailbox("Jörg", "jdoe", "example.org"), mailbox(nil, "a", "x")])
        // Not when there is a display name.
        #expect(AddressList.parseLenient("John <jdoe@one.test> (my dear friend)") == [mailbox("John", "jdoe", "one.test")])
    }

    @Test func unquotedCommaInDisplayName() {
        #expect(AddressList.parseLenient("John Doe, Jr. <j@x.example>") == [mailbox("John Doe, Jr.", "j", "x.example")])
        #expect(AddressList.parseLenient("Doe, John <j@x.example>, mary@y.example")
            == [mailbox("Doe, John", "j", "x.example"), mailbox(nil, "mary", "y.example")])
        #expect(AddressList.parseLenient("a@x, Doe, Jr., John <j@y>")
            == [mailbox(nil, "a", "x"), mailbox("Doe, Jr., John", "j", "y")])
    }

    @Test func unquotedSpecialsInDisplayName() {
        #expect(AddressList.parseLenient("john@x.com <john@x.com>") == [mailbox("john@x.com", "john", "x.com")])
        #expect(AddressList.parseLenient("Re: Sales [Acme] <sales@acme.example>")
            == [.group(name: "Re", members: [address("Sales [Acme]", "sales", "acme.example")])])
        #expect(AddressList.parseLenient("Dr. J. Smith <js@x>") == [mailbox("Dr. J. Smith", "js", "x")])
    }

    @Test func missingClosingAngleBracket() {
        #expect(AddressList.parseLenient("Mary Smith <mary@x.test") == [mailbox("Mary Smith", "mary", "x.test")])
        #expect(AddressList.parseLenient("John <j@x, Mary <m@y>")
            == [mailbox("John", "j", "x"), mailbox("Mary", "m", "y")])
        #expect(AddressList.parseLenient("G: John <j@x; b@y")
            == [.group(name: "G", members: [address("John", "j", "x")]), mailbox(nil, "b", "y")])
    }

    @Test func bareAddressWithGarbage() {
        #expect(AddressList.parseLenient("j@x.com blah blah") == [mailbox(nil, "j", "x.com")])
        #expect(AddressList.parseLenient("j@x.com>, k@y") == [mailbox(nil, "j", "x.com"), mailbox(nil, "k", "y")])
        #expect(AddressList.parseLenient("John Doe john@x.com") == [mailbox("John Doe", "john", "x.com")])
        #expect(AddressList.parseLenient("John <j@x> garbage") == [mailbox("John", "j", "x")])
        #expect(AddressList.parseLenient("j @ x.com") == [mailbox(nil, "j", "x.com")])
    }

    @Test func addressesWithoutDomainAreKept() {
        #expect(AddressList.parseLenient("undisclosed-recipients") == [mailbox(nil, "undisclosed-recipients", "")])
        #expect(AddressList.parseLenient("John <postmaster>") == [mailbox("John", "postmaster", "")])
        #expect(AddressList.parseLenient("a@x, John Smith") == [mailbox(nil, "a", "x"), mailbox(nil, "John Smith", "")])
        #expect(AddressList.mailboxes(AddressList.parseLenient("postmaster")).first?.addrSpec == "postmaster")
    }

    @Test func unsalvageableItemsAreDropped() {
        #expect(AddressList.parseLenient("<>") == [])
        #expect(AddressList.parseLenient("@example.com, a@x") == [mailbox(nil, "a", "x")])
        #expect(AddressList.parseLenient("John <>, a@x") == [mailbox(nil, "a", "x")])
        #expect(AddressList.parseLenient("") == [])
        #expect(AddressList.parseLenient(" , (only a comment) ,") == [])
    }

    @Test func groups() {
        #expect(AddressList.parseLenient("undisclosed-recipients:;") == [.group(name: "undisclosed-recipients", members: [])])
        #expect(AddressList.parseLenient("undisclosed-recipients:") == [.group(name: "undisclosed-recipients", members: [])])
        #expect(AddressList.parseLenient("Team: a@x, b@y")
            == [.group(name: "Team", members: [address(nil, "a", "x"), address(nil, "b", "y")])])
        #expect(AddressList.parseLenient("Team: a@x, b@y c; d@z") == [
            .group(name: "Team", members: [address(nil, "a", "x"), address(nil, "b", "y")]),
            mailbox(nil, "d", "z"),
        ])
        #expect(AddressList.parseLenient(":a@x;") == [.group(name: "", members: [address(nil, "a", "x")])])
    }

    @Test func unbalancedQuotesAndComments() {
        #expect(AddressList.parseLenient(#""Doe, John <j@x>"#) == [mailbox("Doe, John", "j", "x")])
        #expect(AddressList.parseLenient("a@b, , ;c@d") == [mailbox(nil, "a", "b"), mailbox(nil, "c", "d")])
        #expect(AddressList.parseLenient("a@x (unterminated, b@y") == [mailbox("unterminated, b@y", "a", "x")])
        #expect(AddressList.parseLenient(#"Name <"j o"@x>, <a b@y>"#)
            == [mailbox("Name", "j o", "x"), mailbox(nil, "a b", "y")])
    }

    @Test func itemLimitKeepsTheFirst() {
        #expect(AddressList.parseLenient("a@x, b@x, c@x", maxItems: 2) == [mailbox(nil, "a", "x"), mailbox(nil, "b", "x")])
        #expect(AddressList.parseLenient("a@x, b@x, c@x, >", maxItems: 2) == [mailbox(nil, "a", "x"), mailbox(nil, "b", "x")])
        #expect(AddressList.parseLenient("G: a@x, b@x, c@x", maxItems: 3)
            == [.group(name: "G", members: [address(nil, "a", "x"), address(nil, "b", "x")])])
        let many = (0..<(AddressList.maxItems + 5)).map { "u\($0)@example.com" }.joined(separator: ", ")
        let items = AddressList.parseLenient(many)
        #expect(items.count == AddressList.maxItems)
        #expect(items.last == mailbox(nil, "u\(AddressList.maxItems - 1)", "example.com"))
    }

    // Linear time on hostile input: these would take minutes if any step were quadratic.
    @Test func hugeAndPathologicalInputs() {
        let n = 300_000
        for value in [
            String(repeating: "(", count: n),
            String(repeating: "\"\\", count: n),
            String(repeating: "<", count: n),
            String(repeating: "[", count: n),
            String(repeating: "@", count: n),
            String(repeating: "a, ", count: n),
            String(repeating: "x ", count: n) + "<a@b>",
            String(repeating: "<@a,", count: n),
            String(repeating: "a.", count: n) + "@x",
            "G:" + String(repeating: ":", count: n),
        ] {
            _ = strictError(value)
            let items = AddressList.parseLenient(value)
            #expect(AddressList.mailboxes(items).count <= AddressList.maxItems)
        }
        let oneMegabyte = String(repeating: "Someone Else <someone.else@example.com>, ", count: 25_000)
        #expect(AddressList.parseLenient(oneMegabyte).count == AddressList.maxItems)
    }
}

@Suite struct TrimmingBlanksTests {
    /// Tab and Unicode space separators go, as with Foundation's `.whitespaces`; line breaks
    /// and other characters stay.
    @Test func trimsBlanksOnly() {
        #expect("  Alice Example\t".trimmingBlanks() == "Alice Example")
        #expect("\u{00A0}Jörg\u{3000}".trimmingBlanks() == "Jörg")
        #expect("\nx ".trimmingBlanks() == "\nx")
        #expect("   ".trimmingBlanks() == "")
        #expect("".trimmingBlanks() == "")
        #expect("a".trimmingBlanks() == "a")
        #expect(" a ".trimmingBlanks() == "a")
    }
}

/// The common forms are read without the full scanner; what that reading gives must be what
/// the scanner gives.
@Suite struct CommonAddressFormTests {
    @Test func commonFormsAreReadDirectly() {
        #expect(AddressList.parseCommonForm(Array("Bench Sender <sender@mailbench.example>".utf8))
            == address("Bench Sender", "sender", "mailbench.example"))
        #expect(AddressList.parseCommonForm(Array("<tern@localhost>".utf8)) == address(nil, "tern", "localhost"))
        #expect(AddressList.parseCommonForm(Array("first.last+tag@Example.ORG".utf8)) == address(nil, "first.last+tag", "Example.ORG"))
        #expect(AddressList.parseCommonForm(Array("A \t B<a@b>".utf8)) == address("A B", "a", "b"))
        for other in [
            "\"Quoted\" <a@b>", "J. Smith <a@b>", "a@b, c@d", "=?utf-8?q?x?= <a@b>", "a@b (comment)", "<a@b> trailing", "a.@b",
            "a@b..c", "@b", "a@", "<>", "Grüße <a@b>", "a@b@c", "group: a@b;", "<a@[192.0.2.1]>", "",
        ] {
            #expect(AddressList.parseCommonForm(Array(other.utf8)) == nil, "\(other)")
        }
    }

    /// A field's value is read where it lies in the field's octets, slice indices and all.
    @Test func commonFormReadsASliceInPlace() throws {
        let raw = Array("From: Bench  Sender <sender@mailbench.example>\r\n".utf8)
        let common = try #require(AddressList.commonForm(raw[6..<(raw.count - 2)]))
        #expect(common.displayName == Array("Bench Sender".utf8))
        #expect(Array(common.localPart) == Array("sender".utf8) && Array(common.domain) == Array("mailbench.example".utf8))
        #expect(AddressList.commonForm(raw[0..<(raw.count - 2)]) == nil, "the field name is no display name")
    }

    @Test func agreesWithTheScanner() {
        // Mostly the common form, with now and then something else mixed in.
        let usual = ["a", "b", "Z", "x9", "+", "="]
        let unusual = [".", " ", "\t", "?", "=?", "\"", "(", ")", ",", ";", ":", "é", "<", ">", "@", "[", "]"]
        var random = SplitMix64(state: 5322)
        func piece(_ count: Int) -> String {
            (0..<count).map { _ in random.below(8) == 0 ? unusual[random.below(unusual.count)] : usual[random.below(usual.count)] }.joined()
        }
        var direct = 0
        for _ in 0..<20_000 {
            let spec = piece(1 + random.below(4)) + "@" + piece(1 + random.below(4))
            let text: String
            switch random.below(3) {
            case 0: text = spec
            case 1: text = "<" + spec + ">"
            default: text = (0..<(1 + random.below(3))).map { _ in piece(1 + random.below(4)) }.joined(separator: " ") + " <" + spec + ">"
            }
            let bytes = Array(text.utf8)
            guard let common = AddressList.parseCommonForm(bytes) else { continue }
            direct += 1
            var scanner = FieldScanner(bytes, maxItems: AddressList.maxItems)
            let scanned = try? scanner.parseAddressList(commentAsName: true)
            #expect(scanned == [.mailbox(common)], "\(text)")
        }
        #expect(direct > 2_000)
    }
}
