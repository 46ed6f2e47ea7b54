import Base64

/// Encodes responses to bytes (RFC 9051 §7, §9). The output is always valid syntax: strings
/// are written as atoms, quoted strings or literals by content (`ByteWriter`), text is
/// cleaned of line breaks, and a response that would have no valid form (an empty VANISHED
/// set, a FETCH with no items) is written as nothing at all.
public struct ResponseEncoder: Sendable {
    public var options: EncodingOptions

    public init(options: EncodingOptions) {
        self.options = options
    }

    /// The response's bytes, CRLF included.
    public func encode(_ response: Response) -> [UInt8] {
        var writer = makeWriter(capacity: estimatedSize(response))
        write(response, to: &writer)
        return writer.bytes
    }

    /// Appends the response's bytes to `buffer`.
    public func encode(_ response: Response, into buffer: inout [UInt8]) {
        var writer = makeWriter(capacity: 0)
        swap(&writer.bytes, &buffer)
        writer.bytes.reserveCapacity(writer.bytes.count + estimatedSize(response))
        write(response, to: &writer)
        swap(&writer.bytes, &buffer)
    }

    func makeWriter(capacity: Int) -> ByteWriter {
        var writer = ByteWriter(capacity: capacity)
        writer.maxQuotedLength = options.maxQuotedLength
        return writer
    }

    private func estimatedSize(_ response: Response) -> Int {
        guard case let .untagged(.fetch(fetch)) = response else { return 128 }
        var size = 64
        for attribute in fetch.attributes {
            switch attribute {
            case let .bodySection(_, _, data), let .binary(_, _, data),
                 let .rfc822(data), let .rfc822Header(data), let .rfc822Text(data):
                size += (data?.count ?? 0) + 64
            case .envelope, .body, .bodyStructure: size += 512
            default: size += 32
            }
        }
        return size
    }

    func write(_ response: Response, to w: inout ByteWriter) {
        switch response {
        case let .tagged(tag, status):
            w.write(tag.rawValue)
            w.sp()
            write(status, to: &w)
            w.crlf()
        case let .untagged(untagged):
            write(untagged, to: &w)
        case let .continuation(.text(text)):
            w.write("+ ")
            w.writeLineEndingText(text, utf8: options.utf8)
            w.crlf()
        case let .continuation(.challenge(data)):
            w.write("+ ")
            w.write(bytes: Base64.encode(data, lineLength: nil))
            w.crlf()
        }
    }

    private func write(_ status: StatusResponse, to w: inout ByteWriter) {
        w.write(status.status.rawValue)
        writeResponseText(code: status.code, text: status.text, fallback: status.status.rawValue, to: &w)
    }

    /// `SP resp-text`: `["[" resp-text-code "]" SP] text`.
    private func writeResponseText(code: ResponseCode?, text: String, fallback: String, to w: inout ByteWriter) {
        w.sp()
        if let code, Self.hasValidForm(code) {
            w.write(UInt8(ascii: "["))
            write(code, to: &w)
            w.write(UInt8(ascii: "]"))
            w.sp()
        }
        // RFC 3501 `text = 1*TEXT-CHAR`: never empty. A text starting with "[" would read as a
        // response code.
        let body = text.isEmpty ? fallback : text
        if code == nil, body.hasPrefix("[") { w.sp() }
        w.writeLineEndingText(body, utf8: options.utf8)
    }

    // MARK: Untagged responses

    private func write(_ response: UntaggedResponse, to w: inout ByteWriter) {
        let start = w.bytes.count
        w.write("* ")
        switch response {
        case let .condition(status):
            write(status, to: &w)
        case let .preauth(text):
            w.write("PREAUTH")
            writeResponseText(code: text.code, text: text.text, fallback: "PREAUTH", to: &w)
        case let .bye(text):
            w.write("BYE")
            writeResponseText(code: text.code, text: text.text, fallback: "BYE", to: &w)
        case let .capability(capabilities):
            w.write("CAPABILITY")
            for capability in capabilities {
                w.sp()
                w.write(capability.rawValue)
            }
        case let .enabled(capabilities):
            w.write("ENABLED")
            for capability in capabilities {
                w.sp()
                w.write(capability.rawValue)
            }
        case let .flags(flags):
            w.write("FLAGS ")
            writeFlags(flags, to: &w)
        case let .list(list):
            w.write("LIST ")
            write(list, to: &w)
        case let .lsub(list):
            w.write("LSUB ")
            write(list, to: &w)
        case let .status(mailbox, values):
            w.write("STATUS ")
            writeMailbox(mailbox, to: &w)
            w.write(" (")
            for (index, value) in values.enumerated() {
                if index > 0 { w.sp() }
                write(value, to: &w)
            }
            w.write(UInt8(ascii: ")"))
        case let .exists(n):
            w.write(number: n)
            w.write(" EXISTS")
        case let .recent(n):
            w.write(number: n)
            w.write(" RECENT")
        case let .expunge(n):
            w.write(number: n)
            w.write(" EXPUNGE")
        case let .vanished(earlier, uids):
            // RFC 7162 §3.2.10: known-uids is never empty.
            guard !uids.isEmpty else { return w.bytes.removeSubrange(start...) }
            w.write(earlier ? "VANISHED (EARLIER) " : "VANISHED ")
            writeSet(uids, to: &w)
        case let .fetch(fetch):
            guard !fetch.attributes.isEmpty else { return w.bytes.removeSubrange(start...) }
            w.write(number: fetch.sequenceNumber)
            w.write(" FETCH (")
            for (index, attribute) in fetch.attributes.enumerated() {
                if index > 0 { w.sp() }
                write(attribute, to: &w)
            }
            w.write(UInt8(ascii: ")"))
        case let .search(numbers, modSeq):
            w.write("SEARCH")
            writeNumbers(numbers, modSeq: modSeq, to: &w)
        case let .sort(numbers, modSeq):
            w.write("SORT")
            writeNumbers(numbers, modSeq: modSeq, to: &w)
        case let .esearch(esearch):
            write(esearch, to: &w)
        case let .thread(threads):
            w.write("THREAD")
            if !threads.isEmpty {
                w.sp()
                for thread in threads { writeThread(thread, to: &w) }
            }
        case let .namespace(namespace):
            w.write("NAMESPACE ")
            writeNamespaces(namespace.personal, to: &w)
            w.sp()
            writeNamespaces(namespace.otherUsers, to: &w)
            w.sp()
            writeNamespaces(namespace.shared, to: &w)
        case let .id(parameters):
            w.write("ID ")
            guard let parameters, !parameters.isEmpty else {
                w.write("NIL")
                break
            }
            w.write(UInt8(ascii: "("))
            for (index, parameter) in parameters.enumerated() {
                if index > 0 { w.sp() }
                w.writeString(parameter.name, utf8: options.utf8)
                w.sp()
                w.writeNString(parameter.value.map { Array($0.utf8) }, utf8: options.utf8)
            }
            w.write(UInt8(ascii: ")"))
        case let .quota(root, resources):
            // RFC 9208 §7: quota-list = "(" quota-resource *(SP quota-resource) ")".
            guard !resources.isEmpty else { return w.bytes.removeSubrange(start...) }
            // Quota roots are quoted even when they could be atoms, as in RFC 9208's examples.
            w.write("QUOTA ")
            w.writeString(root, utf8: options.utf8)
            w.write(" (")
            for (index, resource) in resources.enumerated() {
                if index > 0 { w.sp() }
                writeAtom(resource.name, fallback: "STORAGE", to: &w)
                w.sp()
                w.write(number: resource.usage)
                w.sp()
                w.write(number: resource.limit)
            }
            w.write(UInt8(ascii: ")"))
        case let .quotaRoot(mailbox, roots):
            w.write("QUOTAROOT ")
            writeMailbox(mailbox, to: &w)
            for root in roots {
                w.sp()
                w.writeString(root, utf8: options.utf8)
            }
        }
        w.crlf()
    }

    /// An atom from server data; a value that is not an atom is replaced by `fallback`.
    private func writeAtom(_ value: String, fallback: StaticString, to w: inout ByteWriter) {
        if CharClass.isAtom(value.utf8) { w.write(value) } else { w.write(fallback) }
    }

    func writeMailbox(_ mailbox: MailboxName, to w: inout ByteWriter) {
        if options.utf8 {
            w.writeAString(mailbox.name.utf8, utf8: true)
        } else {
            w.writeAString(mailbox.modifiedUTF7.utf8, utf8: false)
        }
    }

    /// A mailbox name as a string (never an atom).
    private func writeMailboxString(_ name: String, to w: inout ByteWriter) {
        w.writeString(options.utf8 ? name : ModifiedUTF7.encode(name), utf8: options.utf8)
    }

    func writeFlags(_ flags: [Flag], to w: inout ByteWriter) {
        w.write(UInt8(ascii: "("))
        for (index, flag) in flags.enumerated() {
            if index > 0 { w.sp() }
            w.write(flag.rawValue)
        }
        w.write(UInt8(ascii: ")"))
    }

    /// A non-empty set; `*`-free by construction.
    func writeSet(_ set: NumberSet, to w: inout ByteWriter) {
        for (index, range) in set.ranges.enumerated() {
            if index > 0 { w.write(UInt8(ascii: ",")) }
            w.write(number: range.lowerBound)
            if range.upperBound != range.lowerBound {
                w.write(UInt8(ascii: ":"))
                w.write(number: range.upperBound)
            }
        }
    }

    func writeSequenceSet(_ set: SequenceSet, to w: inout ByteWriter) {
        w.write(set.description)
    }

    private func writeDelimiter(_ delimiter: Character?, to w: inout ByteWriter) {
        // `DQUOTE QUOTED-CHAR DQUOTE / nil`.
        guard let delimiter, delimiter != "\r", delimiter != "\n", delimiter != "\r\n" else { return w.write("NIL") }
        w.writeQuoted(String(delimiter).utf8)
    }

    private func write(_ list: ListResponse, to w: inout ByteWriter) {
        w.write(UInt8(ascii: "("))
        for (index, attribute) in list.attributes.enumerated() {
            if index > 0 { w.sp() }
            w.write(attribute.rawValue)
        }
        w.write(") ")
        writeDelimiter(list.delimiter, to: &w)
        w.sp()
        writeMailbox(list.mailbox, to: &w)
        guard !list.extendedItems.isEmpty else { return }
        // RFC 5258 §6 `mbox-list-extended`; tags and CHILDINFO options quoted as in its examples.
        w.write(" (")
        for (index, item) in list.extendedItems.enumerated() {
            if index > 0 { w.sp() }
            switch item {
            case let .childInfo(options):
                w.write("\"CHILDINFO\" (")
                for (i, option) in options.enumerated() {
                    if i > 0 { w.sp() }
                    w.writeString(option, utf8: false)
                }
                w.write(UInt8(ascii: ")"))
            case let .oldName(mailbox):
                w.write("\"OLDNAME\" (")
                writeMailboxString(mailbox, to: &w)
                w.write(UInt8(ascii: ")"))
            }
        }
        w.write(UInt8(ascii: ")"))
    }

    private func write(_ value: StatusValue, to w: inout ByteWriter) {
        switch value {
        case let .messages(n): w.write("MESSAGES "); w.write(number: n)
        case let .uidNext(n): w.write("UIDNEXT "); w.write(number: n)
        case let .uidValidity(n): w.write("UIDVALIDITY "); w.write(number: n)
        case let .unseen(n): w.write("UNSEEN "); w.write(number: n)
        case let .deleted(n): w.write("DELETED "); w.write(number: n)
        case let .size(n): w.write("SIZE "); w.write(number: n)
        case let .recent(n): w.write("RECENT "); w.write(number: n)
        case let .highestModSeq(n): w.write("HIGHESTMODSEQ "); w.write(number: n)
        case let .appendLimit(n):
            w.write("APPENDLIMIT ")
            if let n { w.write(number: n) } else { w.write("NIL") }
        case let .mailboxID(id):
            w.write("MAILBOXID (")
            writeAtom(id, fallback: "NIL", to: &w)
            w.write(UInt8(ascii: ")"))
        case let .deletedStorage(n): w.write("DELETED-STORAGE "); w.write(number: n)
        }
    }

    /// `*(SP nz-number) [SP "(" "MODSEQ" SP n ")"]` (RFC 7162 §7: MODSEQ only after numbers).
    private func writeNumbers(_ numbers: [UInt32], modSeq: UInt64?, to w: inout ByteWriter) {
        for n in numbers {
            w.sp()
            w.write(number: n)
        }
        if let modSeq, !numbers.isEmpty {
            w.write(" (MODSEQ ")
            w.write(number: modSeq)
            w.write(UInt8(ascii: ")"))
        }
    }

    private func write(_ esearch: ESearchResponse, to w: inout ByteWriter) {
        w.write("ESEARCH")
        if let tag = esearch.tag {
            // `search-correlator = SP "(" "TAG" SP tag-string ")"`, quoted as in RFC 4731's examples.
            w.write(" (TAG ")
            w.writeQuoted(tag.rawValue.utf8)
            w.write(UInt8(ascii: ")"))
        }
        if esearch.byUID { w.write(" UID") }
        for item in esearch.data {
            switch item {
            case let .min(n): w.write(" MIN "); w.write(number: n)
            case let .max(n): w.write(" MAX "); w.write(number: n)
            case let .count(n): w.write(" COUNT "); w.write(number: n)
            case let .modSeq(n): w.write(" MODSEQ "); w.write(number: n)
            case let .all(set):
                // "$" is not allowed after ALL, and an empty set has no form.
                guard case let .ranges(ranges) = set, !ranges.isEmpty else { continue }
                w.write(" ALL ")
                writeSequenceSet(set, to: &w)
            }
        }
    }

    /// `thread-list = "(" (thread-members / thread-nested) ")"` (RFC 5256 §5).
    private func writeThread(_ node: ThreadNode, to w: inout ByteWriter) {
        w.write(UInt8(ascii: "("))
        var current = node
        var first = true
        // A node without a message and one child is the same as the child.
        while current.message == nil, current.children.count == 1 { current = current.children[0] }
        while true {
            if let message = current.message {
                if !first { w.sp() }
                w.write(number: message)
                first = false
            }
            if current.children.count == 1 {
                current = current.children[0]
                continue
            }
            if !current.children.isEmpty {
                if !first { w.sp() }
                for child in current.children { writeThread(child, to: &w) }
            }
            break
        }
        w.write(UInt8(ascii: ")"))
    }

    private func writeNamespaces(_ namespaces: [NamespaceDescription], to w: inout ByteWriter) {
        guard !namespaces.isEmpty else { return w.write("NIL") }
        w.write(UInt8(ascii: "("))
        for namespace in namespaces {
            w.write(UInt8(ascii: "("))
            writeMailboxString(namespace.prefix, to: &w)
            w.sp()
            writeDelimiter(namespace.delimiter, to: &w)
            for ext in namespace.extensions where !ext.values.isEmpty {
                w.sp()
                w.writeString(ext.name, utf8: options.utf8)
                w.write(" (")
                for (index, value) in ext.values.enumerated() {
                    if index > 0 { w.sp() }
                    w.writeString(value, utf8: options.utf8)
                }
                w.write(UInt8(ascii: ")"))
            }
            w.write(UInt8(ascii: ")"))
        }
        w.write(UInt8(ascii: ")"))
    }

    // MARK: Response codes

    /// Codes whose sets are empty have no valid form (RFC 4315 §4 `uid-set`, RFC 7162 §7
    /// `sequence-set`) and are left out.
    static func hasValidForm(_ code: ResponseCode) -> Bool {
        switch code {
        case let .appendUID(_, uids): return !uids.isEmpty
        case let .copyUID(_, source, destination): return !source.isEmpty && !destination.isEmpty
        case let .modified(set): return !set.isEmpty
        default: return true
        }
    }

    private func write(_ code: ResponseCode, to w: inout ByteWriter) {
        switch code {
        case .alert: w.write("ALERT")
        case let .badCharset(charsets):
            w.write("BADCHARSET")
            if !charsets.isEmpty {
                w.write(" (")
                for (index, charset) in charsets.enumerated() {
                    if index > 0 { w.sp() }
                    if CharClass.isAtom(charset.utf8) { w.write(charset) } else { w.writeQuoted(charset.utf8.filter { $0 >= 0x20 && $0 < 0x7F }) }
                }
                w.write(UInt8(ascii: ")"))
            }
        case let .capability(capabilities):
            w.write("CAPABILITY")
            for capability in capabilities {
                w.sp()
                w.write(capability.rawValue)
            }
        case .parse: w.write("PARSE")
        case let .permanentFlags(flags, allowsNewKeywords):
            w.write("PERMANENTFLAGS (")
            for (index, flag) in flags.enumerated() {
                if index > 0 { w.sp() }
                w.write(flag.rawValue)
            }
            if allowsNewKeywords { w.write(flags.isEmpty ? "\\*" : " \\*") }
            w.write(UInt8(ascii: ")"))
        case .readOnly: w.write("READ-ONLY")
        case .readWrite: w.write("READ-WRITE")
        case .tryCreate: w.write("TRYCREATE")
        case let .uidNext(n): w.write("UIDNEXT "); w.write(number: n)
        case let .uidValidity(n): w.write("UIDVALIDITY "); w.write(number: n)
        case let .unseen(n): w.write("UNSEEN "); w.write(number: n)
        case let .appendUID(validity, uids):
            w.write("APPENDUID ")
            w.write(number: validity)
            w.sp()
            writeSet(uids, to: &w)
        case let .copyUID(validity, source, destination):
            w.write("COPYUID ")
            w.write(number: validity)
            w.sp()
            writeSet(source, to: &w)
            w.sp()
            writeSet(destination, to: &w)
        case .uidNotSticky: w.write("UIDNOTSTICKY")
        case let .highestModSeq(n): w.write("HIGHESTMODSEQ "); w.write(number: n)
        case .noModSeq: w.write("NOMODSEQ")
        case let .modified(set): w.write("MODIFIED "); writeSet(set, to: &w)
        case .closed: w.write("CLOSED")
        case .tooBig: w.write("TOOBIG")
        case .overQuota: w.write("OVERQUOTA")
        case .limit: w.write("LIMIT")
        case .nonExistent: w.write("NONEXISTENT")
        case .alreadyExists: w.write("ALREADYEXISTS")
        case .cannot: w.write("CANNOT")
        case .inUse: w.write("INUSE")
        case .noPerm: w.write("NOPERM")
        case .serverBug: w.write("SERVERBUG")
        case .authenticationFailed: w.write("AUTHENTICATIONFAILED")
        case .authorizationFailed: w.write("AUTHORIZATIONFAILED")
        case .expired: w.write("EXPIRED")
        case .privacyRequired: w.write("PRIVACYREQUIRED")
        case .contactAdmin: w.write("CONTACTADMIN")
        case .unavailable: w.write("UNAVAILABLE")
        case .clientBug: w.write("CLIENTBUG")
        case .expungeIssued: w.write("EXPUNGEISSUED")
        case .corruption: w.write("CORRUPTION")
        case .hasChildren: w.write("HASCHILDREN")
        case .useAttr: w.write("USEATTR")
        case let .mailboxID(id):
            w.write("MAILBOXID (")
            writeAtom(id, fallback: "NIL", to: &w)
            w.write(UInt8(ascii: ")"))
        case .notSaved: w.write("NOTSAVED")
        case .unknownCTE: w.write("UNKNOWN-CTE")
        case .compressionActive: w.write("COMPRESSIONACTIVE")
        case let .other(name, text):
            writeAtom(name, fallback: "X-UNKNOWN", to: &w)
            if let text, !text.isEmpty {
                w.sp()
                // `1*<any TEXT-CHAR except "]">`.
                w.writeText(text, utf8: options.utf8, excluding: UInt8(ascii: "]"))
            }
        }
    }
}
