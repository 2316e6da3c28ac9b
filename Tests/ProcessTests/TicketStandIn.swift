import Foundation

extension Paths {
    static let ticketStandIn = packageRoot.appendingPathComponent("Tests/Support/ticket_standin.py").path
}

/// The local stand-in for one ticketing system's comment API (Tests/Support/ticket_standin.py)
/// on a loopback port. Started by a test and stopped by the same test (``stop()``, also on deinit).
///
/// A ticket's key (in `missing`, ``comments``, ``commentRecords`` and ``addComment(ticket:body:author:)``):
/// github/gitea `owner/repo#N`; gitlab `PROJECT#IID` with PROJECT decoded (`platform/backend#7` or `42#7`);
/// jira the issue key (`PROJ-12`); redmine and bugzilla the number (`42`).
final class TicketStandIn {
    let process = Process()
    let mode: String
    let port: Int
    /// The path the API is served under: `prefix`, else /api/v4 (gitlab), /api/v1 (gitea), "" (others).
    let apiPath: String
    let recordFile: URL
    let directory: URL
    /// The login the token belongs to, as the stand-in shows it on the bridge's own comments.
    let user: String

    /// `http://127.0.0.1:<port>`: where the control endpoints are.
    var rootURL: String { "http://127.0.0.1:\(port)" }
    /// The API base to configure the bridge with (includes /api/v4, /api/v1 or the prefix).
    var baseURL: String { rootURL + apiPath }

    /// `mode`: github, gitlab, gitea, jira, redmine or bugzilla. `fault` (none, 401, 403, 404, 429,
    /// 500, drop, timeout-after-store, drop-after-store, timeout) applies to the first `failTimes`
    /// writes (0: all); `delay` is how long the timeout faults stall (default 30 s).
    init(mode: String, token: String = TestSecrets.ticketToken, fault: String = "none", failTimes: Int = 0,
         retryAfter: String? = nil, delay: Double? = nil, prefix: String? = nil, missing: [String] = [],
         description: String? = nil, user: String? = nil) throws {
        self.mode = mode
        directory = try Paths.temporaryDirectory()
        recordFile = directory.appendingPathComponent("ticket-standin.jsonl")
        var arguments = ["--mode", mode, "--token", token, "--record", recordFile.path,
                         "--fault", fault, "--fail-times", String(failTimes), "--lifetime", "300"]
        if let retryAfter { arguments += ["--retry-after", retryAfter] }
        if let delay { arguments += ["--delay", String(delay)] }
        if let prefix { arguments += ["--prefix", prefix] }
        for key in missing { arguments += ["--missing", key] }
        if let description { arguments += ["--description", description] }
        if let user { arguments += ["--user", user] }
        self.user = user ?? (mode == "bugzilla" ? "bridge-bot@example.com" : "bridge-bot")
        var path = prefix ?? ["gitlab": "/api/v4", "gitea": "/api/v1"][mode] ?? ""
        while path.hasSuffix("/") { path.removeLast() }
        if !path.isEmpty && !path.hasPrefix("/") { path = "/" + path }
        apiPath = path
        port = try startStandInScript(process, script: Paths.ticketStandIn, arguments: arguments,
                                      name: "the \(mode) stand-in")
    }

    func stop() {
        stopProcess(process)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// Every record the stand-in wrote: requests, stored comments, control requests.
    var records: [[String: Any]] { readStandInRecords(recordFile) }

    /// The API requests received (not the control ones): method, path, query, headers, raw, json.
    var requests: [[String: Any]] { records.filter { $0["kind"] as? String == "request" } }

    /// The comments the API stored, in order: ticket, id, body, author.
    var commentRecords: [[String: Any]] { records.filter { $0["kind"] as? String == "comment" } }

    /// Every ticket's comment bodies, oldest first (Bugzilla's description not included).
    var comments: [String: [String]] {
        guard let answer = try? standInRequest("GET", "\(rootURL)/_control/comments"), answer.status == 200 else { return [:] }
        return (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: [String]] ?? [:]
    }

    /// Puts a comment on a ticket as someone else (`author`) would have, without going through
    /// the API: not recorded as a "comment" record and never faulted.
    func addComment(ticket: String, body: String, author: String = "another-user") throws {
        let answer = try standInRequest("POST", "\(rootURL)/_control/comments",
                                        json: ["ticket": ticket, "body": body, "author": author])
        guard answer.status == 201 else {
            throw HarnessError("adding a comment to \(ticket) failed: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
    }
}
