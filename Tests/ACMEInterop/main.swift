// acme-interop: obtains a certificate from a real ACME CA (pebble in Interop/acme.sh) with
// the ACME module's CertificateManager, answering tls-alpn-01 (RFC 8737) through
// ServerSupport's ConnectionListener with the ACMEChallengeResponder in front of its
// implicit TLS. A FakeDNSServer on loopback resolves the names to 127.0.0.1 for the CA
// (pebble -dnsserver). Test program only: not part of tern.
//
//   acme-interop --directory URL --ca-pem FILE --storage DIR --tls-port PORT --name NAME...
//                [--contact EMAIL] [--hold]
//
// stdout: "dns-port N" once DNS is up, then "status obtained|reused", "chain PATH",
// "key PATH", and "ready" when done (with --hold it then serves until killed).
import ACME
import Certificates
import DNS
import DNSTestSupport
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import ServerSupport

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("acme-interop: \(message)\n".utf8))
    exit(1)
}

/// One line to stdout, unbuffered: the script reads it while this runs.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

var directory: String?
var caPEM: String?
var storage: String?
var tlsPort: Int?
var names: [String] = []
var contact: String?
var hold = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--directory": directory = arguments.popFirst()
    case "--ca-pem": caPEM = arguments.popFirst()
    case "--storage": storage = arguments.popFirst()
    case "--tls-port": tlsPort = arguments.popFirst().flatMap { Int($0) }
    case "--name": arguments.popFirst().map { names.append($0) }
    case "--contact": contact = arguments.popFirst()
    case "--hold": hold = true
    default: fail("unknown argument \(argument)")
    }
}
guard let directory, let storage, let tlsPort, !names.isEmpty else {
    fail("usage: --directory URL --ca-pem FILE --storage DIR --tls-port PORT --name NAME... [--contact EMAIL] [--hold]")
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .debug
    return handler
}
let logger = Logger(label: "acme-interop")

// DNS for the CA: every name is 127.0.0.1 (A), with no AAAA.
var records: [ResourceRecord] = []
for name in names {
    guard let owner = try? DNSName(name), let address = IPAddress("127.0.0.1") else { fail("bad name \(name)") }
    records.append(ResourceRecord(name: owner, ttl: 60, data: .a(address)))
}
let dns = try await FakeDNSServer(handler: FakeDNSServer.zone(records))
say("dns-port \(dns.port)")

// The TLS listener the CA validates against: implicit TLS with a self-signed certificate for
// everyone else, a greeting on it, and the tls-alpn-01 responder in front.
let challenges = ACMEChallengeCertificates()
let selfSigned = try SelfSignedCertificate(hostnames: names)
let normalTLS = try NIOSSLContext(
    configuration: .makeServerConfiguration(
        certificateChain: [.certificate(try NIOSSLCertificate(bytes: selfSigned.certificateDER, format: .der))],
        privateKey: .privateKey(try NIOSSLPrivateKey(bytes: selfSigned.privateKeyDER, format: .der))))
var listener = ConnectionListener(
    implicitTLS: normalTLS, initialTimeout: .seconds(10), limiter: ConnectionLimiter(maxPerAddress: 20),
    refusal: Array("421 busy\r\n".utf8), logger: logger, makeID: { UUID().uuidString.prefix(8).lowercased() },
    connections: Counter(label: "interop_connections"), refusedConnections: Counter(label: "interop_refused")
) { accepted in
    try? await accepted.channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: "220 acme-interop ready\r\n"))
        for try await input in inbound {
            if case .bytes = input { break }
        }
    }
}
listener.acmeChallenges = challenges
let bound = try await listener.bind(host: "127.0.0.1", port: tlsPort)
let serving = Task { try await bound.serve() }

let publisher = ClosureChallengePublisher(
    publish: { name, certificate in
        try challenges.publish(name: name, certificateDER: certificate.certificateDER, privateKeyDER: certificate.privateKeyDER)
    },
    unpublish: { name in challenges.unpublish(name: name) })

var configuration = CertificateManager.Configuration(hostnames: names, directoryURL: directory, storageDirectory: storage, contactEmail: contact)
if let caPEM {
    guard let pem = try? String(contentsOfFile: caPEM, encoding: .utf8) else { fail("cannot read \(caPEM)") }
    configuration.additionalTrustRootPEM = pem  // pebble's HTTPS is signed by a test CA
}
configuration.acme.defaultPollInterval = .milliseconds(500)
configuration.connectTimeout = .seconds(2)
let manager = CertificateManager(configuration: configuration, publisher: publisher, logger: logger)

// Like `run()` would, but bounded: pebble may still be starting (connection errors are
// retried for a minute), and a CA error (pebble rejects 5% of nonces; two in a row fail a
// request) gets a few more attempts.
var status = "reused"
var connectionFailures = 0
var caFailures = 0
while true {
    do {
        if try await manager.renewIfNeeded() { status = "obtained" }
        break
    } catch let error as ACMEError {
        if case .transport = error, connectionFailures < 120 {
            connectionFailures += 1
        } else if caFailures < 3 {
            caFailures += 1
            logger.warning("attempt failed, retrying", metadata: ["error": "\(error)"])
        } else {
            fail("\(error)")
        }
        try await Task.sleep(for: .milliseconds(500))
    } catch {
        fail("\(error)")
    }
}
guard let certificate = await manager.current else { fail("no certificate") }
say("status \(status)")
say("names \(certificate.names.sorted().joined(separator: ","))")
say("not-after \(Int(certificate.notAfter.timeIntervalSince1970))")
say("chain \(manager.files.chain)")
say("key \(manager.files.key)")
say("challenges-left \(challenges.isEmpty ? 0 : 1)")
say("ready")
if hold {
    try? await serving.value
}
serving.cancel()
await dns.stop()
