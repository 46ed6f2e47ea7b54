import NIOCore
import NIOEmbedded
import SASL
import Testing

@testable import TLSHandshakeCapture

/// Handshake messages reassembled from records in clear (RFC 5246 §6.2.1, §7.4), built here
/// from parts so that each way of cutting them is explicit.
@Suite struct TranscriptTests {
    static func record(_ type: UInt8, _ fragment: [UInt8], version: [UInt8] = [3, 3]) -> [UInt8] {
        [type] + version + [UInt8(fragment.count >> 8), UInt8(fragment.count & 0xFF)] + fragment
    }

    static func message(_ type: UInt8, _ body: [UInt8]) -> [UInt8] {
        [type, UInt8(body.count >> 16), UInt8(body.count >> 8 & 0xFF), UInt8(body.count & 0xFF)] + body
    }

    static let clientRandom = [UInt8](1...32)
    static let clientHello = message(1, [3, 3] + clientRandom + [0, 0, 2, 0xC0, 0x2F, 1, 0])
    /// Session id of 3 octets, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, no compression, and
    /// the extensions renegotiation_info and extended_master_secret (RFC 7627 §5.1).
    static let serverHello = message(
        2, [3, 3] + [UInt8](repeating: 9, count: 32) + [3, 7, 7, 7, 0xC0, 0x30, 0] + [0, 9, 0xFF, 0x01, 0, 1, 0, 0x00, 0x17, 0, 0])
    /// The same without extensions.
    static let serverHelloWithoutExtendedMasterSecret = message(2, [3, 3] + [UInt8](repeating: 9, count: 32) + [3, 7, 7, 7, 0xC0, 0x30, 0])
    static let certificate = message(11, [UInt8](repeating: 0xCE, count: 300))
    static let serverHelloDone = message(14, [])
    static let clientKeyExchange = message(16, [UInt8](repeating: 0x4B, count: 33))
    static let changeCipherSpec = record(20, [1])
    /// What follows a ChangeCipherSpec: encrypted, though it claims to be a handshake record.
    static let encryptedFinished = record(22, [UInt8](repeating: 0xEE, count: 40))

    /// A full handshake with messages merged into one record, one message split over two
    /// records, and records split over reads; the client's ChangeCipherSpec ends it.
    @Test func fullHandshakeInAnyPieces() {
        let serverFlight = Self.record(22, Self.serverHello + Self.certificate + Self.serverHelloDone)
        let keyExchange = Self.record(22, Array(Self.clientKeyExchange.prefix(10))) + Self.record(22, Array(Self.clientKeyExchange.dropFirst(10)))
        let clientFlight = keyExchange + Self.changeCipherSpec + Self.encryptedFinished
        for pieceSize in [1, 3, 7, 1000] {
            var transcript = TLSHandshakeTranscript()
            for (sender, octets) in [(TLSRole.client, Self.record(22, Self.clientHello)), (.server, serverFlight), (.client, clientFlight)] {
                for start in stride(from: 0, to: octets.count, by: pieceSize) {
                    transcript.append(octets[start..<min(start + pieceSize, octets.count)], from: sender)
                }
            }
            let messages = Self.clientHello + Self.serverHello + Self.certificate + Self.serverHelloDone + Self.clientKeyExchange
            #expect(transcript.state == .complete(firstFinished: .client), "pieces of \(pieceSize)")
            #expect(transcript.messages == messages)
            #expect(transcript.clientRandom == Self.clientRandom)
            #expect(transcript.cipherSuite == 0xC030)
            #expect(transcript.extendedMasterSecret)
            // After completion nothing counts, in either direction.
            transcript.append(Self.record(22, Self.message(4, [1, 2, 3])), from: .server)
            #expect(transcript.messages == messages)
        }
    }

    /// An abbreviated handshake: the server's ChangeCipherSpec comes first, so its Finished
    /// is the first, over the hellos and the NewSessionTicket.
    @Test func abbreviatedHandshake() {
        var transcript = TLSHandshakeTranscript()
        let ticket = Self.message(4, [0, 0, 0, 60, 0, 2, 0xAB, 0xCD])
        transcript.append(Self.record(22, Self.clientHello), from: .client)
        transcript.append(Self.record(22, Self.serverHello + ticket) + Self.changeCipherSpec + Self.encryptedFinished, from: .server)
        #expect(transcript.state == .complete(firstFinished: .server))
        #expect(transcript.messages == Self.clientHello + Self.serverHello + ticket)
        transcript.append(Self.changeCipherSpec, from: .client)
        #expect(transcript.state == .complete(firstFinished: .server))
    }

    /// RFC 5246 §7.4.9: HelloRequest is not part of handshake_messages.
    @Test func helloRequestLeftOut() {
        var transcript = TLSHandshakeTranscript()
        transcript.append(Self.record(22, Self.clientHello), from: .client)
        transcript.append(Self.record(22, Self.message(0, []) + Self.serverHello), from: .server)
        #expect(transcript.messages == Self.clientHello + Self.serverHello)
    }

    /// What the transcript cannot follow ends it without a result; the client random and
    /// the cipher suite seen before stay (TLS 1.3 needs them; its records are encrypted after
    /// the ServerHello).
    @Test(arguments: [
        ("alert", record(21, [2, 40])),
        ("application data", record(23, [UInt8](repeating: 0xEE, count: 40))),
        ("record version 2", record(22, serverHelloDone, version: [2, 0])),
        ("empty handshake record", record(22, [])),
        ("record over 2^14", [22, 3, 3, 0x40, 0x01]),
        ("ChangeCipherSpec inside a message", record(22, Array(certificate.prefix(20))) + changeCipherSpec),
    ])
    func abandons(_ name: String, _ octets: [UInt8]) {
        var transcript = TLSHandshakeTranscript()
        transcript.append(Self.record(22, Self.clientHello), from: .client)
        transcript.append(Self.record(22, Self.serverHello), from: .server)
        transcript.append(octets, from: .server)
        #expect(transcript.state == .abandoned, "\(name)")
        #expect(transcript.messages.isEmpty)
        #expect(transcript.clientRandom == Self.clientRandom)
        #expect(transcript.cipherSuite == 0xC030)
        transcript.append(Self.changeCipherSpec, from: .client)
        #expect(transcript.state == .abandoned)
    }

    /// RFC 9266 §1: tls-unique only with extended master secret; the same handshake and
    /// key log without it give no binding.
    @Test func tlsUniqueNeedsExtendedMasterSecret() throws {
        let line = "CLIENT_RANDOM " + hexString(Self.clientRandom) + " " + String(repeating: "ab", count: 48)
        let entry = try #require(KeyLogEntry(Array(line.utf8)))
        for (serverHello, bound) in [(Self.serverHelloWithoutExtendedMasterSecret, false), (Self.serverHello, true)] {
            let recorder = TLSHandshakeRecorder(role: .server)
            let channel = EmbeddedChannel(handler: recorder)
            defer { _ = try? channel.finish() }
            try channel.writeInbound(ByteBuffer(bytes: Self.record(22, Self.clientHello)))
            try channel.writeOutbound(ByteBuffer(bytes: Self.record(22, serverHello + Self.certificate + Self.serverHelloDone)))
            try channel.writeInbound(ByteBuffer(bytes: Self.record(22, Self.clientKeyExchange) + Self.changeCipherSpec))
            KeyLogRegistry.shared.deliver(entry, to: .server)
            let binding = recorder.handshakeCompleted(version: .tlsv12)
            #expect((binding != nil) == bound, "extended master secret: \(bound)")
        }
    }

    /// The cap holds for whole messages and for one announced but not yet complete.
    @Test func bounded() {
        let limit = TLSHandshakeTranscript.maxLength
        var announced = TLSHandshakeTranscript()
        announced.append(Self.record(22, Self.clientHello), from: .client)
        announced.append(Self.record(22, [11, 0x01, 0x00, 0x00]), from: .server)
        #expect(announced.state == .abandoned)

        var many = TLSHandshakeTranscript()
        let chunk = Self.message(11, [UInt8](repeating: 0, count: 16_000))
        var sent = 0
        while many.state == .recording, sent <= limit {
            many.append(Self.record(22, chunk), from: .server)
            sent += chunk.count
        }
        #expect(many.state == .abandoned)
        #expect(sent <= limit + chunk.count)
    }

    @Test func keyLogLines() throws {
        let random = String(repeating: "0a", count: 32)
        let entry = try #require(KeyLogEntry(Array("CLIENT_RANDOM \(random) 00FFab\n".utf8)))
        #expect(entry == KeyLogEntry(Array("CLIENT_RANDOM \(random) 00ffAB".utf8)))
        #expect(entry.label == "CLIENT_RANDOM")
        #expect(entry.clientRandom == [UInt8](repeating: 10, count: 32))
        #expect(entry.secret == [0, 0xFF, 0xAB])
        for bad in ["CLIENT_RANDOM \(random)", "CLIENT_RANDOM 0a0a \(random)", "CLIENT_RANDOM \(random) abc", "CLIENT_RANDOM \(random) zz", "A \(random) 00 11"] {
            #expect(KeyLogEntry(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test func cipherSuites() {
        #expect(TLSCipherSuite.name(of: 0xC02F) == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        #expect(TLSCipherSuite.name(of: 0x00FF) == "00FF")
        #expect(TLSCipherSuite.hash(of: 0xC030) == .sha384)
        #expect(TLSCipherSuite.hash(of: 0x009D) == .sha384)
        #expect(TLSCipherSuite.hash(of: 0xCCA8) == .sha256)
        #expect(TLSCipherSuite.hash(of: 0xC014) == .sha256)
        #expect(TLSCipherSuite.hash(of: 0x00FF) == nil)
        // RFC 5289 §3.2, RFC 5288 §3: exactly the suites named ..._SHA384 use SHA-384.
        for (code, suite) in TLSCipherSuite.known {
            #expect((suite.hash == .sha384) == suite.name.hasSuffix("_SHA384"), "\(code)")
        }
    }
}
