import Foundation
import Testing

@testable import ACME

@Suite struct ProblemTests {
    func decode(_ json: String) throws -> ACMEProblem {
        try JSONDecoder().decode(ACMEProblem.self, from: Data(json.utf8))
    }

    /// RFC 8555 §6.7 and §6.7.1's example.
    @Test func problemWithSubproblems() throws {
        let problem = try decode(
            """
            {
                "type": "urn:ietf:params:acme:error:malformed",
                "detail": "Some of the identifiers requested were rejected",
                "subproblems": [
                    {
                        "type": "urn:ietf:params:acme:error:malformed",
                        "detail": "Invalid underscore in DNS name \\"_example.org\\"",
                        "identifier": {"type": "dns", "value": "_example.org"}
                    },
                    {
                        "type": "urn:ietf:params:acme:error:rejectedIdentifier",
                        "detail": "This CA will not issue for \\"example.net\\"",
                        "identifier": {"type": "dns", "value": "example.net"}
                    }
                ]
            }
            """)
        #expect(problem.kind == .malformed)
        #expect(problem.subproblems?.count == 2)
        #expect(problem.subproblems?[1].kind == .rejectedIdentifier)
        #expect(problem.subproblems?[1].identifier == .dns("example.net"))
        #expect(
            problem.description
                == #"malformed: Some of the identifiers requested were rejected; malformed: Invalid underscore in DNS name "_example.org" (for dns:_example.org); rejectedIdentifier: This CA will not issue for "example.net" (for dns:example.net)"#
        )
    }

    @Test func kindsAndUnknownTypes() throws {
        let rateLimited = try decode(#"{"type":"urn:ietf:params:acme:error:rateLimited","detail":"too many certificates","status":429}"#)
        #expect(rateLimited.kind == .rateLimited)
        #expect(rateLimited.status == 429)
        #expect(rateLimited.description == "rateLimited: too many certificates")

        let other = try decode(#"{"type":"https://ca.example/problems/maintenance","detail":"back soon"}"#)
        #expect(other.kind == nil)
        #expect(other.description == "https://ca.example/problems/maintenance: back soon")

        // RFC 7807 §4.2: no type is about:blank.
        #expect(try decode(#"{"detail":"x"}"#).type == "about:blank")

        let action = try decode(#"{"type":"urn:ietf:params:acme:error:userActionRequired","detail":"new terms","instance":"https://ca.example/tos"}"#)
        #expect(action.description == "userActionRequired: new terms (see https://ca.example/tos)")
        #expect(ACMEProblem.Kind.allCases.count == 24)
    }

    @Test func errorsSayWhatTheCASaid() {
        let problem = ACMEProblem(type: ACMEProblem.namespace + "badCSR", detail: "key too small", status: 400)
        let error = ACMEError.problem(problem, url: "https://ca.example/finalize/1")
        #expect(error.description == "ACME CA error at https://ca.example/finalize/1: badCSR: key too small")
        #expect(error.problem == problem)
        let failed = ACMEError.authorizationFailed(
            identifier: "mail.example.com", status: "invalid",
            problem: ACMEProblem(type: ACMEProblem.namespace + "connection", detail: "connection refused"))
        #expect(failed.description == "authorization for mail.example.com is invalid: connection: connection refused")
    }
}
