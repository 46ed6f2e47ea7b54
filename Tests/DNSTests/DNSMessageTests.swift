import Testing

@testable import DNS

@Suite struct DNSMessageTests {
    @Test func queryWireFormat() throws {
        let query = DNSMessage.query(id: 0xBEEF, name: try DNSName("Example.com"), type: .mx, udpPayloadSize: 1232)
        let bytes = query.encoded()
        #expect(
            bytes == [
                0xBE, 0xEF, 0x01, 0x20,  // ID; RD and AD set
                0, 1, 0, 0, 0, 0, 0, 1,  // one question, one additional (OPT)
                7, 0x45, 0x78, 0x61, 0x6D, 0x70, 0x6C, 0x65, 3, 0x63, 0x6F, 0x6D, 0,  // Example.com.
                0, 15, 0, 1,  // MX IN
                0, 0, 41, 0x04, 0xD0,  // root, OPT, payload 1232
                0, 0, 0x80, 0x00, 0, 0,  // ext-rcode 0, version 0, DO bit, no options
            ])
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed == query)
        #expect(parsed.edns?.dnssecOK == true)
    }

    @Test func everyRecordTypeRoundTrips() throws {
        let name = try DNSName("mail.example.org")
        let records: [ResourceRecord] = [
            ResourceRecord(name: name, ttl: 60, data: .a(.v4(192, 0, 2, 1))),
            ResourceRecord(name: name, ttl: 60, data: .aaaa(try #require(IPAddress("2001:db8::1")))),
            ResourceRecord(name: name, ttl: 60, data: .ns(try DNSName("ns1.example.org"))),
            ResourceRecord(name: name, ttl: 60, data: .cname(try DNSName("other.example.org"))),
            ResourceRecord(name: name, ttl: 60, data: .ptr(try DNSName("host.example.org"))),
            ResourceRecord(name: name, ttl: 60, data: .mx(MX(preference: 10, exchange: try DNSName("mx.example.org")))),
            ResourceRecord(name: name, ttl: 60, data: .txt([Array("v=spf1 ".utf8), Array("-all".utf8), []])),
            ResourceRecord(name: name, ttl: 60, data: .soa(SOA(primary: try DNSName("ns1.example.org"), mailbox: try DNSName("hostmaster.example.org"), serial: 2026112101, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300))),
            ResourceRecord(name: name, ttl: 60, data: .srv(SRV(priority: 0, weight: 5, port: 993, target: try DNSName("imap.example.org")))),
            ResourceRecord(name: name, ttl: 60, data: .tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32)))),
            ResourceRecord(name: name, ttl: 60, data: .caa(CAA(flags: 128, tag: "issue", value: Array("letsencrypt.org".utf8)))),
            ResourceRecord(name: name, ttl: 60, data: .unknown(type: RecordType(rawValue: 65280), data: [1, 2, 3])),
        ]
        var message = DNSMessage(id: 7, isResponse: true, rcode: .noError, questions: [Question(name: name, type: .a)], answers: records)
        message.edns = EDNS(udpPayloadSize: 1232, options: [EDNSOption(ExtendedDNSError(infoCode: 3, extraText: "stale"))])
        let parsed = try DNSMessage(parsing: message.encoded())
        #expect(parsed == message)
        #expect(parsed.edns?.extendedErrors == [ExtendedDNSError(infoCode: 3, extraText: "stale")])
    }

    @Test func presentationForms() throws {
        let name = try DNSName("x.example")
        func line(_ data: RecordData) -> String { ResourceRecord(name: name, ttl: 300, data: data).description }
        #expect(line(.mx(MX(preference: 10, exchange: try DNSName("mail.example")))) == "x.example.\t300\tIN\tMX\t10 mail.example.")
        #expect(line(.txt([Array("a \"quoted\" \\ text".utf8), [0x07, 0xFF]])) == "x.example.\t300\tIN\tTXT\t\"a \\\"quoted\\\" \\\\ text\" \"\\007\\255\"")
        #expect(line(.tlsa(TLSA(usage: 3, selector: 1, matchingType: 1, data: [0xDE, 0xAD]))) == "x.example.\t300\tIN\tTLSA\t3 1 1 dead")
        #expect(line(.caa(CAA(flags: 0, tag: "issue", value: Array("ca.example".utf8)))) == "x.example.\t300\tIN\tCAA\t0 issue \"ca.example\"")
        #expect(line(.aaaa(try #require(IPAddress("2001:DB8:0:0:0:0:0:1")))) == "x.example.\t300\tIN\tAAAA\t2001:db8::1")
        #expect(line(.unknown(type: RecordType(rawValue: 999), data: [0xAB])) == "x.example.\t300\tIN\tTYPE999\t\\# 1 ab")
    }

    /// RFC 1035 §4.1.4: names are compressed with pointers to earlier occurrences.
    @Test func compressedNames() throws {
        var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        bytes += [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0]  // at offset 12
        bytes += [0, 15, 0, 1]
        bytes += [0xC0, 12, 0, 15, 0, 1, 0, 0, 0x0E, 0x10]  // answer owner: pointer to 12
        bytes += [0, 9, 0, 10, 4] + Array("mail".utf8) + [0xC0, 12]  // MX 10 mail.<pointer>
        let message = try DNSMessage(parsing: bytes)
        #expect(message.answers.count == 1)
        #expect(message.answers[0].name == (try DNSName("example.com")))
        #expect(message.answers[0].ttl == 3600)
        #expect(message.answers[0].data == .mx(MX(preference: 10, exchange: try DNSName("mail.example.com"))))
        #expect(message.recursionAvailable && message.isResponse)
    }

    // MARK: hostile input: every case an error, never a crash or a hang

    private static let header: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]

    @Test func truncatedMessages() throws {
        let good = DNSMessage.query(id: 1, name: try DNSName("a.example"), type: .a, udpPayloadSize: 512).encoded()
        for length in 0..<good.count {
            #expect(throws: DNSWireError.self) { try DNSMessage(parsing: Array(good.prefix(length))) }
        }
    }

    @Test func pointerToItselfOrForwardIsRejected() {
        #expect(throws: DNSWireError.forwardPointer(offset: 12)) {
            try DNSMessage(parsing: Self.header + [0xC0, 12, 0, 1, 0, 1])
        }
        #expect(throws: DNSWireError.forwardPointer(offset: 12)) {
            try DNSMessage(parsing: Self.header + [0xC0, 40, 0, 1, 0, 1])
        }
    }

    @Test func pointerLoopIsRejected() {
        // A label, then a pointer back to that label: a loop only a backwards check cannot see.
        #expect(throws: DNSWireError.self) {
            try DNSMessage(parsing: Self.header + [1, 0x61, 0xC0, 12, 0, 1, 0, 1])
        }
    }

    /// A chain of pointers, each to the one before it, hidden in an unknown record's RDATA;
    /// the next record's owner name points at the chain's end.
    private static func pointerChain(length: Int) -> [UInt8] {
        var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 2, 0, 0, 0, 0]
        bytes += [0, 0xFF, 0x00, 0, 1, 0, 0, 0, 0, UInt8((length * 2) >> 8), UInt8((length * 2) & 0xFF)]  // owner at 12, RDATA at 23
        for k in 0..<length {
            let target = k == 0 ? 12 : 23 + 2 * (k - 1)
            bytes += [0xC0 | UInt8(target >> 8), UInt8(target & 0xFF)]
        }
        let last = 23 + 2 * (length - 1)
        bytes += [0xC0 | UInt8(last >> 8), UInt8(last & 0xFF), 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 127, 0, 0, 1]
        return bytes
    }

    @Test func longPointerChainIsBounded() throws {
        let message = try DNSMessage(parsing: Self.pointerChain(length: 100))
        #expect(message.answers.last?.name == DNSName.root)
        let attack = Self.pointerChain(length: 300)
        #expect(throws: DNSWireError.tooManyPointers(offset: attack.count - 16)) { try DNSMessage(parsing: attack) }
    }

    @Test func nameTooLong() {
        var bytes = Self.header
        for _ in 0..<5 { bytes += [63] + Array(repeating: 0x61, count: 63) }
        bytes += [0, 0, 1, 0, 1]
        #expect(throws: DNSWireError.nameTooLong(offset: 12)) { try DNSMessage(parsing: bytes) }
    }

    @Test func extendedLabelTypesAreRejected() {
        #expect(throws: DNSWireError.badLabelType(offset: 12)) { try DNSMessage(parsing: Self.header + [0x41, 0, 0, 1, 0, 1]) }
        #expect(throws: DNSWireError.badLabelType(offset: 12)) { try DNSMessage(parsing: Self.header + [0x80, 0, 0, 1, 0, 1]) }
    }

    private static func answerMessage(type: UInt16, rdata: [UInt8]) -> [UInt8] {
        [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0] + [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0, 60]
            + [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
    }

    @Test func recordDataMustMatchItsLength() throws {
        #expect(throws: DNSWireError.badRDataLength(type: .a, offset: 23)) { try DNSMessage(parsing: Self.answerMessage(type: 1, rdata: [1, 2, 3, 4, 5])) }
        #expect(throws: DNSWireError.self) { try DNSMessage(parsing: Self.answerMessage(type: 1, rdata: [1, 2, 3])) }
        #expect(throws: DNSWireError.badRDataLength(type: .txt, offset: 23)) { try DNSMessage(parsing: Self.answerMessage(type: 16, rdata: [5, 0x61, 0x62])) }
        #expect(throws: DNSWireError.badRDataLength(type: .tlsa, offset: 23)) { try DNSMessage(parsing: Self.answerMessage(type: 52, rdata: [3, 1])) }
        #expect(throws: DNSWireError.badRDataLength(type: .mx, offset: 23)) { try DNSMessage(parsing: Self.answerMessage(type: 15, rdata: [0, 10, 0, 0xFF])) }
        // RFC 8659 §4.1: a CAA record whose tag breaks the grammar is kept as octets, exactly.
        for rdata: [UInt8] in [[0, 9, 0x61], [0, 1, 0xFF, 0x61], [0, 0], [0]] {
            let message = try DNSMessage(parsing: Self.answerMessage(type: 257, rdata: rdata))
            #expect(message.answers.first?.data == .unknown(type: .caa, data: rdata))
        }
        // RDLENGTH beyond the message.
        var overlong = Self.answerMessage(type: 1, rdata: [1, 2, 3, 4])
        overlong[22] = 9
        #expect(throws: DNSWireError.truncated(offset: 23)) { try DNSMessage(parsing: overlong) }
    }

    /// RFC 1035 §3.3.14 wants at least one string, but a TXT record with empty RDATA is read
    /// as no strings, and the record after it is still read whole.
    @Test func emptyTXTRecordDataIsNoStrings() throws {
        let name = try DNSName("null.example.com")
        let message = DNSMessage(
            id: 9, isResponse: true, rcode: .noError, questions: [Question(name: name, type: .txt)],
            answers: [
                ResourceRecord(name: name, ttl: 60, data: .txt([])),
                ResourceRecord(name: name, ttl: 60, data: .txt([Array("v=spf1 -all".utf8)])),
            ])
        #expect(try DNSMessage(parsing: message.encoded()) == message)
        #expect(try DNSMessage(parsing: Self.answerMessage(type: 16, rdata: [])).answers.first?.data == .txt([]))
    }

    @Test func optRules() throws {
        let opt: [UInt8] = [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 0]
        // RFC 6891 §6.1.1: two OPT records are an error; OPT only in the additional section.
        #expect(throws: DNSWireError.multipleOPT) { try DNSMessage(parsing: [0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 2] + opt + opt) }
        #expect(throws: DNSWireError.misplacedOPT(offset: 12)) { try DNSMessage(parsing: [0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0] + opt) }
        // An option running past the OPT RDATA.
        let badOption: [UInt8] = [0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 4, 0, 15, 0, 9]
        #expect(throws: DNSWireError.badRDataLength(type: .opt, offset: 27)) { try DNSMessage(parsing: [0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 1] + badOption) }
        // RFC 6891 §6.1.3: the extended RCODE is the OPT TTL's top octet above the header's 4 bits.
        let badvers: [UInt8] = [0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 41, 4, 0xD0, 1, 0, 0, 0, 0, 0]
        #expect(try DNSMessage(parsing: badvers).rcode == .badVersion)
    }

    /// RFC 8914 §2: EXTRA-TEXT may end in NUL; a too-short option is ignored.
    @Test func extendedErrorParsing() {
        #expect(ExtendedDNSError(optionData: [0, 6] + Array("bad sig".utf8) + [0]) == ExtendedDNSError(infoCode: 6, extraText: "bad sig"))
        #expect(ExtendedDNSError(optionData: [0]) == nil)
        #expect(ExtendedDNSError(infoCode: 6, extraText: "x").description == "extended error 6 (DNSSEC Bogus): x")
        #expect(ExtendedDNSError(infoCode: 60000).description == "extended error 60000")
    }
}

@Suite struct DNSNameTests {
    @Test func parseAndPrint() throws {
        #expect(try DNSName("example.com").description == "example.com.")
        #expect(try DNSName("example.com.").description == "example.com.")
        #expect(try DNSName(".") == DNSName.root)
        #expect(try DNSName("_25._tcp.mx.example").labels.count == 4)
        #expect(try DNSName("a\\.b.example").labels == [Array("a.b".utf8), Array("example".utf8)])
        #expect(try DNSName("a\\032b.example").labels[0] == Array("a b".utf8))
        #expect(try DNSName("a\\032b\\.c.example").description == "a\\032b\\.c.example.")
        #expect(try DNSName("mx.example.com.").withoutFinalDot == "mx.example.com")
        #expect(DNSName.root.withoutFinalDot == ".")
    }

    @Test func errors() {
        #expect(throws: DNSNameError.empty) { try DNSName("") }
        #expect(throws: DNSNameError.emptyLabel) { try DNSName("a..b") }
        #expect(throws: DNSNameError.emptyLabel) { try DNSName(".a") }
        #expect(throws: DNSNameError.labelTooLong(length: 64)) { try DNSName(String(repeating: "a", count: 64) + ".example") }
        #expect(throws: DNSNameError.nameTooLong(length: 257)) { try DNSName(Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")) }
        #expect(throws: DNSNameError.badEscape) { try DNSName("a\\25") }
        #expect(throws: DNSNameError.badEscape) { try DNSName("a\\300") }
        #expect(throws: DNSNameError.badEscape) { try DNSName("a\\") }
        #expect(throws: DNSNameError.nonASCII) { try DNSName("münchen.de") }
    }

    /// RFC 4343 §3: ASCII case is insignificant, other octets compare exactly.
    @Test func caseInsensitiveEquality() throws {
        #expect(try DNSName("Example.COM") == DNSName("example.com"))
        #expect(Set([try DNSName("Example.COM"), try DNSName("example.com")]).count == 1)
        #expect(try DNSName("a\\200.example") != DNSName("a\\232.example"))
        #expect(try DNSName("mail.Example.com").isSubdomain(of: DNSName("example.COM")))
        #expect(!(try DNSName("badexample.com").isSubdomain(of: DNSName("example.com"))))
    }

    @Test func reverseNames() throws {
        #expect(DNSName.reverse(.v4(192, 0, 2, 10)).description == "10.2.0.192.in-addr.arpa.")
        // RFC 3596 §2.5's example.
        let address = try #require(IPAddress("4321:0:1:2:3:4:567:89ab"))
        #expect(DNSName.reverse(address).description == "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.ip6.arpa.")
    }

    @Test func recordTypeNames() {
        #expect(RecordType(name: "tlsa") == .tlsa)
        #expect(RecordType(name: "TYPE52") == .tlsa)
        #expect(RecordType(name: "TYPE65280")?.description == "TYPE65280")
        #expect(RecordType(name: "BOGUS") == nil)
        #expect(RecordType(name: "TYPE70000") == nil)
    }

    @Test func ipAddresses() {
        #expect(IPAddress("192.0.2.1") == .v4(192, 0, 2, 1))
        #expect(IPAddress("::ffff:192.0.2.1")?.description == "::ffff:192.0.2.1")
        #expect(IPAddress("2001:db8::") != nil)
        #expect(IPAddress("256.1.1.1") == nil)
        #expect(IPAddress("example.com") == nil)
        #expect(IPAddress("1::2::3") == nil)
    }
}
