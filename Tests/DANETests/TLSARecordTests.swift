import Crypto
import DNS
import Foundation
import Testing
import X509

@testable import DANE

/// Sorting TLSA records into usable and unusable for SMTP.
@Suite struct TLSARecordTests {
    private func reason(_ record: TLSA) -> UnusableTLSA.Reason? {
        do {
            _ = try UsableTLSA(record)
            return nil
        } catch {
            return error
        }
    }

    /// RFC 7672 §3.1.3: PKIX-TA(0) and PKIX-EE(1) are not for SMTP; an RRset of nothing
    /// else leaves DANE unable to authenticate (RFC 7672 §2.2), said plainly.
    @Test func pkixUsagesAreUnusable() throws {
        let ca = try TestCertificate("CA", isCA: true)
        #expect(reason(tlsa(0, 0, 1, ca)) == .pkixUsage(0))
        #expect(reason(tlsa(1, 1, 1, ca)) == .pkixUsage(1))
        let records = [tlsa(0, 0, 1, ca), tlsa(1, 1, 1, ca)]
        #expect(throws: DANEFailure.noUsableRecords(records.map { UnusableTLSA(record: $0, reason: .pkixUsage($0.usage)) })) {
            try DANEVerifier(records: records, referenceIdentifiers: names("mx.example.com"))
        }
        let failure = DANEFailure.noUsableRecords([UnusableTLSA(record: records[0], reason: .pkixUsage(0))])
        #expect(failure.tlsReportResultType == "tlsa-invalid")
        #expect(failure.description == "no usable TLSA record (TLSA 0 0 1: certificate usage PKIX-TA(0) is not used for SMTP)")
        #expect(DANEFailure.noUsableRecords([]).tlsReportResultType == "tlsa-invalid")
    }

    /// RFC 6698 §4.1: values not understood make a record unusable, private-use 255 included.
    @Test func unknownValuesAreUnusable() {
        let digest = [UInt8](repeating: 1, count: 32)
        #expect(reason(TLSA(usage: 4, selector: 1, matchingType: 1, data: digest)) == .unknownUsage(4))
        #expect(reason(TLSA(usage: 255, selector: 1, matchingType: 1, data: digest)) == .unknownUsage(255))
        #expect(reason(TLSA(usage: 3, selector: 2, matchingType: 1, data: digest)) == .unknownSelector(2))
        #expect(reason(TLSA(usage: 3, selector: 255, matchingType: 1, data: digest)) == .unknownSelector(255))
        #expect(reason(TLSA(usage: 3, selector: 1, matchingType: 3, data: digest)) == .unknownMatchingType(3))
        #expect(reason(TLSA(usage: 2, selector: 0, matchingType: 255, data: digest)) == .unknownMatchingType(255))
        #expect(reason(TLSA(usage: 3, selector: 1, matchingType: 1, data: digest)) == nil)
    }

    /// RFC 7671 §9: a digest of the wrong length is malformed; RFC 6698 §4.1: so is Full(0)
    /// data that is not what its selector names.
    @Test func malformedDataIsUnusable() throws {
        #expect(reason(TLSA(usage: 3, selector: 1, matchingType: 1, data: [UInt8](repeating: 1, count: 31))) == .wrongDigestLength(expected: 32, actual: 31))
        #expect(reason(TLSA(usage: 2, selector: 0, matchingType: 2, data: [UInt8](repeating: 1, count: 32))) == .wrongDigestLength(expected: 64, actual: 32))
        #expect(reason(TLSA(usage: 3, selector: 1, matchingType: 1, data: [])) == .wrongDigestLength(expected: 32, actual: 0))

        let certificate = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        #expect(reason(tlsa(3, 0, 0, certificate)) == nil)
        #expect(reason(tlsa(3, 1, 0, certificate)) == nil)
        // A certificate where a key belongs, a key where a certificate belongs, and junk.
        guard case .malformedData? = reason(TLSA(usage: 3, selector: 1, matchingType: 0, data: certificate.der)) else {
            Issue.record("a certificate accepted as a SubjectPublicKeyInfo")
            return
        }
        guard case .malformedData? = reason(TLSA(usage: 2, selector: 0, matchingType: 0, data: certificate.subjectPublicKeyInfo)) else {
            Issue.record("a SubjectPublicKeyInfo accepted as a certificate")
            return
        }
        guard case .malformedData? = reason(TLSA(usage: 3, selector: 0, matchingType: 0, data: [0x30, 0x03, 0x02, 0x01])) else {
            Issue.record("truncated DER accepted")
            return
        }
        #expect(reason(TLSA(usage: 3, selector: 1, matchingType: 0, data: certificate.subjectPublicKeyInfo + [0])) != nil)
    }

    /// The examples of RFC 6698 §2.3 and RFC 7671 §2.1 sorted (their certificates are not
    /// published; the "3 0 0" one is abbreviated in the RFC).
    @Test func rfcExamples() throws {
        let pkixTA = tlsa("0 0 1 d2abde240d7cd3ee6b4b28c54df034b9 7983a1d16e8a410e4561cb106618e971")
        #expect(reason(pkixTA) == .pkixUsage(0))
        let pkixEE = tlsa("""
            1 1 2 92003ba34942dc74152e2f2c408d29ec a5a520e7f2e06bb944f4dca346baf63c
                  1b177615d466f6c4b71c216a50292bd5 8c9ebdd2f74e38fe51ffd48c43326cbc
            """)
        #expect(reason(pkixEE) == .pkixUsage(1))
        let daneTA = try UsableTLSA(tlsa("2 0 1 E8B54E0B4BAA815B06D3462D65FBC7C0 CF556ECCF9F5303EBFBB77D022F834C0"))
        #expect(daneTA.usage == .daneTA && daneTA.selector == .certificate && daneTA.matchingType == .sha256)
        #expect(daneTA.description == "DANE-TA(2) Cert(0) SHA2-256(1)")
        #expect(daneTA.record == tlsa("2 0 1 E8B54E0B4BAA815B06D3462D65FBC7C0 CF556ECCF9F5303EBFBB77D022F834C0"))
    }

    /// RFC 7671 §9's RRset: the "3 1 1" and "3 1 2" digests are those of the "3 1 0" key, and
    /// a certificate with that key is authenticated by the SHA2-512 record.
    @Test func rfc7671DigestAgilityExample() async throws {
        let sha256 = tlsa("3 1 1 3FE246A848798236DD2AB78D39F0651D 6B6E7CA8E2984012EB0A2E1AC8A87B72")
        let sha512 = tlsa("""
            3 1 2 D4F5AF015B46C5057B841C7E7BAB759C BF029526D29520C5BE6A32C67475439E
                  54AB3A945D80C743347C9BD4DADC9D8D 57FAB78EAA835362F3CA07CCC19A3214
            """)
        let full = tlsa("""
            3 1 0 3059301306072A8648CE3D020106082A 8648CE3D0301070342000471CB1F504F
                  9E4B33971376C005445DACD33CD79A28 81C3DED1981F18E7AAA76609DD0E4EF2
                  8265C82703030AD60C5DBA6FB8A9397A C0FCF06D424C885D484887
            """)
        #expect(UsableTLSA.MatchingType.sha256.associationData(for: full.data[...]) == sha256.data)
        #expect(UsableTLSA.MatchingType.sha512.associationData(for: full.data[...]) == sha512.data)

        // A certificate carrying the RFC's key; DANE-EE(3) checks no signature, so another
        // key can sign it.
        let template = try TestCertificate("mail.example.com", names: ["mail.example.com"])
        let withRFCKey = try derBytes(
            Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(derEncoded: full.data),
                notValidBefore: now - day, notValidAfter: now + day, issuer: template.certificate.subject, subject: template.certificate.subject,
                signatureAlgorithm: .ecdsaWithSHA256, extensions: template.certificate.extensions, issuerPrivateKey: .init(template.key)))
        let match = await verify([sha256, sha512, full], [withRFCKey]).match
        #expect(match?.record == (try UsableTLSA(sha512)))
        #expect(await verify([full], [withRFCKey]).match != nil)
        #expect(await verify([sha256], [withRFCKey]).match != nil)
    }

    /// RFC 7671 §9: with a SHA2-512 record for the same usage and selector, a SHA2-256 one
    /// is not used; Full(0) records are always used and do not displace digests.
    @Test func strongestDigestOnly() async throws {
        let server = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        let other = try TestCertificate("other.example", names: ["other.example"])
        #expect(await verify([tlsa(3, 1, 1, server), tlsa(3, 1, 2, other)], [server.der]).failure == .leafMismatch)
        #expect(await verify([tlsa(3, 1, 1, server), tlsa(3, 1, 0, other)], [server.der]).match?.record == (try UsableTLSA(tlsa(3, 1, 1, server))))
        // Another selector, or another usage, is a separate group.
        #expect(await verify([tlsa(3, 1, 1, server), tlsa(3, 0, 2, other)], [server.der]).match != nil)
        #expect(await verify([tlsa(3, 1, 1, server), tlsa(2, 1, 2, other)], [server.der]).match != nil)
        let verifier = try DANEVerifier(records: [tlsa(3, 1, 1, server), tlsa(3, 1, 2, other)], referenceIdentifiers: [])
        #expect(verifier.usable.count == 2 && verifier.unusable.isEmpty)
    }

    /// The record a server publishes for its key: "3 1 1" of the SubjectPublicKeyInfo, the
    /// same from the key's DER as from a certificate for it, and what DANE then matches.
    @Test func recordToPublish() async throws {
        let server = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        let fromKey = UsableTLSA(daneEEForSubjectPublicKeyInfo: Array(server.key.publicKey.derRepresentation))
        #expect(fromKey.description == "DANE-EE(3) SPKI(1) SHA2-256(1)")
        #expect(fromKey.record == tlsa(3, 1, 1, server))
        #expect(try UsableTLSA(daneEEForCertificate: server.der) == fromKey)
        #expect(await verify([fromKey.record], [server.der]).match?.record == fromKey)
        #expect(throws: MalformedCertificate.self) { try UsableTLSA(daneEEForCertificate: [0x30, 0x03, 0x02, 0x01, 0x01]) }
    }
}
