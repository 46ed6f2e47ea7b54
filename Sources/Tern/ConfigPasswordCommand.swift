import ArgumentParser
import Foundation
import SASL

/// `tern config password`: the Passwords lines for an account in domains.yaml, made from a
/// password read on standard input. Only salted SCRAM keys (RFC 5803 form) are printed, so
/// the file never holds the password itself.
struct ConfigPasswordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Read a password on standard input and print its Passwords entries for domains.yaml.",
        discussion: "Example: printf '%s' 'the password' | tern config password"
    )

    @Option(help: "PBKDF2 iterations (RFC 7677 §4 asks for at least 4096).")
    var iterations: Int = SCRAMCredentials.defaultIterations

    func run() throws {
        guard SCRAMCredentials.iterationRange.contains(iterations) else {
            throw ValidationError("--iterations must be in \(SCRAMCredentials.iterationRange)")
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        var password = String(decoding: input, as: UTF8.self)
        // A final line break from echo or a terminal is not part of the password.
        while password.hasSuffix("\n") || password.hasSuffix("\r") { password.removeLast() }
        guard !password.isEmpty else { throw ValidationError("no password on standard input") }
        do {
            print("    Passwords:")
            for hash in [SCRAMHash.sha256, .sha1] {
                print("      - \(try SCRAMCredentials.generate(password: password, hash: hash, iterations: iterations).rfc5803)")
            }
        } catch {
            throw ValidationError("unusable password: \(error)")
        }
    }
}
