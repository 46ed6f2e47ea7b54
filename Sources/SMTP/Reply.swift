/// SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC 2034).
///
/// A reply is a three-digit code and one or more lines of text; with ENHANCEDSTATUSCODES
/// each line starts with the class.subject.detail code (RFC 2034 §4). Replies are values so
/// a session state machine can return them and a test can compare them.
public struct Reply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var enhanced: EnhancedStatus?
    public var lines: [String]

    public init(_ code: Int, _ enhanced: EnhancedStatus? = nil, _ lines: [String]) {
        self.code = code
        self.enhanced = enhanced
        self.lines = lines.isEmpty ? [""] : lines
    }

    public init(_ code: Int, _ enhanced: EnhancedStatus? = nil, _ text: String) {
        self.init(code, enhanced, [text])
    }

    /// 2xx and 3xx: the command was accepted or more is expected.
    public var isPositive: Bool { code < 400 }
    /// 4xx: try again later (RFC 5321 §4.2.1).
    public var isTransient: Bool { (400..<500).contains(code) }
    /// 5xx: do not try again.
    public var isPermanent: Bool { code >= 500 }

    /// The reply on the wire: "250-first", ..., "250 last", each ending in CRLF. Line breaks
    /// inside a text would end the reply early and let a peer inject replies, so they are
    /// turned into separate lines.
    public func encoded(enhancedCodes: Bool = true) -> [UInt8] {
        let texts = lines.flatMap { $0.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) }
        var out: [UInt8] = []
        for (index, text) in texts.enumerated() {
            out += Array(String(code).utf8)
            out.append(index == texts.count - 1 ? UInt8(ascii: " ") : UInt8(ascii: "-"))
            if enhancedCodes, let enhanced {
                out += Array("\(enhanced) ".utf8)
            }
            out += Array(text.utf8)
            out += [0x0D, 0x0A]
        }
        return out
    }

    public var description: String {
        String(decoding: encoded(), as: UTF8.self).split(separator: "\r\n").joined(separator: "\\r\\n")
    }
}

/// RFC 3463 enhanced mail system status code: class.subject.detail.
public struct EnhancedStatus: Hashable, Sendable, CustomStringConvertible {
    public var klass: Int
    public var subject: Int
    public var detail: Int

    public init(_ klass: Int, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses "5.1.1"; RFC 3463 §2: class 2, 4 or 5, subject and detail 0–999 without
    /// leading zeros.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let klass = Int(parts[0]), [2, 4, 5].contains(klass) else { return nil }
        var numbers: [Int] = []
        for part in parts.dropFirst() {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit), !(part.count > 1 && part.first == "0"), let value = Int(part) else {
                return nil
            }
            numbers.append(value)
        }
        self.init(klass, numbers[0], numbers[1])
    }

    public var description: String { "\(klass).\(subject).\(detail)" }

    // The codes Tern uses, by RFC 3463 section.
    /// §3.1 X.0.0 Other undefined status.
    public static let ok = EnhancedStatus(2, 0, 0)
    /// §3.2 X.1.0 Other address status.
    public static let addressOK = EnhancedStatus(2, 1, 0)
    /// §3.3 X.1.5 Destination address valid.
    public static let destinationValid = EnhancedStatus(2, 1, 5)
    /// §3.6 X.6.0 Other or undefined media error (used for accepted message, 2.6.0).
    public static let messageAccepted = EnhancedStatus(2, 6, 0)
    /// §3.3 X.1.1 Bad destination mailbox address.
    public static let badMailbox = EnhancedStatus(5, 1, 1)
    /// §3.3 X.1.2 Bad destination system address.
    public static let badSystem = EnhancedStatus(5, 1, 2)
    /// §3.3 X.1.3 Bad destination mailbox address syntax.
    public static let badMailboxSyntax = EnhancedStatus(5, 1, 3)
    /// §3.3 X.1.7 Bad sender's mailbox address syntax.
    public static let badSenderSyntax = EnhancedStatus(5, 1, 7)
    /// §3.5 X.3.4 Message too big for system.
    public static let messageTooBig = EnhancedStatus(5, 3, 4)
    /// §3.6 X.4.7 Delivery time expired (used for timeouts, 4.4.2 bad connection).
    public static let badConnection = EnhancedStatus(4, 4, 2)
    /// §3.8 X.5.0 Other or undefined protocol status.
    public static let protocolError = EnhancedStatus(5, 5, 0)
    /// §3.8 X.5.1 Invalid command.
    public static let invalidCommand = EnhancedStatus(5, 5, 1)
    /// §3.8 X.5.2 Syntax error.
    public static let syntaxError = EnhancedStatus(5, 5, 2)
    /// §3.8 X.5.3 Too many recipients.
    public static let tooManyRecipients = EnhancedStatus(5, 5, 3)
    /// §3.8 X.5.4 Invalid command arguments.
    public static let invalidArguments = EnhancedStatus(5, 5, 4)
    /// §3.8 X.5.6 Authentication Exchange line is too long (RFC 4954 §6: 5.5.6).
    public static let lineTooLong = EnhancedStatus(5, 5, 6)
    /// §3.9 X.7.0 Other or undefined security status.
    public static let security = EnhancedStatus(5, 7, 0)
    /// RFC 4954 §6: 5.7.8 Authentication credentials invalid.
    public static let badCredentials = EnhancedStatus(5, 7, 8)
    /// RFC 4954 §6: 5.7.11 Encryption required for requested authentication mechanism.
    public static let encryptionRequired = EnhancedStatus(5, 7, 11)
    /// RFC 4954 §6: 5.7.0 / 5.7.1 delivery not authorized, message refused.
    public static let notAuthorized = EnhancedStatus(5, 7, 1)
    /// RFC 4954 §6: 2.7.0 Authentication succeeded.
    public static let authenticated = EnhancedStatus(2, 7, 0)
    /// RFC 8689 §5: 5.7.30 REQUIRETLS support required.
    public static let requireTLSRequired = EnhancedStatus(5, 7, 30)
    /// RFC 6531 §3.7.4: 5.6.7 non-ASCII addresses not permitted for that sender/recipient.
    public static let nonASCIIAddress = EnhancedStatus(5, 6, 7)
    /// §3.6 X.6.0 Other or undefined media error.
    public static let mediaError = EnhancedStatus(5, 6, 0)
    /// §3.5 X.3.0 Other or undefined mail system status.
    public static let systemError = EnhancedStatus(4, 3, 0)
    /// §3.5 X.3.2 System not accepting network messages (shutting down, too busy).
    public static let notAccepting = EnhancedStatus(4, 3, 2)
    /// §3.4 X.4.5 Mail system congestion (too many connections).
    public static let congestion = EnhancedStatus(4, 4, 5)
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
