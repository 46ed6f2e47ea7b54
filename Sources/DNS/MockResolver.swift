import Synchronization

/// A resolver for tests: records per name and type, an authentic flag per name, and injected
/// failures, so code that depends on DNS is tested exactly and without a network.
///
/// It follows CNAMEs like a recursive resolver would, says NXDOMAIN for a name that has no
/// records of any type (and no names below it), and NODATA otherwise. Lookups are recorded
/// so tests can check what was asked.
public final class MockResolver: Resolver {
    private struct State {
        var records: [DNSName: [ResourceRecord]] = [:]
        var authentic: Set<DNSName> = []
        var failures: [DNSCache.Key: DNSError.Kind] = [:]
        var queries: [Question] = []
    }

    // A Mutex, not an actor: tests configure the mock synchronously between awaits.
    private let state = Mutex(State())

    public init() {}

    /// Adds records; `authentic` marks every answer at these names as DNSSEC-validated.
    public func add(_ records: [ResourceRecord], authentic: Bool = false) {
        state.withLock { state in
            for record in records {
                state.records[record.name.lowercased, default: []].append(record)
                if authentic { state.authentic.insert(record.name.lowercased) } else { state.authentic.remove(record.name.lowercased) }
            }
        }
    }

    /// Adds one record given in presentation form of its name, e.g. `add("example.com", .mx(...))`.
    public func add(_ name: String, _ data: RecordData, ttl: UInt32 = 300, authentic: Bool = false) throws(DNSNameError) {
        add([ResourceRecord(name: try DNSName(name), ttl: ttl, data: data)], authentic: authentic)
    }

    /// Marks denials of existence at `name` as authentic (an NSEC-proven NXDOMAIN/NODATA).
    public func setAuthentic(_ name: DNSName) {
        _ = state.withLock { $0.authentic.insert(name.lowercased) }
    }

    /// Makes lookups of `name`/`type` fail with `kind`, e.g. `.serverFailure(.serverFailure)`.
    public func fail(_ name: DNSName, _ type: RecordType, with kind: DNSError.Kind) {
        state.withLock { $0.failures[DNSCache.Key(name: name.lowercased, type: type)] = kind }
    }

    /// Every question asked so far, in order.
    public var queries: [Question] {
        state.withLock { $0.queries }
    }

    public func resolve(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSAnswer {
        try state.withLock { state throws(DNSError) -> DNSAnswer in
            state.queries.append(Question(name: name, type: type))
            var owner = name.lowercased
            var authentic = true
            var seen: Set<DNSName> = [owner]
            while true {
                if let kind = state.failures[DNSCache.Key(name: owner, type: type)] {
                    throw DNSError(kind: kind, name: name, type: type)
                }
                authentic = authentic && state.authentic.contains(owner)
                let here = state.records[owner] ?? []
                let matching = here.filter { $0.type == type }
                if !matching.isEmpty {
                    return DNSAnswer(name: name, type: type, canonicalName: owner, records: matching, authentic: authentic)
                }
                if type != .cname, let cname = here.first(where: { $0.type == .cname }), case let .cname(target) = cname.data {
                    owner = target.lowercased
                    guard seen.insert(owner).inserted, seen.count <= StubResolver.maxCNAMEChain + 1 else {
                        throw DNSError(kind: .cnameChainTooLong, name: name, type: type)
                    }
                    continue
                }
                // RFC 8020: a name with nothing at or below it does not exist.
                let exists = !here.isEmpty || state.records.keys.contains { $0.isSubdomain(of: owner) }
                throw DNSError(kind: exists ? .noRecords : .nameNotFound, name: name, type: type, authentic: authentic)
            }
        }
    }
}
