import Foundation
import Testing
@testable import DevinBridge

@Suite("Devin API client")
struct DevinClientTests {
    let ticket = Ticket(id: "PROJ-123", title: "Crash on save", description: "It crashes.", labels: ["devin-autofix"])

    func client(_ transport: RecordingTransport, timeout: Double = 7.5, apiBase: String = "https://api.devin.example") -> DevinClient {
        DevinClient(apiBase: apiBase, orgID: "org-test123", apiKey: Secret(FakeSecret.apiKey),
                    timeout: timeout, transport: transport)
    }

    func sessionRequest(configuration: Configuration = makeConfiguration(),
                        trigger: TriggerLabel = TriggerLabel("devin-autofix", playbookID: "playbook-autofix1")) -> SessionCreateRequest {
        Handler.sessionRequest(for: ticket, trigger: trigger, adoptionTag: "devin-bridge:0123456789abcdef0123456789abcdef",
                               configuration: configuration)
    }

    /// The error `createSession` throws when the API answers `response`.
    func failure(_ result: Result<HTTPResponse, TransportError>) -> BridgeError? {
        bridgeError { try client(RecordingTransport(result)).createSession(sessionRequest()) }
    }

    func failure(status: Int, body: String = "", headers: [String: String] = [:]) -> BridgeError? {
        failure(.success(HTTPResponse(status: status, headers: headers, body: Array(body.utf8))))
    }

    // MARK: - The request

    @Test("the session is created with one POST to the org's sessions URL, authenticated")
    func requestLine() throws {
        let transport = RecordingTransport.created()
        _ = try client(transport).createSession(sessionRequest())
        let request = try #require(transport.requests.first)
        #expect(transport.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.url == "https://api.devin.example/v3/organizations/org-test123/sessions")
        #expect(request.headers["Authorization"] == "Bearer \(FakeSecret.apiKey)")
        #expect(request.headers["Content-Type"] == "application/json")
        #expect(request.headers["Accept"] == "application/json")
        #expect(transport.timeouts == [7.5])
    }

    @Test("the org id is percent-encoded into the path")
    func orgIDEncoded() {
        let client = DevinClient(apiBase: "http://127.0.0.1:8080", orgID: "org a/b", apiKey: Secret("k"),
                                 timeout: 1, transport: RecordingTransport.created())
        #expect(client.sessionsURL == "http://127.0.0.1:8080/v3/organizations/org%20a%2Fb/sessions")
    }

    @Test("the client made from a configuration uses its base, org, key and timeout")
    func fromConfiguration() throws {
        let transport = RecordingTransport.created()
        let configuration = makeConfiguration(apiBase: "http://localhost:9999", timeout: 3)
        _ = try DevinClient(configuration: configuration, transport: transport).createSession(sessionRequest())
        #expect(transport.requests.first?.url == "http://localhost:9999/v3/organizations/org-test123/sessions")
        #expect(transport.requests.first?.headers["Authorization"] == "Bearer \(FakeSecret.apiKey)")
        #expect(transport.timeouts == [3])
    }

    @Test("the JSON body carries prompt, title, tags, playbook and the ticket token as a sensitive session secret")
    func body() throws {
        let transport = RecordingTransport.created()
        _ = try client(transport).createSession(sessionRequest())
        let request = try #require(transport.requests.first)
        let object = try jsonObject(request.body)
        #expect(Set(object.keys) == ["prompt", "title", "tags", "playbook_id", "session_secrets"])
        let prompt = try #require(object["prompt"] as? String)
        #expect(prompt.contains("PROJ-123"))
        #expect(prompt.contains("It crashes."))
        #expect(object["title"] as? String == "PROJ-123: Crash on save")
        let tags = try #require(object["tags"] as? [String])
        #expect(tags.contains("ticket:PROJ-123"))
        #expect(tags.contains("devin-autofix"))
        #expect(object["playbook_id"] as? String == "playbook-autofix1")
        let secrets = try #require(object["session_secrets"] as? [[String: Any]])
        #expect(secrets.count == 1)
        #expect(secrets.first?["key"] as? String == "TICKET_API_TOKEN")
        #expect(secrets.first?["value"] as? String == FakeSecret.ticketToken)
        // JSONSerialization turns JSON true into an NSNumber; a Bool cast needs a real boolean.
        #expect(secrets.first?["sensitive"] as? Bool == true)
        #expect(String(decoding: request.body, as: UTF8.self).contains(#""sensitive":true"#))
    }

    @Test("playbook_id is absent when the label has no playbook; session_secrets absent without a token")
    func optionalFields() throws {
        let transport = RecordingTransport.created()
        let request = sessionRequest(configuration: makeConfiguration(ticketToken: nil), trigger: TriggerLabel("devin-feature"))
        _ = try client(transport).createSession(request)
        let object = try jsonObject(try #require(transport.requests.first).body)
        #expect(Set(object.keys) == ["prompt", "title", "tags"])
        #expect((object["tags"] as? [String])?.contains("devin-feature") == true)
    }

    @Test("the request body decodes back to the SessionCreateRequest it came from")
    func bodyRoundTrip() throws {
        let request = sessionRequest()
        let http = client(RecordingTransport.created()).createSessionRequest(request)
        #expect(try JSONDecoder().decode(SessionCreateRequest.self, from: Data(http.body)) == request)
    }

    @Test("masked hides session secret values and nothing else")
    func masked() {
        let request = sessionRequest()
        let masked = request.masked
        #expect(masked.session_secrets == [.init(key: "TICKET_API_TOKEN", value: "********", sensitive: true)])
        #expect(masked.prompt == request.prompt)
        #expect(masked.tags == request.tags)
        #expect(sessionRequest(configuration: makeConfiguration(ticketToken: nil)).masked.session_secrets == nil)
    }

    // MARK: - The answer

    @Test("200 and 201 with a session_id and url are a created session", arguments: [200, 201])
    func created(_ status: Int) throws {
        let transport = RecordingTransport(status: status, json: #"{"session_id":"sess-42","url":"https://app.devin.ai/sessions/42","status":"new"}"#)
        let session = try client(transport).createSession(sessionRequest())
        #expect(session == CreatedSession(sessionID: "sess-42", url: "https://app.devin.ai/sessions/42"))
    }

    @Test("a 200 without a usable session_id and url is upstreamBadResponse", arguments: [
        #"{"url":"https://app.devin.ai/sessions/42"}"#,
        #"{"session_id":"sess-42"}"#,
        #"{"session_id":"","url":"https://app.devin.ai/sessions/42"}"#,
        #"{"session_id":42,"url":"https://app.devin.ai/sessions/42"}"#,
        "",
        "<html>gateway</html>",
    ])
    func createdWithoutSession(_ body: String) {
        let error = failure(status: 200, body: body)
        #expect(error == .upstreamBadResponse("HTTP 200 without a session_id and url"))
        #expect(error?.status == .badGateway)
    }

    @Test("401, 403 and 404 are upstreamRejected with a detail saying what to check", arguments: [
        (401, "DEVIN_API_KEY"), (403, "ManageOrgSessions"), (404, "DEVIN_ORG_ID"),
    ])
    func rejected(_ status: Int, _ hint: String) throws {
        let error = try #require(failure(status: status, body: #"{"detail":"nope"}"#))
        guard case .upstreamRejected(let got, let detail) = error else {
            Issue.record("expected upstreamRejected, got \(error)")
            return
        }
        #expect(got == status)
        #expect(detail.contains(hint))
        #expect(error.status == .badGateway)
        #expect(error.message.hasSuffix("(HTTP \(status))."))
        #expect(!error.message.contains(FakeSecret.apiKey))
    }

    @Test("other 4xx are upstreamRejected too", arguments: [400, 409, 418])
    func otherClientErrors(_ status: Int) {
        #expect(failure(status: status) == .upstreamRejected(status: status, detail: "Devin refused the session request"))
    }

    @Test("422 is summarised from loc and msg, never from the echoed input")
    func validationError() throws {
        let body = """
            {"detail":[
              {"loc":["body","session_secrets",0,"value"],"msg":"String should have at most 65536 characters","type":"string_too_long","input":"sekrit-INPUT-value-999"},
              {"loc":["body","prompt"],"msg":"Field required","type":"missing","input":{"token":"sekrit-INPUT-value-999"}}
            ]}
            """
        let error = try #require(failure(status: 422, body: body))
        #expect(error == .upstreamRejected(
            status: 422,
            detail: "Devin refused the session request as invalid: session_secrets.0.value: String should have at most 65536 characters; prompt: Field required"))
        #expect(!error.message.contains("sekrit"))
        #expect(!error.logDetail.contains("sekrit"))
    }

    @Test("a 422 summary keeps at most three items, one line each")
    func validationSummaryCapped() {
        let items = (1...5).map { #"{"loc":["body","f\#($0)"],"msg":"bad\nvalue \#($0)"}"# }.joined(separator: ",")
        let summary = DevinClient.validationSummary(Array(#"{"detail":[\#(items)]}"#.utf8))
        #expect(summary == ": f1: bad value 1; f2: bad value 2; f3: bad value 3")
    }

    @Test("a 422 without the documented detail list says only that it was invalid", arguments: [
        "", "not json", #"{"detail":"bad"}"#, #"{"detail":[]}"#,
    ])
    func validationWithoutDetail(_ body: String) {
        #expect(failure(status: 422, body: body) == .upstreamRejected(status: 422, detail: "Devin refused the session request as invalid"))
    }

    @Test("429 is upstreamRateLimited, repeating a sane Retry-After", arguments: [
        ([String: String](), nil),
        (["Retry-After": "120"], "120"),
        (["retry-after": " 30 "], "30"),
        (["Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"], "Wed, 21 Oct 2026 07:28:00 GMT"),
        (["Retry-After": "30\r\nX-Injected: yes"], nil),
        (["Retry-After": "<script>"], nil),
        (["Retry-After": String(repeating: "9", count: 41)], nil),
    ] as [([String: String], String?)])
    func rateLimited(_ headers: [String: String], _ retryAfter: String?) {
        let error = failure(status: 429, headers: headers)
        #expect(error == .upstreamRateLimited(retryAfter: retryAfter))
        #expect(error?.status == .badGateway)
        #expect(error?.isRetryable == true)
    }

    @Test("5xx is upstreamServerError with the status", arguments: [500, 502, 503, 504, 599])
    func serverError(_ status: Int) {
        let error = failure(status: status, body: "<html>oops</html>")
        #expect(error == .upstreamServerError(status: status))
        #expect(error?.status == .badGateway)
    }

    @Test("a status that is neither success nor error is upstreamBadResponse", arguments: [204, 301, 304, 101])
    func oddStatus(_ status: Int) {
        #expect(failure(status: status) == .upstreamBadResponse("unexpected HTTP \(status)"))
    }

    @Test("a transport timeout is upstreamTimeout with the configured seconds (504)")
    func timeout() {
        let error = failure(.failure(.timeout))
        #expect(error == .upstreamTimeout(seconds: 7.5))
        #expect(error?.status == .gatewayTimeout)
        #expect(error?.message == "The Devin API did not answer within 7.5 s (DEVIN_TIMEOUT_SECONDS).")
    }

    @Test("a connection failure is upstreamUnreachable with the reason (502)")
    func unreachable() {
        let error = failure(.failure(.connection("connection refused")))
        #expect(error == .upstreamUnreachable("connection refused"))
        #expect(error?.status == .badGateway)
        #expect(error?.message == "The Devin API could not be reached: connection refused.")
    }

    @Test("HTTPResponse lower-cases header names")
    func responseHeaders() {
        let response = HTTPResponse(status: 429, headers: ["Retry-After": "5", "X-Thing": "y"])
        #expect(response.headers == ["retry-after": "5", "x-thing": "y"])
    }
}
