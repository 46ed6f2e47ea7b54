import Testing
import DNS

/// One sample string of RFC 3492 §7.1.
struct PunycodeSample: Sendable, CustomTestStringConvertible {
    let id: String
    let title: String
    /// The code points as listed, in the case the RFC gives (U+0050 "P" and so on).
    let codePoints: [UInt32]
    /// The encoding exactly as printed in the RFC, including its mixed-case
    /// annotations (sample I has an uppercase digit "D").
    let punycode: String

    var testDescription: String { "(\(id)) \(title)" }

    var unicode: String {
        var result = String()
        for value in codePoints {
            if let scalar = Unicode.Scalar(value) { result.unicodeScalars.append(scalar) }
        }
        return result
    }

    /// What the encoder emits: basic code points as given, digits in lowercase.
    /// The RFC's uppercase digits are optional case annotations (Appendix A),
    /// which this implementation does not produce.
    var lowercaseDigits: String {
        guard let delimiter = punycode.lastIndex(of: "-") else { return punycode.lowercased() }
        let basic = punycode[...delimiter]
        let digits = punycode[punycode.index(after: delimiter)...]
        return basic + digits.lowercased()
    }

    /// The same encoding with every digit in uppercase: decoding must not care.
    var uppercaseDigits: String {
        guard let delimiter = punycode.lastIndex(of: "-") else { return punycode.uppercased() }
        let basic = punycode[...delimiter]
        let digits = punycode[punycode.index(after: delimiter)...]
        return basic + digits.uppercased()
    }
}

/// RFC 3492 §7.1, samples (A) to (S), taken from the RFC text.
let rfc3492Samples: [PunycodeSample] = [
    PunycodeSample(
        id: "A", title: "Arabic (Egyptian)",
        codePoints: [
            0x0644, 0x064A, 0x0647, 0x0645, 0x0627, 0x0628, 0x062A, 0x0643, 0x0644, 0x0645,
            0x0648, 0x0634, 0x0639, 0x0631, 0x0628, 0x064A, 0x061F
        ],
        punycode: "egbpdaj6bu4bxfgehfvwxn"
    ),
    PunycodeSample(
        id: "B", title: "Chinese (simplified)",
        codePoints: [
            0x4ED6, 0x4EEC, 0x4E3A, 0x4EC0, 0x4E48, 0x4E0D, 0x8BF4, 0x4E2D, 0x6587
        ],
        punycode: "ihqwcrb4cv8a8dqg056pqjye"
    ),
    PunycodeSample(
        id: "C", title: "Chinese (traditional)",
        codePoints: [
            0x4ED6, 0x5011, 0x7232, 0x4EC0, 0x9EBD, 0x4E0D, 0x8AAA, 0x4E2D, 0x6587
        ],
        punycode: "ihqwctvzc91f659drss3x8bo0yb"
    ),
    PunycodeSample(
        id: "D", title: "Czech: Pro<ccaron>prost<ecaron>nemluv<iacute><ccaron>esky",
        codePoints: [
            0x0050, 0x0072, 0x006F, 0x010D, 0x0070, 0x0072, 0x006F, 0x0073, 0x0074, 0x011B,
            0x006E, 0x0065, 0x006D, 0x006C, 0x0075, 0x0076, 0x00ED, 0x010D, 0x0065, 0x0073,
            0x006B, 0x0079
        ],
        punycode: "Proprostnemluvesky-uyb24dma41a"
    ),
    PunycodeSample(
        id: "E", title: "Hebrew",
        codePoints: [
            0x05DC, 0x05DE, 0x05D4, 0x05D4, 0x05DD, 0x05E4, 0x05E9, 0x05D5, 0x05D8, 0x05DC,
            0x05D0, 0x05DE, 0x05D3, 0x05D1, 0x05E8, 0x05D9, 0x05DD, 0x05E2, 0x05D1, 0x05E8,
            0x05D9, 0x05EA
        ],
        punycode: "4dbcagdahymbxekheh6e0a7fei0b"
    ),
    PunycodeSample(
        id: "F", title: "Hindi (Devanagari)",
        codePoints: [
            0x092F, 0x0939, 0x0932, 0x094B, 0x0917, 0x0939, 0x093F, 0x0928, 0x094D, 0x0926,
            0x0940, 0x0915, 0x094D, 0x092F, 0x094B, 0x0902, 0x0928, 0x0939, 0x0940, 0x0902,
            0x092C, 0x094B, 0x0932, 0x0938, 0x0915, 0x0924, 0x0947, 0x0939, 0x0948, 0x0902
        ],
        punycode: "i1baa7eci9glrd9b2ae1bj0hfcgg6iyaf8o0a1dig0cd"
    ),
    PunycodeSample(
        id: "G", title: "Japanese (kanji and hiragana)",
        codePoints: [
            0x306A, 0x305C, 0x307F, 0x3093, 0x306A, 0x65E5, 0x672C, 0x8A9E, 0x3092, 0x8A71,
            0x3057, 0x3066, 0x304F, 0x308C, 0x306A, 0x3044, 0x306E, 0x304B
        ],
        punycode: "n8jok5ay5dzabd5bym9f0cm5685rrjetr6pdxa"
    ),
    PunycodeSample(
        id: "H", title: "Korean (Hangul syllables)",
        codePoints: [
            0xC138, 0xACC4, 0xC758, 0xBAA8, 0xB4E0, 0xC0AC, 0xB78C, 0xB4E4, 0xC774, 0xD55C,
            0xAD6D, 0xC5B4, 0xB97C, 0xC774, 0xD574, 0xD55C, 0xB2E4, 0xBA74, 0xC5BC, 0xB9C8,
            0xB098, 0xC88B, 0xC744, 0xAE4C
        ],
        punycode: "989aomsvi5e83db1d2a355cv1e0vak1dwrv93d5xbh15a0dt30a5jpsd879ccm6fea98c"
    ),
    PunycodeSample(
        id: "I", title: "Russian (Cyrillic)",
        codePoints: [
            0x043F, 0x043E, 0x0447, 0x0435, 0x043C, 0x0443, 0x0436, 0x0435, 0x043E, 0x043D,
            0x0438, 0x043D, 0x0435, 0x0433, 0x043E, 0x0432, 0x043E, 0x0440, 0x044F, 0x0442,
            0x043F, 0x043E, 0x0440, 0x0443, 0x0441, 0x0441, 0x043A, 0x0438
        ],
        punycode: "b1abfaaepdrnnbgefbaDotcwatmq2g4l"
    ),
    PunycodeSample(
        id: "J", title: "Spanish: Porqu<eacute>nopuedensimplementehablarenEspa<ntilde>ol",
        codePoints: [
            0x0050, 0x006F, 0x0072, 0x0071, 0x0075, 0x00E9, 0x006E, 0x006F, 0x0070, 0x0075,
            0x0065, 0x0064, 0x0065, 0x006E, 0x0073, 0x0069, 0x006D, 0x0070, 0x006C, 0x0065,
            0x006D, 0x0065, 0x006E, 0x0074, 0x0065, 0x0068, 0x0061, 0x0062, 0x006C, 0x0061,
            0x0072, 0x0065, 0x006E, 0x0045, 0x0073, 0x0070, 0x0061, 0x00F1, 0x006F, 0x006C
        ],
        punycode: "PorqunopuedensimplementehablarenEspaol-fmd56a"
    ),
    PunycodeSample(
        id: "K", title: "Vietnamese",
        codePoints: [
            0x0054, 0x1EA1, 0x0069, 0x0073, 0x0061, 0x006F, 0x0068, 0x1ECD, 0x006B, 0x0068,
            0x00F4, 0x006E, 0x0067, 0x0074, 0x0068, 0x1EC3, 0x0063, 0x0068, 0x1EC9, 0x006E,
            0x00F3, 0x0069, 0x0074, 0x0069, 0x1EBF, 0x006E, 0x0067, 0x0056, 0x0069, 0x1EC7,
            0x0074
        ],
        punycode: "TisaohkhngthchnitingVit-kjcr8268qyxafd2f1b9g"
    ),
    PunycodeSample(
        id: "L", title: "3<nen>B<gumi><kinpachi><sensei>",
        codePoints: [
            0x0033, 0x5E74, 0x0042, 0x7D44, 0x91D1, 0x516B, 0x5148, 0x751F
        ],
        punycode: "3B-ww4c5e180e575a65lsy2b"
    ),
    PunycodeSample(
        id: "M", title: "<amuro><namie>-with-SUPER-MONKEYS",
        codePoints: [
            0x5B89, 0x5BA4, 0x5948, 0x7F8E, 0x6075, 0x002D, 0x0077, 0x0069, 0x0074, 0x0068,
            0x002D, 0x0053, 0x0055, 0x0050, 0x0045, 0x0052, 0x002D, 0x004D, 0x004F, 0x004E,
            0x004B, 0x0045, 0x0059, 0x0053
        ],
        punycode: "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"
    ),
    PunycodeSample(
        id: "N", title: "Hello-Another-Way-<sorezore><no><basho>",
        codePoints: [
            0x0048, 0x0065, 0x006C, 0x006C, 0x006F, 0x002D, 0x0041, 0x006E, 0x006F, 0x0074,
            0x0068, 0x0065, 0x0072, 0x002D, 0x0057, 0x0061, 0x0079, 0x002D, 0x305D, 0x308C,
            0x305E, 0x308C, 0x306E, 0x5834, 0x6240
        ],
        punycode: "Hello-Another-Way--fc4qua05auwb3674vfr0b"
    ),
    PunycodeSample(
        id: "O", title: "<hitotsu><yane><no><shita>2",
        codePoints: [
            0x3072, 0x3068, 0x3064, 0x5C4B, 0x6839, 0x306E, 0x4E0B, 0x0032
        ],
        punycode: "2-u9tlzr9756bt3uc0v"
    ),
    PunycodeSample(
        id: "P", title: "Maji<de>Koi<suru>5<byou><mae>",
        codePoints: [
            0x004D, 0x0061, 0x006A, 0x0069, 0x3067, 0x004B, 0x006F, 0x0069, 0x3059, 0x308B,
            0x0035, 0x79D2, 0x524D
        ],
        punycode: "MajiKoi5-783gue6qz075azm5e"
    ),
    PunycodeSample(
        id: "Q", title: "<pafii>de<runba>",
        codePoints: [
            0x30D1, 0x30D5, 0x30A3, 0x30FC, 0x0064, 0x0065, 0x30EB, 0x30F3, 0x30D0
        ],
        punycode: "de-jg4avhby1noc0d"
    ),
    PunycodeSample(
        id: "R", title: "<sono><supiido><de>",
        codePoints: [
            0x305D, 0x306E, 0x30B9, 0x30D4, 0x30FC, 0x30C9, 0x3067
        ],
        punycode: "d9juau41awczczp"
    ),
    PunycodeSample(
        id: "S", title: "-> $1.00 <-",
        codePoints: [
            0x002D, 0x003E, 0x0020, 0x0024, 0x0031, 0x002E, 0x0030, 0x0030, 0x0020, 0x003C,
            0x002D
        ],
        punycode: "-> $1.00 <--"
    ),
]

@Suite("Punycode (RFC 3492)")
struct PunycodeTests {
    @Test("all nineteen samples are present")
    func sampleCount() {
        #expect(rfc3492Samples.count == 19)
        #expect(rfc3492Samples.map(\.id).joined() == "ABCDEFGHIJKLMNOPQRS")
    }

    @Test("encodes the RFC 3492 §7.1 samples", arguments: rfc3492Samples)
    func encodeSample(_ sample: PunycodeSample) throws {
        #expect(try Punycode.encode(sample.unicode) == sample.lowercaseDigits)
    }

    @Test("decodes the RFC 3492 §7.1 samples as printed", arguments: rfc3492Samples)
    func decodeSample(_ sample: PunycodeSample) throws {
        let decoded = try Punycode.decode(sample.punycode)
        #expect(decoded.unicodeScalars.map(\.value) == sample.codePoints)
    }

    @Test("decodes digits case-insensitively", arguments: rfc3492Samples)
    func decodeSampleAnyDigitCase(_ sample: PunycodeSample) throws {
        #expect(try Punycode.decode(sample.lowercaseDigits) == sample.unicode)
        #expect(try Punycode.decode(sample.uppercaseDigits) == sample.unicode)
    }

    @Test("sample (I) carries an uppercase annotation digit that decoding ignores")
    func mixedCaseAnnotation() throws {
        let russian = try #require(rfc3492Samples.first { $0.id == "I" })
        #expect(russian.punycode.contains("D"))
        #expect(try Punycode.encode(russian.unicode) == "b1abfaaepdrnnbgefbadotcwatmq2g4l")
    }

    @Test("basic code points keep their case in both directions")
    func basicCase() throws {
        #expect(try Punycode.encode("München") == "Mnchen-3ya")
        #expect(try Punycode.decode("Mnchen-3ya") == "München")
        #expect(try Punycode.decode("MNCHEN-3YA") == "M\u{FC}NCHEN")
    }

    @Test("edge cases of the delimiter")
    func delimiterEdges() throws {
        #expect(try Punycode.encode("") == "")
        #expect(try Punycode.decode("") == "")
        // §6.3: all-basic input gets a trailing delimiter.
        #expect(try Punycode.encode("abc") == "abc-")
        #expect(try Punycode.decode("abc-") == "abc")
        #expect(try Punycode.encode("-") == "--")
        #expect(try Punycode.decode("--") == "-")
        // No basic code points: no delimiter at all.
        #expect(try Punycode.encode("ü") == "tda")
        #expect(try Punycode.decode("tda") == "ü")
        // Only the last delimiter separates; earlier ones are basic code points.
        #expect(try Punycode.decode("a-b-joa") == "a-bü")
        #expect(try Punycode.encode("a-bü") == "a-b-joa")
    }

    @Test("round-trips strings across the code space")
    func roundTrips() throws {
        let strings = [
            "\u{10FFFF}", "\u{80}", "\u{FFFD}", "\u{1F600}a\u{1F601}b", "\u{E000}\u{D7FF}\u{E000}",
            "ÿ\u{100}\u{10000}\u{10FFFF}", String(repeating: "ü", count: 200),
            String(repeating: "\u{10FFFF}\u{80}", count: 100),
        ]
        for string in strings {
            let encoded = try Punycode.encode(string)
            #expect(encoded.unicodeScalars.allSatisfy { $0.isASCII })
            #expect(try Punycode.decode(encoded) == string)
        }
    }

    // MARK: Errors

    @Test("rejects non-basic code points before the last delimiter")
    func nonBasic() {
        #expect(throws: PunycodeError.nonBasicCodePoint("ü", at: 1)) {
            try Punycode.decode("bü-tda")
        }
    }

    @Test("rejects characters that are not base-36 digits")
    func invalidDigits() {
        #expect(throws: PunycodeError.invalidDigit("!", at: 5)) { try Punycode.decode("abc-d!e") }
        #expect(throws: PunycodeError.invalidDigit("ü", at: 0)) { try Punycode.decode("ü") }
        #expect(throws: PunycodeError.invalidDigit(" ", at: 4)) { try Punycode.decode("abc- ") }
        // A single leading delimiter is not a separator (RFC 3492 Appendix C).
        #expect(throws: PunycodeError.invalidDigit("-", at: 0)) { try Punycode.decode("-abc") }
    }

    @Test("rejects input that ends inside a number")
    func truncated() {
        // "z" is 25, at or above every threshold, so another digit must follow.
        #expect(throws: PunycodeError.truncated(at: 5)) { try Punycode.decode("abc-z") }
        #expect(throws: PunycodeError.truncated(at: 1)) { try Punycode.decode("9") }
    }

    @Test("detects overflow (RFC 3492 §6.4)")
    func overflow() {
        // "9" is 35, above every threshold, so the number never ends: its
        // weight grows by a factor of up to 35 per digit, and at the eighth
        // digit (offset 7) i + digit × w no longer fits in 32 bits.
        #expect(throws: PunycodeError.overflow(at: 7)) {
            try Punycode.decode(String(repeating: "9", count: 10))
        }
        #expect(throws: PunycodeError.overflow(at: 11)) {
            try Punycode.decode("abc-" + String(repeating: "9", count: 40))
        }
    }

    @Test("a long run of a small digit is not an overflow, but can leave the code space")
    func longRuns() throws {
        // "z" (25) is below the threshold 26 that long runs reach, so each
        // number ends early; the values still climb past U+10FFFF or into the
        // surrogates.
        #expect(try Punycode.decode("zzzzzzzzzz") == "\u{885E}\u{7BA5}\u{7CEA}\u{7E16}")
        #expect(throws: PunycodeError.invalidCodePoint(0xDEF3, at: 24)) {
            try Punycode.decode(String(repeating: "z", count: 40))
        }
    }

    @Test("rejects decoded values that are not Unicode scalars")
    func invalidCodePoints() {
        // Encodings of U+D800 and U+DFFF (surrogates) and 0x110000, made with
        // the §6.3 algorithm on raw integers.
        #expect(throws: PunycodeError.invalidCodePoint(0xD800, at: 3)) { try Punycode.decode("ib9b") }
        #expect(throws: PunycodeError.invalidCodePoint(0xDFFF, at: 3)) { try Punycode.decode("zy0c") }
        #expect(throws: PunycodeError.invalidCodePoint(0xD800, at: 5)) { try Punycode.decode("a-rc4g") }
        #expect(throws: PunycodeError.invalidCodePoint(0x110000, at: 4)) { try Punycode.decode("en32g") }
    }

    @Test("bounds the input length")
    func inputTooLong() throws {
        let limit = Punycode.maximumLength
        #expect(try Punycode.decode(String(repeating: "a", count: limit - 1) + "-") == String(repeating: "a", count: limit - 1))
        #expect(throws: PunycodeError.inputTooLong(length: limit + 1)) {
            try Punycode.decode(String(repeating: "a", count: limit + 1))
        }
        #expect(throws: PunycodeError.inputTooLong(length: limit + 1)) {
            try Punycode.encode(String(repeating: "ü", count: limit + 1))
        }
        #expect(try Punycode.encode(String(repeating: "ü", count: limit)).isEmpty == false)
    }

    @Test("error descriptions name the problem and position")
    func descriptions() {
        #expect(PunycodeError.invalidDigit("!", at: 5).description == "invalid punycode digit U+0021 at offset 5")
        #expect(PunycodeError.invalidCodePoint(0xD800, at: 4).description.contains("U+D800"))
        #expect(PunycodeError.invalidCodePoint(0x110000, at: 5).description.contains("U+110000"))
        #expect(PunycodeError.nonBasicCodePoint("ü", at: 1).description.contains("U+00FC"))
        #expect(PunycodeError.truncated(at: 3).description.contains("offset 3"))
        #expect(PunycodeError.overflow(at: 6).description == "punycode arithmetic overflow at offset 6")
        #expect(PunycodeError.inputTooLong(length: 2000).description.contains("2000"))
    }

    @Test("never traps on arbitrary input")
    func noCrashOnGarbage() throws {
        // A fixed linear congruential generator keeps the test reproducible.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let alphabet = Array("abcxyzABCXYZ0123456789-_. ü\u{10FFFF}")
        for _ in 0..<3000 {
            let length = Int(next() % 24)
            var input = ""
            for _ in 0..<length {
                input.append(alphabet[Int(next() % UInt64(alphabet.count))])
            }
            if let decoded = try? Punycode.decode(input) {
                // Whatever decodes must encode again and decode to the same.
                let encoded = try Punycode.encode(decoded)
                #expect(try Punycode.decode(encoded) == decoded)
            }
        }
        for _ in 0..<500 {
            var input = ""
            for _ in 0..<Int(next() % 16) {
                if let scalar = Unicode.Scalar(UInt32(next() % 0x11_0000)) {
                    input.unicodeScalars.append(scalar)
                }
            }
            #expect(try Punycode.decode(Punycode.encode(input)) == input)
        }
    }
}
