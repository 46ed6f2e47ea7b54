// The verdicts on a message another server hands over (SMTP on port 25, no AUTH), before it
// is delivered:
//
//   1. iprev (RFC 8601 §3): does the client's address have a name that resolves back to it;
//   2. SPF (RFC 7208) for the MAIL FROM identity (for the null reverse-path, HELO's
//      postmaster, §2.4);
//   3. an Authentication-Results field (RFC 8601) naming this host as authserv-id, with the
//      DNSSEC status of the lookups behind each verdict as a comment, and a Received-SPF
//      field (RFC 7208 §9.1), both prepended to the message; Authentication-Results fields
//      that claim this host's identifier are removed first (RFC 8601 §5,
//      `MessageRewrite`).
//
// The connection starts the analysis when the message starts to arrive (DATA, or the first
// BDAT), so its DNS lookups overlap with the transfer, and waits for it at the end.
// DKIM and DMARC join here when their modules land; the verdicts then also decide whether
// the message is refused or goes to Junk.
import DNS
import Foundation
import IPRev
import Message
import SMTP
import SPF

public struct IncomingAnalysis: Sendable {
    /// What the SMTP transaction says about the message.
    public struct Input: Sendable {
        public var clientAddress: IPAddress
        /// The EHLO or HELO name.
        public var clientName: String
        public var sender: ReversePath

        public init(clientAddress: IPAddress, clientName: String, sender: ReversePath) {
            self.clientAddress = clientAddress
            self.clientName = clientName
            self.sender = sender
        }
    }

    public struct Verdict: Sendable {
        public var iprev: IPRevResult
        public var spf: SPFCheck
        public var authenticationResults: AuthenticationResults

        /// The fields to prepend, with their CRLFs: Authentication-Results, then Received-SPF.
        public func headerFields() throws(HeaderFoldingError) -> [UInt8] {
            try authenticationResults.field().raw + Array(spf.receivedSPFField.utf8)
        }
    }

    /// This host's name: the authserv-id (RFC 8601 §2.5) and SPF's receiver (RFC 7208 §9.1).
    public let hostname: String
    public let resolver: any Resolver

    public init(hostname: String, resolver: any Resolver) {
        self.hostname = hostname
        self.resolver = resolver
    }

    public func analyze(_ input: Input) async -> Verdict {
        async let iprev = IPRev(resolver: resolver).check(input.clientAddress)
        let mailFrom = input.sender.mailbox?.description ?? ""
        async let spf = SPFVerifier(resolver: resolver, receiver: hostname)
            .checkMailFrom(ip: input.clientAddress, mailFrom: mailFrom, helo: input.clientName)
        let (iprevResult, spfCheck) = await (iprev, spf)
        let results = AuthenticationResults(
            authservID: hostname, results: [Self.result(of: iprevResult), Self.result(of: spfCheck)])
        return Verdict(iprev: iprevResult, spf: spfCheck, authenticationResults: results)
    }

    /// The comment that says whether a verdict rests on DNSSEC-validated answers only.
    static func dnssec(_ validated: Bool) -> String {
        validated ? "DNSSEC" : "no DNSSEC"
    }

    /// RFC 8601 §2.7.3: iprev, with the client's address as policy.iprev.
    static func result(of iprev: IPRevResult) -> AuthenticationResults.Result {
        let comment = (iprev.name.map { [$0] } ?? []) + [dnssec(iprev.authentic)]
        return AuthenticationResults.Result(
            method: "iprev", result: iprev.status.rawValue, comment: comment.joined(separator: ", "), reason: iprev.reason,
            properties: [AuthenticationResults.Property("policy", "iprev", iprev.address.description)])
    }

    /// RFC 8601 §2.7.2: spf, with smtp.mailfrom (the domain only: SPF does not authenticate
    /// the local part), or smtp.helo for the null reverse-path, whose check is HELO's.
    static func result(of spf: SPFCheck) -> AuthenticationResults.Result {
        let property = spf.identity == .helo || spf.mailFrom?.isEmpty == true
            ? AuthenticationResults.Property("smtp", "helo", spf.helo)
            : AuthenticationResults.Property("smtp", "mailfrom", spf.domain)
        let reason = spf.result == .temperror || spf.result == .permerror ? spf.problem : nil
        return AuthenticationResults.Result(
            method: "spf", result: spf.result.rawValue, comment: dnssec(spf.dnssecValidated), reason: reason, properties: [property])
    }
}
