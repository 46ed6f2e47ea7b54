import Foundation
import Testing

@testable import Config

/// A fresh directory under the system's temporary directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "tern-config-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` in the directory; with `modified`, sets that modification time
    /// so a watcher sees the change whatever the file system's timestamp resolution.
    @discardableResult
    func write(_ name: String, _ text: String, modified: Date? = nil) throws -> String {
        let file = path + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        if let modified {
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: file)
        }
        return file
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The errors of a static file, as text; empty when it is valid.
func staticErrors(_ yaml: String, directory: String = "/etc/tern", checkFiles: Bool = false) -> [String] {
    do {
        _ = try StaticConfig.parse(yaml, file: "tern.yaml", directory: directory, checkFiles: checkFiles)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// The errors of a domains file, as text; empty when it is valid.
func domainsErrors(_ yaml: String) -> [String] {
    do {
        _ = try DomainsConfig.parse(yaml, file: "domains.yaml")
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

enum Fixtures {
    /// The smallest valid tern.yaml.
    static let minimalStatic = """
        DataDir: data
        Hostname: mail.example.com
        Postmaster:
          Account: admin
        Listeners:
          public:
            IPs: [192.0.2.1]
            SMTP:
              Enabled: true
        """

    static let sha256 = "SCRAM-SHA-256$4096:NLD+jmRkipxExbqi0CLDDQ==$neUuBopNrD1IyGN8d4kIao55KOHjuIbf3AfcnG3buKI=:t5wp9LHX2jeQPZoFiGVPMCAz2foOiY5f5/7p/+RNjB4="
    static let sha1 = "SCRAM-SHA-1$10000:TJBKumZ8AMRkyWKrH0f1BA==$wirCN8ioV9O5Jntv6JXF1rD4Aqc=:VvwklPes/QG0jnUiJ5HWUJy0SCE="

    /// Domains with and without subaddressing and case sensitivity, an IDN, a catch-all.
    static let domains = """
        Domains:
          example.com:
            Description: Main
            LocalpartCatchallSeparator: "+"
          example.org: {}
          strict.example:
            LocalpartCaseSensitive: true
          münchen.example: {}
        Accounts:
          admin:
            Domain: example.com
            Destinations:
              admin: {}
          alice:
            Domain: example.com
            FullName: Alice Example
            Destinations:
              alice: {}
              Alice.Smith:
                Mailbox: Smith
              alice@example.org:
                Mailbox: Org
              "@example.org":
                Mailbox: Org/Catchall
            Passwords:
              - \(sha256)
              - \(sha1)
            CRAMMD5Secret: secret
            QuotaBytes: 1000000
          bob:
            Domain: strict.example
            Destinations:
              Bob: {}
              info@xn--mnchen-3ya.example: {}
        """
}
