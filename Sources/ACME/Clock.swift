import Foundation

/// Wall-clock time and waiting, injected so that tests are exact (DESIGN.md: time is
/// injected). Certificates are judged by wall-clock dates, so this is `Date`-based.
public protocol ACMEClock: Sendable {
    func now() -> Date
    /// Waits; throws CancellationError when the task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemACMEClock: ACMEClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

extension Duration {
    var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

/// Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, which RFC 8555 §7.5.1 and
/// §7.4 ask clients to honour while polling and §6.6 when rate limited.
enum RetryAfter {
    static func parse(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        // IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 §5.6.7).
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let delta = date.timeIntervalSince(now)
        return .seconds(max(0, Int(delta.rounded(.up))))
    }
}
