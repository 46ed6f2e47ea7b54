// Loading both files together, as `tern config test` and startup do: every error of both
// files, plus the checks between them, in one list.

/// Both configuration files, parsed and validated together.
public struct TernConfig: Sendable, Equatable {
    public var staticConfig: StaticConfig
    public var domains: DomainsConfig
    /// The files as named when loading.
    public var staticPath: String
    public var domainsPath: String

    public init(staticConfig: StaticConfig, domains: DomainsConfig, staticPath: String, domainsPath: String) {
        self.staticConfig = staticConfig
        self.domains = domains
        self.staticPath = staticPath
        self.domainsPath = domainsPath
    }
}

public enum ConfigLoader {
    /// The static config file when none is named, as mox has config/mox.conf.
    public static let defaultStaticPath = "config/tern.yaml"
    /// The name of the domains file, which lives beside the static one.
    public static let domainsFileName = "domains.yaml"

    /// `domains.yaml` in the directory of the static file.
    public static func defaultDomainsPath(forStaticPath path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return domainsFileName }
        return String(path[...slash]) + domainsFileName
    }

    /// Loads and validates both files.
    ///
    /// - Parameters:
    ///   - domainsPath: nil for `domains.yaml` beside the static file.
    ///   - checkFiles: whether certificate and key files (TLS, DKIM) must exist.
    /// - Throws: every error of both files, static file first, each in line order.
    public static func load(staticPath: String, domainsPath: String? = nil, checkFiles: Bool = true) throws(ConfigErrors) -> TernConfig {
        let domainsPath = domainsPath ?? defaultDomainsPath(forStaticPath: staticPath)
        var errors: [ConfigError] = []

        var staticConfig: StaticConfig?
        var staticReader: DocumentReader?
        switch ConfigFile.read(staticPath) {
        case let .failure(error):
            errors.append(error)
        case let .success(text):
            let (config, reader) = StaticConfig.read(
                text, file: staticPath, directory: Validation.directory(of: staticPath), checkFiles: checkFiles)
            staticConfig = config
            staticReader = reader
        }

        var domains: DomainsConfig?
        var domainsReader: DocumentReader?
        switch ConfigFile.read(domainsPath) {
        case let .failure(error):
            errors.append(error)
        case let .success(text):
            (domains, domainsReader) = DomainsConfig.read(text, file: domainsPath)
        }

        if let staticConfig, let staticReader, let domains, let domainsReader {
            // The postmaster check needs a clean domains file: an account that failed to
            // parse would otherwise be reported missing as well.
            if domainsReader.errors.isEmpty {
                for issue in staticConfig.issues(with: domains) { staticReader.report(issue) }
            }
            // Routes with errors of their own were left out of the model; the rest are checked.
            for issue in staticConfig.routeIssues(domains) { domainsReader.report(issue) }
            if checkFiles { for issue in domains.keyFileIssues() { domainsReader.report(issue) } }
        }
        errors = (staticReader?.errors.sortedByPlace() ?? []) + errors + (domainsReader?.errors.sortedByPlace() ?? [])

        guard errors.isEmpty, let staticConfig, let domains else {
            throw ConfigErrors(errors)
        }
        return TernConfig(staticConfig: staticConfig, domains: domains, staticPath: staticPath, domainsPath: domainsPath)
    }

    /// Every error of both files; empty when the configuration is good. What `tern config
    /// test` prints.
    public static func check(staticPath: String, domainsPath: String? = nil, checkFiles: Bool = true) -> [ConfigError] {
        do {
            _ = try load(staticPath: staticPath, domainsPath: domainsPath, checkFiles: checkFiles)
            return []
        } catch {
            return error.errors
        }
    }
}
