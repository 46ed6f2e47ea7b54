import Foundation

/// Authentication failures per client address (an IPv6 client by its /64,
/// `ClientAddress`): each failure is answered later than the one
/// before (so guessing passwords is slow), and past a limit within a window the address may
/// not try again until the window has passed. Shared by all listeners and connections; time
/// is injected so the policy is tested exactly.
public actor AuthFailureLimiter {
    public let maxFailures: Int
    public let window: TimeInterval
    /// Delay before answering the first failure; it doubles with each further one.
    public let baseDelay: Duration
    public let maxDelay: Duration
    private let now: @Sendable () -> Date
    private var failures: [String: [Date]] = [:]

    public init(
        maxFailures: Int = 10, window: TimeInterval = 600, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(8),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.maxFailures = maxFailures
        self.window = window
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.now = now
    }

    /// Whether the address has used up its failures in the current window.
    public func isBlocked(_ address: String) -> Bool {
        recent(ClientAddress.limitKey(address)).count >= maxFailures
    }

    /// Records a failure and returns how long to wait before answering it.
    public func recordFailure(_ address: String) -> Duration {
        let key = ClientAddress.limitKey(address)
        var list = recent(key)
        list.append(now())
        failures[key] = list
        let doublings = min(list.count - 1, 16)
        return min(baseDelay * (1 << doublings), maxDelay)
    }

    /// A successful login clears the address's record.
    public func recordSuccess(_ address: String) {
        failures[ClientAddress.limitKey(address)] = nil
    }

    private func recent(_ address: String) -> [Date] {
        let cutoff = now().addingTimeInterval(-window)
        let list = (failures[address] ?? []).filter { $0 > cutoff }
        failures[address] = list.isEmpty ? nil : list
        return list
    }
}
