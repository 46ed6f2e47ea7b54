// Reading a YAML document into typed values, one key at a time, collecting every problem.
//
// Yams gives the node tree with a mark (line and column) on each node. The reader walks it
// against a fixed schema: each mapping declares its known keys, so an unknown key is reported
// with the closest known one as a suggestion; each value is checked for its type. A wrong
// value is reported and reading goes on with the default, so one pass finds every problem.
//
// Scalars are read strictly, on purpose: a number must be written as a plain number (a quoted
// "25" is text), a boolean is only true or false (YAML 1.1's yes/no/on/off are rejected, so
// `NoSTARTTLS: no` cannot mean the opposite of what it says), and a duration needs its unit.

import Foundation
import Yams

/// A place in a file, 1-based; the column counts Unicode scalars.
struct Position: Hashable, Sendable {
    var line: Int
    var column: Int

    init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    init?(_ mark: Mark?) {
        guard let mark else { return nil }
        self.init(line: mark.line, column: mark.column)
    }

    static let start = Position(line: 1, column: 1)
}

/// A key of a mapping with its value, as written.
struct Entry {
    var name: String
    var keyPosition: Position?
    var value: Node
}

/// Collects errors for one file and remembers where each key was written.
final class DocumentReader {
    let file: String
    private(set) var errors: [ConfigError] = []
    /// The position of every key read, by key path; lets checks done on the finished model
    /// (cross-references, duplicates) point at the line the operator wrote.
    private var keyPositions: [KeyPath: Position] = [:]
    /// The key path of every error found while reading (not of model issues, which do not
    /// hide each other).
    private var errorPaths: [[String]] = []

    init(file: String) {
        self.file = file
    }

    // MARK: Reporting

    func error(_ path: KeyPath, _ message: String, at position: Position?) {
        errorPaths.append(path.components)
        append(path, message, at: position)
    }

    private func append(_ path: KeyPath, _ message: String, at position: Position?) {
        errors.append(ConfigError(
            file: file, line: position?.line, column: position?.column,
            keyPath: path.description, message: message))
    }

    func error(_ path: KeyPath, _ message: String, node: Node) {
        error(path, message, at: Position(node.mark))
    }

    /// Reports a problem found on the model: at the key of `issue.path`, or of the nearest
    /// enclosing key that was written. Skipped when that key, or one inside it, already has
    /// an error from reading: the model then holds a default in its place, and a second error
    /// about the same key ("no service is enabled" after "Enabled: expected true or false")
    /// would only mislead.
    func report(_ issue: ConfigIssue) {
        if errorPaths.contains(where: { $0.starts(with: issue.path) }) { return }
        var components = issue.path
        var position: Position?
        while position == nil {
            position = keyPositions[KeyPath(components)]
            if components.isEmpty { break }
            components.removeLast()
        }
        append(KeyPath(issue.path), issue.message, at: position ?? .start)
    }

    func record(_ path: KeyPath, _ position: Position?) {
        if let position { keyPositions[path] = position }
    }

    // MARK: The document

    /// Parses the text into a node tree, or reports the syntax error (with Yams' line and
    /// column) and returns nil. An empty document is an empty mapping.
    func compose(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text) ?? Node([(Node, Node)]())
        } catch let error as YamlError {
            errors.append(Self.syntaxError(error, file: file, text: text))
            return nil
        } catch {
            self.error(KeyPath(), "cannot parse YAML: \(error)", at: .start)
            return nil
        }
    }

    static func syntaxError(_ error: YamlError, file: String, text: String) -> ConfigError {
        func located(_ mark: Mark, _ problem: String, _ context: YamlError.Context?) -> ConfigError {
            var message = "YAML syntax error: \(problem)"
            if let context {
                message += " (\(context.text), line \(context.mark.line))"
            }
            return ConfigError(file: file, line: mark.line, column: mark.column, keyPath: "", message: message)
        }
        switch error {
        case let .scanner(context, problem, mark, _),
             let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            return located(mark, problem, context)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            // Yams reports where the key is first written; a YAML mapping cannot hold a key
            // twice, and silently taking one of the values would hide the mistake.
            return ConfigError(
                file: file, line: context.mark.line, column: context.mark.column, keyPath: "",
                message: "duplicate key \(keys) in one mapping (first written here); remove all but one")
        case let .reader(problem, offset, _, _):
            var line = 1
            var column = 1
            if let offset {
                for character in text.prefix(offset) {
                    if character == "\n" {
                        line += 1
                        column = 1
                    } else {
                        column += character.unicodeScalars.count
                    }
                }
            }
            return ConfigError(file: file, line: line, column: column, keyPath: "", message: "cannot read the text: \(problem)")
        default:
            return ConfigError(file: file, line: 1, column: 1, keyPath: "", message: "YAML error: \(error)")
        }
    }

    // MARK: Node kinds

    /// An empty value, `~` or `null`: the key is written but says nothing.
    func isNull(_ node: Node) -> Bool {
        guard case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// How a node looks, for "expected X, found Y".
    func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case let .scalar(scalar):
            if isNull(node) { return "nothing" }
            let quoted = scalar.style == .singleQuoted || scalar.style == .doubleQuoted
            return (quoted ? "the quoted text " : "") + "'\(scalar.string)'"
        }
    }

    // MARK: Mappings

    /// A mapping with a fixed set of keys. Unknown keys are reported with a suggestion. A null
    /// value reads as an empty mapping. `owner` is where the key that holds this mapping was
    /// written, for "missing key" errors.
    func fields(_ node: Node, _ path: KeyPath, owner: Position?, known: [String]) -> Fields? {
        if isNull(node) {
            return Fields(reader: self, path: path, owner: owner, entries: [:])
        }
        guard case let .mapping(mapping) = node else {
            error(path, "expected a mapping (KEY: VALUE lines), found \(describe(node))", node: node)
            return nil
        }
        var entries: [String: Entry] = [:]
        for (keyNode, value) in mapping {
            guard case let .scalar(keyScalar) = keyNode else {
                error(path, "a key must be plain text, found \(describe(keyNode))", node: keyNode)
                continue
            }
            let name = keyScalar.string
            let keyPosition = Position(keyNode.mark)
            guard known.contains(name) else {
                error(path.key(name), Self.unknownKeyMessage(name, known: known), at: keyPosition)
                continue
            }
            record(path.key(name), keyPosition)
            entries[name] = Entry(name: name, keyPosition: keyPosition, value: value)
        }
        return Fields(reader: self, path: path, owner: owner, entries: entries)
    }

    /// A mapping whose keys the operator chooses (listener names, domains, accounts), in the
    /// order written. A null value reads as an empty mapping.
    func entries(_ node: Node, _ path: KeyPath) -> [Entry]? {
        if isNull(node) { return [] }
        guard case let .mapping(mapping) = node else {
            error(path, "expected a mapping (NAME: VALUE lines), found \(describe(node))", node: node)
            return nil
        }
        var result: [Entry] = []
        for (keyNode, value) in mapping {
            guard case let .scalar(keyScalar) = keyNode, !isNull(keyNode) else {
                error(path, "a key must be plain text, found \(describe(keyNode))", node: keyNode)
                continue
            }
            let position = Position(keyNode.mark)
            record(path.key(keyScalar.string), position)
            result.append(Entry(name: keyScalar.string, keyPosition: position, value: value))
        }
        return result
    }

    static func unknownKeyMessage(_ name: String, known: [String]) -> String {
        if let suggestion = closest(to: name, among: known) {
            return "unknown key '\(name)'; did you mean '\(suggestion)'?"
        }
        return "unknown key '\(name)'; known keys here: \(known.joined(separator: ", "))"
    }

    /// The known key closest to a mistyped one: a different case, a prefix ("Quota" for
    /// "QuotaBytes"), or a few letters off (at most a third of the word, at least 1, counting
    /// a swap of two neighbours as one).
    static func closest(to name: String, among candidates: [String]) -> String? {
        let lower = name.lowercased()
        if let sameLetters = candidates.first(where: { $0.lowercased() == lower }) {
            return sameLetters
        }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let other = candidate.lowercased()
            let distance = editDistance(Array(lower), Array(other))
            let allowed = max(1, min(lower.count, other.count) / 3)
            if distance <= allowed, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        if let best { return best.candidate }
        if lower.count >= 4 {
            return candidates.first { $0.lowercased().hasPrefix(lower) || lower.hasPrefix($0.lowercased()) }
        }
        return nil
    }

    /// Edit distance with insertions, deletions, substitutions and swaps of adjacent
    /// characters (optimal string alignment).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    // MARK: Scalars

    /// Text as written. A mapping or list is an error; so is nothing at all.
    func string(_ node: Node, _ path: KeyPath) -> String? {
        guard case let .scalar(scalar) = node else {
            error(path, "expected text, found \(describe(node))", node: node)
            return nil
        }
        if isNull(node) {
            error(path, "expected text, found nothing", node: node)
            return nil
        }
        return scalar.string
    }

    /// A whole number written plainly, within `range`.
    func int(_ node: Node, _ path: KeyPath, range: ClosedRange<Int>) -> Int? {
        guard case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any, !isNull(node) else {
            error(path, "expected a whole number, found \(describe(node))", node: node)
            return nil
        }
        let text = scalar.string
        let digits = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            error(path, "expected a whole number, found \(describe(node))", node: node)
            return nil
        }
        guard let value = Int(text), range.contains(value) else {
            error(path, "\(text) is out of range: \(Self.describe(range))", node: node)
            return nil
        }
        return value
    }

    static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == Int.max {
            return "must be at least \(range.lowerBound)"
        }
        return "must be from \(range.lowerBound) to \(range.upperBound)"
    }

    /// `true` or `false`, unquoted.
    func bool(_ node: Node, _ path: KeyPath) -> Bool? {
        if case let .scalar(scalar) = node, scalar.style == .plain || scalar.style == .any {
            switch scalar.string {
            case "true", "True", "TRUE": return true
            case "false", "False", "FALSE": return false
            default: break
            }
        }
        error(path, "expected true or false, found \(describe(node))", node: node)
        return nil
    }

    /// A duration with units, e.g. `30s`, `5m`, `1h`, `1h30m`; at least one second.
    func duration(_ node: Node, _ path: KeyPath) -> Duration? {
        guard case let .scalar(scalar) = node, !isNull(node), let seconds = Self.parseDuration(scalar.string) else {
            error(path, "expected a duration with a unit, e.g. 30s, 5m or 1h30m, found \(describe(node))", node: node)
            return nil
        }
        guard seconds >= 1 else {
            error(path, "must be at least 1s", node: node)
            return nil
        }
        return .seconds(seconds)
    }

    /// Seconds in text such as `90s`, `5m`, `1h30m`: numbers each followed by h, m or s, in
    /// that order; nil when the text is not of that form or exceeds a year.
    static func parseDuration(_ text: String) -> Int? {
        var total = 0
        var number: Int?
        var lastUnitRank = 0
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                let value = (number ?? 0) * 10 + digit
                guard value <= 366 * 24 * 3600 else { return nil }
                number = value
                continue
            }
            let rank: Int
            let factor: Int
            switch character {
            case "h": (rank, factor) = (1, 3600)
            case "m": (rank, factor) = (2, 60)
            case "s": (rank, factor) = (3, 1)
            default: return nil
            }
            guard let value = number, rank > lastUnitRank else { return nil }
            total += value * factor
            number = nil
            lastUnitRank = rank
        }
        guard number == nil, lastUnitRank > 0, total <= 366 * 24 * 3600 else { return nil }
        return total
    }

    /// A list. A null value is an empty list.
    func list(_ node: Node, _ path: KeyPath) -> [Node]? {
        if isNull(node) { return [] }
        guard case let .sequence(sequence) = node else {
            error(path, "expected a list (lines starting with '- ', or [a, b]), found \(describe(node))", node: node)
            return nil
        }
        return Array(sequence)
    }
}

/// The keys of one mapping with a fixed schema, for reading values by name.
struct Fields {
    let reader: DocumentReader
    let path: KeyPath
    /// Where the key holding this mapping was written; missing keys are reported there.
    let owner: Position?
    let entries: [String: Entry]

    func has(_ key: String) -> Bool {
        value(key) != nil
    }

    /// The value of `key`, or nil when it is absent or written without a value.
    func value(_ key: String) -> Node? {
        guard let entry = entries[key], !reader.isNull(entry.value) else { return nil }
        return entry.value
    }

    func position(_ key: String) -> Position? {
        entries[key]?.keyPosition ?? owner
    }

    /// The value of a key that must be there; reports it missing otherwise.
    func required(_ key: String) -> Node? {
        if let node = value(key) { return node }
        if let entry = entries[key] {
            reader.error(path.key(key), "needs a value", at: entry.keyPosition)
        } else {
            reader.error(path.key(key), "required key is missing", at: owner)
        }
        return nil
    }

    func string(_ key: String, required: Bool = false) -> String? {
        guard let node = required ? self.required(key) : value(key) else { return nil }
        return reader.string(node, path.key(key))
    }

    func int(_ key: String, default defaultValue: Int, range: ClosedRange<Int>) -> Int {
        guard let node = value(key) else { return defaultValue }
        return reader.int(node, path.key(key), range: range) ?? defaultValue
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) -> Int? {
        guard let node = value(key) else { return nil }
        return reader.int(node, path.key(key), range: range)
    }

    func bool(_ key: String, default defaultValue: Bool) -> Bool {
        guard let node = value(key) else { return defaultValue }
        return reader.bool(node, path.key(key)) ?? defaultValue
    }

    func requiredBool(_ key: String) -> Bool? {
        guard let node = required(key) else { return nil }
        return reader.bool(node, path.key(key))
    }

    func duration(_ key: String, default defaultValue: Duration) -> Duration {
        guard let node = value(key) else { return defaultValue }
        return reader.duration(node, path.key(key)) ?? defaultValue
    }

    func optionalDuration(_ key: String) -> Duration? {
        guard let node = value(key) else { return nil }
        return reader.duration(node, path.key(key))
    }

    /// A nested mapping with its own keys; nil when absent (or, with `required`, reported).
    func fields(_ key: String, known: [String], required: Bool = false) -> Fields? {
        guard let node = required ? self.required(key) : value(key) else { return nil }
        return reader.fields(node, path.key(key), owner: position(key), known: known)
    }

    func list(_ key: String, required: Bool = false) -> [Node]? {
        guard let node = required ? self.required(key) : value(key) else { return nil }
        return reader.list(node, path.key(key))
    }

    func entries(_ key: String, required: Bool = false) -> [Entry]? {
        guard let node = required ? self.required(key) : value(key) else { return nil }
        return reader.entries(node, path.key(key))
    }
}
