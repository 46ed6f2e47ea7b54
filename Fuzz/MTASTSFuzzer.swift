// libFuzzer entry point for the MTA-STS parsers: the _mta-sts TXT record
// (STSRecord(parsing:)) and the policy (STSPolicy(parsing:)), built by Fuzz/run.sh with the
// MTASTS module's parsing files and the pure part of the DNS module.
//
// Beyond "never crash, never hang", it checks properties: a parsed policy keeps its text
// exactly, each of its MX patterns parses again from its own description to the same pattern
// and matches a host name built from it, and a parsed record's id is what RFC 8461 §3.1
// allows.

import DNS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMTASTS(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let record = try? STSRecord(parsing: text) {
        let alphanumeric = { (byte: UInt8) in (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) }
        guard (1...STSRecord.maximumIDLength).contains(record.id.utf8.count), record.id.utf8.allSatisfy(alphanumeric) else {
            fatalError("record id \(record.id) accepted")
        }
    }
    guard let policy = try? STSPolicy(parsing: text) else { return 0 }
    guard policy.text == text, policy.maxAge <= STSPolicy.maximumMaxAge, policy.mode == .none || !policy.mx.isEmpty else {
        fatalError("inconsistent policy from \(text.debugDescription)")
    }
    for pattern in policy.mx {
        guard let again = try? MXPattern(parsing: pattern.description), again == pattern else {
            fatalError("pattern \(pattern) does not parse back")
        }
        let host = (pattern.isWildcard ? "a." : "") + pattern.domain.ascii
        guard let name = try? DNSName(host) else {
            // A wildcard over a domain of 252 or 253 octets covers no name: any name under it
            // is longer than the 253 octets a name may have in text (RFC 1035 §2.3.4).
            if pattern.isWildcard, host.utf8.count > 253 { continue }
            fatalError("no name for pattern \(pattern): \(host)")
        }
        guard pattern.matches(name) else { fatalError("pattern \(pattern) does not match \(host)") }
    }
    return 0
}
