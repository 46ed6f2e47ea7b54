import AsyncHTTPClient
import DNS
import NIOCore
import NIOHTTP1
import NIOSSL

/// Fetches policies over HTTPS as RFC 8461 §3.3 prescribes: PKIX validation of the Policy
/// Host's certificate for `mta-sts.<domain>`, no redirects, status 200 only, no HTTP caching
/// (the client has none), a time limit for the whole fetch and a size limit for the body;
/// and the media type must be text/plain (§3.2).
///
/// The policy host's address comes from the system resolver (getaddrinfo), which is what
/// async-http-client uses. Call `shutdown()` before releasing the fetcher.
public final class HTTPSPolicyFetcher: PolicyFetcher {
    public struct Configuration: Sendable {
        /// The limit for the whole fetch: connecting, TLS, the response and its body. RFC 8461
        /// §3.3 suggests one minute.
        public var timeout: Duration = .seconds(60)
        /// The largest policy body accepted, in bytes. RFC 8461 §3.3 suggests 64 kilobytes.
        public var maximumPolicySize = 64 * 1024
        /// CA certificates trusted in addition to the system's roots: a test's own CA, or a
        /// private CA in a closed deployment.
        public var additionalTrustRoots: [NIOSSLCertificate] = []
        /// For tests only: where to connect instead of the policy host's address and port
        /// 443, keyed by policy host name (`mta-sts.example.com`). The certificate is still
        /// verified for the policy host name, and the request still names it.
        public var endpointOverrides: [String: Endpoint] = [:]

        public init() {}
    }

    /// An address and port to connect to (see `Configuration.endpointOverrides`).
    public struct Endpoint: Hashable, Sendable {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
    }

    public let configuration: Configuration
    private let client: HTTPClient

    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        // Closing a connection waits this long for the server's close_notify (5 s by
        // default). Bodies are delimited by HTTP, so the wait protects nothing; with a server
        // that never answers it would only hold up shutdown.
        tls.shutdownTimeout = .seconds(1)
        if !configuration.additionalTrustRoots.isEmpty {
            tls.additionalTrustRoots = [.certificates(configuration.additionalTrustRoots)]
        }
        let limit = TimeAmount(configuration.timeout)
        var http = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: limit, read: limit))
        // A failed connection fails the fetch with its own error (a certificate problem is
        // reported as one) instead of being retried until the time limit.
        http.connectionPool.retryConnectionEstablishment = false
        http.dnsOverride = configuration.endpointOverrides.mapValues(\.address)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    /// Closes the connections; the fetcher cannot be used afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The URL of `domain`'s policy (RFC 8461 §3.2), with the test port override if any.
    func url(for domain: Domain) -> String {
        let host = "mta-sts." + domain.ascii
        let port = configuration.endpointOverrides[host].map { ":\($0.port)" } ?? ""
        return "https://\(host)\(port)/.well-known/mta-sts.txt"
    }

    public func fetch(_ domain: Domain) async throws(PolicyFetchError) -> STSPolicy {
        let url = url(for: domain)
        let timeout = configuration.timeout
        do {
            // The client's own timeouts cover connecting and waiting for the response head,
            // not reading the body, which a slow server could trickle; so the whole fetch
            // races a timer.
            return try await withThrowingTaskGroup(of: STSPolicy.self) { group in
                group.addTask { try await self.policy(at: url) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw PolicyFetchError.timeout(timeout)
                }
                defer { group.cancelAll() }
                guard let policy = try await group.next() else { throw PolicyFetchError.timeout(timeout) }
                return policy
            }
        } catch {
            throw classify(error)
        }
    }

    private func policy(at url: String) async throws -> STSPolicy {
        let request = HTTPClientRequest(url: url)
        let response = try await client.execute(request, timeout: TimeAmount(configuration.timeout))
        let status = Int(response.status.code)
        guard status == 200 else {
            if (300...399).contains(status) { throw PolicyFetchError.redirect(status: status, location: response.headers.first(name: "Location")) }
            throw PolicyFetchError.status(status)
        }
        let contentType = response.headers.first(name: "Content-Type")
        guard Self.isPlainText(contentType) else { throw PolicyFetchError.contentType(contentType) }
        let body = try await response.body.collect(upTo: configuration.maximumPolicySize)
        guard let text = String(validating: body.readableBytesView, as: UTF8.self) else {
            throw PolicyFetchError.invalidPolicy(.notUTF8)
        }
        do {
            return try STSPolicy(parsing: text)
        } catch {
            throw PolicyFetchError.invalidPolicy(error)
        }
    }

    /// Whether a Content-Type names text/plain (RFC 8461 §3.2). Parameters are ignored, as
    /// the RFC says, and media types are case-insensitive (RFC 9110 §8.3.1).
    static func isPlainText(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = Array(contentType.utf8).split(separator: UInt8(ascii: ";"), maxSplits: 1, omittingEmptySubsequences: false)[0]
        return String(decoding: trimmingWhitespace(mediaType), as: UTF8.self).lowercased() == "text/plain"
    }

    /// The failure as a `PolicyFetchError`, from what async-http-client and swift-nio-ssl throw.
    private func classify(_ error: any Error) -> PolicyFetchError {
        switch error {
        case let error as PolicyFetchError:
            return error
        case is NIOTooManyBytesError:
            return .tooLarge(limit: configuration.maximumPolicySize)
        case let error as HTTPClientError where [.deadlineExceeded, .connectTimeout, .readTimeout].contains(error):
            return .timeout(configuration.timeout)
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return .certificate(String(describing: error))
        // BoringSSL's chain, trust and expiry checks all fail the handshake with this
        // reason; which check failed is not passed on.
        case let NIOSSLError.handshakeFailed(reason) where String(describing: reason).contains("CERTIFICATE_VERIFY_FAILED"):
            return .certificate("the chain did not verify: untrusted, expired or otherwise invalid (\(reason))")
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            return .tls(String(describing: error))
        default:
            return .connection(String(describing: error))
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
