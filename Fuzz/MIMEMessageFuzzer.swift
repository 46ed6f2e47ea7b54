// libFuzzer entry point for the MIME parser (ParsedMessage), built by Fuzz/run.sh with the
// Message module's sources.
//
// Beyond "never crash, never hang", it checks that the tree is consistent: every part lies
// inside the message and inside its parent's body, headers come before bodies, and every
// part's content can be read, decoded and previewed.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMIMEMessage(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let source = MemorySource(bytes)
    var limits = ParseLimits()
    limits.maxDepth = 12
    limits.maxParts = 200
    let parsed = ParsedMessage(bytes: bytes, limits: limits)
    check(parsed.root, within: 0..<bytes.count + 1, source: source)
    _ = try? parsed.preview(in: source)
    return 0
}

private func check(_ part: MIMEPart, within range: Range<Int>, source: MemorySource) {
    guard part.offset >= range.lowerBound, part.bodyOffset == part.offset + part.headerLength,
        part.bodyLength >= 0, part.end <= range.upperBound, part.end <= source.count
    else {
        fatalError("part outside its parent: \(part.offset) \(part.headerLength) \(part.bodyLength) in \(range)")
    }
    _ = try? part.text(in: source)
    for child in part.parts {
        check(child, within: part.bodyOffset..<part.end + 1, source: source)
    }
    if let message = part.message {
        check(message, within: part.bodyOffset..<part.end + 1, source: source)
    }
}
