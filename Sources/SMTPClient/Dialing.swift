import DNS
import SMTP

/// Finding where to connect for a domain: destinations from MX records (RFC 5321 §5.1,
/// RFC 7505 null MX), addresses of a host, and the TLSA records of a host for DANE
/// (RFC 7672 §2.2). Every result says whether the DNS answers behind it were
/// DNSSEC-validated (`authentic`, the resolver's AD bit), which DANE depends on.
public enum Dialing {
    /// The hosts to try for `domain`, best first: MX records by preference, in random
    /// order within one preference (RFC 5321 §5.1, to spread the load); the domain itself
    /// when it has no MX records (implicit MX).
    ///
    /// A domain that is a CNAME alias is looked up as its target (the resolver follows
    /// the chain); `expandedDomain` is the target and `authentic` covers the whole chain.
    ///
    /// - Throws: `DialingError` with `.nullMX` for a domain that accepts no mail (RFC 7505),
    ///   `.domainNotFound` for NXDOMAIN (both permanent), `.dns` for lookups that failed
    ///   (temporary: RFC 7672 §2.1.2, delivery is delayed).
    public static func gatherDestinations<Random: RandomNumberGenerator>(
        for domain: DNSName, resolver: some Resolver, random: inout Random
    ) async throws(DialingError) -> Destinations {
        let answer: DNSAnswer
        do {
            answer = try await resolver.resolve(domain, .mx)
        } catch {
            switch error.kind {
            case .noRecords:
                // RFC 5321 §5.1: no MX records; the domain is its own mail host.
                return Destinations(domain: domain, expandedDomain: domain, authentic: error.authentic, implicitMX: true, hosts: [domain])
            case .nameNotFound:
                throw DialingError(kind: .domainNotFound, name: domain, enhanced: .badSystem, text: "domain \(domain.withoutFinalDot) does not exist", isPermanent: true)
            default:
                throw DialingError(dns: error)
            }
        }
        let records = answer.records.compactMap { record -> MX? in
            if case let .mx(mx) = record.data { mx } else { nil }
        }
        // RFC 7505 §3: a single MX with the root as exchange: no mail at all. A domain
        // that lists other MX records with it breaks the rule; those are still tried.
        let usable = records.filter { $0.exchange != .root }
        if usable.isEmpty, !records.isEmpty {
            throw DialingError(
                kind: .nullMX, name: domain, enhanced: EnhancedStatus(5, 1, 10), text: "domain \(domain.withoutFinalDot) accepts no mail (null MX, RFC 7505)",
                isPermanent: true)
        }
        guard !usable.isEmpty else {
            return Destinations(domain: domain, expandedDomain: answer.canonicalName, authentic: answer.authentic, implicitMX: true, hosts: [answer.canonicalName])
        }
        var hosts: [DNSName] = []
        for preference in Set(usable.map(\.preference)).sorted() {
            let group = usable.filter { $0.preference == preference }.map(\.exchange).shuffled(using: &random)
            for host in group where !hosts.contains(host) { hosts.append(host) }
        }
        return Destinations(domain: domain, expandedDomain: answer.canonicalName, authentic: answer.authentic, implicitMX: false, hosts: hosts)
    }

    /// The addresses of `host`, IPv4 and IPv6 asked together, in the order `preference`
    /// gives. CNAMEs are followed; `expandedHost` is where they lead.
    ///
    /// - Throws: `DialingError` `.hostNotFound` when the host has no addresses (permanent
    ///   when the DNS says so), `.dns` when lookups failed.
    public static func gatherAddresses(
        of host: DNSName, resolver: some Resolver, preference: AddressPreference = .ipv6First
    ) async throws(DialingError) -> HostAddresses {
        let types: [RecordType]
        switch preference {
        case .ipv6First: types = [.aaaa, .a]
        case .ipv4First: types = [.a, .aaaa]
        case .ipv6Only: types = [.aaaa]
        case .ipv4Only: types = [.a]
        }
        let outcomes = await withTaskGroup(of: (Int, Result<DNSAnswer, DNSError>).self) { group in
            for (index, type) in types.enumerated() {
                group.addTask {
                    do throws(DNSError) {
                        return (index, .success(try await resolver.resolve(host, type)))
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            var outcomes: [Result<DNSAnswer, DNSError>?] = Array(repeating: nil, count: types.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.compactMap { $0 }
        }
        var addresses: [IPAddress] = []
        var authentic = true
        var expandedHost = host
        var errors: [DNSError] = []
        for outcome in outcomes {
            switch outcome {
            case let .success(answer):
                authentic = authentic && answer.authentic
                expandedHost = answer.canonicalName
                for record in answer.records {
                    switch record.data {
                    case let .a(address), let .aaaa(address): addresses.append(address)
                    default: break
                    }
                }
            case let .failure(error):
                authentic = authentic && error.authentic
                errors.append(error)
            }
        }
        guard addresses.isEmpty else {
            return HostAddresses(host: host, expandedHost: expandedHost, addresses: addresses, authentic: authentic)
        }
        if let temporary = errors.first(where: \.isTemporary) { throw DialingError(dns: temporary) }
        throw DialingError(
            kind: .hostNotFound, name: host, enhanced: EnhancedStatus(5, 4, 4),
            text: "host \(host.withoutFinalDot) has no \(types.map(\.description).joined(separator: " or ")) records", isPermanent: true)
    }

    /// The TLSA records that apply to a connection to `addresses` on `port` (RFC 7672
    /// §2.2.2, §2.2.3). DANE applies only where the address records were validated; for
    /// an alias, the expanded name is the first candidate base domain when its whole
    /// expansion was validated, and the original name otherwise if the first CNAME was.
    ///
    /// - Throws: `DialingError` `.dns` when a TLSA lookup fails: RFC 7672 §2.1.2, the host
    ///   must then be treated as unreachable, not as one without DANE.
    public static func gatherTLSA(
        for addresses: HostAddresses, port: UInt16 = 25, resolver: some Resolver
    ) async throws(DialingError) -> TLSADiscovery {
        var candidates: [DNSName]
        if addresses.expandedHost == addresses.host {
            guard addresses.authentic else { return .notApplicable("the address records of \(addresses.host.withoutFinalDot) are not DNSSEC-validated") }
            candidates = [addresses.host]
        } else if addresses.authentic {
            candidates = [addresses.expandedHost, addresses.host]
        } else {
            // "Insecure CNAME": the original name still counts when the first CNAME was
            // validated (RFC 7672 §2.2.2), which only a CNAME query tells.
            do {
                guard try await resolver.lookupCNAME(addresses.host).authentic else {
                    return .notApplicable("the CNAME of \(addresses.host.withoutFinalDot) is not DNSSEC-validated")
                }
            } catch {
                if error.isTemporary { throw DialingError(dns: error) }
                return .notApplicable("the address records of \(addresses.host.withoutFinalDot) are not DNSSEC-validated")
            }
            candidates = [addresses.host]
        }
        for candidate in candidates {
            do {
                let found = try await resolver.lookupTLSA(port: port, host: candidate)
                // RFC 7672 §2.2.3: the first candidate with a validated RRset is the base
                // domain; an insecure one is passed over.
                if found.authentic, !found.value.isEmpty { return .records(found.value, baseDomain: candidate) }
            } catch {
                guard error.isNotFound else { throw DialingError(dns: error) }
            }
        }
        return .notApplicable("no DNSSEC-validated TLSA records for \(candidates.map(\.withoutFinalDot).joined(separator: " or "))")
    }
}

public struct Destinations: Sendable, Hashable {
    /// The domain asked for.
    public var domain: DNSName
    /// The domain at the end of its CNAME chain: where the MX records were found.
    public var expandedDomain: DNSName
    /// The MX records, or the validated denial of them for an implicit MX, and any CNAMEs
    /// on the way were DNSSEC-validated (RFC 7672 §2.2.1).
    public var authentic: Bool
    /// No MX records: the domain itself is the one host (RFC 5321 §5.1).
    public var implicitMX: Bool
    /// The hosts in the order to try them.
    public var hosts: [DNSName]

    public init(domain: DNSName, expandedDomain: DNSName, authentic: Bool, implicitMX: Bool, hosts: [DNSName]) {
        self.domain = domain
        self.expandedDomain = expandedDomain
        self.authentic = authentic
        self.implicitMX = implicitMX
        self.hosts = hosts
    }
}

public enum AddressPreference: Sendable, Hashable {
    case ipv6First
    case ipv4First
    case ipv6Only
    case ipv4Only
}

public struct HostAddresses: Sendable, Hashable {
    public var host: DNSName
    /// The host at the end of its CNAME chain (the host itself when it is not an alias).
    public var expandedHost: DNSName
    public var addresses: [IPAddress]
    /// Every address answer (and the CNAMEs leading to it) was DNSSEC-validated, as DANE
    /// needs (RFC 7672 §2.2.2).
    public var authentic: Bool

    public init(host: DNSName, expandedHost: DNSName, addresses: [IPAddress], authentic: Bool) {
        self.host = host
        self.expandedHost = expandedHost
        self.addresses = addresses
        self.authentic = authentic
    }
}

public enum TLSADiscovery: Sendable, Hashable {
    /// DNSSEC-validated TLSA records at `_port._tcp.<baseDomain>`: DANE applies; whether
    /// any record is usable is the DANE module's question (RFC 7672 §2.2).
    case records([TLSA], baseDomain: DNSName)
    /// DANE does not apply to this host, and why: the connection uses opportunistic TLS.
    case notApplicable(String)
}

public struct DialingError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// RFC 7505: the domain accepts no mail.
        case nullMX
        /// NXDOMAIN for the destination domain.
        case domainNotFound
        /// The host has no addresses.
        case hostNotFound
        /// A lookup failed (SERVFAIL, timeout, ...), or a TLSA lookup failed.
        case dns
    }

    public var kind: Kind
    public var name: DNSName
    /// For a DSN (RFC 3464 Status).
    public var enhanced: EnhancedStatus
    public var text: String
    public var isPermanent: Bool

    public init(kind: Kind, name: DNSName, enhanced: EnhancedStatus, text: String, isPermanent: Bool) {
        self.kind = kind
        self.name = name
        self.enhanced = enhanced
        self.text = text
        self.isPermanent = isPermanent
    }

    /// A lookup that failed: temporary when the DNS may answer later (RFC 7672 §2.1.2).
    init(dns error: DNSError) {
        // RFC 3463 §3.5 X.4.3: directory server failure.
        self.init(
            kind: .dns, name: error.name, enhanced: EnhancedStatus(error.isTemporary ? 4 : 5, 4, 3), text: error.description,
            isPermanent: !error.isTemporary)
    }

    public var description: String { "\(text) (\(enhanced), \(isPermanent ? "permanent" : "temporary"))" }
}
