import Foundation
import Testing
@testable import DevinBridge

/// A GitHub-shaped ticketing API and a Devin list endpoint in one transport: comments posted are
/// kept (also when a fault loses the answer after storing), lists return them; session states are
/// set by the test.
final class FakeTicketSystem: HTTPTransport, @unchecked Sendable {
    enum Fault { case status(Int, retryAfter: String?), timeoutAfterStore, timeout, refused }
    private let lock = NSLock()
    private(set) var comments: [String] = []
    private(set) var sent: [HTTPRequest] = []
    var faults: [Fault] = []
    var listFault: Int?
    var sessions: [String: (status: String, detail: String?, prs: [String])] = [:]

    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        lock.lock()
        defer { lock.unlock() }
        sent.append(request)
        if request.url.contains("/v3/organizations/") {
            let items = sessions.map { id, state in
                ["session_id": id, "url": "https://app.devin.example/sessions/\(id)", "status": state.status,
                 "status_detail": state.detail as Any, "pull_requests": state.prs.map { ["pr_url": $0, "pr_state": "open"] }] as [String: Any]
            }
            return .success(HTTPResponse(status: 200, body: Array(try! JSONSerialization.data(withJSONObject: ["items": items]))))
        }
        if request.method == "GET" {
            if let listFault { return .success(HTTPResponse(status: listFault, body: Array("{}".utf8))) }
            let items = comments.enumerated().map { ["id": $0.offset + 1, "body": $0.element] as [String: Any] }
            return .success(HTTPResponse(status: 200, body: Array(try! JSONSerialization.data(withJSONObject: items))))
        }
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])?["body"] as? String ?? ""
        if !faults.isEmpty {
            switch faults.removeFirst() {
            case .status(let code, let retryAfter):
                return .success(HTTPResponse(status: code, headers: retryAfter.map { ["retry-after": $0] } ?? [:], body: Array("{}".utf8)))
            case .timeoutAfterStore:
                comments.append(body)
                return .failure(.timeout)
            case .timeout:
                return .failure(.timeout)
            case .refused:
                return .failure(.connection("connection refused"))
            }
        }
        comments.append(body)
        return .success(HTTPResponse(status: 201, body: Array(#"{"id":1}"#.utf8)))
    }

    var posts: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return sent.filter { $0.method == "POST" && !$0.url.contains("/v3/") } }
    var lists: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return sent.filter { $0.method == "GET" && !$0.url.contains("/v3/") } }
    var devinCalls: [HTTPRequest] { lock.lock(); defer { lock.unlock() }; return sent.filter { $0.url.contains("/v3/") } }
}

@Suite("Comments: the outbox, posting once, never lost")
struct OutboxTests {
    let system = FakeTicketSystem()
    let clock = SettableClock()
    let configuration: Configuration
    let store: FileStateStore

    init() throws {
        var configuration = makeConfiguration()
        configuration.ticketAPIBases = [.github: "https://api.github.example"]
        self.configuration = configuration
        store = try FileStateStore(directory: configuration.stateDirectory)
    }

    /// A created GitHub ticket with its session.
    func createdRecord(_ number: Int = 42, session: String = "ses_1") throws -> DeliveryRecord {
        let key = TicketKey(source: "github", ticket: "acme/shop#\(number)", label: "devin-autofix")
        var record = sampleRecord(key, state: .created, sessionID: session)
        record.request.tags = ["ticket:acme/shop#\(number)", "devin-bridge", key.tag(installationKey: try store.installationKey())]
        try store.write(record)
        return record
    }

    var poster: CommentPoster { CommentPoster(store: store, configuration: configuration, transport: system, clock: clock.clock) }
    var outbox: Outbox { Outbox(store: store, configuration: configuration, clock: clock.clock) }

    @Test("the acknowledgement is written once, posted once, with the session link, label and marker")
    func acknowledgementOnce() throws {
        let record = try createdRecord()
        let update = try #require(SessionSync.acknowledgement(for: record))
        let entry = try #require(try outbox.enqueue(update, for: record))
        #expect(try outbox.enqueue(update, for: record) == nil, "the same update is owed once")
        #expect(poster.postDue().map(\.1) == [.posted])
        #expect(poster.postDue().isEmpty)
        #expect(system.posts.count == 1)
        let body = try #require(system.comments.first)
        #expect(body.contains(record.url ?? "?"))
        #expect(body.contains("devin-autofix"))
        #expect(body.contains(entry.marker))
        #expect(system.posts.first?.url == "https://api.github.example/repos/acme/shop/issues/42/comments")
        #expect(try store.readOutbox(entry.id)?.state == .posted)
    }

    @Test("no API configured, or TICKET_COMMENTS=off: nothing is owed; ack: only the acknowledgement")
    func levels() throws {
        let record = try createdRecord()
        var off = configuration
        off.ticketComments = .off
        #expect(try Outbox(store: store, configuration: off, clock: clock.clock).enqueue(SessionSync.acknowledgement(for: record)!, for: record) == nil)
        var ack = configuration
        ack.ticketComments = .ack
        let pr = TicketUpdate.pullRequest(sessionURL: "https://app.devin.example/s", url: "https://github.example/pr/1")
        #expect(try Outbox(store: store, configuration: ack, clock: clock.clock).enqueue(pr, for: record) == nil)
        var none = configuration
        none.ticketAPIBases = [:]
        none.ticketAPIBase = nil
        #expect(try Outbox(store: store, configuration: none, clock: clock.clock).enqueue(pr, for: record) == nil)
    }

    @Test("a post whose answer was lost after the comment was stored is found, never posted twice")
    func lostAnswer() throws {
        let record = try createdRecord()
        system.faults = [.timeoutAfterStore]
        let entry = try #require(try outbox.enqueue(SessionSync.acknowledgement(for: record)!, for: record))
        guard case .pending = poster.postDue().first?.1 else { Issue.record("expected pending"); return }
        #expect(try store.readOutbox(entry.id)?.uncertain == true)
        clock.advance(3600)
        #expect(poster.postDue().map(\.1) == [.found])
        #expect(system.posts.count == 1)
        #expect(system.comments.count == 1)
        #expect(system.lists.count == 1)
    }

    @Test("a timeout before anything was stored: the look finds nothing, and the comment is posted once")
    func timeoutUnstored() throws {
        let record = try createdRecord()
        system.faults = [.timeout]
        _ = try outbox.enqueue(SessionSync.acknowledgement(for: record)!, for: record)
        _ = poster.postDue()
        clock.advance(3600)
        #expect(poster.postDue().map(\.1) == [.posted])
        #expect(system.comments.count == 1)
    }

    @Test("429 waits for Retry-After; down and 5xx back off; each is posted later, once")
    func backoff() throws {
        let record = try createdRecord()
        system.faults = [.status(429, retryAfter: "120"), .refused, .status(503, retryAfter: nil)]
        let entry = try #require(try outbox.enqueue(SessionSync.acknowledgement(for: record)!, for: record))
        _ = poster.postDue()
        let next = try #require(try store.readOutbox(entry.id)?.nextAttemptAt)
        #expect(next == testEpoch.addingTimeInterval(120))
        #expect(poster.postDue().isEmpty, "not due before Retry-After")
        for _ in 0..<2 {
            clock.advance(7200)
            _ = poster.postDue()
        }
        clock.advance(7200)
        #expect(poster.postDue().map(\.1) == [.posted])
        #expect(system.comments.count == 1)
    }

    @Test("a refusal fails the comment with a reason that says what to fix", arguments: [
        (401, "TICKET_API_TOKEN"), (403, "may not comment"), (404, "deleted"), (422, "HTTP 422"),
    ])
    func refusal(_ status: Int, _ words: String) throws {
        let record = try createdRecord()
        system.faults = [.status(status, retryAfter: nil)]
        let entry = try #require(try outbox.enqueue(SessionSync.acknowledgement(for: record)!, for: record))
        guard case .failed(let reason) = poster.postDue().first?.1 else { Issue.record("expected failed"); return }
        #expect(reason.contains(words))
        #expect(!reason.contains(FakeSecret.marker))
        #expect(try store.readOutbox(entry.id)?.state == .failed)
        clock.advance(86_400)
        #expect(poster.postDue().isEmpty)
        #expect(system.posts.count == 1)
    }

    @Test("the sync pass polls unfinished sessions in one call, owes one comment per change, stops after the end")
    func syncPass() throws {
        let first = try createdRecord(1, session: "ses_a")
        _ = try createdRecord(2, session: "ses_b")
        let sync = SessionSync(store: store, client: DevinClient(configuration: configuration, transport: system),
                               configuration: configuration, clock: clock.clock)
        system.sessions = ["ses_a": ("running", "working", []), "ses_b": ("running", "working", [])]
        var summary = sync.run()
        #expect(summary.polled == 2)
        #expect(summary.calls == 1)
        #expect(system.devinCalls.last?.url.contains("session_ids=ses_a") == true)
        #expect(system.devinCalls.last?.url.contains("session_ids=ses_b") == true)
        // The acknowledgements were owed (nobody wrote them at creation here), nothing else.
        #expect(store.allOutbox().map(\.event).sorted() == ["started", "started"])

        system.sessions["ses_a"] = ("running", "working", ["https://github.example/acme/shop/pull/9"])
        summary = sync.run()
        #expect(summary.comments == 1)
        system.sessions["ses_a"] = ("exit", nil, ["https://github.example/acme/shop/pull/9"])
        _ = sync.run()
        let events = Outbox(store: store, configuration: configuration, clock: clock.clock).entries(forKey: first.key).map(\.event)
        #expect(events == ["started", "pr:https://github.example/acme/shop/pull/9", "finished"])
        #expect(try store.read(first.key)?.session?.ended == true)
        let calls = system.devinCalls.count
        system.sessions["ses_b"] = ("exit", nil, [])
        _ = sync.run()
        _ = sync.run()
        #expect(system.devinCalls.count == calls + 1, "ended sessions are not polled again")
        #expect(poster.postDue().allSatisfy { $0.1 == .posted })
        #expect(system.comments.count == 5)
    }

    @Test("polling never outlives RETENTION_DAYS")
    func retention() throws {
        _ = try createdRecord(3, session: "ses_old")
        system.sessions = ["ses_old": ("running", "working", [])]
        clock.advance(Double(configuration.retentionDays + 1) * 86_400)
        let summary = SessionSync(store: store, client: DevinClient(configuration: configuration, transport: system),
                                  configuration: configuration, clock: clock.clock).run()
        #expect(summary.polled == 0)
        #expect(system.devinCalls.isEmpty)
    }
}

@Suite("The handler owes the ticket its comments")
struct HandlerCommentTests {
    @Test("a created session owes the acknowledgement and asks for it to be posted after the answer; a skip touches nothing")
    func followUp() throws {
        var configuration = makeConfiguration()
        configuration.ticketAPIBases = [.github: "https://api.github.example"]
        let body = Array(#"{"action":"opened","issue":{"number":42,"title":"t","labels":[{"name":"devin-autofix"}]},"repository":{"full_name":"acme/shop"}}"#.utf8)
        func send(_ body: [UInt8]) -> Outcome {
            let handler = Handler(report: makeReport(configuration), transport: RecordingTransport.created(),
                                  clock: SteppingClock(stepMilliseconds: 1).clock)
            return handler.handle(CGIRequestHead(environment: [
                "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.count),
                "HTTP_X_GITHUB_EVENT": "issues", "HTTP_X_HUB_SIGNATURE_256": signature(body.text),
            ]), readBody: ByteSource(body).read)
        }
        let created = send(body)
        #expect(created.log["decision"] == "created")
        let key = try #require(created.postCommentsFor)
        let store = try FileStateStore(directory: configuration.stateDirectory)
        #expect(store.allOutbox().map(\.event) == ["started"])
        #expect(store.allOutbox().first?.key == key)
        // A redelivery while it is pending asks again; nothing new is owed.
        #expect(send(body).postCommentsFor == key)
        #expect(store.allOutbox().count == 1)
        // A skipped event: no follow-up, no new file.
        let skipped = Array(#"{"action":"closed","issue":{"number":43,"title":"t","labels":[]},"repository":{"full_name":"acme/shop"}}"#.utf8)
        let before = try FileManager.default.subpathsOfDirectory(atPath: configuration.stateDirectory).sorted()
        let outcome = send(skipped)
        #expect(outcome.log["decision"] == "skipped")
        #expect(outcome.postCommentsFor == nil)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: configuration.stateDirectory).sorted() == before)
    }
}
