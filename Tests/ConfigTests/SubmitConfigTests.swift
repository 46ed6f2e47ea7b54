import Config
import Foundation
import Testing

/// `tern sendmail`'s settings file: values, defaults, and errors with file, line and key.
@Suite struct SubmitConfigTests {
    func parse(_ text: String, directory: String = "/nonexistent") throws(ConfigErrors) -> SubmitConfig {
        try SubmitConfig.parse(text, file: "submit.yaml", directory: directory)
    }

    func errors(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    @Test func fullAndDefaults() throws {
        let full = try parse("Host: mail.example.com\nPort: 2587\nTLS: ImplicitTLS\nIgnoreVerificationErrors: true\nUsername: a@example.com\nPassword: secret\nFrom: a@example.com\n")
        #expect(full == SubmitConfig(
            host: "mail.example.com", port: 2587, security: .implicitTLS, ignoreVerificationErrors: true, username: "a@example.com",
            password: "secret", from: "a@example.com"))
        #expect(try parse("Host: mail.example.com\n") == SubmitConfig(host: "mail.example.com", port: 587))
        #expect(try parse("Host: mail.example.com\nTLS: ImplicitTLS\n").port == 465)
        #expect(try parse("Host: 127.0.0.1\nTLS: None\nUsername: u\nPassword: p\n").security == .none)
        #expect(try parse("Host: ::1\nTLS: None\n").security == .none)
    }

    @Test func passwordFileIsReadRelativeToTheConfig() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-submit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("s3cret\nignored\n".utf8).write(to: URL(fileURLWithPath: directory + "/pw"))
        let config = try parse("Host: mail.example.com\nUsername: u\nPasswordFile: pw\n", directory: directory)
        #expect(config.password == "s3cret")
        #expect(throws: ConfigErrors.self) { try parse("Host: mail.example.com\nUsername: u\nPasswordFile: missing\n", directory: directory) }
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(errors("Port: 25\n") == ["submit.yaml:1:1: Host: required key is missing"])
        #expect(errors("Host: mail.example.com\nTLS: yes-please\n") == [
            "submit.yaml:2:1: TLS: expected one of STARTTLS, ImplicitTLS, None, found 'yes-please'",
        ])
        #expect(errors("Host: mail.example.com\nPort: 70000\n") == ["submit.yaml:2:7: Port: 70000 is out of range: must be from 1 to 65535"])
        #expect(errors("Host: mail.example.com\nTLS: None\n") == [
            "submit.yaml:2:1: TLS: None is allowed only for a loopback host (127.0.0.1, ::1, localhost); use STARTTLS or ImplicitTLS",
        ])
        #expect(errors("Host: mail.example.com\nUsername: u\n") == ["submit.yaml:2:1: Username: needs Password or PasswordFile"])
        #expect(errors("Host: mail.example.com\nPassword: p\n") == ["submit.yaml:2:1: Username: required key is missing: a password needs a username"])
        #expect(errors("Host: mail.example.com\nFrom: Alice <a@example.com>\n") == [
            "submit.yaml:2:1: From: expected an address like alice@example.com, found 'Alice <a@example.com>'",
        ])
        #expect(errors("Host: mail.example.com\nUsername: u\nPassword: p\nPasswordFile: f\n").first?.hasPrefix("submit.yaml:4:1: PasswordFile: give either Password or PasswordFile") == true)
        #expect(errors("Hots: mail.example.com\n").contains("submit.yaml:1:1: Hots: unknown key 'Hots'; did you mean 'Host'?"))
        #expect(errors("Host: [broken\n").first?.hasPrefix("submit.yaml:") == true)
    }

    @Test func theExampleParses() throws {
        let example = SubmitConfig.example.replacingOccurrences(of: "PasswordFile: /etc/ternsubmit.password", with: "Password: x")
        #expect(try parse(example).username == "alice@example.com")
    }
}
