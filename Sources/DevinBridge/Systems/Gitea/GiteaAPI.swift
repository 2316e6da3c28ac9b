/// Gitea's and Forgejo's issue comments: `POST /repos/{owner}/{repo}/issues/{index}/comments`
/// with `{"body": markdown}`, authenticated with `Authorization: token`. The token needs the
/// `write:issue` scope.
public struct GiteaAPI: ForgeCommentAPI {
    public let base: String
    let token: Secret
    public let owner: String, repo: String, number: String
    static let pageSize = 50
    static let loginField = "login"

    var headers: [String: String] {
        ["Authorization": "token \(token.value)", "Accept": "application/json", "Content-Type": "application/json"]
    }
    var path: [String] { ["repos", owner, repo, "issues", number, "comments"] }
    func pageQuery(_ page: Int) -> String { "page=\(page)&limit=\(Self.pageSize)" }
}
