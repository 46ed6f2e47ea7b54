extension SPFCheck {
    /// Values longer than this are cut: RFC 7208 §9.1 wants the field "not excessively long",
    /// and the longest values (mechanism, problem) carry text from the sender's DNS.
    static let receivedSPFValueLimit = 200
    /// RFC 5322 §2.1.1: lines SHOULD be at most 78 characters.
    static let receivedSPFLineLimit = 78

    /// The Received-SPF header field (RFC 7208 §9.1), folded, with its CRLF:
    ///
    ///     Received-SPF: pass (mx.example.org: domain of alice@example.com designates
    ///      192.0.2.1 as permitted sender) client-ip=192.0.2.1;
    ///      envelope-from=alice@example.com; helo=mail.example.com; identity=mailfrom;
    ///      receiver=mx.example.org; mechanism="ip4:192.0.2.0/24"
    ///
    /// Values that are not dot-atoms are quoted; anything but printable ASCII, which the
    /// sender controls in part, becomes "?" (§9.1: no "invalid characters" nor "malicious
    /// data that has been provided by the sender").
    public var receivedSPFField: String {
        var pairs: [(String, String)] = [("client-ip", clientIP.description)]
        if let mailFrom { pairs.append(("envelope-from", mailFrom)) }
        pairs.append(("helo", helo))
        pairs.append(("identity", identity.rawValue))
        pairs.append(("receiver", receiver))
        if let mechanism { pairs.append(("mechanism", mechanism)) }
        if let problem, result == .temperror || result == .permerror { pairs.append(("problem", problem)) }

        var tokens = ["Received-SPF:", result.rawValue]
        let comment = "(" + Self.commentText(receivedSPFComment) + ")"
        tokens += comment.split(separator: " ").map(String.init)
        for (index, (key, value)) in pairs.enumerated() {
            tokens.append(key + "=" + Self.keyValue(value) + (index < pairs.count - 1 ? ";" : ""))
        }

        var lines: [String] = []
        var line = ""
        for token in tokens {
            if line.isEmpty {
                line = token
            } else if line.count + 1 + token.count > Self.receivedSPFLineLimit {
                lines.append(line)
                line = " " + token
            } else {
                line += " " + token
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// The "(...)" comment RFC 7208 §9.1 suggests, "conveying supporting information for the
    /// result, such as <ip>, <sender>, and <domain>".
    var receivedSPFComment: String {
        let ip = clientIP.description
        let statement: String
        switch result {
        case .pass: statement = "domain of \(sender) designates \(ip) as permitted sender"
        case .fail: statement = "domain of \(sender) does not designate \(ip) as permitted sender"
        case .softfail: statement = "domain of transitioning \(sender) does not designate \(ip) as permitted sender"
        case .neutral: statement = "\(ip) is neither permitted nor denied by domain of \(sender)"
        case .none: statement = "domain of \(sender) does not designate permitted sender hosts"
        case .temperror: statement = "temporary error in processing the SPF record of \(domain)"
        case .permerror: statement = "permanent error in processing the SPF record of \(domain)"
        }
        return "\(receiver): \(statement)"
    }

    /// Printable ASCII with "(", ")" and "\" escaped as quoted-pairs (RFC 5322 §3.2.2).
    private static func commentText(_ text: String) -> String {
        var out = ""
        for scalar in printable(text).unicodeScalars {
            if scalar == "(" || scalar == ")" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// dot-atom when the value is one, else a quoted-string (RFC 7208 §9.1, RFC 5322 §3.2.3-4).
    private static func keyValue(_ value: String) -> String {
        var text = printable(value)
        if text.count > receivedSPFValueLimit { text = String(text.prefix(receivedSPFValueLimit)) + "..." }
        if isDotAtom(text) { return text }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
            quoted.unicodeScalars.append(scalar)
        }
        return quoted + "\""
    }

    /// Printable ASCII: the problem texts' "§" spelled out, anything else outside it "?".
    private static func printable(_ text: String) -> String {
        let spelled = text.replacing("§", with: "section ")
        return String(String.UnicodeScalarView(spelled.unicodeScalars.map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }

    /// dot-atom-text = 1*atext *("." 1*atext)
    private static func isDotAtom(_ text: String) -> Bool {
        let atoms = text.split(separator: ".", omittingEmptySubsequences: false)
        return atoms.allSatisfy { atom in
            !atom.isEmpty && atom.unicodeScalars.allSatisfy(isAtext)
        }
    }

    /// atext (RFC 5322 §3.2.3): letters, digits and "!#$%&'*+-/=?^_`{|}~".
    private static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        let byte = UInt8(scalar.value)
        return ASCII.isLetter(byte) || ASCII.isDigit(byte) || "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
    }
}
