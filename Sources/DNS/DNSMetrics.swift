import Metrics

/// The resolver's metrics. Every labelled counter is created when this is made, at zero, so
/// an alert on `increase(tern_dns_lookups_total{result="servfail"}[1h])` sees the first
/// failure (a counter that appears only at its first event shows no increase).
public struct DNSMetrics: Sendable {
    /// Outcome labels of `tern_dns_lookups_total`.
    public static let results = ["ok", "nxdomain", "nodata", "servfail", "timeout", "network", "malformed", "cname"]

    private let lookups: [String: Counter]
    let cacheHits: Counter
    let truncatedRetries: Counter
    let ignoredResponses: Counter
    let retransmissions: Counter
    let duration: Metrics.Timer

    public init(factory: MetricsFactory = MetricsSystem.factory) {
        var lookups: [String: Counter] = [:]
        for result in Self.results {
            lookups[result] = Counter(label: "tern_dns_lookups_total", dimensions: [("result", result)], factory: factory)
        }
        self.lookups = lookups
        cacheHits = Counter(label: "tern_dns_cache_hits_total", factory: factory)
        truncatedRetries = Counter(label: "tern_dns_tcp_retries_total", factory: factory)
        ignoredResponses = Counter(label: "tern_dns_ignored_responses_total", factory: factory)
        retransmissions = Counter(label: "tern_dns_udp_retransmissions_total", factory: factory)
        duration = Metrics.Timer(label: "tern_dns_lookup_duration_seconds", preferredDisplayUnit: .seconds, factory: factory)
    }

    func countLookup(_ outcome: Result<DNSAnswer, DNSError>) {
        let result: String
        switch outcome {
        case .success: result = "ok"
        case let .failure(error):
            switch error.kind {
            case .nameNotFound: result = "nxdomain"
            case .noRecords: result = "nodata"
            case .serverFailure: result = "servfail"
            case .timeout: result = "timeout"
            case .network: result = "network"
            case .malformed: result = "malformed"
            case .cnameChainTooLong: result = "cname"
            }
        }
        lookups[result]?.increment()
    }
}
