import DNS
import NIOCore
import NIOPosix
import SMTP
import Testing
import TestSupport

@testable import SMTPClient

/// The handshake as a state machine: every reply and every way it can fail.
@Suite struct SOCKS5HandshakeTests {
    let target = IPAddress("192.0.2.1")!
    let connectRequest: [UInt8] = [5, 1, 0, 1, 192, 0, 2, 1, 0, 25]
    /// RFC 1928 §6: success, bound to 203.0.113.9:4242.
    let success: [UInt8] = [5, 0, 0, 1, 203, 0, 113, 9, 0x10, 0x92]
    let alice = SOCKS5Credentials(username: "alice", password: "secret")

    func failure(_ handshake: inout SOCKS5Handshake, _ octets: [UInt8]) -> SOCKS5Error? {
        do {
            _ = try handshake.received(octets)
            return nil
        } catch {
            return error
        }
    }

    /// RFC 1928 §3: no authentication only, or also username/password (X'02').
    @Test func greetingOffersTheMethods() {
        var plain = SOCKS5Handshake(target: target, port: 25)
        #expect(plain.start() == [5, 1, 0])
        var withCredentials = SOCKS5Handshake(target: target, port: 25, credentials: alice)
        #expect(withCredentials.start() == [5, 2, 0, 2])
    }

    @Test func connectWithoutAuthentication() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        #expect(try handshake.received([5, 0]) == .send(connectRequest))
        #expect(try handshake.received(success) == .established(leftover: []))
    }

    /// RFC 1928 §5: an IPv6 target is ATYP X'04' with its 16 octets; the port in network order.
    @Test func ipv6Target() throws {
        let address = IPAddress("2001:db8::25")!
        var handshake = SOCKS5Handshake(target: address, port: 2525)
        _ = handshake.start()
        #expect(try handshake.received([5, 0]) == .send([5, 1, 0, 4] + address.bytes + [0x09, 0xDD]))
    }

    /// RFC 1929 §2: VER 1, ULEN, UNAME, PLEN, PASSWD; status 0 lets the CONNECT follow.
    @Test func usernameAndPassword() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25, credentials: alice)
        _ = handshake.start()
        #expect(try handshake.received([5, 2]) == .send([1, 5] + Array("alice".utf8) + [6] + Array("secret".utf8)))
        #expect(try handshake.received([1, 0]) == .send(connectRequest))
        #expect(try handshake.received(success) == .established(leftover: []))
    }

    /// Credentials are offered, not forced: a proxy that needs none goes straight to CONNECT.
    @Test func proxyChoosesNoAuthenticationDespiteCredentials() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25, credentials: alice)
        _ = handshake.start()
        #expect(try handshake.received([5, 0]) == .send(connectRequest))
    }

    @Test func wrongPassword() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25, credentials: alice)
        _ = handshake.start()
        _ = try handshake.received([5, 2])
        let error = failure(&handshake, [1, 1])
        #expect(error == SOCKS5Error(.authenticationFailed(status: 1)))
        #expect(error?.enhanced == EnhancedStatus(4, 7, 0))
        #expect(error?.description == "rejected the username and password (RFC 1929 status 1)")
    }

    @Test func noAcceptableMethod() {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        let error = failure(&handshake, [5, 0xFF])
        #expect(error == SOCKS5Error(.noAcceptableMethod))
        #expect(error?.enhanced == EnhancedStatus(4, 7, 0))
    }

    /// A method that was not offered (username/password without credentials, GSSAPI) is
    /// not followed.
    @Test(arguments: [UInt8(2), 1, 0x80])
    func methodNotOffered(_ method: UInt8) {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        #expect(failure(&handshake, [5, method]) == SOCKS5Error(.protocolViolation("chose authentication method \(method), which was not offered")))
    }

    @Test func wrongVersions() throws {
        var socks4 = SOCKS5Handshake(target: target, port: 25)
        _ = socks4.start()
        #expect(failure(&socks4, [4, 0]) == SOCKS5Error(.protocolViolation("method selection has version 4, not 5")))

        var authentication = SOCKS5Handshake(target: target, port: 25, credentials: alice)
        _ = authentication.start()
        _ = try authentication.received([5, 2])
        #expect(failure(&authentication, [5, 0]) == SOCKS5Error(.protocolViolation("username/password status has version 5, not 1")))

        var reply = SOCKS5Handshake(target: target, port: 25)
        _ = reply.start()
        _ = try reply.received([5, 0])
        #expect(failure(&reply, [4, 90]) == SOCKS5Error(.protocolViolation("CONNECT reply has version 4, not 5")))
    }

    /// RFC 1928 §6: every failure code, known from the first two octets of the reply (a
    /// proxy may close without the rest), with its meaning and a temporary RFC 3463 code.
    @Test(arguments: [
        (UInt8(1), "general SOCKS server failure", EnhancedStatus(4, 4, 0)),
        (2, "connection not allowed by ruleset", EnhancedStatus(4, 7, 0)),
        (3, "network unreachable", EnhancedStatus(4, 4, 4)),
        (4, "host unreachable", EnhancedStatus(4, 4, 4)),
        (5, "connection refused", EnhancedStatus(4, 4, 1)),
        (6, "TTL expired", EnhancedStatus(4, 4, 1)),
        (7, "command not supported", EnhancedStatus(4, 4, 0)),
        (8, "address type not supported", EnhancedStatus(4, 4, 0)),
        (9, "unassigned reply code", EnhancedStatus(4, 4, 0)),
    ])
    func connectRefused(reply: UInt8, meaning: String, enhanced: EnhancedStatus) throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        _ = try handshake.received([5, 0])
        let error = failure(&handshake, [5, reply])
        #expect(error == SOCKS5Error(.connectFailed(reply: reply)))
        #expect(error?.description == "answered CONNECT with reply \(reply), \(meaning) (RFC 1928 §6)")
        #expect(error?.enhanced == enhanced)
    }

    /// A reply in pieces, bound to a domain name (ATYP X'03'), with the server's greeting
    /// right behind it: the greeting is handed on.
    @Test func replyInPiecesWithGreetingBehind() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        _ = try handshake.received([5, 0])
        let domain = Array("proxy.example".utf8)
        let reply: [UInt8] = [5, 0, 0, 3, UInt8(domain.count)] + domain + [0, 25]
        for octet in reply.dropLast() {
            #expect(try handshake.received([octet]) == .needMore)
        }
        let greeting = Array("220 mx.example.net ESMTP\r\n".utf8)
        #expect(try handshake.received([reply.last!] + greeting) == .established(leftover: greeting))
    }

    @Test func ipv6BoundAddressIsSkipped() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        _ = try handshake.received([5, 0])
        #expect(try handshake.received([5, 0, 0, 4] + [UInt8](repeating: 0, count: 15)) == .needMore)
        #expect(try handshake.received([1, 0, 25]) == .established(leftover: []))
    }

    @Test func unknownBoundAddressType() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        _ = try handshake.received([5, 0])
        #expect(failure(&handshake, [5, 0, 0, 2, 0]) == SOCKS5Error(.protocolViolation("CONNECT reply with unknown address type 2")))
    }

    /// The proxy speaks only when asked: octets behind the method selection are not SOCKS,
    /// and nothing is taken after a failure.
    @Test func octetsOutOfTurn() throws {
        var handshake = SOCKS5Handshake(target: target, port: 25)
        _ = handshake.start()
        #expect(failure(&handshake, [5, 0, 0]) == SOCKS5Error(.protocolViolation("sent 1 octets more than its reply")))
        #expect(failure(&handshake, [5, 0]) == SOCKS5Error(.protocolViolation("sent octets when none were expected")))

        var unstarted = SOCKS5Handshake(target: target, port: 25)
        #expect(failure(&unstarted, [5, 0]) == SOCKS5Error(.protocolViolation("sent octets when none were expected")))
    }

    /// RFC 1929 §2: each field is 1 to 255 octets.
    @Test(arguments: [("", "secret"), ("alice", String(repeating: "x", count: 256))])
    func unsendableCredentials(username: String, password: String) {
        var handshake = SOCKS5Handshake(target: target, port: 25, credentials: SOCKS5Credentials(username: username, password: password))
        _ = handshake.start()
        #expect(failure(&handshake, [5, 2]) == SOCKS5Error(.unsendableCredentials))
    }

    /// What the queue gets: a temporary session error of step "SOCKS5 proxy" that names the
    /// proxy and its reply.
    @Test func sessionErrorNamesTheProxyAndTheReply() {
        let proxy = SOCKS5Proxy(host: "proxy.example", addresses: [loopback], port: 1080)
        let error = ClientConnection.proxyFailure(SOCKS5Error(.connectFailed(reply: 5)), proxy: proxy)
        #expect(error == ClientError(
            step: .proxy, kind: .connection, enhanced: EnhancedStatus(4, 4, 1),
            text: "proxy.example:1080 answered CONNECT with reply 5, connection refused (RFC 1928 §6)", isPermanent: false))
        #expect(error.description == "SOCKS5 proxy: 4.4.1 proxy.example:1080 answered CONNECT with reply 5, connection refused (RFC 1928 §6) (temporary)")
        #expect(ClientConnection.proxyFailure(SOCKS5Error(.authenticationFailed(status: 1)), proxy: proxy).kind == .authentication)
        #expect(ClientConnection.proxyFailure(SOCKS5Error(.timedOut), proxy: proxy).kind == .timeout)
        #expect(SOCKS5Proxy(host: "2001:db8::1", addresses: [], port: 1080).description == "[2001:db8::1]:1080")
    }
}

/// Through a SOCKS5 proxy on loopback, to Tern's own SMTP server.
@Suite struct SOCKS5ConnectionTests {
    func proxy(_ test: SOCKS5TestProxy, credentials: SOCKS5Credentials? = nil) -> SOCKS5Proxy {
        SOCKS5Proxy(host: "127.0.0.1", addresses: [loopback], port: test.port, credentials: credentials)
    }

    func deliver(through proxy: SOCKS5Proxy, port: Int, configure: (inout ClientConfiguration) -> Void = { _ in }) async throws -> TransactionResult {
        let message = "Subject: proxied\r\n\r\nhello\r\n"
        return try await ClientConnection.withConnection(to: loopback, port: port, through: proxy, configuration: configuration(configure)) { connection in
            await connection.deliver(envelope(to: ["alice@example.org"], size: message.utf8.count), content: MessageBytes(Array(message.utf8)))
        }
    }

    func expectProxyError(_ body: () async throws -> TransactionResult) async -> ClientError? {
        do {
            _ = try await body()
            Issue.record("delivered despite the proxy")
            return nil
        } catch let error as ClientError {
            #expect(error.step == .proxy && !error.isPermanent)
            return error
        } catch {
            Issue.record("not a ClientError: \(error)")
            return nil
        }
    }

    @Test func deliveryThroughTheProxy() async throws {
        let socks = try await SOCKS5TestProxy()
        defer { socks.stop() }
        try await withTernServer { port, deliverer in
            let result = try await deliver(through: proxy(socks), port: port)
            #expect(result.delivered.count == 1)
            #expect(deliverer.stored.first?.bytes.text.hasSuffix("Subject: proxied\r\n\r\nhello\r\n") == true)
            #expect(socks.requests == [SOCKS5TestProxy.Request(target: "127.0.0.1:\(port)", username: nil)])
        }
    }

    @Test func deliveryWithUsernameAndPassword() async throws {
        let socks = try await SOCKS5TestProxy(credentials: ("alice", "secret"))
        defer { socks.stop() }
        try await withTernServer { port, deliverer in
            let result = try await deliver(through: proxy(socks, credentials: SOCKS5Credentials(username: "alice", password: "secret")), port: port)
            #expect(result.delivered.count == 1)
            #expect(socks.requests.map(\.username) == ["alice"])

            let error = await expectProxyError {
                try await deliver(through: proxy(socks, credentials: SOCKS5Credentials(username: "alice", password: "wrong")), port: port)
            }
            #expect(error?.kind == .authentication)
            #expect(error?.text == "127.0.0.1:\(socks.port) rejected the username and password (RFC 1929 status 1)")
            let none = await expectProxyError { try await deliver(through: proxy(socks), port: port) }
            #expect(none?.text == "127.0.0.1:\(socks.port) accepts none of the offered authentication methods (RFC 1928 §3)")
        }
    }

    @Test func connectRefusedByTheProxy() async throws {
        let socks = try await SOCKS5TestProxy(behaviour: .refuse(reply: 4))
        defer { socks.stop() }
        let error = await expectProxyError { try await deliver(through: proxy(socks), port: 25) }
        #expect(error?.text == "127.0.0.1:\(socks.port) answered CONNECT with reply 4, host unreachable (RFC 1928 §6)")
        #expect(error?.enhanced == EnhancedStatus(4, 4, 4))
    }

    @Test func proxyUnreachable() async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port ?? 0
        try await channel.close()
        let error = await expectProxyError {
            try await deliver(through: SOCKS5Proxy(host: "proxy.example", addresses: [loopback], port: port), port: 25)
        }
        #expect(error?.kind == .connection && error?.enhanced == EnhancedStatus(4, 4, 1))
        #expect(error?.text.hasPrefix("cannot reach proxy.example:\(port): 127.0.0.1: ") == true)
    }

    /// A proxy that takes the greeting and says nothing: the connect timeout ends the wait.
    @Test func silentProxyTimesOut() async throws {
        try await withFakeServer({ peer in await peer.drain() }) { port in
            let error = await expectProxyError {
                try await deliver(through: SOCKS5Proxy(host: "127.0.0.1", addresses: [loopback], port: port), port: 25) {
                    $0.timeouts.connect = .milliseconds(200)
                }
            }
            #expect(error?.kind == .timeout)
            #expect(error?.text == "127.0.0.1:\(port) did not complete the SOCKS5 handshake in time")
        }
    }

    /// A proxy that hangs up after the greeting.
    @Test func proxyClosesDuringTheHandshake() async throws {
        try await withFakeServer({ peer in _ = try await peer.reader.octets(3) }) { port in
            let error = await expectProxyError {
                try await deliver(through: SOCKS5Proxy(host: "127.0.0.1", addresses: [loopback], port: port), port: 25)
            }
            #expect(error?.kind == .connection && error?.enhanced == EnhancedStatus(4, 4, 2))
            #expect(error?.text == "127.0.0.1:\(port) closed the connection during the SOCKS5 handshake")
        }
    }
}
