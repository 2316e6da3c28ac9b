import Foundation
import Testing
@testable import DevinBridge

// MARK: - Gitea and Forgejo

@Suite("Gitea and Forgejo issue, comment and assignment webhooks")
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

    @Test("events other than issues are ignored without reading an issue", arguments: ["push", "pull_request", "create"])
    func otherEvents(_ event: String) throws {
        let webhook = try WebhookFixture.decode(json: #"{"ref":"refs/heads/main","repository":{"full_name":"tools/cli"}}"#, as: .gitea,
                                                headers: [("X-Gitea-Event", event), ("X-Gitea-Event-Type", event)])
        #expect(WebhookFixture.reason(webhook)?.contains(event) == true)
    }

    @Test("other issue actions are ignored", arguments: ["closed", "reopened", "unassigned", "label_cleared", "edited"])
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

    // MARK: Comments and assignments

    static let comment = [("X-Gitea-Event", "issue_comment"), ("X-Gitea-Event-Type", "issue_comment"), ("X-GitHub-Event", "issue_comment")]

    @Test("issue_comment/created is a comment with every field; Gitea sends no author_association", arguments: [
        (TicketSource.gitea, [("X-Gitea-Event", "issue_comment"), ("X-Gitea-Event-Type", "issue_comment")]),
        (TicketSource.gitea, [("X-Gitea-Event-Type", "issue_comment")]),
        (TicketSource.forgejo, [("X-Forgejo-Event", "issue_comment"), ("X-Gitea-Event", "issue_comment")]),
        (TicketSource.gitea, []),
    ])
    func commentCreated(_ source: TicketSource, _ headers: [(String, String)]) throws {
        let webhook = try WebhookFixture.decode("gitea-issue-comment-created", as: source, headers: headers)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "tools/cli#7", title: "--verbose flag is ignored",
                description: "Running `cli sync --verbose` prints nothing extra.",
                labels: ["devin-autofix"], url: "https://git.example.com/tools/cli/issues/7",
                source: source.rawValue, project: "tools/cli"),
            event: .commented(TicketComment(
                id: "501", author: "alice", body: "@devin-bot the flag is parsed in cmd/sync.go.",
                url: "https://git.example.com/tools/cli/issues/7#issuecomment-501", association: nil, authorIsBot: false))))
    }

    @Test("the comment's author falls back to the sender; an author_association, when sent, is kept")
    func commentSender() throws {
        var object = try WebhookFixture.object("gitea-issue-comment-created")
        guard case .object(var comment)? = object["comment"] else { Issue.record("no comment"); return }
        comment["user"] = .null
        comment["author_association"] = .string("OWNER")
        object["comment"] = .object(comment)
        object["sender"] = .object(["login": .string("bob")])
        let webhook = try TicketSource.gitea.decode(object, headers: HTTPHeaders(Self.comment))
        guard case .commented(let decoded) = webhook.event else { Issue.record("not a comment: \(webhook.event)"); return }
        #expect(decoded.author == "bob")
        #expect(decoded.association == "OWNER")
    }

    @Test("a comment on a pull request (is_pull, or the pull_request_comment event type) is ignored")
    func pullRequestComment() throws {
        var object = try WebhookFixture.object("gitea-issue-comment-created")
        object["is_pull"] = .bool(true)
        let marked = try TicketSource.gitea.decode(object, headers: HTTPHeaders(Self.comment))
        #expect(WebhookFixture.reason(marked) == "a comment on a pull request")
        #expect(marked.ticket.id == "tools/cli#7")
        let typed = try WebhookFixture.decode("gitea-issue-comment-created", as: .forgejo,
                                              headers: [("X-Forgejo-Event", "issue_comment"), ("X-Forgejo-Event-Type", "pull_request_comment")])
        #expect(WebhookFixture.reason(typed) == "a comment on a pull request")
    }

    @Test("an edited or deleted comment is ignored with the action in the reason", arguments: ["edited", "deleted"])
    func commentActions(_ action: String) throws {
        var object = try WebhookFixture.object("gitea-issue-comment-created")
        object["action"] = .string(action)
        let webhook = try TicketSource.gitea.decode(object, headers: HTTPHeaders(Self.comment))
        #expect(WebhookFixture.reason(webhook)?.contains(action) == true)
    }

    @Test("a malformed comment throws an error naming the JSON path", arguments: [
        (#"{"action":"created","issue":{"number":7,"title":"t"},"comment":{"user":{"login":"a"}}}"#, BridgeError.missingField("comment.id")),
        (#"{"action":"created","issue":{"number":7,"title":"t"},"comment":{"id":"x","user":{"login":"a"}}}"#, .invalidField("comment.id", "must be a comment number")),
        (#"{"action":"created","issue":{"number":7,"title":"t"},"comment":{"id":1}}"#, .missingField("comment.user.login")),
        (#"{"action":"created","issue":{"number":7,"title":"t"},"comment":{"id":1,"user":{"login":"a"},"body":1}}"#, .invalidField("comment.body", "must be a string")),
        (#"{"action":"created","issue":{"number":7},"comment":{"id":1,"user":{"login":"a"}}}"#, .missingField("issue.title")),
    ])
    func malformedComment(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .gitea, headers: Self.comment)
        }
    }

    @Test("issues/assigned (issue_assign) assigns every assignee, deduplicated: Gitea does not say which was added")
    func assigned() throws {
        let webhook = try WebhookFixture.decode("gitea-issues-assigned", as: .gitea,
                                                headers: [("X-Gitea-Event", "issues"), ("X-Gitea-Event-Type", "issue_assign")])
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "tools/cli#8", title: "Config file path is not expanded",
                description: "`~/.cli.toml` is read literally.", labels: ["devin-feature"],
                url: "https://git.example.com/tools/cli/issues/8", source: "gitea", project: "tools/cli"),
            event: .assigned(["carol", "devin-bot"])))
        // With only the single assignee field.
        let single = try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":7,"title":"t","assignee":{"login":"devin-bot"},"assignees":null}}"#,
                                               as: .forgejo, headers: [("X-Forgejo-Event", "issues"), ("X-Forgejo-Event-Type", "issue_assign")])
        #expect(single.event == .assigned(["devin-bot"]))
    }

    @Test("an assigned event that names no assignee throws naming the JSON path")
    func assignedMalformed() {
        #expect(throws: BridgeError.missingField("issue.assignees")) {
            try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":7,"title":"t"}}"#, as: .gitea, headers: [("X-Gitea-Event", "issues")])
        }
        #expect(throws: BridgeError.invalidField("issue.assignees", "must be a list")) {
            try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":7,"title":"t","assignees":"bob"}}"#, as: .gitea, headers: [("X-Gitea-Event", "issues")])
        }
        #expect(throws: BridgeError.missingField("issue.assignees[].login")) {
            try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":7,"title":"t","assignees":[{"id":1}]}}"#, as: .gitea, headers: [("X-Gitea-Event", "issues")])
        }
    }
}
