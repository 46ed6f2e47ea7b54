#if canImport(Glibc)
import CFileSystem
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

// DurableFiles: the file operations of Tern's durability rule (DESIGN.md: a message is
// acknowledged only once nothing can lose it: its file and directory fsynced and its
// transaction committed, or, for the Store's small messages, its octets committed in the
// transaction and the file synced afterwards), shared by the Store (mailbox messages)
// and the Queue (outbound messages).

/// A file operation that failed: the operation, the path and errno.
public struct FileIOError: Error, Hashable, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}

/// The few file operations the durability rule needs, on raw system calls so that every
/// fsync is explicit: a message file is fsynced, then the directory that names it (a new
/// directory entry is durable only once its directory is fsynced, POSIX fsync(2)), and
/// only then is the database row that points at it committed; unless the caller passes
/// `sync: false` because the commit itself carries the octets.
public enum FileIO {
    public static let directoryMode: mode_t = 0o750
    public static let fileMode: mode_t = 0o640
    static let copyChunk = 64 * 1024

    static func error(_ operation: String, _ path: String, _ code: Int32 = errno) -> FileIOError {
        FileIOError(operation: operation, path: path, errno: code)
    }

    /// Creates `path` if missing; when it was created, fsyncs its parent so the new entry
    /// survives a crash. Returns whether it was created.
    @discardableResult
    public static func makeDirectory(_ path: String) throws(FileIOError) -> Bool {
        if mkdir(path, directoryMode) == 0 {
            try syncDirectory(parent(of: path))
            return true
        }
        let code = errno
        guard code == EEXIST else { throw error("mkdir", path, code) }
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else { throw error("mkdir", path, ENOTDIR) }
        return false
    }

    /// Creates `path` and any missing superiors, each made durable.
    public static func makeDirectories(_ path: String) throws(FileIOError) {
        var missing: [String] = []
        var current = path
        var info = stat()
        while !current.isEmpty, current != "/", stat(current, &info) != 0 {
            missing.append(current)
            current = parent(of: current)
        }
        for directory in missing.reversed() { try makeDirectory(directory) }
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func syncDirectory(_ path: String) throws(FileIOError) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw error("open", path) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw error("fsync", path) }
    }

    public static func syncFile(_ path: String) throws(FileIOError) {
        guard try syncFileIfPresent(path) else { throw error("open", path, ENOENT) }
    }

    /// Puts a complete file at `destination`: a hard link when both are on one filesystem
    /// (no copy, and the data is already on that disk), else a copy. Then fsyncs it, unless
    /// `sync` is false because the caller makes the content durable another way (the Store
    /// keeps a small message's octets in its database commit until the file is synced).
    /// The destination name belongs to the caller; if a file is there already it is an
    /// orphan of an earlier crash (message file ids are never reused once committed) and is
    /// replaced.
    public static func place(from source: String, to destination: String, sync: Bool = true) throws(FileIOError) {
        if link(source, destination) != 0 {
            var code = errno
            if code == EEXIST {
                unlink(destination)
                if link(source, destination) == 0 { code = 0 } else { code = errno }
            }
            if code == EXDEV || code == EPERM || code == EMLINK {
                try copy(from: source, to: destination, sync: sync)
                return
            } else if code != 0 {
                throw error("link", destination, code)
            }
        }
        if sync { try syncFile(destination) }
    }

    public static func copy(from source: String, to destination: String, sync: Bool = true) throws(FileIOError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw error("open", source) }
        defer { close(input) }
        let output = try createExclusive(destination)
        var ok = false
        defer {
            close(output)
            if !ok { unlink(destination) }
        }
        var buffer = [UInt8](repeating: 0, count: copyChunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw error("read", source)
            }
            if count == 0 { break }
            if let code = buffer.withUnsafeBytes({ writeAll(output, UnsafeRawBufferPointer(rebasing: $0[0..<count])) }) {
                throw error("write", destination, code)
            }
        }
        guard !sync || fsync(output) == 0 else { throw error("fsync", destination) }
        ok = true
    }

    /// Writes `bytes` as a new file at `destination` and fsyncs it (unless `sync` is false,
    /// as for `place`).
    public static func write(_ bytes: [UInt8], to destination: String, sync: Bool = true) throws(FileIOError) {
        let output = try createExclusive(destination)
        var ok = false
        defer {
            close(output)
            if !ok { unlink(destination) }
        }
        if let code = bytes.withUnsafeBytes({ writeAll(output, $0) }) {
            throw error("write", destination, code)
        }
        guard !sync || fsync(output) == 0 else { throw error("fsync", destination) }
        ok = true
    }

    /// Makes `path` hold exactly `bytes`, whatever was there (nothing, a partial file):
    /// written under a temporary name beside it, then renamed over it. Nothing is synced:
    /// the caller makes it durable afterwards (`sync(files:)`). A crash midway leaves `path`
    /// as it was and at most the temporary file, whose name (`<name>.restoring`) is no
    /// message file's.
    public static func replace(_ path: String, with bytes: [UInt8]) throws(FileIOError) {
        let temporary = path + ".restoring"
        try write(bytes, to: temporary, sync: false)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw error("rename", path, code)
        }
    }

    /// Makes `files` durable, and the directory entries that name them; files that no longer
    /// exist are skipped. On Linux one syncfs(2) of their filesystem: a single journal
    /// commit and device flush, where an fsync of each file and directory costs one each
    /// (it also writes whatever else is pending on that filesystem). Elsewhere an fsync of
    /// each.
    public static func sync(files: [String]) throws(FileIOError) {
        #if os(Linux)
        // Any of their directories names the filesystem; the first one still there.
        for directory in files.lazy.map(parent(of:)) {
            let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else {
                if errno == ENOENT { continue }
                throw error("open", directory)
            }
            defer { close(descriptor) }
            guard tern_syncfs(descriptor) == 0 else { throw error("syncfs", directory) }
            return
        }
        #else
        var directories: [String] = []
        for path in files where try syncFileIfPresent(path) {
            let directory = parent(of: path)
            if !directories.contains(directory) { directories.append(directory) }
        }
        for directory in directories { try syncDirectory(directory) }
        #endif
    }

    /// fsyncs `path` if it exists; returns false when it does not (removed meanwhile).
    public static func syncFileIfPresent(_ path: String) throws(FileIOError) -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return false }
            throw error("open", path)
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw error("fsync", path) }
        return true
    }

    /// O_EXCL so two writers can never share a file; an existing file is an orphan (see
    /// `place`) and is replaced.
    private static func createExclusive(_ path: String) throws(FileIOError) -> Int32 {
        var descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if descriptor < 0, errno == EEXIST {
            unlink(path)
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        }
        guard descriptor >= 0 else { throw error("create", path) }
        return descriptor
    }

    /// Writes all of `bytes` to `descriptor`, going on after a short write and retrying a
    /// write interrupted by a signal (EINTR); the errno on failure, nil once all is written.
    public static func writeAll(_ descriptor: Int32, _ bytes: some ContiguousBytes) -> Int32? {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                guard let base = raw.baseAddress else { return nil }
                let count = systemWrite(descriptor, base + done, raw.count - done)
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                done += count
            }
            return nil
        }
    }

    /// Size of a regular file, nil when it does not exist or is not a regular file.
    public static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Best effort: a file that stays behind is found by the cleaner on the next start.
    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Opens `path` and takes an exclusive flock(2) on it; nil when another holder has it.
    /// The lock lasts until `unlock` or the process ends, so a crashed server never leaves
    /// a stale lock behind.
    public static func lockExclusively(_ path: String) throws(FileIOError) -> Int32? {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, fileMode)
        guard descriptor >= 0 else { throw error("open", path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }

    /// Releases the lock explicitly before closing: a flock belongs to the open file
    /// description, which a child process forked meanwhile (before its exec closes it) also
    /// holds, so closing alone could leave the directory locked for a moment.
    public static func unlock(_ descriptor: Int32) {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Names in a directory, without "." and "..". Empty when it cannot be read.
    public static func list(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }
}

/// Runs blocking file work (fsync can take tens of milliseconds) off Swift's cooperative
/// thread pool, which has only as many threads as cores.
public func blockingIO<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
