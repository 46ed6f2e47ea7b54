#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation

/// The files of one certificate manager in its storage directory: the ACME account key and
/// the certificate key and chain, all PEM. Keys are secrets: the directory is made 0700 and
/// every file 0600, and each file is replaced atomically (written to a temporary name,
/// fsynced, renamed, directory fsynced), so a crash leaves the old file or the new one,
/// never half of one.
public struct CertificateStorage: Sendable {
    public let directory: String
    /// The base name of the certificate files: `<name>.key.pem` and `<name>.crt.pem`.
    public let name: String

    public init(directory: String, name: String) {
        self.directory = directory
        self.name = name
    }

    public var accountKeyPath: String { directory + "/account-key.pem" }
    public var certificateKeyPath: String { directory + "/\(name).key.pem" }
    public var certificateChainPath: String { directory + "/\(name).crt.pem" }

    /// The account key, created and stored on first use.
    public func accountKey() throws -> P256.Signing.PrivateKey {
        if let pem = try read(accountKeyPath) {
            do { return try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
                throw StorageError(operation: "parse account key", path: accountKeyPath, detail: "\(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        try write(key.pemRepresentation, to: accountKeyPath)
        return key
    }

    /// The stored certificate key and chain, nil when either file is missing.
    public func certificate() throws -> (keyPEM: String, chainPEM: String)? {
        guard let key = try read(certificateKeyPath), let chain = try read(certificateChainPath) else { return nil }
        return (key, chain)
    }

    /// The key first: a chain is only ever next to a key that was written before it.
    public func storeCertificate(keyPEM: String, chainPEM: String) throws {
        try write(keyPEM, to: certificateKeyPath)
        try write(chainPEM, to: certificateChainPath)
    }

    func read(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StorageError(operation: "read", path: path, detail: "\(error)")
        }
    }

    func write(_ text: String, to path: String) throws {
        try makeDirectory()
        // A name of its own (two managers may share the account key file), created new with
        // 0600 so the secret is never readable by others, not even for a moment.
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StorageError(operation: "open", path: temporary, errno: errno) }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        // The umask may have taken bits away from O_CREAT's mode, never added any; this
        // makes it exactly 0600.
        guard fchmod(descriptor, 0o600) == 0 else {
            let code = errno
            close(descriptor)
            throw StorageError(operation: "fchmod", path: temporary, errno: code)
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { buffer in
                systemWrite(descriptor, buffer.baseAddress, buffer.count)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(descriptor)
                throw StorageError(operation: "write", path: temporary, errno: code)
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            throw StorageError(operation: "fsync", path: temporary, errno: code)
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else { throw StorageError(operation: "rename", path: path, errno: errno) }
        ok = true
        try syncDirectory()
    }

    private func makeDirectory() throws {
        var info = stat()
        if stat(directory, &info) == 0 { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    private func syncDirectory() throws {
        let descriptor = open(directory, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StorageError(operation: "open", path: directory, errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StorageError(operation: "fsync", path: directory, errno: errno) }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

public struct StorageError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var detail: String

    init(operation: String, path: String, detail: String) {
        self.operation = operation
        self.path = path
        self.detail = detail
    }

    init(operation: String, path: String, errno code: Int32) {
        self.init(operation: operation, path: path, detail: String(cString: strerror(code)))
    }

    public var description: String { "\(operation) \(path): \(detail)" }
}
