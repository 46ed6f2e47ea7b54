import Message
import Synchronization

/// Header fields of stored messages, by message content and by the field names asked for.
/// A message's header never changes, so an entry is never stale: SEARCH on the same fields
/// again (a client's saved search, a filter run on every sync) reads no stored structures,
/// only the rows. Bounded: past `capacity` entries it starts over, which costs one slower
/// search.
final class HeaderCache: Sendable {
    struct Key: Hashable, Sendable {
        let contentID: Int64
        let names: HeaderNames
    }

    /// Entries of one account; a header of a few fields takes some hundred bytes.
    static let defaultCapacity = 50_000

    let capacity: Int
    private let entries = Mutex<[Key: HeaderSection]>([:])

    init(capacity: Int = HeaderCache.defaultCapacity) {
        self.capacity = capacity
    }

    func header(_ contentID: Int64, _ names: HeaderNames) -> HeaderSection? {
        entries.withLock { $0[Key(contentID: contentID, names: names)] }
    }

    func store(_ headers: [(contentID: Int64, header: HeaderSection)], names: HeaderNames) {
        guard !headers.isEmpty else { return }
        entries.withLock { entries in
            if entries.count + headers.count > capacity { entries.removeAll(keepingCapacity: true) }
            for (contentID, header) in headers.prefix(capacity) { entries[Key(contentID: contentID, names: names)] = header }
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
