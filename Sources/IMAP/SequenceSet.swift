/// One end of a sequence range (RFC 9051 §9 `seq-number = nz-number / "*"`).
public enum SequenceNumber: Hashable, Sendable, CustomStringConvertible {
    case number(UInt32)
    /// `*`: the largest number in use (the message count, or the last UID; for an empty
    /// mailbox the server decides, RFC 9051 §9 `seq-number`).
    case last

    public func resolved(largest: UInt32) -> UInt32 {
        switch self {
        case let .number(n): return n
        case .last: return largest
        }
    }

    public var description: String {
        switch self {
        case let .number(n): return String(n)
        case .last: return "*"
        }
    }
}

/// `seq-number` or `seq-range` (RFC 9051 §9): both ends are included, in either order.
public struct SequenceRange: Hashable, Sendable, CustomStringConvertible {
    public var first: SequenceNumber
    public var last: SequenceNumber

    public init(_ first: SequenceNumber, _ last: SequenceNumber) {
        self.first = first
        self.last = last
    }

    public init(_ number: UInt32) { self.init(.number(number), .number(number)) }
    public init(_ range: ClosedRange<UInt32>) { self.init(.number(range.lowerBound), .number(range.upperBound)) }

    public func resolved(largest: UInt32) -> ClosedRange<UInt32> {
        let a = first.resolved(largest: largest)
        let b = last.resolved(largest: largest)
        return min(a, b)...max(a, b)
    }

    public var description: String { first == last ? first.description : "\(first):\(last)" }
}

/// A message set as the client writes it (RFC 9051 §9 `sequence-set`): message sequence
/// numbers or UIDs depending on the command, kept in the client's order. The ranges may
/// overlap and use `*`; `$` (RFC 5182 `seq-last-command`) stands for the saved search
/// result. `resolved(largest:savedResult:)` turns it into a `NumberSet`.
public enum SequenceSet: Hashable, Sendable, CustomStringConvertible {
    /// One or more ranges (never empty when parsed).
    case ranges([SequenceRange])
    /// `$`: the result saved by SEARCH RETURN (SAVE) (RFC 5182 §2.1).
    case lastResult

    public static let all = SequenceSet.ranges([SequenceRange(.number(1), .last)])

    public init(_ number: UInt32) { self = .ranges([SequenceRange(number)]) }
    public init(_ range: ClosedRange<UInt32>) { self = .ranges([SequenceRange(range)]) }

    /// The ranges of a normalised set, ascending.
    public init(_ set: NumberSet) { self = .ranges(set.ranges.map(SequenceRange.init)) }

    /// Numbers in the given order (as SORT results are, RFC 5267 §3), collapsing ascending
    /// runs of consecutive numbers into ranges.
    public init(ordered numbers: [UInt32]) {
        var ranges: [SequenceRange] = []
        var i = 0
        while i < numbers.count {
            var j = i
            while j + 1 < numbers.count, numbers[j] < UInt32.max, numbers[j + 1] == numbers[j] + 1 { j += 1 }
            ranges.append(SequenceRange(numbers[i]...numbers[j]))
            i = j + 1
        }
        self = .ranges(ranges)
    }

    /// Whether `*` or `$` is used (QRESYNC's known-uids allow neither, RFC 7162 §7).
    public var usesStarOrSaved: Bool {
        switch self {
        case .lastResult: return true
        case let .ranges(ranges): return ranges.contains { $0.first == .last || $0.last == .last }
        }
    }

    /// The largest number written explicitly: a message number above the message count makes
    /// the command BAD (RFC 9051 §9 `seq-number`).
    public var largestExplicitNumber: UInt32? {
        guard case let .ranges(ranges) = self else { return nil }
        var result: UInt32?
        for range in ranges {
            for end in [range.first, range.last] {
                if case let .number(n) = end { result = max(result ?? 0, n) }
            }
        }
        return result
    }

    /// The numbers meant, with `*` as `largest` and `$` as `savedResult`. Zero (where `*`
    /// meets an empty mailbox) is never included.
    public func resolved(largest: UInt32, savedResult: NumberSet = NumberSet()) -> NumberSet {
        switch self {
        case .lastResult:
            return savedResult
        case let .ranges(ranges):
            var set = NumberSet()
            for range in ranges {
                let r = range.resolved(largest: largest)
                if r.upperBound == 0 { continue }
                set.insert(max(1, r.lowerBound)...r.upperBound)
            }
            return set
        }
    }

    public var description: String {
        switch self {
        case .lastResult: return "$"
        case let .ranges(ranges): return ranges.map(\.description).joined(separator: ",")
        }
    }
}

/// A normalised set of message numbers or UIDs (never zero): sorted, disjoint, non-adjacent
/// ranges. Used for resolved sequence sets and for sets the server sends (ESEARCH ALL,
/// COPYUID, VANISHED, MODIFIED), which it encodes compactly (`2,10:15,21`).
public struct NumberSet: Hashable, Sendable, Sequence, CustomStringConvertible, ExpressibleByArrayLiteral {
    public private(set) var ranges: [ClosedRange<UInt32>] = []

    public init() {}

    public init(_ numbers: some Sequence<UInt32>) {
        for n in numbers { insert(n...n) }
    }

    public init(arrayLiteral elements: UInt32...) { self.init(elements) }

    public init(ranges: some Sequence<ClosedRange<UInt32>>) {
        for r in ranges { insert(r) }
    }

    public var isEmpty: Bool { ranges.isEmpty }
    public var min: UInt32? { ranges.first?.lowerBound }
    public var max: UInt32? { ranges.last?.upperBound }

    /// The number of members (a UInt64: `1:4294967295` has 2^32-1).
    public var count: UInt64 { ranges.reduce(0) { $0 + UInt64($1.upperBound - $1.lowerBound) + 1 } }

    public func contains(_ n: UInt32) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < n { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(n)
    }

    public mutating func insert(_ n: UInt32) { insert(n...n) }

    /// Adds the range; zero, never a message number or UID, is left out.
    public mutating func insert(_ range: ClosedRange<UInt32>) {
        guard range.upperBound > 0 else { return }
        let range = Swift.max(1, range.lowerBound)...range.upperBound
        // First range that ends at or after range.lowerBound - 1 (adjacent ranges merge).
        let lowerTouch = range.lowerBound == 0 ? 0 : range.lowerBound - 1
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < lowerTouch { low = mid + 1 } else { high = mid }
        }
        var end = low
        var merged = range
        let upperTouch = range.upperBound == .max ? UInt32.max : range.upperBound + 1
        while end < ranges.count, ranges[end].lowerBound <= upperTouch {
            merged = Swift.min(merged.lowerBound, ranges[end].lowerBound)...Swift.max(merged.upperBound, ranges[end].upperBound)
            end += 1
        }
        ranges.replaceSubrange(low..<end, with: [merged])
    }

    public mutating func remove(_ n: UInt32) {
        guard let index = ranges.firstIndex(where: { $0.contains(n) }) else { return }
        let r = ranges[index]
        var replacement: [ClosedRange<UInt32>] = []
        if r.lowerBound < n { replacement.append(r.lowerBound...(n - 1)) }
        if n < r.upperBound { replacement.append((n + 1)...r.upperBound) }
        ranges.replaceSubrange(index...index, with: replacement)
    }

    public func makeIterator() -> AnyIterator<UInt32> {
        var rangeIndex = 0
        var next: UInt32? = ranges.first?.lowerBound
        let ranges = self.ranges
        return AnyIterator {
            guard let current = next else { return nil }
            if current < ranges[rangeIndex].upperBound {
                next = current + 1
            } else {
                rangeIndex += 1
                next = rangeIndex < ranges.count ? ranges[rangeIndex].lowerBound : nil
            }
            return current
        }
    }

    /// `2,10:15,21`; empty for the empty set (which has no wire form of its own).
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound):\($0.upperBound)" }
            .joined(separator: ",")
    }
}
