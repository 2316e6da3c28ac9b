/// Bugzilla webhooks (the Webhooks extension): `bug.create` creates; `bug.modify` acts on the
/// keywords or whiteboard tags it adds (`event.changes[]`). Keywords and whiteboard tags
/// (`[devin-autofix]` or plain words) act as labels. The id is `bug <id>`.
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
        guard kind == "bug.create" || kind == "bug.modify" else {
            return skipped("a \(kind.prefix(40)) event; only bug create and modify start sessions", fields)
        }
        if fields.value(["bug", "is_private"]) == .bool(true) && fields.value(["bug", "summary"]) == nil {
            return skipped("a private bug: Bugzilla sends only its id", fields)
        }
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
        if added.isEmpty {
            return DecodedWebhook(ticket: ticket, event: .ignored("a change that added no keyword or whiteboard tag"))
        }
        return DecodedWebhook(ticket: ticket, event: .labelsAdded(added))
    }

    static func skipped(_ reason: String, _ fields: Fields) -> DecodedWebhook {
        if let ticket = try? ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
        return .ignored(reason, source: .bugzilla, id: (try? fields.requiredID("bug", "id")).map { "bug \($0)" } ?? "-")
    }

    static func ticket(_ fields: Fields) throws -> Ticket {
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
            description: fields.string("bug", "description") ?? fields.string("bug", "comment", "body"),
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
