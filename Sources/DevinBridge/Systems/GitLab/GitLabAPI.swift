/// GitLab's issue notes: `POST /projects/{url-encoded path}/issues/{iid}/notes` with
/// `{"body": markdown}`, authenticated with `PRIVATE-TOKEN`. The token needs the `api` scope and
/// at least the Reporter role in the project.
public struct GitLabAPI: TicketAPI {
    public let base: String
    let token: Secret
    public let project: String, iid: String
    public var markup: CommentMarkup { .markdown }
    static let pageSize = 100

    var headers: [String: String] {
        ["PRIVATE-TOKEN": token.value, "Accept": "application/json", "Content-Type": "application/json"]
    }
    /// The project path is one segment, its `/` encoded (`platform%2Fbackend`).
    var path: [String] { ["projects", project, "issues", iid, "notes"] }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: Self.url(base, path), headers: headers, body: Self.jsonBody(["body": body]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, path, query: "per_page=\(Self.pageSize)&page=\(page)"), headers: headers)
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
        (Self.json(response) as? [String: Any])?["username"] as? String
    }
}
