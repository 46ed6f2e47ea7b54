import Foundation

/// Mailbox names: hierarchy separator "/", the name INBOX, Net-Unicode.
enum MailboxName {
    static let separator: Character = "/"
    static let inbox = "INBOX"

    /// The stored form of a mailbox name, or why it is not acceptable.
    ///
    /// RFC 9051 §5.1: names are Net-Unicode (RFC 5198: NFC, no control characters); a server
    /// may take denormalized UTF-8 and convert it to NFC, and then must accept the
    /// denormalized form everywhere, which normalizing every name on the way in does.
    /// "INBOX" is case-insensitive, also as the first level of a hierarchy ("inbox/x" is
    /// "INBOX/x"), so one spelling is stored. "%" and "*" are LIST wildcards (RFC 9051
    /// §6.3.9), so a name containing them could never be listed exactly; they are refused.
    static func normalize(_ raw: String, limits: StoreLimits) throws(StoreError) -> String {
        let name = UnicodeNFC.normalized(raw)
        guard !name.isEmpty else { throw .invalidMailboxName(raw, reason: "empty") }
        guard name.utf8.count <= limits.maxMailboxNameLength else {
            throw .invalidMailboxName(raw, reason: "longer than \(limits.maxMailboxNameLength) octets")
        }
        for scalar in name.unicodeScalars {
            // RFC 5198 §2: no C0/C1 controls, no DEL.
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                throw .invalidMailboxName(raw, reason: "control character")
            }
            if scalar == "%" || scalar == "*" {
                throw .invalidMailboxName(raw, reason: "contains a LIST wildcard (% or *)")
            }
        }
        var components = name.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
        guard !components.contains(where: \.isEmpty) else {
            throw .invalidMailboxName(raw, reason: "empty hierarchy level")
        }
        guard components.count <= limits.maxMailboxDepth else {
            throw .invalidMailboxName(raw, reason: "deeper than \(limits.maxMailboxDepth) levels")
        }
        if components[0].caseInsensitiveCompare(inbox) == .orderedSame { components[0] = inbox }
        return components.joined(separator: String(separator))
    }

    /// The superior names of `name`, outermost first: "a/b/c" gives "a", "a/b".
    static func parents(of name: String) -> [String] {
        let components = name.split(separator: separator, omittingEmptySubsequences: false)
        guard components.count > 1 else { return [] }
        return (1..<components.count).map { components[0..<$0].joined(separator: String(separator)) }
    }

    /// SQL bounds that select exactly the inferiors of `name` with the (mailbox name) index:
    /// names >= "name/" and < "name0" ("0" is the octet after "/"), compared as binary text.
    static func childRange(of name: String) -> (lower: String, upper: String) {
        (name + "/", name + "0")
    }
}

/// Unicode NFC of names. Foundation's normalization is costly and every delivery and
/// APPEND normalizes its names, nearly always ASCII, which is NFC already.
enum UnicodeNFC {
    static func normalized(_ text: String) -> String {
        text.utf8.allSatisfy { $0 < 0x80 } ? text : text.precomposedStringWithCanonicalMapping
    }
}

/// Account names become directory names under `<data>/accounts/`.
enum AccountName {
    static func validate(_ name: String, limits: StoreLimits) throws(StoreError) {
        guard !name.isEmpty else { throw .invalidAccountName(name, reason: "empty") }
        guard name.utf8.count <= limits.maxAccountNameLength else {
            throw .invalidAccountName(name, reason: "longer than \(limits.maxAccountNameLength) octets")
        }
        // "." first would hide the directory and allow "." and ".."; "/" would escape it.
        guard !name.hasPrefix(".") else { throw .invalidAccountName(name, reason: "starts with a dot") }
        for scalar in name.unicodeScalars {
            if scalar == "/" || scalar == "\\" { throw .invalidAccountName(name, reason: "contains a path separator") }
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                throw .invalidAccountName(name, reason: "control character")
            }
        }
        guard name == UnicodeNFC.normalized(name) else {
            throw .invalidAccountName(name, reason: "not in Unicode NFC")
        }
    }
}

/// IMAP keywords (RFC 9051 §2.3.2): atoms not starting with "\". Flags compare
/// case-insensitively, so a message keeps one spelling per keyword: the first one seen.
enum Keywords {
    /// RFC 9051 §9 atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
    static func isValid(_ keyword: String, limits: StoreLimits) -> Bool {
        guard !keyword.isEmpty, keyword.utf8.count <= limits.maxKeywordLength else { return false }
        return keyword.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"(){%*\"\\]".utf8.contains(byte)
        }
    }

    /// Validated, deduplicated (case-insensitively, first spelling kept), in a stable order.
    static func normalize(_ keywords: [String], limits: StoreLimits) throws(StoreError) -> [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for keyword in keywords {
            guard isValid(keyword, limits: limits) else { throw .invalidKeyword(keyword) }
            if seen.insert(keyword.lowercased()).inserted { out.append(keyword) }
        }
        guard out.count <= limits.maxKeywords else { throw .tooManyKeywords(limit: limits.maxKeywords) }
        return sorted(out)
    }

    static func sorted(_ keywords: [String]) -> [String] {
        keywords.sorted { ($0.lowercased(), $0) < ($1.lowercased(), $1) }
    }

    /// `base` plus those of `added` it lacks (case-insensitively).
    static func union(_ base: [String], _ added: [String]) -> [String] {
        var lower = Set(base.map { $0.lowercased() })
        var out = base
        for keyword in added where lower.insert(keyword.lowercased()).inserted { out.append(keyword) }
        return out.count == base.count ? base : sorted(out)
    }

    static func subtract(_ base: [String], _ removed: [String]) -> [String] {
        let lower = Set(removed.map { $0.lowercased() })
        return base.filter { !lower.contains($0.lowercased()) }
    }

    /// Keywords contain no space (they are atoms), so a space-joined column round-trips.
    static func encode(_ keywords: [String]) -> String { keywords.joined(separator: " ") }
    static func decode(_ column: String) -> [String] {
        column.split(separator: " ").map(String.init)
    }
}
