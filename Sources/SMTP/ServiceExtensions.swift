/// The service extensions a server announced in its reply to EHLO (RFC 5321 §4.1.1.1): the
/// first line names the server, each further line is a keyword with optional parameters.
///
///     ehlo-line    = ehlo-keyword *( SP ehlo-param )
///     ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
///
/// Keywords are case-insensitive (§4.1.1.1), so they are kept in upper case. A line that is
/// not a keyword is skipped rather than failing the session: it offers nothing the client
/// could use.
public struct ServiceExtensions: Hashable, Sendable {
    /// Upper-case keyword to its parameters, as sent.
    public private(set) var parameters: [String: [String]] = [:]

    /// No extensions: what a server answering HELO offers.
    public init() {}

    /// The extensions in a 250 reply to EHLO.
    public init(ehloReply reply: Reply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let keyword = words.first, Self.isKeyword(keyword) else { continue }
            parameters[keyword.uppercased()] = words.dropFirst().map(String.init)
        }
    }

    static func isKeyword(_ keyword: Substring) -> Bool {
        guard let first = keyword.unicodeScalars.first, isAlphaDigit(first) else { return false }
        return keyword.unicodeScalars.allSatisfy { isAlphaDigit($0) || $0 == "-" }
    }

    private static func isAlphaDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    public func offers(_ keyword: String) -> Bool { parameters[keyword.uppercased()] != nil }

    /// RFC 2920.
    public var pipelining: Bool { offers("PIPELINING") }
    /// RFC 6152.
    public var eightBitMIME: Bool { offers("8BITMIME") }
    /// RFC 6531.
    public var smtpUTF8: Bool { offers("SMTPUTF8") }
    /// RFC 3207.
    public var startTLS: Bool { offers("STARTTLS") }
    /// RFC 3030 BDAT.
    public var chunking: Bool { offers("CHUNKING") }
    /// RFC 3030 BODY=BINARYMIME, which needs CHUNKING as well.
    public var binaryMIME: Bool { offers("BINARYMIME") }
    /// RFC 2034.
    public var enhancedStatusCodes: Bool { offers("ENHANCEDSTATUSCODES") }
    /// RFC 8689.
    public var requireTLS: Bool { offers("REQUIRETLS") }

    /// RFC 1870 §4: the largest message the server accepts, in octets. Nil when SIZE is not
    /// offered; 0 when it is offered without a fixed maximum ("SIZE" or "SIZE 0"), and also
    /// when the parameter is not a number, which can then limit nothing.
    public var maxMessageSize: Int? {
        guard let values = parameters["SIZE"] else { return nil }
        guard let value = values.first, value.count <= 18, value.allSatisfy(\.isASCIIDigit), let size = Int(value) else { return 0 }
        return size
    }

    /// RFC 4954 §3: the SASL mechanisms after AUTH, as sent.
    public var authMechanisms: [String] { parameters["AUTH"] ?? [] }
}
