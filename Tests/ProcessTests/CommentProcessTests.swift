import Foundation
import Testing

/// The comments the bridge posts back on the ticket, through the built CGI program, its detached
/// comment worker and `devin-bridge retry`, against a stand-in of each ticketing system's API.
@Suite("Comments on the ticket through the CGI process", .serialized)
struct CommentProcessTests {
    /// One ticketing system: its 'created' fixture, where the stand-in files the ticket's comments,
    /// and what every write of a comment must look like.
    struct System: CustomStringConvertible, Sendable {
        var mode: String
        var fixture: String
        /// The ticket's key in the stand-in (`comments`).
        var key: String
        var authHeader: String
        var authValue: String
        var method: String
        /// The path below the stand-in's root (includes /api/v4, /api/v1).
        var path: String
        /// How the comment's marker looks in this system's markup.
        var markerPattern: String
        var description: String { mode }

        var dialect: DialectProcessTests.Case {
            DialectProcessTests.cases.first { $0.fixture == fixture && $0.decision == "created" }!
        }
    }

    static let markdownMarker = "<!-- devin-bridge:[0-9a-f]{16} -->"
    static let systems: [System] = [
        System(mode: "github", fixture: "github-issues-opened", key: "acme/shop#42", authHeader: "authorization",
               authValue: "Bearer \(TestSecrets.ticketToken)", method: "POST", path: "/repos/acme/shop/issues/42/comments",
               markerPattern: markdownMarker),
        System(mode: "gitlab", fixture: "gitlab-issue-open", key: "platform/backend#23", authHeader: "private-token",
               authValue: TestSecrets.ticketToken, method: "POST", path: "/api/v4/projects/platform%2Fbackend/issues/23/notes",
               markerPattern: markdownMarker),
        System(mode: "gitea", fixture: "gitea-issues-opened", key: "tools/cli#7", authHeader: "authorization",
               authValue: "token \(TestSecrets.ticketToken)", method: "POST", path: "/api/v1/repos/tools/cli/issues/7/comments",
               markerPattern: markdownMarker),
        System(mode: "jira", fixture: "jira-issue-created", key: "PROJ-123", authHeader: "authorization",
               authValue: "Bearer \(TestSecrets.ticketToken)", method: "POST", path: "/rest/api/2/issue/PROJ-123/comment",
               markerPattern: "\\{color:#97a0af\\}devin-bridge ref [0-9a-f]{16}\\{color\\}"),
        System(mode: "redmine", fixture: "redmine-issue-opened", key: "1234", authHeader: "x-redmine-api-key",
               authValue: TestSecrets.ticketToken, method: "PUT", path: "/issues/1234.json",
               markerPattern: "\\(devin-bridge ref [0-9a-f]{16}\\)"),
        System(mode: "bugzilla", fixture: "bugzilla-bug-create", key: "5678", authHeader: "x-bugzilla-api-key",
               authValue: TestSecrets.ticketToken, method: "POST", path: "/rest/bug/5678/comment",
               markerPattern: "\\(devin-bridge ref [0-9a-f]{16}\\)"),
    ]

    static let github = systems[0]
    static let prURL = "https://git.example.com/pr/1"

    // MARK: - Helpers

    /// Waits until `condition` holds or `timeout` seconds passed; returns whether it held.
    @discardableResult
    static func waitFor(_ timeout: Double = 5, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    /// Collects everything the bridge wrote, to look for secrets in at the end.
    final class Outputs {
        var texts: [String] = []
        func add(_ output: CGIOutput) { texts += [output.raw, output.stderr] }
        func add(_ output: (stdout: String, stderr: String, exitCode: Int32)) { texts += [output.stdout, output.stderr] }

        /// No secret in any output, nor in any file of the state directory (records, outbox).
        func expectNoSecrets(state: String, sourceLocation: SourceLocation = #_sourceLocation) {
            var all = texts
            if let walker = FileManager.default.enumerator(atPath: state) {
                for case let name as String in walker {
                    if let data = FileManager.default.contents(atPath: state + "/" + name) {
                        all.append(String(decoding: data, as: UTF8.self))
                    }
                }
            }
            for secret in TestSecrets.all {
                for text in all {
                    #expect(!text.contains(secret), "a secret leaked: \(text.prefix(400))", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// The comment writes (not the reads) the stand-in received.
    static func writes(_ ticket: TicketStandIn) -> [[String: Any]] {
        ticket.requests.filter { ($0["method"] as? String) == "POST" || ($0["method"] as? String) == "PUT" }
    }

    /// `status --json`, decoded.
    static func statusJSON(_ bridge: BridgeProcess, outputs: Outputs) throws -> [String: Any] {
        let status = try bridge.command(["status", "--json"])
        outputs.add(status)
        #expect(status.exitCode == 0, "\(status.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
    }

    /// The comments `status --json` lists for the first ticket among `sessions`.
    static func statusComments(_ bridge: BridgeProcess, outputs: Outputs) throws -> [[String: Any]] {
        let document = try statusJSON(bridge, outputs: outputs)
        let sessions = document["sessions"] as? [[String: Any]] ?? []
        return sessions.first?["comments"] as? [[String: Any]] ?? []
    }

    /// An ISO 8601 date as the state files write it (with or without fractional seconds).
    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    // MARK: - 1. Every system: acknowledgement, pull request, finished

    @Test("A created session gets one acknowledgement, one comment per pull request and one when it finishes",
          arguments: systems)
    func lifecycle(_ system: System) throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: system.mode)
        defer { ticket.stop() }
        let outputs = Outputs()
        let test = system.dialect
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: test.extra.merging([
            "TICKET_API_BASE_\(system.mode.uppercased())": ticket.baseURL,
        ]) { $1 })

        let response = try DialectProcessTests.send(test, bridge: bridge)
        outputs.add(response)
        #expect(response.status == 200, "\(response.raw) \(response.stderr)")
        #expect(response.json["status"] as? String == "created", "\(response.raw)")
        let sessionID = try #require(response.json["session_id"] as? String)
        let sessionURL = try #require(response.json["url"] as? String)
        #expect(!sessionURL.isEmpty)

        // A redelivery right away (the worker may still be posting): never a second acknowledgement.
        let again = try DialectProcessTests.send(test, bridge: bridge)
        outputs.add(again)
        #expect(again.status == 200)
        #expect(again.json["status"] as? String == "duplicate", "\(again.raw)")
        #expect(api.sessions.count == 1)

        #expect(Self.waitFor { (ticket.comments[system.key]?.count ?? 0) >= 1 }, "no acknowledgement on \(system.key): \(ticket.comments)")
        usleep(1_500_000)  // let both workers finish
        let acknowledged = ticket.comments[system.key] ?? []
        #expect(acknowledged.count == 1, "\(acknowledged)")
        #expect(ticket.comments.count == 1, "comments on other tickets: \(ticket.comments)")
        let ack = acknowledged.first ?? ""
        #expect(ack.contains(sessionURL), "\(ack)")
        #expect(ack.contains(try #require(test.label)), "\(ack)")
        #expect(Self.matches(ack, system.markerPattern), "\(ack)")

        // Every write went to the ticket's path, with the system's own authentication.
        let written = Self.writes(ticket)
        #expect(written.count == 1, "\(written.map { "\($0["method"] ?? "") \($0["path"] ?? "")" })")
        for request in written {
            #expect(request["method"] as? String == system.method)
            #expect(request["path"] as? String == system.path)
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers[system.authHeader] == system.authValue, "\(system.authHeader): \(headers[system.authHeader] ?? "nil")")
            if system.mode == "redmine" { #expect(headers["x-skip-webhooks"] == "1") }
        }

        // A pull request opens: one more comment, naming it.
        try api.setSession(sessionID, status: "running", detail: "working",
                           pullRequests: [["pr_url": Self.prURL, "pr_state": "open"]])
        let first = try bridge.command(["retry"])
        outputs.add(first)
        #expect(first.exitCode == 0, "\(first.stdout) \(first.stderr)")
        var bodies = ticket.comments[system.key] ?? []
        #expect(bodies.count == 2, "\(first.stdout) \(bodies)")
        let prComment = bodies.count > 1 ? bodies[1] : ""
        #expect(prComment.contains(Self.prURL), "\(prComment)")
        #expect(prComment.contains(sessionURL), "\(prComment)")
        #expect(Self.matches(prComment, system.markerPattern), "\(prComment)")

        // The session ends: one "finished" comment.
        try api.setSession(sessionID, status: "exit")
        let second = try bridge.command(["retry"])
        outputs.add(second)
        #expect(second.exitCode == 0, "\(second.stdout) \(second.stderr)")
        bodies = ticket.comments[system.key] ?? []
        #expect(bodies.count == 3, "\(second.stdout) \(bodies)")
        let finished = bodies.count > 2 ? bodies[2] : ""
        #expect(finished.lowercased().contains("finished"), "\(finished)")
        #expect(finished.contains(Self.prURL), "\(finished)")

        // Nothing changed: nothing more to say.
        let third = try bridge.command(["retry"])
        outputs.add(third)
        #expect(third.exitCode == 0, "\(third.stdout) \(third.stderr)")
        let redelivered = try DialectProcessTests.send(test, bridge: bridge)
        outputs.add(redelivered)
        usleep(1_000_000)
        bodies = ticket.comments[system.key] ?? []
        #expect(bodies.count == 3, "\(third.stdout) \(bodies)")
        // Every comment carries its own marker.
        let markers = bodies.compactMap { body in
            body.range(of: "[0-9a-f]{16}", options: .regularExpression, range: body.range(of: "devin-bridge").map { $0.lowerBound..<body.endIndex })
                .map { String(body[$0]) }
        }
        #expect(Set(markers).count == 3, "\(markers)")
        #expect(Self.writes(ticket).count == 3)
        for request in Self.writes(ticket) {
            #expect(request["path"] as? String == system.path)
            #expect((request["headers"] as? [String: String])?[system.authHeader] == system.authValue)
        }
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - 2. Faults

    @Test("The ticketing system down: the webhook is answered at once, and retry --now posts the acknowledgement later")
    func ticketingSystemDown() throws {
        let api = try StandIn()
        defer { api.stop() }
        let outputs = Outputs()
        var bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": "http://127.0.0.1:9"])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.status == 200, "\(response.raw)")
        #expect(response.json["status"] as? String == "created")
        #expect(response.elapsed < 3, "answered after \(response.elapsed) s")

        // The worker tried and left it pending with a reason.
        #expect(Self.waitFor {
            let comments = (try? Self.statusComments(bridge, outputs: outputs)) ?? []
            return comments.first?["reason"] as? String != nil
        }, "the worker never tried")
        let pending = try Self.statusComments(bridge, outputs: outputs)
        #expect(pending.count == 1)
        #expect(pending.first?["event"] as? String == "started")
        #expect(pending.first?["state"] as? String == "pending", "\(pending)")
        #expect(pending.first?["next_attempt_at"] != nil)

        // The system is back (here: configured where it is); retry --now posts it, once.
        let ticket = try TicketStandIn(mode: "github")
        defer { ticket.stop() }
        bridge.configuration["TICKET_API_BASE"] = ticket.baseURL
        let retried = try bridge.command(["retry", "--now"])
        outputs.add(retried)
        #expect(retried.exitCode == 0, "\(retried.stdout) \(retried.stderr)")
        #expect(retried.stdout.contains("posted"), "\(retried.stdout)")
        #expect(ticket.comments[Self.github.key]?.count == 1, "\(ticket.comments)")
        let again = try bridge.command(["retry", "--now"])
        outputs.add(again)
        #expect(ticket.comments[Self.github.key]?.count == 1, "\(ticket.comments)")
        #expect(Self.writes(ticket).count == 1)
        let posted = try Self.statusComments(bridge, outputs: outputs)
        #expect(posted.first?["state"] as? String == "posted", "\(posted)")
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    @Test("429 with Retry-After: retry waits for it, retry --now posts once")
    func rateLimited() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github", fault: "429", failTimes: 1, retryAfter: "600")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created")
        #expect(Self.waitFor { Self.writes(ticket).count >= 1 }, "the worker never posted")
        #expect(Self.waitFor {
            ((try? Self.statusComments(bridge, outputs: outputs))?.first?["reason"] as? String)?.contains("429") == true
        })
        let pending = try Self.statusComments(bridge, outputs: outputs)
        #expect(pending.first?["state"] as? String == "pending", "\(pending)")
        // Due in about 600 s, as the system asked.
        if let next = pending.first?["next_attempt_at"] as? String, let date = Self.date(next) {
            let wait = date.timeIntervalSinceNow
            #expect(wait > 500 && wait <= 601, "next attempt in \(wait) s")
        } else {
            Issue.record("no next_attempt_at: \(pending)")
        }

        let early = try bridge.command(["retry"])
        outputs.add(early)
        #expect(Self.writes(ticket).count == 1, "retry posted before Retry-After: \(early.stdout)")
        #expect(ticket.comments.isEmpty, "\(ticket.comments)")

        let now = try bridge.command(["retry", "--now"])
        outputs.add(now)
        #expect(now.exitCode == 0, "\(now.stdout) \(now.stderr)")
        #expect(ticket.comments[Self.github.key]?.count == 1, "\(now.stdout) \(ticket.comments)")
        let after = try bridge.command(["retry", "--now"])
        outputs.add(after)
        #expect(ticket.comments[Self.github.key]?.count == 1)
        #expect(Self.writes(ticket).count == 2)
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    @Test("A deleted ticket (404): the comment fails with a reason, and is not posted again")
    func ticketDeleted() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github", fault: "404")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created")
        #expect(Self.waitFor { (try? Self.statusComments(bridge, outputs: outputs))?.first?["state"] as? String == "failed" },
                "\((try? Self.statusComments(bridge, outputs: outputs)) ?? [])")
        let failed = try Self.statusComments(bridge, outputs: outputs)
        let reason = failed.first?["reason"] as? String ?? ""
        #expect(reason.contains("404"), "\(failed)")
        #expect(!reason.isEmpty)
        let text = try bridge.command(["status"])
        outputs.add(text)
        #expect(text.stdout.contains("comment started: failed"), "\(text.stdout)")

        for arguments in [["retry"], ["retry", "--now"], ["retry", "--now"]] {
            outputs.add(try bridge.command(arguments))
        }
        #expect(Self.writes(ticket).count == 1, "posted again after a 404")
        #expect(ticket.comments.isEmpty)
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    @Test("A rejected token (401): the comment fails, the reason names TICKET_API_TOKEN")
    func tokenRejected() throws {
        let api = try StandIn()
        defer { api.stop() }
        // The stand-in accepts another token than the one the bridge has.
        let ticket = try TicketStandIn(mode: "github", token: "the-right-token-elsewhere-1234")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created")
        #expect(Self.waitFor { (try? Self.statusComments(bridge, outputs: outputs))?.first?["state"] as? String == "failed" })
        let failed = try Self.statusComments(bridge, outputs: outputs)
        let reason = failed.first?["reason"] as? String ?? ""
        #expect(reason.contains("TICKET_API_TOKEN"), "\(failed)")
        #expect(reason.contains("401"), "\(failed)")
        outputs.add(try bridge.command(["retry", "--now"]))
        #expect(Self.writes(ticket).count == 1)
        #expect(ticket.comments.isEmpty)
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    @Test("A post stored whose answer never came: retry --now finds it by its marker instead of posting again")
    func answerLost() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github", fault: "timeout-after-store", failTimes: 1, delay: 5)
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL, "DEVIN_TIMEOUT_SECONDS": "2"])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created")
        #expect(response.elapsed < 3)
        #expect(Self.waitFor(8) {
            ((try? Self.statusComments(bridge, outputs: outputs))?.first?["reason"] as? String) != nil
        }, "the worker never gave up on the answer")
        let pending = try Self.statusComments(bridge, outputs: outputs)
        #expect(pending.first?["state"] as? String == "pending", "\(pending)")
        #expect(ticket.comments[Self.github.key]?.count == 1)

        let retried = try bridge.command(["retry", "--now"])
        outputs.add(retried)
        #expect(retried.stdout.contains("found on the ticket"), "\(retried.stdout)")
        #expect(ticket.comments[Self.github.key]?.count == 1, "\(ticket.comments)")
        #expect(Self.writes(ticket).count == 1)
        let posted = try Self.statusComments(bridge, outputs: outputs)
        #expect(posted.first?["state"] as? String == "posted", "\(posted)")
        outputs.add(try bridge.command(["retry", "--now"]))
        #expect(ticket.comments[Self.github.key]?.count == 1)
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - 3. TICKET_COMMENTS

    @Test("TICKET_COMMENTS=off posts nothing at all")
    func commentsOff() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL, "TICKET_COMMENTS": "off"])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created")
        let sessionID = try #require(response.json["session_id"] as? String)
        usleep(2_000_000)
        try api.setSession(sessionID, status: "running", detail: "working", pullRequests: [["pr_url": Self.prURL, "pr_state": "open"]])
        outputs.add(try bridge.command(["retry"]))
        try api.setSession(sessionID, status: "exit")
        outputs.add(try bridge.command(["retry", "--now"]))
        #expect(ticket.requests.isEmpty, "\(ticket.requests.map { $0["path"] ?? "" })")
        #expect(ticket.comments.isEmpty)
        let status = try Self.statusJSON(bridge, outputs: outputs)
        #expect(status["ticket_comments"] as? String == "off")
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    @Test("TICKET_COMMENTS=ack posts the acknowledgement only")
    func commentsAckOnly() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL, "TICKET_COMMENTS": "ack"])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        let sessionID = try #require(response.json["session_id"] as? String)
        #expect(Self.waitFor { ticket.comments[Self.github.key]?.count == 1 })
        try api.setSession(sessionID, status: "running", detail: "working", pullRequests: [["pr_url": Self.prURL, "pr_state": "open"]])
        outputs.add(try bridge.command(["retry"]))
        try api.setSession(sessionID, status: "exit")
        outputs.add(try bridge.command(["retry", "--now"]))
        let bodies = ticket.comments[Self.github.key] ?? []
        #expect(bodies.count == 1, "\(bodies)")
        #expect(bodies.first?.contains("Devin is on it") == true)
        #expect(Self.writes(ticket).count == 1)
        // The session is still followed: its state is recorded even when the ticket hears nothing.
        let status = try bridge.command(["status"])
        outputs.add(status)
        #expect(status.stdout.contains(Self.prURL), "\(status.stdout)")
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - 4. Bugzilla's description

    @Test("Bugzilla: comment 0, read through the API, is the description in the session's prompt")
    func bugzillaDescription() throws {
        let api = try StandIn()
        defer { api.stop() }
        let description = "Saving a draft crashes the editor when the title holds an emoji (zq-31337)."
        let ticket = try TicketStandIn(mode: "bugzilla", description: description)
        defer { ticket.stop() }
        let outputs = Outputs()
        let system = Self.systems.first { $0.mode == "bugzilla" }!
        let test = system.dialect
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: test.extra.merging(["TICKET_API_BASE_BUGZILLA": ticket.baseURL]) { $1 })
        let response = try DialectProcessTests.send(test, bridge: bridge)
        outputs.add(response)
        #expect(response.json["status"] as? String == "created", "\(response.raw)")
        #expect(response.stderr.contains("description=fetched"), "\(response.stderr)")
        let prompt = (api.requests.first?["json"] as? [String: Any])?["prompt"] as? String ?? ""
        #expect(prompt.contains(description), "\(prompt)")
        let reads = ticket.requests.filter { $0["method"] as? String == "GET" }
        #expect(reads.first?["path"] as? String == "/rest/bug/5678/comment")
        #expect((reads.first?["headers"] as? [String: String])?["x-bugzilla-api-key"] == TestSecrets.ticketToken)

        // Without the API configured, the session starts without it.
        let api2 = try StandIn()
        defer { api2.stop() }
        let without = BridgeProcess(apiBase: api2.baseURL, extra: test.extra)
        let plain = try DialectProcessTests.send(test, bridge: without)
        outputs.add(plain)
        #expect(plain.json["status"] as? String == "created")
        let prompt2 = (api2.requests.first?["json"] as? [String: Any])?["prompt"] as? String ?? ""
        #expect(!prompt2.contains(description))
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - 5. status

    @Test("status shows the session's state, its pull request and the comments; status --json lists them per ticket")
    func status() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        let sessionID = try #require(response.json["session_id"] as? String)
        #expect(Self.waitFor { ticket.comments[Self.github.key]?.count == 1 })
        try api.setSession(sessionID, status: "running", detail: "working", pullRequests: [["pr_url": Self.prURL, "pr_state": "open"]])
        let retried = try bridge.command(["retry"])
        outputs.add(retried)
        #expect(retried.stdout.contains("comment  acme/shop#42 [pr:\(Self.prURL)]: posted"), "\(retried.stdout)")

        let text = try bridge.command(["status"])
        outputs.add(text)
        #expect(text.exitCode == 0)
        #expect(text.stdout.contains(sessionID))
        #expect(text.stdout.contains("session: running (working)"), "\(text.stdout)")
        #expect(text.stdout.contains("pull request: \(Self.prURL) (open)"), "\(text.stdout)")
        #expect(text.stdout.contains("comment started: posted"), "\(text.stdout)")
        #expect(text.stdout.contains("comment pr:\(Self.prURL): posted"), "\(text.stdout)")

        let document = try Self.statusJSON(bridge, outputs: outputs)
        #expect(document["ticket_comments"] as? String == "all")
        let sessions = document["sessions"] as? [[String: Any]] ?? []
        #expect(sessions.count == 1)
        let comments = sessions.first?["comments"] as? [[String: Any]] ?? []
        #expect(comments.map { $0["event"] as? String ?? "" } == ["started", "pr:\(Self.prURL)"], "\(comments)")
        #expect(comments.allSatisfy { $0["state"] as? String == "posted" && $0["posted_at"] != nil }, "\(comments)")
        let session = sessions.first?["session"] as? [String: Any] ?? [:]
        #expect(session["status"] as? String == "running", "\(sessions)")
        #expect(session["status_detail"] as? String == "working")
        let prs = session["pull_requests"] as? [[String: Any]] ?? []
        #expect(prs.first?["url"] as? String == Self.prURL, "\(session)")
        for list in ["queued", "failed"] {
            #expect((document[list] as? [Any])?.isEmpty == true)
        }
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - 6. The answer does not wait for the comment

    @Test("A ticketing system that never answers does not slow the webhook's answer")
    func answerNotSlowed() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github", fault: "timeout", delay: 30)
        defer { ticket.stop() }
        let outputs = Outputs()
        // The worker waits up to DEVIN_TIMEOUT_SECONDS for the stalled post: long, so that a CGI
        // process seen to end only when its worker does stands out from a slow machine.
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL, "DEVIN_TIMEOUT_SECONDS": "8"])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "created")
        // `elapsed` ends when Foundation's Process sees the CGI program end: it watches a socket
        // each child inherits, so a worker that keeps inherited descriptors open holds it too.
        #expect(response.elapsed < 3, "the CGI process was seen to end after \(response.elapsed) s (the worker kept an inherited descriptor open?)")
        // The worker is posting meanwhile (and stalls).
        #expect(Self.waitFor { Self.writes(ticket).count >= 1 }, "the worker never posted")
        outputs.expectNoSecrets(state: bridge.state.path)
    }

    // MARK: - Other session states

    @Test("Waiting for the user (each time), a suspension with its reason and an error each get one comment")
    func otherStates() throws {
        let api = try StandIn()
        defer { api.stop() }
        let ticket = try TicketStandIn(mode: "github")
        defer { ticket.stop() }
        let outputs = Outputs()
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TICKET_API_BASE": ticket.baseURL])
        let response = try DialectProcessTests.send(Self.github.dialect, bridge: bridge)
        outputs.add(response)
        let sessionID = try #require(response.json["session_id"] as? String)
        #expect(Self.waitFor { ticket.comments[Self.github.key]?.count == 1 })
        func step(_ status: String, _ detail: String?, expect count: Int, _ contains: String?, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try api.setSession(sessionID, status: status, detail: detail, clearDetail: detail == nil)
            let retried = try bridge.command(["retry"])
            outputs.add(retried)
            #expect(retried.exitCode == 0, "\(retried.stdout) \(retried.stderr)", sourceLocation: sourceLocation)
            let bodies = ticket.comments[Self.github.key] ?? []
            #expect(bodies.count == count, "\(status)/\(detail ?? "nil"): \(retried.stdout) \(bodies)", sourceLocation: sourceLocation)
            if let contains, bodies.count == count {
                #expect(bodies.last?.contains(contains) == true, "\(bodies.last ?? "")", sourceLocation: sourceLocation)
            }
        }
        try step("running", "waiting_for_user", expect: 2, "waiting for an answer")
        try step("running", "working", expect: 2, nil)
        try step("running", "waiting_for_user", expect: 3, "waiting for an answer")
        try step("running", "waiting_for_user", expect: 3, nil)
        try step("suspended", "inactivity", expect: 4, "inactivity")
        try step("resuming", nil, expect: 4, nil)
        try step("running", "some_new_detail", expect: 5, "some_new_detail")
        try step("error", nil, expect: 6, "error")
        // Ended: no longer polled, nothing more.
        try step("running", "waiting_for_user", expect: 6, nil)
        outputs.expectNoSecrets(state: bridge.state.path)
    }
}
