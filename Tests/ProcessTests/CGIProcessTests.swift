import Foundation
import Testing

/// The built binary as a real CGI process against the local API stand-in.
@Suite("The CGI process end to end")
struct CGIProcessTests {
    @Test("A signed ticket with a trigger label creates exactly one well-formed session")
    func createsOneSession() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: [
            "TRIGGER_LABELS": "devin-autofix=playbook-aaaa1111bbbb2222,devin-feature",
            "TICKET_API_DOCS_URL": "https://tickets.example.com/api/docs",
            "TICKET_URL_TEMPLATE": "https://tickets.example.com/browse/{id}",
        ])
        let response = try bridge.signedPost(ticketBody(), headers: ["X-GitHub-Delivery": "delivery-0001"])

        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.json["status"] as? String == "created")
        #expect(response.json["ticket"] as? String == "4711")
        let sessions = api.sessions
        try #require(sessions.count == 1)
        #expect(response.json["session_id"] as? String == sessions[0]["session_id"] as? String)
        #expect(response.json["url"] as? String == sessions[0]["url"] as? String)

        let requests = api.requests
        try #require(requests.count == 1)
        let sent = try #require(requests[0]["json"] as? [String: Any])
        let headers = try #require(requests[0]["headers"] as? [String: String])
        #expect(requests[0]["path"] as? String == "/v3/organizations/\(TestSecrets.orgID)/sessions")
        #expect(headers["authorization"] == "Bearer \(TestSecrets.apiKey)")
        #expect(headers["content-type"] == "application/json")
        #expect(sent["playbook_id"] as? String == "playbook-aaaa1111bbbb2222")
        #expect(sent["title"] as? String == "4711: Crash when saving a draft")
        let tags = try #require(sent["tags"] as? [String])
        #expect(tags.contains("ticket:4711"))
        #expect(tags.contains("devin-autofix"))
        let secrets = try #require(sent["session_secrets"] as? [[String: Any]])
        #expect(secrets.count == 1)
        #expect(secrets[0]["key"] as? String == "TICKET_API_TOKEN")
        #expect(secrets[0]["value"] as? String == TestSecrets.ticketToken)
        #expect(secrets[0]["sensitive"] as? Bool == true)
        let prompt = try #require(sent["prompt"] as? String)
        #expect(prompt.hasPrefix("Ticket 4711 "))
        #expect(prompt.contains("Title: Crash when saving a draft"))
        #expect(prompt.contains("Steps: open a draft, press save."))
        #expect(prompt.contains("Reference ticket 4711 in your commit message"))
        #expect(prompt.contains("https://tickets.example.com/api/docs"))
        #expect(prompt.contains("$TICKET_API_TOKEN"))
        #expect(prompt.contains("https://tickets.example.com/browse/4711"))
        #expect(!prompt.contains(TestSecrets.ticketToken))

        // One log line with the decision, on stderr only.
        let log = response.stderr.split(separator: "\n")
        #expect(log.count == 1)
        #expect(response.stderr.contains("ticket=4711"))
        #expect(response.stderr.contains("decision=created"))
        #expect(response.stderr.contains("session=\(sessions[0]["session_id"] as? String ?? "?")"))
        #expect(response.stderr.contains("status=200"))
        #expect(response.stderr.contains("delivery=delivery-0001"))
        #expect(response.stderr.contains("elapsed_ms="))
    }

    @Test("A ticket without a trigger label is skipped with a 200 and no API call")
    func skipsWithoutLabel() throws {
        let api = try StandIn()
        defer { api.stop() }
        let response = try BridgeProcess(apiBase: api.baseURL).signedPost(ticketBody(labels: ["bug", "ui"]))
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "skipped")
        #expect((response.json["reason"] as? String)?.contains("devin-autofix") == true)
        #expect(api.requests.isEmpty)
        #expect(response.stderr.contains("decision=skipped"))
    }

    @Test("Trigger labels match case-insensitively, and the configured order picks the playbook")
    func labelOrderPicksPlaybook() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["TRIGGER_LABELS": "devin-autofix=playbook-fix, devin-feature=playbook-feat"])
        let response = try bridge.signedPost(ticketBody(labels: ["DEVIN-FEATURE", "Devin-Autofix"]))
        #expect(response.status == 200)
        #expect(response.json["label"] as? String == "devin-autofix")
        let sent = try #require(api.requests.first?["json"] as? [String: Any])
        #expect(sent["playbook_id"] as? String == "playbook-fix")
    }

    @Test("A wrong signature is refused with 401 and nothing is sent")
    func badSignature() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let wrong = try bridge.signature(body, secret: "another secret entirely")
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": wrong])
        #expect(response.status == 401)
        #expect(response.json["error"] as? String == "bad_signature")
        #expect(api.requests.isEmpty)

        // A valid signature of a different body does not verify this one either.
        let other = try bridge.signature(ticketBody(id: 1))
        let replay = try bridge.request(body: body, headers: ["X-Hub-Signature-256": other])
        #expect(replay.status == 401)
    }

    @Test("A missing signature is refused with 401")
    func missingSignature() throws {
        let api = try StandIn()
        defer { api.stop() }
        let response = try BridgeProcess(apiBase: api.baseURL).request(body: ticketBody())
        #expect(response.status == 401)
        #expect(response.json["error"] as? String == "missing_signature")
        #expect((response.json["message"] as? String)?.isEmpty == false)
        #expect(api.requests.isEmpty)
    }

    @Test("Jira's X-Hub-Signature and a bare X-Signature are accepted too")
    func otherSignatureHeaders() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["DRY_RUN": "1"])
        let body = ticketBody()
        let signature = try bridge.signature(body)
        let jira = try bridge.request(body: body, headers: ["X-Hub-Signature": signature])
        #expect(jira.status == 200)
        let bare = try bridge.request(body: body, headers: ["X-Signature": String(signature.dropFirst(7)).uppercased()])
        #expect(bare.status == 200)
    }

    @Test("A body that is not JSON is a 400 naming the problem")
    func badJSON() throws {
        let api = try StandIn()
        defer { api.stop() }
        let response = try BridgeProcess(apiBase: api.baseURL).signedPost(Array("{not json".utf8))
        #expect(response.status == 400)
        #expect(response.json["error"] as? String == "invalid_json")
        #expect(api.requests.isEmpty)
    }

    @Test("A ticket without a title is a 400 that names the field")
    func missingTitle() throws {
        let api = try StandIn()
        defer { api.stop() }
        let body = Array(#"{"id": 5, "labels": ["devin-autofix"]}"#.utf8)
        let response = try BridgeProcess(apiBase: api.baseURL).signedPost(body)
        #expect(response.status == 400)
        #expect(response.json["error"] as? String == "missing_field")
        #expect((response.json["message"] as? String)?.contains("title") == true)
    }

    @Test("A body over MAX_BODY_BYTES is a 413, read to the end first")
    func oversizedBody() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["MAX_BODY_BYTES": "2048"])
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": "sha256=" + String(repeating: "0", count: 64)])
        #expect(response.status == 413)
        #expect(response.json["error"] as? String == "payload_too_large")
        // Without Content-Length (a chunked upload) the limit holds as well.
        let chunked = try bridge.request(body: body, contentLength: .some(nil))
        #expect(chunked.status == 413)
        #expect(api.requests.isEmpty)
    }

    @Test("A chunked upload without CONTENT_LENGTH is read to the end")
    func chunkedUpload() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body),
                                                                "Transfer-Encoding": "chunked"],
                                          contentLength: .some(nil))
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "created")
    }

    @Test("A CONTENT_LENGTH that is not a number, or more than was sent, is a 400 without hanging")
    func badContentLength() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let garbage = try bridge.request(body: body, contentLength: .some("12abc"))
        #expect(garbage.status == 400)
        #expect(garbage.json["error"] as? String == "bad_content_length")
        let short = try bridge.request(body: body, contentLength: .some(String(body.count + 100)))
        #expect(short.status == 400)
        #expect(short.json["error"] as? String == "body_truncated")
    }

    @Test("Methods other than POST are a 405 with Allow: POST", arguments: ["PUT", "DELETE", "PATCH"])
    func wrongMethod(method: String) throws {
        let api = try StandIn()
        defer { api.stop() }
        let response = try BridgeProcess(apiBase: api.baseURL).request(method: method, body: ticketBody())
        #expect(response.status == 405)
        #expect(response.header("Allow") == "POST")
        #expect(response.json["error"] as? String == "method_not_allowed")
    }

    @Test("GET answers a health document without secrets; HEAD has no body")
    func health() throws {
        let bridge = BridgeProcess(apiBase: "http://127.0.0.1:9")
        let get = try bridge.request(method: "GET", body: [], contentLength: .some(nil), contentType: nil)
        #expect(get.status == 200)
        #expect(get.json["configured"] as? Bool == true)
        #expect(get.json["version"] as? String != nil)
        let head = try bridge.request(method: "HEAD", body: [], contentLength: .some(nil), contentType: nil)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
    }

    @Test("Without WEBHOOK_SECRET everything is refused with 500 and the log says why")
    func notConfigured() throws {
        let api = try StandIn()
        defer { api.stop() }
        var bridge = BridgeProcess(apiBase: api.baseURL)
        bridge.configuration["WEBHOOK_SECRET"] = nil
        let body = ticketBody()
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body)])
        #expect(response.status == 500)
        #expect(response.json["error"] as? String == "not_configured")
        #expect(response.stderr.contains("WEBHOOK_SECRET is not set"))
        #expect(api.requests.isEmpty)
    }

    @Test("Devin refusing the request is a 502 naming the cause, kept as failed", arguments: [
        ("401", "upstream_rejected", "DEVIN_API_KEY"),
        ("403", "upstream_rejected", "ManageOrgSessions"),
        ("404", "upstream_rejected", "DEVIN_ORG_ID"),
        ("422", "upstream_rejected", "invalid"),
    ])
    func upstreamRefusals(fault: String, code: String, hint: String) throws {
        let api = try StandIn(fault: fault)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 502)
        #expect(response.json["error"] as? String == code)
        #expect((response.json["message"] as? String)?.contains(hint) == true)
        #expect(api.requests.count == 1)
        #expect(response.stderr.contains("decision=failed"))
        #expect(bridge.records.first?["state"] as? String == "failed")
    }

    @Test("Upstream faults worth retrying are spooled and answered 202 queued", arguments: [
        ("500", "upstream_error"), ("503", "upstream_error"), ("429", "upstream_rate_limited"), ("drop", "upstream_unreachable"),
    ])
    func upstreamFaults(fault: String, code: String) throws {
        let api = try StandIn(fault: fault, retryAfter: fault == "429" ? "7" : nil)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 202)
        #expect(response.json["status"] as? String == "queued")
        #expect(api.requests.count == 1)
        #expect(response.stderr.contains("decision=queued"))
        let record = try #require(bridge.records.first)
        #expect(record["state"] as? String == "queued")
        #expect(record["error_code"] as? String == code)
        if fault == "429" { #expect((response.json["reason"] as? String)?.contains("Retry-After: 7") == true) }
    }

    @Test("A redirect from the API is not followed: the key and the ticket token never go elsewhere")
    func redirectNotFollowed() throws {
        let api = try StandIn(fault: "redirect")
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 502)
        #expect(response.json["error"] as? String == "upstream_bad_response")
        #expect(api.requests.count == 1, "only the original request: \(api.requests.map { $0["path"] ?? "" })")
        #expect(!api.requests.contains { ($0["path"] as? String) == "/elsewhere" })
    }

    @Test("A client's Proxy: header (HTTP_PROXY) and the other proxy variables libcurl would read do not steer the API call")
    func proxyVariablesIgnored() throws {
        let api = try StandIn()
        defer { api.stop() }
        let trap = try ProxyTrap()
        defer { trap.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: [
            "http_proxy": trap.url, "ALL_PROXY": trap.url, "all_proxy": trap.url,
            // https_proxy is for https URLs only; this API base is http (loopback).
            "https_proxy": trap.url, "HTTPS_PROXY": trap.url,
        ])
        let response = try bridge.signedPost(ticketBody(), headers: ["Proxy": trap.url])
        #expect(response.status == 200, "\(response.stderr)")
        #expect(response.json["status"] as? String == "created")
        #expect(api.sessions.count == 1)
        #expect(trap.heads.isEmpty, "the proxy received: \(trap.heads)")
    }

    @Test("https_proxy carries an https API call as a CONNECT tunnel (the key never in it), and no_proxy bypasses it")
    func httpsProxyUsed() throws {
        let trap = try ProxyTrap()
        defer { trap.stop() }
        // Nothing listens on the API's port: only the proxy can be reached.
        let apiBase = "https://127.0.0.1:9"
        let proxied = BridgeProcess(apiBase: apiBase, extra: ["https_proxy": trap.url])
        let response = try proxied.signedPost(ticketBody())
        #expect(response.status == 202, "\(response.stderr)")
        #expect(response.stderr.contains("the proxy refused the connection (HTTP 403)"), "\(response.stderr)")
        let heads = trap.heads
        #expect(heads.count == 1)
        #expect(heads.first?.hasPrefix("CONNECT 127.0.0.1:9 HTTP/1.1\r\n") == true, "\(heads)")
        #expect(!heads.joined().contains(TestSecrets.apiKey))
        #expect(!response.raw.contains(TestSecrets.apiKey) && !response.stderr.contains(TestSecrets.apiKey))

        let bypassed = BridgeProcess(apiBase: apiBase, extra: ["https_proxy": trap.url, "no_proxy": "127.0.0.1"])
        let direct = try bypassed.signedPost(ticketBody(id: 4712))
        #expect(direct.status == 202)
        #expect(direct.stderr.contains("connection refused"), "\(direct.stderr)")
        #expect(trap.heads.count == 1, "no_proxy: nothing more through the proxy")
    }

    @Test("An https API with a certificate the system does not trust is refused before anything is sent; a CA bundle the admin sets is used")
    func tlsVerified() throws {
        let directory = try Paths.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try runProcess("/usr/bin/openssl", arguments: [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate,
        ], environment: ["PATH": "/usr/bin:/bin"], stdin: [])
        try #require(made.exitCode == 0, "\(made.stderr)")
        let server = try ProxyTrap(tls: (certificate, key))
        defer { server.stop() }

        let untrusted = try BridgeProcess(apiBase: "https://127.0.0.1:\(server.port)").signedPost(ticketBody())
        #expect(untrusted.status == 202, "\(untrusted.stderr)")
        #expect(untrusted.stderr.contains("TLS handshake failed (certificate or protocol)"), "\(untrusted.stderr)")
        #expect(server.heads.isEmpty, "nothing may be sent over an unverified connection: \(server.heads)")
        #expect(server.failedHandshakes == 1)

        // The same server, its certificate given as the CA bundle: the request goes through (and is refused: 403).
        let trusted = try BridgeProcess(apiBase: "https://127.0.0.1:\(server.port)", extra: ["CURL_CA_BUNDLE": certificate])
            .signedPost(ticketBody(id: 4712))
        #expect(trusted.status == 502, "\(trusted.stderr)")
        #expect(server.heads.count == 1)
        #expect(server.heads.first?.hasPrefix("POST /v3/organizations/") == true, "\(server.heads)")
    }

    @Test("A wrong API key is reported as such by the real API's own 401")
    func wrongAPIKey() throws {
        let api = try StandIn(apiKey: "the-key-the-api-expects-0000")
        defer { api.stop() }
        let response = try BridgeProcess(apiBase: api.baseURL).signedPost(ticketBody())
        #expect(response.status == 502)
        #expect((response.json["message"] as? String)?.contains("rejected the API key") == true)
        #expect(api.sessions.isEmpty)
    }

    @Test("An upstream slower than DEVIN_TIMEOUT_SECONDS is answered within the timeout, queued")
    func upstreamTimeout() throws {
        let api = try StandIn(fault: "timeout", delay: 20)
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["DEVIN_TIMEOUT_SECONDS": "1"])
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 202)
        #expect(response.json["status"] as? String == "queued")
        #expect((response.json["reason"] as? String)?.contains("did not answer within 1 s") == true)
        #expect(response.elapsed < 8, "the sender gives up after 5-10 s")
    }

    @Test("A connection refused is queued with the cause")
    func connectionRefused() throws {
        // Port 9 (discard) on loopback: nothing listens there in a test machine.
        let bridge = BridgeProcess(apiBase: "http://127.0.0.1:9")
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 202)
        #expect((response.json["reason"] as? String)?.contains("connection refused") == true)
    }

    @Test("DRY_RUN answers with the request that would be sent, secrets masked, and calls nothing")
    func dryRun() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL, extra: ["DRY_RUN": "1"])
        let response = try bridge.signedPost(ticketBody())
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "dry_run")
        let request = try #require(response.json["request"] as? [String: Any])
        #expect(request["url"] as? String == "\(api.baseURL)/v3/organizations/\(TestSecrets.orgID)/sessions")
        let headers = try #require(request["headers"] as? [String: String])
        #expect(headers["Authorization"] == "Bearer ********")
        let body = try #require(request["body"] as? [String: Any])
        #expect((body["prompt"] as? String)?.contains("Crash when saving a draft") == true)
        #expect(api.requests.isEmpty)
    }

    @Test("No secret appears in any response, header or log line, on any path")
    func noSecretLeaks() throws {
        let api = try StandIn(fault: "422")
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let signature = try bridge.signature(body)
        var outputs: [CGIOutput] = []
        outputs.append(try bridge.signedPost(body))                                   // upstream 422 echoing input
        outputs.append(try bridge.request(body: body))                                // missing signature
        outputs.append(try bridge.request(body: body, headers: ["X-Hub-Signature-256": "sha256=\(String(repeating: "ab", count: 32))"]))
        outputs.append(try bridge.request(method: "PUT", body: body))
        outputs.append(try bridge.request(method: "GET", body: []))
        var dry = bridge
        dry.configuration["DRY_RUN"] = "1"
        outputs.append(try dry.request(body: body, headers: ["X-Hub-Signature-256": signature]))
        var broken = bridge
        broken.configuration["DEVIN_API_BASE"] = "http://api.example.com"
        outputs.append(try broken.request(body: body, headers: ["X-Hub-Signature-256": signature]))
        outputs.append(try broken.request(method: "GET", body: []))
        for output in outputs {
            for secret in TestSecrets.all {
                #expect(!output.raw.contains(secret), "a response carries a secret: \(output.raw.prefix(200))")
                #expect(!output.stderr.contains(secret), "a log line carries a secret: \(output.stderr.prefix(200))")
            }
        }
    }
}

@Suite("Content types through the CGI process")
struct ContentTypeProcessTests {
    @Test("A form-encoded body with the JSON in payload creates the session; the signature covers the form")
    func formEncoded() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let json = String(decoding: ticketBody(), as: UTF8.self)
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let form = Array(("payload=" + json.addingPercentEncoding(withAllowedCharacters: allowed)!).utf8)
        let response = try bridge.request(body: form, headers: ["X-Hub-Signature-256": try bridge.signature(form)],
                                          contentType: "application/x-www-form-urlencoded")
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "created")
        #expect(api.sessions.count == 1)
    }

    @Test("A signed body of another type is a 415")
    func unsupported() throws {
        let api = try StandIn()
        defer { api.stop() }
        let bridge = BridgeProcess(apiBase: api.baseURL)
        let body = ticketBody()
        let response = try bridge.request(body: body, headers: ["X-Hub-Signature-256": try bridge.signature(body)],
                                          contentType: "text/plain")
        #expect(response.status == 415)
        #expect(response.json["error"] as? String == "unsupported_media_type")
        #expect(api.requests.isEmpty)
    }
}
