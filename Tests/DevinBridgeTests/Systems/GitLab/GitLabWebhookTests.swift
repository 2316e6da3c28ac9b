import Foundation
import Testing
@testable import DevinBridge

// MARK: - GitLab

@Suite("GitLab issue, note and assignment webhooks")
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

    // MARK: Notes and assignments

    static let noteHook = [("X-Gitlab-Event", "Note Hook")]

    @Test("a note on an issue is a comment with every field, on the ticket in the top-level issue object")
    func noteOnIssue() throws {
        let webhook = try WebhookFixture.decode("gitlab-note-issue", as: .gitlab, headers: Self.noteHook)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "platform/backend#23", title: "Nightly export job times out",
                description: "Since Tuesday the export job exceeds its 30 min limit.",
                labels: ["devin-autofix"], url: "https://gitlab.example.com/platform/backend/-/issues/23",
                source: "gitlab", project: "platform/backend"),
            event: .commented(TicketComment(
                id: "1244", author: "alice", body: "@devin-bot the timeout is set in config/export.yml.",
                url: "https://gitlab.example.com/platform/backend/-/issues/23#note_1244"))))
    }

    @Test("a note on a work item (noteable_type WorkItem, or Issue) in a group takes the group path from the URL",
          arguments: ["Issue", "WorkItem"])
    func noteOnGroupWorkItem(_ type: String) throws {
        let webhook = try WebhookFixture.decode(json: """
            {"object_kind":"note","user":{"username":"bob"},
             "object_attributes":{"id":9,"note":"n","noteable_type":"\(type)","system":false,"action":"create"},
             "issue":{"iid":4,"title":"Epic","url":"https://gitlab.example.com/groups/acme/platform/-/epics/4"}}
            """, as: .gitlab, headers: Self.noteHook)
        #expect(webhook.ticket.id == "acme/platform#4")
        #expect(webhook.event == .commented(TicketComment(id: "9", author: "bob", body: "n")))
    }

    @Test("an internal note (Confidential Note Hook) is a comment too")
    func confidentialNote() throws {
        let webhook = try WebhookFixture.decode("gitlab-note-issue", as: .gitlab, headers: [("X-Gitlab-Event", "Confidential Note Hook")])
        guard case .commented(let comment) = webhook.event else { Issue.record("not a comment: \(webhook.event)"); return }
        #expect(comment.id == "1244")
    }

    @Test("notes on merge requests, commits and snippets are ignored with what they are on", arguments: [
        ("MergeRequest", "a comment on a merge request"),
        ("Commit", "a comment on a commit"),
        ("Snippet", "a comment on a snippet"),
        ("Design", "a comment on a Design"),
    ])
    func otherNotes(_ type: String, _ reason: String) throws {
        var object = try WebhookFixture.object("gitlab-note-merge-request")
        guard case .object(var attributes)? = object["object_attributes"] else { Issue.record("no attributes"); return }
        attributes["noteable_type"] = .string(type)
        object["object_attributes"] = .object(attributes)
        let webhook = try TicketSource.gitlab.decode(object, headers: HTTPHeaders(Self.noteHook))
        #expect(WebhookFixture.reason(webhook) == reason)
        #expect(webhook.ticket.source == "gitlab")
    }

    @Test("the merge request note fixture is ignored")
    func mergeRequestNote() throws {
        let webhook = try WebhookFixture.decode("gitlab-note-merge-request", as: .gitlab, headers: Self.noteHook)
        #expect(WebhookFixture.reason(webhook) == "a comment on a merge request")
    }

    @Test("a system note and an edited note are ignored, naming the issue")
    func systemAndEditedNotes() throws {
        for (key, value, reason) in [("system", JSONValue.bool(true), "a system note"),
                                     ("action", .string("update"), "a note that was edited, not created")] {
            var object = try WebhookFixture.object("gitlab-note-issue")
            guard case .object(var attributes)? = object["object_attributes"] else { Issue.record("no attributes"); return }
            attributes[key] = value
            object["object_attributes"] = .object(attributes)
            let webhook = try TicketSource.gitlab.decode(object, headers: HTTPHeaders(Self.noteHook))
            #expect(WebhookFixture.reason(webhook) == reason)
            #expect(webhook.ticket.id == "platform/backend#23")
        }
    }

    @Test("a malformed note on an issue throws an error naming the JSON path", arguments: [
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"id":1,"noteable_type":"Issue"}}"#, BridgeError.missingField("issue.iid")),
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"id":1,"noteable_type":"Issue"},"issue":{"iid":2}}"#, .missingField("issue.title")),
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"noteable_type":"Issue"},"issue":{"iid":2,"title":"t"}}"#, .missingField("object_attributes.id")),
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"id":"1e3","noteable_type":"Issue"},"issue":{"iid":2,"title":"t"}}"#, .invalidField("object_attributes.id", "must be a comment number")),
        (#"{"object_kind":"note","object_attributes":{"id":1,"noteable_type":"Issue"},"issue":{"iid":2,"title":"t"}}"#, .missingField("user.username")),
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"id":1,"noteable_type":"Issue","note":{"x":1}},"issue":{"iid":2,"title":"t"}}"#, .invalidField("object_attributes.note", "must be a string")),
        (#"{"object_kind":"note","user":{"username":"a"},"object_attributes":{"id":1,"noteable_type":"Issue"},"issue":{"iid":2,"title":"t","labels":"x"}}"#, .invalidField("issue.labels", "must be a list")),
        (#"{"object_kind":"note","project":{"path_with_namespace":"a b/c"},"user":{"username":"a"},"object_attributes":{"id":1,"noteable_type":"Issue"},"issue":{"iid":2,"title":"t"}}"#,
         .invalidField("issue.iid", TicketIDShape(.gitlab).rule)),
    ])
    func malformedNote(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .gitlab, headers: Self.noteHook)
        }
    }

    @Test("an update with changes.assignees assigns the usernames added (current minus previous)")
    func updateAssignees() throws {
        let webhook = try WebhookFixture.decode("gitlab-issue-update-assignees", as: .gitlab, headers: Self.issueHook)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "platform/backend#24", title: "Password reset mail has a broken link",
                description: "The link points to localhost.", labels: ["bug"],
                url: "https://gitlab.example.com/platform/backend/-/issues/24", source: "gitlab", project: "platform/backend"),
            event: .assigned(["devin-bot"])))
    }

    @Test("assignee differences: case-insensitive; a removal assigns no one; a label change wins over assignees")
    func assigneeDifference() throws {
        func event(_ changes: String) throws -> TicketEvent {
            try WebhookFixture.decode(json: #"{"object_kind":"issue","object_attributes":{"iid":1,"title":"t","action":"update"},"changes":\#(changes)}"#,
                                      as: .gitlab, headers: Self.issueHook).event
        }
        #expect(try event(#"{"assignees":{"previous":[{"username":"Bob"}],"current":[{"username":"bob"},{"username":"alice"}]}}"#) == .assigned(["alice"]))
        #expect(try event(#"{"assignees":{"previous":[{"username":"bob"}],"current":[]}}"#) == .ignored("an update that assigned no one new"))
        #expect(try event(#"{"assignees":{"current":[{"username":"a"},{"username":"b"}]}}"#) == .assigned(["a", "b"]))
        #expect(try event(#"{"labels":{"previous":[],"current":[{"title":"devin-autofix"}]},"assignees":{"previous":[],"current":[{"username":"a"}]}}"#)
                == .labelsAdded(["devin-autofix"]))
        #expect(throws: BridgeError.invalidField("changes.assignees.current", "must be a list")) {
            try event(#"{"assignees":{"previous":[],"current":{"username":"a"}}}"#)
        }
    }
}
