import Logging
import Testing

@testable import TernLog

@Suite struct TernLogLevelTests {
    @Test func orderAndNames() {
        #expect(TernLogLevel.allCases == [.error, .info, .debug, .trace, .traceauth, .tracedata])
        #expect(TernLogLevel.allCases.map(\.name) == ["error", "info", "debug", "trace", "traceauth", "tracedata"])
        #expect(TernLogLevel.error < .info && .trace < .traceauth && .traceauth < .tracedata)
        for level in TernLogLevel.allCases {
            #expect(TernLogLevel(name: level.name) == level)
        }
        #expect(TernLogLevel(name: "INFO") == nil)
        #expect(TernLogLevel(name: "warn") == nil)
    }
}

@Suite struct LogLevelsParseTests {
    @Test func bareLevel() throws {
        #expect(try LogLevels(parsing: "info") == LogLevels(defaultLevel: .info))
        #expect(try LogLevels(parsing: "tracedata") == LogLevels(defaultLevel: .tracedata))
    }

    @Test func defaultAndPackages() throws {
        let levels = try LogLevels(parsing: "debug,smtpserver=trace,dns=traceauth")
        #expect(levels == LogLevels(defaultLevel: .debug, packages: ["smtpserver": .trace, "dns": .traceauth]))
        #expect(levels.level(for: "smtpserver") == .trace)
        #expect(levels.level(for: "dns") == .traceauth)
        #expect(levels.level(for: "imap") == .debug)
    }

    @Test func whitespaceTolerated() throws {
        let levels = try LogLevels(parsing: "  smtpserver = trace ,\tinfo , dns=error\n")
        #expect(levels == LogLevels(defaultLevel: .info, packages: ["smtpserver": .trace, "dns": .error]))
    }

    @Test func defaultIsInfoWithoutBareLevel() throws {
        #expect(try LogLevels(parsing: "dns=debug") == LogLevels(defaultLevel: .info, packages: ["dns": .debug]))
    }

    @Test func canonicalDescriptionRoundTrips() throws {
        let levels = try LogLevels(parsing: "smtpserver=trace, debug, dns=traceauth")
        #expect(levels.description == "debug,dns=traceauth,smtpserver=trace")
        #expect(try LogLevels(parsing: levels.description) == levels)
    }

    static let errorCases: [(String, LogLevelsError, String)] = [
        ("", .emptyItem(position: 1), "log levels: item 1 is empty"),
        ("  ", .emptyItem(position: 1), "log levels: item 1 is empty"),
        ("info,", .emptyItem(position: 2), "log levels: item 2 is empty"),
        ("info,,dns=debug", .emptyItem(position: 2), "log levels: item 2 is empty"),
        (
            "verbose", .unknownLevel("verbose", package: nil),
            "log levels: unknown level \"verbose\" (expected one of error, info, debug, trace, traceauth, tracedata)"
        ),
        (
            "Info", .unknownLevel("Info", package: nil),
            "log levels: unknown level \"Info\" (expected one of error, info, debug, trace, traceauth, tracedata)"
        ),
        (
            "info,dns=loud", .unknownLevel("loud", package: "dns"),
            "log levels: unknown level \"loud\" for package \"dns\" (expected one of error, info, debug, trace, traceauth, tracedata)"
        ),
        (
            "dns=", .unknownLevel("", package: "dns"),
            "log levels: unknown level \"\" for package \"dns\" (expected one of error, info, debug, trace, traceauth, tracedata)"
        ),
        ("info, =trace", .emptyPackageName(item: "=trace"), "log levels: empty package name in \"=trace\""),
        (
            "SMTPServer=trace", .invalidPackageName("SMTPServer"),
            "log levels: invalid package name \"SMTPServer\" (package names are lowercase module names: a-z, 0-9, _, ., -)"
        ),
        (
            "smtp server=trace", .invalidPackageName("smtp server"),
            "log levels: invalid package name \"smtp server\" (package names are lowercase module names: a-z, 0-9, _, ., -)"
        ),
        (
            "dns=debug,dns=trace", .duplicatePackage("dns"),
            "log levels: package \"dns\" given more than once"
        ),
        (
            "info,debug", .duplicateDefault("debug"),
            "log levels: second default level \"debug\" (give one bare level at most)"
        ),
    ]

    @Test(arguments: errorCases)
    func parseErrors(text: String, error: LogLevelsError, message: String) {
        #expect(throws: error) { try LogLevels(parsing: text) }
        #expect(error.description == message)
    }
}

@Suite struct ConnectionIDsTests {
    @Test func countsFromInjectedStartInLowercaseHex() {
        let ids = ConnectionIDs(start: 0x7f3a)
        #expect(ids.next() == "7f3a")
        #expect(ids.next() == "7f3b")
        #expect(ids.next() == "7f3c")
    }

    @Test func wrapsAroundWithoutTrapping() {
        let ids = ConnectionIDs(start: .max)
        #expect(ids.next() == "ffffffffffffffff")
        #expect(ids.next() == "0")
    }

    @Test func uniqueAcrossConcurrentCallers() async {
        let ids = ConnectionIDs()
        let all = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).map { _ in ids.next() } }
            }
            var all: [String] = []
            for await batch in group { all += batch }
            return all
        }
        #expect(all.count == 4000)
        #expect(Set(all).count == 4000)
        let hexDigits = Set("0123456789abcdef")
        #expect(all.allSatisfy { !$0.isEmpty && $0.count <= 16 && $0.allSatisfy(hexDigits.contains) })
    }

    @Test func usedAsCid() throws {
        let (base, capture, _) = try makeLogger()
        var logger = base
        logger[metadataKey: "cid"] = "\(ConnectionIDs(start: 0xabc).next())"
        logger.info("connection accepted")
        #expect(capture.text == "l=info m=\"connection accepted\" pkg=smtpserver cid=abc\n")
    }
}
