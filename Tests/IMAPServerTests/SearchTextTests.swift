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
}
