import Testing
@testable import Message

@Suite struct MIMEParametersTests {
    @Test func simpleContentType() {
        let parsed = MIMEParameters(parsing: "text/plain; charset=us-ascii")
        #expect(parsed.value == "text/plain")
        #expect(parsed.parameters == ["charset": "us-ascii"])
        #expect(parsed.defects.isEmpty)
    }

    @Test func rfc2045Example() {
        // RFC 2045 §5.1: comments are allowed, and quoting does not change a value.
        let commented = MIMEParameters(parsing: "text/plain; charset=us-ascii (Plain text)")
        #expect(commented.value == "text/plain")
        #expect(commented.parameters == ["charset": "us-ascii"])
        #expect(commented.defects.isEmpty)
        #expect(MIMEParameters(parsing: "text/plain; charset=\"us-ascii\"").parameters == ["charset": "us-ascii"])
    }

    @Test func namesAndValueAreCaseInsensitive() {
        let parsed = MIMEParameters(parsing: "Text/HTML; CharSet=\"UTF-8\"; Format=Flowed")
        #expect(parsed.value == "text/html")
        // Parameter values keep their case.
        #expect(parsed.parameters == ["charset": "UTF-8", "format": "Flowed"])
        #expect(parsed["CHARSET"] == "UTF-8")
        #expect(parsed["missing"] == nil)
    }

    @Test func rfc2231Section3Continuations() {
        let parsed = MIMEParameters(parsing: """
            message/external-body; access-type=URL;\r\n URL*0="ftp://";\r\n URL*1="cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar"
            """)
        #expect(parsed.value == "message/external-body")
        #expect(parsed.parameters == [
            "access-type": "URL",
            "url": "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar",
        ])
        #expect(parsed.defects.isEmpty)
    }

    @Test func rfc2231Section4ExtendedValue() {
        let parsed = MIMEParameters(parsing: "application/x-stuff;\r\n title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A")
        #expect(parsed.value == "application/x-stuff")
        #expect(parsed.parameters == ["title": "This is ***fun***"])
        #expect(parsed.defects.isEmpty)
    }

    @Test func rfc2231Section4_1MixedContinuations() {
        // Written as in the RFC, without the ";" separators (an erratum), and with them.
        let asPrinted = MIMEParameters(parsing: """
            application/x-stuff
             title*0*=us-ascii'en'This%20is%20even%20more%20
             title*1*=%2A%2A%2Afun%2A%2A%2A%20
             title*2="isn't it!"
            """)
        #expect(asPrinted.value == "application/x-stuff")
        #expect(asPrinted.parameters == ["title": "This is even more ***fun*** isn't it!"])
        #expect(!asPrinted.defects.isEmpty)

        let separated = MIMEParameters(parsing:
            "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"")
        #expect(separated.parameters == ["title": "This is even more ***fun*** isn't it!"])
        #expect(separated.defects.isEmpty)
    }

    @Test func rfc2231CharsetsAndSplitCharacters() {
        // UTF-8, the common case.
        let utf8 = MIMEParameters(parsing: "attachment; filename*=UTF-8''Pr%C3%BCfung%20%E2%82%AC.pdf")
        #expect(utf8.value == "attachment")
        #expect(utf8["filename"] == "Prüfung €.pdf")
        // ISO-8859-1, lowercase hex, empty language.
        #expect(MIMEParameters(parsing: "attachment; filename*=iso-8859-1''Pr%fcfung.pdf")["filename"] == "Prüfung.pdf")
        // A character split across sections is joined before charset conversion (§4.1).
        let split = MIMEParameters(parsing: "attachment; filename*0*=UTF-8''%E2%82; filename*1*=%AC.txt")
        #expect(split["filename"] == "€.txt")
        // Sections out of order are put in order.
        let unordered = MIMEParameters(parsing: "attachment; name*1=\"b\"; name*2=\"c\"; name*0=\"a\"")
        #expect(unordered["name"] == "abc")
        // Empty charset: unspecified; UTF-8 octets read as such.
        #expect(MIMEParameters(parsing: "inline; filename*=''caf%C3%A9")["filename"] == "café")
        // Quoted extended value (not allowed, but sent).
        #expect(MIMEParameters(parsing: "inline; filename*=\"UTF-8''a%20b\"")["filename"] == "a b")
        // Shift_JIS.
        #expect(MIMEParameters(parsing: "inline; filename*=shift_jis''%93%FA%96%7B.txt")["filename"] == "日本.txt")
    }

    @Test func rfc2231FormWinsOverPlain() {
        // Outlook sends both; the RFC 2231 form is the real one.
        let parsed = MIMEParameters(parsing: "attachment; filename=\"Prufung.pdf\"; filename*=UTF-8''Pr%C3%BCfung.pdf")
        #expect(parsed["filename"] == "Prüfung.pdf")
        #expect(parsed.defects.isEmpty)
        let continued = MIMEParameters(parsing: "attachment; filename*0*=UTF-8''a%C3%A9; filename=\"fallback\"")
        #expect(continued["filename"] == "aé")
    }

    @Test func unknownCharsetInExtendedValue() {
        // Falls back to the plain parameter when there is one.
        let withFallback = MIMEParameters(parsing: "attachment; filename=\"plain.pdf\"; filename*=x-unknown''abc%41")
        #expect(withFallback["filename"] == "plain.pdf")
        #expect(withFallback.defects.contains { $0.contains("unknown charset") })
        // Otherwise decoded as well as it can be.
        let alone = MIMEParameters(parsing: "attachment; filename*=x-unknown''abc%41")
        #expect(alone["filename"] == "abcA")
        #expect(alone.defects.contains { $0.contains("unknown charset") })
        let continued = MIMEParameters(parsing: "attachment; filename*0*=x-unknown''abc; filename*1=def")
        #expect(continued["filename"] == "abcdef")
        #expect(!continued.defects.isEmpty)
    }

    @Test func extendedValueWithoutCharsetQuotes() {
        let parsed = MIMEParameters(parsing: "attachment; filename*=report%20final.pdf")
        #expect(parsed["filename"] == "report final.pdf")
        #expect(!parsed.defects.isEmpty)
    }

    @Test func continuationGapsAndDuplicates() {
        let gap = MIMEParameters(parsing: "x/y; a*0=one; a*2=three")
        #expect(gap["a"] == "onethree")
        #expect(gap.defects.contains { $0.contains("misses section 1") })
        let late = MIMEParameters(parsing: "x/y; a*1=two")
        #expect(late["a"] == "two")
        #expect(!late.defects.isEmpty)
        let duplicateSection = MIMEParameters(parsing: "x/y; a*0=one; a*0=uno; a*1=two")
        #expect(duplicateSection["a"] == "onetwo")
        #expect(!duplicateSection.defects.isEmpty)
        let huge = MIMEParameters(parsing: "x/y; a*0=one; a*99999999999999999999999=x; a*1000=y")
        #expect(huge["a"] == "one")
        #expect(huge.defects.count == 2)
    }

    @Test func duplicateParametersKeepTheFirst() {
        let parsed = MIMEParameters(parsing: "text/plain; charset=utf-8; CHARSET=iso-8859-1")
        #expect(parsed["charset"] == "utf-8")
        #expect(parsed.defects.contains { $0.contains("duplicate") })
    }

    @Test func encodedWordFilenames() {
        // Outlook and Gmail style.
        let quoted = MIMEParameters(parsing: "attachment; filename=\"=?UTF-8?B?0J7RgtGH0ZHRgiDQt9CwIDIwMjQucGRm?=\"")
        #expect(quoted["filename"] == "Отчёт за 2024.pdf")
        let unquoted = MIMEParameters(parsing: "application/pdf; name==?UTF-8?B?UHLDvGZ1bmcucGRm?=")
        #expect(unquoted["name"] == "Prüfung.pdf")
        let folded = MIMEParameters(parsing: "attachment; filename=\"=?utf-8?q?Pr=C3=BC?=\r\n =?utf-8?q?fung.pdf?=\"")
        #expect(folded["filename"] == "Prüfung.pdf")
        // Continuations holding one encoded-word.
        let continued = MIMEParameters(parsing: "attachment; filename*0=\"=?UTF-8?B?UHLDvGZ1\"; filename*1=\"bmcucGRm?=\"")
        #expect(continued["filename"] == "Prüfung.pdf")
        // A boundary is never decoded.
        let boundary = MIMEParameters(parsing: "multipart/mixed; boundary=\"=?utf-8?q?x?=\"")
        #expect(boundary["boundary"] == "=?utf-8?q?x?=")
    }

    @Test func semicolonsAndEscapesInsideQuotedStrings() {
        let parsed = MIMEParameters(parsing: #"attachment; filename="a; b=c \"d\" \\e.txt"; size=42"#)
        #expect(parsed.parameters == ["filename": #"a; b=c "d" \e.txt"#, "size": "42"])
        #expect(parsed.defects.isEmpty)
        // Non-ASCII (RFC 6532) kept as it is.
        #expect(MIMEParameters(parsing: "attachment; filename=\"Grüße.txt\"")["filename"] == "Grüße.txt")
    }

    @Test func unquotedValuesWithOddCharacters() {
        let boundary = MIMEParameters(parsing: "multipart/alternative; boundary==_NextPart_000_0001_01D9.ABCDEF")
        #expect(boundary["boundary"] == "=_NextPart_000_0001_01D9.ABCDEF")
        #expect(MIMEParameters(parsing: "multipart/mixed; boundary=----=_Part_12_345.678")["boundary"] == "----=_Part_12_345.678")
        #expect(MIMEParameters(parsing: "attachment; filename=a(1).pdf")["filename"] == "a(1).pdf")
        #expect(MIMEParameters(parsing: "attachment; filename=Grüße.txt")["filename"] == "Grüße.txt")
        #expect(MIMEParameters(parsing: "attachment; filename=C:/x/y?.z@")["filename"] == "C:/x/y?.z@")
        // Unquoted spaces are part of the value, with a defect.
        let spaced = MIMEParameters(parsing: "attachment; filename=My Report 2024.pdf; size=3")
        #expect(spaced.parameters == ["filename": "My Report 2024.pdf", "size": "3"])
        #expect(spaced.defects.count == 1)
    }

    @Test func missingSeparators() {
        let parsed = MIMEParameters(parsing: "text/plain charset=utf-8 format=flowed")
        #expect(parsed.value == "text/plain")
        #expect(parsed.parameters == ["charset": "utf-8", "format": "flowed"])
        #expect(parsed.defects.count == 2)
        let quoted = MIMEParameters(parsing: "attachment; filename=\"a.txt\"name=\"b\"")
        #expect(quoted.parameters == ["filename": "a.txt", "name": "b"])
        #expect(!quoted.defects.isEmpty)
    }

    @Test func missingValues() {
        let noEquals = MIMEParameters(parsing: "attachment; filename; size=3")
        #expect(noEquals.parameters == ["size": "3"])
        #expect(noEquals.defects.contains { $0.contains("filename") })
        let empty = MIMEParameters(parsing: "attachment; filename=; size=3")
        #expect(empty.parameters == ["filename": "", "size": "3"])
        #expect(empty.defects.count == 1)
        let emptyAtEnd = MIMEParameters(parsing: "attachment; filename=")
        #expect(emptyAtEnd.parameters == ["filename": ""])
        #expect(MIMEParameters(parsing: "attachment; filename=\"\"").parameters == ["filename": ""])
        #expect(MIMEParameters(parsing: "attachment; filename=\"\"").defects.isEmpty)
    }

    @Test func missingMainValue() {
        let empty = MIMEParameters(parsing: "")
        #expect(empty.value == "")
        #expect(empty.parameters.isEmpty)
        #expect(empty.defects.isEmpty)
        let parameterFirst = MIMEParameters(parsing: "charset=utf-8")
        #expect(parameterFirst.value == "")
        #expect(parameterFirst.parameters == ["charset": "utf-8"])
        #expect(!parameterFirst.defects.isEmpty)
        let semicolonFirst = MIMEParameters(parsing: "; filename=a.txt")
        #expect(semicolonFirst.value == "")
        #expect(semicolonFirst["filename"] == "a.txt")
        #expect(MIMEParameters(parsing: "   ").value == "")
    }

    @Test func commentsAndWhitespaceEverywhere() {
        let parsed = MIMEParameters(parsing: "(lead) text (a) / (b) plain (c) ; (d) charset (e) = (f) \"utf-8\" (g) ;; format=flowed (h (nested) \\) x)")
        #expect(parsed.value == "text/plain")
        #expect(parsed.parameters == ["charset": "utf-8", "format": "flowed"])
        #expect(parsed.defects.isEmpty)
        #expect(MIMEParameters(parsing: "text/plain;\r\n\tcharset=utf-8").parameters == ["charset": "utf-8"])
        #expect(MIMEParameters(parsing: "inline ; filename = x.txt").parameters == ["filename": "x.txt"])
    }

    @Test func unterminatedConstructs() {
        let quote = MIMEParameters(parsing: "attachment; filename=\"never ends; size=3")
        #expect(quote["filename"] == "never ends; size=3")
        #expect(quote.defects.contains { $0.contains("unterminated quoted string") })
        let comment = MIMEParameters(parsing: "text/plain; charset=utf-8 (never ends")
        #expect(comment["charset"] == "utf-8")
        #expect(comment.defects.contains { $0.contains("unterminated comment") })
        let trailingBackslash = MIMEParameters(parsing: "attachment; filename=\"a\\")
        #expect(trailingBackslash["filename"] == "a\\")
    }

    @Test func junkNeverCrashes() {
        let inputs = [
            ";", ";;;", "=", "==", "\"", "(", ")", "\\", "/", "a/", "/b", "*", "a; *=x", "a; *0=x", "a; b*=", "a; b*0*=",
            "a; =b", "a; \"b\"=c", "a; b=\"c", "a; b=(c", "a; b*0*='", "a; b*='''", "a; b*=%", "a; b*=''%Z", "\u{0}\r\n",
            "text/plain; charset=\"\\", "a; b*x=1; b**=2; b*0**=3", String(repeating: "(", count: 10_000),
            String(repeating: "a=b;", count: 10_000), String(repeating: "\"", count: 10_001),
        ]
        for input in inputs {
            let parsed = MIMEParameters(parsing: input)
            #expect(parsed.defects.count <= MIMEParameters.maxDefects + 1)
        }
        let star = MIMEParameters(parsing: "a; b*x=1")
        #expect(star["b*x"] == "1")
    }

    @Test func contentDisposition() {
        // RFC 2183 §2.
        let parsed = MIMEParameters(parsing: "attachment; filename=genome.jpeg;\r\n modification-date=\"Wed, 12 Feb 1997 16:29:51 -0500\";")
        #expect(parsed.value == "attachment")
        #expect(parsed.parameters == ["filename": "genome.jpeg", "modification-date": "Wed, 12 Feb 1997 16:29:51 -0500"])
        #expect(parsed.defects.isEmpty)
    }

    @Test func valueEquality() {
        #expect(MIMEParameters(parsing: "text/plain; charset=utf-8") == MIMEParameters(value: "text/plain", parameters: ["charset": "utf-8"]))
    }
}
