// swift-tools-version: 6.1
// Tern: a mail server. Module map and rules: DESIGN.md (in the steering repository's shared/).
import PackageDescription

let package = Package(
    name: "tern",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tern", targets: ["Tern"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // Libraries: pure, reusable, never import a service, the config or the executable.
        .target(
            name: "DNS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Base64 (RFC 4648): the one encoder, the MIME decoder and the strict SASL decoder.
        .target(name: "Base64"),
        .target(name: "Message", dependencies: ["Base64"]),
        .target(name: "SMTP"),
        .target(name: "IMAP", dependencies: ["Base64"]),
        .target(
            name: "Certificates",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "SASL", dependencies: ["Base64", .product(name: "Crypto", package: "swift-crypto")]),
        // What swift-nio-ssl does not tell about a handshake (channel binding, cipher suite),
        // recorded in front of the TLS handler; shared by servers and the SMTP client.
        .target(
            name: "TLSHandshakeCapture",
            dependencies: [
                "SASL",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // DANE (RFC 6698, RFC 7671, RFC 7672): TLSA records sorted into usable and unusable for
        // SMTP, and a server's certificate chain verified against the usable ones.
        .target(
            name: "DANE",
            dependencies: [
                "DNS",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // One SMTP client session (a state machine and its NIO adapter) and the dialing
        // helpers the outbound queue uses.
        .target(
            name: "SMTPClient",
            dependencies: [
                "SMTP", "SASL", "DNS", "TLSHandshakeCapture", "DANE", "TLSRPT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // MTA-STS (RFC 8461): the _mta-sts TXT record, the policy and its MX patterns, and
        // fetching the policy over HTTPS.
        .target(
            name: "MTASTS",
            dependencies: [
                "DNS",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // syncfs(2) and any other call the Glibc module hides, for DurableFiles.
        .target(name: "CFileSystem"),
        // The fsync'd file operations of the durability rule, shared by Store and Queue.
        .target(name: "DurableFiles", dependencies: ["CFileSystem"]),
        // DEFLATE and gzip from the system's zlib (IMAP COMPRESS, TLS and DMARC reports).
        .target(name: "Zlib"),
        // Sender Policy Framework (RFC 7208): records, macros, check_host() over a Resolver.
        .target(name: "SPF", dependencies: ["DNS"]),
        // The Public Suffix List (shipped as a resource) and organizational domains (RFC 7489 §3.2).
        .target(name: "PublicSuffix", dependencies: ["DNS"], resources: [.copy("Resources/public_suffix_list.dat")]),
        // DMARC (RFC 7489): records, policy discovery, identifier alignment, the policy to apply,
        // and the verification of external report destinations. SPF and DKIM results come in as values.
        .target(name: "DMARC", dependencies: ["DNS", "PublicSuffix"]),
        // DKIM (RFC 6376, RFC 8301, RFC 8463): signature and key-record parsing, canonicalization,
        // verification over a Resolver, and signing with RSA or Ed25519 keys.
        .target(
            name: "DKIM",
            dependencies: [
                "DNS", "Message",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // SMTP TLS Reporting (RFC 8460): report and result types, JSON and gzip.
        .target(name: "TLSRPT", dependencies: ["Zlib"]),
        // TLS results of outgoing deliveries per day and policy domain, for the reports.
        // iprev (RFC 8601 §3): forward-confirmed reverse DNS of an SMTP client's address.
        .target(name: "IPRev", dependencies: ["DNS"]),
        .target(name: "TLSRPTStore", dependencies: ["TLSRPT", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // DMARC evaluations of incoming messages per policy domain and UTC hour, for aggregate reports.
        .target(name: "DMARCStore", dependencies: ["DMARC", "DNS", "SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // How every database file is opened: WAL, what a COMMIT promises.
        .target(name: "SQLiteSupport", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // State: accounts, mailboxes, messages (SQLite + files).
        .target(
            name: "Store",
            dependencies: [
                "Message", "DurableFiles", "SQLiteSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The outbound queue: durable records (QueueStore), scheduling, routes, transports,
        // DSNs, and the delivery service.
        .target(
            name: "Queue",
            dependencies: [
                "SMTPClient", "SMTP", "DNS", "Message", "DurableFiles", "SQLiteSupport", "MTASTS", "MTASTSCache", "DANE", "TLSRPT",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The MTA-STS policy cache (<data>/mtasts.db): what the queue asks before delivering,
        // and the service that renews policies before they expire.
        .target(
            name: "MTASTSCache",
            dependencies: [
                "MTASTS", "DNS", "SQLiteSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The configuration model: the executable hands each component its values.
        .target(name: "Config", dependencies: ["DNS", "SASL", "MTASTS", "Message", .product(name: "Yams", package: "Yams")]),
        // Services.
        // Certificates from an ACME CA (RFC 8555) with tls-alpn-01 (RFC 8737).
        .target(
            name: "ACME",
            dependencies: [
                "DurableFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What every protocol server shares: listeners, per-address limits, the connection
        // gate (STARTTLS epochs, timeouts), authentication settings.
        .target(
            name: "ServerSupport",
            dependencies: [
                "SASL", "TLSHandshakeCapture",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SMTPServer",
            dependencies: [
                "SMTP", "Message", "SASL", "Store", "DurableFiles", "ServerSupport", "DNS", "SPF", "IPRev", "DKIM", "DMARC", "PublicSuffix",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "IMAPServer",
            dependencies: [
                "IMAP", "Base64", "Message", "SASL", "Store", "DurableFiles", "ServerSupport", "Zlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "TernLog",
            dependencies: [.product(name: "Logging", package: "swift-log")]
        ),
        // Services.
        .target(
            name: "HTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The executable: argument parsing and wiring only.
        .executableTarget(
            name: "Tern",
            dependencies: [
                "MTASTS", "MTASTSCache", "DNS", "Message", "Config", "TernLog", "HTTP", "SMTP", "ServerSupport", "SMTPServer", "IMAP", "IMAPServer", "ACME", "Store", "SASL", "Certificates",
                "Queue", "SMTPClient", "TLSHandshakeCapture", "SPF", "TLSRPT", "TLSRPTStore", "DANE", "PublicSuffix", "DMARC", "DMARCStore", "DKIM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // What several test targets share: a seeded random generator, a line reader for
        // scripted peers, a SOCKS5 proxy.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/TestSupport"
        ),
        // A programmable DNS server on loopback, shared by the resolver and CLI tests.
        .target(
            name: "DNSTestSupport",
            dependencies: [
                "DNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/DNSTestSupport"
        ),
        // Drives the ACME client against pebble for Interop/acme.sh.
        .executableTarget(
            name: "acme-interop",
            dependencies: [
                "ACME", "ServerSupport", "DNS", "DNSTestSupport", "Certificates",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Tests/ACMEInterop"
        ),
        // Benchmarks, run in release builds (README: Benchmarks).
        .executableTarget(name: "message-parse-bench", dependencies: ["Message"], path: "Benchmarks/MessageParse"),
        .executableTarget(name: "dkim-bench", dependencies: ["DKIM", "DNS"], path: "Benchmarks/DKIM"),
        .testTarget(
            name: "DNSTests",
            dependencies: [
                "DNS", "DNSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "Base64Tests", dependencies: ["Base64"]),
        .testTarget(name: "MessageTests", dependencies: ["Message", "Base64", "TestSupport"]),
        .testTarget(name: "SMTPTests", dependencies: ["SMTP", "TestSupport"]),
        .testTarget(name: "IMAPTests", dependencies: ["IMAP", "TestSupport"]),
        .testTarget(
            name: "SMTPClientTests",
            dependencies: [
                "SMTPClient", "SMTP", "SASL", "DNS", "DANE", "Certificates", "SMTPServer", "ServerSupport", "TLSHandshakeCapture", "TestSupport", "TLSRPT",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DANETests",
            dependencies: [
                "DANE", "DNS", "TestSupport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "SASLTests", dependencies: ["SASL", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "TLSHandshakeCaptureTests",
            dependencies: [
                "TLSHandshakeCapture", "SASL", "Certificates",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "DNS", "SASL", "MTASTS"]),
        .testTarget(name: "ZlibTests", dependencies: ["Zlib", "TestSupport"]),
        .testTarget(name: "SQLiteSupportTests", dependencies: ["SQLiteSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "SPFTests", dependencies: ["SPF", "DNS"]),
        .testTarget(name: "PublicSuffixTests", dependencies: ["PublicSuffix", "DNS"]),
        .testTarget(name: "DMARCTests", dependencies: ["DMARC", "PublicSuffix", "DNS", "TestSupport"]),
        .testTarget(name: "DMARCStoreTests", dependencies: ["DMARCStore", "DMARC", "PublicSuffix", "DNS", "TestSupport"]),
        .testTarget(
            name: "DKIMTests",
            dependencies: [
                "DKIM", "DNS", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "TLSRPTTests", dependencies: ["TLSRPT", "Zlib"]),
        .testTarget(name: "IPRevTests", dependencies: ["IPRev", "DNS"]),
        .testTarget(name: "TLSRPTStoreTests", dependencies: ["TLSRPTStore", "TLSRPT", "TestSupport"]),
        .testTarget(
            name: "CertificatesTests",
            dependencies: [
                "Certificates",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "QueueTests",
            dependencies: [
                "Queue", "SMTPClient", "SMTP", "DNS", "Message", "SASL", "Certificates", "SMTPServer", "ServerSupport", "TLSHandshakeCapture",
                "TestSupport", "MTASTS", "MTASTSCache", "TLSRPT",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MTASTSTests",
            dependencies: [
                "MTASTS", "DNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "MTASTSCacheTests",
            dependencies: [
                "MTASTSCache", "MTASTS", "DNS", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StoreTests", dependencies: ["Store", "Message", .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(
            name: "SMTPServerTests",
            dependencies: [
                "SMTPServer", "ServerSupport", "TLSHandshakeCapture", "SMTP", "Message", "Certificates", "SASL", "Store", "DNS", "DKIM", "PublicSuffix",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "IMAPServerTests",
            dependencies: [
                "IMAPServer", "IMAP", "Store", "Message", "SASL", "ServerSupport", "TLSHandshakeCapture", "Certificates", "TestSupport", "Zlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "ACMETests",
            dependencies: [
                "ACME", "ServerSupport", "Certificates",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ServerSupportTests",
            dependencies: [
                "ServerSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TernLogTests", dependencies: ["TernLog", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "HTTPTests",
            dependencies: [
                "HTTP", "DNS", "Certificates",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "TernTests",
            dependencies: [
                "Tern", "DNS", "DNSTestSupport", "SPF", "Certificates", "TestSupport", "TLSRPT", "TLSRPTStore", "DKIM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
