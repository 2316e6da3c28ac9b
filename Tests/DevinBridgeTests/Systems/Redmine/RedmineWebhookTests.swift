import Foundation
import Testing
@testable import DevinBridge

// MARK: - Redmine

@Suite("Redmine webhooks (redmine_webhook plugin)")
struct RedmineDialectTests {
    @Test("opened is a created ticket: #id, subject, tracker and custom values as labels, url, project identifier")
    func opened() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-opened", as: .redmine)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "#1234", title: "Timesheet totals round incorrectly", description: "1.25 h + 1.25 h shows 2.4 h.",
                labels: ["Bug", "timesheets", "devin-autofix"], url: "https://redmine.example.com/issues/1234",
                source: "redmine", project: "intranet"),
            event: .created))
    }

    @Test("updated is a label change judged on the ticket's labels (an array custom value counts)")
    func updated() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-updated", as: .redmine)
        #expect(webhook.event == .labelsChanged)
        #expect(webhook.ticket.id == "#1235")
        #expect(webhook.ticket.labels == ["Feature", "devin-feature"])
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-feature")))
    }

    @Test("string and array custom values become labels; empty and null ones do not; the project name stands in")
    func customValues() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-opened-multi", as: .redmine)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "#1240", title: "Holiday calendar ignores regional holidays", description: nil,
                labels: ["Feature", "devin-feature", "calendar", "berlin"], url: "https://redmine.example.com/issues/1240",
                source: "redmine", project: "HR Portal"),
            event: .created))
    }

    @Test("other actions are ignored", arguments: ["deleted", ""])
    func otherActions(_ action: String) throws {
        let webhook = try WebhookFixture.decode(json: #"{"payload":{"action":"\#(action)","issue":{"id":1,"subject":"s"}}}"#, as: .redmine)
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(!reason.isEmpty)
        if !action.isEmpty { #expect(reason.contains(action)) }
    }

    @Test("a malformed payload throws an error naming the JSON path", arguments: [
        (#"{"payload":{"action":"opened"}}"#, BridgeError.missingField("payload.issue")),
        (#"{"payload":{"action":"opened","issue":null}}"#, .missingField("payload.issue")),
        (#"{"action":"opened"}"#, .missingField("payload.issue")),
        (#"{"payload":{"action":"opened","issue":{"subject":"s"}}}"#, .missingField("payload.issue.id")),
        (#"{"payload":{"action":"opened","issue":{"id":1}}}"#, .missingField("payload.issue.subject")),
        (#"{"payload":{"action":"opened","issue":{"id":1,"subject":["s"]}}}"#, .invalidField("payload.issue.subject", "must be a string")),
        (#"{"payload":{"action":"opened","issue":{"id":"12<3","subject":"s"}}}"#, .invalidField("payload.issue.id", TicketIDShape(.redmine).rule)),
    ])
    func malformed(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .redmine)
        }
    }

    // MARK: Notes and assignments

    @Test("an update with notes is a comment: journal id, author login, the notes, a link to the journal")
    func note() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-updated-note", as: .redmine)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "#1234", title: "Timesheet totals round incorrectly", description: "1.25 h + 1.25 h shows 2.4 h.",
                labels: ["Bug", "devin-autofix"], url: "https://redmine.example.com/issues/1234",
                source: "redmine", project: "intranet"),
            event: .commented(TicketComment(
                id: "5521", author: "alice", body: "@devin-bot rounding happens in app/models/timesheet.rb.",
                url: "https://redmine.example.com/issues/1234#change-5521"))))
    }

    @Test("a private note is ignored")
    func privateNote() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-updated-private-note", as: .redmine)
        #expect(WebhookFixture.reason(webhook) == "a private note")
        #expect(webhook.ticket.id == "#1234")
    }

    @Test("an update that sets assigned_to_id assigns payload.issue.assignee.login")
    func assignee() throws {
        let webhook = try WebhookFixture.decode("redmine-issue-updated-assignee", as: .redmine)
        #expect(webhook.event == .assigned(["devin-bot"]))
        #expect(webhook.ticket.id == "#1234")
        #expect(webhook.ticket.labels == ["Bug", "devin-autofix"])
    }

    @Test("an assignment to no one or to a group (no login) is ignored")
    func assigneeWithoutLogin() throws {
        for assignee in ["null", #"{"id":7,"login":"","lastname":"Developers"}"#] {
            let webhook = try WebhookFixture.decode(json: """
                {"payload":{"action":"updated","issue":{"id":1,"subject":"s","assignee":\(assignee)},
                 "journal":{"id":2,"notes":"","details":[{"property":"attr","prop_key":"assigned_to_id","old_value":"4","value":null}]}}}
                """, as: .redmine)
            #expect(WebhookFixture.reason(webhook) == "an assignee change to no one or to a group")
        }
    }

    @Test("order: a tracker or custom field change is a label change first, then notes, then the assignee", arguments: [
        (#"{"id":2,"notes":"hi","author":{"login":"a"},"details":[{"property":"cf","prop_key":"3","value":"devin-autofix"}]}"#, TicketEvent.labelsChanged),
        (#"{"id":2,"notes":"hi","author":{"login":"a"},"details":[{"property":"attr","prop_key":"tracker_id","value":"2"}]}"#, .labelsChanged),
        (#"{"id":2,"notes":"hi","author":{"login":"a"},"details":[{"property":"attr","prop_key":"assigned_to_id","value":"9"}]}"#,
         .commented(TicketComment(id: "2", author: "a", body: "hi"))),
        (#"{"id":2,"notes":"","details":[{"property":"attr","prop_key":"assigned_to_id","value":"9"}]}"#, .assigned(["bob"])),
        (#"{"id":2,"notes":null,"details":[{"property":"attr","prop_key":"status_id","value":"3"}]}"#, .labelsChanged),
        (#"{"id":2,"notes":"hi","user":{"login":"b"},"details":[]}"#, .commented(TicketComment(id: "2", author: "b", body: "hi"))),
    ])
    func order(_ journal: String, _ event: TicketEvent) throws {
        let webhook = try WebhookFixture.decode(json: """
            {"payload":{"action":"updated","issue":{"id":1,"subject":"s","assignee":{"login":"bob"}},"journal":\(journal)}}
            """, as: .redmine)
        #expect(webhook.event == event)
    }

    @Test("an update without a journal is a label change, as before")
    func noJournal() throws {
        let webhook = try WebhookFixture.decode(json: #"{"payload":{"action":"updated","issue":{"id":1,"subject":"s"}}}"#, as: .redmine)
        #expect(webhook.event == .labelsChanged)
    }

    @Test("a malformed note throws an error naming the JSON path", arguments: [
        (#"{"id":"x","notes":"hi","author":{"login":"a"}}"#, BridgeError.invalidField("payload.journal.id", "must be a comment number")),
        (#"{"notes":"hi","author":{"login":"a"}}"#, .missingField("payload.journal.id")),
        (#"{"id":2,"notes":"hi"}"#, .missingField("payload.journal.author.login")),
        (#"{"id":2,"notes":"hi","author":{"login":1}}"#, .invalidField("payload.journal.author.login", "must be a string")),
        (#"{"id":2,"notes":["hi"],"author":{"login":"a"}}"#, .invalidField("payload.journal.notes", "must be a string")),
    ])
    func malformedNote(_ journal: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: #"{"payload":{"action":"updated","issue":{"id":1,"subject":"s"},"journal":\#(journal)}}"#, as: .redmine)
        }
    }
}
