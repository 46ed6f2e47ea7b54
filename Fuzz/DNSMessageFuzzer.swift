// libFuzzer entry point for the DNS message parser (DNSMessage(parsing:)), built by
// Fuzz/run.sh together with the DNS module's wire-format files only.
//
// Beyond "never crash, never hang", it checks a property: whatever the parser accepts, the
// encoder writes out so that parsing it again gives the same message, and every record can
// be printed.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSMessage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? DNSMessage(parsing: bytes) else { return 0 }
    for record in message.answers + message.authorities + message.additionals {
        _ = record.description
    }
    _ = message.edns?.extendedErrors.map(\.description)
    guard let again = try? DNSMessage(parsing: message.encoded()), again == message else {
        fatalError("round trip changed the message: \(message)")
    }
    return 0
}
