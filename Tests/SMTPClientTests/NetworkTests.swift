import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import SASL
import SMTP
import Synchronization
import TLSRPT
import Testing

@testable import SMTPClient

func configuration(_ configure: (inout ClientConfiguration) -> Void = { _ in }) -> ClientConfiguration {
    var configuration = ClientConfiguration(localHostname: "client.example")
    configure(&configuration)
    return configuration
}

/// Servers with odd behaviour, scripted, over real loopback sockets.
@Suite struct ScriptedServerTests {
    /// The server reads the whole pipelined group, refuses the sender and hangs up.
    @Test func mailRefusedThenClosed() async throws {
        try await withFakeServer({ peer in
            try await peer.send("220 fake ESMTP\r\n")
            _ = try await peer.line()
            try await peer.send("250-fake\r\n250 PIPELINING\r\n")
            var group: [String] = []
            for _ in 0..<4 { group.append(try await peer.line() ?? "") }
            #expect(group == ["MAIL FROM:<sender@client.example>", "RCPT TO:<b@example.org>", "RCPT TO:<c@example.org>", "DATA"])
            try await peer.send("550 5.7.1 sender refused\r\n")
        }) { port in
            let result = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { connection in
                let result = await connection.deliver(envelope(to: ["b@example.org", "c@example.org"]), content: MessageBytes(Array("x\r\n".utf8)))
                #expect(!connection.isUsable)
                return result
            }
            for error in result.errors {
                #expect(error == ClientError(step: .mail, kind: .reply, code: 550, enhanced: .notAuthorized, text: "sender refused", isPermanent: true))
            }
            #expect(result.errors.count == 2)
        }
    }

    /// RFC 5321 §4.5.3.2: no reply in time is a timeout error for the command waiting.
    @Test func silentServerTimesOut() async throws {
        try await withFakeServer({ peer in
            try await peer.send("220 fake ESMTP\r\n")
            await peer.drain()
        }) { port in
            let clock = ContinuousClock()
            let start = clock.now
            do {
                _ = try await ClientConnection.withConnection(
                    to: loopback, port: port, configuration: configuration { $0.timeouts.command = .milliseconds(200) }
                ) { _ in 0 }
                Issue.record("no error from a silent server")
            } catch let error as ClientError {
                #expect(error.step == .ehlo && error.kind == .timeout && !error.isPermanent)
            }
            #expect(clock.now - start < .seconds(30))
        }
    }

    @Test func connectionRefused() async throws {
        // A port that was free a moment ago.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        do {
            _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { _ in 0 }
            Issue.record("connected to a closed port")
        } catch let error as ClientError {
            #expect(error.step == .connect && error.kind == .connection && error.enhanced == EnhancedStatus(4, 4, 1))
        }
    }

    /// RFC 3207 §6: a reply injected behind the 220 to STARTTLS, in plaintext, must not
    /// be read as the reply to the EHLO that follows over TLS.
    @Test func injectionAfterSTARTTLSIsDropped() async throws {
        let context = try NIOSSLContext(configuration: TestTLS.serverConfiguration())
        try await withFakeServer({ peer in
            try await peer.send("220 fake ESMTP\r\n")
            _ = try await peer.line()
            try await peer.send("250-fake\r\n250 STARTTLS\r\n")
            #expect(try await peer.line() == "STARTTLS")
            try await peer.send("220 go ahead\r\n554 5.7.0 injected\r\n")
            try await peer.startTLS(context)
            #expect(try await peer.line() == "EHLO client.example")
            try await peer.send("250-fake over TLS\r\n250 8BITMIME\r\n")
            #expect(try await peer.line() == "QUIT")
            try await peer.send("221 bye\r\n")
        }) { port in
            let version = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { connection in
                #expect(connection.extensions.eightBitMIME)
                return connection.tls?.version
            }
            #expect(version == .tlsv13)
        }
    }

    /// The server wants a client certificate. With TLS 1.3 the client's handshake is done
    /// before the server has looked at it; the server's alert arrives on the first read,
    /// while EHLO waits for its reply, and is reported as the TLS error it is.
    @Test func alertAfterHandshake() async throws {
        var server = try TestTLS.serverConfiguration()
        server.certificateVerification = .noHostnameVerification
        server.trustRoots = .certificates([try NIOSSLCertificate(bytes: TestTLS.certificate().certificateDER, format: .der)])
        server.minimumTLSVersion = .tlsv13
        let context = try NIOSSLContext(configuration: server)
        try await withFakeServer({ peer in
            try await peer.send("220 fake ESMTP\r\n")
            _ = try await peer.line()
            try await peer.send("250-fake\r\n250 STARTTLS\r\n")
            _ = try await peer.line()
            try await peer.send("220 go ahead\r\n")
            try await peer.startTLS(context)
            await peer.drain()
        }) { port in
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { _ in 0 }
                Issue.record("the server's alert went unnoticed")
            } catch let error as ClientError {
                #expect(error.step == .ehlo && error.kind == .tls && !error.isPermanent)
                #expect(error.tlsAlert == TLSAlert(code: 116), "certificate_required: \(error)")
                #expect(error.text.contains("certificate_required (116)"))
            }
        }
    }

    /// A DATA body is dot-stuffed on the wire, also across the pieces it is read in.
    @Test func dotStuffingOnTheWire() async throws {
        let received = Received()
        try await withFakeServer({ peer in
            try await peer.send("220 fake ESMTP\r\n")
            _ = try await peer.line()
            try await peer.send("250 fake\r\n")
            for _ in 0..<3 {
                _ = try await peer.line()
                try await peer.send("250 ok\r\n")
            }
            _ = try await peer.line()
            try await peer.send("354 go\r\n")
            var lines: [String] = []
            while let line = try await peer.line(), line != "." { lines.append(line) }
            received.lines.withLock { $0 = lines }
            try await peer.send("250 2.0.0 ok\r\n")
            #expect(try await peer.line() == "QUIT")
            try await peer.send("221 bye\r\n")
        }) { port in
            let message = ".hidden\r\n..two\r\nplain\r\n.\r\nlast line without end"
            let result = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { connection in
                await connection.deliver(
                    envelope(to: ["b@example.org", "c@example.org"], size: message.utf8.count),
                    content: MessageBytes(Array(message.utf8), pieceSize: 1))
            }
            #expect(result.delivered.count == 2)
            #expect(received.lines.withLock { $0 } == ["..hidden", "...two", "plain", "..", "last line without end"])
        }
    }
}

/// What a scripted server saw, for the test to check afterwards.
final class Received: Sendable {
    let lines = Mutex<[String]>([])
}

/// Against Tern's own SMTP server, in-process.
@Suite struct TernServerTests {
    /// Two messages over one connection (RSET between), pipelined, with BDAT since Tern
    /// offers CHUNKING; a result per recipient.
    @Test func deliveryIntoTern() async throws {
        try await withTernServer { port, deliverer in
            let first = "Subject: one\r\n\r\nhello\r\n"
            let second = "Subject: two\r\n\r\n.dot\r\n"
            let results = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { connection in
                #expect(connection.extensions.pipelining && connection.extensions.chunking && connection.tls == nil)
                let one = await connection.deliver(
                    envelope(to: ["alice@example.org", "nobody@example.org"], size: first.utf8.count), content: MessageBytes(Array(first.utf8)))
                let two = await connection.deliver(envelope(to: ["bob@example.org"], size: second.utf8.count), content: MessageBytes(Array(second.utf8)))
                return [one, two]
            }
            #expect(results[0].delivered == [.mailbox(mailbox("alice@example.org"))])
            let refused = results[0].failed.first
            #expect(refused?.recipient == .mailbox(mailbox("nobody@example.org")))
            #expect(refused?.error.step == .rcpt && refused?.error.code == 550 && refused?.error.enhanced == .badMailbox && refused?.error.isPermanent == true)
            #expect(results[1].delivered == [.mailbox(mailbox("bob@example.org"))])
            let stored = deliverer.stored
            #expect(stored.count == 2)
            #expect(stored.first?.bytes.text.hasSuffix(first) == true && stored.last?.bytes.text.hasSuffix(second) == true)
            #expect(stored.first?.envelope.recipients.map(\.account) == ["alice"] && stored.last?.envelope.recipients.map(\.account) == ["bob"])
        }
    }

    /// DATA instead of BDAT: Tern unstuffs what the client stuffed.
    @Test func dataRoundTrip() async throws {
        try await withTernServer { port, deliverer in
            let message = "Subject: dots\r\n\r\n.one\r\n..two\r\n.\r\nend\r\n"
            let result = try await ClientConnection.withConnection(
                to: loopback, port: port, configuration: configuration { $0.useChunking = false }
            ) { connection in
                await connection.deliver(envelope(to: ["alice@example.org"], size: message.utf8.count), content: MessageBytes(Array(message.utf8), pieceSize: 2))
            }
            #expect(result.delivered.count == 1)
            #expect(deliverer.stored.first?.bytes.text.hasSuffix("\r\n" + message) == true)
        }
    }

    /// Submission with SCRAM-SHA-256 (loopback allows AUTH without TLS).
    @Test func submissionWithSCRAM() async throws {
        try await withTernServer(kind: .submission, authentication: true) { port, deliverer in
            let message = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
            let config = configuration {
                $0.authentication = ClientAuthentication(
                    credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"), mechanism: .scramSHA256)
            }
            let mechanism = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { connection in
                let result = await connection.deliver(
                    envelope(from: "alice@example.org", to: ["bob@example.org"], size: message.utf8.count), content: MessageBytes(Array(message.utf8)))
                #expect(result.delivered.count == 1, "\(result)")
                return connection.authenticatedMechanism
            }
            #expect(mechanism == .scramSHA256)
            #expect(deliverer.stored.first?.envelope.authenticatedAccount == "alice")

            var wrong = config
            wrong.authentication?.credentials.password = "wrong"
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: wrong) { _ in 0 }
                Issue.record("authenticated with a wrong password")
            } catch let error as ClientError {
                #expect(error.step == .auth && error.code == 535 && error.isPermanent)
            }
        }
    }

    /// STARTTLS verified against a private CA as trust root, then the
    /// strongest mechanism, SCRAM-SHA-256-PLUS with tls-exporter, and REQUIRETLS.
    @Test func submissionOverVerifiedTLS() async throws {
        let ca = try TestCA()
        try await withTernServer(kind: .submission, tls: try TestTLS.serverContext(issuedBy: ca), authentication: true) { port, deliverer in
            let message = "From: alice@example.org\r\nSubject: secret\r\n\r\nbody\r\n"
            let root = ca.root
            let config = configuration {
                $0.tls.required = true
                $0.tls.serverName = "localhost"
                $0.tls.pkix = PKIXVerification(names: ["localhost"], trustRoots: .certificates([root]))
                $0.authentication = ClientAuthentication(credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"))
            }
            let state = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { connection in
                let result = await connection.deliver(
                    envelope(from: "alice@example.org", to: ["bob@example.org"], size: message.utf8.count, requireTLS: true),
                    content: MessageBytes(Array(message.utf8)))
                #expect(result.delivered.count == 1, "\(result)")
                #expect(connection.authenticatedMechanism == .scramSHA256Plus)
                return connection.tls
            }
            #expect(state?.version == .tlsv13 && state?.pkix == .verified && state?.isVerified == true && state?.serverName == "localhost")
            #expect(state?.peerCertificates.der == [ca.leafDER])
            #expect(state?.channelBinding?.type == "tls-exporter")
            let stored = deliverer.stored.first
            #expect(stored?.envelope.parameters.requireTLS == true && stored?.envelope.tls == true)
        }
    }

    /// TLS 1.2: the client computes tls-unique (RFC 5929 §3.1) with its own recorder and
    /// authenticates with SCRAM-SHA-256-PLUS, which Tern accepts only if its own tls-unique
    /// is the same.
    @Test func scramPlusOverTLS12() async throws {
        try await withTernServer(kind: .submission, tls: try TestTLS.serverContext(maximumVersion: .tlsv12), authentication: true) { port, _ in
            let config = configuration {
                $0.tls.required = true
                $0.tls.ignoreVerificationErrors = true
                $0.authentication = ClientAuthentication(credentials: SASLClientCredentials(username: "alice@example.org", password: "secret"))
            }
            let state = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { connection in
                #expect(connection.authenticatedMechanism == .scramSHA256Plus)
                return connection.tls
            }
            #expect(state?.version == .tlsv12)
            #expect(state?.channelBinding?.type == "tls-unique")
            #expect(state?.channelBinding?.data.count == 12)
        }
    }

    /// PKIX against the system roots: a self-signed certificate fails with a clear
    /// error; ignored, or not checked, the connection works and says what it saw.
    @Test func selfSignedCertificate() async throws {
        try await withTernServer(tls: try TestTLS.serverContext()) { port, _ in
            let strict = configuration {
                $0.tls.required = true
                $0.tls.pkix = PKIXVerification(names: ["localhost"])
            }
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: strict) { _ in 0 }
                Issue.record("a self-signed certificate passed PKIX")
            } catch let error as ClientError {
                #expect(error.step == .tlsHandshake && error.kind == .tls && !error.isPermanent)
                #expect(error.text == "certificate verification failed: PKIX: no chain to a trusted root certificate", "\(error)")
                // RFC 8460 §4.3.1.
                #expect(error.tlsFailure?.resultType == .certificateNotTrusted && error.tlsFailure?.reason == .verification)
            }

            var ignoring = strict
            ignoring.tls.ignoreVerificationErrors = true
            let ignored = try await ClientConnection.withConnection(to: loopback, port: port, configuration: ignoring) { $0.tls }
            #expect(ignored?.pkix?.failure?.reason == "no chain to a trusted root certificate" && ignored?.isVerified == false)
            #expect(ignored?.pkix?.failure?.resultType == .certificateNotTrusted)

            let unchecked = try await ClientConnection.withConnection(to: loopback, port: port, configuration: configuration()) { $0.tls }
            #expect(unchecked?.pkix == nil && unchecked?.isVerified == false)
            #expect(unchecked?.peerCertificates.der == [try TestTLS.certificate().certificateDER])

        }
    }

    /// RFC 6125: the certificate must be valid for one of the names asked for.
    @Test func certificateForAnotherName() async throws {
        let ca = try TestCA()
        try await withTernServer(tls: try TestTLS.serverContext(issuedBy: ca)) { port, _ in
            var config = configuration { $0.tls.required = true }
            config.tls.pkix = PKIXVerification(names: ["mx.example.org", "mail.example.org."], trustRoots: .certificates([ca.root]))
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { _ in 0 }
                Issue.record("a certificate for another name passed")
            } catch let error as ClientError {
                #expect(error.text == "certificate verification failed: PKIX: the certificate is not valid for mx.example.org, mail.example.org", "\(error)")
                #expect(error.tlsFailure?.resultType == .certificateHostMismatch)
            }
            config.tls.pkix = PKIXVerification(names: ["mx.example.org", "localhost"], trustRoots: .certificates([ca.root]))
            let state = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { $0.tls }
            #expect(state?.pkix == .verified)
            // The same chain, checked at a time after it expired.
            config.now = { Date().addingTimeInterval(2 * 86400) }
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: config) { _ in 0 }
                Issue.record("an expired certificate passed")
            } catch let error as ClientError {
                #expect(error.kind == .tls && error.text.hasPrefix("certificate verification failed: PKIX: "), "\(error)")
                #expect(error.tlsFailure?.resultType == .certificateExpired, "\(error)")
            }
            // Expired and for another name: expired is what a report says first.
            config.tls.pkix = PKIXVerification(names: ["mx.example.org"], trustRoots: .certificates([ca.root]))
            let ignoring = { var ignoring = config; ignoring.tls.ignoreVerificationErrors = true; return ignoring }()
            let expired = try await ClientConnection.withConnection(to: loopback, port: port, configuration: ignoring) { $0.tls }
            #expect(expired?.pkix?.failure?.resultType == .certificateExpired)
        }
    }

    /// The DANE hook gets the chain the server presented and decides.
    @Test func daneHook() async throws {
        let expected = try TestTLS.certificate().certificateDER
        try await withTernServer(tls: try TestTLS.serverContext()) { port, _ in
            let matching = configuration {
                $0.tls.required = true
                $0.tls.dane = DANEVerification { chain in
                    chain.der.first == expected ? .verified : .failed(VerificationFailure(resultType: .certificateNotTrusted, reason: "no TLSA record matches"))
                }
            }
            let state = try await ClientConnection.withConnection(to: loopback, port: port, configuration: matching) { $0.tls }
            #expect(state?.dane == .verified && state?.pkix == nil && state?.isVerified == true)

            var failing = matching
            failing.tls.dane = DANEVerification { _ in .failed(VerificationFailure(resultType: .tlsaInvalid, reason: "no TLSA record matches")) }
            do {
                _ = try await ClientConnection.withConnection(to: loopback, port: port, configuration: failing) { _ in 0 }
                Issue.record("DANE failure ignored")
            } catch let error as ClientError {
                #expect(error.text == "certificate verification failed: DANE: no TLSA record matches" && error.step == .tlsHandshake)
                #expect(error.tlsFailure == TLSSessionFailure(resultType: .tlsaInvalid, reason: .verification, detail: "no TLSA record matches"))
            }
        }
    }
}
