// libFuzzer entry point for the SPF record and macro parsers (SPFRecord(parsing:),
// MacroString(parsing:as:)), built by Fuzz/run.sh with the SPF parsing files and the DNS
// address and name files only.
//
// Beyond "never crash, never hang", it checks properties: every term of an accepted record
// is kept as written, and an accepted macro-string expands without trapping.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSPFRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let record = try? SPFRecord(parsing: text) {
        let written = text.split(separator: " ").dropFirst().map(String.init)
        let kept = record.directives.map(\.description)
        guard kept.allSatisfy(written.contains) else { fatalError("a directive changed: \(kept) from \(text)") }
    }
    let context = MacroContext(
        sender: "strong-bad@email.example.com", localPart: "strong-bad", senderDomain: "email.example.com",
        domain: "email.example.com", ip: .v6(Array(repeating: 0x20, count: 16)), helo: "mail.example.org")
    for use in [MacroString.Use.domainSpec, .explanation, .unknownModifier] {
        if let macro = try? MacroString(parsing: text, as: use) {
            guard macro.description == text else { fatalError("the text changed: \(macro.description) from \(text)") }
            _ = macro.expand(in: context)
        }
    }
    return 0
}
