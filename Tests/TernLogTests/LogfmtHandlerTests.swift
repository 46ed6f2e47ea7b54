import Logging
import Testing

@testable import TernLog

@Suite struct LineFormatTests {
    @Test func simpleLine() throws {
        let (logger, capture, _) = try makeLogger()
        logger.info("connection accepted")
        #expect(capture.lines == ["l=info m=\"connection accepted\" pkg=smtpserver\n"])
    }

    @Test func cidComesRightAfterPkg() throws {
        let (base, capture, _) = try makeLogger()
        var logger = base
        logger[metadataKey: "cid"] = "7f3a"
        logger.info("connection accepted", metadata: ["remote": "127.0.0.1:5432", "aaa": "1"])
        #expect(capture.text == "l=info m=\"connection accepted\" pkg=smtpserver cid=7f3a aaa=1 remote=127.0.0.1:5432\n")
    }

    @Test func metadataSortedByKey() throws {
        let (logger, capture, _) = try makeLogger()
        logger.info("x", metadata: ["zeta": "1", "alpha": "2", "Beta": "3", "mid.key": "4", "_u": "5"])
        #expect(capture.text == "l=info m=x pkg=smtpserver Beta=3 _u=5 alpha=2 mid.key=4 zeta=1\n")
    }

    @Test func callMetadataOverridesHandlerMetadata() throws {
        let (base, capture, _) = try makeLogger()
        var logger = base
        logger[metadataKey: "cid"] = "1"
        logger[metadataKey: "user"] = "handler"
        logger[metadataKey: "keep"] = "h"
        logger.info("x", metadata: ["user": "call", "cid": "2"])
        #expect(capture.text == "l=info m=x pkg=smtpserver cid=2 keep=h user=call\n")
        #expect(logger[metadataKey: "user"] == "handler")
    }

    @Test func metadataProviderBetweenHandlerAndCall() throws {
        let provider = Logger.MetadataProvider { ["a": "provider", "b": "provider", "c": "provider"] }
        let (base, capture, _) = try makeLogger(provider: provider)
        var logger = base
        logger[metadataKey: "a"] = "handler"
        logger[metadataKey: "h"] = "handler"
        logger.info("x", metadata: ["b": "call"])
        #expect(capture.text == "l=info m=x pkg=smtpserver a=provider b=call c=provider h=handler\n")
    }

    @Test func levelNames() throws {
        let (logger, capture, _) = try makeLogger(levels: "trace")
        logger.critical("c")
        logger.error("e")
        logger.warning("w")
        logger.notice("n")
        logger.info("i")
        logger.debug("d")
        logger.trace("t")
        #expect(capture.lines == [
            "l=error m=c pkg=smtpserver\n",
            "l=error m=e pkg=smtpserver\n",
            "l=warn m=w pkg=smtpserver\n",
            "l=info m=n pkg=smtpserver\n",
            "l=info m=i pkg=smtpserver\n",
            "l=debug m=d pkg=smtpserver\n",
            "l=trace m=t pkg=smtpserver\n",
        ])
    }

    @Test func errorIsPrintedAsErr() throws {
        struct Failure: Error, CustomStringConvertible {
            var description: String { "disk full" }
        }
        let (logger, capture, _) = try makeLogger()
        logger.error("write failed", error: Failure(), metadata: ["path": "/tmp"])
        logger.error("write failed", error: Failure(), metadata: ["err": "explicit"])
        #expect(capture.lines == [
            "l=error m=\"write failed\" pkg=smtpserver err=\"disk full\" path=/tmp\n",
            "l=error m=\"write failed\" pkg=smtpserver err=explicit\n",
        ])
    }

    @Test func badKeysAreSanitized() throws {
        let (logger, capture, _) = try makeLogger()
        logger.info("x", metadata: ["": "e", "a b": "1", "k=v": "2", "ü": "3", "a\"\n": "4", "ok-_.9": "5"])
        #expect(capture.text == "l=info m=x pkg=smtpserver _=e _=3 a__=4 a_b=1 k_v=2 ok-_.9=5\n")
    }

    @Test func keysNamedLikeLineFieldsArePrefixed() throws {
        let (logger, capture, _) = try makeLogger()
        logger.info("x", metadata: ["l": "debug", "m": "fake", "pkg": "other", "lm": "ok"])
        #expect(capture.text == "l=info m=x pkg=smtpserver _l=debug lm=ok _m=fake _pkg=other\n")
    }

    @Test func labelIsQuotedLikeAValue() throws {
        let (logger, capture, _) = try makeLogger("odd label")
        logger.info("x")
        #expect(capture.text == "l=info m=x pkg=\"odd label\"\n")
    }

    @Test func arraysAndDictionaries() throws {
        let (logger, capture, _) = try makeLogger()
        logger.info(
            "x",
            metadata: [
                "list": ["a", "b c", "", "d,e", "[f]"],
                "map": ["z": "1", "a": "x=y", "m": ["n": "2"], "bad key": "3"],
                "nested": [["a"], []],
                "num": .stringConvertible(42),
            ]
        )
        #expect(
            capture.text
                == #"l=info m=x pkg=smtpserver list="[a,\"b c\",\"\",\"d,e\",\"[f]\"]" map="{a=\"x=y\",bad_key=3,m={n=2},z=1}" nested=[[a],[]] num=42"# + "\n"
        )
    }

    @Test func markerIsNeverPrinted() throws {
        let (base, capture, _) = try makeLogger(levels: "tracedata")
        var logger = base
        logger[metadataKey: TernLogLevel.markerMetadataKey] = "traceauth"
        logger.traceAuth("AUTH PLAIN", metadata: ["user": "mjl"])
        logger.traceData("body")
        logger.info("plain")
        #expect(capture.lines == [
            "l=traceauth m=\"AUTH PLAIN\" pkg=smtpserver user=mjl\n",
            "l=tracedata m=body pkg=smtpserver\n",
            "l=info m=plain pkg=smtpserver\n",
        ])
    }
}

@Suite struct EscapingTests {
    static let cases: [(String, String)] = [
        ("plain", "plain"),
        ("a b", #""a b""#),
        (#"say "hi""#, #""say \"hi\"""#),
        (#"C:\dir"#, #""C:\\dir""#),
        ("a=b", #""a=b""#),
        ("a\nb", #""a\nb""#),
        ("a\tb", #""a\tb""#),
        ("a\rb", #""a\rb""#),
        ("a\u{0}b", #""a\x00b""#),
        ("\u{1B}[31mred", #""\x1b[31mred""#),
        ("\u{7F}", #""\x7f""#),
        ("\u{85}", #""\x85""#),
        ("\u{A0}", #""\xa0""#),
        ("abc\u{202E}fed", #""abc\u202efed""#),
        ("\u{200E}x", #""\u200ex""#),
        ("a\u{2028}b", #""a\u2028b""#),
        ("a\u{2029}b", #""a\u2029b""#),
        ("\u{3000}", #""\u3000""#),
        ("\u{FEFF}", #""\ufeff""#),
        ("tag\u{E0001}", #""tag\U000e0001""#),
        ("", #""""#),
        ("grüße", "grüße"),
        ("ü", "ü"),
        ("📬", "📬"),
        ("a,b[c]{d}", "a,b[c]{d}"),
        ("ü b\n", #""ü b\n""#),
    ]

    @Test(arguments: cases)
    func valueQuoting(input: String, expected: String) throws {
        let (logger, capture, _) = try makeLogger()
        logger.info("\(input)", metadata: ["v": "\(input)"])
        #expect(capture.text == "l=info m=\(expected) pkg=smtpserver v=\(expected)\n")
    }

    @Test func escapesAreExactBytes() {
        // The bytes themselves, so a mistake in the expected literals above cannot hide one here.
        #expect(Array(Logfmt.value("\u{1B}\u{202E}").utf8) == Array(#""\x1b\u202e""#.utf8))
        #expect(Logfmt.value("\u{202E}").utf8.count == 8)
    }
}

@Suite struct LevelFilterTests {
    @Test func perPackageLevels() throws {
        let capture = Capture()
        let settings = LogSettings(try LogLevels(parsing: "info,dns=debug"))
        let dns = Logger(label: "dns") { LogfmtHandler(label: $0, settings: settings, output: capture.output) }
        let smtp = Logger(label: "smtpserver") { LogfmtHandler(label: $0, settings: settings, output: capture.output) }
        dns.debug("query sent")
        smtp.debug("hidden")
        smtp.info("shown")
        dns.trace("hidden")
        #expect(capture.lines == ["l=debug m=\"query sent\" pkg=dns\n", "l=info m=shown pkg=smtpserver\n"])
    }

    @Test func labelLookupIsCaseInsensitive() throws {
        let (logger, capture, _) = try makeLogger("DNS", levels: "info,dns=debug")
        logger.debug("q")
        #expect(capture.text == "l=debug m=q pkg=DNS\n")
    }

    @Test func errorLevelHidesWarnings() throws {
        let (logger, capture, _) = try makeLogger(levels: "error")
        logger.warning("w")
        logger.notice("n")
        logger.error("e")
        #expect(capture.text == "l=error m=e pkg=smtpserver\n")
    }

    @Test func traceHidesAuthAndData() throws {
        let (logger, capture, _) = try makeLogger(levels: "trace")
        logger.trace("EHLO x")
        logger.traceAuth("AUTH PLAIN secret")
        logger.traceData("message body")
        #expect(capture.lines == ["l=trace m=\"EHLO x\" pkg=smtpserver\n"])
    }

    @Test func traceauthShowsAuthButNotData() throws {
        let (logger, capture, _) = try makeLogger(levels: "traceauth")
        logger.trace("EHLO x")
        logger.traceAuth("AUTH PLAIN secret")
        logger.traceData("message body")
        #expect(capture.lines == [
            "l=trace m=\"EHLO x\" pkg=smtpserver\n",
            "l=traceauth m=\"AUTH PLAIN secret\" pkg=smtpserver\n",
        ])
    }

    @Test func tracedataShowsAll() throws {
        let (logger, capture, _) = try makeLogger(levels: "tracedata")
        logger.trace("EHLO x")
        logger.traceAuth("AUTH PLAIN secret")
        logger.traceData("message body")
        #expect(capture.lines == [
            "l=trace m=\"EHLO x\" pkg=smtpserver\n",
            "l=traceauth m=\"AUTH PLAIN secret\" pkg=smtpserver\n",
            "l=tracedata m=\"message body\" pkg=smtpserver\n",
        ])
    }

    @Test func markedLinesAreGatedWhateverTheirLevel() throws {
        let (logger, capture, _) = try makeLogger(levels: "debug")
        logger.info("secret", metadata: [TernLogLevel.markerMetadataKey: "traceauth"])
        logger.info("bogus marker", metadata: [TernLogLevel.markerMetadataKey: "whatever"])
        #expect(capture.lines.isEmpty)
        let (loud, loudCapture, _) = try makeLogger(levels: "traceauth")
        loud.info("bogus marker", metadata: [TernLogLevel.markerMetadataKey: "whatever"])
        #expect(loudCapture.lines.isEmpty)
    }

    @Test func disabledMessagesAreNotEvaluated() throws {
        // The logLevel getter lets swift-log drop disabled lines before building them.
        let (logger, _, _) = try makeLogger(levels: "debug")
        var evaluated = false
        func expensive() -> Logger.Message {
            evaluated = true
            return "x"
        }
        logger.traceAuth(expensive())
        logger.traceData(expensive())
        logger.trace(expensive())
        #expect(evaluated == false)
    }

    @Test func logLevelGetterFollowsPackageLevel() throws {
        let settings = LogSettings(try LogLevels(parsing: "info,dns=debug,smtpserver=traceauth,imap=error"))
        func level(_ label: String) -> Logger.Level {
            Logger(label: label) { LogfmtHandler(label: $0, settings: settings, output: { _ in }) }.logLevel
        }
        #expect(level("dns") == .debug)
        #expect(level("smtpserver") == .trace)
        #expect(level("imap") == .error)
        #expect(level("other") == .info)
    }

    @Test func runtimeChangeTakesEffect() throws {
        let (logger, capture, settings) = try makeLogger("dns", levels: "info")
        logger.debug("before")
        #expect(logger.logLevel == .info)
        settings.levels = try LogLevels(parsing: "info,dns=debug")
        #expect(logger.logLevel == .debug)
        logger.debug("after")
        settings.levels = LogLevels(defaultLevel: .error)
        logger.info("hidden again")
        #expect(capture.lines == ["l=debug m=after pkg=dns\n"])
        #expect(settings.levels == LogLevels(defaultLevel: .error))
    }

    @Test func logLevelSetterOnlyRestricts() throws {
        let (base, capture, settings) = try makeLogger(levels: "debug")
        var logger = base
        logger.logLevel = .warning
        #expect(logger.logLevel == .warning)
        logger.info("hidden")
        logger.warning("shown")
        logger.logLevel = .trace
        #expect(logger.logLevel == .debug)
        logger.trace("still hidden: the operator said debug")
        logger.debug("shown")
        settings.levels = LogLevels(defaultLevel: .tracedata)
        logger.traceAuth("shown")
        logger.logLevel = .debug
        logger.traceAuth("hidden by the local restriction")
        #expect(capture.lines == [
            "l=warn m=shown pkg=smtpserver\n",
            "l=debug m=shown pkg=smtpserver\n",
            "l=traceauth m=shown pkg=smtpserver\n",
        ])
    }

    @Test func factoryPassesProvider() throws {
        let capture = Capture()
        let settings = LogSettings()
        let make = LogfmtHandler.factory(settings: settings, output: capture.output)
        let provider = Logger.MetadataProvider { ["trace-id": "abc"] }
        let handler = make("http", provider)
        let logger = Logger(label: "http") { _ in handler }
        logger.info("request")
        #expect(capture.text == "l=info m=request pkg=http trace-id=abc\n")
    }
}
