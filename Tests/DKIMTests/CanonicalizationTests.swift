import Crypto
import Foundation
import Testing

@testable import DKIM

@Suite struct CanonicalizationTests {
    func header(_ field: String, _ canonicalization: Canonicalization, terminated: Bool = true) -> String {
        var out: [UInt8] = []
        canonicalization.appendHeaderField(Array(field.utf8), terminated: terminated, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func body(_ text: String, _ canonicalization: Canonicalization, pieceSize: Int = .max) -> String {
        var canonicalizer = BodyCanonicalizer(canonicalization)
        var out: [UInt8] = []
        let octets = Array(text.utf8)
        var start = 0
        while start < octets.count {
            let end = min(octets.count, start + min(pieceSize, octets.count - start))
            canonicalizer.update(octets[start..<end], into: &out)
            start = end
        }
        canonicalizer.finish(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 6376 §3.4.5, examples 1 and 2.
    @Test func rfc6376Examples() {
        #expect(header("A: X\r\n", .relaxed) == "a:X\r\n")
        #expect(header("B : Y\t\r\n\tZ  \r\n", .relaxed) == "b:Y Z\r\n")
        #expect(header("B : Y\t\r\n\tZ  \r\n", .simple) == "B : Y\t\r\n\tZ  \r\n")
        let text = " C \r\nD \t E\r\n\r\n\r\n"
        #expect(body(text, .relaxed) == " C\r\nD E\r\n")
        #expect(body(text, .simple) == " C \r\nD \t E\r\n")
    }

    @Test func headerDetails() {
        // Without the final CRLF for the signature field itself (§3.7 step 2.2).
        #expect(header("DKIM-Signature: v=1;\r\n b=\r\n", .relaxed, terminated: false) == "dkim-signature:v=1; b=")
        #expect(header("DKIM-Signature: v=1;\r\n b=\r\n", .simple, terminated: false) == "DKIM-Signature: v=1;\r\n b=")
        // Bare LF line endings are read as CRLF.
        #expect(header("Subject: a\n b\n", .simple) == "Subject: a\r\n b\r\n")
        #expect(header("Subject: a\n b\n", .relaxed) == "subject:a b\r\n")
        // A field without a line ending gets one; an empty value stays empty.
        #expect(header("X-Empty:", .relaxed) == "x-empty:\r\n")
        #expect(header("X-Empty:   \r\n", .relaxed) == "x-empty:\r\n")
        // 8-bit octets pass unchanged; a lone CR is content.
        #expect(header("Subject:  Grüße \r\n", .relaxed) == "subject:Grüße\r\n")
        #expect(header("X: a\rb\r\n", .relaxed) == "x:a\rb\r\n")
    }

    @Test func bodyDetails() {
        // §3.4.3 / §3.4.4: empty bodies.
        #expect(body("", .simple) == "\r\n")
        #expect(body("", .relaxed) == "")
        #expect(body("\r\n\r\n", .simple) == "\r\n")
        #expect(body("\r\n \t \r\n", .relaxed) == "")
        #expect(body("\r\n \t \r\n", .simple) == "\r\n \t \r\n")
        // A missing final CRLF is added.
        #expect(body("last line", .simple) == "last line\r\n")
        #expect(body("last line  ", .relaxed) == "last line\r\n")
        // Empty lines inside the body are kept; only trailing ones go.
        #expect(body("a\r\n\r\n\r\nb\r\n\r\n", .simple) == "a\r\n\r\n\r\nb\r\n")
        #expect(body("a\r\n  \r\n\r\nb\r\n \r\n", .relaxed) == "a\r\n\r\n\r\nb\r\n")
        // Bare LF is a line ending; a lone CR is content.
        #expect(body("a\nb \n\n", .relaxed) == "a\r\nb\r\n")
        #expect(body("a\rb\r\n", .simple) == "a\rb\r\n")
        #expect(body("a\r", .simple) == "a\r\r\n")
    }

    /// Fed in pieces of any size, the result is the same: held-back CRs, white space and
    /// empty lines carry over from one piece to the next.
    @Test func piecesGiveTheSameResult() {
        let text = "Line one  \t\r\n\r\n  indented\tand\t\ttabbed \r\nbare\nlone\rcr\r\n\r\n \r\nend  \r\n\r\n"
        for canonicalization in Canonicalization.allCases {
            let whole = body(text, canonicalization)
            for size in 1...7 {
                #expect(body(text, canonicalization, pieceSize: size) == whole, "\(canonicalization) in pieces of \(size)")
            }
        }
    }

    /// The body hash of an empty body, given in RFC 6376 §3.4.3 and §3.4.4; and l= cuts it.
    @Test func bodyHashes() {
        let empty = DKIMMessage(Array("From: a@example.com\r\n\r\n".utf8))
        #expect(Data(empty.bodyHash(.simple, limit: nil).hash).base64EncodedString() == "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=")
        #expect(Data(empty.bodyHash(.relaxed, limit: nil).hash).base64EncodedString() == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        let noSeparator = DKIMMessage(Array("From: a@example.com\r\n".utf8))
        #expect(noSeparator.bodyHash(.simple, limit: nil).length == 2)

        // A body larger than one chunk, cut inside the second chunk.
        let line = String(repeating: "x", count: 99) + "\r\n"
        let text = String(repeating: line, count: 1000)
        let message = DKIMMessage(Array(("From: a@example.com\r\n\r\n" + text).utf8))
        let cut = message.bodyHash(.simple, limit: 70_000)
        #expect(cut.length == 101_000)
        #expect(cut.hash == SHA256.hash(data: Array(text.utf8.prefix(70_000))))
        #expect(message.bodyHash(.simple, limit: 0).hash == SHA256.hash(data: [UInt8]()))
    }

    /// h= picks fields bottom-up, one instance per listing, case-insensitively; names with
    /// no instance left add nothing (RFC 6376 §5.4.2).
    @Test func headerSelection() {
        let message = DKIMMessage(Array("Received: A\r\nreceived: B\r\nRECEIVED: C\r\nFrom: x\r\n\r\n".utf8))
        var expected: [UInt8] = []
        for field in ["RECEIVED: C\r\n", "received: B\r\n", "From: x\r\n"] { expected += field.utf8 }
        expected += "DKIM-Signature: b=".utf8
        let hash = message.dataHash(
            signedHeaders: ["Received", "Received", "from", "from", "X-Missing"], canonicalization: .simple,
            signatureField: Array("DKIM-Signature: b=\r\n".utf8))
        #expect(hash == SHA256.hash(data: expected))
    }

    /// §3.7: b='s value and all the white space around it are left out; nothing else is.
    @Test func signatureValueRemoval() throws {
        func removed(_ field: String) throws -> String {
            let raw = Array(field.utf8)
            let tags = try TagList(raw, range: DKIMSignature.valueRange(ofField: raw))
            return String(decoding: DKIMSignature.withoutSignatureValue(tags), as: UTF8.self)
        }
        #expect(try removed("DKIM-Signature: v=1; b=abc\r\n def; bh=xyz\r\n") == "DKIM-Signature: v=1; b=; bh=xyz\r\n")
        #expect(try removed("DKIM-Signature: v=1; bh=xyz;\r\n b= abc\r\n  def \r\n") == "DKIM-Signature: v=1; bh=xyz;\r\n b=\r\n")
        #expect(try removed("DKIM-Signature: b=;v=1\r\n") == "DKIM-Signature: b=;v=1\r\n")
    }
}
