import Foundation
import Testing

@testable import SMTPServer

@Suite struct MessageFileTests {
    /// `remove()` after `close()` (the refusal paths of a delivery) unlinks the file but does
    /// not close the descriptor number again: by then it may belong to another file or socket.
    @Test func removeAfterCloseLeavesOtherDescriptorsAlone() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tern-messagefile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try MessageFile(path: directory + "/first")
        first.close()
        // Usually gets the descriptor number `first` had (the lowest free one).
        let second = try MessageFile(path: directory + "/second")
        first.remove()
        #expect(!FileManager.default.fileExists(atPath: directory + "/first"))
        try second.write(Array("still open".utf8))
        second.close()
        #expect(FileManager.default.contents(atPath: directory + "/second") == Data("still open".utf8))
    }
}
