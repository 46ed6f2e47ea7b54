import DNS

/// Whether reports for a policy domain may go to a URI of its "rua" or "ruf" (RFC 7489 §7.1).
public enum ReportDestinationVerification: Hashable, Sendable {
    /// The URI's host has the policy domain's Organizational Domain: no check is needed.
    case sameOrganization(ReportURI)
    /// The Report Receiver published an authorization; report to these URIs: the original,
    /// or the ones the authorization record's own "rua"/"ruf" put in its place (step 8).
    case authorized([ReportURI])
    /// No report may go to the URI.
    case refused(String)
    /// The authorization could not be looked up now; the report may wait (step 4).
    case temporaryFailure(DNSError)
}

/// Which report a destination is for, i.e. which tag an authorization record may override.
public enum ReportKind: String, Hashable, Sendable {
    case aggregate = "rua"
    case failure = "ruf"
}

extension DMARCVerifier {
    /// RFC 7489 §7.1: when `uri`'s host is outside the Organizational Domain of `policyDomain`
    /// (the domain whose record named it), the host must publish a TXT record starting with
    /// "v=DMARC1" at `<policyDomain>._report._dmarc.<host>`.
    public func verifyReportDestination(_ uri: ReportURI, kind: ReportKind, policyDomain: Domain) async -> ReportDestinationVerification {
        guard let host = uri.destinationHost else {
            return .refused("\(uri.uri) has no single destination host")
        }
        if publicSuffixList.organizationalDomain(of: host) == publicSuffixList.organizationalDomain(of: policyDomain) {
            return .sameOrganization(uri)
        }
        // Steps 1-3: the policy domain in A-labels, "_report._dmarc", the destination host.
        guard let name = try? DNSName("\(policyDomain.ascii)._report._dmarc.\(host.ascii)") else {
            return .refused("the authorization name for \(policyDomain.ascii) at \(host.ascii) is longer than the DNS allows")
        }
        let texts: [String]
        do {
            texts = try await resolver.lookupTXT(name).value
        } catch {
            if error.isTemporary { return .temporaryFailure(error) }
            return .refused("\(host.ascii) does not accept reports for \(policyDomain.ascii): \(error)")
        }
        // Steps 5-7: records that parse as a tag list starting with "v=DMARC1"; one suffices.
        guard let authorization = texts.lazy.compactMap({ try? TagList(parsing: $0) }).first else {
            return .refused("no v=DMARC1 record at \(name.withoutFinalDot)")
        }
        // Step 8: the authorization's own rua/ruf replaces the URI, but only with URIs on the
        // same host; one that names another host voids both the original and the override.
        guard let override = authorization.tags.first(where: { $0.name == kind.rawValue }) else {
            return .authorized([uri])
        }
        let replacements = override.value.split(separator: ",").compactMap { try? ReportURI.parse(TagList.trimmed(Array($0.utf8)[...])).get() }
        if replacements.isEmpty { return .authorized([uri]) }
        if let elsewhere = replacements.first(where: { $0.destinationHost != host }) {
            return .refused("the authorization at \(name.withoutFinalDot) redirects to \(elsewhere.uri), not on \(host.ascii)")
        }
        return .authorized(replacements)
    }
}

extension ReportURI {
    /// The host reports go to (RFC 7489 §7.1 step 1): for "mailto:" the domain of its one
    /// address (RFC 6068 §2), for URIs with an authority its host (RFC 3986 §3.2.2); nil when
    /// there is none, several addresses, or the host is not a domain name.
    public var destinationHost: Domain? {
        let rest = uri.drop { $0 != ":" }.dropFirst()
        let host: Substring
        if scheme == "mailto" {
            let addresses = Self.percentDecoded(rest.prefix { $0 != "?" })
            guard !addresses.contains(","), let at = addresses.lastIndex(of: "@") else { return nil }
            host = addresses[addresses.index(after: at)...]
        } else if rest.hasPrefix("//") {
            let authority = rest.dropFirst(2).prefix { !"/?#".contains($0) }
            let hostAndPort = authority.split(separator: "@", omittingEmptySubsequences: false).last ?? authority
            host = hostAndPort.prefix { $0 != ":" }
        } else {
            return nil
        }
        return try? Domain(String(host))
    }

    /// RFC 3986 §2.1 percent-decoding; a "%" without two hexadecimal digits stays as it is.
    private static func percentDecoded(_ text: Substring) -> Substring {
        let utf8 = Array(text.utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < utf8.count {
            if utf8[index] == UInt8(ascii: "%"), index + 2 < utf8.count, TagList.isHexDigit(utf8[index + 1]), TagList.isHexDigit(utf8[index + 2]),
               let value = UInt8(String(decoding: utf8[(index + 1)...(index + 2)], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(utf8[index])
                index += 1
            }
        }
        return Substring(String(decoding: bytes, as: UTF8.self))
    }
}
