import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// A verification key from a key record's p= (RFC 6376 §3.6.1, RFC 8463 §4).
enum DKIMPublicKey {
    case rsa(_RSA.Signing.PublicKey)
    case ed25519(Curve25519.Signing.PublicKey)

    /// Builds the key for `algorithm` from the record; the error is the reason for the
    /// signature's permerror (RFC 6376 §6.1.2 step 8, RFC 8301 §3.2).
    init(record: DKIMKeyRecord, algorithm: DKIMAlgorithm) throws(DKIMPublicKeyError) {
        switch algorithm {
        case .rsaSHA1, .rsaSHA256:
            do {
                // The "unsafe" initializer takes keys from 1024 bits up (the other one refuses
                // under 2048, which RFC 8301 §3.2 still lets signers use).
                self = .rsa(try _RSA.Signing.PublicKey(unsafeDERRepresentation: record.publicKey))
            } catch {
                if let bits = Self.rsaModulusBits(record.publicKey), bits < DKIMAlgorithm.minimumRSAKeyBits { throw .rsaKeyTooShort(bits: bits) }
                throw .invalidRSAKey
            }
        case .ed25519SHA256:
            // RFC 8463 §4: p= is the raw 32-octet public key, not an ASN.1 structure.
            guard record.publicKey.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: record.publicKey) else {
                throw .invalidEd25519Key(octets: record.publicKey.count)
            }
            self = .ed25519(key)
        }
    }

    /// The modulus size of an RSA key in SubjectPublicKeyInfo or RSAPublicKey form (RFC 3447
    /// §A.1.1), for reporting a key that is too short: swift-crypto refuses to load those, so
    /// cannot say how short.
    static func rsaModulusBits(_ der: [UInt8]) -> Int? {
        guard let node = try? DER.parse(der), case let .constructed(children) = node.content else { return nil }
        let items = Array(children)
        var rsaPublicKey = items
        // SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING (RSAPublicKey) }.
        if items.count == 2, items[1].identifier == .bitString, let bits = try? ASN1BitString(derEncoded: items[1]) {
            guard let inner = try? DER.parse(Array(bits.bytes)), case let .constructed(innerChildren) = inner.content else { return nil }
            rsaPublicKey = Array(innerChildren)
        }
        // RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
        guard rsaPublicKey.count == 2, rsaPublicKey[0].identifier == .integer, case let .primitive(modulus) = rsaPublicKey[0].content else { return nil }
        let significant = modulus.drop { $0 == 0 }
        guard let first = significant.first else { return 0 }
        return (significant.count - 1) * 8 + (8 - first.leadingZeroBitCount)
    }

    var bits: Int? {
        if case let .rsa(key) = self { return key.keySizeInBits }
        return nil
    }

    /// Checks `signature` over the data-hash (RFC 6376 §3.7): RSASSA-PKCS1-v1_5 with SHA-256
    /// (§3.3.2); PureEdDSA over the SHA-256 digest's octets (RFC 8463 §3).
    func isValid(_ signature: [UInt8], for dataHash: SHA256.Digest) -> Bool {
        switch self {
        case let .rsa(key):
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: dataHash, padding: .insecurePKCS1v1_5)
        case let .ed25519(key):
            return key.isValidSignature(signature, for: Array(dataHash))
        }
    }
}

/// Why a key record's p= cannot be used with the signature's algorithm.
enum DKIMPublicKeyError: Error, Hashable, CustomStringConvertible {
    case rsaKeyTooShort(bits: Int)
    case invalidRSAKey
    case invalidEd25519Key(octets: Int)

    var description: String {
        switch self {
        case let .rsaKeyTooShort(bits): return "RSA key of \(bits) bits is shorter than \(DKIMAlgorithm.minimumRSAKeyBits) (RFC 8301 §3.2)"
        case .invalidRSAKey: return "p= is not a DER RSA public key"
        case let .invalidEd25519Key(octets): return "p= has \(octets) octets, not a 32-octet Ed25519 key (RFC 8463 §4)"
        }
    }
}

/// A signing key: RSA (RFC 6376 §3.3.2) or Ed25519 (RFC 8463).
public enum DKIMPrivateKey: Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    /// A new RSA key; RFC 8301 §3.2: at least 1024 bits ("SHOULD" 2048).
    public static func generateRSA(bits: Int = 2048) throws(DKIMKeyError) -> DKIMPrivateKey {
        guard bits >= DKIMAlgorithm.minimumRSAKeyBits, bits <= 8192, bits % 8 == 0 else { throw .unsupportedRSAKeySize(bits) }
        do {
            return .rsa(try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: bits)))
        } catch {
            throw .unsupportedRSAKeySize(bits)
        }
    }

    public static func generateEd25519() -> DKIMPrivateKey {
        .ed25519(Curve25519.Signing.PrivateKey())
    }

    /// Reads a PEM key: PKCS#8 "PRIVATE KEY" (RSA or Ed25519, as `pemRepresentation` writes and
    /// OpenSSL's genpkey makes) or PKCS#1 "RSA PRIVATE KEY".
    public init(pem: String) throws(DKIMKeyError) {
        if let key = try? Curve25519.Signing.PrivateKey(pemRepresentation: pem) {
            self = .ed25519(key)
            return
        }
        let rsa: _RSA.Signing.PrivateKey
        do {
            rsa = try _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem)
        } catch {
            throw .unreadableKey
        }
        self = .rsa(rsa)
    }

    /// PKCS#8 PEM ("PRIVATE KEY") for both types, which OpenSSL and dkimpy read.
    public var pemRepresentation: String {
        switch self {
        case let .rsa(key): return key.pkcs8PEMRepresentation
        case let .ed25519(key): return key.pemRepresentation
        }
    }

    /// The algorithm this key signs with (a=).
    public var algorithm: DKIMAlgorithm {
        switch self {
        case .rsa: return .rsaSHA256
        case .ed25519: return .ed25519SHA256
        }
    }

    /// The key record to publish at "selector._domainkey.domain" (RFC 6376 §3.6.1): RSA as
    /// DER SubjectPublicKeyInfo, as verifiers expect in practice; Ed25519 as the raw key
    /// (RFC 8463 §4).
    public var keyRecord: String {
        switch self {
        case let .rsa(key): return "v=DKIM1; k=rsa; p=" + key.publicKey.derRepresentation.base64EncodedString()
        case let .ed25519(key): return "v=DKIM1; k=ed25519; p=" + key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// Signs the data-hash (RFC 6376 §3.7).
    func sign(_ dataHash: SHA256.Digest) throws(DKIMSigningError) -> [UInt8] {
        do {
            switch self {
            case let .rsa(key): return Array(try key.signature(for: dataHash, padding: .insecurePKCS1v1_5).rawRepresentation)
            case let .ed25519(key): return Array(try key.signature(for: Array(dataHash)))
            }
        } catch {
            throw .signingFailed(String(describing: error))
        }
    }
}

/// Why a key could not be made or read.
public enum DKIMKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    case unsupportedRSAKeySize(Int)
    case unreadableKey

    public var description: String {
        switch self {
        case let .unsupportedRSAKeySize(bits):
            return "RSA keys of \(bits) bits are not supported: use a multiple of 8 from \(DKIMAlgorithm.minimumRSAKeyBits) (RFC 8301 §3.2) to 8192, 2048 recommended"
        case .unreadableKey:
            return "not a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA of at least \(DKIMAlgorithm.minimumRSAKeyBits) bits)"
        }
    }
}
