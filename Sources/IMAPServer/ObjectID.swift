import Store

/// RFC 8474 (OBJECTID) identifiers, `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`.
///
/// MAILBOXID is the mailbox row's id: rows are AUTOINCREMENT, so an id is never handed out
/// again, and a rename keeps the row (§4.1: the id survives RENAME, a new mailbox of the
/// same name gets a new one). EMAILID is the message file's id: every copy and move of a
/// message in the account shares that file (§5.1: the id stays the same across COPY and
/// MOVE). THREADID is NIL: messages are not grouped into threads here (§5.2).
enum ObjectID {
    static func mailbox(_ id: MailboxID) -> String { "M\(id.rawValue)" }
    static func email(fileID: Int64) -> String { "E\(fileID)" }
}
