/// GitLab's issue notes: `POST /projects/{url-encoded path}/issues/{iid}/notes` with
/// `{"body": markdown}`, authenticated with `PRIVATE-TOKEN`. The token needs the `api` scope and
/// at least the Reporter role in the project.
public struct GitLabAPI: ForgeCommentAPI {
    public let base: String
    let token: Secret
    public let project: String, iid: String
    static let pageSize = 100
    static let loginField = "username"

    var headers: [String: String] {
        ["PRIVATE-TOKEN": token.value, "Accept": "application/json", "Content-Type": "application/json"]
    }
    /// The project path is one segment, its `/` encoded (`platform%2Fbackend`).
    var path: [String] { ["projects", project, "issues", iid, "notes"] }
    func pageQuery(_ page: Int) -> String { "per_page=\(Self.pageSize)&page=\(page)" }
}
