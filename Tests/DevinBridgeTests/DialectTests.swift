import Foundation
import Testing
@testable import DevinBridge

// Each ticketing system's dialect, decoded from the payload shapes in Tests/Fixtures/webhooks:
// the ticket it yields (source-qualified id, title, description, labels, link, project, source)
// and what happened to it. Skipped events are `.ignored` with a reason and never throw;
// malformed issue events throw an error naming the JSON path.

/// The webhook fixtures and the few helpers the dialect tests share.
enum WebhookFixture {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/webhooks", isDirectory: true)

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent("\(name).json")))
    }

    static func object(_ name: String) throws -> [String: JSONValue] {
        try JSONValue.parseObject(bytes(name))
    }

    static func object(json: String) throws -> [String: JSONValue] {
        try JSONValue.parseObject(Array(json.utf8))
    }

    /// Decodes fixture `name` as `source` with the sender's headers.
    static func decode(_ name: String, as source: TicketSource, headers: [(String, String)] = []) throws -> DecodedWebhook {
        try source.decode(object(name), headers: HTTPHeaders(headers))
    }

    static func decode(json: String, as source: TicketSource, headers: [(String, String)] = []) throws -> DecodedWebhook {
        try source.decode(object(json: json), headers: HTTPHeaders(headers))
    }

    /// The reason of an `.ignored` event, nil for any other event.
    static func reason(_ webhook: DecodedWebhook) -> String? {
        if case .ignored(let reason) = webhook.event { return reason }
        return nil
    }

    /// The rules of `makeConfiguration()`: devin-autofix (with a playbook), then devin-feature.
    static let rules = TriggerRules([TriggerLabel("devin-autofix", playbookID: "playbook-autofix1"), TriggerLabel("devin-feature")])
}

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

// MARK: - Jira

@Suite("Jira webhooks")
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

    @Test("the comment_created fixture is ignored with its event in the reason")
    func commentCreated() throws {
        let webhook = try WebhookFixture.decode("jira-comment-created", as: .jira)
        #expect(WebhookFixture.reason(webhook)?.contains("comment_created") == true)
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
}

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

// MARK: - Bugzilla

@Suite("Bugzilla webhooks")
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

    @Test("a new comment or attachment on a bug is not the bug's creation", arguments: ["comment", "attachment"])
    func commentIsNotCreation(_ target: String) throws {
        var object = try WebhookFixture.object("bugzilla-comment-create")
        object["event"] = .object(["action": .string("create"), "target": .string(target), "routing_key": .string("\(target).create")])
        let webhook = try TicketSource.bugzilla.decode(object, headers: HTTPHeaders())
        #expect(WebhookFixture.reason(webhook) != nil, "event: \(webhook.event)")
    }

    @Test("a private bug's reduced payload (id and is_private only) is skipped, not refused")
    func privateBug() throws {
        let webhook = try WebhookFixture.decode("bugzilla-private-bug-modify", as: .bugzilla)
        #expect(WebhookFixture.reason(webhook) != nil)
    }
}

// MARK: - Across dialects

@Suite("Skipped events across dialects")
struct SkippedEventTests {
    @Test("an action the bridge skips is ignored even when the issue lacks its fields", arguments: [
        (TicketSource.github, [("X-GitHub-Event", "issues")], #"{"action":"closed","issue":{"number":42}}"#),
        (TicketSource.gitlab, [("X-Gitlab-Event", "Issue Hook")], #"{"object_kind":"issue","object_attributes":{"iid":23,"action":"close"}}"#),
        (TicketSource.jira, [], #"{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-1"},"changelog":{"items":[{"field":"status"}]}}"#),
    ] as [(TicketSource, [(String, String)], String)])
    func skippedActionWithoutFields(_ source: TicketSource, _ headers: [(String, String)], _ json: String) throws {
        let webhook = try WebhookFixture.decode(json: json, as: source, headers: headers)
        #expect(WebhookFixture.reason(webhook) != nil)
    }

    @Test("every skipped fixture is ignored with a non-empty reason and yields no trigger", arguments: [
        ("github-issues-closed", TicketSource.github, [("X-GitHub-Event", "issues")]),
        ("github-ping", .github, [("X-GitHub-Event", "ping")]),
        ("github-push", .github, [("X-GitHub-Event", "push")]),
        ("gitlab-issue-update-title", .gitlab, [("X-Gitlab-Event", "Issue Hook")]),
        ("gitlab-push", .gitlab, [("X-Gitlab-Event", "Push Hook")]),
        ("jira-issue-updated-status", .jira, []),
        ("jira-comment-created", .jira, []),
        ("bugzilla-bug-modify-status", .bugzilla, []),
    ] as [(String, TicketSource, [(String, String)])])
    func skippedFixtures(_ fixture: String, _ source: TicketSource, _ headers: [(String, String)]) throws {
        let webhook = try WebhookFixture.decode(fixture, as: source, headers: headers)
        let reason = try #require(WebhookFixture.reason(webhook))
        #expect(!reason.isEmpty)
        #expect(WebhookFixture.rules.decide(webhook) == .failure(SkipReason(reason)))
    }

    @Test("the prompt names the ticket's project")
    func promptNamesProject() throws {
        let webhook = try WebhookFixture.decode("bugzilla-bug-create", as: .bugzilla)
        let prompt = PromptBuilder(hasTicketToken: false).prompt(for: webhook.ticket)
        #expect(prompt.contains("(from bugzilla)"))
        #expect(prompt.contains("Intranet/Reports"))
    }
}

// MARK: - Trigger decision

@Suite("Trigger decision per event")
struct TriggerDecisionTests {
    let rules = WebhookFixture.rules

    func webhook(_ event: TicketEvent, labels: [String] = []) -> DecodedWebhook {
        DecodedWebhook(ticket: Ticket(id: "PROJ-1", title: "t", labels: labels, source: "jira"), event: event)
    }

    @Test("labelsAdded acts only on the added labels, configuration order winning")
    func labelsAddedOrder() {
        #expect(rules.decide(webhook(.labelsAdded(["devin-feature", "devin-autofix"]))) == .success(TriggerLabel("devin-autofix", playbookID: "playbook-autofix1")))
        #expect(rules.decide(webhook(.labelsAdded(["ui", "DEVIN-FEATURE"]), labels: ["devin-autofix"])) == .success(TriggerLabel("devin-feature")))
    }

    @Test("labelsAdded without a trigger label is skipped, even when the ticket carries one")
    func labelsAddedNoTrigger() {
        #expect(rules.decide(webhook(.labelsAdded(["ui"]), labels: ["devin-autofix", "ui"]))
                == .failure(SkipReason("the labels just added (ui) include no trigger label (looking for devin-autofix, devin-feature)")))
        #expect(rules.decide(webhook(.labelsAdded([]), labels: ["devin-autofix"]))
                == .failure(SkipReason("the labels just added (none) include no trigger label (looking for devin-autofix, devin-feature)")))
    }

    @Test("created and labelsChanged act on the ticket's labels", arguments: [TicketEvent.created, .labelsChanged])
    func ticketLabels(_ event: TicketEvent) {
        #expect(rules.decide(webhook(event, labels: ["devin-feature", "devin-autofix"])) == .success(TriggerLabel("devin-autofix", playbookID: "playbook-autofix1")))
        #expect(rules.decide(webhook(event, labels: ["Devin-Feature"])) == .success(TriggerLabel("devin-feature")))
        #expect(rules.decide(webhook(event, labels: ["bug"])) == .failure(SkipReason("no trigger label (looking for devin-autofix, devin-feature)")))
    }

    @Test("ignored passes its reason, whatever the labels")
    func ignored() {
        #expect(rules.decide(webhook(.ignored("a ping event"), labels: ["devin-autofix"])) == .failure(SkipReason("a ping event")))
    }
}

// MARK: - Through the handler

@Suite("Dialects through the request handler")
struct DialectHandlerTests {
    static let delivery = "5f0c6a1e-0d3e-11f0-8000-000000000001"

    /// Runs `fixture` through a handler as a web server would pass it.
    func run(_ fixture: String, headers: [String: String], signWith header: String? = "HTTP_X_HUB_SIGNATURE_256",
             query: String = "", pathInfo: String = "", configuration: Configuration = makeConfiguration(),
             transport: RecordingTransport) throws -> Outcome {
        let body = try WebhookFixture.bytes(fixture)
        var environment = [
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": "POST",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": String(body.count),
            "QUERY_STRING": query,
            "PATH_INFO": pathInfo,
        ]
        if let header { environment[header] = signature(body.text) }
        environment.merge(headers) { $1 }
        let source = ByteSource(body)
        let handler = Handler(report: makeReport(configuration), transport: transport,
                              clock: SteppingClock(stepMilliseconds: 3).clock, version: "9.9.9-test")
        let outcome = handler.handle(CGIRequestHead(environment: environment), readBody: source.read)
        #expect(source.remaining == 0)
        return outcome
    }

    @Test("GitHub issues/opened signed with X-Hub-Signature-256 creates one session for acme/shop#42")
    func githubOpened() throws {
        let transport = RecordingTransport.created(sessionID: "sess-gh42")
        let outcome = try run("github-issues-opened", headers: ["HTTP_X_GITHUB_EVENT": "issues", "HTTP_X_GITHUB_DELIVERY": Self.delivery],
                              transport: transport)
        #expect(outcome.response.status == .ok)
        let answer = try jsonObject(outcome.response.body)
        #expect(answer["status"] as? String == "created")
        #expect(answer["ticket"] as? String == "acme/shop#42")
        #expect(answer["label"] as? String == "devin-autofix")
        #expect(answer["session_id"] as? String == "sess-gh42")
        #expect(outcome.log["auth"] == "hmac")
        #expect(outcome.log["source"] == "github")
        #expect(outcome.log["ticket"] == "acme/shop#42")
        #expect(outcome.log["delivery"] == Self.delivery)

        #expect(transport.requests.count == 1)
        let sent = try jsonObject(try #require(transport.requests.first).body)
        #expect(sent["playbook_id"] as? String == "playbook-autofix1")
        let tags = try #require(sent["tags"] as? [String])
        #expect(tags.contains("ticket:acme/shop#42"))
        #expect(tags.contains("devin-autofix"))
        let prompt = try #require(sent["prompt"] as? String)
        #expect(prompt.contains("Ticket acme/shop#42 (from github)"))
        #expect(prompt.contains("Checkout total ignores the discount code"))
        // github.com is no configured ticketing host here: the link stays inside the fence.
        #expect(!prompt.contains("Ticket link: https://github.com/acme/shop/issues/42"))
        #expect(prompt.contains("Link given by the sender: https://github.com/acme/shop/issues/42"))
    }

    @Test("Jira issue_updated that only changes the status is 200 skipped with the reason, and nothing is called")
    func jiraStatus() throws {
        let transport = RecordingTransport.created()
        let outcome = try run("jira-issue-updated-status", headers: [:], signWith: "HTTP_X_HUB_SIGNATURE", transport: transport)
        #expect(outcome.response.status == .ok)
        let answer = try jsonObject(outcome.response.body)
        #expect(answer["status"] as? String == "skipped")
        #expect(answer["ticket"] as? String == "PROJ-124")
        #expect(answer["reason"] as? String == "an update that changed no labels")
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["source"] == "jira")
        #expect(outcome.log["decision"] == "skipped")
        #expect(outcome.log["reason"] == "an update that changed no labels")
    }

    @Test("a GitHub push is 200 skipped without a ticket")
    func githubPush() throws {
        let transport = RecordingTransport.created()
        let outcome = try run("github-push", headers: ["HTTP_X_GITHUB_EVENT": "push"], transport: transport)
        #expect(outcome.response.status == .ok)
        let answer = try jsonObject(outcome.response.body)
        #expect(answer["status"] as? String == "skipped")
        #expect(answer["ticket"] == nil)
        #expect((answer["reason"] as? String)?.contains("push") == true)
        #expect(outcome.log["ticket"] == nil)
        #expect(transport.requests.isEmpty)
    }

    @Test("GitLab update signed with Standard Webhooks creates a session for the label it adds")
    func gitlabStandard() throws {
        let transport = RecordingTransport.created()
        let body = try WebhookFixture.bytes("gitlab-issue-update-labels")
        // SteppingClock's wall clock is fixed at 1_767_225_600.
        var configuration = makeConfiguration()
        configuration.webhookSecret = Secret(FakeSecret.standardSecret)
        let mark = try #require(StandardWebhooksVerifier.sign(id: "msg_gl24", timestamp: 1_767_225_600, body: body,
                                                              secret: Secret(FakeSecret.standardSecret)))
        let outcome = try run("gitlab-issue-update-labels", headers: [
            "HTTP_X_GITLAB_EVENT": "Issue Hook", "HTTP_WEBHOOK_ID": "msg_gl24",
            "HTTP_WEBHOOK_TIMESTAMP": "1767225600", "HTTP_WEBHOOK_SIGNATURE": mark,
        ], signWith: nil, configuration: configuration, transport: transport)
        #expect(outcome.response.status == .ok)
        #expect(outcome.log["auth"] == "standard")
        #expect(outcome.log["label"] == "devin-feature")
        #expect(outcome.log["ticket"] == "platform/backend#24")
        #expect(transport.requests.count == 1)
    }

    @Test("Redmine with ?token= and PATH_INFO /redmine: created with WEBHOOK_TOKEN set, 401 naming it when not")
    func redmineToken() throws {
        let query = "token=" + FakeSecret.webhookToken
        var configuration = makeConfiguration()
        let refused = try run("redmine-issue-opened", headers: [:], signWith: nil, query: query, pathInfo: "/redmine",
                              configuration: configuration, transport: RecordingTransport.created())
        #expect(refused.response.status == .unauthorized)
        #expect(refused.response.body.text.contains("WEBHOOK_TOKEN"))
        #expect(!refused.response.body.text.contains(FakeSecret.marker))
        // The signing secret is no token.
        let secret = try run("redmine-issue-opened", headers: [:], signWith: nil, query: "token=" + FakeSecret.webhookSecret,
                             pathInfo: "/redmine", configuration: configuration, transport: RecordingTransport.created())
        #expect(secret.response.status == .unauthorized)

        configuration.webhookTokens = [Secret(FakeSecret.webhookToken)]
        let transport = RecordingTransport.created()
        let outcome = try run("redmine-issue-opened", headers: [:], signWith: nil, query: query, pathInfo: "/redmine",
                              configuration: configuration, transport: transport)
        #expect(outcome.response.status == .ok)
        #expect(outcome.log["auth"] == "token")
        #expect(outcome.log["source"] == "redmine")
        #expect(outcome.log["ticket"] == "#1234")
        #expect(transport.requests.count == 1)
        #expect(!outcome.log.description.contains(FakeSecret.marker))
    }

    @Test("an unknown source in the URL is 400 invalid_field, after the signature")
    func unknownSource() throws {
        let transport = RecordingTransport.created()
        let outcome = try run("github-issues-opened", headers: ["HTTP_X_GITHUB_EVENT": "issues"], pathInfo: "/trac", transport: transport)
        #expect(outcome.response.status == .badRequest)
        let answer = try jsonObject(outcome.response.body)
        #expect(answer["error"] as? String == "invalid_field")
        #expect((answer["message"] as? String)?.contains("trac") == true)
        #expect(transport.requests.isEmpty)
    }
}
