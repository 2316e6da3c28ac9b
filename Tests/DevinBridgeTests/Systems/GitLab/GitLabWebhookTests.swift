import Foundation
import Testing
@testable import DevinBridge

// MARK: - GitLab

@Suite("GitLab issue webhooks")
struct GitLabDialectTests {
    static let issueHook = [("X-Gitlab-Event", "Issue Hook")]

    @Test("open is a created ticket: group/project#iid, labels[].title, url, path_with_namespace")
    func open() throws {
        let webhook = try WebhookFixture.decode("gitlab-issue-open", as: .gitlab, headers: Self.issueHook)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "platform/backend#23", title: "Nightly export job times out",
                description: "Since Tuesday the export job exceeds its 30 min limit.",
                labels: ["devin-autofix"], url: "https://gitlab.example.com/platform/backend/-/issues/23",
                source: "gitlab", project: "platform/backend"),
            event: .created))
    }

    @Test("a confidential issue hook decodes like any issue hook")
    func confidential() throws {
        let webhook = try WebhookFixture.decode("gitlab-confidential-issue-open", as: .gitlab,
                                                headers: [("X-Gitlab-Event", "Confidential Issue Hook")])
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "platform/backend#25", title: "Session tokens are logged at debug level",
                description: "Found in the access log.", labels: ["security", "devin-autofix"],
                url: "https://gitlab.example.com/platform/backend/-/issues/25",
                source: "gitlab", project: "platform/backend"),
            event: .created))
    }

    @Test("an object_kind-less body is recognised by the event header, confidential or not",
          arguments: ["Issue Hook", "Confidential Issue Hook"])
    func headerOnly(_ header: String) throws {
        let webhook = try WebhookFixture.decode(
            json: #"{"object_attributes":{"iid":3,"title":"t","action":"open","labels":[{"title":"devin-feature"}]}}"#,
            as: .gitlab, headers: [("X-Gitlab-Event", header)])
        #expect(webhook.event == .created)
        #expect(webhook.ticket.id == "#3")
        // object_attributes.labels stand in when the top-level labels are absent.
        #expect(webhook.ticket.labels == ["devin-feature"])
    }

    @Test("update with changes.labels adds current minus previous")
    func updateLabels() throws {
        let webhook = try WebhookFixture.decode("gitlab-issue-update-labels", as: .gitlab, headers: Self.issueHook)
        #expect(webhook.event == .labelsAdded(["devin-feature"]))
        #expect(webhook.ticket.id == "platform/backend#24")
        #expect(webhook.ticket.labels == ["bug", "devin-feature"])
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-feature")))
    }

    @Test("the label difference ignores case; a removal adds nothing")
    func labelDifference() throws {
        func added(previous: String, current: String) throws -> TicketEvent {
            try WebhookFixture.decode(json: """
                {"object_kind":"issue","object_attributes":{"iid":1,"title":"t","action":"update"},
                 "changes":{"labels":{"previous":\(previous),"current":\(current)}}}
                """, as: .gitlab, headers: Self.issueHook).event
        }
        #expect(try added(previous: #"[{"title":"bug"},{"title":"Devin-Feature"}]"#,
                          current: #"[{"title":"BUG"},{"title":"devin-feature"},{"title":"devin-autofix"}]"#) == .labelsAdded(["devin-autofix"]))
        #expect(try added(previous: #"[{"title":"devin-autofix"}]"#, current: "[]") == .labelsAdded([]))
        #expect(try added(previous: "[]", current: #"[{"title":"a"},{"title":"b"}]"#) == .labelsAdded(["a", "b"]))
    }

    @Test("an update that changes no labels is ignored")
    func updateTitle() throws {
        let webhook = try WebhookFixture.decode("gitlab-issue-update-title", as: .gitlab, headers: Self.issueHook)
        #expect(WebhookFixture.reason(webhook) == "an update that changed no labels")
        #expect(webhook.ticket.id == "platform/backend#24")
    }

    @Test("close and reopen are ignored with the action in the reason", arguments: ["close", "reopen"])
    func otherActions(_ action: String) throws {
        let webhook = try WebhookFixture.decode(json: #"{"object_kind":"issue","object_attributes":{"iid":1,"title":"t","action":"\#(action)"}}"#,
                                                as: .gitlab, headers: Self.issueHook)
        #expect(WebhookFixture.reason(webhook)?.contains(action) == true)
    }

    @Test("a push hook is ignored without reading an issue")
    func push() throws {
        let webhook = try WebhookFixture.decode("gitlab-push", as: .gitlab, headers: [("X-Gitlab-Event", "Push Hook")])
        #expect(WebhookFixture.reason(webhook)?.contains("push") == true)
        #expect(webhook.ticket.source == "gitlab")
    }

    @Test("a malformed issue hook throws an error naming the JSON path", arguments: [
        (#"{"object_kind":"issue","object_attributes":{"title":"t","action":"open"}}"#, BridgeError.missingField("object_attributes.iid")),
        (#"{"object_kind":"issue","object_attributes":{"action":"open"}}"#, .missingField("object_attributes.iid")),
        (#"{"object_kind":"issue","object_attributes":{"iid":[1],"title":"t","action":"open"}}"#, .invalidField("object_attributes.iid", "must be a string or a whole number")),
        (#"{"object_kind":"issue","object_attributes":{"iid":1,"action":"open"}}"#, .missingField("object_attributes.title")),
        (#"{"object_kind":"issue","object_attributes":{"iid":1,"title":"t","action":"open"},"labels":{"title":"x"}}"#, .invalidField("labels", "must be a list")),
        (#"{"object_kind":"issue","object_attributes":{"iid":1,"title":"t","action":"update"},"changes":{"labels":{"previous":[],"current":"x"}}}"#,
         .invalidField("changes.labels.current", "must be a list")),
        (#"{"object_kind":"issue","project":{"path_with_namespace":"platform/back$end"},"object_attributes":{"iid":1,"title":"t","action":"open"}}"#,
         .invalidField("object_attributes.iid", TicketIDShape(.gitlab).rule)),
    ])
    func malformed(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .gitlab, headers: Self.issueHook)
        }
    }
}
