/// GitHub's (and GitHub Enterprise Server's) issue comments:
/// `POST /repos/{owner}/{repo}/issues/{number}/comments` with `{"body": markdown}`, authenticated
/// with `Authorization: Bearer`. The token needs "Issues: write" on the repository (a fine-grained
/// token) or the `repo` scope (a classic one).
public struct GitHubAPI: ForgeCommentAPI {
    public let base: String
    let token: Secret
    public let owner: String, repo: String, number: String
    static let pageSize = 100
    static let loginField = "login"

    var headers: [String: String] {
        ["Authorization": "Bearer \(token.value)", "Accept": "application/vnd.github+json",
         "Content-Type": "application/json", "User-Agent": "devin-bridge", "X-GitHub-Api-Version": "2022-11-28"]
    }
    var path: [String] { ["repos", owner, repo, "issues", number, "comments"] }
    func pageQuery(_ page: Int) -> String { "per_page=\(Self.pageSize)&page=\(page)" }
}
