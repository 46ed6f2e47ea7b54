import DNS
import Testing

@testable import SPF

@Suite struct ReceivedSPFTests {
    func result(_ result: SPFResult, mailFrom: String? = "myname@example.com", mechanism: String? = nil, problem: String? = nil) -> SPFCheck {
        SPFCheck(
            result: result, identity: mailFrom == nil ? .helo : .mailFrom, clientIP: ip("192.0.2.1"),
            sender: mailFrom.map { $0.isEmpty ? "postmaster@foo.example.com" : $0 } ?? "postmaster@foo.example.com", mailFrom: mailFrom,
            helo: "foo.example.com", domain: "example.com", receiver: "mybox.example.org", mechanism: mechanism, explanation: nil,
            problem: problem, lookups: [])
    }

    /// The field on one line, as RFC 5322 §2.2.3 unfolds it.
    func unfolded(_ field: String) -> String {
        field.replacing("\r\n ", with: " ")
    }

    /// RFC 7208 §9.1's third example, in this implementation's order and folding.
    @Test func pass() {
        #expect(result(.pass, mechanism: "ip4:192.0.2.1").receivedSPFField == """
            Received-SPF: pass (mybox.example.org: domain of myname@example.com designates\r
             192.0.2.1 as permitted sender) client-ip=192.0.2.1;\r
             envelope-from="myname@example.com"; helo=foo.example.com; identity=mailfrom;\r
             receiver=mybox.example.org; mechanism="ip4:192.0.2.1"\r

            """)
    }

    @Test func commentsPerResult() {
        let comments = SPFResult.allCases.map { result($0).receivedSPFComment }
        #expect(comments == [
            "mybox.example.org: domain of myname@example.com does not designate permitted sender hosts",
            "mybox.example.org: 192.0.2.1 is neither permitted nor denied by domain of myname@example.com",
            "mybox.example.org: domain of myname@example.com designates 192.0.2.1 as permitted sender",
            "mybox.example.org: domain of myname@example.com does not designate 192.0.2.1 as permitted sender",
            "mybox.example.org: domain of transitioning myname@example.com does not designate 192.0.2.1 as permitted sender",
            "mybox.example.org: temporary error in processing the SPF record of example.com",
            "mybox.example.org: permanent error in processing the SPF record of example.com",
        ])
    }

    @Test func problemOnlyForErrors() {
        let perm = result(.permerror, problem: "example.com has 2 SPF records (RFC 7208 §4.5)").receivedSPFField
        #expect(perm.hasSuffix(" problem=\"example.com has 2 SPF records (RFC 7208 section 4.5)\"\r\n"))
        let none = result(.none, problem: "no SPF record at example.com").receivedSPFField
        #expect(!none.contains("problem="))
    }

    /// HELO checks have no envelope-from; the null reverse-path is an empty quoted string.
    @Test func identities() {
        let helo = unfolded(result(.pass, mailFrom: nil).receivedSPFField)
        #expect(!helo.contains("envelope-from"))
        #expect(helo.contains("identity=helo;"))
        #expect(helo.contains("domain of postmaster@foo.example.com designates"))
        #expect(result(.pass, mailFrom: "").receivedSPFField.contains("envelope-from=\"\";"))
    }

    /// RFC 7208 §9.1: no invalid characters and no malicious data from the sender.
    @Test func senderDataIsMadeSafe() {
        var check = result(.fail, mailFrom: "\"a b\\\"(x)\"@example.com", mechanism: String(repeating: "a", count: 300))
        check.sender = check.mailFrom ?? ""
        check.helo = "evil\r\nX-Injected: yes"
        check.clientIP = ip("2001:db8::1")
        let field = check.receivedSPFField
        let lines = field.components(separatedBy: "\r\n")
        #expect(lines.last == "")
        #expect(lines.dropLast().allSatisfy { $0.count <= 78 || !$0.dropFirst().contains(" ") })
        #expect(lines.dropFirst().dropLast().allSatisfy { $0.hasPrefix(" ") })
        #expect(!field.contains("\r\nX-Injected"))
        #expect(field.contains("helo=\"evil??X-Injected: yes\";"))
        #expect(field.contains("envelope-from=\"\\\"a b\\\\\\\"(x)\\\"@example.com\";"))
        #expect(field.contains("client-ip=\"2001:db8::1\";"))
        let unfoldedField = unfolded(field)
        #expect(unfoldedField.contains("domain of \"a b\\\\\"\\(x\\)\"@example.com does not designate"))
        #expect(unfoldedField.contains("mechanism=\"" + String(repeating: "a", count: 200) + "...\""))
    }
}
