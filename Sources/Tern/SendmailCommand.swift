import ArgumentParser
import Config
import DNS
import Foundation
import Logging
import Message
import SASL
import SMTP
import SMTPClient

/// `tern sendmail`: the sendmail interface that cron, scripts and mail user agents call,
/// submitting the message on stdin to a submission server (RFC 6409) with the settings of a
/// small file (`SubmitConfig`). Nothing is queued locally: the exit status says whether the
/// server took the message, with sendmail's sysexits codes so callers can retry on 75.
///
/// The message is sent as given, apart from line endings (made CRLF, RFC 5321 §2.3.8) and,
/// with -t, the Bcc fields (removed, RFC 5322 §3.6.3). Date and Message-ID are left to the
/// submission server, which RFC 6409 §8.2 and §8.3 let add them.
struct SendmailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sendmail",
        abstract: "Submit a message read from stdin, as the sendmail interface programs call.",
        usage: "tern sendmail [--config FILE] [-t] [-i] [-f SENDER] [RECIPIENT ...] < message",
        discussion: """
            Options: -t takes recipients from the To, Cc and Bcc fields and removes Bcc; -f \
            SENDER (or -fSENDER, -r) sets the envelope sender (default: From in the config \
            file); -i or -oi: a line with a single dot does not end the message (without \
            them it does, as in sendmail). Accepted and ignored, as sendmail callers pass \
            them: -o* (e.g. -odi, -oem), -F NAME, -B TYPE, -N DSN, -R RET, -V ENVID, -bm, \
            -U, -v, -m. --config FILE (default: \(SubmitConfig.defaultPath); environment: \
            TERN_SUBMIT_CONFIG) holds the submission settings:

            \(SubmitConfig.example)
            Exit status (sysexits): 0 sent; 64 usage error; 65 malformed message or address; \
            68 host not found; 69 refused permanently; 75 temporary failure, try again; 78 \
            configuration error.
            """
    )

    @Argument(parsing: .captureForPassthrough, help: "Options and recipients, as for sendmail.")
    var arguments: [String] = []

    func run() async throws {
        let status = await Sendmail.main(arguments: arguments)
        if status != Sysexits.ok { throw ExitCode(status) }
    }
}

/// The exit codes of BSD's sysexits.h that sendmail callers act on.
enum Sysexits {
    static let ok: Int32 = 0
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noHost: Int32 = 68
    static let unavailable: Int32 = 69
    static let tempFail: Int32 = 75
    static let config: Int32 = 78
}

struct SendmailFailure: Error, CustomStringConvertible {
    var status: Int32
    var description: String
    init(_ status: Int32, _ description: String) {
        self.status = status
        self.description = description
    }
}

/// The command line, parsed the way sendmail parses it (flags with attached or separate
/// values, `-o` options as one word).
struct SendmailArguments: Equatable {
    var configPath: String?
    var logLevel = "error"
    var recipientsFromHeader = false
    /// -i/-oi: a lone "." line is data, not the end of the message.
    var ignoreDots = false
    var sender: String?
    var recipients: [String] = []
    var help = false

    /// Flags whose value is taken and ignored.
    static let ignoredWithValue: Set<Character> = ["F", "B", "N", "R", "V", "L"]
    static let ignoredAlone: Set<String> = ["-bm", "-U", "-v", "-m"]

    init(_ arguments: [String]) throws(SendmailFailure) {
        var index = 0
        func value(_ flag: String, attached: Substring) throws(SendmailFailure) -> String {
            if !attached.isEmpty { return String(attached) }
            index += 1
            guard index < arguments.count else { throw SendmailFailure(Sysexits.usage, "\(flag) needs a value") }
            return arguments[index]
        }
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            defer { index += 1 }
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                recipients.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "--help" || argument == "-h" {
                help = true
                continue
            }
            if argument.hasPrefix("--config") {
                configPath = try value("--config", attached: argument.dropFirst("--config".count).drop { $0 == "=" })
                continue
            }
            if argument.hasPrefix("--log-level") {
                logLevel = try value("--log-level", attached: argument.dropFirst("--log-level".count).drop { $0 == "=" })
                continue
            }
            let flag = argument.dropFirst()
            switch flag.first {
            case "t" where flag == "t": recipientsFromHeader = true
            case "i" where flag == "i": ignoreDots = true
            case "o":
                if flag == "oi" { ignoreDots = true }
            // Other -o options (-odi, -oem, -oQ...) tune sendmail's own queue: ignored.
            case "f", "r":
                sender = try value(argument.prefix(2).description, attached: flag.dropFirst())
            case let letter? where Self.ignoredWithValue.contains(letter):
                _ = try value(argument.prefix(2).description, attached: flag.dropFirst())
            default:
                guard Self.ignoredAlone.contains(argument) else {
                    throw SendmailFailure(Sysexits.usage, "unknown option \(argument) (tern sendmail --help lists the options)")
                }
            }
        }
    }
}

/// What goes to the server: the envelope and the message as it will be sent.
struct PreparedSubmission: Equatable {
    var sender: Mailbox
    var recipients: [Mailbox]
    var message: [UInt8]
    var body: MailParameters.Body
    var utf8Header: Bool

    /// The largest message read from stdin.
    static let maxMessageSize = 256 * 1024 * 1024

    init(input: [UInt8], arguments: SendmailArguments, defaultSender: String?) throws(SendmailFailure) {
        guard input.count <= Self.maxMessageSize else {
            throw SendmailFailure(Sysexits.dataError, "the message is larger than \(Self.maxMessageSize) bytes")
        }
        var message = Self.normalized(input, stopAtDot: !arguments.ignoreDots)
        var recipientTexts = arguments.recipients
        if arguments.recipientsFromHeader {
            let header = HeaderSection(parsing: message)
            for name in ["To", "Cc", "Bcc"] { recipientTexts += header.all(name) }
            // RFC 5322 §3.6.3: Bcc recipients must not be seen by the others; the simplest of
            // its ways is to remove the field from what is sent.
            message = Self.removingFields("Bcc", of: header, from: message)
        }
        var recipients: [Mailbox] = []
        for text in recipientTexts {
            let items: [AddressListItem]
            do {
                items = try AddressList.parse(text)
            } catch {
                throw SendmailFailure(Sysexits.dataError, "invalid recipient address \(text): \(error)")
            }
            for address in AddressList.mailboxes(items) {
                let mailbox = Mailbox(localPart: address.localPart, domain: address.domain)
                if !recipients.contains(mailbox) { recipients.append(mailbox) }
            }
        }
        guard !recipients.isEmpty else {
            throw SendmailFailure(Sysexits.usage, arguments.recipientsFromHeader ? "no recipients in To, Cc or Bcc, nor as arguments" : "no recipients (give them as arguments, or -t)")
        }
        guard let senderText = arguments.sender ?? defaultSender else {
            throw SendmailFailure(Sysexits.config, "no sender: give -f, or From in the configuration file")
        }
        let sender: Address
        do {
            sender = try AddressList.parseMailbox(senderText)
        } catch {
            throw SendmailFailure(Sysexits.dataError, "invalid sender address \(senderText): \(error)")
        }
        self.sender = Mailbox(localPart: sender.localPart, domain: sender.domain)
        self.recipients = recipients
        self.message = message
        let headerLength = HeaderSection(parsing: message).length
        // RFC 6152 8BITMIME for 8-bit octets; RFC 6531/6532 SMTPUTF8 for UTF-8 in the header.
        body = message.contains { $0 >= 0x80 } ? .eightBitMIME : .sevenBit
        utf8Header = message[..<min(headerLength, message.count)].contains { $0 >= 0x80 }
    }

    /// `message` without the fields named `name`; every other octet (malformed lines too)
    /// stays as it was.
    static func removingFields(_ name: String, of header: HeaderSection, from message: [UInt8]) -> [UInt8] {
        let end = min(header.length, message.count)
        var output: [UInt8] = []
        var cursor = 0
        for field in header.fields where field.is(name) {
            guard let range = message[cursor..<end].firstRange(of: field.raw) else { continue }
            output += message[cursor..<range.lowerBound]
            cursor = range.upperBound
        }
        return output + message[cursor...]
    }

    /// Lines ended with CRLF (RFC 5321 §2.3.8: bare LF is not allowed in SMTP), the last one
    /// too; without -i, input ends at a line holding a single ".", as sendmail's does.
    static func normalized(_ input: [UInt8], stopAtDot: Bool) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count + input.count / 40)
        var lineStart = 0
        var index = 0
        while index < input.count {
            guard input[index] == 0x0A else {
                index += 1
                continue
            }
            var end = index
            if end > lineStart, input[end - 1] == 0x0D { end -= 1 }
            if stopAtDot, end - lineStart == 1, input[lineStart] == 0x2E { return output }
            output += input[lineStart..<end]
            output += [0x0D, 0x0A]
            index += 1
            lineStart = index
        }
        if lineStart < input.count {
            var end = input.count
            if input[end - 1] == 0x0D { end -= 1 }
            if !(stopAtDot && end - lineStart == 1 && input[lineStart] == 0x2E) {
                output += input[lineStart..<end]
                output += [0x0D, 0x0A]
            }
        }
        return output
    }
}

enum Sendmail {
    static func main(arguments: [String]) async -> Int32 {
        let parsed: SendmailArguments
        do {
            parsed = try SendmailArguments(arguments)
        } catch {
            printError("tern sendmail: \(error)")
            return error.status
        }
        if parsed.help {
            print(SendmailCommand.helpMessage())
            return Sysexits.ok
        }
        var logOptions = LogOptions()
        logOptions.logLevel = parsed.logLevel
        do {
            try logOptions.bootstrap()
        } catch {
            printError("tern sendmail: \(error)")
            return Sysexits.usage
        }
        let environment = ProcessInfo.processInfo.environment
        let path = parsed.configPath ?? environment["TERN_SUBMIT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? SubmitConfig.defaultPath
        let config: SubmitConfig
        do {
            config = try SubmitConfig.load(path: path)
        } catch {
            for problem in error.errors { printError("\(problem)") }
            return Sysexits.config
        }
        do {
            let input = try FileHandle.standardInput.readToEnd() ?? Data()
            let submission = try PreparedSubmission(input: Array(input), arguments: parsed, defaultSender: config.from)
            try await submit(submission, config: config)
            return Sysexits.ok
        } catch let failure as SendmailFailure {
            printError("tern sendmail: \(failure)")
            return failure.status
        } catch {
            printError("tern sendmail: reading the message: \(error)")
            return Sysexits.dataError
        }
    }

    static func submit(_ submission: PreparedSubmission, config: SubmitConfig) async throws(SendmailFailure) {
        let logger = Logger(label: "sendmail")
        let addresses = try await addresses(of: config.host)
        var tls = TLSSettings()
        tls.serverName = IPAddress(config.host) == nil ? config.host : nil
        switch config.security {
        case .startTLS: tls.required = true
        case .implicitTLS: tls.implicitTLS = true
        case .none: tls.useSTARTTLS = false
        }
        if config.security != .none {
            tls.pkix = PKIXVerification(names: [config.host])
            tls.ignoreVerificationErrors = config.ignoreVerificationErrors
        }
        let authentication = config.username.map {
            // RFC 4954 §4: plaintext mechanisms without TLS only where the config allowed
            // None, which it does for loopback hosts only.
            ClientAuthentication(
                credentials: SASLClientCredentials(username: $0, password: config.password ?? ""), allowPlaintextWithoutTLS: config.security == .none)
        }
        let hostname = ProcessInfo.processInfo.hostName
        let configuration = ClientConfiguration(
            localHostname: (try? Domain(hostname)) != nil ? hostname : "localhost", tls: tls, authentication: authentication)
        let envelope = OutboundEnvelope(
            sender: .mailbox(submission.sender), recipients: submission.recipients.map { .mailbox($0) }, size: submission.message.count,
            body: submission.body, utf8Header: submission.utf8Header)
        var lastError: ClientError?
        for address in addresses {
            do {
                let result = try await ClientConnection.withConnection(to: address, port: config.port, configuration: configuration, logger: logger) {
                    await $0.deliver(envelope, content: MessageBytes(submission.message))
                }
                try report(result)
                return
            } catch let error as ClientError {
                lastError = error
                // Another address of the host may answer; a server's answer is final.
                guard error.step == .connect else { break }
            } catch let failure as SendmailFailure {
                throw failure
            } catch {
                throw SendmailFailure(Sysexits.tempFail, "\(error)")
            }
        }
        let error = lastError.map { "\($0)" } ?? "no address"
        throw SendmailFailure(lastError?.isPermanent ?? false ? Sysexits.unavailable : Sysexits.tempFail, "submission to \(config.host):\(config.port) failed: \(error)")
    }

    /// Every recipient must be taken; otherwise the caller learns which were not, with a
    /// status that says whether trying again can help.
    static func report(_ result: TransactionResult) throws(SendmailFailure) {
        let failed = result.failed
        guard !failed.isEmpty, !result.recipients.isEmpty else {
            if result.recipients.isEmpty { throw SendmailFailure(Sysexits.tempFail, "the connection ended before the message was sent") }
            return
        }
        let text = failed.map { "\($0.recipient): \($0.error)" }.joined(separator: "; ")
        let permanent = failed.allSatisfy { $0.error.isPermanent }
        let delivered = result.delivered.count
        throw SendmailFailure(
            permanent ? Sysexits.unavailable : Sysexits.tempFail,
            (delivered > 0 ? "sent to \(delivered) recipient(s), but not to: " : "not sent: ") + text)
    }

    /// The submission host's addresses: an IP address as is, localhost as loopback (RFC 6761
    /// §6.3: never asked of DNS), anything else from DNS.
    static func addresses(of host: String) async throws(SendmailFailure) -> [IPAddress] {
        if let literal = IPAddress(host) { return [literal] }
        if host.lowercased() == "localhost" { return [.v4(127, 0, 0, 1)] }
        do {
            let name = try DNSName(host)
            let found = try await Dialing.gatherAddresses(of: name, resolver: try makeResolver(nil)).addresses
            guard !found.isEmpty else { throw SendmailFailure(Sysexits.noHost, "\(host) has no addresses") }
            return found
        } catch let error as DialingError {
            throw SendmailFailure(error.isPermanent ? Sysexits.noHost : Sysexits.tempFail, "looking up \(host): \(error.text)")
        } catch let failure as SendmailFailure {
            throw failure
        } catch {
            throw SendmailFailure(Sysexits.noHost, "looking up \(host): \(error)")
        }
    }
}
