import DNS

/// One `mx` value of a policy: a host name, or `*.` and a domain for any host one label
/// below it (RFC 8461 §3.2: `sts-policy-mx-value = ["*."] Domain`).
public struct MXPattern: Hashable, Sendable, CustomStringConvertible {
    /// Whether the pattern began with `*.`.
    public let isWildcard: Bool
    /// The name after any `*.`, in A-label form.
    public let domain: Domain

    /// Parses a pattern. Names must be written in A-labels (RFC 8461 §3.2: "the 'mx' value
    /// MUST specify the Punycode-encoded A-label"); the wildcard may only be the whole
    /// leftmost label.
    public init(parsing text: String) throws(MXPatternError) {
        let isWildcard = text.hasPrefix("*.")
        let name = isWildcard ? String(text.dropFirst(2)) : text
        guard !name.contains("*") else { throw .misplacedWildcard }
        guard name.unicodeScalars.allSatisfy(\.isASCII) else { throw .notALabel }
        do {
            domain = try Domain(name)
        } catch {
            throw .invalidDomain(error)
        }
        self.isWildcard = isWildcard
    }

    /// The pattern that matches `host` and nothing else.
    public init(host: Domain) {
        isWildcard = false
        domain = host
    }

    /// Whether `host` matches (RFC 8461 §4.1): equal names, or for `*.example.com` any name
    /// with exactly one more label in front ("mail.example.com", not "example.com" nor
    /// "a.b.example.com"). Case does not matter (RFC 4343), nor does a trailing dot, which a
    /// `DNSName` does not keep.
    public func matches(_ host: DNSName) -> Bool {
        let hostLabels = host.lowercased.labels.map { String(decoding: $0, as: UTF8.self) }
        let patternLabels = domain.labels
        if isWildcard {
            return hostLabels.count == patternLabels.count + 1 && hostLabels.dropFirst().elementsEqual(patternLabels)
        }
        return hostLabels == patternLabels
    }

    /// The pattern as a policy writes it, e.g. for TLS reports' "mx-host-pattern".
    public var description: String {
        (isWildcard ? "*." : "") + domain.ascii
    }
}

public enum MXPatternError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A "*" other than as the whole leftmost label.
    case misplacedWildcard
    /// Non-ASCII characters: a U-label where an A-label belongs.
    case notALabel
    case invalidDomain(DomainError)

    public var description: String {
        switch self {
        case .misplacedWildcard: return "\"*\" is allowed only as the whole leftmost label"
        case .notALabel: return "internationalized names must be written as A-labels (xn--...)"
        case let .invalidDomain(error): return error.description
        }
    }
}
