import FoundationEssentials

/// Decodes the generic ticket format:
/// `{"id": string|number, "title": string, "description": string|null, "labels": [string]}`.
///
/// Label items may also be objects with a `name` or `title` (as many trackers send them).
/// Errors name the field that is wrong.
public enum GenericTicketDecoder {
    public static let maxIDLength = 64

    public static func decode(_ body: [UInt8]) throws -> Ticket {
        try decode(object: JSONValue.parseObject(body))
    }

    public static func decode(object: [String: JSONValue]) throws -> Ticket {

        let id: String
        switch object["id"] {
        case nil, .null?:
            throw BridgeError.missingField("id")
        case .string(let text)?:
            id = text.trimmingASCIIWhitespace()
        case .integer(let number)?:
            id = String(number)
        case .number(let number)? where number == number.rounded() && abs(number) < 1e15:
            id = String(Int64(number))
        default:
            throw BridgeError.invalidField("id", "must be a string or a whole number")
        }
        try Ticket.validateID(id, field: "id", source: .generic)

        let title: String
        switch object["title"] {
        case nil, .null?: throw BridgeError.missingField("title")
        case .string(let text)?: title = text
        default: throw BridgeError.invalidField("title", "must be a string")
        }
        guard !title.trimmedWhitespace.isEmpty else {
            throw BridgeError.invalidField("title", "is empty")
        }

        var description: String?
        switch object["description"] {
        case nil, .null?: description = nil
        case .string(let text)?: description = text
        default: throw BridgeError.invalidField("description", "must be a string or null")
        }

        var labels: [String] = []
        switch object["labels"] {
        case nil, .null?: break
        case .array(let items)?:
            for item in items {
                if let text = item.stringValue {
                    labels.append(text)
                } else if let name = (item["name"] ?? item["title"])?.stringValue {
                    labels.append(name)
                } else {
                    throw BridgeError.invalidField("labels", "must be a list of strings")
                }
            }
        default:
            throw BridgeError.invalidField("labels", "must be a list of strings")
        }

        let url = object["url"]?.stringValue.flatMap { PromptBuilder.isPlainURL($0) ? $0 : nil }
        let project = object["project"]?.stringValue
        return Ticket(id: id, title: title, description: description, labels: labels, url: url,
                      project: project.flatMap { $0.isEmpty ? nil : $0 })
    }
}
