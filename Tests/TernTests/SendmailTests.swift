import Foundation
import SMTP
import Testing

@testable import Tern

/// `tern sendmail`'s command line and message preparation, without a server.
@Suite struct SendmailTests {
    @Test func argumentsAsSendmailCallersWriteThem() throws {
        let parsed = try SendmailArguments(["-t", "-oi", "-odi", "-oem", "-fme@example.com", "-F", "Me", "--config=/x.yaml", "a@example.org", "--", "-b@example.org"])
        #expect(parsed.recipientsFromHeader && parsed.ignoreDots)
        #expect(parsed.sender == "me@example.com")
        #expect(parsed.configPath == "/x.yaml")
        #expect(parsed.recipients == ["a@example.org", "-b@example.org"])
        let separate = try SendmailArguments(["-f", "s@example.com", "-i", "--config", "c.yaml", "-bm", "-v", "x@example.org"])
        #expect(separate.sender == "s@example.com" && separate.ignoreDots && separate.configPath == "c.yaml" && separate.recipients == ["x@example.org"])
        #expect(try !SendmailArguments(["x@example.org"]).ignoreDots)
        for bad in [["-bs"], ["-q"], ["-f"], ["--config"], ["-X", "y"]] {
            #expect(throws: SendmailFailure.self, "\(bad)") { try SendmailArguments(bad) }
            do { _ = try SendmailArguments(bad) } catch { #expect(error.status == 64) }
        }
    }

    @Test func headerRecipientsBccRemovedAndCRLF() throws {
        let input = Array("From: me@example.com\nTo: A <a@example.org>, b@example.org\nBcc: hidden@example.net,\n  other@example.net\nCc: c@example.org\nSubject: hi\n\nline\n..dot\nend".utf8)
        let arguments = try SendmailArguments(["-t", "-i", "extra@example.org"])
        let prepared = try PreparedSubmission(input: input, arguments: arguments, defaultSender: "default@example.com")
        #expect(prepared.sender == Mailbox(localPart: "default", domain: "example.com"))
        #expect(prepared.recipients.map(\.description) == [
            "extra@example.org", "a@example.org", "b@example.org", "c@example.org", "hidden@example.net", "other@example.net",
        ])
        #expect(String(decoding: prepared.message, as: UTF8.self)
            == "From: me@example.com\r\nTo: A <a@example.org>, b@example.org\r\nCc: c@example.org\r\nSubject: hi\r\n\r\nline\r\n..dot\r\nend\r\n")
        #expect(prepared.body == .sevenBit && !prepared.utf8Header)
    }

    @Test func loneDotEndsInputUnlessIgnored() throws {
        let input = Array("Subject: x\r\n\r\nbefore\r\n.\r\nafter\r\n".utf8)
        let stopped = try PreparedSubmission(input: input, arguments: try SendmailArguments(["-f", "s@example.com", "r@example.org"]), defaultSender: nil)
        #expect(String(decoding: stopped.message, as: UTF8.self) == "Subject: x\r\n\r\nbefore\r\n")
        let whole = try PreparedSubmission(input: input, arguments: try SendmailArguments(["-oi", "-f", "s@example.com", "r@example.org"]), defaultSender: nil)
        #expect(String(decoding: whole.message, as: UTF8.self) == "Subject: x\r\n\r\nbefore\r\n.\r\nafter\r\n")
    }

    @Test func eightBitAndUTF8Header() throws {
        let prepared = try PreparedSubmission(
            input: Array("Subject: grüße\n\nbody\n".utf8), arguments: try SendmailArguments(["r@example.org"]), defaultSender: "s@example.com")
        #expect(prepared.body == .eightBitMIME && prepared.utf8Header)
        let bodyOnly = try PreparedSubmission(
            input: Array("Subject: x\n\nbödy\n".utf8), arguments: try SendmailArguments(["r@example.org"]), defaultSender: "s@example.com")
        #expect(bodyOnly.body == .eightBitMIME && !bodyOnly.utf8Header)
    }

    @Test func failuresHaveSysexitsCodes() throws {
        func status(_ arguments: [String], _ input: String, sender: String? = "s@example.com") -> Int32? {
            do {
                _ = try PreparedSubmission(input: Array(input.utf8), arguments: try SendmailArguments(arguments), defaultSender: sender)
                return nil
            } catch {
                return error.status
            }
        }
        #expect(status([], "Subject: x\n\nbody\n") == 64)
        #expect(status(["-t"], "Subject: x\n\nbody\n") == 64)
        #expect(status(["not an address"], "Subject: x\n\n") == 65)
        #expect(status(["-t"], "To: broken <\n\n") == 65)
        #expect(status(["r@example.org"], "Subject: x\n\n", sender: nil) == 78)
        #expect(status(["-f", "bad sender", "r@example.org"], "Subject: x\n\n") == 65)
    }
}
