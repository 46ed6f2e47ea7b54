#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A charset name that `Charset.decode` does not know (or whose converter this system lacks).
public enum CharsetError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknown(String)

    public var description: String {
        switch self {
        case .unknown(let name): "unknown charset \"\(name)\""
        }
    }
}

/// Decoding text in the charsets mail is written in (RFC 2045 §5.1 `charset` parameter,
/// RFC 2047 §2 encoded-word charset, RFC 2231 §4 extended parameter charset).
///
/// Names are looked up in an explicit alias table (`Charset.aliases`), never handed to iconv
/// as written: the table maps the labels senders actually use to the converter mainstream
/// clients use for them (following the WHATWG Encoding Standard's label table where it has an
/// opinion, e.g. "iso-8859-1" decodes as its superset windows-1252, "ks_c_5601-1987" as CP949,
/// "gb2312" as GBK, "shift_jis" as CP932), and an untrusted name never reaches gconv's module
/// loader. Unknown names are reported (`CharsetError.unknown`), never guessed silently.
///
/// UTF-8, US-ASCII and windows-1252/ISO-8859-1 are decoded in Swift; everything else goes
/// through the C library's iconv, one converter per call because an `iconv_t` carries shift
/// state and must not be shared between threads.
///
/// Bad bytes never fail a decode: each invalid sequence becomes U+FFFD and decoding continues,
/// so a reader shows what can be shown. All work is linear in the input.
public enum Charset {
    /// Longest charset name looked up; longer names are unknown. The longest real label
    /// ("extended_unix_code_packed_format_for_japanese") is 45 octets.
    static let maxNameLength = 64

    /// Output chunk handed to iconv per call; large so big bodies convert in few calls.
    static let iconvChunkSize = 64 * 1024

    /// Decodes `bytes` in the named charset (IANA name or common alias, case-insensitive, e.g.
    /// "utf-8", "UTF8", "latin1", "iso-8859-1", "cp1252", "x-sjis", "gb2312", "ks_c_5601-1987")
    /// to a String. Invalid sequences become U+FFFD (mail readers show what they can); this
    /// never throws for bad bytes. Throws only for an unknown charset, or one whose converter
    /// is missing from this system's iconv.
    public static func decode(_ bytes: some Collection<UInt8>, charset: String) throws(CharsetError) -> String {
        guard let decoder = resolve(charset), let text = decode(bytes, with: decoder) else {
            throw .unknown(charset)
        }
        return text
    }

    /// Whether `decode` knows the charset (and, for iconv-backed ones, whether this system's
    /// iconv has the converter installed).
    public static func isSupported(_ charset: String) -> Bool {
        guard let decoder = resolve(charset) else { return false }
        return decoder.isAvailable
    }

    // MARK: - Decoders

    /// How one charset is decoded.
    enum Decoder: Hashable, Sendable {
        /// UTF-8 (RFC 3629); ill-formed sequences become U+FFFD.
        case utf8
        /// US-ASCII (RFC 2045 §5.2's default). Octets ≥ 0x80 are not ASCII, but mislabeled
        /// 8-bit text is common: when the whole input is valid UTF-8 it is read as UTF-8 (a
        /// non-ASCII UTF-8 sequence practically never arises by accident), otherwise as
        /// windows-1252, the label mapping of the WHATWG Encoding Standard.
        case ascii
        /// windows-1252, also used for ISO-8859-1: the two agree except at 0x80–0x9F, where
        /// ISO-8859-1 has C1 controls no real text contains and which senders labeling text
        /// "iso-8859-1" mean as windows-1252 punctuation (WHATWG Encoding Standard §4.2).
        case windows1252
        /// ISO-2022-JP (RFC 1468), stateful across the whole input: transcoded to EUC-JP here
        /// and then converted by iconv.
        case iso2022JP
        /// A converter of the C library's iconv.
        case iconv(IconvCharset)

        var isAvailable: Bool {
            switch self {
            case .utf8, .ascii, .windows1252: true
            case .iso2022JP: Charset.iconvAvailable(Charset.eucJP.name)
            case .iconv(let charset): Charset.iconvAvailable(charset.name)
            }
        }
    }

    /// An iconv converter with what is needed to resynchronise after an invalid sequence.
    struct IconvCharset: Hashable, Sendable {
        /// The name iconv_open knows.
        var name: String
        /// A superset converter tried on a two-octet sequence the primary rejects (vendor
        /// extensions, e.g. NEC row 13 in EUC-JP or the euro sign in Big5).
        var fallback: String? = nil
        /// For double-byte charsets, which octets start a two-octet character.
        var leads: LeadBytes? = nil
        /// Octets skipped after an invalid sequence: the code unit size (2 for UTF-16, 4 for
        /// UTF-32), so one bad unit does not misalign the rest of the text.
        var unit: Int = 1
    }

    /// Lead-octet ranges of double-byte charsets. On an invalid pair whose second octet is
    /// non-ASCII both octets are skipped (it cannot start a character of its own); when the
    /// second octet is ASCII it is kept, as the WHATWG Encoding Standard's decoders do.
    /// Skipping only one octet would let the trail octet pair with the next one and turn the
    /// rest of the line into wrong characters instead of one U+FFFD.
    enum LeadBytes: Hashable, Sendable {
        case shiftJIS  // 0x81–0x9F, 0xE0–0xFC
        case eucJP     // 0x8E, 0x8F, 0xA1–0xFE
        case generic   // 0x81–0xFE (EUC-KR/CP949, GBK/GB18030, Big5)

        func contains(_ byte: UInt8) -> Bool {
            switch self {
            case .shiftJIS: (0x81...0x9F).contains(byte) || (0xE0...0xFC).contains(byte)
            case .eucJP: byte == 0x8E || byte == 0x8F || (0xA1...0xFE).contains(byte)
            case .generic: (0x81...0xFE).contains(byte)
            }
        }
    }

    static let eucJP = IconvCharset(name: "EUC-JP", fallback: "EUC-JP-MS", leads: .eucJP)

    /// Looks a label up: surrounding whitespace and quotes are ignored, case is not significant.
    static func resolve(_ label: String) -> Decoder? {
        guard label.utf8.count <= maxNameLength * 2 else { return nil }
        let key = lowercasedASCII(trimmedLabel(label))
        guard !key.isEmpty, key.utf8.count <= maxNameLength else { return nil }
        return aliases[key]
    }

    /// The alias table: every label accepted, lowercased, to its decoder.
    static let aliases: [String: Decoder] = {
        var table: [String: Decoder] = [:]
        func add(_ decoder: Decoder, _ labels: [String]) {
            for label in labels { table[label] = decoder }
        }
        func iconv(_ name: String, fallback: String? = nil, leads: LeadBytes? = nil, unit: Int = 1) -> Decoder {
            .iconv(IconvCharset(name: name, fallback: fallback, leads: leads, unit: unit))
        }

        add(.utf8, ["utf-8", "utf8", "unicode-1-1-utf-8", "unicode-2-0-utf-8", "x-unicode20utf8", "csutf8"])
        add(.ascii, ["us-ascii", "ascii", "us", "ansi_x3.4-1968", "ansi_x3.4-1986", "iso-ir-6", "iso646-us",
                     "iso_646.irv:1991", "cp367", "ibm367", "csascii", "646"])
        add(.windows1252, ["windows-1252", "cp1252", "x-cp1252", "win-1252", "ms-ansi",
                           "iso-8859-1", "iso8859-1", "iso_8859-1", "iso8859_1", "iso88591", "iso_8859-1:1987",
                           "8859-1", "latin1", "latin-1", "l1", "iso-ir-100", "cp819", "ibm819", "csisolatin1"])

        // ISO-8859-2..16 (there is no -12) under their usual spellings. Per the WHATWG Encoding
        // Standard, -9 and -11 decode as their Windows supersets (1254, 874); the "-i"/"-e"
        // variants of -6 and -8 (RFC 1556: implicit/explicit bidi) are the same octets.
        for number in [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16] {
            let decoder: Decoder = switch number {
            case 9: iconv("CP1254")
            case 11: iconv("CP874")
            default: iconv("ISO-8859-\(number)")
            }
            add(decoder, ["iso-8859-\(number)", "iso8859-\(number)", "iso_8859-\(number)", "iso8859_\(number)",
                          "iso8859\(number)", "8859-\(number)"])
        }
        add(iconv("ISO-8859-2"), ["latin2", "l2", "iso-ir-101", "csisolatin2", "iso_8859-2:1987"])
        add(iconv("ISO-8859-3"), ["latin3", "l3", "iso-ir-109", "csisolatin3", "iso_8859-3:1988"])
        add(iconv("ISO-8859-4"), ["latin4", "l4", "iso-ir-110", "csisolatin4", "iso_8859-4:1988"])
        add(iconv("ISO-8859-5"), ["cyrillic", "iso-ir-144", "csisolatincyrillic", "iso_8859-5:1988"])
        add(iconv("ISO-8859-6"), ["arabic", "iso-ir-127", "asmo-708", "ecma-114", "csisolatinarabic",
                                  "iso-8859-6-i", "iso-8859-6-e", "csiso88596i", "csiso88596e", "iso_8859-6:1987"])
        add(iconv("ISO-8859-7"), ["greek", "greek8", "iso-ir-126", "ecma-118", "elot_928", "csisolatingreek",
                                  "sun_eu_greek", "iso_8859-7:1987"])
        add(iconv("ISO-8859-8"), ["hebrew", "iso-ir-138", "visual", "csisolatinhebrew", "iso-8859-8-i",
                                  "iso-8859-8-e", "csiso88598i", "csiso88598e", "logical", "iso_8859-8:1988"])
        add(iconv("CP1254"), ["latin5", "l5", "iso-ir-148", "csisolatin5", "iso_8859-9:1989"])
        add(iconv("ISO-8859-10"), ["latin6", "l6", "iso-ir-157", "csisolatin6"])
        add(iconv("CP874"), ["windows-874", "cp874", "dos-874", "tis-620", "tis620", "x-cp874"])
        add(iconv("ISO-8859-13"), ["latin7", "l7"])
        add(iconv("ISO-8859-14"), ["latin8", "l8", "iso-ir-199", "iso-celtic"])
        add(iconv("ISO-8859-15"), ["latin9", "latin-9", "l9", "csisolatin9", "iso_8859-15:1998"])
        add(iconv("ISO-8859-16"), ["latin10", "l10", "iso-ir-226"])

        // Windows code pages 1250–1258 (1252 is above).
        for page in 1250...1258 where page != 1252 {
            add(iconv("CP\(page)"), ["windows-\(page)", "cp\(page)", "x-cp\(page)", "win-\(page)", "ms\(page)"])
        }
        add(iconv("CP1250"), ["ms-ee"])
        add(iconv("CP1251"), ["ms-cyrl"])
        add(iconv("CP1253"), ["ms-greek"])
        add(iconv("CP1254"), ["ms-turk"])
        add(iconv("CP1255"), ["ms-hebr"])
        add(iconv("CP1256"), ["ms-arab"])

        // DOS code pages still seen in old mail.
        for page in [437, 850, 852, 855, 857, 858, 860, 861, 862, 863, 864, 865, 866, 869] {
            add(iconv("IBM\(page)"), ["ibm\(page)", "cp\(page)", "\(page)", "csibm\(page)", "cspc\(page)"])
        }
        add(iconv("IBM437"), ["cspc8codepage437"])
        add(iconv("IBM850"), ["cspc850multilingual"])

        // Cyrillic. WHATWG decodes "koi8-ru" as KOI8-U.
        add(iconv("KOI8-R"), ["koi8-r", "koi8r", "koi8", "koi", "cskoi8r", "koi8_r"])
        add(iconv("KOI8-U"), ["koi8-u", "koi8u", "koi8-ru", "koi8_u"])

        // Macintosh.
        add(iconv("MACINTOSH"), ["macintosh", "mac", "x-mac-roman", "macroman", "csmacintosh"])
        add(iconv("MAC-CYRILLIC"), ["x-mac-cyrillic", "x-mac-ukrainian", "mac-cyrillic", "maccyrillic"])
        add(iconv("MAC-CENTRALEUROPE"), ["x-mac-ce", "x-mac-centraleurroman", "mac-centraleurope"])

        // Japanese. Shift_JIS labels decode as CP932 (Windows-31J), the superset Windows
        // clients write and WHATWG decodes (0x5C is "\", NEC/IBM extensions included).
        add(iconv("CP932", leads: .shiftJIS), ["shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "mskanji",
                                               "csshiftjis", "windows-31j", "cswindows31j", "cp932", "ms932",
                                               "x-ms-cp932", "windows-932"])
        add(.iconv(eucJP), ["euc-jp", "eucjp", "x-euc-jp", "x-euc", "cseucpkdfmtjapanese",
                            "extended_unix_code_packed_format_for_japanese", "euc-jp-ms", "eucjp-ms", "eucjp-win"])
        add(.iso2022JP, ["iso-2022-jp", "csiso2022jp", "iso2022jp", "jis", "x-iso-2022-jp", "iso-2022-jp-1",
                         "iso-2022-jp-2", "iso-2022-jp-3", "csiso2022jp2", "cp50220", "cp50221", "cp50222"])

        // Chinese. GB2312 mail is written by GBK encoders in practice; GBK decodes both.
        add(iconv("GBK", leads: .generic), ["gbk", "gb2312", "gb_2312", "gb_2312-80", "csgb2312", "x-gbk", "cp936",
                                            "ms936", "windows-936", "chinese", "iso-ir-58", "euc-cn", "euccn",
                                            "x-euc-cn", "csiso58gb231280", "cn-gb"])
        add(iconv("GB18030", leads: .generic), ["gb18030", "gb-18030"])
        add(iconv("CP950", fallback: "BIG5-HKSCS", leads: .generic),
            ["big5", "big-5", "cn-big5", "csbig5", "x-x-big5", "x-big5", "cp950", "windows-950", "ms950"])
        add(iconv("BIG5-HKSCS", fallback: "CP950", leads: .generic), ["big5-hkscs", "big5hkscs"])
        add(iconv("EUC-TW", leads: .generic), ["euc-tw", "euctw", "x-euc-tw", "cns11643"])
        add(iconv("ISO-2022-CN"), ["iso-2022-cn", "csiso2022cn"])
        add(iconv("ISO-2022-CN-EXT"), ["iso-2022-cn-ext"])

        // Korean. EUC-KR labels decode as CP949 (Unified Hangul Code), its superset, which is
        // what "ks_c_5601-1987" from Outlook really means.
        add(iconv("CP949", leads: .generic), ["euc-kr", "euckr", "x-euc-kr", "cseuckr", "ks_c_5601-1987",
                                              "ks_c_5601-1989", "ks_c_5601", "ksc5601", "ksc_5601", "korean",
                                              "iso-ir-149", "csksc56011987", "cp949", "windows-949", "ms949",
                                              "x-windows-949", "uhc"])
        add(iconv("ISO-2022-KR"), ["iso-2022-kr", "csiso2022kr"])

        // Other scripts.
        add(iconv("VISCII"), ["viscii", "csviscii"])
        add(iconv("TCVN5712-1"), ["tcvn", "tcvn-5712", "tcvn5712-1"])
        add(iconv("ARMSCII-8"), ["armscii-8", "armscii8"])
        add(iconv("GEORGIAN-PS"), ["georgian-ps"])
        add(iconv("KOI8-T"), ["koi8-t"])

        // Unicode encoding forms other than UTF-8 (iconv honours a byte order mark).
        add(iconv("UTF-16", unit: 2), ["utf-16", "utf16", "unicode", "ucs-2", "iso-10646-ucs-2", "csunicode"])
        add(iconv("UTF-16LE", unit: 2), ["utf-16le", "utf16le"])
        add(iconv("UTF-16BE", unit: 2), ["utf-16be", "utf16be", "unicodefffe"])
        add(iconv("UTF-32", unit: 4), ["utf-32", "utf32", "ucs-4", "iso-10646-ucs-4"])
        add(iconv("UTF-32LE", unit: 4), ["utf-32le"])
        add(iconv("UTF-32BE", unit: 4), ["utf-32be"])
        add(iconv("UTF-7"), ["utf-7", "utf7", "unicode-1-1-utf-7", "csunicode11utf7", "x-unicode20utf7"])
        return table
    }()

    // MARK: - Decoding

    static func decode(_ bytes: some Collection<UInt8>, with decoder: Decoder) -> String? {
        if let text = bytes.withContiguousStorageIfAvailable({ decode(buffer: $0, with: decoder) }) {
            return text
        }
        return Array(bytes).withUnsafeBufferPointer { decode(buffer: $0, with: decoder) }
    }

    static func decode(buffer: UnsafeBufferPointer<UInt8>, with decoder: Decoder) -> String? {
        switch decoder {
        case .utf8:
            return decodeUTF8(buffer)
        case .ascii:
            if !buffer.contains(where: { $0 >= 0x80 }) {
                return String(decoding: buffer, as: UTF8.self)
            }
            if let text = String(validating: buffer, as: UTF8.self) {
                return text
            }
            return decodeWindows1252(buffer)
        case .windows1252:
            return decodeWindows1252(buffer)
        case .iso2022JP:
            let euc = transcodeISO2022JPToEUCJP(buffer)
            return euc.withUnsafeBufferPointer { iconvDecode($0, eucJP) }
        case .iconv(let charset):
            return iconvDecode(buffer, charset)
        }
    }

    /// UTF-8 with ill-formed sequences replaced by U+FFFD (Unicode §3.9, maximal subparts).
    /// A leading byte order mark is dropped: it is an encoding signature, not text.
    static func decodeUTF8(_ buffer: UnsafeBufferPointer<UInt8>) -> String {
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF {
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[3...]), as: UTF8.self)
        }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// windows-1252 at 0x80–0x9F; the five octets Windows leaves undefined map to the C1
    /// control of the same value, as in the WHATWG index.
    static let windows1252High: [UInt16] = [
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    ]

    static func decodeWindows1252(_ buffer: UnsafeBufferPointer<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(buffer.count + buffer.count / 2)
        let high = windows1252High
        for byte in buffer {
            if byte < 0x80 {
                utf8.append(byte)
                continue
            }
            let scalar = byte < 0xA0 ? UInt32(high[Int(byte - 0x80)]) : UInt32(byte)
            if scalar < 0x800 {
                utf8.append(UInt8(0xC0 | (scalar >> 6)))
                utf8.append(UInt8(0x80 | (scalar & 0x3F)))
            } else {
                utf8.append(UInt8(0xE0 | (scalar >> 12)))
                utf8.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
                utf8.append(UInt8(0x80 | (scalar & 0x3F)))
            }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    // MARK: - ISO-2022-JP

    /// An octet no EUC-JP sequence starts with: iconv reports it as invalid and it becomes
    /// U+FFFD, which is how transcoding errors reach the output.
    static let eucInvalid: UInt8 = 0xFF

    /// Transcodes ISO-2022-JP (RFC 1468) and its common extensions to EUC-JP, which iconv then
    /// decodes with the NEC/IBM extensions Windows senders use (CP50220/CP50221). The shift
    /// state runs across the whole input, as the designations do.
    ///
    /// Designations: ESC ( B ASCII, ESC ( J JIS X 0201-Roman (decoded as ASCII: senders use it
    /// for plain ASCII text, and a yen sign in place of every backslash of a path or URL helps
    /// nobody), ESC ( I and SO/SI half-width katakana, ESC $ @ / ESC $ B / ESC $ ( B / ESC $ ( Q
    /// / ESC $ ( O JIS X 0208 (0213 read as its 0208 subset), ESC $ ( D JIS X 0212. A line break
    /// inside a two-octet run is passed through and returns to ASCII: RFC 1468 requires every
    /// line to end in ASCII, so a sender that forgot the final ESC ( B meant the next line as
    /// ASCII.
    static func transcodeISO2022JPToEUCJP(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        enum State { case ascii, katakana, jis0208, jis0212 }
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var state = State.ascii
        var stateBeforeShiftOut = State.ascii
        var i = 0
        let n = input.count
        while i < n {
            let byte = input[i]
            if byte == 0x1B {
                // Longest designation is four octets: ESC $ ( D.
                let b1: UInt8? = i + 1 < n ? input[i + 1] : nil
                let b2: UInt8? = i + 2 < n ? input[i + 2] : nil
                let b3: UInt8? = i + 3 < n ? input[i + 3] : nil
                switch (b1, b2, b3) {
                case (0x28, 0x42, _), (0x28, 0x4A, _):
                    state = .ascii
                    i += 3
                case (0x28, 0x49, _):
                    state = .katakana
                    i += 3
                case (0x24, 0x40, _), (0x24, 0x42, _):
                    state = .jis0208
                    i += 3
                case (0x24, 0x28, 0x42), (0x24, 0x28, 0x51), (0x24, 0x28, 0x4F):
                    state = .jis0208
                    i += 4
                case (0x24, 0x28, 0x44):
                    state = .jis0212
                    i += 4
                default:
                    // Unknown escape: one U+FFFD, and the octets after ESC are read as data.
                    out.append(eucInvalid)
                    i += 1
                }
                continue
            }
            if byte == 0x0E {
                // SO: half-width katakana until SI (CP50222 style).
                if state != .katakana { stateBeforeShiftOut = state }
                state = .katakana
                i += 1
                continue
            }
            if byte == 0x0F {
                if state == .katakana { state = stateBeforeShiftOut == .katakana ? .ascii : stateBeforeShiftOut }
                i += 1
                continue
            }
            if byte == 0x0A || byte == 0x0D {
                out.append(byte)
                if state == .jis0208 || state == .jis0212 { state = .ascii }
                i += 1
                continue
            }
            if byte >= 0x80 {
                // Not 7-bit: not ISO-2022-JP.
                out.append(eucInvalid)
                i += 1
                continue
            }
            switch state {
            case .ascii:
                out.append(byte)
                i += 1
            case .katakana:
                if (0x21...0x5F).contains(byte) {
                    out.append(0x8E)
                    out.append(byte | 0x80)
                } else if byte < 0x21 || byte == 0x7F {
                    out.append(byte)  // controls and space pass through
                } else {
                    out.append(eucInvalid)
                }
                i += 1
            case .jis0208, .jis0212:
                guard (0x21...0x7E).contains(byte) else {
                    // Space or a control inside a two-octet run: keep it, as decoders do.
                    out.append(byte)
                    i += 1
                    continue
                }
                guard i + 1 < n, (0x21...0x7E).contains(input[i + 1]) else {
                    // A lead without a valid trail; the next octet is read on its own.
                    out.append(eucInvalid)
                    i += 1
                    continue
                }
                if state == .jis0212 { out.append(0x8F) }
                out.append(byte | 0x80)
                out.append(input[i + 1] | 0x80)
                i += 2
            }
        }
        return out
    }

    // MARK: - iconv

    static func iconvAvailable(_ name: String) -> Bool {
        guard let converter = IconvConverter(from: name) else { return false }
        converter.close()
        return true
    }

    /// Converts with iconv to UTF-8; nil when iconv lacks the converter.
    ///
    /// One converter for the whole input, so stateful encodings (UTF-7, ISO-2022-KR, UTF-16
    /// with a byte order mark) keep their state. An invalid sequence (EILSEQ) becomes U+FFFD:
    /// for double-byte charsets the vendor superset named in `fallback` is tried on the pair
    /// first, then the pair or single octet is skipped (see `LeadBytes`); otherwise one code
    /// unit is skipped. A truncated sequence at the end (EINVAL) becomes one U+FFFD. Output is
    /// collected in `iconvChunkSize` pieces, so a large body takes few iconv calls.
    static func iconvDecode(_ input: UnsafeBufferPointer<UInt8>, _ charset: IconvCharset) -> String? {
        guard let converter = IconvConverter(from: charset.name) else { return nil }
        defer { converter.close() }
        var fallback: IconvConverter?
        defer { fallback?.close() }

        let chunk = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: iconvChunkSize)
        defer { chunk.deallocate() }
        var out: [UInt8] = []
        out.reserveCapacity(input.count + input.count / 2)
        let replacement: [UInt8] = [0xEF, 0xBF, 0xBD]

        var position = 0
        while position < input.count {
            let step = converter.convert(input, from: position, to: chunk)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<step.produced]))
            position += step.consumed
            switch step.error {
            case 0:
                continue
            case E2BIG where step.produced > 0 || step.consumed > 0:
                continue
            case EILSEQ:
                guard position < input.count else { break }
                let lead = input[position]
                let next: UInt8? = position + 1 < input.count ? input[position + 1] : nil
                if let leads = charset.leads, leads.contains(lead), let next {
                    if let fallbackName = charset.fallback {
                        if fallback == nil { fallback = IconvConverter(from: fallbackName) }
                        if let fallback, let pair = fallback.convertWhole(input, range: position..<(position + 2), to: chunk) {
                            out.append(contentsOf: pair)
                            position += 2
                            continue
                        }
                    }
                    out.append(contentsOf: replacement)
                    position += next >= 0x80 ? 2 : 1
                } else {
                    out.append(contentsOf: replacement)
                    position = min(position + charset.unit, input.count)
                }
            case EINVAL:
                // Incomplete sequence at the end of the input.
                out.append(contentsOf: replacement)
                position = input.count
            default:
                // Unexpected error: never loop without progress.
                out.append(contentsOf: replacement)
                position += 1
            }
        }
        // Let the converter emit what it still holds: glibc's CP1255 and CP1258 keep the last
        // base letter back to compose it with a following combining mark.
        let tail = converter.flush(to: chunk)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: chunk[..<tail]))
        return String(decoding: out, as: UTF8.self)
    }
}

extension Charset {
    /// One iconv conversion descriptor to UTF-8. Not thread-safe (iconv keeps state in it): each
    /// decode owns its own and closes it.
    struct IconvConverter {
        let descriptor: iconv_t

        init?(from name: String) {
            let descriptor = iconv_open("UTF-8", name)
            // iconv_open signals failure with (iconv_t)-1.
            guard let descriptor, Int(bitPattern: descriptor) != -1 else { return nil }
            self.descriptor = descriptor
        }

        func close() {
            _ = iconv_close(descriptor)
        }

        /// Converts from `start` into `output`; reports octets consumed and produced and errno
        /// (0 when all input was consumed).
        func convert(_ input: UnsafeBufferPointer<UInt8>, from start: Int, to output: UnsafeMutableBufferPointer<UInt8>)
            -> (consumed: Int, produced: Int, error: Int32)
        {
            guard let inputBase = input.baseAddress, let outputBase = output.baseAddress, start < input.count else {
                return (0, 0, 0)
            }
            // iconv takes `char **` for its input but never writes through it.
            var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(mutating: inputBase + start)
                .assumingMemoryBound(to: CChar.self)
            var inLeft = input.count - start
            var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outputBase).assumingMemoryBound(to: CChar.self)
            var outLeft = output.count
            let inBefore = inLeft
            let result = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
            let error: Int32 = result == -1 ? errno : 0
            return (inBefore - inLeft, output.count - outLeft, error)
        }

        /// Converts exactly `range` from the initial state; nil unless all of it converts.
        func convertWhole(_ input: UnsafeBufferPointer<UInt8>, range: Range<Int>, to output: UnsafeMutableBufferPointer<UInt8>) -> [UInt8]? {
            _ = iconv(descriptor, nil, nil, nil, nil)  // reset the shift state
            let slice = UnsafeBufferPointer(rebasing: input[range])
            let step = convert(slice, from: 0, to: output)
            guard step.error == 0, step.consumed == range.count else { return nil }
            return Array(UnsafeBufferPointer(rebasing: output[..<step.produced]))
        }

        /// Writes the sequence returning to the initial state, if any; returns octets produced.
        func flush(to output: UnsafeMutableBufferPointer<UInt8>) -> Int {
            guard let outputBase = output.baseAddress else { return 0 }
            var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outputBase).assumingMemoryBound(to: CChar.self)
            var outLeft = output.count
            _ = iconv(descriptor, nil, nil, &outPointer, &outLeft)
            return output.count - outLeft
        }
    }
}

extension Charset {
    /// Lowercases ASCII letters only: charset labels and MIME names are ASCII, and Unicode case
    /// mapping could change their length or meaning.
    static func lowercasedASCII(_ text: String) -> String {
        guard text.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return text }
        return String(decoding: text.utf8.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Drops leading and trailing spaces, tabs, line breaks and double quotes from a label.
    static func trimmedLabel(_ text: String) -> String {
        let bytes = Array(text.utf8)
        func trimmed(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A || byte == 0x22 }
        var start = 0
        var end = bytes.count
        while start < end, trimmed(bytes[start]) { start += 1 }
        while end > start, trimmed(bytes[end - 1]) { end -= 1 }
        if start == 0, end == bytes.count { return text }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
