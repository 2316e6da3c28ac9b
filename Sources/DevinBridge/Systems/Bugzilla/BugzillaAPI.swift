/// Bugzilla's comments (5.0+, BMO, Harmony): `POST /rest/bug/{id}/comment` with
/// `{"comment": text}`, authenticated with `X-BUGZILLA-API-KEY`. The key's user must be allowed to
/// comment on the bug. Comment 0 is the bug's description, which no Bugzilla webhook carries: the
/// bridge reads it before building the prompt.
public struct BugzillaAPI: TicketAPI {
    public let base: String
    let token: Secret
    public let id: String
    public var markup: CommentMarkup { .plain }

    var headers: [String: String] {
        ["X-BUGZILLA-API-KEY": token.value, "Accept": "application/json", "Content-Type": "application/json"]
    }
    var path: [String] { ["rest", "bug", id, "comment"] }

    public func postComment(_ body: String) -> HTTPRequest {
        HTTPRequest(method: "POST", url: Self.url(base, path), headers: headers, body: Self.jsonBody(["comment": body]))
    }

    public func listComments(page: Int) -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, path), headers: headers)
    }

    /// `{"bugs": {"<id>": {"comments": [{"text", "count", ...}]}}}`, in `count` order.
    func commentObjects(in response: HTTPResponse) -> [JSONValue]? {
        Self.json(response)?[path: "bugs", id, "comments"]?.arrayValue
    }

    public func comments(in response: HTTPResponse, page: Int) -> (texts: [String], more: Bool)? {
        commentObjects(in: response).map { ($0.compactMap { $0["text"]?.stringValue }, false) }
    }

    /// The text of the comment `commentID` (webhooks leave out private comments' text).
    public func text(ofComment commentID: String, in response: HTTPResponse) -> String? {
        commentObjects(in: response)?.first { $0["id"]?.idText == commentID }?["text"]?.stringValue
    }

    /// The bug's description: the text of comment 0.
    public func description(in response: HTTPResponse) -> String? {
        guard let comments = commentObjects(in: response) else { return nil }
        let first = comments.first { $0["count"]?.intValue == 0 } ?? comments.first
        return first?["text"]?.stringValue
    }

    /// Who the token belongs to: its comments (the bridge's and Devin's) are never forwarded.
    public func identityRequest() -> HTTPRequest {
        HTTPRequest(method: "GET", url: Self.url(base, ["rest", "whoami"]), headers: headers)
    }

    public func login(in response: HTTPResponse) -> String? {
        Self.json(response)?["name"]?.stringValue
    }
}
