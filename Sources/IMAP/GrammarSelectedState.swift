extension GrammarParser {
    // MARK: SEARCH (RFC 9051 §6.4.4)

    /// `SEARCH [search-return-opts] SP search-program`.
    mutating func search(byUID: Bool) throws(GrammarError) -> SearchCommand {
        let returnOptions = try searchReturnOptions()
        try sp()
        var charset: String?
        if skipWord("CHARSET") {
            try sp()
            charset = try astringText("charset")
            try sp()
        }
        return SearchCommand(byUID: byUID, charset: charset, returnOptions: returnOptions, key: try searchKeys())
    }

    /// `SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"` (RFC 4731 §3.1,
    /// RFC 5182 SAVE), or nil when absent. Leaves the SP before the next argument unread.
    mutating func searchReturnOptions() throws(GrammarError) -> [SearchReturnOption]? {
        let mark = pos
        guard skip(0x20), skipWord("RETURN") else {
            pos = mark
            return nil
        }
        try sp()
        try openParen()
        var options: [SearchReturnOption] = []
        if !skip(UInt8(ascii: ")")) {
            repeat {
                let name = try keyword("search return option")
                guard let option = SearchReturnOption(rawValue: name) else {
                    throw .syntax("unknown search return option \(name.prefix(32))")
                }
                if !options.contains(option) { options.append(option) }
            } while skip(0x20)
            try closeParen()
        }
        return options
    }

    /// `search-key *(SP search-key)`: one key, or `.and` of several.
    mutating func searchKeys() throws(GrammarError) -> SearchKey {
        var keys = [try searchKey()]
        while skip(0x20) {
            keys.append(try searchKey())
            try checkCount(keys.count, "search keys")
        }
        return keys.count == 1 ? keys[0] : .and(keys)
    }

    /// One `search-key` (RFC 9051 §9, RFC 3501 §9, and the extensions noted per key).
    mutating func searchKey() throws(GrammarError) -> SearchKey {
        try enter()
        defer { leave() }
        let b = try peek()
        if b == UInt8(ascii: "(") {
            pos += 1
            var keys = [try searchKey()]
            while skip(0x20) {
                keys.append(try searchKey())
                try checkCount(keys.count, "search keys")
            }
            try closeParen()
            return keys.count == 1 ? keys[0] : .and(keys)
        }
        if CharClass.isDigit(b) || b == UInt8(ascii: "*") || b == UInt8(ascii: "$") {
            return .sequenceSet(try sequenceSet())
        }
        let name = try keyword("search key")
        switch name {
        case "ALL": return .all
        case "ANSWERED": return .answered
        case "DELETED": return .deleted
        case "DRAFT": return .draft
        case "FLAGGED": return .flagged
        case "SEEN": return .seen
        case "UNANSWERED": return .unanswered
        case "UNDELETED": return .undeleted
        case "UNDRAFT": return .undraft
        case "UNFLAGGED": return .unflagged
        case "UNSEEN": return .unseen
        case "RECENT": return .recent
        case "NEW": return .new
        case "OLD": return .old
        case "SAVEDATESUPPORTED": return .savedDateSupported
        case "BCC": return .bcc(try searchString())
        case "BODY": return .body(try searchString())
        case "CC": return .cc(try searchString())
        case "FROM": return .from(try searchString())
        case "SUBJECT": return .subject(try searchString())
        case "TEXT": return .text(try searchString())
        case "TO": return .to(try searchString())
        case "HEADER":
            try sp()
            let field = try astringText("header field name")
            return .header(field, try searchString())
        case "KEYWORD": return .keyword(try searchKeyword())
        case "UNKEYWORD": return .unkeyword(try searchKeyword())
        case "BEFORE": return .before(try searchDate())
        case "ON": return .on(try searchDate())
        case "SINCE": return .since(try searchDate())
        case "SENTBEFORE": return .sentBefore(try searchDate())
        case "SENTON": return .sentOn(try searchDate())
        case "SENTSINCE": return .sentSince(try searchDate())
        case "SAVEDBEFORE": return .savedBefore(try searchDate())
        case "SAVEDON": return .savedOn(try searchDate())
        case "SAVEDSINCE": return .savedSince(try searchDate())
        case "LARGER":
            try sp()
            return .larger(try number64("size"))
        case "SMALLER":
            try sp()
            return .smaller(try number64("size"))
        case "OLDER":
            try sp()
            return .older(try nzNumber("interval"))
        case "YOUNGER":
            try sp()
            return .younger(try nzNumber("interval"))
        case "UID":
            try sp()
            return .uid(try sequenceSet())
        case "NOT":
            try sp()
            return .not(try searchKey())
        case "OR":
            try sp()
            let first = try searchKey()
            try sp()
            return .or(first, try searchKey())
        case "MODSEQ": return .modSeq(try modSeqSearch())
        case "EMAILID":
            try sp()
            return .emailID(try objectID())
        case "THREADID":
            try sp()
            return .threadID(try objectID())
        default:
            throw .syntax("unknown search key \(name.prefix(32))")
        }
    }

    mutating func searchString() throws(GrammarError) -> ByteString {
        try sp()
        return ByteString(try astring("search string"))
    }

    mutating func searchDate() throws(GrammarError) -> IMAPDate {
        try sp()
        return try date()
    }

    /// `flag-keyword` (an atom, no backslash).
    mutating func searchKeyword() throws(GrammarError) -> Flag {
        try sp()
        guard let flag = Flag.keyword(try atomString("keyword")) else { throw .syntax("invalid keyword") }
        return flag
    }

    /// RFC 7162 §7 `search-modsequence = "MODSEQ" [search-modseq-ext] SP mod-sequence-valzer`,
    /// `search-modseq-ext = SP entry-name SP entry-type-req`.
    mutating func modSeqSearch() throws(GrammarError) -> ModSeqSearch {
        try sp()
        var entry: ModSeqSearch.Entry?
        if next(is: UInt8(ascii: "\"")) {
            let name = try quoted()
            let prefix = Array("/flags/".utf8)
            guard name.count > prefix.count, CharClass.equalsKeyword(name.prefix(prefix.count), "/FLAGS/") else {
                throw .syntax("MODSEQ entry name must be \"/flags/<flag>\"")
            }
            let flag = String(decoding: name.dropFirst(prefix.count), as: UTF8.self)
            guard Flag(flag) != nil else { throw .syntax("invalid flag in MODSEQ entry name") }
            try sp()
            let typeName = try keyword("entry type").lowercased()
            guard let type = ModSeqSearch.EntryType(rawValue: typeName) else {
                throw .syntax("MODSEQ entry type must be priv, shared or all")
            }
            entry = ModSeqSearch.Entry(flag: flag, type: type)
            try sp()
        }
        return ModSeqSearch(entry: entry, value: try number64("mod-sequence"))
    }

    /// RFC 8474 `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`.
    mutating func objectID() throws(GrammarError) -> String {
        let start = pos
        while pos < buffer.count {
            let b = buffer[pos]
            guard CharClass.isAlpha(b) || CharClass.isDigit(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-") else { break }
            pos += 1
        }
        guard pos < buffer.count else { throw .incomplete }
        guard pos > start, pos - start <= 255 else { throw .syntax("invalid object identifier \(describeHere())") }
        if CharClass.isAtomChar(buffer[pos]) { throw .syntax("invalid object identifier") }
        return String(decoding: buffer[start..<pos], as: UTF8.self)
    }

    // MARK: SORT and THREAD (RFC 5256 §3, RFC 5267 §3)

    /// `SORT [sort-return-opts] SP sort-criteria SP charset 1*(SP search-key)`.
    mutating func sort(byUID: Bool) throws(GrammarError) -> SortCommand {
        let returnOptions = try searchReturnOptions()
        try sp()
        try openParen()
        var criteria: [SortCriterion] = []
        repeat {
            var name = try keyword("sort key")
            var reverse = false
            if name == "REVERSE" {
                reverse = true
                try sp()
                name = try keyword("sort key")
            }
            guard let key = SortKey(rawValue: name) else { throw .syntax("unknown sort key \(name.prefix(32))") }
            criteria.append(SortCriterion(key, reverse: reverse))
            try checkCount(criteria.count, "sort criteria")
        } while skip(0x20)
        try closeParen()
        try sp()
        let charset = try astringText("charset")
        try sp()
        return SortCommand(byUID: byUID, returnOptions: returnOptions, criteria: criteria, charset: charset, key: try searchKeys())
    }

    /// `THREAD SP thread-alg SP charset 1*(SP search-key)`.
    mutating func thread(byUID: Bool) throws(GrammarError) -> ThreadCommand {
        try sp()
        let name = try atomString("threading algorithm").asciiUppercased
        let algorithm: ThreadAlgorithm
        switch name {
        case "ORDEREDSUBJECT": algorithm = .orderedSubject
        case "REFERENCES": algorithm = .references
        default: algorithm = .other(name)
        }
        try sp()
        let charset = try astringText("charset")
        try sp()
        return ThreadCommand(byUID: byUID, algorithm: algorithm, charset: charset, key: try searchKeys())
    }

    // MARK: FETCH (RFC 9051 §6.4.5)

    /// `FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP
    /// fetch-att) ")") [fetch-modifiers]`.
    mutating func fetch(byUID: Bool) throws(GrammarError) -> FetchCommand {
        try sp()
        var command = FetchCommand(byUID: byUID, set: try sequenceSet(), attributes: [])
        try sp()
        if skip(UInt8(ascii: "(")) {
            repeat {
                command.attributes.append(try fetchAttribute())
                try checkCount(command.attributes.count, "fetch items")
            } while skip(0x20)
            try closeParen()
        } else if skipWord("ALL") {
            command.attributes = FetchAttribute.all
        } else if skipWord("FAST") {
            command.attributes = FetchAttribute.fast
        } else if skipWord("FULL") {
            command.attributes = FetchAttribute.full
        } else {
            command.attributes = [try fetchAttribute()]
        }
        if skip(0x20) {
            // RFC 4466 `fetch-modifiers = SP "(" fetch-modifier *(SP fetch-modifier) ")"`.
            try openParen()
            repeat {
                let name = try keyword("FETCH modifier")
                switch name {
                case "CHANGEDSINCE":
                    try sp()
                    command.changedSince = try nzNumber64("mod-sequence")
                case "VANISHED":
                    command.vanished = true
                default:
                    throw .syntax("unknown FETCH modifier \(name.prefix(32))")
                }
            } while skip(0x20)
            try closeParen()
            // RFC 7162 §3.2.6.
            if command.vanished {
                guard byUID else { throw .syntax("VANISHED is only allowed with UID FETCH") }
                guard command.changedSince != nil else { throw .syntax("VANISHED requires CHANGEDSINCE") }
            }
        }
        return command
    }

    /// One `fetch-att`.
    mutating func fetchAttribute() throws(GrammarError) -> FetchAttribute {
        let name = try keyword("fetch item")
        switch name {
        case "ENVELOPE": return .envelope
        case "FLAGS": return .flags
        case "INTERNALDATE": return .internalDate
        case "RFC822.SIZE": return .rfc822Size
        case "RFC822": return .rfc822
        case "RFC822.HEADER": return .rfc822Header
        case "RFC822.TEXT": return .rfc822Text
        case "BODYSTRUCTURE": return .bodyStructure
        case "UID": return .uid
        case "MODSEQ": return .modSeq
        case "SAVEDATE": return .saveDate
        case "EMAILID": return .emailID
        case "THREADID": return .threadID
        case "BODY", "BODY.PEEK":
            guard next(is: UInt8(ascii: "[")) else {
                if name == "BODY" { return .body }
                throw .syntax("BODY.PEEK needs a section")
            }
            let section = try section()
            return .bodySection(section, partial: try partial(), peek: name == "BODY.PEEK")
        case "BINARY", "BINARY.PEEK":
            let part = try sectionBinary()
            return .binary(part: part, partial: try partial(), peek: name == "BINARY.PEEK")
        case "BINARY.SIZE":
            return .binarySize(part: try sectionBinary())
        case "PREVIEW":
            // RFC 8970 §6: PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], told apart from
            // fetch modifiers by the LAZY inside.
            let mark = pos
            if skip(0x20), skip(UInt8(ascii: "(")), skipWord("LAZY") {
                while skip(0x20) {
                    guard skipWord("LAZY") else { throw .syntax("unknown PREVIEW modifier \(describeHere())") }
                }
                try closeParen()
                return .preview(lazy: true)
            }
            pos = mark
            return .preview(lazy: false)
        default:
            throw .syntax("unknown fetch item \(name.prefix(32))")
        }
    }

    /// `section = "[" [section-spec] "]"`.
    mutating func section() throws(GrammarError) -> SectionSpec {
        try expect(UInt8(ascii: "["), "\"[\"")
        var spec = SectionSpec()
        if skip(UInt8(ascii: "]")) { return spec }
        if CharClass.isDigit(try peek()) {
            spec.part = try sectionPart()
            if skip(UInt8(ascii: ".")) {
                spec.text = try sectionText(allowMIME: true)
            }
        } else {
            spec.text = try sectionText(allowMIME: false)
        }
        try expect(UInt8(ascii: "]"), "\"]\" closing the section")
        return spec
    }

    /// `section-part = nz-number *("." nz-number)`; stops before "." followed by a letter.
    mutating func sectionPart() throws(GrammarError) -> [UInt32] {
        var part = [try nzNumber("part number")]
        while next(is: UInt8(ascii: ".")), pos + 1 < buffer.count, CharClass.isDigit(buffer[pos + 1]) {
            pos += 1
            part.append(try nzNumber("part number"))
            try checkCount(part.count, "part numbers")
        }
        return part
    }

    /// `section-msgtext` or (after a part number) `"MIME"`.
    mutating func sectionText(allowMIME: Bool) throws(GrammarError) -> SectionSpec.SectionText {
        let name = try keyword("section text")
        switch name {
        case "HEADER": return .header
        case "TEXT": return .text
        case "MIME":
            guard allowMIME else { throw .syntax("MIME needs a part number") }
            return .mime
        case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
            try sp()
            try openParen()
            var names: [String] = []
            repeat {
                names.append(try astringText("header field name"))
                try checkCount(names.count, "header field names")
            } while skip(0x20)
            try closeParen()
            return name == "HEADER.FIELDS" ? .headerFields(names) : .headerFieldsNot(names)
        default:
            throw .syntax("unknown section \(name.prefix(32))")
        }
    }

    /// `section-binary = "[" [section-part] "]"`.
    mutating func sectionBinary() throws(GrammarError) -> [UInt32] {
        try expect(UInt8(ascii: "["), "\"[\"")
        if skip(UInt8(ascii: "]")) { return [] }
        let part = try sectionPart()
        try expect(UInt8(ascii: "]"), "\"]\" closing the section")
        return part
    }

    /// `partial = "<" number64 "." nz-number64 ">"`, if present.
    mutating func partial() throws(GrammarError) -> Partial? {
        guard skip(UInt8(ascii: "<")) else { return nil }
        let offset = try number64("partial offset")
        try expect(UInt8(ascii: "."), "\".\" in partial")
        let length = try nzNumber64("partial length")
        try expect(UInt8(ascii: ">"), "\">\" closing the partial")
        return Partial(offset: offset, length: length)
    }

    // MARK: STORE (RFC 9051 §6.4.6)

    /// `STORE SP sequence-set [store-modifiers] SP store-att-flags`.
    mutating func store(byUID: Bool) throws(GrammarError) -> StoreCommand {
        try sp()
        let set = try sequenceSet()
        try sp()
        var unchangedSince: UInt64?
        if skip(UInt8(ascii: "(")) {
            // RFC 4466 store-modifiers; RFC 7162 §3.1.3 UNCHANGEDSINCE mod-sequence-valzer.
            repeat {
                let name = try keyword("STORE modifier")
                guard name == "UNCHANGEDSINCE" else { throw .syntax("unknown STORE modifier \(name.prefix(32))") }
                try sp()
                unchangedSince = try number64("mod-sequence")
            } while skip(0x20)
            try closeParen()
            try sp()
        }
        let operation: StoreCommand.Operation
        if skip(UInt8(ascii: "+")) {
            operation = .add
        } else if skip(UInt8(ascii: "-")) {
            operation = .remove
        } else {
            operation = .replace
        }
        let name = try keyword("FLAGS")
        guard name == "FLAGS" || name == "FLAGS.SILENT" else { throw .syntax("expected FLAGS, not \(name.prefix(32))") }
        try sp()
        var flags: [Flag] = []
        if next(is: UInt8(ascii: "(")) {
            flags = try flagList()
        } else {
            repeat {
                flags.append(try flag())
                try checkCount(flags.count, "flags")
            } while skip(0x20)
        }
        return StoreCommand(byUID: byUID, set: set, unchangedSince: unchangedSince, operation: operation,
                            silent: name == "FLAGS.SILENT", flags: flags)
    }
}
