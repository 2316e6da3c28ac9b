import Foundation
import Testing

/// Repository and budget through the CGI process: what reaches the Devin stand-in.
@Suite("Repository and ACU limit through the CGI process")
struct ScopeProcessTests {
    @Test("GitHub, GitLab and Gitea name their repository without configuration; Jira through REPOSITORY_MAP; every session carries its trigger's ACU limit",
          arguments: ["github-issues-opened", "gitlab-issue-open", "gitea-issues-opened", "jira-issue-created", "redmine-issue-opened"])
    func scope(_ fixture: String) throws {
        let api = try StandIn()
        defer { api.stop() }
        let test = try #require(DialectProcessTests.cases.first { $0.fixture == fixture })
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: test.extra.merging([
            "REPOSITORY_MAP": "PROJ=acme/jira-service",
            "MAX_ACU_LIMIT": "7", "MAX_ACU_LIMITS": "devin-autofix=4",
        ]) { $1 })
        let response = try DialectProcessTests.send(test, bridge: bridge)
        #expect(response.status == 200, "\(response.raw) \(response.stderr)")
        let sent = try #require(api.requests.first?["json"] as? [String: Any])
        let expected: [String: [String]?] = [
            "github-issues-opened": ["acme/shop"], "gitlab-issue-open": ["platform/backend"], "gitea-issues-opened": ["tools/cli"],
            "jira-issue-created": ["acme/jira-service"], "redmine-issue-opened": nil,
        ]
        let repos = try #require(expected[fixture])
        #expect(sent["repos"] as? [String] == repos, "\(sent)")
        #expect(sent["max_acu_limit"] as? Int == (test.label == "devin-autofix" ? 4 : 7))
        if let repo = repos?.first {
            #expect((sent["prompt"] as? String)?.contains("The code is in the repository \(repo).") == true)
            #expect(response.stderr.contains("repos=\(repo)"))
        } else {
            #expect(response.stderr.contains("repos=\"none (no REPOSITORY_MAP entry for intranet)\""), "\(response.stderr)")
            #expect(api.sessions.count == 1, "a ticket without a mapping still starts its session")
        }
    }

    @Test("a dry run shows both fields; status shows them per session")
    func dryRunAndStatus() throws {
        let api = try StandIn()
        defer { api.stop() }
        var bridge = BridgeProcess(apiBase: api.baseURL, extra: ["MAX_ACU_LIMIT": "9"])
        let github = try #require(DialectProcessTests.cases.first { $0.fixture == "github-issues-opened" })
        bridge.configuration["DRY_RUN"] = "1"
        let dry = try DialectProcessTests.send(github, bridge: bridge)
        let body = try #require((dry.json["request"] as? [String: Any])?["body"] as? [String: Any])
        #expect(body["repos"] as? [String] == ["acme/shop"])
        #expect(body["max_acu_limit"] as? Int == 9)
        bridge.configuration["DRY_RUN"] = "0"
        _ = try DialectProcessTests.send(github, bridge: bridge)
        let status = try bridge.command(["status"])
        #expect(status.stdout.contains("repository: acme/shop, ACU limit: 9"), "\(status.stdout)")
        let check = try bridge.command(["check"])
        #expect(check.stdout.contains("MAX_ACU_LIMIT"))
        var broken = bridge
        broken.configuration["MAX_ACU_LIMITS"] = "devin-autofix=0"
        let refused = try broken.command(["check"])
        #expect(refused.exitCode == 1)
        #expect(refused.stderr.contains("MAX_ACU_LIMITS (devin-autofix) must be a positive whole number"))
    }
}
