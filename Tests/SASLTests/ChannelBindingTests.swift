import Crypto
import Testing
@testable import SASL

/// tls-exporter (RFC 9266) from the exporter secret (RFC 8446 §7.5).
///
/// The vectors come from real TLS 1.3 handshakes: OpenSSL 3 through pyOpenSSL, client and
/// server connected by memory BIOs, one handshake per cipher suite. Each vector is the
/// EXPORTER_SECRET line of the key log callback and OpenSSL's own
/// SSL_export_keying_material for label "EXPORTER-Channel-Binding", 32 octets and an
/// empty context (equal on both ends), plus one export with label "EXPORTER-Tern-Test",
/// context "context" and 48 octets. In outline:
///
///     ctx.set_tls13_ciphersuites(suite); ctx.set_keylog_callback(collect)
///     ... handshake client and server over bio_read/bio_write ...
///     conn.export_keying_material(b"EXPORTER-Channel-Binding", 32)
///     conn.export_keying_material(b"EXPORTER-Tern-Test", 48, b"context")
@Suite struct ChannelBindingTests {
    struct Vector: Sendable {
        var hash: TLSHash
        var secret: String
        var channelBinding: String
        var extra: String
    }

    static let vectors = [
        // TLS_AES_128_GCM_SHA256
        Vector(
            hash: .sha256,
            secret: "642d347b35e033328585fc28bce1a36ffaf9cfbbfcc44e981a130ffa2c7f7da0",
            channelBinding: "da5f4a5e377f6bcb128c181088dff4762812308022e772f70a503009e9ab8a3b",
            extra: "7abae1a7088712f69036b868cd94a9a4c8000a55969e1a59d27b9033c26019009eb4b8b809ca76ae2be9c0beabc9884e"),
        // TLS_AES_256_GCM_SHA384
        Vector(
            hash: .sha384,
            secret: "3669de30bfa222a46c7c8508905f41b1e55a9713feb945cbc54ca4dbc10120415c2d9c8c814892f5d922be72c2abb477",
            channelBinding: "4ea8dcca51eca32df4f27c814b3238c2d7fc31333bbff791e594feb06915f865",
            extra: "8ad93a94add5d0383856713fba1ee3d8043f9886d7cf3102298731c76891878a15a45df04775b59bcaa7e34812be1ece"),
        // A second TLS_AES_128_GCM_SHA256 handshake.
        Vector(
            hash: .sha256,
            secret: "f426f080e30d90994d3f8672d1bce23d12b873e9ee505a4c0970094587a9e128",
            channelBinding: "50a64e4872a10076986b4a5516b2595e267093919d6443e17a2b1bd6eafe3a64",
            extra: ""),
    ]

    static func hex(_ text: String) -> [UInt8] { Bytes.fromHex(Array(text.utf8)) ?? [] }

    @Test(arguments: vectors.indices)
    func matchesOpenSSL(_ index: Int) throws {
        let vector = Self.vectors[index]
        let binding = try ChannelBinding.tlsExporter(exporterSecret: Self.hex(vector.secret), hash: vector.hash)
        #expect(binding.type == "tls-exporter")
        #expect(Bytes.hex(binding.data) == vector.channelBinding)
        #expect(binding.isWellFormed)
        if !vector.extra.isEmpty {
            let extra = try TLSExporter.keyingMaterial(
                exporterSecret: Self.hex(vector.secret), hash: vector.hash, label: "EXPORTER-Tern-Test",
                context: bytes("context"), length: 48)
            #expect(Bytes.hex(extra) == vector.extra)
        }
    }

    @Test func rejectsBadInput() {
        #expect(throws: TLSExporterError.secretLengthMismatch(expected: 48, actual: 32)) {
            _ = try ChannelBinding.tlsExporter(exporterSecret: Array(repeating: 0, count: 32), hash: .sha384)
        }
        #expect(throws: TLSExporterError.labelTooLong(250)) {
            _ = try TLSExporter.keyingMaterial(
                exporterSecret: Array(repeating: 0, count: 32), hash: .sha256,
                label: String(repeating: "x", count: 250), context: [], length: 32)
        }
        #expect(throws: TLSExporterError.lengthOutOfRange(0)) {
            _ = try TLSExporter.keyingMaterial(
                exporterSecret: Array(repeating: 0, count: 32), hash: .sha256, label: "x", context: [], length: 0)
        }
        #expect(throws: TLSExporterError.lengthOutOfRange(255 * 32 + 1)) {
            _ = try TLSExporter.keyingMaterial(
                exporterSecret: Array(repeating: 0, count: 32), hash: .sha256, label: "x", context: [], length: 255 * 32 + 1)
        }
    }

    @Test func tlsUnique() {
        let binding = ChannelBinding.tlsUnique([1, 2, 3])
        #expect(binding.type == "tls-unique")
        #expect(binding.data == [1, 2, 3])
    }

    /// The TLS 1.2 PRF test vectors posted to the IETF TLS list
    /// (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html), which OpenSSL's
    /// TLS1-PRF (`openssl kdf ... TLS1-PRF`) reproduces.
    @Test(arguments: [
        (
            TLSHash.sha256, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
            "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66"
        ),
        (
            TLSHash.sha384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
            "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f"
        ),
    ])
    func tls12PRF(_ hash: TLSHash, _ secret: String, _ seed: String, _ output: String) {
        let computed = TLS12PRF.output(hash: hash, secret: Self.hex(secret), label: bytes("test label"), seed: Self.hex(seed), length: output.count / 2)
        #expect(Bytes.hex(computed) == output)
        // A prefix is the same computation cut shorter.
        #expect(TLS12PRF.output(hash: hash, secret: Self.hex(secret), label: bytes("test label"), seed: Self.hex(seed), length: 12) == Array(computed.prefix(12)))
    }

    /// RFC 5246 §7.4.9: the client's and the server's Finished differ only by the label; the
    /// hash covers the messages and the PRF.
    @Test func tls12FinishedDependsOnEveryInput() {
        let secret = Array(repeating: UInt8(7), count: 48)
        let messages = bytes("handshake messages")
        let client = ChannelBinding.tlsUnique(masterSecret: secret, prfHash: .sha256, firstFinishedBy: .client, handshakeMessages: messages)
        #expect(client.type == "tls-unique")
        #expect(client.data.count == 12)
        #expect(client.isWellFormed)
        let label = TLS12PRF.output(hash: .sha256, secret: secret, label: bytes("client finished"), seed: Array(SHA256.hash(data: messages)), length: 12)
        #expect(client.data == label)
        let others = [
            ChannelBinding.tlsUnique(masterSecret: secret, prfHash: .sha256, firstFinishedBy: .server, handshakeMessages: messages),
            ChannelBinding.tlsUnique(masterSecret: secret, prfHash: .sha384, firstFinishedBy: .client, handshakeMessages: messages),
            ChannelBinding.tlsUnique(masterSecret: secret, prfHash: .sha256, firstFinishedBy: .client, handshakeMessages: messages + [0]),
        ]
        for other in others { #expect(other.data != client.data) }
    }
}

@Suite struct Base64Tests {
    @Test func roundTrip() {
        for length in 0..<10 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 200) }
            #expect(SASLBase64.decode(SASLBase64.encode(data)) == data)
        }
        #expect(SASLBase64.encode(bytes("n,,")) == "biws")
        #expect(SASLBase64.encode(bytes("y,,")) == "eSws")
        #expect(SASLBase64.encode(bytes("ab")) == "YWI=")
        #expect(SASLBase64.encode(bytes("a")) == "YQ==")
        #expect(SASLBase64.decode("") == [])
        #expect(SASLBase64.decode("+/+/") == [0xFB, 0xFF, 0xBF])
    }

    /// RFC 4954 §4: reject characters outside the alphabet and "=" anywhere but the end.
    @Test(arguments: ["=AAA", "AA=A", "AAA=BBBB", "A===", "====", "AB C", "AB\nC", "ABC", "ABCDE", "YWI=\r\n", "YW-=", "YW_="])
    func rejects(_ input: String) {
        #expect(SASLBase64.decode(input) == nil)
    }

    @Test func hexHelpers() {
        #expect(Bytes.fromHex(Array("0aFf".utf8)) == [0x0A, 0xFF])
        #expect(Bytes.fromHex(Array("0".utf8)) == nil)
        #expect(Bytes.fromHex(Array("0g".utf8)) == nil)
        #expect(Bytes.hex([0, 0xAB]) == "00ab")
        #expect(Bytes.constantTimeEqual([1, 2], [1, 2]))
        #expect(!Bytes.constantTimeEqual([1, 2], [1, 3]))
        #expect(!Bytes.constantTimeEqual([1, 2], [1]))
    }
}
