// Stored passwords in the domains file: SCRAM credentials in the RFC 5803 text form.
//
// Only the syntax is checked here (scheme, iteration count, base64, key lengths), with the
// same bounds the SASL module applies, so a value that passes here is one the server can use.
// The file never holds a plaintext password (CRAMMD5Secret aside, see `Account`).

import Foundation

/// One SCRAM credential: `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`
/// (RFC 5803 §3; RFC 5802 §3 for the keys).
public struct SCRAMPassword: Sendable, Hashable {
    public enum Scheme: String, Sendable, Hashable, CaseIterable {
        case scramSHA1 = "SCRAM-SHA-1"
        case scramSHA256 = "SCRAM-SHA-256"

        /// Octets of StoredKey and ServerKey: the hash output (SHA-1: 20, SHA-256: 32).
        public var keyLength: Int {
            switch self {
            case .scramSHA1: 20
            case .scramSHA256: 32
            }
        }
    }

    public var scheme: Scheme
    public var iterations: Int
    public var salt: [UInt8]
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]
    /// The text as written, for the SASL module's own parser.
    public var rfc5803: String

    /// RFC 7677 §4 and RFC 5802 §5.1: at least 4096 iterations.
    public static let minimumIterations = 4096
    /// The most clients are asked to compute per login (about a second); as in SASL.
    public static let maximumIterations = 1_000_000
    /// Longest salt accepted, in octets; as in SASL.
    public static let maximumSaltLength = 256

    /// Parses the RFC 5803 form. The scheme is case-insensitive (RFC 3112 §2); the rest is
    /// exact: the iteration count is a decimal number without leading zeros, the other
    /// fields strict base64 with padding.
    public init(rfc5803 text: String) throws(SCRAMPasswordError) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw SCRAMPasswordError("expected SCHEME$ITERATIONS:SALT$STOREDKEY:SERVERKEY (RFC 5803), found \(parts.count) part(s) separated by '$'")
        }
        guard let scheme = Scheme.allCases.first(where: { $0.rawValue == parts[0].uppercased() }) else {
            throw SCRAMPasswordError("unknown scheme '\(parts[0].prefix(40))'; expected SCRAM-SHA-256 or SCRAM-SHA-1")
        }
        let info = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard info.count == 2 else {
            throw SCRAMPasswordError("expected ITERATIONS:SALT after '\(scheme.rawValue)$'")
        }
        let keys = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard keys.count == 2 else {
            throw SCRAMPasswordError("expected STOREDKEY:SERVERKEY after the salt")
        }
        let digits = info[0]
        guard let first = digits.first, first != "0", digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw SCRAMPasswordError("iteration count '\(digits.prefix(20))' is not a positive whole number")
        }
        let iterations = digits.count > 9 ? Int.max : Int(digits) ?? Int.max
        guard (Self.minimumIterations...Self.maximumIterations).contains(iterations) else {
            throw SCRAMPasswordError("iteration count \(digits.prefix(20)) is outside \(Self.minimumIterations)...\(Self.maximumIterations) (RFC 7677 §4 asks for at least 4096)")
        }
        guard let salt = Self.base64(info[1]) else { throw SCRAMPasswordError("the salt is not valid base64") }
        guard (1...Self.maximumSaltLength).contains(salt.count) else {
            throw SCRAMPasswordError("the salt has \(salt.count) octets; expected 1 to \(Self.maximumSaltLength)")
        }
        guard let storedKey = Self.base64(keys[0]) else { throw SCRAMPasswordError("StoredKey is not valid base64") }
        guard let serverKey = Self.base64(keys[1]) else { throw SCRAMPasswordError("ServerKey is not valid base64") }
        guard storedKey.count == scheme.keyLength else {
            throw SCRAMPasswordError("StoredKey has \(storedKey.count) octets; \(scheme.rawValue) needs \(scheme.keyLength)")
        }
        guard serverKey.count == scheme.keyLength else {
            throw SCRAMPasswordError("ServerKey has \(serverKey.count) octets; \(scheme.rawValue) needs \(scheme.keyLength)")
        }
        self.scheme = scheme
        self.iterations = iterations
        self.salt = salt
        self.storedKey = storedKey
        self.serverKey = serverKey
        rfc5803 = text
    }

    /// Strict base64 (RFC 4648 §4) with padding; nil for anything else, the empty string included.
    static func base64(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.count % 4 == 0,
              text.utf8.allSatisfy({ byte in
                  (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                      || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
                      || byte == UInt8(ascii: "=")
              }),
              let data = Data(base64Encoded: String(text))
        else { return nil }
        return Array(data)
    }
}

/// Why a stored password did not parse. The message never repeats the keys.
public struct SCRAMPasswordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
