import Foundation
import GRDB
import Message
@testable import Store
import Testing

@Suite struct AccountFetchTests {
    @Test func summariesOfSomeUIDs() async throws {
        let filled = try await FilledInbox(messages: 5)
        defer { filled.store.close() }
        let (account, inbox) = (filled.account, filled.inbox)
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([4]), .add, flags: [.flagged])
        let all = try await account.messages(in: inbox.id)
        let some = try await account.summaries(in: inbox.id, uids: UIDSet(ranges: [2...2, 4...9, 1...1]))
        #expect(some.map(\.uid) == [1, 2, 4, 5])
        #expect(some == all.filter { [1, 2, 4, 5].contains($0.uid) })
        #expect(some.first { $0.uid == 4 }?.flags == [.flagged])
        #expect(try await account.summaries(in: inbox.id, uids: UIDSet([99])).isEmpty)
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(9999))) {
            _ = try await account.summaries(in: MailboxID(9999), uids: .all)
        }
    }

    /// SEARCH on header fields: the same answers whether the fields come from the stored
    /// structures, from the cache, or from both (new mail since the last search).
    @Test func headerSearchUsesTheCache() async throws {
        let count = Account.headerCacheMissesReadOneByOne + 10
        let filled = try await FilledInbox(messages: count)
        defer { filled.store.close() }
        let (account, inbox) = (filled.account, filled.inbox)
        let names = HeaderNames(["Subject"])
        let search: @Sendable () async throws -> [UInt32] = {
            try await account.summaries(in: inbox.id, uids: .all, only: names) { _, header in
                header.first("Subject")?.hasSuffix("3") == true
            }.map(\.uid)
        }
        let expected = (1...count).filter { String($0 - 1).hasSuffix("3") }.map(UInt32.init)
        #expect(account.headerCache.count == 0)
        #expect(try await search() == expected)
        #expect(account.headerCache.count == count, "every message's fields kept")
        #expect(try await search() == expected, "from the cache")
        // A few new messages: read one by one, the rest from the cache.
        for index in count..<(count + 5) {
            _ = try await filled.store.deliver(
                IncomingMessage(file: filled.fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        #expect(try await search() == expected + (count + 1...count + 5).filter { String($0 - 1).hasSuffix("3") }.map(UInt32.init))
        #expect(account.headerCache.count == count + 5)
        // Other names are other entries; a message's fields under each.
        let bySubjectAndFrom = try await account.summaries(in: inbox.id, uids: UIDSet([1]), only: HeaderNames(["Subject", "From"])) { _, header in
            header.fields.count == 2
        }
        #expect(bySubjectAndFrom.map(\.uid) == [1])
        #expect(account.headerCache.count == count + 6)
    }

    /// FETCH ENVELOPE and SORT: named fields through the cache are the fields the stored
    /// structures give; the whole header never goes into the cache.
    @Test func storedHeadersOfNamedFieldsUseTheCache() async throws {
        let filled = try await FilledInbox(messages: 6)
        defer { filled.store.close() }
        let (account, inbox) = (filled.account, filled.inbox)
        let names = HeaderNames(["Subject", "From", "Date"])
        let whole = try await account.storedHeaders(in: inbox.id, uids: UIDSet(ranges: [2...4]))
        #expect(account.headerCache.count == 0)
        let expected = whole.map { stored in (stored.summary, stored.header.fields.filter { names.contains($0) }) }
        #expect(expected.allSatisfy { $0.1.count == 3 })
        let first = try await account.storedHeaders(in: inbox.id, uids: UIDSet(ranges: [2...4]), only: names)
        #expect(account.headerCache.count == 3)
        let again = try await account.storedHeaders(in: inbox.id, uids: UIDSet(ranges: [2...4]), only: names)
        for headers in [first, again] {
            #expect(headers.map(\.summary) == expected.map(\.0))
            #expect(headers.map(\.header.fields) == expected.map(\.1))
        }
    }

    /// All accounts' caches share one budget: what does not fit empties the cache used
    /// longest ago, and something bigger than the whole budget is not kept.
    @Test func headerCachesShareOneBudget() throws {
        let subject = try #require(HeaderField(raw: Array("Subject: hello\r\n".utf8)))
        let header = HeaderSection(fields: [subject])
        let size = HeaderCache.size(of: header)
        let budget = HeaderCacheBudget(bytes: 4 * size)
        let (a, b) = (HeaderCache(budget: budget), HeaderCache(budget: budget))
        let names = HeaderNames(["Subject"])
        a.store([(1, header), (2, header)], names: names)
        b.store([(1, header)], names: names)
        #expect(budget.spent == 3 * size)
        _ = a.headers(names)  // a is now the more recently used
        b.store([(2, header), (3, header)], names: names)
        // Five entries do not fit in four: b, used longest ago, starts over with its new two.
        #expect(a.count == 2 && b.headers(names)[1] == nil && b.headers(names)[3] != nil)
        #expect(budget.spent == 4 * size)
        a.store([(3, header)], names: names)
        // Now a: b was read after a's last use.
        #expect(a.count == 1 && b.count == 2)
        #expect(budget.spent == 3 * size)
        a.store((10..<15).map { ($0, header) }, names: names)
        #expect(a.count == 1, "bigger than the whole budget: not kept")
        #expect(a.headers(names)[3] != nil && a.headers(HeaderNames(["From"]))[3] == nil)
    }

    @Test func uidsAndFirstUnseenForSelect() async throws {
        let filled = try await FilledInbox(messages: 4)
        defer { filled.store.close() }
        let (account, inbox) = (filled.account, filled.inbox)
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([1, 2, 4]), .add, flags: [.seen])
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([2]), .add, flags: [.deleted])
        _ = try await account.expunge(in: inbox.id)
        var listing = try await account.uids(in: inbox.id)
        #expect(listing.uids == [1, 3, 4])
        #expect(listing.firstUnseen == 1)
        _ = try await account.storeFlags(in: inbox.id, uids: UIDSet([3]), .add, flags: [.seen])
        listing = try await account.uids(in: inbox.id)
        #expect(listing.firstUnseen == nil)
        await #expect(throws: StoreError.noSuchMailboxID(MailboxID(9999))) { _ = try await account.uids(in: MailboxID(9999)) }
    }

    @Test func storedMessagesOfSomeUIDs() async throws {
        let filled = try await FilledInbox(messages: 5)
        defer { filled.store.close() }
        let (account, inbox) = (filled.account, filled.inbox)
        let some = try await account.storedMessages(in: inbox.id, uids: UIDSet(ranges: [4...9, 1...2]))
        #expect(some.map(\.summary.uid) == [1, 2, 4, 5])
        #expect(some.map { $0.parsed.header.first("Subject") } == ["m0", "m1", "m3", "m4"])
        let bytes = try some[2].open().read(offset: 0, length: some[2].parsed.size)
        #expect(ParsedMessage(bytes: bytes) == some[2].parsed)
        #expect(try await account.message(in: inbox.id, uid: 3)?.parsed.header.first("Subject") == "m2")
        #expect(try await account.message(in: inbox.id, uid: 6) == nil)
    }

    /// Structures stored as JSON by earlier versions still read; new ones use the binary
    /// form; a damaged row is reported as corruption, not a crash.
    @Test func olderAndDamagedStructures() async throws {
        let filled = try await FilledInbox(messages: 2)
        defer { filled.store.close() }
        let (store, account, inbox) = (filled.store, filled.account, filled.inbox)
        let stored = try await account.storedMessages(in: inbox.id, uids: .all)
        let column = try await account.pool.read { db in try Data.fetchAll(db, sql: "SELECT structure FROM content ORDER BY id") }
        #expect(column.allSatisfy { ParsedMessage.isEncodedForm($0) })
        let json = try JSONEncoder().encode(stored[0].parsed)
        try await account.pool.write { db in
            try db.execute(sql: "UPDATE content SET structure = ? WHERE id = ?", arguments: [json, stored[0].summary.fileID])
        }
        #expect(try await account.message(in: inbox.id, uid: 1)?.parsed == stored[0].parsed)
        try await account.pool.write { db in
            try db.execute(sql: "UPDATE content SET structure = ? WHERE id = ?", arguments: [Data([1, 0x80]), stored[1].summary.fileID])
        }
        await #expect {
            _ = try await account.message(in: inbox.id, uid: 2)
        } throws: { error in
            guard case let StoreError.corrupt(reason) = error else { return false }
            return reason.contains("structure of message file")
        }
        #expect(try await store.verify().contains { "\($0)".contains("structure of message file") })
    }
}

/// An account "mjl" whose Inbox holds `messages` messages with the subjects m0, m1, ...
struct FilledInbox {
    let fixture: Fixture
    let store: Store
    let account: Account
    let inbox: MailboxInfo

    init(messages: Int) async throws {
        fixture = try Fixture()
        store = try await fixture.open()
        account = try store.createAccount("mjl")
        for index in 0..<messages {
            _ = try await store.deliver(
                IncomingMessage(file: fixture.incoming(sampleMessage(subject: "m\(index)"))), to: [DeliveryRecipient(account: "mjl")])
        }
        inbox = try await account.inbox()
    }
}
