import Synchronization

/// When to send an unanswered UDP query again, per server.
///
/// RFC 1035 §4.2.1: UDP is not reliable, so a resolver must retransmit, and "the retransmission
/// interval should be based on prior statistics if possible"; RFC 1536 §1 warns that a fixed
/// short interval floods servers. So the interval follows each server's measured round-trip
/// time the way TCP's does (RFC 6298 §2: smoothed RTT plus four times its variation, 1 s
/// before the first measurement) and doubles at every retransmission of one query (§5.5).
/// Karn's rule (§3): the reply to a query sent more than once says nothing about the RTT.
///
/// Why it matters: a resolver that drops a datagram under a burst (a busy recursive resolver,
/// a lossy link) would otherwise stall the lookup, and the SMTP transaction waiting on it,
/// for the whole timeout.
final class RetransmissionTimer: Sendable {
    private struct Estimate {
        var smoothed: Duration
        var variation: Duration
    }

    /// RFC 6298 §2.1: the interval before anything was measured.
    static let initialInterval: Duration = .seconds(1)

    private let floor: Duration
    private let estimates = Mutex<[String: Estimate]>([:])

    /// `floor`: the shortest interval, whatever the measurements say.
    init(floor: Duration) {
        self.floor = floor
    }

    /// How long to wait for the first answer from `server` before sending the query again.
    func interval(for server: String) -> Duration {
        let measured = estimates.withLock { estimates -> Duration? in
            guard let estimate = estimates[server] else { return nil }
            return estimate.smoothed + estimate.variation * 4
        }
        return max(measured ?? Self.initialInterval, floor)
    }

    /// Takes the round-trip time of a query that was sent once and answered (RFC 6298 §2.2-2.3,
    /// α = 1/8, β = 1/4).
    func record(_ roundTrip: Duration, for server: String) {
        estimates.withLock { estimates in
            guard var estimate = estimates[server] else {
                estimates[server] = Estimate(smoothed: roundTrip, variation: roundTrip / 2)
                return
            }
            let deviation = estimate.smoothed > roundTrip ? estimate.smoothed - roundTrip : roundTrip - estimate.smoothed
            estimate.variation = estimate.variation * 3 / 4 + deviation / 4
            estimate.smoothed = estimate.smoothed * 7 / 8 + roundTrip / 8
            estimates[server] = estimate
        }
    }
}

/// Concurrent lookups of the same question share one exchange: a burst of SMTP sessions from
/// one sender asks the resolver once instead of once per session (the answer is cached
/// afterwards, but only once it has arrived).
actor LookupCoalescer<Key: Hashable & Sendable, Value: Sendable> {
    private var running: [Key: (task: Task<Value, Never>, callers: Int)] = [:]

    /// The value of `work` for `key`, from the run already under way if there is one.
    func run(_ key: Key, _ work: @escaping @Sendable () async -> Value) async -> Value {
        if let existing = running[key] {
            running[key]?.callers += 1
            return await existing.task.value
        }
        // Its own task, so one caller's cancellation cannot fail the others.
        let task = Task { await work() }
        running[key] = (task, 1)
        let value = await task.value
        running[key] = nil
        return value
    }

    /// Callers waiting for `key`'s run (tests).
    func callers(of key: Key) -> Int { running[key]?.callers ?? 0 }
}
