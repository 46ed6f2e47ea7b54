import Crypto
import Foundation
import Message

/// Signs messages for one domain, selector and key (RFC 6376 §5).
public struct DKIMSigner: Sendable {
    /// The fields signed when present (RFC 6376 §5.4.1's list), plus the MIME fields that
    /// decide how the body is shown (Message-ID, MIME-Version, Content-Type,
    /// Content-Transfer-Encoding; §5.4.1 names Message-ID and Content-Type as candidates).
    public static let recommendedHeaders = [
        "From", "Reply-To", "Subject", "Date", "To", "Cc", "In-Reply-To", "References", "Message-ID", "MIME-Version", "Content-Type",
        "Content-Transfer-Encoding", "Resent-Date", "Resent-From", "Resent-To", "Resent-Cc", "List-Id", "List-Help", "List-Unsubscribe",
        "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
    ]

    /// Fields listed once more than they occur (RFC 6376 §5.4.2: "The Signer MAY include more
    /// instances of a header field name in h= than there are actual corresponding header
    /// fields so that the signature will not verify if additional header fields of that name
    /// are added"), so nobody can add a second From or Subject, or one that was absent. Not
    /// the Resent-* and List-* fields, which resending (RFC 5322 §3.6.6) and mailing lists
    /// (RFC 2369, RFC 2919) add on the way.
    public static let oversignedHeaders: Set<String> = [
        "from", "reply-to", "subject", "date", "to", "cc", "in-reply-to", "references", "message-id", "mime-version", "content-type",
        "content-transfer-encoding",
    ]

    /// Lines of the DKIM-Signature field are kept to this many characters (RFC 5322 §2.1.1).
    static let lineLength = 78

    public let domain: String
    public let selector: String
    public let key: DKIMPrivateKey
    public let headerCanonicalization: Canonicalization
    public let bodyCanonicalization: Canonicalization
    public let headers: [String]
    public let oversigned: Set<String>
    /// i=, when the signer vouches for an agent or user within the domain (RFC 6376 §3.5).
    public let identity: String?
    /// How long signatures stay valid: x= is t= plus this (RFC 6376 §3.5); nil for no x=.
    public let validity: Duration?
    public let now: @Sendable () -> Date
    private let metrics: DKIMMetrics

    /// `headers` must include From (RFC 6376 §5.4: "The From header field MUST be signed");
    /// `oversigned` holds lowercase names.
    public init(
        domain: String, selector: String, key: DKIMPrivateKey, headerCanonicalization: Canonicalization = .relaxed,
        bodyCanonicalization: Canonicalization = .relaxed, headers: [String] = recommendedHeaders, oversigned: Set<String> = oversignedHeaders,
        identity: String? = nil, validity: Duration? = nil, now: @escaping @Sendable () -> Date = { Date() }, metrics: DKIMMetrics = DKIMMetrics()
    ) throws(DKIMSigningError) {
        guard DKIMSignature.isDomainName(domain) else { throw .invalidDomain(domain) }
        guard DKIMSignature.isSelector(selector) else { throw .invalidSelector(selector) }
        guard headers.contains(where: { $0.caseInsensitiveEquals("from") }) else { throw .fromNotSigned }
        if let bad = headers.first(where: { !DKIMSignature.isFieldName($0) }) { throw .invalidHeaderName(bad) }
        if let identity {
            guard let at = identity.lastIndex(of: "@"), DKIMSignature.isDomain(identity[identity.index(after: at)...], within: domain) else {
                throw .identityOutsideDomain(identity)
            }
        }
        if let validity, validity <= .zero { throw .invalidValidity }
        self.domain = domain
        self.selector = selector
        self.key = key
        self.headerCanonicalization = headerCanonicalization
        self.bodyCanonicalization = bodyCanonicalization
        self.headers = headers
        self.oversigned = oversigned
        self.identity = identity
        self.validity = validity
        self.now = now
        self.metrics = metrics
    }

    /// The DKIM-Signature field for `message`, folded, ending in CRLF, to be prepended to it
    /// (RFC 6376 §5.6).
    public func signatureField(for message: [UInt8]) throws(DKIMSigningError) -> [UInt8] {
        let message = DKIMMessage(message)
        guard message.header.fields.contains(where: { $0.is("From") }) else { throw .noFromField }
        var counts: [String: Int] = [:]
        for field in message.header.fields { counts[field.name.lowercased(), default: 0] += 1 }
        var signedNames: [String] = []
        for name in headers {
            let lowercased = name.lowercased()
            let instances = (counts[lowercased] ?? 0) + (oversigned.contains(lowercased) ? 1 : 0)
            signedNames += Array(repeating: lowercased, count: instances)
        }

        let timestamp = Int(now().timeIntervalSince1970)
        var field = FoldedField(name: "DKIM-Signature")
        field.add("v=1;")
        field.add("a=\(key.algorithm.rawValue);")
        field.add("c=\(headerCanonicalization.rawValue)/\(bodyCanonicalization.rawValue);")
        field.add("d=\(domain);")
        field.add("s=\(selector);")
        if let identity { field.add("i=\(identity);") }
        field.add("t=\(timestamp);")
        if let validity { field.add("x=\(timestamp + Int(validity.components.seconds));") }
        // h= may fold after each colon (RFC 6376 §3.5: FWS on either side of the separator).
        for (index, name) in signedNames.enumerated() {
            let piece = (index == 0 ? "h=" : "") + name + (index == signedNames.count - 1 ? ";" : ":")
            field.add(piece, separator: index == 0 ? " " : "")
        }
        let bodyHash = message.bodyHash(bodyCanonicalization, limit: nil).hash
        field.add("bh=\(Data(bodyHash).base64EncodedString());")
        field.add("b=")
        let dataHash = message.dataHash(signedHeaders: signedNames, canonicalization: headerCanonicalization, signatureField: field.octets)
        let signature = try key.sign(dataHash)
        // b= goes last, so its value can be added after hashing the field without it.
        field.addBreakable(Data(signature).base64EncodedString())
        metrics.countSignature(key.algorithm)
        return field.octets + [0x0D, 0x0A]
    }

    /// `message` with one DKIM-Signature field per signer prepended (each signs the message
    /// as given, not the others' fields). A message with LF line endings gets LF fields.
    public static func sign(_ message: [UInt8], with signers: [DKIMSigner]) throws(DKIMSigningError) -> [UInt8] {
        try signatureFields(for: message, with: signers) + message
    }

    /// The fields `sign(_:with:)` prepends, for a caller that writes the message itself.
    public static func signatureFields(for message: [UInt8], with signers: [DKIMSigner]) throws(DKIMSigningError) -> [UInt8] {
        var fields: [UInt8] = []
        for signer in signers { fields += try signer.signatureField(for: message) }
        if let firstLF = message.firstIndex(of: 0x0A), firstLF == 0 || message[firstLF - 1] != 0x0D {
            fields.removeAll { $0 == 0x0D }
        }
        return fields
    }
}

/// A header field written piece by piece, folding before a piece that would pass the line
/// length (RFC 5322 §2.2.3: a fold is CRLF before white space).
struct FoldedField {
    private(set) var octets: [UInt8]
    private var column: Int

    init(name: String) {
        octets = Array((name + ":").utf8)
        column = octets.count
    }

    /// `piece` after `separator`, or on a new line when it would not fit.
    mutating func add(_ piece: String, separator: String = " ") {
        if column + separator.utf8.count + piece.utf8.count > DKIMSigner.lineLength {
            newLine()
        } else {
            octets += separator.utf8
            column += separator.utf8.count
        }
        octets += piece.utf8
        column += piece.utf8.count
    }

    /// Text that may be broken anywhere (a base64 value, in which FWS is ignored: RFC 6376
    /// §3.5 b=): fills the current line, then whole lines.
    mutating func addBreakable(_ text: String) {
        var rest = Substring(text)
        while !rest.isEmpty {
            if column >= DKIMSigner.lineLength { newLine() }
            let piece = rest.prefix(DKIMSigner.lineLength - column)
            octets += piece.utf8
            column += piece.utf8.count
            rest = rest.dropFirst(piece.count)
        }
    }

    private mutating func newLine() {
        octets += [0x0D, 0x0A, 0x20]
        column = 1
    }
}

/// Why a message could not be signed, or a signer not made.
public enum DKIMSigningError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidDomain(String)
    case invalidSelector(String)
    case invalidHeaderName(String)
    case identityOutsideDomain(String)
    case invalidValidity
    case fromNotSigned
    /// RFC 6376 §5.4: From must be signed, so a message without one cannot be.
    case noFromField
    case signingFailed(String)

    public var description: String {
        switch self {
        case let .invalidDomain(domain): return "'\(domain)' is not a domain name for d="
        case let .invalidSelector(selector): return "'\(selector)' is not a selector (dot-separated labels)"
        case let .invalidHeaderName(name): return "'\(name)' is not a header field name"
        case let .identityOutsideDomain(identity): return "i=\(identity) is not an address in the signing domain or below it"
        case .invalidValidity: return "the validity period must be positive"
        case .fromNotSigned: return "the signed header fields must include From (RFC 6376 §5.4)"
        case .noFromField: return "the message has no From field, which DKIM must sign (RFC 6376 §5.4)"
        case let .signingFailed(reason): return "signing failed: \(reason)"
        }
    }
}
