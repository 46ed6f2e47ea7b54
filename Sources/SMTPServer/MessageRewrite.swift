#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Message

/// Adds header fields to a received message file, which can only be done once the whole
/// message is in: a new file with `prefix` (fields above this host's trace fields: the
/// analysis's Authentication-Results, DKIM-Signature), then the file's own trace fields,
/// then `afterTrace` (fields of the message itself: a submission's Date and Message-ID),
/// then the message's header section without the fields `remove` picks (RFC 8601 §5: forged
/// Authentication-Results), then the rest, copied in pieces so a large message is never
/// all in memory. The new file replaces the old by rename, so a crash leaves one or the
/// other, never a mix.
enum MessageRewrite {
    /// A header section longer than this is left as it is (nothing removed): RFC 5322 sets
    /// no limit, but a real one is far shorter, and reading must stop somewhere.
    static let headerLimit = 1 << 20
    static let pieceSize = 1 << 16

    /// Writes the new file at `path` + ".rw", replaces `path` with it (rename), and returns
    /// the length of what now precedes the message's own header (`prefix` + trace).
    static func prepend(
        _ prefix: [UInt8], to path: String, traceLength: Int, afterTrace: [UInt8] = [], remove: (HeaderField) -> Bool = { _ in false }
    ) throws -> Int {
        guard let input = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: path]) }
        defer { try? input.close() }
        let newPath = path + ".rw"
        guard FileManager.default.createFile(atPath: newPath, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: newPath)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: newPath]) }
        do {
            defer { try? output.close() }
            // The trace fields and as much of the header as the limit allows.
            var head = Array(try input.read(upToCount: traceLength + headerLimit) ?? Data())
            let trace = Array(head.prefix(traceLength))
            head.removeFirst(min(traceLength, head.count))
            try output.write(contentsOf: prefix + trace + afterTrace + without(head, remove))
            while let piece = try input.read(upToCount: pieceSize), !piece.isEmpty {
                try output.write(contentsOf: piece)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: newPath)
            throw error
        }
        guard rename(newPath, path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(atPath: newPath)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        return prefix.count + traceLength
    }

    /// `head` (the start of a message) without the header fields `remove` picks; everything
    /// else as it was, lines the header parser skips included. A header section that does
    /// not end within `head` is left whole, as its last field may go on past it.
    static func without(_ head: [UInt8], _ remove: (HeaderField) -> Bool) -> [UInt8] {
        let header = HeaderSection(parsing: head)
        guard header.hasSeparator || head.count < headerLimit, header.fields.contains(where: remove) else { return head }
        var kept: [UInt8] = []
        var copied = 0
        var searched = 0
        for field in header.fields {
            // Fields come in order; lines skipped as malformed may sit between them.
            guard let range = head[searched..<header.length].firstRange(of: field.raw) else { continue }
            searched = range.upperBound
            if remove(field) {
                kept += head[copied..<range.lowerBound]
                copied = range.upperBound
            }
        }
        return kept + head[copied...]
    }
}
