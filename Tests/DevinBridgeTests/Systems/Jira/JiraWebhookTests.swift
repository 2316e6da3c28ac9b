import Foundation
import Testing
@testable import DevinBridge

// MARK: - Jira

@Suite("Jira webhooks (issues, comments, assignments)")
struct JiraDialectTests {
    @Test("jira:issue_created is a created ticket: key, summary, description, labels, browse link, project key")
    func created() throws {
        let webhook = try WebhookFixture.decode("jira-issue-created", as: .jira)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "PROJ-123", title: "Invoice PDF shows the wrong VAT rate",
                description: "For customers in AT the PDF shows 19% instead of 20%.\n\n{code}vat_rate(country){code}",
                labels: ["billing", "devin-autofix"], url: "https://jira.example.com/browse/PROJ-123",
                source: "jira", project: "PROJ"),
            event: .created))
    }

    @Test("a Jira Cloud description in Atlassian Document Format becomes its text, paragraph by paragraph")
    func cloudDocument() throws {
        let webhook = try WebhookFixture.decode("jira-cloud-issue-created-adf", as: .jira)
        #expect(webhook.event == .created)
        #expect(webhook.ticket.id == "SHOP-7")
        #expect(webhook.ticket.project == "SHOP")
        #expect(webhook.ticket.url == "https://example-team.atlassian.net/browse/SHOP-7")
        #expect(webhook.ticket.labels == ["frontend", "devin-autofix"])
        #expect(webhook.ticket.description == "Add an item, then remove it: the badge still says 1.\nSeen in Firefox and Chrome.\n")
    }

    @Test("an empty document is no description")
    func emptyDocument() {
        #expect(JiraDialect.description(.object(["type": .string("doc"), "content": .array([])])) == nil)
        #expect(JiraDialect.description(nil) == nil)
        #expect(JiraDialect.description(.string("plain")) == "plain")
    }

    @Test("jira:issue_updated whose changelog touches labels adds toString minus fromString")
    func updatedLabels() throws {
        let webhook = try WebhookFixture.decode("jira-issue-updated-labels", as: .jira)
        #expect(webhook.event == .labelsAdded(["devin-feature"]))
        #expect(webhook.ticket.id == "PROJ-124")
        #expect(webhook.ticket.labels == ["audit", "devin-feature"])
        #expect(WebhookFixture.rules.decide(webhook) == .success(TriggerLabel("devin-feature")))
    }

    @Test("the label difference", arguments: [
        (#""audit Devin-Feature""#, #""AUDIT devin-feature devin-autofix""#, ["devin-autofix"]),
        (#""audit devin-feature""#, #""audit Devin-Feature Devin-AutoFix""#, ["Devin-AutoFix"]),
        ("null", #""devin-autofix""#, ["devin-autofix"]),
        (#""devin-autofix audit""#, #""audit""#, []),
        (#""a""#, "null", []),
        (#""a""#, #""a,b c""#, ["b", "c"]),
    ] as [(String, String, [String])])
    func labelDifference(_ from: String, _ to: String, _ added: [String]) throws {
        let webhook = try WebhookFixture.decode(json: """
            {"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},
             "changelog":{"items":[{"field":"status","fromString":"Open","toString":"Done"},{"field":"Labels","fromString":\(from),"toString":\(to)}]}}
            """, as: .jira)
        #expect(webhook.event == .labelsAdded(added))
    }

    @Test("an update whose changelog does not touch labels is ignored")
    func updatedStatus() throws {
        let webhook = try WebhookFixture.decode("jira-issue-updated-status", as: .jira)
        #expect(WebhookFixture.reason(webhook) == "an update that changed no labels")
        #expect(webhook.ticket.id == "PROJ-124")
        let noChangelog = try WebhookFixture.decode(json: #"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}}}"#, as: .jira)
        #expect(WebhookFixture.reason(noChangelog) == "an update that changed no labels")
    }

    @Test("other webhook events are ignored without reading the issue", arguments: [
        #"{"webhookEvent":"comment_created","comment":{"id":"1","body":"Any news?"}}"#,
        #"{"webhookEvent":"jira:issue_deleted","issue":{"id":"1"}}"#,
        #"{"webhookEvent":"worklog_updated"}"#,
        #"{"webhookEvent":7}"#,
    ])
    func otherEvents(_ json: String) throws {
        let webhook = try WebhookFixture.decode(json: json, as: .jira)
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(!reason.isEmpty)
        #expect(webhook.ticket.source == "jira")
    }

    @Test("comment_created is ignored: Jira sends the same comment again as jira:issue_updated, which is read")
    func commentCreated() throws {
        let webhook = try WebhookFixture.decode("jira-comment-created", as: .jira)
        #expect(WebhookFixture.reason(webhook) == "a comment_created event: the comment is handled through its jira:issue_updated delivery")
    }

    @Test("a link is only derived from a REST self URL")
    func browseURL() {
        #expect(JiraDialect.browseURL("https://jira.example.com/jira/rest/api/2/issue/1", key: "A-1") == "https://jira.example.com/jira/browse/A-1")
        #expect(JiraDialect.browseURL("https://jira.example.com/issue/1", key: "A-1") == nil)
        #expect(JiraDialect.browseURL("ftp://jira.example.com/rest/api/2/issue/1", key: "A-1") == nil)
        #expect(JiraDialect.browseURL(nil, key: "A-1") == nil)
    }

    @Test("a malformed issue event throws an error naming the JSON path", arguments: [
        (#"{"webhookEvent":"jira:issue_created","issue":{"fields":{"summary":"s"}}}"#, BridgeError.missingField("issue.key")),
        (#"{"webhookEvent":"jira:issue_created"}"#, .missingField("issue.key")),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":123,"fields":{"summary":"s"}}}"#, .invalidField("issue.key", "must be a string")),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":"PROJ-1"}}"#, .missingField("issue.fields.summary")),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":"PROJ-1","fields":{"summary":"s","labels":"devin-autofix"}}}"#,
         .invalidField("issue.fields.labels", "must be a list")),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":"PROJ-1<b>","fields":{"summary":"s"}}}"#, .invalidField("issue.key", TicketIDShape(.jira).rule)),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":"  ","fields":{"summary":"s"}}}"#, .invalidField("issue.key", "is empty")),
        (#"{"webhookEvent":"jira:issue_created","issue":{"key":"PROJ-1\"x","fields":{"summary":"s"}}}"#, .invalidField("issue.key", TicketIDShape(.jira).rule)),
    ])
    func malformed(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .jira)
        }
    }

    // MARK: Comments and assignments

    @Test("jira:issue_updated with issue_commented is a comment with every field; the link focuses the comment")
    func issueCommented() throws {
        let webhook = try WebhookFixture.decode("jira-issue-updated-comment", as: .jira)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "PROJ-123", title: "Invoice PDF shows the wrong VAT rate",
                description: "For customers in AT the PDF shows 19% instead of 20%.",
                labels: ["billing", "devin-autofix"], url: "https://jira.example.com/browse/PROJ-123",
                source: "jira", project: "PROJ"),
            event: .commented(TicketComment(
                id: "10100", author: "alice", body: "[~devin-bot] the rate table is in {{vat_rates.csv}}.",
                url: "https://jira.example.com/browse/PROJ-123?focusedCommentId=10100"))))
    }

    @Test("the comment's author: name, else key, else accountId (Cloud), else the display name", arguments: [
        (#"{"name":"alice","key":"JIRAUSER1"}"#, "alice"),
        (#"{"key":"JIRAUSER1","displayName":"Alice"}"#, "JIRAUSER1"),
        (#"{"accountId":"5b10a2844c20165700ede21g","displayName":"Alice"}"#, "5b10a2844c20165700ede21g"),
        (#"{"name":"","displayName":"Alice"}"#, "Alice"),
    ])
    func commentAuthor(_ author: String, _ expected: String) throws {
        let webhook = try WebhookFixture.decode(json: """
            {"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},
             "comment":{"id":"7","author":\(author),"body":"b"}}
            """, as: .jira)
        #expect(webhook.event == .commented(TicketComment(id: "7", author: expected, body: "b")))
    }

    @Test("a Jira Cloud comment body in Atlassian Document Format becomes its text")
    func cloudCommentBody() throws {
        let webhook = try WebhookFixture.decode(json: """
            {"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},
             "comment":{"id":"7","author":{"accountId":"abc"},"body":{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}}}
            """, as: .jira)
        #expect(webhook.event == .commented(TicketComment(id: "7", author: "abc", body: "hi\n")))
    }

    @Test("edited and deleted comments are ignored", arguments: [("issue_comment_edited", "an edited comment"), ("issue_comment_deleted", "a deleted comment")])
    func commentEdited(_ type: String, _ reason: String) throws {
        var object = try WebhookFixture.object("jira-issue-updated-comment")
        object["issue_event_type_name"] = .string(type)
        let webhook = try TicketSource.jira.decode(object, headers: HTTPHeaders())
        #expect(WebhookFixture.reason(webhook) == reason)
        #expect(webhook.ticket.id == "PROJ-123")
    }

    @Test("a label change wins over a comment, and over an assignment; an assignment wins over a comment")
    func precedence() throws {
        var object = try WebhookFixture.object("jira-issue-updated-labels")
        let comment = try WebhookFixture.object("jira-issue-updated-comment")["comment"]
        object["comment"] = comment
        #expect(try TicketSource.jira.decode(object, headers: HTTPHeaders()).event == .labelsAdded(["devin-feature"]))

        var both = try WebhookFixture.object("jira-issue-updated-assignee")
        both["comment"] = comment
        #expect(try TicketSource.jira.decode(both, headers: HTTPHeaders()).event == .assigned(["devin-bot", "JIRAUSER10100", "Devin Bot"]))

        let labelsAndAssignee = try WebhookFixture.decode(json: """
            {"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},
             "changelog":{"items":[{"field":"assignee","to":"bob","toString":"Bob"},{"field":"labels","fromString":"","toString":"devin-autofix"}]}}
            """, as: .jira)
        #expect(labelsAndAssignee.event == .labelsAdded(["devin-autofix"]))
    }

    @Test("an assignee change assigns the user name (from the issue), its key and display name")
    func assignee() throws {
        let webhook = try WebhookFixture.decode("jira-issue-updated-assignee", as: .jira)
        #expect(webhook == DecodedWebhook(
            ticket: Ticket(
                id: "PROJ-124", title: "Add CSV export to the audit log", description: "Auditors want the log as CSV.",
                labels: ["audit"], url: "https://jira.example.com/browse/PROJ-124", source: "jira", project: "PROJ"),
            event: .assigned(["devin-bot", "JIRAUSER10100", "Devin Bot"])))
    }

    @Test("assignee items: empty parts dropped, an unassignment assigns no one", arguments: [
        (#"{"field":"assignee","to":"bob","toString":"bob"}"#, TicketEvent.assigned(["bob"])),
        (#"{"field":"Assignee","to":null,"toString":"Bob"}"#, .assigned(["Bob"])),
        (#"{"field":"assignee","from":"bob","fromString":"Bob","to":null,"toString":null}"#, .ignored("an assignee change that assigned no one")),
    ])
    func assigneeItems(_ item: String, _ event: TicketEvent) throws {
        let webhook = try WebhookFixture.decode(json: """
            {"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"changelog":{"items":[\(item)]}}
            """, as: .jira)
        #expect(webhook.event == event)
    }

    @Test("a malformed comment or assignment throws an error naming the JSON path", arguments: [
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"comment":{"author":{"name":"a"}}}"#, BridgeError.missingField("comment.id")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"comment":{"id":"10100/x","author":{"name":"a"}}}"#, .invalidField("comment.id", "must be a comment number")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"comment":{"id":"1"}}"#, .missingField("comment.author.name")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"comment":{"id":"1","author":{"name":["a"]}}}"#, .invalidField("comment.author.name", "must be a string")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1","fields":{"summary":"s"}},"comment":{"id":"1","author":{"name":"a"},"body":5}}"#, .invalidField("comment.body", "must be a string or a document")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1"},"comment":{"id":"1","author":{"name":"a"}}}"#, .missingField("issue.fields.summary")),
        (#"{"webhookEvent":"jira:issue_updated","comment":{"id":"1","author":{"name":"a"}}}"#, .missingField("issue.key")),
        (#"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ 1","fields":{"summary":"s"}},"changelog":{"items":[{"field":"assignee","to":"bob"}]}}"#,
         .invalidField("issue.key", TicketIDShape(.jira).rule)),
    ])
    func malformedComment(_ json: String, _ expected: BridgeError) {
        #expect(throws: expected) {
            try WebhookFixture.decode(json: json, as: .jira)
        }
    }
}
