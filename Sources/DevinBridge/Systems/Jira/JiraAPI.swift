/// Jira Server/Data Center's comments: `POST /rest/api/2/issue/{key}/comment` with
/// `{"body": wiki markup}`, authenticated with a personal access token
/// (`Authorization: Bearer`, Data Center 8.14+). The token's user needs the "Add Comments"
/// project permission.
public struct JiraAPI: TicketAPI {
    public let base: String
    let token: Secret
    public let key: String
    public var markup: CommentMarkup { .jiraWiki }
    static let pageSize = 100

    var headers: [String: String] {
        ["Authorization": "Bearer \(token.value)", "Accept": "application/json", "Content-Type": "application/json"]
    }
    var path: [String] { ["rest", "api", "2", "issue", key, "comment"] }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: Self.url(base, path), headers: headers, body: Self.jsonBody(["body": body]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, path, query: "startAt=\((page - 1) * Self.pageSize)&maxResults=\(Self.pageSize)"),
                    headers: headers)
    }

    public func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)? {
        guard let object = Self.json(response), let items = object["comments"]?.arrayValue else { return nil }
        let total = object["total"]?.intValue ?? 0
        return (items.compactMap { $0["body"]?.stringValue }, (page - 1) * Self.pageSize + items.count < total)
    }

    /// Who the token belongs to: its comments (the bridge's and Devin's) are never forwarded.
    public func identityRequest() -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["rest", "api", "2", "myself"]), headers: headers)
    }

    public func login(in response: HTTPResponse) -> String? {
        Self.json(response)?["name"]?.stringValue
    }
}
