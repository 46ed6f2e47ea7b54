import Foundation
import Message
import SMTP

/// Trace fields a receiving server prepends (RFC 5321 §4.4): Received, and Delivered-To
/// naming the address a copy was delivered for.
public enum TraceFields {
    /// The Received field, one clause per line (folded with a tab):
    ///
    ///     Received: from client.example (rdns.example [192.0.2.1])
    ///     	by mx.example.org with ESMTPS id abc
    ///     	for <alice@example.org>
    ///     	tls TLS_AES_128_GCM_SHA256; Sat, 21 Nov 2026 22:45:15 +0000
    ///
    /// Grammar (RFC 5321 §4.4 Stamp): "from" Extended-Domain, "by" Extended-Domain, then
    /// WITH (RFC 3848 protocol names), ID, FOR, and additional registered clauses, here RFC
    /// 8314 §4.3's "tls" with the cipher suite. An EHLO name that is not a domain or an
    /// address literal cannot stand in the from clause, so the client's address does, with
    /// the name in a comment, cleaned of anything that could break the field.
    public static func received(
        clientName: String, clientAddress: String, reverseName: String?, hostname: String,
        protocolName: String, id: String, recipient: ForwardPath?, tlsCipher: String?, date: Date
    ) -> String {
        let literal = addressLiteral(clientAddress)
        var from: String
        let tcpInfo = reverseName.map { "\($0) \(literal)" } ?? literal
        if isDomainOrLiteral(clientName) {
            from = "from \(clientName) (\(tcpInfo))"
        } else {
            from = "from \(literal) (\(reverseName.map { "\($0) " } ?? "")helo=\(commentSafe(clientName)))"
        }
        var clauses = [from, "by \(hostname) with \(protocolName) id \(id)"]
        // RFC 5321 §7.2: "for" only when there is one recipient, so a copy does not list
        // the others.
        if let recipient { clauses.append("for \(recipient)") }
        if let tlsCipher { clauses.append("tls \(tlsCipher)") }
        return "Received: " + clauses.joined(separator: "\r\n\t") + "; " + MessageDate.format(date) + "\r\n"
    }

    /// RFC 9228 is the modern home of Delivered-To; one field per delivered address.
    public static func deliveredTo(_ address: String) -> String {
        "Delivered-To: \(address)\r\n"
    }

    /// RFC 5321 §4.1.3: "[192.0.2.1]" or "[IPv6:2001:db8::1]".
    static func addressLiteral(_ address: String) -> String {
        address.contains(":") ? "[IPv6:\(address)]" : "[\(address)]"
    }

    static func isDomainOrLiteral(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        var scanner = PathScannerFacade(bytes)
        return scanner.isDomainOrLiteral()
    }

    /// Printable ASCII without parentheses or backslash, at most 64 characters.
    static func commentSafe(_ text: String) -> String {
        String(text.unicodeScalars.prefix(64).map { scalar in
            (scalar.value >= 33 && scalar.value <= 126 && !"()\\".unicodeScalars.contains(scalar)) ? Character(scalar) : "_"
        })
    }
}

/// Checks a whole string against RFC 5321's Domain / address-literal via a path parse.
private struct PathScannerFacade {
    let bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func isDomainOrLiteral() -> Bool {
        guard !bytes.isEmpty else { return false }
        let probe = Array("<x@".utf8) + bytes + Array(">".utf8)
        guard let (path, length) = try? Path.parseForward(probe[...], allowUTF8: false) else { return false }
        guard case .mailbox = path else { return false }
        return length == probe.count
    }
}
