/// Characters a reader cannot see, which a sender can use to hide words from the people who read
/// a prompt, a session title or a log line while the model still reads them.
///
/// Invisible means: control characters (Cc) but newline and tab where allowed, format characters
/// (Cf: zero-width spaces and joiners, bidi overrides and isolates, U+2060 word joiner, U+00AD
/// soft hyphen, U+FEFF, the Unicode tag characters U+E0000-E007F), line and paragraph separators
/// (U+2028, U+2029), surrogates, private-use and unassigned code points, variation selectors
/// (U+FE00-FE0F, U+E0100-E01EF, which can smuggle bytes after a visible character), the
/// combining grapheme joiner U+034F and the Hangul fillers.
public enum TextHygiene {
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value >= 0x20 && value < 0x7F { return false }
        switch value {
        case 0xFE00...0xFE0F, 0xE0100...0xE01EF, 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x180E:
            return true
        default:
            break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return true
        default:
            return false
        }
    }

    /// The text without invisible characters; newlines (and tabs) kept only when asked, other
    /// line breaks (CR) become a newline or a space.
    public static func visible(_ text: String, keepNewlines: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09: out.append(keepNewlines ? scalar : " ")
            case 0x0A: out.append(keepNewlines ? scalar : " ")
            case 0x0D: if !keepNewlines { out.append(" ") }
            default: if !isInvisible(scalar) { out.append(scalar) }
            }
        }
        return String(out)
    }
}
