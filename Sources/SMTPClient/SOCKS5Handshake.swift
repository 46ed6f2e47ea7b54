import DNS
import SMTP

/// The client side of a SOCKS5 handshake (RFC 1928) that asks the proxy to CONNECT to one
/// address, with username/password authentication (RFC 1929) when credentials are given:
/// octets in, octets to send out, no I/O. `SOCKS5TunnelHandler` runs it on a channel.
///
///   greeting (§3) ─▶ method selection ─▶ [RFC 1929 username/password ─▶ status]
///     ─▶ CONNECT request (§4) ─▶ reply (§6) ─▶ the connection is the target's
public struct SOCKS5Handshake: Sendable {
    /// What to do after some octets from the proxy were taken in.
    public enum Progress: Hashable, Sendable {
        /// The reply is incomplete: read more.
        case needMore
        /// Send these octets, then read the proxy's answer.
        case send([UInt8])
        /// The proxy connected to the target; `leftover` are octets from the target that
        /// arrived with the reply (the start of an SMTP greeting).
        case established(leftover: [UInt8])
    }

    private enum State: Hashable, Sendable {
        case initial
        case awaitingMethod
        case awaitingAuthentication
        case awaitingConnectReply
        case established
        case failed
    }

    // RFC 1928 §3: the method numbers.
    static let version: UInt8 = 5
    static let noAuthentication: UInt8 = 0x00
    static let usernamePassword: UInt8 = 0x02
    static let noAcceptableMethods: UInt8 = 0xFF
    // RFC 1929 §2: the version of the username/password subnegotiation.
    static let authenticationVersion: UInt8 = 1
    // RFC 1928 §4, §5.
    static let connectCommand: UInt8 = 1
    static let ipv4AddressType: UInt8 = 1
    static let domainAddressType: UInt8 = 3
    static let ipv6AddressType: UInt8 = 4

    public let target: IPAddress
    public let port: Int
    public let credentials: SOCKS5Credentials?
    private var state = State.initial
    private var received: [UInt8] = []

    public init(target: IPAddress, port: Int, credentials: SOCKS5Credentials? = nil) {
        self.target = target
        self.port = port
        self.credentials = credentials
    }

    /// The greeting (RFC 1928 §3): no authentication, and username/password when there are
    /// credentials, so a proxy that needs none can still choose none.
    public mutating func start() -> [UInt8] {
        state = .awaitingMethod
        let methods = credentials == nil ? [Self.noAuthentication] : [Self.noAuthentication, Self.usernamePassword]
        return [Self.version, UInt8(methods.count)] + methods
    }

    /// Takes octets from the proxy.
    ///
    /// - Throws: `SOCKS5Error` when the proxy refuses (no acceptable method, wrong
    ///   credentials, a CONNECT reply other than success) or breaks the protocol; the
    ///   handshake is over then.
    public mutating func received(_ octets: some Collection<UInt8>) throws(SOCKS5Error) -> Progress {
        received += octets
        do {
            return try advance()
        } catch {
            state = .failed
            throw error
        }
    }

    private mutating func advance() throws(SOCKS5Error) -> Progress {
        switch state {
        case .initial, .established, .failed:
            throw SOCKS5Error(.protocolViolation("sent octets when none were expected"))
        case .awaitingMethod:
            // RFC 1928 §3: VER METHOD.
            guard let reply = take(2) else { return .needMore }
            try expectVersion(reply[0], Self.version, in: "method selection")
            switch reply[1] {
            case Self.noAuthentication:
                return try sendConnect()
            case Self.usernamePassword:
                guard let credentials else { throw Self.notOffered(reply[1]) }
                return try sendCredentials(credentials)
            case Self.noAcceptableMethods:
                throw SOCKS5Error(.noAcceptableMethod)
            case let method:
                throw Self.notOffered(method)
            }
        case .awaitingAuthentication:
            // RFC 1929 §2: VER STATUS; anything but 0 is a failure.
            guard let reply = take(2) else { return .needMore }
            try expectVersion(reply[0], Self.authenticationVersion, in: "username/password status")
            guard reply[1] == 0 else { throw SOCKS5Error(.authenticationFailed(status: reply[1])) }
            return try sendConnect()
        case .awaitingConnectReply:
            return try connectReply()
        }
    }

    /// RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT. A refusal is known from REP, so it
    /// is reported even when the proxy closes without the rest.
    private mutating func connectReply() throws(SOCKS5Error) -> Progress {
        guard received.count >= 2 else { return .needMore }
        try expectVersion(received[0], Self.version, in: "CONNECT reply")
        guard received[1] == 0 else { throw SOCKS5Error(.connectFailed(reply: received[1])) }
        guard received.count >= 5 else { return .needMore }
        let addressLength: Int
        switch received[3] {
        case Self.ipv4AddressType: addressLength = 4
        case Self.ipv6AddressType: addressLength = 16
        case Self.domainAddressType: addressLength = 1 + Int(received[4])
        case let type: throw SOCKS5Error(.protocolViolation("CONNECT reply with unknown address type \(type)"))
        }
        guard take(4 + addressLength + 2) != nil else { return .needMore }
        state = .established
        defer { received = [] }
        return .established(leftover: received)
    }

    private mutating func sendConnect() throws(SOCKS5Error) -> Progress {
        try expectNothingBuffered()
        guard let port = UInt16(exactly: port) else {
            throw SOCKS5Error(.protocolViolation("port \(self.port) cannot be sent"))
        }
        let addressType = target.bytes.count == 4 ? Self.ipv4AddressType : Self.ipv6AddressType
        state = .awaitingConnectReply
        return .send([Self.version, Self.connectCommand, 0, addressType] + target.bytes + [UInt8(port >> 8), UInt8(port & 0xFF)])
    }

    /// RFC 1929 §2: VER ULEN UNAME PLEN PASSWD, each field 1 to 255 octets.
    private mutating func sendCredentials(_ credentials: SOCKS5Credentials) throws(SOCKS5Error) -> Progress {
        try expectNothingBuffered()
        let username = Array(credentials.username.utf8)
        let password = Array(credentials.password.utf8)
        guard SOCKS5Credentials.allowedLength.contains(username.count), SOCKS5Credentials.allowedLength.contains(password.count) else {
            throw SOCKS5Error(.unsendableCredentials)
        }
        state = .awaitingAuthentication
        return .send([Self.authenticationVersion, UInt8(username.count)] + username + [UInt8(password.count)] + password)
    }

    private static func notOffered(_ method: UInt8) -> SOCKS5Error {
        SOCKS5Error(.protocolViolation("chose authentication method \(method), which was not offered"))
    }

    /// The proxy speaks only when asked: octets beyond a reply before our next request are
    /// not SOCKS.
    private func expectNothingBuffered() throws(SOCKS5Error) {
        guard received.isEmpty else { throw SOCKS5Error(.protocolViolation("sent \(received.count) octets more than its reply")) }
    }

    private func expectVersion(_ found: UInt8, _ expected: UInt8, in what: String) throws(SOCKS5Error) {
        guard found == expected else { throw SOCKS5Error(.protocolViolation("\(what) has version \(found), not \(expected)")) }
    }

    /// The first `count` octets received, removed; nil when fewer arrived.
    private mutating func take(_ count: Int) -> [UInt8]? {
        guard received.count >= count else { return nil }
        defer { received.removeFirst(count) }
        return Array(received[..<count])
    }
}

/// RFC 1929 username and password for a proxy.
public struct SOCKS5Credentials: Sendable, Hashable {
    /// RFC 1929 §2: ULEN and PLEN are one octet and at least 1.
    public static let allowedLength = 1...255

    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// Why a SOCKS5 handshake failed. The description is said of the proxy: "<proxy> answered
/// CONNECT with reply 5, ...".
public struct SOCKS5Error: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// RFC 1928 §3: the proxy accepts none of the offered methods (X'FF').
        case noAcceptableMethod
        /// RFC 1929 §2: the proxy rejected the username and password.
        case authenticationFailed(status: UInt8)
        /// RFC 1928 §6: the proxy could not make the connection; REP is 1 to 255.
        case connectFailed(reply: UInt8)
        /// The proxy sent something that is not SOCKS5.
        case protocolViolation(String)
        /// The username or password is empty or longer than 255 octets (RFC 1929 §2).
        case unsendableCredentials
        /// The proxy closed the connection before the handshake ended.
        case closed
        /// The handshake took longer than allowed.
        case timedOut
    }

    public var kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
    }

    /// The meaning of a CONNECT reply code (RFC 1928 §6).
    public static func meaning(ofReply reply: UInt8) -> String {
        switch reply {
        case 1: return "general SOCKS server failure"
        case 2: return "connection not allowed by ruleset"
        case 3: return "network unreachable"
        case 4: return "host unreachable"
        case 5: return "connection refused"
        case 6: return "TTL expired"
        case 7: return "command not supported"
        case 8: return "address type not supported"
        default: return "unassigned reply code"
        }
    }

    /// The RFC 3463 code for a DSN. Every failure is temporary: the proxy, its rules or the
    /// path behind it may work at the next attempt, and a wrong password is the operator's
    /// to fix while the message waits.
    public var enhanced: EnhancedStatus {
        switch kind {
        // §3.5 X.4.4: unable to route.
        case .connectFailed(reply: 3), .connectFailed(reply: 4): return EnhancedStatus(4, 4, 4)
        // §3.5 X.4.1: no answer from host.
        case .connectFailed(reply: 5), .connectFailed(reply: 6), .timedOut: return EnhancedStatus(4, 4, 1)
        // §3.5 X.4.2: bad connection.
        case .closed: return EnhancedStatus(4, 4, 2)
        // §3.8 X.7.0: other security status (the proxy's rules or our credentials).
        case .noAcceptableMethod, .authenticationFailed, .unsendableCredentials, .connectFailed(reply: 2): return EnhancedStatus(4, 7, 0)
        // §3.5 X.4.0: other network or routing status.
        case .connectFailed, .protocolViolation: return EnhancedStatus(4, 4, 0)
        }
    }

    public var description: String {
        switch kind {
        case .noAcceptableMethod:
            return "accepts none of the offered authentication methods (RFC 1928 §3)"
        case let .authenticationFailed(status):
            return "rejected the username and password (RFC 1929 status \(status))"
        case let .connectFailed(reply):
            return "answered CONNECT with reply \(reply), \(Self.meaning(ofReply: reply)) (RFC 1928 §6)"
        case let .protocolViolation(what):
            return "broke the SOCKS5 protocol: \(what)"
        case .unsendableCredentials:
            return "was not sent the username and password: each must be 1 to 255 octets (RFC 1929 §2)"
        case .closed:
            return "closed the connection during the SOCKS5 handshake"
        case .timedOut:
            return "did not complete the SOCKS5 handshake in time"
        }
    }
}
