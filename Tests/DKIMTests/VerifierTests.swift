import DKIM
import DNS
import Foundation
import MetricsTestKit
import TestSupport
import Testing

@Suite struct VerifierTests {
    /// RFC 8463 Appendix A: both example signatures verify with the appendix's key records
    /// (the RSA one given as four character-strings), each with its own result.
    @Test func rfc8463AppendixSignaturesVerify() async {
        let results = await DKIMVerifier(resolver: RFC8463.resolver()).verify(RFC8463.message)
        #expect(results.map(\.status) == [.pass, .pass])
        #expect(results.map(\.algorithm) == ["ed25519-sha256", "rsa-sha256"])
        #expect(results.map(\.selector) == ["brisbane", "test"])
        #expect(results.allSatisfy { $0.domain == "football.example.com" && $0.identity == "@football.example.com" })
        #expect(results.map(\.keyBits) == [nil, 1024])
        #expect(results.map(\.keyAuthentic) == [false, false])
        #expect(results.allSatisfy { $0.reason == nil && $0.bodyLength == nil && !$0.testing })
        // Oversigning: h= lists From, Subject and Date twice, the second time with no field.
        #expect(results[0].signature?.signedHeaders == ["from", "to", "subject", "date", "message-id", "from", "subject", "date"])
    }

    @Test func keyAnswersFromDNSSECAreMarkedAuthentic() async {
        let results = await DKIMVerifier(resolver: RFC8463.resolver(authentic: true)).verify(RFC8463.message)
        #expect(results.map(\.status) == [.pass, .pass])
        #expect(results.map(\.keyAuthentic) == [true, true])
    }

    @Test func changedBodyFailsTheBodyHash() async {
        var text = String(decoding: RFC8463.message, as: UTF8.self)
        text = text.replacingOccurrences(of: "We lost the game.", with: "We won the game.")
        let results = await DKIMVerifier(resolver: RFC8463.resolver()).verify(Array(text.utf8))
        #expect(results.map(\.status) == [.fail, .fail])
        #expect(results.map(\.reason) == ["body hash did not verify", "body hash did not verify"])
    }

    @Test func changedOrAddedHeaderFailsTheSignature() async {
        let text = String(decoding: RFC8463.message, as: UTF8.self)
        let changed = text.replacingOccurrences(of: "Subject: Is dinner ready?", with: "Subject: Is lunch ready?")
        let results = await DKIMVerifier(resolver: RFC8463.resolver()).verify(Array(changed.utf8))
        #expect(results.map(\.status) == [.fail, .fail])
        #expect(results.map(\.reason) == ["signature did not verify", "signature did not verify"])

        // A second From added below the first: the oversigned "from" in h= now takes it.
        let added = text.replacingOccurrences(of: "To: Suzie Q", with: "From: Mallory <m@evil.example>\r\nTo: Suzie Q")
        let addedResults = await DKIMVerifier(resolver: RFC8463.resolver()).verify(Array(added.utf8))
        #expect(addedResults.map(\.status) == [.fail, .fail])

        // An unsigned field is no change.
        let unsignedField = text.replacingOccurrences(of: "To: Suzie Q", with: "X-Spam: no\r\nTo: Suzie Q")
        #expect(await DKIMVerifier(resolver: RFC8463.resolver()).verify(Array(unsignedField.utf8)).map(\.status) == [.pass, .pass])
    }

    @Test func messageWithoutSignaturesHasNoResults() async {
        let resolver = MockResolver()
        #expect(await DKIMVerifier(resolver: resolver).verify(crlf(RFC8463.unsigned)).isEmpty)
        #expect(resolver.queries.isEmpty)
    }

    /// RFC 8601 §2.7.1 neutral: a field that cannot be processed, with the tag named.
    @Test func malformedSignatureFieldsAreNeutral() async {
        let cases: [(String, String)] = [
            ("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; b=BBBB", "syntax error: tag 'b' appears more than once"),
            ("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA", "required tag 'b' is missing"),
            ("v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "tag 'v': version '2' is not 1"),
            ("v=1; a=rsa-sha512; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "tag 'a': unknown algorithm 'rsa-sha512'"),
            ("v=1; a=rsa-sha256; c=fancy/simple; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "tag 'c': unknown canonicalization 'fancy/simple'"),
            ("v=1; a=rsa-sha256; q=https; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA", "tag 'q': no supported query method in 'https' (only dns/txt)"),
            ("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=!!!!", "tag 'b': '!!!!' is not base64"),
            ("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; l=12x", "tag 'l': '12x' is not a decimal number of octets"),
            ("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA; t=200; x=100", "tag 'x': '100' is not after t=200"),
            ("v=1; a=rsa-sha256; d=-bad-.com; s=sel; h=from; bh=AAAA; b=AAAA", "tag 'd': '-bad-.com' is not a domain name"),
            ("v=1; a=rsa-sha256; 1x=2; d=example.com", "syntax error: expected a tag name at '1x=2'"),
        ]
        for (value, reason) in cases {
            let results = await DKIMVerifier(resolver: MockResolver()).verify(crlf("DKIM-Signature: \(value)\n" + RFC8463.unsigned))
            #expect(results.map(\.status) == [.neutral], "\(value)")
            #expect(results.first?.reason == reason)
        }
        // What could be read is still reported.
        let partial = await DKIMVerifier(resolver: MockResolver()).verify(
            crlf("DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA\n" + RFC8463.unsigned))
        #expect(partial.first?.domain == "example.com")
        #expect(partial.first?.selector == "sel")
        #expect(partial.first?.identity == "@example.com")
    }

    /// RFC 6376 §6.1.1: From not signed and i= outside d= make a permerror (RFC 8601's
    /// "a required header field being absent").
    @Test func fromNotSignedAndIdentityOutsideDomainArePermerrors() async {
        let resolver = RFC8463.resolver()
        let noFrom = await DKIMVerifier(resolver: resolver).verify(
            crlf("DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; s=test; h=to:subject; bh=AAAA; b=AAAA\n" + RFC8463.unsigned))
        #expect(noFrom.map(\.status) == [.permerror])
        #expect(noFrom.first?.reason == "tag 'h': From is not signed")

        let outside = await DKIMVerifier(resolver: resolver).verify(
            crlf("DKIM-Signature: v=1; a=rsa-sha256; d=football.example.com; i=joe@example.com; s=test; h=from; bh=AAAA; b=AAAA\n" + RFC8463.unsigned))
        #expect(outside.map(\.status) == [.permerror])
        #expect(outside.first?.reason == "tag 'i': 'joe@example.com' is not in the domain d=football.example.com")
        #expect(resolver.queries.isEmpty)
    }

    @Test func missingKeyIsPermerrorAndDNSFailureTemperror() async {
        let resolver = MockResolver()
        resolver.addTXT(RFC8463.ed25519Name, [RFC8463.ed25519Record])
        resolver.fail(name(RFC8463.rsaName), .txt, with: .serverFailure(.serverFailure))
        let results = await DKIMVerifier(resolver: resolver).verify(RFC8463.message)
        #expect(results.map(\.status) == [.pass, .temperror])
        #expect(results[1].reason == "key unavailable: TXT test._domainkey.football.example.com.: server failure (SERVFAIL)")

        let timeout = MockResolver()
        timeout.fail(name(RFC8463.ed25519Name), .txt, with: .timeout)
        timeout.fail(name(RFC8463.rsaName), .txt, with: .timeout)
        #expect(await DKIMVerifier(resolver: timeout).verify(RFC8463.message).map(\.status) == [.temperror, .temperror])

        // NXDOMAIN and NODATA: no key for the signature.
        let empty = MockResolver()
        empty.addTXT("football.example.com", ["v=spf1 -all"])
        empty.add([ResourceRecord(name: name(RFC8463.rsaName), ttl: 300, data: .a(.v4(192, 0, 2, 1)))])
        let missing = await DKIMVerifier(resolver: empty).verify(RFC8463.message)
        #expect(missing.map(\.status) == [.permerror, .permerror])
        #expect(missing[0].reason == "no key for signature: TXT brisbane._domainkey.football.example.com.: name does not exist (NXDOMAIN)")
        #expect(missing[1].reason == "no key for signature: TXT test._domainkey.football.example.com.: no TXT records (NODATA)")
    }

    @Test func keyRecordProblemsArePermerrors() async {
        let cases: [([String], String)] = [
            (["v=DKIM1; k=ed25519; p="], "key revoked (empty p=)"),
            (["v=DKIM1; k=ed25519; p=11qYAYKx", "CrfV"], "p= has 9 octets, not a 32-octet Ed25519 key (RFC 8463 §4)"),
            (["v=DKIM1; k=rsa; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="], "inappropriate key algorithm: k=rsa for a=ed25519-sha256"),
            (["v=DKIM1; h=sha1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="], "inappropriate hash algorithm: the key's h= does not list sha256"),
            (["v=DKIM1; s=tlsrpt; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="], "the key is not for email (s=tlsrpt)"),
            (["k=ed25519; v=DKIM1; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="], "key syntax error at brisbane._domainkey.football.example.com.: tag 'v' is not the first tag"),
            (["v=DKIM2; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="], "key syntax error at brisbane._domainkey.football.example.com.: tag 'v': version 'DKIM2' is not DKIM1"),
            (["v=DKIM1; k=ed25519"], "key syntax error at brisbane._domainkey.football.example.com.: required tag 'p' is missing"),
            (["v=DKIM1; p=%%%%"], "key syntax error at brisbane._domainkey.football.example.com.: tag 'p': '%%%%' is not base64"),
            (["v=DKIM1; k=ed25519; k=rsa; p="], "key syntax error at brisbane._domainkey.football.example.com.: syntax error: tag 'k' appears more than once"),
        ]
        for (strings, reason) in cases {
            let resolver = MockResolver()
            resolver.addTXT(RFC8463.ed25519Name, strings)
            let results = await DKIMVerifier(resolver: resolver).verify(RFC8463.message)
            #expect(results.first?.status == .permerror, "\(strings)")
            #expect(results.first?.reason == reason)
        }
        // Two records at one name: RFC 6376 §6.1.2 step 4 lets a verifier pick; Tern takes none.
        let two = RFC8463.resolver()
        two.addTXT(RFC8463.ed25519Name, ["v=DKIM1; k=ed25519; p="])
        let results = await DKIMVerifier(resolver: two).verify(RFC8463.message)
        #expect(results.map(\.status) == [.permerror, .pass])
        #expect(results[0].reason == "2 TXT records at brisbane._domainkey.football.example.com., not one key record")
    }

    /// RFC 8301 §3.1: rsa-sha1 is refused without looking up the key.
    @Test func rsaSHA1IsPermerror() async {
        let resolver = RFC8463.resolver()
        let results = await DKIMVerifier(resolver: resolver).verify(crlf(Dkimpy.rsaSHA1Signature + RFC8463.unsigned))
        #expect(results.map(\.status) == [.permerror])
        #expect(results.first?.reason == "rsa-sha1 is historic and not verified (RFC 8301 §3.1)")
        #expect(results.first?.algorithm == "rsa-sha1")
        #expect(resolver.queries.isEmpty)
    }

    /// RFC 8301 §3.2: a real signature by a 512-bit key is not valid.
    @Test func shortRSAKeyIsPermerror() async {
        let resolver = MockResolver()
        resolver.addTXT("short._domainkey.football.example.com", [Dkimpy.shortKeyRecord])
        let results = await DKIMVerifier(resolver: resolver).verify(crlf(Dkimpy.shortKeySignature + RFC8463.unsigned))
        #expect(results.map(\.status) == [.permerror])
        #expect(results.first?.reason == "RSA key of 512 bits is shorter than 1024 (RFC 8301 §3.2)")
    }

    /// A verifier's own stricter rules give policy (RFC 8601 §2.7.1).
    @Test func localPolicyRefusals() async {
        let strict = DKIMVerifier(resolver: RFC8463.resolver(), policy: .init(minimumRSAKeyBits: 2048))
        let results = await strict.verify(RFC8463.message)
        #expect(results.map(\.status) == [.pass, .policy])
        #expect(results[1].reason == "RSA key of 1024 bits is shorter than the 2048 this verifier requires")

        let one = DKIMVerifier(resolver: RFC8463.resolver(), policy: .init(maximumSignatures: 1))
        let limited = await one.verify(RFC8463.message)
        #expect(limited.map(\.status) == [.pass, .policy])
        #expect(limited[1].reason == "not checked: only the first 1 signatures are (RFC 6376 §6.1)")
    }

    /// l= is honoured: content after it does not break the signature but is reported, and
    /// can be refused by policy; an l= longer than the body fails.
    @Test func bodyLengthLimit() async {
        let signed = Dkimpy.bodyLengthSignature + RFC8463.unsigned
        let whole = await DKIMVerifier(resolver: RFC8463.resolver()).verify(crlf(signed))
        #expect(whole.map(\.status) == [.pass])
        #expect(whole.first?.bodyLength == 54)
        #expect(whole.first?.unsignedBodyOctets == 0)
        #expect(whole.first?.reason == nil)

        let appended = crlf(signed + "Click here: http://evil.example/\n")
        let flagged = await DKIMVerifier(resolver: RFC8463.resolver()).verify(appended)
        #expect(flagged.map(\.status) == [.pass])
        // The empty lines before the added line count now: 2 + 2 + 32 octets.
        #expect(flagged.first?.unsignedBodyOctets == 36)
        #expect(flagged.first?.reason == "l=54 leaves 36 octets of the canonicalized body unsigned")

        let refusing = DKIMVerifier(resolver: RFC8463.resolver(), policy: .init(refuseUnsignedBodyContent: true))
        #expect(await refusing.verify(appended).map(\.status) == [.policy])
        #expect(await refusing.verify(crlf(signed)).map(\.status) == [.pass])

        let shortened = crlf(signed.replacingOccurrences(of: "We lost the game.  Are you hungry yet?\n", with: ""))
        let short = await DKIMVerifier(resolver: RFC8463.resolver()).verify(shortened)
        #expect(short.map(\.status) == [.fail])
        #expect(short.first?.reason == "l=54 is more than the 15 octets of the canonicalized body")
    }

    /// Each signature has its own result; a broken one does not hide a good one (RFC 6376 §6.1).
    @Test func multipleSignaturesEachGetAResult() async {
        let garbage = "DKIM-Signature: v=1; a=ed25519-sha256; d=other.example; s=gone; h=from; bh=AAAA; b=AAAA\n"
        let message = crlf(garbage) + RFC8463.message
        let results = await DKIMVerifier(resolver: RFC8463.resolver()).verify(message)
        #expect(results.map(\.status) == [.permerror, .pass, .pass])
        #expect(results.map(\.domain) == ["other.example", "football.example.com", "football.example.com"])
    }

    @Test func testingFlagAndStrictFlag() async {
        let resolver = MockResolver()
        resolver.addTXT(RFC8463.ed25519Name, ["v=DKIM1; k=ed25519; t=y:x; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="])
        resolver.addTXT(RFC8463.rsaName, ["v=DKIM1; t=s; k=rsa; p=" + RFC8463.rsaRecordStrings.joined().dropFirst(18)])
        let results = await DKIMVerifier(resolver: resolver).verify(RFC8463.message)
        // i=@football.example.com is d= itself, which t=s allows.
        #expect(results.map(\.status) == [.pass, .pass])
        #expect(results.map(\.testing) == [true, false])
    }

    @Test func strictKeyRefusesSubdomainIdentity() async throws {
        let key = try DKIMPrivateKey(pem: RFC8463.rsaPrivateKeyPEM)
        let signer = try DKIMSigner(domain: "example.com", selector: "sel", key: key, identity: "joe@mail.example.com")
        let message = try DKIMSigner.sign(crlf(RFC8463.unsigned), with: [signer])
        let resolver = MockResolver()
        resolver.addTXT("sel._domainkey.example.com", [key.keyRecord.replacingOccurrences(of: "k=rsa;", with: "k=rsa; t=s;")])
        let results = await DKIMVerifier(resolver: resolver).verify(message)
        #expect(results.map(\.status) == [.permerror])
        #expect(results.first?.reason == "the key has t=s but i=joe@mail.example.com is in a subdomain of d=example.com")
        #expect(results.first?.identity == "joe@mail.example.com")
    }

    /// x= against the injected clock (RFC 6376 §3.5).
    @Test func expiredSignatureIsPermerror() async throws {
        let clock = TestClock()
        let key = try DKIMPrivateKey(pem: RFC8463.rsaPrivateKeyPEM)
        let signer = try DKIMSigner(domain: "example.com", selector: "sel", key: key, validity: .seconds(3600), now: { clock.now })
        let message = try DKIMSigner.sign(crlf(RFC8463.unsigned), with: [signer])
        let resolver = MockResolver()
        resolver.addTXT("sel._domainkey.example.com", [key.keyRecord])
        let verifier = DKIMVerifier(resolver: resolver, now: { clock.now })
        clock.advance(3599)
        #expect(await verifier.verify(message).map(\.status) == [.pass])
        clock.advance(2)
        let expired = await verifier.verify(message)
        #expect(expired.map(\.status) == [.permerror])
        #expect(expired.first?.reason == "signature expired at x=1700003600 (RFC 6376 §3.5)")
    }

    @Test func resultsAreCounted() async {
        let metrics = TestMetrics()
        let resolver = RFC8463.resolver()
        resolver.fail(name(RFC8463.rsaName), .txt, with: .timeout)
        _ = await DKIMVerifier(resolver: resolver, metrics: DKIMMetrics(factory: metrics)).verify(RFC8463.message)
        let counters = DKIMStatus.allCases.map { status in
            (try? metrics.expectCounter("tern_dkim_verifications_total", [("result", status.rawValue)]).totalValue) ?? -1
        }
        // Every result counter exists from the start, at zero.
        #expect(counters == [1, 0, 0, 1, 0, 0])
    }
}
