import Foundation
import NIOCore
import Testing
import Zlib

@testable import IMAPServer

@Suite struct CompressTests {
    @Test func deflateRoundTrip() throws {
        let compressor = try #require(DeflateCodec(.compress))
        let decompressor = try #require(DeflateCodec(.decompress))
        var text: [UInt8] = []
        for i in 0..<20000 { text += Array("* \(i) FETCH (FLAGS (\\Seen))\r\n".utf8) }
        let first = try #require(compressor.process(Array(text[..<100])))
        let second = try #require(compressor.process(Array(text[100...])))
        #expect(first.count + second.count < text.count / 5)
        // Each piece decodes on its own (Z_SYNC_FLUSH), also when split anywhere.
        var out = try #require(decompressor.process(first))
        #expect(out == Array(text[..<100]))
        let cut = second.count / 2
        out += try #require(decompressor.process(Array(second[..<cut])))
        out += try #require(decompressor.process(Array(second[cut...])))
        #expect(out == text)
        let garbage = try #require(DeflateCodec(.decompress))
        #expect(garbage.process([0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x13]) == nil)
    }

    /// RFC 4978: after the OK both directions are compressed; the command pipelined behind
    /// COMPRESS (already compressed) is read too.
    @Test func compressOverTheNetwork() async throws {
        let fixture = try await Fixture.make()
        try await withListener(fixture) { port in
            try await LineClient.with(port: port) { client in
                _ = try await client.line()
                _ = try await client.command("a", "LOGIN alice secret")
                let compressor = try #require(DeflateCodec(.compress))
                let decompressor = try #require(DeflateCodec(.decompress))
                let pipelined = try #require(compressor.process(wire("c NOOP\n")))
                try await client.outbound.write(ByteBuffer(bytes: wire("b COMPRESS DEFLATE\n") + pipelined))
                #expect(try await client.line() == "b OK DEFLATE active")
                var plain: [UInt8] = []
                func readUntil(_ tag: String) async throws {
                    // What the line reader already holds after the OK is compressed data too.
                    let buffered = client.reader.takeBuffered()
                    if !buffered.isEmpty { plain += try #require(decompressor.process(buffered)) }
                    while !String(decoding: plain, as: UTF8.self).contains("\(tag) ") {
                        guard let buffer = try await client.reader.nextBuffer() else { return }
                        plain += try #require(decompressor.process(Array(buffer.readableBytesView)))
                    }
                }
                try await readUntil("c")
                #expect(String(decoding: plain, as: UTF8.self) == "c OK NOOP completed\r\n")
                plain = []
                try await client.outbound.write(ByteBuffer(bytes: try #require(compressor.process(wire("d COMPRESS DEFLATE\ne LIST \"\" INBOX\n")))))
                try await readUntil("e")
                #expect(String(decoding: plain, as: UTF8.self) == "d NO [COMPRESSIONACTIVE] compression is already active\r\n* LIST (\\HasNoChildren) \"/\" INBOX\r\ne OK LIST completed\r\n")
            }
        }
    }
}
