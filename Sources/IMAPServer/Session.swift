import Foundation
import IMAP
import Logging
import SASL
import ServerSupport
import Store
import Zlib

/// Where a session's response octets go: the connection, or a test's buffer.
public protocol IMAPOutput: AnyObject {
    func write(_ bytes: [UInt8]) async throws
}

/// What the network adapter must do after the session handled its input.
public enum SessionSignal: Hashable, Sendable {
    /// The OK to STARTTLS is buffered, not written: take it with `takeOutput()` and write it
    /// in the step that starts TLS (ConnectionGate), drop everything read so far (the session
    /// already dropped what its parser held), and call `tlsEstablished(channelBinding:)` after
    /// the handshake.
    case startTLS
    /// Flush and close the connection.
    case close
    /// The OK to COMPRESS DEFLATE is written: from now on both directions are compressed
    /// (RFC 4978 §3). The octets are those the client sent after the command, already
    /// compressed: decompress them and feed them to `receive(_:)` first.
    case startCompression([UInt8])
}

/// The settings of one session: `IMAPSettings` without the network parts, plus whether TLS
/// is there.
public struct SessionSettings: Sendable {
    public var hostname: String
    /// STARTTLS can be offered (a TLS context exists and the connection is not yet TLS).
    public var startTLSAvailable: Bool
    /// The connection started with TLS (RFC 8314 implicit TLS).
    public var tlsActive: Bool
    public var plaintextLoginAllowed: Bool
    public var authentication: Authentication
    public var accountResolver: @Sendable (String) async throws -> Account
    public var temporaryDirectory: String
    public var limits: IMAPLimits
    public var serverID: [IDParameter]
    public var remoteAddress: String
    /// The clock (OLDER/YOUNGER).
    public var now: @Sendable () -> Date

    public init(_ settings: IMAPSettings, remoteAddress: String) {
        hostname = settings.hostname
        startTLSAvailable = settings.tls != nil && !settings.implicitTLS
        tlsActive = settings.tls != nil && settings.implicitTLS
        plaintextLoginAllowed = settings.plaintextLoginAllowed
        authentication = settings.authentication
        accountResolver = settings.accountResolver
        temporaryDirectory = settings.temporaryDirectory
        limits = settings.limits
        serverID = settings.serverID
        now = settings.now
        self.remoteAddress = remoteAddress
    }
}

/// One IMAP session: the protocol state machine of RFC 9051 §3 over a Store account. Feed it
/// the client's octets with `receive(_:)`; it writes responses to its `IMAPOutput` and
/// returns what the adapter must do. Not thread-safe: one connection task owns it.
public final class IMAPSession {
    public enum State: Hashable, Sendable {
        case notAuthenticated, authenticated, selected, logout
    }

    let settings: SessionSettings
    let shared: IMAPSharedState
    let output: any IMAPOutput
    let metrics: IMAPMetrics
    var logger: Logger

    var parser: CommandParser
    var encoder = ResponseEncoder(options: .imap4rev1)
    private var outputBuffer: [UInt8] = []

    public internal(set) var state: State = .notAuthenticated
    var tlsActive: Bool
    var startTLSAvailable: Bool
    /// The TLS layer's binding for SCRAM-*-PLUS (RFC 5802 §6), when it has one.
    var channelBinding: ChannelBinding?

    /// After login.
    var account: Account?
    var accountName: String?
    private var holdsAccountSlot = false
    /// Handed to the adapter once (`takeChangeStream()`), which forwards it to
    /// `storeChanged(_:)`.
    private var changeStream: AsyncStream<StoreChange>?

    /// Extensions the client enabled (RFC 5161), and those enabled implicitly (CONDSTORE by
    /// its first use, RFC 7162 §3.1).
    var imap4rev2 = false
    var utf8Accept = false
    var condStore = false
    var qresync = false
    /// RFC 4978 COMPRESS=DEFLATE is on.
    var compressionActive = false

    var selected: MailboxView?

    /// An AUTHENTICATE exchange waiting for the client's response.
    var pendingAuthentication: PendingAuthentication?
    /// An APPEND whose messages are arriving.
    var pendingAppend: PendingAppend?
    /// The tag of the IDLE in progress.
    var idleTag: Tag?

    /// The command being executed, for metrics and logs.
    var currentCommand: String?
    /// A signal raised inside a command that returns no status.
    var pendingSignal: SessionSignal?

    public init(settings: SessionSettings, shared: IMAPSharedState, output: any IMAPOutput,
                metrics: IMAPMetrics = IMAPMetrics(), logger: Logger = Logger(label: "imapserver")) {
        self.settings = settings
        self.shared = shared
        self.output = output
        self.metrics = metrics
        self.logger = logger
        tlsActive = settings.tlsActive
        startTLSAvailable = settings.startTLSAvailable
        parser = CommandParser(limits: settings.limits.parser)
    }

    // MARK: - Output

    func send(_ response: Response) {
        encoder.encode(response, into: &outputBuffer)
        if case let .tagged(_, status) = response, let command = currentCommand {
            metrics.countCommand(command, result: status.status.rawValue.lowercased())
        }
    }

    func send(_ untagged: UntaggedResponse) { send(.untagged(untagged)) }

    func send(bytes: [UInt8]) { outputBuffer += bytes }

    func sendTagged(_ tag: Tag, _ status: StatusResponse) { send(.tagged(tag, status)) }
    func ok(_ tag: Tag, _ text: String, code: ResponseCode? = nil) { sendTagged(tag, .ok(text, code: code)) }
    func no(_ tag: Tag, _ text: String, code: ResponseCode? = nil) { sendTagged(tag, .no(text, code: code)) }
    func bad(_ tag: Tag, _ text: String, code: ResponseCode? = nil) { sendTagged(tag, .bad(text, code: code)) }

    /// What is buffered and not written, handed to the adapter (the OK to STARTTLS).
    public func takeOutput() -> [UInt8] {
        defer { outputBuffer = [] }
        return outputBuffer
    }

    /// Writes what is buffered.
    func flush() async throws {
        guard !outputBuffer.isEmpty else { return }
        let bytes = outputBuffer
        outputBuffer = []
        do {
            try await output.write(bytes)
        } catch {
            throw SessionWriteError(underlying: error)
        }
    }

    /// Writes when much is buffered (large FETCH and SEARCH answers stream out).
    func flushIfLarge() async throws {
        if outputBuffer.count >= 64 * 1024 { try await flush() }
    }

    // MARK: - Entry points

    /// The greeting (RFC 9051 §7.1.1): OK with the capabilities.
    public func start() async throws {
        send(.condition(.ok("Tern IMAP server ready", code: .capability(capabilities()))))
        try await flush()
    }

    /// The client's octets. Returns a signal when the adapter must act (and then stops: the
    /// octets after a STARTTLS are dropped, RFC 9051 §6.2.1).
    public func receive(_ bytes: some Collection<UInt8>) async throws -> SessionSignal? {
        parser.append(bytes)
        while state != .logout, let event = parser.next() {
            if let signal = try await handle(event) {
                try await flush()
                return signal
            }
            if let signal = pendingSignal {
                pendingSignal = nil
                // The OK to STARTTLS stays buffered: the adapter writes it together with
                // starting TLS (`takeOutput()`).
                if signal != .startTLS { try await flush() }
                return signal
            }
            try await flushIfLarge()
        }
        try await flush()
        return state == .logout ? .close : nil
    }

    /// The TLS handshake completed (after STARTTLS, or on implicit TLS before `start()`),
    /// with the connection's channel binding if the TLS layer has one.
    public func tlsEstablished(channelBinding: ChannelBinding?) {
        tlsActive = true
        startTLSAvailable = false
        self.channelBinding = channelBinding
    }

    /// A change in the account (the Store feed). During IDLE the selected mailbox is brought
    /// up to date at once (RFC 2177); otherwise the next command does it.
    public func storeChanged(_ change: StoreChange) async throws -> SessionSignal? {
        if case .overflow = change, let account {
            // The feed dropped this subscriber; the view is synchronized by mod-sequence, so
            // nothing is lost: subscribe again.
            changeStream = account.changes()
        }
        guard idleTag != nil, let view = selected else { return nil }
        switch change {
        case let .messagesAdded(mailbox, _, _), let .flagsChanged(mailbox, _, _), let .expunged(mailbox, _, _):
            guard mailbox == view.id else { return nil }
        case let .mailboxDeleted(mailbox, _):
            guard mailbox == view.id else { return nil }
        case .overflow:
            break
        case .mailboxCreated, .mailboxRenamed:
            return nil
        }
        let signal = try await synchronize(expunges: true)
        try await flush()
        return signal
    }

    /// The change feed of the logged-in account, once.
    public func takeChangeStream() -> AsyncStream<StoreChange>? {
        defer { changeStream = nil }
        return changeStream
    }

    /// Whether the session is in IDLE (the adapter uses the longer IDLE timeout).
    public var isIdling: Bool { idleTag != nil }

    /// The connection was idle too long (RFC 9051 §7.1.5 BYE).
    public func timedOut() async throws {
        send(.bye(ResponseText(text: "autologout; idle for too long")))
        state = .logout
        try await flush()
    }

    /// The server is shutting down.
    public func shutDown() async throws {
        send(.bye(ResponseText(code: .unavailable, text: "server shutting down")))
        state = .logout
        try await flush()
    }

    /// Releases what the session holds: the account slot and temporary files. Call once when
    /// the connection ends, however it ends.
    public func finish() async {
        pendingAppend?.discard()
        pendingAppend = nil
        if holdsAccountSlot, let accountName {
            holdsAccountSlot = false
            await shared.accountConnections.release(accountName)
        }
        state = .logout
    }

    // MARK: - Events

    private func handle(_ event: ParserEvent) async throws -> SessionSignal? {
        switch event {
        case let .command(tagged):
            currentCommand = tagged.command.name
            defer { currentCommand = nil }
            logger.debug("command", metadata: ["command": "\(tagged.command.name)"])
            return try await execute(tagged)
        case .continuationRequest:
            send(.continuation(.text("Ready for literal data")))
            try await flush()
        case let .appendStart(tag, mailbox):
            currentCommand = "APPEND"
            await appendStart(tag: tag, mailbox: mailbox)
        case let .appendMessageBegin(message):
            appendMessageBegin(message)
        case let .appendBytes(bytes):
            appendBytes(bytes)
        case .appendMessageEnd:
            appendMessageEnd()
        case .appendEnd:
            currentCommand = "APPEND"
            defer { currentCommand = nil }
            return try await appendEnd()
        case let .authenticationResponse(response):
            currentCommand = "AUTHENTICATE"
            defer { currentCommand = nil }
            try await continueAuthentication(response)
        case .idleDone:
            currentCommand = "IDLE"
            defer { currentCommand = nil }
            if let tag = idleTag {
                idleTag = nil
                ok(tag, "IDLE done")
            }
        case let .error(error):
            try await parseError(error)
        }
        return nil
    }

    private func parseError(_ error: ParseError) async throws {
        if let pending = pendingAuthentication, error.tag == nil {
            // A bad line in place of an AUTHENTICATE response ends the exchange.
            pendingAuthentication = nil
            currentCommand = "AUTHENTICATE"
            bad(pending.tag, error.message)
            currentCommand = nil
            return
        }
        if let tag = idleTag, error.tag == nil {
            // RFC 2177: only DONE ends IDLE; anything else is a client error, and IDLE ends.
            idleTag = nil
            currentCommand = "IDLE"
            bad(tag, error.message)
            currentCommand = nil
            return
        }
        if let append = pendingAppend, error.tag == append.tag {
            // RFC 3502: an APPEND that fails stores none of its messages.
            append.discard()
            pendingAppend = nil
            currentCommand = "APPEND"
        }
        send(error.response)
        currentCommand = nil
    }

    // MARK: - Dispatch

    private func execute(_ tagged: TaggedCommand) async throws -> SessionSignal? {
        let tag = tagged.tag
        let command = tagged.command
        // RFC 9051 §3: which commands each state allows.
        switch command {
        case .capability, .noop, .logout, .id:
            break
        case .startTLS, .authenticate, .login:
            guard state == .notAuthenticated else {
                bad(tag, "already authenticated")
                return nil
            }
        case .enable, .select, .examine, .create, .delete, .rename, .subscribe, .unsubscribe, .list, .lsub, .namespace,
             .status, .idle, .compress, .getQuota, .getQuotaRoot, .setQuota:
            guard state == .authenticated || state == .selected else {
                bad(tag, "log in first")
                return nil
            }
        case .check, .close, .unselect, .expunge, .uidExpunge, .search, .fetch, .store, .copy, .move, .sort, .thread:
            guard state == .selected, selected != nil else {
                bad(tag, "no mailbox selected")
                return nil
            }
        }

        let result: StatusResponse?
        do {
            result = try await run(tag, command)
        } catch let error as SessionError {
            if case .mailboxGone = error { return try await selectedMailboxGone() }
            result = error.status
        } catch let error as StoreError {
            if case let .noSuchMailboxID(id) = error, id == selected?.id { return try await selectedMailboxGone() }
            result = Self.status(for: error)
        } catch let error as SessionWriteError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.error("command failed", metadata: ["command": "\(command.name)", "error": "\(error)"])
            result = .no("internal error", code: .serverBug)
        }
        guard let result else { return state == .logout ? .close : nil }
        // RFC 9051 §7.4.1, §7.5.1: untagged updates go before the tagged response; never
        // EXPUNGE during FETCH, STORE or SEARCH (UID variants may), so those wait.
        if state == .selected, Self.mayReportUpdates(command) {
            if let signal = try await synchronize(expunges: true) { return signal }
        }
        sendTagged(tag, result)
        return state == .logout ? .close : nil
    }

    /// Whether untagged EXISTS/EXPUNGE/FETCH may be sent before this command's tagged
    /// response.
    static func mayReportUpdates(_ command: Command) -> Bool {
        switch command {
        case let .fetch(fetch): return fetch.byUID
        case let .store(store): return store.byUID
        case let .search(search): return search.byUID
        case let .sort(sort): return sort.byUID
        case let .thread(thread): return thread.byUID
        case .logout, .close, .unselect, .select, .examine: return false
        default: return true
        }
    }

    /// Runs the command; nil when its tagged response comes later (IDLE, an AUTHENTICATE
    /// exchange) or was sent already.
    private func run(_ tag: Tag, _ command: Command) async throws -> StatusResponse? {
        switch command {
        case .capability:
            send(.capability(capabilities()))
            return .ok("CAPABILITY completed")
        case .noop:
            return .ok("NOOP completed")
        case .logout:
            send(.bye(ResponseText(text: "logging out")))
            state = .logout
            sendTagged(tag, .ok("LOGOUT completed"))
            return nil
        case let .id(parameters):
            let description = parameters?.map { "\($0.name)=\($0.value ?? "NIL")" }.joined(separator: ",") ?? "NIL"
            logger.debug("client id", metadata: ["id": "\(description)"])
            send(.id(settings.serverID))
            return .ok("ID completed")
        case .startTLS:
            return try await startTLS(tag)
        case let .authenticate(mechanism, initialResponse):
            return try await authenticate(tag, mechanism: mechanism, initialResponse: initialResponse)
        case let .login(username, password):
            return try await login(tag, username: username, password: password)
        case let .enable(capabilities):
            return enable(capabilities)
        case .namespace:
            // RFC 2342: one personal namespace, no prefix, "/" as the delimiter.
            send(.namespace(NamespaceResponse(personal: [NamespaceDescription(prefix: "", delimiter: "/")])))
            return .ok("NAMESPACE completed")
        case let .select(mailbox, parameters):
            return try await select(mailbox, parameters, readOnly: false)
        case let .examine(mailbox, parameters):
            return try await select(mailbox, parameters, readOnly: true)
        case let .create(mailbox, specialUse):
            return try await create(mailbox, specialUse: specialUse)
        case let .delete(mailbox):
            return try await delete(mailbox)
        case let .rename(from, to):
            return try await rename(from: from, to: to)
        case let .subscribe(mailbox):
            try await requireAccount().subscribe(mailbox.name)
            return .ok("SUBSCRIBE completed")
        case let .unsubscribe(mailbox):
            try await requireAccount().unsubscribe(mailbox.name)
            return .ok("UNSUBSCRIBE completed")
        case let .list(list):
            return try await self.list(list)
        case let .lsub(reference, pattern):
            return try await lsub(reference: reference, pattern: pattern)
        case let .status(mailbox, items):
            return try await status(mailbox, items)
        case .idle:
            // Report what is pending first, then wait (RFC 2177 §3).
            if state == .selected, let signal = try await synchronize(expunges: true) {
                pendingSignal = signal
                return nil
            }
            idleTag = tag
            send(.continuation(.text("idling")))
            parser.mode = .idle
            return nil
        case let .compress(algorithm):
            // RFC 4978 §3.
            guard !compressionActive else { return .no("compression is already active", code: .compressionActive) }
            guard algorithm == "DEFLATE", Zlib.shared != nil else {
                return .no("compression algorithm \(algorithm) is not supported", code: .cannot)
            }
            sendTagged(tag, .ok("DEFLATE active"))
            compressionActive = true
            pendingSignal = .startCompression(parser.takeUnprocessedBytes())
            return nil
        case let .getQuota(root):
            return try await getQuota(root: root)
        case let .getQuotaRoot(mailbox):
            return try await getQuotaRoot(mailbox)
        case .setQuota:
            // RFC 9208 §4.1.3: limits are the administrator's, set in the configuration.
            return .no("quotas are set by the administrator", code: .noPerm)
        case .check:
            return .ok("CHECK completed")
        case .close:
            return try await close(expunge: true)
        case .unselect:
            return try await close(expunge: false)
        case .expunge:
            return try await expunge(uids: nil)
        case let .uidExpunge(set):
            return try await expunge(uids: set)
        case let .search(search):
            return try await self.search(tag, search)
        case let .fetch(fetch):
            return try await self.fetch(fetch)
        case let .store(store):
            return try await self.store(store)
        case let .copy(byUID, set, mailbox):
            return try await copy(byUID: byUID, set, to: mailbox, move: false)
        case let .move(byUID, set, mailbox):
            return try await copy(byUID: byUID, set, to: mailbox, move: true)
        case let .sort(sort):
            return try await self.sort(tag, sort)
        case let .thread(thread):
            return try await self.thread(thread)
        }
    }

    // MARK: - Capabilities (RFC 9051 §7.2.2)

    /// Only what is complete is advertised.
    func capabilities() -> [Capability] {
        var list: [Capability] = [.imap4rev2, .imap4rev1]
        if state == .notAuthenticated {
            if startTLSAvailable, !tlsActive { list.append(.startTLS) }
            // RFC 9051 §6.2.3: LOGIN is refused without TLS unless allowed.
            if !tlsActive, !settings.plaintextLoginAllowed { list.append(.loginDisabled) }
            for mechanism in saslConfiguration().advertisedMechanisms {
                if let capability = Capability.auth(mechanism.name) { list.append(capability) }
            }
            list.append(.saslIR)
        }
        list += [
            .literalPlus, .enable, .idle, .namespace, .id, .uidPlus, .move, .unselect, .childrenCapability,
            .listExtended, .listStatus, .specialUse, .createSpecialUse, .multiAppend,
            .appendLimit(UInt32(clamping: settings.limits.parser.maxAppendSize)),
            .statusSize, .esearch, .searchRes, .condStore, .qresync, .binary, .saveDate, .preview, .utf8Accept,
            .within, .quota, .objectID,
        ]
        // RFC 9208 §3.1: the resource the quota counts (the account's `quotaBytes`).
        if let storage = Capability("QUOTA=RES-STORAGE") { list.append(storage) }
        list += [.sort, .esort, .threadOrderedSubject, .threadReferences]
        // RFC 4978: only where the system's zlib could be loaded.
        if Zlib.shared != nil { list.append(.compressDeflate) }
        return list
    }

    // MARK: - ENABLE (RFC 5161)

    private func enable(_ capabilities: [Capability]) -> StatusResponse {
        // RFC 5161 §3.1: only in the authenticated state. With a mailbox selected, CONDSTORE
        // alone is taken: any CONDSTORE-enabling command may turn it on then (RFC 7162 §3.1),
        // and ENABLE CONDSTORE is one; the others change how the selected mailbox is reported.
        if state != .authenticated {
            guard state == .selected, !capabilities.isEmpty, capabilities.allSatisfy({ $0 == .condStore }) else {
                return .bad("ENABLE is only allowed before a mailbox is selected")
            }
            let enabling = !condStore
            enableCondStore()
            send(.enabled(enabling ? [.condStore] : []))
            return .ok("ENABLE completed")
        }
        var enabled: [Capability] = []
        for capability in capabilities {
            switch capability {
            case .imap4rev2 where !imap4rev2:
                imap4rev2 = true
                enabled.append(.imap4rev2)
            case .utf8Accept where !utf8Accept:
                utf8Accept = true
                enabled.append(.utf8Accept)
            case .condStore where !condStore:
                condStore = true
                enabled.append(.condStore)
            case .qresync where !qresync:
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                qresync = true
                condStore = true
                enabled.append(.qresync)
            default:
                break
            }
        }
        updateEncoding()
        send(.enabled(enabled))
        return .ok("ENABLE completed")
    }

    /// RFC 9051 §5.1, RFC 6855 §3: UTF-8 in mailbox names and strings once IMAP4rev2 or
    /// UTF8=ACCEPT is enabled.
    func updateEncoding() {
        let utf8 = imap4rev2 || utf8Accept
        encoder.options.utf8 = utf8
        parser.options.utf8Mailboxes = utf8
    }

    /// A CONDSTORE enabling command (RFC 7162 §3.1): from now on FETCH responses carry
    /// MODSEQ; the first one with a mailbox selected reports its HIGHESTMODSEQ.
    func enableCondStore() {
        guard !condStore else { return }
        condStore = true
        if let view = selected {
            send(.condition(.ok("highest mod-sequence", code: .highestModSeq(UInt64(max(0, view.modSeq))))))
        }
    }

    func requireAccount() throws(SessionError) -> Account {
        guard let account else { throw .internalState("no account") }
        return account
    }

    // MARK: - Login bookkeeping

    /// After a successful login: the account, its slot, its change feed.
    func loggedIn(accountName: String) async throws(SessionError) -> Account {
        guard await shared.accountConnections.acquire(accountName) else {
            throw .no("too many connections for this account", .limit)
        }
        let account: Account
        do {
            account = try await settings.accountResolver(accountName)
        } catch {
            await shared.accountConnections.release(accountName)
            logger.error("account not available", metadata: ["account": "\(accountName)", "error": "\(error)"])
            throw .no("account not available", .unavailable)
        }
        holdsAccountSlot = true
        self.account = account
        self.accountName = accountName
        changeStream = account.changes()
        state = .authenticated
        logger[metadataKey: "account"] = "\(accountName)"
        return account
    }

    // MARK: - Errors

    /// The response for a store error (RFC 5530 codes).
    static func status(for error: StoreError) -> StatusResponse {
        switch error {
        case .invalidMailboxName, .invalidKeyword, .renameIntoItself, .cannotDeleteInbox:
            return .no(error.description, code: .cannot)
        case .mailboxExists, .accountExists:
            return .no(error.description, code: .alreadyExists)
        case .noSuchMailbox, .noSuchMailboxID, .noSuchAccount:
            return .no(error.description, code: .nonExistent)
        case .hasChildren:
            return .no(error.description, code: .hasChildren)
        case .roleInUse:
            return .no(error.description, code: .useAttr)
        case .tooManyMailboxes, .tooManyKeywords, .uidsExhausted, .tooManyAccounts:
            return .no(error.description, code: .limit)
        case .overQuota:
            // RFC 9208 §4.3.1.
            return .no("over quota", code: .overQuota)
        case .corrupt:
            return .no("the mailbox data is damaged", code: .corruption)
        case .io, .dataDirectoryInUse, .noRecipients, .invalidAccountName:
            return .no("server error", code: .serverBug)
        }
    }
}

/// Failures of a command, each with its response.
enum SessionError: Error {
    case no(String, ResponseCode?)
    case bad(String, ResponseCode?)
    /// The selected mailbox was deleted by another session.
    case mailboxGone
    case internalState(String)

    var status: StatusResponse {
        switch self {
        case let .no(text, code): return .no(text, code: code)
        case let .bad(text, code): return .bad(text, code: code)
        case .mailboxGone: return .no("the mailbox was deleted", code: .nonExistent)
        case .internalState: return .no("internal error", code: .serverBug)
        }
    }
}

/// A failure to write to the client: ends the connection rather than becoming a response.
public struct SessionWriteError: Error {
    public var underlying: any Error
}
