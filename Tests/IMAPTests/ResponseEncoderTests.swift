import XCTest

@testable import IMAP

/// Encoder output checked byte for byte, against the RFCs' examples where they exist (long
/// example lines joined as the grammar requires).
final class ResponseEncoderTests: XCTestCase {
    func testStatusResponses() {
        // RFC 9051 §8.
        XCTAssertEqual(encoded(.untagged(.condition(.ok("IMAP4rev2 Service Ready", code: .capability([.startTLS, Capability("AUTH=SCRAM-SHA-256")!, .loginDisabled, .imap4rev2]))))),
                       "* OK [CAPABILITY STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED IMAP4rev2] IMAP4rev2 Service Ready\r\n")
        XCTAssertEqual(encoded(.tagged(tag("a000"), .ok("Proceed with TLS negotiation"))), "a000 OK Proceed with TLS negotiation\r\n")
        XCTAssertEqual(encoded(.tagged(tag("a002"), .ok("SELECT completed", code: .readWrite))), "a002 OK [READ-WRITE] SELECT completed\r\n")
        XCTAssertEqual(encoded(.untagged(.condition(.ok("UIDs valid", code: .uidValidity(3_857_529_045))))), "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n")
        XCTAssertEqual(encoded(.untagged(.bye(ResponseText(text: "IMAP4rev2 server terminating connection")))), "* BYE IMAP4rev2 server terminating connection\r\n")
        XCTAssertEqual(encoded(.untagged(.preauth(ResponseText(text: "IMAP4rev2 server logged in as Smith")))), "* PREAUTH IMAP4rev2 server logged in as Smith\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A044"), .bad("No such command as \"BLURDYBLOOP\""))), "A044 BAD No such command as \"BLURDYBLOOP\"\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("[x] text"))), "A1 NO  [x] text\r\n", "text may not pose as a response code")
        // Empty text: RFC 3501 requires text.
        XCTAssertEqual(encoded(.untagged(.condition(.ok("", code: .closed)))), "* OK [CLOSED] OK\r\n")
        // Line breaks cannot end the response early; 8-bit text only with UTF-8.
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("a\r\nA2 OK b"))), "A1 NO a  A2 OK b\r\n")
        // A text ending like a literal announcement would make a client wait for octets.
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("no mailbox x {11}"))), "A1 NO no mailbox x (11)\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("{5+}"))), "A1 NO (5+)\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("{5} and {x}"))), "A1 NO {5} and {x}\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("braces {}"))), "A1 NO braces {}\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("done", code: .other("X", "{3}")))), "A1 NO [X {3}] done\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("Größe")), .imap4rev1), "A1 NO Gr??e\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A1"), .no("Größe")), .imap4rev2), "A1 NO Größe\r\n")
    }

    func testResponseCodes() {
        func code(_ code: ResponseCode) -> String { encoded(.tagged(tag("t"), .ok("x", code: code))) }
        XCTAssertEqual(code(.alert), "t OK [ALERT] x\r\n")
        XCTAssertEqual(code(.badCharset([])), "t OK [BADCHARSET] x\r\n")
        XCTAssertEqual(code(.badCharset(["UTF-8", "US-ASCII"])), "t OK [BADCHARSET (UTF-8 US-ASCII)] x\r\n")
        XCTAssertEqual(code(.parse), "t OK [PARSE] x\r\n")
        // RFC 9051 §6.3.13 example.
        XCTAssertEqual(encoded(.untagged(.condition(.ok("Limited", code: .permanentFlags([.deleted, .seen, .flagged], allowsNewKeywords: false))))),
                       "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\Flagged)] Limited\r\n")
        XCTAssertEqual(code(.permanentFlags([.answered, .flagged, .draft, .deleted, .seen], allowsNewKeywords: true)),
                       "t OK [PERMANENTFLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen \\*)] x\r\n")
        XCTAssertEqual(code(.permanentFlags([], allowsNewKeywords: true)), "t OK [PERMANENTFLAGS (\\*)] x\r\n")
        XCTAssertEqual(code(.readOnly), "t OK [READ-ONLY] x\r\n")
        XCTAssertEqual(code(.tryCreate), "t OK [TRYCREATE] x\r\n")
        XCTAssertEqual(code(.uidNext(4392)), "t OK [UIDNEXT 4392] x\r\n")
        XCTAssertEqual(code(.unseen(12)), "t OK [UNSEEN 12] x\r\n")
        // RFC 4315 §3 / RFC 9051 §6.3.12, §6.4.7 examples.
        XCTAssertEqual(encoded(.tagged(tag("A003"), .ok("APPEND completed", code: .appendUID(uidValidity: 38505, uids: [3955])))),
                       "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n")
        XCTAssertEqual(encoded(.tagged(tag("A004"), .ok("Done", code: .copyUID(uidValidity: 38505, source: [304, 319, 320], destination: [3956, 3957, 3958])))),
                       "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n")
        XCTAssertEqual(code(.appendUID(uidValidity: 1, uids: [])), "t OK x\r\n", "an empty set has no valid form")
        XCTAssertEqual(code(.uidNotSticky), "t OK [UIDNOTSTICKY] x\r\n")
        // RFC 7162 §3.1.2.1, §3.1.3, §3.1.2.2.
        XCTAssertEqual(encoded(.untagged(.condition(.ok("Highest", code: .highestModSeq(715_194_045_007))))), "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n")
        XCTAssertEqual(encoded(.tagged(tag("d105"), .ok("Conditional STORE failed", code: .modified([7, 9])))),
                       "d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n")
        XCTAssertEqual(code(.noModSeq), "t OK [NOMODSEQ] x\r\n")
        XCTAssertEqual(code(.closed), "t OK [CLOSED] x\r\n")
        let simple: [(ResponseCode, String)] = [
            (.tooBig, "TOOBIG"), (.overQuota, "OVERQUOTA"), (.limit, "LIMIT"), (.nonExistent, "NONEXISTENT"),
            (.alreadyExists, "ALREADYEXISTS"), (.cannot, "CANNOT"), (.inUse, "INUSE"), (.noPerm, "NOPERM"),
            (.serverBug, "SERVERBUG"), (.authenticationFailed, "AUTHENTICATIONFAILED"), (.authorizationFailed, "AUTHORIZATIONFAILED"),
            (.expired, "EXPIRED"), (.privacyRequired, "PRIVACYREQUIRED"), (.contactAdmin, "CONTACTADMIN"),
            (.unavailable, "UNAVAILABLE"), (.clientBug, "CLIENTBUG"), (.expungeIssued, "EXPUNGEISSUED"),
            (.corruption, "CORRUPTION"), (.hasChildren, "HASCHILDREN"), (.useAttr, "USEATTR"), (.notSaved, "NOTSAVED"),
            (.unknownCTE, "UNKNOWN-CTE"), (.compressionActive, "COMPRESSIONACTIVE"),
        ]
        for (value, name) in simple { XCTAssertEqual(code(value), "t OK [\(name)] x\r\n") }
        XCTAssertEqual(code(.mailboxID("F2212ea87-6097-4256-9d51-71338625")), "t OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] x\r\n")
        XCTAssertEqual(code(.other("X-FOO", "a]b")), "t OK [X-FOO a b] x\r\n")
        XCTAssertEqual(code(.other("bad code", nil)), "t OK [X-UNKNOWN] x\r\n")
    }

    func testContinuations() {
        XCTAssertEqual(encoded(.continuation(.text("Ready for additional command text"))), "+ Ready for additional command text\r\n")
        XCTAssertEqual(encoded(.continuation(.text("idling"))), "+ idling\r\n")
        XCTAssertEqual(encoded(.continuation(.text("send {12}"))), "+ send (12)\r\n")
        XCTAssertEqual(encoded(.continuation(.challenge([]))), "+ \r\n")
        // RFC 9051 §8: the SCRAM server-final message.
        XCTAssertEqual(encoded(.continuation(.challenge(Array("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=".utf8)))),
                       "+ dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==\r\n")
        XCTAssertEqual(encoded(.continuation(.challenge([0xFF, 0xFE]))), "+ //4=\r\n")
    }

    func testMailboxStatusResponses() {
        XCTAssertEqual(encoded(.untagged(.capability([.imap4rev2, .startTLS, Capability("AUTH=GSSAPI")!, Capability("LOGINDISABLED")!]))),
                       "* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n")
        XCTAssertEqual(encoded(.untagged(.enabled([.imap4rev2]))), "* ENABLED IMAP4rev2\r\n")
        XCTAssertEqual(encoded(.untagged(.enabled([]))), "* ENABLED\r\n")
        XCTAssertEqual(encoded(.untagged(.flags([.answered, .flagged, .deleted, .seen, .draft]))), "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n")
        XCTAssertEqual(encoded(.untagged(.exists(18))), "* 18 EXISTS\r\n")
        XCTAssertEqual(encoded(.untagged(.recent(3))), "* 3 RECENT\r\n")
        XCTAssertEqual(encoded(.untagged(.expunge(3))), "* 3 EXPUNGE\r\n")
        // RFC 9051 §7.3.3.
        XCTAssertEqual(encoded(.untagged(.status("blurdybloop", [.messages(231), .uidNext(44292)]))), "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n")
        XCTAssertEqual(encoded(.untagged(.status(.inbox, [.uidValidity(1), .unseen(2), .deleted(3), .size(9_000_000_000), .recent(4),
                                                           .highestModSeq(5), .appendLimit(nil), .appendLimit(10), .mailboxID("M1"), .deletedStorage(7)]))),
                       "* STATUS INBOX (UIDVALIDITY 1 UNSEEN 2 DELETED 3 SIZE 9000000000 RECENT 4 HIGHESTMODSEQ 5 APPENDLIMIT NIL APPENDLIMIT 10 MAILBOXID (M1) DELETED-STORAGE 7)\r\n")
        XCTAssertEqual(encoded(.untagged(.status("Sent Mail", [.messages(1)]))), "* STATUS \"Sent Mail\" (MESSAGES 1)\r\n")
    }

    func testList() {
        // RFC 9051 §6.3.9.8 / §6.3.x examples.
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "blurdybloop")))), "* LIST () \"/\" blurdybloop\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [.noSelect], mailbox: "foo")))), "* LIST (\\Noselect) \"/\" foo\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [.noSelect], mailbox: "")))), "* LIST (\\Noselect) \"/\" \"\"\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [.noSelect], delimiter: ".", mailbox: "#news.")))), "* LIST (\\Noselect) \".\" #news.\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [], delimiter: nil, mailbox: "flat")))), "* LIST () NIL flat\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [], delimiter: "\\", mailbox: "a\\b")))), "* LIST () \"\\\\\" \"a\\\\b\"\r\n")
        // RFC 9051 §8: OLDNAME keeps the client's spelling.
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: .inbox, extendedItems: [.oldName("inbox")])))),
                       "* LIST () \"/\" INBOX (\"OLDNAME\" (\"inbox\"))\r\n")
        // RFC 5258 §5 example 6; names needing quotes are quoted.
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "Fruit and Nuts", extendedItems: [.childInfo(["SUBSCRIBED"])])))),
                       "* LIST () \"/\" \"Fruit and Nuts\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(attributes: [.hasNoChildren, .sent], mailbox: "Sent")))), "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n")
        XCTAssertEqual(encoded(.untagged(.lsub(ListResponse(mailbox: "#news.comp.mail.mime")))), "* LSUB () \"/\" #news.comp.mail.mime\r\n")
        // Wildcards, NIL and 8-bit names.
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "a*b")))), "* LIST () \"/\" \"a*b\"\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "nil")))), "* LIST () \"/\" \"nil\"\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "台北"))), .imap4rev1), "* LIST () \"/\" &U,BTFw-\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "台北"))), .imap4rev2), "* LIST () \"/\" \"台北\"\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "A&B"))), .imap4rev1), "* LIST () \"/\" A&-B\r\n")
        XCTAssertEqual(encoded(.untagged(.list(ListResponse(mailbox: "A&B"))), .imap4rev2), "* LIST () \"/\" A&B\r\n")
    }

    func testSearchResponses() {
        // RFC 9051 §6.4.4 / RFC 4731 §3.1 examples.
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("A282"), byUID: false, data: [.min(2), .count(3)])))),
                       "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("A283"), byUID: false, data: [.all(SequenceSet(NumberSet([2, 10, 11])))])))),
                       "* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("A284"), byUID: false, data: [])))), "* ESEARCH (TAG \"A284\")\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("A285"), byUID: true, data: [.min(7), .max(3800)])))),
                       "* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("P283"), byUID: false, data: [.all(SequenceSet(NumberSet([882, 1102, 3003, 3005, 3006])))])))),
                       "* ESEARCH (TAG \"P283\") ALL 882,1102,3003,3005:3006\r\n")
        // RFC 7162 §3.1.5 examples 19 and 20 (ESORT keeps the order).
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("a"), byUID: false, data: [.all(SequenceSet(NumberSet([1, 2, 3, 5]))), .modSeq(1236)])))),
                       "* ESEARCH (TAG \"a\") ALL 1:3,5 MODSEQ 1236\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: tag("a"), byUID: false, data: [.all(SequenceSet(ordered: [5, 3, 2, 1])), .modSeq(1236)])))),
                       "* ESEARCH (TAG \"a\") ALL 5,3,2,1 MODSEQ 1236\r\n")
        XCTAssertEqual(encoded(.untagged(.esearch(ESearchResponse(tag: nil, byUID: false, data: [.count(0), .all(.ranges([]))])))), "* ESEARCH COUNT 0\r\n")
        // RFC 7162 §3.1.5 examples 15 and 16.
        XCTAssertEqual(encoded(.untagged(.search([2, 5, 6, 7, 11, 12, 18, 19, 20, 23], modSeq: 917_162_500))),
                       "* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n")
        XCTAssertEqual(encoded(.untagged(.search([], modSeq: 5))), "* SEARCH\r\n")
        // RFC 5256 §4.
        XCTAssertEqual(encoded(.untagged(.sort([2, 84, 882], modSeq: nil))), "* SORT 2 84 882\r\n")
        XCTAssertEqual(encoded(.untagged(.sort([], modSeq: nil))), "* SORT\r\n")
    }

    func testThread() {
        // RFC 5256 §4 examples.
        XCTAssertEqual(encoded(.untagged(.thread([
            ThreadNode(2),
            ThreadNode(3, [ThreadNode(6, [ThreadNode(4, [ThreadNode(23)]), ThreadNode(44, [ThreadNode(7, [ThreadNode(96)])])])]),
        ]))), "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n")
        XCTAssertEqual(encoded(.untagged(.thread([
            ThreadNode(166), ThreadNode(167),
            ThreadNode(174, [ThreadNode(175), ThreadNode(176), ThreadNode(178), ThreadNode(181), ThreadNode(180)]),
            ThreadNode(179),
        ]))), "* THREAD (166)(167)(174 (175)(176)(178)(181)(180))(179)\r\n")
        // A missing parent: "((3)(5))".
        XCTAssertEqual(encoded(.untagged(.thread([ThreadNode(nil, [ThreadNode(3), ThreadNode(5)])]))), "* THREAD ((3)(5))\r\n")
        XCTAssertEqual(encoded(.untagged(.thread([]))), "* THREAD\r\n")
    }

    func testNamespaceIDQuotaVanished() {
        // RFC 9051 §6.3.10 examples.
        XCTAssertEqual(encoded(.untagged(.namespace(NamespaceResponse(personal: [NamespaceDescription(prefix: "", delimiter: "/")])))),
                       "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n")
        XCTAssertEqual(encoded(.untagged(.namespace(NamespaceResponse(personal: [], shared: [NamespaceDescription(prefix: "", delimiter: ".")])))),
                       "* NAMESPACE NIL NIL ((\"\" \".\"))\r\n")
        XCTAssertEqual(encoded(.untagged(.namespace(NamespaceResponse(personal: [NamespaceDescription(prefix: "", delimiter: "/")],
                                                                      otherUsers: [NamespaceDescription(prefix: "~", delimiter: "/")],
                                                                      shared: [NamespaceDescription(prefix: "#shared/", delimiter: "/"),
                                                                               NamespaceDescription(prefix: "#public/", delimiter: "/"),
                                                                               NamespaceDescription(prefix: "#ftp/", delimiter: "/"),
                                                                               NamespaceDescription(prefix: "#news.", delimiter: ".")])))),
                       "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\")(\"#ftp/\" \"/\")(\"#news.\" \".\"))\r\n")
        XCTAssertEqual(encoded(.untagged(.namespace(NamespaceResponse(personal: [NamespaceDescription(prefix: "", delimiter: "/", extensions: [NamespaceExtension(name: "X-PARAM", values: ["FLAG1", "FLAG2"])])])))),
                       "* NAMESPACE ((\"\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n")
        // RFC 2971 §3.3 examples.
        XCTAssertEqual(encoded(.untagged(.id(nil))), "* ID NIL\r\n")
        XCTAssertEqual(encoded(.untagged(.id([IDParameter("name", "Cyrus"), IDParameter("version", "1.5"), IDParameter("os", "sunos"),
                                               IDParameter("os-version", "5.5"), IDParameter("support-url", "mailto:cyrus-bugs+@andrew.cmu.edu")]))),
                       "* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" \"sunos\" \"os-version\" \"5.5\" \"support-url\" \"mailto:cyrus-bugs+@andrew.cmu.edu\")\r\n")
        XCTAssertEqual(encoded(.untagged(.id([IDParameter("x", nil)]))), "* ID (\"x\" NIL)\r\n")
        // RFC 9208 §4 examples.
        XCTAssertEqual(encoded(.untagged(.quotaRoot(.inbox, roots: ["#user/alice", "!partition/sda4"]))), "* QUOTAROOT INBOX \"#user/alice\" \"!partition/sda4\"\r\n")
        XCTAssertEqual(encoded(.untagged(.quota(root: "#user/alice", [QuotaResource(name: "STORAGE", usage: 54, limit: 111), QuotaResource(name: "MESSAGE", usage: 42, limit: 1000)]))),
                       "* QUOTA \"#user/alice\" (STORAGE 54 111 MESSAGE 42 1000)\r\n")
        XCTAssertEqual(encoded(.untagged(.quota(root: "", [QuotaResource(name: "STORAGE", usage: 10, limit: 512)]))), "* QUOTA \"\" (STORAGE 10 512)\r\n")
        XCTAssertEqual(encoded(.untagged(.quotaRoot("comp.mail.mime", roots: []))), "* QUOTAROOT comp.mail.mime\r\n")
        // RFC 7162 §3.2.5.1, §3.2.10 examples.
        XCTAssertEqual(encoded(.untagged(.vanished(earlier: true, NumberSet(ranges: [41...41, 43...116, 118...118, 120...211, 214...540])))),
                       "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n")
        XCTAssertEqual(encoded(.untagged(.vanished(earlier: false, [405, 407, 410, 425]))), "* VANISHED 405,407,410,425\r\n")
        XCTAssertEqual(encoded(.untagged(.vanished(earlier: false, []))), "", "no valid form: nothing is sent")
    }

    func testStringChoice() {
        func astring(_ value: String, utf8: Bool = true) -> String {
            var writer = ByteWriter(capacity: 16)
            writer.writeAString(value.utf8, utf8: utf8)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        func nstring(_ value: [UInt8]?, utf8: Bool = true, maxQuoted: Int = 1024) -> String {
            var writer = ByteWriter(capacity: 16)
            writer.maxQuotedLength = maxQuoted
            writer.writeNString(value, utf8: utf8)
            return String(decoding: writer.bytes, as: UTF8.self)
        }
        // Atoms where allowed (astring), including "]"; never NIL.
        XCTAssertEqual(astring("INBOX"), "INBOX")
        XCTAssertEqual(astring("a]b"), "a]b")
        XCTAssertEqual(astring("NIL"), "\"NIL\"")
        XCTAssertEqual(astring(""), "\"\"")
        XCTAssertEqual(astring("a b"), "\"a b\"")
        XCTAssertEqual(astring("a%"), "\"a%\"")
        XCTAssertEqual(astring("a{1}"), "\"a{1}\"")
        XCTAssertEqual(astring("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"")
        // Quoted when safe, literal with CR/LF/NUL or 8-bit (without UTF-8), or when long.
        XCTAssertEqual(nstring(nil), "NIL")
        XCTAssertEqual(nstring(Array("NIL".utf8)), "\"NIL\"")
        XCTAssertEqual(nstring(Array("a\tb".utf8)), "\"a\tb\"")
        XCTAssertEqual(nstring(Array("a\r\nb".utf8)), "{4}\r\na\r\nb")
        XCTAssertEqual(nstring(Array("für".utf8), utf8: true), "\"für\"")
        XCTAssertEqual(nstring(Array("für".utf8), utf8: false), "{4}\r\nfür")
        XCTAssertEqual(nstring([0x66, 0xFC, 0x72], utf8: true), "{3}\r\n" + String(decoding: [0x66, 0xFC, 0x72], as: UTF8.self), "not UTF-8")
        XCTAssertEqual(nstring(Array("abcdef".utf8), maxQuoted: 5), "{6}\r\nabcdef")
        XCTAssertEqual(nstring(Array("abcde".utf8), maxQuoted: 5), "\"abcde\"")
        XCTAssertEqual(astring("für", utf8: false), "{4}\r\nfür")
        XCTAssertEqual(nstring(Array("\\f\"ü\"".utf8)), "\"\\\\f\\\"ü\\\"\"", "escaped and UTF-8")
        XCTAssertEqual(nstring([0x61, 0x00, 0x22]), "{3}\r\na\0\"", "NUL: a literal, nothing escaped")
    }
}
