import ArgumentParser
import Certificates
import Config
import Foundation
import Queue
import SASL
import SMTP
import SMTPClient
import SMTPServer

/// `tern localserve`: a mail server on loopback for trying Tern and for developing against:
/// every address it receives is delivered to one account, `tern@localhost`, whose password
/// is printed. It is `serve` with generated configuration files, policies that accept any
/// address, and an outbound queue whose only route leads back to its own SMTP port, so
/// submitted mail to other domains really goes through the queue (and its DSNs) without
/// leaving the machine. Like mox's localserve, it uses the usual ports plus 1000.
struct LocalserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localserve",
        abstract: "Run a local mail server for development: SMTP on loopback, all mail to one account.",
        discussion: """
            The first run creates DIR with tern.yaml and domains.yaml (usable with `tern config \
            test` and `tern serve`), a data directory, a self-signed certificate and the \
            account tern@localhost with a random password; later runs reuse them (tern.yaml is \
            rewritten with the current ports). Listens on 127.0.0.1: SMTP on BASE+25 (STARTTLS), \
            submission on BASE+587 (STARTTLS; authentication without TLS is allowed, as this is \
            loopback), submissions on BASE+465 (TLS), IMAP on BASE+143 (STARTTLS; login without \
            TLS allowed) and IMAPS on BASE+993. Submitted mail to other domains goes through \
            the outbound queue, which delivers it to localserve's own SMTP port; there, \
            recipient local parts ending in temperror, permerror, a three-digit code (e.g. \
            x-552) or timeout fail that way, to try the DSN paths. Stops cleanly on SIGINT or \
            SIGTERM.
            """
    )

    @Option(help: "Directory for the configuration, data, certificate and password (default: ~/.config/tern-localserve).")
    var dir: String?

    @Option(name: .customLong("base-port"), help: "Added to 25, 587, 465, 143 and 993 to get the ports.")
    var basePort: Int = 1000

    @OptionGroup var logOptions: LogOptions

    static let account = "tern"
    static let address = "tern@localhost"

    func run() async throws {
        try logOptions.bootstrap()
        guard (0...64000).contains(basePort) else { throw ValidationError("--base-port must be 0 to 64000") }
        let directory = dir ?? Self.defaultDirectory()
        let files = try LocalserveFiles(directory: directory, basePort: basePort)
        let config = try ServeCommand.loadConfig(files.staticConfigPath)

        // Written at once, unbuffered, when the server is ready (store open, crash recovery
        // done, listeners bound): scripts wait for these lines before connecting, and then
        // expect SIGTERM to stop it gracefully.
        let settings = """
            tern localserve: a local mail server for development, all mail to one account.
            config:      \(files.staticConfigPath)
            SMTP:        127.0.0.1 port \(basePort + 25) (STARTTLS available)
            submission:  127.0.0.1 port \(basePort + 587) (STARTTLS; plaintext authentication allowed on loopback)
            submissions: 127.0.0.1 port \(basePort + 465) (TLS, self-signed certificate for localhost)
            IMAP:        127.0.0.1 port \(basePort + 143) (STARTTLS; plaintext login allowed on loopback)
            IMAPS:       127.0.0.1 port \(basePort + 993) (TLS, self-signed certificate for localhost)
            outgoing:    mail to other domains is queued and loops back to SMTP port \(basePort + 25); local parts
                         ending in temperror, permerror, a 3-digit code or timeout fail there (DSNs to the sender)
            account:     \(Self.address)
            password:    \(files.password)

            """
        let loopback = basePort + 25
        try await ServeCommand.runServer(config, variant: ServerVariant(
            policy: { _, _, kind in kind == .incoming ? LocalserveReceivingPolicy() as any SessionPolicy : LocalserveSubmissionPolicy() },
            queue: { Self.loopBack(&$0, port: loopback) }, transportSecurity: false, incomingAnalysis: false,
            ready: { FileHandle.standardOutput.write(Data(settings.utf8)) }))
    }

    static let loopbackTransport = "localserve"

    /// Every message, whatever its domain, goes to localserve's own SMTP port: a relay to
    /// 127.0.0.1, so no DNS is asked. STARTTLS is used with the self-signed certificate
    /// (unverified, also for REQUIRETLS messages, RFC 8689, which here never leave the
    /// machine). Replies are waited for 30 seconds, not RFC 5321's 5 minutes (§4.5.3.2),
    /// so a `timeout` recipient shows its result soon.
    static func loopBack(_ settings: inout QueueSettings, port: Int) {
        settings.transports = [
            loopbackTransport: .relay(RelayTransport(host: "127.0.0.1", port: port, security: .opportunisticSTARTTLS, ignoreVerificationErrors: true))
        ]
        settings.routes = [Route(transport: loopbackTransport)]
        settings.localRoutes = .none
        for keyPath: WritableKeyPath<SMTPClient.Timeouts, Duration> in [\.greeting, \.command, \.mail, \.rcpt, \.dataInitiation, \.dataBlock, \.dataTermination] {
            settings.timeouts[keyPath: keyPath] = .seconds(30)
        }
    }

    static func defaultDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/tern-localserve"
    }
}

/// The files localserve keeps between runs: made on the first run, reused later.
struct LocalserveFiles {
    let staticConfigPath: String
    let password: String

    init(directory: String, basePort: Int) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try manager.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        password = try Self.secret(at: directory + "/password", length: 20)
        if !manager.fileExists(atPath: directory + "/localhost.crt") || !manager.fileExists(atPath: directory + "/localhost.key") {
            let certificate = try SelfSignedCertificate(hostnames: ["localhost"])
            try Self.write(Data(certificate.certificatePEM.utf8), to: directory + "/localhost.crt", mode: 0o644)
            try Self.write(Data(certificate.privateKeyPEM.utf8), to: directory + "/localhost.key", mode: 0o600)
        }
        staticConfigPath = directory + "/tern.yaml"
        try Self.write(Data(Self.staticConfig(basePort: basePort).utf8), to: staticConfigPath, mode: 0o644)
        if !manager.fileExists(atPath: directory + "/domains.yaml") {
            let passwords = try [SCRAMHash.sha256, .sha1].map { try SCRAMCredentials.generate(password: password, hash: $0).rfc5803 }
            try Self.write(Data(Self.domainsConfig(passwords: passwords).utf8), to: directory + "/domains.yaml", mode: 0o600)
        }
    }

    static func staticConfig(basePort: Int) -> String {
        """
        # Written by `tern localserve` at every start (the ports follow --base-port).
        DataDir: data
        Hostname: localhost
        LogLevel: info
        Postmaster:
          Account: \(LocalserveCommand.account)
          Mailbox: Inbox
        Listeners:
          localhost:
            IPs:
              - 127.0.0.1
            TLS:
              KeyCerts:
                - CertFile: localhost.crt
                  KeyFile: localhost.key
            SMTP:
              Enabled: true
              Port: \(basePort + 25)
            Submission:
              Enabled: true
              Port: \(basePort + 587)
              PlaintextAuthOnLoopback: true
            Submissions:
              Enabled: true
              Port: \(basePort + 465)
            IMAP:
              Enabled: true
              Port: \(basePort + 143)
              NoRequireSTARTTLS: true
            IMAPS:
              Enabled: true
              Port: \(basePort + 993)

        """
    }

    static func domainsConfig(passwords: [String]) -> String {
        """
        # Written by `tern localserve` on its first run. localserve itself delivers every
        # address to the account; with `tern serve` these destinations apply.
        Domains:
          localhost: {}
        Accounts:
          \(LocalserveCommand.account):
            Domain: localhost
            Destinations:
              \(LocalserveCommand.account): {}
              "@localhost": {}
            Passwords:
        \(passwords.map { "      - \($0)" }.joined(separator: "\n"))

        """
    }

    /// A random token of letters and digits, kept in a file readable only by its owner.
    static func secret(at path: String, length: Int) throws -> String {
        if let existing = FileManager.default.contents(atPath: path), let text = String(data: existing, encoding: .utf8) {
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { return trimmed }
        }
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let token = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        try write(Data((token + "\n").utf8), to: path, mode: 0o600)
        return token
    }

    static func write(_ data: Data, to path: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: mode]) else {
            throw ValidationError("cannot write \(path)")
        }
    }
}

/// Submission: addresses at localhost go to the one account, every other domain to the
/// queue; any sender is allowed (it is a development server).
struct LocalserveSubmissionPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        if case let .mailbox(mailbox) = recipient, mailbox.domain.lowercased() != "localhost" { return .remote }
        return .local(account: LocalserveCommand.account, mailbox: "INBOX")
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool { true }
}

/// The receiving side (SMTP port, where the queue's mail loops back): every address goes to
/// the one account, except that a local part ending in `temperror`, `permerror`, a
/// three-digit 4xx/5xx code or `timeout` is refused that way, so the queue's retries and
/// DSNs (RFC 3464) can be tried by hand. Never used by `serve`.
struct LocalserveReceivingPolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        guard case let .mailbox(mailbox) = recipient else { return .local(account: LocalserveCommand.account, mailbox: "INBOX") }
        let local = mailbox.localPart.lowercased()
        if local.hasSuffix("temperror") { return .refused(Reply(451, EnhancedStatus(4, 0, 0), "temporary error for testing (localserve)")) }
        if local.hasSuffix("permerror") { return .refused(Reply(550, EnhancedStatus(5, 0, 0), "permanent error for testing (localserve)")) }
        if local.hasSuffix("timeout") { return .unanswered }
        let digits = local.suffix(3)
        if digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let code = Int(digits), (400...599).contains(code) {
            return .refused(Reply(code, EnhancedStatus(code / 100, 0, 0), "error \(code) for testing (localserve)"))
        }
        return .local(account: LocalserveCommand.account, mailbox: "INBOX")
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool { true }
}
