import Foundation
import Testing
@testable import DevinBridge

// MARK: - Bugzilla

@Suite("Bugzilla webhooks (bugs, comments, assignments)")
struct BugzillaDialectTests {
    @Test("bug.create is a created ticket: bug <id>, keywords and whiteboard tags as labels, product/component")
    func create() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-create", as: .bugzilla)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "bug 5678", title: "Monthly report crashes for empty months", description: nil,
                labels: ["devin-autofix", "regression", "needs-triage"], url: nil,
                source: "bugzilla", project: "Intranet/Reports"),
            event: .created))
    }

    @Test("a whiteboard change adds the new bracketed tags")
    func whiteboard() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-modify-whiteboard", as: .bugzilla)
        #expect(webhook.event == .labelsAdded(["devin-feature"]))
        #expect(webhook.ticket.id == "bug 5679")
        #expect(webhook.ticket.labels == ["needs-triage", "devin-feature"])
    }

    @Test("a keyword change adds the new keywords; keywords may arrive as one comma-separated string")
    func keywords() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-modify-keywords", as: .bugzilla)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "bug 5680", title: "Search is slow for long queries", labels: ["devin-autofix", "perf"],
                url: "https://bugzilla.example.com/show_bug.cgi?id=5680", source: "bugzilla", project: "Intranet/Search"),
            event: .labelsAdded(["devin-autofix", "perf"])))
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-autofix", playbookID: "playbook-autofix1")))
    }

    @Test("a change to another field is ignored")
    func status() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-modify-status", as: .bugzilla)
        #expect(WebhookFixture.reason(webhook) == "a change that added no keyword or whiteboard tag")
        #expect(webhook.ticket.id == "bug 5678")
    }

    @Test("keyword and whiteboard differences ignore case; words without brackets are tags", arguments: [
        (#"[{"field":"keywords","removed":"Devin-Autofix","added":"devin-autofix, perf"}]"#, ["perf"]),
        (#"[{"field":"keywords","removed":["a"],"added":["a","devin-feature"]}]"#, ["devin-feature"]),
        (#"[{"field":"whiteboard","removed":"needs-info","added":"needs-info devin-feature"}]"#, ["devin-feature"]),
        (#"[{"field":"status_whiteboard","removed":"","added":"[devin-autofix]"}]"#, ["devin-autofix"]),
        (#"[{"field":"whiteboard","removed":"[DEVIN-AUTOFIX]","added":"[devin-autofix]"}]"#, []),
        (#"[{"field":"keywords","removed":"","added":"x"},{"field":"whiteboard","removed":"","added":"[y]"}]"#, ["x", "y"]),
    ] as [(String, [String])])
    func differences(_ changes: String, _ added: [String]) throws {
        let webhook = try WebhookFixture.decode(json: #"{"event":{"action":"modify","changes":\#(changes)},"bug":{"id":1,"summary":"s"}}"#, as: .bugzilla)
        if added.isEmpty {
            #expect(WebhookFixture.reason(webhook) != nil)
        } else {
            #expect(webhook.event == .labelsAdded(added))
        }
    }

    @Test("whiteboard tags: bracketed tags win, else the words", arguments: [
        ("[devin-autofix] [ux]", ["devin-autofix", "ux"]),
        ("[ devin-autofix ][]", ["devin-autofix"]),
        ("note [devin-feature] more", ["devin-feature"]),
        ("devin-autofix needs-info", ["devin-autofix", "needs-info"]),
        ("devin-autofix,ux", ["devin-autofix", "ux"]),
        ("", []),
    ] as [(String, [String])])
    func whiteboardTags(_ text: String, _ tags: [String]) {
        #expect(BugzillaDialect.whiteboardTags(text) == tags)
    }

    @Test("the event comes from the routing key when there is no action", arguments: [
        ("bug.create", TicketEvent.created),
        ("bug.modify:status", TicketEvent.ignored("a change that added no keyword or whiteboard tag")),
    ])
    func routingKey(_ key: String, _ event: TicketEvent) throws {
        let webhook = try WebhookFixture.decode(json: #"{"event":{"routing_key":"\#(key)"},"bug":{"id":1,"summary":"s"}}"#, as: .bugzilla)
        #expect(webhook.event == event)
    }

    @Test("an unknown action is ignored")
    func otherAction() throws {
        let webhook = try WebhookFixture.decode(json: #"{"event":{"action":"delete"},"bug":{"id":1,"summary":"s"}}"#, as: .bugzilla)
        #expect(WebhookFixture.reason(webhook)?.contains("delete") == true)
    }

    @Test("the bug's url field is kept only when it is the bug's own page")
    func url() throws {
        let other = try WebhookFixture.decode(json: #"{"event":{"action":"create"},"bug":{"id":1,"summary":"s","url":"https://example.com/spec"}}"#, as: .bugzilla)
        #expect(other.ticket.url == nil)
    }

    @Test("a malformed payload throws an error naming the JSON path", arguments: [
        (#"{"event":{"action":"create"}}"#, BridgeError.missingField("bug")),
        (#"{"event":{"action":"create"},"bug":{"summary":"s"}}"#, .missingField("bug.id")),
        (#"{"event":{"action":"create"},"bug":{"id":{"n":1},"summary":"s"}}"#, .invalidField("bug.id", "must be a string or a whole number")),
        (#"{"event":{"action":"create"},"bug":{"id":1}}"#, .missingField("bug.summary")),
        (#"{"event":{"action":"create"},"bug":{"id":"56<78","summary":"s"}}"#, .invalidField("bug.id", TicketIDShape(.bugzilla).rule)),
    ])
    func malformed(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .bugzilla)
        }
    }

    @Test("a new attachment on a bug is ignored, not the bug's creation")
    func attachmentIsNotCreation() throws {
        var object = try WebhookFixture.object("bugzilla-comment-create")
        object["event"] = .object(["action": .string("create"), "target": .string("attachment"), "routing_key": .string("attachment.create")])
        let webhook = try TicketSource.bugzilla.decode(object, headers: HTTPHeaders())
        #expect(WebhookFixture.reason(webhook)?.contains("attachment.create") == true, "event: \(webhook.event)")
    }

    @Test("a private bug's reduced payload (id and is_private only) is skipped, not refused")
    func privateBug() throws {
        let webhook = try WebhookFixture.decode("bugzilla-private-bug-modify", as: .bugzilla)
        #expect(WebhookFixture.reason(webhook) != nil)
    }

    // MARK: Comments and assignments

    @Test("comment.create is a comment: bug.comment id and body, the event's user; the comment is not the description")
    func commentCreate() throws {
        let webhook = try WebhookFixture.decode("bugzilla-comment-create", as: .bugzilla)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "bug 5678", title: "Monthly report crashes for empty months", description: nil,
                labels: ["devin-autofix"], url: nil, source: "bugzilla", project: "Intranet/Reports"),
            event: .commented(TicketComment(id: "99", author: "reporter@example.com", body: "Still happens on 2026-11."))))
    }

    @Test("a private comment has no body: the bridge reads it through the API")
    func privateComment() throws {
        let webhook = try WebhookFixture.decode("bugzilla-comment-create-private", as: .bugzilla)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "bug 5678", title: "Monthly report crashes for empty months", description: nil,
                labels: ["devin-autofix"], url: nil, source: "bugzilla", project: "Intranet/Reports"),
            event: .commented(TicketComment(id: "100", author: "alice@example.com", body: nil))))
    }

    @Test("a body sent with is_private is dropped all the same; the link points at the comment when the bug's page is known")
    func privateBodyAndLink() throws {
        let webhook = try WebhookFixture.decode(json: """
            {"event":{"target":"comment","action":"create","user":{"login":"a@example.com"}},
             "bug":{"id":7,"summary":"s","url":"https://bugzilla.example.com/show_bug.cgi?id=7","comment":{"id":"12","count":2,"is_private":true,"body":"secret"}}}
            """, as: .bugzilla)
        #expect(webhook.event == .commented(TicketComment(
            id: "12", author: "a@example.com", body: nil, url: "https://bugzilla.example.com/show_bug.cgi?id=7#c2")))
    }

    @Test("comment 0 (the description) is ignored: it comes with its bug.create")
    func descriptionComment() throws {
        let webhook = try WebhookFixture.decode(json: """
            {"event":{"routing_key":"comment.create","user":{"login":"a@example.com"}},"bug":{"id":7,"summary":"s","comment":{"id":11,"number":0,"body":"d"}}}
            """, as: .bugzilla)
        #expect(WebhookFixture.reason(webhook)?.contains("comment 0") == true)
    }

    @Test("a malformed comment throws an error naming the JSON path", arguments: [
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":7,"summary":"s"}}"#, BridgeError.missingField("bug.comment")),
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":7,"summary":"s","comment":{"body":"b"}}}"#, .missingField("bug.comment.id")),
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":7,"summary":"s","comment":{"id":true}}}"#, .invalidField("bug.comment.id", "must be a comment number")),
        (#"{"event":{"routing_key":"comment.create"},"bug":{"id":7,"summary":"s","comment":{"id":1}}}"#, .missingField("event.user.login")),
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":7,"summary":"s","comment":{"id":1,"body":{"t":1}}}}"#, .invalidField("bug.comment.body", "must be a string")),
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":7,"comment":{"id":1}}}"#, .missingField("bug.summary")),
        (#"{"event":{"routing_key":"comment.create","user":{"login":"a"}},"bug":{"id":"7x","summary":"s","comment":{"id":1}}}"#, .invalidField("bug.id", TicketIDShape(.bugzilla).rule)),
    ])
    func malformedComment(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .bugzilla)
        }
    }

    @Test("a bug.modify that changes assigned_to assigns the added login")
    func assignee() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-modify-assignee", as: .bugzilla)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "bug 5680", title: "Search is slow for long queries", labels: ["perf"],
                url: "https://bugzilla.example.com/show_bug.cgi?id=5680", source: "bugzilla", project: "Intranet/Search"),
            event: .assigned(["devin-bot@example.com"])))
    }

    @Test("an added keyword wins over an assignee change; an empty assignee assigns no one", arguments: [
        (#"[{"field":"assigned_to","removed":"a","added":"b"},{"field":"keywords","removed":"","added":"devin-autofix"}]"#, TicketEvent.labelsAdded(["devin-autofix"])),
        (#"[{"field":"assigned_to","removed":"a","added":"b"},{"field":"keywords","removed":"x","added":""}]"#, .assigned(["b"])),
        (#"[{"field":"assigned_to","removed":"a","added":""}]"#, .ignored("an assignee change that assigned no one")),
    ])
    func assigneePrecedence(_ changes: String, _ event: TicketEvent) throws {
        let webhook = try WebhookFixture.decode(json: #"{"event":{"action":"modify","changes":\#(changes)},"bug":{"id":1,"summary":"s"}}"#, as: .bugzilla)
        #expect(webhook.event == event)
    }
}
