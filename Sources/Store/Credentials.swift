import Foundation
import GRDB
import SASL

/// What the SASL layer needs to authenticate an account.
///
/// SCRAM (RFC 5802, RFC 7677) keeps only salted, hashed keys: a stolen database does not
/// give the password, and a client proves knowledge of it without sending it. Both
/// SHA-1 and SHA-256 variants are kept because clients still use both.
///
/// CRAM-MD5 (RFC 2195) needs the server to compute HMAC-MD5 keyed with the password, so
/// what it stores is password-equivalent: anyone who reads it can log in. It is kept only
/// for accounts that explicitly enable CRAM-MD5, and removed again whenever the password
/// is set without it.
public struct AccountCredentials: Hashable, Sendable {
    public var scramSHA1: SCRAMCredentials?
    public var scramSHA256: SCRAMCredentials?
    /// The password itself, present only when CRAM-MD5 is enabled for the account.
    public var cramMD5Secret: String?

    public init(scramSHA1: SCRAMCredentials? = nil, scramSHA256: SCRAMCredentials? = nil, cramMD5Secret: String? = nil) {
        self.scramSHA1 = scramSHA1
        self.scramSHA256 = scramSHA256
        self.cramMD5Secret = cramMD5Secret
    }
}

extension Account {
    /// Sets the account's password: new SCRAM-SHA-1 and SCRAM-SHA-256 credentials, each
    /// with its own salt from the injected randomness, and the CRAM-MD5 secret only when
    /// `enableCRAMMD5` (see `AccountCredentials`). Never logged.
    public func setPassword(_ password: String, enableCRAMMD5: Bool) async throws {
        guard !password.isEmpty else { throw StoreError.invalidPassword(reason: "empty") }
        let iterations = limits.scramIterations
        let sha1: SCRAMCredentials
        let sha256: SCRAMCredentials
        do {
            sha1 = try SCRAMCredentials.derive(
                password: password, salt: environment.randomBytes(limits.saltLength), iterations: iterations, hash: .sha1)
            sha256 = try SCRAMCredentials.derive(
                password: password, salt: environment.randomBytes(limits.saltLength), iterations: iterations, hash: .sha256)
        } catch {
            // SASLprep (RFC 4013) refuses some passwords, e.g. with control characters.
            throw StoreError.invalidPassword(reason: "\(error)")
        }
        let encoder = JSONEncoder()
        let sha1Data = try encoder.encode(sha1)
        let sha256Data = try encoder.encode(sha256)
        let cram = enableCRAMMD5 ? password : nil
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE account SET scramSHA1 = ?, scramSHA256 = ?, cramMD5Secret = ?",
                arguments: [sha1Data, sha256Data, cram])
        }
        logger.info("password set", metadata: ["crammd5": "\(enableCRAMMD5)"])
    }

    /// Everything stored for authentication; fields are nil when no password is set.
    public func credentials() async throws -> AccountCredentials {
        let stored = try await pool.read { db -> (Data?, Data?, String?)? in
            guard let row = try Row.fetchOne(db, sql: "SELECT scramSHA1, scramSHA256, cramMD5Secret FROM account") else {
                return nil
            }
            return (try row.value("scramSHA1"), try row.value("scramSHA256"), try row.value("cramMD5Secret"))
        }
        guard let (sha1, sha256, cram) = stored else { throw StoreError.corrupt("account row missing") }
        func decode(_ data: Data?, _ what: String) throws -> SCRAMCredentials? {
            guard let data else { return nil }
            do {
                return try JSONDecoder().decode(SCRAMCredentials.self, from: data)
            } catch {
                throw StoreError.corrupt("\(what) credentials: \(error)")
            }
        }
        return AccountCredentials(
            scramSHA1: try decode(sha1, "SCRAM-SHA-1"), scramSHA256: try decode(sha256, "SCRAM-SHA-256"), cramMD5Secret: cram)
    }

    /// The SCRAM credentials for one hash, for the server side of SCRAM-SHA-1/-256(-PLUS).
    public func scramCredentials(_ hash: SCRAMHash) async throws -> SCRAMCredentials? {
        let all = try await credentials()
        switch hash {
        case .sha1: return all.scramSHA1
        case .sha256: return all.scramSHA256
        }
    }

    /// The CRAM-MD5 secret, nil unless the account enabled CRAM-MD5.
    public func cramMD5Secret() async throws -> String? {
        try await credentials().cramMD5Secret
    }

    /// Checks a plaintext password (SASL PLAIN, LOGIN) against the stored SCRAM-SHA-256
    /// credentials (SCRAM-SHA-1 when only those exist). False when no password is set.
    public func verifyPassword(_ password: String) async throws -> Bool {
        let all = try await credentials()
        guard let stored = all.scramSHA256 ?? all.scramSHA1 else { return false }
        return stored.verify(password: password)
    }
}
