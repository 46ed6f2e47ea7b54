import ArgumentParser
import DNS
import Foundation

struct DNSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Look up DNS records the way the server does.",
        subcommands: [DNSLookupCommand.self]
    )
}

/// `tern dns lookup TYPE NAME`: what the server's resolver sees, including whether the answer
/// was DNSSEC-validated by the recursive resolver (its AD bit), which DANE depends on.
struct DNSLookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup",
        abstract: "Print the records of a type at a name, their TTLs, and whether the answer was authentic (DNSSEC).",
        discussion: """
            Prints "authentic: yes" or "authentic: no", then one record per line in zone-file \
            form. NAME may be internationalized; for PTR it may be an IP address. On a DNS \
            error, prints it (with RFC 8914 extended errors) and exits with status 1.
            """
    )

    @OptionGroup var resolverOptions: ResolverOptions
    @OptionGroup var logOptions: LogOptions

    @Argument(help: "Record type: A, AAAA, MX, TXT, PTR, CNAME, TLSA, SRV, CAA, NS, SOA, or TYPEnnn.")
    var type: String

    @Argument(help: "The name to look up, e.g. example.com, _25._tcp.mx.example.com, or an IP address for PTR.")
    var name: String

    func run() async throws {
        try logOptions.bootstrap()
        guard let recordType = RecordType(name: type), recordType != .opt else {
            throw ValidationError("unknown record type '\(type)'")
        }
        let queryName = try Self.queryName(name, type: recordType)
        let resolver = try resolverOptions.makeResolver()
        do {
            let answer = try await resolver.resolve(queryName, recordType)
            print("authentic: \(answer.authentic ? "yes" : "no")")
            for record in answer.records { print(record) }
        } catch {
            printError("tern: dns lookup: \(error)")
            throw ExitCode(1)
        }
    }

    /// An IP address becomes its reverse name for PTR; non-ASCII names go through IDNA; the
    /// rest is DNS presentation form, so names like `_dmarc.example.com` work.
    static func queryName(_ text: String, type: RecordType) throws -> DNSName {
        if type == .ptr, let address = IPAddress(text) {
            return DNSName.reverse(address)
        }
        var ascii = text
        if text.unicodeScalars.contains(where: { !$0.isASCII }) {
            do {
                ascii = try Domain(text).ascii
            } catch {
                throw ValidationError("invalid name '\(text)': \(error)")
            }
        }
        do {
            return try DNSName(ascii)
        } catch {
            throw ValidationError("invalid name '\(text)': \(error)")
        }
    }
}

/// Errors go to stderr, so stdout carries only the answer.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
