import Foundation
import Testing
import TestSupport
import Zlib

@Suite struct GzipTests {
    @Test func roundTripAndFormat() throws {
        var text: [UInt8] = []
        for i in 0..<5000 { text += Array("{\"failed-session-count\": \(i)}\n".utf8) }
        let compressed = try #require(Gzip.compress(text))
        // RFC 1952 §2.3.1: the magic, then CM 8 (deflate).
        #expect(Array(compressed.prefix(3)) == [0x1f, 0x8b, 0x08])
        #expect(compressed.count < text.count / 4)
        #expect(Gzip.decompress(compressed, limit: text.count) == text)
        #expect(Gzip.compress([]).flatMap { Gzip.decompress($0, limit: 10) } == [])
    }

    /// What gzip(1) makes, zlib reads (and the other way round).
    @Test func interoperatesWithGzipTool() throws {
        let gzip = URL(fileURLWithPath: "/bin/gzip")
        try #require(FileManager.default.isExecutableFile(atPath: gzip.path), "gzip(1) is not installed")
        let text = Array(String(repeating: "TLS report line\n", count: 300).utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ours = directory.appendingPathComponent("ours.gz")
        try Data(try #require(Gzip.compress(text))).write(to: ours)
        #expect(try ChildProcess(gzip.path, ["-d", "-k", ours.path], environment: [:]).wait() == 0)
        #expect(try Data(contentsOf: directory.appendingPathComponent("ours")) == Data(text))

        let plain = directory.appendingPathComponent("theirs")
        try Data(text).write(to: plain)
        #expect(try ChildProcess(gzip.path, ["-9", plain.path], environment: [:]).wait() == 0)
        let theirs = Array(try Data(contentsOf: directory.appendingPathComponent("theirs.gz")))
        #expect(Gzip.decompress(theirs, limit: 1 << 20) == text)
    }

    @Test func corruptAndOversizedInputFail() throws {
        let text = [UInt8](repeating: 0x41, count: 100_000)
        let compressed = try #require(Gzip.compress(text))
        // A gzip bomb: far more out than the limit allows.
        #expect(Gzip.decompress(compressed, limit: 10_000) == nil)
        var corrupt = compressed
        corrupt[corrupt.count / 2] ^= 0xff
        corrupt[10] ^= 0xff
        #expect(Gzip.decompress(corrupt, limit: 1 << 20) == nil)
        #expect(Gzip.decompress(Array("not gzip at all".utf8), limit: 1 << 20) == nil)
        // Cut short: no trailer, so not accepted as complete.
        #expect(Gzip.decompress(Array(compressed.dropLast(4)), limit: 1 << 20) == nil)
    }
}
