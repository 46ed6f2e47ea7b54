// libFuzzer entry point for the DKIM parsers and canonicalization (DKIMSignature(field:),
// DKIMKeyRecord(parsing:), header and body canonicalization), built by Fuzz/run.sh with the
// DKIM files that import only Foundation.
//
// Beyond "never crash, never hang", it checks properties: an accepted signature signs From,
// keeps i= within d= and x= after t=, and with b= emptied still parses as a tag-list whose b=
// is empty; body canonicalization gives the same octets whether the input comes whole or in
// pieces, and its output has the shape RFC 6376 §3.4 gives it.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDKIMSignature(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let field = Array("DKIM-Signature:".utf8) + input
    if let signature = try? DKIMSignature(field: field) {
        guard signature.signedHeaders.contains(where: { $0.lowercased() == "from" }) else { fatalError("accepted without From in h=") }
        let identityDomain = signature.identityDomain.lowercased(), domain = signature.domain.lowercased()
        guard identityDomain == domain || identityDomain.hasSuffix("." + domain) else { fatalError("i= outside d= accepted") }
        if let t = signature.timestamp, let x = signature.expiration, x <= t { fatalError("x= not after t= accepted") }
        guard let tags = try? TagList(field, range: DKIMSignature.valueRange(ofField: field)) else { fatalError("parsed once, not twice") }
        let emptied = DKIMSignature.withoutSignatureValue(tags)
        guard let again = try? TagList(emptied, range: DKIMSignature.valueRange(ofField: emptied)), let b = again.tag("b"), b.value.isEmpty else {
            fatalError("b= not emptied: \(String(decoding: emptied, as: UTF8.self))")
        }
    }
    _ = try? DKIMKeyRecord(parsing: String(decoding: input, as: UTF8.self))

    for canonicalization in [Canonicalization.simple, .relaxed] {
        var whole: [UInt8] = []
        var canonicalizer = BodyCanonicalizer(canonicalization)
        canonicalizer.update(input, into: &whole)
        canonicalizer.finish(into: &whole)

        var pieces: [UInt8] = []
        var pieced = BodyCanonicalizer(canonicalization)
        let step = Int(input.first ?? 1) % 7 + 1
        var start = 0
        while start < input.count {
            let end = min(input.count, start + step)
            pieced.update(input[start..<end], into: &pieces)
            start = end
        }
        pieced.finish(into: &pieces)
        guard whole == pieces else { fatalError("\(canonicalization) body differs when fed in pieces of \(step)") }

        // Every line ends in CRLF; no empty line at the end; simple never gives an empty body.
        if canonicalization == .simple || !whole.isEmpty {
            guard whole.count >= 2, whole.suffix(2) == [0x0D, 0x0A] else { fatalError("\(canonicalization) body does not end in CRLF") }
        }
        if whole.count >= 4, whole.suffix(4) == [0x0D, 0x0A, 0x0D, 0x0A] { fatalError("\(canonicalization) body ends in an empty line") }
        if canonicalization == .relaxed {
            // A lone CR is content, so " \r" may stay; " \r\n" may not.
            for index in whole.indices.dropLast(2) where whole[index] == 0x20 && (whole[index + 1] == 0x20 || whole[index + 1...index + 2] == [0x0D, 0x0A]) {
                fatalError("relaxed body keeps a run of spaces or a space at a line end")
            }
            guard !whole.contains(0x09) else { fatalError("relaxed body keeps a tab") }

            var header: [UInt8] = []
            canonicalization.appendHeaderField(Array("Subject:".utf8) + input, terminated: true, to: &header)
            guard header.dropLast(2).allSatisfy({ $0 != 0x0A }), !header.contains(0x09) else { fatalError("relaxed header field not unfolded") }
        }
    }
    return 0
}
