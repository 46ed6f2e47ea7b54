import ACME
import Certificates
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import SwiftASN1
import X509

/// An in-process ACME CA over HTTPS on loopback, strict about what RFC 8555 asks of clients
/// (every JWS checked: ES256 signature, alg, one-time nonce, url, jwk only for newAccount,
/// kid otherwise) and scriptable: bad nonces, authorizations that stay pending, validations
/// that fail, orders that go invalid. "Validation" looks the challenge certificate up in the
/// test's publisher and checks its acmeIdentifier digest, as a CA would over TLS.
final class FakeACMEServer: Sendable {
    struct Behavior: Sendable {
        /// The next this many POSTs with a good nonce are refused with badNonce anyway.
        var badNonces = 0
        /// Authorization polls answered "pending" after the challenge was accepted.
        var pendingPolls = 0
        /// Retry-After on pending answers.
        var retryAfter: Int? = nil
        /// Order polls answered "processing" after finalize.
        var processingPolls = 0
        /// Authorizations stay pending forever.
        var neverValidate = false
        /// The order becomes invalid once its authorizations are valid.
        var invalidOrder = false
        /// Challenge types offered.
        var challengeTypes = ["http-01", "tls-alpn-01", "dns-01"]
        /// Leaf validity in seconds.
        var validity: TimeInterval = 90 * 24 * 3600
    }

    struct State {
        var behavior: Behavior
        var nonces: Set<String> = []
        var nextNonce = 0
        var accounts: [String: P256.Signing.PublicKey] = [:]
        var accountThumbprints: [String: String] = [:]
        var order: [String: OrderState] = [:]
        var authorizations: [String: AuthorizationState] = [:]
        var log: [String] = []
        var certificates: [String: String] = [:]
        var issued = 0
    }

    struct OrderState {
        var names: [String]
        var account: String
        var status: String = "pending"
        var processingLeft = 0
        var certificate: String?
    }

    struct AuthorizationState {
        var name: String
        var token: String
        var status: String = "pending"
        var challengeStatus: String = "pending"
        var pendingLeft = 0
        var error: ACMEProblem?
    }

    let port: Int
    private let channel: any Channel
    let state: Mutex<State>
    /// The server's HTTPS certificate, to be trusted by the client under test.
    let tlsCertificatePEM: String
    let caKey = P256.Signing.PrivateKey()
    let caCertificate: Certificate
    let lookup: @Sendable (String) -> ChallengeCertificate?
    let now: @Sendable () -> Date

    var base: String { "https://localhost:\(port)" }
    var directoryURL: String { base + "/dir" }
    var log: [String] { state.withLock { $0.log } }

    init(
        behavior: Behavior = Behavior(), now: @escaping @Sendable () -> Date = { Date() },
        lookup: @escaping @Sendable (String) -> ChallengeCertificate?
    ) async throws {
        let tls = try SelfSignedCertificate(hostnames: ["localhost"])
        tlsCertificatePEM = tls.certificatePEM
        let caName = try DistinguishedName { CommonName("Fake ACME CA") }
        caCertificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
            notValidBefore: now().addingTimeInterval(-3600), notValidAfter: now().addingTimeInterval(3650 * 24 * 3600),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(caKey))
        state = Mutex(State(behavior: behavior))
        self.lookup = lookup
        self.now = now
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: tls.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: tls.privateKeyDER, format: .der)))
        let sslContext = try NIOSSLContext(configuration: configuration)
        let box = ServerBox()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(HTTPHandler(route: { box.server?.handle($0) ?? .init(status: 503) }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.set(self)
    }

    func stop() async {
        try? await channel.close()
    }

    func update(_ change: (inout Behavior) -> Void) {
        state.withLock { change(&$0.behavior) }
    }

    // MARK: Routing

    struct Request: Sendable {
        var method: HTTPMethod
        var path: String
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
    }

    func handle(_ request: Request) -> Response {
        state.withLock { state in
            var response = route(request, &state)
            // RFC 8555 §6.5.1: on every response to a POST, and from newNonce (§7.2).
            if request.method == .POST || request.method == .HEAD {
                state.nextNonce += 1
                let nonce = Base64URL.encode(Array("nonce-\(state.nextNonce)".utf8))
                state.nonces.insert(nonce)
                response.headers.append(("Replay-Nonce", nonce))
            }
            response.headers.append(("Cache-Control", "no-store"))
            return response
        }
    }

    private func route(_ request: Request, _ state: inout State) -> Response {
        state.log.append("\(request.method.rawValue) \(request.path)")
        if request.method == .GET && request.path == "/dir" {
            return json([
                "newNonce": base + "/nonce", "newAccount": base + "/account", "newOrder": base + "/order",
                "meta": ["termsOfService": base + "/terms"],
            ])
        }
        if request.method == .HEAD && request.path == "/nonce" { return Response(status: 200) }
        guard request.method == .POST else { return problem("malformed", "method \(request.method.rawValue)", status: 405) }
        guard request.headers.first(name: "Content-Type") == "application/jose+json" else {
            return problem("malformed", "Content-Type must be application/jose+json", status: 415)
        }
        let verified: (account: String?, payload: [UInt8], key: P256.Signing.PublicKey)
        switch verify(request, &state) {
        case let .failure(response): return response
        case let .success(value): verified = value
        }
        if state.behavior.badNonces > 0 {
            state.behavior.badNonces -= 1
            return problem("badNonce", "nonce rejected for testing")
        }
        let path = request.path
        if path == "/account" {
            let thumbprint = JWK(verified.key).thumbprint
            if let existing = state.accountThumbprints.first(where: { $0.value == thumbprint })?.key {
                return json(["status": "valid"], status: 200, headers: [("Location", existing)])
            }
            let payload = (try? JSONSerialization.jsonObject(with: Data(verified.payload))) as? [String: Any] ?? [:]
            guard payload["termsOfServiceAgreed"] as? Bool == true else {
                return problem("userActionRequired", "agree to the terms")
            }
            let url = base + "/acct/\(state.accounts.count + 1)"
            state.accounts[url] = verified.key
            state.accountThumbprints[url] = thumbprint
            return json(["status": "valid", "contact": payload["contact"] ?? []], status: 201, headers: [("Location", url)])
        }
        guard let account = verified.account else { return problem("malformed", "kid required") }
        if path == "/order" {
            let payload = (try? JSONSerialization.jsonObject(with: Data(verified.payload))) as? [String: Any] ?? [:]
            let identifiers = payload["identifiers"] as? [[String: String]] ?? []
            let names = identifiers.compactMap { $0["type"] == "dns" ? $0["value"] : nil }
            guard !names.isEmpty else { return problem("malformed", "no identifiers") }
            let id = "\(state.order.count + 1)"
            state.order[id] = OrderState(names: names, account: account)
            for name in names where state.authorizations[name] == nil {
                let token = Base64URL.encode(Array(SHA256.hash(data: Array("token-\(name)".utf8))))
                state.authorizations[name] = AuthorizationState(name: name, token: token)
            }
            return json(orderJSON(id, state), status: 201, headers: [("Location", base + "/order/\(id)")])
        }
        if path.hasPrefix("/authz/"), let name = path.split(separator: "/").last.map(String.init), var authz = state.authorizations[name] {
            guard verified.payload.isEmpty else { return problem("malformed", "POST-as-GET with a payload") }
            var headers: [(String, String)] = []
            if authz.status == "pending", authz.challengeStatus == "processing" {
                if state.behavior.neverValidate {
                    // stays pending
                } else if authz.pendingLeft > 0 {
                    authz.pendingLeft -= 1
                } else {
                    validate(&authz, account: account, state)
                }
            }
            if authz.status == "pending", let retry = state.behavior.retryAfter { headers.append(("Retry-After", "\(retry)")) }
            state.authorizations[name] = authz
            return json(authorizationJSON(authz, state), headers: headers)
        }
        if path.hasPrefix("/chall/"), let name = path.split(separator: "/").last.map(String.init), var authz = state.authorizations[name] {
            guard String(decoding: verified.payload, as: UTF8.self) == "{}" else { return problem("malformed", "challenge response must be {}") }
            authz.challengeStatus = "processing"
            authz.pendingLeft = state.behavior.pendingPolls
            state.authorizations[name] = authz
            return json(["type": "tls-alpn-01", "url": base + "/chall/\(name)", "status": "processing", "token": authz.token])
        }
        let parts = path.split(separator: "/").map(String.init)
        if parts.count >= 2, parts[0] == "order", var order = state.order[parts[1]] {
            let id = parts[1]
            if parts.count == 3, parts[2] == "finalize" {
                guard order.status == "ready" else { return problem("orderNotReady", "order is \(order.status)", status: 403) }
                let payload = (try? JSONSerialization.jsonObject(with: Data(verified.payload))) as? [String: String] ?? [:]
                guard let csrText = payload["csr"], let der = Base64URL.decode(csrText),
                    let csr = try? CertificateSigningRequest(derEncoded: der), csr.publicKey.isValidSignature(csr.signature, for: csr)
                else { return problem("badCSR", "unparseable CSR") }
                let requested = Set(
                    ((try? csr.attributes.extensionRequest?.extensions.subjectAlternativeNames) ?? nil)?.compactMap { name -> String? in
                        if case let .dnsName(dns) = name { return dns }
                        return nil
                    } ?? [])
                guard requested == Set(order.names) else { return problem("badCSR", "CSR names \(requested.sorted()) differ from the order's") }
                guard let pem = issue(csr: csr, names: order.names, &state) else { return problem("serverInternal", "issuance failed", status: 500) }
                state.certificates[id] = pem
                order.processingLeft = state.behavior.processingPolls
                order.status = order.processingLeft > 0 ? "processing" : "valid"
                if order.status == "valid" { order.certificate = base + "/cert/\(id)" }
                state.order[id] = order
                var headers: [(String, String)] = []
                if order.status == "processing", let retry = state.behavior.retryAfter { headers.append(("Retry-After", "\(retry)")) }
                return json(orderJSON(id, state), headers: headers)
            }
            guard verified.payload.isEmpty else { return problem("malformed", "POST-as-GET with a payload") }
            if order.status == "pending" {
                let statuses = order.names.map { state.authorizations[$0]?.status ?? "pending" }
                if statuses.allSatisfy({ $0 == "valid" }) {
                    order.status = state.behavior.invalidOrder ? "invalid" : "ready"
                } else if statuses.contains("invalid") {
                    order.status = "invalid"
                }
            } else if order.status == "processing" {
                if order.processingLeft > 0 { order.processingLeft -= 1 }
                if order.processingLeft == 0 {
                    order.status = "valid"
                    order.certificate = base + "/cert/\(id)"
                }
            }
            state.order[id] = order
            var headers: [(String, String)] = []
            if order.status == "processing", let retry = state.behavior.retryAfter { headers.append(("Retry-After", "\(retry)")) }
            return json(orderJSON(id, state), headers: headers)
        }
        if parts.count == 2, parts[0] == "cert", let pem = state.certificates[parts[1]] {
            guard request.headers.first(name: "Accept") == "application/pem-certificate-chain" else {
                return problem("malformed", "Accept application/pem-certificate-chain", status: 406)
            }
            return Response(status: 200, headers: [("Content-Type", "application/pem-certificate-chain")], body: Array(pem.utf8))
        }
        return problem("malformed", "no such resource \(path)", status: 404)
    }

    /// RFC 8737 §3 steps 1 and 4, against the publisher instead of over TLS.
    private func validate(_ authz: inout AuthorizationState, account: String, _ state: State) {
        let expected = Array(SHA256.hash(data: Array("\(authz.token).\(state.accountThumbprints[account] ?? "")".utf8)))
        var failure: String?
        if let published = lookup(authz.name), let certificate = try? Certificate(derEncoded: published.certificateDER) {
            let names = (try? certificate.extensions.subjectAlternativeNames).flatMap { $0 }.map { Array($0) } ?? []
            let acme = certificate.extensions.first { $0.oid == [1, 3, 6, 1, 5, 5, 7, 1, 31] }
            if names != [.dnsName(authz.name)] {
                failure = "SAN is \(names)"
            } else if acme?.critical != true {
                failure = "acmeIdentifier missing or not critical"
            } else if Array(acme?.value ?? []) != [0x04, 0x20] + expected {
                failure = "acmeIdentifier digest mismatch"
            }
        } else {
            failure = "no certificate for \(authz.name)"
        }
        if let failure {
            authz.status = "invalid"
            authz.challengeStatus = "invalid"
            authz.error = ACMEProblem(type: ACMEProblem.namespace + "incorrectResponse", detail: failure, status: 403)
        } else {
            authz.status = "valid"
            authz.challengeStatus = "valid"
        }
    }

    private func issue(csr: CertificateSigningRequest, names: [String], _ state: inout State) -> String? {
        state.issued += 1
        let issued = now()
        guard
            let leaf = try? Certificate(
                version: .v3, serialNumber: .init(), publicKey: csr.publicKey,
                notValidBefore: issued, notValidAfter: issued.addingTimeInterval(state.behavior.validity),
                issuer: caCertificate.subject, subject: DistinguishedName(), signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions { SubjectAlternativeNames(names.map { .dnsName($0) }) },
                issuerPrivateKey: .init(caKey)),
            let leafPEM = try? leaf.serializeAsPEM().pemString, let caPEM = try? caCertificate.serializeAsPEM().pemString
        else { return nil }
        return leafPEM + "\n" + caPEM + "\n"
    }

    private func orderJSON(_ id: String, _ state: State) -> [String: Any] {
        guard let order = state.order[id] else { return [:] }
        var object: [String: Any] = [
            "status": order.status,
            "identifiers": order.names.map { ["type": "dns", "value": $0] },
            "authorizations": order.names.map { base + "/authz/\($0)" },
            "finalize": base + "/order/\(id)/finalize",
        ]
        if let certificate = order.certificate { object["certificate"] = certificate }
        if order.status == "invalid" {
            object["error"] = ["type": ACMEProblem.namespace + "rejectedIdentifier", "detail": "order refused for testing"]
        }
        return object
    }

    private func authorizationJSON(_ authz: AuthorizationState, _ state: State) -> [String: Any] {
        let challenges: [[String: Any]] = state.behavior.challengeTypes.map { type in
            var challenge: [String: Any] = [
                "type": type, "url": base + "/chall/\(authz.name)" + (type == "tls-alpn-01" ? "" : "-\(type)"),
                "token": authz.token, "status": type == "tls-alpn-01" ? authz.challengeStatus : "pending",
            ]
            if type == "tls-alpn-01", let error = authz.error {
                challenge["error"] = ["type": error.type, "detail": error.detail ?? "", "status": error.status ?? 403]
            }
            return challenge
        }
        return ["identifier": ["type": "dns", "value": authz.name], "status": authz.status, "challenges": challenges]
    }

    // MARK: JWS (RFC 8555 §6.2)

    private func verify(
        _ request: Request, _ state: inout State
    ) -> Verified {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: String],
            let protected = body["protected"], let payload = body["payload"], let signature = body["signature"],
            body.count == 3
        else { return .failure(problem("malformed", "not a flattened JWS")) }
        guard let headerBytes = Base64URL.decode(protected),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any]
        else { return .failure(problem("malformed", "bad protected header")) }
        guard header["alg"] as? String == "ES256" else { return .failure(problem("badSignatureAlgorithm", "alg")) }
        guard header["url"] as? String == base + request.path else { return .failure(problem("unauthorized", "url mismatch")) }
        guard let nonce = header["nonce"] as? String, state.nonces.remove(nonce) != nil else {
            return .failure(problem("badNonce", "unknown or reused nonce"))
        }
        let key: P256.Signing.PublicKey
        var account: String?
        let isNewAccount = request.path == "/account"
        if let jwk = header["jwk"] as? [String: String] {
            guard isNewAccount, header["kid"] == nil else { return .failure(problem("malformed", "jwk only for newAccount")) }
            guard jwk["kty"] == "EC", jwk["crv"] == "P-256", let x = jwk["x"].flatMap(Base64URL.decode),
                let y = jwk["y"].flatMap(Base64URL.decode), x.count == 32, y.count == 32,
                let parsed = try? P256.Signing.PublicKey(x963Representation: [4] + x + y)
            else { return .failure(problem("badPublicKey", "bad jwk")) }
            key = parsed
        } else if let kid = header["kid"] as? String {
            guard !isNewAccount else { return .failure(problem("malformed", "newAccount needs jwk")) }
            guard let known = state.accounts[kid] else { return .failure(problem("accountDoesNotExist", kid)) }
            key = known
            account = kid
        } else {
            return .failure(problem("malformed", "neither jwk nor kid"))
        }
        let jws = FlattenedJWS(protected: protected, payload: payload, signature: signature)
        guard jws.isValidES256Signature(for: key) else { return .failure(problem("malformed", "bad signature")) }
        guard let payloadBytes = Base64URL.decode(payload) else { return .failure(problem("malformed", "payload")) }
        return .success((account, payloadBytes, key))
    }

    enum Verified {
        case success((account: String?, payload: [UInt8], key: P256.Signing.PublicKey))
        case failure(Response)
    }

    private func json(_ object: [String: Any], status: Int = 200, headers: [(String, String)] = []) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: headers + [("Content-Type", "application/json")], body: Array(body))
    }

    func problem(_ type: String, _ detail: String, status: Int = 400) -> Response {
        json(["type": ACMEProblem.namespace + type, "detail": detail, "status": status], status: status)
            .withContentType("application/problem+json")
    }
}

extension FakeACMEServer.Response {
    func withContentType(_ type: String) -> Self {
        var copy = self
        copy.headers = headers.filter { $0.0 != "Content-Type" } + [("Content-Type", type)]
        return copy
    }
}

/// Set once the server exists; the channel initializer needs a reference before that.
final class ServerBox: Sendable {
    private let value = Mutex<FakeACMEServer?>(nil)
    var server: FakeACMEServer? { value.withLock { $0 } }
    func set(_ server: FakeACMEServer) { value.withLock { $0 = server } }
}

final class HTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let route: @Sendable (FakeACMEServer.Request) -> FakeACMEServer.Response
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(route: @escaping @Sendable (FakeACMEServer.Request) -> FakeACMEServer.Response) { self.route = route }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(head):
            self.head = head
            body = []
        case let .body(buffer):
            body += buffer.readableBytesView
        case .end:
            guard let head else { return }
            let response = route(.init(method: head.method, path: head.uri, headers: head.headers, body: body))
            var headers = HTTPHeaders(response.headers)
            headers.add(name: "Content-Length", value: "\(response.body.count)")
            let status = HTTPResponseStatus(statusCode: response.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if !response.body.isEmpty, head.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Records what the client publishes, for the fake CA to "validate" against.
final class RecordingPublisher: ChallengePublisher {
    private let published = Mutex<[String: ChallengeCertificate]>([:])
    private let history = Mutex<[String]>([])

    func publish(name: String, certificate: ChallengeCertificate) async throws {
        published.withLock { $0[name] = certificate }
        history.withLock { $0.append("publish \(name)") }
    }

    func unpublish(name: String) async {
        _ = published.withLock { $0.removeValue(forKey: name) }
        history.withLock { $0.append("unpublish \(name)") }
    }

    func certificate(for name: String) -> ChallengeCertificate? { published.withLock { $0[name] } }
    var events: [String] { history.withLock { $0 } }
    var current: [String] { published.withLock { Array($0.keys).sorted() } }
}

/// Virtual time: sleeping advances the clock at once and is recorded; after `sleepLimit`
/// sleeps, sleeping throws CancellationError (to stop a run loop in a test).
/// Test logs stay out of the test output.
let quietLogger = Logger(label: "acme-test", factory: { _ in SwiftLogNoOpLogHandler() })

final class ManualClock: ACMEClock {
    private let state: Mutex<(now: Date, sleeps: [Duration])>
    let sleepLimit: Int

    init(now: Date = Date(timeIntervalSince1970: 1_800_000_000), sleepLimit: Int = .max) {
        state = Mutex((now, []))
        self.sleepLimit = sleepLimit
    }

    func now() -> Date { state.withLock { $0.now } }

    func sleep(for duration: Duration) async throws {
        try state.withLock { state in
            guard state.sleeps.count < sleepLimit else { throw CancellationError() }
            state.sleeps.append(duration)
            state.now = state.now.addingTimeInterval(Double(duration.components.seconds))
        }
    }

    func advance(by seconds: TimeInterval) { state.withLock { $0.now = $0.now.addingTimeInterval(seconds) } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }
}
