import Foundation
import IMAP
import IMAPServer
import Store
import Testing

@Suite struct MailboxCommandTests {
    @Test func listDefaultMailboxes() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        let list = try await client.send("b LIST \"\" *\n")
        #expect(list == """
            * LIST (\\HasNoChildren \\Archive) "/" Archive
            * LIST (\\HasNoChildren \\Drafts) "/" Drafts
            * LIST (\\HasNoChildren) "/" INBOX
            * LIST (\\HasNoChildren \\Junk) "/" Junk
            * LIST (\\HasNoChildren) "/" Rejects
            * LIST (\\HasNoChildren \\Sent) "/" Sent
            * LIST (\\HasNoChildren \\Trash) "/" Trash
            b OK LIST completed

            """)
        #expect(try await client.send("c LIST \"\" \"\"\n") == "* LIST (\\Noselect) \"/\" \"\"\nc OK LIST completed\n")
        #expect(try await client.send("d LIST \"\" inbox\n") == "* LIST (\\HasNoChildren) \"/\" INBOX\nd OK LIST completed\n")
        // RFC 6154 §5.1 selection, RFC 5258 RETURN, RFC 5819 STATUS.
        #expect(try await client.send("e LIST (SPECIAL-USE) \"\" * RETURN (SUBSCRIBED STATUS (MESSAGES UIDNEXT))\n") == """
            * LIST (\\HasNoChildren \\Subscribed \\Archive) "/" Archive
            * STATUS Archive (MESSAGES 0 UIDNEXT 1)
            * LIST (\\HasNoChildren \\Subscribed \\Drafts) "/" Drafts
            * STATUS Drafts (MESSAGES 0 UIDNEXT 1)
            * LIST (\\HasNoChildren \\Subscribed \\Junk) "/" Junk
            * STATUS Junk (MESSAGES 0 UIDNEXT 1)
            * LIST (\\HasNoChildren \\Subscribed \\Sent) "/" Sent
            * STATUS Sent (MESSAGES 0 UIDNEXT 1)
            * LIST (\\HasNoChildren \\Subscribed \\Trash) "/" Trash
            * STATUS Trash (MESSAGES 0 UIDNEXT 1)
            e OK LIST completed

            """)
    }

    /// RFC 8474: MAILBOXID from CREATE, SELECT and STATUS, kept by RENAME, new for a new
    /// mailbox of an old name; EMAILID shared by a copy, THREADID NIL; SEARCH EMAILID.
    @Test func objectIDs() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        try await fixture.deliver(sampleMessage)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        let created = try await client.send("a CREATE work\n")
        let id = try #require(created.split(separator: "(").dropFirst().first?.split(separator: ")").first.map(String.init))
        #expect(created == "a OK [MAILBOXID (\(id))] CREATE completed\n")
        #expect(try await client.send("b STATUS work (MAILBOXID MESSAGES)\n") == "* STATUS work (MAILBOXID (\(id)) MESSAGES 0)\nb OK STATUS completed\n")
        #expect(try await client.send("c RENAME work play\n") == "c OK RENAME completed\n")
        #expect(try await client.send("d STATUS play (MAILBOXID)\n") == "* STATUS play (MAILBOXID (\(id)))\nd OK STATUS completed\n")
        let recreated = try await client.send("e CREATE work\n")
        #expect(recreated.hasPrefix("e OK [MAILBOXID (") && !recreated.contains("(\(id))"))
        let select = try await client.send("f SELECT play\n")
        #expect(select.contains("* OK [MAILBOXID (\(id))] mailbox id\n"))

        try await client.select()
        #expect(try await client.send("g UID COPY 1 play\n").hasPrefix("g OK [COPYUID"))
        let inbox = try await client.send("h FETCH 1:2 (EMAILID THREADID)\n")
        let emailIDs = inbox.split(separator: "\n").compactMap { line in
            line.split(separator: "EMAILID (").dropFirst().first?.split(separator: ")").first.map(String.init)
        }
        #expect(emailIDs.count == 2 && emailIDs[0] != emailIDs[1])
        #expect(inbox.contains("THREADID NIL"))
        #expect(try await client.send("i UID SEARCH EMAILID \(emailIDs[0])\n") == "* SEARCH 1\ni OK SEARCH completed\n")
        #expect(try await client.send("j UID SEARCH THREADID T1\n") == "* SEARCH\nj OK SEARCH completed\n")
        try await client.select("play")
        // The copy keeps the message's EMAILID (RFC 8474 §5.1).
        #expect(try await client.send("k FETCH 1 (EMAILID)\n") == "* 1 FETCH (EMAILID (\(emailIDs[0])))\nk OK FETCH completed\n")
    }

    @Test func createRenameDeleteSubscribe() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        #expect(try await client.send("a CREATE work/projects/\n").hasSuffix(")] CREATE completed\n"))
        #expect(try await client.send("b CREATE work\n") == "b NO [ALREADYEXISTS] mailbox \"work\" already exists\n")
        #expect(try await client.send("c CREATE inbox\n") == "c NO [ALREADYEXISTS] INBOX always exists\n")
        #expect(try await client.send("d LIST \"\" work*\n") == """
            * LIST (\\HasChildren) "/" work
            * LIST (\\HasNoChildren) "/" work/projects
            d OK LIST completed

            """)
        #expect(try await client.send("e LIST \"work/\" %\n") == "* LIST (\\HasNoChildren) \"/\" work/projects\ne OK LIST completed\n")
        #expect(try await client.send("f DELETE work\n") == "f NO [HASCHILDREN] mailbox \"work\" has children; delete them first\n")
        #expect(try await client.send("g SUBSCRIBE work/projects\n") == "g OK SUBSCRIBE completed\n")
        #expect(try await client.send("h RENAME work play\n") == "h OK RENAME completed\n")
        #expect(try await client.send("i LSUB \"\" play*\n") == "* LSUB () \"/\" play/projects\ni OK LSUB completed\n")
        // RFC 3501 §6.3.9: "%" stops at play, which is not subscribed: it stands in, \Noselect.
        #expect(try await client.send("i2 LSUB \"\" p%\n") == "* LSUB (\\Noselect) \"/\" play\ni2 OK LSUB completed\n")
        #expect(try await client.send("i3 LSUB \"\" play/%\n") == "* LSUB () \"/\" play/projects\ni3 OK LSUB completed\n")
        #expect(try await client.send("i4 LSUB \"\" q%\n") == "i4 OK LSUB completed\n")
        #expect(try await client.send("j LIST (SUBSCRIBED RECURSIVEMATCH) \"\" play\n") == "* LIST (\\HasChildren) \"/\" play (\"CHILDINFO\" (\"SUBSCRIBED\"))\nj OK LIST completed\n")
        #expect(try await client.send("k DELETE play/projects\n") == "k OK DELETE completed\n")
        // RFC 9051 §6.3.9: a subscription outlives its mailbox.
        #expect(try await client.send("l LIST (SUBSCRIBED) \"\" play*\n") == "* LIST (\\Subscribed \\NonExistent) \"/\" play/projects\nl OK LIST completed\n")
        #expect(try await client.send("m DELETE nothing\n") == "m NO [NONEXISTENT] no mailbox \"nothing\"\n")
        #expect(try await client.send("n DELETE INBOX\n") == "n NO [CANNOT] INBOX cannot be deleted\n")
        #expect(try await client.send("o CREATE \"bad*name\"\n") == "o NO [CANNOT] invalid mailbox name \"bad*name\": contains a LIST wildcard (% or *)\n")
        // RFC 6154 §3 CREATE-SPECIAL-USE.
        #expect(try await client.send("p CREATE Old (USE (\\Archive))\n") == "p NO [USEATTR] another mailbox already has the \\Archive role\n")
        #expect(try await client.send("q CREATE All (USE (\\All))\n") == "q NO [USEATTR] special-use attribute \\All is not supported\n")
        #expect(try await client.send("r STATUS play (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT)\n").hasPrefix("* STATUS play (MESSAGES 0 UIDNEXT 1 UIDVALIDITY "))
        #expect(try await client.send("s STATUS nothing (MESSAGES)\n") == "s NO [NONEXISTENT] no such mailbox\n")
    }

    @Test func renameInbox() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        #expect(try await client.send("a RENAME INBOX Old\n") == "a OK RENAME completed\n")
        #expect(try await client.send("b STATUS INBOX (MESSAGES)\n") == "* STATUS INBOX (MESSAGES 0)\nb OK STATUS completed\n")
        #expect(try await client.send("c STATUS Old (MESSAGES)\n") == "* STATUS Old (MESSAGES 1)\nc OK STATUS completed\n")
    }

    @Test func quota() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        #expect(try await client.send("a GETQUOTAROOT INBOX\n") == "* QUOTAROOT INBOX\na OK GETQUOTAROOT completed\n")
        #expect(try await client.send("b GETQUOTA \"\"\n") == "b NO [NONEXISTENT] no such quota root\n")
        // The account's quota, enforced by the store (RFC 9208 §4.3.1 OVERQUOTA).
        try fixture.account.quotaBytes = 10 * 1024
        #expect(try await client.send("c GETQUOTAROOT INBOX\n") == "* QUOTAROOT INBOX \"\"\n* QUOTA \"\" (STORAGE 0 10)\nc OK GETQUOTAROOT completed\n")
        #expect(try await client.send("d GETQUOTA \"\"\n") == "* QUOTA \"\" (STORAGE 0 10)\nd OK GETQUOTA completed\n")
        #expect(try await client.send("e SETQUOTA \"\" (STORAGE 1)\n") == "e NO [NOPERM] quotas are set by the administrator\n")
        let big = String(repeating: "x", count: 11 * 1024)
        #expect(try await client.send("f APPEND INBOX {\(big.utf8.count)+}\n\(big)\n") == "f NO [OVERQUOTA] over quota\n")
        #expect(try await client.send("g APPEND INBOX {3+}\nabc\n").hasPrefix("g OK [APPENDUID "))
        try await client.select()
        try fixture.account.quotaBytes = 250
        #expect(try await client.send("h COPY 1:2 Archive\n") == "h NO [OVERQUOTA] over quota\n")
        #expect(try await client.send("i MOVE 1:2 Archive\n").hasSuffix("i OK MOVE completed\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.store.temporaryDirectory).isEmpty)
    }
}
