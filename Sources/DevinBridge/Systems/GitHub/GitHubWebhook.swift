/// GitHub issue webhooks. `X-GitHub-Event: issues`: `opened` creates, `labeled` adds the label in
/// the top-level `label`, `assigned` assigns the top-level `assignee`. `X-GitHub-Event:
/// issue_comment` with `action: created` is a comment (`comment.id`, `comment.user.login`,
/// `comment.body`, `comment.html_url`, `comment.author_association`, a bot when
/// `comment.user.type` is `Bot`); comments on pull requests (`issue.pull_request` present) and
/// edited or deleted comments are ignored. The id is `owner/repo#number`.
enum GitHubDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = headers["x-github-event"]?.lowercased()
            ?? (object["issue"] != nil ? (object["comment"] != nil ? "issue_comment" : "issues") : "unknown")
        if event == "issue_comment" { return try comment(fields, source: .github) }
        guard event == "issues" else {
            if event == "ping" { return .ignored("a ping event: the hook reaches the bridge", source: .github) }
            return .ignored("a \(event.prefix(40)) event; only issue and issue comment events are read", source: .github)
        }
        let action = fields.string("action") ?? ""
        switch action {
        case "opened":
            return DecodedWebhook(ticket: try issueTicket(fields, source: .github), event: .created)
        case "labeled":
            let added = fields.string("label", "name").map { [$0] } ?? []
            return DecodedWebhook(ticket: try issueTicket(fields, source: .github), event: .labelsAdded(added))
        case "assigned":
            let ticket = try issueTicket(fields, source: .github)
            return DecodedWebhook(ticket: ticket, event: .assigned([try fields.requiredLogin(["assignee", "login"])]))
        default:
            return skipped("the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened, labeled or assigned", fields, source: .github)
        }
    }

    /// An `issue_comment` event of GitHub or Gitea/Forgejo (the same shape; Gitea may leave out
    /// `author_association` and `user.type`, and marks pull requests with `is_pull`).
    static func comment(_ fields: Fields, source: TicketSource, pullRequest: Bool = false) throws -> DecodedWebhook {
        let action = fields.string("action") ?? ""
        if pullRequest || fields.value(["issue", "pull_request"]) != nil || fields.value(["is_pull"]) == .bool(true) {
            return skipped("a comment on a pull request", fields, source: source)
        }
        guard action == "created" else {
            return skipped("an issue_comment event whose comment was \(action.isEmpty ? "changed" : String(action.prefix(40))), not created", fields, source: source)
        }
        let ticket = try issueTicket(fields, source: source)
        let comment = TicketComment(
            id: try fields.commentID(["comment", "id"]),
            author: try fields.requiredLogin(["comment", "user", "login"], fallbacks: source == .github ? [] : [["sender", "login"]]),
            body: try fields.optionalString(["comment", "body"]),
            url: fields.url("comment", "html_url"),
            association: fields.string("comment", "author_association"),
            authorIsBot: fields.string("comment", "user", "type") == "Bot")
        return DecodedWebhook(ticket: ticket, event: .commented(comment))
    }

    /// A skipped event: the ticket is named when the payload allows, but a sparse payload is no error.
    static func skipped(_ reason: String, _ fields: Fields, source: TicketSource) -> DecodedWebhook {
        guard let ticket = try? issueTicket(fields, source: source) else {
            let id = (try? fields.requiredID("issue", "number")).map { number in
                fields.string("repository", "full_name").map { "\($0)#\(number)" } ?? "#\(number)"
            }
            return .ignored(reason, source: source, id: id ?? "-")
        }
        return DecodedWebhook(ticket: ticket, event: .ignored(reason))
    }

    /// The issue in a GitHub-shaped payload (GitHub, Gitea, Forgejo).
    static func issueTicket(_ fields: Fields, source: TicketSource) throws -> Ticket {
        let number = try fields.requiredID("issue", "number")
        let repository = fields.string("repository", "full_name")
        let id = repository.map { "\($0)#\(number)" } ?? "#\(number)"
        try Ticket.validateID(id, field: "issue.number", source: source)
        return Ticket(
            id: id,
            title: try fields.requiredString("issue", "title"),
            description: fields.string("issue", "body"),
            labels: try fields.names("issue", "labels"),
            url: fields.url("issue", "html_url"),
            source: source.rawValue,
            project: repository)
    }
}

// Comment and assignment fields, shared by the webhook readers: each error names the JSON path.
extension Fields {
    /// The longest comment id (every system's are whole numbers well below this).
    static let maxCommentIDDigits = 20

    /// A comment's id: a whole number, as a number or a string of digits.
    func commentID(_ path: [String]) throws -> String {
        let name = path.joined(separator: ".")
        guard let value = value(path) else { throw BridgeError.missingField(name) }
        guard let text = value.idText, !text.isEmpty, text.count <= Self.maxCommentIDDigits,
              text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw BridgeError.invalidField(name, "must be a comment number")
        }
        return text
    }

    /// A text that may be absent or null, but is a string when present.
    func optionalString(_ path: [String]) throws -> String? {
        guard let value = value(path) else { return nil }
        guard let text = value.stringValue else { throw BridgeError.invalidField(path.joined(separator: "."), "must be a string") }
        return text
    }

    /// A user's login: the first non-empty string of `path` and then `fallbacks`; the error names `path`.
    func requiredLogin(_ path: [String], fallbacks: [[String]] = []) throws -> String {
        for candidate in [path] + fallbacks {
            if let text = value(candidate)?.stringValue, !text.isEmpty { return text }
        }
        let name = path.joined(separator: ".")
        switch value(path) {
        case nil: throw BridgeError.missingField(name)
        case .string?: throw BridgeError.invalidField(name, "is empty")
        default: throw BridgeError.invalidField(name, "must be a string")
        }
    }

    /// The `key` strings (`login`, `username`) of a list of users; absent or null is no one.
    func logins(_ path: [String], key: String) throws -> [String] {
        guard let value = value(path) else { return [] }
        guard let items = value.arrayValue else { throw BridgeError.invalidField(path.joined(separator: "."), "must be a list") }
        return items.compactMap { $0[key]?.stringValue }.filter { !$0.isEmpty }
    }
}

extension Array where Element == String {
    /// The logins once each, in order (logins compare without case, as the systems do).
    func uniqueLogins() -> [String] {
        var seen = Set<String>()
        return filter { seen.insert($0.lowercased()).inserted }
    }
}
