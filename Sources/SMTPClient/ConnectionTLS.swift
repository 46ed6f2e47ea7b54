import Foundation
import NIOCore
import NIOSSL
import SASL
import Synchronization
import SwiftASN1
import TLSHandshakeCapture
import TLSRPT
// The SPI gives RFC5280Policy a validation time from the injected clock (DESIGN.md: time
// is injected); the public initializer that takes a time is deprecated in favour of it.
@_spi(FixedExpiryValidationTime) import X509

/// The TLS side of one connection: makes the client handler for the settings, verifies the
/// server's certificate during the handshake (PKIX with swift-certificates, DANE through its
/// hook), and keeps what the handshake showed for `TLSConnectionState`.
///
/// Verification replaces swift-nio-ssl's own (a custom verification callback), because the
/// checks are the caller's, each is reported separately, and a failed one may be ignored.
final class ConnectionTLS: Sendable {
    private struct Observed: Sendable {
        var chain = PeerCertificateChain(der: [])
        var pkix: VerificationOutcome?
        var dane: VerificationOutcome?
    }

    let settings: TLSSettings
    private let now: @Sendable () -> Date
    private let observed = Mutex(Observed())

    init(settings: TLSSettings, now: @escaping @Sendable () -> Date) {
        self.settings = settings
        self.now = now
    }

    /// A client handler for this connection. Its key log goes to the `TLSHandshakeRecorder`
    /// in front of it, for channel binding.
    func makeHandler() throws -> NIOSSLClientHandler {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = settings.minimumVersion
        // With .none the custom callback would not run; hostname checks are PKIX's part.
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        TLSHandshakeRecorder.captureKeyLog(on: &configuration, as: .client)
        let context = try NIOSSLContext(configuration: configuration)
        let serverName = settings.serverName.map { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
        return try NIOSSLClientHandler(context: context, serverHostname: serverName) { [self] certificates, promise in
            verify(certificates, promise)
        }
    }

    private func verify(_ certificates: [NIOSSLCertificate], _ promise: EventLoopPromise<NIOSSLVerificationResult>) {
        guard let der = try? certificates.map({ try $0.toDERBytes() }) else {
            let unreadable = VerificationOutcome.failed(
                VerificationFailure(resultType: .validationFailure, reason: "the server's certificates cannot be read"))
            observed.withLock { state in
                state.pkix = settings.pkix.map { _ in unreadable }
                state.dane = settings.dane.map { _ in unreadable }
            }
            promise.succeed(settings.ignoreVerificationErrors ? .certificateVerified : .failed)
            return
        }
        let chain = PeerCertificateChain(der: der)
        let validationTime = now()
        Task { [self] in
            var pkix: VerificationOutcome?
            if let verification = settings.pkix { pkix = await Self.verifyPKIX(chain, verification, at: validationTime) }
            var dane: VerificationOutcome?
            if let verification = settings.dane { dane = await verification.verify(chain) }
            observed.withLock { state in
                state.chain = chain
                state.pkix = pkix
                state.dane = dane
            }
            let passed = [pkix, dane].allSatisfy { $0 == nil || $0 == .verified }
            promise.succeed(passed || settings.ignoreVerificationErrors ? .certificateVerified : .failed)
        }
    }

    /// RFC 5280 path validation to the trust roots at `time`, and RFC 6125 matching of one
    /// of the names. A failure gets the TLS report's result type (RFC 8460 §4.3.1).
    static func verifyPKIX(_ chain: PeerCertificateChain, _ verification: PKIXVerification, at time: Date) async -> VerificationOutcome {
        let certificates: [Certificate]
        do {
            certificates = try chain.certificates()
        } catch {
            return .failed(VerificationFailure(resultType: .validationFailure, reason: "the server's certificate does not parse: \(error)"))
        }
        guard let leaf = certificates.first else {
            return .failed(VerificationFailure(resultType: .validationFailure, reason: "the server sent no certificate"))
        }
        let roots: CertificateStore
        switch verification.trustRoots {
        case .system: roots = CertificateStore.systemTrustRoots
        case let .certificates(anchors): roots = CertificateStore(anchors)
        }
        var verifier = Verifier(rootCertificates: roots) {
            RFC5280Policy(fixedExpiryValidationTime: time)
            AnyNamePolicy(names: verification.names)
        }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(certificates.dropFirst())) {
        case .validCertificate:
            return .verified
        case let .couldNotValidate(failures):
            // No candidate chain at all means no path to a trust root.
            guard let failure = failures.first else {
                return .failed(VerificationFailure(resultType: .certificateNotTrusted, reason: "no chain to a trusted root certificate"))
            }
            return .failed(VerificationFailure(
                resultType: await resultType(of: failure.chain, names: verification.names, at: time),
                reason: failure.policyFailureReason.description))
        }
    }

    /// Why a chain that reaches a trust root failed, for a TLS report: a certificate outside
    /// its validity period (expired, or not yet valid, which only "validation-failure"
    /// describes), a server certificate for other names, or else a general failure.
    private static func resultType(of chain: UnverifiedCertificateChain, names: [String], at time: Date) async -> ResultType {
        if let outside = chain.first(where: { time < $0.notValidBefore || time > $0.notValidAfter }) {
            return time > outside.notValidAfter ? .certificateExpired : .validationFailure
        }
        if case .meetsPolicy = await AnyNamePolicy(names: names).chainMeetsPolicyRequirements(chain: chain) { return .validationFailure }
        return .certificateHostMismatch
    }

    /// What the handshake showed, once it completed, with the channel binding its recorder
    /// computed.
    func connectionState(version: TLSVersion?, channelBinding: ChannelBinding?) -> TLSConnectionState {
        let state = observed.withLock { $0 }
        return TLSConnectionState(
            version: version, serverName: settings.serverName, peerCertificates: state.chain, pkix: state.pkix, dane: state.dane,
            channelBinding: channelBinding)
    }

    /// The failure as the session reports it: the verification that failed when one did,
    /// otherwise the TLS library's error, with the server's alert if one arrived.
    func failure(for error: any Error) -> TLSFailure {
        let state = observed.withLock { $0 }
        var reasons: [String] = []
        if let failure = state.pkix?.failure { reasons.append("PKIX: \(failure)") }
        if let failure = state.dane?.failure { reasons.append("DANE: \(failure)") }
        let errorText = String(describing: error)
        let alert = TLSAlert(boringSSLErrorText: errorText)
        var text = reasons.isEmpty ? "TLS failed: \(errorText)" : "certificate verification failed: " + reasons.joined(separator: "; ")
        if let alert { text += "; alert \(alert) from the server" }
        // DANE first: where it applies, it is the policy that was enforced (RFC 7672 §2.2).
        return TLSFailure(text: text, alert: alert, verification: state.dane?.failure ?? state.pkix?.failure)
    }

    /// Whether `error` comes from TLS rather than the socket.
    static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError
    }
}

/// RFC 6125 matching against several acceptable names: the leaf must be valid for one of
/// them (swift-certificates' ServerIdentityPolicy checks one name).
struct AnyNamePolicy: VerifierPolicy {
    let names: [String]

    var verifyingCriticalExtensions: [ASN1ObjectIdentifier] { [.X509ExtensionID.subjectAlternativeName] }

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        for name in names {
            var policy = ServerIdentityPolicy(serverHostname: name, serverIP: nil)
            if case .meetsPolicy = policy.chainMeetsPolicyRequirements(chain: chain) { return .meetsPolicy }
        }
        let names = self.names.joined(separator: ", ")
        return .failsToMeetPolicy(reason: "the certificate is not valid for \(names.isEmpty ? "any name" : names)")
    }
}
