import Foundation
import IMAP
import IMAPServer
import Store
import Testing

@Suite struct SortThreadTests {
    static func message(_ id: Int, subject: String, from: String, date: String, references: String? = nil, body: String = "x") -> String {
        var text = "From: \(from)\nTo: list@example.org\nSubject: \(subject)\nDate: \(date)\nMessage-ID: <\(id)@example.org>\n"
        if let references { text += "References: \(references)\nIn-Reply-To: \(references.split(separator: " ").last ?? "")\n" }
        return text + "\n\(body)\n"
    }

    static func fill(_ fixture: Fixture) async throws {
        try await fixture.deliver(message(1, subject: "Plans", from: "zoe@example.org", date: "Mon, 5 Jan 2026 10:00:00 +0000"))
        try await fixture.deliver(message(2, subject: "Re: Plans", from: "adam@example.org", date: "Mon, 5 Jan 2026 11:00:00 +0000", references: "<1@example.org>", body: "a longer body here"))
        try await fixture.deliver(message(3, subject: "[list] Lunch", from: "bea@example.org", date: "Sun, 4 Jan 2026 09:00:00 +0000"))
        try await fixture.deliver(message(4, subject: "RE: [list] Lunch (fwd)", from: "carl@example.org", date: "Tue, 6 Jan 2026 09:00:00 +0000", references: "<3@example.org>"))
        try await fixture.deliver(message(5, subject: "Re: Plans", from: "zoe@example.org", date: "Tue, 6 Jan 2026 12:00:00 +0000", references: "<1@example.org> <2@example.org>"))
    }

    @Test func sort() async throws {
        let fixture = try await Fixture.make()
        try await Self.fill(fixture)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a SORT (SUBJECT) UTF-8 ALL\n") == "* SORT 3 4 1 2 5\na OK SORT completed\n")
        #expect(try await client.send("b SORT (DATE) UTF-8 ALL\n") == "* SORT 3 1 2 4 5\nb OK SORT completed\n")
        #expect(try await client.send("c SORT (REVERSE FROM SIZE) UTF-8 ALL\n") == "* SORT 1 5 4 3 2\nc OK SORT completed\n")
        #expect(try await client.send("d UID SORT (ARRIVAL) US-ASCII NOT FROM zoe\n") == "* SORT 2 3 4\nd OK SORT completed\n")
        #expect(try await client.send("e SORT RETURN (MIN MAX COUNT ALL) (SUBJECT) UTF-8 ALL\n") == "* ESEARCH (TAG \"e\") MIN 3 MAX 5 COUNT 5 ALL 3:4,1:2,5\ne OK SORT completed\n")
    }

    @Test func thread() async throws {
        let fixture = try await Fixture.make()
        try await Self.fill(fixture)
        let client = try await TestSession(fixture, shared: IMAPSharedState())
        try await client.login()
        try await client.select()
        #expect(try await client.send("a THREAD ORDEREDSUBJECT UTF-8 ALL\n") == "* THREAD (3 4)(1 (2)(5))\na OK THREAD completed\n")
        #expect(try await client.send("b THREAD REFERENCES UTF-8 ALL\n") == "* THREAD (3 4)(1 2 5)\nb OK THREAD completed\n")
        #expect(try await client.send("c UID THREAD REFERENCES UTF-8 NOT UID 2\n") == "* THREAD (3 4)(1 5)\nc OK THREAD completed\n")
        #expect(try await client.send("d THREAD NONESUCH UTF-8 ALL\n") == "d BAD threading algorithm NONESUCH is not supported\n")
    }
}
