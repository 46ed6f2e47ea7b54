import Crypto

// The server side: one state machine per authentication exchange, without I/O.
//
// Flow (RFC 4422 §5): the protocol adapter creates a `SASLServer` for the mechanism the
// client named, calls `start(initialResponse:)`, and then acts on each `SASLServerAction`:
//
//   .challenge(octets)       base64-encode and send (SMTP "334 ...", IMAP "+ ..."); feed
//                            the client's decoded answer to `receive(_:)`
//   .needCredentials(req)    look the user up (asynchronously, in the account store) and
//                            continue with `provide(_:)`: the stored credentials, or
//                            `.unknownUser`
//   .success(auth)           authenticated; decide whether auth.authenticationIdentity may
//                            act as auth.authorizationIdentity (RFC 4422 §3.4.1), then
//                            reply (SMTP 235, IMAP OK)
//   .failure(reason, data)   reply (SMTP 535 for credential failures, 501 otherwise);
//                            log `reason`, which is precise; the wire never is more precise
//                            than "authentication failed"
//
// A client's "*" (cancel) and SMTP's "=" (empty initial response) are protocol syntax,
// handled by the adapter before octets reach this machine.

/// The server's configuration for the exchanges on one connection.
public struct SASLServerConfiguration: Sendable {
    /// Mechanisms the operator enabled. -PLUS mechanisms are offered only where
    /// `channelBindings` has data, PLAIN and LOGIN only under TLS (or when allowed).
    public var enabledMechanisms: Set<SASLMechanism>
    /// Whether this connection runs over TLS.
    public var tlsActive: Bool
    /// Offer PLAIN and LOGIN without TLS (RFC 4616 §6 and RFC 4954 §4 advise against it).
    public var allowPlaintextWithoutTLS: Bool
    /// The channel bindings the TLS layer can provide on this connection: tls-exporter
    /// for TLS 1.3, tls-unique for TLS 1.2; empty without TLS or when unavailable.
    /// Malformed entries (`ChannelBinding.isWellFormed`) are ignored.
    public var channelBindings: [ChannelBinding]
    /// A secret only this server knows (32 random octets, kept across restarts), from
    /// which the placeholder salts of unknown users are derived. If it leaked, an attacker
    /// could tell placeholder salts from real ones and so learn which users exist.
    public var serverSecret: [UInt8]
    /// The server's host name, used in CRAM-MD5 challenges (RFC 2195 §2).
    public var hostname: String
    /// RFC 4422 §5: whether the protocol's success outcome carries additional data. SMTP
    /// (RFC 4954 §4, reply 235) and IMAP (RFC 9051 §6.2.2, tagged OK) do not, so SCRAM's
    /// server-final-message goes out as one more challenge whose response must be empty.
    public var additionalDataWithSuccess: Bool
    /// The iteration count shown to unknown users: the count new passwords get, so that
    /// they look like most real users.
    public var placeholderIterations: Int

    /// Enabled unless the operator says otherwise: everything except CRAM-MD5, which needs
    /// a password-equivalent key in the account (see `CRAMMD5Key`).
    public static let defaultMechanisms: Set<SASLMechanism> = [
        .scramSHA256Plus, .scramSHA1Plus, .scramSHA256, .scramSHA1, .plain, .login,
    ]

    public init(
        serverSecret: [UInt8],
        hostname: String,
        tlsActive: Bool,
        channelBindings: [ChannelBinding] = [],
        enabledMechanisms: Set<SASLMechanism> = SASLServerConfiguration.defaultMechanisms,
        allowPlaintextWithoutTLS: Bool = false,
        additionalDataWithSuccess: Bool = false,
        placeholderIterations: Int = SCRAMCredentials.defaultIterations
    ) {
        self.serverSecret = serverSecret
        self.hostname = hostname
        self.tlsActive = tlsActive
        self.channelBindings = channelBindings
        self.enabledMechanisms = enabledMechanisms
        self.allowPlaintextWithoutTLS = allowPlaintextWithoutTLS
        self.additionalDataWithSuccess = additionalDataWithSuccess
        self.placeholderIterations = placeholderIterations
    }

    /// Whether `mechanism` may be used on this connection, and if not, why.
    public func availability(of mechanism: SASLMechanism) -> SASLMechanismAvailability {
        guard enabledMechanisms.contains(mechanism) else { return .notEnabled }
        if mechanism.sendsPasswordInClear, !tlsActive, !allowPlaintextWithoutTLS { return .requiresTLS }
        if mechanism.usesChannelBinding, usableChannelBindings.isEmpty { return .requiresChannelBinding }
        return .available
    }

    /// The mechanisms to advertise (SMTP EHLO "AUTH", IMAP "AUTH=" capabilities),
    /// strongest first. RFC 5802 §6: a server with channel binding advertises both the
    /// -PLUS and the plain variants.
    public var advertisedMechanisms: [SASLMechanism] {
        SASLMechanism.allCases.filter { availability(of: $0) == .available }
    }

    /// Whether this server offers a -PLUS mechanism here; a SCRAM client that sends "y"
    /// then is the victim of a downgrade (RFC 5802 §6).
    public var offersChannelBinding: Bool {
        advertisedMechanisms.contains { $0.usesChannelBinding }
    }

    var usableChannelBindings: [ChannelBinding] {
        channelBindings.filter(\.isWellFormed)
    }
}

/// What the server stores for one account, as the account store returns it. Each field
/// is optional: a mechanism whose credentials are missing fails for this user exactly
/// like a wrong password.
public struct SASLStoredCredentials: Hashable, Sendable, Codable {
    public var scramSHA1: SCRAMCredentials?
    public var scramSHA256: SCRAMCredentials?
    /// Present only when the operator enabled CRAM-MD5 (password-equivalent).
    public var cramMD5: CRAMMD5Key?

    public init(scramSHA1: SCRAMCredentials? = nil, scramSHA256: SCRAMCredentials? = nil, cramMD5: CRAMMD5Key? = nil) {
        self.scramSHA1 = scramSHA1
        self.scramSHA256 = scramSHA256
        self.cramMD5 = cramMD5
    }

    /// The SCRAM credentials for `hash`, when present and usable.
    public func scram(_ hash: SCRAMHash) -> SCRAMCredentials? {
        let credentials = hash == .sha1 ? scramSHA1 : scramSHA256
        guard let credentials, credentials.hash == hash, credentials.isUsable else { return nil }
        return credentials
    }
}

/// Which stored credential an exchange needs.
public enum SASLCredentialKind: Sendable, Hashable {
    /// SCRAM credentials for this hash.
    case scram(SCRAMHash)
    /// The CRAM-MD5 key.
    case cramMD5
    /// Anything that verifies a plaintext password (PLAIN, LOGIN): SCRAM credentials,
    /// SHA-256 preferred.
    case password
}

/// The machine's request for a user's credentials.
public struct SASLCredentialRequest: Sendable, Hashable {
    /// The authentication identity, prepared with `SASLprep.opaqueString`. The store
    /// applies its own lookup rules (such as case folding) to it.
    public var username: String
    public var mechanism: SASLMechanism
    public var kind: SASLCredentialKind

    public init(username: String, mechanism: SASLMechanism, kind: SASLCredentialKind) {
        self.username = username
        self.mechanism = mechanism
        self.kind = kind
    }
}

/// What the account store found.
public enum SASLCredentialLookup: Sendable, Hashable {
    case found(SASLStoredCredentials)
    case unknownUser
}

/// The outcome of a successful exchange.
public struct SASLAuthentication: Sendable, Hashable {
    public var mechanism: SASLMechanism
    /// The authenticated user (authcid), prepared.
    public var authenticationIdentity: String
    /// The identity the client asked to act as (authzid), prepared; nil when absent or
    /// empty. Whether that is allowed is the caller's decision (RFC 4422 §3.4.1).
    public var authorizationIdentity: String?
    /// The channel binding type the exchange was bound to, for -PLUS mechanisms.
    public var channelBindingType: String?
    /// Additional data with success (RFC 4422 §5): SCRAM's server-final-message, when
    /// `SASLServerConfiguration.additionalDataWithSuccess` is set.
    public var additionalData: [UInt8]?

    public init(
        mechanism: SASLMechanism, authenticationIdentity: String, authorizationIdentity: String? = nil,
        channelBindingType: String? = nil, additionalData: [UInt8]? = nil
    ) {
        self.mechanism = mechanism
        self.authenticationIdentity = authenticationIdentity
        self.authorizationIdentity = authorizationIdentity
        self.channelBindingType = channelBindingType
        self.additionalData = additionalData
    }

    /// The identity the session acts as: the authzid if given, else the authcid.
    public var effectiveIdentity: String { authorizationIdentity ?? authenticationIdentity }
}

/// What the protocol adapter does next.
public enum SASLServerAction: Sendable, Hashable {
    /// Send these octets as a challenge (base64 on the wire) and wait for a response.
    case challenge([UInt8])
    /// Look up the user and continue with `SASLServer.provide(_:)`.
    case needCredentials(SASLCredentialRequest)
    /// The client is authenticated.
    case success(SASLAuthentication)
    /// The exchange failed. `additionalData` is SCRAM's server-final-message with "e="
    /// (RFC 5802 §7) when the failure came at its final step; protocols without a field
    /// for it may drop it.
    case failure(SASLFailure, additionalData: [UInt8]?)
}

/// A random string for SCRAM nonces (RFC 5802 §5.1 r=) and CRAM-MD5 challenges: printable
/// ASCII except ",", 1...`SASLLimits.maxNonceLength` characters. Injectable so that tests
/// reproduce exchanges exactly.
public struct SASLNonce: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// Octets of randomness in a generated nonce: 144 bits (RFC 4086 §8 asks for enough
    /// that nonces never repeat), 24 base64 characters.
    public static let randomByteCount = 18

    /// A given nonce, or nil when it is empty, too long, or has characters outside
    /// RFC 5802 §7 printable.
    public init?(_ value: String) {
        guard (1...SASLLimits.maxNonceLength).contains(value.utf8.count),
              value.utf8.allSatisfy(SCRAMSyntax.isPrintable) else { return nil }
        self.value = value
    }

    private init(unchecked value: String) {
        self.value = value
    }

    /// A fresh nonce from the system's cryptographic generator.
    public static func random() -> SASLNonce {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> SASLNonce {
        let bytes = (0..<randomByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        // Base64 of a multiple of three octets: only letters, digits, "+" and "/".
        return SASLNonce(unchecked: SASLBase64.encode(bytes))
    }

    public var description: String { value }
}

/// One server-side authentication exchange. A value type without I/O: every input comes
/// through `start`, `receive` and `provide`, every output is a `SASLServerAction`.
public struct SASLServer: Sendable {
    public let mechanism: SASLMechanism
    /// The authentication identity the client gave, once known (for logs and for
    /// counting failures per user); set even when the exchange then fails.
    public private(set) var username: String?
    /// True once the exchange succeeded or failed; further input fails.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    private let configuration: SASLServerConfiguration
    private let nonce: SASLNonce
    private var state: State = .idle

    private enum State: Sendable {
        case idle
        case awaitingPlain
        case awaitingLoginUsername
        case awaitingLoginPassword(username: String)
        case awaitingCRAM(challenge: [UInt8])
        case awaitingSCRAMClientFirst
        case awaitingCredentials(Pending)
        case awaitingSCRAMClientFinal(SCRAMExchange)
        case awaitingSuccessAcknowledgement(SASLAuthentication)
        case finished
    }

    private enum Pending: Sendable {
        case password(username: String, authorizationIdentity: String?, password: String)
        case cram(username: String, challenge: [UInt8], digest: [UInt8])
        case scram(SCRAMClientFirst, username: String, authorizationIdentity: String?, binding: ChannelBinding?)
    }

    private struct SCRAMExchange: Sendable {
        var clientFirst: SCRAMClientFirst
        var username: String
        var authorizationIdentity: String?
        var binding: ChannelBinding?
        var serverFirst: [UInt8]
        var combinedNonce: String
        var credentials: SCRAMCredentials
        /// Set when `credentials` are placeholders: the exchange runs to the end and then
        /// fails with this reason.
        var placeholderReason: SASLFailure?
    }

    /// - Parameters:
    ///   - nonce: the server's part of the SCRAM nonce, and the unique part of the
    ///     CRAM-MD5 challenge. Random unless a test fixes it.
    public init(mechanism: SASLMechanism, configuration: SASLServerConfiguration, nonce: SASLNonce = .random()) {
        self.mechanism = mechanism
        self.configuration = configuration
        self.nonce = nonce
    }

    /// The LOGIN prompts (draft-murchison-sasl-login §2). Clients answer in order and do
    /// not read them, but some check for these exact strings.
    public static let loginUsernamePrompt: [UInt8] = Array("Username:".utf8)
    public static let loginPasswordPrompt: [UInt8] = Array("Password:".utf8)

    /// Begins the exchange. `initialResponse` is the decoded initial response of the
    /// command (SMTP AUTH's second argument, IMAP SASL-IR), nil when there was none.
    public mutating func start(initialResponse: [UInt8]?) -> SASLServerAction {
        guard case .idle = state else { return fail(.unexpectedMessage("exchange already started")) }
        let availability = configuration.availability(of: mechanism)
        guard availability == .available else { return fail(.mechanismUnavailable(mechanism, availability)) }
        if let initialResponse, initialResponse.count > SASLLimits.maxMessageLength {
            return fail(.messageTooLong(length: initialResponse.count, limit: SASLLimits.maxMessageLength))
        }
        switch mechanism {
        case .plain:
            state = .awaitingPlain
        case .scramSHA1, .scramSHA256, .scramSHA1Plus, .scramSHA256Plus:
            state = .awaitingSCRAMClientFirst
        case .login:
            // Not in the draft, but widely sent ("AUTH LOGIN <base64 username>") and
            // harmless: an initial response is the username.
            if let initialResponse, !initialResponse.isEmpty {
                state = .awaitingLoginUsername
                return receive(initialResponse)
            }
            state = .awaitingLoginUsername
            return .challenge(Self.loginUsernamePrompt)
        case .cramMD5:
            // RFC 4422 §5: a server-first mechanism with an initial response fails. An
            // empty one (SMTP "=") carries nothing and is tolerated.
            if let initialResponse, !initialResponse.isEmpty { return fail(.initialResponseNotAllowed) }
            // RFC 2195 §2: the challenge has the form of a msg-id: a unique string and
            // the server's host name in angle brackets. The nonce supplies the uniqueness
            // that the RFC's timestamp and process number gave.
            let challenge = Array("<\(nonce.value)@\(configuration.hostname)>".utf8)
            state = .awaitingCRAM(challenge: challenge)
            return .challenge(challenge)
        }
        guard let initialResponse else { return .challenge([]) }  // RFC 4422 §5 item 2b.
        return receive(initialResponse)
    }

    /// Continues with the client's decoded response to the last challenge.
    public mutating func receive(_ response: [UInt8]) -> SASLServerAction {
        guard response.count <= SASLLimits.maxMessageLength else {
            return fail(.messageTooLong(length: response.count, limit: SASLLimits.maxMessageLength))
        }
        switch state {
        case .awaitingPlain:
            return receivePlain(response)
        case .awaitingLoginUsername:
            guard let name = String(validating: response, as: UTF8.self) else { return fail(.invalidUsername("not UTF-8")) }
            switch Self.prepareUsername(name) {
            case let .failure(failure): return fail(failure)
            case let .success(prepared):
                username = prepared
                state = .awaitingLoginPassword(username: prepared)
                return .challenge(Self.loginPasswordPrompt)
            }
        case let .awaitingLoginPassword(name):
            guard let password = String(validating: response, as: UTF8.self) else {
                return fail(.malformed("password is not UTF-8"))
            }
            guard response.count <= SASLLimits.maxPasswordLength else {
                return fail(.malformed("password longer than \(SASLLimits.maxPasswordLength) octets"))
            }
            return requestCredentials(.password(username: name, authorizationIdentity: nil, password: password), kind: .password)
        case let .awaitingCRAM(challenge):
            return receiveCRAM(response, challenge: challenge)
        case .awaitingSCRAMClientFirst:
            return receiveSCRAMClientFirst(response)
        case let .awaitingSCRAMClientFinal(exchange):
            return receiveSCRAMClientFinal(response, exchange)
        case let .awaitingSuccessAcknowledgement(authentication):
            // RFC 4422 §5: the response to a challenge carrying the additional data of
            // success is empty.
            guard response.isEmpty else { return fail(.unexpectedMessage("non-empty response to the final challenge")) }
            state = .finished
            return .success(authentication)
        case .idle:
            return fail(.unexpectedMessage("response before start"))
        case .awaitingCredentials:
            return fail(.unexpectedMessage("response while credentials are looked up"))
        case .finished:
            return fail(.unexpectedMessage("exchange already finished"))
        }
    }

    /// Continues after `.needCredentials` with what the account store found.
    public mutating func provide(_ lookup: SASLCredentialLookup) -> SASLServerAction {
        guard case let .awaitingCredentials(pending) = state else {
            return fail(.unexpectedMessage("credentials provided but not requested"))
        }
        let stored: SASLStoredCredentials?
        switch lookup {
        case let .found(credentials): stored = credentials
        case .unknownUser: stored = nil
        }
        switch pending {
        case let .password(name, authorizationIdentity, password):
            return verifyPassword(name, authorizationIdentity, password, stored)
        case let .cram(name, challenge, digest):
            return verifyCRAM(name, challenge, digest, stored)
        case let .scram(clientFirst, name, authorizationIdentity, binding):
            return sendSCRAMServerFirst(clientFirst, name, authorizationIdentity, binding, stored)
        }
    }

    // MARK: PLAIN, LOGIN

    /// RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd.
    private mutating func receivePlain(_ response: [UInt8]) -> SASLServerAction {
        let parts = response.split(separator: 0, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            return fail(.malformed("PLAIN needs authzid NUL authcid NUL password (found \(parts.count - 1) NULs)"))
        }
        guard let authzid = String(validating: parts[0], as: UTF8.self) else {
            return fail(.invalidAuthorizationIdentity("not UTF-8"))
        }
        guard let authcid = String(validating: parts[1], as: UTF8.self) else { return fail(.invalidUsername("not UTF-8")) }
        guard let password = String(validating: parts[2], as: UTF8.self) else { return fail(.malformed("password is not UTF-8")) }
        guard !parts[2].isEmpty else { return fail(.malformed("empty password")) }
        guard parts[2].count <= SASLLimits.maxPasswordLength else {
            return fail(.malformed("password longer than \(SASLLimits.maxPasswordLength) octets"))
        }
        let name: String
        switch Self.prepareUsername(authcid) {
        case let .failure(failure): return fail(failure)
        case let .success(prepared): name = prepared
        }
        username = name
        let authorizationIdentity: String?
        switch Self.prepareAuthorizationIdentity(authzid) {
        case let .failure(failure): return fail(failure)
        case let .success(prepared): authorizationIdentity = prepared
        }
        return requestCredentials(
            .password(username: name, authorizationIdentity: authorizationIdentity, password: password), kind: .password)
    }

    private mutating func verifyPassword(
        _ name: String, _ authorizationIdentity: String?, _ password: String, _ stored: SASLStoredCredentials?
    ) -> SASLServerAction {
        guard let stored, let credentials = stored.scram(.sha256) ?? stored.scram(.sha1) else {
            // Spend the same Hi() a real user costs, so that timing does not tell an
            // unknown user from a wrong password.
            let placeholder = SCRAMCredentials.placeholder(
                username: name, hash: .sha256, secret: configuration.serverSecret,
                iterations: configuration.placeholderIterations)
            _ = placeholder.verify(password: password)
            return fail(stored == nil ? .unknownUser : .credentialsUnavailable)
        }
        guard credentials.verify(password: password) else { return fail(.invalidCredentials) }
        return succeed(SASLAuthentication(
            mechanism: mechanism, authenticationIdentity: name, authorizationIdentity: authorizationIdentity,
            channelBindingType: nil, additionalData: nil))
    }

    // MARK: CRAM-MD5

    /// RFC 2195 §2: the response is the username, a space, and the digest as 32
    /// lowercase hex digits. The username may itself contain spaces, so the last space
    /// separates. Upper-case hex is accepted too.
    private mutating func receiveCRAM(_ response: [UInt8], challenge: [UInt8]) -> SASLServerAction {
        guard let space = response.lastIndex(of: UInt8(ascii: " ")) else {
            return fail(.malformed("CRAM-MD5 response needs username SP digest"))
        }
        let digestHex = response[(space + 1)...]
        guard digestHex.count == 32, let digest = Bytes.fromHex(digestHex) else {
            return fail(.malformed("CRAM-MD5 digest must be 32 hex digits"))
        }
        guard let name = String(validating: response[..<space], as: UTF8.self) else {
            return fail(.invalidUsername("not UTF-8"))
        }
        switch Self.prepareUsername(name) {
        case let .failure(failure):
            return fail(failure)
        case let .success(prepared):
            username = prepared
            return requestCredentials(.cram(username: prepared, challenge: challenge, digest: digest), kind: .cramMD5)
        }
    }

    private mutating func verifyCRAM(
        _ name: String, _ challenge: [UInt8], _ digest: [UInt8], _ stored: SASLStoredCredentials?
    ) -> SASLServerAction {
        guard let key = stored?.cramMD5 else {
            // Same work as for a real key, against a key nobody knows.
            let placeholder = CRAMMD5Key(key: CryptoPrimitives.hmac(
                SHA256.self, key: configuration.serverSecret, Array("tern-sasl-cram\0\(name)".utf8)))
            _ = Bytes.constantTimeEqual(placeholder.digest(challenge: challenge), digest)
            return fail(stored == nil ? .unknownUser : .credentialsUnavailable)
        }
        guard Bytes.constantTimeEqual(key.digest(challenge: challenge), digest) else { return fail(.invalidCredentials) }
        return succeed(SASLAuthentication(
            mechanism: mechanism, authenticationIdentity: name, authorizationIdentity: nil,
            channelBindingType: nil, additionalData: nil))
    }

    // MARK: SCRAM

    private mutating func receiveSCRAMClientFirst(_ response: [UInt8]) -> SASLServerAction {
        let clientFirst: SCRAMClientFirst
        do throws(SASLFailure) {
            clientFirst = try SCRAMSyntax.parseClientFirst(response)
        } catch {
            return fail(error)
        }
        // Channel binding negotiation (RFC 5802 §6).
        var binding: ChannelBinding?
        switch clientFirst.flag {
        case .notSupported:
            if mechanism.usesChannelBinding { return fail(.channelBindingRequired) }
        case .supportedButNotUsed:
            if mechanism.usesChannelBinding { return fail(.channelBindingRequired) }
            if configuration.offersChannelBinding { return fail(.downgradeDetected) }
        case let .required(type):
            let available = configuration.usableChannelBindings
            guard !available.isEmpty else { return fail(.channelBindingNotSupported) }
            guard mechanism.usesChannelBinding else { return fail(.channelBindingNotAllowed) }
            // RFC 5802 §6.1: the server MUST use the type the client chose, or fail.
            guard let match = available.first(where: { $0.type == type }) else {
                return fail(.unsupportedChannelBindingType(type))
            }
            binding = match
        }
        let name: String
        switch Self.prepareUsername(clientFirst.username) {
        case let .failure(failure): return fail(failure)
        case let .success(prepared): name = prepared
        }
        username = name
        let authorizationIdentity: String?
        switch Self.prepareAuthorizationIdentity(clientFirst.authorizationIdentity ?? "") {
        case let .failure(failure): return fail(failure)
        case let .success(prepared): authorizationIdentity = prepared
        }
        guard let hash = mechanism.scramHash else { return fail(.unexpectedMessage("not a SCRAM mechanism")) }
        return requestCredentials(
            .scram(clientFirst, username: name, authorizationIdentity: authorizationIdentity, binding: binding),
            kind: .scram(hash))
    }

    private mutating func sendSCRAMServerFirst(
        _ clientFirst: SCRAMClientFirst, _ name: String, _ authorizationIdentity: String?,
        _ binding: ChannelBinding?, _ stored: SASLStoredCredentials?
    ) -> SASLServerAction {
        guard let hash = mechanism.scramHash else { return fail(.unexpectedMessage("not a SCRAM mechanism")) }
        var credentials: SCRAMCredentials
        var placeholderReason: SASLFailure?
        if let stored, let found = stored.scram(hash) {
            credentials = found
        } else {
            // RFC 5802 §9: do not reveal whether the user exists. The exchange goes on
            // with a salt that is stable per username and unpredictable without the
            // server secret, and fails at the proof like a wrong password.
            credentials = SCRAMCredentials.placeholder(
                username: name, hash: hash, secret: configuration.serverSecret,
                iterations: configuration.placeholderIterations)
            placeholderReason = stored == nil ? .unknownUser : .credentialsUnavailable
        }
        // RFC 5802 §5.1 r=: the server appends its own nonce to the client's.
        let combinedNonce = clientFirst.nonce + nonce.value
        let serverFirst = Array(
            "r=\(combinedNonce),s=\(SASLBase64.encode(credentials.salt)),i=\(credentials.iterations)".utf8)
        state = .awaitingSCRAMClientFinal(SCRAMExchange(
            clientFirst: clientFirst, username: name, authorizationIdentity: authorizationIdentity, binding: binding,
            serverFirst: serverFirst, combinedNonce: combinedNonce, credentials: credentials,
            placeholderReason: placeholderReason))
        return .challenge(serverFirst)
    }

    private mutating func receiveSCRAMClientFinal(_ response: [UInt8], _ exchange: SCRAMExchange) -> SASLServerAction {
        let clientFinal: SCRAMClientFinal
        do throws(SASLFailure) {
            clientFinal = try SCRAMSyntax.parseClientFinal(response)
        } catch {
            return failSCRAM(error)
        }
        // RFC 5802 §6: the server MUST validate c= by building the expected value: the
        // GS2 header of the client's first message and, when bound, this channel's data.
        let expectedBinding = exchange.clientFirst.gs2Header + (exchange.binding?.data ?? [])
        guard clientFinal.channelBinding == expectedBinding else { return failSCRAM(.channelBindingMismatch) }
        // RFC 5802 §5.1 r=: the nonce MUST be the one the server sent.
        guard clientFinal.nonce == exchange.combinedNonce else { return failSCRAM(.nonceMismatch) }

        // RFC 5802 §3: AuthMessage = client-first-message-bare "," server-first-message ","
        // client-final-message-without-proof; ClientKey = ClientProof XOR
        // HMAC(StoredKey, AuthMessage); the proof is right when H(ClientKey) = StoredKey.
        let credentials = exchange.credentials
        let hash = credentials.hash
        let authMessage = exchange.clientFirst.bare + [SCRAMSyntax.comma] + exchange.serverFirst + [SCRAMSyntax.comma]
            + clientFinal.withoutProof
        let clientSignature = hash.hmac(key: credentials.storedKey, authMessage)
        let proofMatches: Bool
        if clientFinal.proof.count == hash.outputByteCount {
            let clientKey = Bytes.xor(clientFinal.proof, clientSignature)
            proofMatches = Bytes.constantTimeEqual(hash.digest(clientKey), credentials.storedKey)
        } else {
            proofMatches = false
        }
        if let reason = exchange.placeholderReason { return failSCRAM(reason) }
        guard proofMatches else { return failSCRAM(.invalidCredentials) }

        let serverSignature = hash.hmac(key: credentials.serverKey, authMessage)
        let serverFinal = Array("v=\(SASLBase64.encode(serverSignature))".utf8)
        var authentication = SASLAuthentication(
            mechanism: mechanism, authenticationIdentity: exchange.username,
            authorizationIdentity: exchange.authorizationIdentity, channelBindingType: exchange.binding?.type,
            additionalData: nil)
        if configuration.additionalDataWithSuccess {
            authentication.additionalData = serverFinal
            return succeed(authentication)
        }
        // RFC 4422 §5: without a field for additional data in the outcome, it goes out as
        // a challenge whose response is empty.
        state = .awaitingSuccessAcknowledgement(authentication)
        return .challenge(serverFinal)
    }

    // MARK: Helpers

    private mutating func requestCredentials(_ pending: Pending, kind: SASLCredentialKind) -> SASLServerAction {
        let name: String
        switch pending {
        case let .password(username, _, _), let .cram(username, _, _), let .scram(_, username, _, _):
            name = username
        }
        state = .awaitingCredentials(pending)
        return .needCredentials(SASLCredentialRequest(username: name, mechanism: mechanism, kind: kind))
    }

    private mutating func succeed(_ authentication: SASLAuthentication) -> SASLServerAction {
        state = .finished
        return .success(authentication)
    }

    private mutating func fail(_ failure: SASLFailure) -> SASLServerAction {
        state = .finished
        return .failure(failure, additionalData: nil)
    }

    /// A failure at SCRAM's last step, with the server-final-message "e=" (RFC 5802 §7).
    private mutating func failSCRAM(_ failure: SASLFailure) -> SASLServerAction {
        state = .finished
        return .failure(failure, additionalData: Array("e=\(failure.scramServerError)".utf8))
    }

    /// RFC 5802 §5.1 n= and RFC 4616 §2: the server prepares the authentication identity
    /// with SASLprep (here the OpaqueString profile) and fails when that fails.
    static func prepareUsername(_ name: String) -> Result<String, SASLFailure> {
        guard !name.isEmpty else { return .failure(.invalidUsername("empty")) }
        guard name.utf8.count <= SASLLimits.maxUsernameLength else {
            return .failure(.invalidUsername("longer than \(SASLLimits.maxUsernameLength) octets"))
        }
        do throws(SASLprepError) {
            let prepared = try SASLprep.opaqueString(name)
            guard prepared.utf8.count <= SASLLimits.maxUsernameLength else {
                return .failure(.invalidUsername("longer than \(SASLLimits.maxUsernameLength) octets"))
            }
            return .success(prepared)
        } catch {
            return .failure(.invalidUsername(error.description))
        }
    }

    /// RFC 4954 §4: the authorization identity is prepared too, and preparation failing
    /// fails the exchange. Empty means absent (RFC 4616 §2).
    static func prepareAuthorizationIdentity(_ name: String) -> Result<String?, SASLFailure> {
        guard !name.isEmpty else { return .success(nil) }
        guard name.utf8.count <= SASLLimits.maxAuthorizationIdentityLength else {
            return .failure(.invalidAuthorizationIdentity("longer than \(SASLLimits.maxAuthorizationIdentityLength) octets"))
        }
        do throws(SASLprepError) {
            return .success(try SASLprep.opaqueString(name))
        } catch {
            return .failure(.invalidAuthorizationIdentity(error.description))
        }
    }
}
