import Foundation
import Testing
@testable import DevinBridge

@Suite("Request handling")
struct HandlerTests {
    static let triggered = #"{"id":"PROJ-123","title":"Crash on save","description":"It crashes.","labels":["bug","devin-autofix"]}"#
    static let untriggered = #"{"id":"PROJ-124","title":"Question","labels":["question"]}"#
    static let delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958"

    /// A handler over `configuration` (or `report`), answering API calls from `transport`, whose
    /// requests always take 7 ms.
    func handler(_ configuration: Configuration = makeConfiguration(), report: ConfigurationReport? = nil,
                 transport: RecordingTransport) -> Handler {
        Handler(report: report ?? makeReport(configuration), transport: transport,
                clock: SteppingClock(stepMilliseconds: 7).clock, version: "9.9.9-test")
    }

    /// Runs one request as a web server would pass it: environment plus body.
    func run(_ handler: Handler, method: String = "POST", body: String = Self.triggered,
             signatureHeader: String? = "HTTP_X_HUB_SIGNATURE_256", signature: String? = nil,
             environment extra: [String: String] = [:]) -> Outcome {
        var environment = [
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": method,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": String(body.utf8.count),
            "HTTP_X_GITHUB_DELIVERY": Self.delivery,
        ]
        if let signatureHeader { environment[signatureHeader] = signature ?? DevinBridgeTests.signature(body) }
        environment.merge(extra) { $1 }
        let source = ByteSource(body, pieceSizes: [3, 5000])
        let outcome = handler.handle(CGIRequestHead(environment: environment), readBody: source.read)
        #expect(source.remaining == 0, "the body was not drained")
        return outcome
    }

    func body(_ outcome: Outcome) throws -> [String: Any] {
        try jsonObject(outcome.response.body)
    }

    // MARK: - Created, skipped

    @Test("a signed ticket with a trigger label creates exactly one session")
    func created() throws {
        let transport = RecordingTransport.created(sessionID: "sess-0001", url: "https://app.devin.ai/sessions/0001")
        let outcome = run(handler(transport: transport))
        #expect(outcome.response.status == .ok)
        let object = try body(outcome)
        #expect(object["status"] as? String == "created")
        #expect(object["ticket"] as? String == "PROJ-123")
        #expect(object["label"] as? String == "devin-autofix")
        #expect(object["session_id"] as? String == "sess-0001")
        #expect(object["url"] as? String == "https://app.devin.ai/sessions/0001")
        #expect(outcome.response.headers.first { $0.0 == "Content-Type" }?.1 == "application/json")
        #expect(transport.requests.count == 1)

        let request = try #require(transport.requests.first)
        #expect(request.url == "https://api.devin.example/v3/organizations/org-test123/sessions")
        let sent = try jsonObject(request.body)
        #expect(sent["playbook_id"] as? String == "playbook-autofix1")
        #expect((sent["tags"] as? [String])?.contains("ticket:PROJ-123") == true)
        // The ticket token goes to Devin as a session secret: the one place it may appear.
        #expect(request.body.text.contains(FakeSecret.ticketToken))
    }

    @Test("the log line of a created session names the ticket, decision, status, time and delivery")
    func createdLogLine() {
        let outcome = run(handler(transport: RecordingTransport.created(sessionID: "sess-0001")))
        let log = outcome.log
        #expect(log["method"] == "POST")
        #expect(log["delivery"] == Self.delivery)
        #expect(log["ticket"] == "PROJ-123")
        #expect(log["label"] == "devin-autofix")
        #expect(log["decision"] == "created")
        #expect(log["session"] == "sess-0001")
        #expect(log["status"] == "200")
        #expect(Int(log["elapsed_ms"] ?? "") != nil)
        #expect(log.description.hasPrefix("devin-bridge: method=POST delivery=\(Self.delivery) "))
        #expect(log.description.contains(" ticket=PROJ-123 "))
        #expect(log.description.hasSuffix(" status=200 elapsed_ms=\(log["elapsed_ms"] ?? "")"))
    }

    @Test("a signed ticket without a trigger label is skipped with a 200 and no API call")
    func skipped() throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), body: Self.untriggered)
        #expect(outcome.response.status == .ok)
        let object = try body(outcome)
        #expect(object["status"] as? String == "skipped")
        #expect(object["ticket"] as? String == "PROJ-124")
        #expect(object["reason"] as? String == "no trigger label (looking for devin-autofix, devin-feature)")
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["decision"] == "skipped")
        #expect(outcome.log["ticket"] == "PROJ-124")
        #expect(outcome.log["status"] == "200")
    }

    @Test("a label without a playbook creates a session without playbook_id")
    func labelWithoutPlaybook() throws {
        let transport = RecordingTransport.created()
        let body = #"{"id":7,"title":"Add export","labels":[{"name":"Devin-Feature"}]}"#
        let outcome = run(handler(transport: transport), body: body)
        #expect(outcome.response.status == .ok)
        #expect(outcome.log["label"] == "devin-feature")
        let sent = try jsonObject(try #require(transport.requests.first).body)
        #expect(sent["playbook_id"] == nil)
        #expect((sent["tags"] as? [String])?.contains("ticket:7") == true)
    }

    // MARK: - Refusals before the API

    @Test("a request without a signature is 401 missing_signature, with no API call")
    func missingSignature() throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), signatureHeader: nil)
        #expect(outcome.response.status == .unauthorized)
        #expect(try body(outcome)["error"] as? String == "missing_signature")
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["decision"] == "rejected")
        #expect(outcome.log["error"] == "missing_signature")
        #expect(outcome.log["status"] == "401")
    }

    @Test("a wrong signature is 401 bad_signature, with no API call", arguments: [
        signature(HandlerTests.triggered, secret: "another-webhook-secret"),
        signature(HandlerTests.untriggered),
        "sha256=",
        "sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0",
    ])
    func badSignature(_ value: String) throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), signature: value)
        #expect(outcome.response.status == .unauthorized)
        #expect(try body(outcome)["error"] as? String == "bad_signature")
        #expect(transport.requests.isEmpty)
    }

    @Test("the signature is checked before the body is parsed: unsigned garbage is 401, not 400")
    func signatureBeforeParsing() throws {
        let outcome = run(handler(transport: RecordingTransport.created()), body: "not json", signature: "sha256=" + String(repeating: "0", count: 64))
        #expect(outcome.response.status == .unauthorized)
    }

    @Test("X-Hub-Signature and X-Signature are accepted too", arguments: ["HTTP_X_HUB_SIGNATURE", "HTTP_X_SIGNATURE"])
    func otherSignatureHeaders(_ header: String) {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), signatureHeader: header)
        #expect(outcome.response.status == .ok)
        #expect(transport.requests.count == 1)
    }

    @Test("a signed body that is not JSON is 400 invalid_json")
    func badJSON() throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), body: "{not json")
        #expect(outcome.response.status == .badRequest)
        #expect(try body(outcome)["error"] as? String == "invalid_json")
        #expect(transport.requests.isEmpty)
    }

    @Test("a signed ticket without a title is 400 missing_field naming title")
    func missingTitle() throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), body: #"{"id":"PROJ-1","labels":["devin-autofix"]}"#)
        #expect(outcome.response.status == .badRequest)
        let object = try body(outcome)
        #expect(object["error"] as? String == "missing_field")
        #expect((object["message"] as? String)?.contains(#""title""#) == true)
        #expect(outcome.log["reason"]?.contains("title") == true)
        #expect(transport.requests.isEmpty)
    }

    @Test("a method other than POST, GET or HEAD is 405 with Allow: POST", arguments: ["PUT", "DELETE", "PATCH", "OPTIONS"])
    func methodNotAllowed(_ method: String) throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), method: method)
        #expect(outcome.response.status == .methodNotAllowed)
        #expect(outcome.response.headers.contains { $0 == ("Allow", "POST") })
        #expect(try body(outcome)["error"] as? String == "method_not_allowed")
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["method"] == method)
    }

    @Test("405 comes before the configuration check")
    func methodBeforeConfiguration() throws {
        let report = try loadFromEnvironment([:])
        let outcome = run(handler(report: report, transport: RecordingTransport.created()), method: "PUT")
        #expect(outcome.response.status == .methodNotAllowed)
    }

    @Test("a body over MAX_BODY_BYTES is 413, after draining it")
    func payloadTooLarge() throws {
        let transport = RecordingTransport.created()
        let big = #"{"id":"1","title":"t","description":"\#(String(repeating: "x", count: 5000))","labels":["devin-autofix"]}"#
        let outcome = run(handler(makeConfiguration(maxBodyBytes: 1000), transport: transport), body: big)
        #expect(outcome.response.status == .payloadTooLarge)
        #expect(try body(outcome)["error"] as? String == "payload_too_large")
        #expect(transport.requests.isEmpty)
    }

    @Test("a body that ends early is 400 body_truncated")
    func truncatedBody() throws {
        let outcome = run(handler(transport: RecordingTransport.created()), environment: ["CONTENT_LENGTH": "100000"])
        #expect(outcome.response.status == .badRequest)
        #expect(try body(outcome)["error"] as? String == "body_truncated")
    }

    @Test("a bad CONTENT_LENGTH is 400 bad_content_length")
    func badContentLength() throws {
        let outcome = run(handler(transport: RecordingTransport.created()), environment: ["CONTENT_LENGTH": "-5"])
        #expect(outcome.response.status == .badRequest)
        #expect(try body(outcome)["error"] as? String == "bad_content_length")
    }

    @Test("a chunked upload (no CONTENT_LENGTH) is read to the end and handled")
    func noContentLength() throws {
        let transport = RecordingTransport.created()
        let body = Self.triggered
        let head = CGIRequestHead(environment: [
            "REQUEST_METHOD": "POST", "HTTP_X_HUB_SIGNATURE_256": signature(body),
        ])
        let source = ByteSource(body, pieceSizes: [1, 7])
        let outcome = handler(transport: transport).handle(head, readBody: source.read)
        #expect(outcome.response.status == .ok)
        #expect(transport.requests.count == 1)
    }

    // MARK: - Health and configuration

    @Test("GET and HEAD answer the health check when configured", arguments: ["GET", "HEAD"])
    func healthConfigured(_ method: String) throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(transport: transport), method: method, body: "", signatureHeader: nil)
        #expect(outcome.response.status == .ok)
        let object = try body(outcome)
        #expect(object["service"] as? String == "devin-bridge")
        #expect(object["version"] as? String == "9.9.9-test")
        #expect(object["configured"] as? Bool == true)
        #expect(object["error"] == nil)
        #expect(object["message"] == nil)
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["decision"] == "health")
    }

    @Test("the health check is 500 when the configuration is broken, without saying what is wrong")
    func healthNotConfigured() throws {
        let report = try loadFromEnvironment(["DEVIN_API_KEY": FakeSecret.apiKey, "WEBHOOK_SECRET": FakeSecret.webhookSecret])
        #expect(report.configuration == nil)
        let outcome = run(handler(report: report, transport: RecordingTransport.created()), method: "GET", body: "", signatureHeader: nil)
        #expect(outcome.response.status == .internalServerError)
        let object = try body(outcome)
        #expect(object["configured"] as? Bool == false)
        #expect(object["error"] as? String == "not_configured")
        #expect(!outcome.response.body.text.contains("DEVIN_ORG_ID"))
        #expect(!outcome.response.body.text.contains(FakeSecret.marker))
    }

    @Test("a webhook while not configured is 500 not_configured; the log line names the missing key")
    func postNotConfigured() throws {
        let transport = RecordingTransport.created()
        let report = try loadFromEnvironment(["DEVIN_API_KEY": FakeSecret.apiKey, "WEBHOOK_SECRET": FakeSecret.webhookSecret])
        let outcome = run(handler(report: report, transport: transport))
        #expect(outcome.response.status == .internalServerError)
        let object = try body(outcome)
        #expect(object["error"] as? String == "not_configured")
        #expect(!outcome.response.body.text.contains("DEVIN_ORG_ID"))
        #expect(outcome.log["error"] == "not_configured")
        #expect(outcome.log["reason"] == "DEVIN_ORG_ID is not set")
        #expect(outcome.log.description.contains(#"reason="DEVIN_ORG_ID is not set""#))
        #expect(transport.requests.isEmpty)
    }

    @Test("a broken configuration still drains an oversized body and answers 413")
    func oversizeWhileNotConfigured() throws {
        let report = try loadFromEnvironment(["MAX_BODY_BYTES": "10"])
        let outcome = run(handler(report: report, transport: RecordingTransport.created()))
        #expect(outcome.response.status == .payloadTooLarge)
    }

    // MARK: - Dry run

    @Test("a dry run shows the request it would send, secrets masked, and sends nothing")
    func dryRun() throws {
        let transport = RecordingTransport.created()
        let outcome = run(handler(makeConfiguration(dryRun: true), transport: transport))
        #expect(outcome.response.status == .ok)
        #expect(transport.requests.isEmpty)
        #expect(outcome.log["decision"] == "dry_run")
        let object = try body(outcome)
        #expect(object["status"] as? String == "dry_run")
        #expect(object["ticket"] as? String == "PROJ-123")
        #expect(object["label"] as? String == "devin-autofix")
        let request = try #require(object["request"] as? [String: Any])
        #expect(request["method"] as? String == "POST")
        #expect(request["url"] as? String == "https://api.devin.example/v3/organizations/org-test123/sessions")
        let headers = try #require(request["headers"] as? [String: String])
        #expect(headers["Authorization"] == "Bearer ********")
        #expect(headers["Content-Type"] == "application/json")
        let sessionBody = try #require(request["body"] as? [String: Any])
        #expect((sessionBody["prompt"] as? String)?.contains("PROJ-123") == true)
        #expect(sessionBody["playbook_id"] as? String == "playbook-autofix1")
        let secrets = try #require(sessionBody["session_secrets"] as? [[String: Any]])
        #expect(secrets.first?["key"] as? String == "TICKET_API_TOKEN")
        #expect(secrets.first?["value"] as? String == "********")
        #expect(!outcome.response.body.text.contains(FakeSecret.marker))
    }

    // MARK: - Upstream failures

    @Test("API refusals are 502 with their code, kept as failed, logged with the ticket", arguments: [
        (Result<HTTPResponse, TransportError>.success(HTTPResponse(status: 401)), "upstream_rejected"),
        (.success(HTTPResponse(status: 403)), "upstream_rejected"),
        (.success(HTTPResponse(status: 404)), "upstream_rejected"),
        (.success(HTTPResponse(status: 422, body: Array(#"{"detail":[{"loc":["body","prompt"],"msg":"too long"}]}"#.utf8))), "upstream_rejected"),
        (.success(HTTPResponse(status: 200, body: Array("{}".utf8))), "upstream_bad_response"),
    ])
    func upstreamRefusal(_ answer: Result<HTTPResponse, TransportError>, _ code: String) throws {
        let transport = RecordingTransport(answer)
        let configuration = makeConfiguration()
        let outcome = run(handler(configuration, transport: transport))
        #expect(outcome.response.status.code == 502)
        #expect(try body(outcome)["error"] as? String == code)
        #expect(transport.requests.count == 1)
        #expect(outcome.log["error"] == code)
        #expect(outcome.log["decision"] == "failed")
        #expect(outcome.log["status"] == "502")
        #expect(outcome.log["ticket"] == "PROJ-123")
        let records = try FileStateStore(directory: configuration.stateDirectory).allRecords()
        #expect(records.map(\.state) == [.failed])
        #expect(records.first?.errorCode == code)
    }

    @Test("API failures worth retrying are queued and answered 202, never dropped", arguments: [
        (Result<HTTPResponse, TransportError>.success(HTTPResponse(status: 500)), "upstream_error"),
        (.success(HTTPResponse(status: 503, body: Array("<html>down</html>".utf8))), "upstream_error"),
        (.success(HTTPResponse(status: 429, headers: ["Retry-After": "60"])), "upstream_rate_limited"),
        (.success(HTTPResponse(status: 429)), "upstream_rate_limited"),
        (.failure(.timeout), "upstream_timeout"),
        (.failure(.connection("connection refused")), "upstream_unreachable"),
        (.failure(.dropped("connection dropped before an answer")), "upstream_unreachable"),
    ])
    func upstreamRetryable(_ answer: Result<HTTPResponse, TransportError>, _ code: String) throws {
        let transport = RecordingTransport(answer)
        let configuration = makeConfiguration()
        let outcome = run(handler(configuration, transport: transport))
        #expect(outcome.response.status == .accepted)
        let document = try body(outcome)
        #expect(document["status"] as? String == "queued")
        #expect((document["reason"] as? String)?.isEmpty == false)
        #expect(document["next_attempt_at"] as? String != nil)
        #expect(outcome.log["decision"] == "queued")
        #expect(outcome.log["status"] == "202")
        let records = try FileStateStore(directory: configuration.stateDirectory).allRecords()
        #expect(records.map(\.state) == [.queued])
        #expect(records.first?.errorCode == code)
        #expect(records.first?.request.session_secrets == nil, "the spool never holds a secret")
    }

    @Test("a 401 from Devin tells the sender to check DEVIN_API_KEY, without showing it")
    func upstreamUnauthorized() throws {
        let outcome = run(handler(transport: RecordingTransport(status: 401, json: #"{"detail":"invalid token"}"#)))
        #expect(outcome.response.status == .badGateway)
        let message = try #require(try body(outcome)["message"] as? String)
        #expect(message.contains("DEVIN_API_KEY"))
        #expect(!message.contains(FakeSecret.apiKey))
        // Refusals before the API call are the ones logged as rejected.
        #expect(run(handler(transport: RecordingTransport.created()), signatureHeader: nil).log["decision"] == "rejected")
    }

    @Test("a 429's Retry-After sets the next attempt")
    func upstreamRetryAfter() throws {
        let outcome = run(handler(transport: RecordingTransport(status: 429, json: "{}", headers: ["Retry-After": "90"])))
        let document = try body(outcome)
        #expect((document["reason"] as? String)?.contains("Retry-After: 90") == true)
        // The fixed clock is 2026-01-01T00:00:00Z.
        #expect(document["next_attempt_at"] as? String == "2026-01-01T00:01:30Z")
    }

    // MARK: - Delivery ids

    @Test("the delivery id comes from the first delivery header present, reduced to safe characters", arguments: [
        ([("X-GitHub-Delivery", "abc-123")], "abc-123"),
        ([("X-Gitea-Delivery", "g-1"), ("X-Request-Id", "r-1")], "g-1"),
        ([("X-Request-Id", "r-1"), ("Idempotency-Key", "i-1")], "i-1"),
        ([("X-Atlassian-Webhook-Identifier", "1234.5678:9")], "1234.5678:9"),
        ([("X-GitHub-Delivery", "evil value\n injected=1 \"q\"")], "evilvalueinjected1q"),
        ([("X-GitHub-Delivery", "!!!"), ("Webhook-Id", "msg_p5jXN8AQ")], "msg_p5jXN8AQ"),
        ([("X-GitHub-Delivery", String(repeating: "a", count: 300))], String(repeating: "a", count: 128)),
        ([("X-Other", "x")], nil),
    ] as [([(String, String)], String?)])
    func deliveryID(_ headers: [(String, String)], _ id: String?) {
        #expect(Handler.deliveryID(HTTPHeaders(headers)) == id)
    }

    @Test("a request without a delivery header logs none")
    func noDelivery() {
        let body = Self.triggered
        let head = CGIRequestHead(environment: [
            "REQUEST_METHOD": "POST", "CONTENT_LENGTH": String(body.utf8.count),
            "HTTP_X_HUB_SIGNATURE_256": signature(body),
        ])
        let outcome = handler(transport: RecordingTransport.created()).handle(head, readBody: ByteSource(body).read)
        #expect(outcome.log["delivery"] == nil)
        #expect(!outcome.log.description.contains("delivery="))
    }

    // MARK: - Secrets

    @Test("no response body, response header or log line ever holds a secret")
    func secretsSweep() throws {
        let configured = makeConfiguration(docsURL: "https://docs.tickets.example", urlTemplate: "https://t.example/{id}")
        let brokenReport = try loadFromEnvironment([
            "DEVIN_API_KEY": " \(FakeSecret.apiKey) ", "WEBHOOK_SECRET": FakeSecret.webhookSecret,
            "TICKET_API_TOKEN": FakeSecret.ticketToken, "DEVIN_API_BASE": "http://api.example.com",
        ])
        // A 422 whose validator echoes the secrets back in `input`.
        let echo = #"{"detail":[{"loc":["body","session_secrets",0],"msg":"bad","input":{"value":"\#(FakeSecret.ticketToken)","auth":"Bearer \#(FakeSecret.apiKey)"}}]}"#
        let answers: [Result<HTTPResponse, TransportError>] = [
            .success(HTTPResponse(status: 200, body: Array(#"{"session_id":"s-1","url":"https://app.devin.ai/sessions/1"}"#.utf8))),
            .success(HTTPResponse(status: 422, body: Array(echo.utf8))),
            .success(HTTPResponse(status: 401)), .success(HTTPResponse(status: 403)), .success(HTTPResponse(status: 404)),
            .success(HTTPResponse(status: 429, headers: ["Retry-After": "60"])),
            .success(HTTPResponse(status: 500, body: Array(FakeSecret.apiKey.utf8))),
            .success(HTTPResponse(status: 200, body: Array(#"{"error":"\#(FakeSecret.apiKey)"}"#.utf8))),
            .failure(.timeout), .failure(.connection("refused")),
        ]

        var outcomes: [(String, Outcome)] = []
        for (index, answer) in answers.enumerated() {
            outcomes.append(("answer \(index)", run(handler(configured, transport: RecordingTransport(answer)))))
        }
        let created = RecordingTransport.created()
        outcomes += [
            ("dry run", run(handler(makeConfiguration(dryRun: true), transport: created))),
            ("skipped", run(handler(configured, transport: created), body: Self.untriggered)),
            ("missing signature", run(handler(configured, transport: created), signatureHeader: nil)),
            ("bad signature", run(handler(configured, transport: created), signature: signature(Self.triggered, secret: "x-other-secret"))),
            ("bad json", run(handler(configured, transport: created), body: "{")),
            ("missing title", run(handler(configured, transport: created), body: #"{"id":"1"}"#)),
            ("PUT", run(handler(configured, transport: created), method: "PUT")),
            ("health", run(handler(configured, transport: created), method: "GET", body: "", signatureHeader: nil)),
            ("HEAD", run(handler(configured, transport: created), method: "HEAD", body: "", signatureHeader: nil)),
            ("too large", run(handler(makeConfiguration(maxBodyBytes: 10), transport: created))),
            ("not configured", run(handler(report: brokenReport, transport: created))),
            ("health not configured", run(handler(report: brokenReport, transport: created), method: "GET", body: "", signatureHeader: nil)),
        ]
        #expect(created.requests.isEmpty, "only refusals and dry runs go through this transport")

        for (name, outcome) in outcomes {
            let texts = [outcome.response.body.text, outcome.log.description]
                + outcome.response.headers.map { "\($0.0): \($0.1)" }
                + [outcome.response.serialized().text]
            for text in texts {
                for secret in FakeSecret.all {
                    #expect(!text.contains(secret), "\(name): a secret appears in \(text.debugDescription)")
                }
                #expect(!text.contains(FakeSecret.marker), "\(name): part of a secret appears in \(text.debugDescription)")
            }
        }
    }
}
