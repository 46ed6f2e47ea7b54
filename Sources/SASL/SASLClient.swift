// The client side: mechanism selection and one state machine per exchange, without I/O.
//
// Flow (RFC 4422 §5), as the SMTP client drives it:
//
//   let mechanism = SASLMechanism.select(advertised: ehloAuthList, options: options)
//   var client = try SASLClient(mechanism:credentials:channelBinding:serverOffersChannelBinding:)
//   let initial = client.start()            // AUTH <mechanism> [base64(initial)]
//   on 334 <base64 challenge>:  client.receive(challenge:) -> .respond(octets) | .failure
//   on 235:                     client.receiveSuccess()    -> .success | .failure
//   on 535 and the like:        the exchange failed; nothing to feed back
//
// `.failure` during the exchange means: cancel with "*" (RFC 4954 §4) and do not trust
// the server. For SCRAM, success is reported only after the server's signature verified
// (RFC 5802 §5: mutual authentication); a server that says 235 without proving it knows
// the user's keys gets `.failure(.serverSignatureMissing)`.

/// What the client authenticates with. `description` never shows the password.
public struct SASLClientCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String
    /// The identity to act as, when different from `username` (RFC 4422 §3.4.1).
    public var authorizationIdentity: String?

    public init(username: String, password: String, authorizationIdentity: String? = nil) {
        self.username = username
        self.password = password
        self.authorizationIdentity = authorizationIdentity
    }

    public var description: String {
        "SASLClientCredentials(username: \(username), authorizationIdentity: \(authorizationIdentity ?? "nil"), password: <redacted>)"
    }
}

/// The client's circumstances and policy for choosing a mechanism.
public struct SASLClientOptions: Sendable, Hashable {
    /// Whether the connection runs over TLS.
    public var tlsActive: Bool
    /// The TLS layer's channel binding, when it has one (tls-exporter on TLS 1.3,
    /// tls-unique on TLS 1.2).
    public var channelBinding: ChannelBinding?
    /// Use PLAIN and LOGIN without TLS (RFC 4616 §6 advises against it).
    public var allowPlaintextWithoutTLS: Bool
    /// A configured mechanism: only it is used, and only when the server offers it.
    public var mechanism: SASLMechanism?
    /// Mechanisms the client may use at all.
    public var allowedMechanisms: Set<SASLMechanism>

    public init(
        tlsActive: Bool,
        channelBinding: ChannelBinding? = nil,
        allowPlaintextWithoutTLS: Bool = false,
        mechanism: SASLMechanism? = nil,
        allowedMechanisms: Set<SASLMechanism> = Set(SASLMechanism.allCases)
    ) {
        self.tlsActive = tlsActive
        self.channelBinding = channelBinding
        self.allowPlaintextWithoutTLS = allowPlaintextWithoutTLS
        self.mechanism = mechanism
        self.allowedMechanisms = allowedMechanisms
    }

    /// Whether these circumstances permit `mechanism` (ignoring what the server offers).
    public func permits(_ mechanism: SASLMechanism) -> Bool {
        guard allowedMechanisms.contains(mechanism) else { return false }
        if mechanism.usesChannelBinding, !(channelBinding?.isWellFormed ?? false) { return false }
        if mechanism.sendsPasswordInClear, !tlsActive, !allowPlaintextWithoutTLS { return false }
        return true
    }
}

extension SASLMechanism {
    /// The mechanism to use with a server that advertised `advertised` (names as sent,
    /// any case, unknown names ignored): the configured one if set and offered, otherwise
    /// the strongest offered one that `options` permit, in the order of `allCases`
    /// (SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN,
    /// LOGIN). Nil when there is none.
    public static func select(advertised: some Sequence<String>, options: SASLClientOptions) -> SASLMechanism? {
        let offered = Set(advertised.compactMap { SASLMechanism(name: $0) })
        let candidates = options.mechanism.map { [$0] } ?? SASLMechanism.allCases
        return candidates.first { offered.contains($0) && options.permits($0) }
    }
}

/// What the client's protocol code does next.
public enum SASLClientAction: Sendable, Hashable {
    /// Send these octets (base64 on the wire) as the response to the challenge.
    case respond([UInt8])
    /// Authenticated; for SCRAM, the server proved it knows the user's keys.
    case success
    /// Stop: cancel the exchange ("*") if it is still open.
    case failure(SASLFailure)
}

/// One client-side authentication exchange.
public struct SASLClient: Sendable {
    public let mechanism: SASLMechanism
    /// True once the exchange succeeded or failed.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    private let username: [UInt8]
    private let password: [UInt8]
    private let authorizationIdentity: String?
    private let channelBinding: ChannelBinding?
    private let flag: SCRAMChannelBindingFlag
    private let nonce: SASLNonce
    private var state: State = .idle

    private enum State: Sendable {
        case idle
        /// A client-first mechanism whose initial response could not go with the command:
        /// the server's first (empty) challenge asks for it (RFC 4422 §5 item 2b).
        case awaitingInitialChallenge
        case awaitingLoginUsernamePrompt
        case awaitingLoginPasswordPrompt
        case awaitingCRAMChallenge
        case awaitingSCRAMServerFirst(clientFirstBare: [UInt8], gs2Header: [UInt8])
        case awaitingSCRAMServerFinal(serverSignature: [UInt8])
        case scramVerified
        /// Everything sent; waiting for the outcome.
        case awaitingOutcome
        case finished
    }

    /// A client for `mechanism`.
    ///
    /// - Parameters:
    ///   - channelBinding: the TLS layer's binding, required for -PLUS; for other SCRAM
    ///     mechanisms it decides between the "y" and "n" flags (RFC 5802 §6).
    ///   - serverOffersChannelBinding: whether the server advertised a -PLUS mechanism. A
    ///     client with channel binding that picks plain SCRAM tells the server "y" only
    ///     when it did not, so a server that did can detect the downgrade.
    ///   - nonce: the client nonce for SCRAM; random unless a test fixes it.
    /// - Throws: when the credentials cannot be used with the mechanism (SASLprep fails,
    ///   a NUL in a PLAIN identity, a limit exceeded) or -PLUS lacks channel binding.
    public init(
        mechanism: SASLMechanism,
        credentials: SASLClientCredentials,
        channelBinding: ChannelBinding? = nil,
        serverOffersChannelBinding: Bool = false,
        nonce: SASLNonce = .random()
    ) throws(SASLFailure) {
        self.mechanism = mechanism
        self.nonce = nonce
        var username = credentials.username
        var password = credentials.password
        var authorizationIdentity = credentials.authorizationIdentity.flatMap { $0.isEmpty ? nil : $0 }
        guard password.utf8.count <= SASLLimits.maxPasswordLength else {
            throw .passwordPreparation("longer than \(SASLLimits.maxPasswordLength) octets")
        }
        guard !password.isEmpty else { throw .passwordPreparation("empty") }
        if mechanism.scramHash != nil {
            // RFC 5802 §5.1 n=: the client prepares the username with SASLprep; §2.2
            // Normalize(): the password too. Authzids are prepared like usernames.
            do throws(SASLprepError) {
                username = try SASLprep.opaqueString(username)
            } catch {
                throw .usernamePreparation(error.description)
            }
            do throws(SASLprepError) {
                password = try SASLprep.opaqueString(password)
            } catch {
                throw .passwordPreparation(error.description)
            }
            if let authzid = authorizationIdentity {
                do throws(SASLprepError) {
                    authorizationIdentity = try SASLprep.opaqueString(authzid)
                } catch {
                    throw .invalidAuthorizationIdentity(error.description)
                }
            }
        }
        // PLAIN, LOGIN and CRAM-MD5 send the strings as given: the server prepares them
        // (RFC 4616 §2), and preparing here too could only break a server that does not.
        guard !username.isEmpty else { throw .usernamePreparation("empty") }
        guard username.utf8.count <= SASLLimits.maxUsernameLength else {
            throw .usernamePreparation("longer than \(SASLLimits.maxUsernameLength) octets")
        }
        if let authorizationIdentity, authorizationIdentity.utf8.count > SASLLimits.maxAuthorizationIdentityLength {
            throw .invalidAuthorizationIdentity("longer than \(SASLLimits.maxAuthorizationIdentityLength) octets")
        }
        if mechanism == .plain {
            // RFC 4616 §2: NUL separates the fields, so none may contain it.
            guard !username.utf8.contains(0) else { throw .usernamePreparation("contains NUL") }
            guard !password.utf8.contains(0) else { throw .passwordPreparation("contains NUL") }
            if let authorizationIdentity, authorizationIdentity.utf8.contains(0) {
                throw .invalidAuthorizationIdentity("contains NUL")
            }
        }
        if mechanism.usesChannelBinding {
            guard let channelBinding, channelBinding.isWellFormed else { throw .channelBindingUnavailable }
            self.flag = .required(channelBinding.type)
            self.channelBinding = channelBinding
        } else {
            self.flag = channelBinding != nil && !serverOffersChannelBinding ? .supportedButNotUsed : .notSupported
            self.channelBinding = nil
        }
        self.username = Array(username.utf8)
        self.password = Array(password.utf8)
        self.authorizationIdentity = authorizationIdentity
    }

    /// A client for the mechanism `SASLMechanism.select(advertised:options:)` picks.
    public init(
        advertised: some Sequence<String>,
        credentials: SASLClientCredentials,
        options: SASLClientOptions,
        nonce: SASLNonce = .random()
    ) throws(SASLFailure) {
        let names = Array(advertised)
        guard let mechanism = SASLMechanism.select(advertised: names, options: options) else {
            throw .noAcceptableMechanism
        }
        let offersPlus = names.contains { SASLMechanism(name: $0)?.usesChannelBinding ?? false }
        try self.init(
            mechanism: mechanism, credentials: credentials, channelBinding: options.channelBinding,
            serverOffersChannelBinding: offersPlus, nonce: nonce)
    }

    /// Begins the exchange. Returns the initial response for client-first mechanisms
    /// (PLAIN, SCRAM) when `initialResponseAllowed`; nil otherwise, and then the first
    /// challenge (empty, for client-first mechanisms) is answered by `receive`.
    /// `initialResponseAllowed` is false where the protocol has no room for one: IMAP
    /// without SASL-IR, or an SMTP AUTH line that would grow too long (RFC 4954 §4).
    public mutating func start(initialResponseAllowed: Bool = true) -> [UInt8]? {
        guard case .idle = state else { return nil }
        switch mechanism {
        case .login:
            state = .awaitingLoginUsernamePrompt
            return nil
        case .cramMD5:
            state = .awaitingCRAMChallenge
            return nil
        case .plain, .scramSHA1, .scramSHA256, .scramSHA1Plus, .scramSHA256Plus:
            guard initialResponseAllowed else {
                state = .awaitingInitialChallenge
                return nil
            }
            return initialResponse()
        }
    }

    /// Continues with the server's decoded challenge.
    public mutating func receive(challenge: [UInt8]) -> SASLClientAction {
        guard challenge.count <= SASLLimits.maxMessageLength else {
            return fail(.messageTooLong(length: challenge.count, limit: SASLLimits.maxMessageLength))
        }
        if case .idle = state { _ = start(initialResponseAllowed: false) }
        switch state {
        case .awaitingInitialChallenge:
            guard challenge.isEmpty else { return fail(.unexpectedMessage("non-empty first challenge in a client-first mechanism")) }
            return .respond(initialResponse())
        case .awaitingLoginUsernamePrompt:
            state = .awaitingLoginPasswordPrompt
            return .respond(username)
        case .awaitingLoginPasswordPrompt:
            state = .awaitingOutcome
            return .respond(password)
        case .awaitingCRAMChallenge:
            guard !challenge.isEmpty else { return fail(.malformed("empty CRAM-MD5 challenge")) }
            // RFC 2195 §2: username, a space, and HMAC-MD5(password, challenge) as 32
            // lowercase hex digits.
            let key = CRAMMD5Key(password: String(decoding: password, as: UTF8.self))
            state = .awaitingOutcome
            return .respond(username + [UInt8(ascii: " ")] + Array(Bytes.hex(key.digest(challenge: challenge)).utf8))
        case let .awaitingSCRAMServerFirst(clientFirstBare, gs2Header):
            return receiveSCRAMServerFirst(challenge, clientFirstBare: clientFirstBare, gs2Header: gs2Header)
        case let .awaitingSCRAMServerFinal(serverSignature):
            switch verifySCRAMServerFinal(challenge, serverSignature: serverSignature) {
            case let .failure(failure):
                return fail(failure)
            case .success:
                // RFC 4422 §5: the additional data of success came as a challenge; the
                // response is empty, then the outcome follows.
                state = .scramVerified
                return .respond([])
            }
        case .scramVerified, .awaitingOutcome:
            return fail(.unexpectedMessage("challenge after the exchange completed"))
        case .idle, .finished:
            return fail(.unexpectedMessage("exchange already finished"))
        }
    }

    /// The server reported success, with additional data when its protocol carries any
    /// (RFC 4422 §5).
    public mutating func receiveSuccess(additionalData: [UInt8]? = nil) -> SASLClientAction {
        switch state {
        case let .awaitingSCRAMServerFinal(serverSignature):
            guard let additionalData else { return fail(.serverSignatureMissing) }
            if case let .failure(failure) = verifySCRAMServerFinal(additionalData, serverSignature: serverSignature) {
                return fail(failure)
            }
            state = .finished
            return .success
        case .scramVerified:
            state = .finished
            return .success
        case .finished:
            return fail(.unexpectedMessage("exchange already finished"))
        default:
            if mechanism.scramHash != nil { return fail(.serverSignatureMissing) }
            if let additionalData, !additionalData.isEmpty {
                return fail(.unexpectedMessage("additional data with success for \(mechanism)"))
            }
            state = .finished
            return .success
        }
    }

    // MARK: Mechanisms

    private mutating func initialResponse() -> [UInt8] {
        if mechanism == .plain {
            // RFC 4616 §2: [authzid] NUL authcid NUL passwd.
            state = .awaitingOutcome
            return Array((authorizationIdentity ?? "").utf8) + [0] + username + [0] + password
        }
        // RFC 5802 §7 client-first-message = gs2-header client-first-message-bare.
        let authzid = authorizationIdentity.map { "a=" + SCRAMSyntax.encodeSaslname($0) } ?? ""
        let gs2Header = Array("\(flag.wire),\(authzid),".utf8)
        let bare = Array("n=\(SCRAMSyntax.encodeSaslname(String(decoding: username, as: UTF8.self))),r=\(nonce.value)".utf8)
        state = .awaitingSCRAMServerFirst(clientFirstBare: bare, gs2Header: gs2Header)
        return gs2Header + bare
    }

    private mutating func receiveSCRAMServerFirst(
        _ message: [UInt8], clientFirstBare: [UInt8], gs2Header: [UInt8]
    ) -> SASLClientAction {
        guard let hash = mechanism.scramHash else { return fail(.unexpectedMessage("not a SCRAM mechanism")) }
        let serverFirst: SCRAMServerFirst
        do throws(SASLFailure) {
            serverFirst = try SCRAMSyntax.parseServerFirst(message)
        } catch {
            return fail(error)
        }
        // RFC 5802 §5.1 r=: the client MUST verify that the nonce starts with its own; it
        // must also have grown, or the server contributed nothing against replay.
        guard serverFirst.nonce.utf8.starts(with: nonce.value.utf8) else {
            return fail(.invalidServerNonce("does not start with the client nonce"))
        }
        guard serverFirst.nonce.utf8.count > nonce.value.utf8.count else {
            return fail(.invalidServerNonce("server added no nonce of its own"))
        }
        guard SCRAMCredentials.iterationRange.contains(serverFirst.iterations) else {
            return fail(.iterationCountOutOfRange(serverFirst.iterations))
        }
        // RFC 5802 §3.
        let saltedPassword = hash.hi(password, salt: serverFirst.salt, iterations: serverFirst.iterations)
        let keys = SCRAMKeys(hash: hash, saltedPassword: saltedPassword)
        let bindingInput = gs2Header + (channelBinding?.data ?? [])
        let withoutProof = Array("c=\(SASLBase64.encode(bindingInput)),r=\(serverFirst.nonce)".utf8)
        let authMessage = clientFirstBare + [SCRAMSyntax.comma] + message + [SCRAMSyntax.comma] + withoutProof
        let clientSignature = hash.hmac(key: keys.storedKey, authMessage)
        let proof = Bytes.xor(keys.clientKey, clientSignature)
        let serverSignature = hash.hmac(key: keys.serverKey, authMessage)
        state = .awaitingSCRAMServerFinal(serverSignature: serverSignature)
        return .respond(withoutProof + Array(",p=\(SASLBase64.encode(proof))".utf8))
    }

    private func verifySCRAMServerFinal(_ message: [UInt8], serverSignature: [UInt8]) -> Result<Void, SASLFailure> {
        do throws(SASLFailure) {
            switch try SCRAMSyntax.parseServerFinal(message) {
            case let .error(value):
                return .failure(.serverRejected(value))
            case let .verifier(signature):
                // RFC 5802 §5: a wrong ServerSignature means the server does not know
                // the user's ServerKey; the client MUST consider authentication failed.
                return Bytes.constantTimeEqual(signature, serverSignature) ? .success(()) : .failure(.serverSignatureMismatch)
            }
        } catch {
            return .failure(error)
        }
    }

    private mutating func fail(_ failure: SASLFailure) -> SASLClientAction {
        state = .finished
        return .failure(failure)
    }
}
