import SASL

/// What AUTH needs on a listener: which mechanisms, where credentials come from, and the
/// secret that makes unknown users indistinguishable from wrong passwords (SASL module).
public struct Authentication: Sendable {
    public var credentials: any CredentialSource
    public var mechanisms: [SASLMechanism]
    public var serverSecret: [UInt8]
    /// Failures per client address, shared by every listener.
    public var failureLimiter: AuthFailureLimiter

    /// Mechanisms offered when none are configured: SCRAM first; -PLUS variants need TLS
    /// channel binding, which this listener does not provide yet, so they are not offered.
    public static let defaultMechanisms: [SASLMechanism] = [.scramSHA256, .scramSHA1, .plain, .login]

    public init(
        credentials: any CredentialSource, mechanisms: [SASLMechanism] = defaultMechanisms, serverSecret: [UInt8],
        failureLimiter: AuthFailureLimiter = AuthFailureLimiter()
    ) {
        self.credentials = credentials
        self.mechanisms = mechanisms
        self.serverSecret = serverSecret
        self.failureLimiter = failureLimiter
    }
}

/// Looks up a login name: the account it belongs to and its stored credentials, or nil for
/// an unknown user.
public protocol CredentialSource: Sendable {
    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)?
}
