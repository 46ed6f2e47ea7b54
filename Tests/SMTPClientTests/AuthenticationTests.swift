import Foundation
import SASL
import SMTP
import Testing

@testable import SMTPClient

/// AUTH (RFC 4954) in the session, against the SASL module's server playing the other
/// side line by line, so every mechanism's exchange is checked in full (including SCRAM's
/// server signature).
@Suite struct AuthenticationTests {
    static let password = "secret"
    static let stored: SASLStoredCredentials = {
        let salt = Array("saltsaltsaltsalt".utf8)
        return SASLStoredCredentials(
            scramSHA1: try? SCRAMCredentials.derive(password: password, salt: salt, iterations: 4096, hash: .sha1),
            scramSHA256: try? SCRAMCredentials.derive(password: password, salt: salt, iterations: 4096, hash: .sha256),
            cramMD5: CRAMMD5Key(password: password))
    }()

    static let binding = ChannelBinding(type: "tls-exporter", data: Array(repeating: 7, count: 32))

    /// A session up to its AUTH command: over TLS (with `channelBinding`) or not.
    static func driver(
        offering mechanisms: String, tls: Bool = true, channelBinding: ChannelBinding? = nil, password: String = password,
        configure: (inout ClientAuthentication) -> Void = { _ in }
    ) -> (Driver, [ClientSession.Action]) {
        var authentication = ClientAuthentication(credentials: SASLClientCredentials(username: "alice@example.org", password: password))
        configure(&authentication)
        var driver = Driver { $0.authentication = authentication }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        if tls {
            _ = driver.server(Driver.ehloReply(["STARTTLS"]))
            _ = driver.server("220 go\r\n")
            _ = driver.session.tlsEstablished(tlsState(verified: true, channelBinding: channelBinding))
        }
        let actions = driver.server(Driver.ehloReply(["AUTH " + mechanisms]))
        return (driver, actions)
    }

    /// Plays the server from the client's AUTH line on; returns the session's last actions
    /// and the mechanism the client chose.
    static func exchange(
        _ driver: inout Driver, _ authLine: String, tls: Bool = true, serverBindings: [ChannelBinding] = []
    ) throws -> (actions: [ClientSession.Action], mechanism: SASLMechanism) {
        let words = authLine.trimmingCharacters(in: .newlines).split(separator: " ")
        try #require(words.count >= 2 && words[0] == "AUTH")
        let mechanism = try #require(SASLMechanism(name: words[1]))
        let configuration = SASLServerConfiguration(
            serverSecret: Array("server secret".utf8), hostname: "mx.example.org", tlsActive: tls, channelBindings: serverBindings,
            enabledMechanisms: Set(SASLMechanism.allCases))
        var server = SASLServer(mechanism: mechanism, configuration: configuration)
        var initial: [UInt8]?
        if words.count == 3 { initial = words[2] == "=" ? [] : SASLBase64.decode(words[2]) }
        var action = server.start(initialResponse: initial)
        while true {
            switch action {
            case let .challenge(challenge):
                let actions = driver.server("334 \(SASLBase64.encode(challenge))\r\n")
                let written = actions.written
                guard written.hasSuffix("\r\n") else { return (actions, mechanism) }
                let line = written.trimmingCharacters(in: .newlines)
                if line == "*" { return (driver.server("501 5.0.0 canceled\r\n"), mechanism) }
                // An empty line is an empty response (SCRAM's acknowledgement of the server-final message).
                action = server.receive(line.isEmpty ? [] : try #require(SASLBase64.decode(line)))
            case let .needCredentials(request):
                action = server.provide(request.username == "alice@example.org" ? .found(stored) : .unknownUser)
            case .success:
                return (driver.server("235 2.7.0 authenticated\r\n"), mechanism)
            case .failure:
                return (driver.server("535 5.7.8 authentication failed\r\n"), mechanism)
            }
        }
    }

    @Test(arguments: [SASLMechanism.plain, .login, .cramMD5, .scramSHA1, .scramSHA256])
    func eachMechanism(_ mechanism: SASLMechanism) throws {
        var (driver, actions) = Self.driver(offering: "PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256") { $0.mechanism = mechanism }
        let line = actions.written
        #expect(line.hasPrefix("AUTH \(mechanism.name)"))
        // Client-first mechanisms send an initial response (RFC 4954 §4).
        #expect(line.split(separator: " ").count == (mechanism.isClientFirst ? 3 : 2))
        let (result, used) = try Self.exchange(&driver, line)
        #expect(used == mechanism && result == [.ready])
        #expect(driver.session.authenticatedMechanism == mechanism)
    }

    /// Without a configured mechanism the strongest offered one is used, and -PLUS only
    /// with a channel binding (RFC 5802 §6).
    @Test func strongestOffered() throws {
        var (withoutBinding, actions) = Self.driver(offering: "LOGIN PLAIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS")
        #expect(actions.written.hasPrefix("AUTH SCRAM-SHA-256 "))
        #expect(try Self.exchange(&withoutBinding, actions.written).actions == [.ready])

        var (bound, plusActions) = Self.driver(offering: "PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS", channelBinding: Self.binding)
        #expect(plusActions.written.hasPrefix("AUTH SCRAM-SHA-256-PLUS "))
        #expect(try Self.exchange(&bound, plusActions.written, serverBindings: [Self.binding]).actions == [.ready])
        #expect(bound.session.authenticatedMechanism == .scramSHA256Plus)
    }

    /// A man in the middle has another TLS channel, so another binding: the server refuses.
    @Test func channelBindingMismatch() throws {
        var (driver, actions) = Self.driver(offering: "SCRAM-SHA-256-PLUS", channelBinding: Self.binding)
        let other = ChannelBinding(type: "tls-exporter", data: Array(repeating: 8, count: 32))
        let failure = try Self.exchange(&driver, actions.written, serverBindings: [other]).actions.failure
        #expect(failure == ClientError(step: .auth, kind: .reply, code: 535, enhanced: .badCredentials, text: "authentication failed", isPermanent: true))
    }

    @Test func wrongPassword() throws {
        var (driver, actions) = Self.driver(offering: "SCRAM-SHA-256", password: "wrong")
        let result = try Self.exchange(&driver, actions.written).actions
        #expect(result.failure?.code == 535 && result.failure?.isPermanent == true)
        #expect(result.written == "QUIT\r\n")
    }

    @Test func noAcceptableMechanism() {
        // PLAIN and LOGIN would put the password on the wire without TLS.
        let (_, actions) = Self.driver(offering: "PLAIN LOGIN", tls: false)
        let failure = actions.failure
        #expect(failure?.step == .auth && failure?.kind == .authentication && failure?.isPermanent == true)
        #expect(failure?.enhanced == EnhancedStatus(5, 7, 4) && actions.written == "QUIT\r\n")
        #expect(Self.driver(offering: "PLAIN", tls: false) { $0.allowPlaintextWithoutTLS = true }.1.written.hasPrefix("AUTH PLAIN "))
        let (_, none) = Self.driver(offering: "", tls: true)
        #expect(none.failure?.text == "the server offers no AUTH")
    }

    /// RFC 5802 §5: a 235 without the server's signature is not trusted.
    @Test func serverThatSkipsItsSignature() throws {
        var (driver, actions) = Self.driver(offering: "SCRAM-SHA-256")
        let words = actions.written.trimmingCharacters(in: .newlines).split(separator: " ")
        let clientFirst = String(decoding: try #require(SASLBase64.decode(words[2])), as: UTF8.self)
        let nonce = try #require(clientFirst.split(separator: ",").first { $0.hasPrefix("r=") }).dropFirst(2)
        let serverFirst = "r=\(nonce)server,s=\(SASLBase64.encode(Array("salt".utf8))),i=4096"
        #expect(driver.server("334 \(SASLBase64.encode(Array(serverFirst.utf8)))\r\n").written.count > 10)
        let result = driver.server("235 2.7.0 trust me\r\n")
        #expect(result.failure?.kind == .authentication && result.failure?.text == "SCRAM-SHA-256: server reported success without its signature")
        #expect(result.written == "QUIT\r\n")
    }

    /// RFC 2195 §2's example, byte for byte.
    @Test func cramMD5Vector() {
        var driver = Driver {
            $0.authentication = ClientAuthentication(
                credentials: SASLClientCredentials(username: "tim", password: "tanstaaftanstaaf"), mechanism: .cramMD5)
        }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        #expect(driver.server(Driver.ehloReply(["AUTH CRAM-MD5"])).written == "AUTH CRAM-MD5\r\n")
        let response = driver.server("334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n").written
        #expect(response == "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n")
        #expect(driver.server("235 ok\r\n") == [.ready])
    }

    /// RFC 4954 §4: an initial response that would make the AUTH line longer than 512
    /// octets is sent after the server's empty challenge instead.
    @Test func longInitialResponse() throws {
        let long = String(repeating: "p", count: 600)
        var (driver, actions) = Self.driver(offering: "PLAIN", password: long) { $0.mechanism = .plain }
        #expect(actions.written == "AUTH PLAIN\r\n")
        let response = driver.server("334 \r\n").written
        let decoded = try #require(SASLBase64.decode(response.trimmingCharacters(in: .newlines)))
        #expect(decoded == Array("\0alice@example.org\0\(long)".utf8))
        #expect(driver.server("235 ok\r\n") == [.ready])
    }

    @Test func badChallengeCancels() {
        var (driver, actions) = Self.driver(offering: "LOGIN") { $0.mechanism = .login }
        #expect(actions.written == "AUTH LOGIN\r\n")
        #expect(driver.server("334 not*base64\r\n").written == "*\r\n")
        let result = driver.server("501 5.0.0 canceled\r\n")
        #expect(result.failure?.text == "the server's challenge is not base64" && result.written == "QUIT\r\n")
    }
}
