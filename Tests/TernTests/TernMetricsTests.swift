import DNS
import Metrics
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
    }
}
