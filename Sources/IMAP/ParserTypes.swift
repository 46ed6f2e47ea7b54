/// Every limit the command parser enforces, in one place. A command that exceeds one is
/// answered with a precise error (`ParseError`) and skipped; the connection goes on.
public struct ParserLimits: Hashable, Sendable {
    /// Octets of one command outside its literals, all its lines together, CRLFs included.
    /// RFC 9051 §4 asks servers to accept lines of at least 8000 octets; RFC 7162 §4 asks
    /// clients to stay near 8192.
    public var maxLineLength: Int
    /// Octets of one literal in any command but APPEND's message data.
    public var maxLiteralSize: Int
    /// Octets of one command in all (lines and literals), APPEND message data excepted.
    public var maxCommandSize: Int
    /// Literals in one command, APPEND message data excepted.
    public var maxLiteralsPerCommand: Int
    /// Octets of one APPEND message (RFC 7889 APPENDLIMIT). Larger ones get `NO [TOOBIG]`.
    public var maxAppendSize: UInt64
    /// Depth of nested parentheses and of search keys (NOT, OR, lists).
    public var maxNestingDepth: Int
    /// Items in one parenthesised list, sequence set, or run of search keys.
    public var maxListItems: Int

    public init(maxLineLength: Int = 8192, maxLiteralSize: Int = 64 * 1024, maxCommandSize: Int = 1024 * 1024,
                maxLiteralsPerCommand: Int = 256, maxAppendSize: UInt64 = 50 * 1024 * 1024,
                maxNestingDepth: Int = 64, maxListItems: Int = 4096) {
        self.maxLineLength = maxLineLength
        self.maxLiteralSize = maxLiteralSize
        self.maxCommandSize = maxCommandSize
        self.maxLiteralsPerCommand = maxLiteralsPerCommand
        self.maxAppendSize = maxAppendSize
        self.maxNestingDepth = maxNestingDepth
        self.maxListItems = maxListItems
    }
}

/// Protocol settings the server changes during a session.
public struct ParserOptions: Hashable, Sendable {
    /// Mailbox names are UTF-8 (after ENABLE IMAP4rev2 or ENABLE UTF8=ACCEPT, RFC 9051 §5.1,
    /// RFC 6855 §3); otherwise they are modified UTF-7 (RFC 3501 §5.1.3) and decoded here.
    public var utf8Mailboxes: Bool
    /// LITERAL- is advertised instead of LITERAL+ (RFC 7888 §5): non-synchronizing literals
    /// over 4096 octets are refused.
    public var literalMinus: Bool

    public init(utf8Mailboxes: Bool = false, literalMinus: Bool = false) {
        self.utf8Mailboxes = utf8Mailboxes
        self.literalMinus = literalMinus
    }

    /// RFC 7888 §5.
    public static let literalMinusLimit: UInt64 = 4096
}

/// What the parser expects on the next line; the server sets it (one line at a time).
public enum ParserMode: Hashable, Sendable {
    /// Commands (the default).
    case command
    /// One AUTHENTICATE client response: a base64 line or `*` (RFC 9051 §6.2.2). Set after
    /// sending each `+ challenge`; the parser returns to `.command` after the line.
    case authenticationResponse
    /// IDLE is running: the next line must be DONE (RFC 9051 §6.3.13). The parser returns
    /// to `.command` after the line.
    case idle
}

/// What the parser found.
public enum ParserEvent: Hashable, Sendable {
    /// A complete command.
    case command(TaggedCommand)
    /// A synchronizing literal was announced and is acceptable: send `+ ...` now (RFC 9051
    /// §7.6). To refuse it instead, send the tagged response and call `discardCommand()`.
    case continuationRequest
    /// An APPEND began (RFC 9051 §6.3.12): its first message is acceptable (an APPEND refused
    /// at once gives only `.error`). Message events follow, then `.appendEnd` or an `.error`
    /// carrying this tag, after which nothing of the APPEND may be kept (RFC 3502: all
    /// messages or none).
    case appendStart(tag: Tag, mailbox: MailboxName)
    /// One message's options and announced size; for a synchronizing literal
    /// `.continuationRequest` follows.
    case appendMessageBegin(AppendMessage)
    /// The next piece of the message data.
    case appendBytes([UInt8])
    /// The message data is complete.
    case appendMessageEnd
    /// The APPEND command is complete: store the messages and answer.
    case appendEnd
    /// The line read in `.authenticationResponse` mode.
    case authenticationResponse(AuthenticationResponse)
    /// DONE, read in `.idle` mode.
    case idleDone
    /// A syntax error or exceeded limit; answer with `error.response`.
    case error(ParseError)
}

/// A client's answer to an AUTHENTICATE challenge (RFC 9051 §6.2.2).
public enum AuthenticationResponse: Hashable, Sendable {
    /// The decoded response (empty for an empty line).
    case data([UInt8])
    /// `*`: the client cancels; answer BAD.
    case cancel
}

/// A command the parser could not accept, and how to answer it.
public struct ParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The command's tag, if it was read.
    public var tag: Tag?
    public var kind: Kind
    /// A precise, human-readable reason (no client data beyond a short excerpt).
    public var message: String

    public enum Kind: Hashable, Sendable {
        /// The command does not follow the grammar.
        case syntax
        /// The command name is not known.
        case unknownCommand
        /// A line over `maxLineLength`.
        case lineTooLong
        /// A literal over `maxLiteralSize`, or a command over `maxCommandSize` or
        /// `maxLiteralsPerCommand`.
        case literalTooLarge
        /// An APPEND message over `maxAppendSize`: `NO [TOOBIG]` (RFC 7889 §4, RFC 4469).
        case appendTooLarge
        /// A non-synchronizing literal over 4096 octets under LITERAL- (RFC 7888 §5): BAD, with
        /// TOOBIG for APPEND.
        case literalMinusViolation(append: Bool)
        /// Nesting over `maxNestingDepth`.
        case tooDeeplyNested
        /// A list or set over `maxListItems`.
        case tooManyItems
        /// An AUTHENTICATE response that is not base64.
        case invalidBase64
        /// A line other than DONE during IDLE.
        case expectedDone
    }

    public init(tag: Tag?, kind: Kind, message: String) {
        self.tag = tag
        self.kind = kind
        self.message = message
    }

    /// The response to send: tagged when the tag is known, else untagged BAD.
    public var response: Response {
        var status = StatusResponse(.bad, code: nil, text: message)
        switch kind {
        case .appendTooLarge:
            status = StatusResponse(.no, code: .tooBig, text: message)
        case .literalMinusViolation(append: true):
            status.code = .tooBig
        default:
            break
        }
        if let tag { return .tagged(tag, status) }
        return .untagged(.condition(status))
    }

    public var description: String { "\(tag?.rawValue ?? "*") \(message)" }
}
