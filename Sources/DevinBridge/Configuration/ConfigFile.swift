/// Parses the `KEY=VALUE` configuration file (the systemd `EnvironmentFile` format): one setting
/// per line, `#` and `;` comment lines, blank lines, optional spaces around `=`.
///
/// A value is taken as written, spaces inside included. A value wholly enclosed in matching double
/// or single quotes loses the quotes (inside double quotes, `\"` and `\\` are unescaped); quotes
/// anywhere else are kept, so a secret like `It's a Secret` needs no quoting.
public enum ConfigFile {
    public struct Parsed: Equatable {
        public var values: [(String, String)] = []
        public var errors: [(Int, String)] = []

        public static func == (lhs: Parsed, rhs: Parsed) -> Bool {
            lhs.values.map { "\($0)=\($1)" } == rhs.values.map { "\($0)=\($1)" }
                && lhs.errors.map { "\($0):\($1)" } == rhs.errors.map { "\($0):\($1)" }
        }
    }

    public static func parse(_ text: String) -> Parsed {
        var parsed = Parsed()
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line.removeLast() }
            let trimmed = line.trimmingASCIIWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                parsed.errors.append((lineNumber, "expected KEY=VALUE"))
                continue
            }
            var key = line[..<equals].trimmingASCIIWhitespace()
            if key.hasPrefix("export ") { key = String(key.dropFirst(7)).trimmingASCIIWhitespace() }
            guard !key.isEmpty, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                // Name the key only when it looks like one: a wrapped secret (`q8Zr+T2k...=`)
                // or a line like `SECRET: value=` must never be echoed.
                let shown = String(key.prefix { !$0.isWhitespace && $0 != ":" })
                parsed.errors.append((lineNumber, ConfigFile.looksLikeKey(shown)
                    ? "\(shown.debugDescription) is not a valid key" : "not a KEY=VALUE line"))
                continue
            }
            var value = Substring(line[line.index(after: equals)...])
            while let first = value.first, first == " " || first == "\t" { value.removeFirst() }
            parsed.values.append((key, unquote(value)))
        }
        return parsed
    }

    /// `UPPER_CASE_NAME` of at most 40 characters: safe to repeat in a message.
    public static func looksLikeKey(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("A"..."Z").contains(first), text.count <= 40 else { return false }
        return text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func unquote(_ value: Substring) -> String {
        var value = value
        while let last = value.last, last == " " || last == "\t" { value.removeLast() }
        guard value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first else {
            // Unquoted: trailing blanks (removed above) are formatting, not part of the value (as in systemd).
            return String(value)
        }
        let inner = value.dropFirst().dropLast()
        guard first == "\"" else { return String(inner) }
        // Only \" and \\ are escapes; any other backslash is part of the value.
        var out = ""
        var index = inner.startIndex
        while index < inner.endIndex {
            let character = inner[index]
            let next = inner.index(after: index)
            if character == "\\", next < inner.endIndex, inner[next] == "\"" || inner[next] == "\\" {
                out.append(inner[next])
                index = inner.index(after: next)
            } else {
                out.append(character)
                index = next
            }
        }
        return out
    }
}
