import FoundationEssentials

/// GitLab issue webhooks (`X-Gitlab-Event: Issue Hook`, `object_kind: issue`, or `work_item` for
/// tasks, epics and the other work item types): `open` creates; `update` acts on the labels
/// added in `changes.labels` (current minus previous) or, when the labels did not change, on the
/// assignees added in `changes.assignees` (current minus previous usernames): an update that
/// changes both is a label event, as it was before assignments were read.
///
/// Comments come as `Note Hook` (`object_kind: note`): a note on an issue or work item
/// (`object_attributes.noteable_type` `Issue`, which GitLab also sends for work items, or
/// `WorkItem`) is a comment (`object_attributes.id`, `user.username`, `object_attributes.note`,
/// `object_attributes.url`) on the ticket in the top-level `issue` object. Notes on merge
/// requests, commits and snippets, system notes and edited notes (`action: update`) are ignored.
/// The id is `group/project#iid`.
enum GitLabDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        let fields = Fields(object)
        let kind = fields.string("object_kind") ?? headers["x-gitlab-event"] ?? "unknown"
        if ["note", "Note Hook", "Confidential Note Hook"].contains(kind) { return try note(fields) }
        // Tasks, epics and other work items come as `Issue Hook` with `object_kind: work_item`.
        guard ["issue", "work_item", "Issue Hook", "Confidential Issue Hook"].contains(kind) else {
            return .ignored("a \(kind.prefix(40)) event; only issue, work item and comment events are read", source: .gitlab)
        }
        let action = fields.string("object_attributes", "action") ?? ""
        guard action == "open" || action == "update" else {
            let reason = "the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened or labelled"
            if let ticket = try? ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
            return .ignored(reason, source: .gitlab)
        }
        let ticket = try ticket(fields)
        if action == "open" { return DecodedWebhook(ticket: ticket, event: .created) }
        if fields.value(["changes", "labels"]) != nil {
            let previous = Set(try fields.names("changes", "labels", "previous").map { $0.lowercased() })
            let added = try fields.names("changes", "labels", "current").filter { !previous.contains($0.lowercased()) }
            return DecodedWebhook(ticket: ticket, event: .labelsAdded(added))
        }
        if fields.value(["changes", "assignees"]) != nil {
            let previous = Set(try fields.logins(["changes", "assignees", "previous"], key: "username").map { $0.lowercased() })
            let added = try fields.logins(["changes", "assignees", "current"], key: "username").filter { !previous.contains($0.lowercased()) }
            if added.isEmpty { return DecodedWebhook(ticket: ticket, event: .ignored("an update that assigned no one new")) }
            return DecodedWebhook(ticket: ticket, event: .assigned(added.uniqueLogins()))
        }
        return DecodedWebhook(ticket: ticket, event: .ignored("an update that changed no labels"))
    }

    /// A `Note Hook`: a comment when it is a person's new note on an issue or work item.
    static func note(_ fields: Fields) throws -> DecodedWebhook {
        let type = fields.string("object_attributes", "noteable_type") ?? ""
        guard type == "Issue" || type == "WorkItem" else {
            let what: String
            switch type {
            case "MergeRequest": what = "a merge request"
            case "Commit": what = "a commit"
            case "Snippet": what = "a snippet"
            case "": what = "something that is not an issue"
            default: what = "a \(type.prefix(40))"
            }
            return skippedNote("a comment on \(what)", fields)
        }
        if fields.value(["object_attributes", "system"]) == .bool(true) {
            return skippedNote("a system note", fields)
        }
        let action = fields.string("object_attributes", "action") ?? "create"
        guard action == "create" else {
            return skippedNote("a note that was \(action == "update" ? "edited" : String(action.prefix(40))), not created", fields)
        }
        let ticket = try ticket(fields, in: "issue")
        let comment = TicketComment(
            id: try fields.commentID(["object_attributes", "id"]),
            author: try fields.requiredLogin(["user", "username"]),
            body: try fields.optionalString(["object_attributes", "note"]),
            url: fields.url("object_attributes", "url"))
        return DecodedWebhook(ticket: ticket, event: .commented(comment))
    }

    static func skippedNote(_ reason: String, _ fields: Fields) -> DecodedWebhook {
        if let ticket = try? ticket(fields, in: "issue") { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
        return .ignored(reason, source: .gitlab)
    }

    /// The ticket in `object` (`object_attributes` for issue hooks, `issue` for note hooks).
    static func ticket(_ fields: Fields, in object: String = "object_attributes") throws -> Ticket {
        let iid = try fields.requiredID(object, "iid")
        // A group's work item (an epic) has no project: its group's path is in its URL.
        let project = fields.string("project", "path_with_namespace") ?? groupPath(fields.string(object, "url"))
        let id = project.map { "\($0)#\(iid)" } ?? "#\(iid)"
        try Ticket.validateID(id, field: "\(object).iid", source: .gitlab)
        var labels = object == "object_attributes" ? try fields.names("labels") : []
        if labels.isEmpty { labels = try fields.names(object, "labels") }
        var ticket = Ticket(
            id: id,
            title: try fields.requiredString(object, "title"),
            description: fields.string(object, "description"),
            labels: labels,
            url: fields.url(object, "url"),
            source: TicketSource.gitlab.rawValue,
            project: project)
        // A project is a repository; a group (an epic's) is not.
        ticket.projectIsGroup = fields.string("project", "path_with_namespace") == nil
        return ticket
    }

    /// `https://gitlab.example.com/groups/acme/platform/-/epics/4` -> `acme/platform`.
    static func groupPath(_ url: String?) -> String? {
        guard let url, let path = URLComponents(string: url)?.path, path.hasPrefix("/groups/"),
              let end = path.firstRange(of: "/-/") else { return nil }
        let group = String(path[path.index(path.startIndex, offsetBy: 8)..<end.lowerBound])
        return group.isEmpty ? nil : group
    }
}
