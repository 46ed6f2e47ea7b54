import Base64
import Foundation
import IMAP
import Message
import Store

/// One message as SEARCH sees it: the cheap columns always; the header or the whole
/// structure as far as the keys need them (`SearchEvaluator.depth`, read with its batch);
/// the file and the decoded texts only when a key asks for them, each read once.
final class SearchCandidate {
    let number: UInt32
    let summary: MessageSummary
    let recent: Bool
    private let ownHeader: HeaderSection?
    private let message: StoredMessage?
    private var headerText: String?
    private var bodyText: String?
    let bodyLimit: Int

    init(number: UInt32, summary: MessageSummary, recent: Bool, bodyLimit: Int, header: HeaderSection?, stored: StoredMessage?) {
        self.number = number
        self.summary = summary
        self.recent = recent
        self.bodyLimit = bodyLimit
        ownHeader = header ?? stored?.parsed.header
        message = stored
    }

    func header() -> HeaderSection? { ownHeader }

    /// Whether a field named `name` satisfies `matches`.
    func hasField(_ name: String, where matches: (HeaderField) -> Bool = { _ in true }) -> Bool {
        guard let header = header() else { return false }
        for field in header.fields where field.is(name) && matches(field) { return true }
        return false
    }

    /// Every header field, decoded, one per line.
    func allHeaders() -> String {
        if let headerText { return headerText }
        let text = header()?.fields.map { "\($0.name): \(EncodedWord.decode($0.value))" }.joined(separator: "\n") ?? ""
        headerText = text
        return text
    }

    /// The text of every text/* part, transfer-decoded and converted from its charset
    /// (RFC 9051 §6.4.4: BODY and TEXT match the decoded content).
    func body() -> String {
        if let bodyText { return bodyText }
        guard let message, let source = try? message.open() else {
            bodyText = ""
            return ""
        }
        var texts: [String] = []
        var budget = bodyLimit
        for (_, part) in message.parsed.root.sections() where part.isText && budget > 0 {
            let raw = (try? source.read(offset: part.bodyOffset, length: min(part.bodyLength, budget))) ?? []
            budget -= raw.count
            let decoded: [UInt8]
            switch part.transferEncoding {
            case "base64": decoded = Base64.decode(raw)
            case "quoted-printable": decoded = QuotedPrintable.decode(raw)
            default: decoded = raw
            }
            let text = String(validating: decoded, as: UTF8.self)
                ?? (try? Charset.decode(decoded, charset: part.charset))
                ?? String(decoding: decoded, as: UTF8.self)
            texts.append(text)
        }
        let text = texts.joined(separator: "\n")
        bodyText = text
        return text
    }
}

/// A search string prepared once for every message: RFC 9051 §6.4.4 matches substrings
/// case-insensitively. An ASCII string is compared byte by byte with ASCII letters folded,
/// which needs no copy of the text searched (a non-ASCII byte of the text never equals an
/// ASCII one of the string); a string with other characters is compared with both sides
/// lower-cased by Unicode's rules.
struct SearchText {
    /// Lower-cased UTF-8.
    private let folded: [UInt8]
    private let ascii: Bool

    init(_ text: String) {
        ascii = text.utf8.allSatisfy { $0 < 0x80 }
        folded = Array(text.lowercased().utf8)
    }

    /// In the decoded value (RFC 2047) of `field`. An ASCII string is looked for in the
    /// field's own octets when they need no decoding (one line, no encoded-word): non-ASCII
    /// octets cannot match it, whatever their charset, so this finds what decoding would.
    func isFound(inValueOf field: HeaderField) -> Bool {
        if folded.isEmpty { return true }
        if ascii, let value = field.singleLineValue,
            let found = value.withUnsafeBufferPointer({ octets in
                EncodedWord.mayStart(in: octets) ? nil : Self.find(folded, in: octets, fold: Self.asciiLowercase)
            })
        {
            return found
        }
        return isFound(in: EncodedWord.decode(field.value))
    }

    func isFound(in haystack: String) -> Bool {
        if folded.isEmpty { return true }
        if ascii {
            var haystack = haystack
            return haystack.withUTF8 { Self.find(folded, in: $0, fold: Self.asciiLowercase) }
        }
        var lowered = haystack.lowercased()
        return lowered.withUTF8 { Self.find(folded, in: $0, fold: { $0 }) }
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, fold: (UInt8) -> UInt8) -> Bool {
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        var start = 0
        let lastStart = haystack.count - needle.count
        while start <= lastStart {
            if fold(haystack[start]) == first {
                var offset = 1
                while offset < needle.count, fold(haystack[start + offset]) == needle[offset] { offset += 1 }
                if offset == needle.count { return true }
            }
            start += 1
        }
        return false
    }
}

/// Evaluates search keys (RFC 9051 §6.4.4, RFC 3501 §6.4.4, RFC 5032 WITHIN, RFC 7162 MODSEQ,
/// RFC 8514 SAVEDATE) against candidates.
struct SearchEvaluator {
    /// The search strings of the key, decoded from the command's charset and prepared.
    let texts: [ByteString: SearchText]
    let view: MailboxView
    let now: Date
    let imap4rev2: Bool

    func matches(_ key: SearchKey, _ message: SearchCandidate) -> Bool {
        let state = message.summary
        switch key {
        case .all: return true
        case .answered: return state.flags.contains(.answered)
        case .deleted: return state.flags.contains(.deleted)
        case .draft: return state.flags.contains(.draft)
        case .flagged: return state.flags.contains(.flagged)
        case .seen: return state.flags.contains(.seen)
        case .unanswered: return !state.flags.contains(.answered)
        case .undeleted: return !state.flags.contains(.deleted)
        case .undraft: return !state.flags.contains(.draft)
        case .unflagged: return !state.flags.contains(.flagged)
        case .unseen: return !state.flags.contains(.seen)
        case .recent: return message.recent
        case .new: return message.recent && !state.flags.contains(.seen)
        case .old: return !message.recent
        case let .keyword(flag): return hasFlag(flag, state)
        case let .unkeyword(flag): return !hasFlag(flag, state)
        case let .bcc(text): return addressField("Bcc", contains: text, message)
        case let .cc(text): return addressField("Cc", contains: text, message)
        case let .from(text): return addressField("From", contains: text, message)
        case let .to(text): return addressField("To", contains: text, message)
        case let .subject(text): return header("Subject", contains: text, message)
        case let .header(name, text):
            // RFC 9051 §6.4.4: an empty string matches every message that has the field.
            if text.isEmpty { return message.hasField(name) }
            return header(name, contains: text, message)
        case let .body(text):
            return prepared(text).isFound(in: message.body())
        case let .text(text):
            let needle = prepared(text)
            if needle.isFound(in: message.allHeaders()) { return true }
            return needle.isFound(in: message.body())
        // RFC 9051 §6.4.4 "disregarding time and timezone": the day as the date was given.
        case let .before(date): return Self.day(state.internalDate, zone: state.internalDateZone) < date
        case let .on(date): return Self.day(state.internalDate, zone: state.internalDateZone) == date
        case let .since(date): return Self.day(state.internalDate, zone: state.internalDateZone) >= date
        case let .sentBefore(date): return sentDate(message).map { $0 < date } ?? false
        case let .sentOn(date): return sentDate(message).map { $0 == date } ?? false
        case let .sentSince(date): return sentDate(message).map { $0 >= date } ?? false
        case let .savedBefore(date): return Self.day(state.saveDate, zone: 0) < date
        case let .savedOn(date): return Self.day(state.saveDate, zone: 0) == date
        case let .savedSince(date): return Self.day(state.saveDate, zone: 0) >= date
        case .savedDateSupported: return true
        case let .larger(size): return UInt64(max(0, state.size)) > size
        case let .smaller(size): return UInt64(max(0, state.size)) < size
        case let .older(seconds): return state.internalDate <= now.addingTimeInterval(-Double(seconds))
        case let .younger(seconds): return state.internalDate >= now.addingTimeInterval(-Double(seconds))
        case let .modSeq(search):
            // RFC 7162 §3.1.5: without per-flag mod-sequences, the message's is used.
            return UInt64(max(0, state.modSeq)) >= search.value
        case let .emailID(id):
            return ObjectID.email(fileID: state.fileID) == id
        case .threadID:
            // RFC 8474 §5.2: no message has a THREADID here (it is NIL).
            return false
        case let .sequenceSet(set):
            if case .lastResult = set { return view.savedResult.contains(state.uid) }
            return set.resolved(largest: view.count).contains(message.number)
        case let .uid(set):
            if case .lastResult = set { return view.savedResult.contains(state.uid) }
            return set.resolved(largest: view.lastUID).contains(state.uid)
        case let .not(inner):
            return !matches(inner, message)
        case let .or(a, b):
            if matches(a, message) { return true }
            return matches(b, message)
        case let .and(keys):
            for inner in keys where !matches(inner, message) { return false }
            return true
        }
    }

    private func hasFlag(_ flag: Flag, _ state: MessageSummary) -> Bool {
        if let system = MessageFlags(imapName: flag.rawValue) { return state.flags.contains(system) }
        return state.keywords.contains { $0.lowercased() == flag.rawValue.lowercased() }
    }

    private func header(_ name: String, contains text: ByteString, _ message: SearchCandidate) -> Bool {
        let needle = prepared(text)
        return message.hasField(name) { needle.isFound(inValueOf: $0) }
    }

    /// RFC 9051 §6.4.4: FROM, TO, CC and BCC match "the envelope structure's" field. So
    /// besides the field's text, each address counts as the envelope holds it: the decoded
    /// name, and mailbox@host without comments or spaces, which finds `user@example.org` in
    /// `user (office) @ example.org`.
    private func addressField(_ name: String, contains text: ByteString, _ message: SearchCandidate) -> Bool {
        let needle = prepared(text)
        return message.hasField(name) { field in
            if needle.isFound(inValueOf: field) { return true }
            for address in AddressList.mailboxes(AddressList.parseLenient(field.value)) {
                if needle.isFound(in: address.localPart + "@" + address.domain) { return true }
                if let name = address.displayName, needle.isFound(in: EncodedWord.decode(name)) { return true }
            }
            return false
        }
    }

    private func prepared(_ text: ByteString) -> SearchText {
        // Every string of the key is prepared up front (`searchTexts`); this is a fallback.
        texts[text] ?? SearchText(String(decoding: text.bytes, as: UTF8.self))
    }

    /// The search strings in `key`, for preparing them once.
    static func searchTexts(_ key: SearchKey) -> [ByteString] {
        switch key {
        case let .bcc(text), let .cc(text), let .from(text), let .to(text), let .subject(text), let .header(_, text), let .body(text),
            let .text(text):
            return [text]
        case let .not(inner): return searchTexts(inner)
        case let .or(a, b): return searchTexts(a) + searchTexts(b)
        case let .and(keys): return keys.flatMap(searchTexts)
        default: return []
        }
    }

    /// The Date: field's day as written, in its own zone (RFC 9051 §6.4.4: disregarding time
    /// and timezone).
    private func sentDate(_ message: SearchCandidate) -> IMAPDate? {
        guard let value = message.header()?.first("Date"),
              let parsed = MessageDate.parseLenient(value)
        else { return nil }
        return Self.day(parsed.date, zone: parsed.zoneOffsetSeconds / 60)
    }

    static func day(_ date: Date, zone: Int) -> IMAPDate {
        IMAPDateTime(date, zoneMinutes: zone).date
    }

    /// How much of a message a key reads.
    enum Depth: Comparable {
        case summary, header, body
    }

    /// The header fields the keys of a `.header`-depth search read.
    static func headerFields(_ key: SearchKey) -> Set<String> {
        switch key {
        case .bcc: return ["Bcc"]
        case .cc: return ["Cc"]
        case .from: return ["From"]
        case .to: return ["To"]
        case .subject: return ["Subject"]
        case let .header(name, _): return [name]
        case .sentBefore, .sentOn, .sentSince: return ["Date"]
        case let .not(inner): return headerFields(inner)
        case let .or(a, b): return headerFields(a).union(headerFields(b))
        case let .and(keys): return keys.reduce(into: []) { $0.formUnion(headerFields($1)) }
        default: return []
        }
    }

    static func depth(_ key: SearchKey) -> Depth {
        switch key {
        case .bcc, .cc, .from, .to, .subject, .header, .sentBefore, .sentOn, .sentSince: return .header
        case .body, .text: return .body
        case let .not(inner): return depth(inner)
        case let .or(a, b): return max(depth(a), depth(b))
        case let .and(keys): return keys.map(depth).max() ?? .summary
        default: return .summary
        }
    }

    static func usesModSeq(_ key: SearchKey) -> Bool {
        switch key {
        case .modSeq: return true
        case let .not(inner): return usesModSeq(inner)
        case let .or(a, b): return usesModSeq(a) || usesModSeq(b)
        case let .and(keys): return keys.contains(where: usesModSeq)
        default: return false
        }
    }
}

extension IMAPSession {
    /// The search strings' decoder for a CHARSET (RFC 9051 §6.4.4: US-ASCII and UTF-8 at
    /// least); nil for a charset the server does not know (NO [BADCHARSET]).
    static func searchDecoder(charset: String?) -> ((ByteString) -> String)? {
        guard let charset, !["UTF-8", "US-ASCII", "UTF8"].contains(charset.uppercased()) else {
            return { String(decoding: $0.bytes, as: UTF8.self) }
        }
        guard Charset.isSupported(charset) else { return nil }
        return { (try? Charset.decode($0.bytes, charset: charset)) ?? String(decoding: $0.bytes, as: UTF8.self) }
    }

    /// The messages of the selected mailbox matching `key`, ascending: (sequence number, UID,
    /// mod-sequence).
    func matchingMessages(_ key: SearchKey, charset: String?) async throws -> [(number: UInt32, uid: UInt32, modSeq: Int64)] {
        guard let view = selected else { return [] }
        guard let decode = Self.searchDecoder(charset: charset) else {
            throw SessionError.no("charset not supported", .badCharset(["UTF-8", "US-ASCII"]))
        }
        let account = try requireAccount()
        if Self.searchUsesModSeq(key) { enableCondStore() }
        var texts: [ByteString: SearchText] = [:]
        for text in SearchEvaluator.searchTexts(key) where texts[text] == nil { texts[text] = SearchText(decode(text)) }
        let evaluator = SearchEvaluator(texts: texts, view: view, now: settings.now(), imap4rev2: imap4rev2)
        var out: [(UInt32, UInt32, Int64)] = []
        let limit = settings.limits.maxSearchBodySize
        func evaluate(_ summary: MessageSummary, header: HeaderSection? = nil, stored: StoredMessage? = nil) {
            // Only messages the client knows: new ones appear with their EXISTS first.
            guard let number = view.sequenceNumber(of: summary.uid) else { return }
            let candidate = SearchCandidate(
                number: number, summary: summary, recent: view.recent.contains(summary.uid), bodyLimit: limit,
                header: header, stored: stored)
            if evaluator.matches(key, candidate) { out.append((number, summary.uid, summary.modSeq)) }
        }
        switch SearchEvaluator.depth(key) {
        case .body:
            try await forEachStoredMessage(view.uids, in: view.id, account: account) { evaluate($0.summary, stored: $0) }
        case .header:
            // Decided where the database is read: only the matches come back.
            let names = HeaderNames(SearchEvaluator.headerFields(key))
            let matches = try await account.summaries(in: view.id, uids: UIDSet(view.uids), only: names) { summary, header in
                guard let number = view.sequenceNumber(of: summary.uid) else { return false }
                let candidate = SearchCandidate(
                    number: number, summary: summary, recent: view.recent.contains(summary.uid), bodyLimit: limit, header: header, stored: nil)
                return evaluator.matches(key, candidate)
            }
            for summary in matches {
                if let number = view.sequenceNumber(of: summary.uid) { out.append((number, summary.uid, summary.modSeq)) }
            }
        case .summary:
            for summary in try await account.messages(in: view.id) { evaluate(summary) }
        }
        return out
    }

    static func searchUsesModSeq(_ key: SearchKey) -> Bool { SearchEvaluator.usesModSeq(key) }

    // MARK: SEARCH (RFC 9051 §6.4.4, RFC 4731 ESEARCH, RFC 5182 SEARCHRES)

    func search(_ tag: Tag, _ command: SearchCommand) async throws -> StatusResponse {
        guard selected != nil else { return .bad("no mailbox selected") }
        let results: [(number: UInt32, uid: UInt32, modSeq: Int64)]
        do {
            results = try await matchingMessages(command.key, charset: command.charset)
        } catch {
            // RFC 5182 §2.1: a failed SEARCH ... SAVE leaves $ empty.
            if command.returnOptions?.contains(.save) == true { selected?.savedResult = NumberSet() }
            throw error
        }
        let numbers = results.map { command.byUID ? $0.uid : $0.number }
        let modSeq = Self.searchUsesModSeq(command.key) ? Self.reportedModSeq(of: results, returnOptions: command.returnOptions) : nil
        reportSearch(tag, numbers: numbers, uids: results.map(\.uid), byUID: command.byUID,
                     returnOptions: command.returnOptions, modSeq: modSeq, sorted: false)
        return .ok("SEARCH completed")
    }

    /// The MODSEQ that goes with a search's results (RFC 7162 §3.1.5; RFC 4731 §3.2): that
    /// of the one message returned for MIN alone or MAX alone, the higher of the two for MIN
    /// and MAX without ALL or COUNT, else the highest of all; nil when nothing was found.
    static func reportedModSeq(of results: [(number: UInt32, uid: UInt32, modSeq: Int64)], returnOptions: [SearchReturnOption]?) -> UInt64? {
        guard let lowest = results.min(by: { $0.number < $1.number }), let highest = results.max(by: { $0.number < $1.number }) else {
            return nil
        }
        let modSeqs: [Int64] = switch Set(returnOptions ?? []).subtracting([.save]) {
        case [.min]: [lowest.modSeq]
        case [.max]: [highest.modSeq]
        case [.min, .max]: [lowest.modSeq, highest.modSeq]
        default: results.map(\.modSeq)
        }
        return UInt64(max(0, modSeqs.max() ?? 0))
    }

    /// Writes SEARCH/SORT results: ESEARCH for RETURN options and for IMAP4rev2 clients
    /// (RFC 9051 §6.4.4), else the IMAP4rev1 SEARCH (or SORT) response; saves the result for
    /// `$` with SAVE.
    func reportSearch(_ tag: Tag, numbers: [UInt32], uids: [UInt32], byUID: Bool,
                      returnOptions: [SearchReturnOption]?, modSeq: UInt64?, sorted: Bool) {
        if let options = returnOptions, options.contains(.save) {
            // RFC 5182 §2.4: with MIN or MAX but neither ALL nor COUNT, only those are saved.
            var saved = NumberSet(uids)
            if !options.contains(.all), !options.contains(.count), options.contains(.min) || options.contains(.max) {
                var picked: [UInt32] = []
                if options.contains(.min), let first = zip(numbers, uids).min(by: { $0.0 < $1.0 }) { picked.append(first.1) }
                if options.contains(.max), let last = zip(numbers, uids).max(by: { $0.0 < $1.0 }) { picked.append(last.1) }
                saved = NumberSet(picked)
            }
            selected?.savedResult = saved
            // RFC 5182 §2.4: SAVE alone returns no ESEARCH.
            if options == [.save] { return }
        }
        guard returnOptions != nil || imap4rev2 else {
            send(sorted ? .sort(numbers, modSeq: modSeq) : .search(numbers, modSeq: modSeq))
            return
        }
        var options = returnOptions ?? []
        options.removeAll { $0 == .save }
        if options.isEmpty { options = [.all] }
        var data: [ESearchData] = []
        for option in options {
            switch option {
            case .min: if let min = numbers.min() { data.append(.min(min)) }
            case .max: if let max = numbers.max() { data.append(.max(max)) }
            case .count: data.append(.count(UInt32(clamping: numbers.count)))
            case .all: if !numbers.isEmpty { data.append(.all(sorted ? SequenceSet(ordered: numbers) : SequenceSet(NumberSet(numbers)))) }
            case .save: break
            }
        }
        if let modSeq { data.append(.modSeq(modSeq)) }
        send(.esearch(ESearchResponse(tag: tag, byUID: byUID, data: data)))
    }
}
