/// The UIDs of a selected mailbox, ascending, kept as runs of consecutive UIDs.
///
/// UIDs are handed out in order and only expunges leave gaps, so a mailbox's UIDs are
/// mostly a few long runs: a session idling in a mailbox of thousands of messages holds a
/// few runs instead of four octets a message (the per-connection memory of RFC 9051 §2.3.1
/// bookkeeping). The worst case, every other UID gone, costs eight octets a message.
///
/// Positions are message sequence numbers minus one (RFC 9051 §2.3.1.2).
struct UIDList: RandomAccessCollection, Equatable {
    /// A run of consecutive UIDs starting with `firstUID` at position `start`; it ends where
    /// the next run starts (or at `count`).
    private struct Run: Equatable {
        var firstUID: UInt32
        var start: Int
    }

    private var runs: [Run] = []
    private(set) var count = 0

    init() {}

    /// From ascending UIDs.
    init(_ uids: some Sequence<UInt32>) {
        for uid in uids { append(uid) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> UInt32 {
        let run = runs[run(containing: position)]
        return run.firstUID + UInt32(position - run.start)
    }

    /// The position of `uid`, by binary search over the runs.
    func firstIndex(of uid: UInt32) -> Int? {
        guard let index = lastRun(startingAtOrBelow: uid) else { return nil }
        let offset = Int(uid - runs[index].firstUID)
        return offset < length(of: index) ? runs[index].start + offset : nil
    }

    /// The first position whose UID is at least `uid`.
    func lowerBound(_ uid: UInt32) -> Int {
        guard let index = lastRun(startingAtOrBelow: uid) else { return 0 }
        return runs[index].start + Swift.min(Int(uid - runs[index].firstUID), length(of: index))
    }

    /// Adds a UID above every UID in the list; smaller ones are ignored.
    mutating func append(_ uid: UInt32) {
        if let last {
            if uid <= last { return }
            if uid == last + 1 {
                count += 1
                return
            }
        }
        runs.append(Run(firstUID: uid, start: count))
        count += 1
    }

    /// Removes the UID at `position` (an expunge): its run shrinks or splits in two.
    mutating func remove(at position: Int) {
        let index = run(containing: position)
        let offset = position - runs[index].start
        let length = length(of: index)
        var following = index + 1
        if length == 1 {
            runs.remove(at: index)
            following = index
        } else if offset == 0 {
            runs[index].firstUID += 1
        } else if offset < length - 1 {
            runs.insert(Run(firstUID: runs[index].firstUID + UInt32(offset) + 1, start: runs[index].start + offset + 1), at: index + 1)
        }
        for later in following..<runs.count { runs[later].start -= 1 }
        count -= 1
    }

    private func length(of index: Int) -> Int {
        (index + 1 < runs.count ? runs[index + 1].start : count) - runs[index].start
    }

    private func run(containing position: Int) -> Int {
        precondition(position >= 0 && position < count, "UIDList position out of range")
        var low = 0
        var high = runs.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if runs[mid].start <= position { low = mid } else { high = mid - 1 }
        }
        return low
    }

    private func lastRun(startingAtOrBelow uid: UInt32) -> Int? {
        var low = 0
        var high = runs.count
        while low < high {
            let mid = (low + high) / 2
            if runs[mid].firstUID <= uid { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : low - 1
    }
}
