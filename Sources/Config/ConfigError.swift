// Configuration errors: every one names the file, the line and column, and the key path.
//
// The operator reads these in a terminal or an editor, so the text form is the one
// compilers use (`FILE:LINE:COLUMN: KEY: message`), which editors turn into links.
// Reading never stops at the first problem: a file with three typos gets three errors.

/// One problem in a configuration file.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as the operator named it (relative paths stay relative).
    public var file: String
    /// 1-based line; nil only when the file could not be read at all.
    public var line: Int?
    /// 1-based column, counted in Unicode scalars; nil when not known.
    public var column: Int?
    /// Where in the document, e.g. `Listeners.public.SMTP.Port` or `Accounts.alice.Passwords[0]`;
    /// empty for problems with the file as a whole (unreadable, YAML syntax).
    public var keyPath: String
    /// What is wrong, and where it helps, what would be right.
    public var message: String

    public init(file: String, line: Int?, column: Int? = nil, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// `FILE:LINE:COLUMN: KEY: message`; parts that are not known are left out.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if !keyPath.isEmpty { text += keyPath + ": " }
        return text + message
    }
}

/// All problems found in one or more configuration files, in file and line order.
public struct ConfigErrors: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) {
        self.errors = errors
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}

/// A problem found by checking a parsed model, before it is tied to a place in a file: `path`
/// is the key path (`["Listeners", "public", "SMTP", "Port"]`); the reader that parsed the file
/// knows where each key was written and turns it into a `ConfigError`.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    public var path: [String]
    public var message: String

    public init(path: [String], message: String) {
        self.path = path
        self.message = message
    }

    public var description: String {
        let key = KeyPath(path).description
        return key.isEmpty ? message : "\(key): \(message)"
    }
}

/// Problems found in a model built in code rather than read from a file.
public struct ConfigIssues: Error, Sendable, Hashable, CustomStringConvertible {
    public var issues: [ConfigIssue]

    public init(_ issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}

/// A key path: mapping keys joined with ".", list positions as `[n]`.
struct KeyPath: Hashable, CustomStringConvertible {
    var components: [String]

    init(_ components: [String] = []) {
        self.components = components
    }

    func key(_ name: String) -> KeyPath {
        KeyPath(components + [name])
    }

    func index(_ position: Int) -> KeyPath {
        KeyPath(components + ["[\(position)]"])
    }

    var description: String {
        var text = ""
        for component in components {
            if component.hasPrefix("[") || text.isEmpty {
                text += component
            } else {
                text += "." + component
            }
        }
        return text
    }
}

extension Array where Element == ConfigError {
    /// Errors by file (in first-seen order) and then by line and column; the order of errors
    /// at the same place is kept.
    func sortedByPlace() -> [ConfigError] {
        var fileOrder: [String: Int] = [:]
        for error in self where fileOrder[error.file] == nil {
            fileOrder[error.file] = fileOrder.count
        }
        return enumerated().sorted { left, right in
            let a = left.element
            let b = right.element
            let fileA = fileOrder[a.file] ?? 0
            let fileB = fileOrder[b.file] ?? 0
            if fileA != fileB { return fileA < fileB }
            let lineA = a.line ?? 0
            let lineB = b.line ?? 0
            if lineA != lineB { return lineA < lineB }
            let columnA = a.column ?? 0
            let columnB = b.column ?? 0
            if columnA != columnB { return columnA < columnB }
            return left.offset < right.offset
        }.map(\.element)
    }
}
