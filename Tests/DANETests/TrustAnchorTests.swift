import Crypto
import DNS
import Foundation
import Testing
import X509

@testable import DANE

/// DANE-TA(2): a trust anchor the chain leads to, dates, and names (RFC 7671 §5.2, RFC 7672
/// §3.1.2, §3.2.2).
@Suite struct TrustAnchorTests {
    /// Every selector with every matching type, for the root and for the intermediate as the
    /// anchor; the server's certificate matched the base domain.
    @Test(arguments: [0, 1] as [UInt8], [0, 1, 2] as [UInt8])
    func everySelectorAndMatchingType(selector: UInt8, matchingType: UInt8) async throws {
        let hierarchy = try TestHierarchy()
        let root = tlsa(2, selector, matchingType, hierarchy.root)
        let match = await verify([root], hierarchy.fullChain).match
        #expect(match == DANEMatch(record: try UsableTLSA(root), referenceIdentifier: try DNSName("mx.example.com")))
        #expect(match?.description == "\(try UsableTLSA(root)) record matches a trust anchor of the chain; the certificate is for mx.example.com")

        // The intermediate as the anchor: the root need not be sent.
        let intermediate = tlsa(2, selector, matchingType, hierarchy.intermediate)
        #expect(await verify([intermediate], [hierarchy.leaf.der, hierarchy.intermediate.der]).match?.record == (try UsableTLSA(intermediate)))
        // TLS 1.3 lets a server send its chain in any order after its own certificate.
        #expect(await verify([root], [hierarchy.leaf.der, hierarchy.root.der, hierarchy.intermediate.der]).match != nil)
    }

    /// RFC 7671 §5.2.2: a "2 0 0" record carries the whole anchor, so the server may leave
    /// it out; a digest cannot stand in for a missing certificate.
    @Test func anchorCertificateFromDNS() async throws {
        let hierarchy = try TestHierarchy()
        let withoutRoot = [hierarchy.leaf.der, hierarchy.intermediate.der]
        #expect(await verify([tlsa(2, 0, 0, hierarchy.root)], withoutRoot).match != nil)
        #expect(await verify([tlsa(2, 0, 1, hierarchy.root)], withoutRoot).failure == .noTrustAnchorMatch)
        #expect(await verify([tlsa(2, 1, 1, hierarchy.root)], withoutRoot).failure == .noTrustAnchorMatch)
    }

    /// RFC 7671 §5.2.3: a "2 1 0" bare key authenticates a chain whose top certificate it
    /// signed, even without the anchor's certificate; a key that signed nothing does not.
    @Test func anchorPublicKey() async throws {
        let hierarchy = try TestHierarchy()
        let withoutRoot = [hierarchy.leaf.der, hierarchy.intermediate.der]
        let match = await verify([tlsa(2, 1, 0, hierarchy.root)], withoutRoot).match
        #expect(match?.record == (try UsableTLSA(tlsa(2, 1, 0, hierarchy.root))))
        let stranger = try TestCertificate("Stranger CA", isCA: true)
        #expect(await verify([tlsa(2, 1, 0, stranger)], withoutRoot).failure == .noTrustAnchorMatch)
        // Signed by the key, but expired: the certificate the key signed is checked as well.
        let oldIntermediate = try TestCertificate(
            "Tern Test Intermediate", issuer: hierarchy.root, isCA: true, notBefore: now - 400 * day, notAfter: now - day,
            key: hierarchy.intermediate.key)
        let failure = await verify([tlsa(2, 1, 0, hierarchy.root)], [hierarchy.leaf.der, oldIntermediate.der]).failure
        #expect(failure == .expired(certificate: "CN=Tern Test Intermediate", notValidAfter: now - day))
    }

    @Test func noAnchorInChain() async throws {
        let hierarchy = try TestHierarchy()
        let stranger = try TestCertificate("Stranger CA", isCA: true)
        let failure = await verify([tlsa(2, 0, 1, stranger)], hierarchy.fullChain).failure
        #expect(failure == .noTrustAnchorMatch)
        #expect(failure?.tlsReportResultType == "certificate-not-trusted")
        #expect(failure?.description == "no certificate in the server's chain matches a DANE-TA TLSA record")
        // With a DANE-EE record that does not match either.
        let both = await verify([tlsa(2, 0, 1, stranger), tlsa(3, 1, 1, stranger)], hierarchy.fullChain).failure
        #expect(both == .noRecordMatches && both?.tlsReportResultType == "certificate-not-trusted")
        // Either kind matching is enough.
        #expect(await verify([tlsa(2, 0, 1, stranger), tlsa(3, 1, 1, hierarchy.leaf)], hierarchy.fullChain).match?.record.usage == .daneEE)
        #expect(await verify([tlsa(2, 0, 1, hierarchy.root), tlsa(3, 1, 1, stranger)], hierarchy.fullChain).match?.record.usage == .daneTA)
    }

    /// A certificate that names the intermediate as issuer but was signed by another key,
    /// and one issued by a certificate that is not a CA: the anchor matches, the chain does not.
    @Test func chainThatDoesNotVerify() async throws {
        let hierarchy = try TestHierarchy()
        let forged = try TestCertificate("mx.example.com", names: ["mx.example.com"], issuer: hierarchy.intermediate, signingKey: P256.Signing.PrivateKey())
        let failure = await verify([tlsa(2, 0, 1, hierarchy.root)], [forged.der, hierarchy.intermediate.der, hierarchy.root.der]).failure
        guard case let .invalidChain(reason)? = failure else {
            Issue.record("\(String(describing: failure))")
            return
        }
        #expect(reason.hasPrefix("no chain of valid signatures from the server's certificate to the trust anchor"))
        #expect(failure?.tlsReportResultType == "certificate-not-trusted")

        let issuedByServer = try TestCertificate("mx.example.com", names: ["mx.example.com"], issuer: hierarchy.leaf)
        let chain = [issuedByServer.der, hierarchy.leaf.der, hierarchy.intermediate.der, hierarchy.root.der]
        guard case .invalidChain? = await verify([tlsa(2, 0, 1, hierarchy.root)], chain).failure else {
            Issue.record("a chain through a certificate that is not a CA verified")
            return
        }
        // A malformed certificate anywhere in the chain is named by its position.
        let junkChain = [hierarchy.leaf.der, [0x30, 0x00], hierarchy.root.der]
        guard case .malformedCertificate(position: 1, _)? = await verify([tlsa(2, 0, 1, hierarchy.root)], junkChain).failure else {
            Issue.record("a malformed intermediate went unnoticed")
            return
        }
    }

    /// Dates are checked at the injected time, for every certificate up to the anchor.
    @Test func validityDates() async throws {
        let root = try TestCertificate("Tern Test Root", isCA: true, notBefore: now - 400 * day, notAfter: now + 400 * day)
        let leaf = try TestCertificate("mx.example.com", names: ["mx.example.com"], issuer: root, notBefore: now - 90 * day, notAfter: now - day)
        let records = [tlsa(2, 0, 1, root)]
        let failure = await verify(records, [leaf.der, root.der]).failure
        #expect(failure == .expired(certificate: "CN=mx.example.com", notValidAfter: now - day))
        #expect(failure?.tlsReportResultType == "certificate-expired")
        #expect(failure?.description == "certificate CN=mx.example.com expired at \((now - day).ISO8601Format())")
        #expect(await verify(records, [leaf.der, root.der], at: now - 2 * day).match != nil)
        let early = await verify(records, [leaf.der, root.der], at: now - 91 * day).failure
        #expect(early == .notYetValid(certificate: "CN=mx.example.com", notValidBefore: now - 90 * day))
        #expect(early?.tlsReportResultType == "validation-failure")

        // The anchor's own dates count.
        let expiredRoot = try TestCertificate("Old Root", isCA: true, notBefore: now - 400 * day, notAfter: now - 2 * day)
        let underExpiredRoot = try TestCertificate("mx.example.com", names: ["mx.example.com"], issuer: expiredRoot)
        let anchorFailure = await verify([tlsa(2, 1, 1, expiredRoot)], [underExpiredRoot.der, expiredRoot.der]).failure
        #expect(anchorFailure == .expired(certificate: "CN=Old Root", notValidAfter: now - 2 * day))
    }

    /// RFC 7672 §3.2.2: the TLSA base domain, the MX host name and the next-hop domain are
    /// all acceptable, whichever the caller lists.
    @Test func referenceIdentifiers() async throws {
        let forBaseDomain = try TestHierarchy(leafNames: ["mxbackup.example.net"])
        let referenceIdentifiers = names("mxbackup.example.net", "mx15.example.com", "example.com")
        let records = { (hierarchy: TestHierarchy) in [tlsa(2, 0, 1, hierarchy.root)] }
        var match = await verify(records(forBaseDomain), forBaseDomain.fullChain, referenceIdentifiers: referenceIdentifiers).match
        #expect(match?.referenceIdentifier == (try DNSName("mxbackup.example.net")))
        let forMXName = try TestHierarchy(leafNames: ["other.example", "MX15.example.COM"])
        match = await verify(records(forMXName), forMXName.fullChain, referenceIdentifiers: referenceIdentifiers).match
        #expect(match?.referenceIdentifier == (try DNSName("mx15.example.com")))
        let forNextHop = try TestHierarchy(leafNames: ["example.com"])
        match = await verify(records(forNextHop), forNextHop.fullChain, referenceIdentifiers: referenceIdentifiers).match
        #expect(match?.referenceIdentifier == (try DNSName("example.com")))
        // Without the next-hop domain in the list, that certificate does not do.
        let failure = await verify(records(forNextHop), forNextHop.fullChain, referenceIdentifiers: names("mx15.example.com", "mxbackup.example.net")).failure
        #expect(failure == .nameMismatch(presented: ["example.com"], referenceIdentifiers: ["mx15.example.com", "mxbackup.example.net"]))
        #expect(failure?.tlsReportResultType == "certificate-host-mismatch")
        #expect(failure?.description == "the server's certificate is for example.com, not for mx15.example.com or mxbackup.example.net")
    }

    /// RFC 7672 §3.2.3: wildcards as the whole leftmost label, for one label; the CN only
    /// when there is no DNS-ID; a critical subjectAltName is understood.
    @Test func nameForms() async throws {
        let wildcard = try TestHierarchy(leafNames: ["*.example.com"])
        let records = [tlsa(2, 0, 1, wildcard.root)]
        #expect(await verify(records, wildcard.fullChain, referenceIdentifiers: names("mx1.example.com")).match != nil)
        #expect(await verify(records, wildcard.fullChain, referenceIdentifiers: names("a.mx1.example.com")).failure != nil)
        #expect(await verify(records, wildcard.fullChain, referenceIdentifiers: names("example.com")).failure != nil)

        let commonNameOnly = try TestHierarchy(leafNames: nil, leafCommonName: "mx.example.com")
        #expect(await verify([tlsa(2, 0, 1, commonNameOnly.root)], commonNameOnly.fullChain).match != nil)
        let namesAndCommonName = try TestHierarchy(leafNames: ["other.example"], leafCommonName: "mx.example.com")
        let failure = await verify([tlsa(2, 0, 1, namesAndCommonName.root)], namesAndCommonName.fullChain).failure
        #expect(failure == .nameMismatch(presented: ["other.example"], referenceIdentifiers: ["mx.example.com"]))

        let root = try TestCertificate("Tern Test Root", isCA: true)
        let criticalNames = try TestCertificate("", names: ["mx.example.com"], issuer: root, criticalNames: true)
        #expect(await verify([tlsa(2, 0, 1, root)], [criticalNames.der, root.der]).match != nil)
    }

    /// A DANE-TA(2) record may name a self-signed server certificate, which is then its own
    /// anchor with the name and date checks still applied; as an anchor it must be a CA, as
    /// `openssl req -x509` makes them by default.
    @Test func serverCertificateAsAnchor() async throws {
        let server = try TestCertificate("mx.example.com", names: ["mx.example.com"], isCA: true)
        #expect(await verify([tlsa(2, 1, 1, server)], [server.der]).match != nil)
        let failure = await verify([tlsa(2, 1, 1, server)], [server.der], referenceIdentifiers: names("mx.example.org")).failure
        #expect(failure == .nameMismatch(presented: ["mx.example.com"], referenceIdentifiers: ["mx.example.org"]))
        #expect(await verify([tlsa(2, 1, 1, server)], [server.der], at: now + 2 * day).failure?.tlsReportResultType == "certificate-expired")

        let notCA = try TestCertificate("mx.example.com", names: ["mx.example.com"])
        guard case .invalidChain? = await verify([tlsa(2, 1, 1, notCA)], [notCA.der]).failure else {
            Issue.record("a server certificate that is not a CA served as a trust anchor")
            return
        }
    }

    /// The wildcard and label rules one by one.
    @Test(arguments: [
        ("mx.example.com", "mx.example.com", true),
        ("MX.Example.Com", "mx.example.COM", true),
        ("*.example.com", "mx.example.com", true),
        ("*.example.com", "xn--mnchen-3ya.example.com", true),
        ("*.example.com", "a.mx.example.com", false),
        ("*.example.com", "example.com", false),
        ("*.com", "example.com", false),
        ("mx*.example.com", "mx1.example.com", false),
        ("*mx.example.com", "amx.example.com", false),
        ("mx.*.example.com", "mx.a.example.com", false),
        ("mx.example.com.", "mx.example.com", false),
        ("mx..example.com", "mx.example.com", false),
        ("", "mx.example.com", false),
        ("mx.example.com", "mx.example.org", false),
    ])
    func nameMatching(presented: String, reference: String, matches: Bool) throws {
        #expect(PresentedIdentifiers.matches(presented: presented, reference: try DNSName(reference)) == matches)
    }
}
