import DNS
import Foundation

/// One run of check_host() (RFC 7208 §4) with its recursive evaluations for include and
/// redirect: the limits of §4.6.4 are counted across all of them, and the DNS queries are
/// remembered, so a name asked twice (say by ptr and %{p}) is asked once.
final class Evaluation {
    /// What the whole check concluded.
    struct Conclusion {
        var result: SPFResult
        var mechanism: String?
        var explanation: String?
        var problem: String?
    }

    /// What check_host() for one <domain> returns when nothing ended the whole check.
    private enum HostOutcome {
        /// RFC 7208 §4.3, §4.5: nothing to evaluate, and why.
        case none(String)
        /// A directive matched: its qualifier, the term as written, and for fail the
        /// domain's explanation.
        case matched(Qualifier, mechanism: String, explanation: String?)
        /// RFC 7208 §4.7: no mechanism matched and there was no redirect.
        case neutralByDefault
    }

    /// An exception that ends the whole check: a permerror or temperror "returned by the
    /// topmost check_host()" however deep it arose (RFC 7208 §4.6.2, §5).
    private struct Termination: Error {
        var result: SPFResult
        var problem: String
    }

    /// What a query gave, as SPF sees it: NXDOMAIN and NODATA are both "zero answer records"
    /// (RFC 7208 §5); any other failure is a DNS error.
    private enum DNSOutcome {
        case records([RecordData])
        case empty
        case failed(String)
    }

    /// A term and the domain whose record holds it, for problem texts.
    private struct Term {
        var text: String
        var domain: String
        var place: String { "'\(text)' in the record of \(domain)" }
    }

    private let verifier: SPFVerifier
    private let macros: MacroContext
    private let started: Date
    private(set) var lookups: [SPFLookup] = []
    private var answers: [Question: DNSOutcome] = [:]
    private var dnsTerms = 0
    private var voidLookups = 0

    /// `macros` holds the values that stay the same for the whole check; <domain> and %{p}
    /// are filled in per term.
    init(verifier: SPFVerifier, macros: MacroContext) {
        self.verifier = verifier
        self.macros = macros
        started = verifier.now()
    }

    func run(domain: String) async -> Conclusion {
        do throws(Termination) {
            switch try await checkHost(domain, wantsExplanation: true) {
            case let .none(reason):
                return Conclusion(result: .none, problem: reason)
            case let .matched(qualifier, mechanism, explanation):
                return Conclusion(result: qualifier.result, mechanism: mechanism, explanation: explanation)
            case .neutralByDefault:
                return Conclusion(result: .neutral, mechanism: "default")
            }
        } catch {
            return Conclusion(result: error.result, problem: error.problem)
        }
    }

    /// check_host(<ip>, <domain>, <sender>). `wantsExplanation` is false inside include,
    /// whose target's exp= "MUST NOT be used" (RFC 7208 §6.2); a redirect passes it on, as
    /// the redirected record's exp= is the one that counts.
    private func checkHost(_ requested: String, wantsExplanation: Bool) async throws(Termination) -> HostOutcome {
        guard case let (name, domain)? = Self.checkableDomain(requested) else {
            return .none("'\(requested)' is not a valid multi-label domain name (RFC 7208 §4.3)")
        }
        // RFC 7208 §4.4: TXT only; a DNS error is temperror.
        let texts: [String]
        switch try await query(name, .txt) {
        case let .failed(reason):
            throw Termination(result: .temperror, problem: "DNS error: \(reason)")
        case .empty:
            return .none("no SPF record at \(domain)")
        case let .records(records):
            texts = records.compactMap { if case let .txt(strings) = $0 { String(decoding: strings.joined(), as: UTF8.self) } else { nil } }
        }
        let candidates = texts.filter(SPFRecord.hasVersion)
        guard let text = candidates.first else { return .none("no SPF record at \(domain)") }
        guard candidates.count == 1 else {
            throw Termination(result: .permerror, problem: "\(domain) has \(candidates.count) SPF records (RFC 7208 §4.5)")
        }
        let record: SPFRecord
        do {
            record = try SPFRecord(parsing: text)
        } catch {
            throw Termination(result: .permerror, problem: "syntax error in the SPF record of \(domain): \(error)")
        }

        for directive in record.directives {
            let term = Term(text: directive.description, domain: domain)
            guard try await matches(directive.mechanism, term: term) else { continue }
            var explanation: String?
            // RFC 7208 §6.2: the explanation is computed only for a fail from a mechanism.
            if directive.qualifier == .fail, wantsExplanation, let exp = record.explanation {
                explanation = await self.explanation(exp, domain: domain)
            }
            return .matched(directive.qualifier, mechanism: directive.description, explanation: explanation)
        }

        // A record with "all" never gets here, which is how redirect "MUST be ignored when
        // there is an 'all' mechanism in the record" (RFC 7208 §5.1).
        guard let redirect = record.redirect else { return .neutralByDefault }
        let term = Term(text: "redirect=\(redirect)", domain: domain)
        try countDNSTerm(term)
        let outcome = try await checkHost(try await expand(redirect, domain: domain), wantsExplanation: wantsExplanation)
        // RFC 7208 §6.1: "if no SPF record is found, or if the <target-name> is malformed, the
        // result is a 'permerror' rather than 'none'".
        if case let .none(reason) = outcome {
            throw Termination(result: .permerror, problem: "\(term.place): \(reason)")
        }
        return outcome
    }

    /// Whether a mechanism matches <ip> (RFC 7208 §5).
    private func matches(_ mechanism: Mechanism, term: Term) async throws(Termination) -> Bool {
        if mechanism.queriesDNS { try countDNSTerm(term) }
        let ip = macros.ip
        switch mechanism {
        case .all:
            return true

        case let .include(spec):
            // RFC 7208 §5.2: pass matches; fail, softfail and neutral do not; none is a
            // permerror; errors end the check (thrown from the inner evaluation).
            switch try await checkHost(try await expand(spec, domain: term.domain), wantsExplanation: false) {
            case let .matched(qualifier, _, _):
                return qualifier == .pass
            case .neutralByDefault:
                return false
            case let .none(reason):
                throw Termination(result: .permerror, problem: "\(term.place): \(reason)")
            }

        case let .a(spec, lengths):
            guard let target = try await targetName(spec, term: term) else { return false }
            let addresses = try await voidCountingAddresses(of: target, term: term)
            return addresses.contains { ip.isIn($0, prefixLength: lengths.length(for: ip)) }

        case let .mx(spec, lengths):
            guard let target = try await targetName(spec, term: term) else { return false }
            let records = try await voidCountingRecords(target, .mx, term: term)
            guard records.count <= SPFVerifier.mxNameLimit else {
                throw Termination(
                    result: .permerror, problem: "\(term.place): \(records.count) MX records, more than \(SPFVerifier.mxNameLimit) (RFC 7208 §4.6.4)")
            }
            // RFC 7505 null MX ("."): no host to look up. No implicit MX either (§5.4).
            let exchanges = records.compactMap { if case let .mx(mx) = $0, mx.exchange != .root { mx.exchange } else { nil } }
            for exchange in exchanges {
                switch try await query(exchange, Self.addressType(for: ip)) {
                case let .failed(reason):
                    throw Termination(result: .temperror, problem: "\(term.place): DNS error: \(reason)")
                case .empty:
                    continue
                case let .records(records):
                    if Self.addresses(in: records).contains(where: { ip.isIn($0, prefixLength: lengths.length(for: ip)) }) { return true }
                }
            }
            return false

        case let .ptr(spec):
            guard let target = try await targetName(spec, term: term) else { return false }
            // RFC 7208 §5.5: only names at or below the target can match, so only those are
            // validated; a DNS error on the PTR query is no match, on an address query skips
            // the name.
            for name in try await reverseNames(voidCountingFor: term) where name.isSubdomain(of: target) {
                if try await isValidated(name) { return true }
            }
            return false

        case let .ip4(network, prefixLength), let .ip6(network, prefixLength):
            // Families never match each other: an IPv4(-mapped) <ip> only matches ip4 (§5).
            return ip.isIn(network, prefixLength: prefixLength)

        case let .exists(spec):
            guard let target = try await targetName(spec, term: term) else { return false }
            // RFC 7208 §5.7: an A query "even when the connection type is IPv6".
            return !Self.addresses(in: try await voidCountingRecords(target, .a, term: term)).isEmpty
        }
    }

    // MARK: Limits (RFC 7208 §4.6.4)

    private func countDNSTerm(_ term: Term) throws(Termination) {
        dnsTerms += 1
        guard dnsTerms <= SPFVerifier.dnsTermLimit else {
            throw Termination(
                result: .permerror, problem: "more than \(SPFVerifier.dnsTermLimit) terms that query DNS, at \(term.place) (RFC 7208 §4.6.4)")
        }
    }

    private func countVoidLookup(_ term: Term) throws(Termination) {
        voidLookups += 1
        guard voidLookups <= verifier.voidLookupLimit else {
            throw Termination(
                result: .permerror, problem: "more than \(verifier.voidLookupLimit) void lookups, at \(term.place) (RFC 7208 §4.6.4)")
        }
    }

    // MARK: Names and addresses

    /// The addresses of the family of <ip> at `target` (RFC 7208 §5.3); none counts as a void
    /// lookup, a DNS error ends the check with temperror.
    private func voidCountingAddresses(of target: DNSName, term: Term) async throws(Termination) -> [IPAddress] {
        Self.addresses(in: try await voidCountingRecords(target, Self.addressType(for: macros.ip), term: term))
    }

    /// The records of a term's own query: none counts as a void lookup (RFC 7208 §4.6.4), a
    /// DNS error ends the check with temperror.
    private func voidCountingRecords(_ target: DNSName, _ type: RecordType, term: Term) async throws(Termination) -> [RecordData] {
        switch try await query(target, type) {
        case let .failed(reason):
            throw Termination(result: .temperror, problem: "\(term.place): DNS error: \(reason)")
        case .empty:
            try countVoidLookup(term)
            return []
        case let .records(records):
            return records
        }
    }

    /// RFC 7208 §5: A records for an IPv4 <ip>, AAAA for IPv6.
    private static func addressType(for ip: IPAddress) -> RecordType {
        ip.isIPv4 ? .a : .aaaa
    }

    private static func addresses(in records: [RecordData]) -> [IPAddress] {
        records.compactMap {
            switch $0 {
            case let .a(address), let .aaaa(address): return address
            default: return nil
            }
        }
    }

    /// The first 10 names the PTR records of <ip> give (RFC 7208 §4.6.4, §5.5); none on a DNS
    /// error. `term` is the ptr mechanism, whose empty answer is a void lookup; %{p} passes nil.
    private func reverseNames(voidCountingFor term: Term?) async throws(Termination) -> [DNSName] {
        switch try await query(DNSName.reverse(macros.ip), .ptr) {
        case .failed:
            return []
        case .empty:
            if let term { try countVoidLookup(term) }
            return []
        case let .records(records):
            let names = records.compactMap { if case let .ptr(name) = $0 { name } else { nil } }
            return Array(names.prefix(SPFVerifier.ptrNameLimit))
        }
    }

    /// RFC 7208 §5.5: a name is validated when one of its addresses is <ip>.
    private func isValidated(_ name: DNSName) async throws(Termination) -> Bool {
        guard case let .records(records) = try await query(name, Self.addressType(for: macros.ip)) else { return false }
        return Self.addresses(in: records).contains(macros.ip)
    }

    /// %{p} (RFC 7208 §7.3): a validated name of <ip>, preferring <domain> itself, then a
    /// name below it, then the first; "unknown" when none validates.
    private func validatedName(for domain: String) async throws(Termination) -> String {
        var validated: [DNSName] = []
        for name in try await reverseNames(voidCountingFor: nil) {
            if try await isValidated(name) { validated.append(name) }
        }
        let preferred = Self.dnsName(domain).flatMap { domainName in
            validated.first { $0 == domainName } ?? validated.first { $0.isSubdomain(of: domainName) }
        }
        guard let chosen = preferred ?? validated.first else { return "unknown" }
        return chosen.labels.map { String(decoding: $0, as: UTF8.self) }.joined(separator: ".")
    }

    /// A domain-spec expanded with <domain> (RFC 7208 §4.8, §7), cut to 253 characters from
    /// the left, by whole labels, as §7.3 requires for names used in queries; a final dot is
    /// dropped, as every target is fully qualified.
    private func expand(_ spec: MacroString, domain: String) async throws(Termination) -> String {
        var context = macros
        context.domain = domain
        if spec.uses(.validatedName) { context.validatedName = try await validatedName(for: domain) }
        var name = Substring(spec.expand(in: context))
        if name.hasSuffix(".") { name = name.dropLast() }
        while name.utf8.count > Self.maximumNameLength, let dot = name.firstIndex(of: ".") {
            name = name[name.index(after: dot)...]
        }
        return String(name)
    }

    /// RFC 1035 §2.3.4 in text form, without the final dot.
    private static let maximumNameLength = 253

    /// The <target-name> of a mechanism: its domain-spec expanded, or <domain>. A name DNS
    /// cannot carry (an empty label or one over 63 octets) is treated as one that does not
    /// exist, so the mechanism does not match: RFC 7208 §4.8 leaves this open, and it is what
    /// §4.3 does for <domain>.
    private func targetName(_ spec: MacroString?, term: Term) async throws(Termination) -> DNSName? {
        guard let spec else { return Self.dnsName(term.domain) }
        return Self.dnsName(try await expand(spec, domain: term.domain))
    }

    /// The name of dot-separated labels, taken as they are: expansions are "not subject to
    /// any further escaping" (RFC 7208 §4.8), so a backslash is just an octet.
    private static func dnsName(_ text: String) -> DNSName? {
        try? DNSName(labels: text.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) })
    }

    /// RFC 7208 §4.3: a <domain> that is malformed, or "not a multi-label domain name", gives
    /// none. Address literals and names whose last label is not a top label (all digits, say)
    /// are not domains. Returns the name and its text without the final dot.
    private static func checkableDomain(_ text: String) -> (name: DNSName, text: String)? {
        var domain = Substring(text)
        if domain.hasSuffix(".") { domain = domain.dropLast() }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, domain.utf8.count <= maximumNameLength, let top = labels.last, MacroString.isTopLabel(top),
            let name = try? DNSName(labels: labels.map { Array($0.utf8) })
        else { return nil }
        return (name, String(domain))
    }

    // MARK: Explanation (RFC 7208 §6.2)

    /// The explanation for a fail: the TXT record at the expanded exp= domain, itself
    /// macro-expanded. Anything wrong (a DNS error, no record or several, bad syntax, text
    /// that is not printable US-ASCII) means no explanation, as if there were no exp=.
    private func explanation(_ spec: MacroString, domain: String) async -> String? {
        do throws(Termination) {
            guard let name = Self.dnsName(try await expand(spec, domain: domain)),
                case let .records(records) = try await query(name, .txt), records.count == 1, case let .txt(strings) = records[0],
                let text = try? MacroString(parsing: String(decoding: strings.joined(), as: UTF8.self), as: .explanation)
            else { return nil }
            var context = macros
            context.domain = domain
            if text.uses(.validatedName) { context.validatedName = try await validatedName(for: domain) }
            let expanded = text.expand(in: context)
            // US-ASCII for the SMTP reply (§6.2), and printable, since macros carry sender data.
            guard expanded.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else { return nil }
            return String(expanded.prefix(SPFVerifier.explanationLengthLimit))
        } catch {
            return nil
        }
    }

    // MARK: DNS

    /// Asks the resolver once per name and type and logs each query. The elapsed-time limit
    /// is checked before asking, so a check never starts a query after it.
    private func query(_ name: DNSName, _ type: RecordType) async throws(Termination) -> DNSOutcome {
        let question = Question(name: name, type: type)
        if let known = answers[question] { return known }
        let limit = verifier.timeLimit.components
        let limitSeconds = Double(limit.seconds) + Double(limit.attoseconds) / 1e18
        guard verifier.now().timeIntervalSince(started) <= limitSeconds else {
            throw Termination(result: .temperror, problem: "the check took longer than \(verifier.timeLimit) (RFC 7208 §4.6.4)")
        }
        let (outcome, logged, authentic) = await ask(name, type)
        lookups.append(SPFLookup(name: name, type: type, answer: logged, authentic: authentic))
        answers[question] = outcome
        return outcome
    }

    /// The outcome, as logged, and whether the answer was DNSSEC-validated.
    private func ask(_ name: DNSName, _ type: RecordType) async -> (DNSOutcome, SPFLookup.Answer, Bool) {
        func failed(_ reason: String) -> (DNSOutcome, SPFLookup.Answer, Bool) {
            (.failed("\(type) \(name): \(reason)"), .failed(reason), false)
        }
        do throws(DNSError) {
            let answer = try await verifier.resolver.resolve(name, type)
            let records = answer.records.map(\.data).filter { $0.type == type }
            return records.isEmpty
                ? (.empty, .noRecords, answer.authentic) : (.records(records), .records(records.map(\.presentation)), answer.authentic)
        } catch {
            switch error.kind {
            case .nameNotFound: return (.empty, .nameNotFound, false)
            case .noRecords: return (.empty, .noRecords, false)
            case let .serverFailure(rcode): return failed("\(rcode)")
            case .timeout: return failed("timeout")
            case let .network(reason): return failed("network error: \(reason)")
            case let .malformed(reason): return failed("malformed answer: \(reason)")
            case .cnameChainTooLong: return failed("CNAME chain too long or looping")
            }
        }
    }
}
