/// GitHub issue webhooks (`X-GitHub-Event: issues`): `opened` creates, `labeled` adds the
/// label in the top-level `label`. The id is `owner/repo#number`.
enum GitHubDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = headers["x-github-event"]?.lowercased() ?? (object["issue"] != nil ? "issues" : "unknown")
        guard event == "issues" else {
            if event == "ping" { return .ignored("a ping event: the hook reaches the bridge", source: .github) }
            return .ignored("a \(event.prefix(40)) event; only issue events start sessions", source: .github)
        }
        let action = fields.string("action") ?? ""
        switch action {
        case "opened":
            return DecodedWebhook(ticket: try issueTicket(fields, source: .github), event: .created)
        case "labeled":
            let added = fields.string("label", "name").map { [$0] } ?? []
            return DecodedWebhook(ticket: try issueTicket(fields, source: .github), event: .labelsAdded(added))
        default:
            return skipped("the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened or labeled", fields, source: .github)
        }
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
