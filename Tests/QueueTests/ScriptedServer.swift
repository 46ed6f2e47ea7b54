import Foundation
import NIOCore
import NIOPosix
import Synchronization
import TestSupport

/// A small SMTP server on loopback whose answers depend on the recipient's local part:
/// "temp…" gets 451, "perm…" gets 550, others 250. It keeps what it received and the names
/// clients gave in EHLO.
final class ScriptedServer: Sendable {
    struct Received: Sendable {
        var sender: String
        var recipients: [String]
        var data: String
    }

    final class Recorder: Sendable {
        let state = Mutex<(connections: Int, messages: [Received], clientNames: [String])>((0, [], []))
    }

    private let recorder = Recorder()
    let port: Int
    private let task: Task<Void, Never>

    var connections: Int { recorder.state.withLock { $0.connections } }
    var messages: [Received] { recorder.state.withLock { $0.messages } }
    var clientNames: [String] { recorder.state.withLock { $0.clientNames } }

    init() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child) }
            }
        port = server.channel.localAddress?.port ?? 0
        let recorder = self.recorder
        task = Task {
            try? await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        recorder.state.withLock { $0.connections += 1 }
                        group.addTask {
                            try? await connection.executeThenClose { input, output in
                                try await Self.serve(input: input, output: output, recorder: recorder)
                            }
                        }
                    }
                }
            }
        }
    }

    func stop() {
        task.cancel()
    }

    private static func serve(
        input: NIOAsyncChannelInboundStream<ByteBuffer>, output: NIOAsyncChannelOutboundWriter<ByteBuffer>,
        recorder: Recorder
    ) async throws {
        var reader = LineReader(input.makeAsyncIterator())
        func line() async throws -> String? { try await reader.line() }
        func send(_ text: String) async throws { try await output.write(ByteBuffer(string: text)) }

        try await send("220 mx.example.net ESMTP\r\n")
        var sender = ""
        var accepted: [String] = []
        while let command = try await line() {
            let upper = command.uppercased()
            if upper.hasPrefix("EHLO") {
                recorder.state.withLock { $0.clientNames.append(String(command.dropFirst(5))) }
                try await send("250-mx.example.net\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n")
            } else if upper.hasPrefix("MAIL FROM:") {
                sender = String(command.dropFirst(10))
                accepted = []
                try await send("250 2.1.0 ok\r\n")
            } else if upper.hasPrefix("RCPT TO:") {
                let address = String(command.dropFirst(8)).trimmingCharacters(in: CharacterSet(charactersIn: "<>"))
                if address.hasPrefix("temp") {
                    try await send("451 4.3.0 try again later\r\n")
                } else if address.hasPrefix("perm") {
                    try await send("550 5.1.1 no such user here\r\n")
                } else {
                    accepted.append(address)
                    try await send("250 2.1.5 ok\r\n")
                }
            } else if upper == "DATA" {
                try await send("354 go on\r\n")
                var data = ""
                while let content = try await line(), content != "." { data += content + "\n" }
                let received = Received(sender: sender, recipients: accepted, data: data)
                recorder.state.withLock { $0.messages.append(received) }
                try await send("250 2.0.0 queued\r\n")
            } else if upper == "RSET" {
                try await send("250 2.0.0 ok\r\n")
            } else if upper == "QUIT" {
                try await send("221 2.0.0 bye\r\n")
                return
            } else {
                try await send("500 5.5.1 unknown\r\n")
            }
        }
    }
}
