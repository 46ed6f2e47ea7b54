import ArgumentParser
import DMARC
import DNS
import PublicSuffix

struct DMARCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dmarc",
        abstract: "DMARC (RFC 7489) the way the server evaluates it.",
        subcommands: [DMARCLookupCommand.self]
    )
}

/// `tern dmarc lookup DOMAIN`: the DMARC record that applies to mail from DOMAIN, found the way
/// the server finds it (RFC 7489 §6.6.3), with every tag's effective value.
struct DMARCLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Print the DMARC record that applies to a From domain, tag by tag.",
        discussion: """
            Looks up _dmarc.DOMAIN and, when it has no DMARC record, _dmarc at DOMAIN's \
            organizational domain (from the public suffix list). Prints the domain, its \
            organizational domain, where the record applies from ("record at:"), whether the \
            answers were DNSSEC-authentic, the record as published, then each tag with its \
            effective value ("(default)" when not written), the problems that made parsing \
            ignore or replace something, and the policy that applies to DOMAIN (sp for a \
            subdomain of the organizational domain whose record applies). The exit status is \
            0 when a record applies and 1 otherwise (no record, several records, an invalid \
            record, a DNS error), with the reason on stderr.
            """
    )

    @OptionGroup var resolverOptions: ResolverOptions
    @OptionGroup var logOptions: LogOptions

    @Argument(help: "The RFC5322.From domain, e.g. example.com or an internationalized name.")
    var domain: String

    func run() async throws {
        try logOptions.bootstrap()
        let authorDomain: Domain
        do {
            authorDomain = try Domain(domain)
        } catch {
            throw ValidationError("invalid domain '\(domain)': \(error)")
        }
        let verifier = DMARCVerifier(resolver: try resolverOptions.makeResolver(), publicSuffixList: try PublicSuffixList.shipped())
        let discovery = await verifier.discoverPolicy(for: authorDomain)
        print(Self.report(discovery), terminator: "")
        guard discovery.record != nil else {
            printError("tern: dmarc lookup: \(discovery.explanation)")
            throw ExitCode(1)
        }
    }

    /// "key: value" lines: the names, then for a record its text and every tag.
    static func report(_ discovery: PolicyDiscovery) -> String {
        var lines = [
            "domain: \(discovery.authorDomain.ascii)",
            "organizational domain: \(discovery.organizationalDomain.ascii)",
        ]
        if let policyDomain = discovery.policyDomain, let name = PolicyDiscovery.recordName(for: policyDomain) {
            let whose = discovery.appliesSubdomainPolicy ? "the organizational domain's, none at the domain" : "the domain's own"
            lines.append("record at: \(name.withoutFinalDot) (\(whose))")
        }
        switch discovery.outcome {
        case let .found(record, text):
            lines.append("authentic: \(discovery.authentic ? "yes" : "no")")
            lines.append("record: \(text)")
            lines += tagLines(record)
            lines += record.problems.map { "problem: \($0)" }
            let policy = record.policy(forSubdomain: discovery.appliesSubdomainPolicy)
            lines.append("policy for \(discovery.authorDomain.ascii): \(policy.rawValue)\(discovery.appliesSubdomainPolicy ? " (sp)" : " (p)")")
        case let .multipleRecords(texts):
            lines += texts.map { "record: \($0)" }
        case let .invalidRecord(text, _):
            lines.append("record: \(text)")
        case .noRecord, .temporaryFailure:
            break
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Each tag RFC 7489 §6.3 defines with its effective value, then the unknown tags.
    static func tagLines(_ record: DMARCRecord) -> [String] {
        // A tag takes its default when it is not written, or written with an invalid value.
        let invalid = record.problems.compactMap { problem -> String? in
            if case let .invalidValue(tag, _, _) = problem { tag.name } else { nil }
        }
        let given = Set(record.tags.map(\.name)).subtracting(invalid)
        func line(_ name: String, _ value: String, default note: String = "(default)") -> String {
            "\(name): \(value)" + (given.contains(name) ? "" : " \(note)")
        }
        func uris(_ list: [ReportURI]) -> String {
            guard !list.isEmpty else { return "none" }
            return list.map { uri in uri.uri + (uri.sizeLimit.map { " (at most \($0.bytes) bytes)" } ?? "") }.joined(separator: ", ")
        }
        let known = ["v", "p", "sp", "pct", "adkim", "aspf", "rua", "ruf", "fo", "rf", "ri"]
        return [
            "v: DMARC1",
            line("p", record.policy.rawValue, default: "(see problem)"),
            line("sp", record.policy(forSubdomain: true).rawValue, default: "(as p)"),
            line("pct", "\(record.percentage)"),
            line("adkim", record.dkimAlignment.rawValue),
            line("aspf", record.spfAlignment.rawValue),
            "rua: \(uris(record.aggregateReportURIs))",
            "ruf: \(uris(record.failureReportURIs))",
            line("fo", record.failureReportingOptions.map(\.rawValue).joined(separator: ":")),
            line("rf", record.reportFormats.joined(separator: ":")),
            line("ri", "\(record.reportInterval)"),
        ] + record.tags.filter { !known.contains($0.name) }.map { "\($0.name): \($0.value) (unknown, ignored)" }
    }
}
