import Foundation
import IMAP
import IMAPServer
import NIOCore
import SASL
import ServerSupport
import Store
import Testing

@Suite struct AuthAndLimitsTests {
    /// RFC 5802 through AUTHENTICATE (RFC 9051 §6.2.2): IMAP has no room for additional data
    /// with OK, so the server-final-message is one more challenge, answered by an empty line.
    @Test func scramSHA256() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState()) { $0.plaintextLoginAllowed = false }
        var sasl = try SASLClient(
            mechanism: .scramSHA256, credentials: SASLClientCredentials(username: "alice", password: "secret"),
            channelBinding: nil, serverOffersChannelBinding: false)
        let started = sasl.start()
        let initial = try #require(started)
        func decode(_ line: String) -> [UInt8] {
            #expect(line.hasPrefix("+ "))
            return Data(base64Encoded: String(line.dropFirst(2).dropLast())).map { Array($0) } ?? []
        }
        let first = try await client.send("a AUTHENTICATE SCRAM-SHA-256 \(Data(initial).base64EncodedString())\n")
        guard case let .respond(final) = sasl.receive(challenge: decode(first)) else { Issue.record("no client-final"); return }
        let serverFinal = try await client.send(Data(final).base64EncodedString() + "\n")
        guard case .respond([]) = sasl.receive(challenge: decode(serverFinal)) else { Issue.record("server signature"); return }
        let outcome = try await client.send("\n")
        #expect(outcome.hasPrefix("a OK [CAPABILITY IMAP4rev2 "))
        #expect(sasl.receiveSuccess() == .success)
    }

    /// Failures per address: past the limit even the right password is refused.
    @Test func authFailuresPerAddress() async throws {
        let fixture = try await Fixture.make()
        let shared = IMAPSharedState()
        let authentication = Authentication(
            credentials: fixture.credentials, serverSecret: Array("server secret".utf8),
            failureLimiter: AuthFailureLimiter(maxFailures: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1)))
        let client = try await TestSession(fixture, shared: shared) { $0.authentication = authentication }
        #expect(try await client.send("a LOGIN alice wrong\n") == "a NO [AUTHENTICATIONFAILED] authentication failed\n")
        #expect(try await client.send("b LOGIN nobody wrong\n") == "b NO [AUTHENTICATIONFAILED] authentication failed\n")
        #expect(try await client.send("c LOGIN alice secret\n") == "c NO [UNAVAILABLE] too many failed logins; try again later\n")
        #expect(try await client.send("d AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\n") == "d NO [UNAVAILABLE] too many failed logins; try again later\n")
        // RFC 4616: acting as someone else is refused.
        let third = try await TestSession(fixture, shared: IMAPSharedState())
        #expect(try await third.send("e AUTHENTICATE PLAIN \(Data("bob\0alice\0secret".utf8).base64EncodedString())\n") == "e NO [AUTHORIZATIONFAILED] not authorized to act as that user\n")
    }

    /// RFC 9051 §5.4: an idle connection is logged out with BYE.
    @Test func autologout() async throws {
        let fixture = try await Fixture.make()
        try await withListener(fixture, configure: { $0.limits.unauthenticatedTimeout = .milliseconds(300) }) { port in
            try await LineClient.with(port: port) { (client: inout LineClient) async throws in
                #expect(try await client.line()?.hasPrefix("* OK") == true)
                #expect(try await client.line() == "* BYE autologout; idle for too long")
                #expect(try await client.line() == nil)
            }
        }
    }
}
