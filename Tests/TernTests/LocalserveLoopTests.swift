import Foundation
import Testing
import TestSupport

import Glibc

/// `tern localserve` end to end: mail submitted for other domains goes through the outbound
/// queue, loops back to localserve's own SMTP port and lands in the sender's Inbox; a
/// recipient that localserve's receiving side refuses permanently (`…permerror`) comes back
/// as a DSN (RFC 3464) in the same Inbox. Everything over the network, as a client sees it.
@Suite struct LocalserveLoopTests {
    @Test(.timeLimit(.minutes(1)))
    func submittedMailLoopsBackAndAPermanentErrorGivesADSN() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-localserve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let base = try #require(LineSocket.freeBasePort(offsets: [25, 587, 465, 143, 993]), "no free ports")
        let server = try LocalserveProcess(directory: directory, basePort: base)
        defer { server.stop() }
        let password = try await server.waitForPassword(deadline: .now + .seconds(15))

        let marker = UUID().uuidString
        try await LineSocket.submit(
            port: base + 587, password: password,
            [("someone-permerror@example.com", "to be refused"), ("x@example.com", "loop \(marker)")])

        // IMAP (BASE+143, plaintext login on loopback): poll the Inbox until both arrived.
        let imap = try await LineSocket.connect(port: base + 143, deadline: .now + .seconds(10))
        defer { imap.close() }
        _ = try imap.readLine()
        _ = try imap.command("a1", "LOGIN tern@localhost \(password)")
        var messages: [String] = []
        let deadline = ContinuousClock.now + .seconds(20)
        var looped = false, dsn = false
        var tag = 2
        while ContinuousClock.now < deadline {
            // A fresh SELECT reports the current number of messages.
            let select = try imap.command("a\(tag)", "SELECT INBOX")
            tag += 1
            let exists = select.split(separator: "\r\n").compactMap { line -> Int? in
                let words = line.split(separator: " ")
                return words.count == 3 && words[0] == "*" && words[2] == "EXISTS" ? Int(words[1]) : nil
            }.last ?? 0
            if exists > 0 {
                let fetched = try imap.command("a\(tag)", "FETCH 1:\(exists) BODY.PEEK[]")
                tag += 1
                messages = fetched.components(separatedBy: "* ").filter { $0.contains("FETCH") }
                looped = messages.contains { $0.contains("Subject: loop \(marker)") && $0.contains("body of loop \(marker)") }
                dsn = messages.contains {
                    $0.contains("multipart/report") && $0.contains("someone-permerror@example.com") && $0.contains("Action: failed")
                        && $0.contains("Status: 5.")
                }
                if looped && dsn { break }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(looped, "the message to x@example.com did not loop back; Inbox: \(messages)")
        #expect(dsn, "no failure DSN for someone-permerror@example.com; Inbox: \(messages)")
        #expect(!messages.contains { $0.contains("body of to be refused") && !$0.contains("multipart/report") }, "the refused message was delivered")
        _ = try? imap.command("a\(tag)", "LOGOUT")
    }
}

/// A `tern localserve` child process, stopped with SIGTERM (then SIGKILL) at the end.
final class LocalserveProcess {
    let process: ChildProcess
    let stdoutPath: String
    private var ended: Int32?

    init(directory: String, basePort: Int) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stdoutPath = directory + ".out"
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tern")
        var environment = ProcessInfo.processInfo.environment
        environment["TERN_RESOLVER"] = nil
        process = try ChildProcess(
            binary.path, ["localserve", "--dir", directory, "--base-port", "\(basePort)", "--log-level", "error"],
            environment: environment, output: stdoutPath)
    }

    private var isRunning: Bool {
        if ended == nil { ended = process.exitIfEnded() }
        return ended == nil
    }

    /// The password localserve prints once it has its configuration.
    func waitForPassword(deadline: ContinuousClock.Instant) async throws -> String {
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n") where line.hasPrefix("password:") {
                return line.dropFirst("password:".count).trimmingCharacters(in: .whitespaces)
            }
            guard isRunning else { throw SocketError("localserve exited with \(ended ?? -1)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SocketError("localserve printed no password")
    }

    func stop() {
        defer { try? FileManager.default.removeItem(atPath: stdoutPath) }
        guard isRunning else { return }
        process.signal(SIGTERM)
        for _ in 0..<100 where isRunning { usleep(100_000) }
        guard isRunning else { return }
        process.signal(SIGKILL)
        ended = process.wait()
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A blocking TCP client on 127.0.0.1 that reads CRLF lines (and IMAP literals), with a
/// receive timeout so a silent server fails the test instead of hanging it.
final class LineSocket {
    private let fd: Int32
    private var buffer: [UInt8] = []

    private init(fd: Int32) { self.fd = fd }

    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        return address
    }

    static let streamType = Int32(SOCK_STREAM.rawValue)

    /// Whether something could bind 127.0.0.1:`port` now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { return false }
        defer { _ = Glibc.close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func freeBasePort(offsets: [Int]) -> Int? {
        for _ in 0..<50 {
            let base = Int.random(in: 20000...40000)
            if offsets.allSatisfy({ isFree(base + $0) }) { return base }
        }
        return nil
    }

    /// Connects, retrying until the server listens or the deadline passes.
    /// Submits one message per (recipient, subject) as tern@localhost on localserve's
    /// submission port (AUTH PLAIN without TLS is allowed on loopback), each with a 250.
    static func submit(port: Int, password: String, _ messages: [(recipient: String, subject: String)]) async throws {
        let smtp = try await connect(port: port, deadline: .now + .seconds(10))
        defer { smtp.close() }
        try smtp.expect(code: 220)
        try smtp.send("EHLO client.test")
        try smtp.expect(code: 250)
        try smtp.send("AUTH PLAIN " + Data("\0tern@localhost\0\(password)".utf8).base64EncodedString())
        try smtp.expect(code: 235)
        for (recipient, subject) in messages {
            try smtp.send("MAIL FROM:<tern@localhost>")
            try smtp.expect(code: 250)
            try smtp.send("RCPT TO:<\(recipient)>")
            try smtp.expect(code: 250)
            try smtp.send("DATA")
            try smtp.expect(code: 354)
            try smtp.send("From: <tern@localhost>\r\nTo: <\(recipient)>\r\nSubject: \(subject)\r\n\r\nbody of \(subject)\r\n.")
            try smtp.expect(code: 250)
        }
        try smtp.send("QUIT")
    }

    static func connect(port: Int, deadline: ContinuousClock.Instant) async throws -> LineSocket {
        while true {
            let fd = socket(AF_INET, streamType, 0)
            guard fd >= 0 else { throw SocketError("socket: errno \(errno)") }
            var address = loopback(port: port)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if connected {
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                return LineSocket(fd: fd)
            }
            _ = Glibc.close(fd)
            guard ContinuousClock.now < deadline else { throw SocketError("nothing listens on 127.0.0.1:\(port)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func send(_ line: String) throws {
        let bytes = Array((line + "\r\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw SocketError("write: errno \(errno)") }
            offset += written
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { throw SocketError(count == 0 ? "connection closed" : "read: errno \(errno) (timeout?)") }
        buffer += chunk[0..<count]
    }

    /// One line without its CRLF.
    func readLine() throws -> String {
        while true {
            if let end = buffer.indices.dropFirst().first(where: { buffer[$0 - 1] == 13 && buffer[$0] == 10 }) {
                let line = String(decoding: buffer[0..<(end - 1)], as: UTF8.self)
                buffer.removeSubrange(0...end)
                return line
            }
            try fill()
        }
    }

    func readBytes(_ count: Int) throws -> String {
        while buffer.count < count { try fill() }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        buffer.removeSubrange(0..<count)
        return text
    }

    /// An SMTP reply (multi-line too) that must have `code`.
    func expect(code: Int) throws {
        while true {
            let line = try readLine()
            guard line.count >= 4, Int(line.prefix(3)) == code else { throw SocketError("expected \(code), got \(line)") }
            if line.dropFirst(3).first == " " { return }
        }
    }

    /// An IMAP command: everything up to its tagged OK, literals included, CRLF-joined.
    func command(_ tag: String, _ text: String) throws -> String {
        try send("\(tag) \(text)")
        var response = ""
        while true {
            var line = try readLine()
            // A literal {N} at the end of a line: its N octets follow, then the line goes on.
            while line.hasSuffix("}"), let open = line.lastIndex(of: "{"), let count = Int(line[line.index(after: open)..<line.index(before: line.endIndex)]) {
                line += "\r\n" + (try readBytes(count)) + (try readLine())
            }
            response += line + "\r\n"
            if line.hasPrefix("\(tag) ") {
                guard line.hasPrefix("\(tag) OK") else { throw SocketError("\(text): \(line)") }
                return response
            }
        }
    }

    func close() { _ = Glibc.close(fd) }
}
