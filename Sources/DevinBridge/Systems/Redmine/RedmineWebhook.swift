/// Redmine webhooks from the redmine_webhook plugin: `payload.action` `opened` creates,
/// `updated` is a change that may have set a trigger label. Redmine has no labels: the tracker
/// name and the custom-field values act as labels (the plugin sends no category). The id is `#<id>`, which is
/// also how Redmine links a commit message to the issue.
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
        case "updated": return DecodedWebhook(ticket: ticket, event: .labelsChanged)
        case let other: return DecodedWebhook(ticket: ticket, event: .ignored("the issue was \(other.isEmpty ? "changed" : String(other.prefix(40))), not opened or updated"))
        }
    }
}
