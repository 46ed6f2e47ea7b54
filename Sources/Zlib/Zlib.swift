#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Zlib: DEFLATE (RFC 1951) from the system's zlib, raw for IMAP COMPRESS=DEFLATE (RFC 4978)
// and wrapped as gzip (RFC 1952) for TLS reports (RFC 8460 §5.3) and DMARC reports.

/// The system's zlib.
///
/// Foundation on Linux has no zlib API and the package may not add a C target, so zlib is
/// loaded at run time with dlopen(3) and called through its stable C ABI (the `z_stream`
/// layout has not changed since zlib 1.0). zlib checks the structure's size in
/// `deflateInit2_`/`inflateInit2_`, so a mismatch fails cleanly. Without zlib the server
/// simply does not advertise COMPRESS.
public final class Zlib: @unchecked Sendable {
    // @unchecked: immutable after init (function pointers).

    /// `z_stream` (zlib.h), LP64 layout.
    struct Stream {
        var nextIn: UnsafeMutablePointer<UInt8>?
        var availIn: UInt32 = 0
        var totalIn: UInt = 0
        var nextOut: UnsafeMutablePointer<UInt8>?
        var availOut: UInt32 = 0
        var totalOut: UInt = 0
        var message: UnsafePointer<CChar>?
        var state: OpaquePointer?
        var zalloc: OpaquePointer?
        var zfree: OpaquePointer?
        var opaque: OpaquePointer?
        var dataType: Int32 = 0
        var adler: UInt = 0
        var reserved: UInt = 0
    }

    // The `z_streamp` argument is passed as a raw pointer (a Swift struct is not a C type).
    typealias Init2 = @convention(c) (UnsafeMutableRawPointer, Int32, Int32, Int32, Int32, Int32, UnsafePointer<CChar>, Int32) -> Int32
    typealias InflateInit2 = @convention(c) (UnsafeMutableRawPointer, Int32, UnsafePointer<CChar>, Int32) -> Int32
    typealias Process = @convention(c) (UnsafeMutableRawPointer, Int32) -> Int32
    typealias End = @convention(c) (UnsafeMutableRawPointer) -> Int32
    typealias Version = @convention(c) () -> UnsafePointer<CChar>

    let deflateInit2: Init2
    let deflate: Process
    let deflateEnd: End
    let inflateInit2: InflateInit2
    let inflate: Process
    let inflateEnd: End
    let version: UnsafePointer<CChar>

    static let okay: Int32 = 0
    static let streamEnd: Int32 = 1
    static let bufferError: Int32 = -5
    static let syncFlush: Int32 = 2
    static let finish: Int32 = 4

    /// The system's zlib, or nil.
    public static let shared: Zlib? = Zlib()

    private init?() {
        var handle: UnsafeMutableRawPointer?
        for name in ["libz.so.1", "libz.so", "libz.dylib"] {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { break }
        }
        guard let handle else { return nil }
        func symbol<T>(_ name: String, _: T.Type) -> T? {
            guard let pointer = dlsym(handle, name) else { return nil }
            return unsafeBitCast(pointer, to: T.self)
        }
        guard let deflateInit2 = symbol("deflateInit2_", Init2.self), let deflate = symbol("deflate", Process.self),
              let deflateEnd = symbol("deflateEnd", End.self), let inflateInit2 = symbol("inflateInit2_", InflateInit2.self),
              let inflate = symbol("inflate", Process.self), let inflateEnd = symbol("inflateEnd", End.self),
              let version = symbol("zlibVersion", Version.self), MemoryLayout<Stream>.size == 112
        else { return nil }
        self.deflateInit2 = deflateInit2
        self.deflate = deflate
        self.deflateEnd = deflateEnd
        self.inflateInit2 = inflateInit2
        self.inflate = inflate
        self.inflateEnd = inflateEnd
        self.version = version()
    }
}

/// One direction of a DEFLATE stream: a compressed connection, or one gzip file. The
/// `z_stream` lives at a fixed address (zlib keeps a pointer back to it).
public final class DeflateCodec {
    public enum Direction: Sendable { case compress, decompress }

    public enum Format: Sendable {
        /// No header or trailer (RFC 4978 §3).
        case raw
        /// The gzip header and CRC-32 trailer (RFC 1952).
        case gzip
    }

    private let zlib: Zlib
    private let stream: UnsafeMutablePointer<Zlib.Stream>
    private let direction: Direction
    private var failed = false
    /// The stream's end was reached (a gzip file's trailer read and its CRC checked).
    public private(set) var ended = false
    /// Octets one input may inflate to before the input is considered hostile.
    private let maxExpansion: Int
    public static let defaultMaxExpansion = 64 * 1024 * 1024

    public init?(_ direction: Direction, format: Format = .raw, maxExpansion: Int = DeflateCodec.defaultMaxExpansion, zlib: Zlib? = Zlib.shared) {
        guard let zlib else { return nil }
        self.zlib = zlib
        self.direction = direction
        self.maxExpansion = maxExpansion
        stream = .allocate(capacity: 1)
        stream.initialize(to: Zlib.Stream())
        let size = Int32(MemoryLayout<Zlib.Stream>.size)
        // 32 KiB window (15 bits); negative: raw, no header (RFC 4978 §3); +16: gzip.
        let windowBits: Int32 = format == .raw ? -15 : 15 + 16
        let raw = UnsafeMutableRawPointer(stream)
        let result = direction == .compress
            ? zlib.deflateInit2(raw, 6, 8, windowBits, 8, 0, zlib.version, size)
            : zlib.inflateInit2(raw, windowBits, zlib.version, size)
        guard result == Zlib.okay else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            return nil
        }
    }

    deinit {
        _ = direction == .compress ? zlib.deflateEnd(UnsafeMutableRawPointer(stream)) : zlib.inflateEnd(UnsafeMutableRawPointer(stream))
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input` and flushes (Z_SYNC_FLUSH), so the peer can decode everything sent
    /// so far (RFC 4978 §4); or decompresses what `input` completes. Nil when the data is
    /// corrupt or inflates beyond the expansion limit.
    public func process(_ input: [UInt8]) -> [UInt8]? {
        run(input, flush: Zlib.syncFlush)
    }

    /// Compresses the last of the input and ends the stream (a gzip file gets its trailer).
    public func finish(_ input: [UInt8]) -> [UInt8]? {
        run(input, flush: Zlib.finish)
    }

    private func run(_ input: [UInt8], flush: Int32) -> [UInt8]? {
        guard !failed else { return nil }
        // zlib counts in 32 bits: large writes go in slices.
        let slice = 1 << 20
        guard input.count <= slice else {
            var output: [UInt8] = []
            var start = 0
            while start < input.count {
                let end = min(input.count, start + slice)
                guard let part = run(Array(input[start..<end]), flush: end == input.count ? flush : Zlib.syncFlush) else { return nil }
                output += part
                start += slice
            }
            return output
        }
        var output: [UInt8] = []
        var input = input
        let chunk = 64 * 1024
        var buffer = [UInt8](repeating: 0, count: chunk)
        let ok = input.withUnsafeMutableBufferPointer { inputBuffer -> Bool in
            stream.pointee.nextIn = inputBuffer.baseAddress
            stream.pointee.availIn = UInt32(inputBuffer.count)
            defer {
                stream.pointee.nextIn = nil
                stream.pointee.availIn = 0
            }
            while true {
                let result = buffer.withUnsafeMutableBufferPointer { outputBuffer -> Int32 in
                    stream.pointee.nextOut = outputBuffer.baseAddress
                    stream.pointee.availOut = UInt32(chunk)
                    defer { stream.pointee.nextOut = nil }
                    return direction == .compress
                        ? zlib.deflate(UnsafeMutableRawPointer(stream), flush)
                        : zlib.inflate(UnsafeMutableRawPointer(stream), Zlib.syncFlush)
                }
                let produced = chunk - Int(stream.pointee.availOut)
                output += buffer[0..<produced]
                if output.count > maxExpansion { return false }
                switch result {
                case Zlib.okay:
                    // More output may be pending while the buffer was filled completely;
                    // finishing goes on until the stream has ended.
                    if stream.pointee.availOut == 0 || flush == Zlib.finish { continue }
                    if stream.pointee.availIn == 0 { return true }
                case Zlib.bufferError:
                    // No progress possible: everything given has been used.
                    return true
                case Zlib.streamEnd:
                    ended = true
                    return true
                default:
                    return false
                }
            }
        }
        guard ok else {
            failed = true
            return nil
        }
        return output
    }
}

/// One-shot gzip (RFC 1952), for reports sent and received as files.
public enum Gzip {
    /// Nil without zlib.
    public static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        DeflateCodec(.compress, format: .gzip)?.finish(bytes)
    }

    /// Nil without zlib, for corrupt or truncated data, or beyond `limit` octets
    /// decompressed.
    public static func decompress(_ bytes: [UInt8], limit: Int) -> [UInt8]? {
        guard let codec = DeflateCodec(.decompress, format: .gzip, maxExpansion: limit), let output = codec.process(bytes), codec.ended else {
            return nil
        }
        return output
    }
}
