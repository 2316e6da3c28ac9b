/// Gitea and Forgejo issue webhooks: GitHub-shaped bodies; `X-Gitea-Event` (or
/// `X-Forgejo-Event`) `issues` with `action: opened` creates; the `issue_label` event type with
/// `action: label_updated` is a label change (the payload lists the labels, not the one added).
enum GiteaDialect {
    static func decode(_ object: [String: JSONValue], headers: HTTPHeaders, source: TicketSource) throws -> DecodedWebhook {
        let fields = Fields(object)
        let event = (headers["x-forgejo-event"] ?? headers["x-gitea-event"])?.lowercased()
        let type = (headers["x-forgejo-event-type"] ?? headers["x-gitea-event-type"])?.lowercased()
        let kinds = [event, type].compactMap { $0 }
        let isIssue = kinds.isEmpty ? object["issue"] != nil : kinds.contains { $0 == "issues" || $0 == "issue_label" }
        guard isIssue else {
            return .ignored("a \((type ?? event ?? "unknown").prefix(40)) event; only issue events start sessions", source: source)
        }
        let action = fields.string("action") ?? ""
        switch action {
        case "opened":
            return DecodedWebhook(ticket: try GitHubDialect.issueTicket(fields, source: source), event: .created)
        case "label_updated", "labeled":
            let ticket = try GitHubDialect.issueTicket(fields, source: source)
            if let added = fields.string("label", "name") { return DecodedWebhook(ticket: ticket, event: .labelsAdded([added])) }
            return DecodedWebhook(ticket: ticket, event: .labelsChanged)
        default:
            return GitHubDialect.skipped("the issue was \(action.isEmpty ? "changed" : String(action.prefix(40))), not opened or labelled", fields, source: source)
        }
    }
}
