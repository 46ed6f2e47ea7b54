import DNS
import Metrics
import Prometheus
import Store

/// The process's metrics: swift-metrics bootstrapped with the Prometheus backend, here and
/// nowhere else (libraries only use the swift-metrics API). Each module's metrics are made
/// right after the bootstrap, so their labelled counters exist at zero from start-up and an
/// alert's `increase()` sees the first event. Long-running commands call `bootstrap()` once
/// and serve `render` with `MetricsEndpoint` on the configured address.
struct TernMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    let dns: DNSMetrics

    /// Bootstraps the process-wide metrics system; may be called once per process.
    static func bootstrap() -> TernMetrics {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // The default buckets start at 5 ms, above a whole commit on an SSD.
        factory.durationHistogramBuckets[StoreMetrics.commitDurationLabel] = StoreMetrics.commitDurationBuckets
        factory.valueHistogramBuckets[StoreMetrics.commitWritesLabel] = StoreMetrics.commitWritesBuckets
        MetricsSystem.bootstrap(factory)
        return TernMetrics(registry: registry, dns: DNSMetrics())
    }

    /// The Prometheus text exposition of every metric.
    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
