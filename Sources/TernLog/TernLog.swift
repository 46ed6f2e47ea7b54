/// TernLog: Tern's swift-log backend. It writes one logfmt line per event and decides,
/// per package, which events are written.
///
/// Flow:
///
/// - The executable, and only the executable, parses the operator's level setting
///   (`LogLevels(parsing: "info,smtpserver=trace")`), keeps it in a shared `LogSettings`
///   and calls `LogfmtHandler.bootstrap(settings:)` once at startup. A configuration
///   reload later replaces `settings.levels`; every existing `Logger` follows at once,
///   because handlers read the settings on each event instead of copying them.
/// - Libraries never import this module's handler: they create a plain swift-log
///   `Logger(label: "<package>")`, where the label is their lowercase module name
///   ("smtpserver", "dns"). The label is printed as `pkg=` and selects the package's
///   level. A service attaches a connection id from `ConnectionIDs` as
///   `logger[metadataKey: "cid"]`, so every line of one connection can be found with
///   a single grep.
/// - Levels, from least to most verbose: error, info, debug, trace, traceauth,
///   tracedata. swift-log has no levels beyond `.trace`, so the two extra ones are
///   `.trace` events carrying a reserved metadata marker, written with the
///   `Logger.traceAuth` / `Logger.traceData` extensions below (the only part of this
///   module libraries use). They are separate levels so an operator can turn on
///   `trace` to follow a protocol exchange without passwords (traceauth) or whole
///   messages (tracedata) ending up in the log.
///
/// Line format (exact): `l=<level> m=<message> pkg=<label>`, then `cid=<id>` when
/// present, then the remaining metadata sorted by key, then "\n". Quoting rules are
/// in `Logfmt`.
import Logging

/// Verbosity of a package's log output; each case includes everything before it.
public enum TernLogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case error
    case info
    case debug
    case trace
    /// Lines that may contain credentials (AUTH exchanges, passwords, tokens).
    case traceauth
    /// Bulk message data (DATA/APPEND contents, fetched bodies).
    case tracedata

    /// Parses the lowercase level name (as written in the configuration); nil for anything else.
    public init?(name: String) {
        switch name {
        case "error": self = .error
        case "info": self = .info
        case "debug": self = .debug
        case "trace": self = .trace
        case "traceauth": self = .traceauth
        case "tracedata": self = .tracedata
        default: return nil
        }
    }

    /// The lowercase name, as parsed by `init(name:)` and printed as `l=`.
    public var name: String {
        switch self {
        case .error: "error"
        case .info: "info"
        case .debug: "debug"
        case .trace: "trace"
        case .traceauth: "traceauth"
        case .tracedata: "tracedata"
        }
    }

    public var description: String { name }

    public static func < (lhs: TernLogLevel, rhs: TernLogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// The least severe swift-log level that can still produce output at this level.
    /// Reported as the handler's `logLevel` so swift-log skips building messages that
    /// would be filtered anyway. Warnings are filtered like info (so `.info`, not
    /// `.warning`, for `info`); both extra trace levels are swift-log `.trace`.
    public var minimumLoggerLevel: Logger.Level {
        switch self {
        case .error: .error
        case .info: .info
        case .debug: .debug
        case .trace, .traceauth, .tracedata: .trace
        }
    }

    /// The reserved metadata key that marks a `.trace` event as traceauth or tracedata;
    /// its value is the level's name. `LogfmtHandler` reads it from the per-call
    /// metadata only and never prints it. Chosen so no real metadata key collides.
    public static let markerMetadataKey = "_ternlog.level"
}

extension Logger {
    /// Logs at swift-log `.trace`, marked as traceauth: the line is written only when the
    /// package's level is traceauth or tracedata. Use it for anything that may contain a
    /// secret (an AUTH line, a decoded SASL response), so `trace` alone stays safe.
    public func traceAuth(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        // The autoclosures are passed on unevaluated: swift-log evaluates them only after
        // the level check, so a disabled traceauth line costs no formatting.
        self.log(
            level: .trace,
            message(),
            metadata: Self.ternMarked(metadata(), .traceauth),
            file: file,
            function: function,
            line: line
        )
    }

    /// Logs at swift-log `.trace`, marked as tracedata: the line is written only when the
    /// package's level is tracedata. Use it for message contents and other bulk data.
    public func traceData(
        _ message: @autoclosure () -> Logger.Message,
        metadata: @autoclosure () -> Logger.Metadata? = nil,
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        self.log(
            level: .trace,
            message(),
            metadata: Self.ternMarked(metadata(), .tracedata),
            file: file,
            function: function,
            line: line
        )
    }

    private static func ternMarked(_ metadata: Logger.Metadata?, _ level: TernLogLevel) -> Logger.Metadata {
        var marked = metadata ?? [:]
        marked[TernLogLevel.markerMetadataKey] = .string(level.name)
        return marked
    }
}
