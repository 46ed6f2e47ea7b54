import Foundation
import SASL
import Store
import Testing

@Suite struct PasswordTests {
    @Test func setAndVerify() async throws {
        let fixture = try Fixture()
        let store = try await fixture.open()
        defer { store.close() }
        let account = try store.createAccount("mjl")
        #expect(try await account.credentials() == AccountCredentials())
        #expect(try await account.verifyPassword("anything") == false)

        try await account.setPassword("correct horse", enableCRAMMD5: false)
        #expect(try await account.verifyPassword("correct horse"))
        #expect(try await account.verifyPassword("wrong") == false)
        let credentials = try await account.credentials()
        let sha1 = try #require(credentials.scramSHA1)
        let sha256 = try #require(try await account.scramCredentials(.sha256))
        #expect(sha1.hash == .sha1 && sha256.hash == .sha256)
        #expect(sha1.iterations == StoreLimits().scramIterations)
        #expect(sha1.salt.count == 16 && sha1.salt != sha256.salt, "each credential has its own salt")
        #expect(sha1.verify(password: "correct horse"))
        #expect(credentials.cramMD5Secret == nil, "CRAM-MD5 stays off unless enabled")

        // Enabling CRAM-MD5 stores the password-equivalent secret; setting it again without removes it.
        try await account.setPassword("battery staple", enableCRAMMD5: true)
        #expect(try await account.cramMD5Secret() == "battery staple")
        #expect(try await account.verifyPassword("correct horse") == false)
        #expect(try await account.scramCredentials(.sha1)?.salt != sha1.salt, "a new salt each time")
        try await account.setPassword("battery staple", enableCRAMMD5: false)
        #expect(try await account.cramMD5Secret() == nil)
        await #expect(throws: StoreError.invalidPassword(reason: "empty")) { try await account.setPassword("", enableCRAMMD5: false) }

        // Credentials persist.
        store.close()
        let reopened = try await fixture.open()
        defer { reopened.close() }
        #expect(try await reopened.account("mjl").verifyPassword("battery staple"))
    }
}
