import Foundation
import IMAP
import Message
import Store

/// What SORT and THREAD know of one matching message.
struct SortMessage {
    var number: UInt32
    var uid: UInt32
    var modSeq: Int64
    var size: Int64
    var arrival: Date
    /// RFC 5256 §3 DATE: the Date: field, else the internal date.
    var sent: Date
    /// RFC 5256 §2.1 base subject.
    var subject: String
    var from: String
    var to: String
    var cc: String
    var displayFrom: String
    var displayTo: String
    var messageID: String?
    /// References, else the first In-Reply-To message-id (RFC 5256 §3 REFERENCES step 1).
    var references: [String]
    /// The subject shows a reply or forward (RFC 5256 §2.1 step 6, used when merging threads).
    var isReply: Bool
}

enum SortSupport {
    /// RFC 5256 §2.1: the base subject: encoded-words decoded, white space collapsed, "Re:",
    /// "Fwd:", "[list]" prefixes and "(fwd)" trailers removed, uppercased for comparison
    /// (i;ascii-casemap). Also says whether anything reply-like was removed.
    static func baseSubject(_ raw: String) -> (subject: String, isReply: Bool) {
        var s = EncodedWord.decode(raw).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }).joined(separator: " ")
        var isReply = false
        var changed = true
        while changed {
            changed = false
            // Step 2: trailers.
            while true {
                let upper = s.uppercased()
                if upper.hasSuffix("(FWD)") {
                    s = String(s.dropLast(5)).trimmingCharacters(in: .whitespaces)
                    isReply = true
                } else if s.hasSuffix(" ") {
                    s = String(s.dropLast())
                } else {
                    break
                }
            }
            // Steps 3-5: leaders and blobs.
            var inner = true
            while inner {
                inner = false
                s = s.trimmingCharacters(in: .whitespaces)
                if let stripped = stripLeader(s) {
                    s = stripped
                    isReply = true
                    inner = true
                    changed = true
                    continue
                }
                if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
                    let rest = String(s[s.index(after: close)...]).trimmingCharacters(in: .whitespaces)
                    if !rest.isEmpty, !s[s.index(after: s.startIndex)..<close].contains("[") {
                        s = rest
                        inner = true
                        changed = true
                    }
                }
            }
            // Step 6: "[fwd: ... ]".
            let upper = s.uppercased()
            if upper.hasPrefix("[FWD:"), s.hasSuffix("]") {
                s = String(s.dropFirst(5).dropLast()).trimmingCharacters(in: .whitespaces)
                isReply = true
                changed = true
            }
        }
        return (s.uppercased(), isReply)
    }

    /// `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`, after optional blobs.
    private static func stripLeader(_ s: String) -> String? {
        var rest = Substring(s)
        // Leading blobs before the leader.
        while rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: close)...].drop { $0 == " " || $0 == "\t" }
        }
        let upper = rest.uppercased()
        let length: Int
        if upper.hasPrefix("RE") { length = 2 } else if upper.hasPrefix("FWD") { length = 3 } else if upper.hasPrefix("FW") { length = 2 } else { return nil }
        var tail = rest.dropFirst(length).drop { $0 == " " || $0 == "\t" }
        if tail.hasPrefix("["), let close = tail.firstIndex(of: "]") {
            tail = tail[tail.index(after: close)...]
        }
        guard tail.hasPrefix(":") else { return nil }
        return String(tail.dropFirst())
    }

    /// The fields sorting and threading read (RFC 5256 §3, §5; RFC 5957).
    static let fields = HeaderNames(["Subject", "Date", "References", "In-Reply-To", "From", "To", "Cc", "Message-ID"])

    /// The addr-mailbox of the first address (RFC 5256 §3 FROM/TO/CC), uppercased.
    static func firstMailbox(_ value: String?) -> String {
        guard let value, let first = AddressList.mailboxes(AddressList.parseLenient(value)).first else { return "" }
        return first.localPart.uppercased()
    }

    /// RFC 5957 DISPLAYFROM/DISPLAYTO: the display name, else the address.
    static func firstDisplay(_ value: String?) -> String {
        guard let value, let first = AddressList.mailboxes(AddressList.parseLenient(value)).first else { return "" }
        return (first.displayName ?? first.addrSpec).uppercased()
    }
}

extension IMAPSession {
    /// The matching messages with what sorting and threading need.
    private func sortMessages(_ key: SearchKey, charset: String) async throws -> [SortMessage] {
        guard let view = selected else { return [] }
        let account = try requireAccount()
        let matches = try await matchingMessages(key, charset: charset)
        var matchByUID: [UInt32: (number: UInt32, uid: UInt32, modSeq: Int64)] = [:]
        for match in matches { matchByUID[match.uid] = match }
        var out: [SortMessage] = []
        try await forEachStoredHeader(matches.map(\.uid), in: view.id, account: account, only: SortSupport.fields) { stored in
            guard let match = matchByUID[stored.summary.uid] else { return }
            let summary = stored.summary
            let header = stored.header
            let (subject, isReply) = SortSupport.baseSubject(header.first("Subject") ?? "")
            let sent = header.first("Date").flatMap { MessageDate.parseLenient($0)?.date } ?? summary.internalDate
            var references = header.first("References").map(MessageID.parseList) ?? []
            if references.isEmpty, let inReplyTo = header.first("In-Reply-To").map(MessageID.parseList)?.first {
                references = [inReplyTo]
            }
            out.append(SortMessage(
                number: match.number, uid: match.uid, modSeq: match.modSeq, size: summary.size, arrival: summary.internalDate,
                sent: sent, subject: subject, from: SortSupport.firstMailbox(header.first("From")),
                to: SortSupport.firstMailbox(header.first("To")), cc: SortSupport.firstMailbox(header.first("Cc")),
                displayFrom: SortSupport.firstDisplay(header.first("From")), displayTo: SortSupport.firstDisplay(header.first("To")),
                messageID: header.first("Message-ID").flatMap(MessageID.parse), references: references,
                isReply: isReply || (header.first("Subject") ?? "").uppercased().hasPrefix("RE:")))
        }
        return out
    }

    // MARK: SORT (RFC 5256 §3), ESORT (RFC 5267 §3)

    func sort(_ tag: Tag, _ command: SortCommand) async throws -> StatusResponse {
        let messages = try await sortMessages(command.key, charset: command.charset)
        let sorted = messages.sorted { a, b in
            for criterion in command.criteria {
                let order = Self.compare(a, b, criterion.key)
                if order != .orderedSame { return criterion.reverse ? order == .orderedDescending : order == .orderedAscending }
            }
            // RFC 5256 §3: ties are broken by sequence number.
            return a.number < b.number
        }
        let numbers = sorted.map { command.byUID ? $0.uid : $0.number }
        let modSeq: UInt64? = Self.searchUsesModSeq(command.key) && !sorted.isEmpty
            ? UInt64(max(0, sorted.map(\.modSeq).max() ?? 0)) : nil
        if let options = command.returnOptions {
            // RFC 5267 §3.2: MIN and MAX are the first and last in sort order.
            if options.contains(.min) || options.contains(.max) {
                var data: [ESearchData] = []
                for option in options {
                    switch option {
                    case .min: if let first = numbers.first { data.append(.min(first)) }
                    case .max: if let last = numbers.last { data.append(.max(last)) }
                    case .count: data.append(.count(UInt32(clamping: numbers.count)))
                    case .all: if !numbers.isEmpty { data.append(.all(SequenceSet(ordered: numbers))) }
                    case .save: selected?.savedResult = NumberSet(sorted.map(\.uid))
                    }
                }
                if let modSeq { data.append(.modSeq(modSeq)) }
                send(.esearch(ESearchResponse(tag: tag, byUID: command.byUID, data: data)))
                return .ok("SORT completed")
            }
            reportSearch(tag, numbers: numbers, uids: sorted.map(\.uid), byUID: command.byUID, returnOptions: options, modSeq: modSeq, sorted: true)
        } else {
            send(.sort(numbers, modSeq: modSeq))
        }
        return .ok("SORT completed")
    }

    static func compare(_ a: SortMessage, _ b: SortMessage, _ key: SortKey) -> ComparisonResult {
        func order<T: Comparable>(_ x: T, _ y: T) -> ComparisonResult { x < y ? .orderedAscending : x > y ? .orderedDescending : .orderedSame }
        switch key {
        case .arrival: return order(a.arrival, b.arrival)
        case .date: return order(a.sent, b.sent)
        case .size: return order(a.size, b.size)
        case .subject: return order(a.subject, b.subject)
        case .from: return order(a.from, b.from)
        case .to: return order(a.to, b.to)
        case .cc: return order(a.cc, b.cc)
        case .displayFrom: return order(a.displayFrom, b.displayFrom)
        case .displayTo: return order(a.displayTo, b.displayTo)
        }
    }

    // MARK: THREAD (RFC 5256 §3)

    func thread(_ command: ThreadCommand) async throws -> StatusResponse {
        let messages = try await sortMessages(command.key, charset: command.charset)
        let threads: [ThreadNode]
        switch command.algorithm {
        case .orderedSubject:
            threads = Threading.orderedSubject(messages, byUID: command.byUID)
        case .references:
            threads = Threading.references(messages, byUID: command.byUID)
        case let .other(name):
            return .bad("threading algorithm \(name) is not supported")
        }
        send(.thread(threads))
        return .ok("THREAD completed")
    }
}

/// RFC 5256 §3 threading algorithms.
enum Threading {
    /// ORDEREDSUBJECT: messages grouped by base subject; the first (by sent date) is the
    /// parent of the rest; threads in the order of their first message.
    static func orderedSubject(_ messages: [SortMessage], byUID: Bool) -> [ThreadNode] {
        let sorted = messages.sorted { ($0.subject, $0.sent, $0.number) < ($1.subject, $1.sent, $1.number) }
        var groups: [[SortMessage]] = []
        for message in sorted {
            if let last = groups.last?.first, last.subject == message.subject {
                groups[groups.count - 1].append(message)
            } else {
                groups.append([message])
            }
        }
        groups.sort { ($0[0].sent, $0[0].number) < ($1[0].sent, $1[0].number) }
        return groups.map { group in
            let id: (SortMessage) -> UInt32 = { byUID ? $0.uid : $0.number }
            return ThreadNode(id(group[0]), group.dropFirst().map { ThreadNode(id($0)) })
        }
    }

    /// One container of the REFERENCES algorithm.
    final class Container {
        var message: SortMessage?
        weak var parent: Container?
        var children: [Container] = []

        init(_ message: SortMessage? = nil) { self.message = message }

        func isAncestor(of other: Container) -> Bool {
            var current: Container? = other
            var steps = 0
            while let node = current, steps < 10_000 {
                if node === self { return true }
                current = node.parent
                steps += 1
            }
            return false
        }

        func setParent(_ newParent: Container?) {
            if let parent { parent.children.removeAll { $0 === self } }
            parent = newParent
            newParent?.children.append(self)
        }

        /// The date that orders this container: its message's, else its first child's.
        var date: Date {
            if let message { return message.sent }
            return children.map(\.date).min() ?? .distantPast
        }

        var number: UInt32 { message?.number ?? children.map(\.number).min() ?? 0 }
    }

    /// REFERENCES (RFC 5256 §3, after J. Zawinski's algorithm): threads by Message-ID,
    /// References and In-Reply-To, then by base subject.
    static func references(_ messages: [SortMessage], byUID: Bool) -> [ThreadNode] {
        var table: [String: Container] = [:]
        var all: [Container] = []
        func container(_ id: String) -> Container {
            if let found = table[id] { return found }
            let made = Container()
            table[id] = made
            all.append(made)
            return made
        }
        // Step 1.
        for (index, message) in messages.enumerated() {
            var id = message.messageID ?? "<tern-missing-\(index)>"
            if let existing = table[id], existing.message != nil { id = "<tern-duplicate-\(index)>" }
            let own = container(id)
            own.message = message
            var previous: Container?
            for reference in message.references.prefix(MessageID.maxReferences) {
                let node = container(reference)
                if let previous, node.parent == nil, node !== previous, !node.isAncestor(of: previous) {
                    node.setParent(previous)
                }
                previous = node
            }
            if let previous, previous !== own, !own.isAncestor(of: previous) {
                own.setParent(previous)
            } else if previous == nil || previous === own {
                own.setParent(nil)
            }
        }
        // Step 2: the root set.
        var roots = all.filter { $0.parent == nil }
        // Step 4: prune empty containers.
        func prune(_ nodes: [Container], atRoot: Bool) -> [Container] {
            var out: [Container] = []
            for node in nodes {
                node.children = prune(node.children, atRoot: false)
                if node.message == nil {
                    if node.children.isEmpty { continue }
                    if !atRoot || node.children.count == 1 {
                        for child in node.children { child.parent = node.parent }
                        out += node.children
                        continue
                    }
                }
                out.append(node)
            }
            return out
        }
        roots = prune(roots, atRoot: true)
        for root in roots { root.parent = nil }
        // Step 5: group the root set by base subject.
        var bySubject: [String: Container] = [:]
        for root in roots {
            guard let subject = (root.message ?? root.children.first?.message)?.subject, !subject.isEmpty else { continue }
            if let current = bySubject[subject] {
                let currentReply = current.message?.isReply ?? true
                if root.message == nil && current.message != nil { bySubject[subject] = root }
                else if current.message != nil, currentReply, !(root.message?.isReply ?? true) { bySubject[subject] = root }
            } else {
                bySubject[subject] = root
            }
        }
        var merged: [Container] = []
        for root in roots {
            guard let subject = (root.message ?? root.children.first?.message)?.subject, !subject.isEmpty,
                  let target = bySubject[subject], target !== root
            else {
                merged.append(root)
                continue
            }
            if target.message == nil, root.message == nil {
                for child in root.children { child.setParent(target) }
            } else if target.message == nil {
                root.setParent(target)
            } else if !(root.message?.isReply ?? false) || (target.message?.isReply ?? false) {
                // Neither or both replies: siblings under a new dummy parent.
                let dummy = Container()
                let index = merged.firstIndex { $0 === target }
                target.setParent(dummy)
                root.setParent(dummy)
                bySubject[subject] = dummy
                if let index { merged[index] = dummy } else { merged.append(dummy) }
            } else {
                root.setParent(target)
            }
        }
        roots = merged.filter { $0.parent == nil }
        // Step 6: sort by sent date, recursively.
        func sortTree(_ nodes: [Container]) -> [Container] {
            for node in nodes { node.children = sortTree(node.children) }
            return nodes.sorted { ($0.date, $0.number) < ($1.date, $1.number) }
        }
        roots = sortTree(roots)
        func node(_ container: Container) -> ThreadNode {
            ThreadNode(container.message.map { byUID ? $0.uid : $0.number }, container.children.map(node))
        }
        return roots.map(node)
    }
}
