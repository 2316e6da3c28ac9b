/// Bugzilla webhooks (the Webhooks extension): `bug.create` creates; `bug.modify` acts on the
/// keywords or whiteboard tags it adds (`event.changes[]`), or, when it adds none, on a change
/// of `assigned_to` (its `added` login). Keywords and whiteboard tags (`[devin-autofix]` or plain
/// words) act as labels. `comment.create` (BMO) is a comment: `bug.comment.id`, the author
/// `event.user.login`, `bug.comment.body` (nil when absent or `is_private`: the bridge reads it
/// through the API), `<bug page>#c<number>`; comment 0, the description, arrives with its bug and
/// is ignored. The id is `bug <id>`.
enum BugzillaDialect {
    static func decode(_ object: [String: JSONValue]) throws -> DecodedWebhook {
        let fields = Fields(object)
        guard fields.value(["bug"]) != nil else { throw BridgeError.missingField("bug") }
        // `bug.create`, `bug.modify`, `comment.create`, `attachment.create`, ...: from the routing
        // key, else from the target and the action.
        let routing = fields.string("event", "routing_key") ?? ""
        let kind = routing.isEmpty
            ? "\(fields.string("event", "target") ?? "bug").\(fields.string("event", "action") ?? "")"
            : String(routing.split(separator: ":").first ?? "")
        guard kind == "bug.create" || kind == "bug.modify" || kind == "comment.create" else {
            return skipped("a \(kind.prefix(40)) event; only bug create and modify and comment create are read", fields)
        }
        if fields.value(["bug", "is_private"]) == .bool(true) && fields.value(["bug", "summary"]) == nil {
            return skipped("a private bug: Bugzilla sends only its id", fields)
        }
        if kind == "comment.create" { return try comment(fields) }
        let ticket = try ticket(fields)
        if kind == "bug.create" { return DecodedWebhook(ticket: ticket, event: .created) }

        var added: [String] = []
        for change in fields.value(["event", "changes"])?.arrayValue ?? [] {
            let field = change["field"]?.stringValue ?? ""
            let removed: Set<String>
            let now: [String]
            switch field {
            case "keywords":
                removed = Set(keywords(change["removed"]).map { $0.lowercased() })
                now = keywords(change["added"])
            case "whiteboard", "status_whiteboard":
                removed = Set(whiteboardTags(change["removed"]?.stringValue).map { $0.lowercased() })
                now = whiteboardTags(change["added"]?.stringValue)
            default:
                continue
            }
            added += now.filter { !removed.contains($0.lowercased()) }
        }
        if !added.isEmpty { return DecodedWebhook(ticket: ticket, event: .labelsAdded(added)) }
        let assignment = fields.value(["event", "changes"])?.arrayValue?.first { $0["field"]?.stringValue == "assigned_to" }
        if let assignment {
            guard let login = assignment["added"]?.stringValue?.trimmingASCIIWhitespace(), !login.isEmpty else {
                return DecodedWebhook(ticket: ticket, event: .ignored("an assignee change that assigned no one"))
            }
            return DecodedWebhook(ticket: ticket, event: .assigned([login]))
        }
        return DecodedWebhook(ticket: ticket, event: .ignored("a change that added no keyword or whiteboard tag"))
    }

    /// A `comment.create`: the comment in `bug.comment`, its author in `event.user`.
    static func comment(_ fields: Fields) throws -> DecodedWebhook {
        guard fields.value(["bug", "comment"]) != nil else { throw BridgeError.missingField("bug.comment") }
        let ticket = try ticket(fields, isComment: true)
        let number = fields.value(["bug", "comment", "number"])?.idText ?? fields.value(["bug", "comment", "count"])?.idText
        if number == "0" {
            return DecodedWebhook(ticket: ticket, event: .ignored("the bug's description (comment 0), which comes with its bug.create"))
        }
        let isPrivate = fields.value(["bug", "comment", "is_private"]) == .bool(true)
        let body = try fields.optionalString(["bug", "comment", "body"])
        let anchor = number.flatMap { text in text.allSatisfy(\.isASCII) && text.allSatisfy(\.isNumber) ? "#c\(text)" : nil }
        let comment = TicketComment(
            id: try fields.commentID(["bug", "comment", "id"]),
            author: try fields.requiredLogin(["event", "user", "login"]),
            body: isPrivate ? nil : body,
            url: anchor.flatMap { anchor in ticket.url.map { $0 + anchor } })
        return DecodedWebhook(ticket: ticket, event: .commented(comment))
    }

    static func skipped(_ reason: String, _ fields: Fields) -> DecodedWebhook {
        if let ticket = try? ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
        return .ignored(reason, source: .bugzilla, id: (try? fields.requiredID("bug", "id")).map { "bug \($0)" } ?? "-")
    }

    /// The bug; for a comment event, `bug.comment` is the new comment, not the description.
    static func ticket(_ fields: Fields, isComment: Bool = false) throws -> Ticket {
        let number = try fields.requiredID("bug", "id")
        let id = "bug \(number)"
        try Ticket.validateID(id, field: "bug.id", source: .bugzilla)
        var labels = keywords(fields.value(["bug", "keywords"]))
        labels += whiteboardTags(fields.string("bug", "whiteboard") ?? fields.string("bug", "status_whiteboard"))
        // Harmony sends product and component as {id, name}; older payloads as plain strings.
        let product = fields.string("bug", "product") ?? fields.string("bug", "product", "name")
        let component = fields.string("bug", "component") ?? fields.string("bug", "component", "name")
        return Ticket(
            id: id,
            title: try fields.requiredString("bug", "summary"),
            description: fields.string("bug", "description") ?? (isComment ? nil : fields.string("bug", "comment", "body")),
            labels: labels,
            url: fields.url("bug", "url").flatMap { $0.contains("show_bug.cgi") ? $0 : nil },
            source: TicketSource.bugzilla.rawValue,
            project: [product, component].compactMap { $0 }.joined(separator: "/").nilIfEmpty)
    }

    /// Keywords as a list, or as one comma-separated string.
    static func keywords(_ value: JSONValue?) -> [String] {
        switch value {
        case .array(let items)?: return items.compactMap(\.stringValue)
        case .string(let text)?: return text.split(separator: ",").map { $0.trimmingASCIIWhitespace() }.filter { !$0.isEmpty }
        default: return []
        }
    }

    /// `[devin-autofix] [ux]` -> the bracketed tags; without brackets, the words.
    static func whiteboardTags(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var tags: [String] = []
        var current: String?
        for character in text {
            if character == "[" { current = "" } else if character == "]" {
                if let tag = current?.trimmingASCIIWhitespace(), !tag.isEmpty { tags.append(tag) }
                current = nil
            } else if current != nil { current!.append(character) }
        }
        if !tags.isEmpty { return tags }
        return text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
