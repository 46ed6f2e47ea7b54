import DNS
import Foundation
import Queue
import SMTP
import SMTPClient
import Synchronization
import Testing
import TestSupport

/// Routes of accounts and domains, as a configuration that changes while the queue runs.
final class ChangingRoutes: Sendable {
    private let routes = Mutex<(accounts: [String: [Route]], domains: [String: [Route]])>(([:], [:]))

    func set(accounts: [String: [Route]], domains: [String: [Route]]) {
        routes.withLock { $0 = (accounts, domains) }
    }

    var local: LocalRoutes {
        LocalRoutes(account: { name in self.routes.withLock { $0.accounts[name] ?? [] } }, domain: { name in self.routes.withLock { $0.domains[name] ?? [] } })
    }
}

@Suite(.serialized) struct RoutingTests {
    func relay(_ server: ScriptedServer) -> Transport {
        .relay(RelayTransport(host: "127.0.0.1", port: server.port, security: .opportunisticSTARTTLS))
    }

    /// Each attempt asks the routes in effect: the account's beat the sender domain's, which
    /// beat the global ones; a minimum attempt holds a route back; a change of the
    /// configuration applies at the next attempt.
    @Test func accountThenDomainThenGlobalAtEachAttempt() async throws {
        let (viaAccount, viaDomain, viaGlobal) = (try await ScriptedServer(), try await ScriptedServer(), try await ScriptedServer())
        let servers = [viaAccount, viaDomain, viaGlobal]
        defer { servers.forEach { $0.stop() } }
        let routes = ChangingRoutes()
        routes.set(
            accounts: ["alice": [Route(minimumAttempt: 2, transport: "account")]],
            domains: ["example.com": [Route(recipientDomains: ["example.net"], transport: "domain")]])
        let fixture = try await QueueFixture(
            port: 9, transports: ["account": relay(viaAccount), "domain": relay(viaDomain), "global": relay(viaGlobal)],
            routes: [Route(transport: "global")], localRoutes: routes.local)

        var fromAlice = submission(from: "alice@example.com", to: ["temp@example.net"])
        fromAlice.account = "alice"
        try await fixture.queue.enqueue(fromAlice)
        try await fixture.queue.runDue()
        #expect(servers.map(\.connections) == [0, 1, 0])

        fixture.clock.advance(600)
        try await fixture.queue.runDue()
        #expect(servers.map(\.connections) == [1, 1, 0])

        routes.set(accounts: [:], domains: [:])
        fixture.clock.advance(1200)
        try await fixture.queue.runDue()
        #expect(servers.map(\.connections) == [1, 1, 1])

        // Another account's message from another domain: neither alice's routes nor
        // example.com's apply.
        routes.set(
            accounts: ["alice": [Route(transport: "account")]], domains: ["example.com": [Route(transport: "domain")]])
        var fromBob = submission(from: "bob@example.org", to: ["carol@example.net"])
        fromBob.account = "bob"
        try await fixture.queue.enqueue(fromBob)
        try await fixture.queue.runDue()
        #expect(viaGlobal.messages.map(\.recipients) == [["carol@example.net"]])
    }

    /// Direct delivery through a SOCKS5 proxy: the MX lookup is ours, the TCP connection
    /// the proxy's, and EHLO says the proxy's host name.
    @Test(arguments: [false, true])
    func deliveryThroughASOCKS5Proxy(authenticated: Bool) async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let proxy = try await SOCKS5TestProxy(credentials: authenticated ? ("tern", "secret") : nil)
        defer { proxy.stop() }
        let socks = SOCKSTransport(
            proxyHost: "proxy.example.org", proxyPort: proxy.port,
            credentials: authenticated ? SOCKS5Credentials(username: "tern", password: "secret") : nil,
            remoteIPs: [try #require(IPAddress("127.0.0.1"))], hostname: "out.example.org", port: server.port)
        // Direct delivery would find nothing on port 9: only the proxy gets the message out.
        let fixture = try await QueueFixture(port: 9, transports: ["proxied": .socks(socks)], routes: [Route(transport: "proxied")])
        try fixture.resolver.add("proxy.example.org", .a(try #require(IPAddress("127.0.0.1"))))
        try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        try await fixture.queue.runDue()
        #expect(try await fixture.queue.list().isEmpty)
        #expect(server.messages.map(\.recipients) == [["bob@example.net"]])
        #expect(server.clientNames == ["out.example.org"])
        #expect(proxy.requests == [SOCKS5TestProxy.Request(target: "127.0.0.1:\(server.port)", username: authenticated ? "tern" : nil)])
    }

    /// A proxy that refuses, or cannot be found, is a temporary failure that names it: the
    /// message waits for the next attempt, and the sender gets no DSN.
    @Test func proxyFailuresAreTemporary() async throws {
        let proxy = try await SOCKS5TestProxy(behaviour: .refuse(reply: 2))
        defer { proxy.stop() }
        let loopback = try #require(IPAddress("127.0.0.1"))
        let fixture = try await QueueFixture(
            port: 9,
            transports: [
                "refusing": .socks(SOCKSTransport(proxyHost: "127.0.0.1", proxyPort: proxy.port, remoteIPs: [loopback], hostname: "out.example.org")),
                "missing": .socks(SOCKSTransport(proxyHost: "nowhere.example.org", proxyPort: 1080, remoteIPs: [loopback], hostname: "out.example.org")),
            ],
            routes: [Route(recipientDomains: ["example.net"], transport: "refusing"), Route(transport: "missing")])
        try await fixture.queue.enqueue(submission(to: ["bob@example.net", "carol@example.org"]))
        try await fixture.queue.runDue()
        let queued = try await fixture.queue.list()
        let refused = try #require(queued.first { $0.domain == "example.net" }?.recipients.first)
        #expect(refused.state == .pending)
        #expect(refused.lastFailure == DeliveryFailure(
            status: "4.7.0", isPermanent: false,
            diagnostic: "SOCKS5 proxy: 127.0.0.1:\(proxy.port) answered CONNECT with reply 2, connection not allowed by ruleset (RFC 1928 §6)",
            remoteMTA: "mx.example.net"))
        let unresolved = try #require(queued.first { $0.domain == "example.org" }?.recipients.first)
        #expect(unresolved.state == .pending)
        #expect(unresolved.lastFailure?.status == "4.4.3" && unresolved.lastFailure?.isPermanent == false)
        #expect(unresolved.lastFailure?.diagnostic.hasPrefix("SOCKS5 proxy nowhere.example.org: ") == true)
        #expect(fixture.local.dsns.isEmpty)
    }
}
