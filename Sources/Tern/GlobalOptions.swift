import ArgumentParser
import DNS
import Foundation
import Logging
import TernLog

/// `--log-level`, taken by every command.
struct LogOptions: ParsableArguments {
    @Option(
        name: .customLong("log-level"),
        help: ArgumentHelp(
            "Log levels: a default and per-package overrides, e.g. \"info,dns=debug\". Levels: error, info, debug, trace, traceauth (may show credentials), tracedata (message data).",
            valueName: "levels"))
    var logLevel: String = "info"

    /// Installs the logfmt handler on stderr; once per process, before anything logs.
    func bootstrap() throws {
        let levels: LogLevels
        do {
            levels = try LogLevels(parsing: logLevel)
        } catch {
            throw ValidationError("--log-level: \(error)")
        }
        LogfmtHandler.bootstrap(settings: LogSettings(levels))
    }
}

/// `--resolver`, taken by every command that looks up DNS.
struct ResolverOptions: ParsableArguments {
    @Option(
        name: .customLong("resolver"),
        help: ArgumentHelp(
            "Recursive resolver to ask, as HOST:PORT (IPv6 as [ADDR]:PORT), instead of those in /etc/resolv.conf. Environment: TERN_RESOLVER.",
            valueName: "host:port"))
    var resolver: String?

    @Flag(name: .customLong("tcp"), help: "Ask over TCP from the start instead of UDP.")
    var forceTCP = false

    /// The resolver configuration: the flag, else TERN_RESOLVER, else /etc/resolv.conf.
    func configuration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StubResolverConfiguration {
        var configuration: StubResolverConfiguration
        if let server = resolver ?? environment["TERN_RESOLVER"].flatMap({ $0.isEmpty ? nil : $0 }) {
            do {
                configuration = StubResolverConfiguration(servers: [try StubResolverConfiguration.parseServer(server)])
            } catch {
                throw ValidationError("--resolver: \(error)")
            }
        } else {
            let text = (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? ""
            configuration = StubResolverConfiguration.fromResolvConf(text)
        }
        if forceTCP { configuration.forceTCP = true }
        return configuration
    }

    func makeResolver() throws -> StubResolver {
        StubResolver(configuration: try configuration())
    }
}
