import Foundation
import Testing

@testable import Config

@Suite("commented examples and loading both files")
struct ExamplesAndLoaderTests {
    @Test("the static example parses, validates and shows the defaults")
    func staticExample() throws {
        let config = try StaticConfig.parse(ConfigExamples.staticFile(), file: "tern.yaml", directory: "/etc/tern/config")
        #expect(config.dataDir == "/etc/tern/data")
        #expect(config.limits == Limits())
        #expect(config.listeners.map(\.name) == ["public", "internal"])
        let publicListener = try #require(config.listener(named: "public"))
        #expect(publicListener.tls == .acme("letsencrypt"))
        #expect(publicListener.smtp == SMTPService(enabled: true))
        #expect(publicListener.submission == SubmissionService(enabled: true))
        #expect(publicListener.submissions == ImplicitTLSService(enabled: true, port: 465))
        #expect(publicListener.imap == IMAPService(enabled: true))
        #expect(publicListener.imaps == ImplicitTLSService(enabled: true, port: 993))
        #expect(publicListener.mtaSTSHTTPS == MTASTSHTTPSService(enabled: true))
        #expect(config.listener(named: "internal")?.metrics == MetricsService(enabled: true))
        #expect(config.acme == [ACMEProvider(name: "letsencrypt", directoryURL: "https://acme-v02.api.letsencrypt.org/directory", contactEmail: "hostmaster@example.net")])
    }

    @Test("the domains example parses and validates")
    func domainsExample() throws {
        let config = try DomainsConfig.parse(ConfigExamples.domainsFile(), file: "domains.yaml")
        #expect(config.accounts.map(\.name) == ["admin", "alice"])
        #expect(config.resolveRecipient("alice+x@example.com").account == "alice")
        #expect(config.resolveRecipient("whoever@example.org").account == "alice")
        let policy = try #require(config.domains.first?.mtaSTS)
        #expect(policy.maxAge == MTASTSSettings.defaultMaxAge)
        #expect(try policy.policy(defaultMX: []).text == "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n")
    }

    @Test("every key of the schema appears in the examples", arguments: [
        (StaticSchema.allKeys, ConfigExamples.staticFile()), (DomainsSchema.allKeys, ConfigExamples.domainsFile()),
    ])
    func examplesAreComplete(keys: Set<String>, example: String) {
        for key in keys.sorted() {
            #expect(example.contains("\(key):"), "\(key) is not in the example")
        }
    }

    @Test("both examples load together, with the domains file beside the static one")
    func loadExamples() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let staticPath = try directory.write("tern.yaml", ConfigExamples.staticFile())
        try directory.write("domains.yaml", ConfigExamples.domainsFile())
        // The example's DKIM keys: only readable files are checked here.
        try FileManager.default.createDirectory(atPath: directory.path + "/dkim", withIntermediateDirectories: true)
        try directory.write("dkim/2026a.ed25519.pem", "key")
        try directory.write("dkim/2026b.rsa.pem", "key")
        let config = try ConfigLoader.load(staticPath: staticPath)
        #expect(config.domains.domains.first?.dkim?.signingSelectors.map(\.privateKeyFile) == [
            directory.path + "/dkim/2026a.ed25519.pem", directory.path + "/dkim/2026b.rsa.pem",
        ])
        #expect(config.domainsPath == directory.path + "/domains.yaml")
        #expect(config.staticConfig.postmaster.account == "admin")
        #expect(ConfigLoader.check(staticPath: staticPath).isEmpty)
    }

    @Test("errors of both files and between them, static file first")
    func crossFileErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let staticPath = try directory.write("tern.yaml", Fixtures.minimalStatic.replacingOccurrences(of: "Account: admin", with: "Account: admni"))
        let domainsPath = try directory.write("domains.yaml", Fixtures.domains)
        #expect(ConfigLoader.check(staticPath: staticPath).map(\.description) == [
            "\(staticPath):4:3: Postmaster.Account: no account 'admni' in the domains file; did you mean 'admin'?"
        ])

        try directory.write("domains.yaml", Fixtures.domains + "\n    Extra: 1\n")
        let badStatic = Fixtures.minimalStatic + "\n    IMAPS: {Enabled: true}\n"
        try directory.write("tern.yaml", badStatic)
        #expect(ConfigLoader.check(staticPath: staticPath, domainsPath: domainsPath).map(\.description) == [
            "\(staticPath):10:13: Listeners.public.IMAPS.Enabled: IMAPS starts with TLS (RFC 8314), but this listener has no TLS section",
            "\(domainsPath):35:5: Accounts.bob.Extra: unknown key 'Extra'; known keys here: Domain, FullName, Destinations, Passwords, CRAMMD5Secret, QuotaBytes, Routes",
        ])
    }

    @Test("missing files are errors without a line")
    func missingFiles() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let staticPath = directory.path + "/tern.yaml"
        #expect(ConfigLoader.check(staticPath: staticPath).map(\.description) == [
            "\(staticPath): cannot read the file: The file doesn’t exist.",
            "\(directory.path)/domains.yaml: cannot read the file: The file doesn’t exist.",
        ])
        #expect(ConfigLoader.defaultDomainsPath(forStaticPath: "tern.yaml") == "domains.yaml")
        #expect(ConfigLoader.defaultDomainsPath(forStaticPath: "config/tern.yaml") == "config/domains.yaml")
    }

    @Test("error text: file, line, column, key path, message")
    func errorText() {
        #expect(ConfigError(file: "tern.yaml", line: 3, column: 9, keyPath: "Listeners.public.SMTP.Port", message: "m").description == "tern.yaml:3:9: Listeners.public.SMTP.Port: m")
        #expect(ConfigError(file: "tern.yaml", line: 3, keyPath: "", message: "m").description == "tern.yaml:3: m")
        #expect(ConfigError(file: "tern.yaml", line: nil, keyPath: "", message: "m").description == "tern.yaml: m")
        #expect(KeyPath(["Accounts", "alice", "Passwords"]).index(2).key("x").description == "Accounts.alice.Passwords[2].x")
    }
}
