/// Jira Server/Data Center webhooks: `jira:issue_created` creates; `jira:issue_updated` acts on
/// the labels its changelog adds (`changelog.items[]` with `field: labels`, space-separated
/// `fromString`/`toString`). The id is the issue key (`PROJ-123`).
enum JiraDialect {
    static func decode(_ object: [String: JSONValue]) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = fields.string("webhookEvent") ?? "unknown"
        guard event == "jira:issue_created" || event == "jira:issue_updated" else {
            return .ignored("a \(event.prefix(40)) event; only issue created and updated events start sessions", source: .jira)
        }
        let items = fields.value(["changelog", "items"])?.arrayValue ?? []
        let labelChange = items.first(where: { $0["field"]?.stringValue?.lowercased() == "labels" })
        if event == "jira:issue_updated" && labelChange == nil {
            let reason = "an update that changed no labels"
            if let ticket = try? ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
            return .ignored(reason, source: .jira, id: fields.string("issue", "key") ?? "-")
        }
        let ticket = try ticket(fields)
        guard event == "jira:issue_updated", let change = labelChange else { return DecodedWebhook(ticket: ticket, event: .created) }
        let before = Set(words(change["fromString"]?.stringValue).map { $0.lowercased() })
        let added = words(change["toString"]?.stringValue).filter { !before.contains($0.lowercased()) }
        return DecodedWebhook(ticket: ticket, event: .labelsAdded(added))
    }

    static func ticket(_ fields: Fields) throws -> Ticket {
        let key = try fields.requiredString("issue", "key").trimmingASCIIWhitespace()
        try Ticket.validateID(key, field: "issue.key", source: .jira)
        return Ticket(
            id: key,
            title: try fields.requiredString("issue", "fields", "summary"),
            description: description(fields.value(["issue", "fields", "description"])),
            labels: try fields.names("issue", "fields", "labels"),
            url: browseURL(fields.string("issue", "self"), key: key),
            source: TicketSource.jira.rawValue,
            project: fields.string("issue", "fields", "project", "key"))
    }

    static func words(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }

    /// Jira Server sends wiki-markup text; Jira Cloud's v3 payloads an Atlassian Document: its
    /// text nodes are joined.
    static func description(_ value: JSONValue?) -> String? {
        guard let value else { return nil }
        if let text = value.stringValue { return text }
        var parts: [String] = []
        func walk(_ node: JSONValue, depth: Int) {
            guard depth < 64 else { return }
            if let text = node["text"]?.stringValue { parts.append(text) }
            for child in node["content"]?.arrayValue ?? [] { walk(child, depth: depth + 1) }
            if node["type"]?.stringValue == "paragraph" { parts.append("\n") }
        }
        walk(value, depth: 0)
        let text = parts.joined()
        return text.isEmpty ? nil : text
    }

    /// `https://jira.example.com/rest/api/2/issue/10002` -> `https://jira.example.com/browse/KEY`.
    static func browseURL(_ selfURL: String?, key: String) -> String? {
        guard let selfURL, let range = selfURL.range(of: "/rest/api/") else { return nil }
        let url = String(selfURL[..<range.lowerBound]) + "/browse/" + key
        return PromptBuilder.isPlainURL(url) ? url : nil
    }
}
