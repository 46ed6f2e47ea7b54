// Why an exchange failed, precisely, on either side.

/// Why a mechanism is not offered on this connection.
public enum SASLMechanismAvailability: Sendable, Hashable {
    case available
    /// The operator did not enable it.
    case notEnabled
    /// PLAIN and LOGIN without TLS (RFC 4954 §4 lets the server answer 538, "encryption
    /// required").
    case requiresTLS
    /// A -PLUS mechanism on a connection without channel binding data (RFC 5802 §6:
    /// advertise -PLUS only where binding really works).
    case requiresChannelBinding
}

/// Why an exchange failed. The same type serves the server and the client: a server
/// reports what was wrong with the client's messages (for its log and its reply code),
/// a client what was wrong with the server's.
///
/// The server's reason is precise, but what it puts on the wire is not always: an unknown
/// user, a user without credentials for the mechanism and a wrong password all produce the
/// same messages and the same SCRAM "e=invalid-proof" (RFC 5802 §9 asks servers not to
/// reveal whether a user exists). `scramServerError` gives the wire value.
public enum SASLFailure: Error, Sendable, Hashable, CustomStringConvertible {
    // Sequencing.
    /// The mechanism is not offered here (see `SASLServerConfiguration.availability(of:)`).
    case mechanismUnavailable(SASLMechanism, SASLMechanismAvailability)
    /// No mechanism offered by the server is acceptable to the client.
    case noAcceptableMechanism
    /// An initial response for a mechanism where the server speaks first (RFC 4422 §5:
    /// "the authentication exchange fails"; RFC 4954 §4: reply 501).
    case initialResponseNotAllowed
    /// A message where none was expected: after the outcome, a non-empty response to a
    /// final SCRAM challenge, a third LOGIN challenge, and so on.
    case unexpectedMessage(String)
    /// A challenge or response longer than `SASLLimits.maxMessageLength`.
    case messageTooLong(length: Int, limit: Int)

    // Syntax.
    /// The message does not follow the mechanism's grammar; the text says where.
    case malformed(String)
    /// SCRAM "m=" (RFC 5802 §5.1: its presence MUST cause authentication failure).
    case mandatoryExtensionUnsupported
    /// The authentication identity is not valid UTF-8, badly escaped, too long, or fails
    /// SASLprep (RFC 5802 §5.1: the server SHOULD abort).
    case invalidUsername(String)
    /// The authorization identity is not valid UTF-8, too long, or fails SASLprep
    /// (RFC 4954 §4: the server MUST fail the authentication).
    case invalidAuthorizationIdentity(String)

    // Channel binding (RFC 5802 §6).
    /// A -PLUS mechanism was selected but the client sent the "n" or "y" flag.
    case channelBindingRequired
    /// The "p=" flag with a mechanism that is not -PLUS.
    case channelBindingNotAllowed
    /// The "p=" flag on a connection where the server has no channel binding at all.
    case channelBindingNotSupported
    /// The "p=" flag with a type the server does not have on this connection.
    case unsupportedChannelBindingType(String)
    /// The client's c= attribute is not the GS2 header plus this channel's binding data:
    /// a different TLS channel, that is, a man in the middle (or a broken client).
    case channelBindingMismatch
    /// The client sent "y" (it supports channel binding but believes the server does not)
    /// while the server offers -PLUS: someone removed -PLUS from the mechanism list.
    case downgradeDetected

    // Credentials.
    /// The client-final nonce is not the one the server sent (RFC 5802 §5.1 r=).
    case nonceMismatch
    /// Server side: no such user. On the wire identical to `invalidCredentials`.
    case unknownUser
    /// Server side: the user exists but has no usable stored credentials for this
    /// mechanism (no CRAM-MD5 key, no SCRAM credentials for the hash, or unusable ones).
    /// On the wire identical to `invalidCredentials`.
    case credentialsUnavailable
    /// Wrong password, digest or proof.
    case invalidCredentials

    // Client side.
    /// The server failed the exchange with SCRAM "e=" and this value (RFC 5802 §7).
    case serverRejected(String)
    /// The server's SCRAM signature is wrong: it does not know the user's keys, so the
    /// client must not trust it (RFC 5802 §5: mutual authentication).
    case serverSignatureMismatch
    /// The server reported success without sending its SCRAM signature.
    case serverSignatureMissing
    /// The server's nonce does not start with the client's, adds nothing, or is not
    /// printable (RFC 5802 §5.1 r=).
    case invalidServerNonce(String)
    /// The server's iteration count is outside `SCRAMCredentials.iterationRange`.
    case iterationCountOutOfRange(Int)
    /// The server's salt is empty, too long or not base64.
    case invalidSalt(String)
    /// The client's username fails SASLprep or is too long.
    case usernamePreparation(String)
    /// The client's password fails SASLprep or is too long.
    case passwordPreparation(String)
    /// A -PLUS mechanism without channel binding data from the TLS layer.
    case channelBindingUnavailable

    /// The RFC 5802 §7 server-error-value a SCRAM server sends for this failure. Reasons
    /// about the user's identity all become "invalid-proof" so that the messages do not
    /// tell an unknown user from a wrong password.
    public var scramServerError: String {
        switch self {
        case .malformed, .invalidAuthorizationIdentity: "invalid-encoding"
        case .mandatoryExtensionUnsupported: "extensions-not-supported"
        case .invalidUsername: "invalid-username-encoding"
        case .unknownUser, .credentialsUnavailable, .invalidCredentials: "invalid-proof"
        case .channelBindingMismatch: "channel-bindings-dont-match"
        case .downgradeDetected: "server-does-support-channel-binding"
        case .channelBindingNotSupported: "channel-binding-not-supported"
        case .unsupportedChannelBindingType: "unsupported-channel-binding-type"
        default: "other-error"
        }
    }

    /// True when the failure is about the credentials rather than the protocol: SMTP
    /// answers 535 (RFC 4954 §6) and counts it towards the authentication failure limit;
    /// other failures are syntax or sequencing errors (501).
    public var isCredentialFailure: Bool {
        switch self {
        case .unknownUser, .credentialsUnavailable, .invalidCredentials: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case let .mechanismUnavailable(mechanism, availability):
            "mechanism \(mechanism) unavailable: \(availability)"
        case .noAcceptableMechanism: "no acceptable mechanism offered"
        case .initialResponseNotAllowed: "initial response not allowed: the server speaks first in this mechanism"
        case let .unexpectedMessage(detail): "unexpected message: \(detail)"
        case let .messageTooLong(length, limit): "message of \(length) octets exceeds the limit of \(limit)"
        case let .malformed(detail): "malformed message: \(detail)"
        case .mandatoryExtensionUnsupported: "mandatory extension (m=) not supported"
        case let .invalidUsername(detail): "invalid username: \(detail)"
        case let .invalidAuthorizationIdentity(detail): "invalid authorization identity: \(detail)"
        case .channelBindingRequired: "-PLUS mechanism selected without channel binding"
        case .channelBindingNotAllowed: "channel binding requested with a mechanism that is not -PLUS"
        case .channelBindingNotSupported: "channel binding requested but this connection has none"
        case let .unsupportedChannelBindingType(type): "unsupported channel binding type \(type)"
        case .channelBindingMismatch: "channel binding data does not match this connection"
        case .downgradeDetected: "client believes the server lacks channel binding although -PLUS is offered (downgrade)"
        case .nonceMismatch: "nonce does not match the server's"
        case .unknownUser: "unknown user"
        case .credentialsUnavailable: "no usable credentials for this mechanism"
        case .invalidCredentials: "invalid credentials"
        case let .serverRejected(value): "server rejected the exchange: e=\(value)"
        case .serverSignatureMismatch: "server signature does not verify"
        case .serverSignatureMissing: "server reported success without its signature"
        case let .invalidServerNonce(detail): "invalid server nonce: \(detail)"
        case let .iterationCountOutOfRange(count): "iteration count \(count) outside \(SCRAMCredentials.iterationRange)"
        case let .invalidSalt(detail): "invalid salt: \(detail)"
        case let .usernamePreparation(detail): "username unusable: \(detail)"
        case let .passwordPreparation(detail): "password unusable: \(detail)"
        case .channelBindingUnavailable: "-PLUS mechanism without channel binding data"
        }
    }
}
