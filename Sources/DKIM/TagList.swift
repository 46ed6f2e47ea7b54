/// A tag=value list (RFC 6376 §3.2), the syntax of DKIM-Signature fields and of key records.
///
/// Parsed on octets, keeping where each value lies in the input: verification needs the
/// exact octets around b= (RFC 6376 §3.7), and values are compared as octets anyway.
struct TagList {
    struct Tag {
        /// The tag name, case-sensitive (RFC 6376 §3.2).
        let name: String
        /// The value without the white space around it (§3.2: "any WSP after the '=' and any
        /// WSP before the terminating ';' is not part of the value").
        let value: Range<Int>
        /// From just after "=" to just before the ";" that ends the tag-spec (or the end of
        /// the list): the value with all the white space around it.
        let valueWithWhitespace: Range<Int>
    }

    let bytes: [UInt8]
    let tags: [Tag]

    /// Parses `bytes[range]`; the ranges of the tags index into `bytes`.
    init(_ bytes: [UInt8], range: Range<Int>? = nil) throws(TagListError) {
        self.bytes = bytes
        let range = range ?? bytes.indices
        var tags: [Tag] = []
        var seen: Set<String> = []
        var start = range.lowerBound
        while start < range.upperBound {
            let end = bytes[start..<range.upperBound].firstIndex(of: UInt8(ascii: ";")) ?? range.upperBound
            let isLast = end == range.upperBound || bytes[(end + 1)..<range.upperBound].allSatisfy(Self.isWhitespace)
            // tag-list = tag-spec *( ";" tag-spec ) [ ";" ]: only the last spec may be empty.
            if bytes[start..<end].allSatisfy(Self.isWhitespace) {
                guard isLast else { throw .emptyTagSpec }
                break
            }
            let tag = try Self.tagSpec(bytes, start..<end)
            guard seen.insert(tag.name).inserted else { throw .duplicateTag(tag.name) }
            tags.append(tag)
            start = end + 1
        }
        self.tags = tags
    }

    /// tag-spec = [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
    private static func tagSpec(_ bytes: [UInt8], _ range: Range<Int>) throws(TagListError) -> Tag {
        var index = range.lowerBound
        while index < range.upperBound, isWhitespace(bytes[index]) { index += 1 }
        let nameStart = index
        // tag-name = ALPHA *ALNUMPUNC
        while index < range.upperBound, isAlphanumeric(bytes[index]) || bytes[index] == UInt8(ascii: "_") { index += 1 }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        guard index > nameStart, isLetter(bytes[nameStart]) else {
            throw .invalidTagName(printable(bytes[nameStart..<min(range.upperBound, nameStart + 20)]))
        }
        guard index == range.upperBound || bytes[index] == UInt8(ascii: "=") || isWhitespace(bytes[index]) else {
            throw .invalidTagName(printable(bytes[nameStart..<min(range.upperBound, index + 1)]))
        }
        while index < range.upperBound, isWhitespace(bytes[index]) { index += 1 }
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "=") else { throw .missingEquals(name) }
        let afterEquals = index + 1
        var valueStart = afterEquals
        while valueStart < range.upperBound, isWhitespace(bytes[valueStart]) { valueStart += 1 }
        var valueEnd = range.upperBound
        while valueEnd > valueStart, isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        // tval = 1*VALCHAR, VALCHAR = %x21-3A / %x3C-7E, with white space between tvals.
        // Octets of 0x80 and above are let through: RFC 6376 §3.2 advises not to preclude
        // UTF-8, and RFC 8616 §5 puts U-labels and UTF-8 local parts in d=, s= and i=.
        for octet in bytes[valueStart..<valueEnd] where !(isWhitespace(octet) || (0x21...0x7E).contains(octet) || octet >= 0x80) {
            throw .invalidCharacter(tag: name, octet: octet)
        }
        return Tag(name: name, value: valueStart..<valueEnd, valueWithWhitespace: afterEquals..<range.upperBound)
    }

    /// The tag named `name`, if present.
    func tag(_ name: String) -> Tag? {
        tags.first { $0.name == name }
    }

    /// The value of `name` as text (UTF-8, invalid octets replaced), if present.
    func value(_ name: String) -> String? {
        tag(name).map { String(decoding: bytes[$0.value], as: UTF8.self) }
    }

    /// A colon-separated value (h=, q= of a signature; h=, s=, t= of a key record), each
    /// item without the FWS around it.
    func colonList(_ name: String) -> [String]? {
        guard let tag = tag(name) else { return nil }
        return bytes[tag.value].split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false).map { item in
            let start = item.firstIndex { !Self.isWhitespace($0) } ?? item.endIndex
            let end = item.lastIndex { !Self.isWhitespace($0) }.map { $0 + 1 } ?? start
            return String(decoding: item[start..<max(start, end)], as: UTF8.self)
        }
    }

    /// The value of `name` with all white space removed, for base64 values (b=, bh=, p=),
    /// where FWS may be inserted anywhere (RFC 6376 §3.5 b=, §3.6.1 p=).
    func compactValue(_ name: String) -> [UInt8]? {
        tag(name).map { bytes[$0.value].filter { !Self.isWhitespace($0) } }
    }

    /// WSP, and the CR and LF of folding (FWS, RFC 6376 §2.8). A CRLF inside a header field
    /// is always folding: the header parser ends a field at a line that does not start with
    /// white space.
    static func isWhitespace(_ octet: UInt8) -> Bool {
        octet == 0x20 || octet == 0x09 || octet == 0x0D || octet == 0x0A
    }

    static func isLetter(_ octet: UInt8) -> Bool {
        (0x41...0x5A).contains(octet) || (0x61...0x7A).contains(octet)
    }

    static func isAlphanumeric(_ octet: UInt8) -> Bool {
        isLetter(octet) || (0x30...0x39).contains(octet)
    }

    /// Octets for an error message: printable ASCII as is, others as \xNN.
    static func printable(_ octets: some Collection<UInt8>) -> String {
        var text = ""
        for octet in octets {
            if (0x20...0x7E).contains(octet) {
                text.unicodeScalars.append(Unicode.Scalar(octet))
            } else {
                text += "\\x" + String(octet, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Why a tag-list could not be parsed (RFC 6376 §3.2).
public enum TagListError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Two semicolons with nothing but white space between them.
    case emptyTagSpec
    /// A tag-spec that does not start with a tag name (ALPHA *(ALPHA / DIGIT / "_")).
    case invalidTagName(String)
    /// A tag name without "=" after it.
    case missingEquals(String)
    /// RFC 6376 §3.2: "if a tag name does occur more than once, the entire tag-list is invalid".
    case duplicateTag(String)
    /// A control character or DEL in a value.
    case invalidCharacter(tag: String, octet: UInt8)

    public var description: String {
        switch self {
        case .emptyTagSpec: return "empty tag-spec between two semicolons"
        case let .invalidTagName(text): return "expected a tag name at '\(text)'"
        case let .missingEquals(name): return "tag '\(name)': no '=' after the name"
        case let .duplicateTag(name): return "tag '\(name)' appears more than once"
        case let .invalidCharacter(tag, octet): return "tag '\(tag)': invalid character \(TagList.printable([octet])) in the value"
        }
    }
}
