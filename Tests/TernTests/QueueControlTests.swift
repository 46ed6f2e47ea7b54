import Foundation
import Testing

import Glibc

/// `tern queue` and `tern sendmail` against a running `tern localserve`, through the real
/// binary: the control socket, every queue command on a message that stays queued (its
/// recipient's local part ends in temperror), and a submission with -t that lands in the
/// Inbox without its Bcc field.
@Suite struct QueueControlTests {
    struct Listing: Decodable {
        var id: Int64
        var held: Bool
        var domain: String
        var tlsRequirement: String
        var recipients: [Recipient]
        struct Recipient: Decodable { var address: String }
    }

    @Test(.timeLimit(.minutes(2)))
    func queueCommandsAndSendmailAgainstLocalserve() async throws {
        // Short: the socket path must fit in sun_path (108 bytes).
        let directory = "/tmp/tern-qc-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = try #require(LineSocket.freeBasePort(offsets: [25, 587, 465, 143, 993]), "no free ports")
        let server = try LocalserveProcess(directory: directory, basePort: base)
        defer { server.stop() }
        let password = try await server.waitForPassword(deadline: .now + .seconds(15))
        let data = ["--dir", directory + "/data"]
        let config = ["--config", directory + "/tern.yaml"]

        let marker = UUID().uuidString
        try await LineSocket.submit(port: base + 587, password: password, [("someone-temperror@example.com", "queued \(marker)")])

        var status = stat()
        #expect(lstat(directory + "/data/ctl", &status) == 0 && status.st_mode & 0o777 == 0o600)

        let table = try await TernRun.run(["queue", "list"] + config)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("ID  SENDER"))
        #expect(table.stdout.contains("tern@localhost  tern     example.com"), "\(table.stdout)")
        #expect(table.stdout.contains("    someone-temperror@example.com pending"))

        let json = try await TernRun.run(["queue", "list", "--json", "--domain", "example.com"] + data)
        let listed = try JSONDecoder().decode([Listing].self, from: Data(json.stdout.utf8))
        let message = try #require(listed.first)
        #expect(listed.count == 1 && message.recipients.map(\.address) == ["someone-temperror@example.com"] && !message.held)
        let id = ["--id", "\(message.id)"]

        let hold = try await TernRun.run(["queue", "hold"] + id + data)
        #expect(hold.status == 0 && hold.stdout == "1 message held\n", "\(hold.stderr)")
        let afterHold = try JSONDecoder().decode([Listing].self, from: Data(try await TernRun.run(["queue", "list", "--json"] + data).stdout.utf8))
        #expect(afterHold.first?.held == true)

        let kick = try await TernRun.run(["queue", "kick"] + id + data)
        #expect(kick.status == 0 && kick.stdout == "1 message kicked\n", "\(kick.stderr)")

        // RFC 8689: the operator turns REQUIRETLS on, or the TLS policies off ("no").
        #expect(message.tlsRequirement == "default")
        let requireTLS = try await TernRun.run(["queue", "requiretls", "no"] + id + data)
        #expect(requireTLS.status == 0 && requireTLS.stdout == "1 message changed\n", "\(requireTLS.stderr)")
        let afterRequireTLS = try JSONDecoder().decode([Listing].self, from: Data(try await TernRun.run(["queue", "list", "--json"] + data).stdout.utf8))
        #expect(afterRequireTLS.first?.tlsRequirement == "no")
        let badRequirement = try await TernRun.run(["queue", "requiretls", "maybe", "--all"] + data)
        #expect(badRequirement.status == 64)

        let dump = try await TernRun.run(["queue", "dump", "\(message.id)"] + data)
        #expect(dump.status == 0 && dump.stdout.contains("Subject: queued \(marker)\r\n") && dump.stdout.hasSuffix("body of queued \(marker)\r\n"))

        let unknown = try await TernRun.run(["queue", "transport", "nosuch"] + id + data)
        #expect(unknown.status == 1 && unknown.stderr.contains("no transport named nosuch; transports: direct, localserve"))
        let noMatch = try await TernRun.run(["queue", "release", "--id", "999999"] + data)
        #expect(noMatch.status == 1 && noMatch.stderr.contains("no queued message matches"))
        let noFilter = try await TernRun.run(["queue", "drop"] + data)
        #expect(noFilter.status == 64 && noFilter.stderr.contains("or --all"))

        // Held, so no attempt runs; drop leaves only a record under delivery alone.
        let drop = try await TernRun.run(["queue", "drop"] + id + data)
        #expect(drop.status == 0 && drop.stdout == "1 message dropped\n", "\(drop.stderr)")
        let empty = try await TernRun.run(["queue", "list"] + data)
        #expect(empty.status == 0 && empty.stdout == "no messages queued\n")

        // sendmail -t through localserve's submission port, STARTTLS with its self-signed
        // certificate; the Bcc field must not arrive.
        let submit = directory + "/submit.yaml"
        try Data("""
            Host: 127.0.0.1
            Port: \(base + 587)
            TLS: STARTTLS
            IgnoreVerificationErrors: true
            Username: tern@localhost
            Password: \(password)
            From: tern@localhost

            """.utf8).write(to: URL(fileURLWithPath: submit))
        let sent = try await TernRun.run(
            ["sendmail", "--config", submit, "-t", "-oi", "-odi"],
            input: Array("From: tern@localhost\nTo: tern@localhost\nBcc: hidden@localhost\nSubject: sendmail \(marker)\n\nvia sendmail\n.\nstill body\n".utf8))
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(sent.stdout.isEmpty && sent.stderr.isEmpty)

        let imap = try await LineSocket.connect(port: base + 143, deadline: .now + .seconds(10))
        defer { imap.close() }
        _ = try imap.readLine()
        _ = try imap.command("a1", "LOGIN tern@localhost \(password)")
        _ = try imap.command("a2", "SELECT INBOX")
        let search = try imap.command("a3", "SEARCH SUBJECT \"sendmail \(marker)\"")
        let numbers = search.split(separator: "\r\n").first { $0.hasPrefix("* SEARCH") }?.split(separator: " ").dropFirst(2) ?? []
        let first = try #require(numbers.first, "the sendmail message is not in the Inbox: \(search)")
        let fetched = try imap.command("a4", "FETCH \(first) BODY.PEEK[]")
        #expect(fetched.contains("via sendmail\r\n.\r\nstill body"))
        #expect(!fetched.contains("Bcc:") && !fetched.contains("hidden@localhost"))
        _ = try? imap.command("a5", "LOGOUT")

        let wrongPassword = directory + "/wrong.yaml"
        try Data("Host: 127.0.0.1\nPort: \(base + 587)\nIgnoreVerificationErrors: true\nUsername: tern@localhost\nPassword: wrong\n".utf8)
            .write(to: URL(fileURLWithPath: wrongPassword))
        let refused = try await TernRun.run(["sendmail", "--config", wrongPassword, "-f", "tern@localhost", "tern@localhost"], input: Array("Subject: x\n\nx\n".utf8))
        #expect(refused.status == 69, "\(refused.stderr)")
        let badConfig = try await TernRun.run(["sendmail", "--config", directory + "/none.yaml", "tern@localhost"], input: [])
        #expect(badConfig.status == 78 && badConfig.stderr.contains("none.yaml: cannot read the file"))

        server.stop()
        #expect(!FileManager.default.fileExists(atPath: directory + "/data/ctl"), "the socket is removed at shutdown")
        let down = try await TernRun.run(["queue", "list"] + data)
        #expect(down.status == 1 && down.stderr.contains("is the server running?"))
    }
}
