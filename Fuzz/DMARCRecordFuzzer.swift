// libFuzzer entry point for the DMARC record parser (DMARCRecord(parsing:), RFC 7489 §6.3),
// built by Fuzz/run.sh with Sources/DMARC/DMARCRecord.swift alone, which imports nothing.
//
// Beyond "never crash, never hang", it checks properties: the quick version test and the
// parser agree, an accepted record starts with v=DMARC1 and has no tag twice, its values are
// within their ranges, and every report URI it kept parses again from its own text to the same
// URI.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDMARCRecord(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let record: DMARCRecord
    do {
        record = try DMARCRecord(parsing: text)
    } catch {
        if error == .notDMARC, DMARCRecord.isDMARCRecord(text) { fatalError("a record starting with v=DMARC1 refused as not DMARC: \(text.debugDescription)") }
        return 0
    }
    guard DMARCRecord.isDMARCRecord(text), record.tags.first == DMARCTag(name: "v", value: "DMARC1") else {
        fatalError("accepted without v=DMARC1 first: \(text.debugDescription)")
    }
    guard Set(record.tags.map(\.name)).count == record.tags.count else { fatalError("a tag twice in \(text.debugDescription)") }
    guard (0...100).contains(record.percentage), !record.failureReportingOptions.isEmpty, record.reportFormats == ["afrf"] else {
        fatalError("out-of-range values from \(text.debugDescription)")
    }
    for uri in record.aggregateReportURIs + record.failureReportURIs {
        guard let again = try? DMARCRecord(parsing: "v=DMARC1; p=none; rua=\(uri)"), again.aggregateReportURIs == [uri] else {
            fatalError("URI \(uri) does not parse back, from \(text.debugDescription)")
        }
    }
    return 0
}
