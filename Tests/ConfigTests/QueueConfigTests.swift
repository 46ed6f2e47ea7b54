import DNS
import SASL
import Testing

@testable import Config

@Suite("tern.yaml Queue")
struct QueueConfigTests {
    @Test("defaults without a Queue section")
    func defaults() throws {
        let config = try StaticConfig.parse(Fixtures.minimalStatic, file: "tern.yaml", directory: "/etc/tern")
        #expect(config.queue == QueueConfig())
        #expect(config.queue.firstRetryInterval == .seconds(450))
        #expect(config.queue.maximumAge == .seconds(96 * 3600))
        #expect(config.queue.delayedDSNAfterAttempts == 4)
        #expect(config.queue.concurrency == 8)
        #expect(config.queue.directPort == 25)
        #expect(config.queue.recordTLSResults)
    }

    @Test("every key read")
    func full() throws {
        let yaml = Fixtures.minimalStatic + """

            Queue:
              FirstRetryInterval: 1m
              MaximumAge: 48h
              DelayedDSNAfterAttempts: 0
              Concurrency: 2
              DirectPort: 2525
              RecordTLSResults: false
              Transports:
                provider:
                  Host: smtp.example.net
                  Port: 465
                  TLS: ImplicitTLS
                  Auth:
                    Username: me@example.com
                    Password: pw
                    Mechanisms: [scram-sha-256, CRAM-MD5]
                  IgnoreVerificationErrors: true
                lan:
                  Host: 10.0.0.1
                  Port: 25
                  TLS: Opportunistic
              Routes:
                - SenderDomains: [Example.COM]
                  RecipientDomains: [gmail.com]
                  MinimumAttempt: 3
                  Transport: provider
                - Transport: direct
            """
        let queue = try StaticConfig.parse(yaml, file: "tern.yaml", directory: "/etc/tern").queue
        #expect(queue.firstRetryInterval == .seconds(60))
        #expect(queue.maximumAge == .seconds(48 * 3600))
        #expect(queue.delayedDSNAfterAttempts == nil)
        #expect(queue.concurrency == 2)
        #expect(queue.directPort == 2525)
        #expect(!queue.recordTLSResults)
        #expect(queue.transports == [
            TransportConfig(name: "provider", kind: .relay(RelayConfig(
                host: "smtp.example.net", port: 465, security: .implicitTLS,
                auth: TransportConfig.Auth(username: "me@example.com", password: "pw", mechanisms: [.scramSHA256, .cramMD5]),
                ignoreVerificationErrors: true))),
            TransportConfig(name: "lan", kind: .relay(RelayConfig(host: "10.0.0.1", port: 25, security: .opportunistic))),
        ])
        #expect(queue.routes == [
            RouteConfig(senderDomains: ["example.com"], recipientDomains: ["gmail.com"], minimumAttempt: 3, transport: "provider"),
            RouteConfig(transport: "direct"),
        ])
    }

    @Test("errors with file, line and key")
    func errors() {
        let yaml = Fixtures.minimalStatic + """

            Queue:
              FirstRetryInterval: 10m
              MaximumAge: 5m
              Concurrency: 0
              Retries: 3
              DirectPort: 0
              Transports:
                direct:
                  Host: a.example
                  Port: 25
                relay:
                  Host: not a host
                  TLS: StartTLS
                  Auth:
                    Username: me
                open:
                  Host: b.example
                  Port: 25
                  TLS: Opportunistic
                  Auth:
                    Username: me
                    Password: pw
                    Mechanisms: [SCRAM-SHA-256, SCRAM-SHA-512]
              Routes:
                - Transport: rely
                  RecipientDomains: ["bad domain"]
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:12:3: Queue.MaximumAge: must be at least FirstRetryInterval (10m), or no retry would ever be made",
            "tern.yaml:13:16: Queue.Concurrency: 0 is out of range: must be from 1 to 1000",
            "tern.yaml:14:3: Queue.Retries: unknown key 'Retries'; known keys here: FirstRetryInterval, MaximumAge, DelayedDSNAfterAttempts, Concurrency, DirectPort, RecordTLSResults, Transports, Routes",
            "tern.yaml:15:15: Queue.DirectPort: 0 is out of range: must be from 1 to 65535",
            "tern.yaml:17:5: Queue.Transports.direct: 'direct' is the built-in transport for delivery to the MX hosts; choose another name",
            "tern.yaml:20:5: Queue.Transports.relay.Port: required key is missing",
            "tern.yaml:21:7: Queue.Transports.relay.Host: 'not a host' is not a valid host name: label \"not a host\": character U+0020 at offset 3 is not allowed in a host name (or an IP address)",
            "tern.yaml:22:7: Queue.Transports.relay.TLS: expected one of STARTTLS, ImplicitTLS, Opportunistic, found 'StartTLS'",
            "tern.yaml:23:7: Queue.Transports.relay.Auth.Password: required key is missing",
            "tern.yaml:29:7: Queue.Transports.open.Auth: AUTH needs TLS: with TLS: Opportunistic the password could cross the network in clear; use STARTTLS or ImplicitTLS",
            "tern.yaml:32:37: Queue.Transports.open.Auth.Mechanisms[1]: unknown SASL mechanism 'SCRAM-SHA-512'; expected one of SCRAM-SHA-256-PLUS, SCRAM-SHA-1-PLUS, SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN",
            "tern.yaml:34:7: Queue.Routes[0].Transport: no transport named 'rely'; did you mean 'relay'?",
            "tern.yaml:35:26: Queue.Routes[0].RecipientDomains[0]: 'bad domain' is not a valid host name: label \"bad domain\": character U+0020 at offset 3 is not allowed in a host name",
        ])
    }

    @Test("a SOCKS5 transport: direct delivery through a proxy, as mox's TransportSocks")
    func socks() throws {
        let yaml = Fixtures.minimalStatic + """

            Queue:
              Transports:
                proxied:
                  Socks:
                    Address: proxy.example.net:1080
                    RemoteIPs: [198.51.100.7, "2001:db8::7"]
                    Hostname: out.example.com
                    Auth:
                      Username: tern
                      Password: pw
                literal:
                  Socks:
                    Address: "[2001:db8::1]:1080"
                    RemoteIPs: [192.0.2.1]
                    Hostname: out2.example.com
              Routes:
                - Transport: proxied
            """
        let queue = try StaticConfig.parse(yaml, file: "tern.yaml", directory: "/etc/tern").queue
        #expect(queue.transports == [
            TransportConfig(name: "proxied", kind: .socks(SOCKSConfig(
                host: "proxy.example.net", port: 1080, remoteIPs: [IPAddress("198.51.100.7")!, IPAddress("2001:db8::7")!],
                hostname: try Domain("out.example.com"), auth: TransportConfig.Auth(username: "tern", password: "pw")))),
            TransportConfig(name: "literal", kind: .socks(SOCKSConfig(
                host: "2001:db8::1", port: 1080, remoteIPs: [IPAddress("192.0.2.1")!], hostname: try Domain("out2.example.com")))),
        ])
        #expect(queue.routes == [RouteConfig(transport: "proxied")])
    }

    @Test("SOCKS5 transport errors with file, line and key")
    func socksErrors() {
        let yaml = Fixtures.minimalStatic + """

            Queue:
              Transports:
                mixed:
                  Host: smtp.example.net
                  Socks:
                    Address: proxy.example.net
                    RemoteIPs: []
                    Hostname: not a host
                badport:
                  Socks:
                    Address: proxy.example.net:70000
                    RemoteIPs: [192.0.2.1, 192.0.2.1, proxy]
                    Hostname: out.example.com
                    Auth:
                      Username: ""
                      Password: pw
                v6:
                  Socks:
                    Address: 2001:db8::1:1080
                    Hostname: out.example.com
                empty:
                  Socks:
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:13:7: Queue.Transports.mixed.Host: is for a relay; a transport with Socks delivers to the MX hosts through the proxy",
            "tern.yaml:15:9: Queue.Transports.mixed.Socks.Address: expected HOST:PORT (an IPv6 address as [ADDRESS]:PORT), found 'proxy.example.net'",
            "tern.yaml:16:9: Queue.Transports.mixed.Socks.RemoteIPs: needs at least one address: those the proxy's connections come from, as the MX hosts see them",
            "tern.yaml:17:19: Queue.Transports.mixed.Socks.Hostname: 'not a host' is not a valid host name: label \"not a host\": character U+0020 at offset 3 is not allowed in a host name",
            "tern.yaml:20:9: Queue.Transports.badport.Socks.Address: the port in 'proxy.example.net:70000' must be a number from 1 to 65535",
            "tern.yaml:21:32: Queue.Transports.badport.Socks.RemoteIPs[1]: 192.0.2.1 is listed twice",
            "tern.yaml:21:43: Queue.Transports.badport.Socks.RemoteIPs[2]: 'proxy' is not an IPv4 or IPv6 address",
            "tern.yaml:23:9: Queue.Transports.badport.Socks.Auth: the username and the password must each be 1 to 255 octets (RFC 1929 §2)",
            "tern.yaml:27:7: Queue.Transports.v6.Socks.RemoteIPs: required key is missing",
            "tern.yaml:28:9: Queue.Transports.v6.Socks.Address: expected HOST:PORT (an IPv6 address as [ADDRESS]:PORT), found '2001:db8::1:1080'",
            "tern.yaml:31:7: Queue.Transports.empty.Socks: needs a value",
        ])
    }

    @Test("routes of domains and accounts in domains.yaml")
    func domainRoutes() throws {
        let yaml = """
            Domains:
              example.com:
                Routes:
                  - RecipientDomains: [Example.NET]
                    Transport: proxied
              example.org: {}
            Accounts:
              alice:
                Domain: example.com
                Destinations:
                  alice: {}
                Routes:
                  - MinimumAttempt: 2
                    Transport: relay
                  - SenderDomains: [example.org]
                    Transport: direct
            """
        let config = try DomainsConfig.parse(yaml, file: "domains.yaml")
        #expect(config.settings(for: try Domain("example.com"))?.routes == [RouteConfig(recipientDomains: ["example.net"], transport: "proxied")])
        #expect(config.settings(for: try Domain("example.org"))?.routes == [])
        #expect(config.account(named: "alice")?.routes == [
            RouteConfig(minimumAttempt: 2, transport: "relay"), RouteConfig(senderDomains: ["example.org"], transport: "direct"),
        ])
        #expect(domainsErrors(yaml.replacingOccurrences(of: "MinimumAttempt: 2", with: "MinimumAttempt: 0")) == [
            "domains.yaml:13:25: Accounts.alice.Routes[0].MinimumAttempt: 0 is out of range: must be from 1 to 1000"
        ])
    }

    /// The transports of domains.yaml's routes are tern.yaml's: a name it does not define is
    /// an error in the domains file, at the route's line, from `tern config test` and from
    /// the watcher (which then keeps the routes in effect).
    @Test("an unknown transport in domains.yaml names the file, line and key")
    func domainRouteTransports() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let staticPath = try directory.write("tern.yaml", Fixtures.minimalStatic + """

            Queue:
              Transports:
                relay:
                  Host: smtp.example.net
                  Port: 587
            """)
        let domainsPath = try directory.write("domains.yaml", Fixtures.domains.replacingOccurrences(of: """
              example.org: {}
            """, with: """
              example.org:
                Routes:
                  - Transport: rely
                  - Transport: relay
            """) + """

                Routes:
                  - Transport: direct
                  - RecipientDomains: [example.net]
                    Transport: socks
            """)
        let expected = [
            "\(domainsPath):7:9: Domains.example.org.Routes[0].Transport: no transport named 'rely' under Queue.Transports in the static config; did you mean 'relay'?",
            "\(domainsPath):41:9: Accounts.bob.Routes[1].Transport: no transport named 'socks' under Queue.Transports in the static config; defined: relay, direct",
        ]
        #expect(ConfigLoader.check(staticPath: staticPath).map(\.description) == expected)
        let staticConfig = try StaticConfig.load(path: staticPath)
        #expect(throws: ConfigErrors.self) { try DomainsConfig.load(path: domainsPath, check: staticConfig.domainsIssues) }
        do {
            _ = try DomainsConfig.load(path: domainsPath, check: staticConfig.domainsIssues)
        } catch {
            #expect(error.errors.map(\.description) == expected)
        }
    }
}
