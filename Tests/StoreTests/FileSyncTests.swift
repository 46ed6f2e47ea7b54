import DurableFiles
import Foundation
import Message
@testable import Store
import Testing

/// Small message files are made durable by their commit, which carries their octets, and
/// fsynced later (FileSyncer.swift); a crash in between is repaired from the database.
@Suite struct FileSyncTests {
    /// A delay no test waits for: the copies stay until a test syncs or closes.
    static func waitingLimits() -> StoreLimits {
        var limits = StoreLimits()
        limits.fileSyncDelay = .seconds(3600)
        return limits
    }

    /// Waits up to 5 s for a short `fileSyncDelay` to have synced every file and dropped
    /// its copy.
    static func waitForTheTimer(_ account: Account) async throws {
        var waited = 0
        while try account.fileSyncer.unsyncedCount > 0, waited < 500 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(try account.fileSyncer.unsyncedCount == 0)
    }

    /// A delay the timer tests wait out (`waitForTheTimer`).
    static func quickLimits() -> StoreLimits {
        var limits = StoreLimits()
        limits.fileSyncDelay = .milliseconds(1)
        return limits
    }

    static func octets(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    /// The state a crash leaves: a copy of the data directory taken while the store is open
    /// and idle (SQLite's WAL holds every commit), with the message file then damaged as an
    /// interrupted write may leave it.
    enum Damage: CaseIterable { case missing, empty, partial }

    @Test(arguments: Damage.allCases)
    func crashBeforeTheFileSyncIsRepairedFromTheCommit(damage: Damage) async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        let account = try store.createAccount("a")
        let text = sampleMessage(subject: "unsynced", body: String(repeating: "line of text\r\n", count: 100))
        _ = try await store.deliver(IncomingMessage(file: fixture.incoming(text)), to: [DeliveryRecipient(account: "a")])
        #expect(try account.fileSyncer.unsyncedCount == 1, "the commit carries the octets")
        let path = try #require(fixture.messageFiles("a").first)
        #expect(Self.octets(path) == Array(text.utf8), "readers find the file in place before any sync")

        let crashed = try Self.crashImage(of: fixture)
        store.close()
        let copy = crashed.root + String(path.dropFirst(fixture.root.count))
        switch damage {
        case .missing: try FileManager.default.removeItem(atPath: copy)
        case .empty: try Data().write(to: URL(fileURLWithPath: copy))
        case .partial: try Data(text.utf8.prefix(100)).write(to: URL(fileURLWithPath: copy))
        }

        let inspect = try await crashed.open(recover: false)
        let problems = try await inspect.verify()
        #expect(problems.count == 1)
        #expect(problems.allSatisfy { if case .unrestoredFile(account: "a", fileID: _, path: copy) = $0 { true } else { false } }, "\(problems)")
        inspect.close()

        let restarted = try await crashed.open()
        defer { restarted.close() }
        #expect(Self.octets(copy) == Array(text.utf8), "restored from the committed octets")
        #expect(try restarted.account("a").fileSyncer.unsyncedCount == 0)
        #expect(try await restarted.verify() == [])
        let inbox = try await restarted.account("a").inbox()
        #expect(try await restarted.account("a").message(in: inbox.id, uid: 1)?.parsed.header.first("Subject") == "unsynced")
        #expect(crashed.files(in: "accounts/a/msg/0").allSatisfy { !$0.hasSuffix(".restoring") })
    }

    /// The data directory of `fixture` as a crash would leave it, taken while its store is
    /// open and idle.
    static func crashImage(of fixture: Fixture) throws -> Fixture {
        let crashed = try Fixture()
        try FileManager.default.removeItem(atPath: crashed.root)
        try FileManager.default.copyItem(atPath: fixture.root, toPath: crashed.root)
        return crashed
    }

    /// A restore that cannot write its file fails the opening with the I/O error and keeps
    /// the copy, so the next opening, once the cause is gone, restores the file.
    @Test func aRestoreThatCannotWriteFailsTheOpenAndKeepsTheCopy() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        try store.createAccount("a")
        let text = sampleMessage(subject: "kept")
        _ = try await store.deliver(IncomingMessage(file: fixture.incoming(text)), to: [DeliveryRecipient(account: "a")])
        let crashed = try Self.crashImage(of: fixture)
        store.close()
        let shard = crashed.root + "/accounts/a/msg/0"
        try FileManager.default.removeItem(atPath: shard)
        try Data().write(to: URL(fileURLWithPath: shard))

        await #expect(throws: StoreError.io(operation: "mkdir", path: shard, errno: ENOTDIR)) { _ = try await crashed.open() }

        try FileManager.default.removeItem(atPath: shard)
        let restarted = try await crashed.open()
        defer { restarted.close() }
        #expect(try restarted.account("a").fileSyncer.unsyncedCount == 0)
        #expect(try await restarted.verify() == [])
        #expect(Self.octets(shard + "/1") == Array(text.utf8))
    }

    @Test func theTimerSyncsAndDropsTheCopies() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.quickLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        for _ in 0..<3 { _ = try await Fixture.deliverPlain(store, fixture, to: ["a"]) }
        try await Self.waitForTheTimer(account)
        #expect(fixture.messageFiles("a").count == 3)
        #expect(try await store.verify() == [])
    }

    @Test func aMessageAboveTheLimitIsSyncedBeforeItsCommit() async throws {
        let fixture = try Fixture()
        var limits = Self.waitingLimits()
        let text = sampleMessage()
        limits.maxUnsyncedFileSize = Int64(text.utf8.count - 1)
        let store = try await fixture.open(limits: limits)
        defer { store.close() }
        let account = try store.createAccount("a")
        _ = try await store.deliver(IncomingMessage(file: fixture.incoming(text)), to: [DeliveryRecipient(account: "a")])
        let inbox = try await account.inbox()
        _ = try await account.append(to: inbox.id, .bytes(Array(text.utf8)))
        #expect(try account.fileSyncer.unsyncedCount == 0)
        #expect(fixture.messageFiles("a").count == 2)
    }

    /// An APPEND's copy goes when the account closes (a clean shutdown leaves none), and an
    /// expunge before the sync takes the copy with it, so nothing brings the message back.
    @Test func appendThenExpungeThenClose() async throws {
        let fixture = try Fixture()
        var store = try await fixture.open(limits: Self.waitingLimits())
        let account = try store.createAccount("a")
        let inbox = try await account.inbox()
        let kept = try await account.append(to: inbox.id, .bytes(Array(sampleMessage(subject: "kept").utf8)))
        let gone = try await account.append(to: inbox.id, .bytes(Array(sampleMessage(subject: "gone").utf8)))
        #expect(try account.fileSyncer.unsyncedCount == 2)
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet(gone.uid...gone.uid), .add, flags: [.deleted])
        _ = try await account.expunge(in: inbox.id)
        #expect(try account.fileSyncer.unsyncedCount == 1, "the expunged message's copy went with its content row")
        #expect(fixture.messageFiles("a").count == 1)
        store.close()

        store = try await fixture.open(recover: false)
        defer { store.close() }
        #expect(try store.account("a").fileSyncer.unsyncedCount == 0, "closing synced the file and dropped its copy")
        #expect(fixture.messageFiles("a").count == 1)
        #expect(try await store.verify() == [])
        #expect(try await store.account("a").message(in: inbox.id, uid: kept.uid)?.parsed.header.first("Subject") == "kept")
    }

    /// A sync that finds its file already removed (an expunge between the commit and the
    /// sync) skips it.
    @Test func syncSkipsRemovedFiles() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        _ = try await Fixture.deliverPlain(store, fixture, to: ["a"])
        _ = try await Fixture.deliverPlain(store, fixture, to: ["a"])
        let files = fixture.messageFiles("a")
        try FileManager.default.removeItem(atPath: files[0])
        account.fileSyncer.syncWaiting()
        #expect(try account.fileSyncer.unsyncedCount == 0)
        #expect(try await store.verify() == [.missingFile(account: "a", fileID: 1, path: files[0])])
    }

    /// APPEND's file is written after its commit, off the caller's path; until then readers
    /// get the held octets, and afterwards the file, synced like any other small one.
    @Test func appendWritesItsFileAfterTheCommit() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.quickLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        let inbox = try await account.inbox()
        let text = Array(sampleMessage(subject: "appended").utf8)
        let appended = try await account.append(to: inbox.id, .bytes(text))
        let message = try #require(try await account.message(in: inbox.id, uid: appended.uid))
        #expect(try message.open().read(offset: 0, length: text.count + 1) == text)
        #expect(try account.openMessage(fileID: message.summary.fileID).read(offset: 0, length: text.count + 1) == text)
        account.fileSyncer.waitForWrites()
        #expect(account.fileSyncer.unwrittenOctets(message.summary.fileID) == nil)
        #expect(Self.octets(message.path) == text)
        try await Self.waitForTheTimer(account)
        #expect(try await store.verify() == [])
    }

    /// Held octets are what a reader gets while the file is not there; once forgotten (the
    /// message removed), the file is neither served nor written.
    @Test func heldOctetsServeReadersUntilForgotten() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        let syncer = account.fileSyncer
        let path = account.path(forFile: 900)
        #expect(syncer.holdUnwritten(900, [1, 2, 3]))
        #expect(try account.openMessage(fileID: 900).read(offset: 0, length: 10) == [1, 2, 3])
        syncer.forget([900])
        #expect(throws: ByteSourceError.self) { try account.openMessage(fileID: 900) }
        syncer.writeCommitted(900, at: path) { octets in try FileIO.write(octets, to: path, sync: false) }
        syncer.waitForWrites()
        #expect(!FileIO.exists(path), "a forgotten file is not written")
    }

    /// An expunge that forgets a file while its write is under way: the writer removes what
    /// it wrote, so no file outlives its message.
    @Test func aFileForgottenDuringItsWriteIsRemoved() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        let syncer = account.fileSyncer
        let path = account.path(forFile: 901)
        try FileIO.makeDirectories(FileIO.parent(of: path))
        #expect(syncer.holdUnwritten(901, [4, 5, 6]))
        syncer.writeCommitted(901, at: path) { octets in
            try FileIO.write(octets, to: path, sync: false)
            syncer.forget([901])
        }
        syncer.waitForWrites()
        #expect(!FileIO.exists(path))
        #expect(syncer.unwrittenOctets(901) == nil)
    }

    /// A write that fails keeps the octets for readers and schedules no sync, so the
    /// database copy stays for the next open to restore the file.
    @Test func aFailedWriteKeepsTheOctets() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.quickLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        let syncer = account.fileSyncer
        #expect(syncer.holdUnwritten(902, [7, 8]))
        syncer.writeCommitted(902, at: account.path(forFile: 902)) { _ in throw FileIOError(operation: "write", path: "x", errno: ENOSPC) }
        syncer.waitForWrites()
        #expect(syncer.unwrittenOctets(902) == [7, 8])
        #expect(try account.openMessage(fileID: 902).read(offset: 0, length: 10) == [7, 8])
        syncer.forget([902])
    }

    /// An APPEND whose commit fails (its mailbox is gone) lets go of the octets it held and
    /// leaves no file behind.
    @Test func aFailedAppendCommitHoldsNothing() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        await #expect(throws: StoreError.self) {
            _ = try await account.append(to: MailboxID(9999), .bytes(Array(sampleMessage().utf8)))
        }
        account.fileSyncer.waitForWrites()
        #expect(account.fileSyncer.unwrittenBytes == 0)
        #expect(fixture.messageFiles("a").isEmpty)
        #expect(try account.fileSyncer.unsyncedCount == 0)
    }

    /// The octets held at once are bounded: past `maxUnwrittenBytes`, an APPEND's file is
    /// written before its commit, as a delivery's is, and letting go frees the room again.
    @Test func heldOctetsAreBounded() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open(limits: Self.waitingLimits())
        defer { store.close() }
        let account = try store.createAccount("a")
        let syncer = account.fileSyncer
        let half = [UInt8](repeating: 0x41, count: FileSyncer.maxUnwrittenBytes / 2)
        #expect(syncer.holdUnwritten(903, half) && syncer.holdUnwritten(904, half))
        #expect(!syncer.holdUnwritten(905, [1]), "the budget is spent")
        #expect(syncer.unwrittenOctets(905) == nil && syncer.unwrittenBytes == FileSyncer.maxUnwrittenBytes)
        // An APPEND now places its file before the commit, and is served from it.
        let inbox = try await account.inbox()
        let text = Array(sampleMessage(subject: "over budget").utf8)
        let appended = try await account.append(to: inbox.id, .bytes(text))
        let message = try #require(try await account.message(in: inbox.id, uid: appended.uid))
        #expect(Self.octets(message.path) == text, "written before the commit")
        #expect(syncer.unwrittenBytes == FileSyncer.maxUnwrittenBytes)
        syncer.forget([903])
        #expect(syncer.unwrittenBytes == half.count)
        #expect(syncer.holdUnwritten(905, [1]))
        syncer.forget([904, 905])
        #expect(syncer.unwrittenBytes == 0)
    }

    @Test func replaceWritesOverWhateverIsThere() throws {
        let fixture = try Fixture()
        let path = fixture.root + "/file"
        try FileIO.replace(path, with: Array("first".utf8))
        #expect(Self.octets(path) == Array("first".utf8))
        try FileIO.replace(path, with: Array("second, longer".utf8))
        #expect(Self.octets(path) == Array("second, longer".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root) == ["file"])
        #expect(try FileIO.syncFileIfPresent(path))
        #expect(try !FileIO.syncFileIfPresent(fixture.root + "/none"))
        #expect(throws: FileIOError.self) { try FileIO.replace(fixture.root + "/none/file", with: []) }
    }

    @Test func writeAllWritesEveryOctetOrTellsTheError() throws {
        let fixture = try Fixture()
        let path = fixture.root + "/written"
        let bytes = (0..<(3 * 1024 * 1024 + 7)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        try #require(descriptor >= 0)
        #expect(FileIO.writeAll(descriptor, bytes) == nil)
        #expect(FileIO.writeAll(descriptor, [UInt8]()) == nil)
        close(descriptor)
        #expect(Self.octets(path) == bytes)
        // A descriptor opened for reading only: the errno, not a crash. (Not a closed one: tests
        // run in parallel, and its number may already be another test's file.)
        let readOnly = open(path, O_RDONLY)
        try #require(readOnly >= 0)
        #expect(FileIO.writeAll(readOnly, bytes) == EBADF)
        #expect(FileIO.writeAll(-1, bytes) == EBADF)
        close(readOnly)
        #expect(Self.octets(path) == bytes)
    }
}
