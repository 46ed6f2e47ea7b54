import Metrics

/// The IMAP server's metrics (`tern_imap_<what>`). Counters an alert may watch exist at zero
/// from the start.
public struct IMAPMetrics: Sendable {
    static let results = ["ok", "no", "bad"]

    private let factory: MetricsFactory
    let connections: Counter
    let refusedConnections: Counter
    private let authentications: [Bool: Counter]

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        connections = Counter(label: "tern_imap_connections_total", factory: factory)
        refusedConnections = Counter(label: "tern_imap_connections_refused_total", factory: factory)
        authentications = [
            true: Counter(label: "tern_imap_auth_total", dimensions: [("result", "ok")], factory: factory),
            false: Counter(label: "tern_imap_auth_total", dimensions: [("result", "failed")], factory: factory),
        ]
    }

    func countAuthentication(success: Bool) {
        authentications[success]?.increment()
    }

    /// By command name (a bounded set: the parser only produces known commands) and result.
    func countCommand(_ name: String, result: String) {
        Counter(label: "tern_imap_commands_total", dimensions: [("command", name), ("result", result)], factory: factory).increment()
    }
}
