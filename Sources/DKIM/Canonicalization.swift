// Canonicalization (RFC 6376 §3.4), on octets.
//
// Line endings: RFC 6376 §3.4 assumes the message is in "network normal" form, lines ending in
// CRLF (§5.3). Messages handed over with bare LF line endings (files on disk, a sendmail pipe)
// are canonicalized as they will travel, each bare LF read as CRLF, so a message signed from
// an LF file verifies once sent, and the other way round. A CR not followed by LF is an
// ordinary octet.

extension Canonicalization {
    /// Appends the canonical form of one header field, given as its raw octets (name, colon,
    /// value, folding, and usually the final line ending). `terminated`: end it with CRLF, as
    /// every signed field is (§3.7 step 2.1); the DKIM-Signature field itself goes last and
    /// without it (§3.7 step 2.2).
    func appendHeaderField(_ field: [UInt8], terminated: Bool, to out: inout [UInt8]) {
        var octets = field[...]
        if octets.last == 0x0A { octets = octets.dropLast() }
        if octets.last == 0x0D { octets = octets.dropLast() }
        switch self {
        case .simple:
            // §3.4.1: "does not change header fields in any way".
            var previous: UInt8 = 0
            for octet in octets {
                if octet == 0x0A, previous != 0x0D { out.append(0x0D) }
                out.append(octet)
                previous = octet
            }
        case .relaxed:
            appendRelaxedHeaderField(octets, to: &out)
        }
        if terminated { out += [0x0D, 0x0A] }
    }

    /// §3.4.2, in order: lowercase the name; unfold; runs of WSP to one SP; no WSP at the end
    /// of the value; none around the colon.
    private func appendRelaxedHeaderField(_ octets: ArraySlice<UInt8>, to out: inout [UInt8]) {
        var inValue = false
        var valueStarted = false
        var pendingSpace = false
        var pendingCR = false
        for octet in octets {
            if !inValue {
                if octet == UInt8(ascii: ":") {
                    // White space between the name and the colon (RFC 5322 §4.5 obs-optional).
                    while let last = out.last, last == 0x20 || last == 0x09 { out.removeLast() }
                    out.append(octet)
                    inValue = true
                } else {
                    out.append(asciiLowercase(octet))
                }
                continue
            }
            if pendingCR {
                pendingCR = false
                // A CR of a CRLF is unfolded away; a lone CR is content.
                if octet != 0x0A { appendValueOctet(0x0D, &valueStarted, &pendingSpace, &out) }
            }
            switch octet {
            case 0x0D: pendingCR = true
            case 0x0A: break
            case 0x20, 0x09: pendingSpace = valueStarted
            default: appendValueOctet(octet, &valueStarted, &pendingSpace, &out)
            }
        }
    }

    private func appendValueOctet(_ octet: UInt8, _ valueStarted: inout Bool, _ pendingSpace: inout Bool, _ out: inout [UInt8]) {
        if pendingSpace { out.append(0x20) }
        pendingSpace = false
        valueStarted = true
        out.append(octet)
    }
}

/// Body canonicalization (§3.4.3, §3.4.4), fed in pieces so that a large body is hashed without
/// a second copy of it.
///
/// Trailing empty lines are ignored, so line endings are held back until a non-empty line
/// follows; in relaxed mode white space is held back until something other than white space
/// follows on the same line.
struct BodyCanonicalizer {
    let relaxed: Bool
    private var pendingCR = false
    private var atLineStart = true
    private var pendingEmptyLines = 0
    private var pendingSpace = false
    private var emittedAny = false

    init(_ canonicalization: Canonicalization) {
        relaxed = canonicalization == .relaxed
    }

    /// Appends the canonical form of `chunk` (the next octets of the body) to `out`.
    mutating func update(_ chunk: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var index = 0
        while index < chunk.count {
            let octet = chunk[index]
            if pendingCR {
                pendingCR = false
                if octet == 0x0A {
                    lineEnd(&out)
                    index += 1
                    continue
                }
                content(0x0D, &out)
            }
            switch octet {
            case 0x0D: pendingCR = true
            case 0x0A: lineEnd(&out)
            case 0x20 where relaxed, 0x09 where relaxed: pendingSpace = true
            default:
                // Most octets are ordinary text: copy the whole run at once, so the state
                // machine runs only at line ends and white space. A single space between
                // two ordinary octets is kept as it is in relaxed mode too, so it does not end
                // the run.
                var end = index + 1
                while end < chunk.count {
                    if isSpecial(chunk[end]) {
                        guard relaxed, chunk[end] == 0x20, end + 1 < chunk.count, !isSpecial(chunk[end + 1]) else { break }
                        end += 1
                    }
                    end += 1
                }
                content(UnsafeBufferPointer(rebasing: chunk[index..<end]), &out)
                index = end
                continue
            }
            index += 1
        }
    }

    private func isSpecial(_ octet: UInt8) -> Bool {
        octet == 0x0D || octet == 0x0A || (relaxed && (octet == 0x20 || octet == 0x09))
    }

    mutating func update(_ chunk: some Collection<UInt8>, into out: inout [UInt8]) {
        if chunk.withContiguousStorageIfAvailable({ update($0, into: &out) }) == nil {
            Array(chunk).withUnsafeBufferPointer { update($0, into: &out) }
        }
    }

    /// Ends the body: a last line without CRLF gets one; "simple" makes an empty body one CRLF
    /// (§3.4.3), "relaxed" leaves it empty (§3.4.4).
    mutating func finish(into out: inout [UInt8]) {
        if pendingCR {
            pendingCR = false
            content(0x0D, &out)
        }
        pendingSpace = false
        if !atLineStart {
            out += [0x0D, 0x0A]
            atLineStart = true
        }
        if !relaxed && !emittedAny {
            out += [0x0D, 0x0A]
            emittedAny = true
        }
    }

    private mutating func content(_ octet: UInt8, _ out: inout [UInt8]) {
        withUnsafePointer(to: octet) { content(UnsafeBufferPointer(start: $0, count: 1), &out) }
    }

    /// Octets of a line that are neither line ends nor (relaxed) white space.
    private mutating func content(_ octets: UnsafeBufferPointer<UInt8>, _ out: inout [UInt8]) {
        if atLineStart {
            for _ in 0..<pendingEmptyLines { out += [0x0D, 0x0A] }
            pendingEmptyLines = 0
            atLineStart = false
            emittedAny = true
        }
        if pendingSpace {
            out.append(0x20)
            pendingSpace = false
        }
        out.append(contentsOf: octets)
    }

    private mutating func lineEnd(_ out: inout [UInt8]) {
        // Relaxed: white space at the end of a line is ignored, so a line of only white space
        // is an empty line.
        pendingSpace = false
        if atLineStart {
            pendingEmptyLines += 1
        } else {
            out += [0x0D, 0x0A]
            atLineStart = true
        }
    }
}
