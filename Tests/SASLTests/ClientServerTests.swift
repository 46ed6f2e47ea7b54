import Testing
@testable import SASL

/// Every mechanism's client against its server.
@Suite struct ClientServerTests {
    static let store = ["user": pencilCredentials]
    static let nonPlus: [SASLMechanism] = [.scramSHA256, .scramSHA1, .cramMD5, .plain, .login]

    @Test(arguments: nonPlus)
    func succeeds(_ mechanism: SASLMechanism) throws {
        var (client, server) = try pair(mechanism)
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded, "\(exchange.serverResult as Any) \(exchange.clientResult as Any)")
        #expect(exchange.authentication?.authenticationIdentity == "user")
        #expect(exchange.authentication?.mechanism == mechanism)
        #expect(exchange.authentication?.channelBindingType == nil)
        #expect(client.isFinished && server.isFinished)
    }

    @Test(arguments: [SASLMechanism.plain, .scramSHA256, .scramSHA1])
    func succeedsWithoutInitialResponse(_ mechanism: SASLMechanism) throws {
        // IMAP without SASL-IR: the server's empty challenge asks for the client's first
        // message (RFC 4422 §5 item 2b).
        var (client, server) = try pair(mechanism)
        let exchange = run(&client, &server, store: Self.store, initialResponseAllowed: false)
        #expect(exchange.succeeded)
        #expect(exchange.transcript.first.map { $0.0 == "S" && $0.1.isEmpty } == true)
    }

    @Test(arguments: [SASLMechanism.plain, .scramSHA256, .scramSHA1Plus])
    func authorizationIdentityIsCarried(_ mechanism: SASLMechanism) throws {
        var (client, server) = try pair(
            mechanism, authzid: "admin,=x", clientBinding: exporterBinding, serverOffersChannelBinding: true,
            configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded)
        #expect(exchange.authentication?.authorizationIdentity == "admin,=x")
        #expect(exchange.authentication?.effectiveIdentity == "admin,=x")
        if mechanism.scramHash != nil {
            // RFC 5802 §5.1: "," and "=" are escaped in a=.
            #expect(text(exchange.transcript[0].1).hasPrefix(mechanism.usesChannelBinding
                ? "p=tls-exporter,a=admin=2C=3Dx,n=user," : "n,a=admin=2C=3Dx,n=user,"))
        }
    }

    @Test func scramUsernameWithCommaAndEqualsIsEscaped() throws {
        let credentials = SASLStoredCredentials(scramSHA256: try SCRAMCredentials.derive(
            password: "pw", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha256))
        var (client, server) = try pair(.scramSHA256, username: "a,b=c", password: "pw")
        let exchange = run(&client, &server, store: ["a,b=c": credentials])
        #expect(exchange.succeeded)
        #expect(text(exchange.transcript[0].1) == "n,,n=a=2Cb=3Dc,r=clientnonce0123456789")
    }

    @Test func usernamesAndPasswordsArePrepared() throws {
        // The client types a decomposed é and a no-break space; SASLprep (OpaqueString)
        // maps both to the stored form on each side.
        let credentials = SASLStoredCredentials(scramSHA256: try SCRAMCredentials.derive(
            password: "caf\u{E9} au lait", salt: bytes("0123456789abcdef"), iterations: 4096, hash: .sha256))
        for mechanism in [SASLMechanism.scramSHA256, .plain] {
            var (client, server) = try pair(mechanism, username: "Jos\u{65}\u{301}", password: "cafe\u{301}\u{A0}au lait")
            let exchange = run(&client, &server, store: ["Jos\u{E9}": credentials])
            #expect(exchange.succeeded, "\(mechanism)")
            #expect(exchange.requests.first?.username == "Jos\u{E9}")
        }
    }

    // MARK: Channel binding (RFC 5802 §6)

    @Test(arguments: [SASLMechanism.scramSHA256Plus, .scramSHA1Plus])
    func plusWithMatchingBinding(_ mechanism: SASLMechanism) throws {
        var (client, server) = try pair(
            mechanism, clientBinding: exporterBinding, serverOffersChannelBinding: true,
            configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded)
        #expect(exchange.authentication?.channelBindingType == "tls-exporter")
        #expect(text(exchange.transcript[0].1).hasPrefix("p=tls-exporter,,n=user,r="))
        // c= carries the GS2 header and the binding data (RFC 5802 §5.1).
        let expected = "c=" + SASLBase64.encode(bytes("p=tls-exporter,,") + exporterBinding.data) + ","
        #expect(text(exchange.transcript[2].1).hasPrefix(expected))
    }

    @Test(arguments: [SASLMechanism.scramSHA256Plus, .scramSHA1Plus])
    func plusWithMismatchingBinding(_ mechanism: SASLMechanism) throws {
        // A man in the middle terminates TLS on both sides: the client's channel is not
        // the server's.
        var (client, server) = try pair(
            mechanism, clientBinding: otherExporterBinding, serverOffersChannelBinding: true,
            configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.serverFailure == .channelBindingMismatch)
        #expect(exchange.serverFailureData == bytes("e=channel-bindings-dont-match"))
        #expect(exchange.clientResult == nil)
    }

    @Test func plusWithBindingTypeTheServerLacks() throws {
        var (client, server) = try pair(
            .scramSHA256Plus, clientBinding: ChannelBinding.tlsUnique(Array(repeating: 1, count: 12)),
            serverOffersChannelBinding: true, configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.serverFailure == .unsupportedChannelBindingType("tls-unique"))
    }

    @Test func serverPicksTheBindingTypeTheClientNames() throws {
        let unique = ChannelBinding.tlsUnique(Array(repeating: 7, count: 12))
        var (client, server) = try pair(
            .scramSHA256Plus, clientBinding: unique, serverOffersChannelBinding: true,
            configuration: serverConfiguration(bindings: [exporterBinding, unique]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded)
        #expect(exchange.authentication?.channelBindingType == "tls-unique")
    }

    @Test func downgradeIsDetected() throws {
        // The server offers -PLUS, but someone removed it from the list the client saw:
        // the client, which has a binding, picks SCRAM-SHA-256 and says "y".
        var (client, server) = try pair(
            .scramSHA256, clientBinding: exporterBinding, serverOffersChannelBinding: false,
            configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(text(exchange.transcript[0].1).hasPrefix("y,,"))
        #expect(exchange.serverFailure == .downgradeDetected)
        #expect(exchange.serverFailure?.scramServerError == "server-does-support-channel-binding")
    }

    @Test func yFlagIsFineWhenTheServerHasNoBinding() throws {
        var (client, server) = try pair(
            .scramSHA256, clientBinding: exporterBinding, serverOffersChannelBinding: false,
            configuration: serverConfiguration(bindings: []))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded)
        // c= is base64("y,,") (RFC 5802 §5.1).
        #expect(text(exchange.transcript[2].1).hasPrefix("c=eSws,"))
    }

    @Test func clientThatSawPlusButChoseNonPlusSaysN() throws {
        var (client, server) = try pair(
            .scramSHA256, clientBinding: exporterBinding, serverOffersChannelBinding: true,
            configuration: serverConfiguration(bindings: [exporterBinding]))
        let exchange = run(&client, &server, store: Self.store)
        #expect(text(exchange.transcript[0].1).hasPrefix("n,,"))
        #expect(exchange.succeeded)
    }

    @Test func plusMechanismWithoutBindingFlag() {
        var server = SASLServer(mechanism: .scramSHA256Plus, configuration: serverConfiguration(bindings: [exporterBinding]))
        #expect(server.start(initialResponse: bytes("n,,n=user,r=abc")) == .failure(.channelBindingRequired, additionalData: nil))
        var server2 = SASLServer(mechanism: .scramSHA256Plus, configuration: serverConfiguration(bindings: [exporterBinding]))
        #expect(server2.start(initialResponse: bytes("y,,n=user,r=abc")) == .failure(.channelBindingRequired, additionalData: nil))
    }

    @Test func bindingFlagWithNonPlusMechanism() {
        var server = SASLServer(mechanism: .scramSHA256, configuration: serverConfiguration(bindings: [exporterBinding]))
        #expect(server.start(initialResponse: bytes("p=tls-exporter,,n=user,r=abc"))
            == .failure(.channelBindingNotAllowed, additionalData: nil))
        var server2 = SASLServer(mechanism: .scramSHA256, configuration: serverConfiguration(bindings: []))
        #expect(server2.start(initialResponse: bytes("p=tls-exporter,,n=user,r=abc"))
            == .failure(.channelBindingNotSupported, additionalData: nil))
    }

    @Test func plusIsUnavailableWithoutBinding() {
        var server = SASLServer(mechanism: .scramSHA256Plus, configuration: serverConfiguration(bindings: []))
        #expect(server.start(initialResponse: nil)
            == .failure(.mechanismUnavailable(.scramSHA256Plus, .requiresChannelBinding), additionalData: nil))
        #expect(throws: SASLFailure.channelBindingUnavailable) {
            _ = try SASLClient(mechanism: .scramSHA1Plus, credentials: SASLClientCredentials(username: "u", password: "p"))
        }
    }

    @Test func badBindingDataFromTheTLSLayerIsNotOffered() {
        let bad = ChannelBinding(type: "tls exporter", data: [1])
        let configuration = serverConfiguration(bindings: [bad])
        #expect(!configuration.offersChannelBinding)
        #expect(configuration.availability(of: .scramSHA256Plus) == .requiresChannelBinding)
        #expect(!ChannelBinding(type: "tls-exporter", data: []).isWellFormed)
        #expect(!ChannelBinding(type: "tls-exporter", data: Array(repeating: 0, count: 129)).isWellFormed)
    }

    // MARK: Wrong passwords, unknown users

    @Test(arguments: nonPlus)
    func wrongPassword(_ mechanism: SASLMechanism) throws {
        var (client, server) = try pair(mechanism, password: "pencil2")
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.serverFailure == .invalidCredentials)
        #expect(exchange.serverFailure?.isCredentialFailure == true)
        #expect(exchange.authentication == nil)
        if mechanism.scramHash != nil {
            #expect(exchange.serverFailureData == bytes("e=invalid-proof"))
        }
    }

    @Test(arguments: nonPlus)
    func unknownUser(_ mechanism: SASLMechanism) throws {
        var (client, server) = try pair(mechanism, username: "nobody")
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.serverFailure == .unknownUser)
        #expect(exchange.serverFailure?.isCredentialFailure == true)
        #expect(server.username == "nobody")
    }

    @Test(arguments: [SASLMechanism.scramSHA256, .scramSHA1])
    func unknownUserLooksLikeWrongPassword(_ mechanism: SASLMechanism) throws {
        var (client1, server1) = try pair(mechanism, username: "user", password: "wrong")
        let wrong = run(&client1, &server1, store: Self.store)
        var (client2, server2) = try pair(mechanism, username: "nobody", password: "wrong")
        let unknown = run(&client2, &server2, store: Self.store)

        // Same number and shape of messages, same final error.
        #expect(wrong.transcript.count == unknown.transcript.count)
        #expect(wrong.transcript.map(\.0) == unknown.transcript.map(\.0))
        let wrongFirst = try #require(wrong.transcript.first { $0.0 == "S" }).1
        let unknownFirst = try #require(unknown.transcript.first { $0.0 == "S" }).1
        let wrongAttributes = text(wrongFirst).split(separator: ",").map { $0.prefix(2) }
        let unknownAttributes = text(unknownFirst).split(separator: ",").map { $0.prefix(2) }
        #expect(wrongAttributes == unknownAttributes)
        #expect(text(wrongFirst).split(separator: ",").last == text(unknownFirst).split(separator: ",").last)  // i=4096
        let wrongSalt = SASLBase64.decode(text(wrongFirst).split(separator: ",")[1].dropFirst(2))
        let unknownSalt = SASLBase64.decode(text(unknownFirst).split(separator: ",")[1].dropFirst(2))
        #expect(wrongSalt?.count == unknownSalt?.count)
        #expect(wrong.serverFailureData == unknown.serverFailureData)
        #expect(unknown.serverFailureData == bytes("e=invalid-proof"))
        #expect(wrong.serverFailure == .invalidCredentials)
        #expect(unknown.serverFailure == .unknownUser)
    }

    @Test func unknownUserSaltIsStablePerNameAndSecret() throws {
        func salt(_ name: String, secret: [UInt8] = testSecret) throws -> String {
            var configuration = serverConfiguration()
            configuration.serverSecret = secret
            var server = SASLServer(mechanism: .scramSHA256, configuration: configuration)
            _ = server.start(initialResponse: bytes("n,,n=\(name),r=abc"))
            guard case let .challenge(serverFirst) = server.provide(.unknownUser) else { return "" }
            return String(text(serverFirst).split(separator: ",")[1])
        }
        #expect(try salt("ghost") == salt("ghost"))
        #expect(try salt("ghost") != salt("ghost2"))
        #expect(try salt("ghost") != salt("ghost", secret: bytes("another secret")))
    }

    @Test func knownUserWithoutCredentialsForTheMechanism() throws {
        let onlySHA1 = SASLStoredCredentials(scramSHA1: pencilCredentials.scramSHA1)
        for mechanism in [SASLMechanism.scramSHA256, .cramMD5] {
            var (client, server) = try pair(mechanism)
            let exchange = run(&client, &server, store: ["user": onlySHA1])
            #expect(exchange.serverFailure == .credentialsUnavailable, "\(mechanism)")
            if mechanism == .scramSHA256 {
                #expect(exchange.serverFailureData == bytes("e=invalid-proof"))
            }
        }
        // PLAIN falls back to the SHA-1 credentials.
        var (client, server) = try pair(.plain)
        #expect(run(&client, &server, store: ["user": onlySHA1]).succeeded)
        var (client2, server2) = try pair(.plain)
        #expect(run(&client2, &server2, store: ["user": SASLStoredCredentials()]).serverFailure == .credentialsUnavailable)
    }

    @Test func unusableStoredCredentialsAreTreatedAsMissing() throws {
        var broken = try #require(pencilCredentials.scramSHA256)
        broken.storedKey = [1, 2, 3]
        var (client, server) = try pair(.scramSHA256)
        let exchange = run(&client, &server, store: ["user": SASLStoredCredentials(scramSHA256: broken)])
        #expect(exchange.serverFailure == .credentialsUnavailable)
    }

    // MARK: Mutual authentication

    @Test func clientRejectsServerThatDoesNotKnowServerKey() throws {
        // A server holding a stolen StoredKey accepts the proof but cannot sign: the
        // client must not accept it (RFC 5802 §5).
        var impostor = try #require(pencilCredentials.scramSHA256)
        impostor.serverKey = Array(repeating: 0, count: 32)
        var (client, server) = try pair(.scramSHA256)
        let exchange = run(&client, &server, store: ["user": SASLStoredCredentials(scramSHA256: impostor)])
        #expect(exchange.clientResult == .failure(.serverSignatureMismatch))
        #expect(client.isFinished)
    }

    @Test func clientRejectsTamperedSignatureInOutcome() throws {
        var (client, server) = try pair(.scramSHA1, configuration: serverConfiguration(additionalDataWithSuccess: true))
        let exchange = run(&client, &server, store: Self.store) { message in
            text(message).hasPrefix("v=") ? bytes("v=" + SASLBase64.encode(Array(repeating: 9, count: 20))) : message
        }
        #expect(exchange.authentication != nil)
        #expect(exchange.clientResult == .failure(.serverSignatureMismatch))
    }

    @Test func clientAcceptsSignatureInOutcome() throws {
        var (client, server) = try pair(.scramSHA256, configuration: serverConfiguration(additionalDataWithSuccess: true))
        let exchange = run(&client, &server, store: Self.store)
        #expect(exchange.succeeded)
        #expect(exchange.transcript.count == 3)
    }

    @Test func clientRejectsSuccessWithoutSignature() throws {
        var (client, _) = try pair(.scramSHA256)
        _ = client.start()
        #expect(client.receiveSuccess() == .failure(.serverSignatureMissing))
        var (client2, _) = try pair(.scramSHA256)
        _ = client2.start()
        _ = client2.receive(challenge: bytes("r=clientnonce0123456789xyz,s=QSXCR+Q6sek8bf92,i=4096"))
        #expect(client2.receiveSuccess() == .failure(.serverSignatureMissing))
    }

    @Test func clientReportsServerError() throws {
        var (client, _) = try pair(.scramSHA256)
        _ = client.start()
        _ = client.receive(challenge: bytes("r=clientnonce0123456789xyz,s=QSXCR+Q6sek8bf92,i=4096"))
        #expect(client.receive(challenge: bytes("e=invalid-proof")) == .failure(.serverRejected("invalid-proof")))
    }
}
