import Certificates
import HTTP
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOSSL
import Testing

@Suite struct MTASTSPolicyEndpointTests {
    static let policy = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n"

    /// Only example.com has a policy; the lookup sees the Policy Domain as the client wrote it,
    /// lowercased.
    static let endpoint = MTASTSPolicyEndpoint { domain in domain == "example.com" ? policy : nil }

    /// The endpoint on a loopback port with TLS terminated by swift-nio-ssl's handler.
    static func tlsApplication() throws -> some ApplicationProtocol {
        let certificate = try SelfSignedCertificate(hostnames: ["mta-sts.example.com"])
        let context = try NIOSSLContext(configuration: TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: certificate.certificateDER, format: .der))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: certificate.privateKeyDER, format: .der))))
        return endpoint.application(host: "127.0.0.1", port: 0) { pipeline in
            try pipeline.addHandler(NIOSSLServerHandler(context: context))
        }
    }

    @Test func hostMatching() {
        let endpoint = Self.endpoint
        #expect(endpoint.policyText(host: "mta-sts.example.com") == Self.policy)
        // Case does not matter (RFC 4343); a port and one trailing dot do not change the name.
        #expect(endpoint.policyText(host: "MTA-STS.Example.COM") == Self.policy)
        #expect(endpoint.policyText(host: "mta-sts.example.com:443") == Self.policy)
        #expect(endpoint.policyText(host: "mta-sts.example.com.:8443") == Self.policy)
        // Not a Policy Host, or one of a domain without a policy.
        #expect(endpoint.policyText(host: "example.com") == nil)
        #expect(endpoint.policyText(host: "mail.example.com") == nil)
        #expect(endpoint.policyText(host: "mta-sts.example.org") == nil)
        #expect(endpoint.policyText(host: "mta-sts.") == nil)
        #expect(endpoint.policyText(host: "mta-sts") == nil)
        #expect(endpoint.policyText(host: "xmta-sts.example.com") == nil)
        #expect(endpoint.policyText(host: "[::1]:443") == nil)
        #expect(endpoint.policyText(host: "") == nil)
        #expect(endpoint.policyText(host: nil) == nil)
    }

    @Test func lookupGetsTheDomain() {
        let endpoint = MTASTSPolicyEndpoint { $0 }
        #expect(endpoint.policyText(host: "mta-sts.XN--MNCHEN-3YA.example:443") == "xn--mnchen-3ya.example")
        #expect(endpoint.policyText(host: "mta-sts.sub.example.com") == "sub.example.com")
    }

    /// Over a real socket with TLS in front of HTTP, as `tern serve` runs it: the policy with
    /// its content type and CRLF lines, HEAD without a body, 404 for everything else.
    @Test func servesOverTLS() async throws {
        let app = try Self.tlsApplication()
        let host = try #require(HTTPFields.Element.Name("Host"))
        try await app.test(.ahc(.https)) { client in
            try await client.execute(uri: MTASTSPolicyEndpoint.path, method: .get, headers: [host: "mta-sts.example.com"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain")
                #expect(String(buffer: response.body) == Self.policy)
            }
            try await client.execute(uri: MTASTSPolicyEndpoint.path, method: .head, headers: [host: "MTA-STS.example.com:443"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain")
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: MTASTSPolicyEndpoint.path, method: .get, headers: [host: "mta-sts.example.org"]) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: MTASTSPolicyEndpoint.path, method: .get, headers: [host: "example.com"]) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/.well-known/other.txt", method: .get, headers: [host: "mta-sts.example.com"]) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/", method: .get, headers: [host: "mta-sts.example.com"]) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// Without the TLS handler the client's handshake gets no answer: what the closure installs
    /// is what terminates TLS.
    @Test func plainHTTPIsNotServedOnTheTLSPort() async throws {
        let app = try Self.tlsApplication()
        try await app.test(.ahc(.http)) { client in
            _ = await #expect(throws: (any Error).self) {
                try await client.execute(uri: MTASTSPolicyEndpoint.path, method: .get)
            }
        }
    }
}
