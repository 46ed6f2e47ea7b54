import Base64

/// The incremental command parser: feed it bytes as they arrive with `append(_:)`, then call
/// `next()` until it returns nil (it needs more bytes).
///
/// It frames commands: a command is one or more lines (each ending in CRLF) joined by
/// literals, whose announcement `{n}` / `{n+}` / `~{n}` ends a line (RFC 9051 §4.3, RFC 7888
/// §3). Every command but APPEND is buffered whole and then parsed by the grammar; APPEND's
/// message data is handed on in pieces as it arrives. At a synchronizing literal the part
/// received so far is checked first, so a command that is already wrong (`A044 BLURDYBLOOP
/// {102856}`, RFC 9051 §7.6) is refused before the client is invited to send the literal.
///
/// After an error the parser skips the rest of that command: the rest of its line, and the
/// octets of any non-synchronizing literal it announces (a synchronizing literal is never
/// sent, as no continuation was given). Then it reads the next line as a new command.
public struct CommandParser: Sendable {
    public var limits: ParserLimits
    public var options: ParserOptions
    /// What the next line is: set by the server for AUTHENTICATE responses and IDLE's DONE.
    /// It applies from the next line that starts after it is set, for one line.
    public var mode: ParserMode = .command

    private var input: [UInt8] = []
    private var start = 0
    private var state: State = .idle
    private var queue: [ParserEvent] = []

    private struct CommandState: Sendable {
        /// The command so far: its lines (with CRLF) and literal contents.
        var frame: [UInt8] = []
        /// Octets of the command outside literals.
        var lineBytes = 0
        var literalCount = 0
        /// Whether this is an APPEND (decided at its first literal).
        var isAppend: Bool?
        /// How far the current line has been searched for its LF (relative to `start`).
        var scanned = 0
    }

    private struct AppendState: Sendable {
        var tag: Tag
        var utf8Wrapped: Bool
        /// The line after a message's octets: `)`, CRLF or the next message's options.
        var line: [UInt8] = []
        var scanned = 0
    }

    private enum State: Sendable {
        case idle
        case command(CommandState)
        case literal(CommandState, remaining: Int, synchronizing: Bool, received: Bool)
        case appendData(AppendState, remaining: UInt64, synchronizing: Bool, received: Bool)
        case appendLine(AppendState)
        /// Skipping to the end of the current line; `literalAware` says whether a literal
        /// announced at its end is skipped too. `tail` keeps the line's last octets.
        case discardLine(tail: [UInt8], literalAware: Bool)
        case discardLiteral(remaining: UInt64)
        /// A line in `.authenticationResponse` or `.idle` mode.
        case modeLine(ParserMode, scanned: Int)
    }

    public init(limits: ParserLimits = ParserLimits(), options: ParserOptions = ParserOptions()) {
        self.limits = limits
        self.options = options
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0, start >= input.count / 2 || start > 65536 {
            input.removeSubrange(0..<start)
            start = 0
        }
        input.append(contentsOf: bytes)
    }

    /// The octets received but not yet consumed.
    public var bufferedByteCount: Int { input.count - start }

    /// Whether the parser is between commands (nothing half-read).
    public var isBetweenCommands: Bool {
        if case .idle = state { return queue.isEmpty }
        return false
    }

    /// Removes and returns the octets received but not yet parsed, and resets the parser to
    /// expect a new command. For the point where the byte stream changes: after the OK to
    /// STARTTLS, drop them (plaintext sent before the TLS handshake must not be read as
    /// commands, RFC 9051 §6.2.1); after the OK to COMPRESS, feed them to the
    /// decompressor (RFC 4978 §3). Call it right after taking that command's event, before
    /// `next()` again.
    public mutating func takeUnprocessedBytes() -> [UInt8] {
        let rest = Array(input[start...])
        input.removeAll(keepingCapacity: true)
        start = 0
        state = .idle
        queue.removeAll()
        mode = .command
        return rest
    }

    /// Abandons the command in progress because the server refused it without sending (more)
    /// continuation requests: for example, it answered `NO [TRYCREATE]` to an APPEND instead
    /// of the `+`. Pending events of the command are dropped; a synchronizing literal whose
    /// octets have not started is not expected any more (the client was not invited to send
    /// it); the octets of a non-synchronizing literal and the rest of the command are skipped.
    ///
    /// Once the client was invited to send a literal (the server sent `+`), do not call this:
    /// read the command to its end and answer then.
    public mutating func discardCommand() {
        queue.removeAll()
        switch state {
        case .idle, .discardLine, .discardLiteral:
            break
        case .modeLine:
            state = .discardLine(tail: [], literalAware: false)
        case .command:
            state = .discardLine(tail: [], literalAware: true)
        case let .literal(_, remaining, synchronizing, received):
            state = synchronizing && !received ? .idle : .discardLiteral(remaining: UInt64(remaining))
        case let .appendData(_, remaining, synchronizing, received):
            state = synchronizing && !received ? .idle : .discardLiteral(remaining: remaining)
        case .appendLine:
            state = .discardLine(tail: [], literalAware: true)
        }
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() -> ParserEvent? {
        while true {
            if !queue.isEmpty { return queue.removeFirst() }
            guard step() else { return queue.isEmpty ? nil : queue.removeFirst() }
        }
    }

    // MARK: - The state machine

    /// Advances by one step; false when no progress is possible without more input.
    private mutating func step() -> Bool {
        switch state {
        case .idle:
            guard start < input.count else { return false }
            switch mode {
            case .command: state = .command(CommandState())
            case .authenticationResponse, .idle: state = .modeLine(mode, scanned: 0)
            }
            mode = .command
            return true

        case var .command(command):
            // The state gives up its copy first, so the frame is appended to in place.
            state = .idle
            guard let lineEnd = findLineEnd(scanned: &command.scanned) else {
                if command.lineBytes + command.scanned > limits.maxLineLength {
                    let tag = tagPrefix(command.frame.isEmpty ? Array(input[start..<input.count]) : command.frame)
                    fail(tag, .lineTooLong, "command line too long (more than \(limits.maxLineLength) octets)")
                    state = .discardLine(tail: tail([], input[start..<input.count]), literalAware: true)
                    start = input.count
                } else {
                    state = .command(command)
                }
                return false
            }
            let line = input[start..<lineEnd]
            start = lineEnd
            command.lineBytes += line.count
            command.scanned = 0
            if command.lineBytes > limits.maxLineLength {
                command.frame.append(contentsOf: line)
                fail(tagPrefix(command.frame), .lineTooLong, "command line too long (more than \(limits.maxLineLength) octets)")
                skipAnnouncedLiteral(of: line)
                return true
            }
            command.frame.append(contentsOf: line)
            lineComplete(command, line: line)
            return true

        case .literal(var command, let remaining, let synchronizing, _):
            if remaining == 0 {
                state = .command(command)
                return true
            }
            guard start < input.count else { return false }
            state = .idle
            let count = min(remaining, input.count - start)
            command.frame.append(contentsOf: input[start..<(start + count)])
            start += count
            state = .literal(command, remaining: remaining - count, synchronizing: synchronizing, received: true)
            return true

        case let .appendData(append, remaining, synchronizing, _):
            if remaining == 0 {
                queue.append(.appendMessageEnd)
                state = .appendLine(append)
                return true
            }
            guard start < input.count else { return false }
            let count = Int(min(remaining, UInt64(input.count - start)))
            queue.append(.appendBytes(Array(input[start..<(start + count)])))
            start += count
            state = .appendData(append, remaining: remaining - UInt64(count), synchronizing: synchronizing, received: true)
            return true

        case var .appendLine(append):
            state = .idle
            guard let lineEnd = findLineEnd(scanned: &append.scanned) else {
                if append.line.count + append.scanned > limits.maxLineLength {
                    fail(append.tag, .lineTooLong, "command line too long (more than \(limits.maxLineLength) octets)")
                    state = .discardLine(tail: tail([], input[start..<input.count]), literalAware: true)
                    start = input.count
                } else {
                    state = .appendLine(append)
                }
                return false
            }
            let line = input[start..<lineEnd]
            start = lineEnd
            append.line.append(contentsOf: line)
            append.scanned = 0
            // The same limit when the whole line arrived at once (counted with its CRLF, as
            // for the command's first line).
            if append.line.count > limits.maxLineLength {
                fail(append.tag, .lineTooLong, "command line too long (more than \(limits.maxLineLength) octets)")
                skipAnnouncedLiteral(of: line)
                return true
            }
            appendLineComplete(append, line: line)
            return true

        case let .discardLine(previousTail, literalAware):
            var scanned = 0
            guard let lineEnd = findLineEnd(scanned: &scanned) else {
                state = .discardLine(tail: tail(previousTail, input[start..<input.count]), literalAware: literalAware)
                start = input.count
                return false
            }
            let line = tail(previousTail, input[start..<lineEnd])
            start = lineEnd
            state = .idle
            if literalAware { skipAnnouncedLiteral(of: line[...]) }
            return true

        case let .discardLiteral(remaining):
            guard start < input.count else { return false }
            let count = Int(min(remaining, UInt64(input.count - start)))
            start += count
            state = count == remaining ? .discardLine(tail: [], literalAware: true)
                : .discardLiteral(remaining: remaining - UInt64(count))
            return true

        case let .modeLine(lineMode, scanned):
            var scanned = scanned
            let limit = max(limits.maxLineLength, limits.maxLiteralSize)
            guard let lineEnd = findLineEnd(scanned: &scanned) else {
                if scanned > limit {
                    fail(nil, .lineTooLong, "line too long (more than \(limit) octets)")
                    state = .discardLine(tail: [], literalAware: false)
                    start = input.count
                } else {
                    state = .modeLine(lineMode, scanned: scanned)
                }
                return false
            }
            let line = input[start..<lineEnd]
            start = lineEnd
            state = .idle
            // The same limit when the whole line arrived at once: octets before the LF, as
            // counted above while the line is incomplete.
            if line.count - 1 > limit {
                fail(nil, .lineTooLong, "line too long (more than \(limit) octets)")
                return true
            }
            modeLineComplete(lineMode, line: line)
            return true
        }
    }

    /// Finds the LF ending the current line, starting at `scanned`; returns the index after it.
    private func findLineEnd(scanned: inout Int) -> Int? {
        var i = start + scanned
        while i < input.count {
            if input[i] == 0x0A { return i + 1 }
            i += 1
        }
        scanned = input.count - start
        return nil
    }

    /// The last `announcementWindow` octets of `previous` followed by `more`, without copying
    /// all of `more`.
    private func tail(_ previous: [UInt8], _ more: ArraySlice<UInt8>) -> [UInt8] {
        guard more.count < Self.announcementWindow else { return Array(more.suffix(Self.announcementWindow)) }
        return Array((previous + more).suffix(Self.announcementWindow))
    }

    /// How much of a line's end is looked at for a literal announcement to skip after an
    /// error: enough for `~{9223372036854775807+}` CRLF. Whether the line was read whole or
    /// only its tail was kept, the same octets decide (`{` with 40 leading zeros is not taken
    /// for an announcement either way).
    private static let announcementWindow = 32

    private mutating func fail(_ tag: Tag?, _ kind: ParseError.Kind, _ message: String) {
        queue.append(.error(ParseError(tag: tag, kind: kind, message: message)))
    }

    /// After an error at the end of `line`: skip the literal it announces if it is
    /// non-synchronizing (and the rest of the command after it); a synchronizing one is never
    /// sent.
    private mutating func skipAnnouncedLiteral(of line: ArraySlice<UInt8>) {
        if let literal = LiteralAnnouncement(lineEnd: line.suffix(Self.announcementWindow)), !literal.synchronizing {
            state = .discardLiteral(remaining: literal.size)
        } else {
            state = .idle
        }
    }

    // MARK: - Complete lines

    private mutating func lineComplete(_ command: CommandState, line: ArraySlice<UInt8>) {
        var command = command
        guard let literal = LiteralAnnouncement(lineEnd: line) else {
            // The command is complete.
            var grammar = GrammarParser(buffer: command.frame, limits: limits, options: options)
            state = .idle
            do {
                switch try grammar.commandFrame() {
                case let .command(tagged):
                    queue.append(.command(tagged))
                case .appendMessage:
                    fail(grammar.tag, .syntax, "incomplete APPEND")
                }
            } catch {
                report(error, tag: grammar.tag ?? tagPrefix(command.frame))
            }
            return
        }

        if command.isAppend == nil {
            var probe = GrammarParser(buffer: command.frame, limits: limits, options: options)
            command.isAppend = (try? probe.tagAndName()) == "APPEND"
        }
        let isAppend = command.isAppend ?? false

        // RFC 7888 §5: under LITERAL-, non-synchronizing literals may not exceed 4096 octets.
        if options.literalMinus, !literal.synchronizing, literal.size > ParserOptions.literalMinusLimit {
            fail(tagPrefix(command.frame), .literalMinusViolation(append: isAppend),
                 "non-synchronizing literal larger than \(ParserOptions.literalMinusLimit) octets (LITERAL-)")
            state = .discardLiteral(remaining: literal.size)
            return
        }

        if literal.synchronizing || isAppend {
            var grammar = GrammarParser(buffer: command.frame, limits: limits, options: options)
            do {
                switch try grammar.commandFrame() {
                case .command:
                    fail(grammar.tag, .syntax, "unexpected literal after the command")
                    refuseLiteral(literal)
                    return
                case let .appendMessage(tag, mailbox, message):
                    beginAppendMessage(AppendState(tag: tag, utf8Wrapped: message.isUTF8), message, startingAppendTo: mailbox)
                    return
                }
            } catch GrammarError.incomplete {
                // Fine so far: the literal is an argument.
            } catch {
                report(error, tag: grammar.tag ?? tagPrefix(command.frame))
                refuseLiteral(literal)
                return
            }
        }

        let tag = tagPrefix(command.frame)
        if literal.size > UInt64(clamping: limits.maxLiteralSize) {
            fail(tag, .literalTooLarge, "literal too large (more than \(limits.maxLiteralSize) octets)")
            refuseLiteral(literal)
            return
        }
        if UInt64(command.frame.count) + literal.size > UInt64(clamping: limits.maxCommandSize) {
            fail(tag, .literalTooLarge, "command too large (more than \(limits.maxCommandSize) octets)")
            refuseLiteral(literal)
            return
        }
        command.literalCount += 1
        if command.literalCount > limits.maxLiteralsPerCommand {
            fail(tag, .literalTooLarge, "too many literals (more than \(limits.maxLiteralsPerCommand))")
            refuseLiteral(literal)
            return
        }
        if literal.synchronizing { queue.append(.continuationRequest) }
        state = .literal(command, remaining: Int(literal.size), synchronizing: literal.synchronizing, received: false)
    }

    /// The literal announced by a refused command: skipped if non-synchronizing.
    private mutating func refuseLiteral(_ literal: LiteralAnnouncement) {
        state = literal.synchronizing ? .idle : .discardLiteral(remaining: literal.size)
    }

    private mutating func report(_ error: any Error, tag: Tag?) {
        switch error as? GrammarError {
        case let .invalid(kind, message)?:
            fail(tag, kind, message)
        case .incomplete?, nil:
            fail(tag, .syntax, "incomplete command")
        }
    }

    /// Checks one message's size and starts streaming it; `mailbox` is given for the first
    /// message, whose `.appendStart` is only sent when the message is acceptable.
    private mutating func beginAppendMessage(_ append: AppendState, _ message: AppendMessage, startingAppendTo mailbox: MailboxName? = nil) {
        if options.literalMinus, !message.isSynchronizing, message.size > ParserOptions.literalMinusLimit {
            fail(append.tag, .literalMinusViolation(append: true),
                 "non-synchronizing literal larger than \(ParserOptions.literalMinusLimit) octets (LITERAL-)")
            state = .discardLiteral(remaining: message.size)
            return
        }
        if message.size > limits.maxAppendSize {
            // RFC 7889 §4 / RFC 4469: NO [TOOBIG]; before the continuation, so a client using a
            // synchronizing literal never sends the message.
            fail(append.tag, .appendTooLarge, "message too large (more than \(limits.maxAppendSize) octets)")
            state = message.isSynchronizing ? .idle : .discardLiteral(remaining: message.size)
            return
        }
        if let mailbox { queue.append(.appendStart(tag: append.tag, mailbox: mailbox)) }
        queue.append(.appendMessageBegin(message))
        if message.isSynchronizing { queue.append(.continuationRequest) }
        var append = append
        append.utf8Wrapped = message.isUTF8
        append.line = []
        state = .appendData(append, remaining: message.size, synchronizing: message.isSynchronizing, received: false)
    }

    private mutating func appendLineComplete(_ append: AppendState, line: ArraySlice<UInt8>) {
        var grammar = GrammarParser(buffer: append.line, limits: limits, options: options)
        do {
            switch try grammar.appendContinuation(utf8Wrapped: append.utf8Wrapped) {
            case .end:
                queue.append(.appendEnd)
                state = .idle
            case let .message(message):
                beginAppendMessage(append, message)
            }
        } catch {
            report(error, tag: append.tag)
            skipAnnouncedLiteral(of: line)
        }
    }

    private mutating func modeLineComplete(_ lineMode: ParserMode, line: ArraySlice<UInt8>) {
        var content = line.dropLast()  // LF
        let hadCR = content.last == 0x0D
        if hadCR { content = content.dropLast() }
        switch lineMode {
        case .authenticationResponse:
            // RFC 9051 §6.2.2: a base64 line, or "*" to cancel.
            if !hadCR {
                fail(nil, .syntax, "line must end with CRLF")
            } else if content.count == 1, content.first == UInt8(ascii: "*") {
                queue.append(.authenticationResponse(.cancel))
            } else if let decoded = Base64.decodeStrict(content) {
                queue.append(.authenticationResponse(.data(decoded)))
            } else {
                fail(nil, .invalidBase64, "authentication response is not valid base64")
            }
        case .idle:
            if hadCR, CharClass.equalsKeyword(content, "DONE") {
                queue.append(.idleDone)
            } else {
                fail(nil, .expectedDone, "expected DONE")
            }
        case .command:
            break
        }
    }

    /// The tag at the start of a command, if it is followed by SP within the first
    /// `maxLineLength` octets. Only that far: a line that is too long is refused as soon as
    /// more than that has arrived, so a tag reaching further would be known or not depending
    /// on how the bytes were split into reads.
    private func tagPrefix(_ bytes: [UInt8]) -> Tag? {
        let limit = min(bytes.count, limits.maxLineLength)
        var end = 0
        while end < limit, CharClass.isTagChar(bytes[end]) { end += 1 }
        guard end > 0, end < limit, bytes[end] == 0x20 else { return nil }
        return Tag(validated: bytes[0..<end])
    }
}

/// A literal announced at the end of a line: `{n}`, `{n+}`, `~{n}` or `~{n+}` before CRLF.
struct LiteralAnnouncement: Hashable {
    var size: UInt64
    var synchronizing: Bool
    var binary: Bool

    /// Nil unless `line` (ending in LF) ends with an announcement. A size over 2^63-1 is kept
    /// as UInt64.max so that it fails every limit.
    init?(lineEnd line: ArraySlice<UInt8>) {
        var i = line.endIndex - 1
        guard i >= line.startIndex + 3, line[i] == 0x0A, line[i - 1] == 0x0D, line[i - 2] == UInt8(ascii: "}") else { return nil }
        i -= 3
        synchronizing = true
        if line[i] == UInt8(ascii: "+") {
            synchronizing = false
            i -= 1
        }
        let digitsEnd = i + 1
        while i >= line.startIndex, CharClass.isDigit(line[i]) { i -= 1 }
        guard i >= line.startIndex, i + 1 < digitsEnd, line[i] == UInt8(ascii: "{") else { return nil }
        var value: UInt64 = 0
        for digit in line[(i + 1)..<digitsEnd] {
            let d = UInt64(digit - 0x30)
            guard value <= (IMAPGrammar.maxNumber64 - d) / 10 else {
                value = .max
                break
            }
            value = value * 10 + d
        }
        size = value
        binary = i > line.startIndex && line[i - 1] == UInt8(ascii: "~")
    }
}
