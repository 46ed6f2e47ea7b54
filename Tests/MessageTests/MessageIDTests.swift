import Testing
@testable import Message

@Suite struct MessageIDTests {
    // RFC 5322 Appendix A.1.1, A.1.2, A.5, A.6.3
    @Test func appendixIdentifiers() {
        #expect(MessageID.parse("<1234@local.machine.example>") == "1234@local.machine.example")
        #expect(MessageID.parse("<5678.21-Nov-1997@example.com>") == "5678.21-Nov-1997@example.com")
        #expect(MessageID.parse("             <testabcd.1234@silly.test>") == "testabcd.1234@silly.test")
        #expect(MessageID.parse("<1234   @   local(blah)  .machine .example>") == "1234@local.machine.example")
    }

    @Test func cfwsAround() {
        #expect(MessageID.parse(" (comment) <a.b@example.com> (another)  ") == "a.b@example.com")
        #expect(MessageID.parse("<a@example.com>\t") == "a@example.com")
    }

    @Test func quotedIDLeft() {
        #expect(MessageID.parse(#"<"abc def"@example.com>"#) == #""abc def"@example.com"#)
        // Quoting that is not needed is removed, so both forms thread together.
        #expect(MessageID.parse(#"<"abc"@example.com>"#) == "abc@example.com")
        #expect(MessageID.parse(#"<"a\"b"@example.com>"#) == #""a\"b"@example.com"#)
    }

    @Test func realWorldForms() {
        #expect(MessageID.parse("<abc>") == "abc")  // no "@"
        #expect(MessageID.parse("abc@example.com") == "abc@example.com")  // no brackets
        #expect(MessageID.parse("abc@example.com (comment)") == "abc@example.com")
        #expect(MessageID.parse("abc") == "abc")
        #expect(MessageID.parse("<abc@example.com") == "abc@example.com")  // no ">"
        #expect(MessageID.parse("<abc def@example.com>") == "abcdef@example.com")  // folding residue
        #expect(MessageID.parse("<abc@[127.0.0.1]>") == "abc@[127.0.0.1]")
        #expect(MessageID.parse("<abc@@example.com>") == "abc@@example.com")
        #expect(MessageID.parse("Message from Joe <abc@x.example>") == "abc@x.example")
        #expect(MessageID.parse("<> <abc@x.example>") == "abc@x.example")
        #expect(MessageID.parse("<Jörg.1@bücher.example>") == "Jörg.1@bücher.example")
    }

    @Test(arguments: ["", "   ", "(only a comment)", "<>", "< >", "two tokens here", "<" + String(repeating: "a", count: 1000) + "@x>"])
    func hopeless(value: String) {
        #expect(MessageID.parse(value) == nil)
    }

    @Test func maxLengthIsKept() {
        let id = String(repeating: "a", count: MessageID.maxLength - 2) + "@x"
        #expect(MessageID.parse("<\(id)>") == id)
    }

    // RFC 5322 Appendix A.2
    @Test func referencesList() {
        #expect(MessageID.parseList("<1234@local.machine.example> <3456@example.net>")
            == ["1234@local.machine.example", "3456@example.net"])
        #expect(MessageID.parseList("<1234@local.machine.example>") == ["1234@local.machine.example"])
        #expect(MessageID.parseList("<a@x><b@y>,<c@z>") == ["a@x", "b@y", "c@z"])
        #expect(MessageID.parseList("") == [])
        #expect(MessageID.parseList("  (nothing) ") == [])
    }

    // RFC 5322 §4.5.4: phrases and comments between identifiers.
    @Test func referencesWithJunk() {
        let value = #"Your message of "Mon, 1 Jan 2024 <not@this>" <a@x> (comment <not@that>) and <b@y> junk"#
        #expect(MessageID.parseList(value) == ["a@x", "b@y"])
        #expect(MessageID.parseList("<a@x <b@y>") == ["a@x", "b@y"])
        #expect(MessageID.parseList("<a@x> <> <no-at> < > <b@y>") == ["a@x", "no-at", "b@y"])
        #expect(MessageID.parseList("a@x <b@y>") == ["b@y"])  // bare tokens only when nothing is bracketed
        #expect(MessageID.parseList("a@x  b@y junk") == ["a@x", "b@y"])
    }

    @Test func dedupeKeepsFirstOccurrence() {
        #expect(MessageID.parseList("<a@x> <b@x> <a@x> <c@x> <b@x>") == ["a@x", "b@x", "c@x"])
        #expect(MessageID.parseList("<a@x> < a @ x > <\"a\"@x>") == ["a@x"])
    }

    @Test func capKeepsRootAndMostRecent() {
        let ids = (0..<1500).map { "id\($0)@example.com" }
        let result = MessageID.parseList(ids.map { "<\($0)>" }.joined(separator: " "))
        #expect(result.count == MessageID.maxReferences)
        #expect(result.first == "id0@example.com")
        #expect(result[1] == "id501@example.com")
        #expect(result.last == "id1499@example.com")
        let exactly = (0..<MessageID.maxReferences).map { "<\($0)@x>" }.joined(separator: " ")
        #expect(MessageID.parseList(exactly).count == MessageID.maxReferences)
    }

    // Linear time on hostile input.
    @Test func hugeAndPathologicalInputs() {
        let n = 300_000
        for value in [
            String(repeating: "<", count: n),
            String(repeating: "(", count: n),
            String(repeating: "\"\\", count: n),
            String(repeating: "\"", count: n),
            String(repeating: "<a", count: n),
            String(repeating: "<@", count: n),
            String(repeating: ">", count: n),
        ] {
            _ = MessageID.parse(value)
            #expect(MessageID.parseList(value).count <= MessageID.maxReferences)
        }
        let big = (0..<60_000).map { "<ref\($0)@example.com>" }.joined(separator: " ")
        #expect(MessageID.parseList(big).count == MessageID.maxReferences)
    }
}
