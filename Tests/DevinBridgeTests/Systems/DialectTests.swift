import Foundation
import Testing
@testable import DevinBridge

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
