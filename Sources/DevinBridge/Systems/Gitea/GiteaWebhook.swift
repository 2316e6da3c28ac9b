/// Gitea and Forgejo issue webhooks: GitHub-shaped bodies; `X-Gitea-Event` (or
/// `X-Forgejo-Event`) `issues` with `action: opened` creates; the `issue_label` event type with
/// `action: label_updated` is a label change (the payload lists the labels, not the one added);
/// `action: assigned` (event type `issue_assign`) assigns everyone in `issue.assignees[]` and
/// `issue.assignee` (the payload does not say which was just added). `issue_comment` with
/// `action: created` is a comment (`comment.user.login`, else `sender.login`; Gitea sends no
/// `author_association`, so it is nil unless present); comments on pull requests (`is_pull`, or
/// the event type `pull_request_comment`) are ignored.
enum GiteaDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders, source: TicketSource) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = (headers["x-forgejo-event"] ?? headers["x-gitea-event"])?.lowercased()
        let type = (headers["x-forgejo-event-type"] ?? headers["x-gitea-event-type"])?.lowercased()
        let kinds = [event, type].compactMap { $0 }
        let comments = ["issue_comment", "pull_request_comment"]
        let isComment = kinds.isEmpty ? object["issue"] != nil && object["comment"] != nil : kinds.contains { comments.contains($0) }
        if isComment {
            return try GitHubDialect.comment(fields, source: source, pullRequest: type == "pull_request_comment")
        }
        let isIssue = kinds.isEmpty ? object["issue"] != nil : kinds.contains { ["issues", "issue_label", "issue_assign"].contains($0) }
        guard isIssue else {
            return .ignored("a \((type ?? event ?? "unknown").prefix(40)) event; only issue and issue comment events are read", source: source)
        }
        let action = fields.string("action") ?? ""
        switch action {
        case "opened":
            return DecodedWebhook(ticket: try GitHubDialect.issueTicket(fields, source: source), event: .created)
        case "label_updated", "labeled":
            let ticket = try GitHubDialect.issueTicket(fields, source: source)
            if let added = fields.string("label", "name") { return DecodedWebhook(ticket: ticket, event: .labelsAdded([added])) }
            return DecodedWebhook(ticket: ticket, event: .labelsChanged)
        case "assigned":
            let ticket = try GitHubDialect.issueTicket(fields, source: source)
            var logins = try fields.logins(["issue", "assignees"], key: "login")
            if let single = fields.string("issue", "assignee", "login"), !single.isEmpty { logins.append(single) }
            guard !logins.isEmpty else {
                throw BridgeError.missingField(fields.value(["issue", "assignees"]) == nil ? "issue.assignees" : "issue.assignees[].login")
            }
            return DecodedWebhook(ticket: ticket, event: .assigned(logins.uniqueLogins()))
        default:
            return GitHubDialect.skipped("the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened, labelled or assigned", fields, source: source)
        }
    }
}
