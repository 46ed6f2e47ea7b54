import Testing
import DNS

@Suite("Domain: parsing and forms")
struct DomainFormTests {
    @Test("plain ASCII names")
    func ascii() throws {
        let domain = try Domain("mail.example.com")
        #expect(domain.ascii == "mail.example.com")
        #expect(domain.unicode == "mail.example.com")
        #expect(domain.labels == ["mail", "example", "com"])
        #expect(domain.unicodeLabels == ["mail", "example", "com"])
        #expect(!domain.isInternationalized)
        #expect(domain.description == "mail.example.com")
        #expect(try Domain("localhost").labels == ["localhost"])
        #expect(try Domain("a1-b2.3com").ascii == "a1-b2.3com")
    }

    @Test("case is folded, so equality and hashing ignore it")
    func mixedCase() throws {
        let upper = try Domain("Mail.EXAMPLE.Com")
        let lower = try Domain("mail.example.com")
        #expect(upper.ascii == "mail.example.com")
        #expect(upper == lower)
        #expect(upper.hashValue == lower.hashValue)
        let withDot = try Domain("mail.example.com.")
        #expect(Set([upper, lower, withDot]).count == 1)
    }

    @Test("one trailing dot is accepted and dropped")
    func trailingDot() throws {
        #expect(try Domain("example.com.").ascii == "example.com")
        #expect(try Domain("example.com.") == Domain("example.com"))
        #expect(try Domain("com.").labels == ["com"])
        // Any of the four separators can be the trailing one.
        #expect(try Domain("例え。テスト。").ascii == "xn--r8jz45g.xn--zckzah")
    }

    @Test("Unicode and A-label forms convert both ways", arguments: [
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),
        ("ς.gr", "xn--3xa.gr"),
        ("가.kr", "xn--o39a.kr"),
        ("l·l.cat", "xn--ll-0ea.cat"),
        ("ア・イ.jp", "xn--ccke4x.jp"),
        ("\u{0628}\u{200C}\u{0628}.ir", "xn--ngba799q.ir"),
        ("क्\u{200C}ष.in", "xn--11b2ezcs70k.in"),
        ("͵α.gr", "xn--wva4j.gr"),
        ("א׳.il", "xn--4db4e.il"),
    ])
    func roundTrip(unicode: String, ascii: String) throws {
        let fromUnicode = try Domain(unicode)
        let fromASCII = try Domain(ascii)
        #expect(fromUnicode.ascii == ascii)
        #expect(fromUnicode.unicode == unicode)
        #expect(fromASCII.ascii == ascii)
        #expect(fromASCII.unicode == unicode)
        #expect(fromUnicode == fromASCII)
        #expect(fromUnicode.isInternationalized)
        #expect(fromUnicode.description == unicode)
    }

    @Test("labels and unicodeLabels")
    func labels() throws {
        let domain = try Domain("Mail.München.DE")
        #expect(domain.labels == ["mail", "xn--mnchen-3ya", "de"])
        #expect(domain.unicodeLabels == ["mail", "münchen", "de"])
    }

    @Test("A-labels are accepted in any case")
    func aLabelCase() throws {
        let domain = try Domain("XN--MNCHEN-3YA.DE")
        #expect(domain.ascii == "xn--mnchen-3ya.de")
        #expect(domain.unicode == "münchen.de")
        #expect(try Domain("Xn--Mnchen-3ya.de") == domain)
    }

    @Test("Unicode is mapped: uppercase, fullwidth, NFC")
    func mapping() throws {
        #expect(try Domain("MÜNCHEN.DE").unicode == "münchen.de")
        #expect(try Domain("ＥＸＡＭＰＬＥ．ｃｏｍ").ascii == "example.com")
        #expect(try Domain("ｍüｎｃｈｅｎ．ｄｅ").ascii == "xn--mnchen-3ya.de")
        // Decomposed ü (u + U+0308) is composed (NFC).
        #expect(try Domain("mu\u{0308}nchen.de").ascii == "xn--mnchen-3ya.de")
        // Decomposed Hangul jamo compose into the syllable.
        #expect(try Domain("\u{1100}\u{1161}.kr") == Domain("가.kr"))
        // Σ lowercases to σ, not to the final form.
        #expect(try Domain("ΣΑΣ.gr").ascii == "xn--mxa9ab.gr")
        // Compatibility characters: ① → 1, ﬁ → fi.
        #expect(try Domain("①ﬁ.com").ascii == "1fi.com")
    }

    @Test("all four label separators", arguments: ["\u{002E}", "\u{3002}", "\u{FF0E}", "\u{FF61}"])
    func separators(separator: String) throws {
        let domain = try Domain("例え" + separator + "テスト")
        #expect(domain.ascii == "xn--r8jz45g.xn--zckzah")
        #expect(domain.unicode == "例え.テスト")
    }

    @Test("non-transitional processing keeps the deviation characters")
    func deviations() throws {
        #expect(try Domain("faß.de").ascii == "xn--fa-hia.de")
        #expect(try Domain("faß.de") != Domain("fass.de"))
        #expect(try Domain("FASS.de").ascii == "fass.de")
        #expect(try Domain("ς.gr") != Domain("σ.gr"))
        // UTS 46 maps U+1E9E LATIN CAPITAL LETTER SHARP S to ß.
        #expect(try Domain("ẞ.de").ascii == "xn--zca.de")
        // U+03F2 GREEK LUNATE SIGMA SYMBOL maps to σ, not ς.
        #expect(try Domain("ϲ.gr").ascii == "xn--4xa.gr")
        // The iota subscript becomes a full iota, as case folding does.
        #expect(try Domain("ᾳ.gr").ascii == "xn--mxaq.gr")
        // Cherokee folds to the capital letters.
        #expect(try Domain("ꭰ.us") == Domain("Ꭰ.us"))
        #expect(try Domain("ꭰ.us").ascii == "xn--58d.us")
    }

    @Test("ignored code points are removed")
    func ignored() throws {
        #expect(try Domain("ex\u{00AD}ample.com").ascii == "example.com")
        #expect(try Domain("exa\u{200B}mple.com").ascii == "example.com")
        #expect(try Domain("example\u{FEFF}.com").ascii == "example.com")
        #expect(try Domain("exam\u{FE0F}ple.com").ascii == "example.com")
    }

    @Test("ordering is by the ASCII form")
    func ordering() throws {
        let names = try ["b.example", "A.example", "xn--mnchen-3ya.de", "c.example"].map(Domain.init)
        #expect(names.sorted().map(\.ascii) == ["a.example", "b.example", "c.example", "xn--mnchen-3ya.de"])
    }

    @Test("length limits: 63 octets per label, 253 per name")
    func lengthLimits() throws {
        let label63 = String(repeating: "a", count: 63)
        #expect(try Domain(label63 + ".com").labels.first?.utf8.count == 63)
        // 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253.
        let name253 = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(try Domain(name253).ascii.utf8.count == 253)
        #expect(try Domain(name253 + ".").ascii.utf8.count == 253)
        // A U-label whose A-label is exactly 63 octets.
        let unicode63 = String(repeating: "a", count: 55) + "ü"
        #expect(try Domain(unicode63).ascii.utf8.count == 63)
    }
}

@Suite("Domain: errors")
struct DomainErrorTests {
    @Test("empty names")
    func empty() {
        #expect(throws: DomainError.empty) { try Domain("") }
        #expect(throws: DomainError.empty) { try Domain(".") }
        #expect(throws: DomainError.empty) { try Domain("。") }
    }

    @Test("empty labels")
    func emptyLabels() {
        #expect(throws: DomainError.emptyLabel(index: 0)) { try Domain("..") }
        #expect(throws: DomainError.emptyLabel(index: 1)) { try Domain("a..b") }
        #expect(throws: DomainError.emptyLabel(index: 0)) { try Domain(".example.com") }
        #expect(throws: DomainError.emptyLabel(index: 2)) { try Domain("a.b..") }
        #expect(throws: DomainError.emptyLabel(index: 1)) { try Domain("a.\u{3002}b") }
        // A label of ignored code points only is empty after mapping.
        #expect(throws: DomainError.emptyLabel(index: 0)) { try Domain("\u{00AD}.com") }
    }

    @Test("label longer than 63 octets")
    func labelTooLong() {
        let label64 = String(repeating: "a", count: 64)
        #expect(throws: DomainError.labelTooLong(label: label64, octets: 64)) {
            try Domain(label64 + ".com")
        }
        // A U-label whose A-label would be 64 octets.
        let unicode64 = String(repeating: "a", count: 56) + "ü"
        #expect(throws: DomainError.labelTooLong(label: unicode64, octets: 64)) {
            try Domain(unicode64 + ".de")
        }
        // An over-long A-label is rejected before it is decoded.
        let aLabel64 = "xn--" + String(repeating: "a", count: 60)
        #expect(throws: DomainError.labelTooLong(label: aLabel64, octets: 64)) {
            try Domain(aLabel64)
        }
    }

    @Test("name longer than 253 octets")
    func nameTooLong() {
        let label63 = String(repeating: "a", count: 63)
        let name254 = [label63, label63, label63, String(repeating: "b", count: 62)].joined(separator: ".")
        #expect(throws: DomainError.nameTooLong(octets: 254)) { try Domain(name254) }
        #expect(throws: DomainError.nameTooLong(octets: 254)) { try Domain(name254 + ".") }
        // The limit applies to the ASCII form: "ü" is "xn--tda", 7 octets.
        let unicodeName = Array(repeating: "ü", count: 50).joined(separator: ".")
        #expect(throws: DomainError.nameTooLong(octets: 399)) { try Domain(unicodeName) }
    }

    @Test("input longer than the limit")
    func inputTooLong() {
        let input = String(repeating: "a", count: Domain.maximumInputLength + 1)
        #expect(throws: DomainError.inputTooLong(scalars: 1025)) { try Domain(input) }
    }

    @Test("leading hyphen")
    func leadingHyphen() {
        #expect(throws: DomainError.leadingHyphen(label: "-abc")) { try Domain("-abc.com") }
        #expect(throws: DomainError.leadingHyphen(label: "-ü")) { try Domain("-ü.de") }
        // Fullwidth hyphen-minus maps to "-".
        #expect(throws: DomainError.leadingHyphen(label: "－a")) { try Domain("－a.com") }
    }

    @Test("trailing hyphen")
    func trailingHyphen() {
        #expect(throws: DomainError.trailingHyphen(label: "abc-")) { try Domain("www.abc-.com") }
        #expect(throws: DomainError.trailingHyphen(label: "ü-")) { try Domain("ü-.de") }
    }

    @Test("hyphens in positions 3 and 4 of a label that is not an A-label")
    func hyphens34() throws {
        #expect(throws: DomainError.hyphensInThirdAndFourthPositions(label: "ab--cd")) {
            try Domain("ab--cd.com")
        }
        #expect(throws: DomainError.hyphensInThirdAndFourthPositions(label: "xy--ü")) {
            try Domain("xy--ü.de")
        }
        // Elsewhere, double hyphens are fine.
        #expect(try Domain("a--b.com").ascii == "a--b.com")
        #expect(try Domain("abc--d.com").ascii == "abc--d.com")
    }

    @Test("invalid ASCII characters", arguments: [
        ("a b.com", "a b", " ", 1),
        ("_dmarc.example.com", "_dmarc", "_", 0),
        ("ex@mple.com", "ex@mple", "@", 2),
        ("tab\t.com", "tab\t", "\t", 3),
        ("a.b/c", "b/c", "/", 1),
        ("x\u{7F}", "x\u{7F}", "\u{7F}", 1),
        ("a\u{0}b", "a\u{0}b", "\u{0}", 1),
    ] as [(String, String, Unicode.Scalar, Int)])
    func invalidASCII(input: String, label: String, scalar: Unicode.Scalar, offset: Int) {
        #expect(throws: DomainError.invalidCharacter(label: label, scalar: scalar, offset: offset)) {
            try Domain(input)
        }
    }

    @Test("disallowed Unicode characters", arguments: [
        ("a☃.com", "a☃", "\u{2603}", 1),         // symbol (UTS 46 "NV8")
        ("x\u{1F600}.com", "x\u{1F600}", "\u{1F600}", 1),  // emoji
        ("a\u{200E}b.com", "a\u{200E}b", "\u{200E}", 1),   // format control
        ("a\u{E000}.com", "a\u{E000}", "\u{E000}", 1),     // private use
        ("a\u{0378}.com", "a\u{0378}", "\u{0378}", 1),     // unassigned
        ("a\u{85}.com", "a\u{85}", "\u{85}", 1),           // C1 control
        ("a\u{A0}b.com", "a\u{A0}b", "\u{A0}", 1),         // NBSP maps to a space
        ("a\u{2028}.com", "a\u{2028}", "\u{2028}", 1),     // line separator
        ("a\u{FF3F}b.com", "a\u{FF3F}b", "\u{FF3F}", 1),   // fullwidth low line → "_"
        ("\u{2488}com", "\u{2488}com", "\u{2488}", 0),     // ⒈ maps to "1."
        ("a\u{0640}b.com", "a\u{0640}b", "\u{0640}", 1),   // RFC 5892 DISALLOWED exception
        ("a\u{20DD}.com", "a\u{20DD}", "\u{20DD}", 1),     // IgnorableBlocks
        ("a\u{FFFF}.com", "a\u{FFFF}", "\u{FFFF}", 1),     // noncharacter
        ("a\u{3001}b.com", "a\u{3001}b", "\u{3001}", 1),   // ideographic comma
    ] as [(String, String, Unicode.Scalar, Int)])
    func invalidUnicode(input: String, label: String, scalar: Unicode.Scalar, offset: Int) {
        #expect(throws: DomainError.invalidCharacter(label: label, scalar: scalar, offset: offset)) {
            try Domain(input)
        }
    }

    @Test("a lone conjoining jamo is found after normalization, at its U-label offset")
    func oldHangulJamo() {
        #expect(throws: DomainError.invalidCharacter(label: "a\u{1100}", scalar: "\u{1100}", offset: 1)) {
            try Domain("a\u{1100}.kr")
        }
    }

    @Test("invalid punycode in an xn-- label")
    func invalidPunycode() {
        #expect(throws: DomainError.invalidPunycode(label: "xn--abc-z", error: .truncated(at: 5))) {
            try Domain("xn--abc-z.com")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn---abc", error: .invalidDigit("-", at: 0))) {
            try Domain("xn---abc.com")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn---", error: .invalidDigit("-", at: 0))) {
            try Domain("xn---.com")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn--ü", error: .invalidDigit("ü", at: 0))) {
            try Domain("xn--ü.com")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn--b\u{FC}-tda", error: .nonBasicCodePoint("ü", at: 1))) {
            try Domain("xn--bü-tda.com")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn--9999999999", error: .overflow(at: 7))) {
            try Domain("xn--9999999999")
        }
        #expect(throws: DomainError.invalidPunycode(label: "xn--ib9b", error: .invalidCodePoint(0xD800, at: 3))) {
            try Domain("xn--ib9b.com")
        }
    }

    @Test("A-labels that decode to ASCII only or to nothing")
    func asciiOnlyALabels() {
        #expect(throws: DomainError.asciiOnlyALabel(label: "xn--abc-")) { try Domain("xn--abc-.com") }
        #expect(throws: DomainError.asciiOnlyALabel(label: "xn--")) { try Domain("xn--.com") }
        #expect(throws: DomainError.asciiOnlyALabel(label: "XN--ABC-")) { try Domain("XN--ABC-") }
    }

    @Test("A-labels whose decoding is not a canonical U-label")
    func nonCanonicalALabels() {
        // "mÜnchen": an uppercase non-ASCII letter survives ASCII lowercasing.
        #expect(throws: DomainError.nonCanonicalALabel(label: "xn--mnchen-psa")) {
            try Domain("xn--mnchen-psa.de")
        }
        // "mu\u{0308}nchen": not NFC.
        #expect(throws: DomainError.nonCanonicalALabel(label: "xn--munchen-gie")) {
            try Domain("xn--munchen-gie.de")
        }
        // "Σ": uppercase Greek.
        #expect(throws: DomainError.nonCanonicalALabel(label: "xn--7wa")) { try Domain("xn--7wa") }
    }

    @Test("A-labels whose decoding contains a disallowed character")
    func disallowedInALabel() {
        // xn--n3h is ☃ (U+2603); xn--a is U+0080.
        #expect(throws: DomainError.invalidCharacter(label: "xn--n3h", scalar: "\u{2603}", offset: 0)) {
            try Domain("xn--n3h.com")
        }
        #expect(throws: DomainError.invalidCharacter(label: "xn--a", scalar: "\u{80}", offset: 0)) {
            try Domain("xn--a.com")
        }
    }

    @Test("A-labels whose U-label breaks the hyphen rules")
    func hyphenRulesInALabel() throws {
        // "-ü" encoded: the A-label is fine, its U-label starts with a hyphen.
        let encoded = "xn--" + (try Punycode.encode("-ü"))
        #expect(throws: DomainError.leadingHyphen(label: encoded)) { try Domain(encoded) }
    }

    @Test("a label may not start with a combining mark")
    func leadingCombiningMark() {
        #expect(throws: DomainError.leadingCombiningMark(label: "\u{0301}a", scalar: "\u{0301}")) {
            try Domain("\u{0301}a.com")
        }
        #expect(throws: DomainError.leadingCombiningMark(label: "\u{093E}\u{0915}", scalar: "\u{093E}")) {
            try Domain("\u{093E}\u{0915}.in")
        }
    }

    @Test("CONTEXTJ rules (RFC 5892 A.1, A.2)")
    func contextJ() throws {
        #expect(throws: DomainError.contextRule(label: "a\u{200D}b", scalar: "\u{200D}", offset: 1)) {
            try Domain("a\u{200D}b.com")
        }
        #expect(throws: DomainError.contextRule(label: "a\u{200C}b", scalar: "\u{200C}", offset: 1)) {
            try Domain("a\u{200C}b.com")
        }
        // ZWNJ after a right-joining-only letter (alef) has no left joiner.
        #expect(throws: DomainError.contextRule(label: "\u{0627}\u{200C}\u{0628}", scalar: "\u{200C}", offset: 1)) {
            try Domain("\u{0627}\u{200C}\u{0628}")
        }
        // After a virama both joiners are allowed.
        #expect(try Domain("क्\u{200D}ष.in").isInternationalized)
        // Between dual-joining letters, with a transparent mark in between.
        #expect(try Domain("\u{0628}\u{0651}\u{200C}\u{0628}.ir").isInternationalized)
    }

    @Test("CONTEXTO rules (RFC 5892 A.3 to A.9)")
    func contextO() throws {
        #expect(throws: DomainError.contextRule(label: "a·b", scalar: "\u{B7}", offset: 1)) {
            try Domain("a·b.cat")
        }
        #expect(throws: DomainError.contextRule(label: "͵a", scalar: "\u{375}", offset: 0)) {
            try Domain("͵a.gr")
        }
        #expect(throws: DomainError.contextRule(label: "a׳", scalar: "\u{5F3}", offset: 1)) {
            try Domain("a׳.il")
        }
        #expect(throws: DomainError.contextRule(label: "a・b", scalar: "\u{30FB}", offset: 1)) {
            try Domain("a・b.jp")
        }
        #expect(throws: DomainError.contextRule(label: "\u{0628}\u{0660}\u{06F0}", scalar: "\u{660}", offset: 1)) {
            try Domain("\u{0628}\u{0660}\u{06F0}")
        }
        #expect(try Domain("漢・字.jp").isInternationalized)
        #expect(try Domain("\u{0628}\u{0660}\u{0661}.eg").isInternationalized)
    }

    @Test("Bidi rules (RFC 5893 §2)")
    func bidi() throws {
        // Rule 1: an RTL domain's labels start with L, R or AL.
        #expect(throws: DomainError.bidiRule(label: "1com", rule: 1)) { try Domain("\u{05D0}.1com") }
        #expect(throws: DomainError.bidiRule(label: "\u{0660}\u{0628}", rule: 1)) { try Domain("\u{0660}\u{0628}") }
        // Rule 2: no L in an RTL label.
        #expect(throws: DomainError.bidiRule(label: "\u{05D0}a", rule: 2)) { try Domain("\u{05D0}a.com") }
        // Rule 3: an RTL label ends with R, AL, EN or AN (then NSMs).
        #expect(throws: DomainError.bidiRule(label: "\u{05D0}\u{02B9}", rule: 3)) { try Domain("\u{05D0}\u{02B9}") }
        // Rule 4: EN and AN do not mix in an RTL label.
        #expect(throws: DomainError.bidiRule(label: "\u{0627}1\u{0661}", rule: 4)) { try Domain("\u{0627}1\u{0661}") }
        // Rule 5: no R, AL or AN in an LTR label.
        #expect(throws: DomainError.bidiRule(label: "a\u{05D0}", rule: 5)) { try Domain("a\u{05D0}.com") }
        // Rule 6: an LTR label in an RTL domain ends with L or EN (then NSMs).
        #expect(throws: DomainError.bidiRule(label: "a\u{02B9}", rule: 6)) { try Domain("a\u{02B9}.\u{05D0}") }
        // Valid right-to-left names.
        #expect(try Domain("\u{05D0}\u{05D1}.com").unicode == "\u{05D0}\u{05D1}.com")
        #expect(try Domain("\u{05D0}1.co.il").isInternationalized)
        #expect(try Domain("\u{05D0}\u{05B0}.il").isInternationalized)  // ends with NSM after R
        // Without any RTL label the rules do not apply.
        #expect(try Domain("1com.a\u{02B9}").ascii == "1com.xn--a-t6a")
    }

    @Test("descriptions name the label and the character")
    func descriptions() {
        #expect(DomainError.invalidCharacter(label: "a b", scalar: " ", offset: 1).description
            == "label \"a b\": character U+0020 at offset 1 is not allowed in a host name")
        #expect(DomainError.labelTooLong(label: "x", octets: 64).description.contains("64 octets"))
        #expect(DomainError.invalidPunycode(label: "xn--abc-z", error: .truncated(at: 5)).description
            .contains("xn--abc-z"))
        #expect(DomainError.emptyLabel(index: 1).description.contains("index 1"))
        #expect(DomainError.bidiRule(label: "a", rule: 5).description.contains("rule 5"))
        #expect(DomainError.empty.description == "empty domain name")
    }

    @Test("never traps on arbitrary input")
    func noCrashOnGarbage() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let pieces = [
            "a", "Z", "0", "-", ".", "。", "xn--", "ü", "ß", "\u{200C}", "\u{200D}", "\u{0301}", "\u{05D0}",
            "\u{0628}", "\u{0660}", "·", "l", " ", "_", "\u{AD}", "ｘ", "\u{1100}", "\u{1161}", "\u{FFFF}",
            "\u{10FFFF}", "9", "zz",
        ]
        for _ in 0..<3000 {
            var input = ""
            for _ in 0..<Int(next() % 12) {
                input += pieces[Int(next() % UInt64(pieces.count))]
            }
            if let domain = try? Domain(input) {
                // Whatever is accepted round-trips through both forms.
                #expect((try? Domain(domain.ascii)) == domain)
                #expect((try? Domain(domain.unicode))?.ascii == domain.ascii)
            }
        }
    }
}

@Suite("Domain: suffixes")
struct DomainSuffixTests {
    @Test func lastLabelsInBothForms() throws {
        let domain = try Domain("www.Bücher.example")
        #expect(domain.suffix(labels: 2) == (try Domain("xn--bcher-kva.example")))
        #expect(domain.suffix(labels: 2).unicode == "bücher.example")
        #expect(domain.suffix(labels: 1).ascii == "example")
        // Clamped to the labels there are.
        #expect(domain.suffix(labels: 3) == domain)
        #expect(domain.suffix(labels: 9) == domain)
        #expect(domain.suffix(labels: 0).ascii == "example")
    }
}
