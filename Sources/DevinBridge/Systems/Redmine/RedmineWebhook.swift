/// Redmine webhooks from the redmine_webhook plugin: `payload.action` `opened` creates,
/// `updated` is a change that may have set a trigger label. Redmine has no labels: the tracker
/// name and the custom-field values act as labels (the plugin sends no category). The id is `#<id>`, which is
/// also how Redmine links a commit message to the issue.
///
/// An `updated` journal (`payload.journal`: `id`, `notes`, `private_notes`, `author.login`,
/// `details[]` with `property`/`prop_key`) is read in this order: a change to the tracker or a
/// custom field (a detail with `property: cf` or `prop_key: tracker_id`) is a label change, as
/// before; else non-empty `notes` are a comment (`journal.id`, `journal.author.login`, the
/// notes, `<payload.url>#change-<journal id>`), private notes are ignored; else a detail
/// `prop_key: assigned_to_id` assigns `payload.issue.assignee.login`; else (no journal details,
/// or other fields) a label change, as before.
enum RedmineDialect {
    static func decode(_ object: [String: JSONValue]) throws -> DecodedWebhook {
        let fields = Fields(object)
        guard fields.value(["payload", "issue"]) != nil else { throw BridgeError.missingField("payload.issue") }
        let number = try fields.requiredID("payload", "issue", "id")
        let id = "#\(number)"
        try Ticket.validateID(id, field: "payload.issue.id", source: .redmine)

        var labels: [String] = []
        if let tracker = fields.string("payload", "issue", "tracker", "name") { labels.append(tracker) }
        for field in fields.value(["payload", "issue", "custom_field_values"])?.arrayValue ?? [] {
            switch field["value"] {
            case .string(let text)?: labels.append(text)
            case .array(let values)?: labels += values.compactMap(\.stringValue)
            default: break
            }
        }
        let ticket = Ticket(
            id: id,
            title: try fields.requiredString("payload", "issue", "subject"),
            description: fields.string("payload", "issue", "description"),
            labels: labels.filter { !$0.isEmpty },
            url: fields.url("payload", "url"),
            source: TicketSource.redmine.rawValue,
            project: fields.string("payload", "issue", "project", "identifier") ?? fields.string("payload", "issue", "project", "name"))

        switch fields.string("payload", "action") ?? "" {
        case "opened": return DecodedWebhook(ticket: ticket, event: .created)
        case "updated": return try updated(fields, ticket: ticket)
        case let other: return DecodedWebhook(ticket: ticket, event: .ignored("the issue was \(other.isEmpty ? "changed" : String(other.prefix(40))), not opened or updated"))
        }
    }

    static func updated(_ fields: Fields, ticket: Ticket) throws -> DecodedWebhook {
        let details = fields.value(["payload", "journal", "details"])?.arrayValue ?? []
        func changes(_ test: (String, String) -> Bool) -> Bool {
            details.contains { test($0["property"]?.stringValue ?? "", $0["prop_key"]?.stringValue ?? "") }
        }
        if changes({ property, key in property == "cf" || (property == "attr" && key == "tracker_id") }) {
            return DecodedWebhook(ticket: ticket, event: .labelsChanged)
        }
        if let notes = try fields.optionalString(["payload", "journal", "notes"]), !notes.isEmpty {
            if fields.value(["payload", "journal", "private_notes"]) == .bool(true) {
                return DecodedWebhook(ticket: ticket, event: .ignored("a private note"))
            }
            let id = try fields.commentID(["payload", "journal", "id"])
            let comment = TicketComment(
                id: id,
                author: try fields.requiredLogin(["payload", "journal", "author", "login"], fallbacks: [["payload", "journal", "user", "login"]]),
                body: notes,
                url: ticket.url.map { "\($0)#change-\(id)" }.flatMap { PromptBuilder.isPlainURL($0) ? $0 : nil })
            return DecodedWebhook(ticket: ticket, event: .commented(comment))
        }
        if changes({ _, key in key == "assigned_to_id" }) {
            // Redmine can assign a group, whose login is empty.
            guard let login = fields.string("payload", "issue", "assignee", "login"), !login.isEmpty else {
                return DecodedWebhook(ticket: ticket, event: .ignored("an assignee change to no one or to a group"))
            }
            return DecodedWebhook(ticket: ticket, event: .assigned([login]))
        }
        return DecodedWebhook(ticket: ticket, event: .labelsChanged)
    }
}
