// The TLS policy of direct delivery on `serve`: DANE (RFC 7672) and MTA-STS (RFC 8461),
// with REQUIRETLS (RFC 8689) and "TLS-Required: No" on top. For each MX host, in order:
//
//   1. DANE, when the host's address records were DNSSEC-validated and it has validated
//      TLSA records (Dialing.gatherTLSA): STARTTLS required, the certificate verified
//      against the records with the names of RFC 7672 §3.2.3. DANE takes precedence over
//      MTA-STS for that host (RFC 8461 §2). With no usable record, TLS is still required,
//      unauthenticated (RFC 7672 §2.2). A failed TLSA lookup of such a host makes it
//      unusable for now (§2.1.2), never a silent downgrade.
//   2. MTA-STS, when the recipient domain has a policy of mode enforce or testing: enforce
//      uses only MX hosts its patterns match (§4.1), with STARTTLS required and a PKIX
//      certificate for the MX host name (§4.2); testing delivers as before and only
//      records the certificate's verification (for TLS reports, RFC 8460).
//   3. Otherwise opportunistic STARTTLS (RFC 3207 §4).
//   REQUIRETLS (RFC 8689 §4.2.1): the MX host must be vouched for by DNSSEC or by an MTA-STS
//   policy (step 2), and TLS verified by DANE or PKIX (step 4); a host that cannot be is
//   skipped, and when none can, the message fails (Attempt, `requireTLSUnmet`).
//   "TLS-Required: No" (§4.2.2): TLS is tried, verification failures are ignored, and no
//   host is skipped for a policy.
// Each decision also says what TLS reports record of the sessions (TLSReporting.swift).
import DANE
import DNS
import Foundation
import MTASTS
import MTASTSCache
import SMTP
import SMTPClient
import TLSRPT

extension TLSPolicy {
    /// DANE and MTA-STS as above. `stsPolicy` looks up the recipient domain's MTA-STS policy
    /// in the cache (`MTASTSCache`), nil when that is not possible; a policy of mode none
    /// counts as none. `trustRoots` verify MX certificates under MTA-STS and REQUIRETLS: the
    /// system's, but for tests.
    public static func secure(
        stsPolicy: @escaping @Sendable (String) async -> PolicyLookup?, resolver: any Resolver, now: @escaping @Sendable () -> Date,
        trustRoots: PKIXVerification.TrustRoots = .system
    ) -> TLSPolicy {
        TLSPolicy { domain in
            let lookup = await stsPolicy(domain)
            return DomainTLSPolicy { request in
                await TransportSecurity.decide(request, sts: lookup, resolver: resolver, now: now, trustRoots: trustRoots)
            }
        }
    }
}

enum TransportSecurity {
    static func decide(
        _ request: TLSPolicyRequest, sts lookup: PolicyLookup?, resolver: any Resolver, now: @escaping @Sendable () -> Date,
        trustRoots: PKIXVerification.TrustRoots = .system
    ) async -> HostTLSDecision {
        var settings = TLSSettings()
        settings.serverName = request.hostName
        let sts = lookup?.policy?.mode == STSPolicy.Mode.none ? nil : lookup?.policy
        let listed = sts?.allows(mxHost: request.host.host) ?? false
        var domainEntry = TLSReportScope.domainEntry(lookup, domain: request.domain)
        func report(_ entries: [TLSReportScope.Entry]) -> TLSReportScope {
            TLSReportScope(recipientDomain: request.domain, mxHost: request.hostName, entries: entries)
        }
        // REQUIRETLS, step 2 of RFC 8689 §4.2.1: whatever verifies the host's certificate
        // later, the MX host itself must come from a DNSSEC-validated MX lookup or be
        // listed by the domain's MTA-STS policy.
        if request.requireTLS, !request.destinations.authentic, !listed {
            return .skip(
                DeliveryFailure(
                    status: "5.7.10", isPermanent: false,
                    diagnostic: "REQUIRETLS: MX host \(request.hostName) is vouched for neither by DNSSEC nor by an MTA-STS policy (RFC 8689 §4.2.1)",
                    remoteMTA: request.hostName),
                requireTLSUnmet: true)
        }
        // 1. DANE.
        do {
            if case let .records(records, baseDomain) = try await Dialing.gatherTLSA(
                for: request.host, port: UInt16(clamping: request.port), resolver: resolver)
            {
                settings.required = true
                var daneEntry = TLSReportScope.daneEntry(host: request.hostName, records: records)
                do throws(DANEFailure) {
                    // RFC 7672 §3.2.3: the TLSA base domain and the MX host name.
                    let names = baseDomain == request.host.host ? [baseDomain] : [baseDomain, request.host.host]
                    settings.dane = DANEVerification(try DANEVerifier(records: records, referenceIdentifiers: names), now: now)
                } catch {
                    // RFC 7672 §2.2: no usable record: encrypted, but not authenticated.
                    daneEntry.knownFailure = TLSReportScope.KnownFailure(
                        resultType: ResultType(rawValue: error.tlsReportResultType), detail: error.description)
                }
                if request.ignorePolicy { relax(&settings) }
                return .connect(settings, report: report([domainEntry, daneEntry]))
            }
        } catch {
            if !request.ignorePolicy {
                // RFC 8460 §4.3.2.1: "no valid records were returned from the recursive
                // resolver".
                let daneEntry = TLSReportScope.daneEntry(
                    host: request.hostName, records: [],
                    knownFailure: TLSReportScope.KnownFailure(resultType: .dnssecInvalid, detail: error.text))
                return .skip(DeliveryFailure(error), requireTLSUnmet: false, report: report([daneEntry]))
            }
        }
        // 2. MTA-STS.
        if let sts {
            settings.pkix = PKIXVerification(names: [request.hostName], trustRoots: trustRoots)
            if !listed {
                // For TLS reports (testing mode records what enforce would refuse, RFC 8461
                // §5): not a result type of RFC 8460 §4.3, so §4.3.3's general one.
                domainEntry.knownFailure = TLSReportScope.KnownFailure(
                    resultType: .validationFailure, detail: "MX host \(request.hostName) is not in the MTA-STS policy")
            }
            if sts.mode == .enforce, !request.ignorePolicy {
                guard listed else {
                    // RFC 3463 X.4.4, unable to route: no acceptable MX host, which the
                    // domain may change, so temporary (RFC 8461 §5.1 defers, too).
                    return .skip(
                        DeliveryFailure(
                            status: "4.4.4", isPermanent: false,
                            diagnostic: "MX host \(request.hostName) is not allowed by the MTA-STS policy of \(request.domain) (RFC 8461 §4.1)",
                            remoteMTA: request.hostName),
                        requireTLSUnmet: request.requireTLS, report: report([domainEntry]))
                }
                settings.required = true
            } else {
                // Testing (or "TLS-Required: No"): verified for the record, not enforced.
                relax(&settings)
            }
        }
        // REQUIRETLS, step 4: TLS verified (PKIX, as DANE did not apply).
        if request.requireTLS {
            settings.required = true
            settings.ignoreVerificationErrors = false
            if settings.pkix == nil { settings.pkix = PKIXVerification(names: [request.hostName], trustRoots: trustRoots) }
        }
        return .connect(settings, report: report([domainEntry]))
    }

    /// TLS when offered, verification outcomes recorded but not enforced.
    private static func relax(_ settings: inout TLSSettings) {
        settings.required = false
        settings.ignoreVerificationErrors = true
    }
}
