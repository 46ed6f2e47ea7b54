import Foundation
import IMAP
import IMAPServer
import Store
import Testing

/// Several sessions on one mailbox: what one does (or SMTP delivers) reaches the others at
/// the points RFC 9051 allows, with consistent sequence numbers.
@Suite struct ConcurrencyTests {
    @Test func updatesBetweenSessions() async throws {
        let fixture = try await Fixture.make()
        let shared = IMAPSharedState()
        try await fixture.deliver(sampleMessage)
        let a = try await TestSession(fixture, shared: shared)
        let b = try await TestSession(fixture, shared: shared)
        try await a.login()
        try await b.login()
        try await a.select()
        try await b.select()

        // New mail by SMTP: EXISTS, and RECENT for the first IMAP4rev1 session to see it: a,
        // which selected first and so also has the message that was there before.
        try await fixture.deliver(sampleMessage)
        try await fixture.deliver(sampleMessage)
        #expect(try await a.send("a1 NOOP\n") == "* 3 EXISTS\n* 3 RECENT\na1 OK NOOP completed\n")
        #expect(try await b.send("b1 NOOP\n") == "* 3 EXISTS\n* 0 RECENT\nb1 OK NOOP completed\n")

        // A flag change by another session: an unsolicited FETCH, never the session's own
        // change twice.
        #expect(try await b.send("b2 STORE 2 +FLAGS (\\Flagged)\n") == "* 2 FETCH (FLAGS (\\Flagged))\nb2 OK STORE completed\n")
        #expect(try await b.send("b3 NOOP\n") == "b3 OK NOOP completed\n")
        #expect(try await a.send("a2 NOOP\n") == "* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\na2 OK NOOP completed\n")

        // An expunge: not during FETCH/STORE/SEARCH (sequence numbers would shift), but at
        // the next command that allows it.
        #expect(try await b.send("b4 STORE 1 +FLAGS.SILENT (\\Deleted)\n") == "b4 OK STORE completed\n")
        #expect(try await b.send("b5 EXPUNGE\n") == "* 1 EXPUNGE\nb5 OK EXPUNGE completed\n")
        // The message is gone from the store but not yet from the client's numbering.
        #expect(try await a.send("a3 FETCH 1:* (UID)\n") == "* 2 FETCH (UID 2)\n* 3 FETCH (UID 3)\na3 NO [EXPUNGEISSUED] some of the messages no longer exist\n")
        #expect(try await a.send("a5 NOOP\n") == "* 1 EXPUNGE\na5 OK NOOP completed\n")
        #expect(try await a.send("a6 FETCH 1:* (UID)\n") == "* 1 FETCH (UID 2)\n* 2 FETCH (UID 3)\na6 OK FETCH completed\n")
        // UID commands may report expunges.
        #expect(try await b.send("b6 UID STORE 3 +FLAGS.SILENT (\\Deleted)\n") == "b6 OK STORE completed\n")
        #expect(try await b.send("b7 UID EXPUNGE 3\n") == "* 2 EXPUNGE\nb7 OK UID EXPUNGE completed\n")
        #expect(try await a.send("a7 UID FETCH 1:* (FLAGS)\n") == "* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\n* 2 EXPUNGE\na7 OK FETCH completed\n")
    }

    @Test func qresyncVanished() async throws {
        let fixture = try await Fixture.make()
        let shared = IMAPSharedState()
        for _ in 0..<3 { try await fixture.deliver(sampleMessage) }
        let a = try await TestSession(fixture, shared: shared)
        let b = try await TestSession(fixture, shared: shared)
        try await a.login()
        try await b.login()
        #expect(try await a.send("e ENABLE QRESYNC\n") == "* ENABLED QRESYNC\ne OK ENABLE completed\n")
        let select = try await a.send("s SELECT INBOX\n")
        #expect(select.contains("* OK [HIGHESTMODSEQ 10] highest mod-sequence\n"))
        try await b.select()
        _ = try await b.send("b1 STORE 1:2 +FLAGS.SILENT (\\Deleted)\n")
        _ = try await b.send("b2 EXPUNGE\n")
        #expect(try await a.send("a1 NOOP\n") == "* VANISHED 1:2\na1 OK NOOP completed\n")
        // RFC 7162 §3.2.5: a resynchronizing SELECT gets what vanished since its mod-sequence.
        let validity = try #require(select.split(separator: "\n").first { $0.contains("UIDVALIDITY") }.flatMap { $0.split(separator: " ")[3].dropLast() })
        _ = try await b.send("b3 STORE 1 +FLAGS.SILENT (\\Seen)\n")
        let resync = try await a.send("s2 SELECT INBOX (QRESYNC (\(validity) 10 1:3))\n")
        #expect(resync.contains("* VANISHED (EARLIER) 1:2\n* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (13))\n"))
        #expect(resync.hasPrefix("* OK [CLOSED] previous mailbox closed\n"))
        let uidFetch = try await a.send("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\n")
        #expect(uidFetch == "* VANISHED (EARLIER) 1:2\n* 1 FETCH (UID 3 FLAGS (\\Seen) MODSEQ (13))\nf OK FETCH completed\n")
        // CONDSTORE conditional STORE (RFC 7162 §3.1.3).
        #expect(try await a.send("g STORE 1 (UNCHANGEDSINCE 12) +FLAGS (\\Flagged)\n") == "g OK [MODIFIED 1] conditional STORE failed for some messages\n")
        #expect(try await a.send("h STORE 1 (UNCHANGEDSINCE 13) +FLAGS (\\Flagged)\n") == "* 1 FETCH (FLAGS (\\Seen \\Flagged) MODSEQ (14))\nh OK STORE completed\n")
    }

    @Test func idlePushesChanges() async throws {
        let fixture = try await Fixture.make()
        let shared = IMAPSharedState()
        try await fixture.deliver(sampleMessage)
        let a = try await TestSession(fixture, shared: shared)
        let b = try await TestSession(fixture, shared: shared)
        try await a.login()
        try await b.login()
        try await a.select()
        try await b.select()
        #expect(try await a.send("i IDLE\n") == "+ idling\n")
        try await fixture.deliver(sampleMessage)
        #expect(try await a.nextChange() == "* 2 EXISTS\n* 2 RECENT\n")
        _ = try await b.send("b1 STORE 1 +FLAGS (\\Seen)\n")
        #expect(try await a.nextChange() == "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent))\n")
        _ = try await b.send("b2 STORE 1 +FLAGS (\\Deleted)\n")
        #expect(try await a.nextChange() == "* 1 FETCH (UID 1 FLAGS (\\Seen \\Deleted \\Recent))\n")
        _ = try await b.send("b3 EXPUNGE\n")
        #expect(try await a.nextChange() == "* 1 EXPUNGE\n")
        #expect(try await a.send("DONE\n") == "i OK IDLE done\n")
        #expect(try await a.send("n NOOP\n") == "n OK NOOP completed\n")
        // A mailbox deleted under a session ends it.
        _ = try await b.send("c CREATE Box\n")
        _ = try await a.send("s SELECT Box\n")
        _ = try await b.send("d DELETE Box\n")
        #expect(try await a.send("n2 NOOP\n") == "* BYE the selected mailbox was deleted\n")
        #expect(a.lastSignal == .close)
    }
}
