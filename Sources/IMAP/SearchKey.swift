/// A search criterion (RFC 9051 §6.4.4 and §9 `search-key`), with the IMAP4rev1-only keys of
/// RFC 3501 §6.4.4 and the extensions' keys. Several keys in a row mean AND; the parser gives
/// a single key for one and `.and` for several (and for a parenthesised list).
///
/// Strings are `ByteString`s: their bytes are in the command's CHARSET (UTF-8 or US-ASCII
/// when none was given), which the server decodes.
public indirect enum SearchKey: Hashable, Sendable {
    case all
    case answered, deleted, draft, flagged, seen
    case unanswered, undeleted, undraft, unflagged, unseen
    /// RFC 3501 §6.4.4: \Recent, and the NEW (recent and unseen) and OLD (not recent) keys.
    case recent, new, old
    case keyword(Flag)
    case unkeyword(Flag)
    case bcc(ByteString), body(ByteString), cc(ByteString), from(ByteString)
    case subject(ByteString), text(ByteString), to(ByteString)
    /// HEADER field-name string.
    case header(String, ByteString)
    /// Internal date, disregarding time and zone.
    case before(IMAPDate), on(IMAPDate), since(IMAPDate)
    /// The Date: header field.
    case sentBefore(IMAPDate), sentOn(IMAPDate), sentSince(IMAPDate)
    /// RFC 8514 §4.3: the save date; SAVEDATESUPPORTED matches all messages when the mailbox
    /// keeps save dates.
    case savedBefore(IMAPDate), savedOn(IMAPDate), savedSince(IMAPDate), savedDateSupported
    /// RFC.822.SIZE comparisons (number64).
    case larger(UInt64), smaller(UInt64)
    /// RFC 5032 (WITHIN): internal date at most (YOUNGER) or at least (OLDER) this many seconds ago.
    case older(UInt32), younger(UInt32)
    /// RFC 7162 §3.1.5: mod-sequence at or above the value, optionally of one flag's metadata
    /// entry (`"/flags/\\draft" all`).
    case modSeq(ModSeqSearch)
    /// RFC 8474 (OBJECTID): object identifiers.
    case emailID(String), threadID(String)
    /// Message sequence numbers.
    case sequenceSet(SequenceSet)
    case uid(SequenceSet)
    case not(SearchKey)
    case or(SearchKey, SearchKey)
    case and([SearchKey])
}

/// The MODSEQ search key (RFC 7162 §3.1.5 `search-modsequence`).
public struct ModSeqSearch: Hashable, Sendable {
    /// `entry-name entry-type-req`: a flag's metadata entry and priv/shared/all.
    public var entry: Entry?
    /// mod-sequence-valzer.
    public var value: UInt64

    public struct Entry: Hashable, Sendable {
        /// The flag of `"/flags/<flag>"`, e.g. `\draft`.
        public var flag: String
        public var type: EntryType

        public init(flag: String, type: EntryType) {
            self.flag = flag
            self.type = type
        }
    }

    public enum EntryType: String, Hashable, Sendable {
        case priv, shared, all
    }

    public init(entry: Entry? = nil, value: UInt64) {
        self.entry = entry
        self.value = value
    }
}

/// SEARCH/SORT result options (RFC 9051 §6.4.4 `search-return-opt`, RFC 4731 §3.1, RFC 5182
/// SAVE).
public enum SearchReturnOption: String, Hashable, Sendable, CaseIterable {
    case min = "MIN"
    case max = "MAX"
    case all = "ALL"
    case count = "COUNT"
    case save = "SAVE"
}

/// SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4).
public struct SearchCommand: Hashable, Sendable {
    public var byUID: Bool
    /// CHARSET argument (astring as in RFC 3501; atom or quoted in RFC 9051).
    public var charset: String?
    /// `RETURN (...)` options (an ESEARCH request); nil without RETURN. `RETURN ()` is an empty
    /// array, which means ALL (RFC 4731 §3.1).
    public var returnOptions: [SearchReturnOption]?
    public var key: SearchKey

    public init(byUID: Bool = false, charset: String? = nil, returnOptions: [SearchReturnOption]? = nil, key: SearchKey) {
        self.byUID = byUID
        self.charset = charset
        self.returnOptions = returnOptions
        self.key = key
    }
}

/// A SORT key (RFC 5256 §3 `sort-key`; DISPLAYFROM and DISPLAYTO of RFC 5957).
public enum SortKey: String, Hashable, Sendable, CaseIterable {
    case arrival = "ARRIVAL"
    case cc = "CC"
    case date = "DATE"
    case from = "FROM"
    case size = "SIZE"
    case subject = "SUBJECT"
    case to = "TO"
    case displayFrom = "DISPLAYFROM"
    case displayTo = "DISPLAYTO"
}

/// RFC 5256 §3 `sort-criterion = ["REVERSE" SP] sort-key`.
public struct SortCriterion: Hashable, Sendable {
    public var reverse: Bool
    public var key: SortKey

    public init(_ key: SortKey, reverse: Bool = false) {
        self.key = key
        self.reverse = reverse
    }
}

/// SORT and UID SORT (RFC 5256 §3), with RETURN options of ESORT (RFC 5267 §3).
public struct SortCommand: Hashable, Sendable {
    public var byUID: Bool
    public var returnOptions: [SearchReturnOption]?
    public var criteria: [SortCriterion]
    /// The charset is mandatory in SORT (RFC 5256 `search-criteria = charset 1*(SP search-key)`).
    public var charset: String
    public var key: SearchKey

    public init(byUID: Bool = false, returnOptions: [SearchReturnOption]? = nil, criteria: [SortCriterion], charset: String, key: SearchKey) {
        self.byUID = byUID
        self.returnOptions = returnOptions
        self.criteria = criteria
        self.charset = charset
        self.key = key
    }
}

/// RFC 5256 §3 `thread-alg`.
public enum ThreadAlgorithm: Hashable, Sendable, CustomStringConvertible {
    case orderedSubject
    case references
    /// Another algorithm name (an atom), which the server may not support.
    case other(String)

    public var description: String {
        switch self {
        case .orderedSubject: return "ORDEREDSUBJECT"
        case .references: return "REFERENCES"
        case let .other(name): return name
        }
    }
}

/// THREAD and UID THREAD (RFC 5256 §3).
public struct ThreadCommand: Hashable, Sendable {
    public var byUID: Bool
    public var algorithm: ThreadAlgorithm
    public var charset: String
    public var key: SearchKey

    public init(byUID: Bool = false, algorithm: ThreadAlgorithm, charset: String, key: SearchKey) {
        self.byUID = byUID
        self.algorithm = algorithm
        self.charset = charset
        self.key = key
    }
}
