import DMARC
import DNS
import PublicSuffix
import TestSupport
import Testing

/// Identifier alignment, results and the policy to apply (RFC 7489 §3.1, §6.6.2, §6.6.4).
@Suite struct EvaluationTests {
    /// Identifiers against the author domain news.example.com: (identifier, aligned when
    /// strict, aligned when relaxed).
    static let alignmentCases: [(String, Bool, Bool)] = [
        ("news.example.com", true, true),
        ("NEWS.Example.COM", true, true),  // RFC 7489 §3.1: case-insensitive
        ("example.com", false, true),  // the Organizational Domain (parent)
        ("bounces.news.example.com", false, true),  // a subdomain
        ("other.example.com", false, true),  // a sibling: same Organizational Domain
        ("example.net", false, false),
        ("news.example.com.example.net", false, false),
        ("com", false, false),  // §3.1.1: "d=com" never aligns
    ]

    @Test(arguments: alignmentCases, [AlignmentMode.strict, .relaxed])
    func spfAlignment(identifier: (String, Bool, Bool), mode: AlignmentMode) async throws {
        let (domain, strict, relaxed) = identifier
        let evaluation = try await evaluate(
            record: "v=DMARC1; p=reject; aspf=\(mode.rawValue); adkim=s", at: "example.com", author: "news.example.com",
            spf: spf(.pass, domain), dkim: [dkim(.pass, "example.net")])
        let aligned = mode == .strict ? strict : relaxed
        #expect(evaluation.result == (aligned ? .pass : .fail), "\(domain) \(mode)")
        #expect(evaluation.spfAligned == aligned)
        #expect(!evaluation.dkimAligned)
        #expect(evaluation.alignedIdentifiers == (aligned ? [.spf(try Domain(domain), .mailFrom)] : []))
        #expect(evaluation.disposition == (aligned ? .none : .reject))
    }

    @Test(arguments: alignmentCases, [AlignmentMode.strict, .relaxed])
    func dkimAlignment(identifier: (String, Bool, Bool), mode: AlignmentMode) async throws {
        let (domain, strict, relaxed) = identifier
        let evaluation = try await evaluate(
            record: "v=DMARC1; p=quarantine; adkim=\(mode.rawValue); aspf=s", at: "example.com", author: "news.example.com",
            spf: spf(.pass, "example.net"), dkim: [dkim(.fail, "news.example.com"), dkim(.pass, domain, selector: "sel")])
        let aligned = mode == .strict ? strict : relaxed
        #expect(evaluation.result == (aligned ? .pass : .fail), "\(domain) \(mode)")
        #expect(evaluation.dkimAligned == aligned)
        #expect(!evaluation.spfAligned)
        #expect(evaluation.alignedIdentifiers == (aligned ? [.dkim(try Domain(domain), selector: "sel")] : []))
        #expect(evaluation.disposition == (aligned ? .none : .quarantine))
    }

    /// RFC 7489 Appendix B.1: the SPF and DKIM alignment examples, each in both modes.
    @Test func appendixB1Examples() async throws {
        for mode in ["r", "s"] {
            let record = "v=DMARC1; p=reject; aspf=\(mode); adkim=\(mode)"
            // SPF example 1, 2, 3.
            #expect(try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.pass, "example.com")).result == .pass)
            #expect(try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.pass, "child.example.com")).result == (mode == "r" ? .pass : .fail))
            #expect(try await evaluate(record: record, at: "example.com", author: "child.example.com", spf: spf(.pass, "example.net")).result == .fail)
            // DKIM example 1, 2, 3.
            #expect(try await evaluate(record: record, at: "example.com", author: "example.com", dkim: [dkim(.pass, "example.com")]).result == .pass)
            #expect(try await evaluate(record: record, at: "example.com", author: "child.example.com", dkim: [dkim(.pass, "example.com")]).result == (mode == "r" ? .pass : .fail))
            #expect(try await evaluate(record: record, at: "example.com", author: "child.example.com", dkim: [dkim(.pass, "sample.net")]).result == .fail)
        }
    }

    /// Only a pass aligns: an aligned SPF or DKIM result other than pass does not.
    @Test(arguments: [SPFAuthResult.none, .neutral, .fail, .softfail, .permerror])
    func onlyAnSPFPassCounts(result: SPFAuthResult) async throws {
        let evaluation = try await evaluate(record: "v=DMARC1; p=reject", at: "example.com", author: "example.com", spf: spf(result, "example.com"))
        #expect(evaluation.result == .fail)
        #expect(evaluation.reason == "no aligned SPF or DKIM pass for example.com (aspf=r, adkim=r); SPF \(result.rawValue) for example.com (mfrom), no DKIM signature; policy reject")
    }

    @Test(arguments: [DKIMAuthResult.none, .fail, .policy, .neutral, .permerror])
    func onlyADKIMPassCounts(result: DKIMAuthResult) async throws {
        let evaluation = try await evaluate(record: "v=DMARC1; p=reject", at: "example.com", author: "example.com", dkim: [dkim(result, "example.com")])
        #expect(evaluation.result == .fail)
        #expect(evaluation.disposition == .reject)
    }

    /// Both identifiers aligned and passing are both reported; the null reverse-path's HELO
    /// check counts as SPF (RFC 7489 §3.1.2).
    @Test func bothAligned() async throws {
        let evaluation = try await evaluate(
            record: "v=DMARC1; p=reject", at: "example.com", author: "example.com",
            spf: spf(.pass, "mx.example.com", scope: .helo), dkim: [dkim(.pass, "example.net"), dkim(.pass, "example.com", selector: nil)])
        #expect(evaluation.result == .pass)
        #expect(evaluation.alignedIdentifiers == [.spf(try Domain("mx.example.com"), .helo), .dkim(try Domain("example.com"), selector: nil)])
        #expect(evaluation.reason == "SPF (HELO mx.example.com), DKIM (d=example.com) passed and aligned with example.com (aspf=r, adkim=r)")
        #expect(evaluation.requestedPolicy == nil)
    }

    /// RFC 7489 §6.6.2: no aligned pass and a temporary error of an aligned identifier is a
    /// temperror, and the policy is not applied; an unaligned one's error does not matter.
    @Test func temporaryErrorsOfAlignedIdentifiers() async throws {
        let record = "v=DMARC1; p=reject"
        let spfTemporary = try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.temperror, "example.com"), dkim: [dkim(.fail, "example.com")])
        #expect(spfTemporary.result == .temperror)
        #expect(spfTemporary.disposition == .none)
        #expect(spfTemporary.reason == "no aligned pass, and the aligned SPF check had a temporary error")

        let dkimTemporary = try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.fail, "example.com"), dkim: [dkim(.temperror, "mail.example.com")])
        #expect(dkimTemporary.result == .temperror)

        let unaligned = try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.temperror, "example.net"), dkim: [dkim(.temperror, "example.org")])
        #expect(unaligned.result == .fail)
        #expect(unaligned.disposition == .reject)

        let passWins = try await evaluate(record: record, at: "example.com", author: "example.com", spf: spf(.temperror, "example.com"), dkim: [dkim(.pass, "example.com")])
        #expect(passWins.result == .pass)
    }

    /// RFC 7489 §6.3 "sp": it applies to subdomains of the domain whose record is found, not
    /// to the domain itself, and not when the subdomain has a record of its own.
    @Test func subdomainPolicy() async throws {
        let resolver = try zone([
            ("_dmarc.example.com", ["v=DMARC1; p=reject; sp=quarantine"]),
            ("_dmarc.own.example.com", ["v=DMARC1; p=none; sp=reject"]),
            ("_dmarc.example.org", ["v=DMARC1; p=quarantine"]),
        ])
        let dmarc = try verifier(resolver)
        var generator = SplitMix64(state: 7)
        let nothing = AuthenticationResults(spf: nil, dkim: [])
        func disposition(_ author: String) async throws -> (Policy?, Policy) {
            let evaluation = await dmarc.verify(authorDomain: try Domain(author), authentication: nothing, using: &generator)
            #expect(evaluation.result == .fail)
            return (evaluation.requestedPolicy, evaluation.disposition)
        }
        #expect(try await disposition("example.com") == (.reject, .reject))
        #expect(try await disposition("a.b.example.com") == (.quarantine, .quarantine))
        #expect(try await disposition("own.example.com") == (Policy.none, Policy.none))
        #expect(try await disposition("sub.example.org") == (.quarantine, .quarantine))
        let sub = try await evaluate(record: "v=DMARC1; p=reject; sp=none", at: "example.com", author: "sub.example.com")
        #expect(sub.reason.hasSuffix("policy none for subdomains of example.com"))
    }

    /// RFC 7489 §6.6.4: "pct" applies the policy to a sample; the rest get the next milder
    /// treatment. The draws come from the injected generator, so a seed repeats exactly.
    @Test func percentageSampling() async throws {
        let resolver = try zone([("_dmarc.example.com", ["v=DMARC1; p=reject; pct=30"])])
        let dmarc = try verifier(resolver)
        let author = try Domain("example.com")
        let failing = AuthenticationResults(spf: try spf(.fail, "example.com"), dkim: [])
        func evaluations(seed: UInt64) async -> [DMARCEvaluation] {
            var generator = SplitMix64(state: seed)
            var seen: [DMARCEvaluation] = []
            for _ in 0..<1000 {
                seen.append(await dmarc.verify(authorDomain: author, authentication: failing, using: &generator))
            }
            return seen
        }
        let first = await evaluations(seed: 42)
        #expect(first.allSatisfy { $0.result == .fail && $0.requestedPolicy == .reject })
        #expect(first.allSatisfy { $0.sampledOut == ($0.disposition == .quarantine) })
        let dispositions = first.map(\.disposition)
        #expect(Set(dispositions) == [.reject, .quarantine])
        let rejected = dispositions.filter { $0 == .reject }.count
        #expect((240...360).contains(rejected), "\(rejected) of 1000 rejected at pct=30")
        #expect(await evaluations(seed: 42).map(\.disposition) == dispositions)
        let sampled = try #require(first.first { $0.sampledOut })
        #expect(sampled.reason.hasSuffix("policy reject, sampled out by pct=30: quarantine"))
    }

    /// pct=0 samples every message out, pct=100 none, and neither draws a number; nor does a
    /// pass or p=none.
    @Test(arguments: [
        ("v=DMARC1; p=reject; pct=0", SPFAuthResult.fail, Policy.quarantine, true),
        ("v=DMARC1; p=quarantine; pct=0", .fail, Policy.none, true),
        ("v=DMARC1; p=quarantine; pct=100", .fail, .quarantine, false),
        ("v=DMARC1; p=none; pct=50", .fail, Policy.none, false),
        ("v=DMARC1; p=reject; pct=50", .pass, Policy.none, false),
    ])
    func samplingWithoutDraws(record: String, spfResult: SPFAuthResult, disposition: Policy, sampledOut: Bool) async throws {
        let resolver = try zone([("_dmarc.example.com", [record])])
        var generator = SplitMix64(state: 99)
        let evaluation = try await verifier(resolver).verify(
            authorDomain: Domain("example.com"), authentication: AuthenticationResults(spf: spf(spfResult, "example.com"), dkim: []), using: &generator)
        #expect(evaluation.disposition == disposition)
        #expect(evaluation.sampledOut == sampledOut)
        #expect(generator.state == 99)
    }

    /// Discovery outcomes other than a record give none, permerror or temperror, and never a
    /// disposition other than none.
    @Test func resultsWithoutAPolicy() async throws {
        let resolver = try zone([
            ("_dmarc.double.example", ["v=DMARC1; p=none"]),
            ("_dmarc.double.example", ["v=DMARC1; p=reject"]),
            ("_dmarc.broken.example", ["v=DMARC1; p=reject; p=none"]),
        ])
        resolver.fail(try name("_dmarc.flaky.example"), .txt, with: .timeout)
        let dmarc = try verifier(resolver)
        var generator = SplitMix64(state: 1)
        let authentication = AuthenticationResults(spf: nil, dkim: [])
        let cases: [(String, DMARCResult, String)] = [
            ("nothing.example", .none, "no DMARC record at _dmarc.nothing.example"),
            ("double.example", .permerror, "2 DMARC records at _dmarc.double.example; none applies"),
            ("broken.example", .permerror, "invalid DMARC record at _dmarc.broken.example: tag p appears more than once"),
            ("flaky.example", .temperror, "DMARC record lookup failed: TXT _dmarc.flaky.example.: timeout"),
        ]
        for (author, result, reason) in cases {
            let evaluation = await dmarc.verify(authorDomain: try Domain(author), authentication: authentication, using: &generator)
            #expect(evaluation.result == result)
            #expect(evaluation.disposition == .none)
            #expect(evaluation.requestedPolicy == nil)
            #expect(evaluation.reason == reason)
        }
    }

    /// A record taken as p=none for its rua (RFC 7489 §6.6.3 step 6.1) still evaluates.
    @Test func policyNoneForReportsEvaluates() async throws {
        let evaluation = try await evaluate(record: "v=DMARC1; p=rejected; rua=mailto:d@example.com", at: "example.com", author: "example.com", spf: spf(.fail, "example.com"))
        #expect(evaluation.result == .fail)
        #expect(evaluation.disposition == .none)
    }

    /// An internationalized author domain aligns with identifiers in either form.
    @Test func internationalizedDomains() async throws {
        let evaluation = try await evaluate(
            record: "v=DMARC1; p=reject; adkim=s", at: "xn--bcher-kva.example", author: "BÜCHER.example",
            dkim: [dkim(.pass, "xn--bcher-kva.example")])
        #expect(evaluation.result == .pass)
        let relaxed = try await evaluate(
            record: "v=DMARC1; p=reject", at: "xn--bcher-kva.example", author: "news.bücher.example", spf: spf(.pass, "bounce.xn--bcher-kva.example"))
        #expect(relaxed.result == .pass)
    }

    /// RFC 7489 §6.6.1, as `FromField` documents.
    @Test func fromFieldCases() async throws {
        let resolver = try zone([
            ("_dmarc.example.com", ["v=DMARC1; p=reject"]),
            ("_dmarc.example.org", ["v=DMARC1; p=quarantine"]),
        ])
        let dmarc = try verifier(resolver)
        var generator = SplitMix64(state: 3)
        let authentication = AuthenticationResults(spf: try spf(.pass, "example.org"), dkim: [])

        let missing = await dmarc.verify(from: .missing, authentication: authentication, using: &generator)
        #expect(missing.result == .permerror && missing.disposition == .reject && missing.evaluations.isEmpty)
        #expect(missing.reason == "the message has no From field (RFC 5322 §3.6 requires one)")
        let repeated = await dmarc.verify(from: .repeated, authentication: authentication, using: &generator)
        #expect(repeated.result == .permerror && repeated.disposition == .reject)

        let group = await dmarc.verify(from: .addresses([]), authentication: authentication, using: &generator)
        #expect(group.result == .none && group.disposition == .none)
        #expect(group.reason == "the From field has no address to evaluate")

        let single = await dmarc.verify(from: .addresses([try Domain("example.org")]), authentication: authentication, using: &generator)
        #expect(single.result == .pass && single.disposition == .none && single.evaluations.count == 1)

        // Each distinct domain is evaluated; the strictest disposition of those that fail applies.
        let several = await dmarc.verify(
            from: .addresses([try Domain("example.org"), try Domain("example.com"), try Domain("EXAMPLE.org"), try Domain("example.net")]),
            authentication: authentication, using: &generator)
        #expect(several.evaluations.map(\.authorDomain.ascii) == ["example.org", "example.com", "example.net"])
        #expect(several.evaluations.map(\.result) == [.pass, .fail, DMARCResult.none])
        #expect(several.result == .fail)
        #expect(several.disposition == .reject)
        #expect(several.reason.hasPrefix("example.org: pass, SPF (MAIL FROM example.org) passed"))
    }
}
