import Foundation

// Message identifiers: Message-ID, In-Reply-To, References, Resent-Message-ID
// (RFC 5322 §3.6.4, §3.6.6, §4.5.4). Threading (IMAP THREAD=REFERENCES, RFC 5256 §3;
// webmail conversations) compares these, so every form of one identifier must come out the
// same: CFWS removed, the id-left in its canonical quoting (RFC 5322 §3.4.1 rules, as for a
// local part), no angle brackets (§3.6.4: they are not part of the msg-id).
//
// Real mail has every kind of broken identifier, and dropping one breaks a thread, so these
// parsers never throw: they return what can be salvaged.

public enum MessageID {
    /// The most identifiers `parseList` keeps. References of a long thread grows by one
    /// per reply; a hostile 1 MB header must not become a million rows to thread.
    public static let maxReferences = 1000

    /// The longest identifier kept, in octets. A conforming msg-id cannot be folded inside
    /// (no FWS in dot-atom-text, RFC 5322 §3.6.4), so it fits one 998-octet line (§2.1.1);
    /// longer ones are junk and would bloat every index they go into.
    public static let maxLength = 998

    /// RFC 5322 §3.6.4 msg-id `"<" id-left "@" id-right ">"` → `id-left@id-right`.
    /// Also accepted: CFWS around and inside (§3.6.4 obs-id-left/obs-id-right, e.g.
    /// `<1234 @ local(blah) .machine .example>`), a quoted id-left (re-quoted only when it
    /// needs quoting), a missing "@" (`<abc>` → "abc"), white space inside the brackets
    /// that is not CFWS (removed: it is folding residue from broken software), a missing ">",
    /// text before the first "<" (taken as a phrase and ignored), and no brackets at all
    /// when the value is a single token. nil when nothing usable remains.
    public static func parse(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        let scan = scanIDs(bytes, stopAfterFirst: true)
        if let first = scan.ids.first { return first }
        guard scan.bareTokens.count == 1, let token = scan.bareTokens.first else { return nil }
        return normalize(bytes, token)
    }

    /// In-Reply-To / References (RFC 5322 §3.6.4): every msg-id in order, ignoring the
    /// phrases and comments that §4.5.4 obs-in-reply-to/obs-references allow between them and
    /// any other junk; duplicates are dropped, keeping the first occurrence. When the value
    /// holds no bracketed msg-id at all, bare tokens containing "@" are taken instead (some
    /// software omits the brackets).
    ///
    /// At most `maxReferences` are kept: the first one (the thread root) and the last
    /// `maxReferences - 1` (the parent and its nearest ancestors), because RFC 5256 §3
    /// threading and RFC 5322 §3.6.4 reply construction rely on both ends of References.
    public static func parseList(_ value: String) -> [String] {
        let bytes = Array(value.utf8)
        let scan = scanIDs(bytes, stopAfterFirst: false)
        var candidates = scan.ids
        if candidates.isEmpty {
            candidates = scan.bareTokens
                .filter { bytes[$0].contains(FieldSyntax.at) }
                .compactMap { normalize(bytes, $0) }
        }
        var seen = Set<String>()
        var unique: [String] = []
        for id in candidates where seen.insert(id).inserted {
            unique.append(id)
        }
        guard unique.count > maxReferences, let first = unique.first else { return unique }
        return [first] + unique.suffix(maxReferences - 1)
    }

    /// One pass over the value: bracketed identifiers (normalized) and the ranges of bare
    /// tokens outside brackets and comments. Each octet is looked at a bounded number of
    /// times: a "<" region ends at the next ">" or "<", so no search repeats.
    static func scanIDs(_ bytes: [UInt8], stopAfterFirst: Bool) -> (ids: [String], bareTokens: [Range<Int>]) {
        var ids: [String] = []
        var bare: [Range<Int>] = []
        var quoteUnclosable = false
        var i = 0
        let end = bytes.count
        while i < end {
            let b = bytes[i]
            if b <= FieldSyntax.space || b == 0x7F {
                i += 1
            } else if b == FieldSyntax.openParen {
                i = FieldSyntax.commentEnd(bytes, from: i, end: bytes.count)
            } else if b == FieldSyntax.less {
                var j = i + 1
                while j < end && bytes[j] != FieldSyntax.greater && bytes[j] != FieldSyntax.less { j += 1 }
                if j < end && bytes[j] == FieldSyntax.greater {
                    if let id = normalize(bytes, (i + 1)..<j) {
                        ids.append(id)
                        if stopAfterFirst { break }
                    }
                    i = j + 1
                } else {
                    // No ">": the identifier is the token after "<", if it looks like one.
                    var k = i + 1
                    while k < j && bytes[k] > FieldSyntax.space && bytes[k] != 0x7F && bytes[k] != FieldSyntax.openParen { k += 1 }
                    if bytes[(i + 1)..<k].contains(FieldSyntax.at), let id = normalize(bytes, (i + 1)..<k) {
                        ids.append(id)
                        if stopAfterFirst { break }
                    }
                    i = max(k, i + 1)
                }
            } else {
                // A bare token: up to white space, a comment or "<"; quoted strings inside it
                // are kept whole (a phrase like "Joe Smith" of §4.5.4, or a quoted id-left).
                let start = i
                while i < end {
                    let c = bytes[i]
                    if c <= FieldSyntax.space || c == 0x7F || c == FieldSyntax.openParen || c == FieldSyntax.less { break }
                    if c == FieldSyntax.dquote && !quoteUnclosable {
                        var k = i + 1
                        while k < end && bytes[k] != FieldSyntax.dquote {
                            k += bytes[k] == FieldSyntax.backslash ? 2 : 1
                        }
                        if k < end {
                            i = k + 1
                            continue
                        }
                        // Once a closing quote is not found, none after this can be.
                        quoteUnclosable = true
                    }
                    i += 1
                }
                bare.append(start..<i)
            }
        }
        return (ids, bare)
    }


    /// The canonical identifier for the text between the brackets: parsed as an addr-spec
    /// (RFC 5322 §3.6.4 id-left is a local part, id-right a domain, both with obsolete
    /// CFWS), or as a lone id-left; otherwise the raw text without white space.
    static func normalize(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        var scanner = FieldScanner(bytes, range: range, maxItems: 1)
        var id: String
        if let (left, right) = try? scanner.readIDContent(), scanner.atEnd {
            id = Address(displayName: nil, localPart: left, domain: right).addrSpec
        } else {
            id = String(decoding: bytes[range].filter { $0 > FieldSyntax.space && $0 != 0x7F }, as: UTF8.self)
        }
        guard !id.isEmpty, id.utf8.count <= maxLength else { return nil }
        return id
    }
}

extension FieldScanner {
    /// RFC 5322 §3.6.4 `id-left ["@" id-right]` with CFWS around the parts; the id-right is
    /// empty when the "@" is missing.
    mutating func readIDContent() throws(ScanFailure) -> (String, String) {
        let words = try readWords()
        let left = try localPart(from: words)
        guard peek() == FieldSyntax.at else { return (left, "") }
        pos += 1
        let right = try readDomain()
        try skipCFWS()
        return (left, right)
    }
}
