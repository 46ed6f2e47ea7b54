// libFuzzer entry point for what an SMTP peer's bytes go through in the SMTP module: the
// DATA reader (end of data, dot-unstuffing, line-break normalization, size limit), the
// command parser, and the reply reader the queue uses on other servers' answers. Built by
// Fuzz/run.sh with the SMTP module's sources (they import nothing).
//
// Input: one control octet, then the peer's bytes.
//   - control bits 0-6: a small DATA size limit (0-127 octets), when bit 7 is set; else a
//     limit no input reaches.
//   - control also seeds the split patterns.
//
// Beyond "never crash, never hang", it checks:
//   - DATA: the result (message octets, octets used, end seen, size, limit exceeded, bare
//     line breaks) does not depend on how the bytes are split: a second reading of the same
//     stream must never end the message elsewhere, which is what SMTP smuggling exploits;
//     only CR LF "." CR LF (or "." CR LF at the very start) ends the data; what is kept has
//     only CR LF line breaks and at most `limit` octets; and the message, dot-stuffed for
//     sending (whole or in pieces), reads back the same;
//   - commands: each line that parses, written out as a client would (`encoded`), parses to
//     the same command;
//   - replies: the replies and errors read do not depend on how the bytes are split.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPProtocol(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var generator = SplitMix(state: UInt64(control) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(bytes.count))
    let limit = control & 0x80 != 0 ? Int(control & 0x7F) : 1 << 30
    checkData(bytes, limit: limit, generator: &generator)
    checkCommands(bytes)
    checkReplies(bytes, generator: &generator)
    return 0
}

// MARK: - DATA

private struct DataOutcome: Equatable {
    var message: [UInt8] = []
    var used = 0
    var finished = false
    var size = 0
    var exceededLimit = false
    var bareLineBreaks = 0
}

private func readData(_ bytes: [UInt8], chunks: [Int], limit: Int) -> DataOutcome {
    var reader = DataReader(limit: limit)
    var outcome = DataOutcome()
    var offset = 0
    for chunk in chunks where !reader.finished && offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        let used = reader.consume(bytes[offset..<end], into: &outcome.message)
        guard used <= end - offset else { fatalError("consumed \(used) of \(end - offset) octets") }
        outcome.used += used
        // Before the end of data every octet of a chunk is consumed.
        if !reader.finished, used != end - offset { fatalError("stopped at \(used) of \(end - offset) without the end") }
        offset = end
    }
    outcome.finished = reader.finished
    outcome.size = reader.size
    outcome.exceededLimit = reader.exceededLimit
    outcome.bareLineBreaks = reader.bareLineBreaks
    return outcome
}

private func checkData(_ bytes: [UInt8], limit: Int, generator: inout SplitMix) {
    let whole = readAlikeInAnySplit(bytes.count, largest: 16, generator: &generator, "DATA read") { readData(bytes, chunks: $0, limit: limit) }

    guard whole.message.count == min(whole.size, limit), whole.exceededLimit == (whole.size > limit) else {
        fatalError("size \(whole.size), limit \(limit), kept \(whole.message.count), exceeded \(whole.exceededLimit)")
    }
    if whole.finished {
        let consumed = bytes[..<whole.used]
        let endsData = consumed.elementsEqual(Array(".\r\n".utf8)) || consumed.suffix(5).elementsEqual(Array("\r\n.\r\n".utf8))
        guard endsData else { fatalError("data ended after \(Array(consumed.suffix(8))), not CR LF . CR LF") }
    } else if whole.used != bytes.count {
        fatalError("not finished but used \(whole.used) of \(bytes.count)")
    }
    guard !whole.exceededLimit else { return }
    for (index, byte) in whole.message.enumerated() {
        let bare = byte == 0x0D
            ? index + 1 == whole.message.count || whole.message[index + 1] != 0x0A
            : byte == 0x0A && (index == 0 || whole.message[index - 1] != 0x0D)
        // A message cut off without its end may stop between CR and LF.
        if bare, !(index + 1 == whole.message.count && !whole.finished) {
            fatalError("bare line break at \(index) of the stored message \(whole.message)")
        }
    }
    guard whole.finished else { return }

    // Sent on: stuffed whole and in pieces alike, and read back unchanged.
    let stuffed = DotStuffing.stuff(whole.message)
    var stuffer = DotStuffer()
    var pieces: [UInt8] = []
    var offset = 0
    for chunk in generator.chunks(covering: whole.message.count, largest: 16) {
        let end = min(whole.message.count, offset + chunk)
        stuffer.stuff(whole.message[offset..<end], into: &pieces)
        offset = end
    }
    stuffer.finish(into: &pieces)
    guard pieces == stuffed else { fatalError("dot-stuffing in pieces differs:\n\(stuffed)\n\(pieces)") }
    let again = readData(stuffed, chunks: [stuffed.count], limit: 1 << 30)
    guard again.finished, again.used == stuffed.count, again.message == whole.message, again.bareLineBreaks == 0 else {
        fatalError("the stuffed message reads back differently:\n\(whole.message)\n\(again)")
    }
}

// MARK: - Commands

private func checkCommands(_ bytes: [UInt8]) {
    for var line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(64) {
        if line.last == 0x0D { line.removeLast() }
        guard line.count <= 1024, let command = try? Command.parse(Array(line)) else { continue }
        let written = command.encoded
        guard written.suffix(2).elementsEqual([0x0D, 0x0A]), !written.dropLast(2).contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
            fatalError("\(command) is written as more or less than one line: \(written)")
        }
        let reparsed = try? Command.parse(Array(written.dropLast(2)))
        guard reparsed == command else {
            fatalError("\(command) from \(Array(line)) is written as \(written), which parses as \(String(describing: reparsed))")
        }
    }
}

// MARK: - Replies

private enum ReplyEvent: Equatable {
    case reply(Reply)
    case error(ReplyError)
}

private func readReplies(_ bytes: [UInt8], chunks: [Int]) -> [ReplyEvent] {
    var reader = ReplyReader(limits: ReplyReader.Limits(maxLineLength: 200, maxLines: 8))
    var events: [ReplyEvent] = []
    var offset = 0
    for chunk in chunks where offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        reader.append(bytes[offset..<end])
        offset = end
        do {
            while let reply = try reader.next() { events.append(.reply(reply)) }
        } catch {
            // The connection is given up after an error; nothing after it is read.
            events.append(.error(error))
            return events
        }
    }
    return events
}

private func checkReplies(_ bytes: [UInt8], generator: inout SplitMix) {
    _ = readAlikeInAnySplit(bytes.count, largest: 40, generator: &generator, "replies read") { readReplies(bytes, chunks: $0) }
}
