import Foundation
import NIOSSL
import SASL
import SMTP

@testable import SMTPClient

/// Drives a session as a scripted server would, without sockets.
struct Driver {
    var session: ClientSession

    init(configure: (inout ClientConfiguration) -> Void = { _ in }) {
        var configuration = ClientConfiguration(localHostname: "client.example")
        configuration.makeNonce = { SASLNonce("fixedClientNonce")! }
        configure(&configuration)
        session = ClientSession(configuration: configuration)
    }

    /// A session that went through greeting and EHLO with these keyword lines and is ready.
    static func ready(_ keywords: [String], configure: (inout ClientConfiguration) -> Void = { _ in }) -> Driver {
        var driver = Driver(configure: configure)
        _ = driver.session.start()
        _ = driver.server("220 mx.example.org ESMTP\r\n")
        _ = driver.server(ehloReply(keywords))
        return driver
    }

    static func ehloReply(_ keywords: [String]) -> String {
        String(decoding: Reply(250, nil, ["mx.example.org"] + keywords).encoded(), as: UTF8.self)
    }

    /// The server sends `text`; returns what the session did.
    @discardableResult
    mutating func server(_ text: String) -> [ClientSession.Action] {
        session.received(Array(text.utf8))
    }
}

extension Array where Element == ClientSession.Action {
    /// Everything written, as text.
    var written: String {
        compactMap { action -> String? in
            if case let .write(bytes) = action { String(decoding: bytes, as: UTF8.self) } else { nil }
        }.joined()
    }

    var completed: TransactionResult? {
        for action in self { if case let .completed(result) = action { return result } }
        return nil
    }

    var failure: ClientError? {
        for action in self { if case let .failed(error) = action { return error } }
        return nil
    }

    var becameReady: Bool { contains(.ready) }
    var closes: Bool { contains(.close) }
}

extension TransactionResult {
    /// The error of each recipient, nil for delivered ones, in order.
    var errors: [ClientError?] {
        recipients.map { if case let .failed(error) = $0.outcome { error } else { nil } }
    }
}

func mailbox(_ address: String) -> Mailbox {
    let at = address.lastIndex(of: "@") ?? address.endIndex
    return Mailbox(localPart: String(address[..<at]), domain: String(address[address.index(after: at)...]))
}

func envelope(
    from sender: String = "sender@client.example", to recipients: [String], size: Int = 100, body: MailParameters.Body = .sevenBit,
    utf8Header: Bool = false, requireTLS: Bool = false
) -> OutboundEnvelope {
    OutboundEnvelope(
        sender: sender.isEmpty ? .null : .mailbox(mailbox(sender)), recipients: recipients.map { .mailbox(mailbox($0)) }, size: size,
        body: body, utf8Header: utf8Header, requireTLS: requireTLS)
}

func tlsState(verified: Bool, channelBinding: ChannelBinding? = nil) -> TLSConnectionState {
    TLSConnectionState(
        version: .tlsv13, serverName: "mx.example.org", peerCertificates: PeerCertificateChain(der: []),
        pkix: verified ? .verified : .failed(VerificationFailure(resultType: .certificateNotTrusted, reason: "self-signed")), dane: nil, channelBinding: channelBinding)
}
