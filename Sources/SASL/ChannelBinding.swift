import Crypto

// Channel binding data from the TLS layer (RFC 5056), and its pure computations:
// tls-exporter from a TLS 1.3 exporter secret (RFC 9266, RFC 8446 §7.5), tls-unique from a
// TLS 1.2 master secret and handshake (RFC 5929 §3.1, RFC 5246 §7.4.9).

/// What the TLS layer hands to SCRAM-*-PLUS: a channel binding type (RFC 5056 §7) and the
/// binding data of this connection. "tls-exporter" (RFC 9266) is the one for TLS 1.3;
/// "tls-unique" (RFC 5929 §3) is defined only for TLS 1.2 and earlier.
public struct ChannelBinding: Sendable, Hashable {
    /// "tls-exporter" or "tls-unique".
    public var type: String
    public var data: [UInt8]

    public init(type: String, data: [UInt8]) {
        self.type = type
        self.data = data
    }

    public static let tlsExporterType = "tls-exporter"
    public static let tlsUniqueType = "tls-unique"

    /// RFC 9266 §2: the binding is the exporter output for label "EXPORTER-Channel-Binding",
    /// an empty context and 32 octets.
    public static let tlsExporterLabel = "EXPORTER-Channel-Binding"
    public static let tlsExporterLength = 32

    /// tls-exporter for a TLS 1.3 connection from its exporter secret (the
    /// `EXPORTER_SECRET` line of the key log, RFC 8446 §7.1 exporter_master_secret) and the
    /// hash of its cipher suite.
    public static func tlsExporter(exporterSecret: [UInt8], hash: TLSHash) throws(TLSExporterError) -> ChannelBinding {
        let data = try TLSExporter.keyingMaterial(
            exporterSecret: exporterSecret, hash: hash, label: tlsExporterLabel, context: [], length: tlsExporterLength)
        return ChannelBinding(type: tlsExporterType, data: data)
    }

    /// tls-unique (RFC 5929 §3.1): the first Finished message of the most recent TLS 1.2
    /// handshake, as the TLS layer reports it.
    public static func tlsUnique(_ finished: [UInt8]) -> ChannelBinding {
        ChannelBinding(type: tlsUniqueType, data: finished)
    }

    /// tls-unique for a TLS 1.2 connection whose TLS library does not report its Finished
    /// messages: computed as the library did, from the master secret (the `CLIENT_RANDOM`
    /// line of the key log), the hash of the cipher suite's PRF, who sent the first Finished
    /// (the client in a full handshake, the server in an abbreviated one, RFC 5929 §3.1) and
    /// the handshake messages before it.
    public static func tlsUnique(
        masterSecret: [UInt8], prfHash: TLSHash, firstFinishedBy sender: TLSRole, handshakeMessages: [UInt8]
    ) -> ChannelBinding {
        tlsUnique(TLS12Finished.verifyData(masterSecret: masterSecret, prfHash: prfHash, sender: sender, handshakeMessages: handshakeMessages))
    }

    /// Whether the type name follows RFC 5056 §7 (letters, digits, "." and "-") and the
    /// data is within `SASLLimits.maxChannelBindingLength`; a server ignores bindings
    /// that do not, rather than advertise -PLUS for them.
    public var isWellFormed: Bool {
        !type.isEmpty && type.utf8.count <= SASLLimits.maxChannelBindingTypeLength
            && type.utf8.allSatisfy(SCRAMSyntax.isChannelBindingNameCharacter)
            && !data.isEmpty && data.count <= SASLLimits.maxChannelBindingLength
    }
}

/// Why an exporter value could not be computed. Each is a mistake of the caller (the TLS
/// layer), reported rather than trapped.
public enum TLSExporterError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The secret is not as long as the hash output (RFC 8446 §7.1: secrets are
    /// Hash.length octets).
    case secretLengthMismatch(expected: Int, actual: Int)
    /// "tls13 " plus the label exceeds 255 octets (RFC 8446 §7.1 HkdfLabel.label).
    case labelTooLong(Int)
    /// The requested length is 0 or more than 255 hash blocks (RFC 5869 §2.3).
    case lengthOutOfRange(Int)

    public var description: String {
        switch self {
        case let .secretLengthMismatch(expected, actual): "exporter secret of \(actual) octets (want \(expected))"
        case let .labelTooLong(length): "exporter label of \(length) octets (at most 249)"
        case let .lengthOutOfRange(length): "exporter output length \(length) out of range"
        }
    }
}

/// The hash of a negotiated cipher suite: in TLS 1.3 SHA-256 for TLS_AES_128_GCM_SHA256 and
/// TLS_CHACHA20_POLY1305_SHA256, SHA-384 for TLS_AES_256_GCM_SHA384 (RFC 8446 B.4); in TLS 1.2
/// the hash of the PRF, SHA-384 for the suites named ..._SHA384 (RFC 5289 §3.2, RFC 5288 §3)
/// and SHA-256 for all others (RFC 5246 §5).
public enum TLSHash: Sendable, Hashable {
    case sha256
    case sha384

    /// RFC 8446 §7.1: every secret is Hash.length octets, so a TLS 1.3 key-log secret tells
    /// which hash its cipher suite uses.
    public init?(secretLength: Int) {
        switch secretLength {
        case 32: self = .sha256
        case 48: self = .sha384
        default: return nil
        }
    }

    public var outputByteCount: Int {
        switch self {
        case .sha256: SHA256.byteCount
        case .sha384: SHA384.byteCount
        }
    }
}

/// The two ends of a TLS connection: who sent a message, and whose Finished is whose.
public enum TLSRole: Sendable, Hashable {
    case client
    case server
}

/// The TLS 1.3 exporter (RFC 8446 §7.5), from the exporter secret.
public enum TLSExporter {
    /// RFC 8446 §7.5: TLS-Exporter(label, context_value, key_length) =
    /// HKDF-Expand-Label(Derive-Secret(Secret, label, ""), "exporter", Hash(context_value),
    /// key_length), where Secret is the exporter_master_secret.
    public static func keyingMaterial(
        exporterSecret: [UInt8], hash: TLSHash, label: String, context: [UInt8], length: Int
    ) throws(TLSExporterError) -> [UInt8] {
        guard exporterSecret.count == hash.outputByteCount else {
            throw .secretLengthMismatch(expected: hash.outputByteCount, actual: exporterSecret.count)
        }
        let labelBytes = Array(label.utf8)
        guard labelBytes.count <= 249 else { throw .labelTooLong(labelBytes.count) }
        guard length >= 1, length <= 255 * hash.outputByteCount else { throw .lengthOutOfRange(length) }
        switch hash {
        case .sha256:
            return expand(SHA256.self, exporterSecret, labelBytes, context, length)
        case .sha384:
            return expand(SHA384.self, exporterSecret, labelBytes, context, length)
        }
    }

    private static func expand<H: HashFunction>(
        _: H.Type, _ secret: [UInt8], _ label: [UInt8], _ context: [UInt8], _ length: Int
    ) -> [UInt8] {
        // Derive-Secret(Secret, Label, "") = HKDF-Expand-Label(Secret, Label,
        // Transcript-Hash(""), Hash.length) (RFC 8446 §7.1); the transcript of no messages
        // hashes the empty string.
        let emptyHash = H.hash(data: [UInt8]()).withUnsafeBytes { Array($0) }
        let derived = expandLabel(H.self, secret: secret, label: label, context: emptyHash, length: H.Digest.byteCount)
        let contextHash = H.hash(data: context).withUnsafeBytes { Array($0) }
        return expandLabel(H.self, secret: derived, label: Array("exporter".utf8), context: contextHash, length: length)
    }

    /// RFC 8446 §7.1 HKDF-Expand-Label: HKDF-Expand(Secret, HkdfLabel, Length) with
    /// HkdfLabel = uint16 length, opaque label<7..255> = "tls13 " + Label, opaque
    /// context<0..255>. Lengths are checked by the caller.
    static func expandLabel<H: HashFunction>(
        _: H.Type, secret: [UInt8], label: [UInt8], context: [UInt8], length: Int
    ) -> [UInt8] {
        let fullLabel = Array("tls13 ".utf8) + label
        var info: [UInt8] = [UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        info.append(UInt8(fullLabel.count))
        info += fullLabel
        info.append(UInt8(context.count))
        info += context
        return HKDF<H>.expand(pseudoRandomKey: secret, info: info, outputByteCount: length)
            .withUnsafeBytes { Array($0) }
    }
}

/// The Finished message of TLS 1.2 (RFC 5246 §7.4.9): verify_data =
/// PRF(master_secret, finished_label, Hash(handshake_messages))[0..verify_data_length-1].
public enum TLS12Finished {
    /// RFC 5246 §7.4.9: 12 octets unless the cipher suite says otherwise, and none of those
    /// in use does.
    public static let verifyDataLength = 12

    /// `handshakeMessages` are all handshake messages of this handshake before the Finished,
    /// as sent (headers included, HelloRequest excluded); `prfHash` also hashes them.
    public static func verifyData(masterSecret: [UInt8], prfHash: TLSHash, sender: TLSRole, handshakeMessages: [UInt8]) -> [UInt8] {
        // RFC 5246 §7.4.9 finished_label.
        let label = Array((sender == .client ? "client finished" : "server finished").utf8)
        let transcriptHash: [UInt8] =
            switch prfHash {
            case .sha256: SHA256.hash(data: handshakeMessages).withUnsafeBytes { Array($0) }
            case .sha384: SHA384.hash(data: handshakeMessages).withUnsafeBytes { Array($0) }
            }
        return TLS12PRF.output(hash: prfHash, secret: masterSecret, label: label, seed: transcriptHash, length: verifyDataLength)
    }
}

/// The TLS 1.2 pseudorandom function (RFC 5246 §5): PRF(secret, label, seed) =
/// P_<hash>(secret, label + seed), with the hash of the cipher suite.
public enum TLS12PRF {
    public static func output(hash: TLSHash, secret: [UInt8], label: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        switch hash {
        case .sha256: expand(SHA256.self, secret: secret, seed: label + seed, length: length)
        case .sha384: expand(SHA384.self, secret: secret, seed: label + seed, length: length)
        }
    }

    /// P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) + HMAC_hash(secret, A(2) + seed)
    /// + ..., with A(0) = seed and A(i) = HMAC_hash(secret, A(i-1)), cut to `length`.
    private static func expand<H: HashFunction>(_: H.Type, secret: [UInt8], seed: [UInt8], length: Int) -> [UInt8] {
        let key = SymmetricKey(data: secret)
        var output: [UInt8] = []
        output.reserveCapacity(length + H.Digest.byteCount)
        var a = seed
        while output.count < length {
            a = Array(HMAC<H>.authenticationCode(for: a, using: key))
            output += HMAC<H>.authenticationCode(for: a + seed, using: key)
        }
        return Array(output.prefix(length))
    }
}
