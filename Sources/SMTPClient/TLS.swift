import DANE
import Foundation
import NIOSSL
import SASL
import TLSRPT
import X509

/// How a session uses TLS. Each aspect is its own value, because callers combine them
/// differently: opportunistic STARTTLS for plain MX delivery, STARTTLS required and
/// verified against DANE (RFC 7672) or against the system roots for MTA-STS (RFC 8461),
/// implicit TLS to a submission server (RFC 8314), or verification recorded but not
/// enforced for a policy in testing mode (RFC 8461 §5, for TLS reports).
public struct TLSSettings: Sendable {
    /// Start TLS before the greeting, as on port 465 (RFC 8314 §3.3), instead of STARTTLS.
    public var implicitTLS = false
    /// Use STARTTLS when the server offers it (RFC 3207).
    public var useSTARTTLS = true
    /// Fail rather than go on in plaintext when STARTTLS is not offered or is refused.
    public var required = false
    /// The name sent in the TLS server_name extension (RFC 6066 §3): the host dialed. Nil
    /// sends none (address literals, RFC 6066 §3 forbids IP addresses there).
    public var serverName: String?
    /// Verify the certificate against trust roots and names (RFC 5280, RFC 6125).
    public var pkix: PKIXVerification?
    /// Verify the certificate against the destination's TLSA records (RFC 7672).
    public var dane: DANEVerification?
    /// Complete the handshake even when a verification fails; the outcome is still
    /// reported in `TLSConnectionState`.
    public var ignoreVerificationErrors = false
    /// RFC 8996: nothing older than TLS 1.2.
    public var minimumVersion = TLSVersion.tlsv12

    public init() {}
}

/// Verification against trust anchors and the expected names (RFC 5280 path validation,
/// RFC 6125 name matching with wildcards).
public struct PKIXVerification: Sendable, Hashable {
    public enum TrustRoots: Sendable, Hashable {
        /// The operating system's trust store.
        case system
        /// These certificates only, e.g. a private CA.
        case certificates([Certificate])
    }

    /// The certificate must be valid for at least one of these names, e.g. the MX host
    /// (RFC 8461 §4.2, RFC 8689 §4.2.1 step 4). A trailing dot is ignored.
    public var names: [String]
    public var trustRoots: TrustRoots

    public init(names: [String], trustRoots: TrustRoots = .system) {
        self.names = names.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
        self.trustRoots = trustRoots
    }
}

/// The seam for DANE (RFC 7672, RFC 6698): a check of the server's certificate chain
/// against TLSA records, with the records and names of the destination already bound in
/// (`init(_:now:)` with the DANE module's verifier). It runs during the handshake, so a
/// failure can stop the handshake before anything is sent.
public struct DANEVerification: Sendable {
    public var verify: @Sendable (PeerCertificateChain) async -> VerificationOutcome

    public init(verify: @escaping @Sendable (PeerCertificateChain) async -> VerificationOutcome) {
        self.verify = verify
    }

    /// Verification with `verifier` at the time `now` gives when the server's chain arrives.
    public init(_ verifier: DANEVerifier, now: @escaping @Sendable () -> Date) {
        self.init { chain in
            do throws(DANEFailure) {
                _ = try await verifier.verify(chain.der, at: now())
                return .verified
            } catch {
                return VerificationOutcome(error)
            }
        }
    }
}

/// The certificates the server presented, leaf first, as DER: DANE matches on these exact
/// octets (RFC 6698 §2.1.2 full certificate or SubjectPublicKeyInfo).
public struct PeerCertificateChain: Sendable, Hashable {
    public var der: [[UInt8]]

    public init(der: [[UInt8]]) {
        self.der = der
    }

    /// The chain parsed (swift-certificates); throws for a certificate that does not parse.
    public func certificates() throws -> [Certificate] {
        try der.map { try Certificate(derEncoded: $0) }
    }
}

public enum VerificationOutcome: Sendable, Hashable, CustomStringConvertible {
    case verified
    case failed(VerificationFailure)

    /// A DANE failure, e.g. from a hook that also records it for a TLS report (RFC 8460).
    public init(_ failure: DANEFailure) {
        self = .failed(VerificationFailure(resultType: ResultType(rawValue: failure.tlsReportResultType), reason: failure.description))
    }

    public var failure: VerificationFailure? {
        if case let .failed(failure) = self { return failure }
        return nil
    }

    public var description: String {
        switch self {
        case .verified: return "verified"
        case let .failed(failure): return "failed: \(failure)"
        }
    }
}

/// Why a certificate did not verify: the TLS report's result type for it (RFC 8460 §4.3),
/// so reports and metrics can tell an expired certificate from a wrong name, and a
/// description for logs and DSNs.
public struct VerificationFailure: Sendable, Hashable, CustomStringConvertible {
    public var resultType: ResultType
    public var reason: String

    public init(resultType: ResultType, reason: String) {
        self.resultType = resultType
        self.reason = reason
    }

    public var description: String { reason }
}

/// What TLS gave this connection, for the caller's decisions and reports (TLSRPT).
///
/// The negotiated cipher suite is not here: swift-nio-ssl has no public API for it. (The
/// server reads it from its own ServerHello in ServerSupport; a client could sniff the
/// server's, but nothing in delivery depends on it, so it is left out rather than guessed.)
public struct TLSConnectionState: Sendable, Hashable {
    public var version: TLSVersion?
    public var serverName: String?
    public var peerCertificates: PeerCertificateChain
    /// Nil when PKIX verification was not asked for.
    public var pkix: VerificationOutcome?
    /// Nil when DANE verification was not asked for.
    public var dane: VerificationOutcome?
    /// For SCRAM-*-PLUS: tls-exporter (RFC 9266) on TLS 1.3, tls-unique (RFC 5929) on TLS
    /// 1.2.
    public var channelBinding: ChannelBinding?

    public init(
        version: TLSVersion?, serverName: String?, peerCertificates: PeerCertificateChain, pkix: VerificationOutcome?,
        dane: VerificationOutcome?, channelBinding: ChannelBinding?
    ) {
        self.version = version
        self.serverName = serverName
        self.peerCertificates = peerCertificates
        self.pkix = pkix
        self.dane = dane
        self.channelBinding = channelBinding
    }

    /// At least one verification was asked for and every one asked for succeeded: the
    /// server is authenticated, as REQUIRETLS needs (RFC 8689 §4.2.1 step 4).
    public var isVerified: Bool {
        let outcomes = [pkix, dane].compactMap { $0 }
        return !outcomes.isEmpty && outcomes.allSatisfy { $0 == .verified }
    }
}

/// A TLS alert (RFC 8446 §6, RFC 5246 §7.2), as received from the server.
public struct TLSAlert: Sendable, Hashable, CustomStringConvertible {
    public var code: UInt8

    public init(code: UInt8) {
        self.code = code
    }

    /// The name in the TLS Alerts registry, e.g. "certificate_required".
    public var name: String {
        Self.names[code] ?? "alert_\(code)"
    }

    public var description: String { "\(name) (\(code))" }

    static let names: [UInt8: String] = [
        0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
        40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
        45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
        49: "access_denied", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
        71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
        109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
        113: "bad_certificate_status_response", 115: "unknown_psk_identity", 116: "certificate_required",
        120: "no_application_protocol",
    ]

    /// The alert in a BoringSSL error text, as swift-nio-ssl describes its errors:
    /// "error:10000074:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED". The
    /// hex number packs the library and the reason (low 12 bits); BoringSSL reports a
    /// received alert as reason 1000 + the alert's code (SSL_AD_REASON_OFFSET).
    init?(boringSSLErrorText text: String) {
        var rest = text[...]
        while let range = rest.range(of: "error:") {
            let hex = rest[range.upperBound...].prefix { $0.isHexDigit }
            rest = rest[range.upperBound...]
            guard hex.count == 8, let packed = UInt32(hex, radix: 16) else { continue }
            let reason = Int(packed & 0xFFF)
            if (1000..<1256).contains(reason) {
                self.init(code: UInt8(reason - 1000))
                return
            }
        }
        return nil
    }
}

/// Why a TLS handshake or TLS connection failed, as the network adapter reports it to the
/// session.
public struct TLSFailure: Sendable, Hashable {
    public var text: String
    public var alert: TLSAlert?
    /// The verification that failed and so ended the handshake, when one did.
    public var verification: VerificationFailure?

    public init(text: String, alert: TLSAlert?, verification: VerificationFailure? = nil) {
        self.text = text
        self.alert = alert
        self.verification = verification
    }
}

/// Why a session has no TLS, or no TLS worth the name, as TLS reports (RFC 8460 §4.3) and
/// metrics count it: the result type, a reason from a small fixed set (a metric label), and
/// the details for the report's "failure-reason-code".
public struct TLSSessionFailure: Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable, CustomStringConvertible {
        /// The server did not offer STARTTLS.
        case startTLSNotOffered
        /// The server answered STARTTLS negatively.
        case startTLSRefused
        /// The certificate did not verify (PKIX, DANE).
        case verification
        /// The server sent this alert.
        case alert(TLSAlert)
        /// The connection ended during the handshake.
        case eof
        /// Any other handshake failure.
        case handshake

        public var description: String {
            switch self {
            case .startTLSNotOffered: return "starttls-not-offered"
            case .startTLSRefused: return "starttls-refused"
            case .verification: return "verification"
            case let .alert(alert): return "alert-" + alert.name
            case .eof: return "eof"
            case .handshake: return "handshake"
            }
        }
    }

    public var resultType: ResultType
    public var reason: Reason
    public var detail: String

    public init(resultType: ResultType, reason: Reason, detail: String) {
        self.resultType = resultType
        self.reason = reason
        self.detail = detail
    }

    /// A failed handshake: the verification that ended it, else what the server said or did
    /// (§4.3.3: "validation-failure" for what no other type describes).
    init(_ failure: TLSFailure) {
        if let verification = failure.verification {
            self.init(resultType: verification.resultType, reason: .verification, detail: verification.reason)
        } else if let alert = failure.alert {
            self.init(resultType: .validationFailure, reason: .alert(alert), detail: failure.text)
        } else {
            self.init(resultType: .validationFailure, reason: .handshake, detail: failure.text)
        }
    }

    public var description: String { "\(resultType) (\(reason)): \(detail)" }
}
