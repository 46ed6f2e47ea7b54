/// Reading a DATA body (RFC 5321 §4.1.1.4, §4.5.2): dot-unstuffing, the end of data, and
/// the size limit, incrementally, as octets arrive.
///
/// Only CR LF "." CR LF ends the data. A bare LF or bare CR anywhere is turned into CR LF
/// rather than being taken as part of an end marker: other servers end data on variants
/// like LF "." LF, and a message that smuggles such a variant would be read as two
/// messages further along ("SMTP smuggling"). Normalized, the stored message has only CRLF
/// line breaks, and any leading dot is stuffed again when it is sent on.
///
/// The size limit is enforced while reading (RFC 1870 §6): past it nothing more is kept,
/// the rest is read and dropped up to the end marker, and `exceededLimit` tells the session
/// to answer 552.
public struct DataReader: Sendable {
    private enum State: Sendable {
        case lineStart
        case lineStartDot
        case dotCR
        case inLine
        case sawCR
    }

    public let limit: Int
    private var state = State.lineStart
    /// Message octets produced so far (counted also past the limit).
    public private(set) var size = 0
    public private(set) var exceededLimit = false
    /// Bare CR or LF octets that were normalized to CR LF.
    public private(set) var bareLineBreaks = 0
    public private(set) var finished = false

    public init(limit: Int) {
        self.limit = limit
    }

    /// Consumes octets of the connection and appends the message octets to `output`.
    /// Returns how many input octets were used: at the end of data it stops right after the
    /// final CR LF, and the rest belongs to the next command (pipelining).
    public mutating func consume(_ input: some Collection<UInt8>, into output: inout [UInt8]) -> Int {
        if let used = input.withContiguousStorageIfAvailable({ consume(buffer: $0, into: &output) }) { return used }
        return Array(input).withUnsafeBufferPointer { consume(buffer: $0, into: &output) }
    }

    private mutating func consume(buffer: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) -> Int {
        var index = 0
        output.reserveCapacity(output.count + min(buffer.count, max(0, limit - size)))
        while index < buffer.count, !finished {
            if state == .inLine {
                // Inside a line nothing happens until the next CR or LF: copy the run at once.
                var end = index
                while end < buffer.count, buffer[end] != 0x0D, buffer[end] != 0x0A { end += 1 }
                if end > index {
                    emit(UnsafeBufferPointer(rebasing: buffer[index..<end]), into: &output)
                    index = end
                    continue
                }
            }
            step(buffer[index], into: &output)
            index += 1
        }
        return index
    }

    /// Octets of one line: kept up to the size limit, counted beyond it.
    private mutating func emit(_ run: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let room = max(0, limit - size)
        if run.count > room { exceededLimit = true }
        output.append(contentsOf: run.prefix(room))
        size += run.count
    }

    private mutating func emit(_ byte: UInt8, into output: inout [UInt8]) {
        size += 1
        if size > limit {
            exceededLimit = true
        } else {
            output.append(byte)
        }
    }

    private mutating func emitLineBreak(into output: inout [UInt8]) {
        emit(0x0D, into: &output)
        emit(0x0A, into: &output)
    }

    /// After a bare CR or LF the next octets are not at an SMTP line start (that needs CR
    /// LF), so a dot there is data, neither unstuffed nor the start of an end marker: that
    /// is what keeps LF "." CR LF and CR "." CR LF from ending the message.
    private mutating func step(_ byte: UInt8, into output: inout [UInt8]) {
        switch state {
        case .lineStart:
            switch byte {
            case UInt8(ascii: "."): state = .lineStartDot
            case 0x0D: state = .sawCR
            case 0x0A: bareBreak(into: &output)
            default:
                emit(byte, into: &output)
                state = .inLine
            }
        case .lineStartDot:
            // §4.5.2: the first dot of a line is removed; a line of one dot may end the data.
            switch byte {
            case 0x0D: state = .dotCR
            case 0x0A: bareBreak(into: &output)
            default:
                emit(byte, into: &output)
                state = .inLine
            }
        case .dotCR:
            if byte == 0x0A {
                finished = true
            } else {
                // "." CR without LF: a bare CR, so not the end.
                bareBreak(into: &output)
                step(byte, into: &output)
            }
        case .inLine:
            switch byte {
            case 0x0D: state = .sawCR
            case 0x0A: bareBreak(into: &output)
            default: emit(byte, into: &output)
            }
        case .sawCR:
            if byte == 0x0A {
                emitLineBreak(into: &output)
                state = .lineStart
            } else {
                bareBreak(into: &output)
                step(byte, into: &output)
            }
        }
    }

    /// A bare CR or LF: stored as CR LF, but the protocol line goes on.
    private mutating func bareBreak(into output: inout [UInt8]) {
        bareLineBreaks += 1
        emitLineBreak(into: &output)
        state = .inLine
    }
}

/// Dot-stuffing for sending (RFC 5321 §4.5.2): a dot at the start of a line is doubled, and
/// the body is made to end with CR LF before the end marker.
public enum DotStuffing {
    public static func stuff(_ message: some Collection<UInt8>) -> [UInt8] {
        var stuffer = DotStuffer()
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        stuffer.stuff(message, into: &out)
        stuffer.finish(into: &out)
        return out
    }
}

/// Dot-stuffing a message that is sent in pieces (RFC 5321 §4.5.2), so a large message is
/// never held whole: what counts as "the start of a line" and whether the message ended in
/// CR LF carry over from one piece to the next.
public struct DotStuffer: Sendable {
    private var atLineStart = true
    private var previous: UInt8?
    private var last: UInt8?

    public init() {}

    /// Appends `piece`, with every line-leading dot doubled, to `output`.
    public mutating func stuff(_ piece: some Collection<UInt8>, into output: inout [UInt8]) {
        for byte in piece {
            if atLineStart, byte == UInt8(ascii: ".") { output.append(byte) }
            output.append(byte)
            atLineStart = byte == 0x0A
            previous = last
            last = byte
        }
    }

    /// Appends the end of data: a CR LF first when the message did not end with one (the
    /// end marker must be on a line of its own), then "." CR LF.
    public mutating func finish(into output: inout [UInt8]) {
        if last != nil, !(previous == 0x0D && last == 0x0A) {
            output += [0x0D, 0x0A]
        }
        output += Array(".\r\n".utf8)
        atLineStart = true
        previous = nil
        last = nil
    }
}
