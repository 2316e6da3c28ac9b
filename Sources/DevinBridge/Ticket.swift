/// A ticket, whatever system it came from.
public struct Ticket: Equatable, Sendable {
    /// The ticket's id as the ticketing system shows it (`123`, `PROJ-123`).
    public var id: String
    public var title: String
    public var description: String?
    public var labels: [String]
    /// The ticket's web page, when the payload carries one.
    public var url: String?
    /// Which dialect the ticket was decoded from (`generic`, `github`, `jira`, ...).
    public var source: String
    /// The project or repository, when the payload names one (`group/project`, `PROJ`).
    public var project: String?

    public init(id: String, title: String, description: String? = nil, labels: [String] = [],
                url: String? = nil, source: String = "generic", project: String? = nil) {
        self.id = id
        self.title = title
        self.description = description
        self.labels = labels
        self.url = url
        self.source = source
        self.project = project
    }
}

extension Ticket {
    public static let maxIDLength = 128
    public static let idRule = "must be at most \(maxIDLength) letters, digits, spaces and . _ : # / @ + -"

    public static let maxTitleCharacters = 1000
    public static let maxLabels = 200
    public static let maxLabelCharacters = 255

    /// Refuses tickets beyond sane sizes (every ticketing system's own limits are far below these).
    /// The description has no limit here: the prompt caps it.
    func validateSizes() throws {
        guard title.count <= Self.maxTitleCharacters else {
            throw BridgeError.invalidField("title", "is longer than \(Self.maxTitleCharacters) characters")
        }
        guard labels.count <= Self.maxLabels else {
            throw BridgeError.invalidField("labels", "holds more than \(Self.maxLabels) labels")
        }
        guard labels.allSatisfy({ $0.count <= Self.maxLabelCharacters }) else {
            throw BridgeError.invalidField("labels", "holds a label longer than \(Self.maxLabelCharacters) characters")
        }
    }

    /// Throws ``BridgeError/invalidField(_:_:)`` naming `field` unless `id` is a usable ticket id.
    static func validateID(_ id: String, field: String) throws {
        guard !id.isEmpty else { throw BridgeError.invalidField(field, "is empty") }
        guard id.count <= maxIDLength, id.unicodeScalars.allSatisfy(isIDCharacter) else {
            throw BridgeError.invalidField(field, idRule)
        }
    }

    /// Ids stand outside the prompt's fence and in tags, so they are kept to what ticket ids are
    /// made of (`123`, `PROJ-123`, `group/project#23`, `bug 1234`).
    static func isIDCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", " ", ".", "_", ":", "#", "/", "@", "+", "-": return true
        default: return false
        }
    }
}
