import Foundation
import Testing
@testable import DevinBridge

@Suite("Repository and budget of a session")
struct SessionScopeTests {
    func configuration(_ settings: [String: String]) throws -> Configuration {
        let report = Configuration.load(environment: ["DEVIN_API_KEY": FakeSecret.apiKey, "DEVIN_ORG_ID": "org-test123",
                                                      "WEBHOOK_SECRET": FakeSecret.webhookSecret, "DEVIN_BRIDGE_CONFIG": "/dev/null",
                                                      "STATE_DIR": makeStateDirectory()].merging(settings) { $1 }, identity: .plain)
        guard let configuration = report.configuration else { throw TestFailure("\(report.problems)") }
        return configuration
    }

    @Test("code hosts name their repository in the payload; the others map their project", arguments: [
        ("github-issues-opened", TicketSource.github, "acme/shop"),
        ("gitlab-issue-open", .gitlab, "platform/backend"),
        ("gitea-issues-opened", .gitea, "tools/cli"),
        ("jira-issue-created", .jira, "acme/jira-mapped"),
        ("redmine-issue-opened", .redmine, "acme/intranet-web"),
        ("bugzilla-harmony-bug-create", .bugzilla, "acme/reports"),
    ] as [(String, TicketSource, String)])
    func repositories(_ fixture: String, _ source: TicketSource, _ repository: String) throws {
        let configuration = try configuration(["REPOSITORY_MAP": "PROJ=acme/jira-mapped,intranet=acme/intranet-web,Intranet/Reports=acme/reports,Intranet=acme/intranet-other"])
        let headers: [(String, String)] = source == .github ? [("X-GitHub-Event", "issues")] : source == .gitea ? [("X-Gitea-Event", "issues")]
            : source == .gitlab ? [("X-Gitlab-Event", "Issue Hook")] : []
        let ticket = try WebhookFixture.decode(fixture, as: source, headers: headers).ticket
        #expect(configuration.scope.repository(for: ticket).repository == repository)
        let request = Handler.sessionRequest(for: ticket, trigger: TriggerLabel("devin-autofix"), adoptionTag: "devin-bridge:x", configuration: configuration)
        #expect(request.repos == [repository])
        #expect(request.prompt.contains("The code is in the repository \(repository)."))
    }

    @Test("a ticket whose project has no mapping starts without repos, and says why")
    func unmapped() throws {
        let configuration = try configuration([:])
        let ticket = try WebhookFixture.decode("jira-issue-created", as: .jira).ticket
        let scope = configuration.scope.repository(for: ticket)
        #expect(scope.repository == nil)
        #expect(scope.reason == "no REPOSITORY_MAP entry for PROJ")
        let request = Handler.sessionRequest(for: ticket, trigger: TriggerLabel("devin-autofix"), adoptionTag: "devin-bridge:x", configuration: configuration)
        #expect(request.repos == nil)
        let body = try jsonObject(DevinClient(configuration: configuration, transport: NoTransport()).createSessionRequest(request).body)
        #expect(body["repos"] == nil && body["max_acu_limit"] == nil, "absent fields are left out")
        // A GitLab group's epic has no repository.
        let epic = try WebhookFixture.decode("gitlab-work-item-epic-update-labels", as: .gitlab, headers: [("X-Gitlab-Event", "Issue Hook")]).ticket
        #expect(epic.repository == nil)
    }

    @Test("the ACU limit is the trigger's own, else the default; check refuses what is not a positive number or no trigger")
    func budgets() throws {
        let configuration = try configuration(["MAX_ACU_LIMIT": "10", "MAX_ACU_LIMITS": "devin-feature=25,@mention=3"])
        #expect(configuration.scope.acuLimit(for: TriggerLabel("devin-autofix")) == 10)
        #expect(configuration.scope.acuLimit(for: TriggerLabel("Devin-Feature")) == 25)
        #expect(configuration.scope.acuLimit(for: TriggerLabel(CommentRules.mentionLabel)) == 3)
        #expect(configuration.scope.acuLimit(for: TriggerLabel(CommentRules.assignmentLabel)) == 10)
        let ticket = Ticket(id: "PROJ-1", title: "t")
        let request = Handler.sessionRequest(for: ticket, trigger: TriggerLabel("devin-feature"), adoptionTag: "devin-bridge:x", configuration: configuration)
        #expect(request.max_acu_limit == 25)
        for (key, value) in [("MAX_ACU_LIMIT", "0"), ("MAX_ACU_LIMIT", "-3"), ("MAX_ACU_LIMIT", "ten"), ("MAX_ACU_LIMITS", "devin-autofix=1.5"),
                             ("MAX_ACU_LIMITS", "nolabel=5"), ("REPOSITORY_MAP", "PROJ=not a repo"), ("REPOSITORY_MAP", "PROJ")] {
            #expect(throws: TestFailure.self, "\(key)=\(value)") { try self.configuration([key: value]) }
        }
        // The acknowledgement says what the session may spend.
        let started = TicketUpdate.started(sessionURL: "https://app.devin.example/s", label: "devin-feature", playbook: nil, acuLimit: 25)
        #expect(started.text(markup: .markdown, marker: "m").contains("within at most 25 ACUs"))
    }
}
