import Crypto
import Message

/// A message as DKIM sees it: the header fields as received (HeaderSection keeps their raw
/// octets) and the body after the empty line.
struct DKIMMessage: Sendable {
    let bytes: [UInt8]
    let header: HeaderSection

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        header = HeaderSection(parsing: bytes)
    }

    var body: ArraySlice<UInt8> { bytes[header.length...] }

    /// The body hash (RFC 6376 §3.7 step 1): SHA-256 of the canonicalized body, cut to the
    /// first `limit` octets when l= is given. Also returns the whole canonicalized length, so
    /// a verifier can tell an l= longer than the body and content left unsigned.
    func bodyHash(_ canonicalization: Canonicalization, limit: Int?) -> (hash: SHA256.Digest, length: Int) {
        var canonicalizer = BodyCanonicalizer(canonicalization)
        var hasher = SHA256()
        var length = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Self.chunkSize + Self.chunkSize / 8)
        func consume() {
            let remaining = limit.map { max(0, $0 - length) } ?? buffer.count
            buffer.withUnsafeBufferPointer { hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: $0.prefix(remaining)))) }
            length += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        let body = self.body
        var start = body.startIndex
        while start < body.endIndex {
            let end = min(start + Self.chunkSize, body.endIndex)
            canonicalizer.update(body[start..<end], into: &buffer)
            consume()
            start = end
        }
        canonicalizer.finish(into: &buffer)
        consume()
        return (hasher.finalize(), length)
    }

    /// Body octets canonicalized per round: large enough that the per-round cost vanishes,
    /// small enough that a large message is never copied whole.
    static let chunkSize = 64 * 1024

    /// The data-hash (RFC 6376 §3.7 step 2): the fields named in `signedHeaders`, each ending
    /// in CRLF, then the DKIM-Signature field without its b= value and without a final CRLF,
    /// all canonicalized.
    ///
    /// Fields are picked per RFC 6376 §5.4.2: each name takes the last instance not taken
    /// yet, so "h=received:received" signs the bottom two Received fields, bottom first; a
    /// name with no instance left adds nothing (§3.5 h=), which is how oversigning works.
    func dataHash(signedHeaders: [String], canonicalization: Canonicalization, signatureField: [UInt8]) -> SHA256.Digest {
        var remaining: [String: [Int]] = [:]
        for (index, field) in header.fields.enumerated() {
            remaining[field.name.lowercased(), default: []].append(index)
        }
        var input: [UInt8] = []
        input.reserveCapacity(header.length + signatureField.count)
        for name in signedHeaders {
            guard let index = remaining[name.lowercased()]?.popLast() else { continue }
            canonicalization.appendHeaderField(header.fields[index].raw, terminated: true, to: &input)
        }
        canonicalization.appendHeaderField(signatureField, terminated: false, to: &input)
        return SHA256.hash(data: input)
    }
}
