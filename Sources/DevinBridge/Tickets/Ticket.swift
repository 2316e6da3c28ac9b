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
    /// The project is a group, not a repository (a GitLab group's epic).
    public var projectIsGroup = false

    /// The code repository the ticket belongs to, when the payload names one (GitHub, GitLab,
    /// Gitea/Forgejo: their project is the repository, `owner/repo`, `group/project`); other
    /// systems map their project to one (`REPOSITORY_MAP`).
    public var repository: String? {
        guard !projectIsGroup, let source = TicketSource(rawValue: source) else { return nil }
        switch source {
        case .github, .gitea, .forgejo, .gitlab: return project
        default: return nil
        }
    }

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
    /// The longest id of any shape (a GitLab project path with its issue number).
    public static let maxIDLength = 200
    public static let idRule = "is not a ticket id of this system"

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

    /// Throws ``BridgeError/invalidField(_:_:)`` naming `field` unless `id` has the shape of
    /// `source`'s ticket ids (``TicketIDShape``): ids stand outside the prompt's fence and in
    /// tags, so they can carry no words.
    static func validateID(_ id: String, field: String, source: TicketSource) throws {
        guard !id.isEmpty else { throw BridgeError.invalidField(field, "is empty") }
        let shape = TicketIDShape(source)
        guard shape.matches(id) else { throw BridgeError.invalidField(field, shape.rule) }
    }
}

/// What a ticket id looks like in each system; nothing else is accepted.
public struct TicketIDShape: Sendable {
    public let source: TicketSource
    public init(_ source: TicketSource) { self.source = source }

    /// The rule, for the error message.
    public var rule: String {
        switch source {
        case .github, .gitea, .forgejo: return "must be an issue number (owner/repository#123)"
        case .gitlab: return "must be an issue number in a project path (group/project#123)"
        case .jira: return "must be an issue key such as PROJ-123"
        case .redmine: return "must be an issue number"
        case .bugzilla: return "must be a bug number"
        case .generic: return "must be at most \(GenericTicketDecoder.maxIDLength) letters, digits and . _ : # / @ + - (no spaces)"
        }
    }

    public func matches(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        guard !scalars.isEmpty, scalars.count <= Ticket.maxIDLength else { return false }
        switch source {
        case .github, .gitea, .forgejo:
            // `#12` or `owner/repo#12`: GitHub and Gitea names are letters, digits, `-`, `_`, `.`.
            guard let hash = scalars.lastIndex(of: "#"), Self.isNumber(scalars[(hash + 1)...]) else { return false }
            if hash == 0 { return true }
            let path = scalars[..<hash].split(separator: "/", omittingEmptySubsequences: false)
            return path.count == 2 && path.allSatisfy { Self.isName($0, limit: 100) }
        case .gitlab:
            // `#12` or `group/sub/project#12`.
            guard let hash = scalars.lastIndex(of: "#"), Self.isNumber(scalars[(hash + 1)...]) else { return false }
            if hash == 0 { return true }
            let path = scalars[..<hash].split(separator: "/", omittingEmptySubsequences: false)
            return path.count <= 20 && path.allSatisfy { Self.isName($0, limit: 100) }
        case .jira:
            // PROJ-123: a project key (a letter, then letters, digits or _) and a number.
            guard let dash = scalars.lastIndex(of: "-"), dash > 0, dash <= 50, Self.isNumber(scalars[(dash + 1)...]) else { return false }
            let key = scalars[..<dash]
            return Self.isLetter(key.first!) && key.allSatisfy { Self.isLetter($0) || Self.isDigit($0) || $0 == "_" }
        case .redmine:
            return scalars.first == "#" && Self.isNumber(scalars.dropFirst())
        case .bugzilla:
            return id.hasPrefix("bug ") && Self.isNumber(scalars.dropFirst(4))
        case .generic:
            return scalars.count <= GenericTicketDecoder.maxIDLength && scalars.allSatisfy { scalar in
                Self.isLetter(scalar) || Self.isDigit(scalar) || ".:_#/@+-".unicodeScalars.contains(scalar)
            }
        }
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool { ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// 1 to 12 digits.
    static func isNumber(_ scalars: ArraySlice<Unicode.Scalar>) -> Bool {
        !scalars.isEmpty && scalars.count <= 12 && scalars.allSatisfy(isDigit)
    }

    static func isName(_ scalars: ArraySlice<Unicode.Scalar>, limit: Int) -> Bool {
        !scalars.isEmpty && scalars.count <= limit && scalars.first != "."
            && scalars.allSatisfy { isLetter($0) || isDigit($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }
}
