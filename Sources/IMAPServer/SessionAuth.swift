import IMAP
import SASL
import ServerSupport
import Store

/// An AUTHENTICATE exchange in progress (RFC 9051 §6.2.2).
struct PendingAuthentication {
    var tag: Tag
    var server: SASLServer
    var mechanism: SASLMechanism
    var account: String?
}

extension IMAPSession {
    // MARK: STARTTLS (RFC 9051 §6.2.1)

    func startTLS(_ tag: Tag) async throws -> StatusResponse? {
        guard startTLSAvailable, !tlsActive else {
            return .bad(tlsActive ? "TLS is already active" : "STARTTLS is not available")
        }
        sendTagged(tag, .ok("begin TLS negotiation now"))
        // RFC 9051 §6.2.1: anything the client sent after STARTTLS and before the handshake
        // is not a command; it is dropped with the parser's buffer (and the gate's epoch drops
        // what the connection has not handed over yet).
        _ = parser.takeUnprocessedBytes()
        pendingSignal = .startTLS
        return nil
    }

    // MARK: LOGIN (RFC 9051 §6.2.3)

    func login(_ tag: Tag, username: String, password: String) async throws -> StatusResponse? {
        guard tlsActive || settings.plaintextLoginAllowed else {
            // RFC 9051 §6.2.3 with LOGINDISABLED advertised.
            return .no("LOGIN is not allowed without TLS; use STARTTLS first", code: .privacyRequired)
        }
        // The password goes through the SASL PLAIN machinery, so LOGIN checks credentials
        // exactly like AUTHENTICATE PLAIN (and unknown users cost the same).
        var configuration = saslConfiguration()
        configuration.enabledMechanisms = [.plain]
        configuration.allowPlaintextWithoutTLS = true
        let server = SASLServer(mechanism: .plain, configuration: configuration)
        var pending = PendingAuthentication(tag: tag, server: server, mechanism: .plain)
        let message = [0] + Array(username.utf8) + [0] + Array(password.utf8)
        if await settings.authentication.failureLimiter.isBlocked(settings.remoteAddress) {
            logger.info("login refused: too many failures from address")
            return .no("too many failed logins; try again later", code: .unavailable)
        }
        let action = pending.server.start(initialResponse: message)
        return try await drive(&pending, action, isLogin: true)
    }

    // MARK: AUTHENTICATE (RFC 9051 §6.2.2, RFC 4959 SASL-IR)

    func saslConfiguration() -> SASLServerConfiguration {
        let authentication = settings.authentication
        // RFC 5802 §6: the -PLUS mechanisms are advertised and accepted only with a binding.
        return SASLServerConfiguration(
            serverSecret: authentication.serverSecret, hostname: settings.hostname, tlsActive: tlsActive,
            channelBindings: channelBinding.map { [$0] } ?? [],
            enabledMechanisms: Set(authentication.mechanisms), allowPlaintextWithoutTLS: settings.plaintextLoginAllowed)
    }

    func authenticate(_ tag: Tag, mechanism name: String, initialResponse: [UInt8]?) async throws -> StatusResponse? {
        guard let mechanism = SASLMechanism(name: name), saslConfiguration().availability(of: mechanism) == .available else {
            return .no("authentication mechanism not available", code: .cannot)
        }
        if await settings.authentication.failureLimiter.isBlocked(settings.remoteAddress) {
            logger.info("authentication refused: too many failures from address")
            return .no("too many failed logins; try again later", code: .unavailable)
        }
        var pending = PendingAuthentication(tag: tag, server: SASLServer(mechanism: mechanism, configuration: saslConfiguration()), mechanism: mechanism)
        let action = pending.server.start(initialResponse: initialResponse)
        return try await drive(&pending, action, isLogin: false)
    }

    /// The client's line in answer to a challenge.
    func continueAuthentication(_ response: AuthenticationResponse) async throws {
        guard var pending = pendingAuthentication else { return }
        pendingAuthentication = nil
        switch response {
        case .cancel:
            // RFC 9051 §6.2.2: "*" cancels; the server answers BAD.
            bad(pending.tag, "authentication cancelled")
        case let .data(bytes):
            let action = pending.server.receive(bytes)
            if let status = try await drive(&pending, action, isLogin: false) {
                sendTagged(pending.tag, status)
            }
        }
    }

    /// Runs the SASL machine until it needs the client (a challenge, nil returned) or ends.
    private func drive(_ pending: inout PendingAuthentication, _ first: SASLServerAction, isLogin: Bool) async throws -> StatusResponse? {
        var action = first
        while true {
            switch action {
            case let .challenge(challenge):
                guard !isLogin else { return .no("authentication failed", code: .authenticationFailed) }
                send(.continuation(.challenge(challenge)))
                parser.mode = .authenticationResponse
                pendingAuthentication = pending
                return nil
            case let .needCredentials(request):
                if let found = await settings.authentication.credentials.credentials(for: request.username) {
                    pending.account = found.account
                    action = pending.server.provide(.found(found.credentials))
                } else {
                    action = pending.server.provide(.unknownUser)
                }
            case let .success(authentication):
                // RFC 4616 §2 / RFC 4422 §3.4.1: acting as another identity is not allowed.
                if let authzid = authentication.authorizationIdentity, authzid != authentication.authenticationIdentity,
                   authzid != pending.account {
                    metrics.countAuthentication(success: false)
                    logger.info("authentication refused: authorization identity", metadata: ["authzid": "\(authzid)"])
                    return .no("not authorized to act as that user", code: .authorizationFailed)
                }
                await settings.authentication.failureLimiter.recordSuccess(settings.remoteAddress)
                let accountName = pending.account ?? authentication.authenticationIdentity
                do {
                    _ = try await loggedIn(accountName: accountName)
                } catch {
                    metrics.countAuthentication(success: false)
                    return error.status
                }
                metrics.countAuthentication(success: true)
                logger.info("authenticated", metadata: ["mechanism": "\(isLogin ? "LOGIN" : pending.mechanism.name)"])
                // RFC 9051 §6.2.2: the OK may carry the capabilities, which changed.
                return .ok(isLogin ? "LOGIN completed" : "AUTHENTICATE completed", code: .capability(capabilities()))
            case let .failure(failure, _):
                metrics.countAuthentication(success: false)
                logger.info("authentication failed", metadata: ["mechanism": "\(isLogin ? "LOGIN" : pending.mechanism.name)", "reason": "\(failure)"])
                // Each failure from an address is answered later than the one before.
                let delay = await settings.authentication.failureLimiter.recordFailure(settings.remoteAddress)
                try await Task.sleep(for: delay)
                return .no("authentication failed", code: .authenticationFailed)
            }
        }
    }
}
