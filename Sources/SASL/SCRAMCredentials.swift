import Crypto

// Stored credentials: SCRAM keys (RFC 5802 §3) in place of the password, their RFC 5803
// text form, and the CRAM-MD5 key. Also the hash primitives the mechanisms share.

/// The hash function of a SCRAM mechanism (RFC 5802 §4: the IANA "Hash Function Textual
/// Names" entry).
public enum SCRAMHash: String, Sendable, Hashable, Codable, CaseIterable {
    case sha1 = "SHA-1"
    case sha256 = "SHA-256"

    /// Octets of the hash output, and so of every SCRAM key and proof.
    public var outputByteCount: Int {
        switch self {
        case .sha1: Insecure.SHA1.byteCount
        case .sha256: SHA256.byteCount
        }
    }

    /// The SCRAM mechanism with this hash, with or without channel binding.
    public func mechanism(channelBinding: Bool) -> SASLMechanism {
        switch self {
        case .sha1: channelBinding ? .scramSHA1Plus : .scramSHA1
        case .sha256: channelBinding ? .scramSHA256Plus : .scramSHA256
        }
    }

    /// RFC 5802 §2.2 H().
    func digest(_ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: Insecure.SHA1.hash(data: data).withUnsafeBytes { Array($0) }
        case .sha256: SHA256.hash(data: data).withUnsafeBytes { Array($0) }
        }
    }

    /// RFC 5802 §2.2 HMAC(key, str).
    func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        switch self {
        case .sha1: CryptoPrimitives.hmac(Insecure.SHA1.self, key: key, data)
        case .sha256: CryptoPrimitives.hmac(SHA256.self, key: key, data)
        }
    }

    /// RFC 5802 §2.2 Hi(str, salt, i): PBKDF2 (RFC 8018 §5.2) with HMAC as the PRF and
    /// one block of output. `iterations` below 1 counts as 1.
    func hi(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        switch self {
        case .sha1: CryptoPrimitives.pbkdf2(Insecure.SHA1.self, password: password, salt: salt, iterations: iterations)
        case .sha256: CryptoPrimitives.pbkdf2(SHA256.self, password: password, salt: salt, iterations: iterations)
        }
    }
}

enum CryptoPrimitives {
    static func hmac<H: HashFunction>(_: H.Type, key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        HMAC<H>.authenticationCode(for: data, using: SymmetricKey(data: key)).withUnsafeBytes { Array($0) }
    }

    static func pbkdf2<H: HashFunction>(_: H.Type, password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        // The keyed HMAC state is computed once and copied for every iteration; the
        // digest contexts inside are copy-on-write, so each copy starts from the keyed
        // state instead of rehashing the padded key.
        let keyed = HMAC<H>(key: SymmetricKey(data: password))
        var first = keyed
        first.update(data: salt + [0, 0, 0, 1])  // INT(1), RFC 5802 §2.2.
        var block = first.finalize().withUnsafeBytes { Array($0) }
        var result = block
        var remaining = iterations - 1
        while remaining > 0 {
            var mac = keyed
            mac.update(data: block)
            block = mac.finalize().withUnsafeBytes { Array($0) }
            for index in result.indices {
                result[index] ^= block[index]
            }
            remaining -= 1
        }
        return result
    }
}

/// Why an RFC 5803 string did not parse.
public enum SCRAMCredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The scheme is not SCRAM-SHA-1 or SCRAM-SHA-256.
    case unknownScheme(String)
    /// The string is not `scheme$iterations:salt$storedKey:serverKey`; the text says which
    /// part is missing or extra.
    case malformed(String)
    /// The iteration count is not a positive decimal number without leading zeros.
    case invalidIterationCount(String)
    /// The iteration count is outside `SCRAMCredentials.iterationRange`.
    case iterationCountOutOfRange(Int)
    /// A field is not strict base64; the associated value names it.
    case invalidBase64(field: String)
    /// The salt is empty or longer than `SASLLimits.maxSaltLength`.
    case invalidSaltLength(Int)
    /// StoredKey or ServerKey is not as long as the hash output.
    case invalidKeyLength(field: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .unknownScheme(scheme): "unknown scheme \"\(scheme)\" (want SCRAM-SHA-1 or SCRAM-SHA-256)"
        case let .malformed(detail): "malformed SCRAM credentials: \(detail)"
        case let .invalidIterationCount(text): "invalid iteration count \"\(text)\""
        case let .iterationCountOutOfRange(count): "iteration count \(count) outside \(SCRAMCredentials.iterationRange)"
        case let .invalidBase64(field): "\(field) is not valid base64"
        case let .invalidSaltLength(length): "salt of \(length) octets (want 1...\(SASLLimits.maxSaltLength))"
        case let .invalidKeyLength(field, expected, actual): "\(field) of \(actual) octets (want \(expected))"
        }
    }
}

/// A user's SCRAM credentials: what the server stores instead of the password
/// (RFC 5802 §3, §9). StoredKey verifies a client's proof; ServerKey signs the server's
/// answer. Neither lets a thief log in over SCRAM without first guessing the password
/// through `iterations` rounds of Hi() per guess, though together with an eavesdropped
/// exchange StoredKey yields ClientKey (RFC 5802 §9).
public struct SCRAMCredentials: Hashable, Sendable, Codable {
    public var hash: SCRAMHash
    public var salt: [UInt8]
    public var iterations: Int
    public var storedKey: [UInt8]
    public var serverKey: [UInt8]

    /// RFC 7677 §4 and RFC 5802 §5.1: at least 4096 iterations. Below that a leaked
    /// StoredKey is too cheap to attack, and clients refuse such servers.
    public static let minimumIterations = 4096
    /// The most a client computes for a server, and a server accepts in stored
    /// credentials: a hostile server cannot make a client spin for long (one million
    /// rounds is about a second), and no deployment uses more.
    public static let maximumIterations = 1_000_000
    /// The counts a client accepts from a server and RFC 5803 parsing accepts.
    public static let iterationRange = minimumIterations...maximumIterations
    /// The count for new passwords. It is paid on every login, not once: the client
    /// computes Hi() for each SCRAM exchange (RFC 5802 §5.1 lets it cache, few do), and
    /// the server computes it for each PLAIN or LOGIN exchange and for each probe of an
    /// unknown user. 10,000 keeps that to a few milliseconds on small servers and phones
    /// while costing an offline guesser 2.4 times the RFC 7677 §4 floor of 4096.
    public static let defaultIterations = 10_000
    /// Octets of a new salt: 128 bits, the NIST SP 800-132 minimum, and what common SCRAM
    /// servers use.
    public static let defaultSaltLength = 16

    public init(hash: SCRAMHash, salt: [UInt8], iterations: Int, storedKey: [UInt8], serverKey: [UInt8]) {
        self.hash = hash
        self.salt = salt
        self.iterations = iterations
        self.storedKey = storedKey
        self.serverKey = serverKey
    }

    /// RFC 5802 §3: SaltedPassword = Hi(Normalize(password), salt, i); ClientKey =
    /// HMAC(SaltedPassword, "Client Key"); StoredKey = H(ClientKey); ServerKey =
    /// HMAC(SaltedPassword, "Server Key"). Normalize() is `SASLprep.opaqueString`.
    ///
    /// Never traps: an iteration count outside 1...`maximumIterations` is clamped into it
    /// (and stored clamped). Counts that come from a peer are checked against
    /// `iterationRange` before they get here.
    public static func derive(password: String, salt: [UInt8], iterations: Int, hash: SCRAMHash) throws(SASLprepError) -> SCRAMCredentials {
        let prepared = try SASLprep.opaqueString(password)
        let count = min(max(iterations, 1), maximumIterations)
        let keys = SCRAMKeys(hash: hash, saltedPassword: hash.hi(Array(prepared.utf8), salt: salt, iterations: count))
        return SCRAMCredentials(hash: hash, salt: salt, iterations: count, storedKey: keys.storedKey, serverKey: keys.serverKey)
    }

    /// New credentials for a password, with a fresh random salt of `defaultSaltLength`
    /// octets from the system's cryptographic generator.
    public static func generate(password: String, hash: SCRAMHash, iterations: Int = defaultIterations) throws(SASLprepError) -> SCRAMCredentials {
        var generator = SystemRandomNumberGenerator()
        return try generate(password: password, hash: hash, iterations: iterations, using: &generator)
    }

    /// `generate(password:hash:iterations:)` with the salt drawn from `generator`.
    public static func generate<G: RandomNumberGenerator>(
        password: String, hash: SCRAMHash, iterations: Int = defaultIterations, using generator: inout G
    ) throws(SASLprepError) -> SCRAMCredentials {
        let salt = (0..<defaultSaltLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try derive(password: password, salt: salt, iterations: iterations, hash: hash)
    }

    /// PLAIN and LOGIN verification against the stored keys: recompute StoredKey from the
    /// password and compare in constant time. False for passwords that fail SASLprep and
    /// for credentials that are not usable (see `isUsable`).
    public func verify(password: String) -> Bool {
        guard isUsable, password.utf8.count <= SASLLimits.maxPasswordLength,
              let prepared = try? SASLprep.opaqueString(password) else { return false }
        let keys = SCRAMKeys(hash: hash, saltedPassword: hash.hi(Array(prepared.utf8), salt: salt, iterations: iterations))
        return Bytes.constantTimeEqual(keys.storedKey, storedKey)
    }

    /// Whether a server can run SCRAM with these credentials: keys as long as the hash
    /// output, a salt within 1...`SASLLimits.maxSaltLength` octets, and an iteration count
    /// in `iterationRange`.
    public var isUsable: Bool {
        storedKey.count == hash.outputByteCount && serverKey.count == hash.outputByteCount
            && (1...SASLLimits.maxSaltLength).contains(salt.count) && Self.iterationRange.contains(iterations)
    }

    /// The RFC 5803 §3 authPassword form:
    /// `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>`.
    public var rfc5803: String {
        "SCRAM-\(hash.rawValue)$\(iterations):\(SASLBase64.encode(salt))$"
            + "\(SASLBase64.encode(storedKey)):\(SASLBase64.encode(serverKey))"
    }

    /// Parses the RFC 5803 §3 form. The scheme is matched case-insensitively (RFC 3112
    /// §2: schemes are case-insensitive); everything else exactly.
    public init(rfc5803 text: String) throws(SCRAMCredentialsError) {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .malformed("want scheme$iterations:salt$storedKey:serverKey, found \(parts.count) $-separated parts")
        }
        let hash: SCRAMHash
        switch parts[0].uppercased() {
        case "SCRAM-SHA-1": hash = .sha1
        case "SCRAM-SHA-256": hash = .sha256
        default: throw .unknownScheme(String(parts[0]))
        }
        let info = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard info.count == 2 else { throw .malformed("want iterations:salt after the scheme") }
        let value = parts[2].split(separator: ":", omittingEmptySubsequences: false)
        guard value.count == 2 else { throw .malformed("want storedKey:serverKey after the salt") }

        let iterationText = info[0]
        guard let iterations = Self.positiveNumber(iterationText) else {
            throw .invalidIterationCount(String(iterationText.prefix(20)))
        }
        guard Self.iterationRange.contains(iterations) else { throw .iterationCountOutOfRange(iterations) }
        guard let salt = SASLBase64.decode(info[1]) else { throw .invalidBase64(field: "salt") }
        guard (1...SASLLimits.maxSaltLength).contains(salt.count) else { throw .invalidSaltLength(salt.count) }
        guard let storedKey = SASLBase64.decode(value[0]) else { throw .invalidBase64(field: "StoredKey") }
        guard let serverKey = SASLBase64.decode(value[1]) else { throw .invalidBase64(field: "ServerKey") }
        guard storedKey.count == hash.outputByteCount else {
            throw .invalidKeyLength(field: "StoredKey", expected: hash.outputByteCount, actual: storedKey.count)
        }
        guard serverKey.count == hash.outputByteCount else {
            throw .invalidKeyLength(field: "ServerKey", expected: hash.outputByteCount, actual: serverKey.count)
        }
        self.init(hash: hash, salt: salt, iterations: iterations, storedKey: storedKey, serverKey: serverKey)
    }

    /// RFC 5802 §7 posit-number: a digit 1-9 then digits; nil for anything else. More than
    /// nine digits is far past `maximumIterations` and comes back as `Int.max`, so callers
    /// report it as out of range without overflowing.
    static func positiveNumber(_ text: some StringProtocol) -> Int? {
        let digits = Array(text.utf8)
        guard let first = digits.first, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(first),
              digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        guard digits.count <= 9 else { return Int.max }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Credentials for a user who does not exist (or has none for this hash), so that
    /// the SCRAM exchange looks like one with a real user (RFC 5802 §9). The salt and keys
    /// are HMACs of the username under the server's secret: the same name always gets the
    /// same salt, as a real user would, and nobody without the secret can predict it. The
    /// keys match no password, so the exchange ends in "e=invalid-proof".
    static func placeholder(username: String, hash: SCRAMHash, secret: [UInt8], iterations: Int) -> SCRAMCredentials {
        func derive(_ purpose: String, _ count: Int) -> [UInt8] {
            let input = Array("tern-sasl-placeholder\0\(purpose)\0\(hash.rawValue)\0".utf8) + Array(username.utf8)
            return Array(CryptoPrimitives.hmac(SHA256.self, key: secret, input).prefix(count))
        }
        return SCRAMCredentials(
            hash: hash, salt: derive("salt", defaultSaltLength),
            iterations: min(max(iterations, minimumIterations), maximumIterations),
            // Both hashes' outputs fit in one HMAC-SHA256 output of 32 octets.
            storedKey: derive("stored-key", hash.outputByteCount),
            serverKey: derive("server-key", hash.outputByteCount))
    }
}

/// The keys of RFC 5802 §3 derived from a SaltedPassword.
struct SCRAMKeys {
    var clientKey: [UInt8]
    var storedKey: [UInt8]
    var serverKey: [UInt8]

    init(hash: SCRAMHash, saltedPassword: [UInt8]) {
        clientKey = hash.hmac(key: saltedPassword, Array("Client Key".utf8))
        storedKey = hash.digest(clientKey)
        serverKey = hash.hmac(key: saltedPassword, Array("Server Key".utf8))
    }
}

/// The key for CRAM-MD5 (RFC 2195 §2): the HMAC-MD5 key, which is the password's UTF-8
/// octets, or their MD5 digest when longer than the 64-octet MD5 block (RFC 2104 §2; the
/// HMAC is the same either way).
///
/// This key is password-equivalent: anyone holding it can log in with CRAM-MD5, and for
/// passwords of up to 64 octets it is the password itself. Accounts store it only when
/// the operator enables CRAM-MD5, next to the SCRAM credentials, and it deserves the same
/// protection as a plaintext password. RFC 2195 defines no string preparation, so the
/// password is used as given (clients do the same).
public struct CRAMMD5Key: Hashable, Sendable, Codable {
    public var key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    public init(password: String) {
        let bytes = Array(password.utf8)
        key = bytes.count > 64 ? Insecure.MD5.hash(data: bytes).withUnsafeBytes { Array($0) } : bytes
    }

    /// The digest of RFC 2195 §2: HMAC-MD5(key, challenge).
    func digest(challenge: [UInt8]) -> [UInt8] {
        CryptoPrimitives.hmac(Insecure.MD5.self, key: key, challenge)
    }
}
