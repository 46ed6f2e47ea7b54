import Message
import Testing

/// Authentication-Results (RFC 8601): writing, and reading the authserv-id of fields found.
@Suite struct AuthenticationResultsTests {
    func text(_ field: HeaderField) -> String { String(decoding: field.raw, as: UTF8.self) }

    @Test func writesResultsCommentsReasonsAndProperties() throws {
        let results = AuthenticationResults(authservID: "mx.example.com", results: [
            .init(method: "iprev", result: "pass", comment: "DNSSEC", properties: [.init("policy", "iprev", "192.0.2.200")]),
            .init(method: "spf", result: "fail", reason: "not a \"permitted\" sender", properties: [.init("smtp", "mailfrom", "example.net")]),
            .init(method: "iprev", result: "fail", properties: [.init("policy", "iprev", "2001:db8::1")]),
        ])
        let field = try results.field()
        #expect(field.name == "Authentication-Results")
        // §2.2 grammar, unfolded; IPv6 addresses are not tokens, so quoted.
        #expect(field.value == "mx.example.com;\tiprev=pass (DNSSEC) policy.iprev=192.0.2.200;\tspf=fail reason=\"not a \\\"permitted\\\" sender\" smtp.mailfrom=example.net;\tiprev=fail policy.iprev=\"2001:db8::1\"")
        // A resinfo per line, folded between its parts to lines of at most 78 characters.
        #expect(text(field) == """
            Authentication-Results: mx.example.com;\r
            \tiprev=pass (DNSSEC) policy.iprev=192.0.2.200;\r
            \tspf=fail reason="not a \\"permitted\\" sender" smtp.mailfrom=example.net;\r
            \tiprev=fail policy.iprev="2001:db8::1"\r

            """)
        #expect(text(field).hasSuffix("\r\n"))
        #expect(text(try AuthenticationResults(authservID: "mx.example.com", results: []).field()) == "Authentication-Results: mx.example.com; none\r\n")
    }

    /// A property too long for a line is left out; the field is still written.
    @Test func overlongPropertiesAreLeftOut() throws {
        let selector = String(repeating: "s", count: 60) + String(repeating: ".label", count: 200)
        let field = try AuthenticationResults(authservID: "mx.example.com", results: [
            .init(method: "dkim", result: "permerror", properties: [.init("header", "d", "example.org"), .init("header", "s", selector)]),
            .init(method: "spf", result: "none", properties: [.init("smtp", "helo", String(repeating: "h", count: 499))]),
        ]).field()
        #expect(field.value == "mx.example.com;\tdkim=permerror header.d=example.org;\tspf=none")
        #expect(field.raw.split(separator: 0x0A).allSatisfy { $0.count <= 998 })
    }

    /// What a sender controls cannot break out of a comment, a value or the field.
    @Test func hostileTextIsContained() throws {
        let results = AuthenticationResults(authservID: "mx.example.com", results: [
            .init(method: "spf", result: "pass", comment: "a) b\\ (c\r\nX-Evil: 1", properties: [.init("smtp", "helo", "bad name;\r\nX: y")]),
        ])
        let field = try results.field()
        #expect(field.value == "mx.example.com;\tspf=pass (a\\) b\\\\ \\(c??X-Evil: 1) smtp.helo=\"bad name;??X: y\"")
        #expect(!text(field).dropLast(2).contains("\r\n\r\n"))
    }

    @Test func readsTheIdentifierAndVersion() {
        func id(_ value: String) -> String? { AuthenticationResults.identifier(ofValue: Array(value.utf8)).map { "\($0.authservID) \($0.version.map(String.init) ?? "-")" } }
        #expect(id("example.com; spf=pass smtp.mailfrom=example.net") == "example.com -")
        #expect(id("example.com 1; none") == "example.com 1")
        #expect(id(" (comment (nested)) \"quoted id\" ; dkim=pass") == "quoted id -")
        #expect(id("example.com") == "example.com -")
        #expect(id("example.com 2 ; spf=pass") == "example.com 2")
        #expect(id("") == nil)
        #expect(id("; spf=pass") == nil)
        #expect(id("example.com garbage; spf=pass") == nil)
        #expect(id("\"unterminated") == nil)
    }

    /// RFC 8601 §5: fields claiming this host's identifier (any case), of an unknown version,
    /// or unreadable go; others' stay.
    @Test func whichFieldsMustGo() throws {
        func field(_ text: String) throws -> HeaderField { try #require(HeaderField(raw: Array(text.utf8))) }
        #expect(AuthenticationResults.mustRemove(try field("Authentication-Results: MX.Example.COM; spf=pass\r\n"), authservID: "mx.example.com"))
        #expect(AuthenticationResults.mustRemove(try field("authentication-results: other.example 2; spf=pass\r\n"), authservID: "mx.example.com"))
        #expect(AuthenticationResults.mustRemove(try field("Authentication-Results: ;;;\r\n"), authservID: "mx.example.com"))
        #expect(!AuthenticationResults.mustRemove(try field("Authentication-Results: other.example; spf=pass\r\n"), authservID: "mx.example.com"))
        #expect(!AuthenticationResults.mustRemove(try field("Received-SPF: pass\r\n"), authservID: "mx.example.com"))
    }
}
