import Message
import Testing

@testable import IMAPServer

/// RFC 9051 §6.4.4: SEARCH strings match substrings, ignoring case.
@Suite struct SearchTextTests {
    @Test func asciiIgnoresCase() {
        let text = SearchText("Grp-7")
        #expect(text.isFound(in: "X-Group: GRP-7"))
        #expect(text.isFound(in: "grp-7"))
        #expect(text.isFound(in: "prefix grp-7"))
        #expect(!text.isFound(in: "grp-"))
        #expect(!text.isFound(in: "grp 7"))
        #expect(!text.isFound(in: ""))
        // Only letters fold: '[' (0x5B) is not '{' (0x7B).
        #expect(!SearchText("[x]").isFound(in: "{x}"))
        // Non-ASCII text around an ASCII match.
        #expect(SearchText("munchen").isFound(in: "Grüße aus MÜNCHEN, nicht MUNCHEN"))
        #expect(!SearchText("munchen").isFound(in: "Grüße aus MÜNCHEN"))
    }

    @Test func unicodeIgnoresCase() {
        #expect(SearchText("MÜNCHEN").isFound(in: "grüße aus münchen"))
        #expect(SearchText("grüße").isFound(in: "GRÜßE"))
        #expect(SearchText("ΣΟΦΊΑ").isFound(in: "η σοφία"))
        #expect(!SearchText("münchen").isFound(in: "munchen"))
    }

    @Test func emptyMatchesEverything() {
        #expect(SearchText("").isFound(in: ""))
        #expect(SearchText("").isFound(in: "anything"))
    }

    /// A field's value is searched as decoded (RFC 2047) and unfolded, whether or not it is
    /// read in place.
    @Test func fieldValuesAsDecoded() throws {
        func field(_ raw: String) throws -> HeaderField { try #require(HeaderField(raw: Array(raw.utf8))) }
        let plain = try field("Subject:   Weekly Report  \r\n")
        #expect(plain.singleLineValue.map(Array.init) == Array("Weekly Report".utf8))
        #expect(SearchText("weekly rep").isFound(inValueOf: plain))
        // Surrounding white space is not part of the value.
        #expect(!SearchText(" weekly").isFound(inValueOf: plain))
        #expect(!SearchText("report ").isFound(inValueOf: plain))
        #expect(SearchText("").isFound(inValueOf: plain))

        let folded = try field("Subject: Weekly\r\n Report\r\n")
        #expect(folded.singleLineValue == nil)
        #expect(SearchText("weekly report").isFound(inValueOf: folded))

        let encoded = try field("Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\r\n")
        #expect(SearchText("aus m").isFound(inValueOf: encoded))
        #expect(!SearchText("C3").isFound(inValueOf: encoded))
        #expect(SearchText("MÜNCHEN").isFound(inValueOf: encoded))

        // 8-bit octets as received: ASCII around them still matches.
        let raw8bit = try field("Subject: Gr\u{FC}\u{DF}e aus M\u{FC}nchen\r\n")
        #expect(SearchText("aus m").isFound(inValueOf: raw8bit))
        #expect(SearchText("münchen").isFound(inValueOf: raw8bit))
        #expect(!SearchText("munchen").isFound(inValueOf: raw8bit))

        let bare = try field("X-Empty:\r\n")
        #expect(bare.singleLineValue?.isEmpty == true)
        #expect(!SearchText("x").isFound(inValueOf: bare))
    }
}
