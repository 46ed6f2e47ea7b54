import Foundation
import Testing

@testable import Config

/// A sleep the test controls: each `open()` lets one waiting (or the next) sleep return.
actor Gate {
    private var permits = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if permits > 0 {
            permits -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        if waiters.isEmpty {
            permits += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

@Suite("reloading domains.yaml")
struct WatcherTests {
    static let first = """
        Domains:
          example.com: {}
        Accounts:
          alice:
            Domain: example.com
            Destinations:
              alice: {}
        """
    static let second = first + "\n      bob: {}\n"
    static let invalid = first + "\n      bob@example.net: {}\n    Quota: 1\n"

    var bobLookup: RecipientLookup {
        .local(LocalRecipient(account: "alice", mailbox: "Inbox", destination: "bob@example.com", match: .address))
    }

    @Test("applies a valid change, rejects an invalid one, notices a revert")
    func pollSequence() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1000))
        let initial = try DomainsConfig.parse(Self.first, file: path)
        let watcher = DomainsConfigWatcher(path: path, initial: initial)
        var state = DomainsWatchState(active: initial)

        // The first look finds the model in effect: nothing to say.
        #expect(watcher.poll(&state) == nil)
        #expect(watcher.poll(&state) == nil)

        // A valid change is applied.
        try directory.write("domains.yaml", Self.second, modified: Date(timeIntervalSince1970: 1001))
        let applied = watcher.poll(&state)
        guard case let .applied(second) = applied else {
            Issue.record("expected .applied, got \(String(describing: applied))")
            return
        }
        #expect(second.resolveRecipient("bob@example.com") == bobLookup)
        #expect(state.active == second)

        // A new modification time with the same content: read, hashed, nothing to say.
        try directory.write("domains.yaml", Self.second, modified: Date(timeIntervalSince1970: 1002))
        #expect(watcher.poll(&state) == nil)

        // An invalid change is rejected with its errors; the model in effect stays.
        try directory.write("domains.yaml", Self.invalid, modified: Date(timeIntervalSince1970: 1003))
        #expect(watcher.poll(&state) == .rejected([
            ConfigError(file: path, line: 8, column: 7, keyPath: "Accounts.alice.Destinations.bob@example.net", message: "domain example.net is not configured under Domains; did you mean example.com?"),
            ConfigError(file: path, line: 9, column: 5, keyPath: "Accounts.alice.Quota", message: "unknown key 'Quota'; did you mean 'QuotaBytes'?"),
        ]))
        #expect(state.active == second)
        #expect(watcher.poll(&state) == nil)

        // Reverting to the model in effect: valid again, nothing changes.
        try directory.write("domains.yaml", Self.second, modified: Date(timeIntervalSince1970: 1004))
        #expect(watcher.poll(&state) == .unchanged)
        #expect(state.active == second)

        // Reverting to the first version: applied.
        try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1005))
        #expect(watcher.poll(&state) == .applied(initial))
        #expect(state.active == initial)
    }

    @Test("a missing file is rejected once, and its return noticed")
    func missingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1000))
        let initial = try DomainsConfig.parse(Self.first, file: path)
        let watcher = DomainsConfigWatcher(path: path, initial: initial)
        var state = DomainsWatchState(active: initial)
        #expect(watcher.poll(&state) == nil)

        try FileManager.default.removeItem(atPath: path)
        #expect(watcher.poll(&state) == .rejected([
            ConfigError(file: path, line: nil, keyPath: "", message: "cannot read the file: it is missing or not accessible")
        ]))
        #expect(watcher.poll(&state) == nil)
        #expect(state.active == initial)

        try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1001))
        #expect(watcher.poll(&state) == .unchanged)
    }

    @Test("checks against the static config reject a reload")
    func crossCheck() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let staticConfig = try StaticConfig.parse(Fixtures.minimalStatic.replacingOccurrences(of: "admin", with: "alice"), file: "tern.yaml", directory: directory.path)
        let path = try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1000))
        let initial = try DomainsConfig.parse(Self.first, file: path, check: staticConfig.domainsIssues)
        let watcher = DomainsConfigWatcher(path: path, initial: initial, check: staticConfig.domainsIssues)
        var state = DomainsWatchState(active: initial)
        #expect(watcher.poll(&state) == nil)

        let renamed = Self.first.replacingOccurrences(of: "alice:", with: "alicia:")
        try directory.write("domains.yaml", renamed, modified: Date(timeIntervalSince1970: 1001))
        #expect(watcher.poll(&state) == .rejected([
            ConfigError(file: path, line: 3, column: 1, keyPath: "Accounts", message: "account 'alice' is missing; the static config names it as Postmaster.Account")
        ]))
        #expect(state.active == initial)
    }

    @Test("the polling loop publishes through its stream, paced by the injected sleep")
    func runLoop() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanup() }
        let path = try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1000))
        let initial = try DomainsConfig.parse(Self.first, file: path)
        let gate = Gate()
        let intervals = IntervalLog()
        let watcher = DomainsConfigWatcher(path: path, initial: initial, sleep: { interval in
            await intervals.add(interval)
            await gate.wait()
            try Task.checkCancellation()
        })
        let task = Task { await watcher.run() }
        var events = watcher.events.makeAsyncIterator()

        try directory.write("domains.yaml", Self.invalid, modified: Date(timeIntervalSince1970: 1001))
        await gate.open()
        guard case let .rejected(errors)? = await events.next() else {
            Issue.record("expected .rejected")
            return
        }
        #expect(errors.map(\.line) == [8, 9])

        try directory.write("domains.yaml", Self.second, modified: Date(timeIntervalSince1970: 1002))
        await gate.open()
        guard case let .applied(config)? = await events.next() else {
            Issue.record("expected .applied")
            return
        }
        #expect(config.resolveRecipient("bob@example.com") == bobLookup)

        try directory.write("domains.yaml", Self.first, modified: Date(timeIntervalSince1970: 1003))
        await gate.open()
        #expect(await events.next() == .applied(initial))

        // Cancelling ends the loop and finishes the stream.
        task.cancel()
        await gate.open()
        #expect(await events.next() == nil)
        await task.value
        #expect(await intervals.all.allSatisfy { $0 == .seconds(2) })
    }
}

actor IntervalLog {
    private(set) var all: [Duration] = []

    func add(_ interval: Duration) {
        all.append(interval)
    }
}
