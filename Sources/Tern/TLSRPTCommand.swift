import ArgumentParser
import Foundation
import TLSRPT
import TLSRPTStore

struct TLSRPTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlsrpt",
        abstract: "TLS reporting (RFC 8460): the results recorded for outgoing TLS reports.",
        subcommands: [TLSRPTResultsCommand.self]
    )
}

/// `tern tlsrpt results`: what direct delivery recorded in DataDir/tlsrpt.db, the material of
/// the daily TLS reports: per day, policy domain and recipient domain, the policy, the counts
/// of successful and failed sessions, and each kind of failure.
struct TLSRPTResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Print the TLS report results recorded by outgoing deliveries.",
        discussion: """
            One block per UTC day, policy domain and recipient domain: the policy (sts with its \
            mode line, tlsa for DANE with the MX host as policy domain, or no-policy-found), the \
            successful and failed session counts, then one line per kind of failure: result \
            type, MX host, IP, count and reason. With --json, the stored results as JSON in \
            RFC 8460's report format, one object per block. Reads the data directory of --dir \
            or of --config's DataDir; works while the server runs.
            """
    )

    @OptionGroup var location: DataDirOptions

    @Option(name: .customLong("day"), help: ArgumentHelp("Only this UTC day.", valueName: "yyyy-mm-dd"))
    var day: String?

    @Flag(name: .customLong("json"), help: "JSON instead of text.")
    var json = false

    func run() async throws {
        let path = TransportSecurityServices.resultStorePath(dataDir: try location.dataDirectory())
        guard FileManager.default.fileExists(atPath: path) else {
            printError("tern tlsrpt: no results recorded: \(path) does not exist")
            return
        }
        let store = try TLSRPTStore.open(path: path)
        defer { store.close() }
        var rows: [StoredResults] = []
        let days = if let day { [day] } else { try await store.days() }
        for day in days {
            rows += try await store.results(day: day)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(rows.map(JSONRow.init)), as: UTF8.self))
        } else {
            print(Self.text(rows), terminator: "")
        }
    }

    static func text(_ rows: [StoredResults]) -> String {
        var out = ""
        for row in rows {
            for result in row.results {
                let policy = result.policy
                var kind = policy.type.rawValue
                if policy.type == .sts, let mode = policy.string.first(where: { $0.hasPrefix("mode:") }) { kind += " (\(mode))" }
                out += "\(row.day) \(row.policyDomain) recipient-domain=\(row.recipientDomain) policy=\(kind)"
                out += " successful=\(result.summary.successful) failed=\(result.summary.failed)\n"
                for failure in result.failureDetails {
                    var line = "  \(failure.resultType) count=\(failure.failedSessionCount)"
                    if let host = failure.receivingMXHostname { line += " mx=\(host)" }
                    if let ip = failure.receivingIP { line += " ip=\(ip)" }
                    if let reason = failure.failureReasonCode { line += ": \(reason)" }
                    out += line + "\n"
                }
            }
        }
        return out
    }

    /// A stored block with its key.
    struct JSONRow: Encodable {
        var day: String
        var recipientDomain: String
        var policies: [PolicyResult]

        init(_ row: StoredResults) {
            day = row.day
            recipientDomain = row.recipientDomain
            policies = row.results
        }

        enum CodingKeys: String, CodingKey {
            case day, recipientDomain = "recipient-domain", policies
        }
    }
}
