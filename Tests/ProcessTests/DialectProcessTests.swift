import Foundation
import Testing

/// Each ticketing system's own payload, signed the way that system signs, through the CGI process.
@Suite("Every ticketing system's dialect through the CGI process")
struct DialectProcessTests {
    static func fixture(_ name: String) -> [UInt8] {
        let url = Paths.packageRoot.appendingPathComponent("Tests/Fixtures/webhooks/\(name).json")
        return Array((try? Data(contentsOf: url)) ?? Data())
    }

    struct Case: CustomStringConvertible, Sendable {
        var fixture: String
        var headers: [String: String]
        /// created, or skipped
        var decision: String
        var ticket: String?
        var label: String? = nil
        var sign: Signing = .hmac("X-Hub-Signature-256", prefixed: true)
        var path: String = ""
        var query: String = ""
        var extra: [String: String] = [:]
        var description: String { "\(fixture) \(decision)" }
    }

    enum Signing: Sendable {
        case hmac(String, prefixed: Bool)
        case standard
        case tokenHeader(String)
        case tokenQuery
    }

    static let cases: [Case] = [
        Case(fixture: "github-issues-opened", headers: ["X-GitHub-Event": "issues", "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
             decision: "created", ticket: "acme/shop#42", label: "devin-autofix"),
        Case(fixture: "github-issues-labeled", headers: ["X-GitHub-Event": "issues"], decision: "created", ticket: "acme/shop#43", label: "devin-autofix"),
        Case(fixture: "github-issues-labeled-other", headers: ["X-GitHub-Event": "issues"], decision: "skipped", ticket: "acme/shop#43"),
        Case(fixture: "github-issues-closed", headers: ["X-GitHub-Event": "issues"], decision: "skipped", ticket: "acme/shop#42"),
        Case(fixture: "github-ping", headers: ["X-GitHub-Event": "ping"], decision: "skipped", ticket: nil),
        Case(fixture: "gitlab-issue-open", headers: ["X-Gitlab-Event": "Issue Hook", "Idempotency-Key": "f3c2e1d0"],
             decision: "created", ticket: "platform/backend#23", label: "devin-autofix", sign: .tokenHeader("X-Gitlab-Token"),
             extra: ["WEBHOOK_TOKEN_GITLAB": TestSecrets.webhookToken]),
        Case(fixture: "gitlab-issue-update-labels", headers: ["X-Gitlab-Event": "Issue Hook"], decision: "created",
             ticket: "platform/backend#24", label: "devin-feature", sign: .standard),
        Case(fixture: "gitlab-issue-update-title", headers: ["X-Gitlab-Event": "Issue Hook"], decision: "skipped",
             ticket: "platform/backend#24", sign: .standard),
        Case(fixture: "gitlab-push", headers: ["X-Gitlab-Event": "Push Hook"], decision: "skipped", ticket: nil, sign: .standard),
        Case(fixture: "gitea-issues-opened", headers: ["X-Gitea-Event": "issues", "X-Gitea-Delivery": "b1a2"], decision: "created",
             ticket: "tools/cli#7", label: "devin-autofix", sign: .hmac("X-Gitea-Signature", prefixed: false)),
        Case(fixture: "gitea-issue-label-updated", headers: ["X-Gitea-Event": "issues", "X-Gitea-Event-Type": "issue_label"],
             decision: "created", ticket: "tools/cli#8", label: "devin-feature", sign: .hmac("X-Gitea-Signature", prefixed: false)),
        Case(fixture: "gitea-issues-opened", headers: ["X-Forgejo-Event": "issues", "X-Gitea-Event": "issues"], decision: "created",
             ticket: "tools/cli#7", label: "devin-autofix", sign: .hmac("X-Forgejo-Signature", prefixed: false)),
        Case(fixture: "jira-issue-created", headers: [:], decision: "created", ticket: "PROJ-123", label: "devin-autofix",
             sign: .hmac("X-Hub-Signature", prefixed: true)),
        Case(fixture: "jira-issue-updated-labels", headers: [:], decision: "created", ticket: "PROJ-124", label: "devin-feature",
             sign: .hmac("X-Hub-Signature", prefixed: true)),
        Case(fixture: "jira-issue-updated-status", headers: [:], decision: "skipped", ticket: "PROJ-124", sign: .hmac("X-Hub-Signature", prefixed: true)),
        Case(fixture: "jira-comment-created", headers: [:], decision: "skipped", ticket: nil, sign: .hmac("X-Hub-Signature", prefixed: true)),
        Case(fixture: "redmine-issue-opened", headers: [:], decision: "created", ticket: "#1234", label: "devin-autofix",
             sign: .tokenQuery, path: "/redmine", extra: ["WEBHOOK_TOKEN": TestSecrets.webhookToken]),
        Case(fixture: "redmine-issue-updated", headers: [:], decision: "created", ticket: "#1235", label: "devin-feature",
             sign: .tokenQuery, extra: ["WEBHOOK_TOKEN": TestSecrets.webhookToken]),
        Case(fixture: "bugzilla-bug-create", headers: [:], decision: "created", ticket: "bug 5678", label: "devin-autofix",
             sign: .tokenHeader("X-Bugzilla-Api-Key"), query: "source=bugzilla",
             extra: ["WEBHOOK_TOKEN": TestSecrets.webhookToken, "TOKEN_HEADER": "X-Bugzilla-Api-Key"]),
        Case(fixture: "bugzilla-bug-modify-whiteboard", headers: [:], decision: "created", ticket: "bug 5679", label: "devin-feature",
             sign: .tokenHeader("X-Bugzilla-Api-Key"), extra: ["WEBHOOK_TOKEN": TestSecrets.webhookToken, "TOKEN_HEADER": "X-Bugzilla-Api-Key"]),
        Case(fixture: "bugzilla-bug-modify-status", headers: [:], decision: "skipped", ticket: "bug 5678",
             sign: .tokenHeader("X-Bugzilla-Api-Key"), extra: ["WEBHOOK_TOKEN": TestSecrets.webhookToken, "TOKEN_HEADER": "X-Bugzilla-Api-Key"]),
    ]

    /// Signs as the sender would and sends the fixture through the CGI process.
    static func send(_ test: Case, bridge: BridgeProcess, body: [UInt8]? = nil) throws -> CGIOutput {
        let body = body ?? fixture(test.fixture)
        var headers = test.headers
        var query = test.query
        switch test.sign {
        case .hmac(let name, let prefixed):
            let signature = try bridge.signature(body)
            headers[name] = prefixed ? signature : String(signature.dropFirst("sha256=".count))
        case .standard:
            for (name, value) in try bridge.standardSignature(body) { headers[name] = value }
        case .tokenHeader(let name):
            headers[name] = TestSecrets.webhookToken
        case .tokenQuery:
            let token = TestSecrets.webhookToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            query = query.isEmpty ? "token=\(token)" : "\(query)&token=\(token)"
        }
        return try bridge.request(body: body, headers: headers, extraEnvironment: ["PATH_INFO": test.path, "QUERY_STRING": query])
    }

    @Test("An unmodified webhook of each system starts the session the generic format would, or skips with a reason",
          arguments: cases)
    func dialect(_ test: Case) throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: test.extra.merging([
            "TICKET_URL_TEMPLATE": "https://tracker.example.com/browse/{id}",
        ]) { $1 })
        let response = try Self.send(test, bridge: bridge)
        #expect(response.status == 200, "\(response.raw) \(response.stderr)")
        #expect(response.json["status"] as? String == test.decision, "\(response.raw)")
        #expect(response.json["ticket"] as? String == test.ticket)
        #expect(response.stderr.contains("decision=\(test.decision)"))
        if test.decision == "skipped" {
            #expect((response.json["reason"] as? String)?.isEmpty == false)
            #expect(api.requests.isEmpty)
            return
        }
        #expect(response.json["label"] as? String == test.label)
        let sent = try #require(api.requests.first?["json"] as? [String: Any])
        let ticket = try #require(test.ticket)
        #expect(sent["title"] as? String != nil)
        #expect((sent["title"] as? String)?.hasPrefix("\(ticket): ") == true)
        let tags = sent["tags"] as? [String] ?? []
        #expect(tags.contains("ticket:\(ticket)"))
        #expect(tags.contains(test.label ?? "?"))
        let prompt = sent["prompt"] as? String ?? ""
        #expect(prompt.contains("Ticket \(ticket)"))
        #expect(prompt.contains("Ticket link: https://"))
        #expect(api.sessions.count == 1)
        for secret in TestSecrets.all {
            #expect(!response.raw.contains(secret))
            #expect(!response.stderr.contains(secret))
        }
    }

    @Test("Jira links the ticket from its REST self URL on the configured host; Bugzilla from TICKET_URL_TEMPLATE")
    func ticketLinks() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: [
            "WEBHOOK_TOKEN": TestSecrets.webhookToken, "TOKEN_HEADER": "X-Bugzilla-Api-Key",
            "TICKET_URL_TEMPLATE": "https://bugzilla.example.com/show_bug.cgi?id={id}",
            // Jira's REST self URL names its host: trusted only as the configured ticketing host.
            "TICKET_API_BASE": "https://jira.example.com",
        ])
        _ = try Self.send(Self.cases.first { $0.fixture == "jira-issue-created" }!, bridge: bridge)
        _ = try Self.send(Self.cases.first { $0.fixture == "bugzilla-bug-create" }!, bridge: bridge)
        let prompts = api.requests.compactMap { ($0["json"] as? [String: Any])?["prompt"] as? String }
        #expect(prompts.count == 2)
        #expect(prompts.first?.contains("Ticket link: https://jira.example.com/browse/PROJ-123") == true)
        #expect(prompts.last?.contains("Ticket link: https://bugzilla.example.com/show_bug.cgi?id=bug%205678") == true)
    }

    @Test("A static token is refused unless enabled, and never beats a failing signature")
    func staticTokens() throws {
        let api = try StandIn()
        defer { api.stop() }
        let gitlab = Self.cases.first { $0.fixture == "gitlab-issue-open" }!
        var disabled = gitlab
        disabled.extra = [:]
        let refused = try Self.send(disabled, bridge: BridgeProcess(apiBase: api.baseURL))
        #expect(refused.status == 401)
        #expect((refused.json["message"] as? String)?.contains("WEBHOOK_TOKEN") == true)
        #expect(!refused.raw.contains(TestSecrets.webhookToken))

        // ALLOW_STATIC_TOKEN=1 alone (the webhook secret as a token) is refused, naming the setting to add.
        let legacy = try Self.send(disabled, bridge: BridgeProcess(apiBase: api.baseURL, extra: ["ALLOW_STATIC_TOKEN": "1"]))
        #expect(legacy.status == 500)
        #expect(legacy.stderr.contains("set WEBHOOK_TOKEN"))
        #expect(!legacy.raw.contains("WEBHOOK_TOKEN"))

        // The signing secret sent as a token never passes.
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["WEBHOOK_TOKEN_GITLAB": TestSecrets.webhookToken])
        let body = Self.fixture("gitlab-issue-open")
        let secretAsToken = try bridge.request(body: body, headers: ["X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": TestSecrets.webhookSecret])
        #expect(secretAsToken.status == 401)

        // A valid token next to a wrong HMAC signature: the stronger proof decides.
        let mixed = try bridge.request(body: body, headers: [
            "X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": TestSecrets.webhookToken,
            "X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64),
        ])
        #expect(mixed.status == 401)
        let wrongToken = try bridge.request(body: body, headers: ["X-Gitlab-Event": "Issue Hook", "X-Gitlab-Token": "not the secret at all"])
        #expect(wrongToken.status == 401)
        #expect(!wrongToken.raw.contains("not the secret at all"))
        #expect(!wrongToken.stderr.contains("not the secret at all"))
        #expect(api.requests.isEmpty)
    }

    @Test("WEBHOOK_SECRET_PREVIOUS verifies during a rotation; any other secret does not")
    func rotation() throws {
        let api = try StandIn()
        defer { api.stop() }
        let old = "the previous webhook secret 0001"
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["WEBHOOK_SECRET_PREVIOUS": old])
        let body = ticketBody()
        let withOld = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body, secret: old)])
        #expect(withOld.status == 200)
        let withOther = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body, secret: "some other secret 0002")])
        #expect(withOther.status == 401)
        #expect(!withOld.stderr.contains(old))
    }

    @Test("A Standard Webhooks timestamp outside the tolerance is refused")
    func standardTolerance() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["WEBHOOK_TOLERANCE_SECONDS": "60"])
        let body = Self.fixture("gitlab-issue-open")
        var headers = try bridge.standardSignature(body, timestamp: Int64(Date().timeIntervalSince1970) - 600)
        headers["X-Gitlab-Event"] = "Issue Hook"
        let stale = try bridge.request(body: body, headers: headers)
        #expect(stale.status == 401)
        #expect((stale.json["message"] as? String)?.contains("tolerance") == true)
        #expect(api.requests.isEmpty)
    }

    @Test("An unknown source in the URL is a 400 that lists the known ones")
    func unknownSource() throws {
        let bridge = BridgeProcess(apiBase: "http://127.0.0.1:9")
        let body = ticketBody()
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body)],
                                          extraEnvironment: ["PATH_INFO": "/youtrack"])
        #expect(response.status == 400)
        #expect((response.json["message"] as? String)?.contains("jira") == true)
    }

    @Test("GitHub's form-encoded delivery (payload=...) is accepted; the signature covers the form")
    func githubForm() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let json = String(decoding: Self.fixture("github-issues-opened"), as: UTF8.self)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = Array(("payload=" + json.addingPercentEncoding(withAllowedCharacters: allowed)!).utf8)
        let response = try bridge.request(body: form, headers: ["X-GitHub-Event": "issues", "X-Hub-Signature-256": try bridge.signature(form)],
                                          contentType: "application/x-www-form-urlencoded")
        #expect(response.status == 200)
        #expect(response.json["ticket"] as? String == "acme/shop#42")
        #expect(api.sessions.count == 1)
    }
}
