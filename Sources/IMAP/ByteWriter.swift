/// How responses are written for one client.
public struct EncodingOptions: Hashable, Sendable {
    /// IMAP4rev2 or ENABLE UTF8=ACCEPT is in effect (RFC 9051, RFC 6855 §3): UTF-8 may go in
    /// quoted strings and text, and mailbox names are sent as UTF-8. Otherwise (IMAP4rev1)
    /// mailbox names are sent in modified UTF-7 (RFC 3501 §5.1.3), other 8-bit strings as
    /// literals, and 8-bit text is replaced by "?".
    public var utf8: Bool
    /// Strings longer than this go as literals even when they could be quoted.
    public var maxQuotedLength: Int

    public init(utf8: Bool, maxQuotedLength: Int = 1024) {
        self.utf8 = utf8
        self.maxQuotedLength = maxQuotedLength
    }

    public static let imap4rev1 = EncodingOptions(utf8: false)
    public static let imap4rev2 = EncodingOptions(utf8: true)
}

/// A growing output buffer with the IMAP token writers. Bytes are appended in runs, never
/// one string concatenation per byte.
struct ByteWriter {
    var bytes: [UInt8]
    var maxQuotedLength = 1024

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) mutating func write(_ byte: UInt8) { bytes.append(byte) }

    @inline(__always) mutating func write(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always) mutating func write(_ text: String) { bytes.append(contentsOf: text.utf8) }

    @inline(__always) mutating func write(bytes other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    @inline(__always) mutating func sp() { bytes.append(0x20) }
    @inline(__always) mutating func crlf() { bytes.append(0x0D); bytes.append(0x0A) }

    /// Decimal digits without an intermediate String.
    mutating func write(number: UInt64) {
        if number < 10 {
            bytes.append(0x30 + UInt8(number))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var n = number
        withUnsafeMutableBytes(of: &digits) { buffer in
            while n > 0 {
                buffer[count] = 0x30 + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[i]) }
        }
    }

    @inline(__always) mutating func write(number: UInt32) { write(number: UInt64(number)) }
    @inline(__always) mutating func write(number: Int) { write(number: UInt64(max(0, number))) }

    // MARK: Strings (RFC 9051 §4.3)

    /// `value` as a quoted string, with `"` and `\` escaped; the caller knows it may be quoted.
    mutating func writeQuoted(_ value: some Collection<UInt8>) {
        appendQuoted(value, escaping: value.contains(where: Self.needsEscape))
    }

    private mutating func appendQuoted(_ value: some Collection<UInt8>, escaping: Bool) {
        bytes.append(UInt8(ascii: "\""))
        if escaping {
            for b in value {
                if Self.needsEscape(b) { bytes.append(UInt8(ascii: "\\")) }
                bytes.append(b)
            }
        } else {
            bytes.append(contentsOf: value)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscape(_ b: UInt8) -> Bool { b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") }

    /// `{n}` CRLF and the octets (never the non-synchronizing form: RFC 7888 §3).
    mutating func writeLiteral(_ value: some Collection<UInt8>) {
        writeLiteralHeader(value.count, binary: false)
        bytes.append(contentsOf: value)
    }

    mutating func writeLiteralHeader(_ count: Int, binary: Bool) {
        if binary { bytes.append(UInt8(ascii: "~")) }
        bytes.append(UInt8(ascii: "{"))
        write(number: count)
        bytes.append(UInt8(ascii: "}"))
        crlf()
    }

    /// `string`: quoted when possible (no CR, LF or NUL, 8-bit only as UTF-8 and only when
    /// allowed, not too long), else a literal. One scan decides, and the common value, with
    /// nothing to escape, is then copied at once.
    mutating func writeString(_ value: some Collection<UInt8>, utf8: Bool) {
        guard value.count <= maxQuotedLength else { return writeLiteral(value) }
        var escapes = false
        var has8bit = false
        for b in value {
            switch b {
            case 0x0D, 0x0A, 0: return writeLiteral(value)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): escapes = true
            case 0x80...: has8bit = true
            default: break
            }
        }
        if has8bit, !utf8 || String(validating: Array(value), as: UTF8.self) == nil { return writeLiteral(value) }
        appendQuoted(value, escaping: escapes)
    }

    mutating func writeString(_ value: String, utf8: Bool) { writeString(value.utf8, utf8: utf8) }

    /// `nstring`: NIL for nil.
    mutating func writeNString(_ value: ByteString?, utf8: Bool) {
        writeNString(value?.bytes, utf8: utf8)
    }

    mutating func writeNString(_ value: [UInt8]?, utf8: Bool) {
        guard let value else { return write("NIL") }
        // Through the array's buffer: the scan and the copy then touch no reference counts,
        // and an ENVELOPE writes some twenty of these per message.
        value.withUnsafeBufferPointer { writeString($0, utf8: utf8) }
    }

    /// `astring`: an atom when all characters allow it (and it is not NIL, which would read
    /// as nil in an nstring position), else a string.
    mutating func writeAString(_ value: some Collection<UInt8>, utf8: Bool) {
        if !value.isEmpty, value.allSatisfy(CharClass.isAStringChar), !CharClass.equalsKeyword(value, "NIL") {
            bytes.append(contentsOf: value)
        } else {
            writeString(value, utf8: utf8)
        }
    }

    /// `text` that ends a response line. The grammar has no literal there, but clients look
    /// for one by the line's last octets (RFC 9051 §4.3: `{n}` then CRLF), so a text that
    /// ends like a literal announcement, say a mailbox name echoed back, would make them wait
    /// for octets that never come: its braces are written as parentheses.
    mutating func writeLineEndingText(_ text: String, utf8: Bool) {
        let start = bytes.count
        writeText(text, utf8: utf8)
        guard bytes.last == UInt8(ascii: "}") else { return }
        var index = bytes.count - 2
        if index > start, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index -= 1 }
        var digits = 0
        while index >= start, CharClass.isDigit(bytes[index]) {
            digits += 1
            index -= 1
        }
        guard digits > 0, index >= start, bytes[index] == UInt8(ascii: "{") else { return }
        bytes[index] = UInt8(ascii: "(")
        bytes[bytes.count - 1] = UInt8(ascii: ")")
    }

    /// `text` of a response (RFC 9051 §9: TEXT-CHAR, UTF-8 only when allowed): CR, LF and
    /// NUL become spaces, 8-bit characters "?" unless UTF-8 is allowed.
    mutating func writeText(_ text: String, utf8: Bool, excluding excluded: UInt8? = nil) {
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0x0D || value == 0x0A || value == 0 {
                bytes.append(0x20)
            } else if value < 0x80 {
                let b = UInt8(value)
                bytes.append(b == excluded ? 0x20 : b)
            } else if utf8 {
                UTF8.encode(scalar) { bytes.append($0) }
            } else {
                bytes.append(UInt8(ascii: "?"))
            }
        }
    }
}
