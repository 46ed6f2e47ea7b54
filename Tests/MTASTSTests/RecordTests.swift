import DNS
import MTASTS
import Testing

@Suite struct RecordParsingTests {
    @Test func rfcExampleAndSpacing() throws {
        #expect(try STSRecord(parsing: "v=STSv1; id=20160831085700Z;").id == "20160831085700Z")
        #expect(try STSRecord(parsing: "v=STSv1;id=abc").id == "abc")
        #expect(try STSRecord(parsing: "v=STSv1 ;\tid=abc \t; ").id == "abc")
        let longest = String(repeating: "a1", count: 16)
        #expect(try STSRecord(parsing: "v=STSv1; id=\(longest)").id == longest)
    }

    /// RFC 8461 §3.2: unknown fields are ignored, and of a repeated field the first counts.
    @Test func extensionsAndRepeatedIDs() throws {
        #expect(try STSRecord(parsing: "v=STSv1; ext_1.x-y=a:b<c>; id=one").id == "one")
        #expect(try STSRecord(parsing: "v=STSv1; id=first; id=second").id == "first")
        #expect(try STSRecord(parsing: "v=STSv1; id=first; id=not-alnum").id == "first")
    }

    @Test func syntaxErrors() {
        #expect(throws: STSRecordSyntaxError.missingID) { try STSRecord(parsing: "v=STSv1") }
        #expect(throws: STSRecordSyntaxError.missingID) { try STSRecord(parsing: "v=STSv1;") }
        #expect(throws: STSRecordSyntaxError.missingID) { try STSRecord(parsing: "v=STSv1; other=1") }
        #expect(throws: STSRecordSyntaxError.notSTSv1) { try STSRecord(parsing: "v=STSv2; id=1") }
        #expect(throws: STSRecordSyntaxError.notSTSv1) { try STSRecord(parsing: "V=STSv1; id=1") }
        #expect(throws: STSRecordSyntaxError.missingSeparator) { try STSRecord(parsing: "v=STSv1 id=1") }
        #expect(throws: STSRecordSyntaxError.emptyField) { try STSRecord(parsing: "v=STSv1; ; id=1") }
        #expect(throws: STSRecordSyntaxError.nonASCII) { try STSRecord(parsing: "v=STSv1; id=1; x=é") }
        #expect(throws: STSRecordSyntaxError.malformedField("id")) { try STSRecord(parsing: "v=STSv1; id") }
        #expect(throws: STSRecordSyntaxError.invalidFieldName("_x")) { try STSRecord(parsing: "v=STSv1; id=1; _x=1") }
        #expect(throws: STSRecordSyntaxError.invalidFieldValue(name: "x", value: "a=b")) { try STSRecord(parsing: "v=STSv1; id=1; x=a=b") }
        #expect(throws: STSRecordSyntaxError.invalidFieldValue(name: "id", value: "")) { try STSRecord(parsing: "v=STSv1; id=") }
        #expect(throws: STSRecordSyntaxError.invalidID("a-b")) { try STSRecord(parsing: "v=STSv1; id=a-b") }
        let tooLong = String(repeating: "a", count: 33)
        #expect(throws: STSRecordSyntaxError.invalidID(tooLong)) { try STSRecord(parsing: "v=STSv1; id=\(tooLong)") }
    }

    /// The record a Policy Domain publishes: composed from the id and read back the same.
    @Test func composedRecord() throws {
        let record = try STSRecord(id: "20240101T0000")
        #expect(record.text == "v=STSv1; id=20240101T0000")
        #expect(try STSRecord(parsing: record.text) == record)
        #expect(throws: STSRecordSyntaxError.invalidID("a-b")) { try STSRecord(id: "a-b") }
        #expect(throws: STSRecordSyntaxError.invalidID(String(repeating: "7", count: 33))) { try STSRecord(id: String(repeating: "7", count: 33)) }
        // An id that smuggles in a second field would parse as its first part.
        #expect(throws: STSRecordSyntaxError.invalidID("1; id=2")) { try STSRecord(id: "1; id=2") }
        #expect(throws: STSRecordSyntaxError.self) { try STSRecord(id: "") }
    }
}

@Suite struct RecordLookupTests {
    let domain = try! Domain("example.com")

    func resolver(_ texts: [[String]], authentic: Bool = false) throws -> MockResolver {
        let resolver = MockResolver()
        for strings in texts {
            try resolver.add("_mta-sts.example.com", .txt(strings.map { Array($0.utf8) }), authentic: authentic)
        }
        return resolver
    }

    /// RFC 8461 §3.1: several character-strings are concatenated without spaces; other TXT
    /// records next to the STSv1 one are discarded.
    @Test func findsTheOneRecord() async throws {
        let resolver = try resolver([["v=STSv1; ", "id=abc"], ["v=spf1 -all"], ["v=STSv10; id=x"]], authentic: true)
        let found = try await STSRecord.lookup(for: domain, resolver: resolver)
        #expect(found.value.id == "abc")
        #expect(found.authentic)
    }

    @Test func followsCNAME() async throws {
        let resolver = MockResolver()
        try resolver.add("_mta-sts.example.com", .cname(try DNSName("_mta-sts.provider.example")))
        try resolver.add("_mta-sts.provider.example", .txt([Array("v=STSv1; id=delegated".utf8)]))
        #expect(try await STSRecord.lookup(for: domain, resolver: resolver).value.id == "delegated")
    }

    @Test func noRecordAtAll() async throws {
        let error = await #expect(throws: STSRecordError.self) { try await STSRecord.lookup(for: domain, resolver: MockResolver()) }
        guard case let .noRecord(dnsError)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(dnsError.kind == .nameNotFound)
        #expect(error?.isTemporary == false)
        #expect(error?.resultType == nil)
    }

    @Test func onlyOtherTXTRecords() async throws {
        let resolver = try resolver([["v=spf1 -all"]])
        await #expect(throws: STSRecordError.noSTSRecord(others: ["v=spf1 -all"])) { try await STSRecord.lookup(for: domain, resolver: resolver) }
    }

    @Test func severalSTSRecords() async throws {
        let resolver = try resolver([["v=STSv1; id=1"], ["v=STSv1; id=2"]])
        let error = await #expect(throws: STSRecordError.multipleRecords(["v=STSv1; id=1", "v=STSv1; id=2"])) {
            try await STSRecord.lookup(for: domain, resolver: resolver)
        }
        #expect(error?.resultType == .policyInvalid)
    }

    @Test func invalidRecord() async throws {
        let resolver = try resolver([["v=STSv1; id=not valid"]])
        let error = await #expect(throws: STSRecordError.syntax(.invalidFieldValue(name: "id", value: "not valid"), record: "v=STSv1; id=not valid")) {
            try await STSRecord.lookup(for: domain, resolver: resolver)
        }
        #expect(error?.resultType == .policyInvalid)
    }

    @Test func temporaryFailure() async throws {
        let resolver = MockResolver()
        resolver.fail(try DNSName("_mta-sts.example.com"), .txt, with: .serverFailure(.serverFailure))
        let error = await #expect(throws: STSRecordError.self) { try await STSRecord.lookup(for: domain, resolver: resolver) }
        guard case .lookupFailed? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(error?.isTemporary == true)
        // Transient (RFC 8460 §4.3.4): reported as no-policy-found.
        #expect(error?.resultType == nil)
    }
}
