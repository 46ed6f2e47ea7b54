import DNS
import HTTP
import Hummingbird
import HummingbirdTesting
import Metrics
import Prometheus
import Testing

@Suite struct MetricsEndpointTests {
    /// Over a real socket: the scrape has the Prometheus content type and the DNS counters
    /// an alert depends on exist at zero before any lookup happened.
    @Test func servesCountersCreatedAtZero() async throws {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        _ = DNSMetrics(factory: factory)
        let app = MetricsEndpoint.application(host: "127.0.0.1", port: 0) { registry.emitToBuffer() }

        try await app.test(.live) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == MetricsEndpoint.contentType)
                let body = String(buffer: response.body)
                for result in DNSMetrics.results {
                    #expect(body.contains("tern_dns_lookups_total{result=\"\(result)\"} 0\n"), "missing \(result) in \(body)")
                }
                #expect(body.contains("# TYPE tern_dns_lookups_total counter"))
                #expect(body.contains("tern_dns_cache_hits_total 0\n"))
            }
            // RFC 9110 §9.3.2: HEAD has GET's status and header fields, and no content.
            try await client.execute(uri: "/metrics", method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == MetricsEndpoint.contentType)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: "/other", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// A counter incremented by a lookup is visible in the next scrape.
    @Test func reflectsIncrements() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = DNSMetrics(factory: PrometheusMetricsFactory(registry: registry))
        // Nothing listens on port 9 (discard): the lookup fails at the network level.
        var configuration = StubResolverConfiguration(servers: [try StubResolverConfiguration.parseServer("127.0.0.1:9")])
        configuration.attempts = 1
        configuration.timeout = .milliseconds(500)
        let stub = StubResolver(configuration: configuration, metrics: metrics)
        _ = try? await stub.resolve(try DNSName("example.test"), .a)

        let app = MetricsEndpoint.application(host: "127.0.0.1", port: 0) { registry.emitToBuffer() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                let body = String(buffer: response.body)
                let failed = body.contains("tern_dns_lookups_total{result=\"network\"} 1\n") || body.contains("tern_dns_lookups_total{result=\"timeout\"} 1\n")
                #expect(failed, "\(body)")
                #expect(body.contains("tern_dns_lookups_total{result=\"ok\"} 0\n"))
            }
        }
    }
}
