import Foundation

// Date and Resent-Date (RFC 5322 §3.3, §3.6.1, §4.3). IMAP serves the Date field in
// ENVELOPE and searches on it (SENTBEFORE...), so the zone as written is kept beside the
// instant. Calendar arithmetic is done here on integers (proleptic Gregorian, as RFC 5322
// dates are), so results do not depend on the host's locale, calendar or time zone.

/// Why a Date field did not parse, and where.
public struct MessageDateError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        case empty
        case unterminatedComment
        /// Not one of "Mon" ... "Sun" (RFC 5322 §3.3 day-name).
        case invalidDayOfWeek
        /// A day-of-week without the "," after it.
        case expectedComma
        /// Not 1 or 2 digits, or not a day of that month (RFC 5322 §3.3: "the day MUST be
        /// within the range of days for the month").
        case invalidDay
        /// Not one of "Jan" ... "Dec" (case-insensitive).
        case invalidMonth
        /// Fewer than 2 digits, or a 4-digit year before 1900 (RFC 5322 §3.3) or after 9999.
        case invalidYear
        case invalidHour
        case invalidMinute
        case invalidSecond
        /// The time is not `hour ":" minute [":" second]`.
        case invalidTime
        case missingZone
        /// Not `("+" / "-") 4DIGIT` after white space, nor an RFC 5322 §4.3 obs-zone.
        case invalidZone
        /// The day-of-week is not the one of the date (RFC 5322 §3.3: it MUST match).
        case dayOfWeekMismatch
        /// Something after the date-time other than CFWS.
        case trailingCharacters
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
        case .empty: what = "no date"
        case .unterminatedComment: what = "comment without closing ')'"
        case .invalidDayOfWeek: what = "invalid day of week"
        case .expectedComma: what = "expected ',' after the day of week"
        case .invalidDay: what = "invalid day"
        case .invalidMonth: what = "invalid month"
        case .invalidYear: what = "invalid year"
        case .invalidHour: what = "invalid hour"
        case .invalidMinute: what = "invalid minute"
        case .invalidSecond: what = "invalid second"
        case .invalidTime: what = "invalid time of day"
        case .missingZone: what = "missing time zone"
        case .invalidZone: what = "invalid time zone"
        case .dayOfWeekMismatch: what = "day of week does not match the date"
        case .trailingCharacters: what = "unexpected text after the date"
        }
        return "\(what) at offset \(offset)"
    }
}

public enum MessageDate {
    /// RFC 5322 §3.3 date-time with the §4.3 obsolete forms: CFWS between all elements,
    /// two- and three-digit years (§4.3: 00–49 → 20xx, 50–99 → 19xx, three digits + 1900),
    /// the zones UT, GMT, EST/EDT, CST/CDT, MST/MDT, PST/PDT, and the military letters
    /// (all taken as -0000, as §4.3 says, since RFC 822 defined them backwards). Month and
    /// day names are case-insensitive (RFC 5234 §2.3). The optional day-of-week must match
    /// the date (§3.3). Seconds are optional; a leap second (60) is read as 59 so the
    /// instant stays within its minute.
    ///
    /// Returns the instant and the zone offset as written, in seconds east of UTC ("-0000",
    /// "unknown local zone", gives 0).
    public static func parse(_ value: String) throws(MessageDateError) -> (date: Date, zoneOffsetSeconds: Int) {
        let bytes = Array(value.utf8)
        do throws(DateFailure) {
            let tokens = try DateTokenizer.tokenize(bytes, lenient: false)
            var parser = StrictDateParser(tokens: tokens, end: bytes.count)
            let fields = try parser.parse()
            return fields.result
        } catch {
            let offset = String(decoding: bytes[..<max(0, min(error.byteOffset, bytes.count))], as: UTF8.self).count
            throw MessageDateError(error.reason, offset: offset)
        }
    }

    /// What real mail has, beyond `parse`: no zone or an unknown zone name (taken as -0000,
    /// RFC 5322 §4.3), "UTC", "Z" and a few unambiguous zone names, "GMT+0100",
    /// "+01:00", single-digit hours and minutes, full or missing day names and a day-of-week
    /// that does not match, "Jan 1 2024", "1-Jan-2024", asctime ("Mon Jan  1 10:00:00 2024"),
    /// ISO 8601 ("2024-01-01T10:00:00Z", fractions ignored), AM/PM, no time at all
    /// (midnight), four-digit years before 1900, extra spaces and trailing junk after a
    /// complete date. nil when no day, month and year can be found or they are impossible.
    public static func parseLenient(_ value: String) -> (date: Date, zoneOffsetSeconds: Int)? {
        if let strict = try? parse(value) { return strict }
        let bytes = Array(value.utf8)
        guard let tokens = try? DateTokenizer.tokenize(bytes, lenient: true) else { return nil }
        var parser = LenientDateParser(tokens: tokens)
        return parser.parse()?.result
    }

    /// RFC 5322 §3.3 form, e.g. "Sat, 21 Nov 2026 22:45:15 +0000", with the local time in
    /// the given zone. The offset is cut to whole minutes and to ±99:59 (what "+hhmm" can
    /// say); instants outside years 1–9999 (or not finite) are clamped into that range.
    public static func format(_ date: Date, zoneOffsetSeconds: Int = 0) -> String {
        let limit = 99 * 3600 + 59 * 60
        let offset = max(-limit, min(limit, zoneOffsetSeconds)) / 60 * 60
        let minSeconds = Double(Calendrical.daysFromCivil(year: 1, month: 1, day: 1) * 86_400)
        let maxSeconds = Double(Calendrical.daysFromCivil(year: 9999, month: 12, day: 31) * 86_400 + 86_399)
        var interval = date.timeIntervalSince1970
        if !interval.isFinite { interval = interval.isNaN ? 0 : (interval > 0 ? maxSeconds : minSeconds) }
        interval = max(minSeconds, min(maxSeconds, (interval + Double(offset)).rounded(.down)))
        let local = Int(interval)
        let days = Calendrical.floorDivide(local, 86_400)
        let secondOfDay = local - days * 86_400
        let (year, month, day) = Calendrical.civilFromDays(days)
        let weekday = Calendrical.weekday(days)
        let sign = offset < 0 ? "-" : "+"
        let zoneMinutes = abs(offset) / 60
        return "\(Calendrical.dayNames[weekday]), \(day) \(Calendrical.monthNames[month - 1]) \(pad(year, 4)) "
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)) "
            + "\(sign)\(pad(zoneMinutes / 60, 2))\(pad(zoneMinutes % 60, 2))"
    }

    private static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}

// MARK: - Calendar arithmetic

enum Calendrical {
    /// Index 0 is Sunday, as `weekday` counts.
    static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func floorDivide(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (the era-based algorithm of
    /// H. Hinnant's "chrono-compatible low-level date algorithms").
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let shiftedMonth = (month + 9) % 12  // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// 0 = Sunday; 1970-01-01 was a Thursday.
    static func weekday(_ days: Int) -> Int {
        ((days + 4) % 7 + 7) % 7
    }

    static func daysInMonth(_ month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// RFC 5322 §4.3: two-digit years 00–49 are 20xx, 50–99 are 19xx; three-digit years
    /// add 1900.
    static func expandYear(_ value: Int, digits: Int) -> Int {
        switch digits {
        case ...2: return value < 50 ? 2000 + value : 1900 + value
        case 3: return 1900 + value
        default: return value
        }
    }

    static func month(named name: String) -> Int? {
        guard name.utf8.count >= 3 else { return nil }
        let lower = name.lowercased()
        if let i = monthNames.firstIndex(where: { $0.lowercased() == lower }) { return i + 1 }
        return nil
    }

    /// RFC 5322 §4.3 obs-zone, in seconds east of UTC. Military letters SHOULD be -0000.
    static func obsoleteZone(_ name: String) -> Int? {
        switch name.uppercased() {
        case "UT", "GMT": return 0
        case "EDT": return -4 * 3600
        case "EST", "CDT": return -5 * 3600
        case "CST", "MDT": return -6 * 3600
        case "MST", "PDT": return -7 * 3600
        case "PST": return -8 * 3600
        case let letter where letter.count == 1 && letter != "J" && letter.unicodeScalars.allSatisfy({ $0.isASCII && $0.properties.isAlphabetic }):
            return 0
        default: return nil
        }
    }

    /// Zone names seen in real mail beyond §4.3 whose meaning is not in doubt (so not "IST"
    /// or "BST", which name several zones).
    static func extraZone(_ name: String) -> Int? {
        switch name.uppercased() {
        case "UTC", "Z", "WET": return 0
        case "CET", "MET", "WEST": return 3600
        case "CEST", "MEST", "EET": return 2 * 3600
        case "EEST", "MSK": return 3 * 3600
        case "JST", "KST": return 9 * 3600
        case "AEST": return 10 * 3600
        case "AEDT": return 11 * 3600
        case "NZST": return 12 * 3600
        case "NZDT": return 13 * 3600
        case "HST": return -10 * 3600
        case "AKST": return -9 * 3600
        case "AKDT": return -8 * 3600
        default: return nil
        }
    }
}

// MARK: - Tokens

struct DateFailure: Error {
    var reason: MessageDateError.Reason
    var byteOffset: Int
}

struct DateToken {
    enum Kind: Equatable { case number, word, punctuation(UInt8), other }
    var kind: Kind
    var start: Int
    var end: Int
    /// Whether white space or a comment came before it.
    var spaceBefore: Bool
    var text: String
    /// For numbers: the value (capped, so a long digit run cannot overflow). `length` is in
    /// octets: the digit count of a number, the letter count of a word.
    var value: Int
    var length: Int

    func isPunctuation(_ c: UInt8) -> Bool { kind == .punctuation(c) }
}

enum DateTokenizer {
    /// A valid date-time has fewer than 20 tokens; what lies beyond this many is trailing
    /// text in any case, so a huge value costs no more than skipping its comments.
    static let maxTokens = 40

    /// Numbers, ASCII words, single punctuation, with CFWS (RFC 5322 §3.2.2) between them.
    /// Strict mode refuses an unterminated comment; lenient mode ignores the rest.
    static func tokenize(_ bytes: [UInt8], lenient: Bool) throws(DateFailure) -> [DateToken] {
        var tokens: [DateToken] = []
        var i = 0
        var spaced = false
        while i < bytes.count && tokens.count < maxTokens {
            let b = bytes[i]
            let start = i
            if FieldSyntax.isWhitespace(b) {
                spaced = true
                i += 1
                continue
            }
            if b == FieldSyntax.openParen {
                var depth = 0
                while i < bytes.count {
                    if bytes[i] == FieldSyntax.backslash {
                        i += 2
                        continue
                    }
                    if bytes[i] == FieldSyntax.openParen { depth += 1 }
                    if bytes[i] == FieldSyntax.closeParen {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    i += 1
                }
                if i >= bytes.count {
                    if lenient { break }
                    throw DateFailure(reason: .unterminatedComment, byteOffset: start)
                }
                i += 1
                spaced = true
                continue
            }
            let kind: DateToken.Kind
            var value = 0
            if isDigit(b) {
                while i < bytes.count && isDigit(bytes[i]) {
                    value = min(value * 10 + Int(bytes[i] - 0x30), 1_000_000_000)
                    i += 1
                }
                kind = .number
            } else if isLetter(b) {
                while i < bytes.count && isLetter(bytes[i]) { i += 1 }
                kind = .word
            } else if b < 0x80 && b > FieldSyntax.space {
                i += 1
                kind = .punctuation(b)
            } else {
                // A control or a non-ASCII character: one token up to the next ASCII octet.
                i += 1
                while i < bytes.count && bytes[i] >= 0x80 && bytes[i] < 0xC0 { i += 1 }
                kind = .other
            }
            tokens.append(DateToken(kind: kind, start: start, end: i, spaceBefore: spaced,
                                    text: String(decoding: bytes[start..<i], as: UTF8.self),
                                    value: value, length: i - start))
            spaced = false
        }
        return tokens
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isLetter(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) }
}

/// The fields of a date-time, validated into an instant.
struct DateFields {
    var year: Int
    var month: Int
    var day: Int
    var hour = 0
    var minute = 0
    var second = 0
    var zone = 0

    var days: Int { Calendrical.daysFromCivil(year: year, month: month, day: day) }

    var result: (date: Date, zoneOffsetSeconds: Int) {
        // A leap second (RFC 5322 §3.3 allows 60) stays in its minute.
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - zone
        return (Date(timeIntervalSince1970: TimeInterval(seconds)), zone)
    }
}

// MARK: - Strict

/// RFC 5322 §3.3 date-time over tokens; CFWS is already gone, so the §4.3 obsolete forms
/// (CFWS between all elements) come for free.
struct StrictDateParser {
    let tokens: [DateToken]
    let end: Int
    var index = 0

    init(tokens: [DateToken], end: Int) {
        self.tokens = tokens
        self.end = end
    }

    private var current: DateToken? { index < tokens.count ? tokens[index] : nil }
    private var offset: Int { current?.start ?? end }

    private func fail(_ reason: MessageDateError.Reason, at offset: Int? = nil) -> DateFailure {
        DateFailure(reason: reason, byteOffset: offset ?? self.offset)
    }

    /// A number of `digits` digits at most `max`, or the error.
    private mutating func number(digits: ClosedRange<Int>, max: Int, _ reason: MessageDateError.Reason) throws(DateFailure) -> Int {
        guard let t = current, t.kind == .number, digits.contains(t.length), t.value <= max else { throw fail(reason) }
        index += 1
        return t.value
    }

    private mutating func colon(_ reason: MessageDateError.Reason) throws(DateFailure) {
        guard let t = current, t.isPunctuation(FieldSyntax.colon) else { throw fail(reason) }
        index += 1
    }

    mutating func parse() throws(DateFailure) -> DateFields {
        guard !tokens.isEmpty else { throw fail(.empty, at: 0) }

        // [ day-of-week "," ]
        var dayOfWeek: (value: Int, offset: Int)?
        if let t = current, t.kind == .word {
            guard let w = Calendrical.dayNames.firstIndex(where: { $0.lowercased() == t.text.lowercased() }) else {
                throw fail(.invalidDayOfWeek)
            }
            dayOfWeek = (w, t.start)
            index += 1
            guard let c = current, c.isPunctuation(FieldSyntax.comma) else { throw fail(.expectedComma) }
            index += 1
        }

        // date = day month year
        let dayOffset = offset
        let day = try number(digits: 1...2, max: 31, .invalidDay)
        guard let m = current, m.kind == .word, m.length == 3, let month = Calendrical.month(named: m.text) else {
            throw fail(.invalidMonth)
        }
        index += 1
        guard let y = current, y.kind == .number, y.length >= 2 else { throw fail(.invalidYear) }
        let year = Calendrical.expandYear(y.value, digits: y.length)
        if y.length >= 4 && !(1900...9999).contains(year) { throw fail(.invalidYear) }
        index += 1
        guard day >= 1, day <= Calendrical.daysInMonth(month, year: year) else { throw fail(.invalidDay, at: dayOffset) }

        // time-of-day = hour ":" minute [ ":" second ]
        var fields = DateFields(year: year, month: month, day: day)
        fields.hour = try number(digits: 2...2, max: 23, .invalidHour)
        try colon(.invalidTime)
        fields.minute = try number(digits: 2...2, max: 59, .invalidMinute)
        if let t = current, t.isPunctuation(FieldSyntax.colon) {
            index += 1
            fields.second = try number(digits: 2...2, max: 60, .invalidSecond)
        }

        // zone = (FWS ( "+" / "-" ) 4DIGIT) / obs-zone
        guard let z = current else { throw fail(.missingZone) }
        if z.isPunctuation(0x2B) || z.isPunctuation(0x2D) {
            guard z.spaceBefore, index + 1 < tokens.count else { throw fail(.invalidZone) }
            let n = tokens[index + 1]
            guard n.kind == .number, !n.spaceBefore, n.length == 4, n.value % 100 <= 59 else { throw fail(.invalidZone) }
            let seconds = (n.value / 100) * 3600 + (n.value % 100) * 60
            fields.zone = z.isPunctuation(0x2D) ? -seconds : seconds
            index += 2
        } else if z.kind == .word, let zone = Calendrical.obsoleteZone(z.text) {
            fields.zone = zone
            index += 1
        } else {
            throw fail(.invalidZone)
        }

        // [CFWS] and nothing else
        if current != nil { throw fail(.trailingCharacters) }
        if let dow = dayOfWeek, dow.value != Calendrical.weekday(fields.days) {
            throw fail(.dayOfWeekMismatch, at: dow.offset)
        }
        return fields
    }
}

// MARK: - Lenient

/// Finds day, month, year, time and zone in the shapes real mail uses, in order, and ignores
/// what follows a complete date.
struct LenientDateParser {
    let tokens: [DateToken]
    var index = 0

    init(tokens: [DateToken]) {
        self.tokens = tokens
    }

    private var current: DateToken? { index < tokens.count ? tokens[index] : nil }

    private func token(_ offset: Int) -> DateToken? {
        let i = index + offset
        return i >= 0 && i < tokens.count ? tokens[i] : nil
    }

    private mutating func skipPunctuation(_ set: [UInt8]) {
        while let t = current, case .punctuation(let c) = t.kind, set.contains(c) { index += 1 }
    }

    mutating func parse() -> DateFields? {
        if let t = current, t.kind == .number, t.length == 4, token(1)?.isPunctuation(0x2D) == true {
            return parseISO()
        }
        // Day names ("Mon", "Monday", "Mon.") and their commas are optional and unchecked.
        while let t = current, t.kind == .word, isDayName(t.text) {
            index += 1
            skipPunctuation([FieldSyntax.comma, FieldSyntax.dot])
        }

        var day: Int?, month: Int?, year: Int?
        if let t = current, t.kind == .number {
            // "1 Jan 2024", "1-Jan-2024", "1. Jan 2024"
            day = t.value
            guard t.length <= 2 else { return nil }
            index += 1
            skipPunctuation([0x2D, FieldSyntax.dot, 0x2F])
            guard let m = current, m.kind == .word, let value = monthValue(m.text) else { return nil }
            month = value
            index += 1
            skipPunctuation([0x2D, FieldSyntax.dot, 0x2F, FieldSyntax.comma])
        } else if let m = current, m.kind == .word, let value = monthValue(m.text) {
            // "Jan 1 2024", "Jan 1, 2024", asctime "Jan  1 10:00:00 2024"
            month = value
            index += 1
            skipPunctuation([0x2D, FieldSyntax.dot])
            guard let d = current, d.kind == .number, d.length <= 2 else { return nil }
            day = d.value
            index += 1
            skipPunctuation([FieldSyntax.comma, FieldSyntax.dot])
        } else {
            return nil
        }
        if let t = current, t.kind == .number, token(1)?.isPunctuation(FieldSyntax.colon) != true {
            year = readYear()
        }

        var fields = DateFields(year: 0, month: 0, day: 0)
        var zone: Int?
        if let t = current, t.kind == .number, token(1)?.isPunctuation(FieldSyntax.colon) == true {
            guard readTime(into: &fields) else { return nil }
            zone = readZone()
        }
        if year == nil, let t = current, t.kind == .number {
            year = readYear()  // asctime: the year after the time (and maybe a zone)
            if zone == nil { zone = readZone() }
        }
        guard let day, let month, let year, (1...9999).contains(year),
              day >= 1, day <= Calendrical.daysInMonth(month, year: year) else { return nil }
        fields.year = year
        fields.month = month
        fields.day = day
        fields.zone = zone ?? 0
        return fields
    }

    /// ISO 8601 / RFC 3339: "2024-01-01", then "T" or white space and a time, then a zone.
    private mutating func parseISO() -> DateFields? {
        guard let y = current, let m = token(2), m.kind == .number, let d = token(4), d.kind == .number,
              token(3)?.isPunctuation(0x2D) == true, (1...12).contains(m.value),
              (1...Calendrical.daysInMonth(m.value, year: y.value)).contains(d.value), y.value >= 1 else { return nil }
        var fields = DateFields(year: y.value, month: m.value, day: d.value)
        index += 5
        if let t = current, t.kind == .word, t.text.uppercased() == "T" { index += 1 }
        if let t = current, t.kind == .number, token(1)?.isPunctuation(FieldSyntax.colon) == true {
            guard readTime(into: &fields) else { return nil }
            fields.zone = readZone() ?? 0
        }
        return fields
    }

    private func isDayName(_ word: String) -> Bool {
        let lower = word.lowercased()
        let full = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
        return full.contains(lower) || Calendrical.dayNames.contains { $0.lowercased() == lower }
            || ["tues", "thur", "thurs"].contains(lower)
    }

    /// "Jan", "jan", "January", "Sept".
    private func monthValue(_ word: String) -> Int? {
        guard word.count >= 3 else { return nil }
        let prefix = String(word.prefix(3))
        guard let month = Calendrical.month(named: prefix) else { return nil }
        let full = ["january", "february", "march", "april", "may", "june", "july", "august",
                    "september", "october", "november", "december"]
        let lower = word.lowercased()
        return lower.count == 3 || full[month - 1] == lower || lower == "sept" ? month : nil
    }

    private mutating func readYear() -> Int? {
        guard let t = current, t.kind == .number, t.length <= 4 else { return nil }
        index += 1
        skipPunctuation([FieldSyntax.comma])
        return Calendrical.expandYear(t.value, digits: t.length)
    }

    /// h[h]:m[m][:s[s]][.fraction] [AM/PM]
    private mutating func readTime(into fields: inout DateFields) -> Bool {
        guard let h = current, h.kind == .number, h.length <= 2,
              let m = token(2), m.kind == .number, m.length <= 2 else { return false }
        var hour = h.value
        let minute = m.value
        var second = 0
        index += 3
        if let c = current, c.isPunctuation(FieldSyntax.colon), let s = token(1), s.kind == .number, s.length <= 2 {
            second = s.value
            index += 2
            if let dot = current, dot.isPunctuation(FieldSyntax.dot) || dot.isPunctuation(FieldSyntax.comma),
               let fraction = token(1), fraction.kind == .number, !fraction.spaceBefore {
                index += 2
            }
        }
        if let t = current, t.kind == .word {
            switch t.text.uppercased() {
            case "AM":
                guard (1...12).contains(hour) else { return false }
                hour %= 12
                index += 1
            case "PM":
                guard (1...12).contains(hour) else { return false }
                hour = hour % 12 + 12
                index += 1
            default: break
            }
        }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        fields.hour = hour
        fields.minute = minute
        fields.second = second
        return true
    }

    /// A numeric zone ("+0100", "+01:00", "+01", "+1"), a zone name, or a name followed by a
    /// numeric zone ("GMT+0100"). nil when there is none; an unknown name or an impossible
    /// offset counts as "-0000", as RFC 5322 §4.3 says for unknown zones.
    private mutating func readZone() -> Int? {
        guard let t = current else { return nil }
        if t.kind == .word {
            let known = Calendrical.obsoleteZone(t.text) ?? Calendrical.extraZone(t.text)
            index += 1
            if let sign = current, sign.isPunctuation(0x2B) || sign.isPunctuation(0x2D), !sign.spaceBefore,
               let numeric = readNumericZone() {
                return numeric
            }
            return known ?? 0
        }
        if t.isPunctuation(0x2B) || t.isPunctuation(0x2D) {
            return readNumericZone() ?? 0
        }
        return nil
    }

    private mutating func readNumericZone() -> Int? {
        guard let sign = current, let n = token(1), n.kind == .number, n.length <= 4 else { return nil }
        index += 2
        var hours: Int, minutes: Int
        if n.length <= 2 {
            hours = n.value
            minutes = 0
            if let c = current, c.isPunctuation(FieldSyntax.colon), let m = token(1), m.kind == .number, m.length == 2 {
                minutes = m.value
                index += 2
            }
        } else {
            hours = n.value / 100
            minutes = n.value % 100
        }
        guard hours <= 23, minutes <= 59 else { return nil }
        let seconds = hours * 3600 + minutes * 60
        return sign.isPunctuation(0x2D) ? -seconds : seconds
    }
}
