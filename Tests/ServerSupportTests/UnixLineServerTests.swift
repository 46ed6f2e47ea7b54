import Foundation
import Logging
import NIOCore
import ServerSupport
import Testing

import Glibc

/// The control socket's transport: a request line in, a response line out, limits on
/// length and time, the socket file's mode and its removal.
@Suite struct UnixLineServerTests {
    /// Runs a server at a fresh path in a temporary directory around `body`.
    func withServer(
        limits: UnixLineServer.Limits = UnixLineServer.Limits(), _ body: (String) async throws -> Void
    ) async throws {
        // Short: sun_path holds 108 bytes.
        let directory = "/tmp/tern-uls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ctl"
        let server = UnixLineServer(path: path, limits: limits, logger: Logger(label: "test"), oversizedResponse: Array("too long".utf8)) { line in
            Array("echo:".utf8) + line
        }
        let bound = try await server.bind()
        let task = Task { try await bound.serve() }
        do {
            try await body(path)
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
        task.cancel()
        _ = await task.result
        #expect(!FileManager.default.fileExists(atPath: path), "the socket is removed when the server ends")
    }

    @Test func roundTripAndMode() async throws {
        try await withServer { path in
            let response = try await UnixLineClient.request(path: path, line: Array(#"{"a":1}"#.utf8))
            #expect(String(decoding: response, as: UTF8.self) == #"echo:{"a":1}"#)
            var status = stat()
            #expect(lstat(path, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600)
            #expect(status.st_mode & S_IFMT == S_IFSOCK)
            // Many connections, one after another and at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await UnixLineClient.request(path: path, line: Array("\(index)".utf8))
                        #expect(String(decoding: reply, as: UTF8.self) == "echo:\(index)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func oversizedLineGetsTheOversizedResponse() async throws {
        try await withServer(limits: UnixLineServer.Limits(maxLineLength: 100)) { path in
            let long = try await UnixLineClient.request(path: path, line: [UInt8](repeating: 0x61, count: 5000))
            #expect(String(decoding: long, as: UTF8.self) == "too long")
            let exact = try await UnixLineClient.request(path: path, line: [UInt8](repeating: 0x61, count: 99))
            #expect(exact.count == 5 + 99)
            let over = try await UnixLineClient.request(path: path, line: [UInt8](repeating: 0x61, count: 100))
            #expect(String(decoding: over, as: UTF8.self) == "too long")
        }
    }

    @Test func silentClientIsClosedAfterTheReadTimeout() async throws {
        try await withServer(limits: UnixLineServer.Limits(readTimeout: .milliseconds(300))) { path in
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            #expect(fd >= 0)
            defer { _ = Glibc.close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
            }
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(connected == 0)
            _ = "partial".withCString { write(fd, $0, 7) }
            // The server closes (end of file) long before this socket's own 30 s timeout
            // would end the read with an error. The blocking read runs on a Dispatch
            // thread, not on one of the few threads of Swift's cooperative pool.
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let count = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    var byte: UInt8 = 0
                    continuation.resume(returning: read(fd, &byte, 1))
                }
            }
            #expect(count == 0, "the server closes without a response")
        }
    }

    @Test func missingSocketIsNotListening() async throws {
        await #expect(throws: UnixSocketError.self) {
            _ = try await UnixLineClient.request(path: "/tmp/tern-no-such-\(UUID().uuidString.prefix(8))", line: [0x61])
        }
        do {
            _ = try await UnixLineClient.request(path: "/tmp/tern-no-such-socket", line: [0x61])
        } catch let error as UnixSocketError {
            guard case .notListening = error else { throw error }
        }
    }

    @Test func staleSocketIsReplacedButOtherFilesAreNot() async throws {
        let directory = "/tmp/tern-uls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/ctl"
        let make = { UnixLineServer(path: path, logger: Logger(label: "test"), oversizedResponse: []) { $0 } }
        // A socket left behind by a crash: bound, then closed without removal.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        _ = Glibc.close(fd)
        #expect(bound == 0 && FileManager.default.fileExists(atPath: path))
        let second = try await make().bind()
        let task = Task { try await second.serve() }
        #expect(try await UnixLineClient.request(path: path, line: Array("x".utf8)) == Array("x".utf8))
        task.cancel()
        _ = await task.result

        let regular = directory + "/regular"
        #expect(FileManager.default.createFile(atPath: regular, contents: Data("keep".utf8)))
        await #expect(throws: UnixSocketError.self) {
            _ = try await UnixLineServer(path: regular, logger: Logger(label: "test"), oversizedResponse: []) { $0 }.bind()
        }
        #expect(FileManager.default.contents(atPath: regular) == Data("keep".utf8))
    }
}
