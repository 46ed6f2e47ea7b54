// libFuzzer entry point for the IMAP command parser (CommandParser) and the response encoder,
// built by Fuzz/run.sh with the IMAP module's sources.
//
// Input: two control octets, then the client's bytes.
//   - octet 0: bit 0 UTF-8 mailbox names (IMAP4rev2 / UTF8=ACCEPT), bit 1 LITERAL-, bit 2 small
//     limits (so every limit is reachable), bit 3 act as a server that refuses every
//     synchronizing literal (tagged NO + `discardCommand()`), bit 4 follow IDLE and
//     AUTHENTICATE by switching `mode` as the server does.
//   - octet 1: seeds the split pattern.
//
// Beyond "never crash, never hang", it checks:
//   - the events do not depend on how the bytes are split (whole, one octet at a time, and
//     chunks of pseudo-random sizes), with APPEND data pieces merged;
//   - every response the encoder writes from parsed values (tagged status with the tag, LIST
//     with the mailbox name, FLAGS, ID, STATUS, ESEARCH with the sets, ENABLED) is one line
//     whose literals are counted right, ASCII-only for an IMAP4rev1 client;
//   - mailbox names, flags and ID parameters written by the encoder parse back to the same
//     values when a client sends them in a command.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIMAPCommand(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let control = data[0]
    let splitSeed = data[1]
    let bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let options = ParserOptions(utf8Mailboxes: control & 1 != 0, literalMinus: control & 2 != 0)
    let limits = control & 4 != 0
        ? ParserLimits(maxLineLength: 120, maxLiteralSize: 40, maxCommandSize: 300, maxLiteralsPerCommand: 3,
                       maxAppendSize: 64, maxNestingDepth: 5, maxListItems: 6)
        : ParserLimits()
    let server = FuzzServer(refuseLiterals: control & 8 != 0, followModes: control & 16 != 0)

    var generator = SplitMix(state: UInt64(splitSeed) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bytes.count))
    let whole = readAlikeInAnySplit(bytes.count, largest: splitSeed & 1 == 0 ? 9 : 200, generator: &generator, "the command feed") {
        server.run(bytes, chunks: $0, limits: limits, options: options)
    }

    for event in whole {
        checkEncoding(of: event, limits: limits, utf8Mailboxes: options.utf8Mailboxes)
    }
    return 0
}

/// What a server does with the events that affect the parser.
private struct FuzzServer {
    var refuseLiterals: Bool
    var followModes: Bool

    /// The events for `bytes` fed in pieces of the given sizes, `.appendBytes` merged.
    func run(_ bytes: [UInt8], chunks: [Int], limits: ParserLimits, options: ParserOptions) -> [ParserEvent] {
        var parser = CommandParser(limits: limits, options: options)
        var events: [ParserEvent] = []
        var index = 0
        for size in chunks where index < bytes.count {
            let end = min(bytes.count, index + size)
            parser.append(bytes[index..<end])
            index = end
            while let event = parser.next() {
                switch event {
                case .continuationRequest where refuseLiterals:
                    parser.discardCommand()
                case let .command(command) where followModes:
                    switch command.command {
                    case .idle: parser.mode = .idle
                    case .authenticate: parser.mode = .authenticationResponse
                    default: break
                    }
                default:
                    break
                }
                if case let .appendBytes(more) = event, case let .appendBytes(previous)? = events.last {
                    events[events.count - 1] = .appendBytes(previous + more)
                } else if case .appendBytes([]) = event {
                    continue
                } else {
                    events.append(event)
                }
            }
        }
        return events
    }
}

// MARK: - The encoder with parsed values

private func checkEncoding(of event: ParserEvent, limits: ParserLimits, utf8Mailboxes: Bool) {
    for utf8 in [false, true] {
        let encoder = ResponseEncoder(options: EncodingOptions(utf8: utf8))
        switch event {
        case let .command(tagged):
            let status = encoder.encode(.tagged(tagged.tag, .ok("\(tagged.command.name) done")))
            checkLine(status, utf8: utf8)
            guard status.starts(with: Array(tagged.tag.rawValue.utf8) + [0x20]) else {
                fatalError("tagged response does not start with the tag: \(status)")
            }
            checkValues(of: tagged.command, tag: tagged.tag, encoder: encoder)
        case let .appendStart(tag, mailbox):
            checkLine(encoder.encode(.tagged(tag, .ok("APPEND done", code: .appendUID(uidValidity: 1, uids: [1])))), utf8: utf8)
            roundTrip(mailbox, encoder: encoder)
        case let .appendMessageBegin(message):
            checkFlags(message.flags, encoder: encoder, storeRoundTrip: false)
        case let .error(error):
            checkLine(encoder.encode(error.response), utf8: utf8)
        default:
            break
        }
    }
}

private func checkValues(of command: Command, tag: Tag, encoder: ResponseEncoder) {
    let utf8 = encoder.options.utf8
    switch command {
    case let .select(name, _), let .examine(name, _), let .create(name, _), let .delete(name),
         let .subscribe(name), let .unsubscribe(name), let .getQuotaRoot(name):
        roundTrip(name, encoder: encoder)
        checkLine(encoder.encode(.untagged(.quotaRoot(name, roots: [""]))), utf8: utf8)
    case let .rename(from, to):
        roundTrip(from, encoder: encoder)
        roundTrip(to, encoder: encoder)
    case let .status(name, items):
        roundTrip(name, encoder: encoder)
        let values: [StatusValue] = items.map { item in
            switch item {
            case .messages: return .messages(3)
            case .uidNext: return .uidNext(4)
            case .uidValidity: return .uidValidity(5)
            case .unseen: return .unseen(1)
            case .deleted: return .deleted(0)
            case .size: return .size(1234)
            case .recent: return .recent(0)
            case .highestModSeq: return .highestModSeq(IMAPGrammar.maxNumber64)
            case .appendLimit: return .appendLimit(nil)
            case .mailboxID: return .mailboxID("F1234")
            case .deletedStorage: return .deletedStorage(0)
            }
        }
        checkLine(encoder.encode(.untagged(.status(name, values))), utf8: utf8)
    case let .copy(_, set, name), let .move(_, set, name):
        roundTrip(name, encoder: encoder)
        checkLine(encoder.encode(.untagged(.esearch(ESearchResponse(tag: tag, byUID: true, data: [.all(set), .count(1)])))), utf8: utf8)
    case let .uidExpunge(set):
        checkLine(encoder.encode(.untagged(.esearch(ESearchResponse(tag: tag, byUID: true, data: [.all(set)])))), utf8: utf8)
    case let .fetch(fetch):
        checkLine(encoder.encode(.untagged(.esearch(ESearchResponse(tag: tag, byUID: fetch.byUID, data: [.all(fetch.set)])))), utf8: utf8)
    case let .store(store):
        checkFlags(store.flags, encoder: encoder, storeRoundTrip: true)
    case let .id(parameters):
        checkID(parameters, encoder: encoder)
    case let .enable(capabilities):
        checkLine(encoder.encode(.untagged(.enabled(capabilities))), utf8: utf8)
        checkLine(encoder.encode(.untagged(.capability(capabilities))), utf8: utf8)
    case let .list(list):
        for pattern in list.patterns + [list.reference] {
            checkLine(encoder.encode(.untagged(.list(ListResponse(mailbox: MailboxName(pattern), extendedItems: [.oldName(pattern)])))), utf8: utf8)
        }
    case let .login(username, password):
        checkLine(encoder.encode(.tagged(tag, .no("\(username) \(password)", code: .other("X", password)))), utf8: utf8)
    case let .authenticate(_, response):
        checkLine(encoder.encode(.continuation(.challenge(response ?? []))), utf8: utf8)
    default:
        break
    }
}

/// A mailbox name in a LIST response, sent back in a SELECT by a client of the same kind
/// (UTF-8 or modified UTF-7), is the same name.
private func roundTrip(_ name: MailboxName, encoder: ResponseEncoder) {
    let prefix = Array("* LIST () \"/\" ".utf8)
    let line = encoder.encode(.untagged(.list(ListResponse(mailbox: name))))
    checkLine(line, utf8: encoder.options.utf8)
    guard line.starts(with: prefix) else { fatalError("unexpected LIST response \(line)") }
    let wire = Array(line[prefix.count..<(line.count - 2)])
    let command = reparse(Array("R SELECT ".utf8) + wire + [0x0D, 0x0A], utf8: encoder.options.utf8)
    guard case let .select(parsed, _)? = command, parsed == name else {
        fatalError("mailbox \(name.name.unicodeScalars.map { $0.value }) encoded as \(wire) parses as \(String(describing: command))")
    }
}

private func checkFlags(_ flags: [Flag], encoder: ResponseEncoder, storeRoundTrip: Bool) {
    let prefix = Array("* FLAGS ".utf8)
    let line = encoder.encode(.untagged(.flags(flags)))
    checkLine(line, utf8: encoder.options.utf8)
    guard storeRoundTrip, line.starts(with: prefix) else { return }
    let wire = Array(line[prefix.count..<(line.count - 2)])
    let command = reparse(Array("R STORE 1 FLAGS ".utf8) + wire + [0x0D, 0x0A], utf8: encoder.options.utf8)
    guard case let .store(store)? = command, store.flags == flags else {
        fatalError("flags \(flags) encoded as \(wire) parse as \(String(describing: command))")
    }
}

private func checkID(_ parameters: [IDParameter]?, encoder: ResponseEncoder) {
    let prefix = Array("* ID ".utf8)
    let line = encoder.encode(.untagged(.id(parameters)))
    checkLine(line, utf8: encoder.options.utf8)
    guard line.starts(with: prefix) else { fatalError("unexpected ID response \(line)") }
    // RFC 2971 §3.3: field values are nstrings; what a client may send, the server may echo.
    let wire = Array(line[prefix.count..<(line.count - 2)])
    let command = reparse(Array("R ID ".utf8) + wire + [0x0D, 0x0A], utf8: encoder.options.utf8)
    guard case let .id(parsed)? = command else {
        fatalError("ID \(String(describing: parameters)) encoded as \(wire) parses as \(String(describing: command))")
    }
    guard parsed == parameters else {
        fatalError("ID \(String(describing: parameters)) encoded as \(wire) parses as \(String(describing: parsed))")
    }
}

/// The one command in `bytes`, with literal limits that cannot get in the way.
private func reparse(_ bytes: [UInt8], utf8: Bool) -> Command? {
    var parser = CommandParser(limits: ParserLimits(maxLineLength: 1 << 22, maxLiteralSize: 1 << 22, maxCommandSize: 1 << 23,
                                                    maxLiteralsPerCommand: 1 << 16),
                               options: ParserOptions(utf8Mailboxes: utf8))
    parser.append(bytes)
    var command: Command?
    while let event = parser.next() {
        switch event {
        case let .command(tagged): command = tagged.command
        case .continuationRequest: break
        default: return nil
        }
    }
    return command
}

/// One response: CRLF only at the end, literals `{n}` / `~{n}` followed by CRLF and exactly n
/// octets, no NUL outside literal8, and nothing but ASCII for an IMAP4rev1 client.
private func checkLine(_ bytes: [UInt8], utf8: Bool) {
    guard bytes.count >= 2, bytes[bytes.count - 2] == 0x0D, bytes[bytes.count - 1] == 0x0A else {
        fatalError("response does not end in CRLF: \(bytes)")
    }
    var index = 0
    let end = bytes.count - 2
    while index < end {
        let byte = bytes[index]
        if byte == 0x0D || byte == 0x0A || byte == 0 {
            fatalError("CR, LF or NUL outside a literal at \(index): \(bytes)")
        }
        if !utf8, byte >= 0x80 {
            fatalError("8-bit octet in an IMAP4rev1 response at \(index): \(bytes)")
        }
        // RFC 9051 §9 `literal = "{" number64 "}" CRLF *CHAR8`: digits only, so `{-1}` is text.
        if byte == UInt8(ascii: "{"), let close = bytes[index...].firstIndex(of: UInt8(ascii: "}")),
           close + 2 < bytes.count, bytes[close + 1] == 0x0D, bytes[close + 2] == 0x0A,
           bytes[(index + 1)..<close].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
           let count = Int(String(decoding: bytes[(index + 1)..<close], as: UTF8.self)) {
            let literalEnd = close + 3 + count
            guard literalEnd <= end else { fatalError("literal {\(count)} runs past the end: \(bytes)") }
            let isLiteral8 = index > 0 && bytes[index - 1] == UInt8(ascii: "~")
            if !isLiteral8, bytes[(close + 3)..<literalEnd].contains(0) {
                fatalError("NUL inside a literal: \(bytes)")
            }
            index = literalEnd
            continue
        }
        index += 1
    }
}
