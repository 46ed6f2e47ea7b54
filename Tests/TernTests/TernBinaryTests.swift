import DNS
import DNSTestSupport
import Foundation
import Testing
import TestSupport

/// Runs the built `tern` binary, which sits next to the test bundle.
struct TernRun {
    var status: Int32
    var stdout: String
    var stderr: String

    static func run(_ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil) async throws -> TernRun {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let binary = directory.appendingPathComponent("tern")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tern-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        let errURL = scratch.appendingPathComponent("err")
        var env = ProcessInfo.processInfo.environment
        env["TERN_RESOLVER"] = nil
        for (key, value) in environment { env[key] = value }
        var inputPath: String?
        if let input {
            let inURL = scratch.appendingPathComponent("in")
            try Data(input).write(to: inURL)
            inputPath = inURL.path
        }
        let child = try ChildProcess(binary.path, arguments, environment: env, input: inputPath, output: outURL.path, errors: errURL.path)
        let status = await child.exit()
        return TernRun(
            status: status,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

private func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }

@Suite struct TernBinaryTests {
    /// Children get standard input, output and error and nothing else of the test process
    /// (which holds many descriptors while the suite runs in parallel).
    @Test func childProcessesInheritOnlyTheStandardDescriptors() throws {
        let held = open("/dev/null", O_RDONLY)
        defer { close(held) }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        #expect(try ChildProcess("/bin/ls", ["/proc/self/fd"], environment: [:], output: output).wait() == 0)
        // ls's own directory handle is the one descriptor above 2.
        let listed = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(held > 2 && listed.filter { $0 > 3 }.isEmpty && listed.contains(2))
    }

    @Test func helpListsEverySubcommand() async throws {
        let help = try await TernRun.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("  version                 Print the version of tern."))
        #expect(help.stdout.contains("  dns                     Look up DNS records the way the server does."))
        #expect(help.stdout.contains("--resolver HOST:PORT"))
    }

    @Test func version() async throws {
        let run = try await TernRun.run(["version"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("tern 0."))
    }

    static let zone: [ResourceRecord] = [
        ResourceRecord(name: name("example.test"), ttl: 300, data: .mx(MX(preference: 10, exchange: name("mail.example.test")))),
        ResourceRecord(name: name("example.test"), ttl: 300, data: .txt([Array("v=spf1 -all".utf8)])),
        ResourceRecord(name: name("_25._tcp.mail.example.test"), ttl: 300, data: .tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: [0xAB, 0xCD]))),
        ResourceRecord(name: name("xn--mnchen-3ya.example.test"), ttl: 60, data: .a(.v4(192, 0, 2, 7))),
        ResourceRecord(name: name("1.2.0.192.in-addr.arpa"), ttl: 60, data: .ptr(name("mail.example.test"))),
    ]

    @Test func lookupPrintsAuthenticAndRecords() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: true))
        defer { Task { await server.stop() } }

        let mx = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "MX", "example.test"])
        #expect(mx.status == 0)
        #expect(mx.stdout == "authentic: yes\nexample.test.\t300\tIN\tMX\t10 mail.example.test.\n")
        #expect(mx.stderr == "")

        let tlsa = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "tlsa", "_25._tcp.mail.example.test"])
        #expect(tlsa.stdout == "authentic: yes\n_25._tcp.mail.example.test.\t300\tIN\tTLSA\t3 1 1 abcd\n")

        // Internationalized names go through IDNA; PTR takes an address.
        let idn = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "A", "münchen.example.test"])
        #expect(idn.stdout == "authentic: yes\nxn--mnchen-3ya.example.test.\t60\tIN\tA\t192.0.2.7\n")
        let ptr = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "PTR", "192.0.2.1"])
        #expect(ptr.stdout == "authentic: yes\n1.2.0.192.in-addr.arpa.\t60\tIN\tPTR\tmail.example.test.\n")
    }

    @Test func resolverFromTheEnvironmentAndTCP() async throws {
        let server = try await FakeDNSServer(handler: FakeDNSServer.zone(Self.zone, authentic: false))
        defer { Task { await server.stop() } }
        let run = try await TernRun.run(["dns", "lookup", "--tcp", "TXT", "example.test"], environment: ["TERN_RESOLVER": server.address])
        #expect(run.status == 0)
        #expect(run.stdout == "authentic: no\nexample.test.\t300\tIN\tTXT\t\"v=spf1 -all\"\n")
        #expect(server.received.map(\.1) == [.tcp])
    }

    @Test func dnsErrorsExitOneWithTheReason() async throws {
        let server = try await FakeDNSServer { query, transport in
            if query.questions.first?.name == name("bogus.example.test") {
                var response = FakeDNSServer.reply(to: query, rcode: .serverFailure)
                response.edns?.options = [EDNSOption(ExtendedDNSError(infoCode: 6))]
                return [response.encoded()]
            }
            return FakeDNSServer.zone(Self.zone, authentic: true)(query, transport)
        }
        defer { Task { await server.stop() } }

        let bogus = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "TXT", "bogus.example.test"])
        #expect(bogus.status == 1)
        #expect(bogus.stdout == "")
        #expect(bogus.stderr == "tern: dns lookup: TXT bogus.example.test.: server failure (SERVFAIL); extended error 6 (DNSSEC Bogus)\n")

        let missing = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "A", "missing.example.test"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "tern: dns lookup: A missing.example.test.: name does not exist (NXDOMAIN) (authentic)\n")
    }

    @Test func debugLoggingIsLogfmtOnStderr() async throws {
        // A port with nothing behind it fails fast, at the network level, with debug lines.
        let server = try await FakeDNSServer { _, _ in [] }
        await server.stop()
        let run = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "--log-level", "info,dns=debug", "A", "example.test"])
        #expect(run.status == 1)
        let debugLines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("l=debug ") }
        #expect(!debugLines.isEmpty, "\(run.stderr)")
        #expect(debugLines.allSatisfy { $0.contains(" pkg=dns ") && $0.contains(" name=example.test. ") })

        let quiet = try await TernRun.run(["dns", "lookup", "--resolver", server.address, "A", "example.test"])
        #expect(!quiet.stderr.contains("l=debug"))
    }

    @Test func usageErrors() async throws {
        let badType = try await TernRun.run(["dns", "lookup", "--resolver", "127.0.0.1:9", "BOGUS", "example.test"])
        #expect(badType.status == 64)
        #expect(badType.stderr.contains("Error: unknown record type 'BOGUS'"))

        let badName = try await TernRun.run(["dns", "lookup", "--resolver", "127.0.0.1:9", "A", "a..example"])
        #expect(badName.status == 64)
        #expect(badName.stderr.contains("Error: invalid name 'a..example': empty label"))

        let badResolver = try await TernRun.run(["dns", "lookup", "--resolver", "dns.example:53", "A", "example.test"])
        #expect(badResolver.status == 64)
        #expect(badResolver.stderr.contains("'dns.example' is not an IP address"))

        let badLevel = try await TernRun.run(["dns", "lookup", "--log-level", "dns=loud", "--resolver", "127.0.0.1:9", "A", "example.test"])
        #expect(badLevel.status == 64)
        #expect(badLevel.stderr.contains("--log-level:"))

        let unknownCommand = try await TernRun.run(["frobnicate"])
        #expect(unknownCommand.status == 64)
    }
}
