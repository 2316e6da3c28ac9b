import Foundation
import Testing
@testable import DevinBridge

// MARK: - Gitea and Forgejo

@Suite("Gitea and Forgejo issue webhooks")
struct GiteaDialectTests {
    @Test("issues/opened is a created ticket, source gitea or forgejo after the header", arguments: [
        (TicketSource.gitea, [("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")]),
        (TicketSource.forgejo, [("X-Forgejo-Event", "issues"), ("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")]),
    ])
    func opened(_ source: TicketSource, _ headers: [(String, String)]) throws {
        let webhook = try WebhookFixture.decode("gitea-issues-opened", as: source, headers: headers)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "tools/cli#7", title: "--verbose flag is ignored",
                description: "Running `cli sync --verbose` prints nothing extra.",
                labels: ["devin-autofix"], url: "https://git.example.com/tools/cli/issues/7",
                source: source.rawValue, project: "tools/cli"),
            event: .created))
    }

    @Test("issue_label/label_updated without a label object is a label change judged on the ticket's labels")
    func labelUpdated() throws {
        let webhook = try WebhookFixture.decode("gitea-issue-label-updated", as: .gitea,
                                                headers: [("X-Gitea-Event", "issues"), ("X-Gitea-Event-Type", "issue_label")])
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "tools/cli#8", title: "Config file path is not expanded",
                description: "`~/.cli.toml` is read literally.", labels: ["devin-feature"],
                url: "https://git.example.com/tools/cli/issues/8", source: "gitea", project: "tools/cli"),
            event: .labelsChanged))
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-feature")))
    }

    @Test("a label event with a label object adds only that label")
    func labelObject() throws {
        let webhook = try WebhookFixture.decode("gitea-issue-label-updated-with-label", as: .gitea,
                                                headers: [("X-Gitea-Event", "issue_label")])
        #expect(webhook.event == .labelsAdded(["shell"]))
        #expect(webhook.ticket.labels == ["devin-autofix", "shell"])
        #expect(webhook.ticket.id == "tools/cli#9")
        guard case .failure = WebhookFixture.rules.decide(webhook) else {
            Issue.record("adding \"shell\" must not act, whatever else the ticket carries")
            return
        }
    }

    @Test("Forgejo's own event headers win over Gitea's")
    func forgejoHeaders() throws {
        let webhook = try WebhookFixture.decode("gitea-issue-label-updated", as: .forgejo,
                                                headers: [("X-Forgejo-Event", "issues"), ("X-Forgejo-Event-Type", "issue_label"), ("X-Gitea-Event", "push")])
        #expect(webhook.event == .labelsChanged)
        #expect(webhook.ticket.source == "forgejo")
    }

    @Test("events other than issues are ignored without reading an issue", arguments: ["push", "issue_comment", "pull_request", "create"])
    func otherEvents(_ event: String) throws {
        let webhook = try WebhookFixture.decode(json: #"{"ref":"refs/heads/main","repository":{"full_name":"tools/cli"}}"#, as: .gitea,
                                                headers: [("X-Gitea-Event", event), ("X-Gitea-Event-Type", event)])
        #expect(WebhookFixture.reason(webhook)?.contains(event) == true)
    }

    @Test("other issue actions are ignored", arguments: ["closed", "reopened", "assigned", "label_cleared", "edited"])
    func otherActions(_ action: String) throws {
        let webhook = try WebhookFixture.decode(json: #"{"action":"\#(action)","issue":{"number":7,"title":"t"},"repository":{"full_name":"tools/cli"}}"#,
                                                as: .gitea, headers: [("X-Gitea-Event", "issues")])
        #expect(WebhookFixture.reason(webhook)?.contains(action) == true)
        #expect(webhook.ticket.id == "tools/cli#7")
    }

    @Test("a malformed issues event throws an error naming the JSON path")
    func malformed() {
        #expect(throws: BridgeError.missingField("issue.title")) {
            try WebhookFixture.decode(json: #"{"action":"opened","issue":{"number":7}}"#, as: .gitea, headers: [("X-Gitea-Event", "issues")])
        }
        #expect(throws: BridgeError.missingField("issue.number")) {
            try WebhookFixture.decode(json: #"{"action":"opened","issue":{"title":"t"}}"#, as: .forgejo, headers: [("X-Forgejo-Event", "issues")])
        }
    }
}
