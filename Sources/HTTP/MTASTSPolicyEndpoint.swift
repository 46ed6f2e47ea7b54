import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// The Policy Host of MTA-STS (RFC 8461 §3.3): `GET /.well-known/mta-sts.txt` over HTTPS,
/// answered with the policy of the domain the Host header names as `mta-sts.<domain>`.
///
/// This module knows neither the configuration nor the policy format: `policy` maps a Policy
/// Domain (lowercase, A-labels as the client wrote them, no trailing dot) to the policy text
/// to serve, or nil when the domain has none. Every other host, path or domain is 404, so a
/// server answers only for the domains it was told about.
public struct MTASTSPolicyEndpoint: Sendable {
    /// RFC 8461 §3.2: the well-known path (RFC 8615).
    public static let path = "/.well-known/mta-sts.txt"
    /// RFC 8461 §3.2: senders should refuse anything but text/plain.
    public static let contentType = "text/plain"
    /// The label RFC 8461 §3.2 puts in front of the Policy Domain.
    static let hostPrefix = "mta-sts."
    /// A connection that sends nothing for this long is closed: RFC 8461 §3.3 suggests that
    /// senders give up on a fetch after a minute, so nobody waits longer.
    public static let idleTimeout: TimeAmount = .seconds(60)

    public let policy: @Sendable (String) -> String?

    public init(policy: @escaping @Sendable (String) -> String?) {
        self.policy = policy
    }

    /// The policy text for a request with this Host header (RFC 9110 §7.2: `uri-host [":"
    /// port]`), or nil for 404.
    public func policyText(host: String?) -> String? {
        guard let domain = Self.policyDomain(host: host) else { return nil }
        return policy(domain)
    }

    /// The Policy Domain a Host header names: `mta-sts.example.com:443` → `example.com`.
    /// DNS names compare without regard to case (RFC 4343); one trailing dot is the same
    /// name. IP literals, and names without the `mta-sts.` label, name none.
    static func policyDomain(host: String?) -> String? {
        guard var name = host?.lowercased(), !name.hasPrefix("[") else { return nil }
        if let colon = name.lastIndex(of: ":") {
            name = String(name[..<colon])
        }
        if name.hasSuffix(".") {
            name.removeLast()
        }
        guard name.hasPrefix(hostPrefix), name.count > hostPrefix.count else { return nil }
        return String(name.dropFirst(hostPrefix.count))
    }

    /// Adds `GET` and `HEAD` (RFC 9110 §9.3.2: the same status and header fields, no content)
    /// of the policy path to `router`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let path = RouterPath(Self.path)
        router.get(path) { request, _ in response(host: request.head.authority) }
        router.head(path) { request, _ in response(host: request.head.authority).createHeadResponse() }
    }

    func response(host: String?) -> Response {
        guard let text = policyText(host: host) else {
            return Response(status: .notFound)
        }
        return Response(status: .ok, headers: [.contentType: Self.contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// An application serving only the policies on `host:port`, with TLS set up by
    /// `tls` for each connection before HTTP; a swift-service-lifecycle `Service`.
    public func application(
        host: String, port: Int, tls: @escaping TLSTermination, logger: Logger = Logger(label: "http")
    ) -> some ApplicationProtocol {
        let router = Router()
        addRoutes(to: router)
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                TLSTerminatedChannel(
                    base: HTTP1Channel(responder: responder, configuration: HTTP1Channel.Configuration(idleTimeout: Self.idleTimeout)),
                    tls: tls)
            },
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "tern"),
            logger: logger)
    }
}

/// Adds to a new connection's pipeline the handlers that terminate TLS: swift-nio-ssl's
/// server handler, or one that first decides whether the connection is an ACME validation
/// (RFC 8737) on a port shared with it. The caller owns the certificates; HTTP comes after.
public typealias TLSTermination = @Sendable (ChannelPipeline.SynchronousOperations) throws -> Void

/// A Hummingbird child channel with TLS in front of `base`. (HummingbirdTLS builds its TLS
/// handler from a `TLSConfiguration` and has no room for the ACME validation handler that
/// must see the ClientHello first.)
struct TLSTerminatedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let tls: TLSTermination

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try tls(channel.pipeline.syncOperations)
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
