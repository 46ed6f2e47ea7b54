import ArgumentParser
import DKIM
import Foundation

struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Make DKIM keys and their DNS records, sign and verify messages (RFC 6376, RFC 8463).",
        subcommands: [DKIMGenRSACommand.self, DKIMGenEd25519Command.self, DKIMTXTCommand.self, DKIMVerifyCommand.self, DKIMSignCommand.self]
    )
}

/// `tern dkim genrsa [--bits 2048]`
struct DKIMGenRSACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genrsa",
        abstract: "Print a new RSA private key for DKIM as PEM (PKCS#8).",
        discussion: "Save it to a file readable only by the server, then publish the record `tern dkim txt FILE` prints."
    )

    @Option(help: "Key size in bits: at least 1024 (RFC 8301 §3.2); 2048 is what RFC 8301 recommends and fits DNS well.")
    var bits = 2048

    func run() throws {
        let key: DKIMPrivateKey
        do {
            key = try DKIMPrivateKey.generateRSA(bits: bits)
        } catch {
            throw ValidationError("--bits: \(error)")
        }
        printPEM(key)
    }
}

/// `tern dkim gened25519`
struct DKIMGenEd25519Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gened25519",
        abstract: "Print a new Ed25519 private key for DKIM (RFC 8463) as PEM (PKCS#8).",
        discussion: "Not every verifier knows Ed25519 yet: sign with an RSA key as well."
    )

    func run() {
        printPEM(DKIMPrivateKey.generateEd25519())
    }
}

private func printPEM(_ key: DKIMPrivateKey) {
    let pem = key.pemRepresentation
    print(pem, terminator: pem.hasSuffix("\n") ? "" : "\n")
}

/// `tern dkim txt KEYFILE`
struct DKIMTXTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txt",
        abstract: "Print the DNS TXT record value for a DKIM private key.",
        discussion: """
            Publish it as a TXT record at SELECTOR._domainkey.DOMAIN (RFC 6376 §3.6.2). An RSA \
            record of 2048 bits is longer than the 255 octets one DNS character-string holds: \
            zone files take it as several quoted strings, which verifiers join.
            """
    )

    @Argument(help: "The private key file (PEM: PKCS#8, or PKCS#1 for RSA).")
    var keyFile: String

    func run() throws {
        print(try readKey(keyFile, command: "txt").keyRecord)
    }
}

/// `tern dkim verify FILE`
struct DKIMVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify the DKIM signatures of a message and print each result.",
        discussion: """
            For each DKIM-Signature field, top to bottom, prints "result:" (pass, fail, \
            neutral, temperror, permerror or policy, as in Authentication-Results, RFC 8601), \
            the signature's domain, selector, algorithm and identity, whether the key record \
            came DNSSEC-validated ("authentic:"), and the "reason:" for anything but a plain \
            pass; a blank line separates signatures. A message without signatures prints \
            "result: none". The exit status is 0 when at least one signature passes, and 1 \
            otherwise.
            """
    )

    @OptionGroup var resolverOptions: ResolverOptions
    @OptionGroup var logOptions: LogOptions

    @Argument(help: "The message file (CRLF or LF line endings), or - for standard input.")
    var file: String

    func run() async throws {
        try logOptions.bootstrap()
        let message = try readMessage(file, command: "verify")
        let results = await DKIMVerifier(resolver: try resolverOptions.makeResolver()).verify(message)
        print(Self.report(results), terminator: "")
        if !results.contains(where: { $0.status == .pass }) { throw ExitCode(1) }
    }

    static func report(_ results: [DKIMResult]) -> String {
        guard !results.isEmpty else { return "result: none\nreason: no DKIM-Signature field\n" }
        return results.map { result in
            var lines = ["result: \(result.status.rawValue)"]
            if let domain = result.domain { lines.append("domain: \(domain)") }
            if let selector = result.selector { lines.append("selector: \(selector)") }
            if let algorithm = result.algorithm { lines.append("algorithm: \(algorithm)") }
            if let identity = result.identity { lines.append("identity: \(identity)") }
            lines.append("authentic: \(result.keyAuthentic ? "yes" : "no")")
            if result.testing { lines.append("testing: yes (t=y in the key record)") }
            if let reason = result.reason { lines.append("reason: \(reason)") }
            return lines.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }
}

/// `tern dkim sign --domain D --selector S --key KEYFILE [--selector S2 --key KEYFILE2] FILE`
struct DKIMSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Print a message with DKIM-Signature fields prepended, one per key.",
        discussion: """
            Each --key pairs with the --selector in the same position: an RSA and an Ed25519 \
            key need a selector each, since two key records under one name are refused by \
            verifiers. The signed fields are RFC 6376 §5.4.1's recommended ones that the \
            message has, with From, To, Cc, Subject, Date and the other core fields listed once \
            more than present, so that none can be added later.
            """
    )

    @Option(help: "The signing domain (d=).")
    var domain: String

    @Option(help: "The selector (s=), once per --key, in the same order.")
    var selector: [String]

    @Option(help: "A private key file (PEM); repeat for several signatures.")
    var key: [String]

    @Option(help: "Header and body canonicalization (c=): relaxed/relaxed, simple/simple, relaxed/simple or simple/relaxed.")
    var canonicalization = "relaxed/relaxed"

    @Option(help: ArgumentHelp("Make signatures expire this many seconds after signing (x=).", valueName: "seconds"))
    var expireAfter: Int?

    @Argument(help: "The message file (CRLF or LF line endings), or - for standard input.")
    var file: String

    func validate() throws {
        guard !key.isEmpty, selector.count == key.count else {
            throw ValidationError("give one --selector for each --key (\(selector.count) selector(s), \(key.count) key(s))")
        }
        guard Set(selector).count == selector.count else {
            throw ValidationError("each key needs a selector of its own: two key records under one name are refused by verifiers")
        }
        if let expireAfter, expireAfter <= 0 { throw ValidationError("--expire-after must be positive") }
    }

    func run() throws {
        let parts = canonicalization.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let header = Canonicalization(rawValue: parts[0]), let body = Canonicalization(rawValue: parts[1]) else {
            throw ValidationError("--canonicalization: '\(canonicalization)' is not HEADER/BODY with each simple or relaxed")
        }
        var signers: [DKIMSigner] = []
        for (selector, keyFile) in zip(selector, key) {
            let key = try readKey(keyFile, command: "sign")
            do {
                signers.append(
                    try DKIMSigner(
                        domain: domain, selector: selector, key: key, headerCanonicalization: header, bodyCanonicalization: body,
                        validity: expireAfter.map { .seconds($0) }))
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let message = try readMessage(file, command: "sign")
        do {
            FileHandle.standardOutput.write(Data(try DKIMSigner.sign(message, with: signers)))
        } catch {
            printError("tern dkim sign: \(error)")
            throw ExitCode(1)
        }
    }
}

private func readKey(_ path: String, command: String) throws -> DKIMPrivateKey {
    let pem: String
    do {
        pem = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        printError("tern dkim \(command): \(path): \(error.localizedDescription)")
        throw ExitCode(1)
    }
    do {
        return try DKIMPrivateKey(pem: pem)
    } catch {
        printError("tern dkim \(command): \(path): \(error)")
        throw ExitCode(1)
    }
}

private func readMessage(_ path: String, command: String) throws -> [UInt8] {
    do {
        if path == "-" { return Array(try FileHandle.standardInput.readToEnd() ?? Data()) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    } catch {
        printError("tern dkim \(command): \(path): \(error.localizedDescription)")
        throw ExitCode(1)
    }
}
