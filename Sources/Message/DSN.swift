// Delivery status notifications: RFC 3464 in a multipart/report (RFC 6522), with the
// internationalized forms of RFC 6533 for messages that needed SMTPUTF8.

import Foundation

/// Why a DSN could not be written.
public enum DSNError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A DSN reports on at least one recipient (RFC 3464 §2: 1*per-recipient-fields).
    case noRecipients
    /// Not `class "." subject "." detail` with class 2, 4 or 5 and no leading zeros
    /// (RFC 3464 §2.3.4, RFC 3463 §2).
    case invalidStatus(recipient: String, status: String)
    /// Will-Retry-Until MUST NOT appear unless the action is "delayed" (RFC 3464 §2.3.9).
    case willRetryUntilNotDelayed(recipient: String)
    /// A field that must be ASCII in message/delivery-status (an MTA name, which must be in
    /// A-labels, an envelope id or a log id) has other characters (RFC 6533 §3: only the
    /// global form carries UTF-8).
    case nonASCIIField(field: String)
    /// A field value contains CR or LF (RFC 3464 §2.3.2: not allowed in a DSN field).
    case lineBreakInField(field: String)
    /// A diagnostic-type that is not an atom (RFC 3464 §2.1.2), e.g. "smtp".
    case invalidDiagnosticType(recipient: String, type: String)
    /// The DSN message itself could not be composed (an address, a line too long, ...).
    case compose(ComposeError)

    public var description: String {
        switch self {
        case .noRecipients:
            return "a DSN needs at least one recipient (RFC 3464 §2)"
        case .invalidStatus(let recipient, let status):
            return "\(recipient): invalid status code \"\(status)\" (RFC 3464 §2.3.4, RFC 3463 §2)"
        case .willRetryUntilNotDelayed(let recipient):
            return "\(recipient): Will-Retry-Until is only for delayed recipients (RFC 3464 §2.3.9)"
        case .nonASCIIField(let field):
            return "\(field): must be ASCII in message/delivery-status (RFC 6533 §3; MTA names as A-labels)"
        case .lineBreakInField(let field):
            return "\(field): value contains a line break (RFC 3464 §2.3.2)"
        case .invalidDiagnosticType(let recipient, let type):
            return "\(recipient): invalid diagnostic-type \"\(type)\" (RFC 3464 §2.1.2)"
        case .compose(let error):
            return error.description
        }
    }
}

/// A delivery status notification (RFC 3464) for one message, on one or more recipients.
///
/// The result is a multipart/report; report-type=delivery-status (RFC 6522 §3) of three
/// parts: a human-readable text/plain explanation, the machine-readable
/// message/delivery-status, and the original as text/rfc822-headers or message/rfc822
/// (`returnContent`, the RET parameter of RFC 3461 §4.3).
///
/// With `international` (the original needed SMTPUTF8), the second and third parts are
/// message/global-delivery-status and message/global-headers or message/global (RFC 6533 §4),
/// which carry UTF-8. Otherwise every line of the delivery-status part is ASCII: non-ASCII
/// addresses use the "utf-8" address type in its 7-bit xtext form (RFC 6533 §3), non-ASCII
/// words of a diagnostic become RFC 2047 encoded-words (RFC 3464 §2.1.1 names them for
/// comments; the reply text has no other 7-bit form, and readers decode them), and MTA names,
/// envelope and log ids, which have no such form, are rejected with `DSNError.nonASCIIField`.
///
/// The DSN is addressed to the original envelope sender (RFC 3464 §2) and must be sent with
/// a null reverse-path, MAIL FROM:<> (RFC 3464 §2, RFC 5321 §4.5.5); a message that
/// arrived with a null reverse-path gets no DSN at all.
public struct DeliveryStatusNotification: Hashable, Sendable {
    /// RFC 3464 §2.3.3.
    public enum Action: String, Hashable, Sendable, CaseIterable {
        case failed
        case delayed
        case delivered
        case relayed
        case expanded
    }

    /// What of the original goes back (RFC 3461 §4.3 RET=HDRS / RET=FULL).
    public enum ReturnContent: Hashable, Sendable {
        case none
        case headers
        case full
    }

    /// The per-recipient fields (RFC 3464 §2.3).
    public struct Recipient: Hashable, Sendable {
        /// The envelope recipient exactly as the reporting MTA accepted it (§2.3.2). Written
        /// as address type "rfc822", or "utf-8" when it has characters outside printable
        /// ASCII (RFC 6533 §3).
        public var finalRecipient: String
        /// The ORCPT address (RFC 3461 §4.2), xtext already decoded, when the sender gave one.
        public var originalRecipient: String?
        public var action: Action
        /// The enhanced status code, e.g. "5.1.1" (RFC 3463).
        public var status: String
        /// The reply as received, e.g. "550 5.1.1 user unknown" (§2.3.6). Line breaks of a
        /// multi-line reply become spaces.
        public var diagnosticCode: String?
        /// RFC 3464 §2.1.2: "smtp" for SMTP replies.
        public var diagnosticType: String
        /// The host name of the MTA that gave the diagnostic (§2.3.5, MTA-name-type "dns").
        public var remoteMTA: String?
        public var lastAttemptDate: Date?
        /// Only for "delayed" (§2.3.9).
        public var willRetryUntil: Date?
        /// The reporting MTA's id for the attempt (§2.3.8), e.g. a queue id.
        public var finalLogID: String?

        public init(finalRecipient: String, action: Action, status: String, originalRecipient: String? = nil,
                    diagnosticCode: String? = nil, diagnosticType: String = "smtp", remoteMTA: String? = nil,
                    lastAttemptDate: Date? = nil, willRetryUntil: Date? = nil, finalLogID: String? = nil) {
            self.finalRecipient = finalRecipient
            self.action = action
            self.status = status
            self.originalRecipient = originalRecipient
            self.diagnosticCode = diagnosticCode
            self.diagnosticType = diagnosticType
            self.remoteMTA = remoteMTA
            self.lastAttemptDate = lastAttemptDate
            self.willRetryUntil = willRetryUntil
            self.finalLogID = finalLogID
        }
    }

    /// The host name of the reporting MTA (§2.2.2), in A-labels.
    public var reportingMTA: String
    /// The From of the DSN: by default postmaster at the reporting MTA, since RFC 3464 §2 wants
    /// the address of a human responsible for the mail system there.
    public var from: Address
    /// The envelope sender of the original (its MAIL FROM), who receives the DSN.
    public var originalSender: Address
    /// The ENVID of the original (RFC 3461 §4.4, §2.2.1), xtext already decoded.
    public var originalEnvelopeID: String?
    /// The MTA the original came from (§2.2.4).
    public var receivedFromMTA: String?
    /// When the reporting MTA received the original (§2.2.5).
    public var arrivalDate: Date?
    /// The original's hold, "for;<seconds>" or "until;<date-time>": the Future-Release-Request
    /// field RFC 4865 §5.1.2 requires (with Arrival-Date) in a DSN about a held message.
    public var futureReleaseRequest: String?
    public var recipients: [Recipient]
    /// The original message as stored.
    public var original: [UInt8]
    public var returnContent: ReturnContent
    /// The original needed SMTPUTF8: use the RFC 6533 global types.
    public var international = false
    /// The path to the original sender offers 8BITMIME (RFC 6152), so parts may go as 8bit.
    /// Without it an 8-bit original is only returned as headers (message/rfc822 may not be
    /// encoded, RFC 2046 §5.2.1), and the global types go as quoted-printable or base64
    /// (RFC 6533 §4.5).
    public var allow8bit = false
    /// Replaces the generated explanation in the first part.
    public var explanation: String?

    public init(reportingMTA: String, originalSender: Address, recipients: [Recipient],
                original: [UInt8] = [], returnContent: ReturnContent = .headers) {
        self.reportingMTA = reportingMTA
        from = Address(displayName: "Mail Delivery System", localPart: "postmaster", domain: reportingMTA)
        self.originalSender = originalSender
        self.recipients = recipients
        self.original = original
        self.returnContent = returnContent
    }

    /// "Failure" when any recipient failed, else "Delay" when any is delayed, else "Success".
    public var subject: String {
        if recipients.contains(where: { $0.action == .failed }) { return "Delivery Status Notification (Failure)" }
        if recipients.contains(where: { $0.action == .delayed }) { return "Delivery Status Notification (Delay)" }
        return "Delivery Status Notification (Success)"
    }

    /// Builds the DSN message. `now` is its Date; the random source gives its Message-ID (at
    /// the reporting MTA) and then its boundary.
    public func compose(now: Date, zoneOffsetSeconds: Int = 0, using generator: inout some RandomNumberGenerator) throws(DSNError) -> ComposedMessage {
        guard !recipients.isEmpty else { throw .noRecipients }
        let returned = returnedPart()
        let statusBody = try deliveryStatus(zoneOffsetSeconds: zoneOffsetSeconds)
        do {
            var fields: [HeaderField] = []
            fields.append(try MIMEWriting.addressField("From", [from], smtputf8: international))
            fields.append(try MIMEWriting.addressField("To", [originalSender], smtputf8: international))
            fields.append(try MIMEWriting.textField("Subject", subject, smtputf8: international))
            fields.append(try MIMEWriting.structuredField("Date", MessageDate.format(now, zoneOffsetSeconds: zoneOffsetSeconds), smtputf8: international))
            let identifier = try MIMEWriting.generateMessageID(host: reportingMTA, smtputf8: international, using: &generator)
            fields.append(try MIMEWriting.structuredField("Message-ID", identifier, smtputf8: international))
            // RFC 3834 §5: a DSN is an automatic reply; responders must not answer it.
            fields.append(HeaderField(name: "Auto-Submitted", foldedValue: " auto-replied"))
            fields.append(HeaderField(name: "MIME-Version", foldedValue: " 1.0"))

            var parts = [MIMEWriting.textEntity(explanation ?? humanReadableText(returned: returned?.kind, zoneOffsetSeconds: zoneOffsetSeconds),
                                                subtype: "plain", allow8bit: allow8bit)]
            if international {
                // RFC 6533 §4.4: the global types may carry a transfer encoding.
                parts.append(MIMEWriting.leafEntity(statusBody, contentType: "message/global-delivery-status",
                                                    isText: true, allow8bit: allow8bit, extraFields: []))
            } else {
                // Checked ASCII by `deliveryStatus`; RFC 2045 §6.4 allows only 7bit, 8bit
                // or binary for message types anyway.
                parts.append(MIMEWriting.leafEntity(statusBody, contentTypeField: HeaderField(name: "Content-Type", foldedValue: " message/delivery-status"),
                                                    encoding: .sevenBit, isText: true, extraFields: []))
            }
            if let returned { parts.append(returned.entity) }
            let report = MIMEWriting.Entity(fields: [], content: .multipart(
                type: "multipart/report", parameters: [("report-type", "delivery-status")], parts: parts))
            let (bytes, boundaries) = try MIMEWriting.message(fields: fields, body: report, using: &generator)
            return ComposedMessage(bytes: bytes, messageID: identifier, boundaries: boundaries)
        } catch {
            throw .compose(error)
        }
    }

    // MARK: The delivery-status part

    /// The body of the message/delivery-status (or message/global-delivery-status) part:
    /// per-message fields, then each recipient's fields after an empty line (RFC 3464 §2.1,
    /// §2.3).
    func deliveryStatus(zoneOffsetSeconds: Int) throws(DSNError) -> [UInt8] {
        let global = international
        var out: [UInt8] = []
        func date(_ value: Date) -> String { MessageDate.format(value, zoneOffsetSeconds: zoneOffsetSeconds) }

        if let originalEnvelopeID {
            out += try field("Original-Envelope-Id", originalEnvelopeID)
        }
        out += try field("Reporting-MTA", "dns; " + reportingMTA)
        if let receivedFromMTA {
            out += try field("Received-From-MTA", "dns; " + receivedFromMTA)
        }
        if let arrivalDate {
            out += try field("Arrival-Date", date(arrivalDate))
        }
        if let futureReleaseRequest {
            out += try field("Future-Release-Request", futureReleaseRequest)
        }
        for recipient in recipients {
            let name = recipient.finalRecipient
            guard DeliveryStatusNotification.isValidStatus(recipient.status) else {
                throw .invalidStatus(recipient: name, status: recipient.status)
            }
            if recipient.willRetryUntil != nil && recipient.action != .delayed {
                throw .willRetryUntilNotDelayed(recipient: name)
            }
            out += MIMEWriting.crlf
            if let original = recipient.originalRecipient {
                out += try field("Original-Recipient", DeliveryStatusNotification.typedAddress(original, global: global))
            }
            out += try field("Final-Recipient", DeliveryStatusNotification.typedAddress(name, global: global))
            out += try field("Action", recipient.action.rawValue)
            out += try field("Status", recipient.status)
            if let remote = recipient.remoteMTA {
                out += try field("Remote-MTA", "dns; " + remote)
            }
            if let diagnostic = recipient.diagnosticCode {
                guard MIMEWriting.isToken(recipient.diagnosticType) else {
                    throw .invalidDiagnosticType(recipient: name, type: recipient.diagnosticType)
                }
                // Free text: RFC 2047-encoded where not ASCII, unless global (RFC 6533 §4.1).
                do {
                    out += try MIMEWriting.textField("Diagnostic-Code", "\(recipient.diagnosticType); \(diagnostic)", smtputf8: global).raw
                } catch {
                    throw .compose(error)
                }
            }
            if let last = recipient.lastAttemptDate {
                out += try field("Last-Attempt-Date", date(last))
            }
            if let logID = recipient.finalLogID {
                out += try field("Final-Log-ID", logID)
            }
            if let until = recipient.willRetryUntil {
                out += try field("Will-Retry-Until", date(until))
            }
        }
        // Belt and braces for the 7-bit form: nothing above may have let 8-bit through.
        if !global && out.contains(where: { $0 >= 0x80 }) { throw .nonASCIIField(field: "delivery-status") }
        return out
    }

    /// A structured DSN field, folded. Non-ASCII is rejected unless global.
    private func field(_ name: String, _ value: String) throws(DSNError) -> [UInt8] {
        if value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) { throw .lineBreakInField(field: name) }
        if !international && !value.unicodeScalars.allSatisfy(\.isASCII) { throw .nonASCIIField(field: name) }
        do {
            return try HeaderFolding.fold(name: name, value: value).raw
        } catch {
            throw .compose(ComposeError(error))
        }
    }

    /// RFC 3464 §2.3.4: status-code = DIGIT "." 1*3DIGIT "." 1*3DIGIT, sub-fields without
    /// leading zeros; RFC 3463 §3.1: the class is 2, 4 or 5.
    static func isValidStatus(_ status: String) -> Bool {
        let parts = status.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]) else { return false }
        return parts.dropFirst().allSatisfy { part in
            (1...3).contains(part.count) && part.allSatisfy { $0.isASCII && $0.isNumber } && (part.count == 1 || part.first != "0")
        }
    }

    /// `address-type ";" generic-address` (RFC 3464 §2.3.1, §2.3.2). Printable ASCII goes as
    /// "rfc822". Anything else goes as "utf-8" (RFC 6533 §3): in the global form as the raw
    /// utf-8-address when it has no control characters, otherwise (and always in the 7-bit
    /// form) with "\x{HEX}" for everything but QCHAR (utf-8-addr-xtext, which §3 requires in
    /// message/delivery-status; in the global form this is utf-8-addr-unitext).
    static func typedAddress(_ address: String, global: Bool) -> String {
        let scalars = address.unicodeScalars
        if scalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return "rfc822; " + address }
        let hasControl = scalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }
        if global && !hasControl { return "utf-8; " + address }
        var out = ""
        for scalar in scalars {
            let value = scalar.value
            // QCHAR: printable ASCII except SP, "\", "+" and "=".
            let isQChar = value > 0x20 && value < 0x7F && scalar != "\\" && scalar != "+" && scalar != "="
            if isQChar || (global && value >= 0xA0) {
                out.unicodeScalars.append(scalar)
            } else {
                let hex = String(value, radix: 16, uppercase: true)
                out += "\\x{" + (hex.count < 2 ? "0" + hex : hex) + "}"
            }
        }
        return "utf-8; " + out
    }

    // MARK: The returned original

    private enum ReturnedKind {
        case headers
        case full
        /// Full content was asked for but cannot go on this path; headers went instead.
        case headersInsteadOfFull
    }

    /// The third part. message/rfc822 may only be 7bit or 8bit (RFC 2046 §5.2.1), so an
    /// original that is neither (8-bit data on a 7-bit path, NUL, lines over 998 octets)
    /// goes back as headers only. The global types may be encoded (RFC 6533 §4.4, §4.5).
    private func returnedPart() -> (entity: MIMEWriting.Entity, kind: ReturnedKind)? {
        guard returnContent != .none, !original.isEmpty else { return nil }
        let canonical = TransferEncoder.canonicalLineEndings(original)
        let headers = HeaderSection(parsing: canonical).raw
        let headersType = international ? "message/global-headers" : "text/rfc822-headers"
        let headersPart = MIMEWriting.leafEntity(headers, contentType: headersType, isText: true, allow8bit: allow8bit, extraFields: [])
        guard returnContent == .full else { return (headersPart, .headers) }
        if international {
            return (MIMEWriting.leafEntity(canonical, contentType: "message/global", isText: true, allow8bit: allow8bit, extraFields: []), .full)
        }
        let encoding = TransferEncoder.choose(for: canonical, isText: true, allow8bit: allow8bit)
        guard encoding == .sevenBit || encoding == .eightBit else { return (headersPart, .headersInsteadOfFull) }
        let field = HeaderField(name: "Content-Type", foldedValue: " message/rfc822")
        return (MIMEWriting.leafEntity(canonical, contentTypeField: field, encoding: encoding, isText: true, extraFields: []), .full)
    }

    // MARK: The human-readable part

    private func humanReadableText(returned: ReturnedKind?, zoneOffsetSeconds: Int) -> String {
        var lines = ["This is the mail system at \(reportingMTA).", ""]
        if recipients.contains(where: { $0.action == .failed }) {
            lines.append("Your message could not be delivered to one or more recipients.")
        } else if recipients.contains(where: { $0.action == .delayed }) {
            lines.append("Your message has not been delivered to one or more recipients yet.")
            lines.append("The mail system will keep trying; there is no need to send it again.")
        } else {
            lines.append("Your message has been delivered as follows.")
        }
        let headings: [(Action, String)] = [
            (.failed, "Delivery failed permanently for:"),
            (.delayed, "Delivery is delayed for:"),
            (.delivered, "Delivered to:"),
            (.relayed, "Relayed to a system that may not report further on:"),
            (.expanded, "Delivered to, and forwarded to further addresses by:"),
        ]
        for (action, heading) in headings {
            let group = recipients.filter { $0.action == action }
            guard !group.isEmpty else { continue }
            lines += ["", heading]
            for recipient in group {
                lines.append("")
                lines.append("  " + recipient.finalRecipient)
                lines.append("    Status: " + DeliveryStatusNotification.statusDescription(recipient.status))
                if let remote = recipient.remoteMTA { lines.append("    Remote server: " + remote) }
                if let diagnostic = recipient.diagnosticCode {
                    let oneLine = diagnostic.split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }).joined(separator: " ")
                    lines.append("    Diagnostic: " + oneLine)
                }
                if let until = recipient.willRetryUntil {
                    lines.append("    Will retry until: " + MessageDate.format(until, zoneOffsetSeconds: zoneOffsetSeconds))
                }
            }
        }
        switch returned {
        case .headers: lines += ["", "The headers of your message are attached."]
        case .full: lines += ["", "Your message is attached."]
        case .headersInsteadOfFull:
            lines += ["", "The headers of your message are attached; the whole message", "could not be returned on this path."]
        case nil: break
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// "5.1.1 (permanent failure: Bad destination mailbox address)" (RFC 3463 §3.1, §3.3+).
    static func statusDescription(_ status: String) -> String {
        let parts = status.split(separator: ".")
        guard parts.count == 3 else { return status }
        let kind: String
        switch parts[0] {
        case "2": kind = "success"
        case "4": kind = "temporary failure"
        default: kind = "permanent failure"
        }
        if let detail = statusDetails["\(parts[1]).\(parts[2])"] { return "\(status) (\(kind): \(detail))" }
        return "\(status) (\(kind))"
    }

    /// Subject and detail texts of RFC 3463 §3.3–§3.9 and RFC 6531 §4.2.
    static let statusDetails: [String: String] = [
        "0.0": "Other undefined status",
        "1.0": "Other address status",
        "1.1": "Bad destination mailbox address",
        "1.2": "Bad destination system address",
        "1.3": "Bad destination mailbox address syntax",
        "1.4": "Destination mailbox address ambiguous",
        "1.5": "Destination address valid",
        "1.6": "Destination mailbox has moved, no forwarding address",
        "1.7": "Bad sender's mailbox address syntax",
        "1.8": "Bad sender's system address",
        "2.0": "Other or undefined mailbox status",
        "2.1": "Mailbox disabled, not accepting messages",
        "2.2": "Mailbox full",
        "2.3": "Message length exceeds administrative limit",
        "2.4": "Mailing list expansion problem",
        "3.0": "Other or undefined mail system status",
        "3.1": "Mail system full",
        "3.2": "System not accepting network messages",
        "3.3": "System not capable of selected features",
        "3.4": "Message too big for system",
        "3.5": "System incorrectly configured",
        "4.0": "Other or undefined network or routing status",
        "4.1": "No answer from host",
        "4.2": "Bad connection",
        "4.3": "Directory server failure",
        "4.4": "Unable to route",
        "4.5": "Mail system congestion",
        "4.6": "Routing loop detected",
        "4.7": "Delivery time expired",
        "5.0": "Other or undefined protocol status",
        "5.1": "Invalid command",
        "5.2": "Syntax error",
        "5.3": "Too many recipients",
        "5.4": "Invalid command arguments",
        "5.5": "Wrong protocol version",
        "6.0": "Other or undefined media error",
        "6.1": "Media not supported",
        "6.2": "Conversion required and prohibited",
        "6.3": "Conversion required but not supported",
        "6.4": "Conversion with loss performed",
        "6.5": "Conversion failed",
        "6.7": "Non-ASCII addresses not permitted for that sender/recipient",
        "6.8": "UTF-8 string reply is required, but not permitted by the SMTP client",
        "6.9": "UTF-8 header message cannot be transferred to one or more recipients",
        "7.0": "Other or undefined security status",
        "7.1": "Delivery not authorized, message refused",
        "7.2": "Mailing list expansion prohibited",
        "7.3": "Security conversion required but not possible",
        "7.4": "Security features not supported",
        "7.5": "Cryptographic failure",
        "7.6": "Cryptographic algorithm not supported",
        "7.7": "Message integrity failure",
    ]
}
