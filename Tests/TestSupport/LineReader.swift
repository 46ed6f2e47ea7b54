import Foundation
import NIOCore

/// Reads text lines from a NIO async channel's inbound stream: the test side of a line
/// protocol (a scripted SMTP server, an IMAP client).
public struct LineReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private var pending: [UInt8] = []

    public init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next line without its line break (CR LF or LF); nil when the peer closed.
    public mutating func line() async throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .newlines)
                pending.removeFirst(newline + 1)
                return line
            }
            guard let buffer = try await iterator.next() else { return nil }
            pending += buffer.readableBytesView
        }
    }

    /// What was read and not yet taken as lines (e.g. compressed data after COMPRESS's OK).
    public mutating func takeBuffered() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    /// The next buffer as read, bypassing line splitting; nil when the peer closed.
    public mutating func nextBuffer() async throws -> ByteBuffer? {
        try await iterator.next()
    }

    /// Exactly `count` octets (an IMAP literal, BDAT data); nil when the peer closed first.
    public mutating func octets(_ count: Int) async throws -> [UInt8]? {
        while pending.count < count {
            guard let buffer = try await iterator.next() else { return nil }
            pending += buffer.readableBytesView
        }
        defer { pending.removeFirst(count) }
        return Array(pending[..<count])
    }
}
