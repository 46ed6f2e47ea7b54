import Foundation
import Testing
@testable import Message

/// The encoded-words in `text` ("=?...?=" runs between whitespace).
private func encodedWords(_ text: String) -> [String] {
    text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r\n" || $0 == "\n" })
        .map(String.init)
        .filter { $0.hasPrefix("=?") && $0.hasSuffix("?=") }
}

/// The octets of one UTF-8 encoded-word, decoded independently of the module's decoder.
private func octets(ofWord word: String) -> [UInt8]? {
    let parts = word.dropFirst(2).dropLast(2).split(separator: "?", maxSplits: 2, omittingEmptySubsequences: false)
    guard parts.count == 3, parts[0] == "UTF-8" else { return nil }
    switch parts[1] {
    case "B":
        return Data(base64Encoded: String(parts[2])).map(Array.init)
    case "Q":
        var out: [UInt8] = []
        let text = Array(parts[2].utf8)
        var i = 0
        while i < text.count {
            if text[i] == UInt8(ascii: "_") {
                out.append(0x20)
                i += 1
            } else if text[i] == UInt8(ascii: "=") {
                guard i + 2 < text.count, let value = UInt8(String(decoding: text[(i + 1)...(i + 2)], as: UTF8.self), radix: 16) else { return nil }
                out.append(value)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    default:
        return nil
    }
}

/// Every encoded-word is at most 75 characters and decodes, on its own, to whole UTF-8
/// characters (RFC 2047 §2, §5).
private func expectWellFormedWords(_ encoded: String, sourceLocation: SourceLocation = #_sourceLocation) {
    for word in encodedWords(encoded) {
        #expect(word.count <= 75, "\(word) is \(word.count) characters", sourceLocation: sourceLocation)
        let bytes = octets(ofWord: word)
        #expect(bytes != nil, "\(word) does not decode", sourceLocation: sourceLocation)
        if let bytes {
            #expect(String(validating: bytes, as: UTF8.self) != nil, "\(word) splits a character", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct EncodedWordEncodingTests {
    @Test func asciiTextIsUnchanged() {
        #expect(EncodedWord.encode("Hello world, (really) = fine?") == "Hello world, (really) = fine?")
        #expect(EncodedWord.encode("") == "")
    }

    @Test func onlyWordsThatNeedItAreEncoded() {
        // "Grüße": Q would be 15 characters, B 12, so B.
        #expect(EncodedWord.encode("Grüße aus Köln") == "=?UTF-8?B?R3LDvMOfZQ==?= aus =?UTF-8?B?S8O2bG4=?=")
        // Mostly ASCII: Q is shorter.
        #expect(EncodedWord.encode("Überraschungsparty heute") == "=?UTF-8?Q?=C3=9Cberraschungsparty?= heute")
    }

    @Test func adjacentWordsShareOneRunWithTheSpaceInside() {
        let encoded = EncodedWord.encode("Jörg Müller kommt")
        // B (20 characters) is shorter than Q ("J=C3=B6rg_M=C3=BCller", 21).
        #expect(encoded == "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= kommt")
        #expect(EncodedWord.decode(encoded) == "Jörg Müller kommt")
    }

    @Test func textThatLooksEncodedIsEncoded() {
        let encoded = EncodedWord.encode("literal =?utf-8?q?x?= here")
        #expect(encoded != "literal =?utf-8?q?x?= here")
        #expect(EncodedWord.decode(encoded) == "literal =?utf-8?q?x?= here")
    }

    @Test func controlsAreEncodedAndLineBreaksBecomeSpaces() {
        #expect(EncodedWord.encode("bell\u{7}here") == "=?UTF-8?Q?bell=07here?=")
        #expect(EncodedWord.encode("line one\r\nline two\nthree") == "line one line two three")
    }

    @Test func longTextSplitsAtCharacterBoundaries() {
        let samples = [
            "日本語のテキストです。これはとても長い件名で、複数のエンコードされた単語に分割する必要があります。",
            String(repeating: "é", count: 200),
            String(repeating: "aé", count: 150),
            String(repeating: "👨‍👩‍👧‍👦🇩🇪", count: 20), // clusters of 25 and 8 octets
            String(repeating: "e\u{301}\u{302}\u{303}", count: 40),
            "x" + String(repeating: "\u{301}", count: 30), // one cluster of 61 octets
        ]
        for sample in samples {
            let encoded = EncodedWord.encode(sample)
            expectWellFormedWords(encoded)
            #expect(encodedWords(encoded).count > 1)
            #expect(EncodedWord.decode(encoded) == sample)
        }
    }

    @Test func wordsAreAsLongAsAllowed() {
        let encoded = EncodedWord.encode(String(repeating: "日", count: 60))
        let words = encodedWords(encoded)
        // B: 45 octets (15 characters) make 60 characters of base64, 72 with the delimiters.
        #expect(words.count == 4)
        #expect(words.allSatisfy { $0.count == 72 })
    }

    @Test func phrasesOfAtomsStay() {
        #expect(EncodedWord.encode("Bob Example", context: .phrase) == "Bob Example")
        #expect(EncodedWord.encode("  Bob \t Example ", context: .phrase) == "Bob Example")
    }

    @Test func phrasesWithSpecialsAreQuoted() {
        #expect(EncodedWord.encode("John Q. Public", context: .phrase) == "\"John Q. Public\"")
        #expect(EncodedWord.encode("Smith, John", context: .phrase) == "\"Smith, John\"")
        #expect(EncodedWord.encode("say \"hi\" \\o/", context: .phrase) == "\"say \\\"hi\\\" \\\\o/\"")
        #expect(EncodedWord.encode("", context: .phrase) == "\"\"")
    }

    @Test func phrasesMixAtomsAndEncodedWords() {
        #expect(EncodedWord.encode("Jörg Smith", context: .phrase) == "=?UTF-8?B?SsO2cmc=?= Smith")
        #expect(EncodedWord.encode("Jörgensen Smith", context: .phrase) == "=?UTF-8?Q?J=C3=B6rgensen?= Smith")
        // "Müller," needs encoding anyway, so its comma goes inside the encoded-word.
        let encoded = EncodedWord.encode("Jörg Müller, Sales", context: .phrase)
        #expect(EncodedWord.decode(encoded) == "Jörg Müller, Sales")
    }

    @Test func phrasesWithNonAtomsAreEncodedWhole() {
        // "(Sales)" is not an atom and may not be quoted next to an encoded-word: all encoded.
        let encoded = EncodedWord.encode("Jörg (Sales)", context: .phrase)
        #expect(encodedWords(encoded).joined(separator: " ") == encoded)
        #expect(EncodedWord.decode(encoded) == "Jörg (Sales)")
    }

    @Test func phraseQEncodingUsesOnlyTheAllowedCharacters() {
        let encoded = EncodedWord.encode("Ärger-Büro (Team) \"x\"_y=z?", context: .phrase)
        for word in encodedWords(encoded) where word.hasPrefix("=?UTF-8?Q?") {
            let text = word.dropFirst(10).dropLast(2)
            // RFC 2047 §5(3): letters, digits, "!" "*" "+" "-" "/" "=" "_".
            #expect(text.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || "!*+-/=_".unicodeScalars.contains($0) })
        }
        #expect(EncodedWord.decode(encoded) == "Ärger-Büro (Team) \"x\"_y=z?")
    }

    @Test func utf8IsKeptRawWhenAllowed() {
        #expect(EncodedWord.encode("Grüße aus Köln", allowUTF8: true) == "Grüße aus Köln")
        #expect(EncodedWord.encode("Jörg Müller", context: .phrase, allowUTF8: true) == "Jörg Müller")
        #expect(EncodedWord.encode("Müller, Jörg", context: .phrase, allowUTF8: true) == "\"Müller, Jörg\"")
        // Controls are still encoded.
        #expect(EncodedWord.encode("a\u{7}", allowUTF8: true) == "=?UTF-8?Q?a=07?=")
    }
}
