import DNS
import Foundation
import Testing

@testable import Config

@Suite("tern.yaml")
struct StaticConfigTests {
    @Test("a minimal file gets every default")
    func minimal() throws {
        let config = try StaticConfig.parse(Fixtures.minimalStatic, file: "tern.yaml", directory: "/etc/tern")
        #expect(config.dataDir == "/etc/tern/data")
        #expect(config.hostname == (try Domain("mail.example.com")))
        #expect(config.logLevel == "info")
        #expect(config.resolver == nil)
        #expect(config.postmaster == Postmaster(account: "admin", mailbox: "Inbox"))
        #expect(config.limits == Limits())
        #expect(config.limits.maxMessageSize == 104_857_600)
        #expect(config.limits.maxRecipients == 1000)
        #expect(config.limits.timeouts.smtpCommand == .seconds(300))
        #expect(config.limits.timeouts.imapAuthenticated == .seconds(1800))
        #expect(config.acme.isEmpty)
        let listener = try #require(config.listener(named: "public"))
        #expect(listener.ips == [IPAddress("192.0.2.1")])
        #expect(listener.tls == nil)
        #expect(listener.smtp == SMTPService(enabled: true, port: 25, noSTARTTLS: false))
        #expect(listener.submission.enabled == false)
        #expect(listener.submission.port == 587)
        #expect(listener.submissions.port == 465)
        #expect(listener.imap.port == 143)
        #expect(listener.imaps.port == 993)
        #expect(listener.metrics.port == 8010)
        #expect(listener.hostname(default: config.hostname) == config.hostname)
        #expect(listener.endpoints.map(\.description) == ["192.0.2.1:25 (Listeners.public.SMTP)"])
    }

    @Test("every key read, paths resolved against the config directory")
    func full() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try FileManager.default.createDirectory(atPath: directory.path + "/certs", withIntermediateDirectories: true)
        try directory.write("certs/mail.pem", "cert")
        try directory.write("certs/mail-key.pem", "key")
        let yaml = """
            DataDir: /var/lib/tern/../tern-data
            Hostname: Mail.Example.COM
            LogLevel: info, smtpserver=debug,dns=traceauth
            Resolver: "[::1]:5353"
            Postmaster:
              Account: admin
              Mailbox: Lists/Postmaster
            Limits:
              MaxMessageSize: 2048
              MaxRecipients: 100
              MaxLineLength: 1000
              MaxCommandsBeforeMail: 10
              ConnectionsPerIP: 5
              ConnectionsPerAccount: 7
              AuthFailuresPerIP: 3
              Timeouts:
                TLSHandshake: 10s
                SMTPCommand: 10m
                SMTPData: 1h30m
                IMAPUnauthenticated: 45s
                IMAPAuthenticated: 2h
            ACME:
              le:
                DirectoryURL: https://acme.example/dir
                ContactEmail: hostmaster@example.net
                Port: 8443
            Listeners:
              public:
                IPs: [192.0.2.1, "2001:db8::1"]
                Hostname: mx.example.com
                TLS:
                  KeyCerts:
                    - CertFile: certs/mail.pem
                      KeyFile: certs/mail-key.pem
                SMTP: {Enabled: true, Port: 2525, NoSTARTTLS: true}
                Submission: {Enabled: true, NoRequireSTARTTLS: true, PlaintextAuthOnLoopback: true}
                Submissions: {Enabled: true}
                IMAP: {Enabled: true, Port: 1143, NoRequireSTARTTLS: true}
                IMAPS: {Enabled: true}
              acme:
                IPs: [192.0.2.2]
                TLS: {ACME: le}
                IMAPS: {Enabled: true, Port: 9993}
              selfsigned:
                IPs: [127.0.0.1]
                TLS: {SelfSigned: true}
                Metrics: {Enabled: true, Port: 9100}
            """
        let config = try StaticConfig.parse(yaml, file: "tern.yaml", directory: directory.path)
        #expect(config.dataDir == "/var/lib/tern-data")
        #expect(config.hostname.ascii == "mail.example.com")
        #expect(config.logLevel == "info, smtpserver=debug,dns=traceauth")
        #expect(config.resolver == "[::1]:5353")
        #expect(config.postmaster == Postmaster(account: "admin", mailbox: "Lists/Postmaster"))
        var limits = Limits()
        limits.maxMessageSize = 2048
        limits.maxRecipients = 100
        limits.maxLineLength = 1000
        limits.maxCommandsBeforeMail = 10
        limits.connectionsPerIP = 5
        limits.connectionsPerAccount = 7
        limits.authFailuresPerIP = 3
        limits.timeouts.tlsHandshake = .seconds(10)
        limits.timeouts.smtpCommand = .seconds(600)
        limits.timeouts.smtpData = .seconds(5400)
        limits.timeouts.imapUnauthenticated = .seconds(45)
        limits.timeouts.imapAuthenticated = .seconds(7200)
        #expect(config.limits == limits)
        #expect(config.acme == [ACMEProvider(name: "le", directoryURL: "https://acme.example/dir", contactEmail: "hostmaster@example.net", port: 8443)])
        #expect(config.listeners.map(\.name) == ["public", "acme", "selfsigned"])

        let publicListener = try #require(config.listener(named: "public"))
        #expect(publicListener.hostname?.ascii == "mx.example.com")
        let certs = URL(fileURLWithPath: directory.path + "/certs").standardizedFileURL.path
        #expect(publicListener.tls == .keyCerts([KeyCertFiles(certFile: certs + "/mail.pem", keyFile: certs + "/mail-key.pem")]))
        #expect(publicListener.smtp == SMTPService(enabled: true, port: 2525, noSTARTTLS: true))
        #expect(publicListener.submission == SubmissionService(enabled: true, port: 587, noRequireSTARTTLS: true, plaintextAuthOnLoopback: true))
        #expect(publicListener.submissions == ImplicitTLSService(enabled: true, port: 465))
        #expect(publicListener.imap == IMAPService(enabled: true, port: 1143, noRequireSTARTTLS: true))
        #expect(publicListener.imaps == ImplicitTLSService(enabled: true, port: 993))
        #expect(publicListener.endpoints.map(\.address) == [
            "192.0.2.1:2525", "[2001:db8::1]:2525", "192.0.2.1:587", "[2001:db8::1]:587", "192.0.2.1:465",
            "[2001:db8::1]:465", "192.0.2.1:1143", "[2001:db8::1]:1143", "192.0.2.1:993", "[2001:db8::1]:993",
        ])
        #expect(config.listener(named: "acme")?.tls == .acme("le"))
        #expect(config.listener(named: "selfsigned")?.tls == .selfSigned)
        #expect(config.listener(named: "selfsigned")?.metrics == MetricsService(enabled: true, port: 9100))
        #expect(config.validate().isEmpty)
    }

    @Test("an unknown key is an error with the closest known key")
    func unknownKeys() {
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            hostname: mail.example.com
            Postmaster:
              Account: admin
              Mailbx: Inbox
            Listeners:
              public:
                IPs: [192.0.2.1]
                Submision:
                  Enabled: true
                SMTP:
                  Enabled: true
                  Frobnicate: 1
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:3:1: hostname: unknown key 'hostname'; did you mean 'Hostname'?",
            "tern.yaml:6:3: Postmaster.Mailbx: unknown key 'Mailbx'; did you mean 'Mailbox'?",
            "tern.yaml:10:5: Listeners.public.Submision: unknown key 'Submision'; did you mean 'Submission'?",
            "tern.yaml:14:7: Listeners.public.SMTP.Frobnicate: unknown key 'Frobnicate'; known keys here: Enabled, Port, NoSTARTTLS",
        ])
    }

    @Test("wrong types are reported at the value")
    func wrongTypes() {
        let yaml = """
            DataDir: [data]
            Hostname: mail.example.com
            Postmaster: admin
            Limits:
              MaxMessageSize: 10MB
              MaxLineLength: "2000"
            Listeners:
              public:
                IPs: 192.0.2.1
                SMTP:
                  Enabled: yes
                  Port: twenty-five
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:1:10: DataDir: expected text, found a list",
            "tern.yaml:3:13: Postmaster: expected a mapping (KEY: VALUE lines), found 'admin'",
            "tern.yaml:5:19: Limits.MaxMessageSize: expected a whole number, found '10MB'",
            "tern.yaml:6:18: Limits.MaxLineLength: expected a whole number, found the quoted text '2000'",
            "tern.yaml:9:10: Listeners.public.IPs: expected a list (lines starting with '- ', or [a, b]), found '192.0.2.1'",
            "tern.yaml:11:16: Listeners.public.SMTP.Enabled: expected true or false, found 'yes'",
            "tern.yaml:12:13: Listeners.public.SMTP.Port: expected a whole number, found 'twenty-five'",
        ])
    }

    @Test("missing required keys are reported where their mapping starts")
    func missingKeys() {
        let yaml = """
            DataDir:
            Postmaster:
              Mailbox: Inbox
            Listeners:
              public:
                IPs: []
                IMAP:
                  Port: 143
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:1:1: DataDir: needs a value",
            "tern.yaml:1:1: Hostname: required key is missing",
            "tern.yaml:2:1: Postmaster.Account: required key is missing",
            "tern.yaml:6:5: Listeners.public.IPs: needs at least one address; 0.0.0.0 and :: listen on all addresses",
            "tern.yaml:7:5: Listeners.public.IMAP.Enabled: required key is missing",
        ])
        #expect(staticErrors("") == [
            "tern.yaml:1:1: DataDir: required key is missing",
            "tern.yaml:1:1: Hostname: required key is missing",
            "tern.yaml:1:1: Postmaster: required key is missing",
            "tern.yaml:1:1: Listeners: required key is missing",
        ])
    }

    @Test("invalid values, each with its own message")
    func invalidValues() {
        let yaml = """
            DataDir: data
            Hostname: mail..example.com
            LogLevel: info,SMTPServer=debug
            Resolver: dns.example:53
            Postmaster:
              Account: ../root
              Mailbox: /Inbox
            Limits:
              MaxRecipients: 99
              MaxLineLength: 512
              Timeouts:
                SMTPCommand: 300
                IMAPAuthenticated: 29m
            ACME:
              le:
                DirectoryURL: http://acme.example/dir
                ContactEmail: nobody
            Listeners:
              public:
                IPs: [192.0.2.1, 192.0.2.300, 192.0.2.1]
                SMTP:
                  Enabled: true
                  Port: 0
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:2:11: Hostname: 'mail..example.com' is not a valid host name: \(DomainError.emptyLabel(index: 1))",
            "tern.yaml:3:11: LogLevel: invalid package name 'SMTPServer': lowercase module names such as smtpserver, dns (letters a-z, digits, '_', '.', '-')",
            "tern.yaml:4:11: Resolver: invalid resolver address 'dns.example:53': 'dns.example' is not an IP address (expected HOST:PORT, e.g. 127.0.0.1:53 or [::1]:53)",
            "tern.yaml:6:3: Postmaster.Account: account name '../root' is not allowed: it becomes a directory name, so use at most 64 ASCII letters, digits, '.', '_' and '-', starting with a letter or digit",
            "tern.yaml:7:3: Postmaster.Mailbox: mailbox name '/Inbox' has an empty level: '/' separates levels, as in 'Lists/Swift'",
            "tern.yaml:9:18: Limits.MaxRecipients: 99 is out of range: must be at least 100",
            "tern.yaml:10:18: Limits.MaxLineLength: 512 is out of range: must be from 1000 to 1048576",
            "tern.yaml:12:18: Limits.Timeouts.SMTPCommand: expected a duration with a unit, e.g. 30s, 5m or 1h30m, found '300'",
            "tern.yaml:13:5: Limits.Timeouts.IMAPAuthenticated: must be at least 30m: RFC 9051 §5.4 requires an autologout timer after login to be at least 30 minutes",
            "tern.yaml:16:5: ACME.le.DirectoryURL: expected an https URL such as https://acme-v02.api.letsencrypt.org/directory, found 'http://acme.example/dir'",
            "tern.yaml:17:5: ACME.le.ContactEmail: 'nobody' is not an email address (no '@')",
            "tern.yaml:20:22: Listeners.public.IPs[1]: '192.0.2.300' is not an IPv4 or IPv6 address",
            "tern.yaml:20:35: Listeners.public.IPs[2]: 192.0.2.1 is listed twice",
            "tern.yaml:23:13: Listeners.public.SMTP.Port: 0 is out of range: must be from 1 to 65535",
        ])
    }

    @Test("services that need TLS, and ACME references")
    func tlsRequirements() {
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            Postmaster: {Account: admin}
            ACME:
              letsencrypt:
                DirectoryURL: https://acme-v02.api.letsencrypt.org/directory
                ContactEmail: hostmaster@example.net
            Listeners:
              plain:
                IPs: [192.0.2.1]
                Submission: {Enabled: true}
                Submissions: {Enabled: true}
                IMAP: {Enabled: true}
                IMAPS: {Enabled: true}
              loopback:
                IPs: [127.0.0.1, "::1"]
                Submission: {Enabled: true, PlaintextAuthOnLoopback: true}
                IMAP: {Enabled: true, NoRequireSTARTTLS: true}
              typo:
                IPs: [192.0.2.2]
                TLS:
                  ACME: letsencrpyt
                SMTP: {Enabled: true}
              both:
                IPs: [192.0.2.3]
                TLS:
                  SelfSigned: true
                  ACME: letsencrypt
                SMTP: {Enabled: true}
              off:
                IPs: [192.0.2.4]
                TLS:
                  SelfSigned: false
                SMTP: {Enabled: true}
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:11:18: Listeners.plain.Submission.Enabled: Submission requires STARTTLS, but this listener has no TLS section; add one, or set NoRequireSTARTTLS: true (passwords then cross the network in clear)",
            "tern.yaml:12:19: Listeners.plain.Submissions.Enabled: Submissions starts with TLS (RFC 8314), but this listener has no TLS section",
            "tern.yaml:13:12: Listeners.plain.IMAP.Enabled: IMAP requires STARTTLS, but this listener has no TLS section; add one, or set NoRequireSTARTTLS: true (passwords then cross the network in clear)",
            "tern.yaml:14:13: Listeners.plain.IMAPS.Enabled: IMAPS starts with TLS (RFC 8314), but this listener has no TLS section",
            "tern.yaml:22:7: Listeners.typo.TLS.ACME: no ACME provider named 'letsencrpyt'; did you mean 'letsencrypt'?",
            "tern.yaml:26:5: Listeners.both.TLS: set only one of KeyCerts, SelfSigned and ACME; found SelfSigned and ACME",
            "tern.yaml:33:7: Listeners.off.TLS.SelfSigned: SelfSigned: false leaves no certificate; set it to true, use KeyCerts or ACME, or remove the TLS section",
        ])
    }

    @Test("two services on one address and port")
    func duplicateListenerAddress() {
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            Postmaster: {Account: admin}
            Listeners:
              public:
                IPs: [192.0.2.1, "2001:db8::1"]
                SMTP:
                  Enabled: true
              second:
                IPs: ["2001:db8::1"]
                SMTP:
                  Enabled: true
                  Port: 25
              wildcard:
                IPs: [0.0.0.0]
                Submission:
                  Enabled: true
                  Port: 25
                  NoRequireSTARTTLS: true
              metrics:
                IPs: [127.0.0.1]
                Metrics: {Enabled: true, Port: 8010}
                IMAP: {Enabled: true, Port: 8010, NoRequireSTARTTLS: true}
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:13:7: Listeners.second.SMTP.Port: [2001:db8::1]:25 is already used by Listeners.public.SMTP",
            "tern.yaml:18:7: Listeners.wildcard.Submission.Port: 0.0.0.0:25 overlaps 192.0.2.1:25 of Listeners.public.SMTP: an unspecified address (0.0.0.0, ::) listens on every address of its family",
            "tern.yaml:22:30: Listeners.metrics.Metrics.Port: 127.0.0.1:8010 is already used by Listeners.metrics.IMAP",
        ])
    }

    @Test("certificate files are relative to the config file and must exist")
    func certificateFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        try directory.write("cert.pem", "cert")
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            Postmaster: {Account: admin}
            Listeners:
              public:
                IPs: [192.0.2.1]
                TLS:
                  KeyCerts:
                    - CertFile: cert.pem
                      KeyFile: key.pem
                SMTP: {Enabled: true}
            """
        let resolved = URL(fileURLWithPath: directory.path + "/key.pem").standardizedFileURL.path
        #expect(staticErrors(yaml, directory: directory.path, checkFiles: true) == [
            "tern.yaml:10:11: Listeners.public.TLS.KeyCerts[0].KeyFile: cannot read file \(resolved) (relative paths are taken from the config file's directory)"
        ])
        try directory.write("key.pem", "key")
        let config = try StaticConfig.parse(yaml, file: "tern.yaml", directory: directory.path)
        let expectedCert = URL(fileURLWithPath: directory.path + "/cert.pem").standardizedFileURL.path
        #expect(config.listeners.first?.tls == .keyCerts([KeyCertFiles(certFile: expectedCert, keyFile: resolved)]))
    }

    @Test("YAML syntax errors have the line of the problem")
    func syntaxError() {
        let yaml = """
            DataDir: data
            Hostname: [mail.example.com
            Listeners: {}
            """
        #expect(staticErrors(yaml) == [
            "tern.yaml:3:10: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence, line 2)"
        ])
        #expect(staticErrors("DataDir: a\nDataDir: b\n") == [
            "tern.yaml:1:1: duplicate key 'DataDir' in one mapping (first written here); remove all but one"
        ])
    }

    @Test("a listener must exist")
    func noListeners() {
        let yaml = """
            DataDir: data
            Hostname: mail.example.com
            Postmaster: {Account: admin}
            Listeners: {}
            """
        #expect(staticErrors(yaml) == ["tern.yaml:4:1: Listeners: needs at least one listener"])
    }

    @Test("durations")
    func durations() {
        #expect(DocumentReader.parseDuration("30s") == 30)
        #expect(DocumentReader.parseDuration("5m") == 300)
        #expect(DocumentReader.parseDuration("1h30m15s") == 5415)
        #expect(DocumentReader.parseDuration("90m") == 5400)
        #expect(DocumentReader.parseDuration("30") == nil)
        #expect(DocumentReader.parseDuration("5m1h") == nil)
        #expect(DocumentReader.parseDuration("1.5h") == nil)
        #expect(DocumentReader.parseDuration("") == nil)
        #expect(DocumentReader.parseDuration("m") == nil)
        #expect(DocumentReader.parseDuration("99999999999h") == nil)
    }

    @Test("log levels")
    func logLevels() {
        #expect(Validation.logLevelProblem("info") == nil)
        #expect(Validation.logLevelProblem("debug,smtpserver=trace, dns = traceauth,a.b-c_d=tracedata") == nil)
        #expect(Validation.logLevelProblem("verbose") == "unknown level 'verbose'; levels: error, info, debug, trace, traceauth, tracedata")
        #expect(Validation.logLevelProblem("info,debug") == "more than one default level in 'info,debug'")
        #expect(Validation.logLevelProblem("info,,dns=debug") == "empty item in 'info,,dns=debug'")
        #expect(Validation.logLevelProblem("dns=debug,dns=info") == "package 'dns' is given twice")
    }

    @Test("key suggestions")
    func suggestions() {
        let keys = StaticSchema.root
        #expect(DocumentReader.closest(to: "Hostnme", among: keys) == "Hostname")
        #expect(DocumentReader.closest(to: "datadir", among: keys) == "DataDir")
        #expect(DocumentReader.closest(to: "Listners", among: keys) == "Listeners")
        #expect(DocumentReader.closest(to: "Spam", among: keys) == nil)
        #expect(DocumentReader.closest(to: "admni", among: ["admin", "alice"]) == "admin")
        #expect(DocumentReader.closest(to: "Quota", among: DomainsSchema.account) == "QuotaBytes")
        #expect(DocumentReader.closest(to: "IP", among: StaticSchema.listener) == "IPs")
        #expect(DocumentReader.editDistance(Array("ab"), Array("ba")) == 1)
        #expect(DocumentReader.editDistance(Array("kitten"), Array("sitting")) == 3)
    }
}
