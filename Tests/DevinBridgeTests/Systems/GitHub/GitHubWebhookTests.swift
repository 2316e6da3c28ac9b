import Foundation
import Testing
@testable import DevinBridge

// MARK: - GitHub

@Suite("GitHub issue webhooks")
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
        ("issue_comment", "github-issues-opened", "issue_comment"),
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
}
