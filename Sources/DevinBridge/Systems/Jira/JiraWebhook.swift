/// Jira Server/Data Center webhooks: `jira:issue_created` creates; `jira:issue_updated` acts on
/// the labels its changelog adds (`changelog.items[]` with `field: labels`, space-separated
/// `fromString`/`toString`); without a label change, on an assignee change (`field: assignee`:
/// `to`, the user name or on Jira 8+ a `JIRAUSER…` key, and `toString`, the display name), and
/// without either, on the `comment` it carries (`issue_event_type_name: issue_commented`, or any
/// update with a comment): label change first, then assignment, then comment. Jira sends each
/// comment twice: `comment_created` carries no issue and is ignored; its `jira:issue_updated`
/// twin is read. Edited and deleted comments are ignored. The id is the issue key (`PROJ-123`).
enum JiraDialect {
    static func decode(_ object: [String: JSONValue]) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = fields.string("webhookEvent") ?? "unknown"
        if event == "comment_created" {
            return .ignored("a comment_created event: the comment is handled through its jira:issue_updated delivery", source: .jira)
        }
        guard event == "jira:issue_created" || event == "jira:issue_updated" else {
            return .ignored("a \(event.prefix(40)) event; only issue created and updated events are read", source: .jira)
        }
        let items = fields.value(["changelog", "items"])?.arrayValue ?? []
        let labelChange = items.first(where: { $0["field"]?.stringValue?.lowercased() == "labels" })
        if event == "jira:issue_updated" && labelChange == nil {
            return try updateWithoutLabels(fields, items: items)
        }
        let ticket = try ticket(fields)
        guard event == "jira:issue_updated", let change = labelChange else { return DecodedWebhook(ticket: ticket, event: .created) }
        let before = Set(words(change["fromString"]?.stringValue).map { $0.lowercased() })
        let added = words(change["toString"]?.stringValue).filter { !before.contains($0.lowercased()) }
        return DecodedWebhook(ticket: ticket, event: .labelsAdded(added))
    }

    /// A `jira:issue_updated` that changed no labels: an assignment, a comment, or nothing to act on.
    static func updateWithoutLabels(_ fields: Fields, items: [JSONValue]) throws -> DecodedWebhook {
        func skipped(_ reason: String) -> DecodedWebhook {
            if let ticket = try? Self.ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
            return .ignored(reason, source: .jira, id: fields.string("issue", "key") ?? "-")
        }
        if let change = items.first(where: { $0["field"]?.stringValue?.lowercased() == "assignee" }) {
            let ticket = try Self.ticket(fields)
            // The user name is in the assignee (`name`); the changelog has the key
            // (`JIRAUSER…` on Jira 8+) and the display name.
            let logins = [fields.string("issue", "fields", "assignee", "name"), change["to"]?.stringValue,
                          fields.string("issue", "fields", "assignee", "key"), change["toString"]?.stringValue]
                .compactMap { $0?.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
            if logins.isEmpty { return DecodedWebhook(ticket: ticket, event: .ignored("an assignee change that assigned no one")) }
            return DecodedWebhook(ticket: ticket, event: .assigned(logins.uniqueLogins()))
        }
        let type = fields.string("issue_event_type_name") ?? ""
        switch type {
        case "issue_comment_edited": return skipped("an edited comment")
        case "issue_comment_deleted": return skipped("a deleted comment")
        default: break
        }
        guard fields.value(["comment"]) != nil else { return skipped("an update that changed no labels") }
        let ticket = try Self.ticket(fields)
        let id = try fields.commentID(["comment", "id"])
        let author = try fields.requiredLogin(["comment", "author", "name"], fallbacks: [
            ["comment", "author", "key"], ["comment", "author", "accountId"], ["comment", "author", "displayName"],
        ])
        let body: String?
        switch fields.value(["comment", "body"]) {
        case nil: body = nil
        case .string(let text)?: body = text
        case .object(let document)?: body = description(.object(document))
        default: throw BridgeError.invalidField("comment.body", "must be a string or a document")
        }
        let url = ticket.url.map { "\($0)?focusedCommentId=\(id)" }.flatMap { PromptBuilder.isPlainURL($0) ? $0 : nil }
        return DecodedWebhook(ticket: ticket, event: .commented(TicketComment(id: id, author: author, body: body, url: url)))
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
            // Jira Cloud's mention node: `@Name` in `attrs.text`.
            if node["type"]?.stringValue == "mention", let text = node["attrs"]?["text"]?.stringValue { parts.append(text) }
            for child in node["content"]?.arrayValue ?? [] { walk(child, depth: depth + 1) }
            if node["type"]?.stringValue == "paragraph" { parts.append("\n") }
        }
        walk(value, depth: 0)
        let text = parts.joined()
        return text.isEmpty ? nil : text
    }

    /// `https://jira.example.com/rest/api/2/issue/10002` -> `https://jira.example.com/browse/KEY`.
    static func browseURL(_ selfURL: String?, key: String) -> String? {
        guard let selfURL, let range = selfURL.firstRange(of: "/rest/api/") else { return nil }
        let url = String(selfURL[..<range.lowerBound]) + "/browse/" + key
        return PromptBuilder.isPlainURL(url) ? url : nil
    }
}
