import ArgumentParser
import Certificates
import Foundation
import Logging
import NIOSSL
import SASL
import SMTP
import SMTPServer
import ServiceLifecycle
import Store
import TernLog

/// `tern localserve`: a mail server on loopback for trying Tern and for developing against:
/// every address is delivered to one account, `tern@localhost`, whose password is printed.
/// Like mox's localserve, it uses the usual ports plus 1000.
struct LocalserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localserve",
        abstract: "Run a local mail server for development: SMTP on loopback, all mail to one account.",
        discussion: """
            The first run creates DIR with a data directory, a self-signed certificate and the \
            account tern@localhost with a random password; later runs reuse them. Listens on \
            127.0.0.1: SMTP on BASE+25 (STARTTLS), submission on BASE+587 (STARTTLS; \
            authentication without TLS is allowed, as this is loopback) and submissions on \
            BASE+465 (TLS). Stops cleanly on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Directory for the data, certificate and password (default: ~/.config/tern-localserve).")
    var dir: String?

    @Option(name: .customLong("base-port"), help: "Added to 25, 587 and 465 to get the ports.")
    var basePort: Int = 1000

    @OptionGroup var logOptions: LogOptions

    static let account = "tern"
    static let address = "tern@localhost"

    func run() async throws {
        try logOptions.bootstrap()
        guard (0...64000).contains(basePort) else { throw ValidationError("--base-port must be 0 to 64000") }
        let directory = dir ?? Self.defaultDirectory()
        let files = try LocalserveFiles(directory: directory)
        let logger = Logger(label: "localserve")

        let store = try await Store.open(dataDirectory: files.dataDirectory)
        defer { store.close() }
        let account = store.accountNames().contains(Self.account) ? try store.account(Self.account) : try store.createAccount(Self.account)
        try await account.setPassword(files.password, enableCRAMMD5: false)

        let tls = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(NIOSSLCertificate(bytes: files.certificate.certificateDER, format: .der))],
            privateKey: .privateKey(NIOSSLPrivateKey(bytes: files.certificate.privateKeyDER, format: .der))))
        let authentication = Authentication(credentials: LocalserveCredentials(store: store), serverSecret: files.serverSecret)
        let deliverer = StoreDeliverer(store: store)
        let limiter = ConnectionLimiter(maxPerAddress: 100)

        var services: [any Service] = []
        let listeners: [(name: String, kind: Session.Kind, port: Int, implicitTLS: Bool)] = [
            ("smtp", .incoming, basePort + 25, false),
            ("submission", .submission, basePort + 587, false),
            ("submissions", .submission, basePort + 465, true),
        ]
        for listener in listeners {
            var settings = ConnectionSettings(session: Session.Settings(kind: listener.kind, hostname: "localhost"), temporaryDirectory: store.temporaryDirectory)
            settings.tls = tls
            settings.session.implicitTLS = listener.implicitTLS
            settings.session.startTLSAvailable = !listener.implicitTLS
            if listener.kind == .submission {
                settings.session.plaintextAuthAllowed = true
                settings.authentication = authentication
            }
            var listenerLogger = Logger(label: "smtpserver")
            listenerLogger[metadataKey: "listener"] = "\(listener.name)"
            let bound = try await Listener(
                settings: settings, policy: LocalservePolicy(), deliverer: deliverer, limiter: limiter, logger: listenerLogger
            ).bind(host: "127.0.0.1", port: listener.port)
            services.append(bound)
        }

        // Written at once, unbuffered: scripts wait for these lines before connecting.
        FileHandle.standardOutput.write(Data("""
            tern localserve: a local mail server for development, all mail to one account.
            directory:   \(directory)
            SMTP:        127.0.0.1 port \(basePort + 25) (STARTTLS available)
            submission:  127.0.0.1 port \(basePort + 587) (STARTTLS; plaintext authentication allowed on loopback)
            submissions: 127.0.0.1 port \(basePort + 465) (TLS, self-signed certificate for localhost)
            account:     \(Self.address)
            password:    \(files.password)

            """.utf8))
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        logger.info("stopped")
    }

    static func defaultDirectory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (NSHomeDirectory() + "/.config")
        return base + "/tern-localserve"
    }
}

/// The files localserve keeps between runs: made on the first run, read on later ones.
struct LocalserveFiles {
    let dataDirectory: String
    let password: String
    let serverSecret: [UInt8]
    let certificate: SelfSignedCertificate

    init(directory: String) throws {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        dataDirectory = directory + "/data"
        try manager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        password = try Self.secret(at: directory + "/password", length: 20)
        serverSecret = Array(try Self.secret(at: directory + "/sasl-secret", length: 32).utf8)
        let certificatePath = directory + "/localhost.der"
        let keyPath = directory + "/localhost.key.der"
        if let der = manager.contents(atPath: certificatePath), let key = manager.contents(atPath: keyPath) {
            certificate = SelfSignedCertificate(certificateDER: Array(der), privateKeyDER: Array(key))
        } else {
            certificate = try SelfSignedCertificate(hostnames: ["localhost"])
            try Self.write(Data(certificate.certificateDER), to: certificatePath, mode: 0o644)
            try Self.write(Data(certificate.privateKeyDER), to: keyPath, mode: 0o600)
        }
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

/// Every address goes to the one account; any sender is allowed (it is a development server).
struct LocalservePolicy: SessionPolicy {
    func resolve(_ recipient: ForwardPath) -> RecipientDecision {
        .local(account: LocalserveCommand.account, mailbox: "INBOX")
    }

    func mayUseSender(_ sender: ReversePath, account: String) -> Bool { true }
}

/// Logins as "tern" or "tern@localhost".
struct LocalserveCredentials: CredentialSource {
    let store: Store

    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        guard username == LocalserveCommand.account || username.lowercased() == LocalserveCommand.address,
            let account = try? store.account(LocalserveCommand.account),
            let stored = try? await account.credentials()
        else { return nil }
        return (LocalserveCommand.account, SASLStoredCredentials(scramSHA1: stored.scramSHA1, scramSHA256: stored.scramSHA256))
    }
}
