@testable import SASL

/// Octets of an ASCII/UTF-8 string, for writing protocol messages in tests.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func text(_ octets: [UInt8]) -> String { String(decoding: octets, as: UTF8.self) }


func nonce(_ value: String) -> SASLNonce {
    guard let nonce = SASLNonce(value) else { preconditionFailure("test nonce \(value) is invalid") }
    return nonce
}

let testSecret = bytes("0123456789abcdef0123456789abcdef")
let exporterBinding = ChannelBinding(type: "tls-exporter", data: Array(repeating: 0xA5, count: 32))
let otherExporterBinding = ChannelBinding(type: "tls-exporter", data: Array(repeating: 0x5A, count: 32))

func serverConfiguration(
    tls: Bool = true, bindings: [ChannelBinding] = [], enabled: Set<SASLMechanism> = Set(SASLMechanism.allCases),
    additionalDataWithSuccess: Bool = false
) -> SASLServerConfiguration {
    SASLServerConfiguration(
        serverSecret: testSecret, hostname: "mail.example.org", tlsActive: tls, channelBindings: bindings,
        enabledMechanisms: enabled, additionalDataWithSuccess: additionalDataWithSuccess,
        placeholderIterations: SCRAMCredentials.minimumIterations)
}

/// Credentials for "user"/"pencil" at the minimum iteration count (fast in debug builds),
/// derived once.
let pencilCredentials: SASLStoredCredentials = {
    do {
        return SASLStoredCredentials(
            scramSHA1: try SCRAMCredentials.derive(
                password: "pencil", salt: bytes("salt-for-sha1-16"), iterations: 4096, hash: .sha1),
            scramSHA256: try SCRAMCredentials.derive(
                password: "pencil", salt: bytes("salt-for-sha-256"), iterations: 4096, hash: .sha256),
            cramMD5: CRAMMD5Key(password: "pencil"))
    } catch {
        preconditionFailure("\(error)")
    }
}()

/// The result of driving a client and a server against each other.
struct Exchange {
    /// Every message, in order: ("C", octets) or ("S", octets).
    var transcript: [(String, [UInt8])] = []
    var serverResult: SASLServerAction?
    var clientResult: SASLClientAction?
    var requests: [SASLCredentialRequest] = []

    var serverFailure: SASLFailure? {
        if case let .failure(reason, _) = serverResult { return reason }
        return nil
    }

    var serverFailureData: [UInt8]? {
        if case let .failure(_, data) = serverResult { return data }
        return nil
    }

    var authentication: SASLAuthentication? {
        if case let .success(auth) = serverResult { return auth }
        return nil
    }

    var clientFailure: SASLFailure? {
        if case let .failure(reason) = clientResult { return reason }
        return nil
    }

    var succeeded: Bool { authentication != nil && clientResult == .success }
}

/// Runs `client` against `server`, answering credential requests from `store`, the way a
/// protocol adapter would. `tamper` may rewrite each server message before the client
/// sees it (a man in the middle, or a server that does not know the keys).
func run(
    _ client: inout SASLClient, _ server: inout SASLServer, store: [String: SASLStoredCredentials],
    initialResponseAllowed: Bool = true, tamper: ([UInt8]) -> [UInt8] = { $0 }
) -> Exchange {
    var exchange = Exchange()
    let initial = client.start(initialResponseAllowed: initialResponseAllowed)
    if let initial { exchange.transcript.append(("C", initial)) }
    var action = server.start(initialResponse: initial)
    for _ in 0..<20 {
        switch action {
        case let .needCredentials(request):
            exchange.requests.append(request)
            action = server.provide(store[request.username].map { .found($0) } ?? .unknownUser)
        case let .challenge(challenge):
            let seen = tamper(challenge)
            exchange.transcript.append(("S", seen))
            let reply = client.receive(challenge: seen)
            guard case let .respond(response) = reply else {
                exchange.clientResult = reply
                return exchange
            }
            exchange.transcript.append(("C", response))
            action = server.receive(response)
        case let .success(auth):
            exchange.serverResult = action
            exchange.clientResult = client.receiveSuccess(additionalData: auth.additionalData.map(tamper))
            return exchange
        case .failure:
            exchange.serverResult = action
            return exchange
        }
    }
    return exchange
}

/// A client and server pair for one mechanism with the usual test settings.
func pair(
    _ mechanism: SASLMechanism, username: String = "user", password: String = "pencil", authzid: String? = nil,
    clientBinding: ChannelBinding? = nil, serverOffersChannelBinding: Bool = false,
    configuration: SASLServerConfiguration = serverConfiguration()
) throws -> (SASLClient, SASLServer) {
    let client = try SASLClient(
        mechanism: mechanism,
        credentials: SASLClientCredentials(username: username, password: password, authorizationIdentity: authzid),
        channelBinding: clientBinding, serverOffersChannelBinding: serverOffersChannelBinding,
        nonce: nonce("clientnonce0123456789"))
    let server = SASLServer(mechanism: mechanism, configuration: configuration, nonce: nonce("servernonce9876543210"))
    return (client, server)
}
