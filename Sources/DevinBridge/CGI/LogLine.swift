/// The one line per request that goes to stderr (the web server's error log), as `key=value`
/// pairs. Values are quoted when needed and never hold a newline, so one request is one line.
public struct LogLine: Sendable, Equatable, CustomStringConvertible {
    public private(set) var fields: [(String, String)] = []

    public init() {}

    public static func == (lhs: LogLine, rhs: LogLine) -> Bool { lhs.description == rhs.description }

    public mutating func set(_ key: String, _ value: String?) {
        guard let value else { return }
        if let index = fields.firstIndex(where: { $0.0 == key }) {
            fields[index].1 = value
        } else {
            fields.append((key, value))
        }
    }

    public subscript(_ key: String) -> String? { fields.first { $0.0 == key }?.1 }

    public var description: String {
        "devin-bridge: " + fields.map { "\($0.0)=\(Self.quote($0.1))" }.joined(separator: " ")
    }

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" && $0 != "="
        }
        if plain { return value }
        var out = "\""
        for scalar in value.prefix(1000).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if TextHygiene.isInvisible(scalar) || (scalar.value >= 0x80 && scalar.properties.isWhitespace) {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
