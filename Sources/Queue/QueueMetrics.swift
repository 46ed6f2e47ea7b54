import Metrics

/// The queue's metrics: deliveries per recipient by result and transport, the queue's size
/// and the age of its oldest message (the figure to alert on when mail is stuck).
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

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        size = Gauge(label: "tern_queue_messages", factory: factory)
        oldestAge = Gauge(label: "tern_queue_oldest_message_age_seconds", factory: factory)
    }

    func countDelivery(_ result: Result, transport: String) {
        Counter(label: "tern_queue_deliveries_total", dimensions: [("result", result.rawValue), ("transport", transport)], factory: factory)
            .increment()
    }
}
