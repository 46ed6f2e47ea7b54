import Base64
import Testing

@Suite struct Base64Tests {
    static func octets(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// RFC 4648 §10's test vectors, in both decoders and back.
    @Test(arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")])
    func rfcVectors(plain: String, encoded: String) {
        #expect(Base64.encode(Self.octets(plain), lineLength: nil) == Self.octets(encoded))
        #expect(Base64.decodeStrict(Self.octets(encoded)) == Self.octets(plain))
        #expect(Base64.decode(Self.octets(encoded)) == Self.octets(plain))
        #expect(Base64.encodedLength(of: plain.utf8.count) == encoded.utf8.count)
    }

    @Test func everyOctetRoundTrips() {
        let all = (0...255).map { UInt8($0) }
        for length in [1, 2, 3, 4, 5, 57, 58, 256] {
            let data = Array(all.prefix(length))
            #expect(Base64.decodeStrict(Base64.encode(data, lineLength: nil)) == data)
            #expect(Base64.decode(Base64.encode(data)) == data, "with MIME line breaks")
        }
    }

    /// What a MIME decoder must get past (RFC 2045 §6.8) and SASL must refuse (RFC 4954 §4):
    /// the lenient decoder reads through it, the strict one says nil.
    @Test(arguments: ["Zm9v\r\nYmFy", "Zm9v YmFy", "Zm9vYmE", "Zm9vYg", "Zg=", "Z===", "Zg==Zm9v", "Zm9v!mFy", "=Zm9", "Zm=v", "Zm9vYmF=y"])
    func strictRefusesWhatMIMEReadsThrough(text: String) {
        #expect(Base64.decodeStrict(Self.octets(text)) == nil)
        _ = Base64.decode(Self.octets(text))  // never fails
    }

    @Test func lenientDecodingSkipsJunkAndStopsAtPadding() {
        #expect(Base64.decode(Self.octets("Zm9v\r\nYmFy")) == Self.octets("foobar"))
        #expect(Base64.decode(Self.octets("Zg==Zm9v")) == Self.octets("f"))
        #expect(Base64.decode(Self.octets("Zm9vYg")) == Self.octets("foob"))
    }
}
