/// A server response (RFC 9051 §7, §9 `response`).
public enum Response: Hashable, Sendable {
    /// `tag SP resp-cond-state` completing a command.
    case tagged(Tag, StatusResponse)
    /// `"*" SP ...`.
    case untagged(UntaggedResponse)
    /// `"+" SP (resp-text / base64)` (RFC 9051 §7.6).
    case continuation(ContinuationRequest)
}

/// `resp-cond-state`: OK, NO or BAD with an optional response code and text.
public struct StatusResponse: Hashable, Sendable {
    public enum Status: String, Hashable, Sendable {
        case ok = "OK"
        case no = "NO"
        case bad = "BAD"
    }

    public var status: Status
    public var code: ResponseCode?
    /// Human-readable text. CR and LF are replaced when encoding; an empty text is sent as the
    /// status word, since RFC 3501 requires text.
    public var text: String

    public init(_ status: Status, code: ResponseCode? = nil, text: String) {
        self.status = status
        self.code = code
        self.text = text
    }

    public static func ok(_ text: String, code: ResponseCode? = nil) -> StatusResponse { StatusResponse(.ok, code: code, text: text) }
    public static func no(_ text: String, code: ResponseCode? = nil) -> StatusResponse { StatusResponse(.no, code: code, text: text) }
    public static func bad(_ text: String, code: ResponseCode? = nil) -> StatusResponse { StatusResponse(.bad, code: code, text: text) }
}

/// `resp-text` of PREAUTH and BYE.
public struct ResponseText: Hashable, Sendable {
    public var code: ResponseCode?
    public var text: String

    public init(code: ResponseCode? = nil, text: String) {
        self.code = code
        self.text = text
    }
}

/// A continuation request (RFC 9051 §7.6).
public enum ContinuationRequest: Hashable, Sendable {
    /// `+ text`, e.g. for literals and IDLE.
    case text(String)
    /// `+ base64`: an AUTHENTICATE challenge, given decoded (empty gives `+ `).
    case challenge([UInt8])
}

/// Untagged responses (RFC 9051 §7.1-§7.5 and the extensions').
public enum UntaggedResponse: Hashable, Sendable {
    /// `* OK/NO/BAD [code] text`, including the greeting `* OK`.
    case condition(StatusResponse)
    /// Greeting of a pre-authenticated connection (RFC 9051 §7.1.4).
    case preauth(ResponseText)
    /// RFC 9051 §7.1.5.
    case bye(ResponseText)
    /// RFC 9051 §7.2.2.
    case capability([Capability])
    /// RFC 5161 §3.2.
    case enabled([Capability])
    /// RFC 9051 §7.3.5.
    case flags([Flag])
    /// RFC 9051 §7.3.1, RFC 5258.
    case list(ListResponse)
    /// RFC 3501 §7.2.3.
    case lsub(ListResponse)
    /// RFC 9051 §7.3.3.
    case status(MailboxName, [StatusValue])
    /// RFC 9051 §7.4.1.
    case exists(UInt32)
    /// RFC 3501 §7.3.2 (IMAP4rev1 only).
    case recent(UInt32)
    /// RFC 9051 §7.5.1.
    case expunge(UInt32)
    /// RFC 7162 §3.2.10: `VANISHED [(EARLIER)] known-uids`.
    case vanished(earlier: Bool, NumberSet)
    /// RFC 9051 §7.5.2.
    case fetch(FetchResponse)
    /// RFC 3501 §7.2.5 SEARCH, with `(MODSEQ n)` of RFC 7162 §3.1.6.
    case search([UInt32], modSeq: UInt64?)
    /// RFC 9051 §7.3.4, RFC 4731 §3.1.
    case esearch(ESearchResponse)
    /// RFC 5256 §4, with RFC 7162's `(MODSEQ n)`.
    case sort([UInt32], modSeq: UInt64?)
    /// RFC 5256 §4.
    case thread([ThreadNode])
    /// RFC 9051 §7.3.2, RFC 2342 §5.
    case namespace(NamespaceResponse)
    /// RFC 2971 §3.2: nil gives `ID NIL`.
    case id([IDParameter]?)
    /// RFC 9208 §4.2.1.
    case quota(root: String, [QuotaResource])
    /// RFC 9208 §4.2.2.
    case quotaRoot(MailboxName, roots: [String])
}

/// Response codes (RFC 9051 §7.1 and the extensions').
public enum ResponseCode: Hashable, Sendable {
    case alert
    /// Supported charsets (may be empty).
    case badCharset([String])
    case capability([Capability])
    case parse
    /// The flags the client may store permanently; `allowsNewKeywords` adds `\*`.
    case permanentFlags([Flag], allowsNewKeywords: Bool)
    case readOnly
    case readWrite
    case tryCreate
    case uidNext(UInt32)
    case uidValidity(UInt32)
    /// RFC 3501 §7.1 (IMAP4rev1 only).
    case unseen(UInt32)
    /// RFC 4315 §3: the new UIDs (several with MULTIAPPEND).
    case appendUID(uidValidity: UInt32, uids: NumberSet)
    /// RFC 4315 §3: source and destination UIDs correspond in ascending order.
    case copyUID(uidValidity: UInt32, source: NumberSet, destination: NumberSet)
    case uidNotSticky
    /// RFC 7162 §3.1.2.1.
    case highestModSeq(UInt64)
    case noModSeq
    /// RFC 7162 §3.1.3: messages not stored because they changed.
    case modified(NumberSet)
    /// RFC 7162 §3.2.11.
    case closed
    /// RFC 4469 / RFC 7889.
    case tooBig
    /// RFC 9208 §4.3.1.
    case overQuota
    // RFC 5530 / RFC 9051 §7.1.
    case limit, nonExistent, alreadyExists, cannot, inUse, noPerm, serverBug
    case authenticationFailed, authorizationFailed, expired, privacyRequired, contactAdmin, unavailable
    case clientBug, expungeIssued, corruption, hasChildren
    /// RFC 6154 §3.
    case useAttr
    /// RFC 8474 (OBJECTID): the new mailbox's identifier, after CREATE.
    case mailboxID(String)
    /// RFC 5182 §2.5.
    case notSaved
    /// RFC 3516 §4.2.
    case unknownCTE
    /// RFC 4978 §3.
    case compressionActive
    /// Any other code: an atom and optional text (without "]").
    case other(String, String?)
}

/// A mailbox in a LIST or LSUB response (RFC 9051 §7.3.1, RFC 5258 §6).
public struct ListResponse: Hashable, Sendable {
    public var attributes: [MailboxAttribute]
    /// The hierarchy delimiter, nil for a flat namespace (NIL).
    public var delimiter: Character?
    public var mailbox: MailboxName
    public var extendedItems: [ListExtendedItem]

    public init(attributes: [MailboxAttribute] = [], delimiter: Character? = "/", mailbox: MailboxName, extendedItems: [ListExtendedItem] = []) {
        self.attributes = attributes
        self.delimiter = delimiter
        self.mailbox = mailbox
        self.extendedItems = extendedItems
    }
}

/// `mbox-list-extended-item` (RFC 5258 §6, RFC 9051 §9).
public enum ListExtendedItem: Hashable, Sendable {
    /// `CHILDINFO ("SUBSCRIBED")`: selection options that matched children (RFC 5258 §3.5).
    case childInfo([String])
    /// `OLDNAME (mailbox)` (RFC 9051 §6.3.9.7): the name exactly as the client knew it (so
    /// `inbox` stays lowercase when the server canonicalised it to INBOX).
    case oldName(String)
}

/// A STATUS data item with its value (RFC 9051 §9 `status-att-val` and the extensions').
public enum StatusValue: Hashable, Sendable {
    case messages(UInt32)
    case uidNext(UInt32)
    case uidValidity(UInt32)
    case unseen(UInt32)
    case deleted(UInt32)
    case size(UInt64)
    case recent(UInt32)
    case highestModSeq(UInt64)
    /// RFC 7889 §5 `"APPENDLIMIT" SP (number / nil)`: nil for no limit.
    case appendLimit(UInt32?)
    case mailboxID(String)
    case deletedStorage(UInt64)
}

/// The ESEARCH response (RFC 4731 §3.1, RFC 9051 §7.3.4).
public struct ESearchResponse: Hashable, Sendable {
    /// The search correlator: the tag of the command answered.
    public var tag: Tag?
    public var byUID: Bool
    public var data: [ESearchData]

    public init(tag: Tag?, byUID: Bool, data: [ESearchData]) {
        self.tag = tag
        self.byUID = byUID
        self.data = data
    }
}

/// `search-return-data` (RFC 4731 §3.1, RFC 7162 §3.1.5 MODSEQ).
public enum ESearchData: Hashable, Sendable {
    case min(UInt32)
    case max(UInt32)
    /// In the order wanted (SORT results are ordered, RFC 5267 §3); never empty.
    case all(SequenceSet)
    case count(UInt32)
    case modSeq(UInt64)
}

/// One node of a THREAD response (RFC 5256 §4): a message and its replies. A node without a
/// message groups siblings whose parent is missing.
public struct ThreadNode: Hashable, Sendable {
    public var message: UInt32?
    public var children: [ThreadNode]

    public init(_ message: UInt32?, _ children: [ThreadNode] = []) {
        self.message = message
        self.children = children
    }
}

/// The NAMESPACE response (RFC 2342 §5, RFC 9051 §7.3.2): personal, other users', shared.
public struct NamespaceResponse: Hashable, Sendable {
    public var personal: [NamespaceDescription]
    public var otherUsers: [NamespaceDescription]
    public var shared: [NamespaceDescription]

    public init(personal: [NamespaceDescription], otherUsers: [NamespaceDescription] = [], shared: [NamespaceDescription] = []) {
        self.personal = personal
        self.otherUsers = otherUsers
        self.shared = shared
    }
}

/// `namespace-descr`: a prefix, its delimiter and extensions.
public struct NamespaceDescription: Hashable, Sendable {
    public var prefix: String
    public var delimiter: Character?
    public var extensions: [NamespaceExtension]

    public init(prefix: String, delimiter: Character?, extensions: [NamespaceExtension] = []) {
        self.prefix = prefix
        self.delimiter = delimiter
        self.extensions = extensions
    }
}

/// `namespace-response-extension = SP string SP "(" string *(SP string) ")"`.
public struct NamespaceExtension: Hashable, Sendable {
    public var name: String
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}

/// A QUOTA resource (RFC 9208 §4.2.1): usage and limit.
public struct QuotaResource: Hashable, Sendable {
    public var name: String
    public var usage: UInt64
    public var limit: UInt64

    public init(name: String, usage: UInt64, limit: UInt64) {
        self.name = name
        self.usage = usage
        self.limit = limit
    }
}

// MARK: - FETCH

/// `message-data = nz-number SP "FETCH" SP msg-att` (RFC 9051 §7.5.2).
public struct FetchResponse: Hashable, Sendable {
    public var sequenceNumber: UInt32
    public var attributes: [MessageAttribute]

    public init(_ sequenceNumber: UInt32, _ attributes: [MessageAttribute]) {
        self.sequenceNumber = sequenceNumber
        self.attributes = attributes
    }
}

/// A FETCH data item with its value (`msg-att-dynamic` / `msg-att-static`).
public enum MessageAttribute: Hashable, Sendable {
    case flags([Flag])
    case uid(UInt32)
    /// RFC 7162 §3.1.4.1: `MODSEQ (n)`.
    case modSeq(UInt64)
    case internalDate(IMAPDateTime)
    case rfc822Size(UInt64)
    case envelope(Envelope)
    /// Non-extensible BODY: extension data is left out even if present.
    case body(BodyStructure)
    case bodyStructure(BodyStructure)
    /// `BODY[section]<origin> nstring`.
    case bodySection(SectionSpec, origin: UInt64?, data: [UInt8]?)
    /// `BINARY[part]<origin> (nstring / literal8)`: literal8 when the data contains NUL.
    case binary(part: [UInt32], origin: UInt64?, data: [UInt8]?)
    case binarySize(part: [UInt32], size: UInt32)
    /// RFC 3501: RFC822, RFC822.HEADER, RFC822.TEXT.
    case rfc822([UInt8]?)
    case rfc822Header([UInt8]?)
    case rfc822Text([UInt8]?)
    /// RFC 8514 §4.2: nil when the mailbox keeps no save dates.
    case saveDate(IMAPDateTime?)
    /// RFC 8970 §3.2.
    case preview(String?)
    /// RFC 8474 (OBJECTID) `"EMAILID" SP "(" objectid ")"`.
    case emailID(String)
    /// RFC 8474 (OBJECTID): nil when threads are not supported (NIL).
    case threadID(String?)
}

/// The envelope structure (RFC 9051 §7.5.2 ENVELOPE). Header values are raw bytes, with
/// RFC 5322 quoting removed but RFC 2047 encoded-words left as they are.
public struct Envelope: Hashable, Sendable {
    public var date: ByteString?
    public var subject: ByteString?
    public var from: [Address]
    public var sender: [Address]
    public var replyTo: [Address]
    public var to: [Address]
    public var cc: [Address]
    public var bcc: [Address]
    public var inReplyTo: ByteString?
    public var messageID: ByteString?

    /// Empty address lists are sent as NIL.
    public init(date: ByteString? = nil, subject: ByteString? = nil, from: [Address] = [], sender: [Address] = [],
                replyTo: [Address] = [], to: [Address] = [], cc: [Address] = [], bcc: [Address] = [],
                inReplyTo: ByteString? = nil, messageID: ByteString? = nil) {
        self.date = date
        self.subject = subject
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.inReplyTo = inReplyTo
        self.messageID = messageID
    }
}

/// An address structure (RFC 9051 §7.5.2): display name, source route, local part, domain.
/// Group syntax: start of group has `host` nil and the group name in `mailbox`; end of group
/// has both nil.
public struct Address: Hashable, Sendable {
    public var name: ByteString?
    public var adl: ByteString?
    public var mailbox: ByteString?
    public var host: ByteString?

    public init(name: ByteString? = nil, adl: ByteString? = nil, mailbox: ByteString?, host: ByteString?) {
        self.name = name
        self.adl = adl
        self.mailbox = mailbox
        self.host = host
    }

    public static func groupStart(_ name: ByteString) -> Address { Address(mailbox: name, host: nil) }
    public static let groupEnd = Address(mailbox: nil, host: nil)
}

/// BODY / BODYSTRUCTURE (RFC 9051 §7.5.2 and §9 `body`).
public indirect enum BodyStructure: Hashable, Sendable {
    case singlePart(SinglePartBody)
    case multipart(MultipartBody)
}

/// `body-type-1part`: basic, text or message/rfc822 (message/global).
public struct SinglePartBody: Hashable, Sendable {
    /// Media type and subtype, e.g. "TEXT" and "PLAIN".
    public var type: ByteString
    public var subtype: ByteString
    public var fields: BodyFields
    public var kind: Kind
    /// `body-ext-1part`; nil to send none (and never sent for BODY).
    public var extensionData: SinglePartExtension?

    public enum Kind: Hashable, Sendable {
        case basic
        /// `body-type-text`: the size in lines.
        case text(lines: UInt64)
        /// `body-type-msg`: the encapsulated message's envelope, structure and size in lines.
        case message(Envelope, BodyStructure, lines: UInt64)
    }

    public init(type: ByteString, subtype: ByteString, fields: BodyFields, kind: Kind = .basic, extensionData: SinglePartExtension? = nil) {
        self.type = type
        self.subtype = subtype
        self.fields = fields
        self.kind = kind
        self.extensionData = extensionData
    }
}

/// `body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets`.
public struct BodyFields: Hashable, Sendable {
    public var parameters: [BodyParameter]
    public var id: ByteString?
    public var description: ByteString?
    public var encoding: ByteString
    public var octets: UInt32

    public init(parameters: [BodyParameter] = [], id: ByteString? = nil, description: ByteString? = nil,
                encoding: ByteString = "7BIT", octets: UInt32) {
        self.parameters = parameters
        self.id = id
        self.description = description
        self.encoding = encoding
        self.octets = octets
    }
}

/// One attribute/value pair of `body-fld-param`.
public struct BodyParameter: Hashable, Sendable {
    public var name: ByteString
    public var value: ByteString

    public init(_ name: ByteString, _ value: ByteString) {
        self.name = name
        self.value = value
    }
}

/// `body-fld-dsp = "(" string SP body-fld-param ")"`.
public struct BodyDisposition: Hashable, Sendable {
    public var type: ByteString
    public var parameters: [BodyParameter]

    public init(_ type: ByteString, parameters: [BodyParameter] = []) {
        self.type = type
        self.parameters = parameters
    }
}

/// `body-ext-1part = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]`.
/// All four are sent (NIL where absent).
public struct SinglePartExtension: Hashable, Sendable {
    public var md5: ByteString?
    public var disposition: BodyDisposition?
    /// `body-fld-lang`: NIL, one string, or a list.
    public var language: [ByteString]
    public var location: ByteString?

    public init(md5: ByteString? = nil, disposition: BodyDisposition? = nil, language: [ByteString] = [], location: ByteString? = nil) {
        self.md5 = md5
        self.disposition = disposition
        self.language = language
        self.location = location
    }
}

/// `body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]`.
public struct MultipartBody: Hashable, Sendable {
    public var parts: [BodyStructure]
    public var subtype: ByteString
    public var extensionData: MultipartExtension?

    public init(parts: [BodyStructure], subtype: ByteString, extensionData: MultipartExtension? = nil) {
        self.parts = parts
        self.subtype = subtype
        self.extensionData = extensionData
    }
}

/// `body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc ...]]]`.
/// All four are sent (NIL where absent).
public struct MultipartExtension: Hashable, Sendable {
    public var parameters: [BodyParameter]
    public var disposition: BodyDisposition?
    public var language: [ByteString]
    public var location: ByteString?

    public init(parameters: [BodyParameter] = [], disposition: BodyDisposition? = nil, language: [ByteString] = [], location: ByteString? = nil) {
        self.parameters = parameters
        self.disposition = disposition
        self.language = language
        self.location = location
    }
}
