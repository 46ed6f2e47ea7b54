import ArgumentParser
import DMARC
import DNS
import Foundation
import PublicSuffix
import SMTP
import SMTPServer

struct DMARCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dmarc",
        abstract: "DMARC (RFC 7489) the way the server evaluates it.",
        subcommands: [DMARCLookupCommand.self, DMARCVerifyCommand.self]
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

/// `tern dmarc verify --ip IP --mail-from ADDRESS --helo NAME FILE`: the verdicts the server's
/// SMTP listener would reach for a message received from IP with that envelope: iprev, SPF,
/// DKIM, DMARC, as the Authentication-Results and Received-SPF fields it would add, and what
/// it would do with the message.
struct DMARCVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Evaluate SPF, DKIM and DMARC for a message file and connection data, as the SMTP server does.",
        discussion: """
            Reads the message from FILE ("-" for stdin) as the client sent it and checks iprev \
            for --ip, SPF for --mail-from ("" or "<>" for the null reverse-path, which checks \
            --helo), every DKIM signature, and DMARC for the From domain(s). Prints the \
            Authentication-Results and Received-SPF fields the server would prepend (the \
            authserv-id is --hostname), then "disposition:" deliver, deliver into Junk (DMARC \
            quarantine), or reject with the SMTP reply. The exit status is 0 when the message would be \
            delivered (into the inbox or Junk) and 1 when it would be refused.
            """
    )

    @OptionGroup var resolverOptions: ResolverOptions
    @OptionGroup var logOptions: LogOptions

    @Option(name: .customLong("ip"), help: "The SMTP client's IP address.")
    var ip: String

    @Option(name: .customLong("mail-from"), help: "The MAIL FROM address; \"\" or \"<>\" for the null reverse-path.")
    var mailFrom: String

    @Option(name: .customLong("helo"), help: "The EHLO/HELO name the client gave.")
    var helo: String

    @Option(name: .customLong("hostname"), help: "This server's name, the authserv-id of Authentication-Results.")
    var hostname = "localhost"

    @Argument(help: "The message file, \"-\" for standard input.")
    var file: String

    func run() async throws {
        try logOptions.bootstrap()
        guard let address = IPAddress(ip) else { throw ValidationError("'\(ip)' is not an IP address") }
        var sender = mailFrom
        if sender.hasPrefix("<"), sender.hasSuffix(">"), sender.count >= 2 { sender = String(sender.dropFirst().dropLast()) }
        let reversePath: ReversePath
        if sender.isEmpty {
            reversePath = .null
        } else {
            guard let path = try? Path.parseReverse(Array("<\(sender)>".utf8)[...], allowUTF8: true) else {
                throw ValidationError("'\(mailFrom)' is not an address")
            }
            reversePath = path.0
        }
        let message: [UInt8]
        do {
            message = file == "-" ? Array(FileHandle.standardInput.readDataToEndOfFile()) : Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            printError("tern: dmarc verify: cannot read \(file): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        let analysis = IncomingAnalysis(hostname: hostname, resolver: try resolverOptions.makeResolver(), publicSuffixList: try PublicSuffixList.shipped())
        let verdict = await analysis.analyze(IncomingAnalysis.Input(clientAddress: address, clientName: helo, sender: reversePath), message: message)
        print(String(decoding: try verdict.headerFields(), as: UTF8.self), terminator: "")
        switch verdict.disposition {
        case .deliver: print("disposition: deliver")
        case let .deliverInto(mailbox): print("disposition: deliver into \(mailbox)")
        case let .reject(reply):
            print("disposition: reject \(reply.code) \(reply.enhanced?.description ?? "") \(reply.lines.joined(separator: " "))")
            throw ExitCode(1)
        }
    }
}
