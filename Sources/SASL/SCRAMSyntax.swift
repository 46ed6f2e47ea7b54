// The SCRAM message grammar of RFC 5802 §7, shared by the client and the server:
// parsing what the peer sent into checked values, and building what this side sends.
// Messages are octets; attribute values are sliced out of them without copying the rest.

/// The gs2-cbind-flag (RFC 5802 §7).
enum SCRAMChannelBindingFlag: Hashable, Sendable {
    /// "n": the client does not support channel binding.
    case notSupported
    /// "y": the client supports it but believes the server does not.
    case supportedButNotUsed
    /// "p=<cb-name>": the client binds to this channel binding type.
    case required(String)

    var wire: String {
        switch self {
        case .notSupported: "n"
        case .supportedButNotUsed: "y"
        case let .required(type): "p=\(type)"
        }
    }
}

/// client-first-message (RFC 5802 §7), parsed.
struct SCRAMClientFirst: Sendable {
    var flag: SCRAMChannelBindingFlag
    /// The authzid as sent, unescaped; nil when absent.
    var authorizationIdentity: String?
    /// The username as sent, unescaped but not prepared.
    var username: String
    var nonce: String
    /// gs2-header: the octets up to and including the second comma.
    var gs2Header: [UInt8]
    /// client-first-message-bare: everything after the GS2 header, used in AuthMessage.
    var bare: [UInt8]
}

/// client-final-message (RFC 5802 §7), parsed.
struct SCRAMClientFinal: Sendable {
    /// The decoded c= value: GS2 header plus channel binding data.
    var channelBinding: [UInt8]
    var nonce: String
    var proof: [UInt8]
    /// client-final-message-without-proof, used in AuthMessage.
    var withoutProof: [UInt8]
}

/// server-first-message (RFC 5802 §7), parsed.
struct SCRAMServerFirst: Sendable {
    var nonce: String
    var salt: [UInt8]
    var iterations: Int
}

/// server-final-message (RFC 5802 §7), parsed.
enum SCRAMServerFinal: Sendable {
    case verifier([UInt8])
    case error(String)
}

enum SCRAMSyntax {
    typealias Field = ArraySlice<UInt8>

    static let comma = UInt8(ascii: ",")
    static let equals = UInt8(ascii: "=")

    /// RFC 5802 §7 printable: %x21-2B / %x2D-7E.
    static func isPrintable(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) && byte != comma
    }

    /// RFC 5056 §7 cb-name characters: ALPHA / DIGIT / "." / "-".
    static func isChannelBindingNameCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    static func fields(_ message: [UInt8]) -> [Field] {
        message.split(separator: comma, omittingEmptySubsequences: false)
    }

    /// The value of `field` when it is `name=value`, else nil.
    static func value(_ field: Field, _ name: Character) -> Field? {
        guard field.count >= 2, let ascii = name.asciiValue, field.first == ascii,
              field[field.startIndex + 1] == equals else { return nil }
        return field.dropFirst(2)
    }

    /// An `attr-val` (RFC 5802 §7 extensions): ALPHA "=" 1*value-char. The value's octets
    /// need no further check: commas cannot occur (they split fields), and the message as
    /// a whole was checked for UTF-8 and NUL.
    static func isAttributeValue(_ field: Field) -> Bool {
        guard field.count >= 3, let first = field.first else { return false }
        let isAlpha = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first)
        return isAlpha && field[field.startIndex + 1] == equals
    }

    /// RFC 5802 §7 saslname: "=2C" stands for ",", "=3D" for "=", any other "=" is an
    /// error (§5.1: the server MUST fail), as is an empty name or invalid UTF-8.
    static func decodeSaslname(_ field: Field) -> String? {
        guard !field.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(field.count)
        var index = field.startIndex
        while index < field.endIndex {
            let byte = field[index]
            if byte == equals {
                guard field.endIndex - index >= 3 else { return nil }
                let code = (field[index + 1], field[index + 2])
                if code == (UInt8(ascii: "2"), UInt8(ascii: "C")) {
                    out.append(comma)
                } else if code == (UInt8(ascii: "3"), UInt8(ascii: "D")) {
                    out.append(equals)
                } else {
                    return nil
                }
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The saslname form of a name: "," as "=2C", "=" as "=3D" (RFC 5802 §5.1 n=).
    static func encodeSaslname(_ name: String) -> String {
        var out = ""
        for char in name.unicodeScalars {
            switch char {
            case ",": out += "=2C"
            case "=": out += "=3D"
            default: out.unicodeScalars.append(char)
            }
        }
        return out
    }

    /// A nonce attribute value (RFC 5802 §7 c-nonce, s-nonce: printable), at most
    /// `limit` characters.
    static func nonce(_ field: Field, limit: Int) -> String? {
        guard !field.isEmpty, field.count <= limit, field.allSatisfy(isPrintable) else { return nil }
        return String(decoding: field, as: UTF8.self)
    }

    /// Checks the whole message before attribute parsing: within the size limit, valid
    /// UTF-8 (every value is UTF-8 per §7 value-char), no NUL (excluded from value-char).
    static func checkMessage(_ message: [UInt8]) throws(SASLFailure) {
        guard message.count <= SASLLimits.maxMessageLength else {
            throw .messageTooLong(length: message.count, limit: SASLLimits.maxMessageLength)
        }
        guard !message.contains(0) else { throw .malformed("NUL in SCRAM message") }
        guard String(validating: message, as: UTF8.self) != nil else { throw .malformed("SCRAM message is not UTF-8") }
    }

    // MARK: client-first-message

    static func parseClientFirst(_ message: [UInt8]) throws(SASLFailure) -> SCRAMClientFirst {
        try checkMessage(message)
        let fields = fields(message)
        guard fields.count >= 4 else {
            throw .malformed("client-first-message needs gs2-header, n= and r=")
        }
        // gs2-cbind-flag (RFC 5802 §5: the first octet MUST be "n", "y" or "p").
        let flag: SCRAMChannelBindingFlag
        let flagField = fields[0]
        if flagField.elementsEqual("n".utf8) {
            flag = .notSupported
        } else if flagField.elementsEqual("y".utf8) {
            flag = .supportedButNotUsed
        } else if let type = value(flagField, "p") {
            guard !type.isEmpty, type.count <= SASLLimits.maxChannelBindingTypeLength,
                  type.allSatisfy(isChannelBindingNameCharacter) else {
                throw .malformed("invalid channel binding type in gs2-cbind-flag")
            }
            flag = .required(String(decoding: type, as: UTF8.self))
        } else {
            throw .malformed("gs2-cbind-flag must be n, y or p=<type>")
        }
        // [authzid]
        var authorizationIdentity: String?
        if !fields[1].isEmpty {
            guard let encoded = value(fields[1], "a") else { throw .malformed("second gs2-header field must be empty or a=") }
            guard let name = decodeSaslname(encoded) else {
                throw .invalidAuthorizationIdentity("bad saslname escaping or encoding in a=")
            }
            authorizationIdentity = name
        }
        let headerLength = fields[0].count + 1 + fields[1].count + 1
        // client-first-message-bare: [reserved-mext ","] username "," nonce ["," extensions]
        var index = 2
        if value(fields[index], "m") != nil { throw .mandatoryExtensionUnsupported }
        guard let encodedUser = value(fields[index], "n") else { throw .malformed("client-first-message-bare must start with n=") }
        guard let username = decodeSaslname(encodedUser) else {
            throw .invalidUsername("bad saslname escaping or encoding in n=")
        }
        index += 1
        guard let nonceField = value(fields[index], "r") else { throw .malformed("r= must follow n=") }
        guard let nonce = nonce(nonceField, limit: SASLLimits.maxNonceLength) else {
            throw .malformed("client nonce must be 1...\(SASLLimits.maxNonceLength) printable characters")
        }
        index += 1
        for field in fields[index...] where !isAttributeValue(field) {
            throw .malformed("invalid extension attribute in client-first-message")
        }
        return SCRAMClientFirst(
            flag: flag, authorizationIdentity: authorizationIdentity, username: username, nonce: nonce,
            gs2Header: Array(message.prefix(headerLength)), bare: Array(message.dropFirst(headerLength)))
    }

    // MARK: client-final-message

    static func parseClientFinal(_ message: [UInt8]) throws(SASLFailure) -> SCRAMClientFinal {
        try checkMessage(message)
        let fields = fields(message)
        guard fields.count >= 3 else { throw .malformed("client-final-message needs c=, r= and p=") }
        guard let bindingField = value(fields[0], "c") else { throw .malformed("client-final-message must start with c=") }
        guard let binding = SASLBase64.decode(bytes: bindingField), !binding.isEmpty else {
            throw .malformed("c= is not base64 of a GS2 header")
        }
        guard let nonceField = value(fields[1], "r") else { throw .malformed("r= must follow c=") }
        guard let nonce = nonce(nonceField, limit: 2 * SASLLimits.maxNonceLength) else {
            throw .malformed("nonce must be printable characters")
        }
        guard let last = fields.last, let proofField = value(last, "p") else {
            throw .malformed("client-final-message must end with p=")
        }
        guard let proof = SASLBase64.decode(bytes: proofField), !proof.isEmpty else { throw .malformed("p= is not base64") }
        for field in fields[2..<(fields.count - 1)] where !isAttributeValue(field) {
            throw .malformed("invalid extension attribute in client-final-message")
        }
        let withoutProof = Array(message.prefix(message.count - last.count - 1))
        return SCRAMClientFinal(channelBinding: binding, nonce: nonce, proof: proof, withoutProof: withoutProof)
    }

    // MARK: server-first-message

    static func parseServerFirst(_ message: [UInt8]) throws(SASLFailure) -> SCRAMServerFirst {
        try checkMessage(message)
        let fields = fields(message)
        if let error = value(fields[0], "e") {
            // Not in the grammar of server-first-message, but servers do fail early this
            // way; report their reason rather than a syntax error.
            throw .serverRejected(String(decoding: error.prefix(64), as: UTF8.self))
        }
        if value(fields[0], "m") != nil { throw .mandatoryExtensionUnsupported }
        guard fields.count >= 3 else { throw .malformed("server-first-message needs r=, s= and i=") }
        guard let nonceField = value(fields[0], "r") else { throw .malformed("server-first-message must start with r=") }
        guard let nonce = nonce(nonceField, limit: 2 * SASLLimits.maxNonceLength) else {
            throw .invalidServerNonce("not 1...\(2 * SASLLimits.maxNonceLength) printable characters")
        }
        guard let saltField = value(fields[1], "s") else { throw .malformed("s= must follow r=") }
        guard let salt = SASLBase64.decode(bytes: saltField) else { throw .invalidSalt("not base64") }
        guard (1...SASLLimits.maxSaltLength).contains(salt.count) else {
            throw .invalidSalt("\(salt.count) octets (want 1...\(SASLLimits.maxSaltLength))")
        }
        guard let countField = value(fields[2], "i") else { throw .malformed("i= must follow s=") }
        guard let iterations = SCRAMCredentials.positiveNumber(String(decoding: countField, as: UTF8.self)) else {
            throw .malformed("i= is not a positive number")
        }
        for field in fields[3...] where !isAttributeValue(field) {
            throw .malformed("invalid extension attribute in server-first-message")
        }
        return SCRAMServerFirst(nonce: nonce, salt: salt, iterations: iterations)
    }

    // MARK: server-final-message

    static func parseServerFinal(_ message: [UInt8]) throws(SASLFailure) -> SCRAMServerFinal {
        try checkMessage(message)
        let fields = fields(message)
        for field in fields.dropFirst() where !isAttributeValue(field) {
            throw .malformed("invalid extension attribute in server-final-message")
        }
        if let error = value(fields[0], "e") {
            guard !error.isEmpty else { throw .malformed("empty e=") }
            return .error(String(decoding: error.prefix(64), as: UTF8.self))
        }
        guard let verifierField = value(fields[0], "v") else { throw .malformed("server-final-message must start with v= or e=") }
        guard let verifier = SASLBase64.decode(bytes: verifierField), !verifier.isEmpty else {
            throw .malformed("v= is not base64")
        }
        return .verifier(verifier)
    }
}
