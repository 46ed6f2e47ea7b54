import Foundation
import IMAP
import IMAPServer
import SASL
import ServerSupport
import Store
import Synchronization
import Testing

/// A data directory with a store and the account "alice" (password "secret"), a fixed clock.
final class Fixture: Sendable {
    let root: String
    let store: Store
    let clock: Clock

    /// Store time: 2026-01-01T00:00:00Z plus one second per reading.
    final class Clock: Sendable {
        let value = Mutex<Double>(1_767_225_600)
        func tick() -> Date { value.withLock { $0 += 1; return Date(timeIntervalSince1970: $0) } }
    }

    static func make() async throws -> Fixture {
        let root = FileManager.default.temporaryDirectory.path + "/imapservertests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let clock = Clock()
        let counter = Mutex<UInt64>(0)
        let environment = StoreEnvironment(
            now: { clock.tick() },
            randomBytes: { count in
                counter.withLock { state in
                    (0..<count).map { _ in
                        state &+= 0x9E37_79B9_7F4A_7C15
                        return UInt8(truncatingIfNeeded: state >> 29)
                    }
                }
            })
        let store = try await Store.open(dataDirectory: root, environment: environment)
        _ = try store.createAccount("alice")
        return Fixture(root: root, store: store, clock: clock)
    }

    private init(root: String, store: Store, clock: Clock) {
        self.root = root
        self.store = store
        self.clock = clock
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: root)
    }

    var account: Account { get throws { try store.account("alice") } }

    var credentials: StoreCredentials { StoreCredentials(store: store) }

    func authentication() -> Authentication {
        Authentication(
            credentials: credentials, serverSecret: Array("server secret".utf8),
            failureLimiter: AuthFailureLimiter(maxFailures: 5, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2)))
    }

    func settings(plaintext: Bool = true, configure: (inout IMAPSettings) -> Void = { _ in }) -> IMAPSettings {
        let store = self.store
        var settings = IMAPSettings(
            hostname: "mail.example.org", plaintextLoginAllowed: plaintext, authentication: authentication(),
            accountResolver: { try store.account($0) }, temporaryDirectory: store.temporaryDirectory,
            now: { Date(timeIntervalSince1970: 1_767_312_000) })
        configure(&settings)
        return settings
    }

    /// Delivers a message to alice's INBOX (or another mailbox) the way SMTP does.
    @discardableResult
    func deliver(_ text: String, mailbox: String = "INBOX") async throws -> DeliveredMessage? {
        let path = store.temporaryDirectory + "/" + UUID().uuidString
        try Data(wire(text)).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await store.deliver(
            IncomingMessage(file: path, receivedAt: Date(timeIntervalSince1970: 1_767_225_600)),
            to: [DeliveryRecipient(account: "alice", mailbox: mailbox)]).first
    }
}

/// Logins are account names (or name@example.org) of the store's accounts, each with the
/// password "secret", as the domains file gives them in the server.
struct StoreCredentials: CredentialSource {
    let store: Store

    static let secret = SASLStoredCredentials(
        scramSHA1: try? SCRAMCredentials.generate(password: "secret", hash: .sha1, iterations: 4096),
        scramSHA256: try? SCRAMCredentials.generate(password: "secret", hash: .sha256, iterations: 4096))

    func credentials(for username: String) async -> (account: String, credentials: SASLStoredCredentials)? {
        let name = username.hasSuffix("@example.org") ? String(username.dropLast(12)) : username
        guard (try? store.account(name)) != nil else { return nil }
        return (name, Self.secret)
    }
}

/// Client text as in the RFCs: "\n" stands for CRLF.
func wire(_ text: String) -> [UInt8] {
    Array(text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

final class CollectingOutput: IMAPOutput {
    var bytes: [UInt8] = []
    func write(_ bytes: [UInt8]) async throws { self.bytes += bytes }
}

/// Drives one session without sockets: `send` feeds client text and returns everything the
/// server wrote in answer, with CRLF shown as "\n".
final class TestSession {
    let session: IMAPSession
    let output = CollectingOutput()
    var lastSignal: SessionSignal?
    var greeting = ""

    init(_ fixture: Fixture, shared: IMAPSharedState, tls: Bool = false, configure: (inout IMAPSettings) -> Void = { _ in }) async throws {
        var sessionSettings = SessionSettings(fixture.settings(configure: configure), remoteAddress: "192.0.2.1")
        if tls { sessionSettings.tlsActive = true }
        session = IMAPSession(settings: sessionSettings, shared: shared, output: output)
        try await session.start()
        greeting = take()
    }

    func take() -> String {
        defer { output.bytes = [] }
        return String(decoding: output.bytes, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n")
    }

    @discardableResult
    func send(_ text: String) async throws -> String {
        lastSignal = try await session.receive(wire(text))
        let answer = take()
        if ProcessInfo.processInfo.environment["IMAPTEST_TRACE"] != nil { print("C: \(text)S: \(answer)") }
        return answer
    }

    func sendBytes(_ bytes: [UInt8]) async throws -> String {
        lastSignal = try await session.receive(bytes)
        return take()
    }

    /// Logs in as alice and returns nothing of the exchange.
    func login() async throws {
        let answer = try await send("L1 LOGIN alice secret\n")
        #expect(answer.hasPrefix("L1 OK"), "login failed: \(answer)")
        if let stream = session.takeChangeStream() { changes = stream.makeAsyncIterator() }
    }

    func select(_ mailbox: String = "INBOX") async throws {
        let answer = try await send("S1 SELECT \(mailbox)\n")
        #expect(answer.contains("S1 OK"), "select failed: \(answer)")
    }

    var changes: AsyncStream<StoreChange>.Iterator?

    /// Waits for the next store change and hands it to the session, as the adapter does;
    /// returns what the session wrote.
    func nextChange() async throws -> String {
        if let stream = session.takeChangeStream() { changes = stream.makeAsyncIterator() }
        guard let change = await changes?.next() else { return "(no change)" }
        lastSignal = try await session.storeChanged(change)
        return take()
    }
}

let sampleMessage = """
    From: Alice Example <alice@example.org>
    To: Bob <bob@example.com>, carol@example.net
    Subject: Hello there
    Date: Thu, 1 Jan 2026 10:00:00 +0100
    Message-ID: <m1@example.org>

    Hi Bob,
    this is a test.

    """
