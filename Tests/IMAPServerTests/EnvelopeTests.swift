import IMAP
@testable import IMAPServer
import Message
import Testing

/// ENVELOPE reads the usual one-address fields straight from their octets; whatever way a
/// field takes, its addresses are those the lenient address parser gives.
@Suite struct EnvelopeTests {
    @Test(arguments: [
        " Bench Sender <sender@mailbench.example>", " <a@b.example>", " x.y+z@c.example", " A \t B<a@b>",
        " \"Quoted\" <a@b>", " a@b, c@d", " =?utf-8?q?J=C3=B6rg?= <j@x.example>", "\r\n Folded Name <f@x.example>",
        " group: a@b, c@d;", " not an address",
    ])
    func addressesAsTheParserGivesThem(value: String) throws {
        let header = HeaderSection(parsing: Array("From:\(value)\r\nTo:\(value)\r\n\r\n".utf8))
        let field = try #require(header.fields.first)
        for utf8 in [false, true] {
            let envelope = FetchData.envelope(header, utf8: utf8)
            let parsed = FetchData.imapAddresses(field.value, utf8: utf8)
            #expect(envelope.from == parsed && envelope.to == parsed, "\(value)")
            #expect(envelope.sender == parsed && envelope.replyTo == parsed, "Sender and Reply-To default to From")
        }
    }
}
