import SASL

/// What AUTH needs on a listener: which mechanisms, where credentials come from, and the
/// secret that makes unknown users indistinguishable from wrong passwords (SASL module).
public struct Authentication: Sendable {
    public var credentials: any CredentialSource
    public var mechanisms: [SASLMechanism]
    public var serverSecret: [UInt8]
    /// Failures per client address, shared by every listener.
    public var failureLimiter: AuthFailureLimiter

    /// Mechanisms offered when none are configured, strongest first. The -PLUS variants
    /// are offered only on connections with a channel binding (TLS 1.2 or 1.3 with the
    /// key-log capture of `TLSHandshakeRecorder` in the TLS context).
    public static let defaultMechanisms: [SASLMechanism] = [.scramSHA256Plus, .scramSHA1Plus, .scramSHA256, .scramSHA1, .plain, .login]

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
