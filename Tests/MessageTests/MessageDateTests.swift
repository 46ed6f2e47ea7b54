import Foundation
import Testing
@testable import Message

/// An instant from UTC fields, computed with Foundation's calendar (independent of the
/// arithmetic under test).
private func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
    var components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
    components.timeZone = TimeZone(secondsFromGMT: 0)
    return Calendar(identifier: .gregorian).date(from: components) ?? .distantPast
}

private func strictError(_ value: String) -> MessageDateError? {
    do throws(MessageDateError) {
        _ = try MessageDate.parse(value)
        return nil
    } catch {
        return error
    }
}

private struct Parsed: Equatable, CustomStringConvertible {
    var date: Date
    var offset: Int
    init(_ date: Date, _ offset: Int) {
        self.date = date
        self.offset = offset
    }
    var description: String { "\(date) \(offset)" }
}

private func strict(_ value: String) -> Parsed? {
    guard let result = try? MessageDate.parse(value) else { return nil }
    return Parsed(result.date, result.zoneOffsetSeconds)
}

private func lenient(_ value: String) -> Parsed? {
    MessageDate.parseLenient(value).map { Parsed($0.date, $0.zoneOffsetSeconds) }
}

@Suite struct MessageDateStrictTests {
    // RFC 5322 Appendix A.1.1, A.1.2, A.1.3, A.3
    @Test func appendixDates() {
        #expect(strict("Fri, 21 Nov 1997 09:55:06 -0600") == Parsed(utc(1997, 11, 21, 15, 55, 6), -21_600))
        #expect(strict("Tue, 1 Jul 2003 10:52:37 +0200") == Parsed(utc(2003, 7, 1, 8, 52, 37), 7200))
        #expect(strict("Thu, 13 Feb 1969 23:32:54 -0330") == Parsed(utc(1969, 2, 14, 3, 2, 54), -12_600))
        #expect(strict("Mon, 24 Nov 1997 14:22:01 -0800") == Parsed(utc(1997, 11, 24, 22, 22, 1), -28_800))
    }

    // RFC 5322 Appendix A.5 (unfolded): white space everywhere, no seconds, a trailing comment.
    @Test func appendixA5() {
        let value = "Thu,      13        Feb          1969      23:32               -0330 (Newfoundland Time)"
        #expect(strict(value) == Parsed(utc(1969, 2, 14, 3, 2, 0), -12_600))
    }

    // RFC 5322 Appendix A.6.2 and A.6.3
    @Test func appendixObsoleteDates() {
        #expect(strict("21 Nov 97 09:55:06 GMT") == Parsed(utc(1997, 11, 21, 9, 55, 6), 0))
        #expect(strict("Fri, 21 Nov 1997 09(comment):   55  :  06 -0600") == Parsed(utc(1997, 11, 21, 15, 55, 6), -21_600))
    }

    @Test(arguments: [
        ("UT", 0), ("GMT", 0), ("EST", -5), ("EDT", -4), ("CST", -6), ("CDT", -5),
        ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7), ("gmt", 0), ("Pdt", -7),
    ])
    func obsoleteZones(zone: String, hours: Int) {
        #expect(strict("1 Jan 2024 12:00:00 \(zone)") == Parsed(utc(2024, 1, 1, 12 - hours), hours * 3600))
    }

    // RFC 5322 §4.3: the military letters SHOULD be taken as -0000; "J" is not one.
    @Test func militaryZones() {
        let letters = "ABCDEFGHIKLMNOPQRSTUVWXYZ"
        for letter in letters + letters.lowercased() {
            #expect(strict("1 Jan 2024 12:00:00 \(letter)") == Parsed(utc(2024, 1, 1, 12), 0), "\(letter)")
        }
        #expect(strictError("1 Jan 2024 12:00:00 J") == MessageDateError(.invalidZone, offset: 20))
        #expect(strictError("1 Jan 2024 12:00:00 j") == MessageDateError(.invalidZone, offset: 20))
    }

    // RFC 5322 §4.3: 00–49 → 20xx, 50–99 → 19xx, three digits + 1900.
    @Test(arguments: [("00", 2000), ("49", 2049), ("50", 1950), ("99", 1999), ("124", 2024), ("999", 2899), ("1900", 1900)])
    func years(written: String, year: Int) {
        #expect(strict("1 Jan \(written) 00:00:00 +0000") == Parsed(utc(year, 1, 1), 0))
    }

    @Test func caseInsensitiveNamesAndOptionalParts() {
        #expect(strict("mon, 1 JAN 2024 10:00 +0000") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(strict("1 jan 2024 10:00:00 +0000") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(strict("  Mon ,1 Jan 2024 10:00:00 +0000  ") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(strict("Thu, 29 Feb 2024 00:00:00 +0000") == Parsed(utc(2024, 2, 29), 0))
        #expect(strict("Mon, 1 Jan 2024 10:00:00 -0000") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(strict("Mon, 1 Jan 2024 10:00:00 +1400") == Parsed(utc(2023, 12, 31, 20), 50_400))
        #expect(strict("Mon, 1 Jan 2024 10:00:00 +0000 (UTC)") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    // The grammar allows any hour in a numeric zone; only the minutes are bounded (§3.3).
    @Test func largeZoneHours() {
        #expect(strict("Mon, 1 Jan 2024 10:00:00 +9900") == Parsed(utc(2023, 12, 28, 7), 356_400))
    }

    @Test func leapSecondStaysInItsMinute() {
        #expect(strict("Sat, 31 Dec 2016 23:59:60 +0000") == Parsed(utc(2016, 12, 31, 23, 59, 59), 0))
    }

    @Test(arguments: [
        ("", MessageDateError.Reason.empty, 0),
        ("  (just a comment) ", .empty, 0),
        ("Fri, 21 Nov 1997 09:55:06 -0600 (unterminated", .unterminatedComment, 32),
        ("Fry, 21 Nov 1997 09:55:06 -0600", .invalidDayOfWeek, 0),
        ("Friday, 21 Nov 1997 09:55:06 -0600", .invalidDayOfWeek, 0),
        ("Fri 21 Nov 1997 09:55:06 -0600", .expectedComma, 4),
        ("Fri, 32 Nov 1997 09:55:06 -0600", .invalidDay, 5),
        ("Fri, 31 Nov 1997 09:55:06 -0600", .invalidDay, 5),
        ("Sat, 29 Feb 2025 00:00:00 +0000", .invalidDay, 5),
        ("Sat, 0 Feb 2025 00:00:00 +0000", .invalidDay, 5),
        ("123 Nov 1997 09:55:06 -0600", .invalidDay, 0),
        ("Fri, 21 Nox 1997 09:55:06 -0600", .invalidMonth, 8),
        ("21 November 1997 09:55:06 -0600", .invalidMonth, 3),
        ("21 11 1997 09:55:06 -0600", .invalidMonth, 3),
        ("21 Nov 1899 09:55:06 -0600", .invalidYear, 7),
        ("21 Nov 7 09:55:06 -0600", .invalidYear, 7),
        ("21 Nov 10000 09:55:06 -0600", .invalidYear, 7),
        ("21 Nov 99999999999999999999 09:55:06 -0600", .invalidYear, 7),
        ("21 Nov 1997 24:00:00 +0000", .invalidHour, 12),
        ("21 Nov 1997 9:55:06 +0000", .invalidHour, 12),
        ("Fri, 21 Nov 1997", .invalidHour, 16),
        ("21 Nov 1997 09.55 +0000", .invalidTime, 14),
        ("21 Nov 1997 09:60 +0000", .invalidMinute, 15),
        ("21 Nov 1997 09:5 +0000", .invalidMinute, 15),
        ("21 Nov 1997 09:55:61 +0000", .invalidSecond, 18),
        ("21 Nov 1997 09:55:06", .missingZone, 20),
        ("21 Nov 1997 09:55:06 +060", .invalidZone, 21),
        ("21 Nov 1997 09:55:06 +0660", .invalidZone, 21),
        ("21 Nov 1997 09:55:06 + 0600", .invalidZone, 21),
        ("21 Nov 1997 09:55:06 UTC", .invalidZone, 21),
        ("21 Nov 1997 09:55:06+0000", .invalidZone, 20),
        ("Thu, 21 Nov 1997 09:55:06 -0600", .dayOfWeekMismatch, 0),
        ("21 Nov 1997 09:55:06 -0600 junk", .trailingCharacters, 27),
        ("Fri, 21 Nov 1997 09:55:06 -0600 -0600", .trailingCharacters, 32),
        ("(é) 21 Nov 1997 09:55:06 -0600 x", .trailingCharacters, 31),  // Characters, not octets
    ])
    func errors(value: String, reason: MessageDateError.Reason, offset: Int) {
        #expect(strictError(value) == MessageDateError(reason, offset: offset), "\(value)")
    }

    @Test func errorDescription() {
        #expect(strictError("21 Nov 1997 09:55:06 UTC")?.description == "invalid time zone at offset 21")
    }
}

@Suite struct MessageDateLenientTests {
    @Test func strictFormsAreAccepted() {
        #expect(lenient("Fri, 21 Nov 1997 09:55:06 -0600") == Parsed(utc(1997, 11, 21, 15, 55, 6), -21_600))
        #expect(lenient("21 Nov 97 09:55:06 GMT") == Parsed(utc(1997, 11, 21, 9, 55, 6), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0000 (UTC)") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    @Test func missingOrUnknownZoneIsUTC() {
        #expect(lenient("Mon, 1 Jan 2024 10:00:00") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 XYZ") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0099") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    @Test func otherZones() {
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 UTC") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 CET") == Parsed(utc(2024, 1, 1, 9), 3600))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 GMT+0100") == Parsed(utc(2024, 1, 1, 9), 3600))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +01:00") == Parsed(utc(2024, 1, 1, 9), 3600))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0530 (IST)") == Parsed(utc(2024, 1, 1, 4, 30), 19_800))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 -3") == Parsed(utc(2024, 1, 1, 13), -10_800))
    }

    @Test func singleDigitsAndExtraSpaces() {
        #expect(lenient("Mon, 1 Jan 2024 9:05:03 +0100") == Parsed(utc(2024, 1, 1, 8, 5, 3), 3600))
        #expect(lenient("Mon,1 Jan 2024 10:5 +0000") == Parsed(utc(2024, 1, 1, 10, 5), 0))
        #expect(lenient("   Mon,    1    Jan    2024    10:00:00    +0000   ") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    @Test func iso8601() {
        #expect(lenient("2024-01-01T10:00:00Z") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("2024-01-01T10:00:00+02:00") == Parsed(utc(2024, 1, 1, 8), 7200))
        #expect(lenient("2024-01-01T10:00:00.123-0500") == Parsed(utc(2024, 1, 1, 15), -18_000))
        #expect(lenient("2024-01-01 10:00:00") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("2024-01-01") == Parsed(utc(2024, 1, 1), 0))
    }

    @Test func trailingJunkAfterAValidDate() {
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0000 blah blah") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0000 (unterminated") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024 10:00:00 +0000 +0000 ÿ") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    @Test func dayOfWeekMismatchIsIgnored() {
        #expect(lenient("Tue, 1 Jan 2024 10:00:00 +0000") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Monday, 1 January 2024 10:00:00 +0000") == Parsed(utc(2024, 1, 1, 10), 0))
    }

    @Test func otherOrders() {
        #expect(lenient("Mon Jan  1 10:00:00 2024") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Thu Nov 24 18:22:48 PST 1986") == Parsed(utc(1986, 11, 25, 2, 22, 48), -28_800))
        #expect(lenient("Jan 1, 2024 10:00 PM") == Parsed(utc(2024, 1, 1, 22), 0))
        #expect(lenient("Jan 1, 2024 12:30 AM") == Parsed(utc(2024, 1, 1, 0, 30), 0))
        #expect(lenient("1-Jan-2024 10:00:00 +0000") == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(lenient("Mon, 1 Jan 2024") == Parsed(utc(2024, 1, 1), 0))
        #expect(lenient("1 Jan 1800 00:00:00 +0000") == Parsed(utc(1800, 1, 1), 0))
    }

    @Test(arguments: ["", "garbage", "32 Jan 2024 10:00 +0000", "Feb 30 2024", "10:00:00", "Jan 2024",
                      "2024-13-01", "1 Jan 2024 25:00", "Mon, 1 Foo 2024 10:00:00 +0000", "(1 Jan 2024 10:00 +0000)"])
    func hopeless(value: String) {
        #expect(lenient(value) == nil)
    }

    @Test func hugeInputsAreCheap() {
        let junk = String(repeating: "(", count: 500_000)
        #expect(lenient(junk) == nil)
        #expect(strictError(junk)?.reason == .unterminatedComment)
        let long = "Mon, 1 Jan 2024 10:00:00 +0000 " + String(repeating: "x ", count: 500_000)
        #expect(lenient(long) == Parsed(utc(2024, 1, 1, 10), 0))
        #expect(strictError(long)?.reason == .trailingCharacters)
    }
}

@Suite struct MessageDateFormatTests {
    @Test func rfc5322Form() {
        #expect(MessageDate.format(utc(2026, 11, 21, 22, 45, 15)) == "Sat, 21 Nov 2026 22:45:15 +0000")
        #expect(MessageDate.format(utc(1997, 11, 21, 15, 55, 6), zoneOffsetSeconds: -21_600) == "Fri, 21 Nov 1997 09:55:06 -0600")
        #expect(MessageDate.format(utc(1969, 2, 14, 3, 2, 54), zoneOffsetSeconds: -12_600) == "Thu, 13 Feb 1969 23:32:54 -0330")
        #expect(MessageDate.format(utc(2024, 1, 1)) == "Mon, 1 Jan 2024 00:00:00 +0000")
        #expect(MessageDate.format(utc(2024, 2, 29, 23, 30), zoneOffsetSeconds: 3600) == "Fri, 1 Mar 2024 00:30:00 +0100")
    }

    @Test func fractionsAndOddOffsets() {
        #expect(MessageDate.format(Date(timeIntervalSince1970: 0.999)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MessageDate.format(Date(timeIntervalSince1970: -0.5)) == "Wed, 31 Dec 1969 23:59:59 +0000")
        #expect(MessageDate.format(utc(2024, 1, 1), zoneOffsetSeconds: 3601) == "Mon, 1 Jan 2024 01:00:00 +0100")
        #expect(MessageDate.format(utc(2024, 1, 1), zoneOffsetSeconds: -3659) == "Sun, 31 Dec 2023 23:00:00 -0100")
        #expect(MessageDate.format(utc(2024, 1, 1), zoneOffsetSeconds: 10_000_000).hasSuffix("+9959"))
        #expect(MessageDate.format(utc(2024, 1, 1), zoneOffsetSeconds: Int.min).hasSuffix("-9959"))
    }

    @Test func outOfRangeInstantsAreClamped() {
        #expect(MessageDate.format(Date(timeIntervalSince1970: .nan)) == "Thu, 1 Jan 1970 00:00:00 +0000")
        #expect(MessageDate.format(Date(timeIntervalSince1970: .infinity)) == "Fri, 31 Dec 9999 23:59:59 +0000")
        #expect(MessageDate.format(Date(timeIntervalSince1970: -.infinity)) == "Mon, 1 Jan 0001 00:00:00 +0000")
        #expect(MessageDate.format(.distantFuture) == "Mon, 1 Jan 4001 00:00:00 +0000")
        #expect(MessageDate.format(Date(timeIntervalSince1970: 1e300), zoneOffsetSeconds: 3600) == "Fri, 31 Dec 9999 23:59:59 +0100")
    }

    @Test func roundTrip() {
        let offsets = [0, 3600, -18_000, 19_800, -12_600, 50_400, -43_200, 20_700]
        var seconds = -2_177_452_800  // 1901-01-01
        var i = 0
        while seconds < 4_102_358_400 {  // 2099-12-31
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let offset = offsets[i % offsets.count]
            let text = MessageDate.format(date, zoneOffsetSeconds: offset)
            #expect(strict(text) == Parsed(date, offset), "\(text)")
            seconds += 7_777_777
            i += 1
        }
    }
}
