/// A command with its tag (RFC 9051 §9 `command = tag SP (...) CRLF`).
public struct TaggedCommand: Hashable, Sendable {
    public var tag: Tag
    public var command: Command

    public init(tag: Tag, command: Command) {
        self.tag = tag
        self.command = command
    }
}

/// Every command Tern understands except APPEND, which arrives as a stream of parser events
/// (`ParserEvent.appendStart` ...) so its message data is never buffered whole.
///
/// Whether a command is allowed in the current state, or whether the extension it belongs to
/// was advertised or enabled, is the server's decision; the parser only checks syntax.
public enum Command: Hashable, Sendable {
    // RFC 9051 §6.1: any state.
    case capability
    case noop
    case logout
    /// RFC 2971 §3.1: `ID ("name" "value" ...)` or `ID NIL`.
    case id([IDParameter]?)

    // RFC 9051 §6.2: not authenticated.
    case startTLS
    /// RFC 9051 §6.2.2, RFC 4959 SASL-IR: the mechanism name (as sent) and the initial
    /// response, already base64-decoded (`=` is an empty response).
    case authenticate(mechanism: String, initialResponse: [UInt8]?)
    case login(username: String, password: String)

    // RFC 9051 §6.3: authenticated.
    /// RFC 5161 §3.1.
    case enable([Capability])
    case select(MailboxName, SelectParameters)
    case examine(MailboxName, SelectParameters)
    /// RFC 6154 §3 `USE (\Sent ...)` is `specialUse`.
    case create(MailboxName, specialUse: [MailboxAttribute])
    case delete(MailboxName)
    case rename(from: MailboxName, to: MailboxName)
    case subscribe(MailboxName)
    case unsubscribe(MailboxName)
    /// Plain and extended LIST (RFC 9051 §6.3.9, RFC 5258, RFC 5819, RFC 6154).
    case list(ListCommand)
    /// RFC 3501 §6.3.9: reference and pattern.
    case lsub(reference: String, pattern: String)
    /// RFC 9051 §6.3.10, RFC 2342.
    case namespace
    case status(MailboxName, [StatusItem])
    /// RFC 9051 §6.3.13, RFC 2177: the server answers with a continuation and sets the parser
    /// to `.idle`; the DONE line arrives as `ParserEvent.idleDone`.
    case idle
    /// RFC 4978 §3: the algorithm name (an atom, e.g. DEFLATE).
    case compress(algorithm: String)
    /// RFC 9208 §4.1.1, §4.1.2, §4.1.3.
    case getQuota(root: String)
    case getQuotaRoot(MailboxName)
    case setQuota(root: String, limits: [QuotaLimit])

    // RFC 9051 §6.4: selected.
    /// RFC 3501 §6.4.1 (IMAP4rev1 only).
    case check
    case close
    /// RFC 3691, RFC 9051 §6.4.2.
    case unselect
    case expunge
    /// RFC 4315 §2.1, RFC 9051 §6.4.9.
    case uidExpunge(SequenceSet)
    case search(SearchCommand)
    case fetch(FetchCommand)
    case store(StoreCommand)
    case copy(byUID: Bool, SequenceSet, MailboxName)
    /// RFC 6851, RFC 9051 §6.4.8.
    case move(byUID: Bool, SequenceSet, MailboxName)
    /// RFC 5256, RFC 5267.
    case sort(SortCommand)
    case thread(ThreadCommand)

    /// The command's name as a client would write it (for logs and metrics), e.g. `UID FETCH`.
    public var name: String {
        switch self {
        case .capability: return "CAPABILITY"
        case .noop: return "NOOP"
        case .logout: return "LOGOUT"
        case .id: return "ID"
        case .startTLS: return "STARTTLS"
        case .authenticate: return "AUTHENTICATE"
        case .login: return "LOGIN"
        case .enable: return "ENABLE"
        case .select: return "SELECT"
        case .examine: return "EXAMINE"
        case .create: return "CREATE"
        case .delete: return "DELETE"
        case .rename: return "RENAME"
        case .subscribe: return "SUBSCRIBE"
        case .unsubscribe: return "UNSUBSCRIBE"
        case .list: return "LIST"
        case .lsub: return "LSUB"
        case .namespace: return "NAMESPACE"
        case .status: return "STATUS"
        case .idle: return "IDLE"
        case .compress: return "COMPRESS"
        case .getQuota: return "GETQUOTA"
        case .getQuotaRoot: return "GETQUOTAROOT"
        case .setQuota: return "SETQUOTA"
        case .check: return "CHECK"
        case .close: return "CLOSE"
        case .unselect: return "UNSELECT"
        case .expunge: return "EXPUNGE"
        case .uidExpunge: return "UID EXPUNGE"
        case let .search(c): return c.byUID ? "UID SEARCH" : "SEARCH"
        case let .fetch(c): return c.byUID ? "UID FETCH" : "FETCH"
        case let .store(c): return c.byUID ? "UID STORE" : "STORE"
        case let .copy(byUID, _, _): return byUID ? "UID COPY" : "COPY"
        case let .move(byUID, _, _): return byUID ? "UID MOVE" : "MOVE"
        case let .sort(c): return c.byUID ? "UID SORT" : "SORT"
        case let .thread(c): return c.byUID ? "UID THREAD" : "THREAD"
        }
    }
}

/// One ID field (RFC 2971 §3.3): a name and an optional value.
public struct IDParameter: Hashable, Sendable {
    public var name: String
    public var value: String?

    public init(_ name: String, _ value: String?) {
        self.name = name
        self.value = value
    }
}

/// SELECT/EXAMINE parameters (RFC 4466 `select-params`, RFC 7162 §3.1.8 CONDSTORE and
/// §3.2.5 QRESYNC).
public struct SelectParameters: Hashable, Sendable {
    public var condStore: Bool
    public var qresync: QResyncParameters?

    public init(condStore: Bool = false, qresync: QResyncParameters? = nil) {
        self.condStore = condStore
        self.qresync = qresync
    }
}

/// `QRESYNC (uidvalidity mod-sequence-value [known-uids] [(known-sequence-set known-uid-set)])`
/// (RFC 7162 §3.2.5). The parser refuses `*` and `$` in the sets.
public struct QResyncParameters: Hashable, Sendable {
    public var uidValidity: UInt32
    public var modSeq: UInt64
    public var knownUIDs: SequenceSet?
    public var sequenceMatch: SequenceMatch?

    public struct SequenceMatch: Hashable, Sendable {
        public var sequenceNumbers: SequenceSet
        public var uids: SequenceSet

        public init(sequenceNumbers: SequenceSet, uids: SequenceSet) {
            self.sequenceNumbers = sequenceNumbers
            self.uids = uids
        }
    }

    public init(uidValidity: UInt32, modSeq: UInt64, knownUIDs: SequenceSet? = nil, sequenceMatch: SequenceMatch? = nil) {
        self.uidValidity = uidValidity
        self.modSeq = modSeq
        self.knownUIDs = knownUIDs
        self.sequenceMatch = sequenceMatch
    }
}

/// A STATUS data item (RFC 9051 §6.3.11, RFC 3501 RECENT, RFC 7162 HIGHESTMODSEQ, RFC 7889
/// APPENDLIMIT, RFC 8438 SIZE, RFC 8474 MAILBOXID, RFC 9208 DELETED-STORAGE).
public enum StatusItem: String, Hashable, Sendable, CaseIterable {
    case messages = "MESSAGES"
    case uidNext = "UIDNEXT"
    case uidValidity = "UIDVALIDITY"
    case unseen = "UNSEEN"
    case deleted = "DELETED"
    case size = "SIZE"
    case recent = "RECENT"
    case highestModSeq = "HIGHESTMODSEQ"
    case appendLimit = "APPENDLIMIT"
    case mailboxID = "MAILBOXID"
    case deletedStorage = "DELETED-STORAGE"
}

/// LIST (RFC 9051 §6.3.9) including the extended form of RFC 5258.
public struct ListCommand: Hashable, Sendable {
    /// The reference name, decoded like a mailbox name.
    public var reference: String
    /// One or more patterns with `%` and `*` wildcards (several only in the extended form).
    public var patterns: [String]
    public var selectOptions: ListSelectOptions
    public var returnOptions: ListReturnOptions
    /// True when selection options, several patterns or RETURN were used (RFC 5258 §3): the
    /// server then answers with LIST-EXTENDED semantics.
    public var isExtended: Bool

    public init(reference: String, patterns: [String], selectOptions: ListSelectOptions = ListSelectOptions(),
                returnOptions: ListReturnOptions = ListReturnOptions(), isExtended: Bool = false) {
        self.reference = reference
        self.patterns = patterns
        self.selectOptions = selectOptions
        self.returnOptions = returnOptions
        self.isExtended = isExtended
    }
}

/// RFC 5258 §3.1 selection options, RFC 6154 §5.1 SPECIAL-USE.
public struct ListSelectOptions: Hashable, Sendable {
    public var subscribed = false
    public var remote = false
    public var recursiveMatch = false
    public var specialUse = false

    public init(subscribed: Bool = false, remote: Bool = false, recursiveMatch: Bool = false, specialUse: Bool = false) {
        self.subscribed = subscribed
        self.remote = remote
        self.recursiveMatch = recursiveMatch
        self.specialUse = specialUse
    }
}

/// RFC 5258 §3.2 return options, RFC 5819 STATUS, RFC 6154 §5.2 SPECIAL-USE.
public struct ListReturnOptions: Hashable, Sendable {
    public var subscribed = false
    public var children = false
    public var specialUse = false
    /// RFC 5819: STATUS (items) for each listed mailbox.
    public var status: [StatusItem]?

    public init(subscribed: Bool = false, children: Bool = false, specialUse: Bool = false, status: [StatusItem]? = nil) {
        self.subscribed = subscribed
        self.children = children
        self.specialUse = specialUse
        self.status = status
    }
}

/// A SETQUOTA resource limit (RFC 9208 §4.1.3).
public struct QuotaLimit: Hashable, Sendable {
    /// STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE or another atom, uppercased.
    public var resource: String
    public var limit: UInt64

    public init(resource: String, limit: UInt64) {
        self.resource = resource
        self.limit = limit
    }
}

/// The options of one APPEND message (RFC 9051 §6.3.12, RFC 3502, RFC 3516, RFC 6855 §4).
public struct AppendMessage: Hashable, Sendable {
    public var flags: [Flag]
    public var internalDate: IMAPDateTime?
    /// The announced literal size in octets.
    public var size: UInt64
    /// Sent as literal8 `~{n}` (RFC 3516 §4.4): the data may contain NUL.
    public var isBinary: Bool
    /// Sent as `UTF8 (~{n})` (RFC 6855 §4): the header may contain UTF-8.
    public var isUTF8: Bool
    /// A synchronizing literal: the parser also emits `.continuationRequest` for it.
    public var isSynchronizing: Bool

    public init(flags: [Flag] = [], internalDate: IMAPDateTime? = nil, size: UInt64, isBinary: Bool = false,
                isUTF8: Bool = false, isSynchronizing: Bool = true) {
        self.flags = flags
        self.internalDate = internalDate
        self.size = size
        self.isBinary = isBinary
        self.isUTF8 = isUTF8
        self.isSynchronizing = isSynchronizing
    }
}
