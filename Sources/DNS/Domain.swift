// Domain names: hostnames in their ASCII (A-label) and Unicode (U-label) forms.
//
// A `Domain` is built from what an operator, a peer or a DNS record wrote, which
// may be ASCII ("Example.COM."), A-labels ("xn--mnchen-3ya.de") or Unicode
// ("München.de", "例え。テスト"). The input goes through UTS 46 processing
// (non-transitional) as a front end, and the result is validated as an IDNA2008
// domain name (RFC 5890, RFC 5891 §5.4 lookup rules, RFC 5892, RFC 5893).
// Anything that does not pass is rejected with a `DomainError` naming the label,
// and where useful the character and its position.
//
// What is covered, and how exactly:
//
// - Label separators (UTS 46 §4 step 3, RFC 3490 §3.1): U+002E, U+3002, U+FF0E,
//   U+FF61. One trailing separator (the root) is accepted and dropped.
// - Mapping (UTS 46 §4 step 1, non-transitional): the IDNA mapping table is not
//   available on Linux, so it is approximated per code point as NFKC, then full
//   lowercase (Unicode.Scalar.Properties.lowercaseMapping), then NFKC again,
//   with the corrections that make it agree with case folding, which the table
//   is built from: Cherokee small letters map to the capitals; characters other
//   than ς itself that lowercase to ς map to σ; the iota subscript (U+0345 and
//   the precomposed Greek letters that contain it) becomes ι; U+1C80–U+1C88 map
//   to the ordinary Cyrillic letters. Compatibility characters newer than
//   Foundation's normalization data (U+1CCD6–U+1CCF9, U+A7F1) are mapped
//   explicitly. Checked over all code points against IdnaMappingTable 17.0:
//   for every code point, mapping it and validating the result as below gives
//   what the table and the RFC 5892 classes give. Deviation characters stay as
//   they are (non-transitional): ß, ς, ZWJ, ZWNJ; U+1E9E maps to ß.
// - Ignored code points (status "ignored" in the UTS 46 17.0 IdnaMappingTable)
//   are removed: U+00AD, U+034F, U+115F–U+1160, U+17B4–U+17B5, U+180B–U+180F,
//   U+200B, U+2060–U+2064, U+206A–U+206F, U+3164, U+FE00–U+FE0F, U+FEFF,
//   U+FFA0, U+1BCA0–U+1BCA3, U+1D173–U+1D17A, U+E0100–U+E01EF. Other default
//   ignorable code points (e.g. U+200E) are disallowed, as in the table.
// - Normalization (UTS 46 §4 step 2): NFC, via Foundation.
// - A-labels (UTS 46 §4 step 4, RFC 5891 §5.3): a label that starts with "xn--"
//   after mapping is Punycode-decoded; it is an error if that fails, if the
//   result is empty or pure ASCII, if the result is not already in mapped NFC
//   form, if it fails the U-label checks below, or if re-encoding the U-label
//   does not give back the same A-label.
// - Character repertoire (UTS 46 §4.1 criterion 7 with UseSTD3ASCIIRules, and
//   RFC 5892 for non-ASCII): ASCII is limited to letters, digits and hyphen (no
//   underscore: service names such as _dmarc are not hostnames and have their
//   own type). Non-ASCII must be what RFC 5892 §2.1 calls LetterDigits (general
//   categories Ll, Lu, Lo, Lm, Mn, Mc, Nd), plus the PVALID, CONTEXTO and
//   CONTEXTJ code points of RFC 5892 §2.6 (Exceptions) and §2.8 (JoinControl),
//   minus the DISALLOWED exceptions of §2.6, the IgnorableProperties of §2.3,
//   the IgnorableBlocks of §2.4 and the OldHangulJamo of §2.9; unassigned code
//   points (§2.10) are rejected, counting everything newer than Unicode 17.0 as
//   unassigned. Checked over all code points against the RFC 5892 derived
//   property values for Unicode 17.0: after mapping, the accepted set is
//   exactly PVALID, CONTEXTJ and CONTEXTO. This is stricter than UTS 46, which
//   also accepts symbols such as emoji ("NV8"); a mail domain has to be
//   IDNA2008-valid to be registered, so rejecting them early gives a clear
//   error instead of a failed lookup. RFC 5892 §2.2 "Unstable" is enforced by
//   requiring every label to be a fixed point of the mapping.
// - CheckHyphens (UTS 46 §4.1 criteria 2 and 3, RFC 5891 §4.2.3.1): no hyphen
//   at the start or end of a label, and no "--" in positions 3 and 4 unless the
//   label is an A-label. Applied to ASCII labels and to U-labels.
// - Leading combining marks (UTS 46 §4.1 criterion 6, RFC 5891 §4.2.3.2).
// - CheckJoiners (UTS 46 §4.1 criterion 8): the CONTEXTJ rules of RFC 5892
//   Appendix A.1 and A.2, exactly, with Joining_Type from ArabicShaping.txt of
//   Unicode 17.0 (generated tables below; Joining_Type T is derived from the
//   general category as ArabicShaping.txt prescribes).
// - CONTEXTO (RFC 5892 Appendix A.3–A.9, which RFC 5891 §5.4 lets a lookup
//   check): all seven rules, with Script values from Scripts.txt of Unicode 17.0
//   for the Greek, Hebrew, Hiragana, Katakana and Han scripts.
// - CheckBidi (UTS 46 §4.1 criterion 9, RFC 5893 §2): all six rules, applied to
//   every label of a name that has a right-to-left label. Swift has no
//   Bidi_Class property, so it comes from generated tables (Unicode 18.0
//   DerivedBidiClass, restricted to the characters that can reach this check)
//   plus the general category for marks (NSM).
// - Lengths (RFC 1035 §2.3.4, UTS 46 §4.2 VerifyDnsLength): at most 63 octets
//   per label and 253 octets for the name, both in ASCII form without the
//   trailing dot (255 on the wire, less the first length octet and the root).
//
// In UTS 46 §4 terms: UseSTD3ASCIIRules, CheckHyphens, CheckBidi, CheckJoiners
// and VerifyDnsLength are on; Transitional_Processing and IgnoreInvalidPunycode
// are off.
//
// Not covered: the registration-only rules of RFC 5891 §4 and registry
// policies; confusable or mixed-script detection (UTS 39). Code points assigned
// after Unicode 17.0 are rejected as unassigned until the tables are
// regenerated, even when the standard library already knows them.

import Foundation

/// A validated hostname, in ASCII (A-label) and Unicode (U-label) form.
///
/// Both forms are lowercase, carry no trailing dot, and are derived from each
/// other, so equality and hashing (on the ASCII form) are case-insensitive and
/// treat a U-label and its A-label as the same name.
public struct Domain: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The name with A-labels ("xn--..."), lowercase, without a trailing dot.
    public let ascii: String
    /// The name with U-labels in NFC, lowercase, without a trailing dot.
    public let unicode: String

    /// The longest label, in octets of its ASCII form (RFC 1035 §2.3.4).
    public static let maximumLabelLength = 63
    /// The longest name, in octets of its ASCII form without the trailing dot:
    /// RFC 1035 §2.3.4 allows 255 octets on the wire, which holds 253 in text.
    public static let maximumNameLength = 253
    /// The longest input `init(_:)` looks at, in Unicode scalars. A valid name is
    /// far shorter; ignored code points could pad it, but not usefully.
    public static let maximumInputLength = 1024

    /// The labels of the ASCII form, from left to right.
    public var labels: [String] {
        ascii.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// The labels of the Unicode form, from left to right.
    public var unicodeLabels: [String] {
        unicode.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    /// Whether any label is an A-label, i.e. the name is not plain ASCII.
    public var isInternationalized: Bool { ascii != unicode }

    /// The Unicode form.
    public var description: String { unicode }

    /// Parses and validates a domain name given in Unicode, ASCII or A-label
    /// form, with or without one trailing dot.
    public init(_ text: String) throws(DomainError) {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= Domain.maximumInputLength else {
            throw .inputTooLong(scalars: scalars.count)
        }

        // UTS 46 §4 step 3 breaks the mapped string at U+002E; the other three
        // separators map to U+002E (RFC 3490 §3.1 lists all four), so splitting
        // the input on all of them is equivalent and keeps each label's text as
        // written for error messages.
        var written: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in scalars {
            if IDNA.isLabelSeparator(scalar) {
                written.append(current)
                current = []
            } else {
                current.append(scalar)
            }
        }
        // A final separator is the root label (the fully qualified form); drop it.
        // With nothing before it, as in "" and ".", there is no name at all.
        if !current.isEmpty || written.isEmpty {
            written.append(current)
        }
        if written.count == 1, written[0].isEmpty {
            throw .empty
        }

        var asciiLabels: [String] = []
        var unicodeLabels: [[Unicode.Scalar]] = []
        asciiLabels.reserveCapacity(written.count)
        unicodeLabels.reserveCapacity(written.count)
        for (index, label) in written.enumerated() {
            let processed = try IDNA.processLabel(label, index: index)
            asciiLabels.append(processed.ascii)
            unicodeLabels.append(processed.unicode)
        }

        let ascii = asciiLabels.joined(separator: ".")
        guard ascii.utf8.count <= Domain.maximumNameLength else {
            throw .nameTooLong(octets: ascii.utf8.count)
        }
        try IDNA.checkBidi(labels: unicodeLabels, written: written)

        self.ascii = ascii
        self.unicode = unicodeLabels.map(IDNA.string).joined(separator: ".")
    }

    private init(ascii: String, unicode: String) {
        self.ascii = ascii
        self.unicode = unicode
    }

    /// The name made of the last `count` labels, e.g. "example.com" for 2 from
    /// "mail.example.com"; `count` is clamped to 1 through the number of labels. No
    /// validation again: each label is valid already, the name only gets shorter, and the
    /// RFC 5893 §2 rules bind a name's labels only when it has a right-to-left label, which
    /// the whole name had too if the suffix has one.
    public func suffix(labels count: Int) -> Domain {
        let asciiLabels = labels
        let kept = min(max(count, 1), asciiLabels.count)
        guard kept < asciiLabels.count else { return self }
        return Domain(
            ascii: asciiLabels.suffix(kept).joined(separator: "."),
            unicode: unicodeLabels.suffix(kept).joined(separator: "."))
    }

    public static func == (lhs: Domain, rhs: Domain) -> Bool {
        lhs.ascii == rhs.ascii
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ascii)
    }

    /// Orders by the ASCII form, character by character (not the DNSSEC
    /// canonical order of RFC 4034 §6.1, which compares labels from the right).
    public static func < (lhs: Domain, rhs: Domain) -> Bool {
        lhs.ascii < rhs.ascii
    }
}

/// Why a string is not a valid domain name.
///
/// `label` is always the label as it was written in the input (between
/// separators, before any mapping), so the user can find it. `offset` counts
/// Unicode scalars from 0: in the label as written for characters rejected while
/// mapping, and in the label's U-label for checks made on the finished U-label
/// (after NFC, the contextual rules, and every check on a decoded A-label).
public enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing but at most one dot.
    case empty
    /// More than `Domain.maximumInputLength` Unicode scalars.
    case inputTooLong(scalars: Int)
    /// An empty label, e.g. the middle of "a..b" or a leading dot; `index` counts
    /// labels from 0. Also a label made only of ignored code points.
    case emptyLabel(index: Int)
    /// More than 63 octets in ASCII form (RFC 1035 §2.3.4). For a U-label too
    /// long to encode at all, `octets` is a lower bound ("xn--" plus one octet
    /// per code point).
    case labelTooLong(label: String, octets: Int)
    /// More than 253 octets in ASCII form, without the trailing dot.
    case nameTooLong(octets: Int)
    /// The label (or its U-label) starts with "-" (RFC 5891 §4.2.3.1).
    case leadingHyphen(label: String)
    /// The label (or its U-label) ends with "-" (RFC 5891 §4.2.3.1).
    case trailingHyphen(label: String)
    /// "--" in the third and fourth positions of a label that is not an A-label
    /// (RFC 5891 §4.2.3.1, UTS 46 CheckHyphens); such prefixes are reserved.
    case hyphensInThirdAndFourthPositions(label: String)
    /// A character that a hostname label may not contain: ASCII other than
    /// letters, digits and hyphen, or a code point DISALLOWED or UNASSIGNED
    /// under RFC 5892 (controls, spaces, symbols, punctuation, private use, ...).
    case invalidCharacter(label: String, scalar: Unicode.Scalar, offset: Int)
    /// The U-label starts with a combining mark (RFC 5891 §4.2.3.2).
    case leadingCombiningMark(label: String, scalar: Unicode.Scalar)
    /// A CONTEXTJ or CONTEXTO character whose rule in RFC 5892 Appendix A fails,
    /// e.g. a ZERO WIDTH JOINER not after a virama.
    case contextRule(label: String, scalar: Unicode.Scalar, offset: Int)
    /// The name has a right-to-left label, and this label breaks the numbered
    /// rule (1–6) of RFC 5893 §2.
    case bidiRule(label: String, rule: Int)
    /// A label starting with "xn--" whose remainder is not valid Punycode.
    case invalidPunycode(label: String, error: PunycodeError)
    /// An "xn--" label that decodes to nothing or to ASCII only, which the
    /// encoding never produces (UTS 46 §4 step 4).
    case asciiOnlyALabel(label: String)
    /// An "xn--" label whose decoding is not a U-label in canonical form (not
    /// NFC, not lowercase, or otherwise changed by mapping), or whose re-encoding
    /// differs (RFC 5891 §5.3).
    case nonCanonicalALabel(label: String)

    public var description: String {
        switch self {
        case .empty:
            return "empty domain name"
        case .inputTooLong(let scalars):
            return "domain name input too long: \(scalars) characters (limit \(Domain.maximumInputLength))"
        case .emptyLabel(let index):
            return "empty label at index \(index) in domain name"
        case .labelTooLong(let label, let octets):
            return "label \"\(label)\" is \(octets) octets in ASCII form, more than \(Domain.maximumLabelLength)"
        case .nameTooLong(let octets):
            return "domain name is \(octets) octets in ASCII form, more than \(Domain.maximumNameLength)"
        case .leadingHyphen(let label):
            return "label \"\(label)\" starts with a hyphen"
        case .trailingHyphen(let label):
            return "label \"\(label)\" ends with a hyphen"
        case .hyphensInThirdAndFourthPositions(let label):
            return "label \"\(label)\" has hyphens in the third and fourth positions but is not an A-label"
        case .invalidCharacter(let label, let scalar, let offset):
            return "label \"\(label)\": character \(scalar.uPlusNotation) at offset \(offset) is not allowed in a host name"
        case .leadingCombiningMark(let label, let scalar):
            return "label \"\(label)\" starts with the combining mark \(scalar.uPlusNotation)"
        case .contextRule(let label, let scalar, let offset):
            return "label \"\(label)\": \(scalar.uPlusNotation) at offset \(offset) is not allowed in this context (RFC 5892 Appendix A)"
        case .bidiRule(let label, let rule):
            return "label \"\(label)\" breaks rule \(rule) of RFC 5893 §2 for names with right-to-left labels"
        case .invalidPunycode(let label, let error):
            return "label \"\(label)\": invalid punycode: \(error)"
        case .asciiOnlyALabel(let label):
            return "label \"\(label)\" is an A-label that decodes to ASCII only"
        case .nonCanonicalALabel(let label):
            return "label \"\(label)\" is not a canonical A-label: its decoded form is not a normalized lowercase U-label"
        }
    }
}

/// UTS 46 / IDNA2008 processing of single labels, and the Bidi rule.
enum IDNA {
    /// A label after processing: its ASCII form and its U-label scalars.
    struct Label {
        var ascii: String
        var unicode: [Unicode.Scalar]
    }

    /// The Unicode version the mapping corrections and tables were checked
    /// against (UTS 46 IdnaMappingTable and RFC 5892 derived classes, 17.0).
    static let unicodeVersion = (major: 17, minor: 0)

    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var result = String()
        result.unicodeScalars.append(contentsOf: scalars)
        return result
    }

    /// U+002E FULL STOP, U+3002 IDEOGRAPHIC FULL STOP, U+FF0E FULLWIDTH FULL
    /// STOP, U+FF61 HALFWIDTH IDEOGRAPHIC FULL STOP (RFC 3490 §3.1; UTS 46 maps
    /// the last three to the first).
    static func isLabelSeparator(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2E, 0x3002, 0xFF0E, 0xFF61: return true
        default: return false
        }
    }

    /// Maps, normalizes and validates one label as written.
    static func processLabel(_ written: [Unicode.Scalar], index: Int) throws(DomainError) -> Label {
        let writtenText = string(written)
        guard !written.isEmpty else { throw .emptyLabel(index: index) }

        // UTS 46 §4 step 1: map each code point, rejecting disallowed ones at
        // their position in the label as written.
        var mapped: [Unicode.Scalar] = []
        mapped.reserveCapacity(written.count)
        for (offset, scalar) in written.enumerated() {
            guard let replacement = map(scalar) else {
                throw .invalidCharacter(label: writtenText, scalar: scalar, offset: offset)
            }
            // Old Hangul jamo may still compose into syllables under NFC, so they
            // are judged only after normalization.
            for result in replacement where !isPermitted(result, allowingConjoiningJamo: true) {
                throw .invalidCharacter(label: writtenText, scalar: scalar, offset: offset)
            }
            mapped.append(contentsOf: replacement)
        }
        guard !mapped.isEmpty else { throw .emptyLabel(index: index) }

        // UTS 46 §4 step 4: A-labels are decoded and checked as U-labels.
        if hasACEPrefix(mapped) {
            return try processALabel(mapped, written: writtenText)
        }

        if mapped.allSatisfy(\.isASCII) {
            // An LDH label: mapping has already limited it to a-z, 0-9, "-".
            let ascii = string(mapped)
            guard ascii.utf8.count <= Domain.maximumLabelLength else {
                throw .labelTooLong(label: writtenText, octets: ascii.utf8.count)
            }
            try checkHyphens(mapped, written: writtenText)
            return Label(ascii: ascii, unicode: mapped)
        }

        // UTS 46 §4 step 2: NFC.
        let uLabel = Array(string(mapped).precomposedStringWithCanonicalMapping.unicodeScalars)
        for (offset, scalar) in uLabel.enumerated() where !isPermitted(scalar) {
            throw .invalidCharacter(label: writtenText, scalar: scalar, offset: offset)
        }
        // RFC 5892 §2.2: a code point that mapping would still change is not
        // PVALID; the per-code-point approximation of the table must therefore
        // have reached a fixed point, or the A-label would not round-trip.
        if let offset = firstUnstableOffset(uLabel) {
            throw .invalidCharacter(label: writtenText, scalar: uLabel[offset], offset: offset)
        }
        let ascii = try encodeALabel(uLabel, written: writtenText)
        try checkULabel(uLabel, written: writtenText)
        return Label(ascii: ascii, unicode: uLabel)
    }

    /// Decodes and verifies an A-label (UTS 46 §4 step 4, RFC 5891 §5.3).
    /// `mapped` is ASCII-lowercased already, as RFC 5891 §5.3 asks.
    private static func processALabel(_ mapped: [Unicode.Scalar], written: String) throws(DomainError) -> Label {
        let aLabel = string(mapped)
        // Checked first: it is cheap, and it bounds the decoding work.
        guard aLabel.utf8.count <= Domain.maximumLabelLength else {
            throw .labelTooLong(label: written, octets: aLabel.utf8.count)
        }
        let decoded: String
        do {
            decoded = try Punycode.decode(String(aLabel.dropFirst(4)))
        } catch {
            throw .invalidPunycode(label: written, error: error)
        }
        let uLabel = Array(decoded.unicodeScalars)
        // UTS 46 §4 step 4 (since Unicode 15.1): an empty or all-ASCII result
        // is an error; such strings are never A-label encoded.
        guard !uLabel.allSatisfy(\.isASCII) else {
            throw .asciiOnlyALabel(label: written)
        }
        for (offset, scalar) in uLabel.enumerated() where !isPermitted(scalar) {
            throw .invalidCharacter(label: written, scalar: scalar, offset: offset)
        }
        // UTS 46 §4.1 criteria 1 and 7: the U-label must be NFC and contain
        // only valid (not mapped, not ignored) code points, i.e. be unchanged by
        // mapping and normalization.
        guard firstUnstableOffset(uLabel) == nil,
              string(uLabel).precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(uLabel)
        else {
            throw .nonCanonicalALabel(label: written)
        }
        try checkULabel(uLabel, written: written)
        // RFC 5891 §5.3: the label must be rejected unless re-encoding gives the
        // original; this catches any non-canonical Punycode.
        let reencoded = try encodeALabel(uLabel, written: written)
        guard reencoded == aLabel else {
            throw .nonCanonicalALabel(label: written)
        }
        return Label(ascii: aLabel, unicode: uLabel)
    }

    /// "xn--" + Punycode, with the label length check.
    private static func encodeALabel(_ uLabel: [Unicode.Scalar], written: String) throws(DomainError) -> String {
        // Every code point of a U-label costs at least one octet of Punycode,
        // so a very long U-label is too long without encoding it.
        guard uLabel.count <= Punycode.maximumLength else {
            throw .labelTooLong(label: written, octets: 4 + uLabel.count)
        }
        let encoded: String
        do {
            encoded = try Punycode.encode(string(uLabel))
        } catch {
            throw .invalidPunycode(label: written, error: error)
        }
        let aLabel = "xn--" + encoded
        guard aLabel.utf8.count <= Domain.maximumLabelLength else {
            throw .labelTooLong(label: written, octets: aLabel.utf8.count)
        }
        return aLabel
    }

    private static func hasACEPrefix(_ label: [Unicode.Scalar]) -> Bool {
        label.count >= 4 && label[0] == "x" && label[1] == "n" && label[2] == "-" && label[3] == "-"
    }

    // MARK: Mapping (UTS 46 §4 step 1)

    /// The UTS 46 (non-transitional) mapping of one code point: [] if it is
    /// ignored, nil if it is ASCII other than LDH (UseSTD3ASCIIRules).
    /// Non-ASCII results still have to pass `isPermitted`.
    static func map(_ scalar: Unicode.Scalar) -> [Unicode.Scalar]? {
        switch scalar.value {
        case 0x41...0x5A:  // A-Z
            return [Unicode.Scalar(UInt8(truncatingIfNeeded: scalar.value + 0x20))]
        case 0x61...0x7A, 0x30...0x39, 0x2D:  // a-z, 0-9, "-"
            return [scalar]
        case 0...0x7F:
            return nil
        default:
            break
        }
        if isIgnored(scalar) { return [] }
        if let corrected = mappingCorrection(scalar) { return corrected }

        // NFKC, full lowercase, NFKC: the table is derived from NFKC_Casefold,
        // but keeps the deviation characters (ß, ς) that case folding changes.
        let compatible = String(scalar).precomposedStringWithCompatibilityMapping
        var lowered = String()
        var hasIotaSubscript = false
        for part in compatible.unicodeScalars {
            for lower in part.properties.lowercaseMapping.unicodeScalars {
                var folded = cherokeeFolded(lower)
                // Only U+03C2 itself is the deviation character; anything else
                // that lowercases to it (U+03F2 LUNATE SIGMA SYMBOL, the
                // mathematical final sigmas) folds to σ in the table.
                if folded.value == 0x03C2, scalar.value != 0x03C2 { folded = "\u{03C3}" }
                if folded.value == 0x0345 || (0x1F80...0x1FFF).contains(folded.value) {
                    hasIotaSubscript = true
                }
                lowered.unicodeScalars.append(folded)
            }
        }
        if hasIotaSubscript {
            // Case folding turns the iota subscript (U+0345, also inside the
            // precomposed Greek letters of U+1F80–U+1FFF) into a full ι
            // (U+03B9), and so does the table; lowercasing does not.
            var expanded = String()
            for part in lowered.decomposedStringWithCanonicalMapping.unicodeScalars {
                expanded.unicodeScalars.append(part.value == 0x0345 ? "\u{03B9}" : part)
            }
            lowered = expanded
        }
        var result: [Unicode.Scalar] = []
        for part in lowered.precomposedStringWithCompatibilityMapping.unicodeScalars where !isIgnored(part) {
            result.append(part)
        }
        return result
    }

    /// Table entries that the NFKC + lowercase approximation gets wrong.
    private static func mappingCorrection(_ scalar: Unicode.Scalar) -> [Unicode.Scalar]? {
        switch scalar.value {
        // Case folding (but not lowercasing) maps these Cyrillic variants, from
        // Unicode 9.0, to the ordinary letters.
        case 0x1C80: return ["\u{0432}"]
        case 0x1C81: return ["\u{0434}"]
        case 0x1C82: return ["\u{043E}"]
        case 0x1C83: return ["\u{0441}"]
        case 0x1C84, 0x1C85: return ["\u{0442}"]
        case 0x1C86: return ["\u{044A}"]
        case 0x1C87: return ["\u{0463}"]
        case 0x1C88: return ["\u{A64B}"]
        // Compatibility characters newer than Foundation's normalization data
        // on Linux (Unicode 16.0 OUTLINED LATIN CAPITAL LETTERs and DIGITs, 17.0
        // MODIFIER LETTER CAPITAL S), which NFKC would otherwise leave alone.
        case 0x1CCD6...0x1CCEF:
            return [Unicode.Scalar(UInt8(truncatingIfNeeded: scalar.value - 0x1CCD6 + 0x61))]
        case 0x1CCF0...0x1CCF9:
            return [Unicode.Scalar(UInt8(truncatingIfNeeded: scalar.value - 0x1CCF0 + 0x30))]
        case 0xA7F1: return ["s"]
        default: return nil
        }
    }

    /// Cherokee small letters case-fold to the capitals (Unicode 8.0), and the
    /// UTS 46 table follows case folding, so the capitals are the valid ones.
    private static func cherokeeFolded(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar.value {
        case 0xAB70...0xABBF, 0x13F8...0x13FD:
            let upper = scalar.properties.uppercaseMapping.unicodeScalars
            if upper.count == 1, let first = upper.first { return first }
            return scalar
        default:
            return scalar
        }
    }

    /// UTS 46 17.0 IdnaMappingTable status "ignored": removed by mapping.
    static func isIgnored(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00AD, 0x034F, 0x115F...0x1160, 0x17B4...0x17B5, 0x180B...0x180F, 0x200B,
             0x2060...0x2064, 0x206A...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0,
             0x1BCA0...0x1BCA3, 0x1D173...0x1D17A, 0xE0100...0xE01EF:
            return true
        default:
            return false
        }
    }

    /// The offset of the first code point of a U-label that mapping would
    /// change, or nil if the label is a fixed point.
    private static func firstUnstableOffset(_ uLabel: [Unicode.Scalar]) -> Int? {
        for (offset, scalar) in uLabel.enumerated() {
            guard let mapped = map(scalar), mapped.count == 1, mapped.first == scalar else {
                return offset
            }
        }
        return nil
    }

    // MARK: Repertoire (RFC 5892 §2–§3)

    /// Whether a mapped code point may appear in a label (PVALID, CONTEXTJ or
    /// CONTEXTO in the sense of RFC 5892 §3, for the ASCII part LDH only).
    static func isPermitted(_ scalar: Unicode.Scalar, allowingConjoiningJamo: Bool = false) -> Bool {
        let value = scalar.value
        switch value {
        case 0x61...0x7A, 0x30...0x39, 0x2D:  // RFC 5892 §2.5 LDH
            return true
        case 0...0x7F:  // RFC 5892 §2.11 ASCII7 other than LDH
            return false
        // RFC 5892 §2.6 Exceptions: PVALID.
        case 0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007:
            return true
        // RFC 5892 §2.6 Exceptions: CONTEXTO (rules checked in checkContext).
        case 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB:
            return true
        // RFC 5892 §2.8 JoinControl: CONTEXTJ.
        case 0x200C, 0x200D:
            return true
        // RFC 5892 §2.6 Exceptions: DISALLOWED.
        case 0x0640, 0x07FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B:
            return false
        // RFC 5892 §2.9 OldHangulJamo (Hangul_Syllable_Type L, V, T).
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF:
            return allowingConjoiningJamo
        // RFC 5892 §2.4 IgnorableBlocks: Combining Diacritical Marks for
        // Symbols, Musical Symbols, Ancient Greek Musical Notation.
        case 0x20D0...0x20FF, 0x1D100...0x1D24F:
            return false
        default:
            break
        }
        let properties = scalar.properties
        // RFC 5892 §2.10 Unassigned. Code points newer than the Unicode version
        // this file's tables and mapping corrections were checked against are
        // treated as unassigned too, whatever the standard library knows.
        guard let age = properties.age,
              age <= IDNA.unicodeVersion else { return false }
        // RFC 5892 §2.3 IgnorableProperties.
        if properties.isDefaultIgnorableCodePoint || properties.isWhitespace
            || properties.isNoncharacterCodePoint {
            return false
        }
        // RFC 5892 §2.1 LetterDigits.
        switch properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .otherLetter, .modifierLetter,
             .nonspacingMark, .spacingMark, .decimalNumber:
            return true
        default:
            return false
        }
    }

    // MARK: Label rules

    /// The rules that apply to every U-label (RFC 5891 §5.4, UTS 46 §4.1).
    private static func checkULabel(_ uLabel: [Unicode.Scalar], written: String) throws(DomainError) {
        try checkHyphens(uLabel, written: written)
        // RFC 5891 §4.2.3.2, UTS 46 §4.1 criterion 6.
        if let first = uLabel.first, isMark(first) {
            throw .leadingCombiningMark(label: written, scalar: first)
        }
        try checkContext(uLabel, written: written)
    }

    /// UTS 46 CheckHyphens (§4.1 criteria 2 and 3), RFC 5891 §4.2.3.1.
    private static func checkHyphens(_ label: [Unicode.Scalar], written: String) throws(DomainError) {
        if label.first == "-" { throw .leadingHyphen(label: written) }
        if label.last == "-" { throw .trailingHyphen(label: written) }
        if label.count >= 4, label[2] == "-", label[3] == "-" {
            throw .hyphensInThirdAndFourthPositions(label: written)
        }
    }

    private static func isMark(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: return false
        }
    }

    /// The CONTEXTJ and CONTEXTO rules of RFC 5892 Appendix A.
    private static func checkContext(_ label: [Unicode.Scalar], written: String) throws(DomainError) {
        for (offset, scalar) in label.enumerated() {
            let before = offset > 0 ? label[offset - 1] : nil
            let after = offset + 1 < label.count ? label[offset + 1] : nil
            let satisfied: Bool
            switch scalar.value {
            case 0x200C:
                // A.1 ZERO WIDTH NON-JOINER: after a virama, or between a
                // left/dual-joining and a right/dual-joining character with
                // only transparent ones in between.
                satisfied = isVirama(before) || joinsOnBothSides(label, offset)
            case 0x200D:
                // A.2 ZERO WIDTH JOINER: after a virama.
                satisfied = isVirama(before)
            case 0x00B7:
                // A.3 MIDDLE DOT: between two "l" (Catalan l·l).
                satisfied = before == "l" && after == "l"
            case 0x0375:
                // A.4 GREEK LOWER NUMERAL SIGN (KERAIA): followed by Greek.
                satisfied = after.map { contains(IDNATables.greek, $0) } ?? false
            case 0x05F3, 0x05F4:
                // A.5 HEBREW PUNCTUATION GERESH, A.6 GERSHAYIM: after Hebrew.
                satisfied = before.map { contains(IDNATables.hebrew, $0) } ?? false
            case 0x30FB:
                // A.7 KATAKANA MIDDLE DOT: the label has Hiragana, Katakana or Han.
                satisfied = label.contains {
                    contains(IDNATables.hiragana, $0) || contains(IDNATables.katakana, $0)
                        || contains(IDNATables.han, $0)
                }
            case 0x0660...0x0669:
                // A.8 ARABIC-INDIC DIGITS: not mixed with extended ones.
                satisfied = !label.contains { (0x06F0...0x06F9).contains($0.value) }
            case 0x06F0...0x06F9:
                // A.9 EXTENDED ARABIC-INDIC DIGITS: not mixed with the others.
                satisfied = !label.contains { (0x0660...0x0669).contains($0.value) }
            default:
                satisfied = true
            }
            if !satisfied {
                throw .contextRule(label: written, scalar: scalar, offset: offset)
            }
        }
    }

    /// Canonical_Combining_Class(Before(cp)) .eq. Virama (RFC 5892 A.1, A.2).
    private static func isVirama(_ scalar: Unicode.Scalar?) -> Bool {
        scalar?.properties.canonicalCombiningClass == .virama
    }

    /// The regular expression of RFC 5892 A.1:
    /// (Joining_Type:{L,D})(Joining_Type:T)*\u200C(Joining_Type:T)*(Joining_Type:{R,D})
    private static func joinsOnBothSides(_ label: [Unicode.Scalar], _ offset: Int) -> Bool {
        var leftOK = false
        var index = offset - 1
        while index >= 0 {
            let scalar = label[index]
            if isTransparent(scalar) {
                index -= 1
                continue
            }
            leftOK = contains(IDNATables.joiningLeftOrDual, scalar)
            break
        }
        guard leftOK else { return false }
        index = offset + 1
        while index < label.count {
            let scalar = label[index]
            if isTransparent(scalar) {
                index += 1
                continue
            }
            return contains(IDNATables.joiningRightOrDual, scalar)
        }
        return false
    }

    /// Joining_Type T. ArabicShaping.txt: code points not listed there that
    /// are Mn, Me or Cf are transparent; among permitted code points, the only
    /// listed exceptions are the joiners themselves and U+1E94B (Lm, but T).
    private static func isTransparent(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200C, 0x200D: return false
        case 0x1E94B: return true
        default: break
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return true
        default: return false
        }
    }

    // MARK: Bidi (RFC 5893)

    /// The Bidi_Class values RFC 5893 distinguishes, for permitted code points.
    /// R and AL are treated alike by every rule, so they share one case; CS and
    /// ET cannot occur in a valid label.
    enum BidiClass {
        case leftToRight       // L
        case rightToLeft       // R or AL
        case europeanNumber    // EN
        case arabicNumber      // AN
        case separator         // ES (the hyphen)
        case otherNeutral      // ON
        case boundaryNeutral   // BN (the joiners)
        case nonspacingMark    // NSM
    }

    static func bidiClass(_ scalar: Unicode.Scalar) -> BidiClass {
        let value = scalar.value
        switch value {
        case 0x30...0x39, 0x06F0...0x06F9:
            return .europeanNumber
        case 0x0660...0x0669, 0x10D30...0x10D39, 0x10D40...0x10D49:
            return .arabicNumber
        case 0x2D:
            return .separator
        case 0x200C, 0x200D:
            return .boundaryNeutral
        case 0x00B7, 0x0375, 0x30FB:
            return .otherNeutral
        // Marks whose Bidi_Class is L rather than NSM.
        case 0x0CBF, 0x0CC6, 0x1B3A, 0x1B3C, 0x1B42, 0x11A07, 0x11A08, 0x11C3F:
            return .leftToRight
        default:
            break
        }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark:
            return .nonspacingMark
        default:
            break
        }
        if contains(IDNATables.rightToLeft, scalar) { return .rightToLeft }
        if contains(IDNATables.otherNeutralLetters, scalar) { return .otherNeutral }
        return .leftToRight
    }

    /// RFC 5893 §2, applied to every label when any label is an RTL label
    /// (one with an R, AL or AN character, RFC 5893 §1.4).
    static func checkBidi(labels: [[Unicode.Scalar]], written: [[Unicode.Scalar]]) throws(DomainError) {
        let classes = labels.map { $0.map(bidiClass) }
        let isBidiDomain = classes.contains { label in
            label.contains { $0 == .rightToLeft || $0 == .arabicNumber }
        }
        guard isBidiDomain else { return }
        for (index, label) in classes.enumerated() {
            let name = index < written.count ? string(written[index]) : ""
            if let rule = brokenBidiRule(label) {
                throw .bidiRule(label: name, rule: rule)
            }
        }
    }

    /// The number of the first RFC 5893 §2 rule the label breaks, if any.
    private static func brokenBidiRule(_ label: [BidiClass]) -> Int? {
        guard let first = label.first else { return nil }
        // The last character that is not NSM (rules 3 and 6).
        let last = label.last { $0 != .nonspacingMark }
        switch first {
        case .rightToLeft:
            // Rule 2: no L in an RTL label (the other classes of rule 2 are all
            // that remain).
            if label.contains(.leftToRight) { return 2 }
            // Rule 3: ends with R, AL, EN or AN, then NSMs.
            switch last {
            case .rightToLeft, .europeanNumber, .arabicNumber: break
            default: return 3
            }
            // Rule 4: not both EN and AN.
            if label.contains(.europeanNumber), label.contains(.arabicNumber) { return 4 }
            return nil
        case .leftToRight:
            // Rule 5: no R, AL or AN in an LTR label.
            if label.contains(where: { $0 == .rightToLeft || $0 == .arabicNumber }) { return 5 }
            // Rule 6: ends with L or EN, then NSMs.
            switch last {
            case .leftToRight, .europeanNumber: break
            default: return 6
            }
            return nil
        default:
            // Rule 1: the first character is L, R or AL.
            return 1
        }
    }

    // MARK: Tables

    /// Binary search in sorted, disjoint ranges.
    static func contains(_ table: [ClosedRange<UInt32>], _ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        var low = 0
        var high = table.count
        while low < high {
            let middle = low + (high - low) / 2
            let range = table[middle]
            if value < range.lowerBound {
                high = middle
            } else if value > range.upperBound {
                low = middle + 1
            } else {
                return true
            }
        }
        return false
    }
}

/// Unicode data that Swift's Unicode.Scalar.Properties lacks, as sorted
/// ranges. Generated from the Unicode Character Database: Bidi_Class from
/// Unicode 18.0 (DerivedBidiClass.txt), Joining_Type from ArabicShaping.txt and
/// Script from Scripts.txt of Unicode 17.0. The Bidi and Joining_Type tables
/// only need to be right for code points that `isPermitted` accepts after
/// mapping, so ranges were merged across code points that never reach them.
enum IDNATables {
    /// Bidi_Class R or AL (RFC 5893 treats them alike).
    static let rightToLeft: [ClosedRange<UInt32>] = [
        0x05D0...0x05EA, 0x05EF...0x05F4, 0x0620...0x06FF, 0x0710...0x072F, 0x074D...0x07B1,
        0x07C0...0x07FA, 0x0800...0x0828, 0x0840...0x0858, 0x0860...0x086A, 0x0870...0x088F,
        0x08A0...0x08C9, 0xFE73...0xFE73, 0x10800...0x10805, 0x10808...0x10808, 0x1080A...0x10835,
        0x10837...0x10838, 0x1083C...0x1083C, 0x1083F...0x10855, 0x10860...0x1089E,
        0x108E0...0x108F2, 0x108F4...0x108F5, 0x10900...0x10915, 0x10920...0x10939,
        0x10940...0x10959, 0x10980...0x109B7, 0x109BE...0x109BF, 0x10A00...0x10A00,
        0x10A10...0x10A13, 0x10A15...0x10A17, 0x10A19...0x10A35, 0x10A60...0x10A9C,
        0x10AC0...0x10AE4, 0x10B00...0x10B35, 0x10B40...0x10B55, 0x10B60...0x10B72,
        0x10B80...0x10B91, 0x10C00...0x10C48, 0x10CC0...0x10CF2, 0x10D00...0x10D23,
        0x10D4A...0x10D65, 0x10D6F...0x10D85, 0x10E80...0x10EA9, 0x10EB0...0x10EB1,
        0x10EC2...0x10EC7, 0x10ED9...0x10EEE, 0x10F00...0x10F27, 0x10F30...0x10F45,
        0x10F70...0x10F81, 0x10FB0...0x10FC4, 0x10FE0...0x10FF6, 0x1E800...0x1E8C4,
        0x1E922...0x1E94B, 0x1E950...0x1E959,
    ]

    /// Letters whose Bidi_Class is ON (modifier letters and the like).
    static let otherNeutralLetters: [ClosedRange<UInt32>] = [
        0x02B9...0x02BA, 0x02C6...0x02CF, 0x02EC...0x02EC, 0x208F...0x208F, 0x2E2F...0x2E2F,
        0xA67F...0xA67F, 0xA717...0xA71F, 0xA788...0xA788,
    ]

    /// Joining_Type L or D (RFC 5892 A.1, before ZWNJ).
    static let joiningLeftOrDual: [ClosedRange<UInt32>] = [
        0x0620...0x0620, 0x0626...0x0626, 0x0628...0x0628, 0x062A...0x062E, 0x0633...0x063F,
        0x0641...0x0647, 0x0649...0x064A, 0x066E...0x066F, 0x0679...0x0687, 0x069A...0x06BF,
        0x06C1...0x06C2, 0x06CC...0x06CC, 0x06CE...0x06CE, 0x06D0...0x06D1, 0x06FA...0x06FC,
        0x06FF...0x06FF, 0x0712...0x0714, 0x071A...0x071D, 0x071F...0x0727, 0x0729...0x0729,
        0x072B...0x072B, 0x072D...0x072E, 0x074E...0x0758, 0x075C...0x076A, 0x076D...0x0770,
        0x0772...0x0772, 0x0775...0x0777, 0x077A...0x077F, 0x07CA...0x07EA, 0x0841...0x0845,
        0x0848...0x0848, 0x084A...0x0853, 0x0855...0x0855, 0x0860...0x0860, 0x0862...0x0865,
        0x0868...0x0868, 0x0886...0x0886, 0x0889...0x088D, 0x088F...0x088F, 0x08A0...0x08A9,
        0x08AF...0x08B0, 0x08B3...0x08B8, 0x08BA...0x08C8, 0x1807...0x1807, 0x1820...0x1878,
        0x1887...0x18AA, 0xA840...0xA872, 0x10AC0...0x10AC4, 0x10ACD...0x10ACD, 0x10AD3...0x10ADC,
        0x10ADE...0x10AE0, 0x10AEB...0x10AEE, 0x10B80...0x10B80, 0x10B82...0x10B82,
        0x10B86...0x10B88, 0x10B8A...0x10B8B, 0x10B8D...0x10B8D, 0x10B90...0x10B90,
        0x10BAD...0x10BAE, 0x10D00...0x10D21, 0x10D23...0x10D23, 0x10EC3...0x10EC4,
        0x10EC6...0x10EC7, 0x10F30...0x10F32, 0x10F34...0x10F44, 0x10F51...0x10F53,
        0x10F70...0x10F73, 0x10F76...0x10F81, 0x10FB0...0x10FB0, 0x10FB2...0x10FB3,
        0x10FB8...0x10FB8, 0x10FBB...0x10FBC, 0x10FBE...0x10FBF, 0x10FC1...0x10FC1,
        0x10FC4...0x10FCB, 0x1E922...0x1E943,
    ]

    /// Joining_Type R or D (RFC 5892 A.1, after ZWNJ).
    static let joiningRightOrDual: [ClosedRange<UInt32>] = [
        0x0620...0x0620, 0x0622...0x063F, 0x0641...0x064A, 0x066E...0x0673, 0x0679...0x06D5,
        0x06EE...0x06EF, 0x06FA...0x06FC, 0x06FF...0x06FF, 0x0710...0x072F, 0x074D...0x077F,
        0x07CA...0x07EA, 0x0840...0x0858, 0x0860...0x0860, 0x0862...0x0865, 0x0867...0x086A,
        0x0870...0x0882, 0x0886...0x0886, 0x0889...0x088F, 0x08A0...0x08AC, 0x08AE...0x08C8,
        0x1807...0x1807, 0x1820...0x1878, 0x1887...0x18AA, 0xA840...0xA871, 0x10AC0...0x10AC5,
        0x10AC7...0x10ACA, 0x10ACE...0x10AD6, 0x10AD8...0x10AE1, 0x10AE4...0x10AE4,
        0x10AEB...0x10AEF, 0x10B80...0x10B91, 0x10BA9...0x10BAE, 0x10D01...0x10D23,
        0x10EC2...0x10EC4, 0x10EC6...0x10EC7, 0x10F30...0x10F44, 0x10F51...0x10F54,
        0x10F70...0x10F81, 0x10FB0...0x10FB0, 0x10FB2...0x10FB6, 0x10FB8...0x10FBF,
        0x10FC1...0x10FCA, 0x1E922...0x1E943,
    ]

    /// Script=Greek (RFC 5892 A.4).
    static let greek: [ClosedRange<UInt32>] = [
        0x0370...0x0373, 0x0375...0x0377, 0x037A...0x037D, 0x037F...0x037F, 0x0384...0x0384,
        0x0386...0x0386, 0x0388...0x038A, 0x038C...0x038C, 0x038E...0x03A1, 0x03A3...0x03E1,
        0x03F0...0x03FF, 0x1D26...0x1D2A, 0x1D5D...0x1D61, 0x1D66...0x1D6A, 0x1DBF...0x1DBF,
        0x1F00...0x1F15, 0x1F18...0x1F1D, 0x1F20...0x1F45, 0x1F48...0x1F4D, 0x1F50...0x1F57,
        0x1F59...0x1F59, 0x1F5B...0x1F5B, 0x1F5D...0x1F5D, 0x1F5F...0x1F7D, 0x1F80...0x1FB4,
        0x1FB6...0x1FC4, 0x1FC6...0x1FD3, 0x1FD6...0x1FDB, 0x1FDD...0x1FEF, 0x1FF2...0x1FF4,
        0x1FF6...0x1FFE, 0x2126...0x2126, 0xAB65...0xAB65, 0x10140...0x1018E, 0x101A0...0x101A0,
        0x1D200...0x1D245,
    ]

    /// Script=Han (RFC 5892 A.7).
    static let han: [ClosedRange<UInt32>] = [
        0x2E80...0x2E99, 0x2E9B...0x2EF3, 0x2F00...0x2FD5, 0x3005...0x3005, 0x3007...0x3007,
        0x3021...0x3029, 0x3038...0x303B, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFA6D,
        0xFA70...0xFAD9, 0x16FE2...0x16FE3, 0x16FF0...0x16FF6, 0x20000...0x2A6DF, 0x2A700...0x2B81D,
        0x2B820...0x2CEAD, 0x2CEB0...0x2EBE0, 0x2EBF0...0x2EE5D, 0x2F800...0x2FA1D,
        0x30000...0x3134A, 0x31350...0x33479,
    ]

    /// Script=Hebrew (RFC 5892 A.5, A.6).
    static let hebrew: [ClosedRange<UInt32>] = [
        0x0591...0x05C7, 0x05D0...0x05EA, 0x05EF...0x05F4, 0xFB1D...0xFB36, 0xFB38...0xFB3C,
        0xFB3E...0xFB3E, 0xFB40...0xFB41, 0xFB43...0xFB44, 0xFB46...0xFB4F,
    ]

    /// Script=Hiragana (RFC 5892 A.7).
    static let hiragana: [ClosedRange<UInt32>] = [
        0x3041...0x3096, 0x309D...0x309F, 0x1B001...0x1B11F, 0x1B132...0x1B132, 0x1B150...0x1B152,
        0x1F200...0x1F200,
    ]

    /// Script=Katakana (RFC 5892 A.7).
    static let katakana: [ClosedRange<UInt32>] = [
        0x30A1...0x30FA, 0x30FD...0x30FF, 0x31F0...0x31FF, 0x32D0...0x32FE, 0x3300...0x3357,
        0xFF66...0xFF6F, 0xFF71...0xFF9D, 0x1AFF0...0x1AFF3, 0x1AFF5...0x1AFFB, 0x1AFFD...0x1AFFE,
        0x1B000...0x1B000, 0x1B120...0x1B122, 0x1B155...0x1B155, 0x1B164...0x1B167,
    ]
}
