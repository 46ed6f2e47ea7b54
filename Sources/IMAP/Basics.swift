import Foundation

// MARK: - Character classes (RFC 9051 §9)

/// Byte classes of the formal syntax, one lookup table each.
enum CharClass {
    /// ATOM-CHAR: any CHAR (%x01-7F) except atom-specials: "(" / ")" / "{" / SP / CTL /
    /// list-wildcards / quoted-specials / resp-specials.
    static let atom: [Bool] = (0..<256).map { value in
        let b = UInt8(value)
        guard b > 0x20, b < 0x7F else { return false }
        return !"(){%*\"\\]".utf8.contains(b)
    }

    @inline(__always) static func isAtomChar(_ b: UInt8) -> Bool { atom[Int(b)] }
    /// ASTRING-CHAR = ATOM-CHAR / resp-specials.
    @inline(__always) static func isAStringChar(_ b: UInt8) -> Bool { atom[Int(b)] || b == UInt8(ascii: "]") }
    /// tag = 1*<any ASTRING-CHAR except "+">.
    @inline(__always) static func isTagChar(_ b: UInt8) -> Bool { isAStringChar(b) && b != UInt8(ascii: "+") }
    /// list-char = ATOM-CHAR / list-wildcards / resp-specials.
    @inline(__always) static func isListChar(_ b: UInt8) -> Bool {
        isAStringChar(b) || b == UInt8(ascii: "%") || b == UInt8(ascii: "*")
    }

    static func isAtom(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isAtomChar)
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b - 0x20 : b }

    /// ASCII case-insensitive equality of bytes and an uppercase ASCII keyword.
    static func equalsKeyword(_ bytes: some Collection<UInt8>, _ keyword: String) -> Bool {
        bytes.count == keyword.utf8.count && zip(bytes, keyword.utf8).allSatisfy { upper($0) == $1 }
    }
}

extension String {
    /// ASCII-only case-insensitive comparison, as IMAP keywords, flags and INBOX compare.
    func asciiCaseInsensitiveEquals(_ other: String) -> Bool {
        utf8.count == other.utf8.count
            && zip(utf8, other.utf8).allSatisfy { CharClass.upper($0) == CharClass.upper($1) }
    }

    var asciiUppercased: String {
        String(decoding: utf8.map(CharClass.upper), as: UTF8.self)
    }
}

// MARK: - ByteString

/// A string argument or value whose bytes matter: search strings (in the command's CHARSET,
/// RFC 9051 §6.4.4), envelope and body-structure fields (raw header text, possibly 8-bit).
/// Written as a Swift string literal in code; `stringValue` decodes UTF-8.
public struct ByteString: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The bytes as UTF-8 text, or nil if they are not valid UTF-8.
    public var stringValue: String? { String(validating: bytes, as: UTF8.self) }

    public var isEmpty: Bool { bytes.isEmpty }

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

// MARK: - Tag

/// A command tag (RFC 9051 §2.2.1): `tag = 1*<any ASTRING-CHAR except "+">`.
public struct Tag: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Nil unless `rawValue` is a valid tag.
    public init?(_ rawValue: String) {
        guard !rawValue.isEmpty, rawValue.utf8.allSatisfy(CharClass.isTagChar) else { return nil }
        self.rawValue = rawValue
    }

    init(validated bytes: some Collection<UInt8>) {
        rawValue = String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { rawValue }
}

// MARK: - Flag

/// A message flag (RFC 9051 §2.3.2): a system flag (`\Seen`, `\Answered`, `\Flagged`,
/// `\Deleted`, `\Draft`, and `\Recent` of RFC 3501 for rev1 output), a flag extension
/// (`\` atom) or a keyword (atom). Flags compare ASCII case-insensitively (keyword matching
/// is case-insensitive, RFC 9051 §9 note 1 for the system flags); system flags are kept in
/// their canonical spelling.
public struct Flag: Hashable, Sendable, CustomStringConvertible {
    /// The flag as written on the wire, e.g. `\Seen` or `$Junk`.
    public let rawValue: String

    public static let seen = Flag(trusted: "\\Seen")
    public static let answered = Flag(trusted: "\\Answered")
    public static let flagged = Flag(trusted: "\\Flagged")
    public static let deleted = Flag(trusted: "\\Deleted")
    public static let draft = Flag(trusted: "\\Draft")
    /// RFC 3501 §2.3.2; obsolete in IMAP4rev2 (`obsolete-flag-recent`), never stored.
    public static let recent = Flag(trusted: "\\Recent")

    /// Keywords registered with IANA (RFC 9051 §2.3.2, `flag-keyword`).
    public static let mdnSent = Flag(trusted: "$MDNSent")
    public static let forwarded = Flag(trusted: "$Forwarded")
    public static let junk = Flag(trusted: "$Junk")
    public static let notJunk = Flag(trusted: "$NotJunk")
    public static let phishing = Flag(trusted: "$Phishing")

    static let systemFlags: [Flag] = [.seen, .answered, .flagged, .deleted, .draft, .recent]

    private init(trusted: String) { rawValue = trusted }

    /// Parses `\atom` or `atom`; nil for anything else. System flags are canonicalised
    /// (`\SEEN` becomes `\Seen`).
    public init?(_ string: String) {
        var bytes = Substring(string).utf8[...]
        let isBackslash = bytes.first == UInt8(ascii: "\\")
        if isBackslash { bytes = bytes.dropFirst() }
        guard CharClass.isAtom(bytes) else { return nil }
        if isBackslash, let system = Flag.systemFlags.first(where: { $0.rawValue.asciiCaseInsensitiveEquals(string) }) {
            self = system
        } else {
            rawValue = string
        }
    }

    /// A keyword flag (no backslash); nil unless `name` is an atom.
    public static func keyword(_ name: String) -> Flag? {
        name.hasPrefix("\\") ? nil : Flag(name)
    }

    /// True for flags starting with a backslash (system flags and flag extensions).
    public var isSystemOrExtension: Bool { rawValue.hasPrefix("\\") }
    public var isKeyword: Bool { !isSystemOrExtension }

    public static func == (a: Flag, b: Flag) -> Bool { a.rawValue.asciiCaseInsensitiveEquals(b.rawValue) }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue.asciiUppercased) }

    public var description: String { rawValue }
}

// MARK: - Capability

/// A capability name (RFC 9051 §9 `capability = ("AUTH=" auth-type) / atom`), as advertised
/// in CAPABILITY and named in ENABLE. Compares ASCII case-insensitively.
public struct Capability: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Nil unless `rawValue` is an atom.
    public init?(_ rawValue: String) {
        guard CharClass.isAtom(rawValue.utf8) else { return nil }
        self.rawValue = rawValue
    }

    private init(trusted: String) { rawValue = trusted }

    public static func auth(_ mechanism: String) -> Capability? { Capability("AUTH=" + mechanism) }

    public static let imap4rev1 = Capability(trusted: "IMAP4rev1")
    public static let imap4rev2 = Capability(trusted: "IMAP4rev2")
    public static let startTLS = Capability(trusted: "STARTTLS")
    public static let loginDisabled = Capability(trusted: "LOGINDISABLED")
    public static let saslIR = Capability(trusted: "SASL-IR")
    public static let literalPlus = Capability(trusted: "LITERAL+")
    public static let literalMinus = Capability(trusted: "LITERAL-")
    public static let idle = Capability(trusted: "IDLE")
    public static let id = Capability(trusted: "ID")
    public static let enable = Capability(trusted: "ENABLE")
    public static let uidPlus = Capability(trusted: "UIDPLUS")
    public static let move = Capability(trusted: "MOVE")
    public static let unselect = Capability(trusted: "UNSELECT")
    public static let namespace = Capability(trusted: "NAMESPACE")
    public static let listExtended = Capability(trusted: "LIST-EXTENDED")
    public static let listStatus = Capability(trusted: "LIST-STATUS")
    public static let specialUse = Capability(trusted: "SPECIAL-USE")
    public static let createSpecialUse = Capability(trusted: "CREATE-SPECIAL-USE")
    public static let esearch = Capability(trusted: "ESEARCH")
    public static let searchRes = Capability(trusted: "SEARCHRES")
    public static let condStore = Capability(trusted: "CONDSTORE")
    public static let qresync = Capability(trusted: "QRESYNC")
    public static let binary = Capability(trusted: "BINARY")
    public static let statusSize = Capability(trusted: "STATUS=SIZE")
    public static let saveDate = Capability(trusted: "SAVEDATE")
    public static let preview = Capability(trusted: "PREVIEW")
    public static let utf8Accept = Capability(trusted: "UTF8=ACCEPT")
    public static let within = Capability(trusted: "WITHIN")
    public static let quota = Capability(trusted: "QUOTA")
    public static let sort = Capability(trusted: "SORT")
    public static let esort = Capability(trusted: "ESORT")
    public static let threadReferences = Capability(trusted: "THREAD=REFERENCES")
    public static let threadOrderedSubject = Capability(trusted: "THREAD=ORDEREDSUBJECT")
    public static let compressDeflate = Capability(trusted: "COMPRESS=DEFLATE")
    public static let multiAppend = Capability(trusted: "MULTIAPPEND")
    public static let objectID = Capability(trusted: "OBJECTID")
    public static let childrenCapability = Capability(trusted: "CHILDREN")

    /// RFC 7889 §2: `APPENDLIMIT` or `APPENDLIMIT=n`.
    public static func appendLimit(_ limit: UInt32?) -> Capability {
        Capability(trusted: limit.map { "APPENDLIMIT=\($0)" } ?? "APPENDLIMIT")
    }

    public static func == (a: Capability, b: Capability) -> Bool { a.rawValue.asciiCaseInsensitiveEquals(b.rawValue) }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue.asciiUppercased) }

    public var description: String { rawValue }
}

// MARK: - Mailbox attributes

/// A LIST/LSUB mailbox attribute (RFC 9051 §7.3.1 `mbx-list-flags`, RFC 5258 §4, RFC 6154
/// §2 special-use attributes): `\` followed by an atom. Compares ASCII case-insensitively.
public struct MailboxAttribute: Hashable, Sendable, CustomStringConvertible {
    /// With the backslash, e.g. `\Noselect`.
    public let rawValue: String

    /// Nil unless `rawValue` is `\` followed by an atom.
    public init?(_ rawValue: String) {
        let bytes = rawValue.utf8
        guard bytes.first == UInt8(ascii: "\\"), CharClass.isAtom(bytes.dropFirst()) else { return nil }
        self.rawValue = Self.known.first(where: { $0.rawValue.asciiCaseInsensitiveEquals(rawValue) })?.rawValue ?? rawValue
    }

    private init(trusted: String) { rawValue = trusted }

    public static let noInferiors = MailboxAttribute(trusted: "\\Noinferiors")
    public static let noSelect = MailboxAttribute(trusted: "\\Noselect")
    public static let marked = MailboxAttribute(trusted: "\\Marked")
    public static let unmarked = MailboxAttribute(trusted: "\\Unmarked")
    public static let nonExistent = MailboxAttribute(trusted: "\\NonExistent")
    public static let subscribed = MailboxAttribute(trusted: "\\Subscribed")
    public static let remote = MailboxAttribute(trusted: "\\Remote")
    public static let hasChildren = MailboxAttribute(trusted: "\\HasChildren")
    public static let hasNoChildren = MailboxAttribute(trusted: "\\HasNoChildren")
    // RFC 6154 §2 special-use attributes.
    public static let all = MailboxAttribute(trusted: "\\All")
    public static let archive = MailboxAttribute(trusted: "\\Archive")
    public static let drafts = MailboxAttribute(trusted: "\\Drafts")
    public static let flagged = MailboxAttribute(trusted: "\\Flagged")
    public static let junk = MailboxAttribute(trusted: "\\Junk")
    public static let sent = MailboxAttribute(trusted: "\\Sent")
    public static let trash = MailboxAttribute(trusted: "\\Trash")

    static let known: [MailboxAttribute] = [
        .noInferiors, .noSelect, .marked, .unmarked, .nonExistent, .subscribed, .remote, .hasChildren,
        .hasNoChildren, .all, .archive, .drafts, .flagged, .junk, .sent, .trash,
    ]

    /// The special-use attributes of RFC 6154 §2.
    public static let specialUse: [MailboxAttribute] = [.all, .archive, .drafts, .flagged, .junk, .sent, .trash]

    public static func == (a: MailboxAttribute, b: MailboxAttribute) -> Bool {
        a.rawValue.asciiCaseInsensitiveEquals(b.rawValue)
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue.asciiUppercased) }

    public var description: String { rawValue }
}

// MARK: - Dates

/// A calendar date as in SEARCH (RFC 9051 §9 `date-text = date-day "-" date-month "-"
/// date-year`), without time or zone.
public struct IMAPDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Nil unless the date exists in the proleptic Gregorian calendar (year 1...9999).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...IMAPDate.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil), for conversions without a calendar.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    init(daysSinceEpoch days: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    public static func < (a: IMAPDate, b: IMAPDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// `1-Feb-1994`.
    public var description: String { "\(day)-\(IMAPDate.monthNames[month - 1])-\(year)" }
}

/// An internal date (RFC 9051 §9 `date-time`): date, time of day and the zone offset
/// the time is expressed in.
public struct IMAPDateTime: Hashable, Sendable, CustomStringConvertible {
    public let date: IMAPDate
    public let hour: Int
    public let minute: Int
    public let second: Int
    /// Minutes east of UTC, -5999...5999 (the zone is ±hhmm).
    public let zoneMinutes: Int

    public init?(date: IMAPDate, hour: Int, minute: Int, second: Int, zoneMinutes: Int) {
        // RFC 9051 `time = 2DIGIT ":" 2DIGIT ":" 2DIGIT`; 60 admits a leap second.
        guard (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              (-5999...5999).contains(zoneMinutes)
        else { return nil }
        self.date = date
        self.hour = hour
        self.minute = minute
        self.second = second
        self.zoneMinutes = zoneMinutes
    }

    /// The instant as a Foundation Date.
    public var instant: Date {
        let local = Double(date.daysSinceEpoch) * 86400 + Double(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: local - Double(zoneMinutes * 60))
    }

    /// The instant `instant` expressed in the zone `zoneMinutes` east of UTC (whole seconds).
    public init(_ instant: Date, zoneMinutes: Int = 0) {
        let zone = max(-5999, min(5999, zoneMinutes))
        // Clamped to years 1...9999 (and NaN to the epoch), so the conversion cannot trap.
        let interval = instant.timeIntervalSince1970
        let clamped = interval.isNaN ? 0 : max(-62_135_596_800, min(253_402_300_799, interval.rounded(.down)))
        let seconds = Int(clamped) + zone * 60
        let days = seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400)
        let rest = seconds - days * 86400
        let civil = IMAPDate(daysSinceEpoch: days)
        date = IMAPDate(year: max(1, min(9999, civil.year)), month: civil.month, day: civil.day)
            ?? IMAPDate(daysSinceEpoch: 0)
        hour = rest / 3600
        minute = rest % 3600 / 60
        second = rest % 60
        self.zoneMinutes = zone
    }

    /// `17-Jul-1996 02:44:25 -0700` (without the quotes of the wire form).
    public var description: String {
        let zone = abs(zoneMinutes)
        return "\(pad2(date.day))-\(IMAPDate.monthNames[date.month - 1])-\(date.year) "
            + "\(pad2(hour)):\(pad2(minute)):\(pad2(second)) \(zoneMinutes < 0 ? "-" : "+")\(pad2(zone / 60))\(pad2(zone % 60))"
    }
}

@inline(__always) func pad2(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
