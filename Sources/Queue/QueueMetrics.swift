import Metrics

/// The queue's metrics: deliveries per recipient by result and transport, the queue's size
/// and the age of its oldest message (the figure to alert on when mail is stuck), and the
/// TLS of direct delivery: sessions, and failures by TLS report result type (RFC 8460 §4.3)
/// and reason, so an alert can fire when, say, a tenth of sessions meet expired
/// certificates (Examples/prometheus-alerts.yml).
public struct QueueMetrics: Sendable {
    public enum Result: String, Sendable, CaseIterable {
        case delivered
        /// A temporary failure: retried later.
        case tempfail
        /// A permanent failure, or given up on.
        case failed
    }

    private let factory: MetricsFactory
    let size: Gauge
    let oldestAge: Gauge
    /// Made at start-up, so a ratio of failures to sessions has a denominator from the start.
    private let tlsSessions: (success: Counter, failure: Counter)

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        size = Gauge(label: "tern_queue_messages", factory: factory)
        oldestAge = Gauge(label: "tern_queue_oldest_message_age_seconds", factory: factory)
        tlsSessions = (
            Counter(label: "tern_queue_tls_sessions_total", dimensions: [("result", "success")], factory: factory),
            Counter(label: "tern_queue_tls_sessions_total", dimensions: [("result", "failure")], factory: factory)
        )
    }

    /// One session of direct delivery: "success" when TLS was negotiated and every
    /// verification asked for passed.
    func countTLSSession(failed: Bool) {
        (failed ? tlsSessions.failure : tlsSessions.success).increment()
    }

    /// A failure of a session, or of a policy before any session (`reason` "policy").
    func countTLSFailure(resultType: String, reason: String) {
        Counter(label: "tern_queue_tls_failures_total", dimensions: [("result_type", resultType), ("reason", reason)], factory: factory)
            .increment()
    }

    func countDelivery(_ result: Result, transport: String) {
        Counter(label: "tern_queue_deliveries_total", dimensions: [("result", result.rawValue), ("transport", transport)], factory: factory)
            .increment()
    }
}
