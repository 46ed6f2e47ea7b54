import NIOCore

/// Where and how the stub resolver asks. Built from /etc/resolv.conf, or from one server the
/// operator names (`--resolver HOST:PORT`, later the config file).
public struct StubResolverConfiguration: Sendable {
    public var servers: [SocketAddress]
    /// How long to wait for one server's answer to one query.
    public var timeout: Duration = .seconds(3)
    /// The shortest wait before an unanswered UDP query is sent again within `timeout`; the
    /// wait follows the server's measured round-trip time and doubles at each resend
    /// (`RetransmissionTimer`). 50 ms is also unbound's least retransmission timeout. Set it
    /// to `timeout` or more for no resends.
    public var retransmitFloor: Duration = .milliseconds(50)
    /// Rounds over all servers while they time out or fail at the network level.
    public var attempts: Int = 2
    /// RFC 6891 §6.2.5 and the 2020 DNS flag day: 1232 octets avoids IP fragmentation on
    /// practically every path; larger answers come back truncated and are asked over TCP.
    public var udpPayloadSize: UInt16 = 1232
    /// Use TCP from the start (RFC 7766), e.g. where UDP is filtered.
    public var forceTCP = false
    public var cacheCapacity = 10_000
    /// Caps on how long an answer or a denial is cached, whatever its TTL says (RFC 2308 §5
    /// recommends at most 1–3 hours for negative answers).
    public var maxTTL: UInt32 = 24 * 3600
    public var maxNegativeTTL: UInt32 = 3600

    public init(servers: [SocketAddress]) {
        self.servers = servers
    }

    /// The system's resolvers from resolv.conf(5): `nameserver` lines (at most 3 are used, as
    /// by the C library), `options timeout:N attempts:N use-vc`. Search domains and ndots do
    /// not apply: a mail server only looks up fully qualified names. With no nameserver line,
    /// the C library's default applies: the local host.
    public static func fromResolvConf(_ text: String) -> StubResolverConfiguration {
        var servers: [SocketAddress] = []
        var configuration = StubResolverConfiguration(servers: [])
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = fields.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            switch keyword {
            case "nameserver" where fields.count >= 2:
                if servers.count < 3, let address = try? SocketAddress(ipAddress: String(fields[1]), port: 53) {
                    servers.append(address)
                }
            case "options":
                for option in fields.dropFirst() {
                    if option.hasPrefix("timeout:"), let seconds = Int(option.dropFirst(8)), seconds > 0 {
                        configuration.timeout = .seconds(min(seconds, 30))
                    } else if option.hasPrefix("attempts:"), let attempts = Int(option.dropFirst(9)), attempts > 0 {
                        configuration.attempts = min(attempts, 5)
                    } else if option == "use-vc" || option == "usevc" {
                        configuration.forceTCP = true
                    }
                }
            default:
                continue
            }
        }
        if servers.isEmpty, let loopback = try? SocketAddress(ipAddress: "127.0.0.1", port: 53) {
            servers = [loopback]
        }
        configuration.servers = servers
        return configuration
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT`, a bare IPv4 or IPv6 address (port 53). HOST must be
    /// an IP address: looking up the resolver's own name would need a resolver.
    public static func parseServer(_ text: String) throws(ResolverAddressError) -> SocketAddress {
        var host = text
        var port = 53
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid(text, "missing ']'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { throw .invalid(text, "expected ':PORT' after ']'") }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let value = Int(text[text.index(after: colon)...]) else { throw .invalid(text, "port is not a number") }
            port = value
        }
        guard (1...65535).contains(port) else { throw .invalid(text, "port \(port) out of range 1-65535") }
        guard IPAddress(host) != nil, let address = try? SocketAddress(ipAddress: host, port: port) else {
            throw .invalid(text, "'\(host)' is not an IP address")
        }
        return address
    }
}

public enum ResolverAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String, String)
    public var description: String {
        switch self {
        case let .invalid(text, reason): return "invalid resolver address '\(text)': \(reason) (expected HOST:PORT, e.g. 127.0.0.1:53 or [::1]:53)"
        }
    }
}
