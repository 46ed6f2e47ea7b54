// IPRev: forward-confirmed reverse DNS of an SMTP client's address, the "iprev" method of
// Authentication-Results (RFC 8601 §3):
//
//   1. the PTR records of the address (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa);
//   2. for each name (at most `nameLimit`, as RFC 8601 §3 asks for a limit), its A or AAAA
//      records; a name whose addresses include the client's passes the check.
//
// Results (RFC 8601 §2.7.3): pass when a name confirms; fail when the lookups gave definite
// answers and no name confirmed, an address without PTR records included; temperror when
// no name confirmed and a lookup failed in a way that may pass (SERVFAIL, timeout).
// Whether every answer behind the verdict was DNSSEC-validated is reported too, so a
// receiver can tell verdicts on validated DNS from the rest.
import DNS

public struct IPRevResult: Hashable, Sendable, CustomStringConvertible {
    public enum Status: String, Hashable, Sendable {
        case pass, fail, temperror
    }

    public var status: Status
    public var address: IPAddress
    /// The names that resolve back to the address, without the final dot.
    public var confirmedNames: [String]
    /// The PTR names looked at, without the final dot.
    public var reverseNames: [String]
    /// Every answer the verdict rests on was DNSSEC-validated (the PTR records and, for a pass,
    /// the confirming name's addresses).
    public var authentic: Bool
    /// For fail and temperror: why.
    public var reason: String?

    /// The first confirmed name, else nil: the name a Received field may show (RFC 5321 §4.4
    /// TCP-info).
    public var name: String? { confirmedNames.first }

    public var description: String {
        var text = "iprev=\(status.rawValue) \(address)"
        if let name { text += " (\(name))" }
        if let reason { text += ": \(reason)" }
        return text
    }
}

public struct IPRev: Sendable {
    /// RFC 8601 §3: "a limit on the number of PTR records processed": as SPF's ptr (RFC 7208
    /// §4.6.4).
    public static let defaultNameLimit = 10

    public let resolver: any Resolver
    public let nameLimit: Int

    public init(resolver: any Resolver, nameLimit: Int = defaultNameLimit) {
        self.resolver = resolver
        self.nameLimit = nameLimit
    }

    public func check(_ address: IPAddress) async -> IPRevResult {
        var result = IPRevResult(status: .fail, address: address, confirmedNames: [], reverseNames: [], authentic: false, reason: nil)
        let reverse: DNSAnswer
        do {
            reverse = try await resolver.resolve(DNSName.reverse(address), .ptr)
        } catch {
            if error.isTemporary {
                result.status = .temperror
                result.reason = "PTR lookup failed: \(error)"
            } else {
                result.reason = "no PTR record for \(address)"
            }
            return result
        }
        let names = reverse.records.compactMap { if case let .ptr(name) = $0.data { name } else { nil } }
        result.reverseNames = names.prefix(nameLimit).map(\.withoutFinalDot)
        guard !names.isEmpty else {
            result.reason = "no PTR record for \(address)"
            return result
        }
        let type: RecordType = address.isIPv4 ? .a : .aaaa
        var temporaryFailure: String?
        var confirmedAuthentic: Bool?
        for name in names.prefix(nameLimit) {
            do {
                let forward = try await resolver.resolve(name, type)
                let addresses = forward.records.compactMap { record -> IPAddress? in
                    switch record.data {
                    case let .a(found), let .aaaa(found): return found
                    default: return nil
                    }
                }
                if addresses.contains(address) {
                    result.confirmedNames.append(name.withoutFinalDot)
                    confirmedAuthentic = (confirmedAuthentic ?? true) && forward.authentic
                }
            } catch where error.isTemporary {
                temporaryFailure = temporaryFailure ?? "\(type) lookup of \(name.withoutFinalDot) failed: \(error)"
            } catch {
                // NXDOMAIN or no records: this name does not confirm.
            }
        }
        if let confirmedAuthentic {
            result.status = .pass
            result.authentic = reverse.authentic && confirmedAuthentic
        } else if let temporaryFailure {
            result.status = .temperror
            result.reason = temporaryFailure
        } else {
            result.authentic = reverse.authentic
            result.reason = "no name of \(result.reverseNames.joined(separator: ", ")) resolves to \(address)"
        }
        return result
    }
}
