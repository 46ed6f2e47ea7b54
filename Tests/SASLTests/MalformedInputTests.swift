import Testing
@testable import SASL

/// Every kind of bad input gets a precise failure, never a crash.
@Suite struct MalformedInputTests {
    static func serverFailure(
        _ mechanism: SASLMechanism, _ messages: [[UInt8]], configuration: SASLServerConfiguration = serverConfiguration()
    ) -> SASLFailure? {
        var server = SASLServer(mechanism: mechanism, configuration: configuration, nonce: nonce("srv"))
        var action = server.start(initialResponse: nil)
        for message in messages {
            if case let .failure(reason, _) = action { return reason }
            action = server.receive(message)
            if case .needCredentials = action {
                action = server.provide(.found(pencilCredentials))
            }
        }
        if case let .failure(reason, _) = action { return reason }
        return nil
    }

    // MARK: SCRAM client-first-message

    static let clientFirstCases: [(String, [UInt8], SASLFailure)] = [
        ("empty", [], .malformed("client-first-message needs gs2-header, n= and r=")),
        ("unknown flag", bytes("x,,n=user,r=abc"), .malformed("gs2-cbind-flag must be n, y or p=<type>")),
        ("flag word", bytes("no,,n=user,r=abc"), .malformed("gs2-cbind-flag must be n, y or p=<type>")),
        ("too few fields", bytes("n,,n=user"), .malformed("client-first-message needs gs2-header, n= and r=")),
        ("bad authzid field", bytes("n,x=y,n=user,r=abc"), .malformed("second gs2-header field must be empty or a=")),
        ("empty cb-name", bytes("p=,,n=user,r=abc"), .malformed("invalid channel binding type in gs2-cbind-flag")),
        ("bad cb-name", bytes("p=tls exporter,,n=user,r=abc"), .malformed("invalid channel binding type in gs2-cbind-flag")),
        ("mext", bytes("n,,m=ext,n=user,r=abc"), .mandatoryExtensionUnsupported),
        ("nonce first", bytes("n,,r=abc,n=user"), .malformed("client-first-message-bare must start with n=")),
        ("no nonce", bytes("n,,n=user,x=abc"), .malformed("r= must follow n=")),
        ("bad escape", bytes("n,,n=us=2Xer,r=abc"), .invalidUsername("bad saslname escaping or encoding in n=")),
        ("lower-case escape", bytes("n,,n=us=2cer,r=abc"), .invalidUsername("bad saslname escaping or encoding in n=")),
        ("truncated escape", bytes("n,,n=user=2,r=abc"), .invalidUsername("bad saslname escaping or encoding in n=")),
        ("empty username", bytes("n,,n=,r=abc"), .invalidUsername("bad saslname escaping or encoding in n=")),
        ("bad authzid escape", bytes("n,a=x=3,n=user,r=abc"), .invalidAuthorizationIdentity("bad saslname escaping or encoding in a=")),
        ("empty nonce", bytes("n,,n=user,r="), .malformed("client nonce must be 1...256 printable characters")),
        ("DEL in nonce", bytes("n,,n=user,r=ab\u{7F}"), .malformed("client nonce must be 1...256 printable characters")),
        ("space in nonce", bytes("n,,n=user,r=a b"), .malformed("client nonce must be 1...256 printable characters")),
        ("long nonce", bytes("n,,n=user,r=" + String(repeating: "a", count: 257)),
         .malformed("client nonce must be 1...256 printable characters")),
        ("bad extension", bytes("n,,n=user,r=abc,1bad"), .malformed("invalid extension attribute in client-first-message")),
        ("empty extension", bytes("n,,n=user,r=abc,"), .malformed("invalid extension attribute in client-first-message")),
        ("not UTF-8", bytes("n,,n=") + [0xFF, 0xFE] + bytes(",r=abc"), .malformed("SCRAM message is not UTF-8")),
        ("NUL", bytes("n,,n=us") + [0] + bytes("er,r=abc"), .malformed("NUL in SCRAM message")),
        ("control in username", bytes("n,,n=us\u{7}er,r=abc"), .invalidUsername("disallowed code point U+7 (control)")),
        ("long username", bytes("n,,n=" + String(repeating: "u", count: 256) + ",r=abc"),
         .invalidUsername("longer than 255 octets")),
        ("too long", Array(repeating: UInt8(ascii: "a"), count: 5000), .messageTooLong(length: 5000, limit: 4096)),
    ]

    @Test(arguments: clientFirstCases.indices)
    func scramClientFirst(_ index: Int) {
        let (name, message, expected) = Self.clientFirstCases[index]
        #expect(Self.serverFailure(.scramSHA256, [message]) == expected, "\(name)")
    }

    // MARK: SCRAM client-final-message

    static let serverFirstNonce = "abcsrv"
    static let clientFinalCases: [(String, String, SASLFailure)] = [
        ("empty", "", .malformed("client-final-message needs c=, r= and p=")),
        ("no proof", "c=biws,r=abcsrv", .malformed("client-final-message needs c=, r= and p=")),
        ("proof not last", "c=biws,r=abcsrv,p=AAAA,x=y", .malformed("client-final-message must end with p=")),
        ("c not first", "r=abcsrv,c=biws,p=AAAA", .malformed("client-final-message must start with c=")),
        ("c not base64", "c=bi#s,r=abcsrv,p=AAAA", .malformed("c= is not base64 of a GS2 header")),
        ("c empty", "c=,r=abcsrv,p=AAAA", .malformed("c= is not base64 of a GS2 header")),
        ("r missing", "c=biws,x=abcsrv,p=AAAA", .malformed("r= must follow c=")),
        ("p not base64", "c=biws,r=abcsrv,p=AAA", .malformed("p= is not base64")),
        ("bad extension", "c=biws,r=abcsrv,=x,p=AAAA", .malformed("invalid extension attribute in client-final-message")),
        ("other binding header", "c=eSws,r=abcsrv,p=AAAA", .channelBindingMismatch),
        ("binding data where none", "c=" + SASLBase64.encode(bytes("n,,") + [1, 2]) + ",r=abcsrv,p=AAAA", .channelBindingMismatch),
        ("nonce mismatch", "c=biws,r=abcsrX,p=AAAA", .nonceMismatch),
        ("client nonce only", "c=biws,r=abc,p=AAAA", .nonceMismatch),
        ("short proof", "c=biws,r=abcsrv,p=AAAA", .invalidCredentials),
        ("wrong proof", "c=biws,r=abcsrv,p=" + SASLBase64.encode(Array(repeating: 0, count: 32)), .invalidCredentials),
    ]

    @Test(arguments: clientFinalCases.indices)
    func scramClientFinal(_ index: Int) {
        let (name, message, expected) = Self.clientFinalCases[index]
        var server = SASLServer(mechanism: .scramSHA256, configuration: serverConfiguration(), nonce: nonce("srv"))
        _ = server.start(initialResponse: bytes("n,,n=user,r=abc"))
        guard case let .challenge(serverFirst) = server.provide(.found(pencilCredentials)) else {
            Issue.record("no server-first")
            return
        }
        #expect(text(serverFirst).hasPrefix("r=\(Self.serverFirstNonce),"))
        let action = server.receive(bytes(message))
        #expect(action == .failure(expected, additionalData: bytes("e=\(expected.scramServerError)")), "\(name)")
        #expect(server.isFinished)
        #expect(server.receive([]) == .failure(.unexpectedMessage("exchange already finished"), additionalData: nil))
    }

    @Test func scramNonEmptyAcknowledgement() throws {
        var (client, server) = try pair(.scramSHA256)
        _ = server.start(initialResponse: client.start())
        guard case let .challenge(serverFirst) = server.provide(.found(pencilCredentials)), case let .respond(clientFinal) = client.receive(challenge: serverFirst),
              case .challenge = server.receive(clientFinal) else {
            Issue.record("exchange did not reach server-final")
            return
        }
        #expect(server.receive(bytes("x")) == .failure(.unexpectedMessage("non-empty response to the final challenge"), additionalData: nil))
    }

    // MARK: Sequencing

    @Test func sequencingErrors() {
        var server = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        #expect(server.receive([]) == .failure(.unexpectedMessage("response before start"), additionalData: nil))
        var server2 = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        _ = server2.start(initialResponse: nil)
        #expect(server2.start(initialResponse: nil) == .failure(.unexpectedMessage("exchange already started"), additionalData: nil))
        var server3 = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        #expect(server3.provide(.unknownUser) == .failure(.unexpectedMessage("credentials provided but not requested"), additionalData: nil))
        var server4 = SASLServer(mechanism: .plain, configuration: serverConfiguration())
        _ = server4.start(initialResponse: [0] + bytes("user") + [0] + bytes("pencil"))
        #expect(server4.receive([]) == .failure(.unexpectedMessage("response while credentials are looked up"), additionalData: nil))
        var server5 = SASLServer(mechanism: .scramSHA1, configuration: serverConfiguration())
        #expect(server5.start(initialResponse: Array(repeating: 0x41, count: 4097))
            == .failure(.messageTooLong(length: 4097, limit: 4096), additionalData: nil))
    }

    @Test func unavailableMechanisms() {
        var noTLS = SASLServer(mechanism: .plain, configuration: serverConfiguration(tls: false))
        #expect(noTLS.start(initialResponse: nil) == .failure(.mechanismUnavailable(.plain, .requiresTLS), additionalData: nil))
        var disabled = SASLServer(mechanism: .cramMD5, configuration: serverConfiguration(enabled: [.plain]))
        #expect(disabled.start(initialResponse: nil) == .failure(.mechanismUnavailable(.cramMD5, .notEnabled), additionalData: nil))
    }

    // MARK: PLAIN

    static let plainCases: [(String, [UInt8], SASLFailure)] = [
        ("empty", [], .malformed("PLAIN needs authzid NUL authcid NUL password (found 0 NULs)")),
        ("one NUL", bytes("user") + [0] + bytes("pencil"), .malformed("PLAIN needs authzid NUL authcid NUL password (found 1 NULs)")),
        ("three NULs", [0] + bytes("user") + [0] + bytes("pen") + [0] + bytes("cil"),
         .malformed("PLAIN needs authzid NUL authcid NUL password (found 3 NULs)")),
        ("empty password", [0] + bytes("user") + [0], .malformed("empty password")),
        ("empty authcid", [0, 0] + bytes("pencil"), .invalidUsername("empty")),
        ("authcid not UTF-8", [0, 0xC0] + [0] + bytes("pencil"), .invalidUsername("not UTF-8")),
        ("authzid not UTF-8", [0xFF, 0] + bytes("user") + [0] + bytes("pencil"), .invalidAuthorizationIdentity("not UTF-8")),
        ("password not UTF-8", [0] + bytes("user") + [0, 0xE2, 0x82], .malformed("password is not UTF-8")),
        ("long password", [0] + bytes("user") + [0] + Array(repeating: 0x61, count: 1025), .malformed("password longer than 1024 octets")),
        ("long authcid", [0] + Array(repeating: 0x61, count: 256) + [0] + bytes("p"), .invalidUsername("longer than 255 octets")),
        ("long authzid", Array(repeating: 0x61, count: 256) + [0] + bytes("user") + [0] + bytes("p"),
         .invalidAuthorizationIdentity("longer than 255 octets")),
        ("authcid fails SASLprep", [0] + bytes("us\u{200B}er") + [0] + bytes("p"),
         .invalidUsername("disallowed code point U+200B (ignorable)")),
        ("authzid fails SASLprep", bytes("\u{E000}") + [0] + bytes("user") + [0] + bytes("p"),
         .invalidAuthorizationIdentity("disallowed code point U+E000 (notInFreeformClass)")),
    ]

    @Test(arguments: plainCases.indices)
    func plain(_ index: Int) {
        let (name, message, expected) = Self.plainCases[index]
        #expect(Self.serverFailure(.plain, [message]) == expected, "\(name)")
    }

    @Test func plainPasswordFailingSASLprepIsJustWrong() {
        #expect(Self.serverFailure(.plain, [[0] + bytes("user") + [0] + bytes("pen\u{7}cil")]) == .invalidCredentials)
    }

    // MARK: LOGIN, CRAM-MD5

    @Test func login() {
        #expect(Self.serverFailure(.login, [[0xFF]]) == .invalidUsername("not UTF-8"))
        #expect(Self.serverFailure(.login, [[]]) == .invalidUsername("empty"))
        #expect(Self.serverFailure(.login, [bytes("user"), [0xC3]]) == .malformed("password is not UTF-8"))
        #expect(Self.serverFailure(.login, [bytes("user"), Array(repeating: 0x61, count: 1025)])
            == .malformed("password longer than 1024 octets"))
    }

    @Test func cramMD5() {
        let configuration = serverConfiguration()
        #expect(Self.serverFailure(.cramMD5, [bytes("user")], configuration: configuration)
            == .malformed("CRAM-MD5 response needs username SP digest"))
        #expect(Self.serverFailure(.cramMD5, [bytes("user 0123")], configuration: configuration)
            == .malformed("CRAM-MD5 digest must be 32 hex digits"))
        #expect(Self.serverFailure(.cramMD5, [bytes("user " + String(repeating: "g", count: 32))], configuration: configuration)
            == .malformed("CRAM-MD5 digest must be 32 hex digits"))
        #expect(Self.serverFailure(.cramMD5, [bytes(" " + String(repeating: "0", count: 32))], configuration: configuration)
            == .invalidUsername("empty"))
        #expect(Self.serverFailure(.cramMD5, [[0xFF, 0x20] + bytes(String(repeating: "0", count: 32))], configuration: configuration)
            == .invalidUsername("not UTF-8"))
        #expect(Self.serverFailure(.cramMD5, [bytes("user " + String(repeating: "0", count: 32))], configuration: configuration)
            == .invalidCredentials)
        var server = SASLServer(mechanism: .cramMD5, configuration: configuration)
        #expect(server.start(initialResponse: bytes("user")) == .failure(.initialResponseNotAllowed, additionalData: nil))
        var tolerant = SASLServer(mechanism: .cramMD5, configuration: configuration, nonce: nonce("1.2"))
        #expect(tolerant.start(initialResponse: []) == .challenge(bytes("<1.2@mail.example.org>")))
    }

    // MARK: Client side: what a hostile or broken server sends

    static let serverFirstCases: [(String, String, SASLFailure)] = [
        ("empty", "", .malformed("server-first-message needs r=, s= and i=")),
        ("mext", "m=x,r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=4096", .mandatoryExtensionUnsupported),
        ("early error", "e=other-error", .serverRejected("other-error")),
        ("not r first", "s=QSXCR+Q6sek8bf92,r=cnoncesrv,i=4096", .malformed("server-first-message must start with r=")),
        ("foreign nonce", "r=othernonce,s=QSXCR+Q6sek8bf92,i=4096", .invalidServerNonce("does not start with the client nonce")),
        ("no server nonce", "r=cnonce,s=QSXCR+Q6sek8bf92,i=4096", .invalidServerNonce("server added no nonce of its own")),
        ("nonce with space", "r=cnonce x,s=QSXCR+Q6sek8bf92,i=4096", .invalidServerNonce("not 1...512 printable characters")),
        ("no salt", "r=cnoncesrv,x=QSXCR+Q6sek8bf92,i=4096", .malformed("s= must follow r=")),
        ("salt not base64", "r=cnoncesrv,s=QSXCR+Q6sek8bf9,i=4096", .invalidSalt("not base64")),
        ("empty salt", "r=cnoncesrv,s=,i=4096", .invalidSalt("0 octets (want 1...256)")),
        ("no count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,x=4096", .malformed("i= must follow s=")),
        ("zero count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=0", .malformed("i= is not a positive number")),
        ("signed count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=+4096", .malformed("i= is not a positive number")),
        ("low count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=4095", .iterationCountOutOfRange(4095)),
        ("high count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=1000001", .iterationCountOutOfRange(1_000_001)),
        ("huge count", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=99999999999999999999999", .iterationCountOutOfRange(Int.max)),
        ("bad extension", "r=cnoncesrv,s=QSXCR+Q6sek8bf92,i=4096,!", .malformed("invalid extension attribute in server-first-message")),
    ]

    @Test(arguments: serverFirstCases.indices)
    func clientServerFirst(_ index: Int) throws {
        let (name, message, expected) = Self.serverFirstCases[index]
        var client = try SASLClient(
            mechanism: .scramSHA256, credentials: SASLClientCredentials(username: "user", password: "pencil"),
            nonce: nonce("cnonce"))
        _ = client.start()
        #expect(client.receive(challenge: bytes(message)) == .failure(expected), "\(name)")
        #expect(client.isFinished)
    }

    @Test func clientServerFinal() throws {
        func client() throws -> SASLClient {
            var client = try SASLClient(
                mechanism: .scramSHA1, credentials: SASLClientCredentials(username: "user", password: "pencil"),
                nonce: nonce("fyko+d2lbbFgONRv9qkxdawL"))
            _ = client.start()
            _ = client.receive(challenge: bytes(RFCExampleTests.rfc5802ServerFirst))
            return client
        }
        let cases: [(String, SASLFailure)] = [
            ("", .malformed("server-final-message must start with v= or e=")),
            ("x=y", .malformed("server-final-message must start with v= or e=")),
            ("v=", .malformed("v= is not base64")),
            ("v=rmF9pqV8S7suAoZWja4dJRkFsKQ", .malformed("v= is not base64")),
            ("e=", .malformed("empty e=")),
            ("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=,1", .malformed("invalid extension attribute in server-final-message")),
            ("v=" + SASLBase64.encode(Array(repeating: 0, count: 20)), .serverSignatureMismatch),
            ("e=invalid-proof", .serverRejected("invalid-proof")),
            ("e=some-future-error,x=1", .serverRejected("some-future-error")),
        ]
        for (message, expected) in cases {
            var scram = try client()
            #expect(scram.receive(challenge: bytes(message)) == .failure(expected), "\(message)")
        }
        // Extensions after v= are ignored (RFC 5802 §7).
        var scram = try client()
        #expect(scram.receive(challenge: bytes(RFCExampleTests.rfc5802ServerFinal + ",x=ext")) == .respond([]))
        #expect(scram.receive(challenge: []) == .failure(.unexpectedMessage("challenge after the exchange completed")))
    }

    @Test func clientOtherMechanisms() throws {
        var cram = try SASLClient(mechanism: .cramMD5, credentials: SASLClientCredentials(username: "u", password: "p"))
        #expect(cram.receive(challenge: []) == .failure(.malformed("empty CRAM-MD5 challenge")))
        var login = try SASLClient(mechanism: .login, credentials: SASLClientCredentials(username: "u", password: "p"))
        _ = login.start()
        _ = login.receive(challenge: bytes("Username:"))
        _ = login.receive(challenge: bytes("Password:"))
        #expect(login.receive(challenge: bytes("What?")) == .failure(.unexpectedMessage("challenge after the exchange completed")))
        var plain = try SASLClient(mechanism: .plain, credentials: SASLClientCredentials(username: "u", password: "p"))
        _ = plain.start(initialResponseAllowed: false)
        #expect(plain.receive(challenge: bytes("hello")) == .failure(.unexpectedMessage("non-empty first challenge in a client-first mechanism")))
        var plain2 = try SASLClient(mechanism: .plain, credentials: SASLClientCredentials(username: "u", password: "p"))
        _ = plain2.start()
        #expect(plain2.receiveSuccess(additionalData: [1]) == .failure(.unexpectedMessage("additional data with success for PLAIN")))
        var big = try SASLClient(mechanism: .cramMD5, credentials: SASLClientCredentials(username: "u", password: "p"))
        #expect(big.receive(challenge: Array(repeating: 0x41, count: 4097)) == .failure(.messageTooLong(length: 4097, limit: 4096)))
    }

    @Test func clientCredentialsThatCannotBeUsed() {
        func failure(_ mechanism: SASLMechanism, _ username: String, _ password: String, authzid: String? = nil) -> SASLFailure? {
            do throws(SASLFailure) {
                _ = try SASLClient(
                    mechanism: mechanism,
                    credentials: SASLClientCredentials(username: username, password: password, authorizationIdentity: authzid))
                return nil
            } catch {
                return error
            }
        }
        #expect(failure(.plain, "u\u{0}x", "p") == .usernamePreparation("contains NUL"))
        #expect(failure(.plain, "u", "p\u{0}") == .passwordPreparation("contains NUL"))
        #expect(failure(.plain, "u", "p", authzid: "a\u{0}") == .invalidAuthorizationIdentity("contains NUL"))
        #expect(failure(.plain, "", "p") == .usernamePreparation("empty"))
        #expect(failure(.plain, "u", "") == .passwordPreparation("empty"))
        #expect(failure(.login, String(repeating: "u", count: 256), "p") == .usernamePreparation("longer than 255 octets"))
        #expect(failure(.login, "u", String(repeating: "p", count: 1025)) == .passwordPreparation("longer than 1024 octets"))
        #expect(failure(.scramSHA256, "u\u{7}", "p") == .usernamePreparation("disallowed code point U+7 (control)"))
        #expect(failure(.scramSHA256, "u", "p\u{AD}") == .passwordPreparation("disallowed code point U+AD (ignorable)"))
        #expect(failure(.scramSHA256, "u", "p", authzid: "\u{E000}")
            == .invalidAuthorizationIdentity("disallowed code point U+E000 (notInFreeformClass)"))
        #expect(failure(.scramSHA256, "u", "p", authzid: "") == nil)
    }
}
