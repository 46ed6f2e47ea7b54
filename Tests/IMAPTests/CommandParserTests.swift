import XCTest

@testable import IMAP

/// Every command form, mostly from the RFCs' examples; each is fed whole, byte by byte and in
/// chunks (see `events`).
final class CommandParserTests: XCTestCase {
    // MARK: RFC 9051 §6.1, §6.2

    func testAnyStateAndNotAuthenticated() {
        XCTAssertEqual(parse("abcd CAPABILITY\n"), .capability)
        XCTAssertEqual(parse("a002 NOOP\n"), .noop)
        XCTAssertEqual(parse("A023 LOGOUT\n"), .logout)
        XCTAssertEqual(parse("efgh STARTTLS\n"), .startTLS)
        XCTAssertEqual(parse("a000 starttls\n"), .startTLS)
        XCTAssertEqual(parse("a001 LOGIN SMITH SESAME\n"), .login(username: "SMITH", password: "SESAME"))
        XCTAssertEqual(parse("b LOGIN \"fred\" \"foo\"\n"), .login(username: "fred", password: "foo"))
        // RFC 9051 §7.6: synchronizing literals.
        XCTAssertEqual(parse("A001 LOGIN {11}\nFRED FOOBAR {7}\nfat man\n"), .login(username: "FRED FOOBAR", password: "fat man"))
        // RFC 7888 §3: non-synchronizing literals.
        XCTAssertEqual(parse("A001 LOGIN {11+}\nFRED FOOBAR {7+}\nfat man\n"), .login(username: "FRED FOOBAR", password: "fat man"))
        XCTAssertEqual(parse("A001 LOGIN \"FRED FOOBAR\" \"fat man\"\n"), .login(username: "FRED FOOBAR", password: "fat man"))
        XCTAssertEqual(parse("a LOGIN \"a\\\"b\\\\c\" ]x\n"), .login(username: "a\"b\\c", password: "]x"))
    }

    func testAuthenticate() {
        // RFC 9051 §6.2.2 and §8, RFC 4959.
        XCTAssertEqual(parse("A001 AUTHENTICATE GSSAPI\n"), .authenticate(mechanism: "GSSAPI", initialResponse: nil))
        XCTAssertEqual(parse("a004 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\n"),
                       .authenticate(mechanism: "PLAIN", initialResponse: Array("test\0test\0test".utf8)))
        XCTAssertEqual(parse("A01 AUTHENTICATE EXTERNAL =\n"), .authenticate(mechanism: "EXTERNAL", initialResponse: []))
        XCTAssertEqual(parse("A001 AUTHENTICATE scram-sha-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\n"),
                       .authenticate(mechanism: "SCRAM-SHA-256", initialResponse: Array("n,,n=user,r=rOprNGfwEbeRWgbNEkqO".utf8)))
    }

    func testAuthenticationResponses() {
        var parser = CommandParser()
        parser.append(wire("A01 AUTHENTICATE PLAIN\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A01"), command: .authenticate(mechanism: "PLAIN", initialResponse: nil))))
        XCTAssertNil(parser.next())
        parser.mode = .authenticationResponse
        parser.append(wire("dGVzdAB0ZXN0AHRlc3Q=\n"))
        XCTAssertEqual(parser.next(), .authenticationResponse(.data(Array("test\0test\0test".utf8))))
        XCTAssertEqual(parser.mode, .command)
        parser.mode = .authenticationResponse
        parser.append(wire("\n"))
        XCTAssertEqual(parser.next(), .authenticationResponse(.data([])))
        parser.mode = .authenticationResponse
        parser.append(wire("*\n"))
        XCTAssertEqual(parser.next(), .authenticationResponse(.cancel))
        parser.mode = .authenticationResponse
        parser.append(wire("abc!\nZ NOOP\n"))
        XCTAssertEqual(parser.next(), .error(ParseError(tag: nil, kind: .invalidBase64, message: "authentication response is not valid base64")))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("Z"), command: .noop)))
        XCTAssertNil(parser.next())
    }

    func testIdle() {
        // RFC 9051 §6.3.13 example, RFC 2177.
        var parser = CommandParser()
        parser.append(wire("A002 IDLE\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A002"), command: .idle)))
        parser.mode = .idle
        XCTAssertNil(parser.next())
        parser.append(wire("DO"))
        XCTAssertNil(parser.next())
        parser.append(wire("NE\nA003 FETCH 4 ALL\n"))
        XCTAssertEqual(parser.next(), .idleDone)
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A003"), command: .fetch(FetchCommand(set: SequenceSet(4), attributes: FetchAttribute.all)))))
        parser.append(wire("A004 IDLE\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A004"), command: .idle)))
        parser.mode = .idle
        parser.append(wire("done\n"))
        XCTAssertEqual(parser.next(), .idleDone)
        parser.append(wire("A005 IDLE\n"))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A005"), command: .idle)))
        parser.mode = .idle
        parser.append(wire("A006 NOOP\nA007 NOOP\n"))
        XCTAssertEqual(parser.next(), .error(ParseError(tag: nil, kind: .expectedDone, message: "expected DONE")))
        XCTAssertEqual(parser.next(), .command(TaggedCommand(tag: tag("A007"), command: .noop)))
    }

    // MARK: RFC 9051 §6.3

    func testEnableSelectExamine() {
        XCTAssertEqual(parse("t2 ENABLE CONDSTORE X-GOOD-IDEA\n"), .enable([.condStore, Capability("X-GOOD-IDEA")!]))
        XCTAssertEqual(parse("babc ENABLE IMAP4rev2\n"), .enable([.imap4rev2]))
        XCTAssertEqual(parse("a ENABLE UTF8=ACCEPT\n"), .enable([.utf8Accept]))
        XCTAssertEqual(parse("A142 SELECT INBOX\n"), .select(.inbox, SelectParameters()))
        XCTAssertEqual(parse("a002 select inbox\n"), .select(.inbox, SelectParameters()))
        XCTAssertEqual(parse("A143 SELECT Drafts\n"), .select("Drafts", SelectParameters()))
        XCTAssertEqual(parse("A932 EXAMINE blurdybloop\n"), .examine("blurdybloop", SelectParameters()))
        XCTAssertEqual(parse("k1 select \"/archive/projects/experiment-iv\"\n"), .select("/archive/projects/experiment-iv", SelectParameters()))
    }

    func testCreateDeleteRenameSubscribe() {
        XCTAssertEqual(parse("A003 CREATE owatagusiam/\n"), .create("owatagusiam/", specialUse: []))
        XCTAssertEqual(parse("A004 CREATE owatagusiam/blurdybloop\n"), .create("owatagusiam/blurdybloop", specialUse: []))
        XCTAssertEqual(parse("A002 CREATE \"INBOX.Sent Mail\"\n"), .create("INBOX.Sent Mail", specialUse: []))
        // RFC 6154 §5.2.
        XCTAssertEqual(parse("t1 CREATE \"Important Messages\" (USE (\\Important))\n"),
                       .create("Important Messages", specialUse: [MailboxAttribute("\\Important")!]))
        XCTAssertEqual(parse("t2 CREATE Sent (USE (\\sent \\Archive))\n"), .create("Sent", specialUse: [.sent, .archive]))
        XCTAssertEqual(parse("A683 DELETE blurdybloop\n"), .delete("blurdybloop"))
        XCTAssertEqual(parse("A683 RENAME blurdybloop sarasoop\n"), .rename(from: "blurdybloop", to: "sarasoop"))
        XCTAssertEqual(parse("Z433 RENAME INBOX old-mail\n"), .rename(from: .inbox, to: "old-mail"))
        XCTAssertEqual(parse("A002 SUBSCRIBE #news.comp.mail.mime\n"), .subscribe("#news.comp.mail.mime"))
        XCTAssertEqual(parse("A002 UNSUBSCRIBE #news.comp.mail.mime\n"), .unsubscribe("#news.comp.mail.mime"))
    }

    func testList() {
        func plain(_ reference: String, _ pattern: String) -> Command {
            .list(ListCommand(reference: reference, patterns: [pattern]))
        }
        XCTAssertEqual(parse("A682 LIST \"\" *\n"), plain("", "*"))
        XCTAssertEqual(parse("A86 LIST \"\" %\n"), plain("", "%"))
        XCTAssertEqual(parse("A101 LIST \"\" \"\"\n"), plain("", ""))
        XCTAssertEqual(parse("A102 LIST #news.comp.mail.misc \"\"\n"), plain("#news.comp.mail.misc", ""))
        XCTAssertEqual(parse("A103 LIST /usr/staff/jones \"\"\n"), plain("/usr/staff/jones", ""))
        XCTAssertEqual(parse("A202 LIST ~/Mail/ %\n"), plain("~/Mail/", "%"))
        XCTAssertEqual(parse("A002 LIST \"\" \"Other Users/%\"\n"), plain("", "Other Users/%"))

        // RFC 5258 §5 / RFC 9051 §6.3.9.8.
        XCTAssertEqual(parse("A02 LIST (SUBSCRIBED) \"\" \"*\"\n"),
                       .list(ListCommand(reference: "", patterns: ["*"], selectOptions: ListSelectOptions(subscribed: true), isExtended: true)))
        XCTAssertEqual(parse("A03 LIST () \"\" \"%\" RETURN (CHILDREN)\n"),
                       .list(ListCommand(reference: "", patterns: ["%"], returnOptions: ListReturnOptions(children: true), isExtended: true)))
        XCTAssertEqual(parse("A05 LIST (REMOTE SUBSCRIBED) \"\" \"*\"\n"),
                       .list(ListCommand(reference: "", patterns: ["*"], selectOptions: ListSelectOptions(subscribed: true, remote: true), isExtended: true)))
        XCTAssertEqual(parse("A06 LIST (REMOTE) \"\" \"*\" RETURN (SUBSCRIBED)\n"),
                       .list(ListCommand(reference: "", patterns: ["*"], selectOptions: ListSelectOptions(remote: true),
                                         returnOptions: ListReturnOptions(subscribed: true), isExtended: true)))
        XCTAssertEqual(parse("D03 LIST (RECURSIVEMATCH SUBSCRIBED) \"\" \"*2\"\n"),
                       .list(ListCommand(reference: "", patterns: ["*2"], selectOptions: ListSelectOptions(subscribed: true, recursiveMatch: true), isExtended: true)))
        XCTAssertEqual(parse("a1 LIST \"\" (\"foo\")\n"), .list(ListCommand(reference: "", patterns: ["foo"], isExtended: true)))
        XCTAssertEqual(parse("a3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" foo RETURN (CHILDREN)\n"),
                       .list(ListCommand(reference: "", patterns: ["foo"], selectOptions: ListSelectOptions(subscribed: true, recursiveMatch: true),
                                         returnOptions: ListReturnOptions(children: true), isExtended: true)))
        XCTAssertEqual(parse("a3.1 LIST \"\" (% music/rock)\n"), .list(ListCommand(reference: "", patterns: ["%", "music/rock"], isExtended: true)))
        // RFC 5819 §2.
        XCTAssertEqual(parse("A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\n"),
                       .list(ListCommand(reference: "", patterns: ["%"], returnOptions: ListReturnOptions(status: [.messages, .unseen]), isExtended: true)))
        XCTAssertEqual(parse("A02 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" % RETURN (STATUS (MESSAGES))\n"),
                       .list(ListCommand(reference: "", patterns: ["%"], selectOptions: ListSelectOptions(subscribed: true, recursiveMatch: true),
                                         returnOptions: ListReturnOptions(status: [.messages]), isExtended: true)))
        // RFC 6154 §5.1, §5.2.
        XCTAssertEqual(parse("A002 LIST (SPECIAL-USE) \"\" \"*\"\n"),
                       .list(ListCommand(reference: "", patterns: ["*"], selectOptions: ListSelectOptions(specialUse: true), isExtended: true)))
        XCTAssertEqual(parse("t3 LIST \"\" \"%\" RETURN (SPECIAL-USE)\n"),
                       .list(ListCommand(reference: "", patterns: ["%"], returnOptions: ListReturnOptions(specialUse: true), isExtended: true)))
        // RFC 3501 §6.3.9.
        XCTAssertEqual(parse("A002 LSUB \"#news.\" \"comp.mail.*\"\n"), .lsub(reference: "#news.", pattern: "comp.mail.*"))
    }

    func testNamespaceStatusIDQuotaCompress() {
        XCTAssertEqual(parse("A001 NAMESPACE\n"), .namespace)
        XCTAssertEqual(parse("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\n"), .status("blurdybloop", [.uidNext, .messages]))
        // RFC 7162 §3.1.2.3, RFC 8438, RFC 7889, RFC 8474, RFC 9208.
        XCTAssertEqual(parse("A042 STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)\n"), .status("blurdybloop", [.uidNext, .messages, .highestModSeq]))
        XCTAssertEqual(parse("a STATUS INBOX (size appendlimit MAILBOXID RECENT unseen deleted DELETED-STORAGE UIDVALIDITY)\n"),
                       .status(.inbox, [.size, .appendLimit, .mailboxID, .recent, .unseen, .deleted, .deletedStorage, .uidValidity]))
        // RFC 2971 §3.1 examples.
        XCTAssertEqual(parse("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" \"Pink Floyd Music Limited\")\n"),
                       .id([IDParameter("name", "sodr"), IDParameter("version", "19.34"), IDParameter("vendor", "Pink Floyd Music Limited")]))
        XCTAssertEqual(parse("a023 ID NIL\n"), .id(nil))
        XCTAssertEqual(parse("a023 ID ()\n"), .id(nil))
        XCTAssertEqual(parse("a023 ID (\"x\" NIL)\n"), .id([IDParameter("x", nil)]))
        // RFC 9208 §4.
        XCTAssertEqual(parse("G0001 GETQUOTA \"!partition/sda4\"\n"), .getQuota(root: "!partition/sda4"))
        XCTAssertEqual(parse("G0002 GETQUOTAROOT INBOX\n"), .getQuotaRoot(.inbox))
        XCTAssertEqual(parse("S0000 SETQUOTA \"#user/alice\" (STORAGE 510)\n"), .setQuota(root: "#user/alice", limits: [QuotaLimit(resource: "STORAGE", limit: 510)]))
        XCTAssertEqual(parse("S0001 SETQUOTA \"\" (storage 512 MESSAGE 1000)\n"),
                       .setQuota(root: "", limits: [QuotaLimit(resource: "STORAGE", limit: 512), QuotaLimit(resource: "MESSAGE", limit: 1000)]))
        XCTAssertEqual(parse("S0002 SETQUOTA \"\" ()\n"), .setQuota(root: "", limits: []))
        // RFC 4978 §3.
        XCTAssertEqual(parse("a COMPRESS DEFLATE\n"), .compress(algorithm: "DEFLATE"))
    }

    // MARK: RFC 9051 §6.4

    func testSelectedStateSimple() {
        XCTAssertEqual(parse("FXXZ CHECK\n"), .check)
        XCTAssertEqual(parse("A341 CLOSE\n"), .close)
        XCTAssertEqual(parse("A342 UNSELECT\n"), .unselect)
        XCTAssertEqual(parse("A202 EXPUNGE\n"), .expunge)
        XCTAssertEqual(parse("A003 UID EXPUNGE 3000:3002\n"), .uidExpunge(set("3000:3002")))
        XCTAssertEqual(parse("A004 COPY 2:4 meeting\n"), .copy(byUID: false, set("2:4"), "meeting"))
        XCTAssertEqual(parse("A005 UID COPY 305:310 meeting\n"), .copy(byUID: true, set("305:310"), "meeting"))
        XCTAssertEqual(parse("n1 uid copy 1:* oldmail\n"), .copy(byUID: true, .ranges([SequenceRange(.number(1), .last)]), "oldmail"))
        XCTAssertEqual(parse("E283 COPY $ \"Other Messages\"\n"), .copy(byUID: false, .lastResult, "Other Messages"))
        // RFC 6851 §3.
        XCTAssertEqual(parse("a UID MOVE 42:69 foo\n"), .move(byUID: true, set("42:69"), "foo"))
        XCTAssertEqual(parse("a MOVE 2,4:7,9,12:* foo\n"),
                       .move(byUID: false, .ranges([SequenceRange(2), SequenceRange(4...7), SequenceRange(9), SequenceRange(.number(12), .last)]), "foo"))
    }

    func testStore() {
        XCTAssertEqual(parse("A003 STORE 2:4 +FLAGS (\\Deleted)\n"), .store(StoreCommand(set: set("2:4"), operation: .add, flags: [.deleted])))
        XCTAssertEqual(parse("a005 store 12 +flags \\deleted\n"), .store(StoreCommand(set: SequenceSet(12), operation: .add, flags: [.deleted])))
        XCTAssertEqual(parse("F284 STORE $ +FLAGS.Silent (\\Deleted)\n"), .store(StoreCommand(set: .lastResult, operation: .add, silent: true, flags: [.deleted])))
        XCTAssertEqual(parse("m STORE 42 FLAGS f1 f2 $Junk\n"),
                       .store(StoreCommand(set: SequenceSet(42), operation: .replace, flags: [flag("f1"), flag("f2"), .junk])))
        XCTAssertEqual(parse("a UID STORE 1 -FLAGS.SILENT ()\n"), .store(StoreCommand(byUID: true, set: SequenceSet(1), operation: .remove, silent: true, flags: [])))
        // RFC 7162 §3.1.3 examples.
        XCTAssertEqual(parse("a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)\n"),
                       .store(StoreCommand(byUID: true, set: set("6,4,8"), unchangedSince: 12_121_230_045, operation: .add, silent: true, flags: [.deleted])))
        XCTAssertEqual(parse("a102 STORE 12 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)\n"),
                       .store(StoreCommand(set: SequenceSet(12), unchangedSince: 0, operation: .add, silent: true, flags: [.mdnSent])))
        XCTAssertEqual(parse("B001 STORE 1:7 (UNCHANGEDSINCE 320172338) +FLAGS (\\SEEN)\n"),
                       .store(StoreCommand(set: set("1:7"), unchangedSince: 320_172_338, operation: .add, flags: [.seen])))
        XCTAssertEqual(parse("A150 STORE 1:2 (UNCHANGEDSINCE 96) +FLAGS.SILENT \\Seen\n"),
                       .store(StoreCommand(set: set("1:2"), unchangedSince: 96, operation: .add, silent: true, flags: [.seen])))
    }

    func testFetch() {
        func fetch(_ set: SequenceSet, _ attributes: [FetchAttribute], uid: Bool = false, changedSince: UInt64? = nil, vanished: Bool = false) -> Command {
            .fetch(FetchCommand(byUID: uid, set: set, attributes: attributes, changedSince: changedSince, vanished: vanished))
        }
        XCTAssertEqual(parse("a003 fetch 12 full\n"), fetch(SequenceSet(12), FetchAttribute.full))
        XCTAssertEqual(parse("a fetch 12 FAST\n"), fetch(SequenceSet(12), FetchAttribute.fast))
        XCTAssertEqual(parse("a004 fetch 12 body[header]\n"), fetch(SequenceSet(12), [.bodySection(.header, partial: nil, peek: false)]))
        XCTAssertEqual(parse("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\n"),
                       fetch(set("2:4"), [.flags, .bodySection(SectionSpec(text: .headerFields(["DATE", "FROM"])), partial: nil, peek: false)]))
        XCTAssertEqual(parse("A999 UID FETCH 4827313:4828442 FLAGS\n"), fetch(set("4827313:4828442"), [.flags], uid: true))
        XCTAssertEqual(parse("A283 FETCH $ (UID INTERNALDATE FLAGS BODY.PEEK[HEADER])\n"),
                       fetch(.lastResult, [.uid, .internalDate, .flags, .bodySection(.header, partial: nil, peek: true)]))
        XCTAssertEqual(parse("a FETCH 1 (BODY BODYSTRUCTURE ENVELOPE RFC822.SIZE RFC822 RFC822.HEADER RFC822.TEXT)\n"),
                       fetch(SequenceSet(1), [.body, .bodyStructure, .envelope, .rfc822Size, .rfc822, .rfc822Header, .rfc822Text]))
        XCTAssertEqual(parse("a FETCH 1 (BODY[] BODY.PEEK[]<0.2048> BODY[1.2.3] BODY[1.2.HEADER] BODY[3.TEXT] BODY[4.1.MIME] BODY[TEXT]<100.50>)\n"),
                       fetch(SequenceSet(1), [
                           .bodySection(.whole, partial: nil, peek: false),
                           .bodySection(.whole, partial: Partial(offset: 0, length: 2048), peek: true),
                           .bodySection(SectionSpec(part: [1, 2, 3]), partial: nil, peek: false),
                           .bodySection(SectionSpec(part: [1, 2], text: .header), partial: nil, peek: false),
                           .bodySection(SectionSpec(part: [3], text: .text), partial: nil, peek: false),
                           .bodySection(SectionSpec(part: [4, 1], text: .mime), partial: nil, peek: false),
                           .bodySection(.text, partial: Partial(offset: 100, length: 50), peek: false),
                       ]))
        XCTAssertEqual(parse("a FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (Received \"X-Spam\" {5}\nx-foo)] BODY[4.2.HEADER.FIELDS (SUBJECT)])\n"),
                       fetch(SequenceSet(1), [
                           .bodySection(SectionSpec(text: .headerFieldsNot(["Received", "X-Spam", "x-foo"])), partial: nil, peek: true),
                           .bodySection(SectionSpec(part: [4, 2], text: .headerFields(["SUBJECT"])), partial: nil, peek: false),
                       ]))
        // RFC 3516 / RFC 9051: BINARY.
        XCTAssertEqual(parse("a FETCH 1 (BINARY[] BINARY.PEEK[1.2]<0.1024> BINARY.SIZE[2] binary[3])\n"),
                       fetch(SequenceSet(1), [
                           .binary(part: [], partial: nil, peek: false),
                           .binary(part: [1, 2], partial: Partial(offset: 0, length: 1024), peek: true),
                           .binarySize(part: [2]),
                           .binary(part: [3], partial: nil, peek: false),
                       ]))
        // RFC 7162 §3.1.4, §3.2.6; RFC 8514; RFC 8970; RFC 8474.
        XCTAssertEqual(parse("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\n"),
                       fetch(.all, [.flags], uid: true, changedSince: 12345))
        XCTAssertEqual(parse("a FETCH 1:3 (MODSEQ)\n"), fetch(set("1:3"), [.modSeq]))
        XCTAssertEqual(parse("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\n"),
                       fetch(set("300:500"), [.flags], uid: true, changedSince: 12345, vanished: true))
        XCTAssertEqual(parse("a FETCH 1 (SAVEDATE PREVIEW EMAILID THREADID)\n"), fetch(SequenceSet(1), [.saveDate, .preview(lazy: false), .emailID, .threadID]))
        XCTAssertEqual(parse("a FETCH 1 (UID PREVIEW (LAZY))\n"), fetch(SequenceSet(1), [.uid, .preview(lazy: true)]))
        XCTAssertEqual(parse("a FETCH 1 PREVIEW (LAZY)\n"), fetch(SequenceSet(1), [.preview(lazy: true)]))
        XCTAssertEqual(parse("a FETCH 1 PREVIEW (CHANGEDSINCE 5)\n"), fetch(SequenceSet(1), [.preview(lazy: false)], changedSince: 5))
    }

    func testSearch() {
        func search(_ key: SearchKey, uid: Bool = false, charset: String? = nil, returning: [SearchReturnOption]? = nil) -> Command {
            .search(SearchCommand(byUID: uid, charset: charset, returnOptions: returning, key: key))
        }
        // RFC 9051 §6.4.4.
        XCTAssertEqual(parse("A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\n"),
                       search(.and([.flagged, .since(date(1994, 2, 1)), .not(.from("Smith"))]), returning: [.min, .count]))
        XCTAssertEqual(parse("A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\n"),
                       search(.and([.flagged, .since(date(1994, 2, 1)), .not(.from("Smith"))]), returning: []))
        XCTAssertEqual(parse("A284 SEARCH TEXT \"string not in mailbox\"\n"), search(.text("string not in mailbox")))
        XCTAssertEqual(parse("A285 SEARCH CHARSET UTF-8 TEXT {12}\nотпуск\n"), search(.text(ByteString("отпуск")), charset: "UTF-8"))
        XCTAssertEqual(parse("A285 UID SEARCH RETURN (MIN MAX) 1:5000\n"), search(.sequenceSet(set("1:5000")), uid: true, returning: [.min, .max]))
        XCTAssertEqual(parse("A286 SEARCH RETURN (COUNT) DELETED\n"), search(.deleted, returning: [.count]))
        XCTAssertEqual(parse("h search from maria@example.com\n"), search(.from("maria@example.com")))
        // RFC 5182 / RFC 9051 §6.4.4.4.
        XCTAssertEqual(parse("A301 UID SEARCH UID $ SMALLER 4096\n"), search(.and([.uid(.lastResult), .smaller(4096)]), uid: true))
        XCTAssertEqual(parse("P283 SEARCH CHARSET UTF-8 (OR $ 1,3000:3021) TEXT {8+}\nмать\n"),
                       search(.and([.or(.sequenceSet(.lastResult), .sequenceSet(set("1,3000:3021"))), .text(ByteString("мать"))]), charset: "UTF-8"))
        XCTAssertEqual(parse("C285 SEARCH RETURN (MAX SAVE MIN) SINCE 12-Feb-2006\n"), search(.since(date(2006, 2, 12)), returning: [.max, .save, .min]))
        XCTAssertEqual(parse("F282 SEARCH RETURN (SAVE) KEYWORD $Junk\n"), search(.keyword(.junk), returning: [.save]))
        // RFC 7162 §3.1.5.
        XCTAssertEqual(parse("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\n"),
                       search(.modSeq(ModSeqSearch(entry: .init(flag: "\\draft", type: .all), value: 620_162_338))))
        XCTAssertEqual(parse("t SEARCH OR NOT MODSEQ 720162338 LARGER 50000\n"),
                       search(.or(.not(.modSeq(ModSeqSearch(value: 720_162_338))), .larger(50000))))
        // Every other key.
        XCTAssertEqual(parse("a SEARCH ALL ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN RECENT NEW OLD\n"),
                       search(.and([.all, .answered, .deleted, .draft, .flagged, .seen, .unanswered, .undeleted, .undraft, .unflagged, .unseen, .recent, .new, .old])))
        XCTAssertEqual(parse("a SEARCH BCC a BODY b CC c SUBJECT \"d e\" TO f HEADER Message-ID \"<x@y>\" UNKEYWORD $Phishing\n"),
                       search(.and([.bcc("a"), .body("b"), .cc("c"), .subject("d e"), .to("f"), .header("Message-ID", "<x@y>"), .unkeyword(.phishing)])))
        XCTAssertEqual(parse("a SEARCH BEFORE \"3-Mar-2020\" ON 29-Feb-2020 SENTBEFORE 1-Jan-2000 SENTON 31-Dec-1999 SENTSINCE 01-Jan-1999\n"),
                       search(.and([.before(date(2020, 3, 3)), .on(date(2020, 2, 29)), .sentBefore(date(2000, 1, 1)), .sentOn(date(1999, 12, 31)), .sentSince(date(1999, 1, 1))])))
        XCTAssertEqual(parse("a SEARCH SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020 SAVEDATESUPPORTED\n"),
                       search(.and([.savedBefore(date(2020, 1, 1)), .savedOn(date(2020, 1, 2)), .savedSince(date(2020, 1, 3)), .savedDateSupported])))
        XCTAssertEqual(parse("a SEARCH OLDER 3600 YOUNGER 60 LARGER 9223372036854775807\n"),
                       search(.and([.older(3600), .younger(60), .larger(9_223_372_036_854_775_807)])))
        XCTAssertEqual(parse("a SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9\n"),
                       search(.and([.emailID("M6d99ac3275bb4e"), .threadID("T64b478a75b7ea9")])))
        XCTAssertEqual(parse("a SEARCH (SEEN (FLAGGED)) NOT (DRAFT DELETED) *:4 2\n"),
                       search(.and([.and([.seen, .flagged]), .not(.and([.draft, .deleted])), .sequenceSet(.ranges([SequenceRange(.last, .number(4))])), .sequenceSet(SequenceSet(2))])))
        XCTAssertEqual(parse("a SEARCH CHARSET \"US-ASCII\" UID 1:*\n"), search(.uid(.all), charset: "US-ASCII"))
    }

    func testSortAndThread() {
        // RFC 5256 §4 examples.
        XCTAssertEqual(parse("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\n"),
                       .sort(SortCommand(criteria: [SortCriterion(.subject)], charset: "UTF-8", key: .since(date(1994, 2, 1)))))
        XCTAssertEqual(parse("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL\n"),
                       .sort(SortCommand(criteria: [SortCriterion(.subject), SortCriterion(.date, reverse: true)], charset: "UTF-8", key: .all)))
        XCTAssertEqual(parse("A284 SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"\n"),
                       .sort(SortCommand(criteria: [SortCriterion(.subject)], charset: "US-ASCII", key: .text("not in mailbox"))))
        XCTAssertEqual(parse("A285 UID SORT (ARRIVAL CC FROM SIZE TO DISPLAYFROM DISPLAYTO) UTF-8 UNSEEN DELETED\n"),
                       .sort(SortCommand(byUID: true, criteria: [.init(.arrival), .init(.cc), .init(.from), .init(.size), .init(.to), .init(.displayFrom), .init(.displayTo)],
                                         charset: "UTF-8", key: .and([.unseen, .deleted]))))
        // RFC 7162 §3.1.5 / RFC 5267 ESORT.
        XCTAssertEqual(parse("a SORT RETURN (ALL) (DATE) UTF-8 MODSEQ 1234\n"),
                       .sort(SortCommand(returnOptions: [.all], criteria: [SortCriterion(.date)], charset: "UTF-8", key: .modSeq(ModSeqSearch(value: 1234)))))
        XCTAssertEqual(parse("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\n"),
                       .thread(ThreadCommand(algorithm: .orderedSubject, charset: "UTF-8", key: .since(date(2000, 3, 5)))))
        XCTAssertEqual(parse("A284 THREAD ORDEREDSUBJECT US-ASCII TEXT \"gewp\"\n"),
                       .thread(ThreadCommand(algorithm: .orderedSubject, charset: "US-ASCII", key: .text("gewp"))))
        XCTAssertEqual(parse("A285 UID THREAD REFERENCES US-ASCII ALL\n"),
                       .thread(ThreadCommand(byUID: true, algorithm: .references, charset: "US-ASCII", key: .all)))
        XCTAssertEqual(parse("A286 THREAD REFS UTF-8 ALL\n"), .thread(ThreadCommand(algorithm: .other("REFS"), charset: "UTF-8", key: .all)))
    }

    func testSelectParameters() {
        // RFC 7162 §3.1.8, §3.2.5.
        XCTAssertEqual(parse("A142 SELECT INBOX (CONDSTORE)\n"), .select(.inbox, SelectParameters(condStore: true)))
        XCTAssertEqual(parse("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\n"),
                       .select(.inbox, SelectParameters(qresync: QResyncParameters(uidValidity: 67_890_007, modSeq: 20_050_715_194_045_000, knownUIDs: set("41,43:211,214:541")))))
        XCTAssertEqual(parse("A142 SELECT INBOX (QRESYNC (3857529045 20010715194032001 1:198))\n"),
                       .select(.inbox, SelectParameters(qresync: QResyncParameters(uidValidity: 3_857_529_045, modSeq: 20_010_715_194_032_001, knownUIDs: set("1:198")))))
        XCTAssertEqual(parse("B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\n"),
                       .select(.inbox, SelectParameters(qresync: QResyncParameters(
                           uidValidity: 67_890_007, modSeq: 90_060_115_194_045_000, knownUIDs: set("1:29997"),
                           sequenceMatch: .init(sequenceNumbers: set("5000,7500,9000,9990:9999"),
                                                uids: set("15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997"))))))
        XCTAssertEqual(parse("a EXAMINE INBOX (QRESYNC (1 2) CONDSTORE)\n"),
                       .examine(.inbox, SelectParameters(condStore: true, qresync: QResyncParameters(uidValidity: 1, modSeq: 2))))
    }

    func testMailboxNames() {
        // RFC 3501 §5.1.3: IMAP4rev1 clients send modified UTF-7.
        XCTAssertEqual(parse("a SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-\n"), .select("~peter/mail/台北/日本語", SelectParameters()))
        XCTAssertEqual(parse("a SELECT \"A&-B\"\n"), .select("A&B", SelectParameters()))
        // After ENABLE UTF8=ACCEPT / IMAP4rev2: UTF-8, and "&" is itself.
        let utf8 = ParserOptions(utf8Mailboxes: true)
        XCTAssertEqual(parse("a SELECT \"~peter/mail/台北/日本語\"\n", options: utf8), .select("~peter/mail/台北/日本語", SelectParameters()))
        XCTAssertEqual(parse("a SELECT A&-B\n", options: utf8), .select("A&-B", SelectParameters()))
        XCTAssertEqual(parse("a CREATE {8+}\nSent ✓\n", options: utf8), .create("Sent ✓", specialUse: []))
        // INBOX is case-insensitive.
        XCTAssertEqual(parse("a STATUS iNbOx (MESSAGES)\n"), .status(.inbox, [.messages]))
        XCTAssertEqual(parse("a LIST \"\" \"&Jjo-*\"\n"), .list(ListCommand(reference: "", patterns: ["☺*"])))
    }
}
