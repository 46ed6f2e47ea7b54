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
        #expect(queue.transports == [
            TransportConfig(
                name: "provider", host: "smtp.example.net", port: 465, security: .implicitTLS,
                auth: TransportConfig.Auth(username: "me@example.com", password: "pw", mechanisms: [.scramSHA256, .cramMD5]),
                ignoreVerificationErrors: true),
            TransportConfig(name: "lan", host: "10.0.0.1", port: 25, security: .opportunistic),
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
            "tern.yaml:14:3: Queue.Retries: unknown key 'Retries'; known keys here: FirstRetryInterval, MaximumAge, DelayedDSNAfterAttempts, Concurrency, DirectPort, Transports, Routes",
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
}
