/// RDATA of the record types a mail server uses, parsed; others kept as octets.
public enum RecordData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case ns(DNSName)
    case cname(DNSName)
    case ptr(DNSName)
    case mx(MX)
    /// RFC 1035 §3.3.14: one or more character-strings, kept as octets; SPF, DKIM, DMARC and
    /// MTA-STS concatenate them (RFC 7208 §3.3).
    case txt([[UInt8]])
    case soa(SOA)
    case srv(SRV)
    case tlsa(TLSA)
    case caa(CAA)
    case unknown(type: RecordType, data: [UInt8])

    /// The type this data belongs to.
    public var type: RecordType {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .ns: return .ns
        case .cname: return .cname
        case .ptr: return .ptr
        case .mx: return .mx
        case .txt: return .txt
        case .soa: return .soa
        case .srv: return .srv
        case .tlsa: return .tlsa
        case .caa: return .caa
        case let .unknown(type, _): return type
        }
    }

    /// Zone-file presentation form of the RDATA (RFC 1035 §5.1; RFC 3597 §5 for unknown types).
    public var presentation: String {
        switch self {
        case let .a(address), let .aaaa(address):
            return address.description
        case let .ns(name), let .cname(name), let .ptr(name):
            return name.description
        case let .mx(mx):
            return "\(mx.preference) \(mx.exchange)"
        case let .txt(strings):
            return strings.map(Self.quoted).joined(separator: " ")
        case let .soa(soa):
            return "\(soa.primary) \(soa.mailbox) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case let .srv(srv):
            return "\(srv.priority) \(srv.weight) \(srv.port) \(srv.target)"
        case let .tlsa(tlsa):
            return "\(tlsa.usage) \(tlsa.selector) \(tlsa.matchingType) \(hex(tlsa.data))"
        case let .caa(caa):
            return "\(caa.flags) \(caa.tag) \(Self.quoted(caa.value))"
        case let .unknown(_, data):
            return data.isEmpty ? "\\# 0" : "\\# \(data.count) \(hex(data))"
        }
    }

    /// A character-string in quotes, with `"` and `\` escaped and non-printable octets as
    /// `\DDD` (RFC 1035 §5.1).
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append("\\")
                out.append(Character(Unicode.Scalar(byte)))
            case 0x20...0x7E:
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += decimalEscape(byte)
            }
        }
        return out + "\""
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// RFC 1035 §3.3.9.
public struct MX: Hashable, Sendable {
    public var preference: UInt16
    public var exchange: DNSName
    public init(preference: UInt16, exchange: DNSName) {
        self.preference = preference
        self.exchange = exchange
    }
}

/// RFC 1035 §3.3.13. `minimum` bounds negative caching (RFC 2308 §5).
public struct SOA: Hashable, Sendable {
    public var primary: DNSName
    public var mailbox: DNSName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    public var minimum: UInt32
    public init(primary: DNSName, mailbox: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// RFC 2782.
public struct SRV: Hashable, Sendable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: DNSName
    public init(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// RFC 6698 §2.1: certificate usage, selector, matching type and association data.
public struct TLSA: Hashable, Sendable {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]
    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }
}

/// RFC 8659 §4.1.
public struct CAA: Hashable, Sendable {
    public var flags: UInt8
    public var tag: String
    public var value: [UInt8]
    public init(flags: UInt8, tag: String, value: [UInt8]) {
        self.flags = flags
        self.tag = tag
        self.value = value
    }
}

/// One resource record (RFC 1035 §4.1.3).
public struct ResourceRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DNSName
    public var dnsClass: DNSClass
    public var ttl: UInt32
    public var data: RecordData

    public init(name: DNSName, dnsClass: DNSClass = .internet, ttl: UInt32, data: RecordData) {
        self.name = name
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }

    public var type: RecordType { data.type }

    /// `name TAB ttl TAB class TAB type TAB rdata`, the zone-file line.
    public var description: String {
        "\(name)\t\(ttl)\t\(dnsClass)\t\(type)\t\(data.presentation)"
    }
}
