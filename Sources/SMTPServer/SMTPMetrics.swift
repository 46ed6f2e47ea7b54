import Metrics
import SMTP

/// The SMTP server's metrics; labelled counters an alert may watch exist at zero from start.
public struct SMTPMetrics: Sendable {
    static let deliveryResults = ["delivered", "tempfail", "rejected"]
    /// Rejections worth alerting on, created up front; others appear when they happen.
    static let commonRejections = ["5.1.1", "5.7.1", "5.3.4", "4.7.0", "5.5.1", "5.5.2", "5.7.8", "4.4.2", "4.3.0"]

    private let factory: MetricsFactory
    let connections: Counter
    let refusedConnections: Counter
    private let deliveries: [String: Counter]
    private let authentications: [Bool: Counter]
    private let rejections: [String: Counter]

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        connections = Counter(label: "tern_smtp_connections_total", factory: factory)
        refusedConnections = Counter(label: "tern_smtp_connections_refused_total", factory: factory)
        var deliveries: [String: Counter] = [:]
        for result in Self.deliveryResults {
            deliveries[result] = Counter(label: "tern_smtp_messages_total", dimensions: [("result", result)], factory: factory)
        }
        self.deliveries = deliveries
        authentications = [
            true: Counter(label: "tern_smtp_auth_total", dimensions: [("result", "ok")], factory: factory),
            false: Counter(label: "tern_smtp_auth_total", dimensions: [("result", "failed")], factory: factory),
        ]
        var rejections: [String: Counter] = [:]
        for status in Self.commonRejections {
            rejections[status] = Counter(label: "tern_smtp_rejections_total", dimensions: [("status", status)], factory: factory)
        }
        self.rejections = rejections
    }

    func countAuthentication(success: Bool) {
        authentications[success]?.increment()
    }

    func countDelivery(_ result: Session.DeliveryResult) {
        switch result {
        case .delivered: deliveries["delivered"]?.increment()
        case .temporaryFailure: deliveries["tempfail"]?.increment()
        case .rejected: deliveries["rejected"]?.increment()
        }
    }

    /// One verdict of the incoming analysis (RFC 8601 method and result, e.g. spf=fail): a
    /// bounded set of label values.
    func countVerdict(method: String, result: String) {
        Counter(label: "tern_smtp_verdicts_total", dimensions: [("method", method), ("result", result)], factory: factory).increment()
    }

    /// Counted by enhanced status code: the reason, in a bounded set of label values.
    func countRejection(_ status: EnhancedStatus) {
        let label = status.description
        (rejections[label] ?? Counter(label: "tern_smtp_rejections_total", dimensions: [("status", label)], factory: factory)).increment()
    }
}
