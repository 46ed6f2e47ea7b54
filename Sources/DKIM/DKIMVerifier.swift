import Crypto
import DNS
import Foundation
import Logging
import Message

/// Verifies every DKIM-Signature field of a message (RFC 6376 §6), each on its own: one bad
/// signature says nothing about the others (§6.1: "proceed to the next signature").
public struct DKIMVerifier: Sendable {
    /// This verifier's own rules on top of the RFCs; breaking one gives `policy` (RFC 8601
    /// §2.7.1). None can relax RFC 8301.
    public struct Policy: Hashable, Sendable {
        /// RSA keys shorter than this give `policy`; RFC 8301 §3.2 lets a verifier judge
        /// key length ("Verifier policies can use the length of the signing key"). Keys under
        /// 1024 bits are a permerror whatever this says.
        public var minimumRSAKeyBits: Int
        /// Give `policy` to a signature whose l= leaves body content unsigned (RFC 6376 §6.1.3:
        /// verifiers "can choose to treat the signature as if it were invalid").
        public var refuseUnsignedBodyContent: Bool
        /// RFC 6376 §6.1: "A Verifier MAY limit the number of signatures it tries" (§8.4: each
        /// costs a DNS query and a public-key operation). Fields beyond this get `policy`.
        public var maximumSignatures: Int

        public init(minimumRSAKeyBits: Int = DKIMAlgorithm.minimumRSAKeyBits, refuseUnsignedBodyContent: Bool = false, maximumSignatures: Int = 10) {
            self.minimumRSAKeyBits = minimumRSAKeyBits
            self.refuseUnsignedBodyContent = refuseUnsignedBodyContent
            self.maximumSignatures = maximumSignatures
        }
    }

    public let resolver: any Resolver
    public let policy: Policy
    /// The verification time for x= (RFC 6376 §3.5).
    public let now: @Sendable () -> Date
    private let logger: Logger
    private let metrics: DKIMMetrics

    public init(
        resolver: any Resolver, policy: Policy = Policy(), now: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "dkim"),
        metrics: DKIMMetrics = DKIMMetrics()
    ) {
        self.resolver = resolver
        self.policy = policy
        self.now = now
        self.logger = logger
        self.metrics = metrics
    }

    /// One result per DKIM-Signature field, in the order the fields appear (top first).
    /// A message without any gets an empty array (RFC 8601 "none").
    public func verify(_ message: [UInt8]) async -> [DKIMResult] {
        let message = DKIMMessage(message)
        let outcomes = message.header.fields.filter { $0.is("DKIM-Signature") }.enumerated().map { index, field in
            index < policy.maximumSignatures
                ? prepare(field.raw)
                : .done(DKIMResult(status: .policy, reason: "not checked: only the first \(policy.maximumSignatures) signatures are (RFC 6376 §6.1)"))
        }
        var results: [DKIMResult?] = outcomes.map { outcome in
            if case let .done(result) = outcome { result } else { nil }
        }
        // Signatures that need their key are checked concurrently, so their DNS queries
        // overlap.
        await withTaskGroup(of: (Int, DKIMResult).self) { group in
            for (index, outcome) in outcomes.enumerated() {
                guard case let .needsKey(candidate) = outcome else { continue }
                group.addTask { (index, self.check(candidate, await self.lookUpKey(candidate), message)) }
            }
            for await (index, result) in group { results[index] = result }
        }
        return results.compactMap { result in
            guard let result else { return nil }
            metrics.countVerification(result.status)
            logger.debug(
                "dkim signature",
                metadata: [
                    "result": "\(result.status.rawValue)", "d": "\(result.domain ?? "")", "s": "\(result.selector ?? "")",
                    "a": "\(result.algorithm ?? "")", "reason": "\(result.reason ?? "")",
                ])
            return result
        }
    }

    private enum Outcome {
        case done(DKIMResult)
        case needsKey(Candidate)
    }

    /// A signature that passed every check that needs no key.
    private struct Candidate: Sendable {
        var signature: DKIMSignature
        /// The field with b= emptied, for the data-hash.
        var unsignedField: [UInt8]
        var keyName: DNSName
    }

    private enum KeyLookup: Sendable {
        case record(DKIMKeyRecord, authentic: Bool)
        case failed(DKIMStatus, String, authentic: Bool)
    }

    /// §6.1.1: the field's syntax and the checks that need no DNS.
    private func prepare(_ raw: [UInt8]) -> Outcome {
        let tags: TagList
        let signature: DKIMSignature
        do {
            tags = try DKIMSignature.tagList(raw, range: DKIMSignature.valueRange(ofField: raw))
        } catch {
            return .done(DKIMResult(status: .neutral, reason: error.description))
        }
        do {
            signature = try DKIMSignature(tags: tags)
        } catch {
            let status: DKIMStatus
            switch error {
            case .fromNotSigned, .identityOutsideDomain: status = .permerror
            default: status = .neutral
            }
            return .done(
                DKIMResult(
                    status: status, reason: error.description, domain: tags.value("d"), selector: tags.value("s"), algorithm: tags.value("a"),
                    identity: tags.value("i") ?? tags.value("d").map { "@" + $0 }))
        }
        if signature.algorithm == .rsaSHA1 {
            return .done(DKIMResult(signature, .permerror, "rsa-sha1 is historic and not verified (RFC 8301 §3.1)"))
        }
        if let expiration = signature.expiration, Int(now().timeIntervalSince1970) > expiration {
            return .done(DKIMResult(signature, .permerror, "signature expired at x=\(expiration) (RFC 6376 §3.5)"))
        }
        guard let keyName = Self.keyName(selector: signature.selector, domain: signature.domain) else {
            return .done(DKIMResult(signature, .permerror, "no DNS name for s=\(signature.selector) and d=\(signature.domain)"))
        }
        return .needsKey(Candidate(signature: signature, unsignedField: DKIMSignature.withoutSignatureValue(tags), keyName: keyName))
    }

    /// "selector._domainkey.domain" (RFC 6376 §3.6.2.1), U-labels as A-labels (RFC 8616 §3).
    static func keyName(selector: String, domain: String) -> DNSName? {
        func ascii(_ name: String) -> String? {
            name.unicodeScalars.allSatisfy(\.isASCII) ? name : try? Domain(name).ascii
        }
        guard let selector = ascii(selector), let domain = ascii(domain) else { return nil }
        return try? DNSName("\(selector)._domainkey.\(domain)")
    }

    /// §6.1.2 steps 1 to 5.
    private func lookUpKey(_ candidate: Candidate) async -> KeyLookup {
        let answer: DNSResult<[String]>
        do {
            answer = try await resolver.lookupTXT(candidate.keyName)
        } catch {
            if error.isTemporary {
                return .failed(.temperror, "key unavailable: \(error)", authentic: false)
            }
            return .failed(.permerror, "no key for signature: \(error)", authentic: error.authentic)
        }
        // §6.1.2 step 4 lets a verifier pick one of several records; taking none is what a
        // signer can rely on, since which one a verifier picks is unspecified.
        guard answer.value.count == 1, let text = answer.value.first else {
            return .failed(.permerror, "\(answer.value.count) TXT records at \(candidate.keyName), not one key record", authentic: answer.authentic)
        }
        do {
            return .record(try DKIMKeyRecord(parsing: text), authentic: answer.authentic)
        } catch {
            return .failed(.permerror, "key syntax error at \(candidate.keyName): \(error)", authentic: answer.authentic)
        }
    }

    /// §6.1.2 steps 6 to 8, then §6.1.3.
    private func check(_ candidate: Candidate, _ lookup: KeyLookup, _ message: DKIMMessage) -> DKIMResult {
        let signature = candidate.signature
        let record: DKIMKeyRecord
        let authentic: Bool
        switch lookup {
        case let .failed(status, reason, failureAuthentic):
            return DKIMResult(signature, status, reason, authentic: failureAuthentic)
        case let .record(found, foundAuthentic):
            record = found
            authentic = foundAuthentic
        }
        var result = DKIMResult(signature, .permerror, nil, authentic: authentic)
        result.testing = record.isTesting
        func refused(_ status: DKIMStatus, _ reason: String) -> DKIMResult {
            result.status = status
            result.reason = reason
            return result
        }
        guard record.allows(signature.algorithm) else {
            return refused(.permerror, "inappropriate hash algorithm: the key's h= does not list \(signature.algorithm.hashName)")
        }
        guard record.allowsEmail else { return refused(.permerror, "the key is not for email (s=\(record.services.joined(separator: ":")))") }
        guard !record.isRevoked else { return refused(.permerror, "key revoked (empty p=)") }
        guard record.keyType == signature.algorithm.keyType else {
            return refused(.permerror, "inappropriate key algorithm: k=\(record.keyType) for a=\(signature.algorithm.rawValue)")
        }
        // §3.6.1 t=s: "the i= domain MUST NOT be a subdomain of d=".
        if record.isStrict, signature.identityDomain.lowercased() != signature.domain.lowercased() {
            return refused(.permerror, "the key has t=s but i=\(signature.identity) is in a subdomain of d=\(signature.domain)")
        }
        let key: DKIMPublicKey
        do {
            key = try DKIMPublicKey(record: record, algorithm: signature.algorithm)
        } catch {
            return refused(.permerror, error.description)
        }
        result.keyBits = key.bits

        let body = message.bodyHash(signature.bodyCanonicalization, limit: signature.bodyLength)
        if let length = signature.bodyLength {
            // §3.5 l=: "This value MUST NOT be larger than the actual number of octets in the
            // canonicalized message body."
            guard length <= body.length else { return refused(.fail, "l=\(length) is more than the \(body.length) octets of the canonicalized body") }
            result.unsignedBodyOctets = body.length - length
        }
        guard Array(body.hash) == signature.bodyHash else { return refused(.fail, "body hash did not verify") }
        let dataHash = message.dataHash(
            signedHeaders: signature.signedHeaders, canonicalization: signature.headerCanonicalization, signatureField: candidate.unsignedField)
        guard key.isValid(signature.signature, for: dataHash) else { return refused(.fail, "signature did not verify") }

        if let bits = key.bits, bits < policy.minimumRSAKeyBits {
            return refused(.policy, "RSA key of \(bits) bits is shorter than the \(policy.minimumRSAKeyBits) this verifier requires")
        }
        if let length = signature.bodyLength, result.unsignedBodyOctets > 0 {
            let unsigned = "l=\(length) leaves \(result.unsignedBodyOctets) octets of the canonicalized body unsigned"
            if policy.refuseUnsignedBodyContent { return refused(.policy, unsigned) }
            result.reason = unsigned
        }
        result.status = .pass
        return result
    }
}

extension DKIMResult {
    /// A result for a parsed signature, with its d=, s=, a=, i= and l=.
    fileprivate init(_ signature: DKIMSignature, _ status: DKIMStatus, _ reason: String?, authentic: Bool = false) {
        self.init(
            status: status, reason: reason, domain: signature.domain, selector: signature.selector, algorithm: signature.algorithm.rawValue,
            identity: signature.identity, keyAuthentic: authentic, bodyLength: signature.bodyLength, signature: signature)
    }
}
