import SASL

/// The handshake messages of one TLS connection as they pass in clear, in the order they were
/// sent, up to the first ChangeCipherSpec: what tls-unique (RFC 5929 §3.1) is computed over
/// for TLS 1.2, where the library does not report its Finished messages.
///
/// In TLS 1.2 every handshake message before a side's ChangeCipherSpec travels in plaintext
/// records of type handshake (RFC 5246 §6.2.1, §7.1), and the first Finished comes right
/// after the first ChangeCipherSpec: the client's in a full handshake, the server's in an
/// abbreviated one (RFC 5246 §7.3). The Finished covers every handshake message before it,
/// from both sides, in the order sent (§7.4.9). The handshake is lockstep up to that point,
/// so the order in which one observer sees the two directions is the order sent.
///
/// The records are fed as they were read and written, in pieces of any size: a record may
/// span reads, a message may span records, a record may hold several messages. On the way
/// the transcript notes the client random (which key-log lines belong to this connection)
/// and the cipher suite from the ServerHello. These are in clear in TLS 1.3 too (RFC 8446
/// §4.1.2, §4.1.3), after which its encrypted records end the transcript.
struct TLSHandshakeTranscript: Sendable {
    enum State: Sendable, Hashable {
        /// Still reading handshake messages in clear.
        case recording
        /// `firstFinished` sent the first ChangeCipherSpec: its Finished is the first of the
        /// handshake and covers `messages`.
        case complete(firstFinished: TLSRole)
        /// Not a handshake in clear this transcript can follow to its end: an alert, an
        /// encrypted (TLS 1.3) record, malformed records, or more than `maxLength`.
        case abandoned
    }

    /// The messages kept, at most. A TLS 1.2 handshake up to the first Finished is the hellos,
    /// certificate chains and key exchanges, a few KiB; a peer sending more gets no binding.
    static let maxLength = 64 * 1024
    /// RFC 5246 §6.2.1: TLSPlaintext.length is at most 2^14.
    static let maxRecordLength = 1 << 14

    private(set) var state = State.recording
    /// The handshake messages so far, headers included (RFC 5246 §7.4), HelloRequest left out
    /// (§7.4.9).
    private(set) var messages: [UInt8] = []
    /// ClientHello.random (RFC 5246 §7.4.1.2), the key of the connection's key-log lines.
    private(set) var clientRandom: [UInt8]?
    /// ServerHello.cipher_suite (RFC 5246 §7.4.1.3, RFC 8446 §4.1.3).
    private(set) var cipherSuite: UInt16?
    /// The ServerHello has the extended_master_secret extension (RFC 7627 §5.1), also when
    /// resuming a session that used it (§5.3): only then is a TLS 1.2 master secret, and so
    /// tls-unique, unique to the connection (RFC 9266 §1, the triple handshake attack).
    private(set) var extendedMasterSecret = false

    /// What one direction has sent that is not yet a whole record or a whole message.
    private struct Partial: Sendable {
        var record: [UInt8] = []
        var message: [UInt8] = []
    }

    private var fromClient = Partial()
    private var fromServer = Partial()

    init() {}

    /// Octets `sender` sent, in the order sent.
    mutating func append(_ bytes: some Collection<UInt8>, from sender: TLSRole) {
        guard state == .recording else { return }
        var partial = sender == .client ? fromClient : fromServer
        partial.record += bytes
        var offset = 0
        // TLSPlaintext (RFC 5246 §6.2.1): type, version (major 3), length, fragment.
        while state == .recording, partial.record.count - offset >= 5 {
            let type = partial.record[offset]
            let length = Int(partial.record[offset + 3]) << 8 | Int(partial.record[offset + 4])
            guard partial.record[offset + 1] == 3, length > 0, length <= Self.maxRecordLength else {
                state = .abandoned
                break
            }
            guard partial.record.count - offset - 5 >= length else { break }
            let fragment = partial.record[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
            switch type {
            case 22:
                partial.message += fragment
                readMessages(&partial.message, from: sender)
            case 20 where partial.message.isEmpty:
                // RFC 5246 §7.1: ChangeCipherSpec sits between whole messages; what follows it
                // in this direction is encrypted.
                state = .complete(firstFinished: sender)
            default:
                state = .abandoned
            }
        }
        partial.record.removeFirst(offset)
        if sender == .client { fromClient = partial } else { fromServer = partial }
        if state != .recording {
            fromClient = Partial()
            fromServer = Partial()
        }
        if state == .abandoned { messages = [] }
    }

    /// Moves the whole messages at the start of `pending` to the transcript.
    private mutating func readMessages(_ pending: inout [UInt8], from sender: TLSRole) {
        var offset = 0
        while pending.count - offset >= 4 {
            // Handshake (RFC 5246 §7.4): msg_type, uint24 length, body.
            let length = Int(pending[offset + 1]) << 16 | Int(pending[offset + 2]) << 8 | Int(pending[offset + 3])
            guard messages.count + 4 + length <= Self.maxLength else {
                state = .abandoned
                return
            }
            guard pending.count - offset - 4 >= length else { break }
            let message = pending[offset..<(offset + 4 + length)]
            offset += 4 + length
            note(message, from: sender)
            // RFC 5246 §7.4.9: HelloRequest messages are not part of handshake_messages.
            if message.first != 0 { messages += message }
        }
        pending.removeFirst(offset)
        if messages.count + pending.count > Self.maxLength { state = .abandoned }
    }

    /// The client random from the first ClientHello; the cipher suite and the extensions
    /// from the first ServerHello (in TLS 1.3 possibly a HelloRetryRequest, whose suite the
    /// ServerHello must repeat, RFC 8446 §4.1.4).
    private mutating func note(_ message: ArraySlice<UInt8>, from sender: TLSRole) {
        var body = message.dropFirst(4)
        switch (sender, message.first) {
        case (.client, 1) where clientRandom == nil:
            // client_version (2), random (32).
            guard body.count >= 2 + 32 else { return }
            clientRandom = Array(body.dropFirst(2).prefix(32))
        case (.server, 2) where cipherSuite == nil:
            // RFC 5246 §7.4.1.3: server_version (2), random (32), session_id<0..32>,
            // cipher_suite (2), compression_method (1), extensions<0..2^16-1> if any.
            body = body.dropFirst(2 + 32)
            guard let sessionIDLength = body.first.map(Int.init), body.count >= 1 + sessionIDLength + 2 else { return }
            body = body.dropFirst(1 + sessionIDLength)
            cipherSuite = UInt16(body[body.startIndex]) << 8 | UInt16(body[body.startIndex + 1])
            extendedMasterSecret = Self.extensionTypes(body.dropFirst(2 + 1)).contains(23)
        default:
            return
        }
    }

    /// The types of the extensions in `extensions<0..2^16-1>` (RFC 5246 §7.4.1.4), as far as
    /// they are well-formed.
    static func extensionTypes(_ bytes: ArraySlice<UInt8>) -> [UInt16] {
        var types: [UInt16] = []
        var rest = bytes.dropFirst(2)
        while rest.count >= 4 {
            let start = rest.startIndex
            types.append(UInt16(rest[start]) << 8 | UInt16(rest[start + 1]))
            rest = rest.dropFirst(4 + (Int(rest[start + 2]) << 8 | Int(rest[start + 3])))
        }
        return types
    }
}
