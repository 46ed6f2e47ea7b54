import ArgumentParser
import Config
import Foundation

/// `tern config`: check the configuration files, or print commented examples of them.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration files, or print commented examples of them.",
        discussion: """
            The static configuration (tern.yaml) is read at startup; the domains and accounts \
            (domains.yaml, beside it) are reloaded while the server runs.
            """,
        subcommands: [
            ConfigTestCommand.self, ConfigDescribeStaticCommand.self, ConfigDescribeDomainsCommand.self, ConfigPasswordCommand.self,
            ConfigDNSRecordsCommand.self,
        ]
    )
}

/// `--config` and `--domains`: which files to read.
struct ConfigFileOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "The static configuration file. Environment: TERN_CONFIG. Default: \(ConfigLoader.defaultStaticPath).",
            valueName: "file"))
    var config: String?

    @Option(
        name: .customLong("domains"),
        help: ArgumentHelp("The domains file. Default: \(ConfigLoader.domainsFileName) beside the static file.", valueName: "file"))
    var domains: String?

    /// The flag, else TERN_CONFIG, else config/tern.yaml.
    func staticPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        config ?? environment["TERN_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? ConfigLoader.defaultStaticPath
    }

    func domainsPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        domains ?? ConfigLoader.defaultDomainsPath(forStaticPath: staticPath(environment: environment))
    }
}

/// `tern config test`: both files, every error, like `nginx -t`.
struct ConfigTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Check tern.yaml and domains.yaml.",
        discussion: """
            Prints "config OK", or every error on stderr as FILE:LINE:COLUMN: KEY: message and \
            exits with status 1. Certificate and key files must exist and be readable, and the \
            DKIM keys of the selectors that sign must be keys `serve` can sign with.
            """
    )

    @OptionGroup var files: ConfigFileOptions

    func run() throws {
        let config: TernConfig
        do {
            config = try ConfigLoader.load(staticPath: files.staticPath(), domainsPath: files.domainsPath())
        } catch {
            for problem in error.errors { printError(problem.description) }
            throw ExitCode(1)
        }
        _ = try DomainSigners.load(config.domains, from: config.domainsPath)
        print("config OK")
    }
}

/// `tern config describe-static`: the commented example of tern.yaml.
struct ConfigDescribeStaticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-static",
        abstract: "Print a complete tern.yaml with every key explained and its default."
    )

    func run() {
        print(ConfigExamples.staticFile(), terminator: "")
    }
}

/// `tern config describe-domains`: the commented example of domains.yaml.
struct ConfigDescribeDomainsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe-domains",
        abstract: "Print a complete domains.yaml with every key explained."
    )

    func run() {
        print(ConfigExamples.domainsFile(), terminator: "")
    }
}
