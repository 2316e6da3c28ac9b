// libFuzzer targets for the bridge's parsers, compiled together with Sources/DevinBridge by
// Tests/Fuzz/run.sh (swiftc -sanitize=fuzzer,address). FUZZ_TARGET picks one:
//   cgi        a whole CGI request (environment lines, a blank line, the body) through the handler;
//              an odd first byte makes the harness sign the body, so decoding is reached too
//   signature  the signature headers (HMAC, Standard Webhooks, static token)
//   tickets    every dialect's decoder, and the form-encoded body
//   config     the KEY=VALUE configuration file
//   body       the body reader with a fuzzed CONTENT_LENGTH and read sizes
// Each checks invariants and traps (a finding) when one breaks: a response is always a Status
// line, a known status and a JSON body, and never holds a secret.
import Foundation

let secret = "fuzz-webhook-secret-FUZZ-0001"
let apiKey = "fuzz-api-key-FUZZ-0002"
let ticketToken = "fuzz-ticket-token-FUZZ-0003"
let webhookToken = "fuzz-webhook-token-FUZZ-0004"
let knownStatuses: Set<Int> = [200, 202, 400, 401, 405, 408, 413, 415, 500, 502, 504]

/// No invisible character (format, separator, tag, ...) may stand unescaped in a log line, a
/// prompt or a title.
func checkVisible(_ text: String, allowNewlines: Bool, _ what: String) {
    for scalar in text.unicodeScalars where TextHygiene.isInvisible(scalar) {
        check(allowNewlines && (scalar == "\n" || scalar == "\t"), "an invisible U+\(String(scalar.value, radix: 16)) in \(what)")
    }
}

let stateDirectory: String = {
    let path = NSTemporaryDirectory() + "devin-bridge-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

struct CannedTransport: HTTPTransport {
    func send(_ request: HTTPRequest, timeout: Double) -> Result<HTTPResponse, TransportError> {
        .success(HTTPResponse(status: 200, body: Array(#"{"session_id":"ses_fuzz","url":"https://app.devin.ai/sessions/ses_fuzz"}"#.utf8)))
    }
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

func fuzzCGI(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    // Environment lines up to the first empty line; the body after it.
    var split = rest.count
    for index in 0..<max(0, rest.count - 1) where rest[index] == 10 && rest[index + 1] == 10 {
        split = index
        break
    }
    var environment: [String: String] = [
        "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "POST",
        "DEVIN_API_KEY": apiKey, "DEVIN_ORG_ID": "org-fuzz", "WEBHOOK_SECRET": secret,
        "TICKET_API_TOKEN": ticketToken, "STATE_DIR": stateDirectory, "DRY_RUN": first & 2 == 0 ? "1" : "0",
        "DEVIN_BRIDGE_CONFIG": "/dev/null", "ALLOW_STATIC_TOKEN": first & 4 == 0 ? "0" : "1",
        "WEBHOOK_TOKEN": webhookToken,
    ]
    for line in String(decoding: rest[0..<split], as: UTF8.self).split(separator: "\n") {
        let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !["DEVIN_API_KEY", "WEBHOOK_SECRET", "TICKET_API_TOKEN", "STATE_DIR", "DEVIN_API_BASE", "DEVIN_BRIDGE_CONFIG", "WEBHOOK_TOKEN"].contains(String(parts[0])) else { continue }
        environment[String(parts[0])] = String(parts[1])
    }
    let body = split + 2 <= rest.count ? Array(rest[(split + 2)...]) : []
    if environment["CONTENT_LENGTH"] == nil && first & 8 == 0 { environment["CONTENT_LENGTH"] = String(body.count) }
    if first & 1 == 1 {
        environment["HTTP_X_HUB_SIGNATURE_256"] = "sha256=" + Hex.encode(HMACSHA256.authenticate(body, key: Array(secret.utf8)))
    }
    let head = CGIRequestHead(environment: environment)
    let report = Configuration.load(environment: environment)
    let handler = Handler(report: report, transport: CannedTransport())
    var offset = 0
    let outcome = handler.handle(head) { buffer in
        let count = min(buffer.count, body.count - offset, Int(first >> 4) + 1 + buffer.count / 2)
        guard count > 0 else { return 0 }
        body[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
        offset += count
        return count
    }
    let output = outcome.response.serialized()
    let text = String(decoding: output, as: UTF8.self)
    check(text.hasPrefix("Status: "), "no Status line")
    check(knownStatuses.contains(outcome.response.status.code), "unexpected status \(outcome.response.status)")
    check((try? JSONSerialization.jsonObject(with: Data(outcome.response.body))) != nil, "body is not JSON")
    let log = outcome.log.description
    check(!log.contains("\n"), "log line has a newline")
    checkVisible(log, allowNewlines: false, "the log line")
    for value in [secret, apiKey, ticketToken, webhookToken] {
        check(!text.contains(value), "a secret in the response")
        check(!log.contains(value), "a secret in the log line")
    }
}

func fuzzSignature(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var headers = HTTPHeaders()
    let names = ["x-hub-signature-256", "x-hub-signature", "webhook-id", "webhook-timestamp", "webhook-signature", "x-gitlab-token", "x-gitea-signature"]
    for (index, line) in lines.prefix(names.count).enumerated() { headers.add(names[index], line) }
    let body = Array(lines.dropFirst(names.count).joined(separator: "\n").utf8)
    var configuration = Configuration.load(environment: ["DEVIN_API_KEY": apiKey, "DEVIN_ORG_ID": "org-fuzz", "WEBHOOK_SECRET": secret,
                                                           "DEVIN_BRIDGE_CONFIG": "/dev/null", "WEBHOOK_TOKEN": webhookToken]).configuration!
    for scheme in SignatureScheme.allCases {
        configuration.signatureScheme = scheme
        let head = CGIRequestHead(method: "POST", headers: headers, queryString: lines.last ?? "")
        do {
            let proof = try WebhookAuthenticator(configuration: configuration)
                .verify(body: body, document: RequestBody.formDocument(body), head: head, now: Date(timeIntervalSince1970: 1_700_000_000))
            // Passing without the secret would be a forgery: only a static token can, and only by
            // presenting the token itself (never the signing secret).
            if proof.scheme == .token {
                check(text.contains(webhookToken), "a token verified without the token")
            } else {
                check(false, "a signature verified without the secret")
            }
        } catch let error as BridgeError {
            check(!error.message.contains(secret), "the secret in an error message")
            check(!error.message.contains(webhookToken), "the token in an error message")
            check(error.status.code == 401, "a signature error that is not 401")
        } catch {
            check(false, "unexpected error type")
        }
    }
}

func fuzzTickets(_ bytes: [UInt8]) {
    let form = (try? RequestBody.json(bytes)) ?? []
    for input in [bytes, form] {
        guard let object = try? JSONValue.parseObject(input) else { continue }
        let headerSets: [[(String, String)]] = [
            [("x-github-event", "issues"), ("x-gitea-event", "issues")],
            [("x-github-event", "issue_comment"), ("x-gitea-event", "issue_comment")],
            [("x-gitlab-event", "Note Hook")],
        ]
        for source in TicketSource.allCases {
          for headers in headerSets {
            do {
                let webhook = try source.decode(object, headers: HTTPHeaders(headers))
                if case .ignored = webhook.event { continue }
                if case .commented(let comment) = webhook.event {
                    let text = comment.body ?? ""
                    _ = CommentRules().mention(in: text)
                    let message = ForwardedMessage.render(ticket: webhook.ticket.id, source: source, comment: comment, body: text, marker: "m")
                    checkVisible(message, allowNewlines: true, "a forwarded message")
                    check(message.utf8.count < 200_000, "message not capped")
                }
                check(!webhook.ticket.id.isEmpty, "empty id")
                check(TicketIDShape(source).matches(webhook.ticket.id), "an id not shaped like a \(source) id")
                let builder = PromptBuilder(ticketURLTemplate: "https://tickets.example/{id}", hasTicketToken: true)
                let prompt = builder.prompt(for: webhook.ticket)
                check(prompt.utf8.count < 200_000, "prompt not capped")
                checkVisible(prompt, allowNewlines: true, "the prompt")
                checkVisible(builder.title(for: webhook.ticket), allowNewlines: false, "the title")
                // After the fence, only the bridge's words: a sender's link stays inside unless it is
                // on the configured ticketing host (compared as a host is, without regard to case).
                if let url = webhook.ticket.url, !builder.isTrusted(url) {
                    let fenceEnd = prompt.range(of: "```", options: .backwards)?.upperBound ?? prompt.startIndex
                    check(!prompt[fenceEnd...].contains(url), "a sender's link outside the fence")
                }
            } catch let error as BridgeError {
                check(error.status.code == 400, "a decoding error that is not 400: \(error)")
            } catch {
                check(false, "unexpected error type")
            }
          }
        }
    }
}

func fuzzConfig(_ bytes: [UInt8]) {
    let parsed = ConfigFile.parse(String(decoding: bytes, as: UTF8.self))
    for (key, value) in parsed.values {
        check(!key.isEmpty && !key.contains("="), "bad key")
        check(!value.contains("\n"), "value spans lines")
    }
}

func fuzzBody(_ bytes: [UInt8]) {
    guard bytes.count >= 2 else { return }
    let lengthText = String(decoding: bytes.prefix(Int(bytes[0] % 12)), as: UTF8.self)
    let body = Array(bytes.dropFirst(Int(bytes[0] % 12)))
    let limit = Int(bytes[1]) * 4 + 1
    var offset = 0
    let result = BodyReader.read(contentLength: bytes[0] & 0x80 == 0 ? lengthText : nil, limit: limit) { buffer in
        let count = min(buffer.count, body.count - offset, Int(bytes[1] % 7) + 1)
        guard count > 0 else { return 0 }
        body[offset..<(offset + count)].withUnsafeBytes { buffer.copyMemory(from: $0) }
        offset += count
        return count
    }
    if case .success(let read) = result {
        check(read.count <= limit, "kept more than the limit")
        check(read == Array(body.prefix(read.count)), "bytes changed")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "cgi" {
    case "signature": fuzzSignature(bytes)
    case "tickets": fuzzTickets(bytes)
    case "config": fuzzConfig(bytes)
    case "body": fuzzBody(bytes)
    default: fuzzCGI(bytes)
    }
    return 0
}
