import Base64

/// What a command buffer parsed to.
enum FrameResult: Hashable {
    case command(TaggedCommand)
    /// An APPEND whose next message literal was just announced: its octets follow the buffer.
    case appendMessage(tag: Tag, mailbox: MailboxName, AppendMessage)
}

/// What follows an APPEND message's octets.
enum AppendContinuation: Hashable {
    /// CRLF: the APPEND is complete.
    case end
    /// Another message (MULTIAPPEND, RFC 3502): its literal was just announced.
    case message(AppendMessage)
}

extension GrammarParser {
    /// `tag SP`, then the uppercased command name (an atom), without consuming what follows.
    mutating func tagAndName() throws(GrammarError) -> String {
        let start = pos
        while pos < buffer.count, CharClass.isTagChar(buffer[pos]) { pos += 1 }
        guard pos < buffer.count else { throw .incomplete }
        guard pos > start else {
            if buffer[pos] == 0x0D || buffer[pos] == 0x0A { throw .syntax("empty command line") }
            throw .syntax("expected a tag \(describeHere())")
        }
        guard try peek() == 0x20 else {
            let b = buffer[pos]
            if b == 0x0D || b == 0x0A {
                tag = Tag(validated: buffer[start..<pos])
                throw .syntax("missing command after the tag")
            }
            throw .syntax("invalid character in tag \(describeHere())")
        }
        tag = Tag(validated: buffer[start..<pos])
        pos += 1
        let name = try atom("command name")
        return String(decoding: name.map(CharClass.upper), as: UTF8.self)
    }

    /// A complete command (RFC 9051 §9 `command`), or an APPEND up to its first message
    /// literal.
    mutating func commandFrame() throws(GrammarError) -> FrameResult {
        let name = try tagAndName()
        guard let tag else { throw .syntax("expected a tag") }
        if name == "APPEND" {
            try sp()
            let mailbox = try mailbox()
            let message = try appendMessageHeader()
            return .appendMessage(tag: tag, mailbox: mailbox, message)
        }
        let command = try command(named: name)
        try crlf()
        guard atEnd else { throw .syntax("unexpected data after the command") }
        return .command(TaggedCommand(tag: tag, command: command))
    }

    // MARK: APPEND (RFC 9051 §6.3.12, RFC 4466, RFC 3502, RFC 3516, RFC 6855)

    /// `append-opts SP append-data` up to and including the literal announcement, which must
    /// end the buffer: `[SP flag-list] [SP date-time] SP (literal / literal8 / "UTF8" SP "("
    /// literal8)`.
    mutating func appendMessageHeader() throws(GrammarError) -> AppendMessage {
        var message = AppendMessage(size: 0)
        try sp()
        if next(is: UInt8(ascii: "(")) {
            message.flags = try flagList()
            try sp()
        }
        if next(is: UInt8(ascii: "\"")) {
            message.internalDate = try dateTime()
            try sp()
        }
        if skipWord("UTF8") {
            // RFC 6855 §4: utf8-literal = "UTF8" SP "(" literal8 ")".
            try sp()
            try openParen()
            guard next(is: UInt8(ascii: "~")) else { throw .syntax("UTF8 APPEND data must be a literal8 (~{n})") }
            message.isUTF8 = true
        }
        let b = try peek()
        guard b == UInt8(ascii: "{") || b == UInt8(ascii: "~") else {
            throw .syntax("expected the message literal \(describeHere())")
        }
        let header = try literalHeader(allowLiteral8: true)
        message.size = header.size
        message.isBinary = header.binary
        message.isSynchronizing = header.synchronizing
        guard atEnd else { throw .syntax("message data already present") }
        return message
    }

    /// What follows a message's octets: `[")"]` closing a UTF8 wrapper, then CRLF or the next
    /// message.
    mutating func appendContinuation(utf8Wrapped: Bool) throws(GrammarError) -> AppendContinuation {
        if utf8Wrapped { try closeParen() }
        if next(is: 0x0D) || next(is: 0x0A) {
            try crlf()
            guard atEnd else { throw .syntax("unexpected characters after the command") }
            return .end
        }
        return .message(try appendMessageHeader())
    }

    // MARK: Commands

    mutating func command(named name: String) throws(GrammarError) -> Command {
        switch name {
        case "CAPABILITY": return .capability
        case "NOOP": return .noop
        case "LOGOUT": return .logout
        case "STARTTLS": return .startTLS
        case "NAMESPACE": return .namespace
        case "IDLE": return .idle
        case "CHECK": return .check
        case "CLOSE": return .close
        case "UNSELECT": return .unselect
        case "EXPUNGE": return .expunge
        case "ID": return try idCommand()
        case "AUTHENTICATE": return try authenticate()
        case "LOGIN":
            try sp()
            let user = try astringText("user name")
            try sp()
            return .login(username: user, password: try astringText("password"))
        case "ENABLE":
            var capabilities: [Capability] = []
            repeat {
                try sp()
                guard let capability = Capability(try atomString("capability")) else { throw .syntax("invalid capability") }
                capabilities.append(capability)
                try checkCount(capabilities.count, "capabilities")
            } while next(is: 0x20)
            return .enable(capabilities)
        case "SELECT":
            try sp()
            let mailbox = try mailbox()
            return .select(mailbox, try selectParameters())
        case "EXAMINE":
            try sp()
            let mailbox = try mailbox()
            return .examine(mailbox, try selectParameters())
        case "CREATE": return try create()
        case "DELETE":
            try sp()
            return .delete(try mailbox())
        case "RENAME":
            try sp()
            let from = try mailbox()
            try sp()
            let to = try mailbox()
            if next(is: 0x20) { throw .syntax("RENAME parameters are not supported") }
            return .rename(from: from, to: to)
        case "SUBSCRIBE":
            try sp()
            return .subscribe(try mailbox())
        case "UNSUBSCRIBE":
            try sp()
            return .unsubscribe(try mailbox())
        case "LIST": return .list(try list())
        case "LSUB":
            try sp()
            let reference = try decodeMailbox(try astring("reference name"), "reference name")
            try sp()
            return .lsub(reference: reference, pattern: try listMailbox())
        case "STATUS":
            try sp()
            let mailbox = try mailbox()
            try sp()
            return .status(mailbox, try statusItems())
        case "COMPRESS":
            try sp()
            return .compress(algorithm: try atomString("compression algorithm").asciiUppercased)
        case "GETQUOTA":
            try sp()
            return .getQuota(root: try astringText("quota root"))
        case "GETQUOTAROOT":
            try sp()
            return .getQuotaRoot(try mailbox())
        case "SETQUOTA": return try setQuota()
        case "SEARCH": return .search(try search(byUID: false))
        case "FETCH": return .fetch(try fetch(byUID: false))
        case "STORE": return .store(try store(byUID: false))
        case "COPY":
            let (set, mailbox) = try setAndMailbox()
            return .copy(byUID: false, set, mailbox)
        case "MOVE":
            let (set, mailbox) = try setAndMailbox()
            return .move(byUID: false, set, mailbox)
        case "SORT": return .sort(try sort(byUID: false))
        case "THREAD": return .thread(try thread(byUID: false))
        case "UID": return try uidCommand()
        case "APPEND": throw .syntax("APPEND is parsed as a stream")
        default:
            let printable = name.utf8.count > 32 ? String(name.prefix(32)) + "..." : name
            throw .invalid(.unknownCommand, "unknown command \(printable)")
        }
    }

    /// RFC 9051 §6.4.9 `uid = "UID" SP (copy / move / fetch / search / store / uid-expunge)`,
    /// and UID SORT / UID THREAD (RFC 5256 §3).
    mutating func uidCommand() throws(GrammarError) -> Command {
        try sp()
        let name = try atomString("UID command").asciiUppercased
        switch name {
        case "FETCH": return .fetch(try fetch(byUID: true))
        case "SEARCH": return .search(try search(byUID: true))
        case "STORE": return .store(try store(byUID: true))
        case "COPY":
            let (set, mailbox) = try setAndMailbox()
            return .copy(byUID: true, set, mailbox)
        case "MOVE":
            let (set, mailbox) = try setAndMailbox()
            return .move(byUID: true, set, mailbox)
        case "EXPUNGE":
            try sp()
            return .uidExpunge(try sequenceSet())
        case "SORT": return .sort(try sort(byUID: true))
        case "THREAD": return .thread(try thread(byUID: true))
        default:
            throw .invalid(.unknownCommand, "unknown command UID \(name.prefix(32))")
        }
    }

    mutating func setAndMailbox() throws(GrammarError) -> (SequenceSet, MailboxName) {
        try sp()
        let set = try sequenceSet()
        try sp()
        return (set, try mailbox())
    }

    /// RFC 9051 §6.2.2 and RFC 4959 §3: `AUTHENTICATE SP auth-type [SP (base64 / "=")]`.
    mutating func authenticate() throws(GrammarError) -> Command {
        try sp()
        let mechanism = try atomString("authentication mechanism").asciiUppercased
        guard skip(0x20) else { return .authenticate(mechanism: mechanism, initialResponse: nil) }
        let encoded = try atom("initial response")
        if encoded.count == 1, encoded.first == UInt8(ascii: "=") {
            return .authenticate(mechanism: mechanism, initialResponse: [])
        }
        guard let decoded = Base64.decodeStrict(encoded) else {
            throw .invalid(.invalidBase64, "initial response is not valid base64")
        }
        return .authenticate(mechanism: mechanism, initialResponse: decoded)
    }

    /// RFC 2971 §4: `ID SP ("(" [string SP nstring *(SP string SP nstring)] ")" / NIL)`. An empty list
    /// says what NIL says (no information), so both parse as nil: one value per meaning, and the
    /// encoder's NIL for an empty list reads back the same.
    mutating func idCommand() throws(GrammarError) -> Command {
        try sp()
        if skipWord("NIL") { return .id(nil) }
        try openParen()
        if skip(UInt8(ascii: ")")) { return .id(nil) }
        var parameters: [IDParameter] = []
        repeat {
            let name = String(decoding: try string(), as: UTF8.self)
            try sp()
            let value = try nstring().map { String(decoding: $0, as: UTF8.self) }
            parameters.append(IDParameter(name, value))
            try checkCount(parameters.count, "ID fields")
        } while skip(0x20)
        try closeParen()
        return .id(parameters)
    }

    /// RFC 4466 `select-params`: CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (§3.2.5).
    mutating func selectParameters() throws(GrammarError) -> SelectParameters {
        var parameters = SelectParameters()
        guard skip(0x20) else { return parameters }
        try openParen()
        try enter()
        repeat {
            let name = try keyword("SELECT parameter")
            switch name {
            case "CONDSTORE":
                parameters.condStore = true
            case "QRESYNC":
                try sp()
                try openParen()
                let uidValidity = try nzNumber("UIDVALIDITY")
                try sp()
                let modSeq = try nzNumber64("mod-sequence")
                var qresync = QResyncParameters(uidValidity: uidValidity, modSeq: modSeq)
                if skip(0x20) {
                    if !next(is: UInt8(ascii: "(")) {
                        qresync.knownUIDs = try knownSet("known UIDs")
                        if skip(0x20) { qresync.sequenceMatch = try sequenceMatchData() }
                    } else {
                        qresync.sequenceMatch = try sequenceMatchData()
                    }
                }
                try closeParen()
                parameters.qresync = qresync
            default:
                throw .syntax("unknown SELECT parameter \(name.prefix(32))")
            }
        } while skip(0x20)
        try closeParen()
        leave()
        return parameters
    }

    /// A QRESYNC set: `*` and `$` are not allowed (RFC 7162 §7 `known-uids`).
    mutating func knownSet(_ what: String) throws(GrammarError) -> SequenceSet {
        let set = try sequenceSet()
        guard !set.usesStarOrSaved else { throw .syntax("\(what) may not contain \"*\" or \"$\"") }
        return set
    }

    /// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`.
    mutating func sequenceMatchData() throws(GrammarError) -> QResyncParameters.SequenceMatch {
        try openParen()
        let sequenceNumbers = try knownSet("known sequence set")
        try sp()
        let uids = try knownSet("known UID set")
        try closeParen()
        return QResyncParameters.SequenceMatch(sequenceNumbers: sequenceNumbers, uids: uids)
    }

    /// RFC 4466 `create = "CREATE" SP mailbox [create-params]`, RFC 6154 §3 `USE (...)`.
    mutating func create() throws(GrammarError) -> Command {
        try sp()
        let mailbox = try mailbox()
        var specialUse: [MailboxAttribute] = []
        if skip(0x20) {
            try openParen()
            repeat {
                let name = try keyword("CREATE parameter")
                guard name == "USE" else { throw .syntax("unknown CREATE parameter \(name.prefix(32))") }
                try sp()
                try openParen()
                if !skip(UInt8(ascii: ")")) {
                    repeat {
                        specialUse.append(try mailboxAttribute())
                        try checkCount(specialUse.count, "special-use attributes")
                    } while skip(0x20)
                    try closeParen()
                }
            } while skip(0x20)
            try closeParen()
        }
        return .create(mailbox, specialUse: specialUse)
    }

    /// `"\" atom`.
    mutating func mailboxAttribute() throws(GrammarError) -> MailboxAttribute {
        try expect(UInt8(ascii: "\\"), "mailbox attribute")
        guard let attribute = MailboxAttribute("\\" + (try atomString("mailbox attribute"))) else {
            throw .syntax("invalid mailbox attribute")
        }
        return attribute
    }

    /// `"(" status-att *(SP status-att) ")"`.
    mutating func statusItems() throws(GrammarError) -> [StatusItem] {
        try openParen()
        var items: [StatusItem] = []
        repeat {
            let name = try keyword("status item")
            guard let item = StatusItem(rawValue: name) else { throw .syntax("unknown status item \(name.prefix(32))") }
            items.append(item)
            try checkCount(items.count, "status items")
        } while skip(0x20)
        try closeParen()
        return items
    }

    /// RFC 9051 §6.3.9 / RFC 5258 §6:
    /// `LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`.
    mutating func list() throws(GrammarError) -> ListCommand {
        try sp()
        var command = ListCommand(reference: "", patterns: [])
        if next(is: UInt8(ascii: "(")) {
            command.isExtended = true
            pos += 1
            var base = false
            if !skip(UInt8(ascii: ")")) {
                repeat {
                    let name = try keyword("LIST selection option")
                    switch name {
                    case "SUBSCRIBED": command.selectOptions.subscribed = true; base = true
                    case "REMOTE": command.selectOptions.remote = true
                    case "RECURSIVEMATCH": command.selectOptions.recursiveMatch = true
                    case "SPECIAL-USE": command.selectOptions.specialUse = true; base = true
                    default: throw .syntax("unknown LIST selection option \(name.prefix(32))")
                    }
                } while skip(0x20)
                try closeParen()
            }
            // RFC 5258 §3.1: RECURSIVEMATCH needs a base option ("(REMOTE RECURSIVEMATCH)" is BAD).
            if command.selectOptions.recursiveMatch, !base {
                throw .syntax("RECURSIVEMATCH requires another selection option such as SUBSCRIBED")
            }
            try sp()
        }
        command.reference = try decodeMailbox(try astring("reference name"), "reference name")
        try sp()
        if skip(UInt8(ascii: "(")) {
            command.isExtended = true
            repeat {
                command.patterns.append(try listMailbox())
                try checkCount(command.patterns.count, "patterns")
            } while skip(0x20)
            try closeParen()
        } else {
            command.patterns = [try listMailbox()]
        }
        if skip(0x20) {
            guard skipWord("RETURN") else { throw .syntax("expected RETURN \(describeHere())") }
            command.isExtended = true
            try sp()
            try openParen()
            if !skip(UInt8(ascii: ")")) {
                repeat {
                    let name = try keyword("LIST return option")
                    switch name {
                    case "SUBSCRIBED": command.returnOptions.subscribed = true
                    case "CHILDREN": command.returnOptions.children = true
                    case "SPECIAL-USE": command.returnOptions.specialUse = true
                    case "STATUS":
                        try sp()
                        command.returnOptions.status = try statusItems()
                    default: throw .syntax("unknown LIST return option \(name.prefix(32))")
                    }
                } while skip(0x20)
                try closeParen()
            }
        }
        return command
    }

    /// RFC 9208 §4.1.3: `SETQUOTA SP quota-root-name SP "(" [resource-name SP resource-limit
    /// *(SP ...)] ")"`.
    mutating func setQuota() throws(GrammarError) -> Command {
        try sp()
        let root = try astringText("quota root")
        try sp()
        try openParen()
        var limits: [QuotaLimit] = []
        if !skip(UInt8(ascii: ")")) {
            repeat {
                let resource = try atomString("resource name").asciiUppercased
                try sp()
                limits.append(QuotaLimit(resource: resource, limit: try number64("resource limit")))
                try checkCount(limits.count, "quota resources")
            } while skip(0x20)
            try closeParen()
        }
        return .setQuota(root: root, limits: limits)
    }
}
