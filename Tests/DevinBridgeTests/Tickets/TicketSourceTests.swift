import Testing
@testable import DevinBridge

@Suite("Which dialect a request speaks")
struct TicketSourceDetectionTests {
    static let allNames = "generic, github, gitlab, gitea, forgejo, jira, redmine, bugzilla"

    func detect(headers: [(String, String)] = [], pathInfo: String = "", query: String = "",
                configured: TicketSource? = nil, json: String = #"{"id":"1","title":"t"}"#) throws -> TicketSource {
        let head = CGIRequestHead(method: "POST", headers: HTTPHeaders(headers), pathInfo: pathInfo, queryString: query)
        return try TicketSource.detect(head: head, configured: configured, object: WebhookFixture.object(json: json))
    }

    // MARK: - Forced by the URL

    @Test("PATH_INFO names the source, whatever the case and trailing slash", arguments: [
        ("/jira", TicketSource.jira), ("/JIRA", .jira), ("/gitlab/", .gitlab), ("/forgejo", .forgejo), ("/generic", .generic),
    ])
    func pathInfo(_ path: String, _ source: TicketSource) throws {
        #expect(try detect(pathInfo: path) == source)
    }

    @Test("?source= names the source, among other parameters", arguments: [
        ("source=jira", TicketSource.jira), ("token=abc&source=redmine", .redmine), ("source=Bugzilla&x=1", .bugzilla),
    ])
    func query(_ query: String, _ source: TicketSource) throws {
        #expect(try detect(query: query) == source)
    }

    @Test("the URL beats TICKET_SOURCE, the event headers and the body")
    func urlWins() throws {
        let headers = [("X-GitHub-Event", "issues"), ("X-Gitlab-Event", "Issue Hook")]
        #expect(try detect(headers: headers, pathInfo: "/jira", configured: .github, json: #"{"bug":{"id":1}}"#) == .jira)
        #expect(try detect(headers: headers, query: "source=jira", configured: .github, json: #"{"bug":{"id":1}}"#) == .jira)
    }

    @Test("PATH_INFO beats ?source=")
    func pathBeatsQuery() throws {
        #expect(try detect(pathInfo: "/gitea", query: "source=jira") == .gitea)
    }

    @Test("an empty PATH_INFO or ?source= forces nothing", arguments: [("", ""), ("/", ""), ("", "source="), ("", "sourcex=jira&other=1")])
    func emptyForcesNothing(_ path: String, _ query: String) throws {
        #expect(try detect(pathInfo: path, query: query) == .generic)
        #expect(try detect(pathInfo: path, query: query, configured: .redmine) == .redmine)
    }

    @Test("an unknown name in the URL is invalidField(source) listing the known ones", arguments: [
        ("/trac", "", "trac"), ("", "source=youtrack", "youtrack"), ("/hooks", "source=jira", "hooks"),
    ])
    func unknownName(_ path: String, _ query: String, _ name: String) {
        #expect(throws: BridgeError.invalidField("source", "\"\(name)\" is not one of \(Self.allNames)")) {
            try detect(pathInfo: path, query: query, configured: .github)
        }
    }

    @Test("the listed names are exactly the sources")
    func namesAreTheSources() {
        #expect(TicketSource.allCases.map(\.rawValue).joined(separator: ", ") == Self.allNames)
    }

    // MARK: - Configured

    @Test("TICKET_SOURCE beats the event headers and the body")
    func configuredWins() throws {
        #expect(try detect(headers: [("X-GitHub-Event", "issues")], configured: .bugzilla) == .bugzilla)
        #expect(try detect(headers: [("X-Forgejo-Event", "issues")], configured: .generic) == .generic)
        #expect(try detect(configured: .redmine, json: #"{"webhookEvent":"jira:issue_created"}"#) == .redmine)
    }

    // MARK: - Headers

    @Test("event headers, Forgejo before Gitea before GitLab before GitHub (Gitea and Forgejo also send X-GitHub-Event)", arguments: [
        ([("X-GitHub-Event", "issues")], TicketSource.github),
        ([("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")], .gitea),
        ([("X-GitHub-Event", "issues"), ("X-Gitea-Event", "issues")], .gitea),
        ([("X-Forgejo-Event", "issues"), ("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")], .forgejo),
        ([("X-Gitlab-Event", "Issue Hook")], .gitlab),
        ([("x-gitlab-event", "Push Hook"), ("X-GitHub-Event", "push")], .gitlab),
    ] as [([(String, String)], TicketSource)])
    func headers(_ headers: [(String, String)], _ source: TicketSource) throws {
        #expect(try detect(headers: headers) == source)
    }

    @Test("an event header beats the body's shape")
    func headersBeatBody() throws {
        #expect(try detect(headers: [("X-GitHub-Event", "issues")], json: #"{"webhookEvent":"jira:issue_created"}"#) == .github)
    }

    // MARK: - Body

    @Test("the body's shape when no header says", arguments: [
        (#"{"webhookEvent":"jira:issue_created","issue":{}}"#, TicketSource.jira),
        (#"{"webhookEvent":"comment_created"}"#, .jira),
        (#"{"payload":{"action":"opened","issue":{"id":1}}}"#, .redmine),
        (#"{"bug":{"id":1},"event":{}}"#, .bugzilla),
        (#"{"id":"1","title":"t","labels":[]}"#, .generic),
        (#"{"webhookEvent":5,"id":1}"#, .generic),
        (#"{"payload":{"action":"opened"}}"#, .generic),
        (#"{"bug":"1234","id":1}"#, .generic),
    ] as [(String, TicketSource)])
    func body(_ json: String, _ source: TicketSource) throws {
        #expect(try detect(json: json) == source)
    }

    @Test("a signature header alone says nothing about the source")
    func signatureHeaderOnly() throws {
        #expect(try detect(headers: [("X-Hub-Signature", "sha256=00")], json: #"{"webhookEvent":"jira:issue_created"}"#) == .jira)
        #expect(try detect(headers: [("Webhook-Signature", "v1,AA==")]) == .generic)
    }

    @Test("every fixture is recognised from what its sender sends", arguments: [
        ("github-issues-opened", [("X-GitHub-Event", "issues")], TicketSource.github),
        ("github-ping", [("X-GitHub-Event", "ping")], .github),
        ("gitlab-issue-open", [("X-Gitlab-Event", "Issue Hook")], .gitlab),
        ("gitlab-push", [("X-Gitlab-Event", "Push Hook")], .gitlab),
        ("gitea-issues-opened", [("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")], .gitea),
        ("gitea-issue-label-updated", [("X-Forgejo-Event", "issues"), ("X-Gitea-Event", "issues"), ("X-GitHub-Event", "issues")], .forgejo),
        ("jira-issue-created", [], .jira),
        ("jira-cloud-issue-created-adf", [], .jira),
        ("jira-comment-created", [], .jira),
        ("redmine-issue-opened", [], .redmine),
        ("redmine-issue-updated", [], .redmine),
        ("bugzilla-bug-create", [], .bugzilla),
        ("bugzilla-private-bug-modify", [], .bugzilla),
    ] as [(String, [(String, String)], TicketSource)])
    func fixtures(_ fixture: String, _ headers: [(String, String)], _ source: TicketSource) throws {
        let head = CGIRequestHead(method: "POST", headers: HTTPHeaders(headers))
        #expect(try TicketSource.detect(head: head, configured: nil, object: WebhookFixture.object(fixture)) == source)
    }

    // MARK: - Decoding

    @Test("the generic source decodes the generic format as a created ticket")
    func genericDecode() throws {
        let webhook = try TicketSource.generic.decode(
            WebhookFixture.object(json: #"{"id":"PROJ-9","title":"t","labels":["devin-autofix"]}"#), headers: HTTPHeaders())
        #expect(webhook == DecodedWebhook(ticket: Ticket(id: "PROJ-9", title: "t", labels: ["devin-autofix"]), event: .created))
    }

    @Test("the generic source names the generic fields in its errors")
    func genericErrors() {
        #expect(throws: BridgeError.missingField("title")) {
            try TicketSource.generic.decode(WebhookFixture.object(json: #"{"id":"1"}"#), headers: HTTPHeaders())
        }
    }
}
