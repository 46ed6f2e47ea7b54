// PublicSuffix: the Public Suffix List (https://publicsuffix.org/list/) and what DMARC asks of
// it, the Organizational Domain (RFC 7489 §3.2).
//
// Flow: the list shipped in Resources/ (a snapshot of the PSL, MPL-2.0, see its header) is read
// from the module's bundle and parsed once, on first use (`PublicSuffixList.shipped()`). Each
// rule is turned into A-labels, since the list is written in Unicode and names are compared in
// the form they have in the DNS (RFC 7489 §6.6.1 converts the author domain to A-labels).
// A lookup walks the name's suffixes from the top-level label down, one dictionary probe per
// label, and applies the list's algorithm: the longest matching rule prevails, a wildcard rule
// `*.x` makes every label directly under x a public suffix, an exception rule `!y.x` takes y.x
// back out, and a name no rule matches has its top-level label as public suffix (the implicit
// `*` rule).
//
// Both sections of the list are used, ICANN and PRIVATE. RFC 7489 §3.2 asks for "a list of DNS
// domain names reserved for registrations"; the PRIVATE section lists exactly such names under
// a company's domain (github.io, blogspot.com, ...), where unrelated people register their own
// names. Leaving it out would give alice.github.io and mallory.github.io the same
// Organizational Domain, so relaxed alignment (RFC 7489 §3.1) would let one pass DMARC as the
// other. mox, whose operator concepts Tern follows, uses both sections as well.
import DNS
import Foundation

/// A parsed Public Suffix List.
public struct PublicSuffixList: Sendable {
    /// What the rules say about one name (the part of a rule after "!" or "*.").
    struct Rules: OptionSet, Sendable {
        let rawValue: UInt8
        /// "name": the name is a public suffix.
        static let suffix = Rules(rawValue: 1)
        /// "*.name": every label directly under the name makes a public suffix.
        static let wildcard = Rules(rawValue: 2)
        /// "!name": the name is not a public suffix, although a wildcard covers it.
        static let exception = Rules(rawValue: 4)
    }

    /// Rules by name, in A-labels, lowercase.
    private let rules: [String: Rules]

    /// The number of rule lines read.
    public let ruleCount: Int

    /// Parses the list's text: one rule per line, "//" comment lines, blank lines; a rule ends
    /// at the first white space (the list's format). Rules are in Unicode or ASCII; Unicode
    /// rules are converted to A-labels. A wildcard may only be the leftmost label, which is all
    /// the list has ever used.
    public init(parsing text: String) throws(PublicSuffixListError) {
        var rules: [String: Rules] = [:]
        var count = 0
        // Octets rather than Characters: the list is 250 kB and read at every start. Lines end
        // in LF; a CR before it is white space, and white space ends a rule.
        let isWhiteSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D }
        for (index, line) in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let rule = Substring(line.prefix { !isWhiteSpace($0) })
            if rule.isEmpty || rule.hasPrefix("//") { continue }
            let lineNumber = index + 1
            var kind = Rules.suffix
            var name = rule
            if name.hasPrefix("!") {
                kind = .exception
                name = name.dropFirst()
            } else if name.hasPrefix("*.") {
                kind = .wildcard
                name = name.dropFirst(2)
            }
            guard !name.contains("*"), !name.contains("!") else {
                throw .unsupportedRule(line: lineNumber, rule: String(rule))
            }
            // ASCII rules, nearly all of them, are already in the form names are compared in
            // once lowercased; IDNA processing is kept for Unicode rules, where it is needed.
            // Skipping it for the others keeps the first lookup fast, and an ASCII rule that is
            // not a valid name could only ever fail to match.
            var ascii = name.lowercased()
            if !name.utf8.allSatisfy({ $0 < 0x80 }) {
                do {
                    ascii = try Domain(ascii).ascii
                } catch {
                    throw .invalidRule(line: lineNumber, rule: String(rule), error)
                }
            }
            rules[ascii, default: []].insert(kind)
            count += 1
        }
        guard count > 0 else { throw .empty }
        self.rules = rules
        ruleCount = count
    }

    /// The list in this module's resources, parsed on first use and kept for the process.
    public static func shipped() throws(PublicSuffixListError) -> PublicSuffixList {
        try shippedList.get()
    }

    /// Where the shipped list is looked for, in order: the resource bundle SwiftPM puts beside
    /// the executable, the sources it was built from, and Debian's publicsuffix package. Not
    /// `Bundle.module`, whose generated accessor ends the process when the bundle is missing
    /// (a binary copied without it); a missing list is an error the caller reports.
    static var candidatePaths: [String] {
        let executableDirectory = Bundle.main.executableURL?.deletingLastPathComponent().path ?? "."
        return [
            executableDirectory + "/tern_PublicSuffix.resources/public_suffix_list.dat",
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Resources/public_suffix_list.dat",
            "/usr/share/publicsuffix/public_suffix_list.dat",
        ]
    }

    private static let shippedList: Result<PublicSuffixList, PublicSuffixListError> = {
        let paths = candidatePaths
        guard let data = paths.lazy.compactMap({ FileManager.default.contents(atPath: $0) }).first else {
            return .failure(.resourceMissing(searched: paths))
        }
        return Result { () throws(PublicSuffixListError) in try PublicSuffixList(parsing: String(decoding: data, as: UTF8.self)) }
    }()

    /// The number of labels of `domain`'s public suffix, by the list's algorithm.
    private func suffixLabelCount(_ labels: [String]) -> Int {
        // The implicit rule "*": a name no rule matches is under a top-level public suffix.
        var longest = 1
        var name = ""
        for count in 1...labels.count {
            let label = labels[labels.count - count]
            name = count == 1 ? label : label + "." + name
            guard let found = rules[name] else { continue }
            // An exception rule prevails over every other rule; the suffix is its parent.
            if found.contains(.exception) { return count - 1 }
            if found.contains(.suffix) { longest = max(longest, count) }
            if found.contains(.wildcard), count < labels.count { longest = max(longest, count + 1) }
        }
        return longest
    }

    /// The public suffix of `domain` ("co.uk" for "www.example.co.uk"); `domain` itself when it
    /// is one.
    public func publicSuffix(of domain: Domain) -> Domain {
        domain.suffix(labels: suffixLabelCount(domain.labels))
    }

    /// The registrable domain: the public suffix and one label more ("example.co.uk" for
    /// "www.example.co.uk"); nil when `domain` is itself a public suffix.
    public func registrableDomain(of domain: Domain) -> Domain? {
        let labels = domain.labels
        let suffixCount = suffixLabelCount(labels)
        guard suffixCount < labels.count else { return nil }
        return domain.suffix(labels: suffixCount + 1)
    }

    /// The Organizational Domain of RFC 7489 §3.2: the registrable domain. A public suffix
    /// has no label beyond the matched rule (step 4 has no "x+1"th label), so it is its own
    /// Organizational Domain: policy discovery then asks at the name itself, and a suffix can
    /// align only with itself, never with the names registered under it.
    public func organizationalDomain(of domain: Domain) -> Domain {
        registrableDomain(of: domain) ?? domain
    }
}

public enum PublicSuffixListError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The list is in none of the places searched (a packaging error).
    case resourceMissing(searched: [String])
    /// No rules at all.
    case empty
    /// A Unicode rule whose name is not a valid domain name.
    case invalidRule(line: Int, rule: String, DomainError)
    /// A wildcard other than as the leftmost label, or an exception mark inside a rule.
    case unsupportedRule(line: Int, rule: String)

    public var description: String {
        switch self {
        case let .resourceMissing(searched): return "the public suffix list was not found (searched \(searched.joined(separator: ", ")))"
        case .empty: return "the public suffix list has no rules"
        case let .invalidRule(line, rule, error): return "public suffix list line \(line): rule \"\(rule)\": \(error)"
        case let .unsupportedRule(line, rule): return "public suffix list line \(line): rule \"\(rule)\": a wildcard is only supported as the leftmost label"
        }
    }
}
