import NIOCore
import NIOEmbedded
import SASL
import Testing

@testable import TLSHandshakeCapture

/// Real TLS 1.2 handshakes between OpenSSL 3.0 peers (Python's ssl module, client and
/// server over memory BIOs, an ECDSA P-256 certificate): the octets each side wrote, in
/// order and as written, the client's key log (`keylog_filename`) and the tls-unique both
/// ends reported (`get_channel_binding("tls-unique")`). The records after the first
/// ChangeCipherSpec are encrypted; they are kept to show they are ignored. In outline:
///
///     client = c.wrap_bio(ci, co, session=previous_session); server = s.wrap_bio(si, so)
///     ... do_handshake() on both, octets moved co -> si and so -> ci, each read noted ...
///     client.get_channel_binding("tls-unique")
struct OpenSSLHandshake: Sendable {
    var keyLog: String
    var tlsUnique: String
    var firstFinished: TLSRole
    var cipherSuite: UInt16
    var records: [(TLSRole, String)]

    static let all = [
        // Full handshake, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: the client's Finished, SHA-384 PRF.
        OpenSSLHandshake(
            keyLog: "CLIENT_RANDOM eaf66c4eb8c9b1f0ccc45ff87058a68094745de2af53faed8555cfe3a522c4ca "
                + "bb09eab5d6a63740066329859d4d4f02d6eeb6db8b3a74b2188295273c3599f0f72ebe1b460b5ac34b35391cb8f0d99d",
            tlsUnique: "fcdfdb0b6e81adda80d99bd1", firstFinished: .client, cipherSuite: 0xC02C,
            records: [
                (.client, """
                    16030100830100007f0303eaf66c4eb8c9b1f0ccc45ff87058a68094745de2af53faed8555cfe3a522c4ca000004c02c00ff01000052000b
                    000403000102000a000c000a001d0017001e00190018002300000016000000170000000d002a0028040305030603080708080809080a080b
                    080408050806040105010601030303010302040205020602
                    """),
                (.server, """
                    16030300410200003d0303b81ac0bb8a7ee0690e500cb3cc7dd70f4c532e5925957f220f822fe333777e1900c02c000015ff01000100000b
                    0004030001020023000000170000160303017b0b0001770001740001713082016d30820113a0030201020214733835456de59d8f92c3b81b
                    2a2746199231c86d300a06082a8648ce3d040302300c310a300806035504030c0174301e170d3236313132323036333533305a170d333631
                    3131393036333533305a300c310a300806035504030c01743059301306072a8648ce3d020106082a8648ce3d03010703420004baa7f3c215
                    1624ad3b112b60b364162ff7410540fb339906c21f2b0f4ec1029d3d69274600e466702c5126def0aa4d2d84ffd22031945aa6ffd6af2b8e
                    b797e1a3533051301d0603551d0e04160414730a1a1797b9362888c06242f18dda8009ac78b8301f0603551d23041830168014730a1a1797
                    b9362888c06242f18dda8009ac78b8300f0603551d130101ff040530030101ff300a06082a8648ce3d04030203480030450220401d47a401
                    610047e4f5aed45498fa1b56f55950a8e7ad311f143e6fd927dbfd022100a4d7d4e124320a5a2e5f7f56d0eaf147d51bf8fdc8a0e045795e
                    47e34689f7fd16030300720c00006e03001d20ad0f166ad154e9dfe5dcdacbb1a215c771c27c35d3fe89d9eeeedc676ba468190403004630
                    44022008edff16aacfbfe121abe18380d31c1415674cad9e2d74aa7decf1838d1f1849022031024bf63e565ce4cb2fb7d22bef37f68dc62d
                    a8342114387624e4d78e177eba16030300040e000000
                    """),
                (.client, """
                    1603030025100000212027789e28e6833950ef1c13722b15ce4d7af62145746fb4f970e399b9481b4e5f140303000101160303002835e945
                    4816eb472672c13f13a61ba8533dd8866fbf690c3533dc3fb7746ab26d3cd6b44ff6d3deb2
                    """),
                (.server, """
                    16030300ba040000b600001c2000b0e2fd06d1faaaca480b6803e30f5260ccf58d3a5292052a60f7bb7ad320d2114010697753e983924be0
                    797121b35a15ee37d541bfc8d04b911e084cda7f2ad43f3704314d742c5b2fd0e1d1a5c49685ff049b8ab31ffd59af5a10e8cc360ea42046
                    1172783e10c10c142c9de73783d679691b338515710e5ede17ed31039c5a52a4011eded2ff030c53e8cd67d0f4228a9d2f525413c99647cf
                    0203e3b269a9710769388604f601b7653b98bcb78972161403030001011603030028cd2a55cde5d89ddc4e61915a2c646d1e9ebb71e99fe8
                    b7efa83224f7b5fdecf3966d707f76f6ddd4
                    """),
            ]),
        // Abbreviated handshake (session ticket), TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: the server's Finished.
        OpenSSLHandshake(
            keyLog: "CLIENT_RANDOM 59e33c077fb0416dc1fbee3f85ceb5414eb8cfb4d2e284db95871234e6469fa2 "
                + "153c0256edf240601e3565467f5f68a3c2d1b32618f29f60faa12072c4ce46212ada9af6214e98b8fb795605c8e221d7",
            tlsUnique: "81bb8034f2f0592193efeeeb", firstFinished: .server, cipherSuite: 0xC02B,
            records: [
                (.client, """
                    1603010200010001fc030359e33c077fb0416dc1fbee3f85ceb5414eb8cfb4d2e284db95871234e6469fa220198e634f4df49c866067030b
                    c9adfbebe00acd5c8aacef1cd973fdf4ee2a9eb70004c02b00ff010001af000b000403000102000a000c000a001d0017001e001900180023
                    00b0a580702c17471edb9081df40afda474143a819ae872fad6bc3fda0519a7c7d9ca6611fe04ff3a848aa43d95c3e2ff5692c56dd876785
                    b7af155de737b621fca75e71efb00f871a8fa3a965fc39b257b283d646d3c513a17ce250b9790fa92256d4fb70e71c59c55b4528e1a77349
                    55eb0ed26216e12fa325ba9be17a3698265ce7f886bb4a0c9144ae7d7b8b3dffeabbbfb15e460e747d8e7fade02dc17d71e66e76a75ef656
                    4cbe689dc359596ea2670016000000170000000d002a0028040305030603080708080809080a080b08040805080604010501060103030301
                    0302040205020602001500a90000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
                    0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
                    0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
                    00000000000000000000000000
                    """),
                (.server, """
                    16030300550200005103037ce66cdd5642b24f9aa001b1870922df02d6f1d7cae75687c22cf4ceb36aa40e20198e634f4df49c866067030b
                    c9adfbebe00acd5c8aacef1cd973fdf4ee2a9eb7c02b000009ff01000100001700001403030001011603030028e2a3846a07daf6389d89fd
                    4a9f11f1864402c89578a952f85a6c8fbc451632f56d5b85d888ee860c
                    """),
                (.client, """
                    14030300010116030300283332a2f06ba136499e9eeb5b34f802c3f381b2a11187fe07a8731968c8b272ed5813d571993f0ba3
                    """),
            ]),
    ]
}

/// Octets from hex, with whitespace between the digits.
func hex(_ text: String) -> [UInt8] {
    KeyLogEntry.hexDecode(Array(text.utf8.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") })) ?? []
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] }, as: UTF8.self)
}

/// Serialized: the key-log registry is shared, and two recorders of one end claiming the
/// same client random would (rightly) get nothing.
@Suite(.serialized) struct OpenSSLHandshakeTests {
    /// Feeds the recorded octets to a recorder playing `role`, as its TLS handler would have
    /// written and read them.
    static func replay(_ handshake: OpenSSLHandshake, to recorder: TLSHandshakeRecorder, as role: TLSRole) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: recorder)
        for (sender, octets) in handshake.records {
            let buffer = ByteBuffer(bytes: hex(octets))
            if sender == role {
                try channel.writeOutbound(buffer)
            } else {
                try channel.writeInbound(buffer)
            }
        }
        return channel
    }

    /// The recorder on either end reproduces OpenSSL's tls-unique from the octets and the
    /// key log, whichever side sent the first Finished.
    @Test(arguments: OpenSSLHandshake.all.indices, [TLSRole.client, .server])
    func reproducesOpenSSL(_ index: Int, _ role: TLSRole) throws {
        let handshake = OpenSSLHandshake.all[index]
        let recorder = TLSHandshakeRecorder(role: role)
        let channel = try Self.replay(handshake, to: recorder, as: role)
        defer { _ = try? channel.finish() }
        #expect(recorder.cipherSuite == handshake.cipherSuite)
        let entry = try #require(KeyLogEntry(Array(handshake.keyLog.utf8)))
        // A line from the other end's context is not this recorder's.
        KeyLogRegistry.shared.deliver(entry, to: role == .client ? .server : .client)
        #expect(recorder.handshakeCompleted(version: .tlsv12) == nil)

        let again = TLSHandshakeRecorder(role: role)
        let secondChannel = try Self.replay(handshake, to: again, as: role)
        defer { _ = try? secondChannel.finish() }
        KeyLogRegistry.shared.deliver(entry, to: role)
        let binding = try #require(again.handshakeCompleted(version: .tlsv12))
        #expect(binding.type == "tls-unique")
        #expect(hexString(binding.data) == handshake.tlsUnique)
        #expect(KeyLogRegistry.shared.claimCount(role: role, clientRandom: entry.clientRandom) == 0)
    }

    /// The same octets in other pieces: one octet at a time.
    @Test(arguments: OpenSSLHandshake.all.indices)
    func anyReadSize(_ index: Int) throws {
        let handshake = OpenSSLHandshake.all[index]
        var transcript = TLSHandshakeTranscript()
        for (sender, octets) in handshake.records {
            for octet in hex(octets) { transcript.append([octet], from: sender) }
        }
        #expect(transcript.state == .complete(firstFinished: handshake.firstFinished))
        let entry = try #require(KeyLogEntry(Array(handshake.keyLog.utf8)))
        #expect(transcript.clientRandom == entry.clientRandom)
        let hash = try #require(transcript.cipherSuite.flatMap(TLSCipherSuite.hash(of:)))
        let binding = ChannelBinding.tlsUnique(
            masterSecret: entry.secret, prfHash: hash, firstFinishedBy: handshake.firstFinished, handshakeMessages: transcript.messages)
        #expect(hexString(binding.data) == handshake.tlsUnique)
    }

    /// A key-log line of another connection (another client random) is not taken, and
    /// without the master secret there is no binding.
    @Test func otherConnectionsKeyLogIgnored() throws {
        let handshake = OpenSSLHandshake.all[0]
        let recorder = TLSHandshakeRecorder(role: .server)
        let channel = try Self.replay(handshake, to: recorder, as: .server)
        defer { _ = try? channel.finish() }
        var entry = try #require(KeyLogEntry(Array(handshake.keyLog.utf8)))
        entry.clientRandom[0] ^= 1
        KeyLogRegistry.shared.deliver(entry, to: .server)
        #expect(recorder.handshakeCompleted(version: .tlsv12) == nil)
    }

    /// Two connections of one end with the same client random (someone replayed a
    /// ClientHello): a line could be either's, so neither gets it. A recorder removed from its
    /// pipeline gives up its claim.
    @Test func sharedClientRandomNamesNoOne() throws {
        let handshake = OpenSSLHandshake.all[0]
        let entry = try #require(KeyLogEntry(Array(handshake.keyLog.utf8)))
        let first = TLSHandshakeRecorder(role: .server)
        let firstChannel = try Self.replay(handshake, to: first, as: .server)
        let second = TLSHandshakeRecorder(role: .server)
        let secondChannel = try Self.replay(handshake, to: second, as: .server)
        #expect(KeyLogRegistry.shared.claimCount(role: .server, clientRandom: entry.clientRandom) == 2)
        KeyLogRegistry.shared.deliver(entry, to: .server)
        #expect(first.handshakeCompleted(version: .tlsv12) == nil)
        _ = try firstChannel.finish()
        #expect(KeyLogRegistry.shared.claimCount(role: .server, clientRandom: entry.clientRandom) == 1)
        _ = try secondChannel.finish()
        #expect(KeyLogRegistry.shared.claimCount(role: .server, clientRandom: entry.clientRandom) == 0)
        #expect(second.handshakeCompleted(version: .tlsv12) == nil)
    }
}
