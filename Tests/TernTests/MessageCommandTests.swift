import Foundation
import Testing

@Suite struct MessageCommandTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tern-parse-\(UUID().uuidString).eml").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func printsTheTreeAsJSON() async throws {
        let path = try write([
            "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>",
            "To: a@example.org, Group: b@example.org, c@example.org;",
            "Subject: =?ISO-8859-1?Q?caf=E9?=",
            "Date: Sat, 21 Nov 2026 23:45:15 +0100",
            "Message-ID: <abc@example.org>",
            "Content-Type: multipart/mixed; boundary=b",
            "",
            "--b",
            "Content-Type: text/plain; charset=utf-8",
            "",
            "Hello there",
            "--b",
            "Content-Type: message/rfc822",
            "",
            "Subject: inner",
            "",
            "inner body",
            "--b--",
            "",
        ].joined(separator: "\r\n"))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await TernRun.run(["message", "parse", path])
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let headers = try #require(json["headers"] as? [String: Any])
        #expect(headers["subject"] as? String == "café")
        #expect(headers["date"] as? String == "2026-11-21T23:45:15+01:00")
        #expect(headers["messageID"] as? String == "abc@example.org")
        let from = try #require(headers["from"] as? [[String: Any]])
        #expect(from.first?["name"] as? String == "Jörg" && from.first?["address"] as? String == "joerg@example.org")
        #expect((headers["to"] as? [[String: Any]])?.compactMap { $0["address"] as? String } == ["a@example.org", "b@example.org", "c@example.org"])
        #expect(json["preview"] as? String == "Hello there")

        let root = try #require(json["part"] as? [String: Any])
        #expect(root["contentType"] as? String == "multipart/mixed")
        #expect((root["parameters"] as? [String: String])?["boundary"] == "b")
        let parts = try #require(root["parts"] as? [[String: Any]])
        #expect(parts.map { $0["section"] as? String } == ["1", "2"])
        #expect(parts[0]["bodyLength"] as? Int == 11 && parts[0]["lines"] as? Int == 1)
        let encapsulated = try #require(parts[1]["message"] as? [String: Any])
        #expect((encapsulated["headers"] as? [String: Any])?["subject"] as? String == "inner")
        #expect((encapsulated["part"] as? [String: Any])?["section"] as? String == "2.1")
    }

    @Test func missingFileIsAClearError() async throws {
        let run = try await TernRun.run(["message", "parse", "/nonexistent/message.eml"])
        #expect(run.status == 1)
        #expect(run.stderr == "tern: message parse: opening /nonexistent/message.eml: No such file or directory\n")
    }

    @Test func defectsAreListed() async throws {
        let path = try write("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nunfinished")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await TernRun.run(["message", "parse", path])
        #expect(run.status == 0)
        #expect(run.stdout.contains("\"defects\" : [\n      \"missing closing boundary\"\n    ]"))
    }
}
