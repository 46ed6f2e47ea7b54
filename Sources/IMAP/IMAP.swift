/// The IMAP grammar: IMAP4rev2 (RFC 9051) with IMAP4rev1 (RFC 3501) compatibility and the
/// extensions Tern speaks. A pure library: no sockets, no store, no session logic.
///
/// ## The flow
///
/// ```
///   client bytes ──► CommandParser.append(_:) ──► CommandParser.next() ──► ParserEvent ──► server
///   server ──► Response (values) ──► ResponseEncoder.encode(_:) ──► [UInt8] ──► client
/// ```
///
/// **Input.** The server feeds whatever bytes arrive to a `CommandParser` and pulls
/// `ParserEvent`s until `next()` returns nil (it needs more bytes). Events are:
/// - `.command(TaggedCommand)`: a complete command, every argument parsed into values
///   (`Command`, `SearchKey`, `FetchAttribute`, `SequenceSet`, `MailboxName`, ...).
/// - `.continuationRequest`: the client announced a synchronizing literal `{n}` that is
///   acceptable; the server answers `+ ...` (`Response.continuation`) and the client then
///   sends the literal (RFC 9051 §7.6). Non-synchronizing literals `{n+}` (RFC 7888) need
///   none. A server that refuses the literal (say APPEND to a missing mailbox) sends its
///   tagged NO instead and calls `discardCommand()`.
/// - APPEND is streamed, never buffered whole (messages may be tens of MB):
///   `.appendStart`, then per message `.appendMessageBegin`, `.appendBytes`...,
///   `.appendMessageEnd` (several with MULTIAPPEND, RFC 3502), and `.appendEnd` at the
///   command's CRLF.
/// - `.authenticationResponse` and `.idleDone`: lines that are not commands. The server sets
///   `CommandParser.mode` to `.authenticationResponse` after sending an AUTHENTICATE
///   challenge (RFC 9051 §6.2.2) and to `.idle` after the IDLE continuation (RFC 2177);
///   both modes last for one line.
/// - `.error(ParseError)`: a syntax error or an exceeded limit (`ParserLimits`). It carries
///   the tag if one was read and the `Response` to send (`TAG BAD ...`, `* BAD ...` or
///   `TAG NO [TOOBIG] ...`). The parser has already arranged to skip the rest of that command,
///   including non-synchronizing literal bytes, and goes on with the next line.
///
/// **Output.** The server builds `Response` values (`.tagged`, `.untagged`,
/// `.continuation`) and encodes them with a `ResponseEncoder`, whose `EncodingOptions` say
/// whether UTF-8 may be sent (IMAP4rev2 or ENABLE UTF8=ACCEPT, RFC 6855) or mailbox names go
/// in modified UTF-7 (RFC 3501 §5.1.3). The encoder picks atom, quoted string or literal by
/// content, so the output is always valid syntax. Large FETCH bodies are streamed by the
/// server itself: `FetchResponseBuilder` hands out the bytes up to and including the literal
/// announcement `{n}\r\n`, the server writes the body, then the builder continues.
///
/// ## RFCs
///
/// RFC 9051 IMAP4rev2 (§9 Formal Syntax) and RFC 3501 IMAP4rev1, RFC 4466 (ABNF extensions:
/// command modifiers, literal8), RFC 7888 LITERAL+/LITERAL-, RFC 2177 IDLE, RFC 2971 ID,
/// RFC 4315 UIDPLUS, RFC 6851 MOVE, RFC 3691 UNSELECT, RFC 5258 LIST-EXTENDED, RFC 5819
/// LIST-STATUS, RFC 6154 SPECIAL-USE, RFC 4731 ESEARCH, RFC 5182 SEARCHRES, RFC 7162
/// CONDSTORE/QRESYNC, RFC 3516 BINARY, RFC 7889 APPENDLIMIT, RFC 8438 STATUS=SIZE, RFC 8514
/// SAVEDATE, RFC 8970 PREVIEW, RFC 5161 ENABLE, RFC 6855 UTF8=ACCEPT, RFC 5032 WITHIN,
/// RFC 9208 QUOTA, RFC 5256 SORT/THREAD, RFC 5267 ESORT, RFC 4978 COMPRESS, RFC 4959 SASL-IR,
/// RFC 3502 MULTIAPPEND, RFC 2342 NAMESPACE, RFC 8474 OBJECTID.
///
/// ## Files
///
/// - Values: Basics.swift (tags, flags, capabilities, mailbox attributes, `ByteString`,
///   dates), MailboxName.swift (with `ModifiedUTF7`), SequenceSet.swift (`SequenceSet`,
///   `NumberSet`), SearchKey.swift (SEARCH, SORT, THREAD), Fetch.swift (FETCH, STORE),
///   Command.swift (`Command` and its argument types), Response.swift.
/// - Parser: ParserTypes.swift (`ParserLimits`, `ParserOptions`, `ParserEvent`, `ParseError`),
///   CommandParser.swift (framing, literals, APPEND streaming, limits, error recovery), and
///   the recursive-descent grammar over one buffered command: Grammar.swift (tokens),
///   GrammarCommands.swift, GrammarSelectedState.swift.
/// - Encoder: ByteWriter.swift (`EncodingOptions`, atom/quoted/literal choice),
///   ResponseEncoder.swift, FetchEncoder.swift (FETCH items, ENVELOPE, BODYSTRUCTURE,
///   `FetchResponseBuilder`).
public enum IMAPGrammar {
    /// The largest mod-sequence value (RFC 7162 §7: a positive unsigned 63-bit integer) and
    /// the largest number64 (RFC 9051 §9).
    public static let maxNumber64: UInt64 = UInt64(Int64.max)
}
