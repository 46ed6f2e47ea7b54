import DNS

/// What policy discovery (RFC 7489 §6.6.3) found for an author domain.
public struct PolicyDiscovery: Hashable, Sendable {
    public enum Outcome: Hashable, Sendable {
        /// Exactly one DMARC record, parsed; `text` as published.
        case found(DMARCRecord, text: String)
        /// No DMARC record at the author domain nor at its Organizational Domain (step 5): DMARC
        /// is not applied.
        case noRecord
        /// More than one record starting with "v=DMARC1" at one name (step 5): DMARC is not
        /// applied, and the publisher's mistake is a permerror.
        case multipleRecords([String])
        /// The one record is not usable (step 6.2): DMARC is not applied; a permerror.
        case invalidRecord(String, DMARCRecordError)
        /// A lookup failed in a way that may pass: the answer cannot be known now.
        case temporaryFailure(DNSError)
    }

    /// The RFC5322.From domain.
    public var authorDomain: Domain
    /// Its Organizational Domain (RFC 7489 §3.2).
    public var organizationalDomain: Domain
    /// The domain whose `_dmarc` name decided the outcome: the author domain, or the
    /// Organizational Domain when the author domain has no record. Nil for `noRecord` and
    /// `temporaryFailure`.
    public var policyDomain: Domain?
    public var outcome: Outcome
    /// True when every DNS answer the outcome rests on was DNSSEC-validated by the resolver
    /// (its AD bit): for a record at the Organizational Domain, also the denial at the author
    /// domain, since a forged denial there would swap the policy that applies.
    public var authentic: Bool
    /// The names asked, in order.
    public var queried: [DNSName]

    public init(
        authorDomain: Domain, organizationalDomain: Domain, policyDomain: Domain?, outcome: Outcome, authentic: Bool, queried: [DNSName]
    ) {
        self.authorDomain = authorDomain
        self.organizationalDomain = organizationalDomain
        self.policyDomain = policyDomain
        self.outcome = outcome
        self.authentic = authentic
        self.queried = queried
    }

    /// The record, when exactly one usable record was found.
    public var record: DMARCRecord? {
        if case let .found(record, _) = outcome { return record }
        return nil
    }

    /// Whether the policy that applies is the one for subdomains ("sp"): the record was found
    /// at the Organizational Domain for an author domain below it. A record at the author
    /// domain itself applies "p" even when that is a subdomain (RFC 7489 §6.3 "sp": it "will
    /// be ignored for DMARC records published on subdomains of Organizational Domains").
    public var appliesSubdomainPolicy: Bool {
        policyDomain.map { $0 != authorDomain } ?? false
    }

    /// The outcome in a sentence, naming the records' DNS names.
    public var explanation: String {
        // The name that decided the outcome is the last one asked.
        let location = queried.last.map { " at \($0.withoutFinalDot)" } ?? ""
        switch outcome {
        case .found: return "DMARC record\(location)"
        case .noRecord:
            let names = queried.map(\.withoutFinalDot)
            return names.isEmpty ? "no DMARC record can exist for \(authorDomain.ascii)" : "no DMARC record at \(names.joined(separator: " or "))"
        case let .multipleRecords(texts): return "\(texts.count) DMARC records\(location); none applies"
        case let .invalidRecord(_, error): return "invalid DMARC record\(location): \(error)"
        case let .temporaryFailure(error): return "DMARC record lookup failed: \(error)"
        }
    }

    /// The DNS name of the DMARC record for `domain` (RFC 7489 §6.1); nil when the name would
    /// be longer than the DNS allows, so that no record can exist there.
    public static func recordName(for domain: Domain) -> DNSName? {
        try? DNSName(domain.ascii).prepending("_dmarc")
    }
}

extension DMARCVerifier {
    /// RFC 7489 §6.6.3: the DMARC record for `authorDomain`, falling back to its
    /// Organizational Domain.
    public func discoverPolicy(for authorDomain: Domain) async -> PolicyDiscovery {
        let organizationalDomain = publicSuffixList.organizationalDomain(of: authorDomain)
        var discovery = PolicyDiscovery(
            authorDomain: authorDomain, organizationalDomain: organizationalDomain, policyDomain: nil, outcome: .noRecord, authentic: true,
            queried: [])
        // Steps 1-2 at the author domain; steps 3-4 at the Organizational Domain "if different".
        var candidates = [authorDomain]
        if organizationalDomain != authorDomain { candidates.append(organizationalDomain) }
        for domain in candidates {
            switch await records(at: domain, into: &discovery) {
            case let .failure(error):
                // Handling DNS errors is "left to the discretion of the Mail Receiver"; an error
                // at the author domain does not fall back, since its record may well exist.
                discovery.outcome = .temporaryFailure(error)
                discovery.authentic = false
                return discovery
            case let .success(texts) where texts.isEmpty:
                continue
            case let .success(texts):
                discovery.policyDomain = domain
                discovery.outcome = Self.outcome(of: texts)
                return discovery
            }
        }
        return discovery
    }

    /// Step 5 and 6 for the records at one name.
    private static func outcome(of texts: [String]) -> PolicyDiscovery.Outcome {
        guard texts.count == 1, let text = texts.first else { return .multipleRecords(texts) }
        do {
            return .found(try DMARCRecord(parsing: text), text: text)
        } catch {
            return .invalidRecord(text, error)
        }
    }

    /// The TXT records at `_dmarc.<domain>` that start with "v=DMARC1" (steps 1-4). A name
    /// that does not exist, has no TXT records or cannot be asked for is an empty set; only
    /// temporary errors fail.
    private func records(at domain: Domain, into discovery: inout PolicyDiscovery) async -> Result<[String], DNSError> {
        guard let name = PolicyDiscovery.recordName(for: domain) else { return .success([]) }
        discovery.queried.append(name)
        do {
            let answer = try await resolver.lookupTXT(name)
            discovery.authentic = discovery.authentic && answer.authentic
            return .success(answer.value.filter(DMARCRecord.isDMARCRecord))
        } catch {
            guard error.isTemporary else {
                discovery.authentic = discovery.authentic && error.authentic
                return .success([])
            }
            return .failure(error)
        }
    }
}
