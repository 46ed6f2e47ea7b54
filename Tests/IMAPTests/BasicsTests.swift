import Foundation
import XCTest

@testable import IMAP

final class ModifiedUTF7Tests: XCTestCase {
    func testRFC3501Example() {
        // RFC 3501 §5.1.3: English, Chinese and Japanese.
        XCTAssertEqual(ModifiedUTF7.decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"), "~peter/mail/台北/日本語")
        XCTAssertEqual(ModifiedUTF7.encode("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-")
        // The correct form of the example with a superfluous shift.
        XCTAssertEqual(ModifiedUTF7.decode("&U,BTF2XlZyyKng-"), "台北日本語")
        XCTAssertEqual(ModifiedUTF7.encode("台北日本語"), "&U,BTF2XlZyyKng-")
        XCTAssertEqual(ModifiedUTF7.decode("&Jjo-!"), "☺!")
    }

    func testRoundTrips() {
        for name in ["", "INBOX", "A&B", "&", "&&-", "Entwürfe", "Gesendete Objekte", "📬 mail", "a\u{1}b", "~/x\\y",
                     "Boîte d'envoi", "Отправленные", "日本語/サブ", "é&é", "\u{7F}", "a-b&-c"] {
            let encoded = ModifiedUTF7.encode(name)
            XCTAssertTrue(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }, encoded)
            XCTAssertEqual(ModifiedUTF7.decode(encoded), name, encoded)
        }
        XCTAssertEqual(ModifiedUTF7.encode("A&B"), "A&-B")
        XCTAssertEqual(ModifiedUTF7.encode("Entwürfe"), "Entw&APw-rfe")
        XCTAssertEqual(ModifiedUTF7.encode("📬"), "&2D3c7A-")
    }

    func testInvalidForms() {
        for invalid in [
            "&Jjo!",               // no shift back before "!"
            "&U,BTFw-&ZeVnLIqe-",  // superfluous shift
            "&Jjo",                // ends in BASE64
            "&",                   // lone shift
            "&AGE-",               // BASE64 for "a", which represents itself
            "&ACY-",               // BASE64 for "&"
            "&Jj/-",               // "/" is not modified BASE64
            "&Jjp-",               // non-zero leftover bits
            "&Jjo=-",              // padding
            "&2D0-",               // lone high surrogate
            "a\tb",                // not printable ASCII
            "é",                   // 8-bit
        ] {
            XCTAssertNil(ModifiedUTF7.decode(invalid), invalid)
        }
        XCTAssertNil(MailboxName(modifiedUTF7: "&Jjo!"))
        XCTAssertEqual(MailboxName(modifiedUTF7: "inbox"), .inbox)
    }
}

final class BasicTypeTests: XCTestCase {
    func testMailboxName() {
        XCTAssertEqual(MailboxName("iNbOx"), .inbox)
        XCTAssertTrue(MailboxName("Inbox").isInbox)
        XCTAssertEqual(MailboxName("inbox/sub").name, "inbox/sub")
        XCTAssertEqual(MailboxName("Entwürfe").modifiedUTF7, "Entw&APw-rfe")
        XCTAssertEqual(MailboxName("a/b/c").components(separatedBy: "/"), ["a", "b", "c"])
    }

    func testFlags() {
        XCTAssertEqual(Flag("\\SEEN"), .seen)
        XCTAssertEqual(Flag("\\seen")?.rawValue, "\\Seen")
        XCTAssertEqual(Flag("$junk"), .junk)
        XCTAssertEqual(Flag("$junk")?.rawValue, "$junk")
        XCTAssertEqual(Set([flag("$Junk"), flag("$JUNK")]).count, 1)
        XCTAssertEqual(Flag("\\Foo")?.isSystemOrExtension, true)
        XCTAssertEqual(Flag("foo")?.isKeyword, true)
        for invalid in ["", "\\", "a b", "a(", "\\*", "a]", "é", "a%"] {
            XCTAssertNil(Flag(invalid), invalid)
        }
        XCTAssertNil(Flag.keyword("\\Seen"))
        XCTAssertEqual(MailboxAttribute("\\noselect"), .noSelect)
        XCTAssertEqual(MailboxAttribute("\\noselect")?.rawValue, "\\Noselect")
        XCTAssertNil(MailboxAttribute("Sent"))
        XCTAssertEqual(Capability("imap4REV2"), .imap4rev2)
        XCTAssertNil(Capability("A B"))
        XCTAssertEqual(Capability.auth("PLAIN")?.rawValue, "AUTH=PLAIN")
        XCTAssertEqual(Capability.appendLimit(1000).rawValue, "APPENDLIMIT=1000")
        XCTAssertNil(Tag("a+b"))
        XCTAssertNil(Tag(""))
        XCTAssertNil(Tag("a b"))
        XCTAssertEqual(Tag("a]b")?.rawValue, "a]b")
    }

    func testSequenceSets() {
        let parsed = set("2,4:7,9,12:*")
        XCTAssertEqual(parsed.description, "2,4:7,9,12:*")
        // RFC 9051 §9 `sequence-set` examples.
        XCTAssertEqual(Array(parsed.resolved(largest: 15)), [2, 4, 5, 6, 7, 9, 12, 13, 14, 15])
        XCTAssertEqual(Array(set("*:4,5:7").resolved(largest: 10)), [4, 5, 6, 7, 8, 9, 10])
        XCTAssertEqual(set("*:4,5:7").resolved(largest: 10).description, "4:10")
        // UID ranges: 3291:* includes the last UID even when it is smaller.
        XCTAssertEqual(Array(set("3291:*").resolved(largest: 3000)), Array(3000...3291))
        XCTAssertEqual(SequenceSet.lastResult.resolved(largest: 10, savedResult: [3, 5]), [3, 5])
        XCTAssertEqual(set("*").resolved(largest: 0), NumberSet())
        XCTAssertEqual(set("1:*").resolved(largest: 0), [1])
        XCTAssertEqual(set("1:4294967295").resolved(largest: 7).count, 4_294_967_295)
        XCTAssertEqual(parsed.largestExplicitNumber, 12)
        XCTAssertTrue(parsed.usesStarOrSaved)
        XCTAssertFalse(set("1:5").usesStarOrSaved)
        XCTAssertEqual(SequenceSet(ordered: [5, 3, 2, 1]).description, "5,3,2,1")
        XCTAssertEqual(SequenceSet(ordered: [1, 2, 3, 5, 10, 11, 4]).description, "1:3,5,10:11,4")
        XCTAssertEqual(SequenceSet(NumberSet([1, 2, 3, 7])).description, "1:3,7")
    }

    func testNumberSet() {
        var numbers = NumberSet()
        numbers.insert(5)
        numbers.insert(3)
        numbers.insert(4)
        numbers.insert(10...12)
        numbers.insert(0)
        XCTAssertEqual(numbers.ranges, [3...5, 10...12])
        numbers.insert(6...9)
        XCTAssertEqual(numbers.ranges, [3...12])
        numbers.remove(7)
        XCTAssertEqual(numbers.description, "3:6,8:12")
        XCTAssertTrue(numbers.contains(12))
        XCTAssertFalse(numbers.contains(7))
        XCTAssertFalse(numbers.contains(13))
        XCTAssertEqual(numbers.count, 9)
        XCTAssertEqual(numbers.min, 3)
        XCTAssertEqual(numbers.max, 12)
        var edge = NumberSet()
        edge.insert(UInt32.max)
        edge.insert(1...UInt32.max - 1)
        XCTAssertEqual(edge.ranges, [1...UInt32.max])
        XCTAssertEqual(NumberSet([2, 10, 11, 21, 12, 13, 14, 15]).description, "2,10:15,21")
    }

    func testDates() {
        XCTAssertNil(IMAPDate(year: 2021, month: 2, day: 29))
        XCTAssertNotNil(IMAPDate(year: 2000, month: 2, day: 29))
        XCTAssertNil(IMAPDate(year: 1900, month: 2, day: 29))
        XCTAssertEqual(date(1994, 2, 1).description, "1-Feb-1994")
        XCTAssertEqual(date(1970, 1, 1).daysSinceEpoch, 0)
        XCTAssertEqual(date(2000, 3, 1).daysSinceEpoch, 11017)
        let internalDate = dateTime(1996, 7, 17, 2, 44, 25, zone: -420)
        XCTAssertEqual(internalDate.description, "17-Jul-1996 02:44:25 -0700")
        XCTAssertEqual(internalDate.instant, Date(timeIntervalSince1970: 837_596_665))
        XCTAssertEqual(IMAPDateTime(Date(timeIntervalSince1970: 837_596_665), zoneMinutes: -420), internalDate)
        XCTAssertEqual(IMAPDateTime(Date(timeIntervalSince1970: -1)).description, "31-Dec-1969 23:59:59 +0000")
        XCTAssertEqual(dateTime(2020, 1, 2, 3, 4, 5, zone: 330).description, "02-Jan-2020 03:04:05 +0530")
    }
}
