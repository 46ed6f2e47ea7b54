import Foundation

// String preparation for usernames and passwords: the PRECIS OpaqueString profile
// (RFC 8265 §4.2) over the FreeformClass (RFC 8264 §4.3), which replaces SASLprep
// (RFC 4013, obsoleted by RFC 7613 and then RFC 8265). SCRAM's Normalize() (RFC 5802 §2.2,
// RFC 7677 §4) and PLAIN (RFC 4616 §2) prepare with it.
//
// Order of operations (RFC 8264 §7, RFC 8265 §4.2.2): no width mapping; non-ASCII
// spaces (general category Zs) to U+0020; no case mapping; NFC; no directionality rule;
// then every code point of the result must be valid in the FreeformClass, and the result
// must not be empty.
//
// The derived properties of RFC 8264 §8 (itself built on RFC 5892) are computed from
// Swift's Unicode properties, so the Unicode version is the standard library's (RFC 8264
// §11.1 lets implementations use their own version). Approximations, each on the side of
// rejecting:
// - CONTEXTJ (RFC 5892 Appendix A.1, A.2): ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER
//   are accepted only after a virama (canonical combining class 9). The second ZWNJ rule,
//   which depends on Arabic joining types, is not implemented (Swift exposes no
//   Joining_Type), so ZWNJ between joining letters is rejected.
// - CONTEXTO (RFC 5892 Appendix A.3 to A.9): scripts are approximated by Unicode blocks
//   (Greek and Coptic, Greek Extended; Hebrew and Hebrew presentation forms; Hiragana,
//   Katakana and ideographs), since Swift exposes no Script property.
// - HasCompat (RFC 8264 §9.17) is tested with Foundation's NFKC, only for code points
//   that no other rule admits.

/// Why a string failed preparation.
public enum SASLprepError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Empty input, or empty after preparation (RFC 8265 §4.2: zero-length passwords
    /// are not allowed; RFC 5802 §5.1 aborts on empty usernames).
    case empty
    /// A code point the FreeformClass does not allow, with the rule that excluded it.
    case disallowed(codePoint: UInt32, reason: DisallowedReason)

    public enum DisallowedReason: String, Sendable, Hashable {
        /// Controls (RFC 8264 §9.12), e.g. U+0007.
        case control
        /// Default-ignorable or noncharacter code points (RFC 8264 §9.13), e.g. SOFT
        /// HYPHEN U+00AD, ZERO WIDTH SPACE U+200B.
        case ignorable
        /// Unassigned in the standard library's Unicode version (RFC 8264 §9.10).
        case unassigned
        /// Conjoining Hangul jamo that did not compose into a syllable (RFC 8264 §9.9).
        case oldHangulJamo
        /// A contextual rule (CONTEXTJ, CONTEXTO) was not satisfied.
        case contextRule
        /// Listed as DISALLOWED in the exceptions of RFC 5892 §2.6.
        case exception
        /// In none of the categories the FreeformClass admits: private use, surrogates,
        /// line and paragraph separators, non-ignorable format characters.
        case notInFreeformClass
    }

    public var description: String {
        switch self {
        case .empty:
            "empty string"
        case let .disallowed(codePoint, reason):
            "disallowed code point U+\(String(codePoint, radix: 16, uppercase: true)) (\(reason.rawValue))"
        }
    }
}

public enum SASLprep {
    /// Enforces the OpaqueString profile (RFC 8265 §4.2.2) and returns the prepared string.
    public static func opaqueString(_ string: String) throws(SASLprepError) -> String {
        // Additional mapping rule: non-ASCII spaces to SPACE (RFC 8265 §4.2.2 item 2).
        var mapped = String.UnicodeScalarView()
        for scalar in string.unicodeScalars {
            if scalar.properties.generalCategory == .spaceSeparator, scalar != " " {
                mapped.append(" ")
            } else {
                mapped.append(scalar)
            }
        }
        // Normalization rule: NFC (item 4).
        let normalized = String(mapped).precomposedStringWithCanonicalMapping
        let scalars = Array(normalized.unicodeScalars)
        guard !scalars.isEmpty else { throw .empty }
        for index in scalars.indices {
            if let reason = disallowedReason(scalars, at: index) {
                throw .disallowed(codePoint: scalars[index].value, reason: reason)
            }
        }
        return normalized
    }

    /// The FreeformClass verdict for one code point in its string, following the
    /// algorithm of RFC 8264 §8 in its order: nil when the code point is PVALID or
    /// FREE_PVAL, or CONTEXTJ/CONTEXTO with its rule satisfied.
    static func disallowedReason(_ scalars: [Unicode.Scalar], at index: Int) -> SASLprepError.DisallowedReason? {
        let scalar = scalars[index]
        let value = scalar.value
        let properties = scalar.properties

        // Exceptions (RFC 8264 §9.6, RFC 5892 §2.6).
        switch value {
        case 0x00DF, 0x03C2, 0x06FD, 0x06FE, 0x0F0B, 0x3007:
            return nil
        case 0x0640, 0x07FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B:
            return .exception
        case 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB, 0x0660...0x0669, 0x06F0...0x06F9:
            return contextOSatisfied(scalars, at: index) ? nil : .contextRule
        default:
            break
        }
        // BackwardCompatible (§9.7) is empty. Unassigned (§9.10): general category Cn
        // that is not a noncharacter.
        if properties.generalCategory == .unassigned, !properties.isNoncharacterCodePoint {
            return .unassigned
        }
        // ASCII7 (§9.11): printable ASCII is PVALID.
        if (0x21...0x7E).contains(value) { return nil }
        // JoinControl (§9.8): CONTEXTJ.
        if value == 0x200C || value == 0x200D {
            return index > 0 && scalars[index - 1].properties.canonicalCombiningClass == .virama ? nil : .contextRule
        }
        // OldHangulJamo (§9.9): Hangul_Syllable_Type L, V or T.
        if (0x1100...0x11FF).contains(value) || (0xA960...0xA97F).contains(value)
            || (0xD7B0...0xD7FF).contains(value)
        {
            return .oldHangulJamo
        }
        // PrecisIgnorableProperties (§9.13).
        if properties.isDefaultIgnorableCodePoint || properties.isNoncharacterCodePoint {
            return .ignorable
        }
        // Controls (§9.12).
        if properties.generalCategory == .control { return .control }
        // LetterDigits (§9.1), OtherLetterDigits (§9.18), Spaces (§9.14), Symbols (§9.15),
        // Punctuation (§9.16): all valid in the FreeformClass.
        switch properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .otherLetter, .decimalNumber, .modifierLetter,
            .nonspacingMark, .spacingMark,
            .titlecaseLetter, .letterNumber, .otherNumber, .enclosingMark,
            .spaceSeparator,
            .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol,
            .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return nil
        default:
            break
        }
        // HasCompat (§9.17) is FREE_PVAL whatever the category.
        let single = String(scalar)
        if single.precomposedStringWithCompatibilityMapping != single { return nil }
        return .notInFreeformClass
    }

    /// The CONTEXTO rules of RFC 5892 Appendix A.3 to A.9.
    private static func contextOSatisfied(_ scalars: [Unicode.Scalar], at index: Int) -> Bool {
        let value = scalars[index].value
        let before = index > 0 ? scalars[index - 1].value : nil
        let after = index + 1 < scalars.count ? scalars[index + 1].value : nil
        switch value {
        case 0x00B7:
            // A.3 MIDDLE DOT: between two "l" (Catalan l·l).
            return before == 0x006C && after == 0x006C
        case 0x0375:
            // A.4 GREEK LOWER NUMERAL SIGN: followed by Greek.
            return after.map(isGreek) ?? false
        case 0x05F3, 0x05F4:
            // A.5, A.6 HEBREW GERESH and GERSHAYIM: preceded by Hebrew.
            return before.map(isHebrew) ?? false
        case 0x30FB:
            // A.7 KATAKANA MIDDLE DOT: some Hiragana, Katakana or Han in the string.
            return scalars.contains { $0.value != 0x30FB && isKanaOrHan($0) }
        case 0x0660...0x0669:
            // A.8 ARABIC-INDIC DIGITS: not mixed with extended Arabic-Indic digits.
            return !scalars.contains { (0x06F0...0x06F9).contains($0.value) }
        case 0x06F0...0x06F9:
            // A.9 EXTENDED ARABIC-INDIC DIGITS: not mixed with Arabic-Indic digits.
            return !scalars.contains { (0x0660...0x0669).contains($0.value) }
        default:
            return false
        }
    }

    private static func isGreek(_ value: UInt32) -> Bool {
        (0x0370...0x03FF).contains(value) || (0x1F00...0x1FFF).contains(value)
    }

    private static func isHebrew(_ value: UInt32) -> Bool {
        (0x0590...0x05FF).contains(value) || (0xFB1D...0xFB4F).contains(value)
    }

    private static func isKanaOrHan(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (0x3040...0x309F).contains(value) || (0x30A0...0x30FF).contains(value)
            || (0x31F0...0x31FF).contains(value) || (0xFF66...0xFF9F).contains(value)
            || (0x1B000...0x1B16F).contains(value) || scalar.properties.isIdeographic
    }
}
