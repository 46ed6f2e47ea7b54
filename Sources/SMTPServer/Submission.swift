#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DKIM
import Foundation
import Message
import SMTP

/// What a message submission agent checks and completes before it accepts a message
/// (RFC 6409 §8): the author in From must be the authenticated account's own address
/// (§8.1 allows refusing others, and it keeps accounts from sending as each other), and a
/// missing Date (§8.2) or Message-ID (§8.3) is added. Then the message is signed for its
/// author's domain (`sign`).
enum Submission {
    enum Outcome: Equatable {
        /// Accepted (the file may have been rewritten). `ignoreTLSPolicy`: the message says
        /// "TLS-Required: No" (RFC 8689 §5). `authorDomains`: the domains of the From
        /// addresses, each once, in order: the domains that sign it.
        case accepted(ignoreTLSPolicy: Bool, authorDomains: [String])
        case refused(Reply)
    }

    /// Checks the message file and completes its header. `traceLength` is how many octets
    /// of trace fields this server put in front of the client's message.
    static func prepare(
        path: String, traceLength: Int, account: String, policy: any SessionPolicy, hostname: String, now: Date,
        makeID: () -> String
    ) throws -> Outcome {
        let source = try FileSource(path: path)
        let header = try ParsedMessage.parse(source).header
        let fromFields = header.all("From")
        // RFC 5322 §3.6: exactly one From field.
        guard fromFields.count == 1, let from = fromFields.first else {
            return .refused(Reply(
                550, .mediaError, fromFields.isEmpty ? "message has no From field (RFC 5322 §3.6.2)" : "message has more than one From field (RFC 5322 §3.6)"))
        }
        let authors = AddressList.mailboxes(AddressList.parseLenient(from))
        guard !authors.isEmpty else { return .refused(Reply(550, .mediaError, "the From field has no address")) }
        for author in authors where !policy.mayUseSender(.mailbox(Mailbox(localPart: author.localPart, domain: author.domain)), account: account) {
            return .refused(Reply(550, .notAuthorized, "From address \(author.addrSpec) does not belong to your account"))
        }
        var added = ""
        if header.first("Date") == nil { added += "Date: \(MessageDate.format(now))\r\n" }
        if header.first("Message-ID") == nil { added += "Message-ID: <\(makeID())@\(hostname)>\r\n" }
        if !added.isEmpty { _ = try MessageRewrite.prepend([], to: path, traceLength: traceLength, afterTrace: Array(added.utf8)) }
        // RFC 8689 §5: "TLS-Required: No" (case-insensitive) asks that the recipients' TLS
        // policies be ignored.
        let tlsRequired = header.first("TLS-Required").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var seen: Set<String> = []
        let domains = authors.map(\.domain).filter { seen.insert($0.lowercased()).inserted }
        return .accepted(ignoreTLSPolicy: tlsRequired == "no", authorDomains: domains)
    }

    /// Puts one DKIM-Signature field per signer in front of the message file (RFC 6376 §5.6)
    /// and returns the octets now in front of the client's message (the fields and this
    /// host's trace fields). The signers sign the client's message as prepared, without the
    /// trace fields: those record this hop, and later hops add theirs above them (RFC 5321
    /// §4.4), so they are not part of the message the author's domain vouches for (RFC 6376
    /// §5.4). The message is read whole: the body hash covers all of it.
    static func sign(path: String, traceLength: Int, with signers: [DKIMSigner]) throws -> Int {
        let source = try FileSource(path: path)
        let message = try source.read(offset: traceLength, length: source.count - traceLength)
        let fields = try DKIMSigner.signatureFields(for: message, with: signers)
        // Nothing is removed: DKIM-Signature fields the client's message already has stay,
        // below the new ones (RFC 6376 §5.6: "inserted before any other DKIM-Signature fields").
        return try MessageRewrite.prepend(fields, to: path, traceLength: traceLength)
    }
}
