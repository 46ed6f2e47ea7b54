import Foundation
import Message

/// A mailbox's stable identity inside one account. Names change (RENAME); the id does not,
/// so a selected IMAP session keeps addressing the same mailbox after another session
/// renames it.
public struct MailboxID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: Int64
    public init(_ rawValue: Int64) { self.rawValue = rawValue }
    public static func < (lhs: MailboxID, rhs: MailboxID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}

/// The IMAP system flags (RFC 9051 §2.3.2). `\Recent` is gone in IMAP4rev2 and is not stored.
public struct MessageFlags: OptionSet, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let seen = MessageFlags(rawValue: 1)
    public static let answered = MessageFlags(rawValue: 2)
    public static let flagged = MessageFlags(rawValue: 4)
    /// Bit value 8 appears verbatim in SQL (`flags & 8`) so a partial index can serve EXPUNGE.
    public static let deleted = MessageFlags(rawValue: 8)
    public static let draft = MessageFlags(rawValue: 16)

    static let all: [(MessageFlags, String)] = [
        (.seen, "\\Seen"), (.answered, "\\Answered"), (.flagged, "\\Flagged"),
        (.deleted, "\\Deleted"), (.draft, "\\Draft"),
    ]

    /// Only known bits: a database value with stray bits is read without them.
    static let mask = 31

    /// IMAP names of the set flags, in a fixed order.
    public var names: [String] { Self.all.filter { contains($0.0) }.map(\.1) }

    /// The system flag named `name` (case-insensitive, RFC 9051 §2.3.2), nil for anything else.
    public init?(imapName name: String) {
        guard let found = Self.all.first(where: { $0.1.caseInsensitiveCompare(name) == .orderedSame }) else { return nil }
        self = found.0
    }

    public var description: String { "(" + names.joined(separator: " ") + ")" }
}

/// A set of UIDs given as ranges, the way IMAP sequence sets arrive (`1:4,7,9:*`). The
/// store queries each range through the (mailbox, uid) index, so `1:*` on a large mailbox
/// costs one index walk, not one lookup per possible UID.
public struct UIDSet: Hashable, Sendable {
    public var ranges: [ClosedRange<UInt32>]

    public init(ranges: [ClosedRange<UInt32>]) { self.ranges = ranges }
    /// Consecutive UIDs become one range.
    public init(_ uids: some Sequence<UInt32>) {
        ranges = []
        for uid in uids {
            if let last = ranges.last, last.upperBound < uid, last.upperBound + 1 == uid {
                ranges[ranges.count - 1] = last.lowerBound...uid
            } else {
                ranges.append(uid...uid)
            }
        }
    }

    /// Every UID.
    public static let all = UIDSet(ranges: [1...UInt32.max])

    public func contains(_ uid: UInt32) -> Bool { ranges.contains { $0.contains(uid) } }
}

/// The role of a mailbox. The first five are RFC 6154 special-use attributes; `rejects`
/// is where mail the server refused to accept into the Inbox is kept for a while (mox's
/// "Rejects"); it has no IMAP attribute, so clients see a plain mailbox.
/// INBOX is not a role: RFC 6154 §2 leaves it out because INBOX is already special by name.
public enum MailboxRole: String, Hashable, Sendable, CaseIterable, Codable {
    case sent, drafts, trash, junk, archive, rejects

    /// The RFC 6154 §2 attribute for LIST, nil for `rejects`.
    public var specialUseAttribute: String? {
        switch self {
        case .sent: return "\\Sent"
        case .drafts: return "\\Drafts"
        case .trash: return "\\Trash"
        case .junk: return "\\Junk"
        case .archive: return "\\Archive"
        case .rejects: return nil
        }
    }

    /// The role for an RFC 6154 attribute (case-insensitive), for CREATE (USE (...)).
    public init?(specialUseAttribute attribute: String) {
        guard let role = Self.allCases.first(where: {
            $0.specialUseAttribute.map { $0.caseInsensitiveCompare(attribute) == .orderedSame } ?? false
        }) else { return nil }
        self = role
    }

    /// The name a new account's mailbox with this role gets.
    public var defaultName: String {
        switch self {
        case .sent: return "Sent"
        case .drafts: return "Drafts"
        case .trash: return "Trash"
        case .junk: return "Junk"
        case .archive: return "Archive"
        case .rejects: return "Rejects"
        }
    }
}

/// A mailbox with the numbers IMAP STATUS and SELECT report (RFC 9051 §6.3.11, RFC 7162
/// HIGHESTMODSEQ, RFC 8438 SIZE). Counters are kept in the mailbox row, so this is O(1).
public struct MailboxInfo: Hashable, Sendable {
    public var id: MailboxID
    /// Full hierarchical name with "/" separators, NFC; INBOX is always spelled "INBOX".
    public var name: String
    public var role: MailboxRole?
    /// RFC 9051 §2.3.1.1.
    public var uidValidity: UInt32
    /// The UID the next message will get; every existing UID is below it.
    public var uidNext: UInt32
    /// RFC 7162 §3.1.1: the highest mod-sequence of any change in this mailbox.
    public var highestModSeq: Int64
    public var messages: Int
    /// Messages without \Seen.
    public var unseen: Int
    /// Messages with \Deleted (RFC 9051 STATUS DELETED).
    public var deleted: Int
    /// Sum of message sizes in octets (RFC 8438 STATUS SIZE).
    public var size: Int64
    /// Keywords used in this mailbox so far, for the FLAGS response.
    public var keywords: [String]
    /// In the subscription list (RFC 9051 §6.3.7).
    public var subscribed: Bool
    /// The highest UID an IMAP session has taken as \Recent (`Account.claimRecent`); the
    /// messages above it are recent for the next session to take them.
    public var recentUID: UInt32
}

/// What CONDSTORE/QRESYNC and IDLE need to know of a message's mutable state.
public struct MessageState: Hashable, Sendable {
    public var uid: UInt32
    public var modSeq: Int64
    public var flags: MessageFlags
    public var keywords: [String]

    public init(uid: UInt32, modSeq: Int64, flags: MessageFlags, keywords: [String]) {
        self.uid = uid
        self.modSeq = modSeq
        self.flags = flags
        self.keywords = keywords
    }
}

/// One message of a mailbox as SELECT/FETCH list it: cheap columns only, no structure.
public struct MessageSummary: Hashable, Sendable {
    public var uid: UInt32
    public var modSeq: Int64
    public var flags: MessageFlags
    public var keywords: [String]
    public var size: Int64
    /// INTERNALDATE (RFC 9051 §2.3.3): when the message was received, or APPEND's date.
    public var internalDate: Date
    /// The zone APPEND gave the date in, minutes east of UTC (0 for mail received here),
    /// so it is shown and searched by day (SEARCH BEFORE/ON/SINCE) as the client wrote it.
    public var internalDateZone: Int
    /// SAVEDATE (RFC 8514): when the message was put into this mailbox.
    public var saveDate: Date
    /// The message file; shared by every copy of the message in this account.
    public var fileID: Int64

    public var state: MessageState { MessageState(uid: uid, modSeq: modSeq, flags: flags, keywords: keywords) }
}

/// A message with everything FETCH needs beyond the summary: the MIME structure parsed when
/// it was stored (so BODYSTRUCTURE/ENVELOPE never parse again) and the file's path.
public struct StoredMessage: Sendable {
    public var mailbox: MailboxID
    public var summary: MessageSummary
    public var parsed: ParsedMessage
    /// The message came in with REQUIRETLS (RFC 8689); forwarding must honour it.
    public var requireTLS: Bool
    /// Opaque data the SMTP server recorded at delivery (authentication results, ...).
    public var deliveryMetadata: [UInt8]?
    public var path: String
    /// The message's octets when its file was not written yet as it was read (see
    /// `Account.openMessage(fileID:)`).
    var unwrittenOctets: [UInt8]?

    /// Opens the message for reading, like `Account.openMessage(fileID:)`.
    public func open() throws(ByteSourceError) -> any ByteSource {
        try Account.openMessage(at: path, unwritten: unwrittenOctets)
    }
}

/// A message with its own header section, as FETCH ENVELOPE and header SEARCH read it.
public struct StoredHeader: Sendable {
    public var summary: MessageSummary
    public var header: HeaderSection
}

/// Where an appended message's octets come from.
public enum MessageSource: Sendable {
    case bytes([UInt8])
    /// A complete file, normally under `<data>/tmp/`. It is hard-linked into the account
    /// when on the same filesystem (else copied), so the caller must afterwards only unlink
    /// it, never modify it in place.
    case file(String)
}

public struct AppendResult: Hashable, Sendable {
    public var mailbox: MailboxID
    /// For APPENDUID (RFC 4315 §3, part of IMAP4rev2).
    public var uidValidity: UInt32
    public var uid: UInt32
    public var modSeq: Int64
}

/// How STORE changes flags (RFC 9051 §6.4.6: FLAGS, +FLAGS, -FLAGS).
public enum FlagOperation: Hashable, Sendable {
    case replace, add, remove
}

public struct FlagUpdate: Hashable, Sendable {
    public var state: MessageState
    /// False when the message already had the requested flags (no new MODSEQ,
    /// RFC 7162 §3.1: "Setting a flag that is already set ... SHOULD NOT change the mod-sequence").
    public var changed: Bool

    public init(state: MessageState, changed: Bool) {
        self.state = state
        self.changed = changed
    }
}

public struct StoreFlagsResult: Hashable, Sendable {
    /// Every addressed message that exists and passed UNCHANGEDSINCE, in UID order.
    public var updates: [FlagUpdate]
    /// UIDs that failed UNCHANGEDSINCE (RFC 7162 §3.1.3: the MODIFIED response code).
    public var modified: [UInt32]
    public var highestModSeq: Int64
}

/// A source UID and the UID its copy got in the destination.
public struct UIDMapping: Hashable, Sendable {
    public var source: UInt32
    public var destination: UInt32

    public init(source: UInt32, destination: UInt32) {
        self.source = source
        self.destination = destination
    }
}

public struct CopyResult: Hashable, Sendable {
    /// The destination's UIDVALIDITY, for COPYUID (RFC 4315 §3).
    public var uidValidity: UInt32
    /// In source UID order.
    public var mapping: [UIDMapping]
    public var modSeq: Int64
}

public struct ExpungeResult: Hashable, Sendable {
    /// Expunged UIDs, ascending.
    public var uids: [UInt32]
    /// The mod-sequence recorded with them for QRESYNC VANISHED (RFC 7162 §3.2.10).
    public var modSeq: Int64
}

/// Storage in use, for QUOTA (RFC 9208 §5.1 STORAGE and §5.2 MESSAGE): every message in
/// every mailbox counts, copies included, as a user would add it up.
public struct QuotaUsage: Hashable, Sendable {
    public var messages: Int
    public var storage: Int64
}

/// One recipient of an incoming message: which account and mailbox it goes to.
public struct DeliveryRecipient: Hashable, Sendable {
    public var account: String
    /// Created (with its superiors) when missing: a delivery rule may name a mailbox the
    /// user deleted, and refusing the mail would be worse.
    public var mailbox: String
    public var flags: MessageFlags
    /// E.g. `$Junk` from the junk filter.
    public var keywords: [String]

    public init(account: String, mailbox: String = "INBOX", flags: MessageFlags = [], keywords: [String] = []) {
        self.account = account
        self.mailbox = mailbox
        self.flags = flags
        self.keywords = keywords
    }
}

/// A received message, complete in a file under `<data>/tmp/`.
public struct IncomingMessage: Sendable {
    public var file: String
    /// INTERNALDATE; the store's clock when nil.
    public var receivedAt: Date?
    /// RFC 8689 REQUIRETLS was requested for this message.
    public var requireTLS: Bool
    /// Opaque bytes kept with the message for the SMTP server's own use.
    public var metadata: [UInt8]?

    public init(file: String, receivedAt: Date? = nil, requireTLS: Bool = false, metadata: [UInt8]? = nil) {
        self.file = file
        self.receivedAt = receivedAt
        self.requireTLS = requireTLS
        self.metadata = metadata
    }
}

/// Where one recipient's copy ended up.
public struct DeliveredMessage: Hashable, Sendable {
    public var account: String
    public var mailbox: MailboxID
    public var mailboxName: String
    public var uidValidity: UInt32
    public var uid: UInt32
    public var modSeq: Int64
}
