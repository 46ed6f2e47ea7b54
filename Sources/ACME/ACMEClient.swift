import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SwiftASN1
import X509

/// Where the tls-alpn-01 challenge certificates go while a CA validates (RFC 8737 §3): the
/// TLS listener on port 443 that answers "acme-tls/1" handshakes for `name` with it.
public protocol ChallengePublisher: Sendable {
    func publish(name: String, certificate: ChallengeCertificate) async throws
    func unpublish(name: String) async
}

/// A certificate chain from the CA, leaf first, in PEM as downloaded (RFC 8555 §7.4.2,
/// `application/pem-certificate-chain`, RFC 8555 §9.1), with the leaf's validity.
public struct IssuedCertificate: Sendable, Equatable {
    public var chainPEM: String
    public var notBefore: Date
    public var notAfter: Date
    /// The leaf's dNSName SANs.
    public var names: [String]

    /// Parses and checks a PEM chain: at least one certificate, each parseable.
    public init(chainPEM: String) throws {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: chainPEM)
        } catch {
            throw ACMEError.badCertificate("not a PEM certificate chain: \(error)")
        }
        let certificates = try documents.filter { $0.discriminator == "CERTIFICATE" }.map { document in
            do { return try Certificate(derEncoded: document.derBytes) } catch {
                throw ACMEError.badCertificate("unparseable certificate in chain: \(error)")
            }
        }
        guard let leaf = certificates.first else { throw ACMEError.badCertificate("no certificate in the chain") }
        self.chainPEM = chainPEM
        self.notBefore = leaf.notValidBefore
        self.notAfter = leaf.notValidAfter
        self.leafPublicKey = leaf.publicKey
        var names: [String] = []
        if let san = try? leaf.extensions.subjectAlternativeNames {
            for name in san { if case let .dnsName(dns) = name { names.append(dns) } }
        }
        self.names = names
    }

    let leafPublicKey: Certificate.PublicKey

    public static func == (lhs: IssuedCertificate, rhs: IssuedCertificate) -> Bool { lhs.chainPEM == rhs.chainPEM }

    /// Whether the leaf names every one of `hostnames` (case-insensitive, RFC 4343).
    public func covers(_ hostnames: [String]) -> Bool {
        let have = Set(names.map { $0.lowercased() })
        return hostnames.allSatisfy { have.contains($0.lowercased()) }
    }
}

/// An RFC 8555 client for one CA and one account key: directory, nonces, account, orders,
/// tls-alpn-01 authorizations (RFC 8737), finalization and download. An actor: the nonce
/// it keeps for the next request is shared state (RFC 8555 §6.5, each nonce is used once).
///
/// The HTTP client belongs to the caller, which shuts it down.
public actor ACMEClient {
    public struct Configuration: Sendable {
        /// The directory URL (RFC 8555 §7.1.1). Must be https (RFC 8555 §6.1).
        public var directoryURL: String
        /// RFC 8555 §6.1: clients MUST send a User-Agent.
        public var userAgent: String = "tern-acme/1"
        public var requestTimeout: Duration = .seconds(30)
        /// Limit on any response body (JSON objects, problem documents, the PEM chain).
        public var maxResponseBytes: Int = 1 << 20
        /// Limit on polls of one authorization or order (RFC 8555 §7.5.1: "clients SHOULD
        /// NOT poll indefinitely").
        public var maxPolls: Int = 30
        /// Between polls when the CA sends no Retry-After.
        public var defaultPollInterval: Duration = .seconds(2)
        /// Retry-After values are clamped to this, so a bogus header cannot stall us.
        public var maxPollInterval: Duration = .seconds(60)
        /// Retries of a request refused with badNonce (RFC 8555 §6.5: the client SHOULD
        /// retry with the nonce of the error response).
        public var badNonceRetries: Int = 1

        public init(directoryURL: String) {
            self.directoryURL = directoryURL
        }
    }

    public let configuration: Configuration
    public let accountKey: P256.Signing.PrivateKey
    private let http: HTTPClient
    private let clock: any ACMEClock
    private let logger: Logger
    private var cachedDirectory: ACMEDirectory?
    private var nonce: String?
    public private(set) var account: ACMEAccount?

    public init(configuration: Configuration, accountKey: P256.Signing.PrivateKey, httpClient: HTTPClient, clock: any ACMEClock = SystemACMEClock(), logger: Logger) {
        self.configuration = configuration
        self.accountKey = accountKey
        self.http = httpClient
        self.clock = clock
        self.logger = logger
    }

    /// The account key as JWK (RFC 7517), as sent in newAccount.
    public nonisolated var jwk: JWK { JWK(accountKey.publicKey) }

    /// RFC 8555 §8.1.
    public nonisolated func keyAuthorization(token: String) -> String {
        KeyAuthorization.make(token: token, accountKey: accountKey.publicKey)
    }

    // MARK: Resources

    /// GET the directory (RFC 8555 §7.1.1), once per client.
    public func directory() async throws -> ACMEDirectory {
        if let cachedDirectory { return cachedDirectory }
        let url = configuration.directoryURL
        guard url.lowercased().hasPrefix("https://") else {
            throw ACMEError.configuration("directory URL \(url) is not https (RFC 8555 §6.1)")
        }
        let response = try await send(url: url, method: .GET, body: nil)
        try check(response, url: url)
        let directory = try decode(ACMEDirectory.self, response, url: url)
        cachedDirectory = directory
        return directory
    }

    /// Creates the account for this key, or finds the existing one (RFC 8555 §7.3: 201 for a
    /// new account, 200 for an existing one; either way the Location is the account URL).
    @discardableResult
    public func registerAccount(contact: [String], termsOfServiceAgreed: Bool) async throws -> ACMEAccount {
        let directory = try await directory()
        if directory.meta?.externalAccountRequired == true {
            throw ACMEError.configuration("the CA requires external account binding, which is not supported")
        }
        struct NewAccount: Encodable { var contact: [String]; var termsOfServiceAgreed: Bool }
        let payload = try Self.json(NewAccount(contact: contact, termsOfServiceAgreed: termsOfServiceAgreed))
        let response = try await post(directory.newAccount, payload: payload, key: .jwk(jwk))
        guard response.status == 200 || response.status == 201 else {
            throw ACMEError.invalidResponse("newAccount status \(response.status)", url: directory.newAccount)
        }
        guard let location = response.headers.first(name: "Location") else {
            throw ACMEError.invalidResponse("newAccount without Location", url: directory.newAccount)
        }
        var account = try decode(ACMEAccount.self, response, url: directory.newAccount)
        account.url = location
        guard account.status == .valid else {
            throw ACMEError.invalidResponse("account \(location) is \(account.status.rawValue)", url: directory.newAccount)
        }
        self.account = account
        logger.debug("acme account", metadata: ["account": "\(location)", "created": "\(response.status == 201)"])
        return account
    }

    /// Applies for a certificate for `hostnames` (RFC 8555 §7.4); returns the order URL and
    /// the order.
    public func newOrder(hostnames: [String]) async throws -> (url: String, order: ACMEOrder) {
        let directory = try await directory()
        struct NewOrder: Encodable { var identifiers: [ACMEIdentifier] }
        let payload = try Self.json(NewOrder(identifiers: hostnames.map { .dns($0) }))
        let response = try await post(directory.newOrder, payload: payload, key: try kid())
        guard response.status == 201 || response.status == 200 else {
            throw ACMEError.invalidResponse("newOrder status \(response.status)", url: directory.newOrder)
        }
        guard let location = response.headers.first(name: "Location") else {
            throw ACMEError.invalidResponse("newOrder without Location", url: directory.newOrder)
        }
        return (location, try decode(ACMEOrder.self, response, url: directory.newOrder))
    }

    /// POST-as-GET of an authorization (RFC 8555 §7.5).
    public func authorization(at url: String) async throws -> ACMEAuthorization {
        try await fetch(ACMEAuthorization.self, at: url).value
    }

    /// POST-as-GET of an order (RFC 8555 §7.4).
    public func order(at url: String) async throws -> ACMEOrder {
        try await fetch(ACMEOrder.self, at: url).value
    }

    /// Tells the CA the challenge is ready (RFC 8555 §7.5.1: POST of an empty object).
    @discardableResult
    public func respond(to challenge: ACMEChallenge) async throws -> ACMEChallenge {
        let response = try await post(challenge.url, payload: Array("{}".utf8), key: try kid())
        return try decode(ACMEChallenge.self, response, url: challenge.url)
    }

    /// Sends the CSR (RFC 8555 §7.4: {"csr": base64url(DER)}); returns the updated order.
    public func finalize(_ order: ACMEOrder, csrDER: [UInt8]) async throws -> ACMEOrder {
        try await finalizeOrder(order, csrDER: csrDER).order
    }

    /// The order and the Retry-After of the answer, which tells when to poll a "processing"
    /// order (RFC 8555 §7.4).
    private func finalizeOrder(_ order: ACMEOrder, csrDER: [UInt8]) async throws -> (order: ACMEOrder, retryAfter: Duration?) {
        let payload = Array(#"{"csr":"\#(Base64URL.encode(csrDER))"}"#.utf8)
        let response = try await post(order.finalize, payload: payload, key: try kid())
        return (try decode(ACMEOrder.self, response, url: order.finalize), retryAfter(response))
    }

    /// Downloads the chain (RFC 8555 §7.4.2), PEM.
    public func downloadCertificate(at url: String) async throws -> String {
        let response = try await post(url, payload: nil, key: try kid(), accept: "application/pem-certificate-chain")
        return String(decoding: response.body, as: UTF8.self)
    }

    // MARK: The whole issuance

    /// Obtains a certificate for `hostnames` with `certificateKey` (RFC 8555 §7.4 to §7.4.2),
    /// answering each pending authorization with tls-alpn-01 (RFC 8737) through `publisher`.
    /// Registers (or finds) the account first. Challenge certificates are unpublished
    /// whatever happens.
    public func obtainCertificate(
        hostnames: [String], certificateKey: P256.Signing.PrivateKey, contact: [String], termsOfServiceAgreed: Bool,
        publisher: any ChallengePublisher
    ) async throws -> IssuedCertificate {
        if account == nil { try await registerAccount(contact: contact, termsOfServiceAgreed: termsOfServiceAgreed) }
        let (orderURL, order) = try await newOrder(hostnames: hostnames)
        logger.info("acme order created", metadata: ["order": "\(orderURL)", "names": "\(hostnames.joined(separator: ","))"])
        guard order.status == .pending || order.status == .ready || order.status == .valid || order.status == .processing else {
            throw ACMEError.orderFailed(status: order.status.rawValue, problem: order.error, url: orderURL)
        }

        var published: [String] = []
        do {
            try await authorize(order, published: &published, publisher: publisher)
        } catch {
            for name in published { await publisher.unpublish(name: name) }
            throw error
        }
        for name in published { await publisher.unpublish(name: name) }

        // RFC 8555 §7.4: once all authorizations are valid the order becomes "ready".
        var current = try await poll(ACMEOrder.self, at: orderURL, what: "order", initial: nil) { $0.status != .pending }
        var wait: Duration?
        if current.status == .ready {
            let csr = try CertificateRequest.der(hostnames: hostnames, key: certificateKey)
            let finalized = try await finalizeOrder(current, csrDER: csr)
            current = finalized.order
            wait = clampedPollInterval(finalized.retryAfter)
        }
        if current.status == .processing || current.status == .ready {
            current = try await poll(ACMEOrder.self, at: orderURL, what: "order", initial: wait) {
                $0.status != .processing && $0.status != .ready
            }
        }
        guard current.status == .valid, let certificateURL = current.certificate else {
            throw ACMEError.orderFailed(status: current.status.rawValue, problem: current.error, url: orderURL)
        }
        let pem = try await downloadCertificate(at: certificateURL)
        let issued = try IssuedCertificate(chainPEM: pem)
        guard issued.leafPublicKey == Certificate.PublicKey(certificateKey.publicKey) else {
            throw ACMEError.badCertificate("the leaf is not for the key of the CSR")
        }
        guard issued.covers(hostnames) else {
            throw ACMEError.badCertificate("the leaf names \(issued.names), not all of \(hostnames)")
        }
        logger.info(
            "acme certificate issued",
            metadata: ["names": "\(hostnames.joined(separator: ","))", "notAfter": "\(issued.notAfter)"])
        return issued
    }

    /// Publishes a challenge certificate for each pending authorization, responds to all
    /// challenges, and waits for every authorization to become valid (RFC 8555 §7.5.1).
    private func authorize(_ order: ACMEOrder, published: inout [String], publisher: any ChallengePublisher) async throws {
        var waiting: [(url: String, identifier: String)] = []
        var challenges: [ACMEChallenge] = []
        for url in order.authorizations {
            let authorization = try await authorization(at: url)
            let identifier = authorization.identifier.value
            switch authorization.status {
            case .valid:
                continue  // reused (RFC 8555 §7.1.3: "clients should always check")
            case .pending:
                break
            default:
                let problem = authorization.challenges.compactMap(\.error).first
                throw ACMEError.authorizationFailed(identifier: identifier, status: authorization.status.rawValue, problem: problem)
            }
            guard let challenge = authorization.challenges.first(where: { $0.type == ACMEChallenge.tlsALPN01 }),
                let token = challenge.token
            else {
                throw ACMEError.noSupportedChallenge(identifier: identifier, offered: authorization.challenges.map(\.type))
            }
            // RFC 8737 §3: the token is base64url, at least 128 bits.
            guard Base64URL.decode(token) != nil, token.utf8.count >= 22 else {
                throw ACMEError.invalidResponse("challenge token is not base64url of 128+ bits", url: challenge.url)
            }
            let certificate = try TLSALPNChallenge.certificate(
                identifier: identifier, keyAuthorization: keyAuthorization(token: token), now: clock.now())
            try await publisher.publish(name: identifier, certificate: certificate)
            published.append(identifier)
            waiting.append((url, identifier))
            if challenge.status == .pending { challenges.append(challenge) }
        }
        for challenge in challenges {
            try await respond(to: challenge)
            logger.debug("acme challenge answered", metadata: ["challenge": "\(challenge.url)"])
        }
        for (url, identifier) in waiting {
            let authorization = try await poll(ACMEAuthorization.self, at: url, what: "authorization", initial: nil) {
                $0.status != .pending
            }
            guard authorization.status == .valid else {
                let challenge = authorization.challenges.first { $0.type == ACMEChallenge.tlsALPN01 && $0.error != nil }
                let problem = challenge?.error ?? authorization.challenges.compactMap(\.error).first
                throw ACMEError.authorizationFailed(identifier: identifier, status: authorization.status.rawValue, problem: problem)
            }
            logger.debug("acme authorization valid", metadata: ["identifier": "\(identifier)"])
        }
    }

    /// POST-as-GET `url` until `done` holds, waiting Retry-After (clamped) or the default
    /// interval between polls, at most `maxPolls` times.
    private func poll<T: Decodable & Sendable>(
        _ type: T.Type, at url: String, what: String, initial: Duration?, done: (T) -> Bool
    ) async throws -> T {
        var wait = initial
        for _ in 0..<configuration.maxPolls {
            if let wait { try await clock.sleep(for: wait) }
            let (value, retryAfter) = try await fetch(type, at: url)
            if done(value) { return value }
            wait = clampedPollInterval(retryAfter)
        }
        throw ACMEError.pollingTimedOut(what: what, url: url, attempts: configuration.maxPolls)
    }

    private func clampedPollInterval(_ retryAfter: Duration?) -> Duration {
        guard let retryAfter else { return configuration.defaultPollInterval }
        return min(max(retryAfter, .seconds(1)), configuration.maxPollInterval)
    }

    private func fetch<T: Decodable>(_ type: T.Type, at url: String) async throws -> (value: T, retryAfter: Duration?) {
        let response = try await post(url, payload: nil, key: try kid())
        return (try decode(type, response, url: url), retryAfter(response))
    }

    private func retryAfter(_ response: Response) -> Duration? {
        response.headers.first(name: "Retry-After").flatMap { RetryAfter.parse($0, now: clock.now()) }
    }

    private func kid() throws -> JWSKeyReference {
        guard let account else { throw ACMEError.configuration("no account: registerAccount first") }
        return .kid(account.url)
    }

    // MARK: HTTP

    struct Response: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// A signed POST (RFC 8555 §6.2), with a fresh nonce each time, retried on badNonce with
    /// the nonce the error response carries (RFC 8555 §6.5).
    func post(_ url: String, payload: [UInt8]?, key: JWSKeyReference, accept: String? = nil) async throws -> Response {
        var attempt = 0
        while true {
            let nonce = try await takeNonce()
            let jws = try JWSSigner.sign(payload: payload, key: key, nonce: nonce, url: url, with: accountKey)
            let response = try await send(url: url, method: .POST, body: jws.encoded(), accept: accept)
            do {
                try check(response, url: url)
                return response
            } catch let ACMEError.problem(problem, _) where problem.kind == .badNonce && attempt < configuration.badNonceRetries {
                attempt += 1
                logger.debug("acme badNonce, retrying", metadata: ["url": "\(url)"])
            }
        }
    }

    /// The nonce of the last response, else a new one (RFC 8555 §7.2: HEAD newNonce).
    private func takeNonce() async throws -> String {
        if let nonce {
            self.nonce = nil
            return nonce
        }
        let url = try await directory().newNonce
        let response = try await send(url: url, method: .HEAD, body: nil)
        guard response.status == 200 || response.status == 204 else {
            try check(response, url: url)
            throw ACMEError.invalidResponse("newNonce status \(response.status)", url: url)
        }
        guard let fresh = self.nonce else { throw ACMEError.invalidResponse("no Replay-Nonce", url: url) }
        self.nonce = nil
        return fresh
    }

    private func send(url: String, method: HTTPMethod, body: [UInt8]?, accept: String? = nil) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let accept { request.headers.add(name: "Accept", value: accept) }
        if let body {
            // RFC 8555 §6.2: the JWS is sent as application/jose+json.
            request.headers.add(name: "Content-Type", value: "application/jose+json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let limit = configuration.maxResponseBytes
        do {
            let response = try await http.execute(request, timeout: TimeAmount.nanoseconds(Int64(configuration.requestTimeout.seconds * 1e9)))
            // RFC 8555 §6.5.1: a Replay-Nonce on any response is a nonce we may use.
            if let replay = response.headers.first(name: "Replay-Nonce"), Self.isValidNonce(replay) { nonce = replay }
            let body: ByteBuffer
            if method == .HEAD {
                body = ByteBuffer()
            } else {
                body = try await response.body.collect(upTo: limit)
            }
            return Response(status: Int(response.status.code), headers: response.headers, body: Array(body.readableBytesView))
        } catch is NIOTooManyBytesError {
            throw ACMEError.responseTooLarge(limit: limit, url: url)
        } catch let error as ACMEError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw ACMEError.transport(String(describing: error), url: url)
        }
    }

    /// RFC 8555 §6.5.1: the value is base64url.
    static func isValidNonce(_ value: String) -> Bool {
        !value.isEmpty && Base64URL.decode(value) != nil
    }

    /// Errors become typed: a problem document (RFC 8555 §6.7) when the CA sent one, else
    /// the status with the start of the body.
    private func check(_ response: Response, url: String) throws {
        guard response.status >= 400 else { return }
        if let problem = try? JSONDecoder().decode(ACMEProblem.self, from: Data(response.body)), response.isProblem || problem.type != "about:blank" {
            throw ACMEError.problem(problem, url: url)
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        throw ACMEError.httpStatus(response.status, url: url, body: text)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: Response, url: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(response.body))
        } catch {
            throw ACMEError.invalidResponse("undecodable \(T.self): \(error)", url: url)
        }
    }

    static func json(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}

extension ACMEClient.Response {
    var isProblem: Bool {
        headers.first(name: "Content-Type")?.lowercased().hasPrefix("application/problem+json") ?? false
    }
}

/// A publisher made of two closures, for wiring the ACME client to whatever serves the
/// challenge certificates (in Tern: ServerSupport's `ACMEChallengeCertificates`).
public struct ClosureChallengePublisher: ChallengePublisher {
    private let publishing: @Sendable (String, ChallengeCertificate) async throws -> Void
    private let unpublishing: @Sendable (String) async -> Void

    public init(
        publish: @escaping @Sendable (String, ChallengeCertificate) async throws -> Void,
        unpublish: @escaping @Sendable (String) async -> Void
    ) {
        publishing = publish
        unpublishing = unpublish
    }

    public func publish(name: String, certificate: ChallengeCertificate) async throws {
        try await publishing(name, certificate)
    }

    public func unpublish(name: String) async {
        await unpublishing(name)
    }
}
