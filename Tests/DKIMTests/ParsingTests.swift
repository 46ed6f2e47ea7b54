import DKIM
import Testing

@Suite struct SignatureParsingTests {
    func parse(_ value: String) throws(DKIMSignatureError) -> DKIMSignature {
        try DKIMSignature(parsing: Array(value.utf8))
    }

    func error(_ value: String) -> DKIMSignatureError? {
        do {
            _ = try parse(value)
            return nil
        } catch {
            return error
        }
    }

    /// RFC 6376 §3.5's example field, folded, with z=.
    @Test func everyTag() throws {
        let signature = try parse(
            """
             v=1; a=rsa-sha256; d=example.net; s=brisbane;\r
                  c=simple; q=dns/txt; i=@eng.example.net;\r
                  t=1117574938; x=1118006938; l=200;\r
                  h=from:to:subject:date;\r
                  z=From:foo@eng.example.net|To:joe@example.com|\r
                   Subject:demo=20run|Date:July=205,=202005=203:44:08=20PM=20-0700;\r
                  bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=;\r
                  b=dzdVyOfAKCdLXdJOc9G2q8LoXSlEniSbav+yuU4zGeeruD00lszZVoG4ZHRNiYzR; unknown=ignored
            """)
        #expect(signature.algorithm == .rsaSHA256)
        #expect(signature.domain == "example.net")
        #expect(signature.selector == "brisbane")
        // "c=simple" is simple/simple; a lone header algorithm leaves the body simple.
        #expect(signature.headerCanonicalization == .simple && signature.bodyCanonicalization == .simple)
        #expect(signature.identity == "@eng.example.net")
        #expect(signature.identityDomain == "eng.example.net")
        #expect(signature.timestamp == 1_117_574_938)
        #expect(signature.expiration == 1_118_006_938)
        #expect(signature.bodyLength == 200)
        #expect(signature.signedHeaders == ["from", "to", "subject", "date"])
        #expect(signature.bodyHash == Array("12345678901234567890123456789012".utf8))
        #expect(signature.signature.count == 48)
        #expect(signature.copiedHeaders?.hasPrefix("From:foo@eng.example.net|To:joe@example.com|") == true)
    }

    @Test func defaultsAndFoldedLists() throws {
        let signature = try parse("v=1;a=ed25519-sha256;d=Example.COM;s=s1.sel;h= From :\r\n\tTo\t: from ;bh=AAAA;b=AA\r\n AA;")
        #expect(signature.headerCanonicalization == .simple && signature.bodyCanonicalization == .simple)
        #expect(signature.identity == "@Example.COM")
        #expect(signature.signedHeaders == ["From", "To", "from"])
        #expect(signature.signature == [0, 0, 0])
        #expect(signature.timestamp == nil && signature.expiration == nil && signature.bodyLength == nil)
        #expect(try parse("v=1; a=rsa-sha256; c=relaxed; d=example.com; s=s; h=from; bh=AAAA; b=AAAA").bodyCanonicalization == .simple)
        #expect(try parse("v=1; a=rsa-sha256; c=simple/relaxed; d=example.com; s=s; h=from; bh=AAAA; b=AAAA").bodyCanonicalization == .relaxed)
        // i= in a subdomain of d=, compared without regard to case.
        #expect(try parse("v=1; a=rsa-sha256; d=example.com; i=joe@Mail.EXAMPLE.com; s=s; h=from; bh=AAAA; b=AAAA").identityDomain == "Mail.EXAMPLE.com")
        // q= may list other methods as long as dns/txt is one of them.
        #expect((try? parse("v=1; a=rsa-sha256; q=foo/bar : dns/txt; d=example.com; s=s; h=from; bh=AAAA; b=AAAA")) != nil)
        // RFC 8616 §5: U-labels in d= and UTF-8 in i=.
        #expect(try parse("v=1; a=rsa-sha256; d=bücher.example; i=jörg@bücher.example; s=s; h=from; bh=AAAA; b=AAAA").domain == "bücher.example")
    }

    @Test func errorsNameTheTag() {
        let base = "a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA"
        #expect(error(base) == .missingTag("v"))
        #expect(error("v=1; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA") == .missingTag("a"))
        #expect(error("v=1; a=rsa-sha256; s=sel; h=from; bh=AAAA; b=AAAA") == .missingTag("d"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; h=from; bh=AAAA; b=AAAA") == .missingTag("s"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; bh=AAAA; b=AAAA") == .missingTag("h"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=AAAA") == .missingTag("bh"))
        #expect(error("v=1; \(base); v=1") == .tagList(.duplicateTag("v")))
        #expect(error("v=1; \(base);; x=1") == .tagList(.emptyTagSpec))
        #expect(error("v=1; \(base); t") == .tagList(.missingEquals("t")))
        #expect(error("v=1; \(base); _t=1") == .tagList(.invalidTagName("_t=1")))
        #expect(error("v=1; \(base); t-x=1") == .tagList(.invalidTagName("t-")))
        #expect(error("v=1; \(base); n=a\u{01}b") == .tagList(.invalidCharacter(tag: "n", octet: 1)))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=from:; bh=AAAA; b=AAAA")
            == .invalidValue(tag: "h", value: "from:", reason: "empty header field name"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=; bh=AAAA; b=AAAA")
            == .invalidValue(tag: "h", value: "", reason: "empty header field name"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=AAAA; b=AAAA") == .fromNotSigned)
        #expect(error("v=1; a=rsa-sha256; d=example.com; i=a@example.com.evil; s=sel; h=from; bh=AAAA; b=AAAA")
            == .identityOutsideDomain(identity: "a@example.com.evil", domain: "example.com"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; i=aexample.com; s=sel; h=from; bh=AAAA; b=AAAA")
            == .invalidValue(tag: "i", value: "aexample.com", reason: "no '@'"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; i=a@notexample.com; s=sel; h=from; bh=AAAA; b=AAAA")
            == .identityOutsideDomain(identity: "a@notexample.com", domain: "example.com"))
        #expect(error("v=1; a=rsa-sha256; d=com; s=sel; h=from; bh=AAAA; b=AAAA") == .invalidValue(tag: "d", value: "com", reason: "not a domain name"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel..x; h=from; bh=AAAA; b=AAAA")
            == .invalidValue(tag: "s", value: "sel..x", reason: "not a selector (dot-separated labels)"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=") == .invalidValue(tag: "b", value: "", reason: "empty"))
        #expect(error("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAA; b=AAAA") == .invalidValue(tag: "bh", value: "AAA", reason: "not base64"))
        #expect(error("v=1; \(base); t=1234567890123") == .invalidValue(tag: "t", value: "1234567890123", reason: "not a time of at most 12 digits"))
        #expect(error("v=1; \(base); x=-5") == .invalidValue(tag: "x", value: "-5", reason: "not a time of at most 12 digits"))
        #expect(error("v=1; \(base); t=100; x=100") == .invalidValue(tag: "x", value: "100", reason: "not after t=100"))
        // 1*76DIGIT is the syntax, but no body has more octets than Int.max.
        let huge = String(repeating: "9", count: 30)
        #expect(error("v=1; \(base); l=\(huge)") == .invalidValue(tag: "l", value: huge, reason: "not a decimal number of octets"))
        #expect(error("v=1; \(base); q=dns") == .unsupportedQueryMethod("dns"))
        #expect(error("v=1; a=RSA-SHA256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA") == .unsupportedAlgorithm("RSA-SHA256"))
        #expect(error("v=1; \(base); c=relaxed/relaxed/simple") == .unsupportedCanonicalization("relaxed/relaxed/simple"))
        #expect(error("v=1; \(base); c=relaxed/") == .unsupportedCanonicalization("relaxed/"))
        #expect(error("v=01; \(base)") == .unsupportedVersion("01"))
        // Descriptions read as sentences naming the tag.
        #expect(DKIMSignatureError.tagList(.duplicateTag("b")).description == "syntax error: tag 'b' appears more than once")
        #expect(DKIMSignatureError.missingTag("bh").description == "required tag 'bh' is missing")
    }

    @Test func wholeFieldAsReceived() throws {
        let field = Array("DKIM-Signature : v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=AAAA; b=AAAA\r\n".utf8)
        #expect(try DKIMSignature(field: field).selector == "sel")
        #expect(throws: DKIMSignatureError.missingTag("v")) { try DKIMSignature(field: Array("DKIM-Signature:\r\n".utf8)) }
    }
}

@Suite struct KeyRecordParsingTests {
    @Test func everyTag() throws {
        let record = try DKIMKeyRecord(parsing: "v=DKIM1; h=sha1 : sha256; k=ed25519; n=notes=20here; s=email:*; t=y:s:zz; p=AAEC\r\n Aw==; x=unknown")
        #expect(record.hashAlgorithms == ["sha1", "sha256"])
        #expect(record.keyType == "ed25519")
        #expect(record.publicKey == [0, 1, 2, 3])
        #expect(record.services == ["email", "*"])
        #expect(record.flags == ["y", "s", "zz"])
        #expect(record.isTesting && record.isStrict && record.allowsEmail && !record.isRevoked)
        #expect(record.allows(.rsaSHA256) && record.allows(.rsaSHA1))
    }

    @Test func defaults() throws {
        let record = try DKIMKeyRecord(parsing: "p=AAAA")
        #expect(record.keyType == "rsa")
        #expect(record.hashAlgorithms == nil)
        #expect(record.services == ["*"])
        #expect(record.flags.isEmpty)
        #expect(!record.isTesting && !record.isStrict && record.allowsEmail)
        let revoked = try DKIMKeyRecord(parsing: "v=DKIM1; p=")
        #expect(revoked.isRevoked)
        let sha1Only = try DKIMKeyRecord(parsing: "h=sha1; p=AAAA")
        #expect(!sha1Only.allows(.ed25519SHA256) && !sha1Only.allows(.rsaSHA256))
        #expect(!(try DKIMKeyRecord(parsing: "s=tlsrpt; p=AAAA")).allowsEmail)
        // A trailing semicolon and white space are allowed (RFC 6376 §3.2).
        #expect(try DKIMKeyRecord(parsing: " v = DKIM1 ; p = AAAA ; ").publicKey == [0, 0, 0])
    }

    @Test func errors() {
        #expect(throws: DKIMKeyRecordError.missingPublicKey) { try DKIMKeyRecord(parsing: "v=DKIM1; k=rsa") }
        #expect(throws: DKIMKeyRecordError.missingPublicKey) { try DKIMKeyRecord(parsing: "") }
        #expect(throws: DKIMKeyRecordError.versionNotFirst) { try DKIMKeyRecord(parsing: "k=rsa; v=DKIM1; p=AAAA") }
        #expect(throws: DKIMKeyRecordError.unsupportedVersion("DKIM1.0")) { try DKIMKeyRecord(parsing: "v=DKIM1.0; p=AAAA") }
        #expect(throws: DKIMKeyRecordError.invalidPublicKey("AAA")) { try DKIMKeyRecord(parsing: "v=DKIM1; p=AAA") }
        #expect(throws: DKIMKeyRecordError.tagList(.duplicateTag("p"))) { try DKIMKeyRecord(parsing: "p=AAAA; p=") }
        #expect(throws: DKIMKeyRecordError.unsupportedVersion("spf1 -all")) { try DKIMKeyRecord(parsing: "v=spf1 -all") }
        #expect(throws: DKIMKeyRecordError.tagList(.invalidTagName("<html>"))) { try DKIMKeyRecord(parsing: "<html>") }
    }
}
