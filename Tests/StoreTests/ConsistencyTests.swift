import Foundation
import GRDB
import Store
import Testing

@Suite struct ConsistencyTests {
    /// Messages stored the way large ones are (fsynced, no database copy), so that a file
    /// damaged afterwards is reported as damaged, not as one still to be restored from its
    /// copy, whatever the file sync timer has done by then.
    func setUp() async throws -> (Fixture, Store, Account) {
        let fixture = try Fixture()
        var limits = StoreLimits()
        limits.maxUnsyncedFileSize = 0
        let store = try await fixture.open(limits: limits)
        let account = try store.createAccount("mjl")
        for index in 0..<3 {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        return (fixture, store, account)
    }

    @Test func detectsMissingExtraAndResizedFiles() async throws {
        let (_, store, account) = try await setUp()
        defer { store.close() }
        #expect(try await store.verify() == [])
        let inbox = try await account.inbox()
        let one = try #require(try await account.message(in: inbox.id, uid: 1))
        let two = try #require(try await account.message(in: inbox.id, uid: 2))

        try FileManager.default.removeItem(atPath: one.path)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: two.path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("extra".utf8))
        try handle.close()
        let extra = account.path(forFile: 5000)
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: extra).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try Data("stray".utf8).write(to: URL(fileURLWithPath: extra))

        let problems = try await store.verify()
        #expect(problems.count == 3)
        #expect(problems.contains(.missingFile(account: "mjl", fileID: one.summary.fileID, path: one.path)))
        #expect(problems.contains(.sizeMismatch(
            account: "mjl", fileID: two.summary.fileID, path: two.path, recorded: two.summary.size, actual: two.summary.size + 5)))
        #expect(problems.contains(.orphanFile(account: "mjl", path: extra)))
        #expect(problems.allSatisfy { !$0.description.isEmpty })
    }

    @Test func detectsAMessageSizeDifferentFromItsContent() async throws {
        let (fixture, store, account) = try await setUp()
        let inbox = try await account.inbox()
        let one = try #require(try await account.message(in: inbox.id, uid: 1))
        store.close()
        let queue = try DatabaseQueue(path: fixture.root + "/accounts/mjl/index.db")
        try await queue.write { db in try db.execute(sql: "UPDATE message SET size = size + 1 WHERE uid = 1") }
        try queue.close()
        let reopened = try await fixture.open()
        defer { reopened.close() }
        let problems = try await reopened.verify()
        #expect(problems.contains(.messageSizeMismatch(
            account: "mjl", mailbox: "INBOX", uid: 1, recorded: one.summary.size + 1, content: one.summary.size)))
        // The mailbox's size counter now disagrees with its messages too.
        #expect(problems.contains { if case .counterMismatch(_, "INBOX", "size", _, _) = $0 { return true } else { return false } })
    }

    @Test func detectsIncompleteJournalEntries() async throws {
        let fixture = try Fixture(hook: { if $0 == .accountCommitted(account: "a") { throw SimulatedCrash() } })
        var store = try await fixture.open()
        try store.createAccount("a")
        try store.createAccount("b")
        await #expect(throws: SimulatedCrash.self) { _ = try await Fixture.deliverPlain(store, fixture, to: ["a", "b"]) }
        store.close()
        store = try await fixture.open(recover: false)
        let problems = try await store.verify()
        #expect(problems.contains { if case let .incompleteDelivery(_, accounts) = $0 { return accounts == ["a", "b"] } else { return false } })
        #expect(problems.contains { if case .orphanFile(account: "b", _) = $0 { return true } else { return false } })
        store.close()
        store = try await fixture.open()
        defer { store.close() }
        #expect(try await store.verify() == [])
    }
}
