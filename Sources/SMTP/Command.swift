/// SMTP commands (RFC 5321 §4.1.1) and the ESMTP extensions' parameters, parsed from one
/// command line (without its CRLF). Parsing never decides policy: whether a parameter is
/// allowed here (REQUIRETLS without TLS, HOLDFOR outside submission) is the session's call.
public enum Command: Hashable, Sendable {
    case ehlo(String)
    case helo(String)
    case mail(ReversePath, MailParameters)
    case rcpt(ForwardPath, RecipientParameters)
    case data
    /// RFC 3030 §2: BDAT chunk-size [LAST].
    case bdat(size: Int, last: Bool)
    case rset
    case noop
    case quit
    case vrfy(String)
    case expn(String)
    case help(String)
    case startTLS
    /// RFC 4954 §4: AUTH mechanism [initial-response], the response still base64.
    case auth(mechanism: String, initialResponse: String?)
}

/// MAIL FROM parameters of the extensions Tern implements.
public struct MailParameters: Hashable, Sendable {
    /// RFC 1870 SIZE=.
    public var size: Int?
    /// RFC 6152 / RFC 3030 BODY=7BIT | 8BITMIME | BINARYMIME.
    public var body: Body?
    /// RFC 6531 SMTPUTF8.
    public var smtputf8 = false
    /// RFC 8689 REQUIRETLS.
    public var requireTLS = false
    /// RFC 4954 §5 AUTH=<mailbox> or AUTH=<>, xtext-decoded.
    public var auth: String?
    /// RFC 4865 FUTURERELEASE: HOLDFOR=seconds or HOLDUNTIL=date-time (kept as text).
    public var holdFor: Int?
    public var holdUntil: String?

    public enum Body: String, Hashable, Sendable {
        case sevenBit = "7BIT"
        case eightBitMIME = "8BITMIME"
        case binaryMIME = "BINARYMIME"
    }

    public init() {}
}

/// RCPT TO parameters: none are implemented (DSN's NOTIFY/ORCPT are not advertised), so
/// any parameter is refused; the type exists so adding one later changes no signatures.
public struct RecipientParameters: Hashable, Sendable {
    public init() {}
}

public enum CommandError: Error, Hashable, Sendable {
    /// The verb is not one Tern knows: 500 5.5.1.
    case unknownCommand(String)
    /// The arguments do not parse: 501 5.5.4 (5.1.7 / 5.1.3 for bad addresses).
    case syntax(String, EnhancedStatus)
    /// A parameter that is not supported: 555 5.5.4 (RFC 5321 §4.1.1.11).
    case unsupportedParameter(String)

    /// The reply to send for this error.
    public var reply: Reply {
        switch self {
        case let .unknownCommand(verb): return Reply(500, .invalidCommand, "unknown command \(verb.prefix(32))")
        case let .syntax(text, status): return Reply(501, status, text)
        case let .unsupportedParameter(name): return Reply(555, .invalidArguments, "unsupported parameter \(name.prefix(64))")
        }
    }
}

extension Command {
    /// RFC 1870 §4 and common sense: a SIZE that does not fit in an Int is still a number,
    /// it is just too big; cap it so the size check refuses it instead of failing to parse.
    static let sizeCap = Int(Int32.max)

    /// Parses one command line. Paths may contain UTF-8 here, since the SMTPUTF8 parameter
    /// comes after the path on the same line; the session checks that it was given
    /// (`Mailbox.needsSMTPUTF8`).
    public static func parse(_ line: [UInt8]) throws(CommandError) -> Command {
        // RFC 5321 §2.3.8: CR and LF only end lines; a bare one, or a NUL, inside a command
        // is refused rather than passed on in an argument.
        if line.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            throw .syntax("bare CR, LF or NUL in the command", .syntaxError)
        }
        let verbEnd = line.firstIndex(of: UInt8(ascii: " ")) ?? line.count
        let verb = String(decoding: line[..<verbEnd], as: UTF8.self).uppercased()
        let rest = line[min(verbEnd + 1, line.count)...]
        let argument = String(decoding: rest, as: UTF8.self).trimmingSpaces
        switch verb {
        case "EHLO", "HELO":
            // RFC 5321 §4.1.1.1: a domain or an address literal; many clients send other
            // things, which is the receiving policy's business, but it must be there.
            guard !argument.isEmpty, !argument.contains(" ") else {
                throw .syntax("\(verb) requires a domain or address literal", .syntaxError)
            }
            return verb == "EHLO" ? .ehlo(argument) : .helo(argument)
        case "MAIL":
            guard let pathStart = afterPrefix(rest, "FROM:") else { throw .syntax("syntax: MAIL FROM:<address>", .syntaxError) }
            let (path, length) = try parsePath(rest, from: pathStart) { bytes throws(PathError) in try Path.parseReverse(bytes, allowUTF8: true) }
            return .mail(path, try mailParameters(rest[(pathStart + length)...]))
        case "RCPT":
            guard let pathStart = afterPrefix(rest, "TO:") else { throw .syntax("syntax: RCPT TO:<address>", .syntaxError) }
            let (path, length) = try parsePath(rest, from: pathStart) { bytes throws(PathError) in try Path.parseForward(bytes, allowUTF8: true) }
            let parameters = String(decoding: rest[(pathStart + length)...], as: UTF8.self).trimmingSpaces
            if let first = parameters.split(separator: " ").first {
                throw .unsupportedParameter(String(first.split(separator: "=").first ?? first))
            }
            return .rcpt(path, RecipientParameters())
        case "DATA", "RSET", "QUIT", "STARTTLS":
            // RFC 5321 §4.1.1.4, .5, .10; RFC 3207 §4: no arguments.
            guard argument.isEmpty else { throw .syntax("\(verb) takes no arguments", .syntaxError) }
            switch verb {
            case "DATA": return .data
            case "RSET": return .rset
            case "QUIT": return .quit
            default: return .startTLS
            }
        case "NOOP":
            return .noop  // RFC 5321 §4.1.1.9: any parameter is ignored.
        case "BDAT":
            let words = argument.split(separator: " ")
            guard (1...2).contains(words.count), words[0].allSatisfy(\.isASCIIDigit), words[0].count <= 19,
                let size = Int(words[0])
            else { throw .syntax("syntax: BDAT size [LAST]", .syntaxError) }
            if words.count == 2, words[1].uppercased() != "LAST" {
                throw .syntax("syntax: BDAT size [LAST]", .syntaxError)
            }
            return .bdat(size: size, last: words.count == 2)
        case "VRFY": return .vrfy(argument)
        case "EXPN": return .expn(argument)
        case "HELP": return .help(argument)
        case "AUTH":
            let words = argument.split(separator: " ")
            guard (1...2).contains(words.count) else { throw .syntax("syntax: AUTH mechanism [initial-response]", .syntaxError) }
            return .auth(mechanism: words[0].uppercased(), initialResponse: words.count == 2 ? String(words[1]) : nil)
        default:
            throw .unknownCommand(verb)
        }
    }

    /// The index after "FROM:" / "TO:" (case-insensitive), allowing the space some clients
    /// put after the colon (RFC 5321 has none; Postfix and others accept it).
    private static func afterPrefix(_ rest: ArraySlice<UInt8>, _ prefix: String) -> Int? {
        let expected = Array(prefix.utf8)
        guard rest.count >= expected.count,
            zip(rest.prefix(expected.count), expected).allSatisfy({ $0 == $1 || ($0 | 0x20 == $1 | 0x20 && $1 >= 0x41) })
        else { return nil }
        var index = rest.startIndex + expected.count
        while index < rest.endIndex, rest[index] == UInt8(ascii: " ") { index += 1 }
        return index
    }

    private static func parsePath<P>(
        _ rest: ArraySlice<UInt8>, from start: Int, _ parse: (ArraySlice<UInt8>) throws(PathError) -> (P, Int)
    ) throws(CommandError) -> (P, Int) {
        do {
            return try parse(rest[start...])
        } catch {
            let status: EnhancedStatus = error == .nonASCIIWithoutSMTPUTF8 ? .nonASCIIAddress : .badMailboxSyntax
            throw .syntax("invalid address: \(error)", status)
        }
    }

    /// esmtp-param *(SP esmtp-param); esmtp-param = esmtp-keyword ["=" esmtp-value]
    /// (RFC 5321 §4.1.2). Unknown and repeated parameters are refused.
    static func mailParameters(_ bytes: ArraySlice<UInt8>) throws(CommandError) -> MailParameters {
        var parameters = MailParameters()
        var seen: Set<String> = []
        for word in String(decoding: bytes, as: UTF8.self).split(separator: " ") {
            let pieces = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let keyword = pieces[0].uppercased()
            let value = pieces.count == 2 ? String(pieces[1]) : nil
            guard seen.insert(keyword).inserted else { throw .syntax("parameter \(keyword) given twice", .invalidArguments) }
            switch keyword {
            case "SIZE":
                guard let value, !value.isEmpty, value.count <= 20, value.allSatisfy(\.isASCIIDigit) else {
                    throw .syntax("SIZE needs a number", .invalidArguments)
                }
                parameters.size = Int(value).map { min($0, sizeCap) } ?? sizeCap
            case "BODY":
                guard let value, let body = MailParameters.Body(rawValue: value.uppercased()) else {
                    throw .syntax("BODY must be 7BIT, 8BITMIME or BINARYMIME", .invalidArguments)
                }
                parameters.body = body
            case "SMTPUTF8":
                guard value == nil else { throw .syntax("SMTPUTF8 takes no value", .invalidArguments) }
                parameters.smtputf8 = true
            case "REQUIRETLS":
                guard value == nil else { throw .syntax("REQUIRETLS takes no value", .invalidArguments) }
                parameters.requireTLS = true
            case "AUTH":
                guard let value, let decoded = xtextDecode(value) else { throw .syntax("AUTH needs an xtext mailbox or <>", .invalidArguments) }
                parameters.auth = decoded
            case "HOLDFOR":
                guard let value, !value.isEmpty, value.count <= 9, value.allSatisfy(\.isASCIIDigit), let seconds = Int(value) else {
                    throw .syntax("HOLDFOR needs a number of seconds", .invalidArguments)
                }
                parameters.holdFor = seconds
            case "HOLDUNTIL":
                guard let value, !value.isEmpty else { throw .syntax("HOLDUNTIL needs a date-time", .invalidArguments) }
                parameters.holdUntil = value
            default:
                throw .unsupportedParameter(keyword)
            }
        }
        return parameters
    }

    /// RFC 3461 §4: xtext, "+" followed by two uppercase hex digits for an octet.
    static func xtextDecode(_ text: String) -> String? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: "+") {
                guard bytes.count >= 2, let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else {
                guard (33...126).contains(byte), byte != UInt8(ascii: "=") else { return nil }
                out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = unicodeScalars[...]
        while scalars.first == " " { scalars = scalars.dropFirst() }
        while scalars.last == " " { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
