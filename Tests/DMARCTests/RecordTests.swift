import DMARC
import Testing

@Suite struct RecordTests {
    /// RFC 7489 Appendix B.2.1-B.2.4 records, as retrieved.
    @Test func appendixBRecords() throws {
        let monitoring = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com")
        #expect(monitoring.policy == .none)
        #expect(monitoring.subdomainPolicy == nil)
        #expect(monitoring.aggregateReportURIs == [ReportURI(uri: "mailto:dmarc-feedback@example.com", scheme: "mailto", sizeLimit: nil)])
        #expect(monitoring.failureReportURIs.isEmpty)
        #expect(monitoring.percentage == 100)
        #expect(monitoring.dkimAlignment == .relaxed && monitoring.spfAlignment == .relaxed)
        #expect(monitoring.failureReportingOptions == [.allFailed])
        #expect(monitoring.reportFormats == ["afrf"])
        #expect(monitoring.reportInterval == 86400)
        #expect(monitoring.problems.isEmpty)
        #expect(monitoring.tags.map(\.name) == ["v", "p", "rua"])

        let perMessage = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@example.com")
        #expect(perMessage.failureReportURIs.map(\.uri) == ["mailto:auth-reports@example.com"])

        let thirdParty = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net")
        #expect(thirdParty.failureReportURIs.map(\.uri) == ["mailto:auth-reports@thirdparty.example.net"])

        // B.2.4, as the zone file's strings concatenate (RFC 7489 §6.1), and as dig wraps it.
        for text in [
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,mailto:tld-test@thirdparty.example.net!10m; pct=25",
            "v=DMARC1; p=quarantine; rua=mailto:dmarc-feedback@example.com,\n mailto:tld-test@thirdparty.example.net!10m; pct=25",
        ] {
            let sampling = try DMARCRecord(parsing: text)
            #expect(sampling.policy == .quarantine)
            #expect(sampling.percentage == 25)
            #expect(sampling.aggregateReportURIs.map(\.description) == ["mailto:dmarc-feedback@example.com", "mailto:tld-test@thirdparty.example.net!10m"])
            #expect(sampling.aggregateReportURIs.last?.sizeLimit?.bytes == 10 * 1024 * 1024)
            #expect(sampling.problems.isEmpty)
        }
    }

    /// Every tag of RFC 7489 §6.3 with a non-default value, white space where the ABNF allows
    /// it, case-insensitive names and keywords, an unknown tag, and a final separator.
    @Test func everyTag() throws {
        let record = try DMARCRecord(parsing: """
            v = DMARC1 ;P=Reject; sp=quarantine ; pct=0; rua=mailto:a@example.com!1k , https://reports.example.net/dmarc!2G;\
            ruf=mailto:f@example.com;adkim=S; aspf=s; fo=1:d : s; rf=AFRF; ri=3600; future=whatever;
            """)
        #expect(record.policy == .reject)
        #expect(record.subdomainPolicy == .quarantine)
        #expect(record.policy(forSubdomain: false) == .reject)
        #expect(record.policy(forSubdomain: true) == .quarantine)
        #expect(record.percentage == 0)
        #expect(record.aggregateReportURIs.map(\.scheme) == ["mailto", "https"])
        #expect(record.aggregateReportURIs.map { $0.sizeLimit?.bytes } == [1024, 2 << 30])
        #expect(record.failureReportURIs.map(\.uri) == ["mailto:f@example.com"])
        #expect(record.dkimAlignment == .strict && record.spfAlignment == .strict)
        #expect(record.failureReportingOptions == [.anyFailed, .dkimFailed, .spfFailed])
        #expect(record.reportFormats == ["afrf"])
        #expect(record.reportInterval == 3600)
        #expect(record.tags.last == DMARCTag(name: "future", value: "whatever"))
        #expect(record.problems.isEmpty)
    }

    @Test func policyAfterOtherTags() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; rua=mailto:a@example.com; p=reject")
        #expect(record.policy == .reject)
        #expect(record.problems.isEmpty)
    }

    @Test func sizeLimitUnitsArePowersOfTwo() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:a@x.example!7,mailto:b@x.example!3t,mailto:c@x.example!18446744073709551615m")
        #expect(record.aggregateReportURIs.map { $0.sizeLimit?.bytes } == [7, 3 << 40, UInt64.max])
        #expect(record.aggregateReportURIs.map { $0.sizeLimit?.description } == ["7", "3t", "18446744073709551615m"])
    }

    /// RFC 7489 §6.3: v=DMARC1 must be the first tag and match exactly; otherwise the record
    /// is not a DMARC record at all.
    @Test(arguments: [
        "", "v=spf1 -all", "p=reject; v=DMARC1", "v=DMARC2; p=reject", "v=dmarc1; p=reject", "v=DMARC1 p=reject", " ; v=DMARC1; p=none",
        "v=DMARC10; p=none", "vv=DMARC1; p=none", "v:DMARC1; p=none",
    ])
    func notADMARCRecord(text: String) {
        #expect(!DMARCRecord.isDMARCRecord(text))
        #expect(throws: DMARCRecordError.notDMARC) { try DMARCRecord(parsing: text) }
    }

    @Test(arguments: ["v=DMARC1", "v=DMARC1;", "v=DMARC1; p=bogus", " v\t=\tDMARC1 ;p=none", "V=DMARC1; p=none"])
    func startsWithTheVersion(text: String) {
        #expect(DMARCRecord.isDMARCRecord(text))
    }

    /// Without a usable "p" (or with a bad "sp") and no "rua", the record does not apply
    /// (RFC 7489 §6.6.3 step 6.2); the error says why.
    @Test(arguments: [
        ("v=DMARC1", DMARCRecordError.missingPolicy),
        ("v=DMARC1; p", .missingPolicy),
        ("v=DMARC1; sp=reject", .missingPolicy),
        ("v=DMARC1; p=block", .invalidPolicy("block")),
        ("v=DMARC1; p=", .invalidPolicy("")),
        ("v=DMARC1; p=reject; sp=deny", .invalidSubdomainPolicy("deny")),
        ("v=DMARC1; sp=deny; p=reject", .invalidSubdomainPolicy("deny")),
        ("v=DMARC1; p=reject-all; rua=reports@example.com", .invalidPolicy("reject-all")),
        ("v=DMARC1; p=none; p=reject", .duplicateTag("p")),
        ("v=DMARC1; p=none; RUA=mailto:a@example.com; rua=mailto:b@example.com", .duplicateTag("rua")),
        ("v=DMARC1; v=DMARC1; p=none", .duplicateTag("v")),
    ])
    func unusableRecords(text: String, error: DMARCRecordError) {
        #expect(throws: error) { try DMARCRecord(parsing: text) }
    }

    @Test func unusableRecordErrorsSayWhy() {
        #expect(DMARCRecordError.notDMARC.description == "not a DMARC record: it does not start with v=DMARC1")
        #expect(DMARCRecordError.invalidPolicy("block").description == "p=block is not none, quarantine or reject (and no valid rua= to report to)")
        #expect(DMARCRecordError.duplicateTag("rua").description == "tag rua appears more than once")
    }

    /// RFC 7489 §6.6.3 step 6.1: a bad or missing "p", or a bad "sp", with a valid "rua" URI
    /// is applied as "p=none" (and no "sp"), keeping the report destinations.
    @Test(arguments: [
        ("v=DMARC1; rua=mailto:d@example.com", DMARCRecordError.missingPolicy),
        ("v=DMARC1; p=reject-all; rua=mailto:d@example.com", .invalidPolicy("reject-all")),
        ("v=DMARC1; p=reject; sp=nope; rua=bad uri,mailto:d@example.com", .invalidSubdomainPolicy("nope")),
    ])
    func policyNoneForReports(text: String, cause: DMARCRecordError) throws {
        let record = try DMARCRecord(parsing: text)
        #expect(record.policy == .none)
        #expect(record.subdomainPolicy == nil)
        #expect(record.aggregateReportURIs.map(\.uri) == ["mailto:d@example.com"])
        #expect(record.problems.last == .policyNoneForReports(cause))
    }

    /// RFC 7489 §6.3: syntax errors after the version are "discarded in favor of default
    /// values (if any) or ignored outright"; each is noted.
    @Test func invalidValuesFallBackToDefaults() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=reject; pct=101; adkim=x; aspf=; ri=-5; fo=0:x; rf=afrf:xml; garbage; =value; 9x=1; ruf=mailto:a@b.example!")
        #expect(record.policy == .reject)
        #expect(record.percentage == 100)
        #expect(record.dkimAlignment == .relaxed && record.spfAlignment == .relaxed)
        #expect(record.reportInterval == 86400)
        #expect(record.failureReportingOptions == [.allFailed])
        #expect(record.reportFormats == ["afrf"])
        #expect(record.failureReportURIs.isEmpty)
        #expect(record.problems.map(\.description) == [
            "ignored malformed tag \"garbage\"",
            "ignored malformed tag \"=value\"",
            "ignored malformed tag \"9x=1\"",
            "ignored pct=101: expected a percentage from 0 to 100; using the default 100",
            "ignored adkim=x: expected r (relaxed) or s (strict); using the default r",
            "ignored aspf=: expected r (relaxed) or s (strict); using the default r",
            "ignored ri=-5: expected a number of seconds (32-bit); using the default 86400",
            "ignored fo=0:x: expected 0, 1, d or s, separated by colons; using the default 0",
            "ignored unregistered report format rf=xml",
            "ignored ruf URI \"mailto:a@b.example!\": the size limit after '!' is not digits with an optional k, m, g or t that fit in 64 bits",
        ])
    }

    @Test(arguments: [
        ("reports@example.com", ReportURIError.missingScheme),
        ("1mailto:a@example.com", .missingScheme),
        ("mailto:", .empty),
        ("mailto:a b@example.com", .invalidCharacter(0x20)),
        ("mailto:a\"b@example.com", .invalidCharacter(0x22)),
        ("mailto:a\tb@example.com", .invalidCharacter(0x09)),
        ("mailto:a%2@example.com", .badPercentEncoding),
        ("mailto:a@example.com!", .invalidSizeLimit),
        ("mailto:a@example.com!10x", .invalidSizeLimit),
        ("mailto:a@example.com!m", .invalidSizeLimit),
        ("mailto:a@example.com!1!2", .invalidSizeLimit),
        ("mailto:a@example.com!18446744073709551616", .invalidSizeLimit),
    ])
    func invalidReportURIs(uri: String, reason: ReportURIError) throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=\(uri),mailto:ok@example.com")
        #expect(record.aggregateReportURIs.map(\.uri) == ["mailto:ok@example.com"])
        #expect(record.problems == [.invalidReportURI(tag: "rua", uri: uri, reason: reason)])
    }

    @Test func reportURIErrorsSayWhy() {
        #expect(ReportURIError.invalidCharacter(UInt8(ascii: ",")).description == "',' must be percent-encoded in a DMARC URI")
        #expect(ReportURIError.invalidCharacter(0x22).description == "'\"' is not allowed in a URI")
        #expect(ReportURIError.invalidCharacter(0x09).description == "octet 0x9 is not allowed in a URI")
    }

    /// Tag values are VALCHARs (RFC 6376 §3.2): printable ASCII and white space.
    @Test func nonASCIIMakesATagMalformed() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:é@example.com")
        #expect(record.aggregateReportURIs.isEmpty)
        #expect(record.problems == [.malformedTag("rua=mailto:é@example.com")])
    }

    @Test func percentEncodedCommasAndBangsStayInTheURI() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=none; rua=mailto:a%2Cb%21c@example.com!5k")
        #expect(record.aggregateReportURIs == [ReportURI(uri: "mailto:a%2Cb%21c@example.com", scheme: "mailto", sizeLimit: ReportSizeLimit(count: 5, unit: .kilobytes))])
    }

    @Test func policiesAreOrderedByStrictness() {
        #expect(Policy.none < .quarantine && Policy.quarantine < .reject)
        #expect([Policy.quarantine, .reject, .none].max() == .reject)
    }
}
