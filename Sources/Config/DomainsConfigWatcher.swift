// Reloading domains.yaml while the server runs, as mox reloads domains.conf.
//
// The watcher polls: every `interval` (2 s by default) it looks at the file's modification
// time, size and inode, and only when one of those changed reads the file and hashes it; only
// when the content differs from the last content seen does it parse and validate. A valid file
// whose model differs from the one in effect is published as `.applied`; a file with errors
// is published as `.rejected` and not applied, so the server keeps running on the previous
// model until the file is fixed; a valid file that changes nothing (a comment edited, or the
// file reverted to the model in effect after a rejected edit) is published as `.unchanged`,
// so the log says the errors are gone.
//
// Polling rather than inotify: it works the same on every platform and file system (network
// mounts, editors that replace the file by renaming), and a two-second delay does not matter
// for account changes. Time is injected (`sleep`), so tests step the loop exactly.

import Foundation

/// What the watcher found after a change of the file.
public enum DomainsConfigEvent: Sendable, Equatable {
    /// A valid file with a new model; it is now the one in effect.
    case applied(DomainsConfig)
    /// The file changed but has errors (or cannot be read); the previous model stays.
    case rejected([ConfigError])
    /// The file changed, is valid, and gives the model already in effect.
    case unchanged
}

/// What the watcher remembers between polls.
public struct DomainsWatchState: Sendable {
    /// The model in effect.
    public internal(set) var active: DomainsConfig
    fileprivate var lastStat: FileStat?
    fileprivate var lastHash: UInt64?
    fileprivate var hasLooked = false

    /// `active` is the model the server started with (or last applied).
    public init(active: DomainsConfig) {
        self.active = active
    }
}

/// Modification time, size and file identity: a change in any means "read again".
struct FileStat: Hashable, Sendable {
    var modified: Date?
    var size: UInt64
    var inode: UInt64

    static let missing = FileStat(modified: nil, size: 0, inode: 0)

    init(modified: Date?, size: UInt64, inode: UInt64) {
        self.modified = modified
        self.size = size
        self.inode = inode
    }

    init(path: String) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        modified = attributes[.modificationDate] as? Date
        size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
    }
}

/// Polls domains.yaml and publishes each new valid model on `events`.
///
/// Start `run()` in a task (or as a service); read `events` elsewhere. `run()` ends when its
/// task is cancelled or `sleep` throws, and then finishes `events`. Call `run()` once.
public final class DomainsConfigWatcher: Sendable {
    public let path: String
    public let interval: Duration
    /// One event per change of the file, in order.
    public let events: AsyncStream<DomainsConfigEvent>

    private let initial: DomainsConfig
    private let continuation: AsyncStream<DomainsConfigEvent>.Continuation
    private let check: @Sendable (DomainsConfig) -> [ConfigIssue]
    private let sleep: @Sendable (Duration) async throws -> Void

    /// The poll interval when none is given.
    public static let defaultInterval: Duration = .seconds(2)

    /// - Parameters:
    ///   - path: the domains file.
    ///   - initial: the model in effect now; the first poll publishes nothing if the file
    ///     still gives it.
    ///   - check: checks against the rest of the configuration, e.g.
    ///     `staticConfig.domainsIssues`; a file failing them is rejected.
    ///   - sleep: waits between polls; tests pass one they control.
    public init(
        path: String, initial: DomainsConfig, interval: Duration = defaultInterval,
        check: @escaping @Sendable (DomainsConfig) -> [ConfigIssue] = { _ in [] },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.path = path
        self.initial = initial
        self.interval = interval
        self.check = check
        self.sleep = sleep
        (events, continuation) = AsyncStream.makeStream(of: DomainsConfigEvent.self)
    }

    /// Polls until cancelled: one look at the file at once, then one after every `interval`.
    public func run() async {
        var state = DomainsWatchState(active: initial)
        defer { continuation.finish() }
        while !Task.isCancelled {
            if let event = poll(&state) {
                continuation.yield(event)
            }
            do {
                try await sleep(interval)
            } catch {
                return
            }
        }
    }

    /// One look at the file: nil when nothing that matters changed.
    public func poll(_ state: inout DomainsWatchState) -> DomainsConfigEvent? {
        let firstLook = !state.hasLooked
        state.hasLooked = true

        let stat: FileStat
        do {
            stat = try FileStat(path: path)
        } catch {
            guard state.lastStat != .missing else { return nil }
            state.lastStat = .missing
            state.lastHash = nil
            return .rejected([ConfigError(file: path, line: nil, keyPath: "", message: "cannot read the file: it is missing or not accessible")])
        }
        guard stat != state.lastStat else { return nil }
        state.lastStat = stat

        let text: String
        switch ConfigFile.read(path) {
        case let .failure(error):
            state.lastHash = nil
            return .rejected([error])
        case let .success(read):
            text = read
        }
        let hash = Self.fnv1a(text)
        guard hash != state.lastHash else { return nil }
        state.lastHash = hash

        let config: DomainsConfig
        do {
            config = try DomainsConfig.parse(text, file: path, check: check)
        } catch {
            return .rejected(error.errors)
        }
        if config == state.active {
            return firstLook ? nil : .unchanged
        }
        state.active = config
        return .applied(config)
    }

    /// FNV-1a, 64 bits: to notice that content changed, not to resist an attacker (whoever
    /// can write the file controls the configuration anyway).
    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}
