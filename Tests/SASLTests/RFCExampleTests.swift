import Testing
@testable import SASL

/// The exchanges printed in the RFCs, reproduced octet for octet on both sides, with the
/// nonces injected.
@Suite struct RFCExampleTests {
    // MARK: RFC 5802 §5 (SCRAM-SHA-1)

    static let rfc5802ClientFirst = "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    static let rfc5802ServerFirst = "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
    static let rfc5802ClientFinal = "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="
    static let rfc5802ServerFinal = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="

    @Test func rfc5802ClientSide() throws {
        var client = try SASLClient(
            mechanism: .scramSHA1, credentials: SASLClientCredentials(username: "user", password: "pencil"),
            nonce: nonce("fyko+d2lbbFgONRv9qkxdawL"))
        #expect(client.start().map(text) == Self.rfc5802ClientFirst)
        #expect(client.receive(challenge: bytes(Self.rfc5802ServerFirst)) == .respond(bytes(Self.rfc5802ClientFinal)))
        #expect(client.receive(challenge: bytes(Self.rfc5802ServerFinal)) == .respond([]))
        #expect(client.receiveSuccess() == .success)
        #expect(client.isFinished)
    }

    @Test func rfc5802ServerSide() throws {
        let credentials = try SCRAMCredentials.derive(
            password: "pencil", salt: try #require(SASLBase64.decode("QSXCR+Q6sek8bf92")), iterations: 4096, hash: .sha1)
        var server = SASLServer(
            mechanism: .scramSHA1, configuration: serverConfiguration(tls: false), nonce: nonce("3rfcNHYJY1ZVvWVs7j"))
        #expect(server.start(initialResponse: bytes(Self.rfc5802ClientFirst)) == .needCredentials(
            SASLCredentialRequest(username: "user", mechanism: .scramSHA1, kind: .scram(.sha1))))
        #expect(server.provide(.found(SASLStoredCredentials(scramSHA1: credentials))) == .challenge(bytes(Self.rfc5802ServerFirst)))
        #expect(server.receive(bytes(Self.rfc5802ClientFinal)) == .challenge(bytes(Self.rfc5802ServerFinal)))
        let expected = SASLAuthentication(
            mechanism: .scramSHA1, authenticationIdentity: "user", authorizationIdentity: nil,
            channelBindingType: nil, additionalData: nil)
        #expect(server.receive([]) == .success(expected))
        #expect(server.username == "user")
    }

    @Test func rfc5802ServerSideWithAdditionalDataInOutcome() throws {
        let credentials = try SCRAMCredentials.derive(
            password: "pencil", salt: try #require(SASLBase64.decode("QSXCR+Q6sek8bf92")), iterations: 4096, hash: .sha1)
        var server = SASLServer(
            mechanism: .scramSHA1, configuration: serverConfiguration(additionalDataWithSuccess: true),
            nonce: nonce("3rfcNHYJY1ZVvWVs7j"))
        _ = server.start(initialResponse: bytes(Self.rfc5802ClientFirst))
        _ = server.provide(.found(SASLStoredCredentials(scramSHA1: credentials)))
        guard case let .success(auth) = server.receive(bytes(Self.rfc5802ClientFinal)) else {
            Issue.record("expected success")
            return
        }
        #expect(auth.additionalData == bytes(Self.rfc5802ServerFinal))
    }

    // MARK: RFC 7677 §3 (SCRAM-SHA-256)

    static let rfc7677ClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    static let rfc7677ServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    static let rfc7677ClientFinal =
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    static let rfc7677ServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

    @Test func rfc7677ClientSide() throws {
        var client = try SASLClient(
            mechanism: .scramSHA256, credentials: SASLClientCredentials(username: "user", password: "pencil"),
            nonce: nonce("rOprNGfwEbeRWgbNEkqO"))
        #expect(client.start().map(text) == Self.rfc7677ClientFirst)
        #expect(client.receive(challenge: bytes(Self.rfc7677ServerFirst)) == .respond(bytes(Self.rfc7677ClientFinal)))
        #expect(client.receive(challenge: bytes(Self.rfc7677ServerFinal)) == .respond([]))
        #expect(client.receiveSuccess() == .success)
    }

    @Test func rfc7677ServerSide() throws {
        let credentials = try SCRAMCredentials.derive(
            password: "pencil", salt: try #require(SASLBase64.decode("W22ZaJ0SNY7soEsUEjb6gQ==")), iterations: 4096,
            hash: .sha256)
        var server = SASLServer(
            mechanism: .scramSHA256, configuration: serverConfiguration(),
            nonce: nonce("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"))
        #expect(server.start(initialResponse: nil) == .challenge([]))
        #expect(server.receive(bytes(Self.rfc7677ClientFirst)) == .needCredentials(
            SASLCredentialRequest(username: "user", mechanism: .scramSHA256, kind: .scram(.sha256))))
        #expect(server.provide(.found(SASLStoredCredentials(scramSHA256: credentials))) == .challenge(bytes(Self.rfc7677ServerFirst)))
        #expect(server.receive(bytes(Self.rfc7677ClientFinal)) == .challenge(bytes(Self.rfc7677ServerFinal)))
        guard case let .success(auth) = server.receive([]) else {
            Issue.record("expected success")
            return
        }
        #expect(auth.authenticationIdentity == "user")
        #expect(auth.mechanism == .scramSHA256)
    }

    // MARK: RFC 4616 §4 (PLAIN)

    @Test func rfc4616FirstExample() {
        // S: + ""   C: <NUL>tim<NUL>tanstaaftanstaaf   S: OK
        var server = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        #expect(server.start(initialResponse: nil) == .challenge([]))
        #expect(server.receive([0] + bytes("tim") + [0] + bytes("tanstaaftanstaaf")) == .needCredentials(
            SASLCredentialRequest(username: "tim", mechanism: .plain, kind: .password)))
        let stored = SASLStoredCredentials(scramSHA256: try? SCRAMCredentials.derive(
            password: "tanstaaftanstaaf", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha256))
        #expect(server.provide(.found(stored)) == .success(SASLAuthentication(
            mechanism: .plain, authenticationIdentity: "tim", authorizationIdentity: nil,
            channelBindingType: nil, additionalData: nil)))
    }

    @Test func rfc4616SecondExampleReportsTheRequestedAuthorizationIdentity() throws {
        // C: Ursel<NUL>Kurt<NUL>xipj3plmq, as an initial response. The machine
        // authenticates Kurt and reports Ursel; refusing the authorization (RFC 4616 §4:
        // "Not authorized to requested authorization identity") is the caller's policy.
        var server = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        let response = bytes("Ursel") + [0] + bytes("Kurt") + [0] + bytes("xipj3plmq")
        #expect(server.start(initialResponse: response) == .needCredentials(
            SASLCredentialRequest(username: "Kurt", mechanism: .plain, kind: .password)))
        let stored = SASLStoredCredentials(scramSHA1: try SCRAMCredentials.derive(
            password: "xipj3plmq", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha1))
        guard case let .success(auth) = server.provide(.found(stored)) else {
            Issue.record("expected success")
            return
        }
        #expect(auth.authenticationIdentity == "Kurt")
        #expect(auth.authorizationIdentity == "Ursel")
        #expect(auth.effectiveIdentity == "Ursel")

        var client = try SASLClient(
            mechanism: .plain,
            credentials: SASLClientCredentials(username: "Kurt", password: "xipj3plmq", authorizationIdentity: "Ursel"))
        #expect(client.start() == response)
    }

    // MARK: RFC 2195 §2 (CRAM-MD5)

    static let rfc2195Challenge = "<1896.697170952@postoffice.reston.mci.net>"
    static let rfc2195Response = "tim b913a602c7eda7a495b4e6e7334d3890"

    @Test func rfc2195ServerSide() {
        var configuration = serverConfiguration()
        configuration.hostname = "postoffice.reston.mci.net"
        var server = SASLServer(mechanism: .cramMD5, configuration: configuration, nonce: nonce("1896.697170952"))
        #expect(server.start(initialResponse: nil) == .challenge(bytes(Self.rfc2195Challenge)))
        #expect(server.receive(bytes(Self.rfc2195Response)) == .needCredentials(
            SASLCredentialRequest(username: "tim", mechanism: .cramMD5, kind: .cramMD5)))
        #expect(server.provide(.found(SASLStoredCredentials(cramMD5: CRAMMD5Key(password: "tanstaaftanstaaf"))))
            == .success(SASLAuthentication(
                mechanism: .cramMD5, authenticationIdentity: "tim", authorizationIdentity: nil,
                channelBindingType: nil, additionalData: nil)))
    }

    @Test func rfc2195ClientSide() throws {
        var client = try SASLClient(
            mechanism: .cramMD5, credentials: SASLClientCredentials(username: "tim", password: "tanstaaftanstaaf"))
        #expect(client.start() == nil)
        #expect(client.receive(challenge: bytes(Self.rfc2195Challenge)) == .respond(bytes(Self.rfc2195Response)))
        #expect(client.receiveSuccess() == .success)
    }

    @Test func rfc2195UpperCaseDigestIsAccepted() {
        var configuration = serverConfiguration()
        configuration.hostname = "postoffice.reston.mci.net"
        var server = SASLServer(mechanism: .cramMD5, configuration: configuration, nonce: nonce("1896.697170952"))
        _ = server.start(initialResponse: nil)
        _ = server.receive(bytes("tim B913A602C7EDA7A495B4E6E7334D3890"))
        guard case .success = server.provide(.found(SASLStoredCredentials(cramMD5: CRAMMD5Key(password: "tanstaaftanstaaf")))) else {
            Issue.record("expected success")
            return
        }
    }

    @Test func cramMD5KeyForPasswordsLongerThanTheBlock() {
        // RFC 2104 §2: keys longer than 64 octets are hashed first; the stored key is the
        // MD5 digest, and the HMAC is unchanged. Expected value from Python's
        // hmac.new(b"k" * 70, b"<abc@example.org>", "md5").hexdigest().
        let key = CRAMMD5Key(password: String(repeating: "k", count: 70))
        #expect(key.key.count == 16)
        #expect(Bytes.hex(key.digest(challenge: bytes("<abc@example.org>"))) == "56d03f6948fe4b66bfa03a5275ea17fa")
    }

    // MARK: LOGIN (draft-murchison-sasl-login)

    @Test func loginExchange() throws {
        var server = SASLServer(mechanism: .login, configuration: serverConfiguration())
        var client = try SASLClient(mechanism: .login, credentials: SASLClientCredentials(username: "tim", password: "secret"))
        #expect(client.start() == nil)
        #expect(server.start(initialResponse: nil) == .challenge(bytes("Username:")))
        #expect(client.receive(challenge: bytes("Username:")) == .respond(bytes("tim")))
        #expect(server.receive(bytes("tim")) == .challenge(bytes("Password:")))
        #expect(client.receive(challenge: bytes("Password:")) == .respond(bytes("secret")))
        #expect(server.receive(bytes("secret")) == .needCredentials(
            SASLCredentialRequest(username: "tim", mechanism: .login, kind: .password)))
        let stored = SASLStoredCredentials(scramSHA256: try SCRAMCredentials.derive(
            password: "secret", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha256))
        guard case .success = server.provide(.found(stored)) else {
            Issue.record("expected success")
            return
        }
        #expect(client.receiveSuccess() == .success)
    }

    @Test func loginUsernameAsInitialResponse() {
        var server = SASLServer(mechanism: .login, configuration: serverConfiguration())
        #expect(server.start(initialResponse: bytes("tim")) == .challenge(bytes("Password:")))
        #expect(server.username == "tim")
    }
}
