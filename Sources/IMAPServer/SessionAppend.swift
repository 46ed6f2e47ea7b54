#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DurableFiles
import Foundation
import IMAP
import Store

/// An APPEND whose messages are arriving (RFC 9051 §6.3.12, RFC 3502 MULTIAPPEND). A small
/// message is kept in memory and written once, to its place in the account; a larger one
/// is written to its own file in the store's tmp directory as it arrives, then linked into
/// place. The messages are stored when the command is complete.
final class PendingAppend {
    struct Message {
        /// The octets so far (`.bytes`), or the temporary file they go to (`.file`).
        var source: MessageSource
        var options: AppendMessage
    }

    /// A message up to this size (its literal's announced size) is kept in memory, as long
    /// as the APPEND's messages in memory stay within `memoryBudget`: a file in tmp, linked
    /// and read back, costs a small message more than the message itself.
    static let memoryMessageLimit: UInt64 = 64 * 1024
    static let memoryBudget: UInt64 = 1024 * 1024

    let tag: Tag
    let mailbox: MailboxID
    private(set) var messages: [Message] = []
    private var inMemory: UInt64 = 0
    private var descriptor: Int32 = -1
    var writeError: Int32?
    /// Set when the APPEND is refused before its end; the rest of it is ignored.
    var refusal: StatusResponse?

    init(tag: Tag, mailbox: MailboxID) {
        self.tag = tag
        self.mailbox = mailbox
    }

    func begin(_ options: AppendMessage, directory: String) {
        if options.size <= Self.memoryMessageLimit, inMemory + options.size <= Self.memoryBudget {
            inMemory += options.size
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(options.size))
            messages.append(Message(source: .bytes(bytes), options: options))
            return
        }
        let path = "\(directory)/imap-append-\(UInt64.random(in: .min ... .max))"
        descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor < 0 { writeError = errno }
        messages.append(Message(source: .file(path), options: options))
    }

    func write(_ bytes: [UInt8]) {
        guard let last = messages.indices.last else { return }
        if case .bytes(var buffer) = messages[last].source {
            messages[last].source = .bytes([])  // keeps the buffer uniquely referenced
            buffer += bytes
            messages[last].source = .bytes(buffer)
            return
        }
        guard descriptor >= 0, writeError == nil else { return }
        writeError = FileIO.writeAll(descriptor, bytes)
    }

    func end() {
        if descriptor >= 0 { _ = close(descriptor) }
        descriptor = -1
    }

    /// Removes every temporary file (the stored messages are hard links or copies).
    func discard() {
        end()
        for message in messages {
            if case let .file(path) = message.source { unlink(path) }
        }
    }
}

extension IMAPSession {
    func appendStart(tag: Tag, mailbox name: MailboxName) async {
        pendingAppend?.discard()
        pendingAppend = nil
        guard state == .authenticated || state == .selected, let account else {
            sendTagged(tag, .bad("log in first"))
            parser.discardCommand()
            return
        }
        do {
            guard let mailbox = try await account.mailboxID(named: name.name) else {
                // RFC 9051 §6.3.12: TRYCREATE, before the client sends the message.
                sendTagged(tag, .no("no such mailbox", code: .tryCreate))
                parser.discardCommand()
                return
            }
            pendingAppend = PendingAppend(tag: tag, mailbox: mailbox)
        } catch let error as StoreError {
            sendTagged(tag, Self.status(for: error))
            parser.discardCommand()
        } catch {
            sendTagged(tag, .no("internal error", code: .serverBug))
            parser.discardCommand()
        }
    }

    func appendMessageBegin(_ message: AppendMessage) {
        guard let append = pendingAppend else { return }
        if append.messages.count >= settings.limits.maxMessagesPerAppend {
            append.discard()
            pendingAppend = nil
            sendTagged(append.tag, .no("too many messages in one APPEND", code: .limit))
            parser.discardCommand()
            return
        }
        append.begin(message, directory: settings.temporaryDirectory)
    }

    func appendBytes(_ bytes: [UInt8]) {
        pendingAppend?.write(bytes)
    }

    func appendMessageEnd() {
        pendingAppend?.end()
    }

    /// The APPEND is complete: store every message, or none (RFC 3502 §6), then answer.
    func appendEnd() async throws -> SessionSignal? {
        guard let append = pendingAppend else { return nil }
        pendingAppend = nil
        defer { append.discard() }
        let status: StatusResponse
        do {
            status = try await store(append)
        } catch let error as StoreError {
            status = Self.status(for: error)
        } catch let error as SessionError {
            status = error.status
        } catch let error as SessionWriteError {
            throw error
        } catch {
            logger.error("APPEND failed", metadata: ["error": "\(error)"])
            status = .no("internal error", code: .serverBug)
        }
        if state == .selected, let signal = try await synchronize(expunges: true) { return signal }
        sendTagged(append.tag, status)
        return nil
    }

    private func store(_ append: PendingAppend) async throws -> StatusResponse {
        let account = try requireAccount()
        if let code = append.writeError {
            logger.error("cannot write appended message", metadata: ["error": "\(String(cString: strerror(code)))"])
            return .no("cannot store the message now", code: .unavailable)
        }
        var stored: [AppendResult] = []
        do {
            for message in append.messages {
                let (system, keywords) = Self.storeFlags(message.options.flags)
                // The message is complete (a file is closed); Account.append writes or links
                // it into the account and returns once it is durable (DESIGN.md).
                let result = try await account.append(
                    to: append.mailbox, message.source, flags: system, keywords: keywords,
                    internalDate: message.options.internalDate.map { ($0.instant, $0.zoneMinutes) })
                stored.append(result)
            }
        } catch {
            // RFC 3502 §6: all or nothing; the ones stored are removed again.
            if !stored.isEmpty {
                let uids = UIDSet(stored.map(\.uid))
                _ = try? await account.storeFlags(in: append.mailbox, uids: uids, .add, flags: .deleted)
                _ = try? await account.expunge(in: append.mailbox, uids: uids)
            }
            throw error
        }
        guard let first = stored.first else { return .ok("APPEND completed") }
        return .ok("APPEND completed", code: .appendUID(uidValidity: first.uidValidity, uids: NumberSet(stored.map(\.uid))))
    }
}
