import Message
import Synchronization

/// Header fields of stored messages, by the field names asked for and by message content.
/// A message's header never changes, so an entry is never stale: SEARCH on the same fields
/// again (a client's saved search, a filter run on every sync) reads no stored structures,
/// only the rows. Bounded: past `capacity` entries it starts over, which costs one slower
/// search.
///
/// Entries are grouped by names so that a search hashes its names once, then looks each
/// message up by its content id alone.
final class HeaderCache: Sendable {
    /// The cached fields of one set of names, by content id.
    typealias Headers = [Int64: HeaderSection]

    /// Entries of one account; a header of a few fields takes some hundred bytes.
    static let defaultCapacity = 50_000

    let capacity: Int
    private struct Entries {
        var byNames: [HeaderNames: Headers] = [:]
        var count = 0
    }
    private let entries = Mutex(Entries())

    init(capacity: Int = HeaderCache.defaultCapacity) {
        self.capacity = capacity
    }

    /// What is cached for `names` (a copy-on-write snapshot: taking it copies nothing).
    func headers(_ names: HeaderNames) -> Headers {
        entries.withLock { $0.byNames[names] ?? [:] }
    }

    func store(_ headers: [(contentID: Int64, header: HeaderSection)], names: HeaderNames) {
        guard !headers.isEmpty else { return }
        entries.withLock { entries in
            if entries.count + headers.count > capacity { entries = Entries() }
            var cached = entries.byNames.removeValue(forKey: names) ?? [:]
            for (contentID, header) in headers.prefix(capacity) where cached.updateValue(header, forKey: contentID) == nil {
                entries.count += 1
            }
            entries.byNames[names] = cached
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
