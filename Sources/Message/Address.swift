import Foundation

// Structured address fields: From, Sender, Reply-To, To, Cc, Bcc and their Resent- forms
// (RFC 5322 §3.4, §3.6.2, §3.6.3, §3.6.6), with the obsolete syntax of RFC 5322 §4.4 and
// UTF-8 in local parts, domains and phrases (RFC 6532 §3.2).
//
// Values arrive unfolded (RFC 5322 §2.2.3) but not RFC 2047-decoded. Two parsers share one
// scanner: `AddressList.parse` follows the grammar and reports the first violation with its
// position; `AddressList.parseLenient` salvages what a mainstream mail client would show.
// Both work on the UTF-8 octets in one forward pass (plus bounded re-reads), so a 1 MB
// header costs linear time, and both stop at `AddressList.maxItems`.

/// One mailbox (RFC 5322 §3.4): an optional display name and an addr-spec.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    /// The display name, RFC 2047-decoded, quotes removed; nil when absent or empty.
    public var displayName: String?
    /// The local part in its unquoted form: quotes removed and quoted-pairs resolved
    /// (RFC 5322 §3.4.1 makes `"jdoe"@x` and `jdoe@x` the same mailbox). UTF-8 allowed
    /// (RFC 6532 §3.2).
    public var localPart: String
    /// The domain as written (CFWS between its labels removed): a dot-atom, possibly UTF-8
    /// (RFC 6532 §3.2), or a domain literal such as "[192.0.2.1]". Case is preserved.
    /// Empty only for what `AddressList.parseLenient` salvaged from an address without one.
    public var domain: String
    /// An obsolete source route before the addr-spec (RFC 5322 §4.4 obs-route, `<@a,@b:x@y>`)
    /// as "@a,@b", nil when there is none. Delivery ignores it, as §4.4 says; IMAP's ENVELOPE
    /// still reports it (RFC 9051 §7.5.2 `addr-adl`).
    public var route: String?

    public init(displayName: String?, localPart: String, domain: String, route: String? = nil) {
        self.displayName = (displayName?.isEmpty ?? true) ? nil : displayName
        self.localPart = localPart
        self.domain = domain
        self.route = route
    }

    /// `local@domain`, the local part re-quoted when it is not a dot-atom (RFC 5322 §3.4.1:
    /// a quoted-string form SHOULD NOT be used when the dot-atom form can represent it, and
    /// MUST be used when it cannot). Without a domain, only the local part.
    public var addrSpec: String {
        let local = FieldSyntax.isDotAtomText(localPart) ? localPart : FieldSyntax.quoted(localPart)
        return domain.isEmpty ? local : local + "@" + domain
    }

    /// `Name <local@domain>`, the name quoted when it is not a plain sequence of atoms
    /// (RFC 5322 §3.2.5 phrase), or the bare addr-spec without a name. Not RFC 2047-encoded:
    /// this is for display and logs; composing a header is the composer's job.
    public var description: String {
        guard let name = displayName, !name.isEmpty else { return addrSpec }
        return "\(FieldSyntax.isAtomSequence(name) ? name : FieldSyntax.quoted(name)) <\(addrSpec)>"
    }
}

/// One element of an address-list (RFC 5322 §3.4).
public enum AddressListItem: Hashable, Sendable {
    case mailbox(Address)
    /// RFC 5322 §3.4 group: `display-name ":" [group-list] ";"`; the name is RFC 2047-decoded.
    case group(name: String, members: [Address])
}

/// Why an address field did not parse, and where.
public struct AddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The value holds no address at all (only CFWS and commas). RFC 5322 §3.4 and §4.4
        /// require at least one address.
        case empty
        case unexpectedCharacter(Character)
        case unterminatedQuotedString
        case unterminatedComment
        case unterminatedDomainLiteral
        /// A local part without "@domain" (RFC 5322 §3.4.1 addr-spec).
        case missingAtSign
        case missingLocalPart
        /// Not `word *("." word)` (RFC 5322 §3.4.1, §4.4 obs-local-part), e.g. `John Doe@x`.
        case invalidLocalPart
        case missingDomain
        /// Not `atom *("." atom)` (RFC 5322 §4.4 obs-domain), e.g. a trailing dot.
        case invalidDomain
        /// A phrase must start with a word (RFC 5322 §3.2.5, §4.1 obs-phrase).
        case invalidDisplayName
        /// "<" without its ">" (RFC 5322 §3.4 angle-addr).
        case missingClosingAngleBracket
        /// Not `obs-domain-list ":"` (RFC 5322 §4.4 obs-route).
        case invalidRoute
        /// ":" with no display name before it (RFC 5322 §3.4 group).
        case missingGroupName
        /// A group without its closing ";".
        case unterminatedGroup
        /// A group inside a group: group-list is a mailbox-list (RFC 5322 §3.4).
        case nestedGroup
        /// A group where only a mailbox is allowed (Sender, RFC 5322 §3.6.2).
        case groupNotAllowed
        /// Two addresses without a "," between them.
        case expectedComma
        /// More than `AddressList.maxItems` mailboxes and groups.
        case tooManyItems(limit: Int)
    }

    public var reason: Reason
    /// Offset in Characters from the start of the field value.
    public var offset: Int

    public init(_ reason: Reason, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String {
        let what: String
        switch reason {
        case .empty: what = "no address"
        case .unexpectedCharacter(let c): what = "unexpected character \(String(reflecting: String(c)))"
        case .unterminatedQuotedString: what = "quoted string without closing '\"'"
        case .unterminatedComment: what = "comment without closing ')'"
        case .unterminatedDomainLiteral: what = "domain literal without closing ']'"
        case .missingAtSign: what = "address without '@domain'"
        case .missingLocalPart: what = "address without local part"
        case .invalidLocalPart: what = "invalid local part"
        case .missingDomain: what = "missing domain after '@'"
        case .invalidDomain: what = "invalid domain"
        case .invalidDisplayName: what = "invalid display name"
        case .missingClosingAngleBracket: what = "expected '>'"
        case .invalidRoute: what = "invalid source route"
        case .missingGroupName: what = "group without a name"
        case .unterminatedGroup: what = "group without closing ';'"
        case .nestedGroup: what = "group inside a group"
        case .groupNotAllowed: what = "group where a single mailbox is required"
        case .expectedComma: what = "expected ',' between addresses"
        case .tooManyItems(let limit): what = "more than \(limit) addresses"
        }
        return "\(what) at offset \(offset)"
    }

    /// Converts a scanner failure (octet offset) into the public form (Character offset).
    /// Only runs on failure, so the linear count does not add to the cost of good input.
    init(_ failure: ScanFailure, in bytes: [UInt8]) {
        let end = max(0, min(failure.byteOffset, bytes.count))
        self.init(failure.reason, offset: String(decoding: bytes[..<end], as: UTF8.self).count)
    }
}

public enum AddressList {
    /// The most mailboxes plus groups one field may yield. A 1 MB To: field could otherwise
    /// produce hundreds of thousands of recipients for every consumer downstream.
    public static let maxItems = 10_000

    /// Strict RFC 5322 §3.4 address-list parsing, including the obsolete syntax of §4.4:
    /// routes (`<@a,@b:x@y>`, ignored as §4.4 says), CFWS between the dots of local parts and
    /// domains, null list elements (`a@x,,b@y`), comments anywhere CFWS may appear, quoted
    /// local parts and domain literals. Display names carry no comment (comments have no
    /// meaning, RFC 5322 §3.2.2). Throws the first violation with its Character offset.
    public static func parse(_ value: String) throws(AddressError) -> [AddressListItem] {
        try parse(value, maxItems: maxItems)
    }

    static func parse(_ value: String, maxItems: Int) throws(AddressError) -> [AddressListItem] {
        let bytes = Array(value.utf8)
        var scanner = FieldScanner(bytes, maxItems: maxItems)
        do throws(ScanFailure) {
            return try scanner.parseAddressList(commentAsName: false)
        } catch {
            throw AddressError(error, in: bytes)
        }
    }

    /// Strict parsing of a single mailbox (RFC 5322 §3.6.2 Sender, §3.6.6 Resent-Sender).
    public static func parseMailbox(_ value: String) throws(AddressError) -> Address {
        let bytes = Array(value.utf8)
        var scanner = FieldScanner(bytes, maxItems: 1)
        do throws(ScanFailure) {
            return try scanner.parseSingleMailbox(commentAsName: false)
        } catch {
            throw AddressError(error, in: bytes)
        }
    }

    /// Never throws: what a mainstream mail client shows for the field. Valid input gives the
    /// strict result, except that a bare addr-spec followed by a comment takes the comment as
    /// its display name (`jdoe@example.org (John Doe)`, the pre-RFC 822 convention that
    /// clients and IMAP servers still honour). Broken input is salvaged element by element:
    ///
    /// - the value is split at "," and ";" outside quotes, comments, domain literals and
    ///   angle brackets (a "," inside "<...>" splits too unless a route "@" follows, so a
    ///   missing ">" loses only its own address);
    /// - an element with neither "@" nor "<" followed by one with "<" is the start of an
    ///   unquoted display name with a comma: `John Doe, Jr. <j@x>` gives "John Doe, Jr.";
    /// - with "<", the name is everything before it (unquoted ".", "@", ":" included) and the
    ///   address is inside, up to ">" or the end of the element;
    /// - without "<", the word touching the first "@" is the local part, the name is what
    ///   precedes it, and trailing garbage after the domain is dropped;
    /// - an address without any "@" is kept with an empty `domain` (and the text as its
    ///   local part) so that `To: undisclosed-recipients` or `<postmaster>` still shows;
    ///   consumers that need a routable address (DMARC, SMTP) must check `domain.isEmpty`;
    /// - an empty local part (`<>`, `@example.com`) cannot be shown and is dropped;
    /// - `name:` opens a group that ";" or the end of the value closes
    ///   (`undisclosed-recipients:;` is an empty group); a ":" inside a group is plain text;
    /// - an unterminated quote is taken as a literal '"' (dropped from names); an
    ///   unterminated comment runs to the end of the value (it is then the name of a bare
    ///   address before it).
    ///
    /// At most `maxItems` mailboxes and groups are returned: the first ones.
    public static func parseLenient(_ value: String) -> [AddressListItem] {
        parseLenient(value, maxItems: maxItems)
    }

    static func parseLenient(_ value: String, maxItems: Int) -> [AddressListItem] {
        let bytes = Array(value.utf8)
        if maxItems > 0, let address = parseCommonForm(bytes) { return [.mailbox(address)] }
        var scanner = FieldScanner(bytes, maxItems: maxItems)
        if let items = try? scanner.parseAddressList(commentAsName: true) {
            return items
        }
        return LenientAddressParser(bytes: bytes, maxItems: maxItems).parse()
    }

    /// An address in one of the common forms (`commonForm`), as the octets it was read from.
    public struct CommonForm: Equatable, Sendable {
        /// The display name's words joined by single spaces; nil when there is none.
        public var displayName: [UInt8]?
        public var localPart: ArraySlice<UInt8>
        public var domain: ArraySlice<UInt8>
    }

    /// The forms most fields take, `local@domain` and `Display Name <local@domain>`, in
    /// US-ASCII with atoms only (no quotes, comments, dots or encoded-words in the name, no
    /// obsolete syntax), read without the full scanner and without copies: FETCH ENVELOPE
    /// reads the From and To of every message. `value` is trimmed (a field's unfolded
    /// value). The scanner reads these forms alike; nil for anything else.
    public static func commonForm(_ value: ArraySlice<UInt8>) -> CommonForm? {
        guard let open = value.firstIndex(of: UInt8(ascii: "<")) else {
            guard let (local, domain) = commonAddrSpec(value) else { return nil }
            return CommonForm(displayName: nil, localPart: local, domain: domain)
        }
        guard open + 1 < value.endIndex, value[value.endIndex - 1] == UInt8(ascii: ">"),
            let (local, domain) = commonAddrSpec(value[(open + 1)..<(value.endIndex - 1)])
        else { return nil }
        var name: [UInt8] = []
        var index = value.startIndex
        while index < open {
            let octet = value[index]
            if octet == 0x20 || octet == 0x09 {
                index += 1
                continue
            }
            let start = index
            while index < open, isCommonAtext(value[index]) { index += 1 }
            let word = value[start..<index]
            guard !word.isEmpty, !word.withUnsafeBufferPointer({ EncodedWord.mayStart(in: $0) }) else { return nil }
            if !name.isEmpty { name.append(0x20) }
            name += word
        }
        return CommonForm(displayName: name.isEmpty ? nil : name, localPart: local, domain: domain)
    }

    /// `commonForm` as an `Address`.
    static func parseCommonForm(_ bytes: [UInt8]) -> Address? {
        commonForm(bytes[...]).map {
            Address(
                displayName: $0.displayName.map { String(decoding: $0, as: UTF8.self) }, localPart: String(decoding: $0.localPart, as: UTF8.self),
                domain: String(decoding: $0.domain, as: UTF8.self))
        }
    }

    /// A dot-atom, "@", a dot-atom (RFC 5322 §3.4.1), in US-ASCII.
    private static func commonAddrSpec(_ octets: ArraySlice<UInt8>) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        guard let at = octets.firstIndex(of: UInt8(ascii: "@")),
            isCommonDotAtom(octets[octets.startIndex..<at]), isCommonDotAtom(octets[(at + 1)...])
        else { return nil }
        return (octets[octets.startIndex..<at], octets[(at + 1)...])
    }

    private static func isCommonDotAtom(_ octets: ArraySlice<UInt8>) -> Bool {
        guard let first = octets.first, let last = octets.last, first != FieldSyntax.dot, last != FieldSyntax.dot else { return false }
        var previousDot = false
        for octet in octets {
            if octet == FieldSyntax.dot {
                if previousDot { return false }
                previousDot = true
            } else {
                guard isCommonAtext(octet) else { return false }
                previousDot = false
            }
        }
        return true
    }

    private static func isCommonAtext(_ octet: UInt8) -> Bool { octet < 0x80 && FieldSyntax.isAtext(octet) }

    /// All mailboxes, group members in place of their group.
    public static func mailboxes(_ items: [AddressListItem]) -> [Address] {
        var result: [Address] = []
        for item in items {
            switch item {
            case .mailbox(let address): result.append(address)
            case .group(_, let members): result.append(contentsOf: members)
            }
        }
        return result
    }
}

// MARK: - Character classes

enum FieldSyntax {
    /// RFC 5322 §3.2.2: the index after the (nested) comment opened at `from`, quoted-pairs
    /// skipped; an unterminated comment runs to `end`.
    static func commentEnd(_ bytes: [UInt8], from: Int, end: Int) -> Int {
        var depth = 0
        var i = from
        while i < end {
            switch bytes[i] {
            case FieldSyntax.openParen: depth += 1
            case FieldSyntax.closeParen:
                depth -= 1
                if depth == 0 { return i + 1 }
            case FieldSyntax.backslash: i += 1
            default: break
            }
            i += 1
        }
        return end
    }

    static let tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, space: UInt8 = 0x20
    static let dquote: UInt8 = 0x22, openParen: UInt8 = 0x28, closeParen: UInt8 = 0x29
    static let comma: UInt8 = 0x2C, dot: UInt8 = 0x2E, colon: UInt8 = 0x3A, semicolon: UInt8 = 0x3B
    static let less: UInt8 = 0x3C, greater: UInt8 = 0x3E, at: UInt8 = 0x40
    static let openBracket: UInt8 = 0x5B, backslash: UInt8 = 0x5C, closeBracket: UInt8 = 0x5D

    /// RFC 5322 §3.2.3 atext, plus UTF8-non-ascii (RFC 6532 §3.2): every octet of a
    /// multi-octet UTF-8 sequence is >= 0x80, so testing octets is enough.
    static func isAtext(_ b: UInt8) -> Bool {
        switch b {
        case 0x41...0x5A, 0x61...0x7A, 0x30...0x39: return true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2F, 0x3D, 0x3F,
             0x5E, 0x5F, 0x60, 0x7B, 0x7C, 0x7D, 0x7E: return true
        default: return b >= 0x80
        }
    }

    /// WSP (RFC 5234) plus CR and LF: values are unfolded, so a CR or LF left over is folding
    /// residue and counts as white space (RFC 5322 §3.2.2 FWS).
    static func isWhitespace(_ b: UInt8) -> Bool {
        b == space || b == tab || b == cr || b == lf
    }

    /// RFC 5322 §3.2.3 dot-atom-text: atoms separated by single dots.
    static func isDotAtomText(_ s: String) -> Bool {
        isAtoms(s, separatedBy: dot)
    }

    /// A phrase that needs no quoting: atoms separated by single spaces (RFC 5322 §3.2.5).
    static func isAtomSequence(_ s: String) -> Bool {
        isAtoms(s, separatedBy: space)
    }

    /// Non-empty atoms with exactly one `separator` between them, none at either end.
    private static func isAtoms(_ s: String, separatedBy separator: UInt8) -> Bool {
        var previousWasSeparator = true
        for b in s.utf8 {
            if b == separator {
                if previousWasSeparator { return false }
                previousWasSeparator = true
            } else if isAtext(b) {
                previousWasSeparator = false
            } else {
                return false
            }
        }
        return !previousWasSeparator
    }

    /// RFC 5322 §3.2.4 quoted-string: DQUOTE and backslash become quoted-pairs.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            if ch == "\"" || ch == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(ch)
        }
        out += "\""
        return out
    }

    /// Whether `b` may appear in a salvaged domain: atext, ".", and the domain-literal
    /// characters "[", "]", ":" (IPv6 literals).
    static func isLenientDomainOctet(_ b: UInt8) -> Bool {
        isAtext(b) || b == dot || b == openBracket || b == closeBracket || b == colon
    }
}

// MARK: - Display names

extension String {
    /// Without leading and trailing blanks: tab and the space separators (Unicode Zs), as
    /// Foundation's `.whitespaces`, but without bridging to NSString, which costs more
    /// than the rest of an ENVELOPE's address parsing on Linux.
    func trimmingBlanks() -> String {
        func isBlank(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isBlank($0) }) ?? first
        if first == scalars.startIndex, last == scalars.index(before: scalars.endIndex) { return self }
        return String(scalars[first...last])
    }
}

/// Builds a display name from phrase pieces. Unquoted runs are decoded as a whole so that
/// RFC 2047 §6.2 applies (white space between adjacent encoded-words disappears); each
/// quoted string is decoded on its own. RFC 2047 §5(3) forbids encoded-words inside quoted
/// strings, but mainstream clients (Thunderbird, Outlook, Gmail) decode them anyway and
/// senders rely on it, so we do too.
struct PhraseBuilder {
    private var out = ""
    private var run = ""
    private var runSpaceBefore = false

    mutating func addText(_ text: String, spaceBefore: Bool) {
        if run.isEmpty {
            run = text
            runSpaceBefore = spaceBefore
        } else {
            run += spaceBefore ? " " + text : text
        }
    }

    mutating func addQuoted(_ content: String, spaceBefore: Bool) {
        flushRun()
        append(EncodedWord.decode(content), spaceBefore: spaceBefore)
    }

    private mutating func flushRun() {
        guard !run.isEmpty else { return }
        append(EncodedWord.decode(run), spaceBefore: runSpaceBefore)
        run = ""
    }

    private mutating func append(_ segment: String, spaceBefore: Bool) {
        if spaceBefore && !out.isEmpty { out += " " }
        out += segment
    }

    mutating func result() -> String? {
        flushRun()
        let trimmed = out.trimmingBlanks()
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The text of a comment used as a display name: quoted-pairs resolved, white space
    /// collapsed, RFC 2047-decoded (encoded-words may appear in comments, RFC 2047 §5(2)).
    static func fromComment(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        var out: [UInt8] = []
        var i = range.lowerBound
        var pendingSpace = false
        while i < range.upperBound {
            var b = bytes[i]
            if b == FieldSyntax.backslash && i + 1 < range.upperBound {
                i += 1
                b = bytes[i]
            } else if FieldSyntax.isWhitespace(b) {
                pendingSpace = true
                i += 1
                continue
            }
            if pendingSpace && !out.isEmpty { out.append(FieldSyntax.space) }
            pendingSpace = false
            out.append(b)
            i += 1
        }
        let text = EncodedWord.decode(String(decoding: out, as: UTF8.self)).trimmingBlanks()
        return text.isEmpty ? nil : text
    }
}

// MARK: - Strict scanner

/// A failure inside the scanner, at an octet offset.
struct ScanFailure: Error {
    var reason: AddressError.Reason
    var byteOffset: Int
}

/// Recursive-descent scanner for RFC 5322 §3.2–§3.4 and §4.4 over UTF-8 octets, bounded to
/// `end` so that the lenient parser and Message-ID parsing can run it on part of a value.
/// Nothing recurses on input (nested comments are a depth counter), so deep nesting cannot
/// exhaust the stack.
struct FieldScanner {
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    let maxItems: Int
    private var itemCount = 0
    /// Inner range of the last comment passed by the latest `skipCFWS`.
    private(set) var lastComment: Range<Int>?

    init(_ bytes: [UInt8], range: Range<Int>? = nil, maxItems: Int) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        self.pos = max(0, r.lowerBound)
        self.end = min(bytes.count, r.upperBound)
        self.maxItems = maxItems
    }

    var atEnd: Bool { pos >= end }

    func peek() -> UInt8? { pos < end ? bytes[pos] : nil }

    func fail(_ reason: AddressError.Reason, at offset: Int? = nil) -> ScanFailure {
        ScanFailure(reason: reason, byteOffset: offset ?? pos)
    }

    /// The character at `pos`, for error reports.
    func unexpected() -> ScanFailure {
        let at = min(pos, end)
        var iterator = bytes[at..<end].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) {
            return fail(.unexpectedCharacter(Character(scalar)), at: at)
        }
        return fail(.unexpectedCharacter("\u{FFFD}"), at: at)
    }

    /// RFC 5322 §3.2.2 CFWS (and §4.2 obs-FWS). Returns whether anything was skipped.
    @discardableResult
    mutating func skipCFWS() throws(ScanFailure) -> Bool {
        let start = pos
        lastComment = nil
        while pos < end {
            let b = bytes[pos]
            if FieldSyntax.isWhitespace(b) {
                pos += 1
            } else if b == FieldSyntax.openParen {
                lastComment = try skipComment()
            } else {
                break
            }
        }
        return pos > start
    }

    /// RFC 5322 §3.2.2 comment; comments nest. ctext includes UTF-8 (RFC 6532 §3.2) and the
    /// obsolete controls (§4.1 obs-ctext); only NUL is refused.
    private mutating func skipComment() throws(ScanFailure) -> Range<Int> {
        let open = pos
        var depth = 0
        while pos < end {
            let b = bytes[pos]
            switch b {
            case FieldSyntax.openParen:
                depth += 1
            case FieldSyntax.closeParen:
                depth -= 1
                if depth == 0 {
                    pos += 1
                    return (open + 1)..<(pos - 1)
                }
            case FieldSyntax.backslash:
                pos += 1  // quoted-pair: the next octet is taken literally
            case 0:
                throw unexpected()
            default:
                break
            }
            pos += 1
        }
        pos = end
        throw fail(.unterminatedComment, at: open)
    }

    /// RFC 5322 §3.2.4 quoted-string content (after the opening DQUOTE at `pos`), with
    /// quoted-pairs resolved (§3.2.1, §4.1 obs-qp).
    mutating func readQuotedString() throws(ScanFailure) -> String {
        let open = pos
        pos += 1
        var out: [UInt8] = []
        while pos < end {
            let b = bytes[pos]
            if b == FieldSyntax.dquote {
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == FieldSyntax.backslash {
                guard pos + 1 < end else { break }
                out.append(bytes[pos + 1])
                pos += 2
                continue
            }
            if b == 0 { throw unexpected() }
            // CR and LF are unfolding residue (§3.2.4: FWS inside is folding, not content).
            if b != FieldSyntax.cr && b != FieldSyntax.lf { out.append(b) }
            pos += 1
        }
        pos = end
        throw fail(.unterminatedQuotedString, at: open)
    }

    private mutating func readAtom() -> String {
        let start = pos
        while pos < end && FieldSyntax.isAtext(bytes[pos]) { pos += 1 }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    enum WordKind { case atom, quoted, dot }

    struct Word {
        var kind: WordKind
        var text: String
        var spaceBefore: Bool
        var offset: Int
    }

    /// Words and dots with CFWS between them: the common prefix of a phrase (RFC 5322 §3.2.5,
    /// §4.1 obs-phrase) and a local part (§3.4.1, §4.4 obs-local-part). What follows decides
    /// which it was. Stops after trailing CFWS, at the first other character.
    mutating func readWords() throws(ScanFailure) -> [Word] {
        var words: [Word] = []
        while true {
            let spaced = try skipCFWS()
            guard let b = peek() else { break }
            let offset = pos
            if FieldSyntax.isAtext(b) {
                words.append(Word(kind: .atom, text: readAtom(), spaceBefore: spaced, offset: offset))
            } else if b == FieldSyntax.dquote {
                let text = try readQuotedString()
                words.append(Word(kind: .quoted, text: text, spaceBefore: spaced, offset: offset))
            } else if b == FieldSyntax.dot {
                pos += 1
                words.append(Word(kind: .dot, text: ".", spaceBefore: spaced, offset: offset))
            } else {
                break
            }
        }
        return words
    }

    /// RFC 5322 §3.4.1 local-part = dot-atom / quoted-string / obs-local-part, where §4.4
    /// obs-local-part = word *("." word) covers the others once CFWS is skipped.
    func localPart(from words: [Word]) throws(ScanFailure) -> String {
        guard let last = words.last else { throw fail(.missingLocalPart) }
        var out = ""
        var expectWord = true
        for word in words {
            if (word.kind == .dot) != expectWord {
                out += word.text
                expectWord = word.kind == .dot
            } else {
                throw fail(.invalidLocalPart, at: word.offset)
            }
        }
        if expectWord { throw fail(.invalidLocalPart, at: last.offset) }
        return out
    }

    /// RFC 5322 §4.1 obs-phrase = word *(word / "." / CFWS): it must start with a word.
    func displayName(from words: [Word]) throws(ScanFailure) -> String? {
        if let first = words.first, first.kind == .dot {
            throw fail(.invalidDisplayName, at: first.offset)
        }
        var builder = PhraseBuilder()
        for word in words {
            if word.kind == .quoted {
                builder.addQuoted(word.text, spaceBefore: word.spaceBefore)
            } else {
                builder.addText(word.text, spaceBefore: word.spaceBefore)
            }
        }
        return builder.result()
    }

    /// RFC 5322 §3.4.1 domain = dot-atom / domain-literal / obs-domain (§4.4), CFWS around
    /// and between the atoms removed. Leaves `pos` before any CFWS that follows.
    mutating func readDomain() throws(ScanFailure) -> String {
        try skipCFWS()
        guard let b = peek() else { throw fail(.missingDomain) }
        if b == FieldSyntax.openBracket { return try readDomainLiteral() }
        guard FieldSyntax.isAtext(b) else { throw fail(.missingDomain) }
        var out = readAtom()
        while true {
            let beforeCFWS = pos
            try skipCFWS()
            guard peek() == FieldSyntax.dot else {
                pos = beforeCFWS
                break
            }
            pos += 1
            try skipCFWS()
            guard let c = peek(), FieldSyntax.isAtext(c) else { throw fail(.invalidDomain) }
            out += "." + readAtom()
        }
        return out
    }

    /// RFC 5322 §3.4.1 domain-literal with §4.4 obs-dtext (controls, quoted-pairs). FWS inside
    /// is folding, not content, and is removed.
    private mutating func readDomainLiteral() throws(ScanFailure) -> String {
        let open = pos
        pos += 1
        var out: [UInt8] = [FieldSyntax.openBracket]
        while pos < end {
            let b = bytes[pos]
            switch b {
            case FieldSyntax.closeBracket:
                pos += 1
                out.append(b)
                return String(decoding: out, as: UTF8.self)
            case FieldSyntax.openBracket, 0:
                throw unexpected()
            case FieldSyntax.backslash:
                guard pos + 1 < end else { pos = end; throw fail(.unterminatedDomainLiteral, at: open) }
                out.append(bytes[pos + 1])
                pos += 2
            case FieldSyntax.space, FieldSyntax.tab, FieldSyntax.cr, FieldSyntax.lf:
                pos += 1
            default:
                out.append(b)
                pos += 1
            }
        }
        throw fail(.unterminatedDomainLiteral, at: open)
    }

    /// RFC 5322 §4.4 obs-route = obs-domain-list ":", at `pos` just inside "<": its domains
    /// as "@a,@b".
    mutating func readRoute() throws(ScanFailure) -> String {
        // obs-domain-list = *(CFWS / ",") "@" domain *("," [CFWS] ["@" domain])
        while true {
            try skipCFWS()
            guard peek() == FieldSyntax.comma else { break }
            pos += 1
        }
        guard peek() == FieldSyntax.at else { throw fail(.invalidRoute) }
        pos += 1
        var domains = [try readDomain()]
        while true {
            try skipCFWS()
            guard peek() == FieldSyntax.comma else { break }
            pos += 1
            try skipCFWS()
            if peek() == FieldSyntax.at {
                pos += 1
                domains.append(try readDomain())
            }
        }
        guard peek() == FieldSyntax.colon else { throw fail(.invalidRoute) }
        pos += 1
        return domains.map { "@" + $0 }.joined(separator: ",")
    }

    /// addr-spec with optional CFWS around and an optional leading route: the inside of an
    /// angle-addr (RFC 5322 §3.4, §4.4 obs-angle-addr). Stops before the closing ">".
    mutating func readAngleContent() throws(ScanFailure) -> (local: String, domain: String, route: String?) {
        try skipCFWS()
        let route = peek() == FieldSyntax.at || peek() == FieldSyntax.comma ? try readRoute() : nil
        let words = try readWords()
        guard peek() == FieldSyntax.at else {
            if words.isEmpty {
                if atEnd || peek() == FieldSyntax.greater { throw fail(.missingLocalPart) }
                throw unexpected()
            }
            _ = try localPart(from: words)
            if atEnd || peek() == FieldSyntax.greater { throw fail(.missingAtSign) }
            throw unexpected()
        }
        let local = try localPart(from: words)
        pos += 1
        let domain = try readDomain()
        try skipCFWS()
        return (local, domain, route)
    }

    private mutating func countItem(at offset: Int) throws(ScanFailure) {
        itemCount += 1
        if itemCount > maxItems { throw fail(.tooManyItems(limit: maxItems), at: offset) }
    }

    /// RFC 5322 §3.4 address (or mailbox when `allowGroup` is false), at `pos` after CFWS.
    /// With `commentAsName`, a bare addr-spec takes a following comment as its name.
    mutating func parseAddress(allowGroup: Bool, inGroup: Bool, commentAsName: Bool) throws(ScanFailure) -> AddressListItem {
        let start = pos
        let words = try readWords()
        guard let b = peek() else {
            throw fail(words.isEmpty ? .empty : .missingAtSign)
        }
        switch b {
        case FieldSyntax.at:
            // addr-spec (RFC 5322 §3.4.1)
            if words.isEmpty { throw fail(.missingLocalPart) }
            let local = try localPart(from: words)
            pos += 1
            let domain = try readDomain()
            try skipCFWS()
            let name = commentAsName ? lastComment.flatMap { PhraseBuilder.fromComment(bytes, $0) } : nil
            try countItem(at: start)
            return .mailbox(Address(displayName: name, localPart: local, domain: domain))
        case FieldSyntax.less:
            // name-addr = [display-name] angle-addr (RFC 5322 §3.4)
            let name = try displayName(from: words)
            let open = pos
            pos += 1
            let (local, domain, route) = try readAngleContent()
            guard peek() == FieldSyntax.greater else {
                throw fail(.missingClosingAngleBracket, at: atEnd ? open : pos)
            }
            pos += 1
            try skipCFWS()
            try countItem(at: start)
            return .mailbox(Address(displayName: name, localPart: local, domain: domain, route: route))
        case FieldSyntax.colon:
            if inGroup { throw fail(.nestedGroup) }
            guard allowGroup else { throw fail(.groupNotAllowed) }
            guard !words.isEmpty else { throw fail(.missingGroupName) }
            let name = try displayName(from: words) ?? ""
            pos += 1
            try countItem(at: start)
            return .group(name: name, members: try parseGroupList(commentAsName: commentAsName))
        case FieldSyntax.comma, FieldSyntax.semicolon, FieldSyntax.greater:
            throw words.isEmpty ? unexpected() : fail(.missingAtSign)
        default:
            throw unexpected()
        }
    }

    /// RFC 5322 §3.4 group-list (mailbox-list / CFWS / §4.4 obs-group-list) and the closing
    /// ";" [CFWS], after the ":".
    private mutating func parseGroupList(commentAsName: Bool) throws(ScanFailure) -> [Address] {
        var members: [Address] = []
        while true {
            try skipCFWS()
            guard let b = peek() else { throw fail(.unterminatedGroup) }
            if b == FieldSyntax.semicolon {
                pos += 1
                try skipCFWS()
                return members
            }
            if b == FieldSyntax.comma {
                pos += 1
                continue
            }
            if case .mailbox(let address) = try parseAddress(allowGroup: false, inGroup: true, commentAsName: commentAsName) {
                members.append(address)
            }
            guard let c = peek() else { throw fail(.unterminatedGroup) }
            guard c == FieldSyntax.comma || c == FieldSyntax.semicolon else { throw fail(.expectedComma) }
        }
    }

    /// RFC 5322 §3.4 address-list with §4.4 obs-addr-list (null elements).
    mutating func parseAddressList(commentAsName: Bool) throws(ScanFailure) -> [AddressListItem] {
        var items: [AddressListItem] = []
        while true {
            try skipCFWS()
            guard let b = peek() else { break }
            if b == FieldSyntax.comma {
                pos += 1
                continue
            }
            items.append(try parseAddress(allowGroup: true, inGroup: false, commentAsName: commentAsName))
            guard let c = peek() else { break }
            guard c == FieldSyntax.comma else { throw fail(.expectedComma) }
            pos += 1
        }
        if items.isEmpty { throw fail(.empty, at: 0) }
        return items
    }

    /// One mailbox filling the whole range (CFWS around allowed).
    mutating func parseSingleMailbox(commentAsName: Bool) throws(ScanFailure) -> Address {
        let start = pos
        try skipCFWS()
        guard !atEnd else { throw fail(.empty, at: start) }
        let item = try parseAddress(allowGroup: false, inGroup: false, commentAsName: commentAsName)
        guard atEnd else { throw unexpected() }
        guard case .mailbox(let address) = item else { throw fail(.groupNotAllowed) }
        return address
    }
}

// MARK: - Lenient parsing

/// A lexical token of the lenient parser. Anything that is not white space, a quoted string,
/// a comment, "<", ">" or "@" is text, specials included.
struct LenientToken {
    enum Kind { case text, quoted, comment, space, less, greater, at, strayQuote }
    var kind: Kind
    var start: Int
    var end: Int
    /// For quoted strings and comments: the content with quoted-pairs resolved.
    var content: String = ""
}

/// Salvage parser behind `AddressList.parseLenient`; every step moves forward, and each
/// octet is looked at a bounded number of times.
struct LenientAddressParser {
    let bytes: [UInt8]
    let maxItems: Int

    private enum Piece {
        case element(Range<Int>, hasAt: Bool, hasAngle: Bool)
        case groupStart(Range<Int>)
        case groupEnd
    }

    func parse() -> [AddressListItem] {
        var items: [AddressListItem] = []
        var count = 0
        var group: (name: String, members: [Address])?
        var pending: Range<Int>?  // elements that may be the start of a display name with commas

        func emit(_ address: Address) {
            count += 1
            if group != nil {
                group?.members.append(address)
            } else {
                items.append(.mailbox(address))
            }
        }
        func flushPending() {
            guard let range = pending else { return }
            pending = nil
            for piece in splitPending(range) where count < maxItems {
                if let address = salvage(piece) { emit(address) }
            }
        }
        func closeGroup() {
            if let g = group { items.append(.group(name: g.name, members: g.members)) }
            group = nil
        }

        for piece in split() {
            if count >= maxItems { break }
            switch piece {
            case .groupStart(let nameRange):
                flushPending()
                closeGroup()
                if count >= maxItems { break }
                count += 1
                group = (phrase(tokens(nameRange)[...]) ?? "", [])
            case .groupEnd:
                flushPending()
                closeGroup()
            case .element(let range, let hasAt, let hasAngle):
                if isBlank(range) {
                    flushPending()
                } else if hasAngle, let start = pending?.lowerBound {
                    // `John Doe, Jr. <j@x>`: the earlier pieces are the start of the name.
                    pending = nil
                    if let address = salvage(start..<range.upperBound) { emit(address) }
                } else if !hasAt && !hasAngle {
                    pending = (pending?.lowerBound ?? range.lowerBound)..<range.upperBound
                } else {
                    flushPending()
                    if let address = salvage(range) { emit(address) }
                }
            }
        }
        if count < maxItems { flushPending() }
        closeGroup()
        return items
    }

    /// Whether the range holds only white space and comments (a null list element, RFC 5322
    /// §4.4).
    private func isBlank(_ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound {
            if bytes[i] == FieldSyntax.openParen {
                i = FieldSyntax.commentEnd(bytes, from: i, end: range.upperBound)
            } else if Self.isLenientSpace(bytes[i]) {
                i += 1
            } else {
                return false
            }
        }
        return true
    }

    /// The elements of a pending run (comma-separated, no "@", no "<"), one by one.
    private func splitPending(_ range: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        for piece in Self.split(bytes, range, inGroupAtStart: true) {
            if case .element(let r, _, _) = piece { result.append(r) }
        }
        return result
    }

    private func split() -> [Piece] {
        Self.split(bytes, 0..<bytes.count, inGroupAtStart: false)
    }

    /// Splits at top-level "," and ";", recognising "name:" group starts. Quotes, comments,
    /// domain literals and angle brackets protect their content. An opener without its closer
    /// is taken literally; once a search for a closing '"' or ']' fails no later one can
    /// succeed (the rest of the input was already searched), so the flags keep this linear.
    private static func split(_ bytes: [UInt8], _ range: Range<Int>, inGroupAtStart: Bool) -> [Piece] {
        var pieces: [Piece] = []
        var inGroup = inGroupAtStart
        var i = range.lowerBound
        let end = range.upperBound
        var elementStart = i
        var hasAt = false, hasAngle = false
        var quoteUnclosable = false, bracketUnclosable = false

        func finishElement(_ at: Int) {
            pieces.append(.element(elementStart..<at, hasAt: hasAt, hasAngle: hasAngle))
            hasAt = false
            hasAngle = false
        }

        while i < end {
            switch bytes[i] {
            case FieldSyntax.dquote:
                if !quoteUnclosable, let close = closingQuote(bytes, from: i, end: end) {
                    i = close + 1
                } else {
                    quoteUnclosable = true
                    i += 1
                }
            case FieldSyntax.openParen:
                i = FieldSyntax.commentEnd(bytes, from: i, end: end)
            case FieldSyntax.openBracket:
                if !bracketUnclosable, let close = bytes[(i + 1)..<end].firstIndex(of: FieldSyntax.closeBracket) {
                    i = close + 1
                } else {
                    bracketUnclosable = true
                    i += 1
                }
            case FieldSyntax.less:
                hasAngle = true
                i += 1
                // Inside "<...>": stop at ">" or at what shows the ">" is missing.
                angle: while i < end {
                    switch bytes[i] {
                    case FieldSyntax.greater:
                        i += 1
                        break angle
                    case FieldSyntax.at:
                        hasAt = true
                        i += 1
                    case FieldSyntax.dquote:
                        if !quoteUnclosable, let close = closingQuote(bytes, from: i, end: end) {
                            i = close + 1
                        } else {
                            quoteUnclosable = true
                            i += 1
                        }
                    case FieldSyntax.openParen:
                        i = FieldSyntax.commentEnd(bytes, from: i, end: end)
                    case FieldSyntax.comma:
                        // A route "<@a,@b:x@y>" continues with "@"; anything else means the
                        // ">" is missing and this comma separates addresses.
                        var k = i + 1
                        while k < end && FieldSyntax.isWhitespace(bytes[k]) { k += 1 }
                        if k < end && bytes[k] == FieldSyntax.at {
                            i = k
                        } else {
                            break angle
                        }
                    case FieldSyntax.less:
                        break angle
                    case FieldSyntax.semicolon where inGroup:
                        break angle
                    default:
                        i += 1
                    }
                }
            case FieldSyntax.at:
                hasAt = true
                i += 1
            case FieldSyntax.comma:
                finishElement(i)
                i += 1
                elementStart = i
            case FieldSyntax.semicolon:
                finishElement(i)
                if inGroup && !inGroupAtStart {
                    pieces.append(.groupEnd)
                    inGroup = false
                }
                i += 1
                elementStart = i
            case FieldSyntax.colon where !inGroup:
                pieces.append(.groupStart(elementStart..<i))
                inGroup = true
                hasAt = false
                hasAngle = false
                i += 1
                elementStart = i
            default:
                i += 1
            }
        }
        finishElement(end)
        if inGroup && !inGroupAtStart { pieces.append(.groupEnd) }
        return pieces
    }

    /// Index of the DQUOTE closing the quoted string opened at `from`, if any.
    private static func closingQuote(_ bytes: [UInt8], from: Int, end: Int) -> Int? {
        var i = from + 1
        while i < end {
            if bytes[i] == FieldSyntax.backslash {
                i += 2
                continue
            }
            if bytes[i] == FieldSyntax.dquote { return i }
            i += 1
        }
        return nil
    }

    /// Index after the comment opened at `from`; an unterminated comment runs to `end`.

    /// Lenient tokens of a range. Controls count as white space.
    private func tokens(_ range: Range<Int>) -> [LenientToken] {
        var result: [LenientToken] = []
        var i = range.lowerBound
        let end = range.upperBound
        var quoteUnclosable = false
        while i < end {
            let b = bytes[i]
            let start = i
            switch b {
            case FieldSyntax.dquote:
                if !quoteUnclosable, let close = Self.closingQuote(bytes, from: i, end: end) {
                    result.append(LenientToken(kind: .quoted, start: start, end: close + 1,
                                               content: unescaped(i + 1, close)))
                    i = close + 1
                } else {
                    quoteUnclosable = true
                    result.append(LenientToken(kind: .strayQuote, start: i, end: i + 1))
                    i += 1
                }
            case FieldSyntax.openParen:
                i = FieldSyntax.commentEnd(bytes, from: i, end: end)
                let innerEnd = (i > start + 1 && bytes[i - 1] == FieldSyntax.closeParen) ? i - 1 : i
                result.append(LenientToken(kind: .comment, start: start, end: i,
                                           content: unescaped(start + 1, max(start + 1, innerEnd))))
            case FieldSyntax.less:
                result.append(LenientToken(kind: .less, start: i, end: i + 1))
                i += 1
            case FieldSyntax.greater:
                result.append(LenientToken(kind: .greater, start: i, end: i + 1))
                i += 1
            case FieldSyntax.at:
                result.append(LenientToken(kind: .at, start: i, end: i + 1))
                i += 1
            default:
                if Self.isLenientSpace(b) {
                    while i < end && Self.isLenientSpace(bytes[i]) { i += 1 }
                    result.append(LenientToken(kind: .space, start: start, end: i))
                } else {
                    while i < end && Self.isLenientText(bytes[i]) { i += 1 }
                    result.append(LenientToken(kind: .text, start: start, end: i))
                }
            }
        }
        return result
    }

    private static func isLenientSpace(_ b: UInt8) -> Bool { b <= 0x20 || b == 0x7F }

    private static func isLenientText(_ b: UInt8) -> Bool {
        !isLenientSpace(b) && b != FieldSyntax.dquote && b != FieldSyntax.openParen
            && b != FieldSyntax.less && b != FieldSyntax.greater && b != FieldSyntax.at
    }

    private func unescaped(_ from: Int, _ to: Int) -> String {
        var out: [UInt8] = []
        var i = from
        while i < to {
            if bytes[i] == FieldSyntax.backslash && i + 1 < to { i += 1 }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func text(_ token: LenientToken) -> String {
        String(decoding: bytes[token.start..<token.end], as: UTF8.self)
    }

    /// A display name from any tokens: specials kept as text, comments and stray quotes
    /// dropped.
    private func phrase(_ tokens: ArraySlice<LenientToken>) -> String? {
        var builder = PhraseBuilder()
        var spaceBefore = false
        for token in tokens {
            switch token.kind {
            case .space, .comment:
                spaceBefore = true
            case .strayQuote:
                continue
            case .quoted:
                builder.addQuoted(token.content, spaceBefore: spaceBefore)
                spaceBefore = false
            case .text, .less, .greater, .at:
                builder.addText(text(token), spaceBefore: spaceBefore)
                spaceBefore = false
            }
        }
        return builder.result()
    }

    /// Words of a local part joined by single spaces where the input had white space; stray
    /// angle brackets and quotes are dropped.
    private func flatten(_ tokens: ArraySlice<LenientToken>) -> String {
        var out = ""
        var spaceBefore = false
        for token in tokens {
            switch token.kind {
            case .space, .comment: spaceBefore = true
            case .strayQuote, .less, .greater: continue
            case .quoted, .text, .at:
                if spaceBefore && !out.isEmpty { out += " " }
                out += token.kind == .quoted ? token.content : text(token)
                spaceBefore = false
            }
        }
        return out
    }

    /// The domain after an "@": the first run of text after optional white space, cut at the
    /// first character that cannot be part of a domain (trailing garbage).
    private func domain(_ tokens: ArraySlice<LenientToken>) -> String {
        var out: [UInt8] = []
        var started = false
        scan: for token in tokens {
            switch token.kind {
            case .space, .comment:
                if started { break scan }
            case .text:
                started = true
                for b in bytes[token.start..<token.end] {
                    guard FieldSyntax.isLenientDomainOctet(b) else { break scan }
                    out.append(b)
                }
            default:
                break scan
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One element: the strict mailbox when it is one, else the salvage heuristics described
    /// at `AddressList.parseLenient`.
    private func salvage(_ range: Range<Int>) -> Address? {
        var scanner = FieldScanner(bytes, range: range, maxItems: 1)
        if let address = try? scanner.parseSingleMailbox(commentAsName: true) { return address }

        let all = tokens(range)
        if let less = all.firstIndex(where: { $0.kind == .less }) {
            let name = phrase(all[..<less])
            var greater = less + 1
            while greater < all.count && all[greater].kind != .greater { greater += 1 }
            let contentEnd = greater < all.count ? all[greater].start : range.upperBound
            guard let (local, domain, route) = angleContent(all[less].end..<contentEnd) else { return nil }
            return Address(displayName: name, localPart: local, domain: domain, route: route)
        }
        return bare(all)
    }

    /// The inside of "<...>": strict when possible, else split at the last "@".
    private func angleContent(_ range: Range<Int>) -> (String, String, String?)? {
        var scanner = FieldScanner(bytes, range: range, maxItems: 1)
        if let result = try? scanner.readAngleContent(), scanner.atEnd { return result }

        var start = range.lowerBound
        while start < range.upperBound && FieldSyntax.isWhitespace(bytes[start]) { start += 1 }
        var route: String?
        if start < range.upperBound && bytes[start] == FieldSyntax.at,
           let colon = bytes[start..<range.upperBound].lastIndex(of: FieldSyntax.colon) {
            // A route (RFC 5322 §4.4), its white space dropped.
            route = String(decoding: bytes[start..<colon].filter { !FieldSyntax.isWhitespace($0) }, as: UTF8.self)
            start = colon + 1
        }
        let inner = tokens(start..<range.upperBound)
        let local: String, domain: String
        if let at = inner.lastIndex(where: { $0.kind == .at }) {
            local = flatten(inner[..<at])
            domain = self.domain(inner[(at + 1)...])
        } else {
            local = flatten(inner[...])
            domain = ""
        }
        return local.isEmpty ? nil : (local, domain, route)
    }

    /// An element without "<": the word touching the first usable "@" is the local part.
    private func bare(_ all: [LenientToken]) -> Address? {
        let commentName = all.last(where: { $0.kind == .comment })
            .map { EncodedWord.decode($0.content).trimmingBlanks() }
            .flatMap { $0.isEmpty ? nil : $0 }
        guard all.contains(where: { $0.kind == .at }) else {
            let local = flatten(all[...])
            return local.isEmpty ? nil : Address(displayName: nil, localPart: local, domain: "")
        }
        for (k, token) in all.enumerated() where token.kind == .at {
            var j = k - 1
            while j >= 0 && (all[j].kind == .space || all[j].kind == .comment) { j -= 1 }
            var first = j + 1
            while first > 0 && (all[first - 1].kind == .text || all[first - 1].kind == .quoted) { first -= 1 }
            guard first <= j else { continue }
            let local = flatten(all[first...j])
            guard !local.isEmpty else { continue }
            let name = phrase(all[..<first]) ?? commentName
            return Address(displayName: name, localPart: local, domain: domain(all[(k + 1)...]))
        }
        return nil
    }
}
