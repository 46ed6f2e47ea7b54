import ArgumentParser
import Config
import DKIM
import DNS
import Foundation
import Synchronization

/// The DKIM signers of the domains file in effect: for each domain, one signer per selector
/// in its `Sign` list. Keys are read when a domain's DKIM settings change (at startup and on
/// reloads that change them), never per message. A key file is read again only with new
/// settings, so a new key goes under a new selector (or file name), which is also how keys
/// are rolled over (RFC 6376 §3.1: selectors let a domain publish several keys).
final class DomainSigners: Sendable {
    /// A domain's signers and the settings they were made from.
    private struct Entry: Sendable {
        let settings: DKIMSettings
        let signers: [DKIMSigner]
    }

    private let entries = Mutex<[Domain: Entry]>([:])
    private let now: @Sendable () -> Date
    private let metrics: DKIMMetrics

    init(now: @escaping @Sendable () -> Date = { Date() }, metrics: DKIMMetrics = DKIMMetrics()) {
        self.now = now
        self.metrics = metrics
    }

    /// Follows `domains`: signers made anew for each domain whose DKIM settings changed,
    /// dropped for domains that no longer sign. A domain whose keys cannot be used keeps the
    /// signers it had (none, if it had none), so a broken key file never stops signing that
    /// worked; the problems are returned, each naming its file. Called by one task at a time
    /// (startup, then the reload service).
    func apply(_ domains: DomainsConfig) -> [DKIMKeyProblem] {
        let previous = entries.withLock { $0 }
        var next: [Domain: Entry] = [:]
        var problems: [DKIMKeyProblem] = []
        for settings in domains.domains {
            guard let dkim = settings.dkim, !dkim.signingSelectors.isEmpty else { continue }
            if let entry = previous[settings.domain], entry.settings == dkim {
                next[settings.domain] = entry
                continue
            }
            var signers: [DKIMSigner] = []
            var failures: [DKIMKeyProblem] = []
            for selector in dkim.signingSelectors {
                do {
                    signers.append(try Self.signer(domain: settings.domain, selector: selector, now: now, metrics: metrics))
                } catch {
                    failures.append(error)
                }
            }
            problems += failures
            next[settings.domain] = failures.isEmpty ? Entry(settings: dkim, signers: signers) : previous[settings.domain]
        }
        entries.withLock { $0 = next }
        return problems
    }

    /// The signers of `domains` (read from `file`), or every key problem on stderr and exit
    /// status 1: for startup and `config test`, where a key that cannot sign is an error.
    static func load(_ domains: DomainsConfig, from file: String) throws -> DomainSigners {
        let signers = DomainSigners()
        let problems = signers.apply(domains)
        guard problems.isEmpty else {
            for problem in problems { printError("\(file): \(problem)") }
            throw ExitCode(1)
        }
        return signers
    }

    /// The signers of `name` (any case, Unicode or A-labels); none for a domain that does not
    /// sign or is not configured.
    func signers(forDomain name: String) -> [DKIMSigner] {
        guard let domain = try? Domain(name) else { return [] }
        return entries.withLock { $0[domain]?.signers ?? [] }
    }

    /// What the SMTP server (and later report senders) sign with: the signers in effect
    /// when each message is signed.
    var signing: OutgoingSigning {
        OutgoingSigning { [self] domain in signers(forDomain: domain) }
    }

    /// The signer of one selector: d= is the domain's A-label form (RFC 6376 §3.5: d= is a
    /// domain name as in DNS).
    private static func signer(domain: Domain, selector: DKIMSelectorSettings, now: @escaping @Sendable () -> Date, metrics: DKIMMetrics)
        throws(DKIMKeyProblem) -> DKIMSigner
    {
        let key = try readKey(selector, of: domain)
        do {
            return try DKIMSigner(
                domain: domain.ascii, selector: selector.name, key: key, headerCanonicalization: Canonicalization(selector.headerCanonicalization),
                bodyCanonicalization: Canonicalization(selector.bodyCanonicalization), headers: selector.headers ?? DKIMSigner.recommendedHeaders,
                validity: selector.expiration, now: now, metrics: metrics)
        } catch {
            throw DKIMKeyProblem(selector, of: domain, "\(error)")
        }
    }

    /// The private key of a selector, read from its PrivateKeyFile.
    static func readKey(_ selector: DKIMSelectorSettings, of domain: Domain) throws(DKIMKeyProblem) -> DKIMPrivateKey {
        let pem: String
        do {
            pem = try String(contentsOfFile: selector.privateKeyFile, encoding: .utf8)
        } catch {
            throw DKIMKeyProblem(selector, of: domain, "cannot read the file: \(error.localizedDescription)")
        }
        do {
            return try DKIMPrivateKey(pem: pem)
        } catch {
            throw DKIMKeyProblem(selector, of: domain, "\(error)")
        }
    }
}

/// Why a selector of domains.yaml cannot sign: its key file, and what is wrong with it.
struct DKIMKeyProblem: Error, Hashable, CustomStringConvertible {
    let domain: Domain
    let selector: String
    let file: String
    let reason: String

    init(_ selector: DKIMSelectorSettings, of domain: Domain, _ reason: String) {
        self.domain = domain
        self.selector = selector.name
        file = selector.privateKeyFile
        self.reason = reason
    }

    var description: String {
        "DKIM selector \(selector) of \(domain.unicode): PrivateKeyFile \(file): \(reason)"
    }
}

extension Canonicalization {
    init(_ setting: DKIMSelectorSettings.Canonicalization) {
        switch setting {
        case .simple: self = .simple
        case .relaxed: self = .relaxed
        }
    }
}
