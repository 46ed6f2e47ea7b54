// Punycode (RFC 3492): the Bootstring parameters that IDNA uses to carry a label
// of Unicode code points in the LDH subset of ASCII.
//
// This file implements the algorithm exactly as RFC 3492 §6 describes it, with
// the overflow checks of §6.4 done on 32-bit unsigned integers (the integer size
// of the RFC's reference implementation, Appendix C). The "xn--" ACE prefix is not
// part of Punycode; `Domain` adds and strips it.
//
// Not implemented: the optional mixed-case annotation of RFC 3492 Appendix A.
// The encoder emits lowercase digits; the decoder reads digits case-insensitively
// (§5) and ignores the case of a digit (the annotation), while keeping basic code
// points exactly as they appear.
//
// Every input, however malformed, yields a result or a `PunycodeError`; nothing
// here traps.

/// Why a string could not be encoded to, or decoded from, Punycode.
///
/// Positions (`at`) count Unicode scalars from 0 in the input of the failing
/// call. They point at the offending character; for a problem with a decoded
/// number, at that number's last digit; for truncated input, at its end; for an
/// encoder overflow, at the code point being encoded.
public enum PunycodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input has more Unicode scalars than `Punycode.maximumLength`.
    case inputTooLong(length: Int)
    /// A code point before the last delimiter is not a basic (ASCII) code point
    /// (RFC 3492 §6.2: "fail on any non-basic code point").
    case nonBasicCodePoint(Unicode.Scalar, at: Int)
    /// A character after the last delimiter is not a base-36 digit
    /// (a–z, A–Z, 0–9; RFC 3492 §5).
    case invalidDigit(Unicode.Scalar, at: Int)
    /// The input ends inside a generalized variable-length integer
    /// (RFC 3492 §6.2: "if no more code points are left then fail").
    case truncated(at: Int)
    /// An intermediate value exceeds 2^32 − 1 (RFC 3492 §6.4).
    case overflow(at: Int)
    /// A decoded value is a surrogate or lies beyond U+10FFFF, so it is not a
    /// Unicode scalar value and cannot be part of a string.
    case invalidCodePoint(UInt32, at: Int)

    public var description: String {
        switch self {
        case .inputTooLong(let length):
            return "punycode input too long: \(length) scalars (limit \(Punycode.maximumLength))"
        case .nonBasicCodePoint(let scalar, let at):
            return "non-basic code point \(scalar.uPlusNotation) in the basic part at offset \(at)"
        case .invalidDigit(let scalar, let at):
            return "invalid punycode digit \(scalar.uPlusNotation) at offset \(at)"
        case .truncated(let at):
            return "punycode input ends inside a number at offset \(at)"
        case .overflow(let at):
            return "punycode arithmetic overflow at offset \(at)"
        case .invalidCodePoint(let value, let at):
            return "punycode decodes to \(value.uPlusNotation), which is not a Unicode scalar value, at offset \(at)"
        }
    }
}

/// RFC 3492 Punycode with the parameters IDNA uses (RFC 3492 §5).
public enum Punycode {
    /// The longest input, in Unicode scalars, that `encode` and `decode` accept.
    ///
    /// RFC 3492 itself sets no limit, but both directions cost time quadratic in
    /// the length (the insertion loop of §6.2, the scan for the next code point of
    /// §6.3). A DNS label is at most 63 octets (RFC 1035 §2.3.4), so this bound is
    /// far above anything IDNA produces while keeping hostile input cheap.
    public static let maximumLength = 1024

    // RFC 3492 §5 "Parameter values for Punycode".
    private static let base: UInt32 = 36
    private static let tMin: UInt32 = 1
    private static let tMax: UInt32 = 26
    private static let skew: UInt32 = 38
    private static let damp: UInt32 = 700
    private static let initialBias: UInt32 = 72
    private static let initialN: UInt32 = 0x80
    private static let delimiter: Unicode.Scalar = "-"
    /// The largest value the arithmetic may hold (RFC 3492 §6.4 "maxint").
    private static let maxInt: UInt32 = .max

    /// Encodes one label's Unicode scalars as Punycode, without the "xn--" prefix
    /// (RFC 3492 §6.3).
    ///
    /// Basic code points are copied unchanged, including their case; the digits
    /// that follow are lowercase. An input of only basic code points comes back
    /// with a trailing delimiter ("abc" → "abc-"), as §6.3 prescribes.
    public static func encode(_ unicode: String) throws(PunycodeError) -> String {
        let input = Array(unicode.unicodeScalars)
        guard input.count <= maximumLength else { throw .inputTooLong(length: input.count) }

        var output: [Unicode.Scalar] = []
        output.reserveCapacity(input.count + 8)
        // §6.3: copy the basic code points, in order, to the output.
        for scalar in input where scalar.isASCII {
            output.append(scalar)
        }
        let basicCount = UInt32(output.count)
        if basicCount > 0 {
            output.append(delimiter)
        }

        var n = initialN
        var delta: UInt32 = 0
        var bias = initialBias
        var handled = basicCount  // h in the RFC
        let total = UInt32(input.count)

        while handled < total {
            // The smallest code point not yet handled, m in the RFC. One exists
            // because handled < total and every code point < n has been handled.
            var m = UInt32.max
            for scalar in input where scalar.value >= n && scalar.value < m {
                m = scalar.value
            }
            let mPosition = input.firstIndex { $0.value == m } ?? 0
            // §6.4: "if m - n > (maxint - delta) / (h + 1) then fail".
            guard (m - n) <= (maxInt - delta) / (handled + 1) else {
                throw .overflow(at: mPosition)
            }
            delta += (m - n) * (handled + 1)
            n = m

            for (position, scalar) in input.enumerated() {
                let c = scalar.value
                if c < n {
                    guard delta < maxInt else { throw .overflow(at: position) }
                    delta += 1
                }
                if c == n {
                    // Emit delta as a generalized variable-length integer (§3.3).
                    var q = delta
                    var k = base
                    while true {
                        let t = threshold(k: k, bias: bias)
                        if q < t { break }
                        output.append(digitScalar(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        // k grows by 36 per digit; a 32-bit q needs at most 7
                        // digits, so this never approaches overflow.
                        k += base
                    }
                    output.append(digitScalar(q))
                    bias = adapt(delta: delta, numPoints: handled + 1, firstTime: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            guard delta < maxInt, n < maxInt else { throw .overflow(at: mPosition) }
            delta += 1
            n += 1
        }

        var result = String()
        result.unicodeScalars.append(contentsOf: output)
        return result
    }

    /// Decodes Punycode (without the "xn--" prefix) to Unicode (RFC 3492 §6.2).
    ///
    /// Digits are read case-insensitively; basic code points keep their case.
    public static func decode(_ ascii: String) throws(PunycodeError) -> String {
        let input = Array(ascii.unicodeScalars)
        guard input.count <= maximumLength else { throw .inputTooLong(length: input.count) }

        // §6.2: "Let b = the number of input code points before the last
        // delimiter, or 0 if there is none, then copy the first b code points to
        // the output."
        let lastDelimiter = input.lastIndex(of: delimiter)
        let basicCount = lastDelimiter ?? 0
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(input.count)
        for position in 0..<basicCount {
            let scalar = input[position]
            guard scalar.isASCII else { throw .nonBasicCodePoint(scalar, at: position) }
            output.append(scalar)
        }

        var n = initialN
        var i: UInt32 = 0
        var bias = initialBias
        // Decoding resumes after the last delimiter if there is one (§6.2);
        // with none, the whole input is digits. A delimiter at position 0 counts
        // as "none" in the reference code (Appendix C) and so is read as a digit
        // and rejected, as the encoder never produces it.
        var position = basicCount > 0 ? basicCount + 1 : 0

        while position < input.count {
            let oldI = i
            var w: UInt32 = 1
            var k = base
            // Read one generalized variable-length integer (§3.3); `position`
            // stays on its current digit until the next one is needed.
            while true {
                guard position < input.count else { throw .truncated(at: position) }
                let scalar = input[position]
                guard let digit = digitValue(scalar) else { throw .invalidDigit(scalar, at: position) }
                // §6.4: "if digit > (maxint - i) / w then fail".
                guard digit <= (maxInt - i) / w else { throw .overflow(at: position) }
                i += digit * w
                let t = threshold(k: k, bias: bias)
                if digit < t { break }
                // §6.4: "if w > maxint / (base - t) then fail".
                guard w <= maxInt / (base - t) else { throw .overflow(at: position) }
                w *= base - t
                // k only feeds threshold(), which clamps it; w overflows long
                // before k could, but keep the arithmetic checked regardless.
                let (nextK, kOverflow) = k.addingReportingOverflow(base)
                guard !kOverflow else { throw .overflow(at: position) }
                k = nextK
                position += 1
            }
            let lastDigit = position
            position += 1
            let length = UInt32(output.count) + 1
            bias = adapt(delta: i - oldI, numPoints: length, firstTime: oldI == 0)
            // §6.4: "if i div (length(output) + 1) > maxint - n then fail".
            guard i / length <= maxInt - n else { throw .overflow(at: lastDigit) }
            n += i / length
            i %= length
            // n only grows from 0x80, so it is never a basic code point; it may
            // still fall outside the Unicode scalar values.
            guard let scalar = Unicode.Scalar(n) else {
                throw .invalidCodePoint(n, at: lastDigit)
            }
            output.insert(scalar, at: Int(i))
            i += 1
        }

        var result = String()
        result.unicodeScalars.append(contentsOf: output)
        return result
    }

    /// The threshold t for digit position k (RFC 3492 §6.2/§6.3: "t = tmin if
    /// k <= bias, tmax if k >= bias + tmax, k - bias otherwise").
    private static func threshold(k: UInt32, bias: UInt32) -> UInt32 {
        if k <= bias { return tMin }
        if k >= bias + tMax { return tMax }
        return k - bias
    }

    /// Bias adaptation (RFC 3492 §6.1). The values stay far below 2^32 because
    /// delta is divided before it is scaled.
    private static func adapt(delta: UInt32, numPoints: UInt32, firstTime: Bool) -> UInt32 {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k: UInt32 = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (((base - tMin + 1) * delta) / (delta + skew))
    }

    /// The basic code point for a digit value 0–35: a–z then 0–9 (RFC 3492 §5).
    /// Lowercase, as IDNA wants A-labels in lowercase (RFC 5891 §5.3).
    private static func digitScalar(_ digit: UInt32) -> Unicode.Scalar {
        // 0...25 → "a"..."z" (0x61...), 26...35 → "0"..."9" (0x30...).
        let value = digit < 26 ? 0x61 + digit : 0x30 + (digit - 26)
        return Unicode.Scalar(UInt8(truncatingIfNeeded: value))
    }

    /// The value of a base-36 digit, either case, or nil (RFC 3492 §5).
    private static func digitValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar.value {
        case 0x30...0x39: return scalar.value - 0x30 + 26  // "0"..."9"
        case 0x41...0x5A: return scalar.value - 0x41       // "A"..."Z"
        case 0x61...0x7A: return scalar.value - 0x61       // "a"..."z"
        default: return nil
        }
    }
}

extension Unicode.Scalar {
    /// "U+0041" style notation for error messages.
    var uPlusNotation: String { value.uPlusNotation }
}

extension UInt32 {
    /// "U+0041" style notation, at least four hex digits.
    var uPlusNotation: String {
        let hex = String(self, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
    }
}
