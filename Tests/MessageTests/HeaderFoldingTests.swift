import Foundation
import Testing
@testable import Message

/// The physical lines of a field, CRLF removed.
private func physicalLines(_ field: HeaderField) -> [String] {
    let raw = field.raw
    #expect(raw.suffix(2) == [0x0D, 0x0A])
    return String(decoding: raw.dropLast(2), as: UTF8.self).components(separatedBy: "\r\n")
}

@Suite struct HeaderFoldingTests {
    @Test func shortFieldsStayOnOneLine() throws {
        let field = try HeaderFolding.fold(name: "To", value: "bob@example.net")
        #expect(field.raw == Array("To: bob@example.net\r\n".utf8))
        #expect(field.value == "bob@example.net")
    }

    @Test func foldsAt78ColumnsAtWhitespace() throws {
        let value = (1...40).map { "word\($0)" }.joined(separator: " ")
        let field = try HeaderFolding.fold(name: "X-List", value: value)
        let lines = physicalLines(field)
        #expect(lines.count > 1)
        for line in lines { #expect(line.count <= 78) }
        for line in lines.dropFirst() { #expect(line.hasPrefix(" ")) }
        // Lines are filled: the next word would not have fitted on the line before.
        for (line, next) in zip(lines, lines.dropFirst()) {
            #expect(line.count + next.split(separator: " ")[0].count + 1 > 78)
        }
        // Unfolding gives the value back exactly (RFC 5322 §2.2.3).
        #expect(HeaderField(raw: field.raw)?.value == value)
    }

    @Test func exactFolding() throws {
        let value = "a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb c"
        let field = try HeaderFolding.fold(name: "Keywords", value: value)
        #expect(String(decoding: field.raw, as: UTF8.self) == "Keywords: a\r\n bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n c\r\n")
    }

    @Test func whitespaceIsKeptExactly() throws {
        let value = (1...30).map { "w\($0)" }.joined(separator: "  \t ")
        let field = try HeaderFolding.fold(name: "X-Spaces", value: value)
        #expect(physicalLines(field).count > 1)
        #expect(HeaderField(raw: field.raw)?.value == value)
    }

    @Test func aLongStructuredWordGetsItsOwnLineUpTo998() throws {
        let word = String(repeating: "x", count: 900)
        let field = try HeaderFolding.fold(name: "References", value: "<a@b> <\(word)@c> <d@e>")
        let lines = physicalLines(field)
        #expect(lines == ["References: <a@b>", " <\(word)@c>", " <d@e>"])
        for line in lines { #expect(line.utf8.count <= 998) }
    }

    @Test func aStructuredWordOver998IsAnError() {
        let word = String(repeating: "x", count: 2000)
        #expect(throws: HeaderFoldingError.lineTooLong(field: "X-Token", octets: 2000)) {
            try HeaderFolding.fold(name: "X-Token", value: word)
        }
    }

    @Test func aVeryLongUnstructuredWordStaysUnder998() throws {
        let word = String(repeating: "y", count: 5000)
        let field = try HeaderFolding.foldText(name: "Subject", text: "before \(word) after")
        let lines = physicalLines(field)
        for line in lines { #expect(line.utf8.count <= 998) }
        #expect(EncodedWord.decode(HeaderField(raw: field.raw)?.value ?? "") == "before \(word) after")
        // Words that fit a line stay plain, even past 78 characters (only a SHOULD).
        let shorter = String(repeating: "z", count: 300)
        let plain = try HeaderFolding.foldText(name: "Subject", text: "x \(shorter) y")
        #expect(physicalLines(plain) == ["Subject: x", " \(shorter)", " y"])
    }

    @Test func theOctetLimitCountsUTF8Octets() throws {
        // 600 "é" are 600 characters but 1200 octets: too long for a line even with SMTPUTF8.
        let long = String(repeating: "é", count: 600)
        let field = try HeaderFolding.foldText(name: "Subject", text: long, allowUTF8: true)
        for line in physicalLines(field) { #expect(line.utf8.count <= 998) }
        #expect(EncodedWord.decode(HeaderField(raw: field.raw)?.value ?? "") == long)
        // 450 are 900 octets and stay raw.
        let fits = String(repeating: "é", count: 450)
        let raw = try HeaderFolding.foldText(name: "Subject", text: fits, allowUTF8: true)
        #expect(physicalLines(raw) == ["Subject: " + fits])
    }

    @Test func encodedTextFoldsTo76ColumnLines() throws {
        let subject = "Grüße aus Köln — ein ziemlich langer Betreff, der gefaltet werden muss, weil er über 78 Zeichen geht, mit Ümläuten überall"
        let field = try HeaderFolding.foldText(name: "Subject", text: subject)
        let lines = physicalLines(field)
        #expect(lines.count > 1)
        for line in lines {
            #expect(line.unicodeScalars.allSatisfy { $0.isASCII })
            #expect(line.count <= (line.contains("=?") ? 76 : 78), "\(line)")
        }
        for word in (HeaderField(raw: field.raw)?.value ?? "").split(separator: " ") where word.hasPrefix("=?") {
            #expect(word.count <= 75)
        }
        #expect(EncodedWord.decode(HeaderField(raw: field.raw)?.value ?? "") == subject)
    }

    @Test func exactEncodedFolding() throws {
        let field = try HeaderFolding.foldText(name: "Subject", text: String(repeating: "日本", count: 20))
        // 13, 15 and 12 characters: the first word is sized to the room after "Subject: ",
        // the next takes the most whole characters a 75-character word holds (45 octets).
        #expect(String(decoding: field.raw, as: UTF8.self) == """
            Subject: =?UTF-8?B?5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel?=\r
             =?UTF-8?B?5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys?=\r
             =?UTF-8?B?5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys5pel5pys?=\r

            """)
    }

    @Test func hugeWhitespaceRunsAreCut() throws {
        let spaces = String(repeating: " ", count: 3000)
        let field = try HeaderFolding.foldText(name: "Subject", text: "a\(spaces)ü\(spaces)b")
        let lines = physicalLines(field)
        for line in lines {
            #expect(line.utf8.count <= 998)
            #expect(!line.allSatisfy { $0 == " " })
        }
        #expect(EncodedWord.decode(HeaderField(raw: field.raw)?.value ?? "") == "a\(spaces.prefix(128))ü\(spaces.prefix(128))b")
    }

    @Test func unstructuredLineBreaksCannotInjectFields() throws {
        let field = try HeaderFolding.foldText(name: "Subject", text: "hello\r\nBcc: victim@example.com")
        #expect(String(decoding: field.raw, as: UTF8.self) == "Subject: hello Bcc: victim@example.com\r\n")
    }

    @Test func invalidInputIsAnError() {
        #expect(throws: HeaderFoldingError.invalidFieldName("Bad Name")) {
            try HeaderFolding.fold(name: "Bad Name", value: "x")
        }
        #expect(throws: HeaderFoldingError.invalidFieldName("")) {
            try HeaderFolding.foldText(name: "", text: "x")
        }
        #expect(throws: HeaderFoldingError.lineBreakInValue(field: "To")) {
            try HeaderFolding.fold(name: "To", value: "a@b\r\nBcc: c@d")
        }
    }
}

/// The stored form of a parsed structure: header fields as their raw octets only.
@Suite struct HeaderFieldCodingTests {
    @Test func fieldsAreStoredAsRawOctetsAndRoundTrip() throws {
        let parsed = ParsedMessage(bytes: Array("Subject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\nX-8bit: caf\u{e9}\r\n\r\nbody\r\n".utf8))
        let encoded = try JSONEncoder().encode(parsed)
        let decoded = try JSONDecoder().decode(ParsedMessage.self, from: encoded)
        #expect(decoded == parsed)
        let json = String(decoding: encoded, as: UTF8.self)
        #expect(!json.contains(#""value""#), "value is derived from raw, not stored")
        #expect(json.contains(Data("Subject: =?utf-8?q?caf=C3=A9?=\r\n folded\r\n".utf8).base64EncodedString()))
    }

    @Test func earlierFormWithNumberArraysStillDecodes() throws {
        let old = #"{"name":"Subject","raw":[83,117,98,106,101,99,116,58,32,104,105,13,10],"value":"hi"}"#
        let field = try JSONDecoder().decode(HeaderField.self, from: Data(old.utf8))
        #expect(field.name == "Subject" && field.value == "hi" && field.raw == Array("Subject: hi\r\n".utf8))
    }

    @Test func storedFieldThatIsNoFieldIsAnError() {
        let bad = #"{"raw":"\#(Data("no colon here\r\n".utf8).base64EncodedString())"}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HeaderField.self, from: Data(bad.utf8)) }
    }
}
