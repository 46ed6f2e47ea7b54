import Testing
@testable import SASL

/// The OpaqueString profile (RFC 8265 §4.2).
@Suite struct SASLprepTests {
    static func prepared(_ input: String) -> Result<String, SASLprepError> {
        do throws(SASLprepError) {
            return .success(try SASLprep.opaqueString(input))
        } catch {
            return .failure(error)
        }
    }

    static func disallowed(_ input: String) -> SASLprepError.DisallowedReason? {
        if case let .failure(.disallowed(_, reason)) = prepared(input) { return reason }
        return nil
    }

    /// RFC 4013 §3 examples. Where OpaqueString differs from RFC 4013's SASLprep (it has
    /// NFC instead of NFKC, no "mapped to nothing" table and no bidi rule), the
    /// OpaqueString result is expected and the RFC 4013 one noted.
    @Test func rfc4013Examples() {
        // 1. I<U+00AD>X: RFC 4013 maps SOFT HYPHEN to nothing ("IX"); in the
        //    FreeformClass it is default-ignorable, so disallowed.
        #expect(Self.prepared("I\u{AD}X") == .failure(.disallowed(codePoint: 0xAD, reason: .ignorable)))
        // 2. user -> user.
        #expect(Self.prepared("user") == .success("user"))
        // 3. USER -> USER: case preserved, does not match #2.
        #expect(Self.prepared("USER") == .success("USER"))
        // 4. <U+00AA> -> "a" under NFKC; NFC keeps FEMININE ORDINAL INDICATOR.
        #expect(Self.prepared("\u{AA}") == .success("\u{AA}"))
        // 5. <U+2168> -> "IX" under NFKC; NFC keeps ROMAN NUMERAL NINE.
        #expect(Self.prepared("\u{2168}") == .success("\u{2168}"))
        // 6. <U+0007>: prohibited in both.
        #expect(Self.prepared("\u{7}") == .failure(.disallowed(codePoint: 7, reason: .control)))
        // 7. <U+0627><U+0031>: RFC 4013's bidi check fails; OpaqueString has no
        //    directionality rule (RFC 8265 §4.2.2 item 5).
        #expect(Self.prepared("\u{627}1") == .success("\u{627}1"))
    }

    @Test func mappingAndNormalization() {
        #expect(Self.prepared("a\u{A0}b") == .success("a b"))  // NO-BREAK SPACE
        #expect(Self.prepared("a\u{3000}b") == .success("a b"))  // IDEOGRAPHIC SPACE
        #expect(Self.prepared("a\u{2009}b") == .success("a b"))  // THIN SPACE
        #expect(Self.prepared("e\u{301}") == .success("\u{E9}"))  // NFC
        #expect(Self.prepared("\u{212B}") == .success("\u{C5}"))  // ANGSTROM SIGN, canonical singleton
        #expect(Self.prepared("\u{FF55}\u{FF53}") == .success("\u{FF55}\u{FF53}"))  // fullwidth: no width mapping
        #expect(Self.prepared("\u{1100}\u{1161}") == .success("\u{AC00}"))  // jamo compose under NFC
        #expect(Self.prepared(" ") == .success(" "))
        #expect(Self.prepared("correct horse battery staple") == .success("correct horse battery staple"))
        #expect(Self.prepared("p\u{E4}ssw\u{F6}rd\u{1F511}\u{DF}") == .success("p\u{E4}ssw\u{F6}rd\u{1F511}\u{DF}"))
    }

    @Test func empty() {
        #expect(Self.prepared("") == .failure(.empty))
    }

    @Test func disallowedCodePoints() {
        #expect(Self.disallowed("a\tb") == .control)
        #expect(Self.disallowed("a\u{7F}") == .control)
        #expect(Self.disallowed("a\u{85}") == .control)
        #expect(Self.disallowed("a\u{200B}") == .ignorable)  // ZERO WIDTH SPACE
        #expect(Self.disallowed("a\u{FEFF}") == .ignorable)  // BOM
        // Noncharacters (Swift string literals refuse them, so they are built here).
        #expect(Self.disallowed("a" + String(Unicode.Scalar(UInt32(0xFDD0)) ?? "x")) == .ignorable)
        #expect(Self.disallowed("a" + String(Unicode.Scalar(UInt32(0x10FFFF)) ?? "x")) == .ignorable)
        #expect(Self.disallowed("a\u{378}") == .unassigned)
        #expect(Self.disallowed("a\u{E000}") == .notInFreeformClass)  // private use
        #expect(Self.disallowed("a\u{2028}") == .notInFreeformClass)  // LINE SEPARATOR
        #expect(Self.disallowed("a\u{600}") == .notInFreeformClass)  // ARABIC NUMBER SIGN, Cf
        #expect(Self.disallowed("\u{1100}") == .oldHangulJamo)
        #expect(Self.disallowed("a\u{640}") == .exception)  // ARABIC TATWEEL
        #expect(Self.disallowed("\u{3031}") == .exception)
    }

    @Test func contextualRules() {
        // CONTEXTJ: ZWJ after a virama (Devanagari KA VIRAMA ZWJ SSA) is fine.
        #expect(Self.prepared("\u{915}\u{94D}\u{200D}\u{937}") == .success("\u{915}\u{94D}\u{200D}\u{937}"))
        #expect(Self.disallowed("a\u{200D}b") == .contextRule)
        #expect(Self.disallowed("\u{200C}") == .contextRule)
        // CONTEXTO.
        #expect(Self.prepared("l\u{B7}l") == .success("l\u{B7}l"))
        #expect(Self.disallowed("a\u{B7}b") == .contextRule)
        #expect(Self.prepared("\u{375}\u{3B1}") == .success("\u{375}\u{3B1}"))
        #expect(Self.disallowed("\u{375}a") == .contextRule)
        #expect(Self.prepared("\u{5D0}\u{5F3}") == .success("\u{5D0}\u{5F3}"))
        #expect(Self.disallowed("a\u{5F4}") == .contextRule)
        #expect(Self.prepared("\u{30AB}\u{30FB}\u{30CA}") == .success("\u{30AB}\u{30FB}\u{30CA}"))
        #expect(Self.prepared("\u{6F22}\u{30FB}") == .success("\u{6F22}\u{30FB}"))
        #expect(Self.disallowed("a\u{30FB}b") == .contextRule)
        #expect(Self.prepared("\u{661}\u{662}") == .success("\u{661}\u{662}"))
        #expect(Self.disallowed("\u{661}\u{6F2}") == .contextRule)
        // Exceptions that are PVALID.
        #expect(Self.prepared("\u{DF}\u{3C2}\u{3007}") == .success("\u{DF}\u{3C2}\u{3007}"))
    }

    @Test func errorDescriptions() {
        #expect(SASLprepError.empty.description == "empty string")
        #expect(SASLprepError.disallowed(codePoint: 0x200B, reason: .ignorable).description
            == "disallowed code point U+200B (ignorable)")
    }
}
