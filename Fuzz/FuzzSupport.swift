// Shared by the fuzz targets that check that a parser's result does not depend on how its
// input is split: the split patterns come from this generator, seeded by the input itself so
// that a crash reproduces from the saved input alone.

/// splitmix64: small, fast, and good enough to vary chunk sizes.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Chunk sizes covering `count` octets, each 1 to `largest`.
    mutating func chunks(covering count: Int, largest: Int) -> [Int] {
        var chunks: [Int] = []
        var total = 0
        while total < count {
            let size = 1 + below(largest)
            chunks.append(size)
            total += size
        }
        return chunks
    }
}

/// What `read` gives for `count` octets fed whole; it traps unless feeding them octet by
/// octet, and in chunks of 1 to `largest`, gives the same. `what` names the reading.
func readAlikeInAnySplit<Outcome: Equatable>(
    _ count: Int, largest: Int, generator: inout SplitMix, _ what: String, _ read: ([Int]) -> Outcome
) -> Outcome {
    let whole = read([max(1, count)])
    let single = read(Array(repeating: 1, count: count))
    guard whole == single else { fatalError("\(what) octet by octet differs:\n\(whole)\n\(single)") }
    let chunks = generator.chunks(covering: count, largest: largest)
    let chunked = read(chunks)
    guard whole == chunked else { fatalError("\(what) in chunks \(chunks) differs:\n\(whole)\n\(chunked)") }
    return whole
}
