// Checks on single values shared by both files: names, mailboxes, host names, addresses, paths.

import DNS
import Foundation

/// A host name, or why the text is not one.
enum HostnameResult {
    case success(Domain)
    case failure(String)
}

/// A host and a port, or why the text is not `HOST:PORT`.
enum HostAndPortResult {
    case success(host: String, port: Int)
    case failure(String)
}

enum Validation {
    /// Account names become directory names under DataDir/accounts, so they are limited to
    /// characters that are safe there: no "/", no "..", nothing hidden.
    static func accountNameProblem(_ name: String) -> String? {
        guard !name.isEmpty else { return "an account name cannot be empty" }
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-")
        }
        guard allowed, let first = name.unicodeScalars.first, first != ".", first != "_", first != "-", name.utf8.count <= 64 else {
            return "account name '\(name)' is not allowed: it becomes a directory name, so use at most 64 ASCII letters, digits, '.', '_' and '-', starting with a letter or digit"
        }
        return nil
    }

    /// Listener and ACME provider names appear in logs and metric labels.
    static func simpleNameProblem(_ name: String, what: String) -> String? {
        let allowed = !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")
        }
        return allowed ? nil : "\(what) name '\(name)' is not allowed: use up to 64 ASCII letters, digits, '_' and '-'"
    }

    /// IMAP mailbox names with "/" as the hierarchy separator (RFC 9051 §5.1): not empty, no
    /// empty level, no control characters.
    static func mailboxNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a mailbox name cannot be empty" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            return "mailbox name '\(name)' contains a control character"
        }
        if name.hasPrefix("/") || name.hasSuffix("/") || name.contains("//") {
            return "mailbox name '\(name)' has an empty level: '/' separates levels, as in 'Lists/Swift'"
        }
        if name.utf8.count > 255 {
            return "mailbox name is longer than 255 bytes"
        }
        return nil
    }

    /// A host name in any form `Domain` accepts (ASCII, A-labels, Unicode), or a message.
    static func hostname(_ text: String) -> HostnameResult {
        do {
            return .success(try Domain(text))
        } catch {
            return .failure("'\(text)' is not a valid host name: \(error)")
        }
    }

    /// `HOST:PORT`, HOST a host name or an IPv4 address, or `[IPv6]:PORT`; the port is
    /// required. The host comes back without brackets.
    static func hostAndPort(_ text: String) -> HostAndPortResult {
        let expected = "expected HOST:PORT (an IPv6 address as [ADDRESS]:PORT), found '\(text)'"
        guard let colon = text.lastIndex(of: ":") else { return .failure(expected) }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), let ip = IPAddress(String(host.dropFirst().dropLast())), ip.bytes.count == 16 else {
                return .failure("'\(host)' is not an IPv6 address in brackets")
            }
            host = ip.description
        } else if host.contains(":") {
            return .failure(expected)
        } else if IPAddress(host) == nil, case let .failure(message) = hostname(host) {
            return .failure(message + " (or an IP address)")
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), (1...65535).contains(port) else {
            return .failure("the port in '\(text)' must be a number from 1 to 65535")
        }
        return .success(host: host, port: port)
    }

    /// The local part of an address as a destination key: no "@", no spaces or controls.
    /// Quoting is not needed in the config file: the key is the local part as delivered.
    static func localpartProblem(_ localpart: String) -> String? {
        if localpart.isEmpty { return "the local part (before '@') cannot be empty" }
        if localpart.utf8.count > 64 {
            return "the local part '\(localpart)' is longer than 64 octets (RFC 5321 §4.5.3.1.1)"
        }
        if localpart.contains("@") { return "the local part '\(localpart)' contains '@'" }
        if localpart.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            return "the local part '\(localpart)' contains a space or control character"
        }
        return nil
    }

    /// A contact address such as the ACME one: local@domain, nothing fancy.
    static func emailProblem(_ text: String) -> String? {
        guard let at = text.lastIndex(of: "@") else { return "'\(text)' is not an email address (no '@')" }
        if let problem = localpartProblem(String(text[..<at])) { return problem }
        if case let .failure(message) = hostname(String(text[text.index(after: at)...])) { return message }
        return nil
    }

    static let logLevelNames = ["error", "info", "debug", "trace", "traceauth", "tracedata"]

    /// The `--log-level` syntax: comma-separated items, each a level (the default, at most
    /// once) or `package=level` (each package at most once); packages are [a-z0-9_.-]+.
    static func logLevelProblem(_ text: String) -> String? {
        var sawDefault = false
        var packages: Set<String> = []
        for rawItem in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = rawItem.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { return "empty item in '\(text)'" }
            guard let equals = item.firstIndex(of: "=") else {
                guard logLevelNames.contains(item) else {
                    return "unknown level '\(item)'; levels: \(logLevelNames.joined(separator: ", "))"
                }
                if sawDefault { return "more than one default level in '\(text)'" }
                sawDefault = true
                continue
            }
            let package = item[..<equals].trimmingCharacters(in: .whitespaces)
            let level = item[item.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            let validPackage = !package.isEmpty && package.unicodeScalars.allSatisfy { scalar in
                ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "." || scalar == "-"
            }
            guard validPackage else {
                return "invalid package name '\(package)': lowercase module names such as smtpserver, dns (letters a-z, digits, '_', '.', '-')"
            }
            guard logLevelNames.contains(level) else {
                return "unknown level '\(level)' for \(package); levels: \(logLevelNames.joined(separator: ", "))"
            }
            if !packages.insert(package).inserted { return "package '\(package)' is given twice" }
        }
        return nil
    }

    /// A path from the config file made absolute: relative paths are relative to `directory`.
    static func resolvePath(_ path: String, directory: String) -> String {
        let absolute = path.hasPrefix("/") ? path : (directory.hasSuffix("/") ? directory : directory + "/") + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    /// The directory a config file is in, absolute.
    static func directory(of file: String) -> String {
        URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
    }
}

extension Validation {
    /// 0.0.0.0 or ::, which bind every address of their family.
    static func isUnspecified(_ ip: IPAddress) -> Bool {
        ip.bytes.allSatisfy { $0 == 0 }
    }

    /// 127.0.0.0/8 or ::1.
    static func isLoopback(_ ip: IPAddress) -> Bool {
        switch ip {
        case let .v4(first, _, _, _): return first == 127
        case let .v6(bytes): return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
        }
    }
}

/// Reads a config file as UTF-8 text, or gives the error for it.
enum ConfigFile {
    static func read(_ path: String) -> Result<String, ConfigError> {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            return .failure(ConfigError(file: path, line: nil, keyPath: "", message: "cannot read the file: \(reason)"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ConfigError(file: path, line: nil, keyPath: "", message: "the file is not valid UTF-8"))
        }
        return .success(text)
    }
}
