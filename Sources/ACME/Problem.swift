import Foundation

/// An ACME identifier (RFC 8555 §9.7.7): here always type "dns".
public struct ACMEIdentifier: Sendable, Codable, Hashable {
    public var type: String
    public var value: String

    public init(type: String = "dns", value: String) {
        self.type = type
        self.value = value
    }

    public static func dns(_ name: String) -> ACMEIdentifier { ACMEIdentifier(type: "dns", value: name) }
}

/// A problem document (RFC 7807 §3.1, `application/problem+json`) as ACME uses it (RFC 8555
/// §6.7): the CA's own words on what went wrong, with per-identifier subproblems (§6.7.1).
public struct ACMEProblem: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public var type: String
    public var detail: String?
    public var status: Int?
    public var instance: String?
    public var identifier: ACMEIdentifier?
    public var subproblems: [ACMEProblem]?

    public init(
        type: String, detail: String? = nil, status: Int? = nil, instance: String? = nil,
        identifier: ACMEIdentifier? = nil, subproblems: [ACMEProblem]? = nil
    ) {
        self.type = type
        self.detail = detail
        self.status = status
        self.instance = instance
        self.identifier = identifier
        self.subproblems = subproblems
    }

    /// RFC 7807 §4.2: a missing "type" means "about:blank".
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type) ?? "about:blank"
        detail = try container.decodeIfPresent(String.self, forKey: .detail)
        status = try container.decodeIfPresent(Int.self, forKey: .status)
        instance = try container.decodeIfPresent(String.self, forKey: .instance)
        identifier = try container.decodeIfPresent(ACMEIdentifier.self, forKey: .identifier)
        subproblems = try container.decodeIfPresent([ACMEProblem].self, forKey: .subproblems)
    }

    /// The ACME error namespace of RFC 8555 §6.7.
    public static let namespace = "urn:ietf:params:acme:error:"

    /// The standard error types of RFC 8555 §6.7 (IANA "ACME Error Types", §9.6).
    public enum Kind: String, Sendable, CaseIterable {
        case accountDoesNotExist, alreadyRevoked, badCSR, badNonce, badPublicKey, badRevocationReason,
            badSignatureAlgorithm, caa, compound, connection, dns, externalAccountRequired, incorrectResponse,
            invalidContact, malformed, orderNotReady, rateLimited, rejectedIdentifier, serverInternal, tls,
            unauthorized, unsupportedContact, unsupportedIdentifier, userActionRequired
    }

    /// The standard type, nil for any other URI (the list "is not exhaustive", §6.7).
    public var kind: Kind? {
        guard type.hasPrefix(Self.namespace) else { return nil }
        return Kind(rawValue: String(type.dropFirst(Self.namespace.count)))
    }

    /// "rateLimited: too many certificates for this name (for dns:mail.example.com); ..."
    /// RFC 8555 §6.7: "Clients SHOULD display the 'detail' field of all errors."
    public var description: String {
        var text = kind?.rawValue ?? type
        if let detail, !detail.isEmpty { text += ": " + detail }
        if let identifier { text += " (for \(identifier.type):\(identifier.value))" }
        if let subproblems, !subproblems.isEmpty {
            text += "; " + subproblems.map(\.description).joined(separator: "; ")
        }
        if let instance, kind == .userActionRequired { text += " (see \(instance))" }
        return text
    }
}

/// What goes wrong while talking to an ACME CA. Each case says what the CA said, or what it
/// failed to say, and where.
public enum ACMEError: Error, Sendable, CustomStringConvertible {
    /// The CA answered a request with a problem document (RFC 8555 §6.7).
    case problem(ACMEProblem, url: String)
    /// The CA could not be reached, or the connection failed (DNS, TCP, TLS, timeout).
    case transport(String, url: String)
    /// An error status without a problem document.
    case httpStatus(Int, url: String, body: String)
    /// A response that does not follow RFC 8555 (missing header, undecodable JSON, ...).
    case invalidResponse(String, url: String)
    /// The response body is over the client's limit.
    case responseTooLarge(limit: Int, url: String)
    /// The CA offered no challenge type this client can answer (only tls-alpn-01, RFC 8737).
    case noSupportedChallenge(identifier: String, offered: [String])
    /// An authorization ended other than valid; the problem is the challenge's "error" (§8).
    case authorizationFailed(identifier: String, status: String, problem: ACMEProblem?)
    /// An order ended other than valid, or is in a state that cannot lead to a certificate.
    case orderFailed(status: String, problem: ACMEProblem?, url: String)
    /// A resource stayed pending/processing past the polling bound.
    case pollingTimedOut(what: String, url: String, attempts: Int)
    /// The configuration cannot work (e.g. a directory URL that is not HTTPS).
    case configuration(String)
    /// The certificate the CA returned is not for the key or names requested.
    case badCertificate(String)

    public var description: String {
        switch self {
        case let .problem(problem, url): "ACME CA error at \(url): \(problem)"
        case let .transport(what, url): "cannot reach the ACME CA at \(url): \(what)"
        case let .httpStatus(status, url, body):
            "ACME CA answered \(status) at \(url)" + (body.isEmpty ? "" : ": \(body)")
        case let .invalidResponse(what, url): "invalid ACME response from \(url): \(what)"
        case let .responseTooLarge(limit, url): "ACME response from \(url) over \(limit) bytes"
        case let .noSupportedChallenge(identifier, offered):
            "no tls-alpn-01 challenge for \(identifier); the CA offered: \(offered.joined(separator: ", "))"
        case let .authorizationFailed(identifier, status, problem):
            "authorization for \(identifier) is \(status)" + (problem.map { ": \($0)" } ?? "")
        case let .orderFailed(status, problem, url):
            "order \(url) is \(status)" + (problem.map { ": \($0)" } ?? "")
        case let .pollingTimedOut(what, url, attempts): "\(what) \(url) still not done after \(attempts) polls"
        case let .configuration(what): "ACME configuration: \(what)"
        case let .badCertificate(what): "certificate from the ACME CA is unusable: \(what)"
        }
    }

    /// The CA's problem document, if the error carries one.
    public var problem: ACMEProblem? {
        switch self {
        case let .problem(problem, _): problem
        case let .authorizationFailed(_, _, problem), let .orderFailed(_, problem, _): problem
        default: nil
        }
    }
}
