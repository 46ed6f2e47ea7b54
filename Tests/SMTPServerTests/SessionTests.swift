import Foundation
import SMTP
import Testing

@testable import SMTPServer

/// example.org has alice and bob; postmaster goes to alice.
struct TestPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        switch recipient {
        case .postmaster: return .local(account: "alice", mailbox: "Inbox")
        case let .mailbox(mailbox):
            guard mailbox.domain.lowercased() == "example.org" || mailbox.domain == "例子.广告" else { return .remote }
            switch mailbox.localPart.lowercased() {
            case "alice", "用户": return .local(account: "alice", mailbox: "Inbox")
            case "bob": return .local(account: "bob", mailbox: "Inbox")
            default: return .unknownUser
            }
        }
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool {
        sender.mailbox?.localPart == account && sender.mailbox?.domain == "example.org"
    }
}

let fixedNow = Date(timeIntervalSince1970: 1_795_301_115)  // 2026-11-21T22:45:15Z

/// Drives a session with command lines and records the replies.
struct Driver {
    var session: Session

    init(kind: Session.Kind = .incoming, configure: (inout Session.Settings) -> Void = { _ in }) {
        var settings = Session.Settings(kind: kind, hostname: "mx.example.org")
        settings.startTLSAvailable = true
        settings.authMechanisms = ["SCRAM-SHA-256", "PLAIN"]
        configure(&settings)
        session = Session(settings: settings, policy: TestPolicy(), now: { fixedNow })
        _ = session.start()
    }

    mutating func send(_ line: String) -> [Session.Action] {
        session.received(line: Array(line.utf8))
    }

    /// The reply codes of a command's actions.
    mutating func codes(_ line: String) -> [Int] {
        send(line).compactMap { if case let .reply(reply) = $0 { reply.code } else { nil } }
    }

    mutating func reply(_ line: String) -> Reply? {
        send(line).compactMap { if case let .reply(reply) = $0 { reply } else { nil } }.first
    }
}

@Suite struct SessionTests {
    /// The delivery outcome in the log is logfmt keys, not Swift's rendering of the enum.
    @Test func deliveryResultLogKeys() {
        #expect(Session.DeliveryResult.delivered(id: "a/1,b/2").logMetadata == ["result": "delivered", "id": "a/1,b/2"])
        #expect(Session.DeliveryResult.temporaryFailure("no queue").logMetadata == ["result": "tempfail", "reason": "no queue"])
        let reply = Reply(452, EnhancedStatus(4, 2, 2), "mailbox full")
        #expect(Session.DeliveryResult.rejected(reply).logMetadata == ["result": "rejected", "reply": "\(reply)"])
    }

    @Test func greetingAndExtensions() {
        var settings = Session.Settings(kind: .incoming, hostname: "mx.example.org")
        settings.maxMessageSize = 1000
        var session = Session(settings: settings, policy: TestPolicy(), now: { fixedNow })
        #expect(session.start() == [.reply(Reply(220, nil, "mx.example.org ESMTP Tern"))])
        #expect(session.received(line: Array("EHLO client.example".utf8)) == [.reply(Reply(250, nil, [
            "mx.example.org", "PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE 1000", "ENHANCEDSTATUSCODES", "CHUNKING",
            "LIMITS RCPTMAX=1000 MAILMAX=1000",
        ]))])
    }

    @Test func extensionsFollowTLSAndKind() {
        var incoming = Driver()
        #expect(incoming.session.extensions().contains("STARTTLS"))
        #expect(!incoming.session.extensions().contains { $0.hasPrefix("AUTH") || $0 == "REQUIRETLS" })
        _ = incoming.send("EHLO c")
        _ = incoming.send("STARTTLS")
        incoming.session.tlsEstablished()
        #expect(incoming.session.extensions().contains("REQUIRETLS"))
        #expect(!incoming.session.extensions().contains("STARTTLS"))

        let submission = Driver(kind: .submission)
        #expect(!submission.session.extensions().contains { $0.hasPrefix("AUTH") })  // no TLS yet
        #expect(!submission.session.extensions().contains { $0.hasPrefix("FUTURERELEASE") })  // nothing can hold mail yet
        let holding = Driver(kind: .submission) { $0.futureReleaseAvailable = true }
        #expect(holding.session.extensions().contains("FUTURERELEASE 2592000 2026-12-21T22:45:15Z"))
        let loopback = Driver(kind: .submission) { $0.plaintextAuthAllowed = true }
        #expect(loopback.session.extensions().contains("AUTH SCRAM-SHA-256 PLAIN"))
    }

    @Test func incomingTransaction() {
        var driver = Driver()
        #expect(driver.codes("EHLO client.example") == [250])
        #expect(driver.reply("MAIL FROM:<sender@remote.example> SIZE=500") == Reply(250, .addressOK, "sender <sender@remote.example> ok"))
        #expect(driver.reply("RCPT TO:<Alice@example.org>") == Reply(250, .destinationValid, "recipient <Alice@example.org> ok"))
        #expect(driver.reply("RCPT TO:<nobody@example.org>") == Reply(550, .badMailbox, "no such user <nobody@example.org>"))
        #expect(driver.reply("RCPT TO:<victim@elsewhere.example>") == Reply(550, .notAuthorized, "relaying denied for <victim@elsewhere.example>"))
        #expect(driver.codes("RCPT TO:<Postmaster>") == [250])
        #expect(driver.send("DATA") == [.reply(Reply(354, nil, "end data with <CR><LF>.<CR><LF>")), .readData(limit: 50 * 1024 * 1024)])
        let actions = driver.session.dataRead(size: 120, exceededLimit: false)
        guard case let .deliver(envelope) = actions.first else {
            Issue.record("expected delivery, got \(actions)")
            return
        }
        #expect(envelope.sender == .mailbox(Mailbox(localPart: "sender", domain: "remote.example")))
        #expect(envelope.recipients.map(\.account) == ["alice", "alice"])
        #expect(envelope.size == 120 && envelope.clientName == "client.example" && envelope.receivedProtocol == "ESMTP")
        #expect(driver.session.delivered(.delivered(id: "abc")) == [.reply(Reply(250, .messageAccepted, "message accepted, id abc"))])
        // The next transaction starts clean.
        #expect(driver.codes("DATA") == [503])
        #expect(driver.codes("MAIL FROM:<>") == [250])
        #expect(driver.codes("QUIT") == [221])
        #expect(driver.session.isClosed)
    }

    @Test func deliveryFailuresAreReplies() {
        var driver = Driver()
        for line in ["EHLO c", "MAIL FROM:<>", "RCPT TO:<bob@example.org>", "DATA"] { _ = driver.send(line) }
        _ = driver.session.dataRead(size: 10, exceededLimit: false)
        #expect(driver.session.delivered(.temporaryFailure("disk full")) == [.reply(Reply(451, .systemError, "temporary failure: disk full"))])
    }

    @Test func ordering() {
        var driver = Driver()
        #expect(driver.reply("MAIL FROM:<a@b.example>") == Reply(503, .invalidCommand, "send EHLO first"))
        _ = driver.send("EHLO c")
        #expect(driver.reply("RCPT TO:<alice@example.org>") == Reply(503, .invalidCommand, "send MAIL first"))
        #expect(driver.codes("DATA") == [503])
        _ = driver.send("MAIL FROM:<a@b.example>")
        #expect(driver.reply("MAIL FROM:<a@b.example>") == Reply(503, .invalidCommand, "nested MAIL command"))
        #expect(driver.reply("DATA") == Reply(554, .invalidCommand, "no valid recipients"))
        #expect(driver.codes("RSET") == [250])
        #expect(driver.codes("RCPT TO:<alice@example.org>") == [503])
    }

    @Test func heloHasNoExtensions() {
        var driver = Driver()
        #expect(driver.send("HELO c") == [.reply(Reply(250, nil, "mx.example.org"))])
        #expect(driver.reply("MAIL FROM:<a@b.example> SIZE=10") == Reply(555, .invalidArguments, "MAIL parameters need EHLO"))
        #expect(driver.codes("MAIL FROM:<a@b.example>") == [250])
    }

    @Test func sizeLimits() {
        var driver = Driver { $0.maxMessageSize = 100 }
        _ = driver.send("EHLO c")
        #expect(driver.reply("MAIL FROM:<a@b.example> SIZE=101") == Reply(552, .messageTooBig, "message size exceeds 100 octets"))
        for line in ["MAIL FROM:<a@b.example> SIZE=50", "RCPT TO:<alice@example.org>", "DATA"] { _ = driver.send(line) }
        #expect(driver.session.dataRead(size: 101, exceededLimit: true) == [.reply(Reply(552, .messageTooBig, "message exceeds 100 octets"))])
        #expect(driver.codes("MAIL FROM:<a@b.example>") == [250])
    }

    @Test func recipientLimit() {
        var driver = Driver { $0.maxRecipients = 2 }
        for line in ["EHLO c", "MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.org>", "RCPT TO:<bob@example.org>"] { _ = driver.send(line) }
        #expect(driver.reply("RCPT TO:<alice@example.org>") == Reply(452, EnhancedStatus(4, 5, 3), "too many recipients"))
    }

    @Test func smtputf8() {
        var driver = Driver()
        _ = driver.send("EHLO c")
        #expect(driver.reply("MAIL FROM:<发件人@remote.example>") == Reply(553, .nonASCIIAddress, "non-ASCII sender needs SMTPUTF8"))
        _ = driver.send("MAIL FROM:<a@b.example>")
        #expect(driver.reply("RCPT TO:<用户@例子.广告>") == Reply(553, .nonASCIIAddress, "non-ASCII recipient needs SMTPUTF8"))
        _ = driver.send("RSET")
        #expect(driver.codes("MAIL FROM:<发件人@remote.example> SMTPUTF8") == [250])
        #expect(driver.codes("RCPT TO:<用户@例子.广告>") == [250])
        _ = driver.send("DATA")
        guard case let .deliver(envelope) = driver.session.dataRead(size: 1, exceededLimit: false).first else { return }
        #expect(envelope.receivedProtocol == "UTF8SMTP")
    }

    @Test func requireTLSNeedsTLS() {
        var driver = Driver()
        _ = driver.send("EHLO c")
        #expect(driver.reply("MAIL FROM:<a@b.example> REQUIRETLS") == Reply(555, .invalidArguments, "REQUIRETLS needs TLS"))
        _ = driver.send("STARTTLS")
        driver.session.tlsEstablished()
        _ = driver.send("EHLO c")
        for line in ["MAIL FROM:<a@b.example> REQUIRETLS", "RCPT TO:<alice@example.org>", "DATA"] { #expect(driver.codes(line).first! < 400) }
        guard case let .deliver(envelope) = driver.session.dataRead(size: 1, exceededLimit: false).first else { return }
        #expect(envelope.parameters.requireTLS && envelope.tls && envelope.receivedProtocol == "ESMTPS")
    }

    @Test func startTLS() {
        var driver = Driver()
        _ = driver.send("EHLO c")
        #expect(driver.send("STARTTLS") == [.reply(Reply(220, .ok, "ready to start TLS")), .startTLS])
        // Anything before the handshake is an injection attempt.
        #expect(driver.send("MAIL FROM:<a@b.example>") == [.reply(Reply(421, .protocolError, "data after STARTTLS")), .close])

        var second = Driver()
        _ = second.send("EHLO c")
        _ = second.send("STARTTLS")
        second.session.tlsEstablished()
        // The session starts over: EHLO again.
        #expect(second.reply("MAIL FROM:<a@b.example>") == Reply(503, .invalidCommand, "send EHLO first"))
        _ = second.send("EHLO c")
        #expect(second.reply("STARTTLS") == Reply(503, .invalidCommand, "TLS already active"))

        var noCertificate = Driver { $0.startTLSAvailable = false }
        _ = noCertificate.send("EHLO c")
        #expect(noCertificate.reply("STARTTLS") == Reply(454, EnhancedStatus(4, 7, 0), "TLS not available"))

        var inTransaction = Driver()
        for line in ["EHLO c", "MAIL FROM:<a@b.example>"] { _ = inTransaction.send(line) }
        #expect(inTransaction.reply("STARTTLS") == Reply(503, .invalidCommand, "STARTTLS inside a transaction"))
    }

    @Test func chunking() {
        var driver = Driver { $0.maxMessageSize = 100 }
        for line in ["EHLO c", "MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.org>"] { _ = driver.send(line) }
        #expect(driver.send("BDAT 40") == [.readChunk(size: 40, discard: false)])
        #expect(driver.session.chunkRead() == [.reply(Reply(250, .ok, "40 octets received"))])
        #expect(driver.reply("DATA") == Reply(503, .invalidCommand, "DATA after BDAT"))
        #expect(driver.send("BDAT 10 LAST") == [.readChunk(size: 10, discard: false)])
        guard case let .deliver(envelope) = driver.session.chunkRead().first else {
            Issue.record("no delivery")
            return
        }
        #expect(envelope.size == 50)
        _ = driver.session.delivered(.delivered(id: "x"))

        // Over the limit: the chunk is read and dropped, then 552, and the transaction is gone.
        for line in ["MAIL FROM:<a@b.example>", "RCPT TO:<alice@example.org>"] { _ = driver.send(line) }
        #expect(driver.send("BDAT 101") == [.readChunk(size: 101, discard: true)])
        #expect(driver.session.chunkRead() == [.reply(Reply(552, .messageTooBig, "message exceeds 100 octets"))])
        // Out of order: the chunk still has to be read off the connection.
        #expect(driver.send("BDAT 5") == [.readChunk(size: 5, discard: true), .reply(Reply(503, .invalidCommand, "send MAIL first"))])
    }

    @Test func submissionNeedsAuthentication() {
        var driver = Driver(kind: .submission)
        _ = driver.send("EHLO c")
        #expect(driver.reply("MAIL FROM:<alice@example.org>") == Reply(530, EnhancedStatus(5, 7, 0), "authentication required"))
        #expect(driver.reply("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == Reply(538, .encryptionRequired, "encryption required for authentication"))
        _ = driver.send("STARTTLS")
        driver.session.tlsEstablished()
        _ = driver.send("EHLO c")
        #expect(driver.reply("AUTH CRAM-MD5") == Reply(504, .invalidArguments, "unsupported mechanism CRAM-MD5"))
        #expect(driver.reply("AUTH PLAIN not-base64!") == Reply(501, .syntaxError, "invalid base64"))
        #expect(driver.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==") == [.authenticate(mechanism: "PLAIN", initialResponse: Array("\0alice\0secret".utf8))])
        #expect(driver.session.authSucceeded(account: "alice") == [.reply(Reply(235, .authenticated, "authentication successful"))])
        #expect(driver.reply("AUTH PLAIN =") == Reply(503, .invalidCommand, "already authenticated"))
        #expect(driver.reply("MAIL FROM:<bob@example.org>") == Reply(550, .notAuthorized, "<bob@example.org> does not belong to your account"))
        #expect(driver.codes("MAIL FROM:<alice@example.org>") == [250])
        #expect(driver.reply("RCPT TO:<friend@elsewhere.example>") == Reply(550, .notAuthorized, "delivery to other domains is not configured on this server"))
        #expect(driver.codes("RCPT TO:<bob@example.org>") == [250])
    }

    @Test func saslExchange() {
        var driver = Driver(kind: .submission) { $0.plaintextAuthAllowed = true }
        _ = driver.send("EHLO c")
        #expect(driver.send("AUTH SCRAM-SHA-256") == [.authenticate(mechanism: "SCRAM-SHA-256", initialResponse: nil)])
        #expect(driver.session.authChallenge(Array("r=nonce".utf8)) == [.reply(Reply(334, nil, "cj1ub25jZQ=="))])
        #expect(driver.send("Yz1iaXdz") == [.authResponse(Array("c=biws".utf8))])
        #expect(driver.session.authFailed() == [.reply(Reply(535, .badCredentials, "authentication failed"))])
        // Canceled and malformed exchanges.
        _ = driver.send("AUTH PLAIN")
        #expect(driver.reply("*") == Reply(501, EnhancedStatus(5, 0, 0), "authentication canceled"))
        _ = driver.send("AUTH PLAIN")
        #expect(driver.reply("%%%") == Reply(501, .syntaxError, "invalid base64"))
        #expect(driver.codes("NOOP") == [250])

        var incoming = Driver()
        _ = incoming.send("EHLO c")
        #expect(incoming.reply("AUTH PLAIN") == Reply(503, .invalidCommand, "AUTH not available here"))
    }

    @Test func futureRelease() {
        var driver = Driver(kind: .submission) { $0.plaintextAuthAllowed = true; $0.maxFutureRelease = 3600; $0.futureReleaseAvailable = true }
        _ = driver.send("EHLO c")
        _ = driver.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
        _ = driver.session.authSucceeded(account: "alice")
        #expect(driver.reply("MAIL FROM:<alice@example.org> HOLDFOR=3601") == Reply(501, .invalidArguments, "HOLDFOR must be 1 to 3600 seconds"))
        #expect(driver.reply("MAIL FROM:<alice@example.org> HOLDFOR=10 HOLDUNTIL=2026-11-21T23:00:00Z") == Reply(501, .invalidArguments, "only one of HOLDFOR and HOLDUNTIL"))
        #expect(driver.reply("MAIL FROM:<alice@example.org> HOLDUNTIL=tomorrow") == Reply(501, .invalidArguments, "HOLDUNTIL is not an RFC 3339 date-time"))
        #expect(driver.reply("MAIL FROM:<alice@example.org> HOLDUNTIL=2026-11-22T00:00:00Z") == Reply(501, .invalidArguments, "HOLDUNTIL is later than 2026-11-21T23:45:15Z"))
        #expect(driver.codes("MAIL FROM:<alice@example.org> HOLDUNTIL=2026-11-21T23:00:00Z") == [250])

        var incoming = Driver()
        _ = incoming.send("EHLO c")
        #expect(incoming.reply("MAIL FROM:<a@b.example> HOLDFOR=10") == Reply(555, .invalidArguments, "FUTURERELEASE not available here"))
        // Without something to hold the message, a hold is refused, not ignored.
        var noQueue = Driver(kind: .submission) { $0.plaintextAuthAllowed = true }
        _ = noQueue.send("EHLO c")
        _ = noQueue.send("AUTH PLAIN AGFsaWNlAHNlY3JldA==")
        _ = noQueue.session.authSucceeded(account: "alice")
        #expect(noQueue.reply("MAIL FROM:<alice@example.org> HOLDFOR=10") == Reply(555, .invalidArguments, "FUTURERELEASE not available here"))
    }

    @Test func miscellaneousCommands() {
        var driver = Driver()
        _ = driver.send("EHLO c")
        #expect(driver.reply("VRFY alice") == Reply(252, EnhancedStatus(2, 5, 0), "cannot verify, but will try delivery"))
        #expect(driver.codes("EXPN list") == [502])
        #expect(driver.codes("HELP") == [214])
        #expect(driver.codes("NOOP") == [250])
        #expect(driver.reply("FROB") == Reply(500, .invalidCommand, "unknown command FROB"))
        #expect(driver.session.lineTooLong() == [.reply(Reply(500, .syntaxError, "line too long"))])
        #expect(driver.session.timedOut() == [.reply(Reply(421, .badConnection, "timeout, closing connection")), .close])
        #expect(driver.send("NOOP") == [])
    }

    @Test func abuseLimits() {
        var errors = Driver { $0.maxErrors = 3 }
        #expect(errors.codes("FROB") == [500])
        #expect(errors.codes("FROB") == [500])
        #expect(errors.send("FROB") == [.reply(Reply(500, .invalidCommand, "unknown command FROB")), .reply(Reply(421, EnhancedStatus(4, 7, 0), "too many errors, closing connection")), .close])

        var idle = Driver { $0.maxIdleCommands = 3 }
        for _ in 0..<3 { #expect(idle.codes("NOOP") == [250]) }
        #expect(idle.codes("NOOP") == [421])

        var transactions = Driver { $0.maxTransactions = 2 }
        _ = transactions.send("EHLO c")
        for _ in 0..<2 {
            #expect(transactions.codes("MAIL FROM:<>") == [250])
            _ = transactions.send("RSET")
        }
        #expect(transactions.send("MAIL FROM:<>") == [.reply(Reply(421, EnhancedStatus(4, 7, 0), "too many transactions, closing connection")), .close])

        var stopping = Driver()
        #expect(stopping.session.shuttingDown() == [.reply(Reply(421, .notAccepting, "mx.example.org shutting down")), .close])
    }
}
