import Testing
@testable import Message

@Suite struct EncodedWordDecodingTests {
    /// RFC 2047 §8, the displayed forms of encoded-words in and around comments.
    @Test(arguments: [
        ("(=?ISO-8859-1?Q?a?=)", "(a)"),
        ("(=?ISO-8859-1?Q?a?= b)", "(a b)"),
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)"),
        ("(=?ISO-8859-1?Q?a_b?=)", "(a b)"),
        ("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)"),
    ])
    func rfc2047Section8Table(_ encoded: String, _ displayed: String) {
        #expect(EncodedWord.decode(encoded) == displayed)
    }

    /// RFC 2047 §8, the header examples.
    @Test func rfc2047Section8Headers() {
        #expect(EncodedWord.decode("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>") == "Keith Moore <moore@cs.utk.edu>")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>") == "Keld Jørn Simonsen <keld@dkuug.dk>")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>") == "André Pirard <PIRARD@vm1.ulg.ac.be>")
        #expect(EncodedWord.decode("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=")
            == "If you can read this you understand the example.")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Olle_J=E4rnefors?= <ojarnef@admin.kth.se>") == "Olle Järnefors <ojarnef@admin.kth.se>")
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Patrik_F=E4ltstr=F6m?= <paf@nada.kth.se>") == "Patrik Fältström <paf@nada.kth.se>")
        #expect(EncodedWord.decode("Nathaniel Borenstein <nsb@thumper.bellcore.com> (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)")
            == "Nathaniel Borenstein <nsb@thumper.bellcore.com> (םולש ןב ילטפנ)")
        #expect(EncodedWord.decode("Time for ISO 10646?") == "Time for ISO 10646?")
    }

    @Test func languageSuffixIsIgnored() {
        // RFC 2231 §5.
        #expect(EncodedWord.decode("=?US-ASCII*EN?Q?Keith_Moore?=") == "Keith Moore")
        #expect(EncodedWord.decode("=?utf-8*de-CH?B?R3LDvGV6aQ==?=") == "Grüezi")
    }

    @Test func multibyteCharacterSplitAcrossWords() {
        // "€ 日本" in UTF-8 split after the first octet of "日" (e6 | 97 a5 e6 9c ac).
        #expect(EncodedWord.decode("=?UTF-8?B?4oKsIOY=?= =?UTF-8?B?l6XmnKw=?=") == "€ 日本")
        // Split in Q, and across a B and a Q word, and differently spelled labels of one charset.
        #expect(EncodedWord.decode("=?utf-8?q?=E2=82?= =?UTF-8?Q?=AC?=") == "€")
        #expect(EncodedWord.decode("=?utf-8?b?4oI=?= =?utf8?q?=AC!?=") == "€!")
        // Base64 text cut mid-quantum by a sloppy sender.
        #expect(EncodedWord.decode("=?UTF-8?B?SGVsbG?= =?UTF-8?B?8gV29ybGQ=?=") == "Hello World")
        // Shift_JIS double-byte character split across words.
        #expect(EncodedWord.decode("=?shift_jis?B?kw==?= =?shift_jis?B?+pZ7?=") == "日本")
    }

    @Test func qEncoding() {
        #expect(EncodedWord.decode("=?utf-8?Q?a_b_c?=") == "a b c")
        #expect(EncodedWord.decode("=?utf-8?Q?caf=c3=a9?=") == "café")
        #expect(EncodedWord.decode("=?utf-8?Q?=5F?=") == "_")
        #expect(EncodedWord.decode("=?utf-8?Q?100=?=") == "100=")
        #expect(EncodedWord.decode("=?utf-8?Q?=3D=3F?=") == "=?")
        // Empty encoded-text.
        #expect(EncodedWord.decode("a =?utf-8?q??= b") == "a  b")
    }

    @Test func mixedCharsets() {
        #expect(EncodedWord.decode("=?iso-8859-1?q?J=F8rn?= =?koi8-r?b?8NLJ18XU?= =?shift_jis?B?k/qWew==?=") == "JørnПривет日本")
        #expect(EncodedWord.decode("Re: =?ISO-2022-JP?B?GyRCRnxLXBsoQg==?= and =?big5?B?pKSk5Q==?=") == "Re: 日本 and 中文")
        #expect(EncodedWord.decode("=?ks_c_5601-1987?B?x9Gxub7u?=") == "한국어")
        #expect(EncodedWord.decode("=?gb2312?B?1tDOxA==?=") == "中文")
    }

    @Test func textAroundWordsIsKept() {
        #expect(EncodedWord.decode("Hello =?utf-8?q?W=C3=B6rld?= !") == "Hello Wörld !")
        #expect(EncodedWord.decode("plain text") == "plain text")
        #expect(EncodedWord.decode("") == "")
        #expect(EncodedWord.decode("Grüße =?utf-8?q?aus?= Köln") == "Grüße aus Köln")
        // Whitespace between a word and plain text is kept, even when it is a line break.
        #expect(EncodedWord.decode("=?utf-8?q?a?=  x  =?utf-8?q?b?=") == "a  x  b")
    }

    @Test func realWorldDeviations() {
        // Not separated from surrounding text, or from each other.
        #expect(EncodedWord.decode("foo=?utf-8?q?bar?=baz") == "foobarbaz")
        #expect(EncodedWord.decode("=?utf-8?b?YQ==?==?utf-8?b?Yg==?=") == "ab")
        // Lowercase encoding letters, missing padding.
        #expect(EncodedWord.decode("=?utf-8?b?R3LDvGV6aQ?=") == "Grüezi")
        #expect(EncodedWord.decode("=?UTF-8?b?w6k?=") == "é")
        // Inside a quoted display name.
        #expect(EncodedWord.decode("\"=?utf-8?q?M=C3=BCller?=\" <m@example.org>") == "\"Müller\" <m@example.org>")
        // Longer than RFC 2047's 75 octets.
        let long = "=?utf-8?q?" + String(repeating: "a", count: 200) + "?="
        #expect(EncodedWord.decode(long) == String(repeating: "a", count: 200))
    }

    @Test func malformedWordsAreLeftAlone() {
        let untouched = [
            "=?utf-8?x?abc?=",            // unknown encoding
            "=?utf-8?q?abc",              // unterminated
            "=?utf-8?q?a b?=",            // space inside
            "=??q?abc?=",                 // empty charset
            "=?utf-8?b?ab!c?=",           // not base64
            "=?x-unknown?q?abc?=",        // unknown charset
            "=?*en?q?abc?=",              // only a language
            "=?utf-8?qabc?=",             // missing "?"
            "=?", "=?=", "?=", "=?utf-8?", "=?utf-8?q?",
            "a=?b", "50% off =?",
        ]
        for text in untouched {
            #expect(EncodedWord.decode(text) == text, "\(text)")
        }
        // A word longer than the recognised limit is text.
        let huge = "=?utf-8?q?" + String(repeating: "a", count: EncodedWord.maxRecognizedWordLength) + "?="
        #expect(EncodedWord.decode(huge) == huge)
    }

    @Test func unknownCharsetKeepsItsWhitespace() {
        // Whitespace is only dropped between two decoded words.
        #expect(EncodedWord.decode("=?utf-8?q?a?= =?x-unknown?q?b?= =?utf-8?q?c?=") == "a =?x-unknown?q?b?= c")
        #expect(EncodedWord.decode("=?x-unknown?q?a?= =?x-unknown?q?b?=") == "=?x-unknown?q?a?= =?x-unknown?q?b?=")
    }

    @Test func invalidOctetsInsideWordsBecomeReplacement() {
        #expect(EncodedWord.decode("=?utf-8?q?a=FFb?=") == "a\u{FFFD}b")
        #expect(EncodedWord.decode("=?utf-8?b?4oI=?=") == "\u{FFFD}")
    }

    @Test func hostileInputStaysLinear() {
        // Many starts with no terminator: each "=?" must not rescan the rest.
        let starts = String(repeating: "=?a?q?", count: 50_000)
        #expect(EncodedWord.decode(starts) == starts)
        let noEnd = "=?utf-8?q?" + String(repeating: "=?utf-8?q?x", count: 20_000)
        #expect(EncodedWord.decode(noEnd) == noEnd)
        let many = String(repeating: "=?utf-8?q?a?= ", count: 20_000)
        #expect(EncodedWord.decode(many) == String(repeating: "a", count: 20_000) + " ")
    }
}
