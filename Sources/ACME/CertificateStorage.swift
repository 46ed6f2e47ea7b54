#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import DurableFiles
import Foundation

/// The files of one certificate manager in its storage directory: the ACME account key and
/// the certificate key and chain, all PEM. Keys are secrets: the directory is made 0700 and
/// every file 0600, and each file is replaced atomically (written to a temporary name,
/// fsynced, renamed, directory fsynced), so a crash leaves the old file or the new one,
/// never half of one. Keys are made once and then kept.
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
        try key(at: accountKeyPath, what: "account key")
    }

    /// The key of every certificate of these names, created and stored on first use and kept
    /// through renewals, so that a TLSA record of its public key stays valid (RFC 7671 §5.1:
    /// DANE-EE with the SPKI selector survives a new certificate only for the same key).
    /// Asking for it before the first certificate lets the record be published first.
    public func certificateKey() throws -> P256.Signing.PrivateKey {
        try key(at: certificateKeyPath, what: "certificate key")
    }

    /// The stored certificate key and chain, nil when either file is missing.
    public func certificate() throws -> (keyPEM: String, chainPEM: String)? {
        guard let key = try read(certificateKeyPath), let chain = try read(certificateChainPath) else { return nil }
        return (key, chain)
    }

    /// The chain of a certificate for `certificateKey()`, which is already stored: a chain is
    /// only ever next to its key.
    public func storeChain(_ chainPEM: String) throws {
        try write(chainPEM, to: certificateChainPath)
    }

    /// The key at `path`, made when there is none. A key that does not parse is an error, not
    /// replaced: a new key would silently invalidate whatever names the old one.
    private func key(at path: String, what: String) throws -> P256.Signing.PrivateKey {
        if let pem = try read(path) {
            do { return try P256.Signing.PrivateKey(pemRepresentation: pem) } catch {
                throw StorageError(operation: "parse \(what)", path: path, detail: "\(error)")
            }
        }
        let key = P256.Signing.PrivateKey()
        guard try create(key.pemRepresentation, at: path) else {
            // Another process (say `tern config dnsrecords` beside a starting server) made one
            // meanwhile: that one is the key.
            return try self.key(at: path, what: what)
        }
        return key
    }

    func read(_ path: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw StorageError(operation: "read", path: path, detail: "\(error)")
        }
    }

    /// Replaces the file at `path` with `text`.
    func write(_ text: String, to path: String) throws {
        let temporary = try writeTemporary(text, for: path)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StorageError(operation: "rename", path: path, errno: code)
        }
        try syncDirectory()
    }

    /// Writes `text` to `path` unless a file is there; returns whether it did. link(2) fails
    /// with EEXIST instead of replacing, so of two processes creating the same file at once
    /// exactly one succeeds.
    func create(_ text: String, at path: String) throws -> Bool {
        let temporary = try writeTemporary(text, for: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw StorageError(operation: "link", path: path, errno: errno)
        }
        try syncDirectory()
        return true
    }

    /// `text` in a new file beside `path`, fsynced, for renaming or linking into place.
    private func writeTemporary(_ text: String, for path: String) throws -> String {
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
        if let code = FileIO.writeAll(descriptor, Array(text.utf8)) {
            close(descriptor)
            throw StorageError(operation: "write", path: temporary, errno: code)
        }
        guard fsync(descriptor) == 0 else {
            let code = errno
            close(descriptor)
            throw StorageError(operation: "fsync", path: temporary, errno: code)
        }
        close(descriptor)
        ok = true
        return temporary
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
