// DKIM signing and verification throughput on a 10 KiB message, in a release build:
//
//     swift run -c release dkim-bench [COUNT]
//
// Signs the same message COUNT times (default 2,000) with an RSA-2048 and with an Ed25519 key
// (relaxed/relaxed, the default header set), then verifies a signed copy COUNT times per
// algorithm, one after the other, the key record coming from an in-memory resolver so only
// DKIM's own work is measured: parsing, canonicalization, hashing and the public-key
// operation. Each figure is the fastest of three rounds, so that other work on a shared
// machine disturbs it less. Prints signatures and verifications per second per algorithm.
import DKIM
import DNS
import Foundation

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2000 : 2000

/// About 10 KiB: a realistic header and text body with folded and long lines.
func message() -> [UInt8] {
    var text = """
        Received: from mail.example.net (mail.example.net [192.0.2.1])\r
        \tby mx.example.org with ESMTPS id 4Xy9; Sat, 21 Nov 2026 10:00:00 +0000\r
        From: Jörg Sender <sender@example.com>\r
        To: Recipient <rcpt@example.org>, other@example.org\r
        Cc: third@example.org\r
        Subject: Quarterly report and the notes from Thursday's meeting\r
        Date: Sat, 21 Nov 2026 10:00:00 +0000\r
        Message-ID: <bench.1@example.com>\r
        MIME-Version: 1.0\r
        Content-Type: text/plain; charset=utf-8\r
        Content-Transfer-Encoding: 8bit\r
        \r

        """
    let words = ["mail", "server", "the", "quick", "brown", "fox", "delivery", "report", "über", "naïve", "invoice", "attached", "regards"]
    var line = ""
    var index = 0
    while text.utf8.count < 10 * 1024 {
        line += words[index % words.count] + (index % 7 == 0 ? "  " : " ")
        index += 1
        if line.utf8.count > 72 {
            text += line + "\r\n"
            line = ""
        }
    }
    return Array(text.utf8)
}

func rate(_ operations: Int, _ duration: Duration) -> String {
    let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    return String(format: "%.0f", Double(operations) / seconds)
}

let rounds = 3

let body = message()
let rsa = try DKIMPrivateKey.generateRSA(bits: 2048)
let ed25519 = DKIMPrivateKey.generateEd25519()
let resolver = MockResolver()
try resolver.add("rsa._domainkey.example.com", .txt([Array(rsa.keyRecord.utf8)]))
try resolver.add("ed._domainkey.example.com", .txt([Array(ed25519.keyRecord.utf8)]))
let verifier = DKIMVerifier(resolver: resolver)
let clock = ContinuousClock()

print("message: \(body.count) octets, \(count) operations per figure")
for (selector, key, label) in [("rsa", rsa, "RSA-2048"), ("ed", ed25519, "Ed25519")] {
    let signer = try DKIMSigner(domain: "example.com", selector: selector, key: key)
    var signed: [UInt8] = []
    var signing = Duration.seconds(Int64.max)
    for _ in 0..<rounds {
        signing = min(signing, try clock.measure { for _ in 0..<count { signed = try signer.signatureField(for: body) } })
    }
    signed += body
    var passes = 0
    var verifying = Duration.seconds(Int64.max)
    for _ in 0..<rounds {
        verifying = min(verifying, await clock.measure { for _ in 0..<count where await verifier.verify(signed).first?.status == .pass { passes += 1 } })
    }
    guard passes == rounds * count else {
        print("\(label): only \(passes) of \(rounds * count) verifications passed")
        exit(1)
    }
    print("\(label): \(rate(count, signing)) signatures/s, \(rate(count, verifying)) verifications/s")
}
