// The operator's control of the queue over a local socket (`tern queue ...` talking to a
// running `tern serve`): one JSON request per line, one JSON response per line. The types
// are the wire format; `OutboundQueue.handle` carries the requests out. The transport (a
// Unix socket) is ServerSupport's and the wiring the executable's.
import DurableFiles
import Foundation
import SMTP

/// One operator request. Every filter given must match; none matches every message.
public struct QueueControlRequest: Codable, Sendable, Hashable {
    public enum Operation: String, Codable, Sendable, Hashable, CaseIterable {
        case list, hold, release, kick, drop, transport, dump
        case requireTLS = "requiretls"
    }

    public var operation: Operation
    public var ids: [Int64]?
    /// Recipient domain.
    public var domain: String?
    public var senderDomain: String?
    /// For `transport`: the name to use; nil returns the messages to the routes.
    public var transport: String?
    /// For `requiretls`.
    public var tlsRequirement: TLSRequirement?

    public init(
        operation: Operation, ids: [Int64]? = nil, domain: String? = nil, senderDomain: String? = nil, transport: String? = nil,
        tlsRequirement: TLSRequirement? = nil
    ) {
        self.operation = operation
        self.ids = ids
        self.domain = domain
        self.senderDomain = senderDomain
        self.transport = transport
        self.tlsRequirement = tlsRequirement
    }

    public var filter: QueueFilter {
        QueueFilter(ids: ids, recipientDomain: domain, senderDomain: senderDomain)
    }
}

/// A queued message as the operator sees it.
public struct QueueListing: Codable, Sendable, Hashable {
    public struct Recipient: Codable, Sendable, Hashable {
        public var address: String
        /// pending, delivered or failed.
        public var state: String
        /// The last failure's diagnostic with its enhanced status code.
        public var lastFailure: String?

        public init(address: String, state: String, lastFailure: String?) {
            self.address = address
            self.state = state
            self.lastFailure = lastFailure
        }
    }

    public var id: Int64
    /// The reverse-path, "" for the null sender (a DSN).
    public var sender: String
    /// The account that submitted it (its routes apply); nil for the server's own mail.
    public var account: String?
    public var domain: String
    public var recipients: [Recipient]
    public var size: Int
    public var attempts: Int
    public var created: Date
    public var nextAttempt: Date
    /// Held for future release until then (RFC 4865); nil: not held that way.
    public var releaseAt: Date?
    public var held: Bool
    public var transport: String?
    public var tlsRequirement: TLSRequirement

    public init(_ message: QueuedMessage) {
        id = message.id
        sender = message.sender.mailbox.map { "\($0)" } ?? ""
        account = message.account
        domain = message.domain
        recipients = message.recipients.map {
            Recipient(address: "\($0.address)", state: $0.state.rawValue, lastFailure: $0.lastFailure.map { "\($0.status) \($0.diagnostic)" })
        }
        size = message.size
        attempts = message.attempts
        created = message.created
        nextAttempt = message.nextAttempt
        releaseAt = message.releaseAt
        held = message.held
        transport = message.transport
        tlsRequirement = message.tlsRequirement
    }
}

public struct QueueControlResponse: Codable, Sendable, Hashable {
    /// Set when the request failed; the other fields are then absent.
    public var error: String?
    /// For `list`.
    public var messages: [QueueListing]?
    /// For the operations that change messages: how many changed.
    public var count: Int?
    /// For `dump`: the message file, base64.
    public var content: String?

    public init(error: String? = nil, messages: [QueueListing]? = nil, count: Int? = nil, content: String? = nil) {
        self.error = error
        self.messages = messages
        self.count = count
        self.content = content
    }
}

public enum QueueControl {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// The response line for a request line; anything malformed gets an error response.
    public static func respond(to line: [UInt8], queue: OutboundQueue) async -> [UInt8] {
        let response: QueueControlResponse
        do {
            let request = try decoder().decode(QueueControlRequest.self, from: Data(line))
            response = await queue.handle(request)
        } catch {
            response = QueueControlResponse(error: "malformed request: \(error)")
        }
        return encode(response)
    }

    public static func encode(_ response: QueueControlResponse) -> [UInt8] {
        // JSONEncoder escapes control characters, so the line holds no LF.
        (try? Array(encoder().encode(response))) ?? Array(#"{"error":"cannot encode the response"}"#.utf8)
    }

    /// The response to a request line over the server's limit.
    public static let oversizedResponse = encode(QueueControlResponse(error: "request too long"))

    static let noMatch = "no queued message matches"
}

extension OutboundQueue {
    /// Carries out one operator request. Operations that change messages, and `dump`, fail
    /// when nothing matches, so a mistyped id is noticed rather than reported as "0 done".
    public func handle(_ request: QueueControlRequest) async -> QueueControlResponse {
        let filter = request.filter
        do {
            let count: Int
            switch request.operation {
            case .list:
                return QueueControlResponse(messages: try await list(filter).map(QueueListing.init))
            case .dump:
                guard let ids = request.ids, ids.count == 1, let message = try await store.message(ids[0]) else {
                    return QueueControlResponse(error: request.ids?.count == 1 ? Self.noMatchText(request) : "dump needs exactly one message id")
                }
                let path = store.path(forFile: message.fileID)
                let bytes = try await blockingIO { () throws -> Data in try Data(contentsOf: URL(fileURLWithPath: path)) }
                return QueueControlResponse(content: bytes.base64EncodedString())
            case .hold: count = try await hold(filter)
            case .release: count = try await release(filter)
            case .kick: count = try await kick(filter)
            case .drop: count = try await drop(filter)
            case .transport: count = try await changeTransport(filter, to: request.transport)
            case .requireTLS:
                guard let requirement = request.tlsRequirement else { return QueueControlResponse(error: "requiretls needs yes, no or default") }
                count = try await changeTLSRequirement(filter, to: requirement)
            }
            logger.info("queue operation", metadata: ["operation": "\(request.operation.rawValue)", "count": "\(count)"])
            guard count > 0 else { return QueueControlResponse(error: Self.noMatchText(request)) }
            return QueueControlResponse(count: count)
        } catch let QueueError.unknownTransport(name) {
            return QueueControlResponse(error: "no transport named \(name); transports: \(transportNames.joined(separator: ", "))")
        } catch {
            logger.error("queue operation failed", metadata: ["operation": "\(request.operation.rawValue)", "error": "\(error)"])
            return QueueControlResponse(error: "\(error)")
        }
    }

    private static func noMatchText(_ request: QueueControlRequest) -> String {
        // Drop leaves messages whose attempt is running alone (QueueStore.drop).
        request.operation == .drop ? QueueControl.noMatch + " (or the matching ones are being delivered right now)" : QueueControl.noMatch
    }
}
