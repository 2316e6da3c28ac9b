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
}
