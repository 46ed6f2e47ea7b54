import Foundation

/// The directory (RFC 8555 §7.1.1): the one URL an operator configures leads to all others.
public struct ACMEDirectory: Sendable, Codable, Equatable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    public var revokeCert: String?
    public var keyChange: String?
    public var meta: Meta?

    public struct Meta: Sendable, Codable, Equatable {
        public var termsOfService: String?
        public var website: String?
        public var caaIdentities: [String]?
        public var externalAccountRequired: Bool?

        public init(termsOfService: String? = nil, website: String? = nil, caaIdentities: [String]? = nil, externalAccountRequired: Bool? = nil) {
            self.termsOfService = termsOfService
            self.website = website
            self.caaIdentities = caaIdentities
            self.externalAccountRequired = externalAccountRequired
        }
    }

    public init(newNonce: String, newAccount: String, newOrder: String, revokeCert: String? = nil, keyChange: String? = nil, meta: Meta? = nil) {
        self.newNonce = newNonce
        self.newAccount = newAccount
        self.newOrder = newOrder
        self.revokeCert = revokeCert
        self.keyChange = keyChange
        self.meta = meta
    }
}

/// The states of RFC 8555 §7.1.6 that accounts, orders, authorizations and challenges go
/// through (each uses a subset).
public enum ACMEStatus: String, Sendable, Codable, Equatable {
    case pending, ready, processing, valid, invalid, deactivated, expired, revoked
}

/// An account object (RFC 8555 §7.1.2), and its URL from the Location header (§7.3).
public struct ACMEAccount: Sendable, Codable, Equatable {
    public var status: ACMEStatus
    public var contact: [String]?
    public var termsOfServiceAgreed: Bool?
    public var orders: String?
    /// Not in the JSON: the account URL, used as "kid" from now on (§6.2).
    public var url: String = ""

    enum CodingKeys: String, CodingKey { case status, contact, termsOfServiceAgreed, orders }

    public init(status: ACMEStatus, contact: [String]? = nil, termsOfServiceAgreed: Bool? = nil, orders: String? = nil, url: String) {
        self.status = status
        self.contact = contact
        self.termsOfServiceAgreed = termsOfServiceAgreed
        self.orders = orders
        self.url = url
    }
}

/// An order object (RFC 8555 §7.1.3).
public struct ACMEOrder: Sendable, Codable, Equatable {
    public var status: ACMEStatus
    public var expires: String?
    public var identifiers: [ACMEIdentifier]
    public var authorizations: [String]
    public var finalize: String
    public var certificate: String?
    public var error: ACMEProblem?

    public init(
        status: ACMEStatus, expires: String? = nil, identifiers: [ACMEIdentifier], authorizations: [String], finalize: String,
        certificate: String? = nil, error: ACMEProblem? = nil
    ) {
        self.status = status
        self.expires = expires
        self.identifiers = identifiers
        self.authorizations = authorizations
        self.finalize = finalize
        self.certificate = certificate
        self.error = error
    }
}

/// An authorization object (RFC 8555 §7.1.4).
public struct ACMEAuthorization: Sendable, Codable, Equatable {
    public var identifier: ACMEIdentifier
    public var status: ACMEStatus
    public var expires: String?
    public var challenges: [ACMEChallenge]
    public var wildcard: Bool?

    public init(identifier: ACMEIdentifier, status: ACMEStatus, expires: String? = nil, challenges: [ACMEChallenge], wildcard: Bool? = nil) {
        self.identifier = identifier
        self.status = status
        self.expires = expires
        self.challenges = challenges
        self.wildcard = wildcard
    }
}

/// A challenge object (RFC 8555 §7.1.5, §8): type, url, status, token, and the error of a
/// failed validation.
public struct ACMEChallenge: Sendable, Codable, Equatable {
    public var type: String
    public var url: String
    public var status: ACMEStatus
    public var token: String?
    public var validated: String?
    public var error: ACMEProblem?

    public init(type: String, url: String, status: ACMEStatus, token: String? = nil, validated: String? = nil, error: ACMEProblem? = nil) {
        self.type = type
        self.url = url
        self.status = status
        self.token = token
        self.validated = validated
        self.error = error
    }

    /// RFC 8737 §3.
    public static let tlsALPN01 = "tls-alpn-01"
}
