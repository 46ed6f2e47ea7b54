// SASL (RFC 4422) for Tern's SMTP and IMAP servers and its SMTP client: PLAIN (RFC 4616),
// LOGIN (draft-murchison-sasl-login), CRAM-MD5 (RFC 2195), SCRAM-SHA-1 and SCRAM-SHA-256
// with their -PLUS channel-binding variants (RFC 5802, RFC 7677, RFC 9266).
//
// The module is pure: `SASLServer` and `SASLClient` are state machines that take the
// peer's octets and return what to send next; they do no I/O, read no clock, and take
// their randomness (nonces, salts) as parameters. Credential lookup is an explicit step
// (`SASLServerAction.needCredentials`), so the server's asynchronous account store stays
// outside. Base64 on the wire belongs to the protocol adapters (see SASLBase64.swift).
// Stored credentials never include the plain password (SCRAMCredentials.swift).
//
// This file: the mechanisms, their properties, and the limits every exchange enforces.

/// A SASL mechanism (RFC 4422 §3.1). `allCases` is in order of preference, strongest
/// first: channel-bound SCRAM, plain SCRAM (SHA-256 before SHA-1, RFC 7677 §1), CRAM-MD5
/// (a challenge-response, but with a password-equivalent stored key), then PLAIN and
/// LOGIN, which put the password on the wire.
public enum SASLMechanism: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    case scramSHA256Plus = "SCRAM-SHA-256-PLUS"
    case scramSHA1Plus = "SCRAM-SHA-1-PLUS"
    case scramSHA256 = "SCRAM-SHA-256"
    case scramSHA1 = "SCRAM-SHA-1"
    case cramMD5 = "CRAM-MD5"
    case plain = "PLAIN"
    case login = "LOGIN"

    /// The mechanism a client or server named. Matching ignores ASCII case: RFC 4422 §3.1
    /// names are upper case, but SMTP and IMAP treat their command arguments
    /// case-insensitively and clients do send "auth plain".
    public init?(name: some StringProtocol) {
        guard name.utf8.count <= 20 else { return nil }  // RFC 4422 §3.1: at most 20 characters.
        var upper: [UInt8] = []
        for byte in name.utf8 {
            guard byte < 0x80 else { return nil }
            upper.append(byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 0x20 : byte)
        }
        self.init(rawValue: String(decoding: upper, as: UTF8.self))
    }

    /// The registered name, as advertised and sent.
    public var name: String { rawValue }
    public var description: String { rawValue }

    /// The SCRAM hash of a SCRAM mechanism (RFC 5802 §4, RFC 7677 §3).
    public var scramHash: SCRAMHash? {
        switch self {
        case .scramSHA1, .scramSHA1Plus: .sha1
        case .scramSHA256, .scramSHA256Plus: .sha256
        case .cramMD5, .plain, .login: nil
        }
    }

    /// True for the -PLUS variants, which bind the exchange to the TLS channel (RFC 5802 §6).
    public var usesChannelBinding: Bool {
        self == .scramSHA1Plus || self == .scramSHA256Plus
    }

    /// True for PLAIN and LOGIN, which send the password itself: offered and used only
    /// under TLS unless the operator explicitly allows otherwise (RFC 4616 §6).
    public var sendsPasswordInClear: Bool {
        self == .plain || self == .login
    }

    /// True when the client speaks first (RFC 4422 §5 item 2a): PLAIN and SCRAM can send an
    /// initial response; LOGIN and CRAM-MD5 wait for the server's challenge.
    public var isClientFirst: Bool {
        switch self {
        case .plain, .scramSHA1, .scramSHA1Plus, .scramSHA256, .scramSHA256Plus: true
        case .login, .cramMD5: false
        }
    }

    /// The non-PLUS mechanism for a -PLUS one, itself otherwise.
    public var withoutChannelBinding: SASLMechanism {
        switch self {
        case .scramSHA1Plus: .scramSHA1
        case .scramSHA256Plus: .scramSHA256
        default: self
        }
    }
}

/// The named limits of every exchange, client and server alike. Each one bounds what a
/// peer can make this side store or compute; going past one is a precise `SASLFailure`.
public enum SASLLimits {
    /// The longest single challenge or response, in octets after base64 decoding. The
    /// largest legitimate message is a PLAIN response with an authorization identity,
    /// a username and a password at their limits (255 + 255 + 1024 + 2 octets); SCRAM
    /// messages stay far below. RFC 4954 §4 considers 12288-octet lines sufficient, and the
    /// base64 form of 4096 octets (5464 characters) fits in that.
    public static let maxMessageLength = 4096
    /// `maxMessageLength` once base64-encoded: adapters reject longer lines unread.
    public static let maxEncodedMessageLength = SASLBase64.encodedLength(of: maxMessageLength)
    /// Octets of an authentication identity after SASLprep. RFC 4616 §2 asks servers to
    /// accept at least 255; addresses used as usernames are shorter than 254 (RFC 5321
    /// §4.5.3.1.3 path limit).
    public static let maxUsernameLength = 255
    /// Octets of an authorization identity, bounded like usernames.
    public static let maxAuthorizationIdentityLength = 255
    /// Octets of a password (PLAIN, LOGIN, and the client side of every mechanism). Large
    /// enough for any passphrase, small enough that one Hi() input stays trivial.
    public static let maxPasswordLength = 1024
    /// Characters of each side's part of a SCRAM nonce (RFC 5802 §5.1 r=). Real nonces
    /// are 16 to 64 characters; the bound keeps AuthMessage small.
    public static let maxNonceLength = 256
    /// Octets of a SCRAM salt a client accepts from a server (RFC 5802 §5.1 s=).
    public static let maxSaltLength = 256
    /// Octets of channel binding data (RFC 5929 §3, RFC 9266 §2: tls-unique is 12 to 36
    /// octets, tls-exporter 32).
    public static let maxChannelBindingLength = 128
    /// Characters of a channel binding type name such as "tls-exporter" (RFC 5056 §7).
    public static let maxChannelBindingTypeLength = 64
}
