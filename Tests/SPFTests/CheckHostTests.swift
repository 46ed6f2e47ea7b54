import DNS
import Foundation
import Synchronization
import Testing

@testable import SPF

/// check_host() (RFC 7208 §4) against the mock resolver: the RFC's examples, every result,
/// include and redirect, exp=, the processing limits and IPv6.
@Suite struct CheckHostTests {
    /// RFC 7208 Appendix A.1: records for example.com and the hosts that pass (or not).
    @Test(arguments: [
        ("v=spf1 +all", "192.0.2.200", SPFResult.pass),
        ("v=spf1 a -all", "192.0.2.10", .pass),
        ("v=spf1 a -all", "192.0.2.11", .pass),
        ("v=spf1 a -all", "192.0.2.65", .fail),
        ("v=spf1 a:example.org -all", "192.0.2.140", .fail),
        ("v=spf1 mx -all", "192.0.2.129", .pass),
        ("v=spf1 mx -all", "192.0.2.130", .pass),
        ("v=spf1 mx -all", "192.0.2.10", .fail),
        ("v=spf1 mx:example.org -all", "192.0.2.140", .pass),
        ("v=spf1 mx mx:example.org -all", "192.0.2.129", .pass),
        ("v=spf1 mx mx:example.org -all", "192.0.2.130", .pass),
        ("v=spf1 mx mx:example.org -all", "192.0.2.140", .pass),
        ("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.131", .pass),
        ("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.143", .pass),
        ("v=spf1 mx/30 mx:example.org/30 -all", "192.0.2.132", .fail),
        ("v=spf1 ptr -all", "192.0.2.65", .pass),
        ("v=spf1 ptr -all", "192.0.2.140", .fail),
        ("v=spf1 ptr -all", "10.0.0.4", .fail),
        ("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.65", .fail),
        ("v=spf1 ip4:192.0.2.128/28 -all", "192.0.2.129", .pass),
        // The CNAME is followed: www.example.com has example.com's addresses.
        ("v=spf1 a:www.example.com -all", "192.0.2.11", .pass),
    ])
    func appendixASimpleExamples(record: String, client: String, expected: SPFResult) async throws {
        let result = try await check(appendixAZone + [("example.com", Record.txt(record))], ip: client, mailFrom: "user@example.com")
        #expect(result.result == expected, "\(result)")
    }

    /// RFC 7208 Appendix A.2: a union through include, shared policy through redirect. The
    /// zone has no example.net, so reaching that include is a permerror (§5.2: none).
    @Test func appendixAMultipleDomains() async throws {
        let records = appendixAZone + [
            ("example.com", Record.txt("v=spf1 mx -all")),
            ("example.org", Record.txt("v=spf1 include:example.com include:example.net -all")),
            ("la.example.org", Record.txt("v=spf1 redirect=example.org")),
        ]
        let viaInclude = try await check(records, ip: "192.0.2.129", mailFrom: "user@example.org")
        #expect(viaInclude.result == .pass)
        #expect(viaInclude.mechanism == "include:example.com")

        let missing = try await check(records, ip: "192.0.2.10", mailFrom: "user@example.org")
        #expect(missing.result == .permerror)
        #expect(missing.problem == "'include:example.net' in the record of example.org: no SPF record at example.net")

        let redirected = try await check(records, ip: "192.0.2.130", mailFrom: "user@la.example.org")
        #expect(redirected.result == .pass)
        #expect(redirected.mechanism == "include:example.com")
        #expect(redirected.domain == "la.example.org")
    }

    /// RFC 7208 Appendix A.3: per-user and per-address lists through exists.
    @Test(arguments: [
        ("mary@example.com", "198.51.100.7", SPFResult.pass, "include:mobile-users._spf.%{d}"),
        // %{l1r+}: "fred+news" split on "+", reversed, the rightmost part: "fred".
        ("fred+news@example.com", "198.51.100.7", .pass, "include:mobile-users._spf.%{d}"),
        ("joel@example.com", "192.168.15.15", .pass, "include:remote-users._spf.%{d}"),
        ("joel@example.com", "192.168.15.17", .fail, "-all"),
        ("mary@example.com", "192.0.2.129", .pass, "mx"),
    ])
    func appendixADNSBLStyle(mailFrom: String, client: String, expected: SPFResult, mechanism: String) async throws {
        let records = appendixAZone + [
            ("example.com", Record.txt("v=spf1 mx include:mobile-users._spf.%{d} include:remote-users._spf.%{d} -all")),
            ("mobile-users._spf.example.com", Record.txt("v=spf1 exists:%{l1r+}.%{d}")),
            ("remote-users._spf.example.com", Record.txt("v=spf1 exists:%{ir}.%{l1r+}.%{d}")),
            ("mary.mobile-users._spf.example.com", Record.a("127.0.0.2")),
            ("fred.mobile-users._spf.example.com", Record.a("127.0.0.2")),
            ("15.15.168.192.joel.remote-users._spf.example.com", Record.a("127.0.0.2")),
            ("16.15.168.192.joel.remote-users._spf.example.com", Record.a("127.0.0.2")),
        ]
        let result = try await check(records, ip: client, mailFrom: mailFrom)
        #expect(result.result == expected, "\(result)")
        #expect(result.mechanism == mechanism)
    }

    /// RFC 7208 Appendix D.1: a whitelist gives neutral instead of fail; a per-user redirect.
    @Test func appendixDExamples() async throws {
        let whitelist = appendixAZone + [
            ("example.com", Record.txt("v=spf1 mx ?exists:%{ir}.whitelist.example.org -all")),
            ("7.100.51.198.whitelist.example.org", Record.a("127.0.0.2")),
        ]
        #expect(try await check(whitelist, ip: "198.51.100.7", mailFrom: "a@example.com").result == .neutral)
        #expect(try await check(whitelist, ip: "198.51.100.8", mailFrom: "a@example.com").result == .fail)
        #expect(try await check(whitelist, ip: "192.0.2.129", mailFrom: "a@example.com").result == .pass)

        let perUser = appendixAZone + [
            ("example.com", Record.txt("v=spf1 mx redirect=%{l1r+}._at_.%{o}._spf.%{d}")),
            ("bob._at_.example.com._spf.example.com", Record.txt("v=spf1 ip4:198.51.100.0/24 -all")),
        ]
        #expect(try await check(perUser, ip: "198.51.100.9", mailFrom: "bob+x@example.com").result == .pass)
        let unknownUser = try await check(perUser, ip: "198.51.100.9", mailFrom: "eve@example.com")
        #expect(unknownUser.result == .permerror)
        #expect(unknownUser.problem
            == "'redirect=%{l1r+}._at_.%{o}._spf.%{d}' in the record of example.com: no SPF record at eve._at_.example.com._spf.example.com")
    }

    // MARK: Results

    @Test func noneResults() async throws {
        let records: [(String, RecordData)] = [
            ("plain.example", Record.txt("some other text")),
            ("ten.example", Record.txt("v=spf10 -all")),
            ("joined.example", Record.txt("v=spf1", "mx")),
            ("host.example", Record.a("192.0.2.1")),
        ]
        for (mailFrom, problem) in [
            ("a@plain.example", "no SPF record at plain.example"),
            ("a@ten.example", "no SPF record at ten.example"),
            // RFC 7208 §3.3: strings are joined without a space, making "v=spf1mx".
            ("a@joined.example", "no SPF record at joined.example"),
            ("a@host.example", "no SPF record at host.example"),
            ("a@absent.example", "no SPF record at absent.example"),
            ("a@localhost", "'localhost' is not a valid multi-label domain name (RFC 7208 §4.3)"),
            ("a@[192.0.2.1]", "'[192.0.2.1]' is not a valid multi-label domain name (RFC 7208 §4.3)"),
            ("a@a..example", "'a..example' is not a valid multi-label domain name (RFC 7208 §4.3)"),
            ("a@192.0.2.1", "'192.0.2.1' is not a valid multi-label domain name (RFC 7208 §4.3)"),
            ("a@" + String(repeating: "x", count: 64) + ".example", "'\(String(repeating: "x", count: 64)).example' is not a valid multi-label domain name (RFC 7208 §4.3)"),
        ] {
            let result = try await check(records, ip: "192.0.2.1", mailFrom: mailFrom)
            #expect(result.result == .none, "\(mailFrom)")
            #expect(result.problem == problem)
            #expect(result.mechanism == nil)
        }
    }

    @Test func neutralByDefault() async throws {
        let result = try await check([("example.com", Record.txt("v=spf1 ip4:192.0.2.1"))], ip: "192.0.2.2", mailFrom: "a@example.com")
        #expect(result.result == .neutral)
        #expect(result.mechanism == "default")
        #expect(result.problem == nil)
        // An empty record is neutral too.
        #expect(try await check([("example.com", Record.txt("v=spf1"))], ip: "192.0.2.2", mailFrom: "a@example.com").result == .neutral)
    }

    @Test func qualifierResults() async throws {
        for (qualifier, expected) in [("", SPFResult.pass), ("+", .pass), ("-", .fail), ("~", .softfail), ("?", .neutral)] {
            let result = try await check([("example.com", Record.txt("v=spf1 \(qualifier)ip4:192.0.2.1"))], ip: "192.0.2.1", mailFrom: "a@example.com")
            #expect(result.result == expected)
            #expect(result.mechanism == "\(qualifier)ip4:192.0.2.1")
        }
    }

    /// RFC 7208 §4.5: with several "v=spf1" records (in any case), none is chosen.
    @Test func severalRecordsArePermerror() async throws {
        let records: [(String, RecordData)] = [
            ("example.com", Record.txt("v=spf1 -all")),
            ("example.com", Record.txt("V=sPf1 +all")),
            ("example.com", Record.txt("not spf")),
        ]
        let result = try await check(records, ip: "192.0.2.1", mailFrom: "a@example.com")
        #expect(result.result == .permerror)
        #expect(result.problem == "example.com has 2 SPF records (RFC 7208 §4.5)")
        // Non-SPF records, even non-ASCII ones, do not count.
        let other = try await check(
            [("example.com", Record.txt("v=spf1 -all")), ("example.com", .txt([[0x96]]))], ip: "192.0.2.1", mailFrom: "a@example.com")
        #expect(other.result == .fail)
    }

    @Test func syntaxErrorsArePermerror() async throws {
        let result = try await check([("example.com", Record.txt("v=spf1 ip4:192.0.2.1 -all moo"))], ip: "192.0.2.1", mailFrom: "a@example.com")
        #expect(result.result == .permerror)
        #expect(result.problem == "syntax error in the SPF record of example.com: 'moo' at column 27: unknown mechanism 'moo'")
        #expect(result.mechanism == nil)
        // Non-ASCII in a term.
        let bytes: [UInt8] = Array("v=spf1 ".utf8) + [0x80] + Array("a:example.net -all".utf8)
        #expect(try await check([("example.com", .txt([bytes]))], ip: "192.0.2.1", mailFrom: "a@example.com").result == .permerror)
    }

    /// RFC 7208 §4.4 and §5: a DNS error other than NXDOMAIN is temperror, from the first
    /// query or from any mechanism, however deep.
    @Test func dnsErrorsAreTemperror() async throws {
        let resolver = try zone([
            ("example.com", Record.txt("v=spf1 a:flaky.example.com -all")),
            ("inc.example.com", Record.txt("v=spf1 include:example.com -all")),
            ("mx.example.com", Record.txt("v=spf1 mx:flaky.example.com -all")),
            ("ex.example.com", Record.txt("v=spf1 exists:flaky.example.com -all")),
        ])
        resolver.fail(name("timeout.example.com"), .txt, with: .timeout)
        resolver.fail(name("flaky.example.com"), .a, with: .serverFailure(.serverFailure))
        resolver.fail(name("flaky.example.com"), .mx, with: .serverFailure(.refused))
        let spf = verifier(resolver)

        let first = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@timeout.example.com", helo: "h.example")
        #expect(first.result == .temperror)
        #expect(first.problem == "DNS error: TXT timeout.example.com.: timeout")
        #expect(first.lookups == [SPFLookup(name: name("timeout.example.com"), type: .txt, answer: .failed("timeout"))])

        let a = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@example.com", helo: "h.example")
        #expect(a.result == .temperror)
        #expect(a.problem == "'a:flaky.example.com' in the record of example.com: DNS error: A flaky.example.com.: SERVFAIL")
        let included = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@inc.example.com", helo: "h.example")
        #expect(included.result == .temperror)
        #expect(included.problem == a.problem)
        let mx = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@mx.example.com", helo: "h.example")
        #expect(mx.result == .temperror)
        #expect(mx.problem == "'mx:flaky.example.com' in the record of mx.example.com: DNS error: MX flaky.example.com.: REFUSED")
        let exists = await spf.checkMailFrom(ip: ip("2001:db8::1"), mailFrom: "a@ex.example.com", helo: "h.example")
        #expect(exists.result == .temperror)
    }

    /// RFC 7208 §4.6.4: "MTAs or other processors SHOULD impose a limit on the maximum amount
    /// of elapsed time to evaluate check_host() ... the result ... SHOULD be 'temperror'".
    @Test func timeLimit() async throws {
        let resolver = try zone([
            ("example.com", Record.txt("v=spf1 a:a1.example.com a:a2.example.com a:a3.example.com -all")),
            ("a1.example.com", Record.a("198.51.100.1")),
            ("a2.example.com", Record.a("198.51.100.2")),
            ("a3.example.com", Record.a("198.51.100.3")),
        ])
        // Each reading of the clock is 6 seconds later: the fourth query would start 24 seconds
        // after the check began.
        let clock = SteppingClock(step: 6)
        let spf = SPFVerifier(resolver: resolver, timeLimit: .seconds(20), now: clock.read)
        let result = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@example.com", helo: "h.example")
        #expect(result.result == .temperror)
        #expect(result.problem == "the check took longer than 20.0 seconds (RFC 7208 §4.6.4)")
        #expect(result.lookups.map(\.name) == [name("example.com"), name("a1.example.com"), name("a2.example.com")])
    }

    // MARK: include and redirect

    /// RFC 7208 §5.2's table: what the include's check_host() result makes of the mechanism.
    @Test(arguments: [
        ("v=spf1 ip4:192.0.2.1 -all", SPFResult.fail, "-include:inner.example.com"),  // pass: match
        ("v=spf1 -ip4:192.0.2.1", .pass, "all"),  // fail: no match
        ("v=spf1 ~all", .pass, "all"),  // softfail: no match
        ("v=spf1 ?all", .pass, "all"),  // neutral: no match
        ("v=spf1 ip4:192.0.2.99", .pass, "all"),  // neutral by default: no match
    ])
    func includeResults(inner: String, expected: SPFResult, mechanism: String) async throws {
        let records: [(String, RecordData)] = [
            ("example.com", Record.txt("v=spf1 -include:inner.example.com all")),
            ("inner.example.com", Record.txt(inner)),
        ]
        let result = try await check(records, ip: "192.0.2.1", mailFrom: "a@example.com")
        #expect(result.result == expected)
        #expect(result.mechanism == mechanism)
    }

    @Test func includeErrors() async throws {
        let records: [(String, RecordData)] = [
            ("none.example.com", Record.txt("v=spf1 include:erehwon.example.com -all")),
            ("erehwon.example.com", Record.txt("v=spfl am not an SPF record")),
            ("perm.example.com", Record.txt("v=spf1 include:bad.example.com -all")),
            ("bad.example.com", Record.txt("v=spf1 include +all")),
            ("empty.example.com", Record.txt("v=spf1 include:%{l}..example.com -all")),
        ]
        let none = try await check(records, ip: "192.0.2.1", mailFrom: "a@none.example.com")
        #expect(none.result == .permerror)
        #expect(none.problem == "'include:erehwon.example.com' in the record of none.example.com: no SPF record at erehwon.example.com")
        let perm = try await check(records, ip: "192.0.2.1", mailFrom: "a@perm.example.com")
        #expect(perm.result == .permerror)
        #expect(perm.problem == "syntax error in the SPF record of bad.example.com: 'include' at column 15: include needs ':' and a domain")
        // A malformed target name is none for the included check_host(): permerror.
        let malformed = try await check(records, ip: "192.0.2.1", mailFrom: "a@empty.example.com")
        #expect(malformed.result == .permerror)
        #expect(malformed.problem
            == "'include:%{l}..example.com' in the record of empty.example.com: 'a..example.com' is not a valid multi-label domain name (RFC 7208 §4.3)")
    }

    /// RFC 7208 §6.1: redirect is used only when no mechanism matched, "the result of this
    /// new evaluation ... is then considered the result", with <domain> the target.
    @Test func redirect() async throws {
        let records: [(String, RecordData)] = [
            ("la.example.com", Record.txt("v=spf1 redirect=_spf.example.com")),
            ("_spf.example.com", Record.txt("v=spf1 ip4:192.0.2.0/24 a:%{d}.hosts.example.com -all")),
            ("_spf.example.com.hosts.example.com", Record.a("198.51.100.1")),
            ("first.example.com", Record.txt("v=spf1 ip4:198.51.100.7 redirect=_spf.example.com")),
            ("withall.example.com", Record.txt("v=spf1 redirect=_spf.example.com ~all")),
            ("nowhere.example.com", Record.txt("v=spf1 redirect=nowhere.example.org")),
            ("malformed.example.com", Record.txt("v=spf1 redirect=%{l}.x.example")),
        ]
        #expect(try await check(records, ip: "192.0.2.5", mailFrom: "a@la.example.com").result == .pass)
        let viaDomain = try await check(records, ip: "198.51.100.1", mailFrom: "a@la.example.com")
        #expect(viaDomain.result == .pass)
        #expect(viaDomain.mechanism == "a:%{d}.hosts.example.com")
        #expect(try await check(records, ip: "198.51.100.2", mailFrom: "a@la.example.com").result == .fail)
        // Mechanisms first.
        #expect(try await check(records, ip: "198.51.100.7", mailFrom: "a@first.example.com").mechanism == "ip4:198.51.100.7")
        // RFC 7208 §5.1: ignored when the record has "all".
        let ignored = try await check(records, ip: "192.0.2.5", mailFrom: "a@withall.example.com")
        #expect(ignored.result == .softfail)
        #expect(ignored.lookups.count == 1)
        let nowhere = try await check(records, ip: "192.0.2.5", mailFrom: "a@nowhere.example.com")
        #expect(nowhere.result == .permerror)
        #expect(nowhere.problem == "'redirect=nowhere.example.org' in the record of nowhere.example.com: no SPF record at nowhere.example.org")
        let malformed = try await check(records, ip: "192.0.2.5", mailFrom: "a.@malformed.example.com")
        #expect(malformed.result == .permerror)
        #expect(malformed.problem
            == "'redirect=%{l}.x.example' in the record of malformed.example.com: 'a..x.example' is not a valid multi-label domain name (RFC 7208 §4.3)")
    }

    // MARK: exp=

    @Test func explanation() async throws {
        let records: [(String, RecordData)] = [
            ("example.com", Record.txt("v=spf1 mx -all exp=explain._spf.%{d}")),
            ("explain._spf.example.com", Record.txt("%{i} is not one of %{d}'s designated mail servers.")),
            ("soft.example.com", Record.txt("v=spf1 ~all exp=explain._spf.example.com")),
        ]
        let fail = try await check(records, ip: "192.0.2.7", mailFrom: "a@example.com")
        #expect(fail.result == .fail)
        #expect(fail.explanation == "192.0.2.7 is not one of example.com's designated mail servers.")
        // Only a fail is explained.
        let soft = try await check(records, ip: "192.0.2.7", mailFrom: "a@soft.example.com")
        #expect(soft.explanation == nil)
        #expect(!soft.lookups.contains { $0.name == name("explain._spf.example.com") })
    }

    @Test func explanationMacros() async throws {
        let records: [(String, RecordData)] = [
            ("example.net", Record.txt("v=spf1 -all exp=exp.example.net")),
            ("exp.example.net", Record.txt("%{l} says %% ", "%{c} at %{t} via %{r}: see http://%{d}/why?s=%{S}")),
            ("e8.example.com", Record.txt("v=spf1 -all exp=msg8.%{D2}")),
            ("msg8.example.com", Record.txt("http://example.com/why.html?l=%{L}")),
        ]
        // RFC 7208 §4.3: no local-part means "postmaster".
        let result = try await check(records, ip: "2001:db8::1", mailFrom: "@example.net")
        #expect(result.explanation == "postmaster says % 2001:db8::1 at 1700000000 via mx.example.net: see http://example.net/why?s=postmaster%40example.net")
        let upper = try await check(records, ip: "192.0.2.1", mailFrom: "jack&jill=up@e8.example.com")
        #expect(upper.explanation == "http://example.com/why.html?l=jack%26jill%3Dup")
        // A local-part with a space stays as it is.
        let spaced = try await check(records, ip: "192.0.2.1", mailFrom: "Macro Error@example.net")
        #expect(spaced.explanation?.hasPrefix("Macro Error says % ") == true)
    }

    /// RFC 7208 §6.2: "If there are any DNS processing errors ..., or if no records are
    /// returned, or if more than one record is returned, or if there are syntax errors in
    /// the explanation string, then proceed as if no 'exp' modifier was given."
    @Test func explanationProblemsAreIgnored() async throws {
        let resolver = try zone([
            ("two.example.com", Record.txt("v=spf1 -all exp=twoexp.example.com")),
            ("twoexp.example.com", Record.txt("one")),
            ("twoexp.example.com", Record.txt("two")),
            ("syntax.example.com", Record.txt("v=spf1 -all exp=bad.example.com")),
            ("bad.example.com", Record.txt("The %{x}-files.")),
            ("nonascii.example.com", Record.txt("v=spf1 -all exp=badexp.example.com")),
            ("badexp.example.com", Record.txt("\u{FEFF}Explanation")),
            ("missing.example.com", Record.txt("v=spf1 -all exp=nothing.example.com")),
            ("notxt.example.com", Record.txt("v=spf1 -all exp=mail.example.com")),
            ("mail.example.com", Record.a("192.0.2.1")),
            ("dnserror.example.com", Record.txt("v=spf1 -all exp=e21msg.example.com")),
            ("long.example.com", Record.txt("v=spf1 -all exp=toolong.example.com")),
            ("toolong.example.com", Record.txt(String(repeating: "x", count: 500))),
            ("control.example.com", Record.txt("v=spf1 -all exp=control-msg.example.com")),
            ("control-msg.example.com", Record.txt("from %{h}")),
        ])
        resolver.fail(name("e21msg.example.com"), .txt, with: .timeout)
        let spf = verifier(resolver)
        for domain in ["two", "syntax", "nonascii", "missing", "notxt", "dnserror"] {
            let result = await spf.checkMailFrom(ip: ip("192.0.2.9"), mailFrom: "a@\(domain).example.com", helo: "h.example")
            #expect(result.result == .fail)
            #expect(result.explanation == nil, "\(domain)")
        }
        let long = await spf.checkMailFrom(ip: ip("192.0.2.9"), mailFrom: "a@long.example.com", helo: "h.example")
        #expect(long.explanation == String(repeating: "x", count: SPFVerifier.explanationLengthLimit))
        // Sender-supplied text that is not printable ASCII spoils the explanation.
        let control = await spf.checkMailFrom(ip: ip("192.0.2.9"), mailFrom: "a@control.example.com", helo: "h\u{7F}.example")
        #expect(control.explanation == nil)
        let fine = await spf.checkMailFrom(ip: ip("192.0.2.9"), mailFrom: "a@control.example.com", helo: "h.example")
        #expect(fine.explanation == "from h.example")
    }

    /// RFC 7208 §6.2: include does not use the target's exp=; redirect uses the target's and
    /// not the original's.
    @Test func explanationAcrossIncludeAndRedirect() async throws {
        let records: [(String, RecordData)] = [
            ("e7.example.com", Record.txt("v=spf1 include:e3.example.com -all exp=exp3.example.com")),
            ("e3.example.com", Record.txt("v=spf1 exp=exp1.example.com redirect=e4.example.com")),
            ("e4.example.com", Record.txt("v=spf1 -all exp=exp2.example.com")),
            ("e1.example.com", Record.txt("v=spf1 exp=exp1.example.com redirect=e2.example.com")),
            ("e2.example.com", Record.txt("v=spf1 -all")),
            ("exp1.example.com", Record.txt("No-see-um")),
            ("exp2.example.com", Record.txt("See me.")),
            ("exp3.example.com", Record.txt("Correct!")),
            ("neg.example.com", Record.txt("v=spf1 -include:e4.example.com exp=exp3.example.com")),
            ("pos.example.com", Record.txt("v=spf1 +all")),
            ("neg2.example.com", Record.txt("v=spf1 -include:pos.example.com exp=exp3.example.com")),
        ]
        let include = try await check(records, ip: "192.0.2.1", mailFrom: "a@e7.example.com")
        #expect(include.result == .fail)
        #expect(include.explanation == "Correct!")
        #expect(!include.lookups.contains { $0.name == name("exp2.example.com") })
        #expect(try await check(records, ip: "192.0.2.1", mailFrom: "a@e3.example.com").explanation == "See me.")
        let cancelled = try await check(records, ip: "192.0.2.1", mailFrom: "a@e1.example.com")
        #expect(cancelled.result == .fail)
        #expect(cancelled.explanation == nil)
        // A matching "-include" explains with the record's own exp=.
        #expect(try await check(records, ip: "192.0.2.1", mailFrom: "a@neg.example.com").result == .neutral)
        let negated = try await check(records, ip: "192.0.2.1", mailFrom: "a@neg2.example.com")
        #expect(negated.result == .fail)
        #expect(negated.mechanism == "-include:pos.example.com")
        #expect(negated.explanation == "Correct!")
    }

    /// RFC 7208 §7.3: an expanded name over 253 characters loses labels on the left.
    @Test func longExpansionsAreTruncated() async throws {
        let long = "somewhat.long.exp.example.com"
        let target = Array(repeating: long, count: 8).joined(separator: ".") + ".example.com"
        #expect(target.count == 251)
        let records: [(String, RecordData)] = [
            (long, Record.txt("v=spf1 -all exp=foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com")),
            (target, Record.txt("Congratulations!  That was tricky.")),
        ]
        let result = try await check(records, ip: "192.0.2.1", mailFrom: "test@\(long)")
        #expect(result.explanation == "Congratulations!  That was tricky.")
    }

    // MARK: Limits (RFC 7208 §4.6.4)

    @Test func tenDNSTermsAreAllowedAndTheEleventhIsAPermerror() async throws {
        let records: [(String, RecordData)] = [
            ("atlimit.example.com", Record.txt("v=spf1 a include:inc.example.com ip4:1.2.3.4 mx -all")),
            ("atlimit.example.com", Record.a("1.2.3.9")),
            ("inc.example.com", Record.txt("v=spf1 a a a a a a a a")),
            ("inc.example.com", Record.a("1.2.3.10")),
            ("over.example.com", Record.txt("v=spf1 a include:inc.example.com a ip4:1.2.3.4 -all")),
            ("over.example.com", Record.a("1.2.3.21")),
            ("mechs.example.com", Record.txt("v=spf1 a mx a mx a mx a mx a ptr a ip4:1.2.3.4 -all")),
            ("mechs.example.com", Record.a("1.2.3.20")),
            ("mechs.example.com", Record.mx(10, "mechs.example.com")),
        ]
        // Ten: a, include, and the included record's eight; ip4 matches before mx.
        let atLimit = try await check(records, ip: "1.2.3.4", mailFrom: "a@atlimit.example.com")
        #expect(atLimit.result == .pass)
        let over = try await check(records, ip: "1.2.3.4", mailFrom: "a@over.example.com")
        #expect(over.result == .permerror)
        #expect(over.problem == "more than 10 terms that query DNS, at 'a' in the record of over.example.com (RFC 7208 §4.6.4)")
        let mechanisms = try await check(records, ip: "1.2.3.4", mailFrom: "a@mechs.example.com")
        #expect(mechanisms.result == .permerror)
        #expect(mechanisms.problem == "more than 10 terms that query DNS, at 'a' in the record of mechs.example.com (RFC 7208 §4.6.4)")
    }

    @Test func includeAndRedirectLoopsEndAtTheLimit() async throws {
        let records: [(String, RecordData)] = [
            ("e1.example.com", Record.txt("v=spf1 ip4:1.1.1.1 redirect=e1.example.com")),
            ("e2.example.com", Record.txt("v=spf1 include:e3.example.com")),
            ("e3.example.com", Record.txt("v=spf1 include:e2.example.com")),
        ]
        let redirect = try await check(records, ip: "1.2.3.4", mailFrom: "a@e1.example.com")
        #expect(redirect.result == .permerror)
        #expect(redirect.problem == "more than 10 terms that query DNS, at 'redirect=e1.example.com' in the record of e1.example.com (RFC 7208 §4.6.4)")
        // The records are asked for once each.
        #expect(redirect.lookups.count == 1)
        let include = try await check(records, ip: "1.2.3.4", mailFrom: "a@e2.example.com")
        #expect(include.result == .permerror)
    }

    /// "the evaluation of each 'MX' record MUST NOT result in querying more than 10 address
    /// records ... If this limit is exceeded, the 'mx' mechanism MUST produce a 'permerror'".
    @Test func mxLimit() async throws {
        var records: [(String, RecordData)] = [
            ("e4.example.com", Record.txt("v=spf1 mx")),
            ("e4.example.com", Record.a("1.2.3.5")),
            ("mail.example.com", Record.a("1.2.3.4")),
        ]
        for preference in 0..<10 { records.append(("e4.example.com", Record.mx(UInt16(preference), "mail.example.com"))) }
        // Ten are fine.
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@e4.example.com").result == .pass)
        records.append(("e4.example.com", Record.mx(10, "e4.example.com")))
        let result = try await check(records, ip: "1.2.3.5", mailFrom: "a@e4.example.com")
        #expect(result.result == .permerror)
        #expect(result.problem == "'mx' in the record of e4.example.com: 11 MX records, more than 10 (RFC 7208 §4.6.4)")
    }

    /// PTR names beyond the first 10 are ignored, for ptr and for %{p}.
    @Test func ptrLimit() async throws {
        var records: [(String, RecordData)] = [("e5.example.com", Record.txt("v=spf1 ptr")), ("e5.example.com", Record.a("1.2.3.5"))]
        for index in 1...10 {
            records.append(("5.3.2.1.in-addr.arpa", Record.ptr("e\(index).other.example")))
            records.append(("e\(index).other.example", Record.a("1.2.3.5")))
        }
        records.append(("5.3.2.1.in-addr.arpa", Record.ptr("e5.example.com")))
        let result = try await check(records, ip: "1.2.3.5", mailFrom: "a@e5.example.com")
        #expect(result.result == .neutral)
        #expect(!result.lookups.contains { $0.name == name("e5.example.com") && $0.type == .a })
    }

    @Test func voidLookups() async throws {
        let records: [(String, RecordData)] = [
            ("two.example.com", Record.txt("v=spf1 a:err.example.com mx:err1.example.com ?all")),
            ("three.example.com", Record.txt("v=spf1 a:err.example.com a:err1.example.com exists:err2.example.com ?all")),
            ("exp.example.com", Record.txt("v=spf1 a:erehwon.example.com a:foobar.example.com exp=nxdomain.example.com -all")),
            ("ptr.example.com", Record.txt("v=spf1 ptr a:erehwon.example.com a:foobar.example.com -all")),
        ]
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@two.example.com").result == .neutral)
        let three = try await check(records, ip: "1.2.3.4", mailFrom: "a@three.example.com")
        #expect(three.result == .permerror)
        #expect(three.problem == "more than 2 void lookups, at 'exists:err2.example.com' in the record of three.example.com (RFC 7208 §4.6.4)")
        // The exp= lookup comes after the result and is no term: it does not count.
        let exp = try await check(records, ip: "1.2.3.4", mailFrom: "a@exp.example.com")
        #expect(exp.result == .fail)
        #expect(exp.lookups.last == SPFLookup(name: name("nxdomain.example.com"), type: .txt, answer: .nameNotFound))
        // An empty PTR answer counts too.
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@ptr.example.com").result == .permerror)
        // The limit is the verifier's.
        let lenient = await verifier(try zone(records), voidLookupLimit: 3).checkMailFrom(ip: ip("1.2.3.4"), mailFrom: "a@three.example.com", helo: "h.example")
        #expect(lenient.result == .neutral)
    }

    /// "unlike MX, PTR, there is no RR limit for A".
    @Test func manyAddressRecordsAreFine() async throws {
        var records: [(String, RecordData)] = [("e10.example.com", Record.txt("v=spf1 a -all"))]
        for host in 1...12 { records.append(("e10.example.com", Record.a("1.2.3.\(host)"))) }
        #expect(try await check(records, ip: "1.2.3.12", mailFrom: "a@e10.example.com").result == .pass)
    }

    // MARK: Mechanism details

    @Test func ptrMechanism() async throws {
        let records: [(String, RecordData)] = [
            ("e2.example.com", Record.txt("v=spf1 ptr:example.com -all")),
            ("e3.example.com", Record.txt("v=spf1 ptr -all")),
            ("e3.example.com", Record.a("1.2.3.4")),
            ("e3.example.com", Record.aaaa("cafe:babe::1")),
            ("e4.example.com", Record.txt("v=spf1 ptr -all")),
            ("mail.example.com", Record.a("1.2.3.4")),
            ("4.3.2.1.in-addr.arpa", Record.ptr("e3.example.com")),
            ("4.3.2.1.in-addr.arpa", Record.ptr("e4.example.com")),
            ("4.3.2.1.in-addr.arpa", Record.ptr("mail.example.com")),
            ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa", Record.ptr("e3.example.com")),
        ]
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@e2.example.com").result == .pass)
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@e3.example.com").result == .pass)
        #expect(try await check(records, ip: "cafe:babe::1", mailFrom: "a@e3.example.com").result == .pass)
        // e4.example.com has no address, so its PTR does not validate.
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@e4.example.com").result == .fail)
        // RFC 7208 §5.5: a DNS error on the PTR query is no match, not temperror.
        let resolver = try zone(records)
        resolver.fail(name("4.3.2.1.in-addr.arpa"), .ptr, with: .serverFailure(.serverFailure))
        let failing = await verifier(resolver).checkMailFrom(ip: ip("1.2.3.4"), mailFrom: "a@e3.example.com", helo: "h.example")
        #expect(failing.result == .fail)
    }

    /// %{p}: a validated name, preferring the domain and then its subdomains (RFC 7208 §7.3).
    @Test func validatedNameMacro() async throws {
        let records: [(String, RecordData)] = [
            ("e6.example.com", Record.txt("v=spf1 -all exp=e6msg.example.com")),
            ("e6msg.example.com", Record.txt("connect from %{p}")),
            ("e7.example.com", Record.txt("v=spf1 exists:%{p}.should.example.com ~exists:%{p}.ok.example.com")),
            ("mx.example.com", Record.a("192.168.218.41")),
            ("mx.example.com", Record.a("192.168.218.42")),
            ("mx.example.com", Record.aaaa("cafe:babe::3")),
            ("mx.e7.example.com", Record.a("192.168.218.42")),
            ("mx.e7.example.com.should.example.com", Record.a("127.0.0.2")),
            ("mx.example.com.ok.example.com", Record.a("127.0.0.2")),
            ("40.218.168.192.in-addr.arpa", Record.ptr("mx.example.com")),
            ("41.218.168.192.in-addr.arpa", Record.ptr("mx.example.com")),
            ("42.218.168.192.in-addr.arpa", Record.ptr("mx.example.com")),
            ("42.218.168.192.in-addr.arpa", Record.ptr("mx.e7.example.com")),
            ("3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.e.b.a.b.e.f.a.c.ip6.arpa", Record.ptr("mx.example.com")),
        ]
        #expect(try await check(records, ip: "192.168.218.41", mailFrom: "a@e6.example.com").explanation == "connect from mx.example.com")
        #expect(try await check(records, ip: "cafe:babe::3", mailFrom: "a@e6.example.com").explanation == "connect from mx.example.com")
        // mx.example.com does not have 192.168.218.40: nothing validates.
        #expect(try await check(records, ip: "192.168.218.40", mailFrom: "a@e6.example.com").explanation == "connect from unknown")
        let preferred = try await check(records, ip: "192.168.218.42", mailFrom: "a@e7.example.com")
        #expect(preferred.result == .pass)
        #expect(preferred.mechanism == "exists:%{p}.should.example.com")
    }

    @Test func existsAsksForAEvenForIPv6() async throws {
        let records: [(String, RecordData)] = [
            ("e4.example.com", Record.txt("v=spf1 exists:mail.example.com")),
            ("e5.example.com", Record.txt("v=spf1 exists:mail6.example.com -all")),
            ("mail.example.com", Record.a("1.2.3.4")),
            ("mail6.example.com", Record.aaaa("cafe:babe::4")),
        ]
        #expect(try await check(records, ip: "cafe:babe::3", mailFrom: "a@e4.example.com").result == .pass)
        #expect(try await check(records, ip: "cafe:babe::3", mailFrom: "a@e5.example.com").result == .fail)
    }

    /// RFC 7505 null MX: no host to look up; and no implicit MX (RFC 7208 §5.4).
    @Test func nullAndMissingMX() async throws {
        let records: [(String, RecordData)] = [
            ("mail.example.com", Record.txt("v=spf1 mx")),
            ("mail.example.com", Record.a("1.2.3.4")),
            ("mail.example.com", .mx(MX(preference: 0, exchange: .root))),
            ("e4.example.com", Record.txt("v=spf1 mx")),
            ("e4.example.com", Record.a("1.2.3.4")),
        ]
        let null = try await check(records, ip: "1.2.3.4", mailFrom: "", helo: "mail.example.com")
        #expect(null.result == .neutral)
        #expect(null.lookups.map(\.type) == [.txt, .mx])
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@e4.example.com").result == .neutral)
    }

    /// RFC 7208 §4.8 leaves names DNS cannot carry open; they are treated as non-existent.
    @Test func targetsDNSCannotCarryDoNotMatch() async throws {
        let long = String(repeating: "a", count: 64)
        let records: [(String, RecordData)] = [
            ("t10.example.com", Record.txt("v=spf1 a:mail.example...com -all")),
            ("t11.example.com", Record.txt("v=spf1 a:\(long).example.com -all")),
            ("t12.example.com", Record.txt("v=spf1 a:%{H}.bar -all")),
        ]
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@t10.example.com").result == .fail)
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@t11.example.com").result == .fail)
        let escaped = try await check(records, ip: "1.2.3.4", mailFrom: "a@t12.example.com", helo: String(repeating: "%", count: 22))
        #expect(escaped.result == .fail)
        #expect(escaped.lookups.count == 1)
    }

    /// Expansions are not escaped further: spaces and "%" reach DNS as octets.
    @Test func expandedNamesAreTakenAsTheyAre() async throws {
        let records: [(String, RecordData)] = [
            ("e1a.example.com", Record.txt("v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all")),
        ]
        let resolver = try zone(records)
        resolver.add([ResourceRecord(
            name: try DNSName(labels: [Array("macro%percent  space%20url-space".utf8), Array("example".utf8), Array("com".utf8)]),
            ttl: 60, data: Record.a("1.2.3.4"))])
        #expect(await verifier(resolver).checkMailFrom(ip: ip("1.2.3.4"), mailFrom: "test@e1a.example.com", helo: "h.example").result == .pass)
    }

    // MARK: IPv6

    @Test func ipv6() async throws {
        let records: [(String, RecordData)] = [
            ("ipv6.example.com", Record.txt("v=spf1 a -all")),
            ("ipv6.example.com", Record.aaaa("1234::1")),
            ("ipv6.example.com", Record.a("1.1.1.1")),
            ("dual.example.com", Record.txt("v=spf1 a/24//64 -all")),
            ("dual.example.com", Record.a("1.2.3.5")),
            ("dual.example.com", Record.aaaa("2001:db8:1234::dead:beef")),
            ("v6only.example.com", Record.txt("v=spf1 a//0 -all")),
            ("v6only.example.com", Record.aaaa("1234::1")),
            ("net.example.com", Record.txt("v=spf1 ip6:CAFE:BABE:8000::/33")),
            ("any6.example.com", Record.txt("v=spf1 ip6:::1.1.1.1/0")),
        ]
        #expect(try await check(records, ip: "1234::1", mailFrom: "a@ipv6.example.com").result == .pass)
        #expect(try await check(records, ip: "1.1.1.1", mailFrom: "a@ipv6.example.com").result == .pass)
        #expect(try await check(records, ip: "1234::2", mailFrom: "a@ipv6.example.com").result == .fail)
        #expect(try await check(records, ip: "2001:db8:1234::cafe:babe", mailFrom: "a@dual.example.com").result == .pass)
        #expect(try await check(records, ip: "1.2.3.77", mailFrom: "a@dual.example.com").result == .pass)
        #expect(try await check(records, ip: "2001:db8:1235::1", mailFrom: "a@dual.example.com").result == .fail)
        #expect(try await check(records, ip: "4321::1", mailFrom: "a@v6only.example.com").result == .pass)
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@v6only.example.com").result == .fail)
        #expect(try await check(records, ip: "cafe:babe:8000::", mailFrom: "a@net.example.com").result == .pass)
        #expect(try await check(records, ip: "cafe:babe:7fff::", mailFrom: "a@net.example.com").result == .neutral)
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@net.example.com").result == .neutral)
        #expect(try await check(records, ip: "deaf:babe::cab:fee", mailFrom: "a@any6.example.com").result == .pass)
        #expect(try await check(records, ip: "1.2.3.4", mailFrom: "a@any6.example.com").result == .neutral)
    }

    /// RFC 7208 §5: an IPv4-mapped IPv6 client is an IPv4 client: ip4 matches, ip6 does not,
    /// A records are asked for, and %{i} and %{v} are IPv4's.
    @Test func ipv4MappedClients() async throws {
        let records: [(String, RecordData)] = [
            ("e7.example.com", Record.txt("v=spf1 -ip4:1.2.3.4 ip6:::FFFF:1.2.3.4")),
            ("any6.example.com", Record.txt("v=spf1 ip6:::1.1.1.1/0")),
            ("a.example.com", Record.txt("v=spf1 a//0 exists:%{ir}.%{v}.example.com -all")),
            ("a.example.com", Record.aaaa("1234::1")),
            ("4.3.2.1.in-addr.example.com", Record.a("127.0.0.2")),
        ]
        let mapped = "::ffff:1.2.3.4"
        #expect(try await check(records, ip: mapped, mailFrom: "a@e7.example.com").result == .fail)
        #expect(try await check(records, ip: mapped, mailFrom: "a@any6.example.com").result == .neutral)
        let viaA = try await check(records, ip: mapped, mailFrom: "a@a.example.com")
        #expect(viaA.result == .pass)
        #expect(viaA.mechanism == "exists:%{ir}.%{v}.example.com")
        #expect(viaA.lookups.map(\.type) == [.txt, .a, .a])
        #expect(viaA.clientIP == ip(mapped))
    }

    // MARK: Identities

    @Test func heloIdentity() async throws {
        let spf = verifier(try zone([
            ("mail.example.com", Record.txt("v=spf1 a -all exp=why.example.com")),
            ("mail.example.com", Record.a("192.0.2.1")),
            ("why.example.com", Record.txt("%{s} %{l} %{o} %{d} %{h}")),
        ]))
        let pass = await spf.checkHELO(ip: ip("192.0.2.1"), helo: "mail.example.com")
        #expect(pass.result == .pass)
        #expect(pass.identity == .helo)
        #expect(pass.sender == "postmaster@mail.example.com")
        #expect(pass.mailFrom == nil)
        let fail = await spf.checkHELO(ip: ip("192.0.2.2"), helo: "mail.example.com")
        #expect(fail.explanation == "postmaster@mail.example.com postmaster mail.example.com mail.example.com mail.example.com")
        // RFC 7208 §2.3: only a valid, multi-label domain can be checked.
        let literal = await spf.checkHELO(ip: ip("192.0.2.1"), helo: "[192.0.2.1]")
        #expect(literal.result == .none)
        #expect(literal.lookups.isEmpty)
        #expect(await spf.checkHELO(ip: ip("192.0.2.1"), helo: "OEMCOMPUTER").result == .none)
    }

    /// RFC 7208 §2.4: the null reverse-path checks postmaster@HELO.
    @Test func mailFromIdentity() async throws {
        let spf = verifier(try zone([
            ("mail.example.com", Record.txt("v=spf1 a -all")),
            ("mail.example.com", Record.a("192.0.2.1")),
            ("example.com", Record.txt("v=spf1 -all")),
            ("xn--mnchen-3ya.example", Record.txt("v=spf1 +all")),
        ]))
        let null = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "", helo: "mail.example.com")
        #expect(null.result == .pass)
        #expect(null.identity == .mailFrom)
        #expect(null.sender == "postmaster@mail.example.com")
        #expect(null.mailFrom == "")
        #expect(null.domain == "mail.example.com")
        let normal = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "alice@example.com", helo: "mail.example.com")
        #expect(normal.result == .fail)
        #expect(normal.sender == "alice@example.com")
        #expect(normal.domain == "example.com")
        // Without "@", the whole text is the domain.
        let bare = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "example.com", helo: "mail.example.com")
        #expect(bare.sender == "postmaster@example.com")
        #expect(bare.result == .fail)
        // Internationalized domains are looked up in A-label form (RFC 7208 §4.3).
        let idn = await spf.checkMailFrom(ip: ip("192.0.2.1"), mailFrom: "a@münchen.example", helo: "mail.example.com")
        #expect(idn.result == .pass)
        #expect(idn.lookups.first?.name == name("xn--mnchen-3ya.example"))
        #expect(idn.sender == "a@xn--mnchen-3ya.example")
    }

    @Test func lookupsAreListedInOrder() async throws {
        let result = try await check(appendixAZone + [("example.com", Record.txt("v=spf1 mx a:nothing.example.com -all"))], ip: "192.0.2.200", mailFrom: "a@example.com")
        #expect(result.lookups.map(\.description) == [
            "TXT example.com.: \"v=spf1 mx a:nothing.example.com -all\"",
            "MX example.com.: 10 mail-a.example.com., 20 mail-b.example.com.",
            "A mail-a.example.com.: 192.0.2.129",
            "A mail-b.example.com.: 192.0.2.130",
            "A nothing.example.com.: NXDOMAIN",
        ])
        #expect(result.result == .fail)
        #expect(result.mechanism == "-all")
    }
}

/// A clock that moves `step` seconds on every reading.
final class SteppingClock: Sendable {
    private let readings = Mutex(0)
    private let step: TimeInterval
    init(step: TimeInterval) { self.step = step }

    @Sendable func read() -> Date {
        let count = readings.withLock { count in
            count += 1
            return count
        }
        return Date(timeIntervalSince1970: 1_700_000_000 + Double(count) * step)
    }
}

/// Which answers behind a result were DNSSEC-validated, for Authentication-Results.
@Suite struct SPFDNSSECTests {
    @Test func validatedOnlyWhenEveryLookupWas() async throws {
        let resolver = MockResolver()
        try resolver.add("example.com", .txt([Array("v=spf1 a -all".utf8)]), authentic: true)
        try resolver.add("example.com", .a(ip("192.0.2.10")), authentic: true)
        let signed = await verifier(resolver).checkMailFrom(ip: ip("192.0.2.10"), mailFrom: "user@example.com", helo: "mail.example.net")
        #expect(signed.result == .pass && signed.dnssecValidated)
        #expect(signed.lookups.map(\.authentic) == [true, true])

        let partly = MockResolver()
        try partly.add("example.com", .txt([Array("v=spf1 a:www.example.org -all".utf8)]), authentic: true)
        try partly.add("www.example.org", .a(ip("192.0.2.10")))
        let unsigned = await verifier(partly).checkMailFrom(ip: ip("192.0.2.10"), mailFrom: "user@example.com", helo: "mail.example.net")
        #expect(unsigned.result == .pass && !unsigned.dnssecValidated)
        // No lookup at all (an address literal as HELO, the null sender): not validated.
        let none = await verifier(MockResolver()).checkMailFrom(ip: ip("192.0.2.10"), mailFrom: "", helo: "[192.0.2.10]")
        #expect(!none.dnssecValidated)
    }
}
