import Foundation
import Testing
@testable import DevinBridge

/// Each system's comment client: the path, the auth header and the body shape its API documents
/// (../shared/reference/ticket-apis.md), and how its answers are read.
@Suite("Ticket API clients: one per system")
struct TicketAPITests {
    static let token = FakeSecret.ticketToken

    func configuration(_ source: TicketSource, base: String) -> Configuration {
        var configuration = makeConfiguration()
        configuration.ticketAPIBases = [source: base]
        return configuration
    }

    func client(_ source: TicketSource, _ ticket: String, base: String) throws -> any TicketAPI {
        try #require(ticketAPI(source: source, ticket: ticket, configuration: configuration(source, base: base)))
    }

    func json(_ request: HTTPRequest) throws -> [String: Any] { try jsonObject(request.body) }

    @Test("every system posts to its documented path with its auth header and body", arguments: [
        (TicketSource.github, "acme/shop#42", "https://api.github.com", "POST", "https://api.github.com/repos/acme/shop/issues/42/comments",
         "Authorization", "Bearer \(FakeSecret.ticketToken)", "body"),
        (.github, "acme/shop#42", "https://ghe.example.com/api/v3", "POST", "https://ghe.example.com/api/v3/repos/acme/shop/issues/42/comments",
         "Authorization", "Bearer \(FakeSecret.ticketToken)", "body"),
        (.gitlab, "platform/backend#23", "https://gitlab.example.com/api/v4", "POST",
         "https://gitlab.example.com/api/v4/projects/platform%2Fbackend/issues/23/notes", "PRIVATE-TOKEN", FakeSecret.ticketToken, "body"),
        (.gitea, "tools/cli#7", "https://git.example.com/api/v1", "POST", "https://git.example.com/api/v1/repos/tools/cli/issues/7/comments",
         "Authorization", "token \(FakeSecret.ticketToken)", "body"),
        (.forgejo, "tools/cli#7", "https://git.example.com/api/v1", "POST", "https://git.example.com/api/v1/repos/tools/cli/issues/7/comments",
         "Authorization", "token \(FakeSecret.ticketToken)", "body"),
        (.jira, "PROJ-123", "https://jira.example.com", "POST", "https://jira.example.com/rest/api/2/issue/PROJ-123/comment",
         "Authorization", "Bearer \(FakeSecret.ticketToken)", "body"),
        (.redmine, "#1234", "https://redmine.example.com", "PUT", "https://redmine.example.com/issues/1234.json",
         "X-Redmine-API-Key", FakeSecret.ticketToken, "issue.notes"),
        (.bugzilla, "bug 5678", "https://bugzilla.example.com", "POST", "https://bugzilla.example.com/rest/bug/5678/comment",
         "X-BUGZILLA-API-KEY", FakeSecret.ticketToken, "comment"),
    ] as [(TicketSource, String, String, String, String, String, String, String)])
    func postRequest(_ source: TicketSource, _ ticket: String, _ base: String, _ method: String, _ url: String,
                     _ header: String, _ value: String, _ field: String) throws {
        let request = try client(source, ticket, base: base).postComment("Hello")
        #expect(request.method == method)
        #expect(request.url == url)
        #expect(request.headers[header] == value)
        #expect(request.headers["Content-Type"] == "application/json")
        let body = try json(request)
        if field == "issue.notes" {
            #expect((body["issue"] as? [String: Any])?["notes"] as? String == "Hello")
        } else {
            #expect(body[field] as? String == "Hello")
        }
    }

    @Test("the token only goes to the configured base, whatever the payload's links say")
    func tokenToConfiguredHost() throws {
        // A ticket's id carries no host; the client's URL is the configured base and nothing else.
        let api = try client(.github, "evil.example/shop#1", base: "https://api.github.com")
        #expect(api.postComment("x").url.hasPrefix("https://api.github.com/repos/evil.example/shop/"))
        #expect(ticketAPI(source: .github, ticket: "#42", configuration: configuration(.github, base: "https://api.github.com")) == nil)
        #expect(ticketAPI(source: .generic, ticket: "PROJ-1", configuration: configuration(.generic, base: "https://x.example")) == nil)
        var none = makeConfiguration()
        none.ticketAPIBase = nil
        #expect(ticketAPI(source: .jira, ticket: "PROJ-1", configuration: none) == nil)
    }

    @Test("a system's own base and token win over the shared ones")
    func perSystem() throws {
        var configuration = makeConfiguration()
        configuration.ticketAPIBase = "https://jira.example.com"
        configuration.ticketAPIBases = [.gitlab: "https://gitlab.example.com/api/v4"]
        configuration.ticketAPITokens = [.gitlab: Secret("gitlab-own-token-DO-NOT-USE-77")]
        let gitlab = try #require(ticketAPI(source: .gitlab, ticket: "g/p#1", configuration: configuration))
        #expect(gitlab.postComment("x").url.hasPrefix("https://gitlab.example.com/api/v4/"))
        #expect(gitlab.postComment("x").headers["PRIVATE-TOKEN"] == "gitlab-own-token-DO-NOT-USE-77")
        let jira = try #require(ticketAPI(source: .jira, ticket: "PROJ-1", configuration: configuration))
        #expect(jira.postComment("x").headers["Authorization"] == "Bearer \(FakeSecret.ticketToken)")
    }

    @Test("list answers are read in each system's shape, with paging", arguments: [
        (TicketSource.github, "acme/shop#42", #"[{"id":1,"body":"one"},{"id":2,"body":"two"}]"#),
        (.gitlab, "g/p#1", #"[{"id":1,"body":"one","system":false},{"id":2,"body":"two"}]"#),
        (.gitea, "o/r#1", #"[{"id":1,"body":"one"},{"id":2,"body":"two"}]"#),
        (.jira, "PROJ-1", #"{"startAt":0,"maxResults":100,"total":2,"comments":[{"id":"1","body":"one"},{"id":"2","body":"two"}]}"#),
        (.redmine, "#7", #"{"issue":{"id":7,"journals":[{"id":1,"notes":"one"},{"id":2,"notes":"two"}]}}"#),
        (.bugzilla, "bug 9", #"{"bugs":{"9":{"comments":[{"id":1,"count":0,"text":"one"},{"id":2,"count":1,"text":"two"}]}}}"#),
    ] as [(TicketSource, String, String)])
    func listAnswers(_ source: TicketSource, _ ticket: String, _ answer: String) throws {
        let api = try client(source, ticket, base: "https://tickets.example.com")
        let read = try #require(api.comments(in: HTTPResponse(status: 200, body: Array(answer.utf8)), page: 1))
        #expect(read.texts == ["one", "two"])
        #expect(read.more == false)
        #expect(api.comments(in: HTTPResponse(status: 200, body: Array("<html>".utf8)), page: 1) == nil)
        #expect(api.listComments(page: 1).method == "GET")
    }

    @Test("Bugzilla's description is comment 0")
    func bugzillaDescription() throws {
        let api = try #require(try client(.bugzilla, "bug 9", base: "https://b.example") as? BugzillaAPI)
        let answer = #"{"bugs":{"9":{"comments":[{"id":5,"count":1,"text":"later"},{"id":4,"count":0,"text":"It crashes."}]}}}"#
        #expect(api.description(in: HTTPResponse(status: 200, body: Array(answer.utf8))) == "It crashes.")
        #expect(api.listComments(page: 1).url == "https://b.example/rest/bug/9/comment")
    }

    @Test("each update reads as a comment in the system's markup, ending with the marker")
    func updateTexts() {
        let url = "https://app.devin.ai/sessions/ses_1"
        let started = TicketUpdate.started(sessionURL: url, label: "devin-autofix", playbook: "playbook-abc")
        let markdown = started.text(markup: .markdown, marker: "0123456789abcdef")
        #expect(markdown.contains("[the Devin session](\(url))"))
        #expect(markdown.contains("`devin-autofix`"))
        #expect(markdown.contains("`playbook-abc`"))
        #expect(markdown.hasSuffix("<!-- devin-bridge:0123456789abcdef -->"))
        #expect(started.text(markup: .jiraWiki, marker: "0123456789abcdef").contains("[the Devin session|\(url)]"))
        #expect(started.text(markup: .plain, marker: "0123456789abcdef").hasSuffix("(devin-bridge ref 0123456789abcdef)"))
        let pr = TicketUpdate.pullRequest(sessionURL: url, url: "https://github.com/acme/shop/pull/7")
        #expect(pr.text(markup: .markdown, marker: "m").contains("https://github.com/acme/shop/pull/7"))
        #expect(TicketUpdate.stopped(sessionURL: url, reason: "out_of_quota").text(markup: .plain, marker: "m").contains("out of quota"))
        #expect(TicketUpdate.waitingForUser(sessionURL: url, count: 1).text(markup: .markdown, marker: "m").contains("waiting"))
        // TICKET_COMMENTS levels.
        #expect(started.isPosted(at: .ack) && !pr.isPosted(at: .ack) && pr.isPosted(at: .all) && !started.isPosted(at: .off))
    }
}

@Suite("Sync decisions: which session changes the ticket hears of")
struct SessionSyncDecisionTests {
    let url = "https://app.devin.ai/sessions/ses_1"
    let now = Date(timeIntervalSince1970: 1_767_225_600)

    func step(_ previous: SessionSnapshot?, _ status: String, _ detail: String? = nil, prs: [String] = []) -> (SessionSnapshot, [TicketUpdate]) {
        let state = SessionState(sessionID: "ses_1", status: status, statusDetail: detail, pullRequests: prs.map { .init(url: $0, state: "open") })
        let next = SessionSnapshot.next(after: previous, state: state, sessionURL: url, now: now)
        return (next.snapshot, next.updates)
    }

    @Test("a session's life: quiet while it works, one comment per pull request, wait and end")
    func life() {
        var (snapshot, updates) = step(nil, "new")
        #expect(updates.isEmpty)
        (snapshot, updates) = step(snapshot, "running", "working")
        #expect(updates.isEmpty)
        (snapshot, updates) = step(snapshot, "running", "working", prs: ["https://github.com/a/b/pull/1"])
        #expect(updates == [.pullRequest(sessionURL: url, url: "https://github.com/a/b/pull/1")])
        (snapshot, updates) = step(snapshot, "running", "working", prs: ["https://github.com/a/b/pull/1"])
        #expect(updates.isEmpty, "the same state twice says nothing")
        (snapshot, updates) = step(snapshot, "running", "waiting_for_user", prs: ["https://github.com/a/b/pull/1"])
        #expect(updates == [.waitingForUser(sessionURL: url, count: 1)])
        (snapshot, updates) = step(snapshot, "running", "working", prs: ["https://github.com/a/b/pull/1"])
        (snapshot, updates) = step(snapshot, "running", "waiting_for_user", prs: ["https://github.com/a/b/pull/1"])
        #expect(updates == [.waitingForUser(sessionURL: url, count: 2)], "a second wait is a second comment")
        (snapshot, updates) = step(snapshot, "exit", nil, prs: ["https://github.com/a/b/pull/1"])
        #expect(updates == [.finished(sessionURL: url, pullRequests: ["https://github.com/a/b/pull/1"])])
        #expect(snapshot.ended)
    }

    @Test("stops for a reason, errors and unknown states are reported as they are", arguments: [
        ("suspended", "inactivity", "stopped:inactivity"), ("suspended", "out_of_quota", "stopped:out_of_quota"),
        ("suspended", "usage_limit_exceeded", "stopped:usage_limit_exceeded"), ("error", nil, "failed"),
        ("blocked_on_moon", "eclipse", "status:blocked_on_moon/eclipse"), ("running", "finished", "finished"),
    ] as [(String, String?, String)])
    func reported(_ status: String, _ detail: String?, _ event: String) {
        let (_, updates) = step(SessionSnapshot(status: "running", statusDetail: "working", pullRequests: [], ended: false, waits: 0, checkedAt: now),
                                status, detail)
        #expect(updates.map(\.eventID) == [event])
    }

    @Test("state words from the API are kept to word characters; links that are not plain URLs are dropped")
    func sanitised() {
        let (snapshot, updates) = step(nil, "run\u{202E}ning", "x\ny", prs: ["javascript:alert(1)", "https://ok.example/pr/1 words"])
        #expect(snapshot.status == "running")
        #expect(snapshot.statusDetail == "xy")
        #expect(snapshot.pullRequests.isEmpty)
        #expect(!updates.contains { if case .pullRequest = $0 { return true } else { return false } })
    }
}
