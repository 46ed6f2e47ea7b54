import DNS
import Metrics
import Store
import Testing

@testable import Tern

@Suite struct TernMetricsTests {
    /// The only test that bootstraps the process-wide metrics system (allowed once).
    @Test func bootstrapCreatesAlertCountersAtZero() throws {
        let metrics = TernMetrics.bootstrap()
        let text = String(decoding: metrics.render(), as: UTF8.self)
        for result in DNSMetrics.results {
            #expect(text.contains("tern_dns_lookups_total{result=\"\(result)\"} 0\n"))
        }
        // Metrics made later through the global system land in the same registry.
        Counter(label: "tern_test_events_total").increment()
        #expect(String(decoding: metrics.render(), as: UTF8.self).contains("tern_test_events_total 1\n"))
        // The store's commit histograms get buckets below the 5 ms the backend starts at.
        Timer(label: StoreMetrics.commitDurationLabel, dimensions: [("database", "test")]).recordMicroseconds(300)
        Recorder(label: StoreMetrics.commitWritesLabel, dimensions: [("database", "test")]).record(3)
        let store = String(decoding: metrics.render(), as: UTF8.self)
        #expect(store.contains("tern_store_commit_duration_seconds_bucket{database=\"test\",le=\"0.00025\"} 0\n"))
        #expect(store.contains("tern_store_commit_duration_seconds_bucket{database=\"test\",le=\"0.0005\"} 1\n"))
        #expect(store.contains("tern_store_commit_writes_bucket{database=\"test\",le=\"2.0\"} 0\n"))
        #expect(store.contains("tern_store_commit_writes_bucket{database=\"test\",le=\"4.0\"} 1\n"))
    }
}
