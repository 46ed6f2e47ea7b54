import Certificates
import Crypto
import DKIM
import Foundation
import TestSupport
import Testing

/// `tern config dnsrecords` run as a binary on configuration files.
@Suite struct DNSRecordsCommandTests {
    /// An ACME listener that receives mail and serves MTA-STS policies, a second listener with
    /// a certificate file under another name, a SOCKS transport and a relay.
    static func staticFile(certFile: String, keyFile: String) -> String {
        """
        DataDir: ../data
        Hostname: mail.example.test
        Postmaster:
          Account: admin
        ACME:
          ca:
            DirectoryURL: https://ca.example.test/directory
            ContactEmail: hostmaster@example.net
        Listeners:
          public:
            IPs: [192.0.2.1]
            TLS:
              ACME: ca
            SMTP:
              Enabled: true
            MTASTSHTTPS:
              Enabled: true
              Port: 8443
          second:
            IPs: [192.0.2.2]
            Hostname: mx2.example.test
            TLS:
              KeyCerts:
                - CertFile: \(certFile)
                  KeyFile: \(keyFile)
            SMTP:
              Enabled: true
        Queue:
          Transports:
            smarthost:
              Host: smtp.provider.test
              Port: 465
              TLS: ImplicitTLS
            proxied:
              Socks:
                Address: proxy.example.test:1080
                RemoteIPs: [198.51.100.25, "2001:db8::25"]
                Hostname: proxy.example.test

        """
    }

    static let domainsFile = """
        Domains:
          example.test:
            MTASTS:
              PolicyID: 20250101
              Mode: testing
          other.test: {}
        Accounts:
          admin:
            Domain: example.test
            Destinations:
              admin: {}

        """

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    @Test func recordsOfADomain() async throws {
        let directory = try TemporaryDirectory()
        let config = directory.path + "/config"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        let certificate = try SelfSignedCertificate(hostnames: ["mx2.example.test"])
        try certificate.certificatePEM.write(toFile: config + "/mx2.crt", atomically: true, encoding: .utf8)
        try certificate.privateKeyPEM.write(toFile: config + "/mx2.key", atomically: true, encoding: .utf8)
        try Self.staticFile(certFile: "mx2.crt", keyFile: "mx2.key").write(toFile: config + "/tern.yaml", atomically: true, encoding: .utf8)
        // Two selectors that sign and one published ahead of signing.
        let ed25519 = DKIMPrivateKey.generateEd25519()
        let rsa = try DKIMPrivateKey.generateRSA(bits: 2048)
        let next = DKIMPrivateKey.generateEd25519()
        try FileManager.default.createDirectory(atPath: config + "/dkim", withIntermediateDirectories: true)
        for (file, key) in [("ed.pem", ed25519), ("rsa.pem", rsa), ("next.pem", next)] {
            try key.pemRepresentation.write(toFile: config + "/dkim/" + file, atomically: true, encoding: .utf8)
        }
        try Self.domainsFile.replacingOccurrences(of: "      Mode: testing\n", with: """
                  Mode: testing
                DKIM:
                  Selectors:
                    2026a: {PrivateKeyFile: dkim/ed.pem}
                    2026b: {PrivateKeyFile: dkim/rsa.pem}
                    2027a: {PrivateKeyFile: dkim/next.pem}
                  Sign: [2026a, 2026b]

            """).write(toFile: config + "/domains.yaml", atomically: true, encoding: .utf8)
        // The RSA record in 255-octet character-strings (RFC 1035 §3.3).
        let rsaRecord = Array(rsa.keyRecord.utf8)
        let rsaStrings = stride(from: 0, to: rsaRecord.count, by: 255).map { "\"" + String(decoding: rsaRecord[$0..<min($0 + 255, rsaRecord.count)], as: UTF8.self) + "\"" }
        #expect(rsaStrings.count == 2)

        let run = try await TernRun.run(["config", "dnsrecords", "--config", config + "/tern.yaml", "example.test"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr == "")

        // The ACME key was made for the record, before any certificate, where the server's
        // certificate manager will find it.
        let keyPath = directory.path + "/data/acme/ca/mail.example.test.key.pem"
        let acmeKey = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOfFile: keyPath, encoding: .utf8))
        let acmeDigest = Self.hex(SHA256.hash(data: acmeKey.publicKey.derRepresentation))
        let fileKey = try P256.Signing.PrivateKey(derRepresentation: certificate.privateKeyDER)
        let fileDigest = Self.hex(SHA256.hash(data: fileKey.publicKey.derRepresentation))
        #expect(run.stdout == """
            ; DNS records for example.test, from \(config)/tern.yaml and \(config)/domains.yaml.
            ; Zone-file syntax (RFC 1035 §5.1), absolute names, a TTL of an hour. Print them
            ; again after changing the configuration: `tern config dnsrecords example.test`.

            ; Mail for example.test is received by mail.example.test, mx2.example.test (RFC 5321 §5.1).
            ; Each host name needs A and/or AAAA records with this server's public addresses,
            ; and each address a PTR record naming the host again: receivers check reverse DNS.
            example.test.\t3600\tIN\tMX\t10 mail.example.test.
            example.test.\t3600\tIN\tMX\t10 mx2.example.test.

            ; SPF (RFC 7208): mail from @example.test leaves from the MX hosts and from nowhere else.
            ; "-all" (fail) rather than "~all" (softfail): no other server sends for the
            ; domain, so receivers may refuse what claims to be from it.
            ; The ip4/ip6 terms are the RemoteIPs of the SOCKS transports proxied.
            ; Mail routed through the relay transports smarthost (smtp.provider.test) leaves from
            ; their servers: add what each provider documents (usually an include:) before -all.
            example.test.\t3600\tIN\tTXT\t"v=spf1 mx ip4:198.51.100.25 ip6:2001:db8::25 -all"
            ; SPF for the host names themselves, checked for the HELO identity and for bounces,
            ; whose MAIL FROM is empty (RFC 7208 §2.3, §2.4).
            mail.example.test.\t3600\tIN\tTXT\t"v=spf1 a -all"
            mx2.example.test.\t3600\tIN\tTXT\t"v=spf1 a -all"

            ; DKIM (RFC 6376 §3.6.2.1): the public key of each selector, which receivers look up to
            ; verify the signatures on mail from @example.test. Publish a selector's record before adding
            ; it to Sign, and keep it for a few days after taking it out, while mail signed with it
            ; is still on its way. The RSA records are longer than one string holds: the strings
            ; are joined again (RFC 6376 §3.6.2.2).
            ; Selector 2026a, ed25519 key in \(config)/dkim/ed.pem (signs now):
            2026a._domainkey.example.test.\t3600\tIN\tTXT\t"\(ed25519.keyRecord)"
            ; Selector 2026b, rsa key in \(config)/dkim/rsa.pem (signs now):
            2026b._domainkey.example.test.\t3600\tIN\tTXT\t\(rsaStrings.joined(separator: " "))
            ; Selector 2027a, ed25519 key in \(config)/dkim/next.pem (not in Sign: publish first, sign later):
            2027a._domainkey.example.test.\t3600\tIN\tTXT\t"\(next.keyRecord)"

            ; DMARC (RFC 7489 §6.3): receivers refuse mail with From: @example.test that passes neither
            ; SPF nor DKIM for example.test. p=reject: all the domain's mail leaves through this server,
            ; so its own mail passes and forged mail is refused.
            ; Its mail is signed with DKIM (selectors 2026a, 2026b), so it passes also where
            ; forwarding breaks SPF. To watch first, publish p=none and change to p=reject once
            ; the reports show nothing legitimate failing.
            ; Aggregate reports (rua) go to postmaster@example.test, which reaches the Postmaster.
            _dmarc.example.test.\t3600\tIN\tTXT\t"v=DMARC1; p=reject; rua=mailto:postmaster@example.test"

            ; MTA-STS (RFC 8461): senders fetch the policy (mode testing, MX mail.example.test, mx2.example.test) from
            ; https://mta-sts.example.test/.well-known/mta-sts.txt and then deliver only over TLS with a
            ; valid certificate. The id is the PolicyID of domains.yaml: change both together
            ; with the policy, or senders keep the one they cached for up to 604800 seconds.
            _mta-sts.example.test.\t3600\tIN\tTXT\t"v=STSv1; id=20250101"
            ; The policy host is this server, whose listener public serves the policy on port 8443:
            ; senders connect to 443, so forward 443 to it.
            mta-sts.example.test.\t3600\tIN\tCNAME\tmail.example.test.

            ; SMTP TLS reporting (RFC 8460 §3): servers that send to example.test report daily on their
            ; TLS connections, MTA-STS and DANE failures among them, to postmaster@example.test.
            _smtp._tls.example.test.\t3600\tIN\tTXT\t"v=TLSRPTv1; rua=mailto:postmaster@example.test"

            ; DANE (RFC 7672): senders that validate DNSSEC accept on port 25 only a certificate
            ; for this key, which defeats STARTTLS stripping and forged certificates; only in a
            ; DNSSEC-signed zone. "3 1 1" names the key, not the certificate (RFC 7671 §5.1), so
            ; it stays valid through renewals for the same key. To change the key, publish the
            ; new record beside the old one and wait out the TTL first (RFC 7671 §8.1).
            ; The key of every certificate from ca, in \(keyPath):
            _25._tcp.mail.example.test.\t3600\tIN\tTLSA\t3 1 1 \(acmeDigest)
            ; The key of \(config)/mx2.crt; a certificate for another key needs a new record:
            _25._tcp.mx2.example.test.\t3600\tIN\tTLSA\t3 1 1 \(fileDigest)

            """)

        // Printed again: the same key, so the same record.
        let again = try await TernRun.run(["config", "dnsrecords", "--config", config + "/tern.yaml", "EXAMPLE.test"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("_25._tcp.mail.example.test.\t3600\tIN\tTLSA\t3 1 1 \(acmeDigest)\n"))

        // A domain without a policy gets a note on how to add one, and no MTA-STS records.
        let other = try await TernRun.run(["config", "dnsrecords", "--config", config + "/tern.yaml", "other.test"])
        #expect(other.status == 0)
        #expect(other.stdout.contains("; MTA-STS (RFC 8461): other.test has no policy. To publish one, add an MTASTS section\n"))
        #expect(!other.stdout.contains("_mta-sts"))
        // Nor DKIM: how to start signing, and DMARC's note that SPF alone carries the mail.
        #expect(other.stdout.contains("""
            ; DKIM (RFC 6376): other.test signs no mail. To sign, make keys with `tern dkim genrsa` and
            ; `tern dkim gened25519`, add them as selectors in a DKIM section of other.test
            ; in \(config)/domains.yaml (`tern config describe-domains`), and print these records again.

            """))
        #expect(!other.stdout.contains("_domainkey"))
        #expect(other.stdout.contains("""
            ; other.test does not sign with DKIM, so its mail passes through SPF alone, which forwarding
            ; breaks: sign it (above), or publish p=none first and change to p=reject once the
            ; reports show nothing legitimate failing.

            """))
        #expect(other.stdout.contains("_dmarc.other.test.\t3600\tIN\tTXT\t\"v=DMARC1; p=reject; rua=mailto:postmaster@other.test\"\n"))
    }

    /// A policy whose MX patterns leave out the host the MX record names is printed with a
    /// warning: in mode enforce, senders would not deliver.
    @Test func policyThatExcludesTheMXHost() async throws {
        let directory = try TemporaryDirectory()
        try "DataDir: data\nHostname: mail.example.test\nPostmaster: {Account: admin}\nListeners:\n  l:\n    IPs: [127.0.0.1]\n    SMTP: {Enabled: true}\n"
            .write(toFile: directory.path + "/tern.yaml", atomically: true, encoding: .utf8)
        try Self.domainsFile.replacingOccurrences(of: "Mode: testing", with: "Mode: enforce\n      MX: [\"*.elsewhere.test\"]")
            .write(toFile: directory.path + "/domains.yaml", atomically: true, encoding: .utf8)
        let run = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml", "example.test"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("""
            ; MTA-STS (RFC 8461): senders fetch the policy (mode enforce, MX *.elsewhere.test) from
            """))
        #expect(run.stdout.contains("""
            ; Warning: the policy's MX patterns do not match mail.example.test, to which the MX record
            ; points: senders in mode enforce will not deliver there.
            _mta-sts.example.test.\t3600\tIN\tTXT\t"v=STSv1; id=20250101"
            ; No listener has MTASTSHTTPS enabled, so Tern does not serve the policy
            """))
    }

    @Test func errorsExitNonZero() async throws {
        let directory = try TemporaryDirectory()
        try "DataDir: data\nHostname: mail.example.test\nPostmaster: {Account: admin}\nListeners:\n  l:\n    IPs: [127.0.0.1]\n    SMTP: {Enabled: true}\n"
            .write(toFile: directory.path + "/tern.yaml", atomically: true, encoding: .utf8)
        try Self.domainsFile.write(toFile: directory.path + "/domains.yaml", atomically: true, encoding: .utf8)

        let unknown = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml", "example.org"])
        #expect(unknown.status == 1)
        #expect(unknown.stdout == "")
        #expect(unknown.stderr == "example.org is not a domain of \(directory.path)/domains.yaml; its domains: example.test, other.test\n")

        let invalid = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml", "exa mple"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.hasPrefix("exa mple is not a domain of"))

        // A DKIM key file that holds no key: no record can be printed for it.
        try "not a key\n".write(toFile: directory.path + "/bad.pem", atomically: true, encoding: .utf8)
        try Self.domainsFile.replacingOccurrences(of: "  other.test: {}", with: "  other.test:\n    DKIM:\n      Selectors:\n        s1: {PrivateKeyFile: bad.pem}")
            .write(toFile: directory.path + "/domains.yaml", atomically: true, encoding: .utf8)
        let badKey = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml", "other.test"])
        #expect(badKey.status == 1)
        #expect(badKey.stdout == "")
        #expect(badKey.stderr == "DKIM selector s1 of other.test: PrivateKeyFile \(directory.path)/bad.pem: not a PEM private key (PKCS#8 RSA or Ed25519, or PKCS#1 RSA of at least 1024 bits)\n")

        try "DataDir: data\nHostname: mail.example.test\nPostmaster: {Account: admin}\nListeners: {}\nBogus: 1\n"
            .write(toFile: directory.path + "/tern.yaml", atomically: true, encoding: .utf8)
        let broken = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml", "example.test"])
        #expect(broken.status == 1)
        #expect(broken.stdout == "")
        #expect(broken.stderr.contains("\(directory.path)/tern.yaml:5:1: Bogus: unknown key 'Bogus'"))

        let missing = try await TernRun.run(["config", "dnsrecords", "--config", directory.path + "/tern.yaml"])
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("Missing expected argument '<domain>'"))
    }
}
