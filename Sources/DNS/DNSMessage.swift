/// DNS messages in wire format (RFC 1035 §4.1) with EDNS(0) (RFC 6891): a parser that treats
/// every octet as hostile, and an encoder used for queries (and by tests for answers).
///
/// The parser is pure and imports nothing, so a fuzz target compiles it on its own. Limits:
/// names at most 255 octets, compression pointers must point strictly backwards (so they
/// cannot loop) and a name may follow at most `maxPointerJumps` of them; every read is
/// bounds-checked; RDATA must fit its RDLENGTH exactly for the types parsed here.
public struct DNSMessage: Hashable, Sendable {
    public var id: UInt16
    public var isResponse: Bool
    public var opcode: UInt8
    public var authoritative: Bool
    public var truncated: Bool
    public var recursionDesired: Bool
    public var recursionAvailable: Bool
    /// RFC 4035 §3.2.3 / RFC 6840 §5.7: the AD bit, set by a validating resolver when every
    /// RRset in the answer and authority sections was validated.
    public var authenticData: Bool
    public var checkingDisabled: Bool
    /// The full response code: header bits extended by the OPT record (RFC 6891 §6.1.3).
    public var rcode: ResponseCode
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authorities: [ResourceRecord]
    /// The additional section without the OPT pseudo-record, which is in `edns`.
    public var additionals: [ResourceRecord]
    public var edns: EDNS?

    public init(
        id: UInt16, isResponse: Bool = false, opcode: UInt8 = 0, authoritative: Bool = false,
        truncated: Bool = false, recursionDesired: Bool = true, recursionAvailable: Bool = false,
        authenticData: Bool = false, checkingDisabled: Bool = false, rcode: ResponseCode = .noError,
        questions: [Question] = [], answers: [ResourceRecord] = [], authorities: [ResourceRecord] = [],
        additionals: [ResourceRecord] = [], edns: EDNS? = nil
    ) {
        self.id = id
        self.isResponse = isResponse
        self.opcode = opcode
        self.authoritative = authoritative
        self.truncated = truncated
        self.recursionDesired = recursionDesired
        self.recursionAvailable = recursionAvailable
        self.authenticData = authenticData
        self.checkingDisabled = checkingDisabled
        self.rcode = rcode
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// A recursive query with EDNS(0). RFC 4035 §3.2.1: the DO bit asks for DNSSEC records
    /// and makes a validating resolver report AD; RFC 6840 §5.7 also lets AD be set in the
    /// query for the same purpose, which helps resolvers that look only at that.
    public static func query(id: UInt16, name: DNSName, type: RecordType, udpPayloadSize: UInt16) -> DNSMessage {
        DNSMessage(
            id: id, recursionDesired: true, authenticData: true,
            questions: [Question(name: name, type: type)],
            edns: EDNS(udpPayloadSize: udpPayloadSize, dnssecOK: true)
        )
    }
}

public struct Question: Hashable, Sendable {
    public var name: DNSName
    public var type: RecordType
    public var dnsClass: DNSClass
    public init(name: DNSName, type: RecordType, dnsClass: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }
}

/// The OPT pseudo-record (RFC 6891 §6.1.2).
public struct EDNS: Hashable, Sendable {
    public var udpPayloadSize: UInt16
    public var version: UInt8
    public var dnssecOK: Bool
    public var options: [EDNSOption]

    public init(udpPayloadSize: UInt16, version: UInt8 = 0, dnssecOK: Bool = false, options: [EDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// RFC 8914 errors among the options, in the order sent.
    public var extendedErrors: [ExtendedDNSError] {
        options.filter { $0.code == ExtendedDNSError.optionCode }.compactMap { ExtendedDNSError(optionData: $0.data) }
    }
}

public struct EDNSOption: Hashable, Sendable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }

    public init(_ error: ExtendedDNSError) {
        self.init(code: ExtendedDNSError.optionCode, data: error.optionData)
    }
}

/// Why a message could not be parsed; `offset` is where in the message it went wrong.
public enum DNSWireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case badLabelType(offset: Int)
    case forwardPointer(offset: Int)
    case tooManyPointers(offset: Int)
    case nameTooLong(offset: Int)
    case badRDataLength(type: RecordType, offset: Int)
    case misplacedOPT(offset: Int)
    case multipleOPT

    public var description: String {
        switch self {
        case let .truncated(offset): return "message truncated at octet \(offset)"
        case let .badLabelType(offset): return "unsupported label type at octet \(offset)"
        case let .forwardPointer(offset): return "compression pointer at octet \(offset) does not point backwards"
        case let .tooManyPointers(offset): return "too many compression pointers in name at octet \(offset)"
        case let .nameTooLong(offset): return "name at octet \(offset) longer than 255 octets"
        case let .badRDataLength(type, offset): return "\(type) record data at octet \(offset) does not match its length"
        case let .misplacedOPT(offset): return "OPT record at octet \(offset) outside the additional section or not at the root"
        case .multipleOPT: return "more than one OPT record (RFC 6891 §6.1.1)"
        }
    }
}

// MARK: - Parsing

extension DNSMessage {
    /// A valid name has at most 127 labels, and each pointer but the first must follow a label,
    /// so more jumps than that can only be an attack on parse time.
    static let maxPointerJumps = 128

    public init(parsing bytes: [UInt8]) throws(DNSWireError) {
        var reader = WireReader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        isResponse = flags & 0x8000 != 0
        opcode = UInt8((flags >> 11) & 0x0F)
        authoritative = flags & 0x0400 != 0
        truncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        let headerRcode = flags & 0x000F
        let questionCount = try reader.u16()
        let answerCount = try reader.u16()
        let authorityCount = try reader.u16()
        let additionalCount = try reader.u16()

        questions = []
        for _ in 0..<questionCount {
            let name = try reader.name()
            let type = RecordType(rawValue: try reader.u16())
            let dnsClass = DNSClass(rawValue: try reader.u16())
            questions.append(Question(name: name, type: type, dnsClass: dnsClass))
        }
        answers = try reader.records(count: answerCount, section: .answer).records
        authorities = try reader.records(count: authorityCount, section: .authority).records
        let additional = try reader.records(count: additionalCount, section: .additional)
        additionals = additional.records
        edns = additional.opt?.edns
        let extended = UInt16(additional.opt?.extendedRcode ?? 0)
        rcode = ResponseCode(rawValue: extended << 4 | headerRcode)
    }
}

private enum Section { case answer, authority, additional }

private struct WireReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws(DNSWireError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(DNSWireError) -> UInt16 {
        guard offset + 2 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(DNSWireError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    mutating func take(_ count: Int) throws(DNSWireError) -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// RFC 1035 §4.1.4 name with compression. The reader continues after the name's first
    /// pointer (or its root label); the labels are collected by following pointers.
    mutating func name() throws(DNSWireError) -> DNSName {
        let start = offset
        var labels: [[UInt8]] = []
        var wireLength = 1
        var position = offset
        var resumeAt: Int?
        var jumps = 0
        while true {
            guard position < bytes.count else { throw .truncated(offset: position) }
            let length = bytes[position]
            switch length & 0xC0 {
            case 0x00:
                if length == 0 {
                    offset = resumeAt ?? position + 1
                    return DNSName(uncheckedLabels: labels)
                }
                let end = position + 1 + Int(length)
                guard end <= bytes.count else { throw .truncated(offset: position) }
                wireLength += 1 + Int(length)
                guard wireLength <= DNSName.maxWireLength else { throw .nameTooLong(offset: start) }
                labels.append(Array(bytes[(position + 1)..<end]))
                position = end
            case 0xC0:
                guard position + 1 < bytes.count else { throw .truncated(offset: position) }
                let target = Int(length & 0x3F) << 8 | Int(bytes[position + 1])
                // Strictly backwards: every jump lowers the position, so no loop is possible.
                guard target < position else { throw .forwardPointer(offset: position) }
                jumps += 1
                guard jumps <= DNSMessage.maxPointerJumps else { throw .tooManyPointers(offset: start) }
                if resumeAt == nil { resumeAt = position + 2 }
                position = target
            default:
                // 0x40 (extended label types, RFC 6891 §5) and the reserved 0x80.
                throw .badLabelType(offset: position)
            }
        }
    }

    struct OPT {
        var edns: EDNS
        var extendedRcode: UInt8
    }

    mutating func records(count: UInt16, section: Section) throws(DNSWireError) -> (records: [ResourceRecord], opt: OPT?) {
        var records: [ResourceRecord] = []
        var opt: OPT?
        for _ in 0..<count {
            let recordStart = offset
            let name = try name()
            let type = RecordType(rawValue: try u16())
            let classValue = try u16()
            let ttl = try u32()
            let length = Int(try u16())
            let dataStart = offset
            guard dataStart + length <= bytes.count else { throw .truncated(offset: dataStart) }
            if type == .opt {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root.
                guard section == .additional, name.labels.isEmpty else { throw .misplacedOPT(offset: recordStart) }
                guard opt == nil else { throw .multipleOPT }
                opt = try self.opt(payloadSize: classValue, ttl: ttl, end: dataStart + length)
                continue
            }
            let data = try recordData(type: type, end: dataStart + length)
            records.append(ResourceRecord(name: name, dnsClass: DNSClass(rawValue: classValue), ttl: ttl, data: data))
        }
        return (records, opt)
    }

    /// RFC 6891 §6.1.3: the TTL field carries EXTENDED-RCODE, VERSION and the DO bit.
    mutating func opt(payloadSize: UInt16, ttl: UInt32, end: Int) throws(DNSWireError) -> OPT {
        var options: [EDNSOption] = []
        while offset < end {
            let code = try u16()
            let length = Int(try u16())
            guard offset + length <= end else { throw .badRDataLength(type: .opt, offset: offset) }
            options.append(EDNSOption(code: code, data: try take(length)))
        }
        let edns = EDNS(
            udpPayloadSize: payloadSize, version: UInt8((ttl >> 16) & 0xFF),
            dnssecOK: ttl & 0x8000 != 0, options: options)
        return OPT(edns: edns, extendedRcode: UInt8(ttl >> 24))
    }

    mutating func recordData(type: RecordType, end: Int) throws(DNSWireError) -> RecordData {
        let start = offset
        let data: RecordData
        switch type {
        case .a:
            data = .a(IPAddress(bytes: try take(4)) ?? .v4(0, 0, 0, 0))
        case .aaaa:
            data = .aaaa(IPAddress(bytes: try take(16)) ?? .v4(0, 0, 0, 0))
        case .ns:
            data = .ns(try name())
        case .cname:
            data = .cname(try name())
        case .ptr:
            data = .ptr(try name())
        case .mx:
            data = .mx(MX(preference: try u16(), exchange: try name()))
        case .txt:
            // RFC 1035 §3.3.14: one or more <character-string>s. Empty RDATA is read as no
            // strings (RFC 6763 §6.1 asks clients to accept it), so that one such record does
            // not make the whole answer unreadable; a length octet read there would belong to
            // the next record.
            var strings: [[UInt8]] = []
            while offset < end {
                let length = Int(try u8())
                guard offset + length <= end else { throw .badRDataLength(type: type, offset: start) }
                strings.append(try take(length))
            }
            data = .txt(strings)
        case .soa:
            data = .soa(SOA(
                primary: try name(), mailbox: try name(), serial: try u32(), refresh: try u32(),
                retry: try u32(), expire: try u32(), minimum: try u32()))
        case .srv:
            data = .srv(SRV(priority: try u16(), weight: try u16(), port: try u16(), target: try name()))
        case .tlsa:
            guard end - offset >= 3 else { throw .badRDataLength(type: type, offset: start) }
            data = .tlsa(TLSA(usage: try u8(), selector: try u8(), matchingType: try u8(), data: try take(end - offset)))
        case .caa:
            // RFC 8659 §4.1: flags, tag length, tag of 1–15 ASCII letters and digits, value to
            // the end. A record outside that grammar is kept as octets, unaltered, rather
            // than decoded lossily.
            let raw = try take(end - start)
            let tagLength = raw.count >= 2 ? Int(raw[1]) : 0
            let tag = raw.dropFirst(2).prefix(tagLength)
            if (1...15).contains(tagLength), tag.count == tagLength,
                tag.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) })
            {
                data = .caa(CAA(flags: raw[0], tag: String(decoding: tag, as: UTF8.self), value: Array(raw.dropFirst(2 + tagLength))))
            } else {
                data = .unknown(type: type, data: raw)
            }
        default:
            data = .unknown(type: type, data: try take(end - offset))
        }
        guard offset == end else { throw .badRDataLength(type: type, offset: start) }
        return data
    }
}

// MARK: - Encoding

extension DNSMessage {
    /// The message in wire form, without name compression (RFC 1035 §4.1.4 makes it
    /// optional); used for queries and by test servers.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        out.appendU16(id)
        var flags: UInt16 = UInt16(opcode & 0x0F) << 11 | (rcode.rawValue & 0x0F)
        if isResponse { flags |= 0x8000 }
        if authoritative { flags |= 0x0400 }
        if truncated { flags |= 0x0200 }
        if recursionDesired { flags |= 0x0100 }
        if recursionAvailable { flags |= 0x0080 }
        if authenticData { flags |= 0x0020 }
        if checkingDisabled { flags |= 0x0010 }
        out.appendU16(flags)
        out.appendU16(UInt16(clamping: questions.count))
        out.appendU16(UInt16(clamping: answers.count))
        out.appendU16(UInt16(clamping: authorities.count))
        out.appendU16(UInt16(clamping: additionals.count + (edns == nil ? 0 : 1)))
        for question in questions {
            out.appendName(question.name)
            out.appendU16(question.type.rawValue)
            out.appendU16(question.dnsClass.rawValue)
        }
        for record in answers + authorities + additionals {
            out.appendRecord(record)
        }
        if let edns {
            out.append(0)  // root owner name
            out.appendU16(RecordType.opt.rawValue)
            out.appendU16(edns.udpPayloadSize)
            let ttl = UInt32(rcode.rawValue >> 4) << 24 | UInt32(edns.version) << 16 | (edns.dnssecOK ? 0x8000 : 0)
            out.appendU32(ttl)
            var data: [UInt8] = []
            for option in edns.options {
                data.appendU16(option.code)
                data.appendU16(UInt16(clamping: option.data.count))
                data += option.data
            }
            out.appendU16(UInt16(clamping: data.count))
            out += data
        }
        return out
    }
}

extension [UInt8] {
    mutating func appendU16(_ value: UInt16) {
        append(UInt8(value >> 8))
        append(UInt8(value & 0xFF))
    }

    mutating func appendU32(_ value: UInt32) {
        appendU16(UInt16(value >> 16))
        appendU16(UInt16(value & 0xFFFF))
    }

    mutating func appendName(_ name: DNSName) {
        for label in name.labels {
            append(UInt8(label.count))
            append(contentsOf: label)
        }
        append(0)
    }

    mutating func appendRecord(_ record: ResourceRecord) {
        appendName(record.name)
        appendU16(record.type.rawValue)
        appendU16(record.dnsClass.rawValue)
        appendU32(record.ttl)
        var data: [UInt8] = []
        switch record.data {
        case let .a(address), let .aaaa(address):
            data = address.bytes
        case let .ns(name), let .cname(name), let .ptr(name):
            data.appendName(name)
        case let .mx(mx):
            data.appendU16(mx.preference)
            data.appendName(mx.exchange)
        case let .txt(strings):
            for string in strings {
                data.append(UInt8(clamping: string.count))
                data += string.prefix(255)
            }
        case let .soa(soa):
            data.appendName(soa.primary)
            data.appendName(soa.mailbox)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { data.appendU32(value) }
        case let .srv(srv):
            data.appendU16(srv.priority)
            data.appendU16(srv.weight)
            data.appendU16(srv.port)
            data.appendName(srv.target)
        case let .tlsa(tlsa):
            data += [tlsa.usage, tlsa.selector, tlsa.matchingType] + tlsa.data
        case let .caa(caa):
            let tag = Array(caa.tag.utf8)
            data += [caa.flags, UInt8(clamping: tag.count)] + tag + caa.value
        case let .unknown(_, bytes):
            data = bytes
        }
        appendU16(UInt16(clamping: data.count))
        append(contentsOf: data)
    }
}
