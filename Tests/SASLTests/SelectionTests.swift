import Testing
@testable import SASL

@Suite struct SelectionTests {
    static let everything = ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"]

    @Test func strongestFirst() {
        let withBinding = SASLClientOptions(tlsActive: true, channelBinding: exporterBinding)
        #expect(SASLMechanism.select(advertised: Self.everything, options: withBinding) == .scramSHA256Plus)
        #expect(SASLMechanism.select(advertised: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS", "PLAIN"], options: withBinding) == .scramSHA1Plus)
        let noBinding = SASLClientOptions(tlsActive: true)
        #expect(SASLMechanism.select(advertised: Self.everything, options: noBinding) == .scramSHA256)
        #expect(SASLMechanism.select(advertised: ["PLAIN", "SCRAM-SHA-1", "LOGIN"], options: noBinding) == .scramSHA1)
        #expect(SASLMechanism.select(advertised: ["LOGIN", "PLAIN", "CRAM-MD5"], options: noBinding) == .cramMD5)
        #expect(SASLMechanism.select(advertised: ["LOGIN", "PLAIN"], options: noBinding) == .plain)
        #expect(SASLMechanism.select(advertised: ["LOGIN"], options: noBinding) == .login)
        #expect(SASLMechanism.select(advertised: ["SCRAM-SHA-256-PLUS"], options: noBinding) == nil)
    }

    @Test func plaintextOnlyUnderTLS() {
        let clear = SASLClientOptions(tlsActive: false)
        #expect(SASLMechanism.select(advertised: ["PLAIN", "LOGIN"], options: clear) == nil)
        #expect(SASLMechanism.select(advertised: ["PLAIN", "LOGIN", "CRAM-MD5"], options: clear) == .cramMD5)
        #expect(SASLMechanism.select(advertised: ["PLAIN", "SCRAM-SHA-256"], options: clear) == .scramSHA256)
        let allowed = SASLClientOptions(tlsActive: false, allowPlaintextWithoutTLS: true)
        #expect(SASLMechanism.select(advertised: ["LOGIN", "PLAIN"], options: allowed) == .plain)
    }

    @Test func configuredMechanism() {
        let configured = SASLClientOptions(tlsActive: true, mechanism: .plain)
        #expect(SASLMechanism.select(advertised: Self.everything, options: configured) == .plain)
        #expect(SASLMechanism.select(advertised: ["SCRAM-SHA-256"], options: configured) == nil)
        let configuredClear = SASLClientOptions(tlsActive: false, mechanism: .login)
        #expect(SASLMechanism.select(advertised: ["LOGIN"], options: configuredClear) == nil)
        let restricted = SASLClientOptions(tlsActive: true, allowedMechanisms: [.plain, .login])
        #expect(SASLMechanism.select(advertised: Self.everything, options: restricted) == .plain)
    }

    @Test func namesAreMatchedWithoutCase() {
        #expect(SASLMechanism(name: "scram-sha-1") == .scramSHA1)
        #expect(SASLMechanism(name: "Plain") == .plain)
        #expect(SASLMechanism(name: "SCRAM-SHA-512") == nil)
        #expect(SASLMechanism(name: "PLAİN") == nil)
        #expect(SASLMechanism(name: "") == nil)
        #expect(SASLMechanism(name: String(repeating: "A", count: 21)) == nil)
        #expect(SASLMechanism.select(advertised: ["xoauth2", "scram-sha-256", "GSSAPI"], options: SASLClientOptions(tlsActive: true))
            == .scramSHA256)
    }

    @Test func clientFromAdvertisedList() throws {
        let credentials = SASLClientCredentials(username: "user", password: "pencil")
        let plus = try SASLClient(
            advertised: Self.everything, credentials: credentials,
            options: SASLClientOptions(tlsActive: true, channelBinding: exporterBinding))
        #expect(plus.mechanism == .scramSHA256Plus)
        // The server offered -PLUS, the client has a binding but is limited to plain
        // SCRAM: it says "n", not "y".
        var limited = try SASLClient(
            advertised: Self.everything, credentials: credentials,
            options: SASLClientOptions(tlsActive: true, channelBinding: exporterBinding, allowedMechanisms: [.scramSHA1]),
            nonce: nonce("abc"))
        #expect(limited.start().map(text) == "n,,n=user,r=abc")
        // -PLUS stripped from the list: "y".
        var stripped = try SASLClient(
            advertised: ["SCRAM-SHA-1"], credentials: credentials,
            options: SASLClientOptions(tlsActive: true, channelBinding: exporterBinding), nonce: nonce("abc"))
        #expect(stripped.start().map(text) == "y,,n=user,r=abc")
        #expect(throws: SASLFailure.noAcceptableMechanism) {
            _ = try SASLClient(advertised: ["PLAIN"], credentials: credentials, options: SASLClientOptions(tlsActive: false))
        }
    }

    @Test func serverAdvertisement() {
        #expect(serverConfiguration(tls: false).advertisedMechanisms == [.scramSHA256, .scramSHA1, .cramMD5])
        #expect(serverConfiguration(tls: true).advertisedMechanisms == [.scramSHA256, .scramSHA1, .cramMD5, .plain, .login])
        #expect(serverConfiguration(tls: true, bindings: [exporterBinding]).advertisedMechanisms
            == [.scramSHA256Plus, .scramSHA1Plus, .scramSHA256, .scramSHA1, .cramMD5, .plain, .login])
        let defaults = SASLServerConfiguration(serverSecret: testSecret, hostname: "h", tlsActive: true)
        #expect(defaults.advertisedMechanisms == [.scramSHA256, .scramSHA1, .plain, .login])
        #expect(defaults.availability(of: .cramMD5) == .notEnabled)
        #expect(defaults.availability(of: .scramSHA256Plus) == .requiresChannelBinding)
        #expect(!defaults.offersChannelBinding)
        let clear = SASLServerConfiguration(serverSecret: testSecret, hostname: "h", tlsActive: false)
        #expect(clear.availability(of: .plain) == .requiresTLS)
        let allowed = SASLServerConfiguration(serverSecret: testSecret, hostname: "h", tlsActive: false, allowPlaintextWithoutTLS: true)
        #expect(allowed.availability(of: .login) == .available)
    }

    @Test func mechanismProperties() {
        #expect(SASLMechanism.allCases.map(\.name)
            == ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", "PLAIN", "LOGIN"])
        #expect(SASLMechanism.scramSHA1Plus.withoutChannelBinding == .scramSHA1)
        #expect(SASLMechanism.plain.withoutChannelBinding == .plain)
        #expect(SCRAMHash.sha256.mechanism(channelBinding: true) == .scramSHA256Plus)
        #expect(SASLMechanism.cramMD5.isClientFirst == false)
        #expect(SASLMechanism.scramSHA256.scramHash == .sha256)
        #expect(SASLFailure.invalidCredentials.isCredentialFailure)
        #expect(!SASLFailure.malformed("x").isCredentialFailure)
        #expect(SASLFailure.unknownUser.scramServerError == SASLFailure.invalidCredentials.scramServerError)
        #expect(SASLLimits.maxEncodedMessageLength == 5464)
        let credentials = SASLClientCredentials(username: "u", password: "hunter2")
        #expect(!credentials.description.contains("hunter2"))
    }
}
