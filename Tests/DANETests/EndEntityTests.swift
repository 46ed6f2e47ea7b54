import Crypto
import DNS
import Foundation
import Testing

@testable import DANE

/// DANE-EE(3): the server's own certificate or key, nothing else (RFC 7671 §5.1).
@Suite struct EndEntityTests {
    /// Every selector with every matching type, for a self-signed certificate and for one a
    /// CA issued.
    @Test(arguments: [0, 1] as [UInt8], [0, 1, 2] as [UInt8])
    func everySelectorAndMatchingType(selector: UInt8, matchingType: UInt8) async throws {
        let selfSigned = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        let record = tlsa(3, selector, matchingType, selfSigned)
        let match = await verify([record], [selfSigned.der]).match
        #expect(match == DANEMatch(record: try UsableTLSA(record), referenceIdentifier: nil))

        let hierarchy = try TestHierarchy()
        #expect(await verify([tlsa(3, selector, matchingType, hierarchy.leaf)], hierarchy.fullChain).match != nil)
        // Only the server's own certificate counts, not its issuers.
        let failure = await verify([tlsa(3, selector, matchingType, hierarchy.intermediate)], hierarchy.fullChain).failure
        #expect(failure == .leafMismatch)
    }

    @Test func mismatch() async throws {
        let server = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        let other = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        let failure = await verify([tlsa(3, 1, 1, other), tlsa(3, 0, 1, other)], [server.der]).failure
        #expect(failure == .leafMismatch)
        #expect(failure?.tlsReportResultType == "certificate-not-trusted")
        #expect(failure?.description == "the server's certificate matches no DANE-EE TLSA record")
        // The same name and dates are not enough; the same key is, whatever else changed
        // (a renewal keeps an SPKI(1) record valid, RFC 7671 §5.1).
        let renewed = try TestCertificate("renewed", names: ["renewed.example"], notAfter: now + 90 * day, key: server.key)
        #expect(await verify([tlsa(3, 1, 1, server)], [renewed.der]).match != nil)
        #expect(await verify([tlsa(3, 0, 1, server)], [renewed.der]).failure == .leafMismatch)
    }

    /// RFC 7671 §5.1: no name checks and no dates.
    @Test func namesAndDatesIgnored() async throws {
        let expired = try TestCertificate("old.example", names: ["old.example"], notBefore: now - 400 * day, notAfter: now - 30 * day)
        let match = await verify([tlsa(3, 1, 1, expired)], [expired.der], referenceIdentifiers: names("mx.example.com")).match
        #expect(match?.referenceIdentifier == nil && match != nil)
        let future = try TestCertificate("new.example", notBefore: now + day, notAfter: now + 90 * day)
        #expect(await verify([tlsa(3, 0, 2, future)], [future.der]).match != nil)
        // With no reference identifiers at all.
        #expect(await verify([tlsa(3, 0, 0, expired)], [expired.der], referenceIdentifiers: []).match != nil)
    }

    /// Unusable records neither authenticate nor get in the way.
    @Test func unusableRecordsIgnored() async throws {
        let hierarchy = try TestHierarchy()
        let pkixEE = tlsa(1, 1, 1, hierarchy.leaf)
        let pkixTA = tlsa(0, 0, 1, hierarchy.root)
        let unknownSelector = TLSA(usage: 3, selector: 7, matchingType: 1, data: tlsa(3, 1, 1, hierarchy.leaf).data)
        let other = try TestCertificate("other.example")
        let records = [pkixEE, pkixTA, unknownSelector, tlsa(3, 1, 1, other)]
        #expect(await verify(records, hierarchy.fullChain).failure == .leafMismatch)
        let verifier = try DANEVerifier(records: records, referenceIdentifiers: names("mx.example.com"))
        #expect(verifier.usable == [try UsableTLSA(tlsa(3, 1, 1, other))])
        #expect(verifier.unusable.map(\.reason) == [.pkixUsage(1), .pkixUsage(0), .unknownSelector(7)])
        #expect(await verify(records + [tlsa(3, 1, 1, hierarchy.leaf)], hierarchy.fullChain).match != nil)
    }

    @Test func malformedOrMissingCertificate() async throws {
        let server = try TestCertificate("mx.example.com")
        let junk: [UInt8] = [0x30, 0x03, 0x02, 0x01, 0x01]
        let failure = await verify([tlsa(3, 1, 1, server)], [junk]).failure
        guard case let .malformedCertificate(position, _)? = failure else {
            Issue.record("\(String(describing: failure))")
            return
        }
        #expect(position == 0 && failure?.tlsReportResultType == "validation-failure")
        #expect(await verify([tlsa(3, 1, 1, server)], []).failure == .noCertificate)
        #expect(DANEFailure.noCertificate.tlsReportResultType == "validation-failure")
    }
}
