import Logging
import Synchronization
import TernLog

/// Collects the handler's output lines, as the bytes would be written.
final class Capture: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { storage.withLock { $0 } }
    var text: String { lines.joined() }

    var output: LogfmtHandler.Output {
        { line in self.storage.withLock { $0.append(line) } }
    }
}

/// A logger for `label` writing into a fresh capture; never touches LoggingSystem.
func makeLogger(
    _ label: String = "smtpserver",
    levels: String = "info",
    provider: Logger.MetadataProvider? = nil
) throws -> (Logger, Capture, LogSettings) {
    let capture = Capture()
    let settings = LogSettings(try LogLevels(parsing: levels))
    let logger = Logger(label: label) { label in
        LogfmtHandler(label: label, settings: settings, metadataProvider: provider, output: capture.output)
    }
    return (logger, capture, settings)
}
