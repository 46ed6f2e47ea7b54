import ArgumentParser

/// The `tern` command. Each subcommand is its own type, listed here; a later feature adds
/// its command to `subcommands` and nothing else.
@main
struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "A mail server for your own domains: SMTP, IMAP, SPF/DKIM/DMARC, MTA-STS, DANE.",
        discussion: """
            Global options: every command that looks up DNS takes --resolver HOST:PORT (or the \
            environment variable TERN_RESOLVER) to ask that recursive resolver instead of the \
            ones in /etc/resolv.conf; every command takes --log-level (e.g. \
            "info,dns=debug"; levels: error, info, debug, trace, traceauth, tracedata).
            """,
        version: TernVersion.current,
        subcommands: [VersionCommand.self, ServeCommand.self, LocalserveCommand.self, VerifyDataCommand.self, QueueCommand.self, SendmailCommand.self, ConfigCommand.self, DNSCommand.self, SPFCommand.self, DKIMCommand.self, DMARCCommand.self, TLSRPTCommand.self, MessageCommand.self]
    )
}

enum TernVersion {
    static let current = "0.1.0-dev"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print the version of tern."
    )

    func run() {
        print("tern \(TernVersion.current)")
    }
}
