import ArgumentParser
import Config
import Foundation
import Queue
import ServerSupport

/// `tern queue ...`: the outbound queue of a running `tern serve` (or localserve), through
/// its control socket `DataDir/ctl`. The names are mox's.
struct QueueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "List and control the outbound queue of the running server.",
        discussion: """
            Talks to the running server through the socket ctl in its data directory, found \
            with --dir DATADIR or from the DataDir of --config (environment: TERN_CONFIG; \
            default: \(ConfigLoader.defaultStaticPath)). Filters select messages: --id (repeatable), \
            --domain (recipient domain), --sender-domain; every filter given must match. \
            Commands that change messages need a filter or --all, and fail when nothing matches.
            """,
        subcommands: [
            QueueListCommand.self, QueueHoldCommand.self, QueueReleaseCommand.self, QueueKickCommand.self, QueueDropCommand.self,
            QueueTransportCommand.self, QueueRequireTLSCommand.self, QueueDumpCommand.self,
        ]
    )

    /// The control socket's name in the data directory.
    static let socketName = "ctl"
}

/// Where the server keeps its data: --dir, or the DataDir of --config.
struct DataDirOptions: ParsableArguments {
    @Option(name: .customLong("dir"), help: ArgumentHelp("The server's data directory.", valueName: "datadir"))
    var dataDir: String?

    @Option(name: .customLong("config"), help: ArgumentHelp("The server's tern.yaml, for its DataDir. Environment: TERN_CONFIG.", valueName: "file"))
    var config: String?

    func dataDirectory() throws -> String {
        if let dataDir { return dataDir }
        let path = config ?? ProcessInfo.processInfo.environment["TERN_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? ConfigLoader.defaultStaticPath
        do {
            return try StaticConfig.load(path: path, checkFiles: false).dataDir
        } catch {
            for problem in error.errors { printError("\(problem)") }
            throw ExitCode(1)
        }
    }
}

/// Where the running server is.
struct QueueTargetOptions: ParsableArguments {
    @OptionGroup var location: DataDirOptions

    func socketPath() throws -> String {
        try location.dataDirectory() + "/" + QueueCommand.socketName
    }

    /// Sends one request; a server that is not running, or an error answer, ends the
    /// command with status 1.
    func send(_ request: QueueControlRequest) async throws -> QueueControlResponse {
        let path = try socketPath()
        let response: QueueControlResponse
        do {
            let line = try await UnixLineClient.request(path: path, line: Array(try QueueControl.encoder().encode(request)))
            response = try QueueControl.decoder().decode(QueueControlResponse.self, from: Data(line))
        } catch let error as UnixSocketError {
            if case .notListening = error {
                printError("tern queue: is the server running? \(error)")
            } else {
                printError("tern queue: \(error)")
            }
            throw ExitCode(1)
        }
        if let error = response.error {
            printError("tern queue: \(request.operation.rawValue): \(error)")
            throw ExitCode(1)
        }
        return response
    }
}

struct QueueFilterOptions: ParsableArguments {
    @Option(name: .customLong("id"), help: ArgumentHelp("A message id (repeatable).", valueName: "id"))
    var ids: [Int64] = []

    @Option(name: .customLong("domain"), help: ArgumentHelp("Recipient domain.", valueName: "domain"))
    var domain: String?

    @Option(name: .customLong("sender-domain"), help: ArgumentHelp("Sender domain.", valueName: "domain"))
    var senderDomain: String?

    var isEmpty: Bool { ids.isEmpty && domain == nil && senderDomain == nil }

    func request(_ operation: QueueControlRequest.Operation, transport: String? = nil, tlsRequirement: TLSRequirement? = nil) -> QueueControlRequest {
        QueueControlRequest(
            operation: operation, ids: ids.isEmpty ? nil : ids, domain: domain, senderDomain: senderDomain, transport: transport,
            tlsRequirement: tlsRequirement)
    }
}

/// The part every changing command shares: a filter or --all, and the count printed.
protocol QueueMutationCommand: AsyncParsableCommand {
    var target: QueueTargetOptions { get }
    var filter: QueueFilterOptions { get }
    var all: Bool { get }
    static var operation: QueueControlRequest.Operation { get }
    static var verb: String { get }
}

extension QueueMutationCommand {
    func validate() throws {
        // An empty filter matches every message; make that a deliberate choice.
        if filter.isEmpty && !all { throw ValidationError("give a filter (--id, --domain, --sender-domain) or --all") }
        if !filter.isEmpty && all { throw ValidationError("--all cannot be combined with a filter") }
    }

    func perform(transport: String? = nil, tlsRequirement: TLSRequirement? = nil) async throws {
        let response = try await target.send(filter.request(Self.operation, transport: transport, tlsRequirement: tlsRequirement))
        let count = response.count ?? 0
        print("\(count) message\(count == 1 ? "" : "s") \(Self.verb)")
    }

    func run() async throws { try await perform() }
}

struct QueueListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List queued messages.")

    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let messages = try await target.send(filter.request(.list)).messages ?? []
        if json {
            let encoder = QueueControl.encoder()
            encoder.outputFormatting.insert(.prettyPrinted)
            print(String(decoding: try encoder.encode(messages), as: UTF8.self))
            return
        }
        print(Self.table(messages), terminator: "")
    }

    /// One line per message, then one indented line per recipient with its state and last
    /// failure.
    static func table(_ messages: [QueueListing]) -> String {
        guard !messages.isEmpty else { return "no messages queued\n" }
        let formatter = ISO8601DateFormatter()
        let header = ["ID", "SENDER", "ACCOUNT", "DOMAIN", "SIZE", "ATTEMPTS", "CREATED", "NEXT ATTEMPT", "RELEASE", "HELD", "TRANSPORT", "REQUIRETLS"]
        let rows = messages.map {
            [
                "\($0.id)", $0.sender.isEmpty ? "<>" : $0.sender, $0.account ?? "-", $0.domain, "\($0.size)", "\($0.attempts)", formatter.string(from: $0.created),
                formatter.string(from: $0.nextAttempt), $0.releaseAt.map { formatter.string(from: $0) } ?? "-", $0.held ? "yes" : "no", $0.transport ?? "-", $0.tlsRequirement.rawValue,
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var text = line(header) + "\n"
        for (message, row) in zip(messages, rows) {
            text += line(row) + "\n"
            for recipient in message.recipients {
                text += "    \(recipient.address) \(recipient.state)" + (recipient.lastFailure.map { ": \($0)" } ?? "") + "\n"
            }
        }
        return text
    }
}

struct QueueHoldCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(commandName: "hold", abstract: "Hold messages: no delivery attempts until released.")
    static let operation = QueueControlRequest.Operation.hold
    static let verb = "held"
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false
}

struct QueueReleaseCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(commandName: "release", abstract: "Release held messages.")
    static let operation = QueueControlRequest.Operation.release
    static let verb = "released"
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false
}

struct QueueKickCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(commandName: "kick", abstract: "Make messages due now (held ones stay held).")
    static let operation = QueueControlRequest.Operation.kick
    static let verb = "kicked"
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false
}

struct QueueDropCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop", abstract: "Remove messages from the queue without delivering them or sending DSNs.")
    static let operation = QueueControlRequest.Operation.drop
    static let verb = "dropped"
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false
}

struct QueueTransportCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Send messages through a named transport from their next attempt on, or (--clear) by the routes again.")
    static let operation = QueueControlRequest.Operation.transport
    static let verb = "changed"
    @Argument(help: "A transport of tern.yaml's Queue section, or direct.") var name: String?
    @Flag(help: "Return the messages to the routes.") var clear = false
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false

    func validate() throws {
        if (name == nil) == (!clear) { throw ValidationError("give a transport name or --clear") }
        if filter.isEmpty && !all { throw ValidationError("give a filter (--id, --domain, --sender-domain) or --all") }
        if !filter.isEmpty && all { throw ValidationError("--all cannot be combined with a filter") }
    }

    func run() async throws { try await perform(transport: name) }
}

extension TLSRequirement: ExpressibleByArgument {}

struct QueueRequireTLSCommand: QueueMutationCommand {
    static let configuration = CommandConfiguration(
        commandName: "requiretls",
        abstract: "Change what messages ask of TLS, from their next attempt on.",
        discussion: """
            yes: REQUIRETLS (RFC 8689): only over verified TLS to servers that offer REQUIRETLS. \
            no: as with "TLS-Required: No" (RFC 8689 §5): TLS is tried, but the recipient domain's \
            MTA-STS or DANE policy is not enforced. default: the policy decides.
            """)
    static let operation = QueueControlRequest.Operation.requireTLS
    static let verb = "changed"
    @Argument(help: "yes, no or default.") var requirement: TLSRequirement
    @OptionGroup var target: QueueTargetOptions
    @OptionGroup var filter: QueueFilterOptions
    @Flag(help: "Every message.") var all = false

    func run() async throws { try await perform(tlsRequirement: requirement) }
}

struct QueueDumpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump", abstract: "Print a queued message as stored (headers and body).")

    @Argument(help: "The message id.") var id: Int64
    @OptionGroup var target: QueueTargetOptions

    func run() async throws {
        let response = try await target.send(QueueControlRequest(operation: .dump, ids: [id]))
        guard let content = response.content, let data = Data(base64Encoded: content) else {
            printError("tern queue: dump: the server sent no message content")
            throw ExitCode(1)
        }
        FileHandle.standardOutput.write(data)
    }
}
