import Base64
import Testing
@testable import Message

private func transferTestOctets(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct Base64DecodingTests {
    @Test func decodesRFC4648Vectors() {
        // RFC 4648 §10 test vectors.
        let vectors = ["": "", "Zg==": "f", "Zm8=": "fo", "Zm9v": "foo", "Zm9vYg==": "foob", "Zm9vYmE=": "fooba", "Zm9vYmFy": "foobar"]
        for (encoded, plain) in vectors {
            #expect(Base64.decode(transferTestOctets(encoded)) == transferTestOctets(plain))
        }
    }

    @Test func ignoresLineBreaksSpacesAndJunk() {
        #expect(Base64.decode(transferTestOctets("Zm9v\r\nYmFy\r\n")) == transferTestOctets("foobar"))
        #expect(Base64.decode(transferTestOctets("Zm9v\nYmFy\n")) == transferTestOctets("foobar"))
        #expect(Base64.decode(transferTestOctets(" Zm 9v\tYm!F*y ")) == transferTestOctets("foobar"))
        #expect(Base64.decode(transferTestOctets("Zm9v-_.YmFy")) == transferTestOctets("foobar"))
        #expect(Base64.decode([0x00, 0xFF] + transferTestOctets("Zm9v") + [0x80]) == transferTestOctets("foo"))
    }

    @Test func decodesMissingPadding() {
        #expect(Base64.decode(transferTestOctets("Zg")) == transferTestOctets("f"))
        #expect(Base64.decode(transferTestOctets("Zm8")) == transferTestOctets("fo"))
        #expect(Base64.decode(transferTestOctets("Zm9vYg")) == transferTestOctets("foob"))
        // A lone sextet holds no whole octet.
        #expect(Base64.decode(transferTestOctets("Zm9vY")) == transferTestOctets("foo"))
        #expect(Base64.decode(transferTestOctets("Z")) == [])
    }

    @Test func stopsAtPadding() {
        #expect(Base64.decode(transferTestOctets("Zg==Zm9v")) == transferTestOctets("f"))
        #expect(Base64.decode(transferTestOctets("Zm8=\r\ngarbage")) == transferTestOctets("fo"))
        #expect(Base64.decode(transferTestOctets("=Zm9v")) == [])
    }

    @Test func binaryRoundTrip() {
        // All octet values: "AAECAwQF..." is 0x00 0x01 0x02 ...
        let encoded = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w=="
        #expect(Base64.decode(transferTestOctets(encoded)) == (0...255).map { UInt8($0) })
        // A non-contiguous collection.
        #expect(Base64.decode(transferTestOctets("Zm9v").lazy.map { $0 }) == transferTestOctets("foo"))
    }
}

@Suite struct QuotedPrintableDecodingTests {
    @Test func decodesEscapesInEitherCase() {
        #expect(QuotedPrintable.decode(transferTestOctets("caf=C3=A9")) == transferTestOctets("café"))
        #expect(QuotedPrintable.decode(transferTestOctets("caf=c3=a9")) == transferTestOctets("café"))
        #expect(QuotedPrintable.decode(transferTestOctets("a=3Db")) == transferTestOctets("a=b"))
        #expect(QuotedPrintable.decode(transferTestOctets("=00=FF")) == [0x00, 0xFF])
    }

    @Test func softLineBreaks() {
        #expect(QuotedPrintable.decode(transferTestOctets("long=\r\nline\r\n")) == transferTestOctets("longline\r\n"))
        #expect(QuotedPrintable.decode(transferTestOctets("long=\nline\n")) == transferTestOctets("longline\n"))
        // Whitespace a transport added after the "=".
        #expect(QuotedPrintable.decode(transferTestOctets("long= \t\r\nline")) == transferTestOctets("longline"))
        // Whitespace before a soft break is data.
        #expect(QuotedPrintable.decode(transferTestOctets("two words =\r\nhere")) == transferTestOctets("two words here"))
        // "=" at the very end of the input.
        #expect(QuotedPrintable.decode(transferTestOctets("end=")) == transferTestOctets("end"))
        #expect(QuotedPrintable.decode(transferTestOctets("a=\r\n=\r\nb")) == transferTestOctets("ab"))
    }

    @Test func keepsLineBreaksAsTheyAre() {
        #expect(QuotedPrintable.decode(transferTestOctets("a\r\nb\nc\r\n")) == transferTestOctets("a\r\nb\nc\r\n"))
        #expect(QuotedPrintable.decode(transferTestOctets("\n\n")) == transferTestOctets("\n\n"))
        // A bare CR is data.
        #expect(QuotedPrintable.decode(transferTestOctets("a\rb")) == transferTestOctets("a\rb"))
    }

    @Test func removesTrailingWhitespace() {
        // RFC 2045 §6.7 rule 3.
        #expect(QuotedPrintable.decode(transferTestOctets("text  \t\r\nmore \nend  ")) == transferTestOctets("text\r\nmore\nend"))
        // Encoded trailing whitespace survives.
        #expect(QuotedPrintable.decode(transferTestOctets("text=20\r\n")) == transferTestOctets("text \r\n"))
        #expect(QuotedPrintable.decode(transferTestOctets("text =09\r\n")) == transferTestOctets("text \t\r\n"))
    }

    @Test func keepsInvalidEscapesLiterally() {
        #expect(QuotedPrintable.decode(transferTestOctets("a=G1b")) == transferTestOctets("a=G1b"))
        #expect(QuotedPrintable.decode(transferTestOctets("a=4")) == transferTestOctets("a=4"))
        #expect(QuotedPrintable.decode(transferTestOctets("50% =off")) == transferTestOctets("50% =off"))
        #expect(QuotedPrintable.decode(transferTestOctets("x==41")) == transferTestOctets("x=A"))
        #expect(QuotedPrintable.decode(transferTestOctets("=\u{00E9}")) == transferTestOctets("=\u{00E9}"))
        // "=4" then a line break: the escape does not reach across lines.
        #expect(QuotedPrintable.decode(transferTestOctets("a=4\r\n1")) == transferTestOctets("a=4\r\n1"))
    }

    @Test func emptyAndLarge() {
        #expect(QuotedPrintable.decode([UInt8]()) == [])
        let line = transferTestOctets("Gr=C3=BC=C3=9Fe aus K=C3=B6ln, eine l=C3=A4ngere Zeile mit Umlauten=\r\n")
        var input: [UInt8] = []
        for _ in 0..<10_000 { input += line }
        let output = QuotedPrintable.decode(input)
        let expected = transferTestOctets("Grüße aus Köln, eine längere Zeile mit Umlauten")
        #expect(output.count == expected.count * 10_000)
        #expect(Array(output.prefix(expected.count)) == expected)
    }
}
