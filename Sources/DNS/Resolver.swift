/// Resolving names: the `Resolver` protocol that every DNS-using component takes (so tests
/// inject `MockResolver` and the server injects `StubResolver`), the answer and error types,
/// and typed lookups for the record types a mail server needs.
///
/// DNSSEC: Tern does not validate signatures itself. It asks a validating recursive resolver
/// (DO bit set) and believes its AD bit (RFC 4035 §3.2.3, RFC 6698 §4.1 for DANE). So the
/// resolver must be trusted and reached over a trusted path, normally on the same host.
public protocol Resolver: Sendable {
    /// The records of `type` at `name`, after following CNAMEs (unless `type` is CNAME).
    func resolve(_ name: DNSName, _ type: RecordType) async throws(DNSError) -> DNSAnswer
}

/// A successful answer: records of the asked type, owned by `canonicalName` (the end of the
/// CNAME chain, or the asked name).
public struct DNSAnswer: Hashable, Sendable {
    public var name: DNSName
    public var type: RecordType
    public var canonicalName: DNSName
    public var records: [ResourceRecord]
    /// True only when the resolver set the AD bit on every response this answer came from.
    public var authentic: Bool

    public init(name: DNSName, type: RecordType, canonicalName: DNSName, records: [ResourceRecord], authentic: Bool) {
        self.name = name
        self.type = type
        self.canonicalName = canonicalName
        self.records = records
        self.authentic = authentic
    }
}

extension DNSAnswer {
    /// The records' data of one kind, e.g. `values { if case let .mx(mx) = $0 { mx } else { nil } }`.
    func values<Value>(_ extract: (RecordData) -> Value?) -> [Value] {
        records.compactMap { extract($0.data) }
    }
}

/// A typed answer from one of the lookup helpers.
public struct DNSResult<Value: Sendable>: Sendable {
    public var value: Value
    public var authentic: Bool
    public init(value: Value, authentic: Bool) {
        self.value = value
        self.authentic = authentic
    }
}

public struct DNSError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// NXDOMAIN: the name does not exist (RFC 8020: nor anything below it).
        case nameNotFound
        /// NOERROR without records of the type ("NODATA", RFC 2308 §2.2).
        case noRecords
        /// The resolver answered with an error code: SERVFAIL (e.g. DNSSEC bogus), REFUSED, ...
        case serverFailure(ResponseCode)
        /// No answer from any server in time.
        case timeout
        /// Sockets failed: unreachable, refused, reset.
        case network(String)
        /// An answer that could not be parsed or did not fit the question.
        case malformed(String)
        /// A CNAME chain longer than the bound, or looping.
        case cnameChainTooLong
    }

    public var kind: Kind
    public var name: DNSName
    public var type: RecordType
    /// For NXDOMAIN and NODATA: whether the denial of existence was DNSSEC-validated. DANE
    /// depends on this (RFC 7672 §2.2): only an authentic "no TLSA" lets delivery go on
    /// without DANE.
    public var authentic: Bool
    /// RFC 8914 errors the server attached.
    public var extendedErrors: [ExtendedDNSError]

    public init(kind: Kind, name: DNSName, type: RecordType, authentic: Bool = false, extendedErrors: [ExtendedDNSError] = []) {
        self.kind = kind
        self.name = name
        self.type = type
        self.authentic = authentic
        self.extendedErrors = extendedErrors
    }

    /// NXDOMAIN or NODATA: the DNS says there is nothing; not worth retrying.
    public var isNotFound: Bool {
        kind == .nameNotFound || kind == .noRecords
    }

    /// A failure that may go away: callers defer (e.g. SMTP 4xx) rather than fail.
    public var isTemporary: Bool {
        switch kind {
        case .nameNotFound, .noRecords, .cnameChainTooLong: return false
        case .serverFailure, .timeout, .network, .malformed: return true
        }
    }

    public var description: String {
        var text: String
        switch kind {
        case .nameNotFound: text = "name does not exist (NXDOMAIN)"
        case .noRecords: text = "no \(type) records (NODATA)"
        case let .serverFailure(rcode) where rcode == .serverFailure: text = "server failure (SERVFAIL)"
        case let .serverFailure(rcode): text = "server error (\(rcode))"
        case .timeout: text = "timeout"
        case let .network(reason): text = "network error: \(reason)"
        case let .malformed(reason): text = "malformed answer: \(reason)"
        case .cnameChainTooLong: text = "CNAME chain too long or looping"
        }
        text = "\(type) \(name): " + text
        if isNotFound { text += authentic ? " (authentic)" : "" }
        for error in extendedErrors { text += "; \(error)" }
        return text
    }
}

extension Resolver {
    /// A and AAAA records together (asked concurrently). Records of either family make a
    /// success; when neither has any, the more actionable error is thrown: a temporary one
    /// before "not found", so delivery is retried rather than bounced.
    public func lookupIPAddresses(_ host: DNSName) async throws(DNSError) -> DNSResult<[IPAddress]> {
        async let v4 = outcome { () async throws(DNSError) in try await resolve(host, .a) }
        async let v6 = outcome { () async throws(DNSError) in try await resolve(host, .aaaa) }
        let results = [await v4, await v6]
        var addresses: [IPAddress] = []
        var authentic = true
        var errors: [DNSError] = []
        for result in results {
            switch result {
            case let .success(answer):
                authentic = authentic && answer.authentic
                for record in answer.records {
                    if case let .a(address) = record.data { addresses.append(address) }
                    if case let .aaaa(address) = record.data { addresses.append(address) }
                }
            case let .failure(error):
                errors.append(error)
                authentic = authentic && error.authentic
            }
        }
        if !addresses.isEmpty { return DNSResult(value: addresses, authentic: authentic) }
        if var error = errors.first(where: \.isTemporary) ?? errors.first(where: { $0.kind == .nameNotFound }) ?? errors.first {
            error.authentic = error.isNotFound && authentic
            throw error
        }
        throw DNSError(kind: .noRecords, name: host, type: .a, authentic: authentic)
    }

    /// RFC 5321 §5.1: MX records sorted by preference (ties keep the resolver's order; the
    /// delivery code randomises within a preference).
    public func lookupMX(_ domain: DNSName) async throws(DNSError) -> DNSResult<[MX]> {
        let answer = try await resolve(domain, .mx)
        let records = answer.values { if case let .mx(mx) = $0 { mx } else { nil } }
        return DNSResult(value: records.enumerated().sorted { ($0.element.preference, $0.offset) < ($1.element.preference, $1.offset) }.map(\.element), authentic: answer.authentic)
    }

    /// TXT records, each with its character-strings concatenated without separators (RFC 7208
    /// §3.3, RFC 6376 §3.6.2.2), decoded as UTF-8 with invalid octets replaced.
    public func lookupTXT(_ name: DNSName) async throws(DNSError) -> DNSResult<[String]> {
        let answer = try await resolve(name, .txt)
        let texts = answer.values { if case let .txt(strings) = $0 { String(decoding: strings.joined(), as: UTF8.self) } else { nil } }
        return DNSResult(value: texts, authentic: answer.authentic)
    }

    /// The names an address points back to (RFC 1035 §3.5, RFC 3596 §2.5).
    public func lookupPTR(_ address: IPAddress) async throws(DNSError) -> DNSResult<[DNSName]> {
        let answer = try await resolve(DNSName.reverse(address), .ptr)
        let names = answer.values { if case let .ptr(name) = $0 { name } else { nil } }
        return DNSResult(value: names, authentic: answer.authentic)
    }

    /// The CNAME target of `name` itself, without following it.
    public func lookupCNAME(_ name: DNSName) async throws(DNSError) -> DNSResult<DNSName> {
        let answer = try await resolve(name, .cname)
        for record in answer.records {
            if case let .cname(target) = record.data { return DNSResult(value: target, authentic: answer.authentic) }
        }
        throw DNSError(kind: .noRecords, name: name, type: .cname, authentic: answer.authentic)
    }

    /// TLSA records at `_port._protocol.host` (RFC 6698 §3).
    public func lookupTLSA(port: UInt16, protocol transport: String = "tcp", host: DNSName) async throws(DNSError) -> DNSResult<[TLSA]> {
        let name: DNSName
        do {
            name = try host.prepending("_\(transport)").prepending("_\(port)")
        } catch {
            throw DNSError(kind: .malformed("TLSA name for \(host) too long"), name: host, type: .tlsa)
        }
        let answer = try await resolve(name, .tlsa)
        let records = answer.values { if case let .tlsa(tlsa) = $0 { tlsa } else { nil } }
        return DNSResult(value: records, authentic: answer.authentic)
    }

    /// SRV records at `_service._protocol.domain` (RFC 2782), sorted by priority.
    public func lookupSRV(service: String, protocol transport: String = "tcp", domain: DNSName) async throws(DNSError) -> DNSResult<[SRV]> {
        let name: DNSName
        do {
            name = try domain.prepending("_\(transport)").prepending("_\(service)")
        } catch {
            throw DNSError(kind: .malformed("SRV name for \(domain) too long"), name: domain, type: .srv)
        }
        let answer = try await resolve(name, .srv)
        let records = answer.values { if case let .srv(srv) = $0 { srv } else { nil } }
        return DNSResult(value: records.sorted { $0.priority < $1.priority }, authentic: answer.authentic)
    }

    /// CAA records at exactly `name` (the RFC 8659 §3 tree climb is the caller's policy).
    public func lookupCAA(_ name: DNSName) async throws(DNSError) -> DNSResult<[CAA]> {
        let answer = try await resolve(name, .caa)
        let records = answer.values { if case let .caa(caa) = $0 { caa } else { nil } }
        return DNSResult(value: records, authentic: answer.authentic)
    }
}

private func outcome<T>(_ body: () async throws(DNSError) -> T) async -> Result<T, DNSError> {
    do {
        return .success(try await body())
    } catch {
        return .failure(error)
    }
}
