import Foundation
import IMAP
import Message
import Store

extension IMAPSession {
    /// Data up to this size goes into the response whole (quoted where it can); larger data
    /// is streamed from the message file as a literal, in chunks of `streamChunk`.
    static let inlineLimit = 16 * 1024
    static let streamChunk = 64 * 1024
    /// Messages read from the database in one trip by FETCH and SEARCH.
    static let fetchBatch = 256

    // MARK: FETCH (RFC 9051 §6.4.5; RFC 7162 §3.1.4 CHANGEDSINCE, §3.2.6 VANISHED)

    func fetch(_ command: FetchCommand) async throws -> StatusResponse {
        guard var view = selected else { return .bad("no mailbox selected") }
        let account = try requireAccount()
        var attributes = command.attributes
        if command.changedSince != nil || attributes.contains(.modSeq) { enableCondStore() }
        // RFC 7162 §3.1: a CONDSTORE-aware client gets MODSEQ in every FETCH response
        // (CHANGEDSINCE makes it aware, §3.1.4.1).
        if condStore, !attributes.contains(.modSeq) { attributes.append(.modSeq) }
        // RFC 9051 §6.4.9: UID FETCH always returns the UID.
        if command.byUID, !attributes.contains(.uid) { attributes.insert(.uid, at: 0) }
        if command.vanished, !qresync { return .bad("VANISHED needs QRESYNC enabled (RFC 7162 §3.2.6)") }

        let targets = try view.resolve(command.set, byUID: command.byUID)
        if command.vanished, let since = command.changedSince {
            // RFC 7162 §3.2.6: the UIDs of the set expunged since the mod-sequence.
            let requested = command.set.resolved(largest: view.lastUID, savedResult: view.savedResult)
            let vanished = try await account.vanished(in: view.id, since: Int64(clamping: since)).filter { requested.contains($0) }
            if !vanished.isEmpty { send(.vanished(earlier: true, NumberSet(vanished))) }
        }
        guard !targets.isEmpty else { return .ok("FETCH completed") }

        // RFC 9051 §6.4.5: BODY[...] without .PEEK (and RFC822, RFC822.TEXT, BINARY) sets
        // \Seen; it is set first, so the FETCH responses carry the new flags.
        var seenSet: Set<UInt32> = []
        if !view.readOnly, attributes.contains(where: \.setsSeen) {
            // Messages already \Seen keep their MODSEQ and are not reported as changed.
            let result = try await account.storeFlags(in: view.id, uids: UIDSet(targets.map(\.uid)), .add, flags: .seen)
            for update in result.updates where update.changed {
                view.noteReported(update.state)
                seenSet.insert(update.state.uid)
            }
        }

        let needsFile = attributes.contains(where: \.readsMessageFile)
        let reportsFlags = attributes.contains(.flags)
        let read = Self.fetchReader(
            account: account, mailbox: view.id, structure: attributes.contains(where: \.readsStructure),
            envelope: attributes.contains(.envelope), utf8: imap4rev2 || utf8Accept)
        var missing = false
        // Batches (`inBatches`), each message found by walking along: both in ascending UID
        // order (the store's, and the view's numbering), so no hashing; a UID the store no
        // longer has was expunged meanwhile.
        let stopped = try await inBatches(targets, uid: { $0.uid }, read: read) { batch, found -> StatusResponse? in
            var next = found.startIndex
            for (number, uid) in batch {
                while next < found.endIndex, found[next].summary.uid < uid { next += 1 }
                guard next < found.endIndex, found[next].summary.uid == uid else {
                    missing = true
                    continue
                }
                let message = found[next]
                let summary = message.summary
                if let since = command.changedSince, summary.modSeq <= Int64(clamping: since) { continue }
                if reportsFlags { view.noteReported(summary.state) }
                var source: (any ByteSource)?
                if needsFile {
                    do {
                        source = try message.stored?.open() ?? account.openMessage(fileID: summary.fileID)
                    } catch {
                        // Another session's EXPUNGE since this batch was read takes the file
                        // with the row: left out like a message already gone when the batch
                        // was read (RFC 9051 §7.1 EXPUNGEISSUED). A file missing under a row
                        // that is still there is damage.
                        if case .open(_, ENOENT)? = error as? ByteSourceError,
                            try await account.summaries(in: view.id, uids: UIDSet([uid])).isEmpty
                        {
                            missing = true
                            continue
                        }
                        logger.error("message file unreadable", metadata: ["uid": "\(uid)", "error": "\(error)"])
                        return .no("message \(uid) cannot be read", code: .corruption)
                    }
                }
                let status = try await writeFetchResponse(
                    number: number, message: message, source: source, attributes: attributes,
                    recent: view.recent.contains(uid), seenChanged: seenSet.contains(uid))
                if let status { return status }
                try await flushIfLarge()
            }
            return nil
        }
        selected = view
        if let stopped { return stopped }
        // A UID FETCH reports the expunge itself before its tagged OK; a FETCH may not, so
        // the client learns why data is missing (RFC 9051 §7.1 EXPUNGEISSUED).
        if missing, !command.byUID { return .no("some of the messages no longer exist", code: .expungeIssued) }
        return .ok("FETCH completed")
    }

    /// A message as FETCH reads it: its summary, and its envelope and stored structure when
    /// the attributes need them.
    struct FetchedMessage: Sendable {
        var summary: MessageSummary
        var envelope: Envelope?
        var stored: StoredMessage?
    }

    /// Reads a batch of messages for FETCH, in ascending UID order: the stored structures
    /// when an attribute needs them, else only the envelope's header fields when ENVELOPE is
    /// asked for, else the rows. Envelopes are made on the reader's thread.
    private static func fetchReader(
        account: Account, mailbox: MailboxID, structure: Bool, envelope: Bool, utf8: Bool
    ) -> @Sendable (UIDSet) async throws -> [FetchedMessage] {
        if structure {
            return { uids in
                try await account.storedMessages(in: mailbox, uids: uids).map { stored in
                    FetchedMessage(
                        summary: stored.summary, envelope: envelope ? FetchData.envelope(stored.parsed.header, utf8: utf8) : nil, stored: stored)
                }
            }
        }
        if envelope {
            return { uids in
                try await account.compactMapHeaders(in: mailbox, uids: uids, only: FetchData.envelopeFields) { summary, header in
                    FetchedMessage(summary: summary, envelope: FetchData.envelope(header, utf8: utf8))
                }
            }
        }
        return { uids in try await account.summaries(in: mailbox, uids: uids).map { FetchedMessage(summary: $0) } }
    }

    /// The stored messages of `uids` (ascending), read in batches (`inBatches`).
    func forEachStoredMessage(
        _ uids: some RandomAccessCollection<UInt32>, in mailbox: MailboxID, account: Account, _ body: (StoredMessage) async throws -> Void
    ) async throws {
        _ = try await inBatches(uids, uid: { $0 }, read: { try await account.storedMessages(in: mailbox, uids: $0) }) { _, messages -> Void? in
            for message in messages { try await body(message) }
            return nil
        }
    }

    /// Like `forEachStoredMessage`, with only each message's own header read: the fields
    /// named in `names`, or all of them.
    func forEachStoredHeader(
        _ uids: some RandomAccessCollection<UInt32>, in mailbox: MailboxID, account: Account, only names: HeaderNames?, _ body: (StoredHeader) async throws -> Void
    ) async throws {
        _ = try await inBatches(uids, uid: { $0 }, read: { try await account.storedHeaders(in: mailbox, uids: $0, only: names) }) { _, messages -> Void? in
            for message in messages { try await body(message) }
            return nil
        }
    }

    /// Reads what `read` gives for the messages of `items` (ascending UIDs), `fetchBatch` at
    /// a time: one database trip per batch rather than per message, and never a large
    /// mailbox whole in memory. The next batch is read, on the reader's thread, while `body`
    /// handles this one. Stops at the first batch for which `body` returns a value, and
    /// returns it.
    private func inBatches<Items: RandomAccessCollection, Found: Sendable, Outcome>(
        _ items: Items, uid: (Items.Element) -> UInt32, read: @escaping @Sendable (UIDSet) async throws -> [Found],
        _ body: (Items.SubSequence, [Found]) async throws -> Outcome?
    ) async throws -> Outcome? {
        var start = items.startIndex
        func nextBatch() -> Items.SubSequence? {
            guard start < items.endIndex else { return nil }
            let end = items.index(start, offsetBy: Self.fetchBatch, limitedBy: items.endIndex) ?? items.endIndex
            defer { start = end }
            return items[start..<end]
        }
        func startReading(_ batch: Items.SubSequence) -> Task<[Found], any Error> {
            let uids = UIDSet(batch.map(uid))
            return Task { try await read(uids) }
        }
        guard var batch = nextBatch() else { return nil }
        var reading = startReading(batch)
        defer { reading.cancel() }
        while true {
            let found = try await reading.value
            let following = nextBatch()
            if let following { reading = startReading(following) }
            if let outcome = try await body(batch, found) { return outcome }
            guard let following else { return nil }
            batch = following
        }
    }

    /// One `* n FETCH (...)`; large sections are streamed. Returns a status when the command
    /// must end with it (BINARY of an unknown transfer encoding).
    private func writeFetchResponse(
        number: UInt32, message: FetchedMessage, source: (any ByteSource)?, attributes: [FetchAttribute], recent: Bool, seenChanged: Bool
    ) async throws -> StatusResponse? {
        let utf8 = imap4rev2 || utf8Accept
        let summary = message.summary
        let stored = message.stored
        var builder = FetchResponseBuilder(sequenceNumber: number, encoder: encoder)
        var items = 0
        var sentFlags = false
        for attribute in attributes {
            switch attribute {
            case .flags:
                builder.append(.flags(flags(of: summary.state, recent: recent)))
                sentFlags = true
            case .uid:
                builder.append(.uid(summary.uid))
            case .modSeq:
                builder.append(.modSeq(UInt64(max(0, summary.modSeq))))
            case .internalDate:
                builder.append(.internalDate(IMAPDateTime(summary.internalDate, zoneMinutes: summary.internalDateZone)))
            case .rfc822Size:
                builder.append(.rfc822Size(UInt64(max(0, summary.size))))
            case .saveDate:
                builder.append(.saveDate(IMAPDateTime(summary.saveDate)))
            case .emailID:
                builder.append(.emailID(ObjectID.email(fileID: summary.fileID)))
            case .threadID:
                builder.append(.threadID(nil))
            case .envelope:
                guard let envelope = message.envelope else { continue }
                builder.append(.envelope(envelope))
            case .body:
                guard let stored else { continue }
                builder.append(.body(FetchData.bodyStructure(stored.parsed.root, utf8: utf8)))
            case .bodyStructure:
                guard let stored else { continue }
                builder.append(.bodyStructure(FetchData.bodyStructure(stored.parsed.root, utf8: utf8)))
            case let .bodySection(section, partial, _):
                guard let source else { continue }
                try await writeSection(
                    &builder, extent: Self.extent(of: section, stored: stored, summary: summary), source: source, partial: partial,
                    inline: { .bodySection(section, origin: partial?.offset, data: $0) },
                    streamed: .bodySection(section, origin: partial?.offset))
            case .rfc822:
                guard let source else { continue }
                try await writeSection(
                    &builder, extent: Self.extent(of: .whole, stored: stored, summary: summary), source: source, partial: nil,
                    inline: { .rfc822($0) }, streamed: .rfc822)
            case .rfc822Header:
                guard let stored, let source else { continue }
                try await writeSection(
                    &builder, extent: FetchData.extent(of: .header, in: stored.parsed), source: source, partial: nil,
                    inline: { .rfc822Header($0) }, streamed: .rfc822Header)
            case .rfc822Text:
                guard let stored, let source else { continue }
                try await writeSection(
                    &builder, extent: FetchData.extent(of: .text, in: stored.parsed), source: source, partial: nil,
                    inline: { .rfc822Text($0) }, streamed: .rfc822Text)
            case let .binary(part, partial, _):
                guard let stored, let source else { continue }
                guard let decoded = try binaryContent(part, stored.parsed, source) else {
                    return .no("unknown Content-Transfer-Encoding", code: .unknownCTE)
                }
                var data = decoded
                if let partial { data = Self.slice(data, partial) }
                builder.append(.binary(part: part, origin: partial?.offset, data: data))
            case let .binarySize(part):
                guard let stored, let source else { continue }
                guard let decoded = try binaryContent(part, stored.parsed, source) else {
                    return .no("unknown Content-Transfer-Encoding", code: .unknownCTE)
                }
                builder.append(.binarySize(part: part, size: UInt32(clamping: decoded.count)))
            case .preview:
                guard let stored, let source else { continue }
                // RFC 8970 §3.2: generated now (LAZY is satisfied by that too).
                builder.append(.preview(try? stored.parsed.preview(in: source)))
            }
            items += 1
        }
        if seenChanged, !sentFlags {
            // RFC 9051 §6.4.5: a \Seen set by this FETCH is reported with it.
            builder.append(.flags(flags(of: summary.state, recent: recent)))
            items += 1
        }
        guard items > 0 else { return nil }
        send(bytes: builder.finish())
        return nil
    }

    /// Where `section` lies in the message file. The structure is not read when only whole
    /// messages are asked for (`readsStructure`); the whole message is then the file up to
    /// its recorded size.
    private static func extent(of section: SectionSpec, stored: StoredMessage?, summary: MessageSummary) -> FetchData.Extent? {
        if let stored { return FetchData.extent(of: section, in: stored.parsed) }
        return section == .whole ? .range(offset: 0, length: Int(clamping: summary.size)) : nil
    }

    /// A section's octets: small ones inline, large ones announced as a literal and copied
    /// from the file in chunks.
    private func writeSection(
        _ builder: inout FetchResponseBuilder, extent: FetchData.Extent?, source: any ByteSource, partial: Partial?,
        inline: ([UInt8]) -> MessageAttribute, streamed: StreamedFetchItem
    ) async throws {
        switch extent {
        case nil:
            builder.append(inline([]))
        case let .bytes(bytes):
            builder.append(inline(partial.map { Self.slice(bytes, $0) } ?? bytes))
        case let .range(offset, length):
            var start = offset
            var count = max(0, length)
            if let partial {
                let skip = Int(clamping: min(partial.offset, UInt64(count)))
                start += skip
                count = min(count - skip, Int(clamping: partial.length))
            }
            if count <= Self.inlineLimit {
                builder.append(inline(try source.read(offset: start, length: count)))
                return
            }
            send(bytes: builder.takeBytes(announcing: streamed, size: count))
            var done = 0
            while done < count {
                var chunk = try source.read(offset: start + done, length: min(Self.streamChunk, count - done))
                if chunk.isEmpty {
                    // The file is shorter than its recorded structure: keep the literal's length.
                    chunk = [UInt8](repeating: 0x20, count: count - done)
                }
                send(bytes: chunk)
                done += chunk.count
                try await flushIfLarge()
            }
        }
    }

    static func slice(_ data: [UInt8], _ partial: Partial) -> [UInt8] {
        let start = Int(clamping: min(partial.offset, UInt64(data.count)))
        let end = start + min(data.count - start, Int(clamping: partial.length))
        return Array(data[start..<end])
    }

    /// RFC 3516 §4.2 BINARY: the part's content with its transfer encoding undone; nil for an
    /// encoding the server does not know. The whole message and multiparts are not decoded.
    private func binaryContent(_ part: [UInt32], _ message: ParsedMessage, _ source: any ByteSource) throws -> [UInt8]? {
        if part.isEmpty { return try source.read(offset: 0, length: message.size) }
        guard let found = FetchData.part(part, in: message.root) else { return [] }
        if found.isMultipart || found.isMessage {
            return try found.rawBody(in: source)
        }
        switch found.transferEncoding {
        case "7bit", "8bit", "binary", "base64", "quoted-printable":
            return try found.decodedBody(in: source)
        default:
            return nil
        }
    }
}

extension FetchAttribute {
    /// Needs the stored MIME structure; ENVELOPE needs only the header, and the whole
    /// message (BODY[], RFC822, the bulk of what a syncing client fetches) only the file and
    /// its size.
    fileprivate var readsStructure: Bool {
        switch self {
        case .body, .bodyStructure: return true
        case let .bodySection(section, _, _): return section != .whole
        case .rfc822: return false
        default: return readsMessageFile
        }
    }

    /// Needs octets of the message file.
    fileprivate var readsMessageFile: Bool {
        switch self {
        case .bodySection, .rfc822, .rfc822Header, .rfc822Text, .binary, .binarySize, .preview: return true
        case .flags, .uid, .internalDate, .rfc822Size, .modSeq, .saveDate, .emailID, .threadID, .envelope, .body, .bodyStructure:
            return false
        }
    }
}
