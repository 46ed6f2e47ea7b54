// Parse throughput of the Message module on a synthetic corpus, in a release build:
//
//     swift run -c release message-parse-bench [COUNT] [DIRECTORY]
//
// Writes COUNT (default 10,000) messages of mixed sizes and shapes to DIRECTORY (default a
// new temporary directory, removed afterwards), one file each as the store keeps them, then
// parses every file through FileSource and reports MB/s and messages/s. The corpus is the
// same on every run (fixed seed), so figures are comparable across changes.
import Foundation
import Message

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        // SplitMix64: fast and good enough for picking sizes and shapes.
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let words = ["mail", "server", "the", "quick", "brown", "fox", "delivery", "report", "meeting", "tomorrow", "über", "naïve", "résumé", "invoice", "attached", "please", "find", "regards"]

func text(_ octets: Int, _ random: inout SeededGenerator) -> String {
    var out = ""
    var line = 0
    while out.utf8.count < octets {
        let word = words[Int(random.next() % UInt64(words.count))]
        out += word
        line += word.utf8.count + 1
        if line > 72 {
            out += "\r\n"
            line = 0
        } else {
            out += " "
        }
    }
    return out
}

func base64Lines(_ octets: Int, _ random: inout SeededGenerator) -> String {
    var bytes = [UInt8](repeating: 0, count: octets)
    for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
    return Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
}

func header(_ index: Int, _ contentType: String, received: Int) -> String {
    var lines = (0..<received).map { hop in
        "Received: from relay\(hop).example.net (relay\(hop).example.net [192.0.2.\(hop)])\r\n\tby mx.example.org with ESMTPS id \(index)x\(hop); Sat, 21 Nov 2026 10:00:00 +0000"
    }
    lines += [
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.net; s=sel;\r\n\th=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n\tb=" + String(repeating: "A", count: 340),
        "From: =?UTF-8?Q?J=C3=B6rg_Sender?= <sender\(index)@example.net>",
        "To: Recipient <rcpt@example.org>, other@example.org",
        "Subject: Message number \(index) =?UTF-8?B?w7xiZXI=?=",
        "Date: Sat, 21 Nov 2026 10:00:00 +0000",
        "Message-ID: <\(index).bench@example.net>",
        "MIME-Version: 1.0",
        "Content-Type: \(contentType)",
    ]
    return lines.joined(separator: "\r\n") + "\r\n\r\n"
}

/// One message: mostly small text, some HTML alternatives, some attachments, a few large.
func makeMessage(_ index: Int, _ random: inout SeededGenerator) -> String {
    let kind = random.next() % 1000
    let received = Int(random.next() % 6) + 1
    if kind < 550 {
        return header(index, "text/plain; charset=utf-8", received: received) + text(Int(random.next() % 8000) + 500, &random) + "\r\n"
    }
    let boundary = "=_b\(index)_\(random.next() % 100000)"
    if kind < 850 {
        let plain = text(Int(random.next() % 20_000) + 1000, &random)
        return header(index, "multipart/alternative; boundary=\"\(boundary)\"", received: received)
            + "--\(boundary)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\(plain)\r\n"
            + "--\(boundary)\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>\(plain)</p></body></html>\r\n"
            + "--\(boundary)--\r\n"
    }
    let attachment = kind < 995 ? Int(random.next() % 400_000) + 20_000 : Int(random.next() % 8_000_000) + 2_000_000
    let inner = "=_i\(index)"
    return header(index, "multipart/mixed; boundary=\"\(boundary)\"", received: received)
        + "--\(boundary)\r\nContent-Type: multipart/alternative; boundary=\"\(inner)\"\r\n\r\n"
        + "--\(inner)\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\(text(2000, &random))\r\n"
        + "--\(inner)\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\(text(2000, &random))</p>\r\n--\(inner)--\r\n"
        + "--\(boundary)\r\nContent-Type: application/pdf; name=\"report \(index).pdf\"\r\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9port\(index).pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64Lines(attachment, &random) + "\r\n--\(boundary)--\r\n"
}

let arguments = CommandLine.arguments
let count = arguments.count > 1 ? Int(arguments[1]) ?? 10_000 : 10_000
let directory = arguments.count > 2
    ? URL(fileURLWithPath: arguments[2])
    : FileManager.default.temporaryDirectory.appendingPathComponent("tern-bench-\(ProcessInfo.processInfo.processIdentifier)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
defer { if arguments.count <= 2 { try? FileManager.default.removeItem(at: directory) } }

var random = SeededGenerator(state: 42)
var paths: [String] = []
var totalOctets = 0
for index in 0..<count {
    let path = directory.appendingPathComponent("\(index).eml").path
    let bytes = Data(makeMessage(index, &random).utf8)
    totalOctets += bytes.count
    _ = FileManager.default.createFile(atPath: path, contents: bytes)
    paths.append(path)
}

var parts = 0
func countParts(_ part: MIMEPart) -> Int {
    1 + part.parts.reduce(0) { $0 + countParts($1) } + (part.message.map(countParts) ?? 0)
}
let clock = ContinuousClock()
let elapsed = try clock.measure {
    for path in paths {
        let parsed = try ParsedMessage.parse(FileSource(path: path))
        parts += countParts(parsed.root)
    }
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let megabytes = Double(totalOctets) / 1_000_000
print("messages: \(count), total: \(String(format: "%.1f", megabytes)) MB, parts: \(parts)")
print("parse: \(String(format: "%.3f", seconds)) s, \(String(format: "%.1f", megabytes / seconds)) MB/s, \(String(format: "%.0f", Double(count) / seconds)) messages/s")
