import FoundationEssentials

/// A parsed JSON document, as a plain Sendable value the ticket decoders can walk.
public enum JSONValue: Equatable, Sendable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// Parses a body that must be a JSON object; the error says why it is not.
    public static func parseObject(_ body: [UInt8]) throws -> [String: JSONValue] {
        guard !body.isEmpty else { throw BridgeError.invalidJSON("the body is empty") }
        // One pass over the body: the parser checks the UTF-8 of every string (and a byte
        // outside one must be ASCII anyway) and the nesting as it goes. Only when it fails are
        // the whole body's UTF-8 and nesting looked at, to say which rule it broke.
        let value: JSONValue
        do {
            value = try JSONParser.parse(body, maxDepth: maxDepth)
        } catch {
            if String(validating: body, as: UTF8.self) == nil { throw BridgeError.invalidJSON("it is not valid UTF-8") }
            if nestingDepth(body) > maxDepth { throw BridgeError.invalidJSON("it nests deeper than \(maxDepth) levels") }
            throw BridgeError.invalidJSON("it does not parse")
        }
        guard case .object(let object) = value else {
            throw BridgeError.invalidJSON("the top level must be an object")
        }
        return object
    }

    /// No ticketing system nests its payload anywhere near this deep.
    public static let maxDepth = 64

    /// The deepest nesting of arrays and objects, counted without parsing (brackets inside
    /// strings do not count).
    static func nestingDepth(_ body: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in body {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var isNull: Bool { self == .null }
}

extension JSONValue {
    /// The value at a path of object keys, e.g. `value[path: "issue", "title"]`.
    public subscript(path keys: String...) -> JSONValue? {
        var current: JSONValue? = self
        for key in keys { current = current?[key] }
        return current
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// A whole number (written as a JSON integer).
    public var intValue: Int? {
        if case .integer(let number) = self { return Int(exactly: number) }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    /// A string, or a whole number written as a string (ids arrive as either).
    public var idText: String? {
        switch self {
        case .string(let text): return text.trimmingASCIIWhitespace()
        case .integer(let number): return String(number)
        case .number(let number) where number == number.rounded() && abs(number) < 1e15: return String(Int64(number))
        default: return nil
        }
    }
}

/// Field access for the dialect decoders: each error names the JSON path that is wrong.
struct Fields {
    let root: JSONValue

    init(_ object: [String: JSONValue]) { root = .object(object) }

    func value(_ path: [String]) -> JSONValue? {
        var current: JSONValue? = root
        for key in path { current = current?[key] }
        if current == .null { return nil }
        return current
    }

    func string(_ path: String...) -> String? { value(path)?.stringValue }

    func requiredString(_ path: String...) throws -> String {
        guard let value = value(path) else { throw BridgeError.missingField(path.joined(separator: ".")) }
        guard let text = value.stringValue else { throw BridgeError.invalidField(path.joined(separator: "."), "must be a string") }
        return text
    }

    func requiredID(_ path: String...) throws -> String {
        guard let value = value(path) else { throw BridgeError.missingField(path.joined(separator: ".")) }
        guard let text = value.idText, !text.isEmpty else {
            throw BridgeError.invalidField(path.joined(separator: "."), "must be a string or a whole number")
        }
        return text
    }

    /// Names from a list of strings or of objects with `name`/`title` (labels, keywords).
    func names(_ path: String...) throws -> [String] {
        guard let value = value(path) else { return [] }
        guard let items = value.arrayValue else {
            throw BridgeError.invalidField(path.joined(separator: "."), "must be a list")
        }
        return items.compactMap { item in item.stringValue ?? (item["name"] ?? item["title"])?.stringValue }
    }

    /// A web URL from the payload, only when it is a plain http(s) URL.
    func url(_ path: String...) -> String? {
        value(path)?.stringValue.flatMap { PromptBuilder.isPlainURL($0) ? $0 : nil }
    }
}
