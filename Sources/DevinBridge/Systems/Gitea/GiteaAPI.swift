/// Gitea's and Forgejo's issue comments: `POST /repos/{owner}/{repo}/issues/{index}/comments`
/// with `{"body": markdown}`, authenticated with `Authorization: token`. The token needs the
/// `write:issue` scope.
public struct GiteaAPI: TicketAPI {
    public let base: String
    let token: Secret
    public let owner: String, repo: String, number: String
    public var markup: CommentMarkup { .markdown }
    static let pageSize = 50

    var headers: [String: String] {
        ["Authorization": "token \(token.value)", "Accept": "application/json", "Content-Type": "application/json"]
    }
    var path: [String] { ["repos", owner, repo, "issues", number, "comments"] }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: Self.url(base, path), headers: headers, body: Self.jsonBody(["body": body]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, path, query: "page=\(page)&limit=\(Self.pageSize)"), headers: headers)
    }

    public func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)? {
        guard let items = Self.json(response) as? [[String: Any]] else { return nil }
        return (items.compactMap { $0["body"] as? String }, items.count >= Self.pageSize)
    }

    /// Who the token belongs to: its comments (the bridge's and Devin's) are never forwarded.
    public func identityRequest() -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["user"]), headers: headers)
    }

    public func login(in response: HTTPResponse) -> String? {
        (Self.json(response) as? [String: Any])?["login"] as? String
    }
}
