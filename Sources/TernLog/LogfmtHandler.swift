import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A swift-log handler writing one logfmt line per event, filtered by the package's
/// `TernLogLevel` from a shared `LogSettings`.
///
/// Output levels: critical and error print as `error`, warning as `warn` (filtered
/// like info), notice and info as `info`, debug as `debug`, trace as `trace`, or as
/// `traceauth` / `tracedata` when marked by `Logger.traceAuth` / `Logger.traceData`.
///
/// Metadata precedence, lowest to highest: handler metadata (`logger[metadataKey:]`),
/// the metadata provider, per-call metadata; the event's error, if any, is added as
/// `err` unless the metadata already has an `err`. Metadata keys that would read as
/// the line's own fields (`l`, `m`, `pkg`) are printed with a leading `_`.
public struct LogfmtHandler: LogHandler {
    /// Receives each complete line, newline included. Called concurrently.
    public typealias Output = @Sendable (String) -> Void

    /// The logger label, printed as `pkg=`.
    public let label: String
    public let settings: LogSettings
    private let output: Output
    /// The label as looked up in the settings: package names are lowercase.
    private let package: String
    /// A per-Logger-copy restriction set through `logLevel`; `.trace` means none.
    private var localFloor: Logger.Level = .trace

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(
        label: String,
        settings: LogSettings,
        metadataProvider: Logger.MetadataProvider? = nil,
        output: @escaping Output = LogfmtHandler.standardError
    ) {
        self.label = label
        self.settings = settings
        self.metadataProvider = metadataProvider
        self.output = output
        self.package = label.lowercased()
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Getter: the least severe swift-log level that can produce output for this package
    /// right now (follows `settings`), so swift-log skips building messages that would be
    /// filtered. Setter: an additional, local restriction on this Logger value only: the
    /// effective level is the stricter of the operator's package level and the value set.
    /// Code can thereby quiet a chatty logger, but never make one louder than the operator
    /// configured, so in particular it cannot turn on traceauth or tracedata output.
    /// Setting `.trace` removes the restriction.
    public var logLevel: Logger.Level {
        get { max(settings.level(for: package).minimumLoggerLevel, localFloor) }
        set { localFloor = newValue }
    }

    public func log(event: LogEvent) {
        let required: TernLogLevel
        let printed: String
        if let marker = event.metadata?[TernLogLevel.markerMetadataKey] {
            // Marked lines carry secrets or message data whatever their swift-log level;
            // an unknown marker value fails closed as the most verbose level.
            if case .string(let name) = marker, name == TernLogLevel.traceauth.name {
                required = .traceauth
            } else {
                required = .tracedata
            }
            printed = required.name
        } else {
            (required, printed) = Self.classify(event.level)
        }
        guard event.level >= localFloor, required <= settings.level(for: package) else { return }

        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided) { _, provided in provided }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit) { _, explicit in explicit }
        }
        // Removed from every source, not just the call's: the marker is never printed.
        merged[TernLogLevel.markerMetadataKey] = nil
        if let error = event.error, merged["err"] == nil {
            merged["err"] = .string(String(describing: error))
        }
        output(Self.render(level: printed, message: event.message.description, label: label, metadata: merged))
    }

    /// The line for one event; exact format in the module documentation.
    static func render(level: String, message: String, label: String, metadata: Logger.Metadata) -> String {
        var line = "l="
        line += level
        line += " m="
        Logfmt.appendValue(message, to: &line)
        line += " pkg="
        Logfmt.appendValue(label, to: &line)
        var rest = metadata
        if let cid = rest.removeValue(forKey: "cid") {
            line += " cid="
            Logfmt.appendValue(Logfmt.flatten(cid), to: &line)
        }
        for entry in Logfmt.sortedEntries(rest) {
            line += " "
            switch entry.key {
            case "l", "m", "pkg": line += "_" + entry.key
            default: line += entry.key
            }
            line += "="
            Logfmt.appendValue(Logfmt.flatten(entry.value), to: &line)
        }
        line += "\n"
        return line
    }

    /// The TernLogLevel needed to print an unmarked event, and its printed name.
    static func classify(_ level: Logger.Level) -> (TernLogLevel, String) {
        switch level {
        case .critical, .error: (.error, "error")
        case .warning: (.info, "warn")
        case .notice, .info: (.info, "info")
        case .debug: (.debug, "debug")
        case .trace: (.trace, "trace")
        }
    }

    /// Writes each line to standard error with a single write(2), so lines written
    /// concurrently by different threads do not interleave (no buffering in between, and
    /// the kernel writes one call's bytes contiguously to a file or terminal, and
    /// atomically to a pipe up to PIPE_BUF). Only a short write, e.g. of a huge line
    /// to a pipe, is continued with further calls. Errors drop the line: with stderr
    /// gone there is nowhere to report them, and logging must never crash the server.
    public static let standardError: Output = { line in
        var line = line
        line.withUTF8 { bytes in
            guard var next = bytes.baseAddress else { return }
            var remaining = bytes.count
            while remaining > 0 {
                let written = write(2, next, remaining)
                if written > 0 {
                    next += written
                    remaining -= written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    /// A factory for `LoggingSystem.bootstrap(_:metadataProvider:)`.
    public static func factory(
        settings: LogSettings,
        output: @escaping Output = LogfmtHandler.standardError
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        { label, metadataProvider in
            LogfmtHandler(label: label, settings: settings, metadataProvider: metadataProvider, output: output)
        }
    }

    /// Makes this handler the process's swift-log backend. Call once, from the
    /// executable at startup: swift-log traps on a second bootstrap.
    public static func bootstrap(
        settings: LogSettings,
        metadataProvider: Logger.MetadataProvider? = nil,
        output: @escaping Output = LogfmtHandler.standardError
    ) {
        LoggingSystem.bootstrap(factory(settings: settings, output: output), metadataProvider: metadataProvider)
    }
}
