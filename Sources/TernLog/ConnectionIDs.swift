import Synchronization

/// Hands out connection ids (`cid`) that are unique within the process: a counter,
/// rendered in lowercase hexadecimal without padding.
///
/// The counter starts at a random 64-bit value, so ids of different runs appended to
/// the same log file practically never collide, while ids within one run are cheap and
/// strictly distinct (until 2^64 connections). Tests inject the start value.
/// One instance is shared by all services; a class because the atomic counter must be
/// shared, not copied.
public final class ConnectionIDs: Sendable {
    private let counter: Atomic<UInt64>

    public init(start: UInt64 = UInt64.random(in: .min ... .max)) {
        counter = Atomic(start)
    }

    /// The next id, e.g. `"7f3a09c2d41e8b05"`.
    public func next() -> String {
        // wrappingAdd returns the old value: the first id is `start` itself.
        let (value, _) = counter.wrappingAdd(1, ordering: .relaxed)
        return String(value, radix: 16)
    }
}
