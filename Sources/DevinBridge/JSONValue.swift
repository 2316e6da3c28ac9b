import Foundation

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
        guard String(validating: body, as: UTF8.self) != nil else {
            throw BridgeError.invalidJSON("it is not valid UTF-8")
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw BridgeError.invalidJSON("it does not parse")
        }
        guard case .object(let object) = value else {
            throw BridgeError.invalidJSON("the top level must be an object")
        }
        return object
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
