import Foundation

/// GitLab issue webhooks (`X-Gitlab-Event: Issue Hook`, `object_kind: issue`, or `work_item` for
/// tasks, epics and the other work item types): `open` creates;
/// `update` acts on the labels added in `changes.labels` (current minus previous). The id is
/// `group/project#iid`.
enum GitLabDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders) throws -> DecodedWebhook {
        let fields = Fields(object)
        let kind = fields.string("object_kind") ?? headers["x-gitlab-event"] ?? "unknown"
        // Tasks, epics and other work items come as `Issue Hook` with `object_kind: work_item`.
        guard ["issue", "work_item", "Issue Hook", "Confidential Issue Hook"].contains(kind) else {
            return .ignored("a \(kind.prefix(40)) event; only issue and work item events start sessions", source: .gitlab)
        }
        let action = fields.string("object_attributes", "action") ?? ""
        guard action == "open" || action == "update" else {
            let reason = "the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened or labelled"
            if let ticket = try? ticket(fields) { return DecodedWebhook(ticket: ticket, event: .ignored(reason)) }
            return .ignored(reason, source: .gitlab)
        }
        let ticket = try ticket(fields)
        if action == "open" { return DecodedWebhook(ticket: ticket, event: .created) }
        guard fields.value(["changes", "labels"]) != nil else {
            return DecodedWebhook(ticket: ticket, event: .ignored("an update that changed no labels"))
        }
        let previous = Set(try fields.names("changes", "labels", "previous").map { $0.lowercased() })
        let added = try fields.names("changes", "labels", "current").filter { !previous.contains($0.lowercased()) }
        return DecodedWebhook(ticket: ticket, event: .labelsAdded(added))
    }

    static func ticket(_ fields: Fields) throws -> Ticket {
        let iid = try fields.requiredID("object_attributes", "iid")
        // A group's work item (an epic) has no project: its group's path is in its URL.
        let project = fields.string("project", "path_with_namespace") ?? groupPath(fields.string("object_attributes", "url"))
        let id = project.map { "\($0)#\(iid)" } ?? "#\(iid)"
        try Ticket.validateID(id, field: "object_attributes.iid", source: .gitlab)
        var labels = try fields.names("labels")
        if labels.isEmpty { labels = try fields.names("object_attributes", "labels") }
        return Ticket(
            id: id,
            title: try fields.requiredString("object_attributes", "title"),
            description: fields.string("object_attributes", "description"),
            labels: labels,
            url: fields.url("object_attributes", "url"),
            source: TicketSource.gitlab.rawValue,
            project: project)
    }

    /// `https://gitlab.example.com/groups/acme/platform/-/epics/4` -> `acme/platform`.
    static func groupPath(_ url: String?) -> String? {
        guard let url, let path = URLComponents(string: url)?.path, path.hasPrefix("/groups/"),
              let end = path.range(of: "/-/") else { return nil }
        let group = String(path[path.index(path.startIndex, offsetBy: 8)..<end.lowerBound])
        return group.isEmpty ? nil : group
    }
}
