import Config
import Queue
import Testing

@testable import Tern

@Suite struct QueueWiringTests {
    /// Queue.DirectPort reaches the queue as its default ("direct") transport; at 25 the
    /// queue's built-in direct transport is left alone.
    @Test func directPortBecomesTheDirectTransport() {
        var config = QueueConfig()
        #expect(QueueSettings(config, hostname: "mail.example").transports.isEmpty)

        config.directPort = 2525
        let settings = QueueSettings(config, hostname: "mail.example")
        guard case let .direct(direct)? = settings.transports[QueueSettings.directTransportName] else {
            Issue.record("no direct transport in \(settings.transports.keys.sorted())")
            return
        }
        #expect(direct.port == 2525)
    }
}
