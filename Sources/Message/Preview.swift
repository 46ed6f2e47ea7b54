/// Preview text (RFC 8970): a short plain-text summary of a message for IMAP PREVIEW and
/// message lists, taken from its first text part.
///
/// Which part: the first text/plain part that is not an attachment, depth first; without
/// one, the first such text/html part, reduced to text. Only the start of the part is read
/// and decoded, so a huge body costs no more than a small one. White space is collapsed.
extension ParsedMessage {
    /// RFC 8970 §3.2 allows up to 256 characters; clients show fewer.
    public static let previewLength = 200
    /// Raw octets of the chosen part that are read to make the preview. HTML gets more: its
    /// markup and style sheets come before the text.
    static let previewReadLimit = 16 * 1024
    static let previewHTMLReadLimit = 128 * 1024

    /// The preview, or nil when the message has no text part (or its charset is unknown).
    public func preview(in source: any ByteSource) throws(ByteSourceError) -> String? {
        let candidates = root.sections().map(\.part).filter { $0.isText && $0.disposition != "attachment" }
        let part = candidates.first { $0.subtype == "plain" } ?? candidates.first { $0.subtype == "html" }
        guard let part else { return nil }
        let isHTML = part.subtype == "html"
        // A cut base64 or quoted-printable text decodes as far as it goes.
        let raw = try source.read(offset: part.bodyOffset, length: min(part.bodyLength, isHTML ? Self.previewHTMLReadLimit : Self.previewReadLimit))
        guard var text = try? MIMEPart.text(part.decode(raw), charset: part.charset) else { return nil }
        if part.bodyLength > raw.count, text.last == "\u{FFFD}" {
            text.removeLast()  // a multi-byte character cut by the read limit
        }
        if isHTML { text = HTMLText.plain(text) }
        let collapsed = text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        return String(collapsed.prefix(Self.previewLength))
    }
}

/// HTML reduced to its visible text: tags dropped, script/style/head/title contents dropped,
/// character references decoded. Enough for a preview, not a renderer.
enum HTMLText {
    static func plain(_ html: String) -> String {
        var out = ""
        var index = html.startIndex
        var skipUntil: String?
        while index < html.endIndex {
            let character = html[index]
            if character == "<" {
                let close = html[index...].firstIndex(of: ">") ?? html.endIndex
                let tag = html[html.index(after: index)..<close].lowercased()
                let name = String(tag.prefix { $0.isLetter || $0.isNumber || $0 == "/" || $0 == "!" })
                if let skipping = skipUntil {
                    if name == "/" + skipping { skipUntil = nil }
                } else if ["script", "style", "head", "title"].contains(name) {
                    skipUntil = name
                } else {
                    out.append(" ")
                }
                index = close < html.endIndex ? html.index(after: close) : close
                continue
            }
            if skipUntil == nil {
                if character == "&", let (decoded, next) = entity(html, at: index) {
                    out.append(decoded)
                    index = next
                    continue
                }
                out.append(character)
            }
            index = html.index(after: index)
        }
        return out
    }

    private static let named: [String: Character] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“", "rdquo": "”",
        "euro": "€", "zwnj": "\u{200C}", "shy": "\u{00AD}",
    ]

    /// `&name;`, `&#NNN;`, `&#xHH;` at `index`.
    private static func entity(_ html: String, at index: String.Index) -> (Character, String.Index)? {
        let rest = html[html.index(after: index)...].prefix(12)
        guard let semicolon = rest.firstIndex(of: ";") else { return nil }
        let body = rest[..<semicolon]
        let next = html.index(after: semicolon)
        if body.hasPrefix("#x") || body.hasPrefix("#X"), let value = UInt32(body.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
            return (Character(scalar), next)
        }
        if body.hasPrefix("#"), let value = UInt32(body.dropFirst()), let scalar = Unicode.Scalar(value) {
            return (Character(scalar), next)
        }
        if let character = named[body.lowercased()] { return (character, next) }
        return nil
    }
}
