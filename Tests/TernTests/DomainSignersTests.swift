import Config
import DKIM
import DNS
import Foundation
import TestSupport
import Testing

@testable import Tern

/// The DKIM signers `serve` makes from domains.yaml, at startup and on reloads.
@Suite struct DomainSignersTests {
    /// Key files in a directory of their own: an RSA and an Ed25519 key, a third key, and a
    /// file that is no key.
    final class KeyFiles {
        let directory: TemporaryDirectory
        var rsa: String { directory.path + "/rsa.pem" }
        var ed25519: String { directory.path + "/ed.pem" }
        var third: String { directory.path + "/third.pem" }
        var garbage: String { directory.path + "/garbage.pem" }

        init() throws {
            directory = try TemporaryDirectory()
            try DKIMPrivateKey.generateRSA(bits: 2048).pemRepresentation.write(toFile: rsa, atomically: true, encoding: .utf8)
            try DKIMPrivateKey.generateEd25519().pemRepresentation.write(toFile: ed25519, atomically: true, encoding: .utf8)
            try DKIMPrivateKey.generateEd25519().pemRepresentation.write(toFile: third, atomically: true, encoding: .utf8)
            try "not a key\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        }
    }

    static func domains(_ domains: [DomainSettings]) throws -> DomainsConfig {
        try DomainsConfig(domains: domains, accounts: [])
    }

    static func domain(_ name: String, _ selectors: [DKIMSelectorSettings], sign: [String]? = nil) throws -> DomainSettings {
        DomainSettings(domain: try Domain(name), dkim: DKIMSettings(selectors: selectors, sign: sign ?? selectors.map(\.name)))
    }

    static func names(_ signers: [DKIMSigner]) -> [String] {
        signers.map { "\($0.selector)._domainkey.\($0.domain) \($0.key.algorithm.rawValue)" }
    }

    @Test func signersFromTheSettings() throws {
        let keys = try KeyFiles()
        let signers = DomainSigners(now: { Date(timeIntervalSince1970: 1_795_301_115) })
        let problems = signers.apply(try Self.domains([
            try Self.domain("Example.test", [
                DKIMSelectorSettings(name: "2026a", privateKeyFile: keys.ed25519),
                DKIMSelectorSettings(
                    name: "2026b", privateKeyFile: keys.rsa, headerCanonicalization: .simple, bodyCanonicalization: .relaxed,
                    headers: ["From", "Subject"], expiration: .seconds(3600)),
                DKIMSelectorSettings(name: "later", privateKeyFile: keys.third),
            ], sign: ["2026b", "2026a"]),
            try Self.domain("münchen.test", [DKIMSelectorSettings(name: "s", privateKeyFile: keys.ed25519)]),
            DomainSettings(domain: try Domain("unsigned.test")),
            try Self.domain("nosign.test", [DKIMSelectorSettings(name: "s", privateKeyFile: keys.ed25519)], sign: []),
        ]))
        #expect(problems.isEmpty)
        // In the order of Sign; selectors not in it do not sign. Any spelling of the domain.
        #expect(Self.names(signers.signers(forDomain: "EXAMPLE.TEST")) == [
            "2026b._domainkey.example.test rsa-sha256", "2026a._domainkey.example.test ed25519-sha256",
        ])
        let rsa = try #require(signers.signers(forDomain: "example.test").first)
        #expect(rsa.headerCanonicalization == .simple && rsa.bodyCanonicalization == .relaxed)
        #expect(rsa.headers == ["From", "Subject"] && rsa.validity == .seconds(3600))
        let ed = try #require(signers.signers(forDomain: "example.test").last)
        #expect(ed.headerCanonicalization == .relaxed && ed.bodyCanonicalization == .relaxed)
        #expect(ed.headers == DKIMSigner.recommendedHeaders && ed.validity == nil)
        // d= in A-labels (RFC 6376 §3.5), whichever form the message uses.
        #expect(signers.signers(forDomain: "münchen.test").map(\.domain) == ["xn--mnchen-3ya.test"])
        #expect(signers.signers(forDomain: "xn--mnchen-3ya.test").count == 1)
        for unsigned in ["unsigned.test", "nosign.test", "elsewhere.test", "not a domain"] {
            #expect(signers.signers(forDomain: unsigned).isEmpty, "\(unsigned)")
        }
        // The seam hands out the same signers.
        #expect(Self.names(signers.signing.signers(forDomains: ["example.test"])) == Self.names(signers.signers(forDomain: "example.test")))
    }

    /// A reload reads keys only for settings that changed, applies a new selector, keeps a
    /// domain's signers when its new key cannot be used (naming the file), and drops the
    /// signers of domains that no longer sign.
    @Test func reloads() throws {
        let keys = try KeyFiles()
        let signers = DomainSigners()
        let first = [DKIMSelectorSettings(name: "rsa", privateKeyFile: keys.rsa), DKIMSelectorSettings(name: "ed", privateKeyFile: keys.ed25519)]
        let other = try Self.domain("other.test", [DKIMSelectorSettings(name: "s", privateKeyFile: keys.third)])
        #expect(signers.apply(try Self.domains([try Self.domain("example.test", first), other])).isEmpty)
        #expect(signers.signers(forDomain: "example.test").count == 2)

        // Unchanged settings: the keys are not read again (other.test's file is gone now).
        try FileManager.default.removeItem(atPath: keys.third)
        #expect(signers.apply(try Self.domains([try Self.domain("example.test", first), other, DomainSettings(domain: try Domain("new.test"))])).isEmpty)
        #expect(signers.signers(forDomain: "other.test").count == 1)

        // Changed settings read the key again: the missing file is reported, and other.test
        // keeps signing with the key it had.
        let otherChanged = try Self.domain("other.test", [DKIMSelectorSettings(name: "s", privateKeyFile: keys.third, bodyCanonicalization: .simple)])
        let missing = signers.apply(try Self.domains([try Self.domain("example.test", first), otherChanged]))
        #expect(missing.count == 1)
        #expect(missing.first?.description.hasPrefix("DKIM selector s of other.test: PrivateKeyFile \(keys.third): cannot read the file: ") == true)
        #expect(signers.signers(forDomain: "other.test").map(\.bodyCanonicalization) == [.relaxed])

        // A selector added: its key signs from the next message on.
        let added = first + [DKIMSelectorSettings(name: "added", privateKeyFile: keys.ed25519)]
        #expect(signers.apply(try Self.domains([try Self.domain("example.test", added)])).isEmpty)
        #expect(signers.signers(forDomain: "example.test").map(\.selector) == ["rsa", "ed", "added"])
        #expect(signers.signers(forDomain: "other.test").isEmpty)

        // A key file that is no key: the previous signers stay; a new domain gets none.
        let broken = added.map { DKIMSelectorSettings(name: $0.name, privateKeyFile: $0.name == "added" ? keys.garbage : $0.privateKeyFile) }
        let problems = signers.apply(try Self.domains([
            try Self.domain("example.test", broken), try Self.domain("fresh.test", [DKIMSelectorSettings(name: "x", privateKeyFile: keys.garbage)]),
        ]))
        #expect(problems.map(\.description) == [
            "DKIM selector added of example.test: PrivateKeyFile \(keys.garbage): not a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA of at least 1024 bits)",
            "DKIM selector x of fresh.test: PrivateKeyFile \(keys.garbage): not a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA of at least 1024 bits)",
        ])
        #expect(signers.signers(forDomain: "example.test").map(\.selector) == ["rsa", "ed", "added"])
        #expect(signers.signers(forDomain: "fresh.test").isEmpty)

        // No selector left in Sign: no signers.
        #expect(signers.apply(try Self.domains([try Self.domain("example.test", first, sign: [])])).isEmpty)
        #expect(signers.signers(forDomain: "example.test").isEmpty)
    }

    /// `serve` and `config test` refuse a signing key that is no key, naming the file.
    @Test func serveRefusesToStartWithAnUnusableKey() async throws {
        let keys = try KeyFiles()
        let config = keys.directory.path
        try """
            DataDir: data
            Hostname: mail.example.test
            Postmaster: {Account: admin}
            Listeners:
              l:
                IPs: [127.0.0.1]
                SMTP: {Enabled: true, Port: 1}

            """.write(toFile: config + "/tern.yaml", atomically: true, encoding: .utf8)
        try """
            Domains:
              example.test:
                DKIM:
                  Selectors:
                    good: {PrivateKeyFile: ed.pem}
                    bad: {PrivateKeyFile: garbage.pem}
                    worse: {PrivateKeyFile: garbage.pem}
                  Sign: [good, bad, worse]
            Accounts:
              admin:
                Domain: example.test
                Destinations:
                  admin: {}

            """.write(toFile: config + "/domains.yaml", atomically: true, encoding: .utf8)
        let expected = "\(config)/domains.yaml: DKIM selector bad of example.test: PrivateKeyFile \(keys.garbage): not a PEM private key"
        let serve = try await TernRun.run(["serve", "--config", config + "/tern.yaml"])
        #expect(serve.status == 1)
        // Every unusable key, not only the first.
        #expect(serve.stderr.contains(expected), "\(serve.stderr)")
        #expect(serve.stderr.contains("\(config)/domains.yaml: DKIM selector worse of example.test: PrivateKeyFile \(keys.garbage): not a PEM"))
        #expect(!FileManager.default.fileExists(atPath: config + "/data"), "serve went on to open the data directory")
        let check = try await TernRun.run(["config", "test", "--config", config + "/tern.yaml"])
        #expect(check.status == 1)
        #expect(check.stderr.hasPrefix(expected), "\(check.stderr)")
        #expect(check.stdout == "")
    }
}
