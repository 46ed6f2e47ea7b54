import Hummingbird
import Logging

/// The Prometheus scrape endpoint, `GET /metrics`, on its own listener.
///
/// This module does not know the metrics backend: the executable bootstraps swift-metrics
/// with swift-prometheus and hands over a function that renders the registry in the text
/// exposition format, so the rule "libraries use only the swift-metrics API" holds and the
/// endpoint is tested with any renderer. Metrics usually get their own address (for example
/// loopback, or an internal interface) because they reveal traffic patterns.
public enum MetricsEndpoint {
    /// The Prometheus text exposition format, version 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Adds `GET /metrics` and `HEAD /metrics` (RFC 9110 §9.3.2: the same status and header
    /// fields, no content) to `router`.
    public static func addRoutes<Context: RequestContext>(to router: Router<Context>, render: @escaping @Sendable () -> [UInt8]) {
        @Sendable func scrape() -> Response {
            Response(status: .ok, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(bytes: render())))
        }
        router.get("metrics") { _, _ in scrape() }
        router.head("metrics") { _, _ in scrape().createHeadResponse() }
    }

    /// An application serving only the endpoint on `host:port`; it is a swift-service-lifecycle
    /// `Service`, run by the server's service group.
    public static func application(
        host: String, port: Int, logger: Logger = Logger(label: "http"),
        render: @escaping @Sendable () -> [UInt8]
    ) -> some ApplicationProtocol {
        let router = Router()
        addRoutes(to: router, render: render)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "tern"),
            logger: logger)
    }
}
