import Foundation

/// Runs the built `devin-bridge` exactly as a web server runs a CGI program: a clean environment
/// of CGI meta-variables plus the configuration, the body on stdin.
struct BridgeProcess {
    var configuration: [String: String]
    /// The bridge's STATE_DIR, removed when the last copy of this value is gone.
    let state = TemporaryDirectory()

    init(apiBase: String, extra: [String: String] = [:]) {
        configuration = [
            "STATE_DIR": state.path,
            "DEVIN_API_KEY": TestSecrets.apiKey,
            "DEVIN_ORG_ID": TestSecrets.orgID,
            "WEBHOOK_SECRET": TestSecrets.webhookSecret,
            "WEBHOOK_SECRET_GITLAB": TestSecrets.standardSecret,
            "TICKET_API_TOKEN": TestSecrets.ticketToken,
            "DEVIN_API_BASE": apiBase,
            "DEVIN_TIMEOUT_SECONDS": "3",
            // No file: the default /etc/devin-bridge/bridge.conf must not leak into tests.
            "DEVIN_BRIDGE_CONFIG": "/dev/null",
        ].merging(extra) { $1 }
    }

    /// `devin-bridge <arguments>` (retry, status, ...) with this configuration.
    func command(_ arguments: [String]) throws -> (stdout: String, stderr: String, exitCode: Int32) {
        var environment = configuration
        environment["PATH"] = "/usr/bin:/bin"
        let output = try runProcess(Paths.binary, arguments: arguments, environment: environment, stdin: [])
        return (String(decoding: output.stdout, as: UTF8.self), output.stderr, output.exitCode)
    }

    /// The records in the state directory, decoded.
    var records: [[String: Any]] {
        let directory = state.path + "/tickets"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.compactMap {
            FileManager.default.contents(atPath: directory + "/" + $0)
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
    }

    /// The signature header value `devin-bridge sign` prints for `body` (checked against the
    /// documented vector in its own test).
    func signature(_ body: [UInt8], secret: String = TestSecrets.webhookSecret) throws -> String {
        let output = try runProcess(Paths.binary, arguments: ["sign"],
                                    environment: ["WEBHOOK_SECRET": secret, "DEVIN_BRIDGE_CONFIG": "/dev/null"],
                                    stdin: body)
        let line = String(decoding: output.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard output.exitCode == 0, line.hasPrefix("X-Hub-Signature-256: ") else {
            throw HarnessError("sign failed: \(line) \(output.stderr)")
        }
        return String(line.dropFirst("X-Hub-Signature-256: ".count))
    }

    /// Standard Webhooks headers for `body` from `devin-bridge sign --standard`, or for an explicit
    /// timestamp computed here with the same key rules: GitLab's own signing secret
    /// (`WEBHOOK_SECRET_GITLAB`, configured for every bridge process in tests).
    func standardSignature(_ body: [UInt8], timestamp: Int64? = nil) throws -> [String: String] {
        if let timestamp {
            // Sign an old or future timestamp: HMAC-SHA256 over "<id>.<ts>.<body>" with openssl.
            let id = "msg_tolerance_test"
            let content = Array("\(id).\(timestamp).".utf8) + body
            // The key is the base64 after whsec_, decoded (as hex for openssl's -macopt).
            let key = Data(base64Encoded: String(TestSecrets.standardSecret.dropFirst(6)))!.map { String(format: "%02x", $0) }.joined()
            let output = try runProcess("/usr/bin/openssl", arguments: ["dgst", "-sha256", "-mac", "HMAC", "-macopt", "hexkey:\(key)", "-binary"],
                                        environment: ["PATH": "/usr/bin:/bin"], stdin: content)
            return ["webhook-id": id, "webhook-timestamp": String(timestamp),
                    "webhook-signature": "v1," + Data(output.stdout).base64EncodedString()]
        }
        let output = try runProcess(Paths.binary, arguments: ["sign", "--standard", "--source", "gitlab"],
                                    environment: ["WEBHOOK_SECRET": TestSecrets.webhookSecret, "DEVIN_BRIDGE_CONFIG": "/dev/null",
                                                  "WEBHOOK_SECRET_GITLAB": TestSecrets.standardSecret],
                                    stdin: body)
        var headers: [String: String] = [:]
        for line in String(decoding: output.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        guard headers.count == 3 else { throw HarnessError("sign --standard failed: \(output.stderr)") }
        return headers
    }

    /// One CGI request. `headers` are HTTP header names (`X-Hub-Signature-256`); `contentLength`
    /// nil sends none (a chunked upload), `.some` overrides the real length.
    func request(method: String = "POST", body: [UInt8], headers: [String: String] = [:],
                 contentLength: String?? = .none, contentType: String? = "application/json",
                 extraEnvironment: [String: String] = [:]) throws -> CGIOutput {
        var environment = configuration
        environment["GATEWAY_INTERFACE"] = "CGI/1.1"
        environment["SERVER_PROTOCOL"] = "HTTP/1.1"
        environment["SERVER_SOFTWARE"] = "process-test"
        environment["REQUEST_METHOD"] = method
        environment["SCRIPT_NAME"] = "/hooks/tickets"
        environment["REMOTE_ADDR"] = "127.0.0.1"
        environment["PATH"] = "/usr/bin:/bin"
        switch contentLength {
        case .none: environment["CONTENT_LENGTH"] = String(body.count)
        case .some(.none): break
        case .some(.some(let value)): environment["CONTENT_LENGTH"] = value
        }
        if let contentType { environment["CONTENT_TYPE"] = contentType }
        for (name, value) in headers {
            environment["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
        }
        environment.merge(extraEnvironment) { $1 }
        return try CGIOutput(runProcess(Paths.binary, environment: environment, stdin: body))
    }

    /// Starts a POST and returns the running process (for tests that kill it mid-request).
    func start(body: [UInt8], headers: [String: String]) throws -> Process {
        var environment = configuration
        environment["GATEWAY_INTERFACE"] = "CGI/1.1"
        environment["REQUEST_METHOD"] = "POST"
        environment["CONTENT_LENGTH"] = String(body.count)
        environment["CONTENT_TYPE"] = "application/json"
        environment["PATH"] = "/usr/bin:/bin"
        for (name, value) in headers {
            environment["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Paths.binary)
        process.environment = environment
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(body))
        try input.fileHandleForWriting.close()
        return process
    }

    /// A signed POST of `body`.
    func signedPost(_ body: [UInt8], headers: [String: String] = [:]) throws -> CGIOutput {
        var all = headers
        all["X-Hub-Signature-256"] = try signature(body)
        return try request(body: body, headers: all)
    }
}

/// A generic ticket body.
func ticketBody(id: Any = 4711, title: String = "Crash when saving a draft",
                description: String? = "Steps: open a draft, press save. Expected: saved.",
                labels: [String] = ["bug", "devin-autofix"]) -> [UInt8] {
    var object: [String: Any] = ["id": id, "title": title, "labels": labels]
    object["description"] = description ?? NSNull()
    return Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}
