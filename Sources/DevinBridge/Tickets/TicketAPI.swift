import FoundationEssentials

/// How a ticketing system formats a comment.
public enum CommentMarkup: String, Sendable {
    /// GitHub, GitLab, Gitea/Forgejo: links as `[text](url)`, a hidden `<!-- -->` marker.
    case markdown
    /// Jira Server/DC wiki markup: links as `[text|url]`.
    case jiraWiki
    /// Redmine (Textile or Markdown, whichever the instance uses) and Bugzilla: plain text whose
    /// bare URLs the system links by itself.
    case plain
}

/// Where a ticket lives in its system's API, from its id (ids are validated per system, so this
/// is a parse, never a guess). Nil for ids no API can address (the generic format, `#12` without
/// its repository).
public enum TicketRef: Equatable, Sendable {
    case repository(owner: String, repo: String, number: String)
    case project(path: String, iid: String)
    case key(String)
    case number(String)

    public init?(source: TicketSource, id: String) {
        guard TicketIDShape(source).matches(id) else { return nil }
        switch source {
        case .github, .gitea, .forgejo:
            guard let hash = id.lastIndex(of: "#"), hash != id.startIndex else { return nil }
            let path = id[..<hash].split(separator: "/")
            guard path.count == 2 else { return nil }
            self = .repository(owner: String(path[0]), repo: String(path[1]), number: String(id[id.index(after: hash)...]))
        case .gitlab:
            guard let hash = id.lastIndex(of: "#"), hash != id.startIndex else { return nil }
            self = .project(path: String(id[..<hash]), iid: String(id[id.index(after: hash)...]))
        case .jira:
            self = .key(id)
        case .redmine:
            self = .number(String(id.dropFirst()))
        case .bugzilla:
            self = .number(String(id.dropFirst(4)))
        case .generic:
            return nil
        }
    }
}

/// One ticketing system's comment API: the requests, and how to read its answers. Each system's
/// lives next to its webhook reader in `Systems/<System>/`.
public protocol TicketAPI: Sendable {
    var markup: CommentMarkup { get }
    /// The request that posts `body` (already in ``markup``) as a comment on the ticket.
    func postComment(_ body: String) -> HTTPRequest
    /// The request for one page (from 1) of the ticket's comments.
    func listComments(page: Int) -> HTTPRequest
    /// The comment texts in one page's answer and whether another page follows; nil when the
    /// answer is not the documented shape.
    func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)?
    /// The request that asks who the token belongs to (GitHub, GitLab, Gitea `GET /user`, Jira
    /// `myself`, Redmine `users/current`, Bugzilla `whoami`).
    func identityRequest() -> HTTPRequest
    /// The token user's login in that answer.
    func login(in response: HTTPResponse) -> String?
}

extension TicketAPI {
    /// `base` + `/`-joined path segments, each percent-encoded (a segment never adds a `/`).
    static func url(_ base: String, _ segments: [String], query: String? = nil) -> String {
        base + "/" + segments.map { $0.addingPercentEncodingForPath() }.joined(separator: "/") + (query.map { "?" + $0 } ?? "")
    }

    static func jsonBody<Body: Encodable>(_ object: Body) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(object)) ?? Data("{}".utf8))
    }

    static func json(_ response: HTTPResponse) -> JSONValue? {
        try? JSONParser.parse(response.body)
    }
}

/// The forges' shape (GitHub, GitLab, Gitea/Forgejo): `POST <path>` with `{"body": markdown}`,
/// `GET <path>?<paging>` answering a JSON array of `{"body"}`, and `GET /user` answering the login.
protocol ForgeCommentAPI: TicketAPI {
    var base: String { get }
    var headers: [String: String] { get }
    /// The comments' path segments.
    var path: [String] { get }
    /// The query that asks for one page of `pageSize` comments.
    func pageQuery(_ page: Int) -> String
    static var pageSize: Int { get }
    /// The field of `GET /user`'s answer that holds the login.
    static var loginField: String { get }
}

extension ForgeCommentAPI {
    public var markup: CommentMarkup { .markdown }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: Self.url(base, path), headers: headers, body: Self.jsonBody(["body": body]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, path, query: pageQuery(page)), headers: headers)
    }

    public func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)? {
        guard let items = Self.json(response)?.arrayValue else { return nil }
        return (items.compactMap { $0["body"]?.stringValue }, items.count >= Self.pageSize)
    }

    /// Who the token belongs to: its comments (the bridge's and Devin's) are never forwarded.
    public func identityRequest() -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["user"]), headers: headers)
    }

    public func login(in response: HTTPResponse) -> String? {
        Self.json(response)?[Self.loginField]?.stringValue
    }
}

/// The client for a ticket's system, at the configured base with the configured token: the
/// token only ever goes to that host, never to one a payload names. Nil when the system has no
/// API configured or the id is not addressable.
public func ticketAPI(source: TicketSource, ticket: String, configuration: Configuration) -> (any TicketAPI)? {
    guard let (base, token) = configuration.ticketAPI(for: source), let ref = TicketRef(source: source, id: ticket) else { return nil }
    switch (source, ref) {
    case (.github, .repository(let owner, let repo, let number)):
        return GitHubAPI(base: base, token: token, owner: owner, repo: repo, number: number)
    case (.gitea, .repository(let owner, let repo, let number)), (.forgejo, .repository(let owner, let repo, let number)):
        return GiteaAPI(base: base, token: token, owner: owner, repo: repo, number: number)
    case (.gitlab, .project(let path, let iid)):
        return GitLabAPI(base: base, token: token, project: path, iid: iid)
    case (.jira, .key(let key)):
        return JiraAPI(base: base, token: token, key: key)
    case (.redmine, .number(let id)):
        return RedmineAPI(base: base, token: token, id: id)
    case (.bugzilla, .number(let id)):
        return BugzillaAPI(base: base, token: token, id: id)
    default:
        return nil
    }
}
