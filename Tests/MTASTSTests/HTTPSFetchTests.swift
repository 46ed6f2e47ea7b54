import DNS
import Foundation
import MTASTS
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The fetcher against a real HTTPS server on loopback, with a certificate from a test CA the
/// fetcher trusts through `additionalTrustRoots`, and every policy host sent to that server
/// through `endpointOverrides`.
@Suite struct HTTPSFetchTests {
    static let policyText = "version: STSv1\r\nmode: enforce\r\nmx: mx.good.example\r\nmax_age: 86400\r\n"
    static let limit = 64 * 1024

    /// The scenarios, by policy host.
    static let replies: [String: PolicyServer.Reply] = [
        "mta-sts.good.example": .init(body: Array(policyText.utf8)),
        "mta-sts.charset.example": .init(headers: [("Content-Type", "Text/Plain ; charset=utf-8")], body: Array(policyText.utf8)),
        "mta-sts.redirect.example": .init(status: 301, headers: [("Location", "https://mta-sts.good.example/.well-known/mta-sts.txt")]),
        "mta-sts.html.example": .init(headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(policyText.utf8)),
        "mta-sts.untyped.example": .init(headers: [], body: Array(policyText.utf8)),
        "mta-sts.full.example": .init(body: padded(to: limit)),
        "mta-sts.large.example": .init(body: padded(to: limit + 1)),
        "mta-sts.missing.example": .init(status: 404, body: Array("not found".utf8)),
        "mta-sts.invalid.example": .init(body: Array("version: STSv1\nmode: enforce\nmax_age: 1\n".utf8)),
        "mta-sts.binary.example": .init(body: Array("version: STSv1\nmode: none\nmax_age: 1\n".utf8) + [0xFF, 0x0A]),
    ]
    // Served by name, but not on the certificate.
    static let uncertifiedHost = "mta-sts.other.example"
    // Listed on the certificate, but never answered.
    static let silentHost = "mta-sts.slow.example"

    /// A policy of exactly `size` bytes: the valid policy and an extension field as padding.
    static func padded(to size: Int) -> [UInt8] {
        let head = policyText + "padding: "
        return Array((head + String(repeating: "x", count: size - head.utf8.count - 1) + "\n").utf8)
    }

    func withServer(
        timeout: Duration = .seconds(20), trustCA: Bool = true, notValidAfter: Date = Date().addingTimeInterval(3600),
        _ body: (HTTPSPolicyFetcher, PolicyServer) async throws -> Void
    ) async throws {
        let ca = try TestCA()
        let (certificate, key) = try ca.issue(for: Array(Self.replies.keys) + [Self.silentHost], notValidAfter: notValidAfter)
        let server = try await PolicyServer(certificate: certificate, key: key, replies: Self.replies)
        var configuration = HTTPSPolicyFetcher.Configuration()
        configuration.timeout = timeout
        if trustCA { configuration.additionalTrustRoots = [try ca.trustRoot] }
        for host in Array(Self.replies.keys) + [Self.uncertifiedHost, Self.silentHost] {
            configuration.endpointOverrides[host] = .init(address: "127.0.0.1", port: server.port)
        }
        let fetcher = try HTTPSPolicyFetcher(configuration: configuration)
        do {
            try await body(fetcher, server)
        } catch {
            try await fetcher.shutdown()
            await server.stop()
            throw error
        }
        try await fetcher.shutdown()
        await server.stop()
    }

    func fetch(_ fetcher: HTTPSPolicyFetcher, _ domain: String) async throws(PolicyFetchError) -> STSPolicy {
        try await fetcher.fetch(try! Domain(domain))
    }

    @Test func fetchesAPolicy() async throws {
        try await withServer { fetcher, server in
            let policy = try await fetch(fetcher, "good.example")
            #expect(policy.text == Self.policyText)
            #expect(policy.mode == .enforce)
            #expect(server.requests == ["mta-sts.good.example /.well-known/mta-sts.txt"])
            // Media type parameters are ignored and the type is case-insensitive.
            #expect(try await fetch(fetcher, "charset.example").text == Self.policyText)
            // The size limit is inclusive.
            #expect(try await fetch(fetcher, "full.example").maxAge == 86400)
        }
    }

    /// RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
    @Test func redirectIsAFailure() async throws {
        try await withServer { fetcher, server in
            let error = await #expect(throws: PolicyFetchError.redirect(status: 301, location: "https://mta-sts.good.example/.well-known/mta-sts.txt")) {
                try await fetch(fetcher, "redirect.example")
            }
            #expect(error?.resultType == .policyFetchError)
            #expect(server.requests == ["mta-sts.redirect.example /.well-known/mta-sts.txt"])
        }
    }

    @Test func responsesThatAreNotPolicies() async throws {
        try await withServer { fetcher, _ in
            let html = await #expect(throws: PolicyFetchError.contentType("text/html; charset=utf-8")) { try await fetch(fetcher, "html.example") }
            #expect(html?.resultType == .policyInvalid)
            await #expect(throws: PolicyFetchError.contentType(nil)) { try await fetch(fetcher, "untyped.example") }
            let large = await #expect(throws: PolicyFetchError.tooLarge(limit: Self.limit)) { try await fetch(fetcher, "large.example") }
            #expect(large?.resultType == .policyInvalid)
            let status = await #expect(throws: PolicyFetchError.status(404)) { try await fetch(fetcher, "missing.example") }
            #expect(status?.resultType == .policyFetchError)
            let invalid = await #expect(throws: PolicyFetchError.invalidPolicy(.missingMX(mode: .enforce))) { try await fetch(fetcher, "invalid.example") }
            #expect(invalid?.resultType == .policyInvalid)
            await #expect(throws: PolicyFetchError.invalidPolicy(.notUTF8)) { try await fetch(fetcher, "binary.example") }
        }
    }

    @Test func certificateForAnotherName() async throws {
        try await withServer { fetcher, _ in
            let error = await #expect(throws: PolicyFetchError.self) { try await fetch(fetcher, "other.example") }
            guard case .certificate? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(error?.resultType == .webPKIInvalid)
        }
    }

    @Test func untrustedCertificate() async throws {
        try await withServer(trustCA: false) { fetcher, server in
            let error = await #expect(throws: PolicyFetchError.self) { try await fetch(fetcher, "good.example") }
            guard case .certificate? = error else { Issue.record("\(String(describing: error))"); return }
            #expect(error?.resultType == .webPKIInvalid)
            #expect(server.requests.isEmpty)
        }
    }

    @Test func expiredCertificate() async throws {
        try await withServer(notValidAfter: Date().addingTimeInterval(-60)) { fetcher, _ in
            let error = await #expect(throws: PolicyFetchError.self) { try await fetch(fetcher, "good.example") }
            guard case .certificate? = error else { Issue.record("\(String(describing: error))"); return }
        }
    }

    @Test func serverThatNeverAnswers() async throws {
        try await withServer(timeout: .seconds(1)) { fetcher, server in
            // The configured timeout ends the fetch (the error names it); no wall-clock bound
            // is asserted, which a loaded machine would break.
            let error = await #expect(throws: PolicyFetchError.timeout(.seconds(1))) { try await fetch(fetcher, "slow.example") }
            #expect(error?.resultType == .policyFetchError)
            #expect(server.requests == ["mta-sts.slow.example /.well-known/mta-sts.txt"])
        }
    }

    @Test func nothingListening() async throws {
        // A port that was just free: bound, then closed.
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress?.port ?? 0
        try await listener.close()
        var configuration = HTTPSPolicyFetcher.Configuration()
        configuration.endpointOverrides["mta-sts.closed.example"] = .init(address: "127.0.0.1", port: port)
        let fetcher = try HTTPSPolicyFetcher(configuration: configuration)
        let error = await #expect(throws: PolicyFetchError.self) { try await fetch(fetcher, "closed.example") }
        try await fetcher.shutdown()
        guard case .connection? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(error?.resultType == .policyFetchError)
    }
}
