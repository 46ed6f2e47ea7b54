import Base64
import Foundation
import Testing
@testable import Message
import TestSupport


/// A strict quoted-printable decoder written from RFC 2045 §6.7, independent of the module's.
private func referenceQPDecode(_ bytes: [UInt8]) -> [UInt8]? {
    func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x37
        default: return nil
        }
    }
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        if bytes[i] == UInt8(ascii: "=") {
            if i + 2 < bytes.count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { i += 3; continue }
            guard i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) else { return nil }
            out.append(high << 4 | low)
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}

private func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    var i = 0
    while i < bytes.count {
        if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A {
            result.append(bytes[start..<i])
            i += 2
            start = i
        } else {
            i += 1
        }
    }
    if start < bytes.count { result.append(bytes[start...]) }
    return result
}

/// What text-mode quoted-printable gives back: a bare LF becomes CRLF, a bare CR stays data.
private func textModeCanonical(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    for (index, byte) in bytes.enumerated() {
        if byte == 0x0A && (index == 0 || bytes[index - 1] != 0x0D) { out.append(0x0D) }
        out.append(byte)
    }
    return out
}

private func qp(_ text: String, mode: QuotedPrintable.EncodingMode = .text) -> String {
    String(decoding: QuotedPrintable.encode(Array(text.utf8), mode: mode), as: UTF8.self)
}

/// Checks the RFC 2045 §6.7 shape of quoted-printable output.
private func expectValidQP(_ encoded: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
    for line in lines(encoded) {
        #expect(line.count <= 76, "line longer than 76: \(line.count)", sourceLocation: sourceLocation)
        if let last = line.last {
            #expect(last != 0x20 && last != 0x09, "trailing whitespace", sourceLocation: sourceLocation)
        }
        #expect(line.allSatisfy { ($0 >= 33 && $0 <= 126) || $0 == 0x20 || $0 == 0x09 }, sourceLocation: sourceLocation)
        #expect(line.first != UInt8(ascii: "."), "line starts with a dot", sourceLocation: sourceLocation)
        #expect(!line.starts(with: Array("From ".utf8)), "line starts with From", sourceLocation: sourceLocation)
    }
    // No bare CR or LF: every CR is part of CRLF.
    for (index, byte) in encoded.enumerated() where byte == 0x0A {
        #expect(index > 0 && encoded[index - 1] == 0x0D, sourceLocation: sourceLocation)
    }
}

@Suite struct Base64EncodingTests {
    @Test func knownVectors() {
        // RFC 4648 §10.
        let cases = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (input, output) in cases {
            #expect(String(decoding: Base64.encode(Array(input.utf8), lineLength: nil), as: UTF8.self) == output)
        }
        #expect(Base64.encode([UInt8]()) == [])
        #expect(String(decoding: Base64.encode([0xFB, 0xFF, 0xBF]), as: UTF8.self) == "+/+/\r\n")
    }

    @Test func linesAre76CharactersWithCRLF() {
        var random = SplitMix64(state: 7)
        let data = (0..<1000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let encoded = Base64.encode(data)
        #expect(encoded.suffix(2) == [0x0D, 0x0A])
        let all = lines(encoded)
        #expect(all.count == 18) // 1336 characters: 17 full lines and one of 44
        for line in all.dropLast() { #expect(line.count == 76) }
        #expect(all.last?.count == 1336 - 17 * 76)
        #expect(Data(base64Encoded: Data(encoded), options: .ignoreUnknownCharacters).map(Array.init) == data)
    }

    @Test func lineLengthRoundsDownToWholeQuanta() {
        let encoded = Base64.encode(Array("abcdefghijkl".utf8), lineLength: 10)
        #expect(String(decoding: encoded, as: UTF8.self) == "YWJjZGVm\r\nZ2hpamts\r\n")
        let tiny = Base64.encode(Array("abc".utf8), lineLength: 1)
        #expect(String(decoding: tiny, as: UTF8.self) == "YWJj\r\n")
    }
}

@Suite struct QuotedPrintableEncodingTests {
    @Test func literalsAndEscapes() {
        #expect(qp("plain text") == "plain text")
        #expect(qp("a=b") == "a=3Db")
        #expect(qp("caf\u{E9}") == "caf=C3=A9")
        #expect(qp("tab\there") == "tab\there")
        #expect(qp("\u{0}\u{7F}") == "=00=7F")
    }

    @Test func trailingWhitespaceIsEncoded() {
        #expect(qp("abc \r\nx") == "abc=20\r\nx")
        #expect(qp("abc\t\r\n") == "abc=09\r\n")
        #expect(qp("end ") == "end=20")
        #expect(qp("two  \r\n") == "two =20\r\n")
    }

    @Test func lineBreaksInTextMode() {
        #expect(qp("a\nb\r\nc") == "a\r\nb\r\nc")
        #expect(qp("bare\rcr") == "bare=0Dcr")
        #expect(qp("x\r\r\n") == "x=0D\r\n")
        #expect(qp("\n\n") == "\r\n\r\n")
    }

    @Test func binaryModeKeepsLineBreaksAsData() {
        #expect(qp("a\r\nb\n", mode: .binary) == "a=0D=0Ab=0A")
    }

    @Test func longLinesGetSoftBreaks() {
        let encoded = qp(String(repeating: "a", count: 200))
        #expect(encoded == String(repeating: "a", count: 75) + "=\r\n" + String(repeating: "a", count: 75) + "=\r\n" + String(repeating: "a", count: 50))
        // Exactly 76 characters need no soft break: the last token may use the 76th column.
        #expect(qp(String(repeating: "b", count: 76)) == String(repeating: "b", count: 76))
        #expect(qp(String(repeating: "b", count: 77)) == String(repeating: "b", count: 75) + "=\r\nbb")
        // An escape is never split by a soft break.
        let escaped = qp(String(repeating: "b", count: 74) + "\u{E9}")
        #expect(escaped == String(repeating: "b", count: 74) + "=\r\n=C3=A9")
    }

    @Test func dotsAndFromAtLineStartAreEscaped() {
        #expect(qp(".\r\n") == "=2E\r\n")
        #expect(qp("a\r\n.b") == "a\r\n=2Eb")
        #expect(qp("From here") == "=46rom here")
        #expect(qp("Fromage") == "Fromage")
        // Also at the start of a line made by a soft break.
        #expect(qp(String(repeating: "c", count: 75) + ".x") == String(repeating: "c", count: 75) + "=\r\n=2Ex")
    }

    @Test(arguments: [
        "trailing spaces   \r\nand tabs\t\t\r\n",
        "= signs == everywhere =\r\n=3D",
        String(repeating: "long line with words ", count: 60),
        "mixed\nline\r\nendings\rhere\n",
        "8-bit: Grüße, 日本語, émoji 👍 and \u{0}\u{1}\u{7F}",
        "From the start\r\n.\r\n..\r\nFrom \r\n",
        String(repeating: " ", count: 100),
        String(repeating: "=", count: 100) + "\r\n",
        "",
    ])
    func roundTripsInTextMode(_ input: String) throws {
        let bytes = Array(input.utf8)
        let encoded = QuotedPrintable.encode(bytes)
        expectValidQP(encoded)
        let decoded = try #require(referenceQPDecode(encoded))
        #expect(decoded == textModeCanonical(bytes))
    }

    @Test func roundTripsRandomInput() throws {
        var random = SplitMix64(state: 42)
        let alphabet: [UInt8] = Array("ab .=\t\r\nF".utf8) + [0x00, 0x80, 0xC3, 0xA9, 0xFF] + Array("From ".utf8)
        for length in [1, 2, 75, 76, 77, 150, 1000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
                let text = QuotedPrintable.encode(bytes, mode: .text)
                expectValidQP(text)
                #expect(try #require(referenceQPDecode(text)) == textModeCanonical(bytes))
                let binary = QuotedPrintable.encode(bytes, mode: .binary)
                expectValidQP(binary)
                #expect(try #require(referenceQPDecode(binary)) == bytes)
            }
        }
    }
}

@Suite struct EncodingChoiceTests {
    private func choose(_ text: String, isText: Bool = true, allow8bit: Bool = false) -> TransferEncoder.Encoding {
        TransferEncoder.choose(for: Array(text.utf8), isText: isText, allow8bit: allow8bit)
    }

    @Test func asciiTextIs7bit() {
        #expect(choose("Hello,\r\nthis is plain.\r\n") == .sevenBit)
        #expect(choose("") == .sevenBit)
        #expect(choose(String(repeating: "x", count: 998) + "\r\n") == .sevenBit)
    }

    @Test func overlongLinesForceAnEncoding() {
        let long = String(repeating: "x", count: 999) + "\r\n"
        #expect(choose(long) == .quotedPrintable)
        #expect(choose(long, allow8bit: true) == .quotedPrintable)
        #expect(choose(long, isText: false) == .base64)
    }

    @Test func mostlyASCIITextIsQuotedPrintableOr8bit() {
        let german = "Sehr geehrte Frau Müller,\r\nvielen Dank für Ihre Nachricht.\r\n"
        #expect(choose(german) == .quotedPrintable)
        #expect(choose(german, allow8bit: true) == .eightBit)
    }

    @Test func mostlyNonASCIITextIsBase64() {
        #expect(choose("日本語のテキストです。\r\nこんにちは。\r\n") == .base64)
        #expect(choose("Здравствуйте, как дела?\r\n") == .base64)
        #expect(choose("日本語のテキストです。\r\n", allow8bit: true) == .eightBit)
    }

    @Test func binaryIsBase64() {
        #expect(choose("text with a \u{0} NUL\r\n") == .base64)
        #expect(TransferEncoder.choose(for: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], isText: false) == .base64)
        #expect(TransferEncoder.choose(for: [0xFF, 0xFE], isText: false, allow8bit: true) == .base64)
    }

    @Test func nonCanonicalLineBreaksAreNot7bit() {
        #expect(choose("unix\nlines\n") == .quotedPrintable)
        #expect(choose("old mac\rlines") == .quotedPrintable)
        #expect(choose("a,b\r\n1,2\r\n", isText: false) == .sevenBit)
        #expect(choose("a,b\n1,2\n", isText: false) == .base64)
    }

    @Test func canonicalLineEndings() {
        let canonical = TransferEncoder.canonicalLineEndings(Array("a\nb\rc\r\nd\r".utf8))
        #expect(String(decoding: canonical, as: UTF8.self) == "a\r\nb\r\nc\r\nd\r\n")
    }

    @Test func encodeDispatches() {
        let bytes = Array("a=b\r\n".utf8)
        #expect(TransferEncoder.encode(bytes, as: .sevenBit) == bytes)
        #expect(TransferEncoder.encode(bytes, as: .quotedPrintable) == Array("a=3Db\r\n".utf8))
        #expect(TransferEncoder.encode(bytes, as: .base64) == Array("YT1iDQo=\r\n".utf8))
        #expect(TransferEncoder.encode(bytes, as: .quotedPrintable, isText: false) == Array("a=3Db=0D=0A".utf8))
    }
}
