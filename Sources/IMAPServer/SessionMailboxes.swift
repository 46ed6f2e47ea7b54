import IMAP
import Store

/// LIST patterns (RFC 9051 §6.3.9): `*` matches anything, `%` anything but the hierarchy
/// delimiter. Matching walks the name once per pattern position with backtracking limited
/// to the last wildcard, so a hostile pattern cannot blow up.
struct ListPattern {
    let pattern: [Character]

    /// The reference is prepended to the pattern (RFC 9051 §6.3.9). INBOX is
    /// case-insensitive (§5.1), also as the first level of a hierarchy.
    init(reference: String, pattern: String) {
        var full = reference + pattern
        let slash = full.firstIndex(of: "/") ?? full.endIndex
        if full[full.startIndex..<slash].caseInsensitiveCompare("INBOX") == .orderedSame {
            full = "INBOX" + full[slash...]
        }
        self.pattern = Array(full)
    }

    func matches(_ name: String) -> Bool {
        matches(Array(name), 0, 0, 0)
    }

    private func matches(_ name: [Character], _ p: Int, _ n: Int, _ depth: Int) -> Bool {
        var p = p
        var n = n
        while p < pattern.count {
            let c = pattern[p]
            if c == "*" || c == "%" {
                // Collapse runs of wildcards; try every possible length.
                guard depth < 32 else { return false }
                var end = n
                while true {
                    if matches(name, p + 1, end, depth + 1) { return true }
                    guard end < name.count else { return false }
                    if c == "%", name[end] == "/" { return false }
                    end += 1
                }
            }
            guard n < name.count, name[n] == c else { return false }
            p += 1
            n += 1
        }
        return n == name.count
    }

    /// Whether an inferior of `name` could match (for CHILDINFO, RFC 5258 §3.5).
    func matchesWithChildren(_ name: String) -> Bool { matches(name + "/x") || matches(name + "/") }
}

extension IMAPSession {
    // MARK: LIST (RFC 9051 §6.3.9, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154)

    func list(_ command: ListCommand) async throws -> StatusResponse {
        let account = try requireAccount()
        // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root.
        if command.patterns == [""] {
            send(.list(ListResponse(attributes: [.noSelect], delimiter: "/", mailbox: MailboxName(""))))
            return .ok("LIST completed")
        }
        let patterns = command.patterns.map { ListPattern(reference: command.reference, pattern: $0) }
        let mailboxes = try await account.mailboxes()
        let names = Set(mailboxes.map(\.name))
        let subscriptions = Set(try await account.subscriptions())
        let select = command.selectOptions
        let wantSubscribed = command.returnOptions.subscribed || select.subscribed

        struct Entry {
            var name: String
            var attributes: [MailboxAttribute]
            var childInfo: Bool
            var info: MailboxInfo?
        }
        var entries: [Entry] = []
        var listed = Set<String>()

        func hasChildren(_ name: String) -> Bool {
            let prefix = name + "/"
            return names.contains { $0.hasPrefix(prefix) }
        }

        if select.subscribed {
            // RFC 5258 §3.1: subscribed names, also of mailboxes that do not exist.
            for name in subscriptions.sorted() where patterns.contains(where: { $0.matches(name) }) {
                let info = mailboxes.first { $0.name == name }
                if select.specialUse, info?.role?.specialUseAttribute == nil { continue }
                var attributes: [MailboxAttribute] = [.subscribed]
                if info == nil { attributes.append(.nonExistent) } else {
                    attributes.append(hasChildren(name) ? .hasChildren : .hasNoChildren)
                    if let attribute = info?.role?.specialUseAttribute.flatMap(MailboxAttribute.init) { attributes.append(attribute) }
                }
                entries.append(Entry(name: name, attributes: attributes, childInfo: false, info: info))
                listed.insert(name)
            }
            if select.recursiveMatch {
                // RFC 5258 §3.5: parents of subscribed matches that are not listed themselves.
                for mailbox in mailboxes where !listed.contains(mailbox.name) && patterns.contains(where: { $0.matches(mailbox.name) }) {
                    let prefix = mailbox.name + "/"
                    if subscriptions.contains(where: { $0.hasPrefix(prefix) }) {
                        entries.append(Entry(name: mailbox.name, attributes: [.hasChildren], childInfo: true, info: mailbox))
                    }
                }
                entries.sort { $0.name < $1.name }
            }
        } else {
            for mailbox in mailboxes where patterns.contains(where: { $0.matches(mailbox.name) }) {
                if select.specialUse, mailbox.role?.specialUseAttribute == nil { continue }
                var attributes: [MailboxAttribute] = [hasChildren(mailbox.name) ? .hasChildren : .hasNoChildren]
                if wantSubscribed, subscriptions.contains(mailbox.name) { attributes.append(.subscribed) }
                // RFC 6154 §2: special-use attributes in every LIST response.
                if let attribute = mailbox.role?.specialUseAttribute.flatMap(MailboxAttribute.init) { attributes.append(attribute) }
                entries.append(Entry(name: mailbox.name, attributes: attributes, childInfo: false, info: mailbox))
            }
        }

        for entry in entries {
            send(.list(ListResponse(
                attributes: entry.attributes, delimiter: "/", mailbox: MailboxName(entry.name),
                extendedItems: entry.childInfo ? [.childInfo(["SUBSCRIBED"])] : [])))
            // RFC 5819 §2: a STATUS response after each selectable mailbox's LIST.
            if let items = command.returnOptions.status, let info = entry.info {
                send(.status(MailboxName(info.name), try await statusValues(info, items)))
            }
        }
        return .ok("LIST completed")
    }

    /// LSUB (RFC 3501 §6.3.9): subscribed names matching the pattern. A subscribed name
    /// below the level a "%" stops at shows as its superior at that level, flagged
    /// \Noselect, unless that superior is subscribed itself ("foo/bar" subscribed, "foo"
    /// not: `LSUB "" %` must return foo, not foo/bar, with \Noselect).
    func lsub(reference: String, pattern: String) async throws -> StatusResponse {
        let account = try requireAccount()
        let matcher = ListPattern(reference: reference, pattern: pattern)
        let mailboxes = Set(try await account.mailboxes().map(\.name))
        let subscribed = try await account.subscriptions()
        let subscribedNames = Set(subscribed)
        var superiorsSent: Set<String> = []
        for name in subscribed {
            if matcher.matches(name) {
                send(.lsub(ListResponse(attributes: mailboxes.contains(name) ? [] : [.noSelect], delimiter: "/", mailbox: MailboxName(name))))
                continue
            }
            var superior = Substring(name)
            while let slash = superior.lastIndex(of: "/") {
                superior = superior[..<slash]
                if subscribedNames.contains(String(superior)) { break }
                if matcher.matches(String(superior)) {
                    if superiorsSent.insert(String(superior)).inserted {
                        send(.lsub(ListResponse(attributes: [.noSelect], delimiter: "/", mailbox: MailboxName(String(superior)))))
                    }
                    break
                }
            }
        }
        return .ok("LSUB completed")
    }

    // MARK: CREATE (RFC 9051 §6.3.4, RFC 6154 §3 CREATE-SPECIAL-USE)

    func create(_ name: MailboxName, specialUse: [MailboxAttribute]) async throws -> StatusResponse {
        let account = try requireAccount()
        if name.isInbox {
            return .no("INBOX always exists", code: .alreadyExists)
        }
        var role: MailboxRole?
        for attribute in specialUse {
            guard role == nil, let found = MailboxRole(specialUseAttribute: attribute.rawValue) else {
                // RFC 6154 §3: USEATTR for an attribute the server cannot set.
                return .no("special-use attribute \(attribute) is not supported", code: .useAttr)
            }
            role = found
        }
        let created = try await account.createMailbox(name.name, role: role)
        // RFC 8474 §4.1: the new mailbox's id in the tagged OK.
        return .ok("CREATE completed", code: .mailboxID(ObjectID.mailbox(created.id)))
    }

    // MARK: DELETE (RFC 9051 §6.3.5)

    func delete(_ name: MailboxName) async throws -> StatusResponse {
        let account = try requireAccount()
        if let view = selected, view.name == name.name {
            // Deleting the selected mailbox deselects it first.
            selected = nil
            state = .authenticated
        }
        try await account.deleteMailbox(name.name)
        return .ok("DELETE completed")
    }

    // MARK: RENAME (RFC 9051 §6.3.6)

    func rename(from: MailboxName, to: MailboxName) async throws -> StatusResponse {
        let account = try requireAccount()
        if to.isInbox { return .no("cannot rename to INBOX", code: .alreadyExists) }
        // Renaming INBOX moves its messages to the new mailbox and leaves INBOX empty; the
        // store does that (RFC 9051 §6.3.6).
        try await account.renameMailbox(from.name, to: to.name)
        if var view = selected, view.name == from.name || view.name.hasPrefix(from.name + "/"), !from.isInbox {
            view.name = to.name + view.name.dropFirst(from.name.count)
            selected = view
        }
        return .ok("RENAME completed")
    }

    // MARK: STATUS (RFC 9051 §6.3.11 and the extensions' items)

    func status(_ name: MailboxName, _ items: [StatusItem]) async throws -> StatusResponse {
        let account = try requireAccount()
        guard let info = try await account.mailbox(named: name.name) else {
            return .no("no such mailbox", code: .nonExistent)
        }
        send(.status(MailboxName(info.name), try await statusValues(info, items)))
        return .ok("STATUS completed")
    }

    func statusValues(_ info: MailboxInfo, _ items: [StatusItem]) async throws -> [StatusValue] {
        var values: [StatusValue] = []
        for item in items {
            switch item {
            case .messages: values.append(.messages(UInt32(clamping: info.messages)))
            case .uidNext: values.append(.uidNext(info.uidNext))
            case .uidValidity: values.append(.uidValidity(info.uidValidity))
            case .unseen: values.append(.unseen(UInt32(clamping: info.unseen)))
            case .deleted: values.append(.deleted(UInt32(clamping: info.deleted)))
            case .size: values.append(.size(UInt64(clamping: info.size)))
            case .recent:
                // RFC 3501 §6.3.10: the selected mailbox's are this session's; another
                // mailbox's are those no session has taken yet.
                let recent = if let selected, selected.id == info.id {
                    selected.recent.count
                } else {
                    try await requireAccount().unclaimedRecentCount(in: info.id)
                }
                values.append(.recent(UInt32(clamping: recent)))
            case .highestModSeq:
                enableCondStore()
                values.append(.highestModSeq(UInt64(clamping: info.highestModSeq)))
            case .appendLimit:
                values.append(.appendLimit(UInt32(clamping: settings.limits.parser.maxAppendSize)))
            case .mailboxID:
                values.append(.mailboxID(ObjectID.mailbox(info.id)))
            case .deletedStorage:
                // DELETED-STORAGE (RFC 9208) is not advertised.
                continue
            }
        }
        return values
    }

    // MARK: QUOTA (RFC 9208)

    /// The one quota root of an account is "" (RFC 9208 §3.2: all mailboxes share it); its
    /// one resource is STORAGE, the account's `quotaBytes` (which the store enforces).
    func quotaResources() async throws -> [QuotaResource]? {
        let account = try requireAccount()
        guard let limit = account.quotaBytes else { return nil }
        let usage = try await account.quotaUsage()
        // RFC 9208 §5.1: STORAGE in units of 1024 octets.
        return [QuotaResource(name: "STORAGE", usage: UInt64(max(0, usage.storage)) / 1024, limit: UInt64(max(0, limit)) / 1024)]
    }

    func getQuota(root: String) async throws -> StatusResponse {
        guard root.isEmpty, let resources = try await quotaResources() else {
            return .no("no such quota root", code: .nonExistent)
        }
        send(.quota(root: "", resources))
        return .ok("GETQUOTA completed")
    }

    func getQuotaRoot(_ name: MailboxName) async throws -> StatusResponse {
        guard try await requireAccount().mailbox(named: name.name) != nil else {
            return .no("no such mailbox", code: .nonExistent)
        }
        if let resources = try await quotaResources() {
            send(.quotaRoot(name, roots: [""]))
            send(.quota(root: "", resources))
        } else {
            send(.quotaRoot(name, roots: []))
        }
        return .ok("GETQUOTAROOT completed")
    }
}
