// The settings of `tern sendmail`: where to submit (RFC 6409) and as whom. Like mox's
// /etc/moxsubmit.conf, a small file apart from the server's, so programs that call sendmail
// on a machine without a mail server can submit to one elsewhere.

import DNS
import Foundation
import Yams

/// A parsed submission configuration (`/etc/ternsubmit.yaml` by default).
public struct SubmitConfig: Sendable, Equatable {
    public enum Security: String, Sendable, Equatable, CaseIterable {
        /// STARTTLS (RFC 3207) required, on port 587 by default.
        case startTLS = "STARTTLS"
        /// TLS from the first octet (RFC 8314 §3.3), on port 465 by default.
        case implicitTLS = "ImplicitTLS"
        /// No TLS: only to a loopback address, where nothing crosses a network.
        case none = "None"
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// Submit even when the server's certificate does not verify (a self-signed one).
    public var ignoreVerificationErrors: Bool
    public var username: String?
    /// From `Password`, or the first line of `PasswordFile`.
    public var password: String?
    /// The envelope sender when the caller gives no -f.
    public var from: String?

    public init(
        host: String, port: Int, security: Security = .startTLS, ignoreVerificationErrors: Bool = false, username: String? = nil,
        password: String? = nil, from: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.ignoreVerificationErrors = ignoreVerificationErrors
        self.username = username
        self.password = password
        self.from = from
    }

    public static let defaultPath = "/etc/ternsubmit.yaml"
    static let keys = ["Host", "Port", "TLS", "IgnoreVerificationErrors", "Username", "Password", "PasswordFile", "From"]

    /// An example file with every key explained.
    public static let example = """
        # tern sendmail: where and how to submit (RFC 6409).
        Host: mail.example.com        # host name or IP address of the submission server
        # Port: 587                   # default: 587 with STARTTLS, 465 with ImplicitTLS
        # TLS: STARTTLS               # STARTTLS, ImplicitTLS, or None (loopback hosts only)
        # IgnoreVerificationErrors: false
        Username: alice@example.com
        PasswordFile: /etc/ternsubmit.password   # or Password: ... (keep this file private)
        From: alice@example.com       # envelope sender when sendmail gets no -f

        """

    /// Reads and checks the file; relative `PasswordFile` paths are relative to its
    /// directory.
    public static func load(path: String) throws(ConfigErrors) -> SubmitConfig {
        switch ConfigFile.read(path) {
        case let .failure(error): throw ConfigErrors([error])
        case let .success(text): return try parse(text, file: path, directory: Validation.directory(of: path))
        }
    }

    public static func parse(_ text: String, file: String, directory: String) throws(ConfigErrors) -> SubmitConfig {
        let reader = DocumentReader(file: file)
        let config = read(reader, text, directory: directory)
        guard let config, reader.errors.isEmpty else { throw ConfigErrors(reader.errors.sortedByPlace()) }
        return config
    }

    private static func read(_ reader: DocumentReader, _ text: String, directory: String) -> SubmitConfig? {
        guard let node = reader.compose(text), let root = reader.fields(node, KeyPath(), owner: .start, known: keys) else { return nil }
        var host = root.string("Host", required: true)
        if let text = host, IPAddress(text) == nil, case let .failure(message) = Validation.hostname(text) {
            reader.error(KeyPath(["Host"]), message + " (or an IP address)", at: root.position("Host"))
            host = nil
        }
        var security = Security.startTLS
        if let text = root.string("TLS") {
            if let value = Security(rawValue: text) {
                security = value
            } else {
                let names = Security.allCases.map(\.rawValue).joined(separator: ", ")
                reader.error(KeyPath(["TLS"]), "expected one of \(names), found '\(text)'", at: root.position("TLS"))
            }
        }
        let port = root.int("Port", default: security == .implicitTLS ? 465 : 587, range: 1...65535)
        let ignore = root.bool("IgnoreVerificationErrors", default: false)
        let username = root.string("Username")
        var password = root.string("Password")
        if let file = root.string("PasswordFile") {
            if password != nil {
                reader.error(KeyPath(["PasswordFile"]), "give either Password or PasswordFile, not both", at: root.position("PasswordFile"))
            }
            let path = Validation.resolvePath(file, directory: directory)
            switch ConfigFile.read(path) {
            case let .failure(error):
                reader.error(KeyPath(["PasswordFile"]), "\(path): \(error.message)", at: root.position("PasswordFile"))
            case let .success(text):
                password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map { String($0).trimmingCharacters(in: .init(charactersIn: "\r")) }
                if password?.isEmpty ?? true {
                    reader.error(KeyPath(["PasswordFile"]), "\(path) is empty", at: root.position("PasswordFile"))
                }
            }
        }
        if username != nil, password == nil, !root.has("Password"), !root.has("PasswordFile") {
            reader.error(KeyPath(["Username"]), "needs Password or PasswordFile", at: root.position("Username"))
        }
        if username == nil, root.has("Password") || root.has("PasswordFile") {
            reader.error(KeyPath(["Username"]), "required key is missing: a password needs a username", at: root.position("Password") ?? root.position("PasswordFile"))
        }
        if security == .none, let text = host, !isLoopback(text) {
            // RFC 8314 §3 and RFC 4954 §4: credentials and mail only over TLS across a network.
            reader.error(KeyPath(["TLS"]), "None is allowed only for a loopback host (127.0.0.1, ::1, localhost); use STARTTLS or ImplicitTLS", at: root.position("TLS"))
        }
        let from = root.string("From")
        if let from, !isPlainAddress(from) {
            reader.error(KeyPath(["From"]), "expected an address like alice@example.com, found '\(from)'", at: root.position("From"))
        }
        guard let host else { return nil }
        return SubmitConfig(
            host: host, port: port, security: security, ignoreVerificationErrors: ignore, username: username, password: password, from: from)
    }

    static func isLoopback(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        switch IPAddress(host) {
        case let .v4(a, _, _, _)?: return a == 127
        case let .v6(bytes)?: return bytes == [UInt8](repeating: 0, count: 15) + [1]
        case nil: return false
        }
    }

    /// local@domain without display name, brackets or spaces.
    static func isPlainAddress(_ text: String) -> Bool {
        guard let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        return !local.isEmpty && !domain.isEmpty && !text.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "\t" })
    }
}
