import Foundation
import Message
import Store
import Synchronization
import Testing

/// A fresh data directory with a deterministic clock and random source.
final class Fixture: Sendable {
    let root: String
    let clock: Mutex<Double>
    let counter = Mutex<UInt64>(0)
    let hook: (@Sendable (DeliveryStep) throws -> Void)?

    init(hook: (@Sendable (DeliveryStep) throws -> Void)? = nil) throws {
        root = FileManager.default.temporaryDirectory.path + "/storetests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // 2026-01-01T00:00:00Z.
        clock = Mutex(1_767_225_600)
        self.hook = hook
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    var environment: StoreEnvironment {
        StoreEnvironment(
            now: { [self] in
                self.clock.withLock { value in
                    value += 1
                    return Date(timeIntervalSince1970: value)
                }
            },
            randomBytes: { [self] count in
                // splitmix64: distinct, reproducible bytes.
                self.counter.withLock { state in
                    (0..<count).map { _ in
                        state &+= 0x9E37_79B9_7F4A_7C15
                        var z = state
                        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
                    }
                }
            },
            deliveryHook: hook)
    }

    func open(recover: Bool = true, limits: StoreLimits = StoreLimits(), metrics: StoreMetrics = StoreMetrics()) async throws -> Store {
        try await Store.open(dataDirectory: root, environment: environment, limits: limits, metrics: metrics, recover: recover)
    }

    /// Writes a received message into <data>/tmp as the SMTP server would.
    func incoming(_ text: String, name: String = UUID().uuidString) throws -> String {
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        let path = root + "/tmp/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Regular files under an account's msg/.
    func messageFiles(_ account: String) -> [String] {
        let base = root + "/accounts/\(account)/msg"
        guard let walker = FileManager.default.enumerator(atPath: base) else { return [] }
        var out: [String] = []
        while let entry = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: base + "/" + entry, isDirectory: &isDirectory), !isDirectory.boolValue {
                out.append(base + "/" + entry)
            }
        }
        return out.sorted()
    }

    func files(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + directory)) ?? []).sorted()
    }
}

func sampleMessage(subject: String = "Hello", body: String = "Hi Bob.") -> String {
    "From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: \(subject)\r\n"
        + "Message-ID: <m1@example.org>\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\n\r\n\(body)\r\n"
}

struct SimulatedCrash: Error {}

/// A crash at one delivery step, only while armed, and only once.
final class CrashSwitch: Sendable {
    let step: DeliveryStep
    private let armed = Mutex(false)

    init(at step: DeliveryStep) { self.step = step }

    func arm() { armed.withLock { $0 = true } }

    func check(_ reached: DeliveryStep) throws {
        let fire = armed.withLock { armed in
            guard armed, reached == step else { return false }
            armed = false
            return true
        }
        if fire { throw SimulatedCrash() }
    }
}

/// Reads `count` changes from a stream.
func take(_ count: Int, from iterator: inout AsyncStream<StoreChange>.Iterator) async -> [StoreChange] {
    var out: [StoreChange] = []
    while out.count < count, let change = await iterator.next() { out.append(change) }
    return out
}

extension Account {
    func inbox() async throws -> MailboxInfo {
        guard let inbox = try await mailbox(named: "INBOX") else { throw StoreError.noSuchMailbox("INBOX") }
        return inbox
    }

    func require(_ name: String) async throws -> MailboxInfo {
        guard let mailbox = try await mailbox(named: name) else { throw StoreError.noSuchMailbox(name) }
        return mailbox
    }
}
