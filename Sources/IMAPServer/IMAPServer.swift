/// The IMAP server: IMAP4rev2 (RFC 9051) with IMAP4rev1 (RFC 3501) compatibility, over
/// Store accounts.
///
/// ## The flow
///
/// ```
///  socket ─► ConnectionListener (bind, accept, per-address limit, implicit TLS, ConnectionGate)
///     └─► Connection (this module, the thin network adapter)
///           one merged event stream: client octets (stamped with their TLS epoch),
///           the TLS handshake's end, idle timeouts, and the account's Store change feed
///           └─► IMAPSession.receive(octets) / storeChanged(_) / timedOut()
///                 CommandParser ─► ParserEvent ─► the command's handler ─► Response
///                 ─► ResponseEncoder ─► IMAPOutput (the socket, or a test's buffer)
/// ```
///
/// `IMAPSession` is the protocol: a state machine over the RFC 9051 §3 states (not
/// authenticated, authenticated, selected, logout) that takes octets and store changes and
/// writes responses; it never touches a socket, so tests drive it with bytes and compare
/// exact response bytes. It holds the `Account` after login and reads and writes the store
/// itself (async). What it cannot do itself it returns as a `SessionSignal` to the adapter:
/// start TLS (the parser's unprocessed octets are dropped at that point, and the gate's
/// epoch drops those NIO already read, RFC 9051 §6.2.1), close the connection.
///
/// ## Mailbox state between sessions
///
/// A selected mailbox is a `MailboxView`: the UIDs in sequence-number order and, for each,
/// the flags last reported to this client, plus the HIGHESTMODSEQ the view is synchronized
/// to. Every change in the store takes a new mod-sequence (RFC 7162 §3.1), so bringing the
/// view up to date is one O(1) STATUS read when nothing happened, else a read of the
/// messages changed and the UIDs expunged since that mod-sequence (Store's indexes). The
/// session does this at the points the RFCs allow untagged EXISTS/EXPUNGE/FETCH (RFC 9051
/// §7.4.1, §7.5.1: never during FETCH, STORE or SEARCH, which would shift sequence
/// numbers under the client), and immediately during IDLE (RFC 2177), where the Store
/// change feed wakes it. Its own changes are never reported twice: a change is only sent
/// when the flags (or, with CONDSTORE, the mod-sequence) differ from what the client has.
///
/// ## RFCs
///
/// RFC 9051 IMAP4rev2, RFC 3501 IMAP4rev1, RFC 2177 IDLE, RFC 2342 NAMESPACE, RFC 2971 ID,
/// RFC 3502 MULTIAPPEND, RFC 3516 BINARY, RFC 3691 UNSELECT, RFC 4315 UIDPLUS, RFC 4731
/// ESEARCH, RFC 4959 SASL-IR, RFC 5032 WITHIN, RFC 5161 ENABLE, RFC 5182 SEARCHRES,
/// RFC 5256 SORT/THREAD, RFC 5258 LIST-EXTENDED, RFC 5267 ESORT, RFC 5530 response codes,
/// RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE, RFC 6851 MOVE, RFC 6855 UTF8=ACCEPT,
/// RFC 7162 CONDSTORE/QRESYNC, RFC 7888 LITERAL+, RFC 7889 APPENDLIMIT, RFC 8438
/// STATUS=SIZE, RFC 8514 SAVEDATE, RFC 8970 PREVIEW, RFC 9208 QUOTA, RFC 3348 CHILDREN,
/// RFC 4978 COMPRESS=DEFLATE.
///
/// ## Files
///
/// - IMAPServer.swift: this overview, the settings, the listener (public entry point).
/// - Session.swift: the session, its states, dispatch, capabilities, ENABLE, store errors.
/// - SessionAuth.swift: STARTTLS, LOGIN, AUTHENTICATE (SASL, SASL-IR), failure limits.
/// - SessionMailboxes.swift: LIST (with LIST-EXTENDED, LIST-STATUS, SPECIAL-USE), LSUB,
///   CREATE, DELETE, RENAME, STATUS, QUOTA.
/// - MailboxView.swift: the selected mailbox's sequence-number map and its synchronization.
/// - SessionSelected.swift: SELECT/EXAMINE (CONDSTORE, QRESYNC), CLOSE, UNSELECT, EXPUNGE,
///   STORE, COPY, MOVE.
/// - SessionAppend.swift: APPEND (MULTIAPPEND) streamed to files in the store's tmp directory.
/// - FetchData.swift, SessionFetch.swift: ENVELOPE, BODYSTRUCTURE, sections, FETCH.
/// - Search.swift: SEARCH keys, text search with transfer and charset decoding, ESEARCH,
///   SEARCHRES. Sort.swift: SORT, ESORT, THREAD (ORDEREDSUBJECT, REFERENCES).
/// - Deflate.swift: COMPRESS=DEFLATE with the system's zlib, loaded at run time.
/// - Connection.swift: the network adapter. Shared.swift: per-account connection limits and
///   \Recent ownership. IMAPMetrics.swift: metrics.
import Foundation
import IMAP
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SASL
import ServerSupport
import Store

/// Every limit of the IMAP server, named.
public struct IMAPLimits: Sendable {
    /// RFC 9051 §5.4: the autologout timer of an authenticated connection is at least 30
    /// minutes.
    public var commandTimeout = TimeAmount.minutes(30)
    /// Before login: a connection that never logs in need not be kept that long.
    public var unauthenticatedTimeout = TimeAmount.minutes(5)
    /// RFC 2177 §3: clients re-issue IDLE at least every 29 minutes.
    public var idleTimeout = TimeAmount.minutes(30)
    /// A TLS handshake that has not finished by then ends the connection.
    public var tlsHandshakeTimeout = TimeAmount.minutes(1)
    /// Sessions of one account at the same time (over all addresses).
    public var maxConnectionsPerAccount = 50
    /// Connections from one client address.
    public var maxConnectionsPerAddress = 50
    /// Commands, literals, nesting (the parser's limits). `parser.maxAppendSize` is the
    /// APPENDLIMIT (RFC 7889) and is advertised.
    public var parser = ParserLimits()
    /// Messages in one MULTIAPPEND (RFC 3502).
    public var maxMessagesPerAppend = 1000
    /// Octets of message data read into memory for one SEARCH key on one message: bodies
    /// are searched this far.
    public var maxSearchBodySize = 16 * 1024 * 1024

    public init() {}
}

/// What a session needs beyond its connection: the settings of its listener.
public struct IMAPSettings: Sendable {
    /// The server's name, in the greeting.
    public var hostname: String
    /// For STARTTLS, or for the whole connection with `implicitTLS` (RFC 8314 §3.3).
    public var tls: NIOSSLContext?
    public var implicitTLS: Bool
    /// LOGIN and the PLAIN/LOGIN mechanisms without TLS. RFC 9051 §6.2.3: a server
    /// advertises LOGINDISABLED and refuses LOGIN on a connection without TLS unless it
    /// decided otherwise (loopback, tests).
    public var plaintextLoginAllowed: Bool
    public var authentication: Authentication
    /// Turns the account name a login produced into the account (normally `Store.account`).
    public var accountResolver: @Sendable (String) async throws -> Account
    /// Where APPEND writes a message while it arrives: the store's tmp directory, so that
    /// `Account.append` can hard-link it (DESIGN.md: durability).
    public var temporaryDirectory: String
    public var limits: IMAPLimits
    /// Fields of the ID response (RFC 2971 §3.3).
    public var serverID: [IDParameter]
    /// The clock (SEARCH OLDER/YOUNGER); injected so tests are exact.
    public var now: @Sendable () -> Date

    public init(
        hostname: String, tls: NIOSSLContext? = nil, implicitTLS: Bool = false, plaintextLoginAllowed: Bool = false,
        authentication: Authentication, accountResolver: @escaping @Sendable (String) async throws -> Account,
        temporaryDirectory: String, limits: IMAPLimits = IMAPLimits(),
        serverID: [IDParameter] = [IDParameter("name", "Tern")], now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.hostname = hostname
        self.tls = tls
        self.implicitTLS = implicitTLS
        self.plaintextLoginAllowed = plaintextLoginAllowed
        self.authentication = authentication
        self.accountResolver = accountResolver
        self.temporaryDirectory = temporaryDirectory
        self.limits = limits
        self.serverID = serverID
        self.now = now
    }
}

/// State shared by every session of a server (all listeners): per-account connection
/// counts. (Who has seen a message as \Recent is kept by the store, `Account.claimRecent`.)
public final class IMAPSharedState: Sendable {
    let accountConnections: AccountConnectionLimiter

    public init(maxConnectionsPerAccount: Int = IMAPLimits().maxConnectionsPerAccount) {
        accountConnections = AccountConnectionLimiter(maxPerAccount: maxConnectionsPerAccount)
    }
}

/// An IMAP listener: the shared `ConnectionListener` running an IMAP `Connection` on each
/// accepted socket. Construct it, `bind` it (port 0 for any free port), and run the bound
/// listener as a service (or call `serve()`).
///
/// ```
/// let imap = IMAPListener(settings: IMAPSettings(hostname: "mail.example.org", tls: context,
///     authentication: auth, accountResolver: { try store.account($0) },
///     temporaryDirectory: store.temporaryDirectory))
/// let bound = try await imap.bind(host: "0.0.0.0", port: 143)
/// ```
public struct IMAPListener: Sendable {
    public let settings: IMAPSettings
    public let shared: IMAPSharedState
    public let limiter: ConnectionLimiter
    public let logger: Logger
    public let metrics: IMAPMetrics
    public let makeID: @Sendable () -> String

    public init(
        settings: IMAPSettings, shared: IMAPSharedState? = nil, limiter: ConnectionLimiter? = nil,
        logger: Logger = Logger(label: "imapserver"), metrics: IMAPMetrics = IMAPMetrics(),
        makeID: @escaping @Sendable () -> String = { String(UInt64.random(in: .min ... .max), radix: 36) }
    ) {
        self.settings = settings
        self.shared = shared ?? IMAPSharedState(maxConnectionsPerAccount: settings.limits.maxConnectionsPerAccount)
        self.limiter = limiter ?? ConnectionLimiter(maxPerAddress: settings.limits.maxConnectionsPerAddress)
        self.logger = logger
        self.metrics = metrics
        self.makeID = makeID
    }

    /// Binds `host:port` (port 0: any free port; see `Bound.port`).
    public func bind(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> ConnectionListener.Bound {
        let imap = self
        let implicit = settings.implicitTLS ? settings.tls : nil
        let refusal = ResponseEncoder(options: .imap4rev1).encode(.untagged(.bye(ResponseText(code: .unavailable, text: "too many connections from your address"))))
        let listener = ConnectionListener(
            implicitTLS: implicit,
            initialTimeout: implicit != nil ? settings.limits.tlsHandshakeTimeout : settings.limits.unauthenticatedTimeout,
            limiter: limiter, refusal: refusal, logger: logger, makeID: makeID,
            connections: metrics.connections, refusedConnections: metrics.refusedConnections
        ) { accepted in
            // On the channel's event loop, as SMTP connections run (EventLoopTaskExecutor):
            // database work runs on the store's own threads either way.
            let connection = Connection(accepted: accepted, settings: imap.settings, shared: imap.shared, metrics: imap.metrics)
            await withTaskExecutorPreference(EventLoopTaskExecutor(accepted.channel.channel.eventLoop)) {
                await connection.run()
            }
        }
        return try await listener.bind(host: host, port: port, group: group)
    }
}
