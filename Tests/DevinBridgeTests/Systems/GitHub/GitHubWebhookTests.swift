import Foundation
import Testing
@testable import DevinBridge

// MARK: - GitHub

@Suite("GitHub issue, comment and assignment webhooks")
struct GitHubDialectTests {
    static let issues = [("X-GitHub-Event", "issues")]

    @Test("issues/opened is a created ticket: owner/repo#number, body, label names, html_url, repository")
    func opened() throws {
        let webhook = try WebhookFixture.decode("github-issues-opened", as: .github, headers: Self.issues)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "acme/shop#42", title: "Checkout total ignores the discount code",
                description: "Apply SAVE10 at checkout: the total does not change.\n\nExpected: 10% off.",
                labels: ["bug", "devin-autofix"], url: "https://github.com/acme/shop/issues/42",
                source: "github", project: "acme/shop"),
            event: .created))
    }

    @Test("issues/labeled adds exactly the label in the top-level label object")
    func labeled() throws {
        let webhook = try WebhookFixture.decode("github-issues-labeled", as: .github, headers: Self.issues)
        #expect(webhook.event == .labelsAdded(["devin-autofix"]))
        #expect(webhook.ticket.id == "acme/shop#43")
        #expect(webhook.ticket.labels == ["bug", "devin-autofix"])
        #expect(webhook.ticket.url == "https://github.com/acme/shop/issues/43")
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-autofix", playbookID: "playbook-autofix1")))
    }

    @Test("adding another label to a ticket that already carries a trigger label does not act")
    func labeledOther() throws {
        let webhook = try WebhookFixture.decode("github-issues-labeled-other", as: .github, headers: Self.issues)
        #expect(webhook.event == .labelsAdded(["ui"]))
        #expect(webhook.ticket.labels.contains("devin-autofix"))
        guard case .failure(let skip) = WebhookFixture.rules.decide(webhook) else {
            Issue.record("a label event for \"ui\" must not act")
            return
        }
        #expect(skip.text.contains("ui"))
    }

    @Test("a labeled event without a label object adds nothing")
    func labeledWithoutLabel() throws {
        let webhook = try WebhookFixture.decode(json: #"{"action":"labeled","issue":{"number":1,"title":"t","labels":[{"name":"devin-autofix"}]}}"#,
                                                as: .github, headers: Self.issues)
        #expect(webhook.event == .labelsAdded([]))
    }

    @Test("issues/closed is ignored with a reason naming the action")
    func closed() throws {
        let webhook = try WebhookFixture.decode("github-issues-closed", as: .github, headers: Self.issues)
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(reason.contains("closed"))
        #expect(webhook.ticket.id == "acme/shop#42")
    }

    @Test("events other than issues are ignored without reading an issue", arguments: [
        ("ping", "github-ping", "ping"),
        ("push", "github-push", "push"),
        ("Push", "gitlab-push", "push"),
    ])
    func otherEvents(_ event: String, _ fixture: String, _ word: String) throws {
        let webhook = try WebhookFixture.decode(fixture, as: .github, headers: [("X-GitHub-Event", event)])
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(reason.contains(word))
        #expect(webhook.ticket.source == "github")
    }

    @Test("without X-GitHub-Event (source forced by the URL) a body with an issue is an issues event")
    func noEventHeader() throws {
        #expect(try WebhookFixture.decode("github-issues-opened", as: .github).event == .created)
        #expect(WebhookFixture.reason(try WebhookFixture.decode("github-ping", as: .github)) != nil)
    }

    @Test("without a repository the id is #number; a null body is no description; a non-http link is dropped")
    func sparseIssue() throws {
        let webhook = try WebhookFixture.decode(
            json: #"{"action":"opened","issue":{"number":"9","title":"t","body":null,"html_url":"javascript:alert(1)"}}"#,
            as: .github, headers: Self.issues)
        #expect(webhook.ticket == Ticket(id: "#9", title: "t", source: "github"))
    }

    @Test("a malformed issues event throws an error naming the JSON path", arguments: [
        (#"{"action":"opened","issue":{"number":1}}"#, BridgeError.missingField("issue.title")),
        (#"{"action":"opened","issue":{"number":1,"title":7}}"#, .invalidField("issue.title", "must be a string")),
        (#"{"action":"opened","issue":{"title":"t"}}"#, .missingField("issue.number")),
        (#"{"action":"opened"}"#, .missingField("issue.number")),
        (#"{"action":"opened","issue":{"number":true,"title":"t"}}"#, .invalidField("issue.number", "must be a string or a whole number")),
        (#"{"action":"opened","issue":{"number":1.5,"title":"t"}}"#, .invalidField("issue.number", "must be a string or a whole number")),
        (#"{"action":"opened","issue":{"number":1,"title":"t","labels":"devin-autofix"}}"#, .invalidField("issue.labels", "must be a list")),
        (#"{"action":"opened","issue":{"number":1,"title":"t"},"repository":{"full_name":"acme/shop;rm -rf"}}"#, .invalidField("issue.number", TicketIDShape(.github).rule)),
        (#"{"action":"opened","issue":{"number":"1\n2","title":"t"}}"#, .invalidField("issue.number", TicketIDShape(.github).rule)),
    ])
    func malformed(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .github, headers: Self.issues)
        }
    }

    @Test("a repository name longer than 100 characters is refused")
    func longID() {
        let name = "acme/" + String(repeating: "x", count: 101)
        #expect(throws: BridgeError.invalidField("issue.number", TicketIDShape(.github).rule)) {
            try WebhookFixture.decode(json: #"{"action":"opened","issue":{"number":1,"title":"t"},"repository":{"full_name":"\#(name)"}}"#,
                                      as: .github, headers: Self.issues)
        }
    }

    // MARK: Comments and assignments

    static let issueComment = [("X-GitHub-Event", "issue_comment")]

    @Test("issue_comment/created is a comment with every field, on the ticket as an issue event reads it")
    func commentCreated() throws {
        let webhook = try WebhookFixture.decode("github-issue-comment-created", as: .github, headers: Self.issueComment)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "acme/shop#42", title: "Checkout total ignores the discount code",
                description: "Apply SAVE10 at checkout: the total does not change.\n\nExpected: 10% off.",
                labels: ["bug", "devin-autofix"], url: "https://github.com/acme/shop/issues/42",
                source: "github", project: "acme/shop"),
            event: .commented(TicketComment(
                id: "3001000001", author: "alice", body: "@devin-bot please also cover the percentage codes.",
                url: "https://github.com/acme/shop/issues/42#issuecomment-3001000001", association: "MEMBER", authorIsBot: false))))
        #expect(WebhookFixture.rules.decide(webhook) == .failure(SkipReason("a comment; comments are handled by the comment rules")))
    }

    @Test("without X-GitHub-Event a body with an issue and a comment is a comment")
    func commentWithoutHeader() throws {
        let webhook = try WebhookFixture.decode("github-issue-comment-created", as: .github)
        guard case .commented(let comment) = webhook.event else { Issue.record("not a comment: \(webhook.event)"); return }
        #expect(comment.id == "3001000001")
    }

    @Test("a bot's comment is marked; a comment without association, body or link keeps them nil")
    func botComment() throws {
        let webhook = try WebhookFixture.decode(json: """
            {"action":"created","issue":{"number":1,"title":"t"},"repository":{"full_name":"acme/shop"},
             "comment":{"id":"17","user":{"login":"devin-bot[bot]","type":"Bot"},"body":null,"html_url":"javascript:x"}}
            """, as: .github, headers: Self.issueComment)
        #expect(webhook.event == .commented(TicketComment(id: "17", author: "devin-bot[bot]", body: nil, url: nil, association: nil, authorIsBot: true)))
        #expect(webhook.ticket.id == "acme/shop#1")
    }

    @Test("a comment on a pull request is ignored with the reason")
    func pullRequestComment() throws {
        let webhook = try WebhookFixture.decode("github-pr-comment", as: .github, headers: Self.issueComment)
        #expect(WebhookFixture.reason(webhook) == "a comment on a pull request")
        #expect(webhook.ticket.id == "acme/shop#44")
    }

    @Test("an edited or deleted comment is ignored with the action in the reason", arguments: ["edited", "deleted"])
    func commentActions(_ action: String) throws {
        var object = try WebhookFixture.object("github-issue-comment-created")
        object["action"] = .string(action)
        let webhook = try TicketSource.github.decode(object, headers: HTTPHeaders(Self.issueComment))
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(reason.contains(action))
        #expect(webhook.ticket.id == "acme/shop#42")
    }

    @Test("a malformed comment throws an error naming the JSON path", arguments: [
        (#"{"action":"created","issue":{"number":1,"title":"t"}}"#, BridgeError.missingField("comment.id")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":"1; rm","user":{"login":"a"}}}"#, .invalidField("comment.id", "must be a comment number")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":-5,"user":{"login":"a"}}}"#, .invalidField("comment.id", "must be a comment number")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":1.5,"user":{"login":"a"}}}"#, .invalidField("comment.id", "must be a comment number")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":1}}"#, .missingField("comment.user.login")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":1,"user":{"login":7}}}"#, .invalidField("comment.user.login", "must be a string")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":1,"user":{"login":""}}}"#, .invalidField("comment.user.login", "is empty")),
        (#"{"action":"created","issue":{"number":1,"title":"t"},"comment":{"id":1,"user":{"login":"a"},"body":["x"]}}"#, .invalidField("comment.body", "must be a string")),
        (#"{"action":"created","issue":{"number":1},"comment":{"id":1,"user":{"login":"a"}}}"#, .missingField("issue.title")),
        (#"{"action":"created","comment":{"id":1,"user":{"login":"a"}}}"#, .missingField("issue.number")),
    ])
    func malformedComment(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .github, headers: Self.issueComment)
        }
    }

    @Test("issues/assigned assigns the top-level assignee, not every assignee of the issue")
    func assigned() throws {
        let webhook = try WebhookFixture.decode("github-issues-assigned", as: .github, headers: Self.issues)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "acme/shop#43", title: "Search returns deleted products",
                description: "Deleted products still show up in search results.", labels: ["bug"],
                url: "https://github.com/acme/shop/issues/43", source: "github", project: "acme/shop"),
            event: .assigned(["devin-bot"])))
        #expect(WebhookFixture.rules.decide(webhook) == .failure(SkipReason("an assignment; assignments are handled by the assignment rule")))
    }

    @Test("an assigned event without its assignee throws naming assignee.login; unassigned is ignored")
    func assignedMalformed() throws {
        #expect(throws: BridgeError.missingField("assignee.login")) {
            try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":1,"title":"t"}}"#, as: .github, headers: Self.issues)
        }
        #expect(throws: BridgeError.invalidField("assignee.login", "must be a string")) {
            try WebhookFixture.decode(json: #"{"action":"assigned","issue":{"number":1,"title":"t"},"assignee":{"login":3}}"#, as: .github, headers: Self.issues)
        }
        let unassigned = try WebhookFixture.decode(json: #"{"action":"unassigned","issue":{"number":1,"title":"t"},"assignee":{"login":"a"}}"#,
                                                   as: .github, headers: Self.issues)
        #expect(WebhookFixture.reason(unassigned)?.contains("unassigned") == true)
    }
}
