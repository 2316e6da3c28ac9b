import Foundation
import Testing
@testable import DevinBridge

/// A Devin API and a GitHub API in one transport, for the comment paths of the handler.
final class TwoWayTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var sent: [HTTPRequest] = []
    var messageStatus = 200
    private var sessions = 0

    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        lock.lock()
        defer { lock.unlock() }
        sent.append(request)
        if request.url.hasSuffix("/user") { return .success(HTTPResponse(status: 200, body: Array(#"{"login":"bridge-bot"}"#.utf8))) }
        if request.url.hasSuffix("/messages") { return .success(HTTPResponse(status: messageStatus, body: Array("{}".utf8))) }
        if request.method == "POST", request.url.hasSuffix("/sessions") {
            sessions += 1
            return .success(HTTPResponse(status: 200, body: Array(#"{"session_id":"ses_\#(sessions)","url":"https://app.devin.example/sessions/ses_\#(sessions)"}"#.utf8)))
        }
        return .success(HTTPResponse(status: 201, body: Array("{}".utf8)))
    }

    var messages: [String] {
        lock.lock(); defer { lock.unlock() }
        return sent.filter { $0.url.hasSuffix("/messages") }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any])?["message"] as? String }
    }
    var creates: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return sent.filter { $0.method == "POST" && $0.url.hasSuffix("/sessions") } }
}

@Suite("Comments and assignments through the handler")
struct CommentHandlingTests {
    let transport = TwoWayTransport()
    var configuration: Configuration = {
        var configuration = makeConfiguration()
        configuration.ticketAPIBases = [.github: "https://api.github.example"]
        configuration.comments.handle = "devin-bot"
        configuration.comments.commands = ["plan": "playbook-plan0001"]
        configuration.comments.assignees = ["devin-bot"]
        return configuration
    }()

    func send(_ fixture: String, event: String, edit: ((inout [String: Any]) -> Void)? = nil) throws -> Outcome {
        var object = try JSONSerialization.jsonObject(with: Data(try WebhookFixture.bytes(fixture))) as! [String: Any]
        edit?(&object)
        let body = Array(try JSONSerialization.data(withJSONObject: object))
        let handler = Handler(report: makeReport(configuration), transport: transport, clock: SteppingClock(stepMilliseconds: 1).clock)
        return handler.handle(CGIRequestHead(environment: [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count),
            "HTTP_X_GITHUB_EVENT": event, "HTTP_X_HUB_SIGNATURE_256": signature(body.text),
        ]), readBody: ByteSource(body).read)
    }

    func comment(_ body: String, author: String = "alice", association: String = "MEMBER", id: Int = 3001000001) -> (inout [String: Any]) -> Void {
        { object in
            var comment = object["comment"] as! [String: Any]
            comment["body"] = body
            comment["id"] = id
            comment["author_association"] = association
            comment["user"] = ["login": author, "type": "User"]
            object["comment"] = comment
        }
    }

    @Test("a mention on a ticket with a session is forwarded once; without a session it starts one with the comment as the request")
    func forwardAndStart() throws {
        // No session yet: the mention starts one, with the command's playbook.
        let started = try send("github-issue-comment-created", event: "issue_comment", edit: comment("@devin-bot plan the refactor"))
        #expect(started.log["decision"] == "created")
        #expect(started.log["label"] == CommentRules.mentionLabel)
        let create = try jsonObject(try #require(transport.creates.first).body)
        #expect(create["playbook_id"] as? String == "playbook-plan0001")
        #expect((create["prompt"] as? String)?.contains("The request (a comment by alice on the ticket):\n@devin-bot plan the refactor") == true)
        // Its redelivery is neither a second session nor a reply.
        let again = try send("github-issue-comment-created", event: "issue_comment", edit: comment("@devin-bot plan the refactor"))
        #expect(again.log["decision"] == "duplicate")
        #expect(transport.creates.count == 1 && transport.messages.isEmpty)
        // A later mention is a reply to that session.
        let reply = try send("github-issue-comment-created", event: "issue_comment", edit: comment("@devin-bot use the v2 API", id: 3001000002))
        #expect(reply.log["decision"] == "forwarded")
        #expect(reply.log["session"] == "ses_1")
        #expect(transport.messages.count == 1)
        #expect(transport.messages.first?.contains("use the v2 API") == true)
        #expect(try jsonObject(reply.response.body)["status"] as? String == "forwarded")
        // Without a mention: skipped, with the reason.
        let chatter = try send("github-issue-comment-created", event: "issue_comment", edit: comment("thanks all", id: 3001000003))
        #expect(chatter.log["decision"] == "skipped")
        #expect(chatter.log["reason"]?.contains("FORWARD_COMMENTS") == true)
        #expect(transport.messages.count == 1)
    }

    @Test("loops and outsiders: the bridge's marker, the token's user, a NONE association: skipped, nothing sent", arguments: [
        ("Devin is on it <!-- devin-bridge:0123456789abcdef --> @devin-bot", "alice", "MEMBER", "the bridge's own comment"),
        ("@devin-bot I pushed a fix", "bridge-bot", "MEMBER", "ticketing token's user"),
        ("@devin-bot delete everything", "mallory", "NONE", "NONE"),
    ])
    func refused(_ body: String, _ author: String, _ association: String, _ reason: String) throws {
        let outcome = try send("github-issue-comment-created", event: "issue_comment", edit: comment(body, author: author, association: association))
        #expect(outcome.log["decision"] == "skipped")
        #expect(outcome.log["reason"]?.contains(reason) == true, "\(outcome.log)")
        #expect(transport.creates.isEmpty && transport.messages.isEmpty)
    }

    @Test("an assignment to ASSIGNEES starts a session; to someone else it is skipped naming ASSIGNEES")
    func assignment() throws {
        let other = try send("github-issues-assigned", event: "issues") { object in object["assignee"] = ["login": "carol"] }
        #expect(other.log["decision"] == "skipped")
        #expect(other.log["reason"]?.contains("ASSIGNEES") == true)
        let mine = try send("github-issues-assigned", event: "issues") { object in object["assignee"] = ["login": "devin-bot"] }
        #expect(mine.log["decision"] == "created")
        #expect(mine.log["label"] == CommentRules.assignmentLabel)
        #expect(transport.creates.count == 1)
    }

    @Test("every decision on a signed request is kept; why answers from it")
    func decisionLog() throws {
        _ = try send("github-issue-comment-created", event: "issue_comment", edit: comment("hello", id: 3001000009))
        _ = try send("github-issue-comment-created", event: "issue_comment", edit: comment("@devin-bot go", id: 3001000010))
        let entries = DecisionLog.entries(for: "acme/shop#42", directory: configuration.stateDirectory)
        #expect(entries.map(\.decision) == ["skipped", "created"])
        #expect(entries.first?.reason?.contains("does not mention") == true)
        let why = AdminCommands.why("acme/shop#42", configuration: configuration)
        #expect(why.stdout.contains("skipped [comment 3001000009]"))
        #expect(why.stdout.contains("created [comment 3001000010]"))
        #expect(why.stdout.contains("[@mention] created ses_1"))
        #expect(AdminCommands.why("acme/shop#999", configuration: configuration).stdout.contains("no delivery"))
    }
}

/// Answers by URL: a closure per request.
final class RoutedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var sent: [HTTPRequest] = []
    let route: @Sendable (HTTPRequest) -> HTTPResponse
    init(_ route: @escaping @Sendable (HTTPRequest) -> HTTPResponse) { self.route = route }
    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        lock.lock(); sent.append(request); lock.unlock()
        return .success(route(request))
    }
}

@Suite("Bugzilla's private comments")
struct BugzillaPrivateCommentTests {
    @Test("a private comment's text, left out of the webhook, is read through the API before the decision")
    func privateComment() throws {
        var configuration = makeConfiguration()
        configuration.ticketAPIBases = [.bugzilla: "https://bugzilla.example.com"]
        configuration.comments.apiUser = "bridge-bot@example.com"
        let transport = RoutedTransport { request in
            if request.url.hasSuffix("/rest/bug/5678/comment") {
                return HTTPResponse(status: 200, body: Array(#"{"bugs":{"5678":{"comments":[{"id":90,"count":0,"text":"Crashes for empty months."},{"id":100,"count":4,"text":"@devin please cover February too"}]}}}"#.utf8))
            }
            if request.url.hasSuffix("/sessions") {
                return HTTPResponse(status: 200, body: Array(#"{"session_id":"ses_b","url":"https://app.devin.example/sessions/ses_b"}"#.utf8))
            }
            return HTTPResponse(status: 201, body: Array("{}".utf8))
        }
        let body = try WebhookFixture.bytes("bugzilla-comment-create-private")
        let handler = Handler(report: makeReport(configuration), transport: transport, clock: SteppingClock(stepMilliseconds: 1).clock)
        let outcome = handler.handle(CGIRequestHead(environment: [
            "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count), "PATH_INFO": "/bugzilla",
            "HTTP_X_HUB_SIGNATURE_256": signature(body.text),
        ]), readBody: ByteSource(body).read)
        #expect(outcome.log["decision"] == "created", "\(outcome.log)")
        let create = try #require(transport.sent.first { $0.url.hasSuffix("/sessions") })
        let prompt = try #require(try jsonObject(create.body)["prompt"] as? String)
        #expect(prompt.contains("@devin please cover February too"))
        #expect(prompt.contains("Crashes for empty months."))
    }
}
