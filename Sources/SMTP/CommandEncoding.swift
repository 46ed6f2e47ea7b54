/// Commands as a client writes them (RFC 5321 §4.1.1, §4.1.2), the inverse of
/// `Command.parse`: `Command.parse(command.encoded.dropLast(2))` gives the command back.
extension Command {
    /// The command line including its CR LF.
    public var encoded: [UInt8] {
        Array((text + "\r\n").utf8)
    }

    private var text: String {
        switch self {
        case let .ehlo(name): return "EHLO \(name)"
        case let .helo(name): return "HELO \(name)"
        case let .mail(path, parameters): return (["MAIL FROM:\(path)"] + parameters.encodedWords).joined(separator: " ")
        case let .rcpt(path, _): return "RCPT TO:\(path)"
        case .data: return "DATA"
        case let .bdat(size, last): return last ? "BDAT \(size) LAST" : "BDAT \(size)"
        case .rset: return "RSET"
        case .noop: return "NOOP"
        case .quit: return "QUIT"
        case let .vrfy(argument): return argument.isEmpty ? "VRFY" : "VRFY \(argument)"
        case let .expn(argument): return argument.isEmpty ? "EXPN" : "EXPN \(argument)"
        case let .help(argument): return argument.isEmpty ? "HELP" : "HELP \(argument)"
        case .startTLS: return "STARTTLS"
        case let .auth(mechanism, initialResponse):
            // RFC 4954 §4: an empty initial response is sent as "=".
            guard let initialResponse else { return "AUTH \(mechanism)" }
            return "AUTH \(mechanism) \(initialResponse.isEmpty ? "=" : initialResponse)"
        }
    }

    /// RFC 3461 §4: xtext, every octet outside "!" to "~", and "+" and "=", as "+" and two
    /// upper-case hex digits.
    static func xtextEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if (33...126).contains(byte), byte != UInt8(ascii: "+"), byte != UInt8(ascii: "=") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "+" + String(byte, radix: 16, uppercase: true).leftPaddedHex
            }
        }
        return out
    }
}

extension MailParameters {
    /// The esmtp-params of MAIL FROM (RFC 5321 §4.1.2), in a fixed order.
    var encodedWords: [String] {
        var words: [String] = []
        if let size { words.append("SIZE=\(size)") }
        if let body { words.append("BODY=\(body.rawValue)") }
        if smtputf8 { words.append("SMTPUTF8") }
        if requireTLS { words.append("REQUIRETLS") }
        if let auth { words.append("AUTH=\(Command.xtextEncode(auth))") }
        if let holdFor { words.append("HOLDFOR=\(holdFor)") }
        if let holdUntil { words.append("HOLDUNTIL=\(holdUntil)") }
        return words
    }
}

extension String {
    fileprivate var leftPaddedHex: String { count < 2 ? "0" + self : self }
}
