import DNS
import MTASTS
import Testing

@Suite struct PolicyParsingTests {
    /// The example of RFC 8461 §3.2, with CRLF endings.
    @Test func rfcExample() throws {
        let text = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n"
        let policy = try STSPolicy(parsing: text)
        #expect(policy.mode == .enforce)
        #expect(policy.mx.map(\.description) == ["mail.example.com", "*.example.net", "backupmx.example.com"])
        #expect(policy.maxAge == 604800)
        #expect(policy.text == text)
    }

    /// LF endings, CRLF mixed in, no final newline, spaces after the colon and at the end of
    /// lines, blank lines, and fields in any order.
    @Test func lineEndingsAndSpacing() throws {
        let policy = try STSPolicy(parsing: "\nmax_age:86400 \nmode:\ttesting\r\n\nmx:   mx.example.com\t\nversion: STSv1\n\n")
        #expect(policy.mode == .testing)
        #expect(policy.maxAge == 86400)
        #expect(policy.mx.map(\.description) == ["mx.example.com"])
    }

    /// RFC 8461 §3.2: unknown fields are ignored (UTF-8 allowed in their values), and of a
    /// repeated field other than mx the first counts.
    @Test func unknownAndRepeatedFields() throws {
        let policy = try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmode: none\nmax_age: 60\nmax_age: x\nmx: a.example\nnote.x_y-z: größer als 2\nmx: b.example\n")
        #expect(policy.mode == .enforce)
        #expect(policy.maxAge == 60)
        #expect(policy.mx.map(\.description) == ["a.example", "b.example"])
    }

    @Test func modeNoneNeedsNoMX() throws {
        let policy = try STSPolicy(parsing: "version: STSv1\nmode: none\nmax_age: 0\n")
        #expect(policy.mode == .none)
        #expect(policy.mx.isEmpty)
        #expect(policy.maxAge == 0)
    }

    @Test func maxAgeBounds() throws {
        #expect(try STSPolicy(parsing: policy(maxAge: "31557600")).maxAge == 31_557_600)
        #expect(try STSPolicy(parsing: policy(maxAge: "0000000001")).maxAge == 1)
        #expect(throws: STSPolicySyntaxError.maxAgeTooLarge(31_557_601)) { try STSPolicy(parsing: policy(maxAge: "31557601")) }
        #expect(throws: STSPolicySyntaxError.invalidMaxAge("00000000001")) { try STSPolicy(parsing: policy(maxAge: "00000000001")) }
        #expect(throws: STSPolicySyntaxError.invalidMaxAge("-1")) { try STSPolicy(parsing: policy(maxAge: "-1")) }
        #expect(throws: STSPolicySyntaxError.invalidMaxAge("1 week")) { try STSPolicy(parsing: policy(maxAge: "1 week")) }
    }

    @Test func missingAndInvalidFields() {
        #expect(throws: STSPolicySyntaxError.missingVersion) { try STSPolicy(parsing: "mode: enforce\nmx: a.example\nmax_age: 1\n") }
        #expect(throws: STSPolicySyntaxError.unsupportedVersion("STSv2")) { try STSPolicy(parsing: "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n") }
        #expect(throws: STSPolicySyntaxError.missingMode) { try STSPolicy(parsing: "version: STSv1\nmx: a.example\nmax_age: 1\n") }
        // Values are case-sensitive (RFC 8461 §3.2 uses %s strings).
        #expect(throws: STSPolicySyntaxError.invalidMode("Enforce")) { try STSPolicy(parsing: "version: STSv1\nmode: Enforce\nmx: a.example\nmax_age: 1\n") }
        #expect(throws: STSPolicySyntaxError.missingMaxAge) { try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx: a.example\n") }
        #expect(throws: STSPolicySyntaxError.missingMX(mode: .enforce)) { try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmax_age: 1\n") }
        #expect(throws: STSPolicySyntaxError.missingMX(mode: .testing)) { try STSPolicy(parsing: "version: STSv1\nmode: testing\nmax_age: 1\n") }
        #expect(throws: STSPolicySyntaxError.missingVersion) { try STSPolicy(parsing: "") }
    }

    @Test func malformedLines() {
        #expect(throws: STSPolicySyntaxError.malformedLine(line: 2, text: "mode enforce")) { try STSPolicy(parsing: "version: STSv1\nmode enforce\n") }
        #expect(throws: STSPolicySyntaxError.invalidFieldName(line: 2, name: " mode")) { try STSPolicy(parsing: "version: STSv1\r\n mode: enforce\r\n") }
        #expect(throws: STSPolicySyntaxError.invalidFieldName(line: 1, name: "version ")) { try STSPolicy(parsing: "version : STSv1\n") }
        #expect(throws: STSPolicySyntaxError.invalidFieldValue(line: 3, name: "mx", value: "")) { try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx:\n") }
        #expect(throws: STSPolicySyntaxError.invalidFieldValue(line: 1, name: "x", value: "a\rb")) { try STSPolicy(parsing: "x: a\rb\n") }
        #expect(throws: STSPolicySyntaxError.invalidFieldValue(line: 1, name: "x", value: "a\u{7F}")) { try STSPolicy(parsing: "x: a\u{7F}\n") }
    }

    @Test func invalidMXPatterns() {
        #expect(throws: STSPolicySyntaxError.invalidMX(line: 3, pattern: "mail.*.example", reason: .misplacedWildcard)) {
            try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx: mail.*.example\nmax_age: 1\n")
        }
        #expect(throws: STSPolicySyntaxError.invalidMX(line: 3, pattern: "bücher.example", reason: .notALabel)) {
            try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx: bücher.example\nmax_age: 1\n")
        }
        #expect(throws: STSPolicySyntaxError.invalidMX(line: 3, pattern: "mx_1.example", reason: .invalidDomain(.invalidCharacter(label: "mx_1", scalar: "_", offset: 2)))) {
            try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx: mx_1.example\nmax_age: 1\n")
        }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(STSPolicySyntaxError.maxAgeTooLarge(31_557_601).description == "max_age 31557601 is more than 31557600")
        #expect(STSPolicySyntaxError.missingMX(mode: .testing).description == "no mx field, which mode testing requires")
        #expect(STSPolicySyntaxError.invalidMX(line: 3, pattern: "*", reason: .misplacedWildcard).description == "line 3: mx \"*\": \"*\" is allowed only as the whole leftmost label")
        let long = String(repeating: "x", count: 500)
        #expect(STSPolicySyntaxError.malformedLine(line: 1, text: long).description.count < 150)
    }

    func policy(maxAge: String) -> String {
        "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: \(maxAge)\n"
    }
}

@Suite struct MXMatchingTests {
    func host(_ name: String) throws -> DNSName { try DNSName(name) }

    /// RFC 8461 §4.1: "*.example.com" matches "mail.example.com" but not "example.com" or
    /// "foo.bar.example.com".
    @Test func wildcardMatchesExactlyOneLabel() throws {
        let pattern = try MXPattern(parsing: "*.example.com")
        #expect(pattern.isWildcard)
        #expect(pattern.matches(try host("mail.example.com")))
        #expect(!pattern.matches(try host("example.com")))
        #expect(!pattern.matches(try host("foo.bar.example.com")))
        #expect(!pattern.matches(try host("mail.example.net")))
    }

    @Test func exactNamesCaseAndTrailingDot() throws {
        let pattern = try MXPattern(parsing: "MX1.Example.COM")
        #expect(pattern.description == "mx1.example.com")
        #expect(pattern.matches(try host("mx1.example.com.")))
        #expect(pattern.matches(try host("Mx1.EXAMPLE.com")))
        #expect(!pattern.matches(try host("mx2.example.com")))
        #expect(!pattern.matches(try host("a.mx1.example.com")))
        #expect(try MXPattern(parsing: "mx1.example.com.").matches(try host("mx1.example.com")))
    }

    /// Internationalized names are compared in A-label form (RFC 8461 §3.2).
    @Test func aLabels() throws {
        let pattern = try MXPattern(parsing: "*.XN--MNCHEN-3YA.de")
        #expect(pattern.description == "*.xn--mnchen-3ya.de")
        #expect(pattern.matches(try host("mx.xn--mnchen-3ya.de")))
        let error = #expect(throws: MXPatternError.self) { try MXPattern(parsing: "xn--.de") }
        guard case .invalidDomain? = error else { Issue.record("\(String(describing: error))"); return }
    }

    @Test func wildcardOnlyAsWholeLeftmostLabel() {
        #expect(throws: MXPatternError.misplacedWildcard) { try MXPattern(parsing: "*mail.example.com") }
        #expect(throws: MXPatternError.misplacedWildcard) { try MXPattern(parsing: "*") }
        #expect(throws: MXPatternError.misplacedWildcard) { try MXPattern(parsing: "*.*.example.com") }
        #expect(throws: MXPatternError.invalidDomain(.empty)) { try MXPattern(parsing: "*.") }
    }

    /// The policy a Policy Host serves (RFC 8461 §3.2): CRLF after every line, an mx line per
    /// pattern, and the parser's checks on what goes in.
    @Test func composedPolicy() throws {
        let policy = try STSPolicy(
            mode: .enforce, mx: [try MXPattern(parsing: "mail.example.com"), try MXPattern(parsing: "*.example.net")], maxAge: 604800)
        #expect(policy.text == "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
        #expect(try STSPolicy(parsing: policy.text) == policy)
        let none = try STSPolicy(mode: .none, mx: [], maxAge: 0)
        #expect(none.text == "version: STSv1\r\nmode: none\r\nmax_age: 0\r\n")
        #expect(throws: STSPolicySyntaxError.missingMX(mode: .testing)) { try STSPolicy(mode: .testing, mx: [], maxAge: 86400) }
        #expect(throws: STSPolicySyntaxError.maxAgeTooLarge(31_557_601)) {
            try STSPolicy(mode: .enforce, mx: [try MXPattern(parsing: "mx.example")], maxAge: 31_557_601)
        }
        #expect(throws: STSPolicySyntaxError.invalidMaxAge("-1")) { try STSPolicy(mode: .none, mx: [], maxAge: -1) }
    }

    @Test func policyAllowsListedHosts() throws {
        let policy = try STSPolicy(parsing: "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 1\n")
        #expect(policy.allows(mxHost: try host("mail.example.com")))
        #expect(policy.allows(mxHost: try host("mx1.example.net")))
        #expect(!policy.allows(mxHost: try host("example.net")))
        #expect(!policy.allows(mxHost: try host("evil.example.org")))
    }
}
