import Foundation

/// A parsed DKIM-Signature header field (RFC 6376 §3.5), checked as RFC 6376 §6.1.1 asks:
/// required tags present, values well-formed, the version and algorithms known, From signed,
/// and the i= domain within d=.
public struct DKIMSignature: Hashable, Sendable {
    /// a=
    public var algorithm: DKIMAlgorithm
    /// b=, decoded.
    public var signature: [UInt8]
    /// bh=, decoded.
    public var bodyHash: [UInt8]
    /// c=, default simple/simple; "c=relaxed" means relaxed/simple.
    public var headerCanonicalization: Canonicalization
    public var bodyCanonicalization: Canonicalization
    /// d=, the Signing Domain Identifier, as written.
    public var domain: String
    /// h=, the signed header field names as written, in order, repeats included.
    public var signedHeaders: [String]
    /// i=, the Agent or User Identifier; "@" and d= when the tag is absent (§3.5).
    public var identity: String
    /// l=, the number of canonicalized body octets signed; nil: the whole body.
    public var bodyLength: Int?
    /// s=
    public var selector: String
    /// t=, seconds since 1970.
    public var timestamp: Int?
    /// x=, seconds since 1970.
    public var expiration: Int?
    /// z=, the copied header fields as written (diagnostic only, §3.5).
    public var copiedHeaders: String?

    /// The domain part of `identity`.
    public var identityDomain: String {
        identity.lastIndex(of: "@").map { String(identity[identity.index(after: $0)...]) } ?? identity
    }

    /// Parses the value of a DKIM-Signature field: the octets after the colon, folding
    /// included.
    public init(parsing value: some Collection<UInt8>) throws(DKIMSignatureError) {
        try self.init(tags: Self.tagList(Array(value)))
    }

    /// Parses a whole DKIM-Signature header field as received: name, colon, value, folding
    /// and line ending.
    public init(field: some Collection<UInt8>) throws(DKIMSignatureError) {
        let raw = Array(field)
        try self.init(tags: Self.tagList(raw, range: Self.valueRange(ofField: raw)))
    }

    /// Where the value of a raw header field lies: after the colon, before the final line
    /// ending.
    static func valueRange(ofField raw: [UInt8]) -> Range<Int> {
        var end = raw.count
        if end > 0, raw[end - 1] == 0x0A { end -= 1 }
        if end > 0, raw[end - 1] == 0x0D { end -= 1 }
        let start = raw.firstIndex(of: UInt8(ascii: ":")).map { $0 + 1 } ?? 0
        return min(start, end)..<end
    }

    /// The field as the hash sees it (§3.7 step 2): "with the value of the b= tag (including
    /// all surrounding whitespace) deleted", everything else as received. `tags` is the
    /// field's parsed value.
    static func withoutSignatureValue(_ tags: TagList) -> [UInt8] {
        guard let signature = tags.tag("b") else { return tags.bytes }
        return Array(tags.bytes[..<signature.valueWithWhitespace.lowerBound] + tags.bytes[signature.valueWithWhitespace.upperBound...])
    }

    static func tagList(_ bytes: [UInt8], range: Range<Int>? = nil) throws(DKIMSignatureError) -> TagList {
        do {
            return try TagList(bytes, range: range)
        } catch {
            throw .tagList(error)
        }
    }

    init(tags: TagList) throws(DKIMSignatureError) {
        func required(_ name: String) throws(DKIMSignatureError) -> String {
            guard let value = tags.value(name) else { throw .missingTag(name) }
            return value
        }
        // §6.1.1: "Verifiers MUST return PERMFAIL (incompatible version)" for another v=.
        let version = try required("v")
        guard version == "1" else { throw .unsupportedVersion(version) }

        let algorithmName = try required("a")
        guard let algorithm = DKIMAlgorithm(rawValue: algorithmName) else { throw .unsupportedAlgorithm(algorithmName) }
        self.algorithm = algorithm

        guard let signatureText = tags.compactValue("b") else { throw .missingTag("b") }
        signature = try Self.base64("b", signatureText)
        guard let bodyHashText = tags.compactValue("bh") else { throw .missingTag("bh") }
        bodyHash = try Self.base64("bh", bodyHashText)

        (headerCanonicalization, bodyCanonicalization) = try Self.canonicalization(tags.value("c") ?? "simple/simple")

        domain = try required("d")
        guard Self.isDomainName(domain) else { throw .invalidValue(tag: "d", value: domain, reason: "not a domain name") }
        selector = try required("s")
        guard Self.isSelector(selector) else { throw .invalidValue(tag: "s", value: selector, reason: "not a selector (dot-separated labels)") }

        // h= (§3.5): hdr-name *( [FWS] ":" [FWS] hdr-name ), never empty, From required
        // (§6.1.1: "PERMFAIL (From field not signed)").
        let headerList = try required("h")
        let names = tags.colonList("h") ?? []
        for name in names where !Self.isFieldName(name) {
            throw .invalidValue(tag: "h", value: headerList, reason: name.isEmpty ? "empty header field name" : "invalid header field name '\(name)'")
        }
        guard names.contains(where: { $0.caseInsensitiveEquals("from") }) else { throw .fromNotSigned }
        signedHeaders = names

        // i= (§3.5): [ Local-part ] "@" domain-name, the domain d= or below it (§6.1.1:
        // "PERMFAIL (domain mismatch)").
        if let identity = tags.value("i") {
            guard let at = identity.lastIndex(of: "@") else { throw .invalidValue(tag: "i", value: identity, reason: "no '@'") }
            let identityDomain = String(identity[identity.index(after: at)...])
            guard Self.isDomainName(identityDomain) else { throw .invalidValue(tag: "i", value: identity, reason: "the part after '@' is not a domain name") }
            guard Self.isDomain(identityDomain, within: domain) else { throw .identityOutsideDomain(identity: identity, domain: domain) }
            self.identity = identity
        } else {
            identity = "@" + domain
        }

        // l= (§3.5): 1*76DIGIT. No body is longer than Int.max octets, so a longer value could
        // never be valid (and must not overflow).
        bodyLength = try tags.value("l").map { text throws(DKIMSignatureError) in
            guard let length = Self.decimal(text, maximumDigits: 76) else { throw .invalidValue(tag: "l", value: text, reason: "not a decimal number of octets") }
            return length
        }

        // q= (§3.5): "dns/txt" is the only method; unrecognized ones are ignored, so at least
        // one must be dns/txt.
        if let methods = tags.value("q"), !(tags.colonList("q") ?? []).contains("dns/txt") {
            throw .unsupportedQueryMethod(methods)
        }

        // t= and x= (§3.5): 1*12DIGIT; "the value of the x= tag MUST be greater than the value
        // of the t= tag if both are present".
        timestamp = try tags.value("t").map { text throws(DKIMSignatureError) in
            guard let seconds = Self.decimal(text, maximumDigits: 12) else { throw .invalidValue(tag: "t", value: text, reason: "not a time of at most 12 digits") }
            return seconds
        }
        expiration = try tags.value("x").map { text throws(DKIMSignatureError) in
            guard let seconds = Self.decimal(text, maximumDigits: 12) else { throw .invalidValue(tag: "x", value: text, reason: "not a time of at most 12 digits") }
            return seconds
        }
        if let timestamp, let expiration, expiration <= timestamp {
            throw .invalidValue(tag: "x", value: String(expiration), reason: "not after t=\(timestamp)")
        }
        copiedHeaders = tags.value("z")
    }

    /// c= (§3.5): sig-c-tag-alg ["/" sig-c-tag-alg]; the body defaults to simple.
    private static func canonicalization(_ text: String) throws(DKIMSignatureError) -> (Canonicalization, Canonicalization) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let header = Canonicalization(rawValue: String(parts[0])) else { throw .unsupportedCanonicalization(text) }
        guard parts.count == 2 else { return (header, .simple) }
        guard let body = Canonicalization(rawValue: String(parts[1])) else { throw .unsupportedCanonicalization(text) }
        return (header, body)
    }

    private static func base64(_ tag: String, _ text: [UInt8]) throws(DKIMSignatureError) -> [UInt8] {
        guard !text.isEmpty, let data = Data(base64Encoded: Data(text)) else {
            throw .invalidValue(tag: tag, value: String(decoding: text.prefix(40), as: UTF8.self), reason: text.isEmpty ? "empty" : "not base64")
        }
        return Array(data)
    }

    /// Whether `domain` is `parent` or a name below it, ignoring case.
    static func isDomain(_ domain: some StringProtocol, within parent: String) -> Bool {
        let domain = domain.lowercased(), parent = parent.lowercased()
        return domain == parent || domain.hasSuffix("." + parent)
    }

    /// 1*N DIGIT as a non-negative Int; nil when not digits, too long or too large.
    static func decimal(_ text: String, maximumDigits: Int) -> Int? {
        guard !text.isEmpty, text.utf8.count <= maximumDigits, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    /// RFC 5322 §3.6.8 field-name: printable US-ASCII except colon.
    static func isFieldName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ":") }
    }

    /// domain-name = sub-domain 1*("." sub-domain) (§3.5, from RFC 5321), with U-labels let
    /// through (RFC 8616 §5).
    static func isDomainName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { isLabel($0, underscore: false) }
    }

    /// selector = sub-domain *( "." sub-domain ) (§3.1). Underscores are let through: they
    /// are valid in DNS names, and selectors with them are seen in practice.
    static func isSelector(_ text: String) -> Bool {
        text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel($0, underscore: true) }
    }

    /// sub-domain = Let-dig [Ldh-str] (RFC 5321 §4.1.2), at most 63 octets.
    private static func isLabel(_ label: Substring, underscore: Bool) -> Bool {
        let octets = Array(label.utf8)
        guard let first = octets.first, let last = octets.last, octets.count <= 63 else { return false }
        func letterOrDigit(_ octet: UInt8) -> Bool {
            TagList.isAlphanumeric(octet) || octet >= 0x80 || (underscore && octet == UInt8(ascii: "_"))
        }
        return letterOrDigit(first) && letterOrDigit(last) && octets.allSatisfy { letterOrDigit($0) || $0 == UInt8(ascii: "-") }
    }
}

extension StringProtocol {
    /// ASCII case-insensitive equality, as header field names compare (RFC 5322 §1.2.2).
    func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        utf8.count == other.utf8.count && zip(utf8, other.utf8).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
    }
}

func asciiLowercase(_ octet: UInt8) -> UInt8 {
    (0x41...0x5A).contains(octet) ? octet | 0x20 : octet
}

/// Why a DKIM-Signature field is not usable (RFC 6376 §6.1.1), naming the tag.
public enum DKIMSignatureError: Error, Hashable, Sendable, CustomStringConvertible {
    case tagList(TagListError)
    /// One of v=, a=, b=, bh=, d=, h=, s= is missing (§6.1.1).
    case missingTag(String)
    case invalidValue(tag: String, value: String, reason: String)
    /// v= other than 1 (§6.1.1 "incompatible version").
    case unsupportedVersion(String)
    /// a= other than rsa-sha1, rsa-sha256, ed25519-sha256.
    case unsupportedAlgorithm(String)
    /// c= with an algorithm other than simple or relaxed (§3.4: "Verifiers MUST ignore any
    /// signatures that use unrecognized canonicalization algorithms").
    case unsupportedCanonicalization(String)
    /// q= without dns/txt.
    case unsupportedQueryMethod(String)
    /// h= does not name From (§6.1.1).
    case fromNotSigned
    /// The domain of i= is neither d= nor below it (§6.1.1).
    case identityOutsideDomain(identity: String, domain: String)

    public var description: String {
        switch self {
        case let .tagList(error): return "syntax error: \(error)"
        case let .missingTag(name): return "required tag '\(name)' is missing"
        case let .invalidValue(tag, value, reason): return "tag '\(tag)': '\(value)' is \(reason)"
        case let .unsupportedVersion(version): return "tag 'v': version '\(version)' is not 1"
        case let .unsupportedAlgorithm(algorithm): return "tag 'a': unknown algorithm '\(algorithm)'"
        case let .unsupportedCanonicalization(text): return "tag 'c': unknown canonicalization '\(text)'"
        case let .unsupportedQueryMethod(text): return "tag 'q': no supported query method in '\(text)' (only dns/txt)"
        case .fromNotSigned: return "tag 'h': From is not signed"
        case let .identityOutsideDomain(identity, domain): return "tag 'i': '\(identity)' is not in the domain d=\(domain)"
        }
    }
}
