import Foundation
import IMAP
import IMAPServer
import Store
import Testing

@Suite struct SessionCoreTests {
    static let preAuthCapabilities = "IMAP4rev2 IMAP4rev1 AUTH=SCRAM-SHA-256 AUTH=SCRAM-SHA-1 AUTH=PLAIN AUTH=LOGIN SASL-IR LITERAL+ ENABLE IDLE NAMESPACE ID UIDPLUS MOVE UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE MULTIAPPEND APPENDLIMIT=52428800 STATUS=SIZE ESEARCH SEARCHRES CONDSTORE QRESYNC BINARY SAVEDATE PREVIEW UTF8=ACCEPT WITHIN QUOTA OBJECTID QUOTA=RES-STORAGE SORT ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES COMPRESS=DEFLATE"
    static let capabilities = "IMAP4rev2 IMAP4rev1 LITERAL+ ENABLE IDLE NAMESPACE ID UIDPLUS MOVE UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE MULTIAPPEND APPENDLIMIT=52428800 STATUS=SIZE ESEARCH SEARCHRES CONDSTORE QRESYNC BINARY SAVEDATE PREVIEW UTF8=ACCEPT WITHIN QUOTA OBJECTID QUOTA=RES-STORAGE SORT ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES COMPRESS=DEFLATE"

    @Test func greetingCapabilityAndLogin() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        #expect(client.greeting == "* OK [CAPABILITY \(Self.preAuthCapabilities)] Tern IMAP server ready\n")
        #expect(try await client.send("a CAPABILITY\n") == "* CAPABILITY \(Self.preAuthCapabilities)\na OK CAPABILITY completed\n")
        #expect(try await client.send("b NOOP\n") == "b OK NOOP completed\n")
        #expect(try await client.send("c SELECT INBOX\n") == "c BAD log in first\n")
        #expect(try await client.send("d LOGIN alice wrong\n") == "d NO [AUTHENTICATIONFAILED] authentication failed\n")
        #expect(try await client.send("e LOGIN alice secret\n") == "e OK [CAPABILITY \(Self.capabilities)] LOGIN completed\n")
        #expect(try await client.send("f LOGIN alice secret\n") == "f BAD already authenticated\n")
        #expect(try await client.send("g NAMESPACE\n") == "* NAMESPACE ((\"\" \"/\")) NIL NIL\ng OK NAMESPACE completed\n")
        #expect(try await client.send("h ID (\"name\" \"test\")\n") == "* ID (\"name\" \"Tern\")\nh OK ID completed\n")
        #expect(try await client.send("i LOGOUT\n") == "* BYE logging out\ni OK LOGOUT completed\n")
        #expect(client.lastSignal == .close)
    }

    @Test func loginDisabledWithoutTLS() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState()) { $0.plaintextLoginAllowed = false }
        let greeting = client.greeting
        #expect(greeting.contains(" LOGINDISABLED "))
        #expect(!greeting.contains("AUTH=PLAIN"))
        #expect(greeting.contains("AUTH=SCRAM-SHA-256"))
        #expect(try await client.send("a LOGIN alice secret\n") == "a NO [PRIVACYREQUIRED] LOGIN is not allowed without TLS; use STARTTLS first\n")
        #expect(try await client.send("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\n") == "b NO [CANNOT] authentication mechanism not available\n")
        #expect(try await client.send("c STARTTLS\n") == "c BAD STARTTLS is not available\n")
    }

    @Test func authenticatePlain() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        // RFC 4959 SASL-IR.
        let answer = try await client.send("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\n")
        #expect(answer.hasPrefix("a OK [CAPABILITY IMAP4rev2 "))
        #expect(answer.hasSuffix("] AUTHENTICATE completed\n"))

        let second = try await TestSession(fixture, shared: IMAPSharedState())
        #expect(try await second.send("b AUTHENTICATE PLAIN\n") == "+ \n")
        #expect(try await second.send("*\n") == "b BAD authentication cancelled\n")
        #expect(try await second.send("c AUTHENTICATE PLAIN\n") == "+ \n")
        #expect(try await second.send("AGFsaWNlAHdyb25n\n") == "c NO [AUTHENTICATIONFAILED] authentication failed\n")
        #expect(try await second.send("d AUTHENTICATE LOGIN\n") == "+ VXNlcm5hbWU6\n")
        #expect(try await second.send("YWxpY2U=\n") == "+ UGFzc3dvcmQ6\n")
        #expect(try await second.send("c2VjcmV0\n").hasPrefix("d OK [CAPABILITY"))
    }

    @Test func enableAndUTF8() async throws {
        let fixture = try await Fixture.make()
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        _ = try await client.send("a CREATE &AOQ-rger\n")
        #expect(try await client.send("b LIST \"\" \"&AOQ-*\"\n") == "* LIST (\\HasNoChildren) \"/\" &AOQ-rger\nb OK LIST completed\n")
        #expect(try await client.send("c ENABLE IMAP4rev2 CONDSTORE X-UNKNOWN\n") == "* ENABLED IMAP4rev2 CONDSTORE\nc OK ENABLE completed\n")
        #expect(try await client.send("d LIST \"\" \"ä*\"\n") == "* LIST (\\HasNoChildren) \"/\" \"ärger\"\nd OK LIST completed\n")
    }

    /// RFC 5161 §3.1: ENABLE belongs before SELECT. With a mailbox selected, CONDSTORE alone
    /// is taken (any CONDSTORE-enabling command may turn it on then, RFC 7162 §3.1), with the
    /// mailbox's HIGHESTMODSEQ; anything else is refused.
    @Test func enableWhileSelected() async throws {
        let fixture = try await Fixture.make()
        try await fixture.deliver(sampleMessage)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a ENABLE UTF8=ACCEPT\n") == "a BAD ENABLE is only allowed before a mailbox is selected\n")
        #expect(try await client.send("b ENABLE CONDSTORE QRESYNC\n") == "b BAD ENABLE is only allowed before a mailbox is selected\n")
        // The mailbox's HIGHESTMODSEQ: 8 after the account's creation and the delivery.
        #expect(try await client.send("c ENABLE CONDSTORE\n") == "* OK [HIGHESTMODSEQ 8] highest mod-sequence\n* ENABLED CONDSTORE\nc OK ENABLE completed\n")
        #expect(try await client.send("d FETCH 1 FLAGS\n") == "* 1 FETCH (FLAGS (\\Recent) MODSEQ (8))\nd OK FETCH completed\n")
        #expect(try await client.send("e ENABLE CONDSTORE\n") == "* ENABLED\ne OK ENABLE completed\n")
    }

    /// An IMAP4rev2 client (RFC 9051): no \Recent or RECENT, a LIST in the SELECT answer,
    /// ESEARCH for SEARCH, [CLOSED] when a mailbox is replaced.
    @Test func imap4rev2Session() async throws {
        let fixture = try await Fixture.make()
        let shared = IMAPSharedState()
        try await fixture.deliver(sampleMessage)
        let watcher = try await TestSession(fixture, shared: shared)
        try await watcher.login()
        try await watcher.select()
        let client = try await TestSession(fixture, shared: shared)
        try await client.login()
        _ = try await client.send("a ENABLE IMAP4rev2\n")
        let select = try await client.send("b SELECT INBOX\n")
        #expect(!select.contains("RECENT") && !select.contains("UNSEEN"))
        #expect(select.contains("* LIST () \"/\" INBOX\n"))
        try await fixture.deliver(sampleMessage)
        #expect(try await client.send("c NOOP\n") == "* 2 EXISTS\nc OK NOOP completed\n")
        #expect(try await client.send("d FETCH 2 FLAGS\n") == "* 2 FETCH (FLAGS ())\nd OK FETCH completed\n")
        #expect(try await client.send("e SEARCH UNSEEN\n") == "* ESEARCH (TAG \"e\") ALL 1:2\ne OK SEARCH completed\n")
        #expect(try await client.send("f UID SEARCH DELETED\n") == "* ESEARCH (TAG \"f\") UID\nf OK SEARCH completed\n")
        #expect(try await client.send("g EXAMINE Sent\n").hasPrefix("* OK [CLOSED] previous mailbox closed\n"))
        // The IMAP4rev1 session that selected first owns \Recent.
        // (A FETCH may not report the new message; NOOP does.)
        #expect(try await watcher.send("h FETCH 2 FLAGS\n") == "h BAD message sequence number 2 does not exist (1 messages)\n")
        #expect(try await watcher.send("i NOOP\n") == "* 2 EXISTS\n* 2 RECENT\ni OK NOOP completed\n")
        #expect(try await watcher.send("j FETCH 2 FLAGS\n") == "* 2 FETCH (FLAGS (\\Recent))\nj OK FETCH completed\n")
    }
}
