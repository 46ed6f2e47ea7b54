import SASL
import SMTP
import TLSRPT
import Testing

@testable import SMTPClient

@Suite struct SessionSetupTests {
    @Test func greetingAndEHLOExtensions() {
        var driver = Driver()
        #expect(driver.session.start().isEmpty)
        #expect(driver.session.inputTimeout == .seconds(300))
        // RFC 5321 §4.2: a multi-line greeting.
        let afterGreeting = driver.server("220-mx.example.org ESMTP\r\n220 no UCE\r\n")
        #expect(afterGreeting.written == "EHLO client.example\r\n")
        let ready = driver.server("250-mx.example.org hello\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250-auth PLAIN LOGIN\r\n250 SMTPUTF8\r\n")
        #expect(ready == [.ready])
        let extensions = driver.session.extensions
        #expect(extensions.pipelining && extensions.eightBitMIME && extensions.smtpUTF8 && !extensions.startTLS)
        #expect(extensions.maxMessageSize == 1000 && extensions.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(driver.session.greeting?.lines == ["mx.example.org ESMTP", "no UCE"])
        #expect(driver.session.inputTimeout == nil && driver.session.isReady)
    }

    /// RFC 5321 §3.2: a server that does not know EHLO gets HELO, and then no extension
    /// is used.
    @Test func heloFallback() {
        var driver = Driver()
        _ = driver.session.start()
        _ = driver.server("220 old.example\r\n")
        #expect(driver.server("502 5.5.1 command not recognized\r\n").written == "HELO client.example\r\n")
        #expect(driver.server("250 old.example\r\n") == [.ready])
        #expect(driver.session.extensions == ServiceExtensions())
        let actions = driver.session.deliver(envelope(to: ["b@example.org"]))
        #expect(actions.written == "MAIL FROM:<sender@client.example>\r\n")
    }

    @Test func refusedGreetingStillSaysQuit() {
        var driver = Driver()
        _ = driver.session.start()
        let actions = driver.server("554 5.7.1 no service for you\r\n")
        let error = actions.failure
        #expect(error == ClientError(step: .greeting, kind: .reply, code: 554, enhanced: EnhancedStatus(5, 7, 1), text: "no service for you", isPermanent: true))
        #expect(actions.written == "QUIT\r\n")
        #expect(driver.server("221 bye\r\n") == [.close] && driver.session.isClosed)
    }

    @Test func temporaryEHLOFailure() {
        var driver = Driver()
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        // 421: the server is closing; no QUIT after it.
        let actions = driver.server("421 4.3.2 shutting down\r\n")
        #expect(actions.failure?.step == .ehlo && actions.failure?.isPermanent == false && actions.failure?.code == 421)
        #expect(actions.closes && actions.written.isEmpty)
    }

    @Test func quitWhenDone() {
        var driver = Driver.ready([])
        #expect(driver.session.quit().written == "QUIT\r\n")
        #expect(driver.session.inputTimeout == .seconds(30))
        #expect(driver.server("221 2.0.0 bye\r\n") == [.close])
        #expect(driver.session.isClosed)
        // A closed session fails every later transaction at once.
        let result = driver.session.deliver(envelope(to: ["b@example.org"])).completed
        #expect(result?.errors.first??.kind == .connection)
    }
}

@Suite struct SessionTLSTests {
    /// RFC 3207: STARTTLS, then plaintext octets before the handshake are dropped
    /// (§6), and EHLO is said again afterwards (§4.2).
    @Test func startTLSAndInjection() {
        var driver = Driver()
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        #expect(driver.server(Driver.ehloReply(["STARTTLS", "PIPELINING"])).written == "STARTTLS\r\n")
        // An attacker appends a reply behind the 220; it must not answer the next EHLO.
        #expect(driver.server("220 2.0.0 go ahead\r\n250 injected\r\n") == [.startTLS])
        #expect(driver.server("250 more injected\r\n").isEmpty)
        #expect(driver.session.discardedPlaintextOctets == "250 injected\r\n250 more injected\r\n".utf8.count)
        #expect(driver.session.inputTimeout == .seconds(60))
        #expect(driver.session.tlsEstablished(tlsState(verified: false)).written == "EHLO client.example\r\n")
        #expect(!driver.session.extensions.pipelining, "what was learned before TLS is forgotten")
        #expect(driver.server(Driver.ehloReply(["PIPELINING", "REQUIRETLS"])) == [.ready])
        #expect(driver.session.tls?.version == .tlsv13 && driver.session.extensions.requireTLS)
    }

    @Test func requiredTLSNotOffered() {
        var driver = Driver { $0.tls.required = true }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        let actions = driver.server(Driver.ehloReply(["PIPELINING"]))
        #expect(actions.failure?.step == .startTLS && actions.failure?.kind == .tls && actions.failure?.isPermanent == false)
        #expect(actions.written == "QUIT\r\n")
    }

    /// RFC 3207 §4: a refused STARTTLS is not fatal for opportunistic TLS, but is when TLS
    /// is required (and then temporary: RFC 7672 §2.2 defers).
    @Test func refusedSTARTTLS() {
        var opportunistic = Driver()
        _ = opportunistic.session.start()
        _ = opportunistic.server("220 mx\r\n")
        _ = opportunistic.server(Driver.ehloReply(["STARTTLS"]))
        #expect(opportunistic.server("454 4.7.0 TLS not available\r\n") == [.ready])
        #expect(opportunistic.session.tls == nil)

        var required = Driver { $0.tls.required = true }
        _ = required.session.start()
        _ = required.server("220 mx\r\n")
        _ = required.server(Driver.ehloReply(["STARTTLS"]))
        let failure = required.server("554 5.7.0 no TLS here\r\n").failure
        #expect(failure?.step == .startTLS && failure?.kind == .tls && failure?.code == 554 && failure?.isPermanent == false)
        // RFC 8460 §4.3.1: for a TLS report, the MX did not support STARTTLS.
        #expect(failure?.tlsFailure?.resultType == .starttlsNotSupported && failure?.tlsFailure?.reason == .startTLSRefused)
    }

    /// TLS required and STARTTLS not offered: a temporary TLS failure, "starttls-not-supported".
    @Test func requiredSTARTTLSNotOffered() {
        var driver = Driver { $0.tls.required = true }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        let failure = driver.server(Driver.ehloReply(["PIPELINING"])).failure
        #expect(failure?.step == .startTLS && failure?.kind == .tls && failure?.isPermanent == false)
        #expect(failure?.tlsFailure == TLSSessionFailure(resultType: .starttlsNotSupported, reason: .startTLSNotOffered, detail: "STARTTLS not offered"))
    }

    @Test func noSTARTTLSWhenNotWanted() {
        var driver = Driver { $0.tls.useSTARTTLS = false }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        #expect(driver.server(Driver.ehloReply(["STARTTLS"])) == [.ready])
    }

    @Test func implicitTLS() {
        var driver = Driver { $0.tls.implicitTLS = true }
        #expect(driver.session.start() == [.startTLS])
        #expect(driver.session.tlsEstablished(tlsState(verified: true)).isEmpty)
        #expect(driver.server("220 mx\r\n").written == "EHLO client.example\r\n")
        #expect(driver.server(Driver.ehloReply(["STARTTLS"])) == [.ready], "no STARTTLS over TLS")
    }

    /// The server rejects the client's certificate after the handshake (TLS 1.3): the
    /// alert arrives on the first read, while EHLO waits for its reply.
    @Test func alertAfterHandshake() {
        var driver = Driver()
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        _ = driver.server(Driver.ehloReply(["STARTTLS"]))
        _ = driver.server("220 go ahead\r\n")
        _ = driver.session.tlsEstablished(tlsState(verified: false))
        let actions = driver.session.tlsFailed(TLSFailure(text: "TLS failed", alert: TLSAlert(code: 116)))
        let error = actions.failure
        #expect(error?.step == .ehlo && error?.kind == .tls && error?.tlsAlert?.name == "certificate_required" && error?.isPermanent == false)
        #expect(error?.tlsFailure?.resultType == .validationFailure && error?.tlsFailure?.reason.description == "alert-certificate_required")
        #expect(actions.closes && driver.session.isClosed)
    }

    /// A server that offers STARTTLS and drops the connection in the handshake: a TLS
    /// failure, so that opportunistic delivery can retry in plaintext.
    @Test func connectionLostInHandshake() {
        var driver = Driver()
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        _ = driver.server(Driver.ehloReply(["STARTTLS"]))
        _ = driver.server("220 go ahead\r\n")
        let failure = driver.session.connectionClosed().failure
        #expect(failure == ClientError(
            step: .tlsHandshake, kind: .tls, enhanced: EnhancedStatus(4, 7, 0), text: "TLS failed: connection closed by the server", isPermanent: false,
            tlsFailure: TLSSessionFailure(resultType: .validationFailure, reason: .eof, detail: "connection closed by the server")))
    }

    @Test func alertFromBoringSSLText() {
        let text = "handshakeFailed(sslError([Error: 268435572 error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED at x.cc:1]))"
        #expect(TLSAlert(boringSSLErrorText: text) == TLSAlert(code: 116))
        #expect(TLSAlert(boringSSLErrorText: "error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE")?.name == "bad_certificate")
        #expect(TLSAlert(boringSSLErrorText: "error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED") == nil)
    }
}

@Suite struct SessionTransactionTests {
    let pipelining = ["PIPELINING", "8BITMIME", "SIZE 100000", "ENHANCEDSTATUSCODES"]

    /// RFC 2920: MAIL, the RCPTs and DATA in one write, replies counted off against them,
    /// a result per recipient.
    @Test func pipelinedMixedRecipients() {
        var driver = Driver.ready(pipelining)
        let sent = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org", "d@example.org"]))
        #expect(sent.written == "MAIL FROM:<sender@client.example> SIZE=100\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n")
        #expect(sent.count == 1, "one write for the whole group")
        #expect(driver.session.inputTimeout == .seconds(300))
        #expect(driver.server("250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n").isEmpty)
        #expect(driver.session.inputTimeout == .seconds(300))
        #expect(driver.server("250 2.1.5 ok\r\n") == [])
        #expect(driver.session.inputTimeout == .seconds(120), "RFC 5321 §4.5.3.2.4: DATA initiation")
        #expect(driver.server("354 go ahead\r\n") == [.sendMessage(.dotStuffed)])
        #expect(driver.session.inputTimeout == nil)
        #expect(driver.session.messageSent().isEmpty)
        #expect(driver.session.inputTimeout == .seconds(600), "RFC 5321 §4.5.3.2.6: DATA termination")
        let result = driver.server("250 2.0.0 queued as X\r\n").completed
        #expect(result?.delivered == [.mailbox(mailbox("b@example.org")), .mailbox(mailbox("d@example.org"))])
        let failed = result?.failed.first
        #expect(failed?.recipient == .mailbox(mailbox("c@example.org")))
        #expect(failed?.error == ClientError(step: .rcpt, kind: .reply, code: 550, enhanced: .badMailbox, text: "no such user", isPermanent: true))
        if case let .delivered(reply)? = result?.recipients.first?.outcome {
            #expect(reply == Reply(250, .ok, "queued as X"))
        } else {
            Issue.record("first recipient not delivered")
        }
        #expect(driver.session.isReady)
    }

    @Test func allRecipientsRejected() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["x@example.org", "y@example.org"]))
        let actions = driver.server("250 ok\r\n550 5.1.1 unknown\r\n452 4.2.2 mailbox full\r\n554 5.5.1 no valid recipients\r\n")
        #expect(!actions.contains(.sendMessage(.dotStuffed)))
        let result = actions.completed
        #expect(result?.errors.map { $0?.code } == [550, 452])
        #expect(result?.errors.map { $0?.isPermanent } == [true, false])
        #expect(driver.session.isReady)
    }

    /// RFC 2920 §3.1: DATA accepted although no recipient was: a single dot, and the reply
    /// to it changes nothing.
    @Test func dataAcceptedWithoutRecipients() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["x@example.org"]))
        let actions = driver.server("250 ok\r\n550 5.1.1 unknown\r\n354 go ahead\r\n")
        #expect(actions.written == ".\r\n")
        let result = driver.server("250 2.0.0 ok, nothing\r\n").completed
        #expect(result?.errors.first??.code == 550 && result?.delivered.isEmpty == true)
    }

    /// The server refuses the sender and hangs up: every recipient gets the permanent MAIL
    /// error, not a read error for the later commands.
    @Test func mailRejectedThenClosedWhilePipelining() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"]))
        #expect(driver.server("550 5.7.1 sender blocked\r\n").isEmpty)
        let actions = driver.session.connectionClosed()
        let expected = ClientError(step: .mail, kind: .reply, code: 550, enhanced: .notAuthorized, text: "sender blocked", isPermanent: true)
        #expect(actions.completed?.errors == [expected, expected])
        #expect(actions.closes && driver.session.isClosed)
        #expect(driver.session.closingError?.kind == .connection)
    }

    /// Still open after the refused MAIL: the replies to RCPT and DATA (503) are not what
    /// the recipients get.
    @Test func mailRejectedWhilePipelining() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["b@example.org"]))
        let result = driver.server("451 4.7.1 greylisted\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need RCPT\r\n").completed
        #expect(result?.errors.first??.step == .mail && result?.errors.first??.code == 451 && result?.errors.first??.isPermanent == false)
    }

    /// Without PIPELINING, one command per reply, and nothing after a refused MAIL. The
    /// connection is reused, with RSET first.
    @Test func lockStepAndReuse() {
        var driver = Driver.ready(["8BITMIME"])
        #expect(driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"])).written == "MAIL FROM:<sender@client.example>\r\n")
        #expect(driver.server("250 ok\r\n").written == "RCPT TO:<b@example.org>\r\n")
        #expect(driver.server("550 no\r\n").written == "RCPT TO:<c@example.org>\r\n")
        #expect(driver.server("250 ok\r\n").written == "DATA\r\n")
        #expect(driver.server("354 go\r\n") == [.sendMessage(.dotStuffed)])
        _ = driver.session.messageSent()
        let first = driver.server("250 ok\r\n").completed
        #expect(first?.delivered.count == 1 && first?.failed.count == 1)

        #expect(driver.session.deliver(envelope(to: ["b@example.org"])).written == "RSET\r\n")
        #expect(driver.server("250 reset\r\n").written == "MAIL FROM:<sender@client.example>\r\n")
        let refused = driver.server("553 5.1.8 bad sender\r\n")
        #expect(refused.written.isEmpty)
        #expect(refused.completed?.errors.first??.step == .mail)

        // All recipients refused: no DATA.
        _ = driver.session.deliver(envelope(to: ["b@example.org"]))
        _ = driver.server("250 reset\r\n")
        _ = driver.server("250 ok\r\n")
        let noData = driver.server("550 no\r\n")
        #expect(noData.written.isEmpty && noData.completed?.errors.first??.step == .rcpt)
    }

    @Test func resetBetweenPipelinedTransactions() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["b@example.org"]))
        _ = driver.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = driver.session.messageSent()
        _ = driver.server("250 ok\r\n")
        #expect(driver.session.deliver(envelope(to: ["c@example.org"])).written.hasPrefix("RSET\r\nMAIL FROM:"))
        let failed = driver.server("500 5.5.1 what\r\n")
        #expect(failed.completed?.errors.first??.step == .rset && failed.written == "QUIT\r\n")
    }

    @Test func finalReplyRefused() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"]))
        _ = driver.server("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        _ = driver.session.messageSent()
        let result = driver.server("554 5.6.0 content rejected\r\n").completed
        #expect(result?.errors.map { $0?.step } == [.endOfData, .endOfData])
        #expect(result?.errors.first??.isPermanent == true)
    }

    /// RFC 1870 §6: a message over the server's SIZE is not sent, and that is permanent.
    @Test func sizeExceeded() {
        var driver = Driver.ready(["SIZE 1000"])
        let actions = driver.session.deliver(envelope(to: ["b@example.org"], size: 1001))
        #expect(actions.written.isEmpty)
        let error = actions.completed?.errors.first ?? nil
        #expect(error?.step == .mail && error?.kind == .unsupportedByServer && error?.enhanced == .messageTooBig && error?.isPermanent == true)
        #expect(driver.session.isReady)
    }

    /// A filtering front server may hide 8BITMIME or SMTPUTF8: temporary.
    @Test func missingExtensionsAreTemporary() {
        var driver = Driver.ready(["PIPELINING"])
        let eightBit = driver.session.deliver(envelope(to: ["b@example.org"], body: .eightBitMIME)).completed?.errors.first ?? nil
        #expect(eightBit?.kind == .unsupportedByServer && eightBit?.enhanced == EnhancedStatus(4, 6, 3) && eightBit?.isPermanent == false)
        let header = driver.session.deliver(envelope(to: ["b@example.org"], utf8Header: true)).completed?.errors.first ?? nil
        #expect(header?.enhanced == EnhancedStatus(4, 6, 9) && header?.isPermanent == false)
        let address = driver.session.deliver(envelope(to: ["用户@example.org"])).completed?.errors.first ?? nil
        #expect(address?.enhanced == EnhancedStatus(4, 6, 7) && address?.isPermanent == false)
        let binary = driver.session.deliver(envelope(to: ["b@example.org"], body: .binaryMIME)).completed?.errors.first ?? nil
        #expect(binary?.enhanced == EnhancedStatus(4, 6, 3))
        #expect(driver.session.isReady)
    }

    /// With the extensions, their parameters go on MAIL; an internationalized domain alone
    /// goes out as A-labels and needs no SMTPUTF8.
    @Test func parametersAndInternationalizedDomains() {
        var driver = Driver.ready(["PIPELINING", "8BITMIME", "SMTPUTF8", "SIZE"])
        let utf8 = driver.session.deliver(envelope(to: ["用户@例子.广告"], body: .eightBitMIME))
        #expect(utf8.written.hasPrefix("MAIL FROM:<sender@client.example> SIZE=100 BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<用户@xn--fsqu00a.xn--4rr70v>\r\n"))

        var plain = Driver.ready(["PIPELINING"])
        let ascii = plain.session.deliver(envelope(to: ["bob@例子.广告"]))
        #expect(ascii.written == "MAIL FROM:<sender@client.example>\r\nRCPT TO:<bob@xn--fsqu00a.xn--4rr70v>\r\nDATA\r\n")
    }

    /// RFC 8689 §4.2.1: REQUIRETLS needs verified TLS and the extension; a bounce goes
    /// on without it (§5).
    @Test func requireTLS() {
        var plaintext = Driver.ready(["PIPELINING", "REQUIRETLS"])
        let noTLS = plaintext.session.deliver(envelope(to: ["b@example.org"], requireTLS: true)).completed?.errors.first ?? nil
        #expect(noTLS?.enhanced == EnhancedStatus(5, 7, 10) && noTLS?.kind == .tls && noTLS?.isPermanent == true)

        func overTLS(verified: Bool, keywords: [String]) -> Driver {
            var driver = Driver()
            _ = driver.session.start()
            _ = driver.server("220 mx\r\n")
            _ = driver.server(Driver.ehloReply(["STARTTLS"]))
            _ = driver.server("220 go\r\n")
            _ = driver.session.tlsEstablished(tlsState(verified: verified))
            _ = driver.server(Driver.ehloReply(keywords))
            return driver
        }
        var unverified = overTLS(verified: false, keywords: ["PIPELINING", "REQUIRETLS"])
        let notVerified = unverified.session.deliver(envelope(to: ["b@example.org"], requireTLS: true)).completed?.errors.first ?? nil
        #expect(notVerified?.enhanced == EnhancedStatus(5, 7, 10) && notVerified?.text.contains("not verified") == true)

        var notOffered = overTLS(verified: true, keywords: ["PIPELINING"])
        let missing = notOffered.session.deliver(envelope(to: ["b@example.org"], requireTLS: true)).completed?.errors.first ?? nil
        #expect(missing?.enhanced == .requireTLSRequired && missing?.kind == .unsupportedByServer && missing?.isPermanent == true)
        let bounce = notOffered.session.deliver(envelope(from: "", to: ["b@example.org"], requireTLS: true))
        #expect(bounce.written == "MAIL FROM:<>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")

        var good = overTLS(verified: true, keywords: ["PIPELINING", "REQUIRETLS"])
        #expect(good.session.deliver(envelope(to: ["b@example.org"], requireTLS: true)).written.hasPrefix("MAIL FROM:<sender@client.example> REQUIRETLS\r\n"))
    }

    /// RFC 3030: with CHUNKING the message goes as one BDAT LAST, once a recipient is
    /// accepted; BINARYMIME needs it.
    @Test func chunking() {
        var driver = Driver.ready(["PIPELINING", "CHUNKING", "BINARYMIME"])
        let sent = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"], size: 42, body: .binaryMIME))
        #expect(sent.written == "MAIL FROM:<sender@client.example> BODY=BINARYMIME\r\nRCPT TO:<b@example.org>\r\nRCPT TO:<c@example.org>\r\n")
        let bdat = driver.server("250 ok\r\n250 ok\r\n550 no\r\n")
        #expect(bdat == [.write(Array("BDAT 42 LAST\r\n".utf8)), .sendMessage(.raw)])
        _ = driver.session.messageSent()
        #expect(driver.session.inputTimeout == .seconds(600))
        let result = driver.server("250 2.0.0 ok\r\n").completed
        #expect(result?.delivered.count == 1 && result?.errors.last??.step == .rcpt)

        // No recipient accepted: no BDAT.
        _ = driver.session.deliver(envelope(to: ["c@example.org"]))
        let none = driver.server("250 ok\r\n250 ok\r\n550 no\r\n")
        #expect(none.written.isEmpty && none.completed != nil)

        var failed = Driver.ready(["CHUNKING"])
        _ = failed.session.deliver(envelope(to: ["b@example.org"], size: 5))
        _ = failed.server("250 ok\r\n")
        _ = failed.server("250 ok\r\n")
        _ = failed.session.messageSent()
        #expect(failed.server("552 5.3.4 too big\r\n").completed?.errors.first??.step == .bdat)

        var dataInstead = Driver.ready(["PIPELINING", "CHUNKING"]) { $0.useChunking = false }
        #expect(dataInstead.session.deliver(envelope(to: ["b@example.org"])).written.hasSuffix("DATA\r\n"))
    }

    @Test func addressesThatCannotBeWritten() {
        var driver = Driver.ready(["PIPELINING"])
        let actions = driver.session.deliver(OutboundEnvelope(
            sender: .mailbox(mailbox("a@client.example")),
            recipients: [.mailbox(Mailbox(localPart: "evil\r\nRSET", domain: "example.org")), .mailbox(mailbox("b@example.org"))], size: 10))
        #expect(actions.written == "MAIL FROM:<a@client.example>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        _ = driver.server("250 ok\r\n250 ok\r\n354 go\r\n")
        _ = driver.session.messageSent()
        let result = driver.server("250 ok\r\n").completed
        #expect(result?.errors.first??.kind == .invalidAddress && result?.errors.first??.isPermanent == true)
        #expect(result?.delivered == [.mailbox(mailbox("b@example.org"))])

        let sender = driver.session.deliver(OutboundEnvelope(
            sender: .mailbox(Mailbox(localPart: "a\nb", domain: "x.example")), recipients: [.mailbox(mailbox("b@example.org"))], size: 1))
        #expect(sender.written.isEmpty && sender.completed?.errors.first??.enhanced == .badSenderSyntax)
        #expect(driver.session.deliver(envelope(to: [])).completed == TransactionResult(recipients: []))
    }

    /// RFC 5321 §4.5.3.2: a timeout names the command that waited.
    @Test func timeouts() {
        var driver = Driver.ready(pipelining) { $0.timeouts.rcpt = .seconds(7) }
        _ = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"]))
        _ = driver.server("250 ok\r\n250 ok\r\n")
        #expect(driver.session.inputTimeout == .seconds(7))
        let actions = driver.session.timedOut()
        let result = actions.completed
        // The accepted one was not delivered either: the transaction did not finish.
        #expect(result?.errors.count == 2 && result?.delivered.isEmpty == true)
        for error in result?.errors ?? [] {
            #expect(error?.step == .rcpt && error?.kind == .timeout && error?.isPermanent == false && error?.text == "no reply within 7.0 seconds")
        }
        #expect(actions.closes)
    }

    /// RFC 5321 §3.8: 421 in the middle ends the session; the connection is not used again.
    @Test func serviceClosing() {
        var driver = Driver.ready(pipelining)
        _ = driver.session.deliver(envelope(to: ["b@example.org", "c@example.org"]))
        let actions = driver.server("250 ok\r\n421 4.4.5 too busy\r\n")
        #expect(actions.completed?.errors.map { $0?.code } == [421, 421])
        #expect(actions.closes && !actions.written.contains("QUIT"))
    }
}

@Suite struct SessionReplyLimitTests {
    @Test func malformedReply() {
        var driver = Driver()
        _ = driver.session.start()
        let actions = driver.server("hello there\r\n")
        #expect(actions.failure?.kind == .protocolViolation && actions.failure?.step == .greeting)
        #expect(actions.failure?.text == "malformed reply line \"hello there\"" && actions.closes)
    }

    @Test func overLongLine() {
        var driver = Driver { $0.replyLimits = ReplyReader.Limits(maxLineLength: 100, maxLines: 10) }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        // No line end at all: still refused once past the limit, not buffered.
        let actions = driver.server("250-" + String(repeating: "x", count: 200))
        #expect(actions.failure?.step == .ehlo && actions.failure?.text == "reply line longer than 100 octets")
        #expect(driver.session.isClosed)
    }

    @Test func tooManyLines() {
        var driver = Driver { $0.replyLimits = ReplyReader.Limits(maxLineLength: 100, maxLines: 10) }
        _ = driver.session.start()
        _ = driver.server("220 mx\r\n")
        let actions = driver.server(String(repeating: "250-X\r\n", count: 11))
        #expect(actions.failure?.kind == .protocolViolation && actions.failure?.text == "reply of more than 10 lines")
    }

    @Test func unexpectedReplyWhileIdle() {
        var driver = Driver.ready([])
        let actions = driver.server("250 surprise\r\n")
        #expect(actions.failure?.kind == .protocolViolation && actions.closes)
        var closing = Driver.ready([])
        _ = closing.server("421 4.4.2 idle too long\r\n")
        #expect(closing.session.closingError?.code == 421)
        #expect(closing.session.deliver(envelope(to: ["b@example.org"])).completed?.errors.first??.code == 421)
    }
}
