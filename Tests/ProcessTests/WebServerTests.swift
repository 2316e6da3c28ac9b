import Foundation
import Testing

/// Signed webhooks through the real web servers, configured from deploy/.
@Suite("Behind Apache (mod_cgid) and nginx + fcgiwrap", .serialized)
struct WebServerTests {
    static let servers = WebServer.Kind.allCases

    /// The bridge's settings, written to the config file the CGI reads (never to the server's env).
    static func settings(apiBase: String, extra: [String: String] = [:]) -> [String: String] {
        [
            "DEVIN_API_KEY": TestSecrets.apiKey,
            "DEVIN_ORG_ID": TestSecrets.orgID,
            "WEBHOOK_SECRET": TestSecrets.webhookSecret,
            "TICKET_API_TOKEN": TestSecrets.ticketToken,
            "DEVIN_API_BASE": apiBase,
            "DEVIN_TIMEOUT_SECONDS": "5",
        ].merging(extra) { $1 }
    }

    let signer = BridgeProcess(apiBase: "http://127.0.0.1:9")

    func signed(_ body: [UInt8], delivery: String? = nil) throws -> [(String, String)] {
        var headers = [("X-Hub-Signature-256", try signer.signature(body))]
        if let delivery { headers.append(("X-GitHub-Delivery", delivery)) }
        return headers
    }

    /// No secret in the error log, whatever happened.
    func expectNoSecrets(in server: WebServer, _ answers: [HTTPAnswer]) {
        let log = server.errorLogText
        for secret in TestSecrets.all {
            #expect(!log.contains(secret), "the \(server.kind) error log holds a secret")
            for answer in answers {
                #expect(!answer.text.contains(secret))
                #expect(!answer.headers.contains { $0.1.contains(secret) })
            }
        }
    }

    @Test("A signed ticket creates one session, with the secrets read from the config file", arguments: servers)
    func created(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let body = ticketBody()
        let answer = try curl(server.url + "/hooks/tickets", headers: try signed(body, delivery: "gh-delivery-42"), body: body)

        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.header("Content-Type") == "application/json")
        #expect(answer.json["status"] as? String == "created")
        let sessions = api.sessions
        #expect(sessions.count == 1)
        #expect(answer.json["session_id"] as? String == sessions.first?["session_id"] as? String)
        // The API key and the ticket token came from the 0640 config file the CGI read (as www-data
        // with the effective group devin-bridge, when run as root).
        let sent = try #require(api.requests.first)
        #expect((sent["headers"] as? [String: String])?["authorization"] == "Bearer \(TestSecrets.apiKey)")
        let secrets = (sent["json"] as? [String: Any])?["session_secrets"] as? [[String: Any]]
        #expect(secrets?.first?["value"] as? String == TestSecrets.ticketToken)

        // The delivery id header reached the CGI and its log line reached the error log.
        let lines = server.waitForLogLines(1)
        #expect(lines.count == 1)
        #expect(lines.first?.contains("delivery=gh-delivery-42") == true)
        #expect(lines.first?.contains("decision=created") == true)
        #expect(lines.first?.contains("status=200") == true)
        expectNoSecrets(in: server, [answer])
    }

    @Test("Skip, reject and refuse answer their statuses through the server", arguments: servers)
    func statuses(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let hook = server.url + "/hooks/tickets"
        var answers: [HTTPAnswer] = []

        let plain = ticketBody(labels: ["bug"])
        let skipped = try curl(hook, headers: try signed(plain), body: plain)
        #expect(skipped.status == 200)
        #expect(skipped.json["status"] as? String == "skipped")
        answers.append(skipped)

        let body = ticketBody()
        let unsigned = try curl(hook, body: body)
        #expect(unsigned.status == 401)
        #expect(unsigned.json["error"] as? String == "missing_signature")
        answers.append(unsigned)

        let wrong = try curl(hook, headers: [("X-Hub-Signature-256", try signer.signature(body, secret: "some other secret"))], body: body)
        #expect(wrong.status == 401)
        #expect(wrong.json["error"] as? String == "bad_signature")
        answers.append(wrong)

        let notJSON = Array("this is not json".utf8)
        let bad = try curl(hook, headers: try signed(notJSON), body: notJSON)
        #expect(bad.status == 400)
        #expect(bad.json["error"] as? String == "invalid_json")
        answers.append(bad)

        let put = try curl(hook, method: "PUT", body: body)
        #expect(put.status == 405)
        #expect(put.header("Allow") == "POST")
        #expect(put.header("Content-Type") == "application/json")
        answers.append(put)

        let health = try curl(hook, method: "GET")
        #expect(health.status == 200)
        #expect(health.json["configured"] as? Bool == true)
        answers.append(health)

        // Jira Server signs in X-Hub-Signature: the header mapping reaches the CGI too.
        let jira = try curl(hook, headers: [("X-Hub-Signature", try signer.signature(plain))], body: plain)
        #expect(jira.status == 200)
        answers.append(jira)

        #expect(api.requests.isEmpty)
        #expect(server.waitForLogLines(7).count == 7)
        expectNoSecrets(in: server, answers)
    }

    @Test("Bodies: ~900 KB arrives and is answered, over MAX_BODY_BYTES is the bridge's own 413", arguments: servers)
    func bodies(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let hook = server.url + "/hooks/tickets"

        let large = ticketBody(description: String(repeating: "A long stack trace line.\n", count: 36_000))
        #expect(large.count > 880_000 && large.count < 1_048_576)
        let created = try curl(hook, headers: try signed(large), body: large)
        #expect(created.status == 200, "\(created.text)")
        #expect(created.json["status"] as? String == "created")

        // Refused before any parsing: the response must still arrive, so the body was drained.
        let refused = try curl(hook, headers: [("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64))], body: large)
        #expect(refused.status == 401)
        #expect(refused.json["error"] as? String == "bad_signature")

        let tooLarge = [UInt8](repeating: UInt8(ascii: "x"), count: 1_500_000)
        let over = try curl(hook, headers: try signed(tooLarge), body: tooLarge)
        #expect(over.status == 413)
        #expect(over.json["error"] as? String == "payload_too_large")

        let overChunked = try curl(hook, headers: try signed(tooLarge), body: tooLarge, chunked: true)
        #expect(overChunked.status == 413)
        #expect(api.sessions.count == 1)
    }

    @Test("A chunked upload with no Content-Length is read and creates the session", arguments: servers)
    func chunked(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let body = ticketBody()
        let answer = try curl(server.url + "/hooks/tickets", headers: try signed(body), body: body, chunked: true)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.json["status"] as? String == "created")
        #expect(api.sessions.count == 1)
    }

    @Test("Repeated signature headers: never a session without every presented signature valid", arguments: servers)
    func repeatedSignatureHeaders(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let hook = server.url + "/hooks/tickets"
        let body = ticketBody()
        let good = try signer.signature(body)
        let bad = "sha256=" + String(repeating: "ab", count: 32)

        let twiceGood = try curl(hook, headers: [("X-Hub-Signature-256", good), ("X-Hub-Signature-256", good)], body: body)
        #expect(twiceGood.status == 200, "\(twiceGood.text)")

        let twiceBad = try curl(hook, headers: [("X-Hub-Signature-256", bad), ("X-Hub-Signature-256", bad)], body: body)
        #expect(twiceBad.status == 401)

        let badThenGood = try curl(hook, headers: [("X-Hub-Signature-256", bad), ("X-Hub-Signature-256", good)], body: ticketBody(id: 99))
        let goodThenBad = try curl(hook, headers: [("X-Hub-Signature-256", good), ("X-Hub-Signature-256", bad)], body: ticketBody(id: 98))
        #expect(badThenGood.status == 401)
        #expect(goodThenBad.status == 401)
        #expect(api.sessions.count == 1)
    }

    @Test("A broken configuration is a 500 whose reason is in the error log, never in the answer", arguments: servers)
    func misconfigured(kind: WebServer.Kind) throws {
        var settings = Self.settings(apiBase: "http://127.0.0.1:9")
        settings["WEBHOOK_SECRET"] = nil
        let server = try WebServer(kind, settings: settings)
        defer { server.stop() }
        let body = ticketBody()
        let answer = try curl(server.url + "/hooks/tickets", headers: try signed(body), body: body)
        #expect(answer.status == 500)
        #expect(answer.json["error"] as? String == "not_configured")
        let lines = server.waitForLogLines(1)
        #expect(lines.first?.contains("WEBHOOK_SECRET is not set") == true)
        expectNoSecrets(in: server, [answer])
    }

    @Test("Simultaneous identical deliveries through the server yield one session", arguments: servers)
    func concurrentThroughServer(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let body = ticketBody()
        let headers = try signed(body)
        let box = AnswersBox()
        DispatchQueue.concurrentPerform(iterations: 30) { _ in
            box.append(try? curl(server.url + "/hooks/tickets", headers: headers, body: body))
        }
        let statuses = box.values.map { $0?.json["status"] as? String ?? "none" }
        #expect(statuses.count == 30)
        #expect(statuses.filter { $0 == "created" }.count == 1)
        #expect(statuses.allSatisfy { ["created", "duplicate", "in_progress"].contains($0) }, "\(Set(statuses))")
        #expect(api.sessions.count == 1)
    }

    @Test("The ticket hears back through each server: the acknowledgement right after the answer, then the pull request and the end from the timer's retry",
          arguments: servers)
    func commentsThroughServer(kind: WebServer.Kind) throws {
        let api = try StandIn()
        defer { api.stop() }
        let gitea = try TicketStandIn(mode: "gitea")
        defer { gitea.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL, extra: ["TICKET_API_BASE_GITEA": gitea.baseURL]))
        defer { server.stop() }
        let body = DialectProcessTests.fixture("gitea-issues-opened")
        let signature = String(try signer.signature(body).dropFirst("sha256=".count))
        let answer = try curl(server.url + "/hooks/tickets/gitea", headers: [("X-Gitea-Event", "issues"), ("X-Gitea-Signature", signature)],
                              body: body)
        #expect(answer.status == 200, "\(kind): \(answer.text)")
        #expect(answer.json["status"] as? String == "created")
        // The worker the CGI program left behind posts the acknowledgement within seconds.
        var comments: [String] = []
        for _ in 0..<100 {
            comments = gitea.comments["tools/cli#7"] ?? []
            if !comments.isEmpty { break }
            usleep(50_000)
        }
        #expect(comments.count == 1, "\(kind): \(comments) \(server.errorLogText)")
        let sessionID = try #require(api.sessions.first?["session_id"] as? String)
        #expect(comments.first?.contains(sessionID) == true)
        #expect(gitea.requests.first?["headers"].flatMap { ($0 as? [String: Any])?["authorization"] as? String } == "token \(TestSecrets.ticketToken)")

        // The timer's retry (as root: it switches to the bridge's user) follows the session.
        func retry() throws -> String {
            let output = try runProcess(Paths.binary, arguments: ["retry"],
                                        environment: ["DEVIN_BRIDGE_CONFIG": server.configFile.path, "PATH": "/usr/bin:/bin"], stdin: [])
            #expect(output.exitCode == 0, "\(String(decoding: output.stdout, as: UTF8.self)) \(output.stderr)")
            return String(decoding: output.stdout, as: UTF8.self)
        }
        try api.setSession(sessionID, status: "running", detail: "working", pullRequests: [["pr_url": "https://git.example.com/tools/cli/pulls/8", "pr_state": "open"]])
        _ = try retry()
        try api.setSession(sessionID, status: "exit")
        _ = try retry()
        _ = try retry()
        comments = gitea.comments["tools/cli#7"] ?? []
        #expect(comments.count == 3, "\(kind): \(comments)")
        #expect(comments.dropFirst().first?.contains("https://git.example.com/tools/cli/pulls/8") == true)
        #expect(comments.last?.contains("finished") == true)
        // A redelivery starts nothing and owes nothing new.
        let again = try curl(server.url + "/hooks/tickets/gitea", headers: [("X-Gitea-Event", "issues"), ("X-Gitea-Signature", signature)],
                             body: body)
        #expect(again.json["status"] as? String == "duplicate")
        usleep(500_000)
        #expect((gitea.comments["tools/cli#7"] ?? []).count == 3)
        expectNoSecrets(in: server, [answer, again])
    }

    @Test("A ticket queued behind the server is delivered by `sudo devin-bridge retry --now` as the bridge's user",
          arguments: servers)
    func queuedThenRetried(kind: WebServer.Kind) throws {
        let api = try StandIn(fault: "503", failTimes: 1)
        defer { api.stop() }
        let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL))
        defer { server.stop() }
        let body = ticketBody()
        let queued = try curl(server.url + "/hooks/tickets", headers: try signed(body), body: body)
        #expect(queued.status == 202)
        #expect(queued.json["status"] as? String == "queued")

        let retry = try runProcess(Paths.binary, arguments: ["retry", "--now"],
                                   environment: ["DEVIN_BRIDGE_CONFIG": server.configFile.path, "PATH": "/usr/bin:/bin"], stdin: [])
        let stdout = String(decoding: retry.stdout, as: UTF8.self)
        #expect(retry.exitCode == 0, "\(stdout) \(retry.stderr)")
        #expect(stdout.contains("4711 [devin-autofix]"))
        #expect(api.sessions.count == 1)
        // As root, retry switches to the owner of the state directory: the bridge's own user.
        if geteuid() == 0 { #expect(retry.stderr.contains("running as devin-bridge"), "\(retry.stderr)") }

        // Files written by retry stay usable by the CGI: the redelivery reads the record.
        let again = try curl(server.url + "/hooks/tickets", headers: try signed(body), body: body)
        #expect(again.status == 200)
        #expect(again.json["status"] as? String == "duplicate")
        #expect(api.sessions.count == 1)
        expectNoSecrets(in: server, [queued, again])
    }

    @Test("Each server end to end with a real dialect: GitLab's own token behind nginx, Jira's signature behind Apache, Redmine's own URL token behind both")
    func dialectsThroughServers() throws {
        for kind in WebServer.Kind.allCases {
            let api = try StandIn()
            defer { api.stop() }
            // Each token-only sender has its own token; Jira signs with the shared secret.
            let server = try WebServer(kind, settings: Self.settings(apiBase: api.baseURL, extra: [
                "WEBHOOK_TOKEN_GITLAB": TestSecrets.webhookToken, "WEBHOOK_TOKEN_REDMINE": TestSecrets.webhookToken + "-redmine",
            ]))
            defer { server.stop() }
            let (fixture, path, headers): (String, String, [(String, String)])
            switch kind {
            case .nginx:
                (fixture, path, headers) = ("gitlab-issue-open", "/hooks/tickets/gitlab",
                                            [("X-Gitlab-Event", "Issue Hook"), ("X-Gitlab-Token", TestSecrets.webhookToken)])
            case .apache:
                let body = DialectProcessTests.fixture("jira-issue-created")
                (fixture, path, headers) = ("jira-issue-created", "/hooks/tickets/jira", [("X-Hub-Signature", try signer.signature(body))])
            }
            let answer = try curl(server.url + path, headers: headers, body: DialectProcessTests.fixture(fixture))
            #expect(answer.status == 200, "\(kind): \(answer.text)")
            #expect(answer.json["status"] as? String == "created")
            #expect(answer.json["ticket"] as? String == (kind == .nginx ? "platform/backend#23" : "PROJ-123"))

            // GitLab's token is not Redmine's.
            let gitlabToken = TestSecrets.webhookToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let crossed = try curl(server.url + "/hooks/tickets/redmine?token=\(gitlabToken)", body: DialectProcessTests.fixture("redmine-issue-opened"))
            #expect(crossed.status == 401, "\(kind): \(crossed.text)")
            let token = (TestSecrets.webhookToken + "-redmine").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let redmine = try curl(server.url + "/hooks/tickets/redmine?token=\(token)", body: DialectProcessTests.fixture("redmine-issue-opened"))
            #expect(redmine.status == 200, "\(kind): \(redmine.text)")
            #expect(redmine.json["ticket"] as? String == "#1234")
            #expect(api.sessions.count == 2)
            let lines = server.waitForLogLines(2)
            #expect(lines.contains { $0.contains("source=\(kind == .nginx ? "gitlab" : "jira")") })
            #expect(lines.contains { $0.contains("source=redmine") && $0.contains("auth=token") })
            expectNoSecrets(in: server, [answer, redmine])
        }
    }
}

final class AnswersBox: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [HTTPAnswer?] = []
    func append(_ item: HTTPAnswer?) { lock.lock(); items.append(item); lock.unlock() }
    var values: [HTTPAnswer?] { lock.lock(); defer { lock.unlock() }; return items }
}

/// What the web servers serve, and under which settings: only /hooks/tickets reaches the bridge,
/// and every setting of the Apache drop-in applies to that location only.
@Suite("Routes and scoped settings", .serialized)
struct RouteTests {
    static let dropIn = Paths.packageRoot.appendingPathComponent("deploy/apache/devin-bridge.conf").path

    @Test("Installed by install.sh next to Debian's serve-cgi-bin.conf, the bridge is not served at /cgi-bin/devin-bridge",
          .enabled(if: geteuid() == 0, "needs root: install.sh sets the owners and Apache runs CGI as www-data"))
    func notUnderDebianCGIBin() throws {
        let stage = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: stage) }
        chmod(stage.path, 0o755)
        let install = try runInstallScript(stage: stage)
        #expect(install.exitCode == 0, "\(String(decoding: install.stdout, as: UTF8.self)) \(install.stderr)")
        // Proof that Debian's /cgi-bin/ is really on: a program of its own is served there.
        let cgiBin = stage.appendingPathComponent("usr/lib/cgi-bin")
        try FileManager.default.createDirectory(at: cgiBin, withIntermediateDirectories: true)
        let probe = cgiBin.appendingPathComponent("probe").path
        try "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nprobe\\n'\n".write(toFile: probe, atomically: false, encoding: .utf8)
        chmod(probe, 0o755)

        let api = try StandIn()
        defer { api.stop() }
        var options = WebServer.Options()
        options.installedRoot = stage
        options.debianCGIBin = true
        let server = try WebServer(.apache, settings: WebServerTests.settings(apiBase: api.baseURL), options: options)
        defer { server.stop() }

        let served = try curl(server.url + "/cgi-bin/probe", method: "GET")
        #expect(served.status == 200 && served.text == "probe\n", "serve-cgi-bin.conf is not active: \(served.status)")
        for path in ["/cgi-bin/devin-bridge", "/cgi-bin/devin-bridge-http"] {
            let answer = try curl(server.url + path, method: "GET")
            #expect(answer.status == 404, "\(path) is served: \(answer.status) \(answer.text)")
        }
        let health = try curl(server.url + "/hooks/tickets", method: "GET")
        #expect(health.status == 200, "\(health.text)")
        #expect(health.json["configured"] as? Bool == true)
        let body = ticketBody()
        let created = try curl(server.url + "/hooks/tickets", headers: [("X-Hub-Signature-256", try BridgeProcess(apiBase: api.baseURL).signature(body))], body: body)
        #expect(created.json["status"] as? String == "created", "\(created.text)")
        #expect(api.sessions.count == 1)
    }

    @Test("Authorization reaches the bridge: a sender's `Authorization: Bearer <WEBHOOK_TOKEN>` is accepted",
          arguments: WebServer.Kind.allCases)
    func authorizationReachesTheBridge(kind: WebServer.Kind) throws {
        let token = "test-static-token-DO-NOT-USE-3b9d"
        let api = try StandIn()
        defer { api.stop() }
        let server = try WebServer(kind, settings: WebServerTests.settings(apiBase: api.baseURL, extra: ["WEBHOOK_TOKEN": token]))
        defer { server.stop() }
        let body = ticketBody()
        let answer = try curl(server.url + "/hooks/tickets", headers: [("Authorization", "Bearer \(token)")], body: body)
        // Without CGIPassAuth, Apache hides the header and the bridge answers 401 missing_signature.
        #expect(answer.status == 200, "\(kind): \(answer.status) \(answer.text)")
        #expect(["created", "skipped"].contains(answer.json["status"] as? String ?? ""), "\(answer.text)")
        let wrong = try curl(server.url + "/hooks/tickets", headers: [("Authorization", "Bearer not-the-token-at-all")], body: ticketBody(id: 77))
        #expect(wrong.status == 401, "\(kind): \(wrong.text)")
        #expect(!server.errorLogText.contains(token))
    }

    @Test("Every CGIDScriptTimeout in the Apache drop-in sits inside a <Location> or <Directory>, and Apache accepts the file")
    func timeoutIsScoped() throws {
        let text = try String(contentsOfFile: Self.dropIn, encoding: .utf8)
        var depth: [String] = []
        var timeouts = 0
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            guard !line.hasPrefix("#"), !line.isEmpty else { continue }
            if line.hasPrefix("</") { _ = depth.popLast(); continue }
            if line.hasPrefix("<") {
                depth.append(String(line.dropFirst().prefix { $0 != " " && $0 != ">" }).lowercased())
                continue
            }
            let directive = line.prefix { $0 != " " }.lowercased()
            if ["cgidscripttimeout", "cgipassauth", "limitrequestbody", "setenv", "require"].contains(directive) {
                #expect(depth.contains { ["location", "locationmatch", "directory", "directorymatch", "files"].contains($0) },
                        "\(line) applies to the whole server")
                if directive == "cgidscripttimeout" { timeouts += 1 }
            }
        }
        #expect(timeouts >= 1)
        #expect(depth.isEmpty, "unbalanced sections")
        #expect(text.contains("CGIPassAuth On"))
        #expect(text.contains("ScriptAlias /hooks/tickets /usr/lib/devin-bridge/devin-bridge"))
        #expect(!text.contains("/usr/lib/cgi-bin/devin-bridge"))
        let nginx = try String(contentsOfFile: Paths.packageRoot.appendingPathComponent("deploy/nginx/devin-bridge.conf").path, encoding: .utf8)
        #expect(nginx.contains("fastcgi_param SCRIPT_FILENAME /usr/lib/devin-bridge/devin-bridge;"))
        #expect(!nginx.contains("/usr/lib/cgi-bin"))

        // apache2 -t on the rendered drop-in inside the test server's main configuration.
        let server = try WebServer(.apache, settings: WebServerTests.settings(apiBase: "http://127.0.0.1:9"))
        defer { server.stop() }
        let check = try runProcess("/usr/sbin/apache2", arguments: ["-t", "-f", server.mainConfig.path],
                                   environment: ["PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], stdin: [])
        #expect(check.exitCode == 0, "\(check.stderr)")
        #expect(check.stderr.contains("Syntax OK"), "\(check.stderr)")
    }

    @Test("Live: the drop-in's CGIDScriptTimeout cuts a slow program at the hook and leaves another CGI program alone",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/apache2"), "needs Apache"))
    func timeoutIsScopedLive() throws {
        let directory = TemporaryDirectory()
        let slow = directory.path + "/slow"
        try "#!/bin/sh\nsleep 3\nprintf 'Content-Type: text/plain\\r\\n\\r\\nfinished\\n'\n".write(toFile: slow, atomically: false, encoding: .utf8)
        chmod(slow, 0o755)
        var options = WebServer.Options()
        options.cgi = slow
        options.extraCGI = [("/elsewhere", slow)]
        options.scriptTimeout = 1
        let server = try WebServer(.apache, settings: WebServerTests.settings(apiBase: "http://127.0.0.1:9"), options: options)
        defer { server.stop() }

        var started = Date()
        let cut = try curl(server.url + "/hooks/tickets", method: "GET")
        let cutAfter = Date().timeIntervalSince(started)
        #expect(cut.status == 504 || cut.status == 500 || cut.status == 502, "\(cut.status) \(cut.text)")
        #expect(cutAfter < 2.9, "the hook's program ran \(cutAfter) s: its CGIDScriptTimeout 1 did not apply")

        started = Date()
        let other = try curl(server.url + "/elsewhere", method: "GET")
        #expect(other.status == 200 && other.text == "finished\n", "\(other.status): the timeout leaked to another location")
        #expect(Date().timeIntervalSince(started) >= 2.9)
    }
}
