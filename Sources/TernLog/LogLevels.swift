import Synchronization

/// The operator's level setting: a default level plus per-package overrides.
///
/// Text form: comma-separated items; a bare level name sets the default, `pkg=level`
/// sets one package, whitespace around items and around `=` is ignored:
/// `"info"`, `"debug,smtpserver=trace,dns=traceauth"`. Without a bare level the default
/// is `info`. Package names are the lowercase module names used as logger labels.
public struct LogLevels: Sendable, Equatable, CustomStringConvertible {
    public var defaultLevel: TernLogLevel
    /// Overrides keyed by package (logger label).
    public var packages: [String: TernLogLevel]

    public init(defaultLevel: TernLogLevel = .info, packages: [String: TernLogLevel] = [:]) {
        self.defaultLevel = defaultLevel
        self.packages = packages
    }

    /// Parses the text form; see the type's documentation.
    public init(parsing text: String) throws(LogLevelsError) {
        var defaultLevel: TernLogLevel?
        var packages: [String: TernLogLevel] = [:]
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        for (index, rawItem) in items.enumerated() {
            let item = Self.trimmed(rawItem)
            if item.isEmpty {
                throw .emptyItem(position: index + 1)
            }
            guard let equals = item.firstIndex(of: "=") else {
                guard let level = TernLogLevel(name: item) else {
                    throw .unknownLevel(item, package: nil)
                }
                // Two defaults would make the result depend on the order; say so instead.
                if defaultLevel != nil {
                    throw .duplicateDefault(item)
                }
                defaultLevel = level
                continue
            }
            let package = Self.trimmed(item[..<equals])
            let levelName = Self.trimmed(item[item.index(after: equals)...])
            if package.isEmpty {
                throw .emptyPackageName(item: item)
            }
            // A name that can never match a label (e.g. "SMTPServer") would be ignored
            // silently; rejecting it tells the operator at once.
            if !Self.isValidPackageName(package) {
                throw .invalidPackageName(package)
            }
            guard let level = TernLogLevel(name: levelName) else {
                throw .unknownLevel(levelName, package: package)
            }
            if packages[package] != nil {
                throw .duplicatePackage(package)
            }
            packages[package] = level
        }
        self.init(defaultLevel: defaultLevel ?? .info, packages: packages)
    }

    /// The level in effect for `package` (a logger label).
    public func level(for package: String) -> TernLogLevel {
        packages[package] ?? defaultLevel
    }

    /// The canonical text form (default first, then packages sorted), parseable again;
    /// suitable for logging the configuration at startup.
    public var description: String {
        var items = [defaultLevel.name]
        for (package, level) in packages.sorted(by: { $0.key < $1.key }) {
            items.append("\(package)=\(level.name)")
        }
        return items.joined(separator: ",")
    }

    static func isValidPackageName(_ name: String) -> Bool {
        name.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }

    private static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}

/// Why a level setting could not be parsed. Each case carries the offending text.
public enum LogLevelsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An empty item, e.g. in `""`, `"info,"` or `"info,,dns=debug"`; position is 1-based.
    case emptyItem(position: Int)
    /// A level name that is not one of the `TernLogLevel` names; `package` is nil for the default.
    case unknownLevel(String, package: String?)
    /// `=level` without a package name; carries the whole (trimmed) item.
    case emptyPackageName(item: String)
    /// A package name with characters other than a-z, 0-9, `_`, `.`, `-`.
    case invalidPackageName(String)
    /// The same package given twice.
    case duplicatePackage(String)
    /// A second bare level; carries the second one.
    case duplicateDefault(String)

    public var description: String {
        let names = TernLogLevel.allCases.map(\.name).joined(separator: ", ")
        switch self {
        case .emptyItem(let position):
            return "log levels: item \(position) is empty"
        case .unknownLevel(let text, nil):
            return "log levels: unknown level \"\(text)\" (expected one of \(names))"
        case .unknownLevel(let text, let package?):
            return "log levels: unknown level \"\(text)\" for package \"\(package)\" (expected one of \(names))"
        case .emptyPackageName(let item):
            return "log levels: empty package name in \"\(item)\""
        case .invalidPackageName(let name):
            return "log levels: invalid package name \"\(name)\" (package names are lowercase module names: a-z, 0-9, _, ., -)"
        case .duplicatePackage(let name):
            return "log levels: package \"\(name)\" given more than once"
        case .duplicateDefault(let text):
            return "log levels: second default level \"\(text)\" (give one bare level at most)"
        }
    }
}

/// The level setting shared by all handlers; replaceable at runtime (configuration reload).
///
/// A lock rather than an actor: `LogHandler.log(event:)` and the `logLevel` getter are
/// synchronous and called from any thread, so they cannot await. The critical section
/// is a dictionary lookup, so contention is negligible.
public final class LogSettings: Sendable {
    private let state: Mutex<LogLevels>

    public init(_ levels: LogLevels = LogLevels()) {
        state = Mutex(levels)
    }

    /// The current setting; assigning takes effect for every handler's next event.
    public var levels: LogLevels {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// The level in effect for `package` now.
    public func level(for package: String) -> TernLogLevel {
        state.withLock { $0.level(for: package) }
    }
}
