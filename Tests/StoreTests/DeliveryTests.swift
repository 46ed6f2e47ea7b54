import Foundation
import Message
import MetricsTestKit
@testable import Store
import Synchronization
import Testing

@Suite struct DeliveryTests {
    @Test func deliverToOneAccount() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let text = sampleMessage()
        let received = Date(timeIntervalSince1970: 1_767_000_000)
        let file = try fixture.incoming(text)
        let results = try await store.deliver(
            IncomingMessage(file: file, receivedAt: received, requireTLS: true, metadata: [1, 2, 3]),
            to: [DeliveryRecipient(account: "mjl", keywords: ["$NotJunk"])])
        let inbox = try await account.inbox()
        #expect(results.count == 1)
        let result = try #require(results.first)
        #expect(result.account == "mjl" && result.mailbox == inbox.id && result.mailboxName == "INBOX")
        #expect(result.uidValidity == inbox.uidValidity && result.uid == 1 && result.modSeq == inbox.highestModSeq)
        let stored = try #require(try await account.message(in: inbox.id, uid: 1))
        #expect(stored.requireTLS)
        #expect(stored.deliveryMetadata == [1, 2, 3])
        #expect(stored.summary.internalDate == received)
        #expect(stored.summary.keywords == ["$NotJunk"])
        #expect(stored.summary.size == Int64(text.utf8.count))
        #expect(stored.parsed.header.first("Subject") == "Hello")
        #expect(stored.path.hasPrefix(fixture.root + "/accounts/mjl/msg/0/"))
        #expect(FileManager.default.fileExists(atPath: file), "the caller owns the temp file")
        #expect(inbox.messages == 1 && inbox.unseen == 1 && inbox.size == Int64(text.utf8.count) && inbox.uidNext == 2)
        #expect(fixture.files(in: "tmp") == [URL(fileURLWithPath: file).lastPathComponent])
        #expect(try await store.verify() == [])

        await #expect(throws: StoreError.noSuchAccount("nobody")) {
            _ = try await store.deliver(IncomingMessage(file: file), to: [DeliveryRecipient(account: "nobody")])
        }
        await #expect(throws: StoreError.noRecipients) { _ = try await store.deliver(IncomingMessage(file: file), to: []) }
    }

    @Test func oneAccountTwoAddressesAndTwoMailboxesStoresOnce() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        let results = try await store.deliver(
            IncomingMessage(file: fixture.incoming(sampleMessage())),
            to: [
                DeliveryRecipient(account: "mjl"),
                DeliveryRecipient(account: "mjl", mailbox: "inbox", flags: [.flagged]),
                DeliveryRecipient(account: "mjl", mailbox: "Lists/Swift"),
            ])
        #expect(results.map(\.mailboxName) == ["INBOX", "Lists/Swift"])
        #expect(results.map(\.uid) == [1, 1])
        #expect(Set(results.map(\.modSeq)).count == 1)
        #expect(fixture.messageFiles("mjl").count == 1, "one file per account")
        let inbox = try await account.inbox()
        #expect(inbox.messages == 1)
        #expect(try await account.messages(in: inbox.id).first?.flags == [.flagged], "merged flags of both addresses")
        let list = try await account.require("Lists/Swift")
        #expect(list.messages == 1 && list.subscribed)
        #expect(try await account.mailbox(named: "Lists") != nil)
        // Expunging one copy keeps the file for the other.
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet.all, .add, flags: [.deleted])
        _ = try await account.expunge(in: inbox.id)
        #expect(fixture.messageFiles("mjl").count == 1)
        #expect(try await store.verify() == [])
    }

    @Test func deliverToSeveralAccounts() async throws {
        let fixture = try Fixture()
        let metrics = TestMetrics()
        let store = try await fixture.open(metrics: StoreMetrics(factory: metrics))
        defer { store.close() }
        for name in ["a", "b", "c"] { try store.createAccount(name) }
        let results = try await store.deliver(
            IncomingMessage(file: fixture.incoming(sampleMessage())),
            to: [DeliveryRecipient(account: "a"), DeliveryRecipient(account: "b"), DeliveryRecipient(account: "c", mailbox: "Junk"), DeliveryRecipient(account: "a")])
        #expect(results.map(\.account) == ["a", "b", "c"])
        #expect(results.map(\.mailboxName) == ["INBOX", "INBOX", "Junk"])
        for name in ["a", "b", "c"] {
            #expect(fixture.messageFiles(name).count == 1)
        }
        #expect(try await store.verify() == [])
        // One commit per account, and two in the journal (the entry, then its removal).
        #expect(try metrics.expectRecorder(StoreMetrics.commitWritesLabel, [("database", "account")]).values == [1, 1, 1])
        #expect(try metrics.expectRecorder(StoreMetrics.commitWritesLabel, [("database", "journal")]).values == [1, 1])
        #expect(try metrics.expectTimer(StoreMetrics.commitDurationLabel, [("database", "journal")]).values.count == 2)
    }

    /// A cancelled caller (an SMTP connection torn down, a shutdown) does not stop a
    /// delivery half way: it completes in every account.
    @Test func cancellingTheCallerDoesNotStopADelivery() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        for name in ["a", "b"] { try store.createAccount(name) }
        let file = try fixture.incoming(sampleMessage())
        let delivery = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            #expect(Task.isCancelled)
            return try await store.deliver(IncomingMessage(file: file), to: [DeliveryRecipient(account: "a"), DeliveryRecipient(account: "b")])
        }
        let results = try await delivery.value
        #expect(results.map(\.account) == ["a", "b"])
        for name in ["a", "b"] { #expect(fixture.messageFiles(name).count == 1) }
        #expect(try await store.verify() == [])
    }

    enum Outcome { case nowhere, everywhere }

    static let crashPoints: [(DeliveryStep, String)] = [
        (.journalBegun, "journal begun"),
        (.fileWritten(account: "a"), "first file placed"),
        (.fileWritten(account: "c"), "all files placed"),
        (.accountCommitted(account: "a"), "first account committed"),
        (.accountCommitted(account: "b"), "two accounts committed"),
        (.accountCommitted(account: "c"), "all accounts committed"),
        (.beforeJournalCompletion, "before journal completion"),
        (.journalCompleted, "journal completed"),
    ]

    /// A crash at each step of a three-account delivery, then a restart: all or nothing,
    /// and a clean consistency check.
    @Test(arguments: 0..<crashPoints.count)
    func crashDuringMultiAccountDelivery(point: Int) async throws {
        let (step, label) = Self.crashPoints[point]
        let crash = CrashSwitch(at: step)
        let fixture = try Fixture(hook: { try crash.check($0) })
        var store = try await fixture.open()
        for name in ["a", "b", "c"] { try store.createAccount(name) }
        // A message delivered before, so UIDs and modseqs have history.
        let before = try await Fixture.deliverPlain(store, fixture, to: ["a"])
        let file = try fixture.incoming(sampleMessage(subject: "crash"))
        crash.arm()
        await #expect(throws: SimulatedCrash.self, "\(label)") {
            _ = try await store.deliver(
                IncomingMessage(file: file),
                to: ["a", "b", "c"].map { DeliveryRecipient(account: $0) } + [DeliveryRecipient(account: "b", mailbox: "Archive")])
        }
        store.close()

        // What the disk looks like before recovery.
        let inspect = try await fixture.open(recover: false)
        let problems = try await inspect.verify()
        let expected: Outcome = step == .journalCompleted ? .everywhere : .nowhere
        if expected == .nowhere {
            #expect(problems.contains { if case .incompleteDelivery = $0 { return true } else { return false } }, "\(label): \(problems)")
        } else {
            #expect(problems == [], "\(label)")
        }
        inspect.close()

        // Restart: recovery, then the cleaner.
        store = try await fixture.open()
        defer { store.close() }
        #expect(try await store.verify() == [], "\(label)")
        #expect(fixture.files(in: "tmp").isEmpty)
        var uidNexts: [String: UInt32] = [:]
        for name in ["a", "b", "c"] {
            let account = try store.account(name)
            let inbox = try await account.inbox()
            let subjects = try await account.messages(in: inbox.id).asyncMap { summary in
                try await account.message(in: inbox.id, uid: summary.uid)?.parsed.header.first("Subject")
            }
            let files = fixture.messageFiles(name)
            uidNexts[name] = inbox.uidNext
            switch expected {
            case .everywhere:
                #expect(subjects.contains("crash"), "\(label): \(name)")
                #expect(files.count == (name == "a" ? 2 : 1))
                if name == "b" { #expect(try await account.require("Archive").messages == 1) }
            case .nowhere:
                #expect(!subjects.contains("crash"), "\(label): \(name)")
                #expect(files.count == (name == "a" ? 1 : 0), "\(label): \(name) files \(files)")
                if name == "b" { #expect(try await account.require("Archive").messages == 0) }
            }
        }
        #expect(try await store.account("a").messages(in: before.mailbox).map(\.uid).first == 1, "earlier message untouched")

        // A UID handed out before the crash is not handed out again.
        let again = try await Fixture.deliverPlain(store, fixture, to: ["a", "b"])
        #expect(again.uid == uidNexts["a"])
        #expect(try await store.verify() == [])
    }

    @Test func crashAfterFileInSingleAccountDelivery() async throws {
        let fixture = try Fixture(hook: { if $0 == .fileWritten(account: "a") { throw SimulatedCrash() } })
        var store = try await fixture.open()
        try store.createAccount("a")
        await #expect(throws: SimulatedCrash.self) {
            _ = try await store.deliver(IncomingMessage(file: fixture.incoming(sampleMessage())), to: [DeliveryRecipient(account: "a")])
        }
        store.close()
        #expect(fixture.messageFiles("a").count == 1)
        store = try await fixture.open()
        defer { store.close() }
        #expect(fixture.messageFiles("a").isEmpty, "the orphan file is removed")
        #expect(try await store.account("a").inbox().messages == 0)
        #expect(try await store.verify() == [])
    }

    /// A failure that is not a crash (here: the second account cannot create the target
    /// mailbox) undoes the first account's commit at once.
    @Test func failedCommitIsUndoneAtOnce() async throws {
        let fixture = try Fixture()
        var limits = StoreLimits()
        limits.maxMailboxes = 7
        let store = try await fixture.open(limits: limits)
        defer { store.close() }
        let a = try store.createAccount("a")
        try store.createAccount("b")
        var changes = a.changes().makeAsyncIterator()
        await #expect(throws: StoreError.tooManyMailboxes(limit: 7)) {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage())),
                to: [DeliveryRecipient(account: "a"), DeliveryRecipient(account: "b", mailbox: "New")])
        }
        let inbox = try await a.inbox()
        #expect(inbox.messages == 0 && inbox.uidNext == 2)
        #expect(fixture.messageFiles("a").isEmpty && fixture.messageFiles("b").isEmpty)
        // Sessions saw the message come and go.
        let seen = await take(2, from: &changes)
        guard case .messagesAdded(inbox.id, let added, _) = seen.first, case .expunged(inbox.id, let gone, _) = seen.last else {
            Issue.record("unexpected changes \(seen)")
            return
        }
        #expect(added.map(\.uid) == [1] && gone == [1])
        #expect(try await store.verify() == [])
    }

    @Test func failedPlacementLeavesNothing() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        try store.createAccount("a")
        try store.createAccount("b")
        // Shard 0 of b is a file, so b's message file cannot be placed.
        try Data().write(to: URL(fileURLWithPath: fixture.root + "/accounts/b/msg/0"))
        await #expect(throws: StoreError.self) {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage())),
                to: [DeliveryRecipient(account: "a"), DeliveryRecipient(account: "b")])
        }
        #expect(fixture.messageFiles("a").isEmpty)
        try FileManager.default.removeItem(atPath: fixture.root + "/accounts/b/msg/0")
        #expect(try await store.verify() == [])
    }

    /// Placing remembers the shard directories it made; one that is gone after all (removed
    /// behind the store's back) is made again by the next placement into it.
    @Test func vanishedShardIsMadeAgain() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("a")
        let inbox = try await account.inbox()
        // APPEND writes its file after the commit (FileSyncer.swift): waited for here.
        _ = try await account.append(to: inbox.id, .bytes(Array(sampleMessage(subject: "first").utf8)))
        account.fileSyncer.waitForWrites()
        let shard = fixture.root + "/accounts/a/msg/0"
        try FileManager.default.removeItem(atPath: shard)
        _ = try await account.append(to: inbox.id, .bytes(Array(sampleMessage(subject: "second").utf8)))
        account.fileSyncer.waitForWrites()
        #expect(fixture.messageFiles("a").count == 1)
        #expect(try await account.message(in: inbox.id, uid: 2)?.parsed.header.first("Subject") == "second")
    }

    @Test func cleanerRemovesLeftovers() async throws {
        let fixture = try Fixture()
        var store = try await fixture.open()
        try store.createAccount("a")
        _ = try await Fixture.deliverPlain(store, fixture, to: ["a"])
        store.close()
        _ = try fixture.incoming("partial", name: "half-received")
        try FileManager.default.createDirectory(atPath: fixture.root + "/tmp/sub", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: fixture.root + "/tmp/sub/y"))
        try FileManager.default.createDirectory(atPath: fixture.root + "/accounts/a/msg/7", withIntermediateDirectories: true)
        try Data("orphan".utf8).write(to: URL(fileURLWithPath: fixture.root + "/accounts/a/msg/7/28700"))
        try Data("stray".utf8).write(to: URL(fileURLWithPath: fixture.root + "/accounts/a/msg/0/notes.txt"))
        #expect(fixture.messageFiles("a").count == 3)

        store = try await fixture.open()
        defer { store.close() }
        #expect(fixture.files(in: "tmp").isEmpty)
        #expect(fixture.messageFiles("a").count == 1, "the delivered message stays")
        #expect(try await store.verify() == [])
    }
}

extension Fixture {
    static func deliverPlain(_ store: Store, _ fixture: Fixture, to accounts: [String]) async throws -> DeliveredMessage {
        let results = try await store.deliver(
            IncomingMessage(file: fixture.incoming(sampleMessage(subject: "plain"))),
            to: accounts.map { DeliveryRecipient(account: $0) })
        guard let first = results.first else { throw StoreError.noRecipients }
        return first
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
