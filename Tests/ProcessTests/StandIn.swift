import Foundation

/// The local stand-in for the Devin API (Tests/Support/devin_standin.py) on a loopback port.
/// Started by a test and stopped by the same test (``stop()``, also on deinit).
final class StandIn {
    let process = Process()
    let port: Int
    let recordFile: URL
    let directory: URL

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `listFault` ("none", "500" or "429") fails the first `listFailTimes` list calls
    /// (`GET .../sessions`; 0: all of them); 429 carries `Retry-After: retryAfter` when that is given.
    init(fault: String = "none", failTimes: Int = 0, retryAfter: String? = nil, delay: Double? = nil,
         apiKey: String = TestSecrets.apiKey, orgID: String = TestSecrets.orgID,
         listFault: String = "none", listFailTimes: Int = 0, messageFault: String = "none", messageFailTimes: Int = 0) throws {
        directory = try Paths.temporaryDirectory()
        recordFile = directory.appendingPathComponent("standin.jsonl")
        var arguments = ["--api-key", apiKey, "--org", orgID, "--record", recordFile.path,
                         "--fault", fault, "--fail-times", String(failTimes), "--lifetime", "300"]
        if let retryAfter { arguments += ["--retry-after", retryAfter] }
        arguments += ["--message-fault", messageFault, "--message-fail-times", String(messageFailTimes)]
        if let delay { arguments += ["--delay", String(delay)] }
        if listFault != "none" { arguments += ["--list-fault", listFault, "--list-fail-times", String(listFailTimes)] }
        port = try startStandInScript(process, script: Paths.standIn, arguments: arguments, name: "the API stand-in")
    }

    func stop() {
        stopProcess(process)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    /// Every record the stand-in wrote: requests received and sessions created.
    var records: [[String: Any]] { readStandInRecords(recordFile) }

    /// The messages sessions received: `(session_id, message)`, in order.
    var messages: [(session: String, text: String)] {
        records.compactMap { record in
            guard record["kind"] as? String == "message", let session = record["session_id"] as? String,
                  let text = record["message"] as? String else { return nil }
            return (session, text)
        }
    }

    var requests: [[String: Any]] { records.filter { $0["kind"] as? String == "request" } }
    /// The sessions as they were created (see ``controlSessions`` for their current state).
    var sessions: [[String: Any]] { records.compactMap { $0["kind"] as? String == "session" ? $0["session"] as? [String: Any] : nil } }

    /// Moves a session on, as Devin would: only the values given change (`clearDetail` sets
    /// `status_detail` to null). `id` may also be `devin-` + the session id. Throws if the
    /// stand-in does not know the session.
    func setSession(_ id: String, status: String? = nil, detail: String? = nil,
                    pullRequests: [[String: String]]? = nil, clearDetail: Bool = false) throws {
        var body: [String: Any] = [:]
        if let status { body["status"] = status }
        if let detail { body["status_detail"] = detail } else if clearDetail { body["status_detail"] = NSNull() }
        if let pullRequests { body["pull_requests"] = pullRequests }
        let answer = try standInRequest("POST", "\(baseURL)/_control/sessions/\(id)", json: body)
        guard answer.status == 200 else {
            throw HarnessError("setting session \(id) failed: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
    }

    /// Every session as it is now (status, status_detail, pull_requests as last set).
    var controlSessions: [[String: Any]] {
        guard let answer = try? standInRequest("GET", "\(baseURL)/_control/sessions"), answer.status == 200 else { return [] }
        return (try? JSONSerialization.jsonObject(with: answer.body)) as? [[String: Any]] ?? []
    }
}

/// A server that lets nothing through (Tests/Support/proxy_trap.py): as a proxy, or with `tls`
/// (certificate and key files) as an https server; it records the head of each request it
/// receives and answers 403. Stopped by the test that started it.
final class ProxyTrap {
    let process = Process()
    let port: Int
    let directory: URL
    let recordFile: URL

    var url: String { "http://127.0.0.1:\(port)" }

    init(tls: (certificate: String, key: String)? = nil) throws {
        directory = try Paths.temporaryDirectory()
        recordFile = directory.appendingPathComponent("proxy.jsonl")
        var arguments = ["--record", recordFile.path, "--lifetime", "300"]
        if let tls { arguments += ["--tls", tls.certificate, tls.key] }
        port = try startStandInScript(process, script: Paths.proxyTrap, arguments: arguments, name: "the proxy trap")
    }

    /// The head of every request the proxy received (request line and headers).
    var heads: [String] { readStandInRecords(recordFile).compactMap { $0["head"] as? String } }

    /// How many TLS handshakes failed (with `tls`).
    var failedHandshakes: Int { readStandInRecords(recordFile).filter { $0["kind"] as? String == "handshake_failed" }.count }

    func stop() {
        stopProcess(process)
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// Runs a Python stand-in (`script` with `arguments`) in `process` and returns the port from its
/// first stdout line, `PORT <n>`.
func startStandInScript(_ process: Process, script: String, arguments: [String], name: String) throws -> Int {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    // The first line is `PORT <n>`.
    var line = Data()
    let handle = output.fileHandleForReading
    while !line.contains(UInt8(ascii: "\n")) {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        line += chunk
    }
    let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
        process.terminate()
        throw HarnessError("\(name) did not start: \(text)")
    }
    return port
}

/// The JSON-lines records a stand-in wrote to `file`.
func readStandInRecords(_ file: URL) -> [[String: Any]] {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
    }
}

/// One HTTP request to a stand-in's control endpoints, made with /usr/bin/curl (no proxy, no
/// environment): the status (0 when there was no answer) and the body.
func standInRequest(_ method: String, _ url: String, json: Any? = nil) throws -> (status: Int, body: Data) {
    var arguments = ["-sS", "--noproxy", "*", "--max-time", "10", "-X", method, "-o", "-", "-w", "\n%{http_code}"]
    var input: [UInt8] = []
    if let json {
        input = Array(try JSONSerialization.data(withJSONObject: json))
        arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
    }
    let output = try runProcess("/usr/bin/curl", arguments: arguments + [url], environment: [:], stdin: input, timeout: 20)
    let bytes = output.stdout
    guard let newline = bytes.lastIndex(of: UInt8(ascii: "\n")) else {
        throw HarnessError("curl \(method) \(url): no status (\(output.stderr))")
    }
    let status = Int(String(decoding: bytes[(newline + 1)...], as: UTF8.self)) ?? 0
    return (status, Data(bytes[..<newline]))
}
