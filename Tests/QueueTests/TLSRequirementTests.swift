import Foundation
import Queue
import SMTP
import SMTPClient
import Synchronization
import Testing

/// RFC 8689: a message's TLS requirement (REQUIRETLS, the policy, or "TLS-Required: No")
/// reaches the TLS policy, and the operator can change it.
@Suite(.serialized) struct TLSRequirementTests {
    @Test func ignoredPolicyReachesTheTLSPolicyInItsOwnBatch() async throws {
        let server = try await ScriptedServer()
        defer { server.stop() }
        let requests = Mutex<[Bool]>([])
        let policy = TLSPolicy { domain in
            let opportunistic = await TLSPolicy.opportunistic.prepare(domain)
            return DomainTLSPolicy { request in
                requests.withLock { $0.append(request.ignorePolicy) }
                return await opportunistic.decide(request)
            }
        }
        let fixture = try await QueueFixture(port: server.port, tlsPolicy: policy)
        var optedOut = submission(to: ["bob@example.net"], subject: "opted out")
        optedOut.ignoreTLSPolicy = true
        try await fixture.queue.enqueue(optedOut)
        try await fixture.queue.enqueue(submission(to: ["carol@example.net"], subject: "by the policy"))
        #expect(try await fixture.queue.list().map(\.tlsRequirement) == [.ignorePolicy, .policy])
        try await fixture.queue.runDue()
        // Two batches, so two connections, and the policy was asked once for each kind.
        #expect(server.connections == 2)
        #expect(requests.withLock { $0.sorted { !$0 && $1 } } == [false, true])
        #expect(try await fixture.queue.list().isEmpty)
    }

    @Test func operatorChangesTheRequirement() async throws {
        let fixture = try await QueueFixture(port: 9)
        let records = try await fixture.queue.enqueue(submission(to: ["bob@example.net"]))
        let filter = QueueFilter(ids: records.map(\.id))
        for requirement in [TLSRequirement.requireTLS, .ignorePolicy, .policy] {
            let response = await fixture.queue.handle(QueueControlRequest(operation: .requireTLS, ids: filter.ids, tlsRequirement: requirement))
            #expect(response.count == 1 && response.error == nil)
            let message = try #require(try await fixture.queue.list().first)
            #expect(message.tlsRequirement == requirement)
            #expect(message.requireTLS == (requirement == .requireTLS) && message.ignoreTLSPolicy == (requirement == .ignorePolicy))
        }
        let missing = await fixture.queue.handle(QueueControlRequest(operation: .requireTLS, ids: filter.ids))
        #expect(missing.error == "requiretls needs yes, no or default")
        let none = await fixture.queue.handle(QueueControlRequest(operation: .requireTLS, ids: [999], tlsRequirement: .requireTLS))
        #expect(none.error?.contains("no queued message matches") == true)
    }
}
