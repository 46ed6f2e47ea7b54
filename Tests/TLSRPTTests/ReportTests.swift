import Foundation
import Testing
import TLSRPT
import Zlib

@Suite struct ReportTests {
    let stsPolicy = Policy(
        type: .sts, string: Policy.stsLines("version: STSv1\r\nmode: testing\r\nmx: mx1.example.com\r\nmx: mx2.example.com\r\nmax_age: 604800\r\n"),
        domain: "example.com", mxHost: ["mx1.example.com", "mx2.example.com"])

    /// The example report of RFC 8460 Appendix B, as published (with its members in the
    /// order shown), decodes; its values come out as written.
    @Test func decodesTheRFCExample() throws {
        let json = """
            {
                 "organization-name": "Company-X",
                 "date-range": {
                   "start-datetime": "2016-04-01T00:00:00Z",
                   "end-datetime": "2016-04-01T23:59:59Z"
                 },
                 "contact-info": "sts-reporting@company-x.example",
                 "report-id": "5065427c-23d3-47ca-b6e0-946ea0e8c4be",
                 "policies": [{
                   "policy": {
                     "policy-type": "sts",
                     "policy-string": ["version: STSv1","mode: testing",
                           "mx: *.mail.company-y.example","max_age: 86400"],
                     "policy-domain": "company-y.example",
                     "mx-host": ["*.mail.company-y.example"]
                   },
                   "summary": {
                     "total-successful-session-count": 5326,
                     "total-failure-session-count": 303
                   },
                   "failure-details": [{
                     "result-type": "certificate-expired",
                     "sending-mta-ip": "2001:db8:abcd:0012::1",
                     "receiving-mx-hostname": "mx1.mail.company-y.example",
                     "failed-session-count": 100
                   }, {
                     "result-type": "starttls-not-supported",
                     "sending-mta-ip": "2001:db8:abcd:0013::1",
                     "receiving-mx-hostname": "mx2.mail.company-y.example",
                     "receiving-ip": "203.0.113.56",
                     "failed-session-count": 200,
                     "additional-information": "https://reports.company-x.example/report_info?id=5065427c-23d3#StarttlsNotSupported"
                   }, {
                     "result-type": "validation-failure",
                     "sending-mta-ip": "198.51.100.62",
                     "receiving-ip": "203.0.113.58",
                     "receiving-mx-hostname": "mx-backup.mail.company-y.example",
                     "failed-session-count": 3,
                     "failure-reason-code": "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED"
                   }]
                 }]
               }
            """
        let report = try Report.decode(Array(json.utf8))
        #expect(report.organizationName == "Company-X")
        #expect(report.dateRange.start == Date(timeIntervalSince1970: 1_459_468_800))
        #expect(report.dateRange.end == Date(timeIntervalSince1970: 1_459_468_800 + 86399))
        let policy = try #require(report.policies.first)
        #expect(policy.policy.type == .sts && policy.policy.domain == "company-y.example" && policy.policy.mxHost == ["*.mail.company-y.example"])
        #expect(policy.summary == Summary(successful: 5326, failed: 303))
        #expect(policy.failureDetails.map(\.resultType) == [.certificateExpired, .starttlsNotSupported, .validationFailure])
        #expect(policy.failureDetails.map(\.failedSessionCount) == [100, 200, 3])
        #expect(policy.failureDetails[2].failureReasonCode == "X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED")
        // Re-encoded and decoded again: the same report.
        #expect(try Report.decode(try report.json()) == report)
    }

    @Test func encodesTheSchemaKeys() throws {
        let day = Report.DateRange.utcDay(containing: Date(timeIntervalSince1970: 1_795_301_115))  // 2026-11-21 22:45 UTC
        var result = PolicyResult.success(stsPolicy)
        result.add(.failure(stsPolicy, FailureDetail(resultType: .certificateHostMismatch, receivingMXHostname: "mx1.example.com", receivingIP: "192.0.2.1")))
        let report = Report(organizationName: "mail.example.org", dateRange: day, contactInfo: "postmaster@example.org", reportID: "r1", policies: [result])
        let text = String(decoding: try report.json(), as: UTF8.self)
        for piece in [
            #""date-range":{"end-datetime":"2026-11-22T00:00:00Z","start-datetime":"2026-11-21T00:00:00Z"}"#,
            #""policy-type":"sts""#, #""policy-string":["version: STSv1","mode: testing","mx: mx1.example.com","mx: mx2.example.com","max_age: 604800"]"#,
            #""mx-host":["mx1.example.com","mx2.example.com"]"#, #""total-successful-session-count":1"#, #""total-failure-session-count":1"#,
            #""result-type":"certificate-host-mismatch""#, #""receiving-ip":"192.0.2.1""#, #""failed-session-count":1"#,
            #""organization-name":"mail.example.org""#, #""report-id":"r1""#, #""contact-info":"postmaster@example.org""#,
        ] {
            #expect(text.contains(piece), "\(piece) not in \(text)")
        }
        // No-policy-found has no mx-host member.
        let none = String(decoding: try JSONEncoder().encode(Policy(type: .noPolicyFound, domain: "example.net")), as: UTF8.self)
        #expect(!none.contains("mx-host") && none.contains(#""policy-type":"no-policy-found""#))
    }

    /// Counts add up per failure kind; different failures stay apart.
    @Test func resultsMerge() {
        let expired = FailureDetail(resultType: .certificateExpired, receivingMXHostname: "mx1.example.com")
        let other = FailureDetail(resultType: .certificateExpired, receivingMXHostname: "mx2.example.com")
        let dane = Policy(type: .tlsa, string: ["3 1 1 AABB"], domain: "mx1.example.com")
        let merged = PolicyResult.merged([
            .success(stsPolicy), .failure(stsPolicy, expired), .success(stsPolicy), .failure(stsPolicy, expired), .failure(stsPolicy, other),
            .success(dane),
        ])
        #expect(merged.count == 2)
        #expect(merged[0].summary == Summary(successful: 2, failed: 3))
        #expect(merged[0].failureDetails.map(\.failedSessionCount) == [2, 1])
        #expect(merged[1].policy == dane && merged[1].summary == Summary(successful: 1))
    }

    /// Reports arrive gzipped (RFC 8460 §5.3); what senders get wrong is tolerated where
    /// harmless, and what cannot be a report is an error, not a crash.
    @Test func gzipAndLenientDecoding() throws {
        let report = Report(
            organizationName: "o", dateRange: .utcDay(containing: Date(timeIntervalSince1970: 0)), contactInfo: "c@example.org",
            reportID: "id", policies: [.success(stsPolicy)])
        let gzipped = try report.gzipped()
        #expect(gzipped.starts(with: [0x1f, 0x8b]))
        #expect(try Report.decode(gzipped) == report)

        let lenient = """
            {"organization-name":"o","date-range":{"start-datetime":"2026-11-21T00:00:00.000Z","end-datetime":"2026-11-22T00:00:00Z"},
             "contact-info":"c","report-id":"x","policies":[{"policy":{"policy-type":"sts","policy-domain":"example.com","mx-host":"mx.example.com"},
             "summary":{"total-successful-session-count":1,"total-failure-session-count":0}},
             {"policy":{"policy-type":"no-policy-found","policy-domain":"example.com"},"summary":{"total-successful-session-count":0,
             "total-failure-session-count":1},"failure-details":[{"result-type":"some-future-type","failed-session-count":1}]}]}
            """
        let decoded = try Report.decode(Array(lenient.utf8))
        #expect(decoded.policies[0].policy.mxHost == ["mx.example.com"] && decoded.policies[0].failureDetails.isEmpty)
        #expect(decoded.policies[1].failureDetails.first?.resultType == ResultType(rawValue: "some-future-type"))

        #expect(throws: ReportError.badGzip) { try Report.decode([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff]) }
        for broken in [#"{"organization-name": 1}"#, #"[]"#, "", #"{"organization-name":"o","date-range":{"start-datetime":"yesterday","end-datetime":"today"},"contact-info":"c","report-id":"x","policies":[]}"#] {
            #expect(throws: ReportError.self) { try Report.decode(Array(broken.utf8)) }
        }
    }
}
