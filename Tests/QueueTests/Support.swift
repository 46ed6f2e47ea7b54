import DNS
import Foundation
import Queue
import SMTP
import Synchronization
import TestSupport
import Testing

func mailbox(_ address: String) -> Mailbox {
    let at = address.lastIndex(of: "@") ?? address.endIndex
    return Mailbox(localPart: String(address[..<at]), domain: at == address.endIndex ? "" : String(address[address.index(after: at)...]))
}

func sample(subject: String = "hello", from: String = "a@example.com") -> [UInt8] {
    Array("From: \(from)\r\nTo: b@example.net\r\nSubject: \(subject)\r\nMessage-ID: <\(subject)@example.com>\r\n\r\nbody\r\n".utf8)
}

func submission(from sender: String = "a@example.com", to recipients: [String], subject: String = "hello") -> Submission {
    Submission(
        sender: sender.isEmpty ? .null : .mailbox(mailbox(sender)), recipients: recipients.map(mailbox), content: .bytes(sample(subject: subject, from: sender.isEmpty ? "a@example.com" : sender)))
}

extension [UInt8] {
    var text: String { String(decoding: self, as: UTF8.self) }
}
