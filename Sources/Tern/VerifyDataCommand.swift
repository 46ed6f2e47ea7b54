import ArgumentParser
import Foundation
import Store

/// `tern verifydata DIR`: checks a data directory of a stopped server (or a copy): every
/// message file against the database and the reverse, UIDs and MODSEQs, stored structures,
/// and unfinished deliveries. Nothing is repaired; problems are listed and the exit status
/// is 1.
struct VerifyDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verifydata",
        abstract: "Check a data directory for inconsistencies between the databases and the message files."
    )

    @Argument(help: "The data directory (of a stopped server, or a copy).")
    var dataDirectory: String

    @OptionGroup var logOptions: LogOptions

    func run() async throws {
        try logOptions.bootstrap()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dataDirectory + "/accounts", isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("tern: verifydata: \(dataDirectory) is not a data directory (no accounts/)")
            throw ExitCode(1)
        }
        let problems: [ConsistencyProblem]
        do {
            // Without recovery: an interrupted delivery is reported, not repaired.
            let store = try await Store.open(dataDirectory: dataDirectory, recover: false)
            defer { store.close() }
            problems = try await store.verify()
        } catch {
            printError("tern: verifydata: \(error)")
            throw ExitCode(1)
        }
        guard !problems.isEmpty else {
            print("no problems found")
            return
        }
        for problem in problems { print(problem) }
        throw ExitCode(1)
    }
}
