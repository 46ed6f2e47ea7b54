import DNS
import Foundation
import SPF

/// Record data from presentation-like text, for test zones.
enum Record {
    static func txt(_ strings: String...) -> RecordData { .txt(strings.map { Array($0.utf8) }) }
    static func a(_ text: String) -> RecordData { .a(ip(text)) }
    static func aaaa(_ text: String) -> RecordData { .aaaa(ip(text)) }
    static func mx(_ preference: UInt16, _ exchange: String) -> RecordData { .mx(MX(preference: preference, exchange: name(exchange))) }
    static func ptr(_ target: String) -> RecordData { .ptr(name(target)) }
    static func cname(_ target: String) -> RecordData { .cname(name(target)) }
}

func ip(_ text: String) -> IPAddress { IPAddress(text) ?? .v4(0, 0, 0, 0) }
func name(_ text: String) -> DNSName { (try? DNSName(text)) ?? .root }

/// A mock resolver holding `records`, owner names in presentation form.
func zone(_ records: [(String, RecordData)]) throws -> MockResolver {
    let resolver = MockResolver()
    for (owner, data) in records { try resolver.add(owner, data) }
    return resolver
}

/// RFC 7208 Appendix A: "These examples are based on the following DNS setup".
let appendixAZone: [(String, RecordData)] = [
    ("example.com", Record.mx(10, "mail-a.example.com")),
    ("example.com", Record.mx(20, "mail-b.example.com")),
    ("example.com", Record.a("192.0.2.10")),
    ("example.com", Record.a("192.0.2.11")),
    ("amy.example.com", Record.a("192.0.2.65")),
    ("bob.example.com", Record.a("192.0.2.66")),
    ("mail-a.example.com", Record.a("192.0.2.129")),
    ("mail-b.example.com", Record.a("192.0.2.130")),
    ("www.example.com", Record.cname("example.com")),
    ("example.org", Record.mx(10, "mail-c.example.org")),
    ("mail-c.example.org", Record.a("192.0.2.140")),
    ("10.2.0.192.in-addr.arpa", Record.ptr("example.com")),
    ("11.2.0.192.in-addr.arpa", Record.ptr("example.com")),
    ("65.2.0.192.in-addr.arpa", Record.ptr("amy.example.com")),
    ("66.2.0.192.in-addr.arpa", Record.ptr("bob.example.com")),
    ("129.2.0.192.in-addr.arpa", Record.ptr("mail-a.example.com")),
    ("130.2.0.192.in-addr.arpa", Record.ptr("mail-b.example.com")),
    ("140.2.0.192.in-addr.arpa", Record.ptr("mail-c.example.org")),
    // "A rogue reverse IP domain that claims to be something it's not".
    ("4.0.0.10.in-addr.arpa", Record.ptr("bob.example.com")),
]

/// A verifier over `resolver` whose clock stands still, so %{t} and the time limit are exact.
func verifier(_ resolver: MockResolver, voidLookupLimit: Int = 2) -> SPFVerifier {
    SPFVerifier(resolver: resolver, receiver: "mx.example.net", voidLookupLimit: voidLookupLimit, now: { Date(timeIntervalSince1970: 1_700_000_000) })
}

/// Checks MAIL FROM `mailFrom` from `client` against `records` (the HELO name is
/// mail.example.net unless given).
func check(_ records: [(String, RecordData)], ip client: String, mailFrom: String, helo: String = "mail.example.net") async throws -> SPFCheck {
    await verifier(try zone(records)).checkMailFrom(ip: ip(client), mailFrom: mailFrom, helo: helo)
}
