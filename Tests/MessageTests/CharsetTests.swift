import Testing
@testable import Message

/// Octets from a hex string (test vectors were made with Python's codecs).
private func charsetTestOctets(_ text: String) -> [UInt8] {
    var out: [UInt8] = []
    var high: UInt8?
    for character in text.utf8 {
        let value: UInt8
        switch character {
        case 0x30...0x39: value = character - 0x30
        case 0x61...0x66: value = character - 0x61 + 10
        default: continue
        }
        if let first = high {
            out.append(first << 4 | value)
            high = nil
        } else {
            high = value
        }
    }
    return out
}

private func charsetTestDecode(_ hexBytes: String, _ charset: String) throws -> String {
    try Charset.decode(charsetTestOctets(hexBytes), charset: charset)
}

@Suite struct CharsetTests {
    /// One real sample per charset: (label, octets, text).
    static let samples: [(String, String, String)] = [
        ("utf-8", "d09fd180d0b8d0b2d0b5d182", "Привет"),
        ("us-ascii", "48656c6c6f", "Hello"),
        ("iso-8859-1", "4772fcdf652c20c672f8", "Grüße, Ærø"),
        ("iso-8859-2", "5a61bff3b3e62067eab66cb1", "Zażółć gęślą"),
        ("iso-8859-3", "a161f5617220f5646964", "Ħaġar ġdid"),
        ("iso-8859-4", "d3ba6e69f1b9", "Ķēniņš"),
        ("iso-8859-5", "bfe0d8d2d5e2", "Привет"),
        ("iso-8859-6", "e5d1cdc8c7", "مرحبا"),
        ("iso-8859-7", "cae1ebe7ecddf1e1", "Καλημέρα"),
        ("iso-8859-8", "f9ece5ed", "שלום"),
        ("iso-8859-9", "54fc726be76520f0fdfe", "Türkçe ğış"),
        ("iso-8859-10", "def372f0757220bf", "Þórður ŋ"),
        ("iso-8859-11", "cac7d1cab4d5", "สวัสดี"),
        ("iso-8859-13", "d9f364ea20f8", "Łódź ų"),
        ("iso-8859-14", "d0fe20a220be", "Ŵŷ ḃ ẅ"),
        ("iso-8859-15", "a420bc7576726520a6a8", "€ Œuvre Šš"),
        ("iso-8859-16", "de6172e320ba", "Țară ș"),
        ("windows-1250", "5a61bff3b3e62084637974617494", "Zażółć „cytat”"),
        ("windows-1251", "cff0e8e2e5f2209720ece8f0", "Привет — мир"),
        ("windows-1252", "9371756f7465649420962080352085", "“quoted” – €5 …"),
        ("windows-1253", "cae1ebe7ecddf1e120a1", "Καλημέρα ΅"),
        ("windows-1254", "54fc726be76520f0fdfe", "Türkçe ğış"),
        ("windows-1255", "f9c8d1ece5c9ed", "שָׁלוֹם"),
        ("windows-1256", "e3d1cdc8c72081", "مرحبا پ"),
        ("windows-1257", "c0fe756f6c617320f8", "Ąžuolas ų"),
        ("windows-1258", "d0f4206c6120fe20f5fd", "Đô la ₫ ơư"),
        ("koi8-r", "f0d2c9d7c5d42c20cdc9d2", "Привет, мир"),
        ("koi8-u", "f0d2c9d7a6d42c20adc1cecfcb", "Привіт, ґанок"),
        ("iso-2022-jp", "1b244224332473244b2441244f2122402433261b2842", "こんにちは、世界"),
        ("shift_jis", "82b182f182c982bf82cd20b6c0b6c5208740", "こんにちは ｶﾀｶﾅ ①"),
        ("euc-jp", "c6fccbdcb8eca4cea5c6a5ada5b9a5c8", "日本語のテキスト"),
        ("gb2312", "bcf2cce5d6d0cec4", "简体中文"),
        ("gbk", "e94620a8c520d8a3", "镕 ㄅ 兀"),
        ("gb18030", "9532823620d6d0cec4", "𠀀 中文"),
        ("big5", "c163c5e9a4a4a4e5", "繁體中文"),
        ("big5-hkscs", "adbbb4e4208845209def", "香港 𠄌 嘅"),
        ("euc-kr", "c7d1b1b9beee20c5d8bdbac6ae", "한국어 텍스트"),
        ("ks_c_5601-1987", "8c63b9e6b0a2c7cf", "똠방각하"),
        ("utf-16", "fffedc006e00ef006300f6006400e900", "Ünïcödé"),
        ("utf-7", "4869202b414b4d2d31", "Hi £1"),
        ("macintosh", "866e95", "Ünï"),
        ("ibm866", "8fe0a8a2a5e2", "Привет"),
    ]

    @Test(arguments: samples.map { $0.0 })
    func decodesRealSample(_ label: String) throws {
        let sample = try #require(Self.samples.first { $0.0 == label })
        #expect(Charset.isSupported(label))
        #expect(try charsetTestDecode(sample.1, label) == sample.2)
    }

    @Test func aliasesAreCaseInsensitiveAndTrimmed() throws {
        let koi = "f0d2c9d7c5d4"
        for label in ["KOI8-R", "koi8r", " \"koi8-r\" ", "cskoi8r"] {
            #expect(try charsetTestDecode(koi, label) == "Привет")
        }
        for label in ["UTF8", "utf-8", "Utf-8"] {
            #expect(try charsetTestDecode("c3a9", label) == "é")
        }
        for label in ["latin1", "ISO_8859-1", "iso8859-1", "l1", "cp819"] {
            #expect(try charsetTestDecode("e9", label) == "é")
        }
        for label in ["cp1252", "x-cp1252", "WINDOWS-1252"] {
            #expect(try charsetTestDecode("80", label) == "€")
        }
        for label in ["x-sjis", "sjis", "Shift_JIS", "cp932", "windows-31j", "ms_kanji"] {
            #expect(try charsetTestDecode("93fa967b", label) == "日本")
        }
        for label in ["ks_c_5601-1987", "euc-kr", "KS_C_5601-1989", "cp949"] {
            #expect(try charsetTestDecode("c7d1", label) == "한")
        }
        for label in ["gb2312", "GB_2312-80", "gbk", "cp936", "euc-cn", "x-gbk"] {
            #expect(try charsetTestDecode("d6d0", label) == "中")
        }
        #expect(try charsetTestDecode("f9ece5ed", "iso-8859-8-i") == "שלום")
        #expect(try charsetTestDecode("f9ece5ed", "ISO-8859-8-E") == "שלום")
        #expect(try charsetTestDecode("a4", "latin9") == "€")
        #expect(try charsetTestDecode("8e", "x-mac-roman") == "é")
        for label in ["us-ascii", "ascii", "ANSI_X3.4-1968", "iso646-us", "csASCII"] {
            #expect(try charsetTestDecode("41", label) == "A")
        }
    }

    @Test func latin1DecodesAsWindows1252() throws {
        // WHATWG Encoding Standard: "iso-8859-1" means windows-1252 at 0x80–0x9F.
        #expect(try charsetTestDecode("93686994", "iso-8859-1") == "“hi”")
        // Octets windows-1252 leaves undefined map to the C1 control of the same value.
        #expect(try charsetTestDecode("81", "windows-1252") == "\u{81}")
        #expect(try charsetTestDecode("ff", "iso-8859-1") == "ÿ")
    }

    @Test func asciiWithEightBitOctets() throws {
        // Valid UTF-8 mislabeled as US-ASCII is read as UTF-8, anything else as windows-1252.
        #expect(try charsetTestDecode("c3a9", "us-ascii") == "é")
        #expect(try charsetTestDecode("e92080", "us-ascii") == "é €")
    }

    @Test func supersetsFollowWhatClientsDo() throws {
        // ISO-8859-9 → windows-1254, ISO-8859-11/TIS-620 → windows-874.
        #expect(try charsetTestDecode("80", "iso-8859-9") == "€")
        #expect(try charsetTestDecode("80", "tis-620") == "€")
        // Big5 → CP950 (euro), with Big5-HKSCS characters too.
        #expect(try charsetTestDecode("a3e1", "big5") == "€")
        #expect(try charsetTestDecode("8845", "big5") == "𠄌")
        #expect(try charsetTestDecode("a3e1", "big5-hkscs") == "€")
        // EUC-JP with the NEC row 13 extension Windows senders use.
        #expect(try charsetTestDecode("ada1", "euc-jp") == "①")
        // Shift_JIS 0x5C is a backslash, as in CP932.
        #expect(try charsetTestDecode("5c", "shift_jis") == "\\")
    }

    @Test func invalidUTF8BecomesReplacementAndContinues() throws {
        #expect(try charsetTestDecode("61ff62", "utf-8") == "a\u{FFFD}b")
        #expect(try charsetTestDecode("61c362", "utf-8") == "a\u{FFFD}b")
        // Truncated sequence at the end.
        #expect(try charsetTestDecode("61e282", "utf-8") == "a\u{FFFD}")
        // A byte order mark is a signature, not text.
        #expect(try charsetTestDecode("efbbbf6869", "utf-8") == "hi")
    }

    @Test func invalidMultibyteBecomesReplacementAndContinues() throws {
        // Shift_JIS: invalid lead, then valid text.
        #expect(try charsetTestDecode("41a0" + "93fa", "shift_jis") == "A\u{FFFD}日")
        // A lead with an ASCII trail: the trail survives as ASCII.
        #expect(try charsetTestDecode("8120" + "41", "shift_jis") == "\u{FFFD} A")
        // EUC-KR: invalid lead octet 0xFF, then text.
        #expect(try charsetTestDecode("ffc7d1", "euc-kr") == "\u{FFFD}한")
        // GBK: a lead with an invalid non-ASCII trail consumes both octets, not the next character.
        #expect(try charsetTestDecode("81ff" + "d6d0", "gbk") == "\u{FFFD}中")
        // Single-byte hole (ISO-8859-3 has no character at 0xA5).
        #expect(try charsetTestDecode("41a542", "iso-8859-3") == "A\u{FFFD}B")
        // ISO-8859-8 leaves 0xBF undefined.
        #expect(try charsetTestDecode("f9bff9", "iso-8859-8") == "ש\u{FFFD}ש")
        // UTF-16: an unpaired surrogate is skipped as a whole code unit, keeping alignment.
        #expect(try charsetTestDecode("fffe" + "00d8" + "4100" + "4200", "utf-16") == "\u{FFFD}AB")
        #expect(try charsetTestDecode("00dc" + "4100", "utf-16le") == "\u{FFFD}A")
    }

    @Test func truncatedMultibyteAtEnd() throws {
        #expect(try charsetTestDecode("93fa96", "shift_jis") == "日\u{FFFD}")
        #expect(try charsetTestDecode("c6fccb", "euc-jp") == "日\u{FFFD}")
        #expect(try charsetTestDecode("d6d0ce", "gb2312") == "中\u{FFFD}")
        #expect(try charsetTestDecode("c7d1b1", "euc-kr") == "한\u{FFFD}")
        #expect(try charsetTestDecode("a4a4a4", "big5") == "中\u{FFFD}")
        #expect(try charsetTestDecode("953282", "gb18030") == "\u{FFFD}")
        #expect(try charsetTestDecode("fffedc", "utf-16") == "\u{FFFD}")
    }

    @Test func iso2022JPKeepsStateAcrossTheInput() throws {
        // Kanji, back to ASCII, kanji again, across a line break with escapes on each line.
        let text = "1b2442467c4b5c1b2842" + "2061626320" + "1b2442386c1b2842" + "0d0a" + "1b2442467c1b2842"
        #expect(try charsetTestDecode(text, "iso-2022-jp") == "日本 abc 語\r\n日")
        // Half-width katakana (ESC ( I), as CP50221 writes.
        #expect(try charsetTestDecode("1b2849364036451b2842", "iso-2022-jp") == "ｶﾀｶﾅ")
        // NEC row 13 (CP50220) decodes.
        #expect(try charsetTestDecode("1b24422d211b2842", "ISO-2022-JP") == "①")
        // JIS X 0201-Roman is read as ASCII.
        #expect(try charsetTestDecode("1b284a615c621b2842", "iso-2022-jp") == "a\\b")
        // JIS X 0212.
        #expect(try charsetTestDecode("1b2428443021", "iso-2022-jp") == "丂")
        // A line break without ESC ( B returns to ASCII (RFC 1468: lines end in ASCII).
        #expect(try charsetTestDecode("1b2442467c0a6869", "iso-2022-jp") == "日\nhi")
        // Unknown escape and 8-bit octets become U+FFFD; decoding goes on.
        #expect(try charsetTestDecode("1b2a41" + "41" + "80" + "42", "iso-2022-jp") == "\u{FFFD}*AA\u{FFFD}B")
        // A lead without its trail at the end.
        #expect(try charsetTestDecode("1b2442467c4b", "iso-2022-jp") == "日\u{FFFD}")
    }

    @Test func unknownCharsetIsReported() {
        #expect(throws: CharsetError.unknown("x-unknown-charset")) {
            try Charset.decode([0x41], charset: "x-unknown-charset")
        }
        #expect(throws: CharsetError.unknown("")) { try Charset.decode([0x41], charset: "") }
        #expect(throws: CharsetError.unknown("unknown-8bit")) { try Charset.decode([0x41], charset: "unknown-8bit") }
        // Names are never passed to iconv as written (no "//TRANSLIT" and similar suffixes).
        #expect(throws: CharsetError.unknown("UTF-8//TRANSLIT")) { try Charset.decode([0x41], charset: "UTF-8//TRANSLIT") }
        #expect(!Charset.isSupported("x-unknown-charset"))
        #expect(!Charset.isSupported(String(repeating: "a", count: 10_000)))
        #expect(CharsetError.unknown("foo").description == "unknown charset \"foo\"")
    }

    @Test func everyAliasTableEntryIsAvailable() {
        // Every converter the table names exists in this C library.
        for (label, decoder) in Charset.aliases {
            #expect(decoder.isAvailable, "\(label)")
        }
    }

    @Test func emptyInput() throws {
        for label in ["utf-8", "us-ascii", "latin1", "shift_jis", "iso-2022-jp", "utf-16"] {
            #expect(try Charset.decode([UInt8](), charset: label) == "")
        }
    }

    @Test func largeInputConvertsInChunks() throws {
        // Larger than the iconv output chunk, with an invalid octet in the middle.
        let unit = charsetTestOctets("c6fccbdcb8ec")  // 日本語
        var input: [UInt8] = []
        for _ in 0..<20_000 { input += unit }
        input += [0xFF]
        for _ in 0..<20_000 { input += unit }
        let text = try Charset.decode(input, charset: "euc-jp")
        #expect(text.unicodeScalars.count == 120_001)
        #expect(text.hasPrefix("日本語日本語"))
        #expect(text.contains("語\u{FFFD}日"))
        // A non-contiguous collection works too.
        #expect(try Charset.decode(charsetTestOctets("c6fccbdc").lazy.map { $0 }, charset: "euc-jp") == "日本")
    }
}
