/// Redmine's issue notes: `PUT /issues/{id}.json` with `{"issue": {"notes": text}}`, authenticated
/// with `X-Redmine-API-Key` (the REST API must be enabled in Administration > Settings > API). The
/// key's user needs the "Add notes" permission in the project. `X-Skip-Webhooks` asks the
/// redmine_webhook plugin not to send the bridge's own note back as a webhook.
public struct RedmineAPI: TicketAPI {
    public let base: String
    let token: Secret
    public let id: String
    public var markup: CommentMarkup { .plain }

    var headers: [String: String] {
        ["X-Redmine-API-Key": token.value, "Accept": "application/json", "Content-Type": "application/json",
         "X-Skip-Webhooks": "1"]
    }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "PUT", url: Self.url(base, ["issues", "\(id).json"]), headers: headers,
                    body: Self.jsonBody(["issue": ["notes": body]]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["issues", "\(id).json"], query: "include=journals"), headers: headers)
    }

    public func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)? {
        guard let issue = Self.json(response)?["issue"], issue.objectValue != nil else { return nil }
        let journals = issue["journals"]?.arrayValue ?? []
        return (journals.compactMap { $0["notes"]?.stringValue }, false)
    }

    /// Who the token belongs to: its comments (the bridge's and Devin's) are never forwarded.
    public func identityRequest() -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["users", "current.json"]), headers: headers)
    }

    public func login(in response: HTTPResponse) -> String? {
        Self.json(response)?[path: "user", "login"]?.stringValue
    }
}
