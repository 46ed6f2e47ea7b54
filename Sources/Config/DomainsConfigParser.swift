// Reading domains.yaml: the schema, the values, then the model checks of DomainsConfig with
// their errors placed on the lines that were written.

import DNS
import Foundation
import MTASTS
import Message
import SASL
import Yams

/// The keys of each mapping in domains.yaml.
enum DomainsSchema {
    static let root = ["Domains", "Accounts", "AcceptDMARCRejects"]
    static let domain = ["Description", "LocalpartCatchallSeparator", "LocalpartCaseSensitive", "Routes", "MTASTS", "DKIM"]
    /// mox's names for the same settings.
    static let mtaSTS = ["PolicyID", "Mode", "MaxAge", "MX"]
    static let dkim = ["Selectors", "Sign"]
    static let dkimSelector = ["PrivateKeyFile", "Canonicalization", "Headers", "Expiration"]
    static let account = ["Domain", "FullName", "Destinations", "Passwords", "CRAMMD5Secret", "QuotaBytes", "Routes"]
    static let destination = ["Mailbox"]

    static let allKeys: Set<String> = Set(root + domain + mtaSTS + dkim + dkimSelector + account + destination + StaticSchema.route)
}

extension DomainsConfig {
    /// Parses and validates the text of domains.yaml.
    ///
    /// - Parameters:
    ///   - file: the file name to put in errors.
    ///   - check: further checks on the finished model, e.g. against the static config
    ///     (`StaticConfig.domainsIssues`); run only when the file itself has no errors.
    /// - Throws: every problem found, in line order.
    public static func parse(
        _ text: String, file: String, check: (DomainsConfig) -> [ConfigIssue] = { _ in [] }
    ) throws(ConfigErrors) -> DomainsConfig {
        let (config, reader) = read(text, file: file)
        if let config, reader.errors.isEmpty {
            for issue in check(config) { reader.report(issue) }
        }
        guard let config, reader.errors.isEmpty else {
            throw ConfigErrors(reader.errors.sortedByPlace())
        }
        return config
    }

    /// Reads and parses domains.yaml.
    public static func load(path: String, check: (DomainsConfig) -> [ConfigIssue] = { _ in [] }) throws(ConfigErrors) -> DomainsConfig {
        switch ConfigFile.read(path) {
        case let .failure(error): throw ConfigErrors([error])
        case let .success(text): return try parse(text, file: path, check: check)
        }
    }

    static func read(_ text: String, file: String) -> (DomainsConfig?, DocumentReader) {
        let reader = DocumentReader(file: file)
        guard let node = reader.compose(text),
              let root = reader.fields(node, KeyPath(), owner: .start, known: DomainsSchema.root)
        else {
            return (nil, reader)
        }
        let domainEntries = root.entries("Domains", required: true)
        let accountEntries = root.entries("Accounts", required: true)
        let domains = (domainEntries ?? []).compactMap { readDomain($0, reader) }
        let accounts = (accountEntries ?? []).compactMap { readAccount($0, reader) }
        var (config, issues) = build(domains: domains, accounts: accounts)
        for issue in issues { reader.report(issue) }
        config.acceptDMARCRejects = readDMARCExceptions(root.entries("AcceptDMARCRejects") ?? [], reader)
        guard domainEntries != nil, accountEntries != nil else { return (nil, reader) }
        return (config, reader)
    }

    /// From domain → mailbox name.
    private static func readDMARCExceptions(_ entries: [Entry], _ reader: DocumentReader) -> [Domain: String] {
        var exceptions: [Domain: String] = [:]
        for entry in entries {
            let path = KeyPath(["AcceptDMARCRejects", entry.name])
            guard case let .success(domain) = Validation.hostname(entry.name) else {
                reader.error(path, "'\(entry.name)' is not a domain", at: entry.keyPosition)
                continue
            }
            guard let mailbox = reader.string(entry.value, path) else { continue }
            guard !mailbox.isEmpty else {
                reader.error(path, "expected the name of the mailbox to deliver into, e.g. Lists or Junk", at: entry.keyPosition)
                continue
            }
            exceptions[domain] = mailbox
        }
        return exceptions
    }

    private static func readDomain(_ entry: Entry, _ reader: DocumentReader) -> DomainSettings? {
        let path = KeyPath(["Domains", entry.name])
        let domain: Domain
        switch Validation.hostname(entry.name) {
        case let .failure(message):
            reader.error(path, message, at: entry.keyPosition)
            _ = reader.fields(entry.value, path, owner: entry.keyPosition, known: DomainsSchema.domain)
            return nil
        case let .success(parsed):
            domain = parsed
        }
        // The key defines the domain, so it is written in one canonical form: otherwise
        // "Example.com" and "example.com" look like two domains and are one.
        if entry.name != domain.ascii, entry.name != domain.unicode {
            reader.error(path, "write the domain as '\(domain.unicode)' (lowercase, no trailing dot)", at: entry.keyPosition)
        }
        // Model checks name the domain in its Unicode form; let them find this line.
        reader.record(KeyPath(["Domains", domain.unicode]), entry.keyPosition)
        guard let fields = reader.fields(entry.value, path, owner: entry.keyPosition, known: DomainsSchema.domain) else { return nil }
        for key in DomainsSchema.domain {
            if let position = fields.entries[key]?.keyPosition {
                reader.record(KeyPath(["Domains", domain.unicode, key]), position)
            }
        }
        return DomainSettings(
            domain: domain,
            description: fields.string("Description"),
            localpartCatchallSeparator: fields.string("LocalpartCatchallSeparator"),
            localpartCaseSensitive: fields.bool("LocalpartCaseSensitive", default: false),
            // Transport names are checked against tern.yaml afterwards (StaticConfig.routeIssues).
            routes: reader.routes(fields, under: KeyPath(["Domains", domain.unicode])),
            mtaSTS: fields.fields("MTASTS", known: DomainsSchema.mtaSTS).flatMap { readMTASTS($0, reader) },
            dkim: fields.fields("DKIM", known: DomainsSchema.dkim).flatMap { readDKIM($0, reader) })
    }

    private static func readDKIM(_ fields: Fields, _ reader: DocumentReader) -> DKIMSettings? {
        let path = fields.path
        let directory = Validation.directory(of: reader.file)
        let selectorEntries = fields.entries("Selectors", required: true) ?? []
        let selectors = selectorEntries.compactMap { entry -> DKIMSelectorSettings? in
            let selectorPath = path.key("Selectors").key(entry.name)
            // RFC 6376 §3.1: a selector is one or more DNS labels.
            if (try? Domain(entry.name + ".example")) == nil || entry.name.isEmpty || entry.name.hasPrefix(".") {
                reader.error(selectorPath, "'\(entry.name)' is not a selector: use DNS labels such as 2026a or mail.2026", at: entry.keyPosition)
            }
            guard let selector = reader.fields(entry.value, selectorPath, owner: entry.keyPosition, known: DomainsSchema.dkimSelector) else { return nil }
            var header = DKIMSelectorSettings.Canonicalization.relaxed
            var body = DKIMSelectorSettings.Canonicalization.relaxed
            if let text = selector.string("Canonicalization") {
                let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                let parsed = parts.compactMap(DKIMSelectorSettings.Canonicalization.init(rawValue:))
                if parts.count <= 2, parsed.count == parts.count, let first = parsed.first {
                    // RFC 6376 §3.5 c=: a header algorithm alone means simple for the body.
                    (header, body) = (first, parsed.count == 2 ? parsed[1] : .simple)
                } else {
                    reader.error(
                        selectorPath.key("Canonicalization"), "expected header/body canonicalization such as relaxed/relaxed or simple/simple (RFC 6376 §3.4), found '\(text)'",
                        at: selector.position("Canonicalization"))
                }
            }
            let headers = selector.list("Headers").map { nodes in
                nodes.enumerated().compactMap { index, node -> String? in
                    let itemPath = selectorPath.key("Headers").index(index)
                    guard let name = reader.string(node, itemPath) else { return nil }
                    guard HeaderFolding.isValidFieldName(name) else {
                        reader.error(itemPath, "'\(name)' is not a header field name", node: node)
                        return nil
                    }
                    return name
                }
            }
            if let headers, !headers.contains(where: { $0.lowercased() == "from" }) {
                reader.error(selectorPath.key("Headers"), "must include From (RFC 6376 §5.4: the From field is always signed)", at: selector.position("Headers"))
            }
            guard let keyFile = selector.string("PrivateKeyFile", required: true) else { return nil }
            return DKIMSelectorSettings(
                name: entry.name, privateKeyFile: Validation.resolvePath(keyFile, directory: directory), headerCanonicalization: header,
                bodyCanonicalization: body, headers: headers, expiration: selector.optionalDuration("Expiration"))
        }
        let sign = (fields.list("Sign") ?? []).enumerated().compactMap { index, node -> String? in
            let itemPath = path.key("Sign").index(index)
            guard let name = reader.string(node, itemPath) else { return nil }
            // Against the names written, so a selector with errors of its own is not also
            // reported missing here.
            guard selectorEntries.contains(where: { $0.name == name }) else {
                reader.error(itemPath, "no selector '\(name)' under Selectors", node: node)
                return nil
            }
            return name
        }
        return DKIMSettings(selectors: selectors, sign: sign)
    }

    private static func readMTASTS(_ fields: Fields, _ reader: DocumentReader) -> MTASTSSettings? {
        let path = fields.path
        let record = fields.string("PolicyID", required: true).flatMap { id -> STSRecord? in
            guard let record = try? STSRecord(id: id) else {
                reader.error(
                    path.key("PolicyID"), "'\(id)' cannot be a policy id: use 1 to \(STSRecord.maximumIDLength) ASCII letters and digits (RFC 8461 §3.1), e.g. a date such as 20250101",
                    at: fields.position("PolicyID"))
                return nil
            }
            return record
        }
        let mode = fields.string("Mode", required: true).flatMap { text -> STSPolicy.Mode? in
            guard let mode = STSPolicy.Mode(rawValue: text) else {
                reader.error(path.key("Mode"), "expected enforce, testing or none (RFC 8461 §5), found '\(text)'", at: fields.position("Mode"))
                return nil
            }
            return mode
        }
        var maxAge = MTASTSSettings.defaultMaxAge
        let duration = fields.duration("MaxAge", default: .seconds(maxAge))
        if duration > .seconds(STSPolicy.maximumMaxAge) {
            reader.error(
                path.key("MaxAge"), "must be at most 8766h, a year (RFC 8461 §3.2: max_age at most \(STSPolicy.maximumMaxAge) seconds)",
                at: fields.position("MaxAge"))
        } else {
            maxAge = Int(duration.components.seconds)
        }
        let mx = (fields.list("MX") ?? []).enumerated().compactMap { index, node -> MXPattern? in
            let itemPath = path.key("MX").index(index)
            guard let text = reader.string(node, itemPath) else { return nil }
            do {
                return try MXPattern(parsing: text)
            } catch {
                reader.error(itemPath, "'\(text)' is not an MX pattern (a host name, or *. and a domain): \(error)", node: node)
                return nil
            }
        }
        guard let record, let mode else { return nil }
        return MTASTSSettings(record: record, mode: mode, maxAge: maxAge, mx: mx)
    }

    private static func readAccount(_ entry: Entry, _ reader: DocumentReader) -> Account? {
        let path = KeyPath(["Accounts", entry.name])
        guard let fields = reader.fields(entry.value, path, owner: entry.keyPosition, known: DomainsSchema.account) else { return nil }
        let domain = fields.string("Domain", required: true).flatMap { text -> Domain? in
            switch Validation.hostname(text) {
            case let .success(domain): return domain
            case let .failure(message):
                reader.error(path.key("Domain"), message, at: fields.position("Domain"))
                return nil
            }
        }
        var destinations: [Destination] = []
        if let entries = fields.entries("Destinations", required: true) {
            for destination in entries {
                let destinationPath = path.key("Destinations").key(destination.name)
                guard let destinationFields = reader.fields(
                    destination.value, destinationPath, owner: destination.keyPosition, known: DomainsSchema.destination)
                else { continue }
                let mailbox = destinationFields.string("Mailbox") ?? "Inbox"
                destinations.append(Destination(destination.name, mailbox: mailbox))
            }
        }
        var passwords: [SCRAMCredentials] = []
        if let nodes = fields.list("Passwords") {
            for (index, node) in nodes.enumerated() {
                let itemPath = path.key("Passwords").index(index)
                reader.record(itemPath, Position(node.mark))
                guard let text = reader.string(node, itemPath) else { continue }
                do {
                    passwords.append(try SCRAMCredentials(rfc5803: text))
                } catch {
                    reader.error(itemPath, "\(error)", node: node)
                }
            }
        }
        let cramMD5Secret = fields.string("CRAMMD5Secret")
        let quotaBytes = fields.optionalInt("QuotaBytes", range: 1...Int.max)
        let routes = reader.routes(fields, under: path)
        guard let domain else { return nil }
        return Account(
            name: entry.name, domain: domain, fullName: fields.string("FullName"), destinations: destinations,
            passwords: passwords, cramMD5Secret: cramMD5Secret, quotaBytes: quotaBytes, routes: routes)
    }
}

extension DomainsConfig {
    /// DKIM private key files that cannot be read (the keys themselves are read when `serve`
    /// starts, or a reload applies).
    public func keyFileIssues() -> [ConfigIssue] {
        domains.flatMap { domain in
            (domain.dkim?.selectors ?? []).compactMap { selector in
                FileManager.default.isReadableFile(atPath: selector.privateKeyFile) ? nil : ConfigIssue(
                    path: ["Domains", domain.domain.unicode, "DKIM", "Selectors", selector.name, "PrivateKeyFile"],
                    message: "cannot read \(selector.privateKeyFile) (create one with `tern dkim genrsa` or `tern dkim gened25519`)")
            }
        }
    }
}

extension StaticConfig {
    /// The checks of the domains file that depend on this config (the postmaster account
    /// must exist, routes name transports of Queue.Transports), placed in the domains file;
    /// for `DomainsConfig.parse(check:)` and the watcher, so a reload cannot remove the
    /// postmaster's account or route mail to a transport that does not exist.
    public func domainsIssues(_ domains: DomainsConfig) -> [ConfigIssue] {
        var issues = routeIssues(domains) + domains.keyFileIssues()
        if domains.account(named: postmaster.account) == nil {
            issues.append(ConfigIssue(
                path: ["Accounts"],
                message: "account '\(postmaster.account)' is missing; the static config names it as Postmaster.Account"))
        }
        return issues
    }

    /// Routes of domains and accounts whose transport this config does not define.
    public func routeIssues(_ domains: DomainsConfig) -> [ConfigIssue] {
        let defined = queue.transports.map(\.name)
        let owners = domains.domains.map { (["Domains", $0.domain.unicode], $0.routes) } + domains.accounts.map { (["Accounts", $0.name], $0.routes) }
        return owners.flatMap { path, routes in
            routes.enumerated().compactMap { index, route in
                RouteConfig.transportProblem(route.transport, defined: defined, place: " under Queue.Transports in the static config").map {
                    ConfigIssue(path: path + ["Routes", "[\(index)]", "Transport"], message: $0)
                }
            }
        }
    }
}
