import IMAPServer
import Testing

/// \Recent (RFC 3501 §2.3.2): a message is recent in exactly one session, the first
/// IMAP4rev1 session to learn of it read-write, whenever it arrived, and a restart changes
/// nothing of that.
@Suite struct RecentTests {
    @Test func theFirstSessionToSelectTakesTheMessages() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        try await fixture.deliver(sampleMessage)
        let first = try await TestSession(fixture, shared: IMAPSharedState())
        let second = try await TestSession(fixture, shared: IMAPSharedState())
        try await first.login()
        try await second.login()
        // Not taken yet: STATUS counts them (§6.3.10), EXAMINE shows them and leaves them (§6.3.2).
        #expect(try await first.send("a STATUS INBOX (RECENT MESSAGES)\n") == "* STATUS INBOX (RECENT 2 MESSAGES 2)\na OK STATUS completed\n")
        let examined = try await second.send("b EXAMINE INBOX\n")
        #expect(examined.contains("* 2 RECENT\n"))
        #expect(try await second.send("c FETCH 1 FLAGS\n") == "* 1 FETCH (FLAGS (\\Recent))\nc OK FETCH completed\n")
        #expect(try await second.send("d SEARCH RECENT\n") == "* SEARCH 1 2\nd OK SEARCH completed\n")

        let selected = try await first.send("e SELECT INBOX\n")
        #expect(selected.contains("* 2 RECENT\n"))
        #expect(try await first.send("f SEARCH NEW\n") == "* SEARCH 1 2\nf OK SEARCH completed\n")
        #expect(try await first.send("g SEARCH OLD\n") == "* SEARCH\ng OK SEARCH completed\n")
        #expect(try await first.send("h STATUS INBOX (RECENT)\n") == "* STATUS INBOX (RECENT 2)\nh OK STATUS completed\n")
        // Taken: another session sees them as old, SELECT or EXAMINE, and STATUS says so.
        #expect(try await second.send("i SELECT INBOX\n").contains("* 0 RECENT\n"))
        #expect(try await second.send("j FETCH 1:2 FLAGS\n") == "* 1 FETCH (FLAGS ())\n* 2 FETCH (FLAGS ())\nj OK FETCH completed\n")
        #expect(try await second.send("k STATUS Archive (RECENT)\n") == "* STATUS Archive (RECENT 0)\nk OK STATUS completed\n")

        // New mail goes to whichever selected session learns of it first.
        try await fixture.deliver(sampleMessage)
        #expect(try await second.send("l NOOP\n") == "* 3 EXISTS\n* 1 RECENT\nl OK NOOP completed\n")
        #expect(try await first.send("m NOOP\n") == "* 3 EXISTS\n* 2 RECENT\nm OK NOOP completed\n")
    }
}
