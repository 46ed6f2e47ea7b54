import ArgumentParser
import DNS
import SPF

struct SPFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spf",
        abstract: "Evaluate SPF (RFC 7208) the way the server does.",
        subcommands: [SPFCheckCommand.self]
    )
}

/// `tern spf check IP MAILFROM [HELO]`: check_host() for the MAIL FROM identity, with what
/// an operator needs to understand the result: the matching term, the domain's explanation,
/// the problem behind an error and every DNS query made.
struct SPFCheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Print the SPF result for a client IP and MAIL FROM address, with the matching term and the DNS lookups.",
        discussion: """
            Prints "result:" (none, neutral, pass, fail, softfail, temperror or permerror), the \
            identity and sender checked, the matching "mechanism:" ("default" when none \
            matched), the domain's "explanation:" for fail, the "problem:" behind none and the \
            errors, then each DNS lookup made. The exit status is 0 whatever the result; only \
            usage errors fail. An empty MAILFROM (or "<>") is the null reverse-path: SPF then \
            checks postmaster@HELO, so HELO is required. Without HELO, the %{h} macro expands \
            to "unknown".
            """
    )

    @OptionGroup var resolverOptions: ResolverOptions
    @OptionGroup var logOptions: LogOptions

    @Option(
        name: .customLong("receiver"),
        help: ArgumentHelp("This host's name, for the %{r} macro in explanations (RFC 7208 §7.3).", valueName: "name"))
    var receiver = "unknown"

    @Argument(help: "The SMTP client's IP address (IPv4, IPv6, or IPv4-mapped IPv6).")
    var ip: String

    @Argument(help: "The MAIL FROM address, e.g. alice@example.com; \"\" or \"<>\" for the null reverse-path.")
    var mailFrom: String

    @Argument(help: "The HELO/EHLO name the client gave.")
    var helo: String?

    func run() async throws {
        try logOptions.bootstrap()
        guard let address = IPAddress(ip) else {
            throw ValidationError("'\(ip)' is not an IP address")
        }
        var sender = mailFrom
        if sender.hasPrefix("<"), sender.hasSuffix(">"), sender.count >= 2 { sender = String(sender.dropFirst().dropLast()) }
        if sender.isEmpty, helo == nil {
            throw ValidationError("a null MAIL FROM needs HELO: SPF then checks postmaster@HELO (RFC 7208 §2.4)")
        }
        let verifier = SPFVerifier(resolver: try resolverOptions.makeResolver(), receiver: receiver)
        let check = await verifier.checkMailFrom(ip: address, mailFrom: sender, helo: helo ?? "unknown")
        print(Self.report(check), terminator: "")
    }

    /// One "key: value" line per fact, then the lookups indented, one per line.
    static func report(_ check: SPFCheck) -> String {
        var lines = [
            "result: \(check.result)",
            "identity: \(check.identity.rawValue)",
            "sender: \(check.sender)",
        ]
        if let mechanism = check.mechanism { lines.append("mechanism: \(mechanism)") }
        if let explanation = check.explanation { lines.append("explanation: \(explanation)") }
        if let problem = check.problem { lines.append("problem: \(problem)") }
        if check.lookups.isEmpty {
            lines.append("lookups: none")
        } else {
            lines.append("lookups:")
            lines += check.lookups.map { "  \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
