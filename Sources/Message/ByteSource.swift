#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a message's octets are: in memory, or in a file read on demand. The parser reads
/// through a source in chunks and keeps only offsets, so a 50 MB message is parsed in
/// constant memory and its parts are read only when someone asks for them.
public protocol ByteSource: Sendable {
    /// Total size in octets.
    var count: Int { get }
    /// Up to `length` octets starting at `offset` (fewer at the end, none past it).
    func read(offset: Int, length: Int) throws(ByteSourceError) -> [UInt8]
}

public enum ByteSourceError: Error, Equatable, Sendable, CustomStringConvertible {
    case open(path: String, errno: Int32)
    case read(errno: Int32)

    public var description: String {
        switch self {
        case let .open(path, code): return "opening \(path): \(String(cString: strerror(code)))"
        case let .read(code): return "reading message: \(String(cString: strerror(code)))"
        }
    }
}

public struct MemorySource: ByteSource {
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var count: Int { bytes.count }

    public func read(offset: Int, length: Int) -> [UInt8] {
        guard offset >= 0, offset < bytes.count, length > 0 else { return [] }
        return Array(bytes[offset..<min(bytes.count, offset + length)])
    }
}

/// A message file, read with pread(2) so concurrent readers share one descriptor safely.
public final class FileSource: ByteSource {
    private let descriptor: Int32
    public let count: Int

    public init(path: String) throws(ByteSourceError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .open(path: path, errno: errno) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .open(path: path, errno: code)
        }
        self.descriptor = descriptor
        count = Int(status.st_size)
    }

    deinit { close(descriptor) }

    public func read(offset: Int, length: Int) throws(ByteSourceError) -> [UInt8] {
        guard offset >= 0, offset < count, length > 0 else { return [] }
        let wanted = min(length, count - offset)
        var buffer = [UInt8](repeating: 0, count: wanted)
        var done = 0
        while done < wanted {
            let result = buffer.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + done, wanted - done, off_t(offset + done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw .read(errno: errno)
            }
            if result == 0 { break }  // the file shrank; return what there is
            done += result
        }
        if done < wanted { buffer.removeLast(wanted - done) }
        return buffer
    }
}

/// Reads a source line by line (LF or CRLF terminated), in chunks. A line's octets are kept
/// only up to a limit the caller chooses, so a 50 MB line without a break costs a chunk of
/// memory, not 50 MB.
struct LineReader {
    static let chunkSize = 64 * 1024

    struct Line {
        var start: Int
        /// Octets including the terminator.
        var length: Int
        /// The first octets of the line (at most the limit asked for), terminator included
        /// when it fits.
        var prefix: [UInt8]
        /// 2 for CRLF, 1 for LF, 0 at the end of input without one.
        var terminatorLength: Int
        var end: Int { start + length }
        /// Content without the terminator is empty.
        var isBlank: Bool { length == terminatorLength }
    }

    let source: any ByteSource
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private(set) var position = 0
    /// How many lines have been returned so far.
    private(set) var lineCount = 0
    /// The line returned before the latest one.
    private(set) var previousLine: Line?
    private var latestLine: Line?

    init(source: any ByteSource) {
        self.source = source
    }

    var atEnd: Bool { position >= source.count }

    mutating func next(keep limit: Int) throws(ByteSourceError) -> Line? {
        guard let line = try read(keep: limit) else { return nil }
        lineCount += 1
        previousLine = latestLine
        latestLine = line
        return line
    }

    private mutating func read(keep limit: Int) throws(ByteSourceError) -> Line? {
        guard position < source.count else { return nil }
        let start = position
        var prefix: [UInt8] = []
        var previous: UInt8 = 0
        while position < source.count {
            if position >= bufferStart + buffer.count {
                bufferStart = position
                buffer = try source.read(offset: position, length: Self.chunkSize)
                if buffer.isEmpty { break }
            }
            let from = position - bufferStart
            let newline = buffer.withUnsafeBufferPointer { pointer -> Int? in
                guard let base = pointer.baseAddress, let found = memchr(base + from, 0x0A, pointer.count - from) else { return nil }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            let upTo = newline.map { $0 + 1 } ?? buffer.count
            if prefix.count < limit {
                prefix += buffer[from..<min(upTo, from + (limit - prefix.count))]
            }
            if let newline {
                let beforeNewline = newline > from ? buffer[newline - 1] : previous
                position = bufferStart + upTo
                let terminator = beforeNewline == 0x0D && position - start >= 2 ? 2 : 1
                return Line(start: start, length: position - start, prefix: prefix, terminatorLength: terminator)
            }
            previous = buffer.last ?? 0
            position = bufferStart + buffer.count
        }
        return Line(start: start, length: position - start, prefix: prefix, terminatorLength: 0)
    }
}
